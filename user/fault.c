// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * fault.c - userfaultfd fault service and the IPMem cache; see fault.h.
 *
 * Calls and traps follow ../shared/notes/uffd-memfd.md (measured on this
 * kernel) and the Linux mm selftests (tools/testing/selftests/mm/
 * uffd-common.c): retry EINTR; on UFFDIO_COPY -EEXIST the page is already
 * there, wake the range; -EAGAIN: retry; -ESRCH: the client is gone.  The
 * agent never touches a hole through a mapping of the memfd (that would
 * allocate the page behind the client's back): it reads with pread.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fault.h"
#include "iam_ipc.h"
#include "log.h"

/* UFFDIO_POISON (Linux 6.6) is newer than Debian 12's UAPI headers. */
#ifndef _UFFDIO_POISON
#define _UFFDIO_POISON (0x08)
struct uffdio_poison {
	struct uffdio_range range;
	__u64 mode;
	__s64 updated;
};
#define UFFDIO_POISON _IOWR(UFFDIO, _UFFDIO_POISON, struct uffdio_poison)
#endif

/* How long the fault thread waits for a transport to reconnect after a
 * failed request before it gives the lender up. */
#define FAULT_RECOVER_MS 1000

/* Page state bits, one byte per page of a region. */
enum {
	P_RESIDENT = 1 << 0, /* in the memfd, visible to the client */
	P_DIRTY = 1 << 1, /* written since it came in */
	P_REMOTE = 1 << 2, /* written back at least once: the lender's copy
			    * is the content; otherwise the page is zeros */
	P_REF = 1 << 3, /* CLOCK reference bit */
	P_LOST = 1 << 4, /* its lender is gone, or refused its block */
};

enum fault_op { CMD_ADD, CMD_REMOVE, CMD_CONN, CMD_STOP };

struct fault_cmd {
	struct fault_cmd *next; /* lock-free stack */
	enum fault_op op;
	struct iam_fault_region *r;
	struct iam_xfer_conn *conn;
	uint16_t idx;
	struct iam_loop_work done; /* handed back to the control plane */
	struct iam_fault *f;
};

struct iam_fault_region {
	struct iam_fault *f;
	struct iam_fault_region *next; /* thread's list of live regions */
	int uffd, memfd;
	uint64_t start, len, npages;
	uint32_t first_slot;
	uint8_t block_shift;
	pid_t pid;
	bool dead; /* the client is gone (ESRCH) */
	uint8_t *pages; /* npages state bytes */
	struct fault_cmd add_cmd, rm_cmd; /* preallocated commands */
};

struct fault_frame {
	struct iam_fault_region *r; /* NULL: free */
	uint64_t pidx;
};

/* Pages evicted together; a batch is punched a contiguous run at a time. */
#define IAM_FAULT_EVICT_BATCH 32

struct fault_victim {
	struct iam_fault_region *r;
	uint64_t pidx;
	uint64_t frame;
};

struct lost_note {
	struct iam_loop_work w;
	struct iam_fault *f;
	uint16_t idx;
	int err;
	int posted; /* atomic: the note is queued on the loop */
};

struct iam_fault {
	struct iam_fault_config cfg;
	pthread_t thread;
	int epfd, cmdfd;
	struct fault_cmd *cmds; /* atomic: lock-free stack of commands */
	struct fault_cmd stop_cmd;

	/* Owned by the thread from start to stop. */
	struct iam_fault_region *regions;
	struct fault_frame *frames;
	uint64_t nframes, hand;
	uint64_t *free_frames, nfree;
	uint64_t low_free; /* evict between faults below this */
	struct fault_victim victims[IAM_FAULT_EVICT_BATCH];
	struct iam_xfer_conn *conns[IAM_FAULT_MAX_LENDERS];
	bool lost[IAM_FAULT_MAX_LENDERS];
	uint8_t *zero_page;
	bool stopping;
	bool over_cache_warned;
	bool no_poison; /* UFFDIO_POISON unsupported (Linux < 6.6) */
	cpu_set_t any_cpu; /* the thread's affinity when not following */

	struct iam_fault_stats stats; /* written by the thread only */
	struct lost_note notes[IAM_FAULT_MAX_LENDERS];
};

#define STAT_INC(f, field)                                        \
	__atomic_store_n(&(f)->stats.field, (f)->stats.field + 1, \
			 __ATOMIC_RELAXED)
#define STAT_ADD(f, field, v)                                       \
	__atomic_store_n(&(f)->stats.field, (f)->stats.field + (v), \
			 __ATOMIC_RELAXED)

static uint64_t fault_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- commands: control plane -> thread --------------------------------- */

static void fault_push(struct iam_fault *f, struct fault_cmd *c)
{
	struct fault_cmd *head = __atomic_load_n(&f->cmds, __ATOMIC_RELAXED);
	uint64_t one = 1;

	do {
		c->next = head;
	} while (!__atomic_compare_exchange_n(
		&f->cmds, &head, c, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	if (write(f->cmdfd, &one, sizeof(one)) < 0) {
		/* EAGAIN: a wake-up is pending already. */
	}
}

static void cmd_free_cb(struct iam_loop *loop, struct iam_loop_work *w)
{
	free((struct fault_cmd *)((char *)w -
				  offsetof(struct fault_cmd, done)));
}

static void region_removed_cb(struct iam_loop *loop, struct iam_loop_work *w)
{
	struct fault_cmd *c =
		(struct fault_cmd *)((char *)w -
				     offsetof(struct fault_cmd, done));
	struct iam_fault *f = c->f;

	if (f->cfg.hooks.region_removed)
		f->cfg.hooks.region_removed(f->cfg.hooks.arg, c->r);
}

static void lost_note_cb(struct iam_loop *loop, struct iam_loop_work *w)
{
	struct lost_note *n = (struct lost_note *)w;
	struct iam_fault *f = n->f;

	__atomic_store_n(&n->posted, 0, __ATOMIC_RELEASE);
	if (f->cfg.hooks.lender_failed)
		f->cfg.hooks.lender_failed(f->cfg.hooks.arg, n->idx, n->err);
}

/* Thread: the lender's pages are lost from now on; tell the control plane
 * once (the note is preallocated, nothing is allocated here). */
static void fault_lender_failed(struct iam_fault *f, uint16_t idx, int err)
{
	struct lost_note *n = &f->notes[idx];

	if (f->lost[idx])
		return;
	f->lost[idx] = true;
	iam_warn("fault: lender #%u failed (%s): its pages are lost, faults "
		 "on them raise SIGBUS",
		 idx, strerror(-err));
	if (!f->cfg.loop ||
	    __atomic_exchange_n(&n->posted, 1, __ATOMIC_ACQ_REL))
		return;
	n->err = err;
	iam_loop_post(f->cfg.loop, &n->w);
}

/* ---- CLOCK frames ------------------------------------------------------- */

static void frame_release(struct iam_fault *f, uint64_t i)
{
	f->frames[i].r = NULL;
	f->free_frames[f->nfree++] = i;
	STAT_ADD(f, resident, (uint64_t)-1);
}

static void fault_wake(struct iam_fault_region *r, uint64_t addr)
{
	struct uffdio_range range = { .start = addr, .len = IAM_FAULT_PAGE };

	if (ioctl(r->uffd, UFFDIO_WAKE, &range) < 0 && errno == ESRCH)
		r->dead = true;
}

static int fault_wp(struct iam_fault_region *r, uint64_t addr, bool on)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = addr, .len = IAM_FAULT_PAGE },
		.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	while (ioctl(r->uffd, UFFDIO_WRITEPROTECT, &wp) < 0) {
		if (errno == EINTR || errno == EAGAIN)
			continue;
		if (errno == ESRCH)
			r->dead = true;
		return -errno;
	}
	return 0;
}

static const struct iam_m2i_entry *fault_entry(struct iam_fault *f,
					       const struct iam_fault_region *r,
					       uint64_t addr)
{
	uint64_t slot = r->first_slot + ((addr - r->start) >> r->block_shift);

	if (slot >= f->cfg.m2i_slots)
		return NULL;
	return &f->cfg.m2i[slot];
}

static void fault_target(const struct iam_m2i_entry *e,
			 struct iam_xfer_target *t)
{
	memcpy(&t->block, e->block, 16);
	t->remote_addr = e->remote_addr;
	t->rkey = e->rkey;
	t->alloc_id = e->alloc_id;
}

static int fault_xfer_once(struct iam_fault *f, struct iam_xfer_conn *c,
			   const struct iam_xfer_target *t, uint32_t off,
			   const void **src)
{
	int err;

	if (src) {
		err = iam_xfer_read(c, t, off, IAM_FAULT_PAGE, src);
		if (!err && c->ops->kind == IAM_XFER_RDMA)
			STAT_INC(f, rdma_reads);
	} else {
		err = iam_xfer_write(c, t, off, IAM_FAULT_PAGE);
		if (!err && c->ops->kind == IAM_XFER_RDMA)
			STAT_INC(f, rdma_writes);
	}
	return err;
}

/*
 * Read one page of block e (src != NULL: *src gets the bytes) or write
 * one back from the connection's write_buf(), with the error policy of
 * fault.h.  0; -EACCES: the lender refused this block (its allocation is
 * gone), the lender and the connection are fine; anything else: the
 * lender is lost, and the control plane has been told.
 *
 * A transport that can reconnect (RDMA: a failed request breaks the
 * queue pair) gets a new connection after any failure.  After a failure
 * other than a refusal the request is tried once more: a lost packet then
 * costs one retry, and a lender that accepts the new connection but
 * still answers nothing for this block -- its XDP program drops requests
 * for blocks it no longer lends, which looks like a dead lender from
 * here -- is told apart from a dead one.
 */
static int fault_xfer(struct iam_fault *f, const struct iam_m2i_entry *e,
		      uint32_t off, const void **src)
{
	uint16_t idx = e->lender_idx;
	struct iam_xfer_conn *c = idx < IAM_FAULT_MAX_LENDERS ? f->conns[idx] :
								NULL;
	struct iam_xfer_target t;
	int err;

	if (idx >= IAM_FAULT_MAX_LENDERS)
		return -EINVAL;
	if (!c || f->lost[idx]) {
		err = -ENOTCONN;
		goto lost;
	}
	fault_target(e, &t);
	err = fault_xfer_once(f, c, &t, off, src);
	if (!err || (err == -EACCES && !c->ops->recover))
		return err;
	if (!c->ops->recover)
		goto lost;
	for (int tries = 0;; tries++) {
		int rerr = c->ops->recover(c, FAULT_RECOVER_MS);

		if (rerr) {
			iam_warn("fault: lender #%u: cannot reconnect after "
				 "\"%s\": %s",
				 idx, strerror(-err), strerror(-rerr));
			goto lost;
		}
		if (err == -EACCES)
			return err;
		if (tries)
			return -EACCES; /* it answers, but not for this block */
		err = fault_xfer_once(f, c, &t, off, src);
		if (!err)
			return 0;
	}
lost:
	fault_lender_failed(f, idx, err);
	return err;
}

/*
 * The lender refused block e of region r: the allocation it belongs to is
 * no longer ours there (released, or its lease ran out).  Every page of
 * that allocation in r is lost: a fault on one raises SIGBUS and a
 * resident one is dropped unsaved when evicted.  The lender's other
 * allocations are untouched.
 */
static void fault_alloc_lost(struct iam_fault *f, struct iam_fault_region *r,
			     const struct iam_m2i_entry *e)
{
	uint64_t nblocks = (r->len + (1ull << r->block_shift) - 1) >>
			   r->block_shift;
	uint64_t ppb = 1ull << (r->block_shift - 12), n = 0;
	uint16_t idx = e->lender_idx;
	uint64_t id = e->alloc_id;

	for (uint64_t b = 0; b < nblocks; b++) {
		const struct iam_m2i_entry *x = &f->cfg.m2i[r->first_slot + b];
		uint8_t fl = __atomic_load_n(&x->flags, __ATOMIC_ACQUIRE);

		if ((fl & IAM_M2I_LOCAL) || x->lender_idx != idx ||
		    x->alloc_id != id)
			continue;
		for (uint64_t p = b * ppb; p < (b + 1) * ppb && p < r->npages;
		     p++)
			r->pages[p] |= P_LOST;
		n++;
	}
	STAT_INC(f, lost_allocs);
	iam_warn("fault: lender #%u refused allocation %llu: its %llu "
		 "block(s) in the region of pid %d are lost (SIGBUS on "
		 "touch); the lender's other blocks are served",
		 idx, (unsigned long long)id, (unsigned long long)n,
		 (int)r->pid);
}

/*
 * Make the page in frame i clean, so it can be dropped: a dirty page is
 * write-protected first (a client write racing us then waits, and is
 * served from the written-back copy after the punch), read from the memfd,
 * and written to its block.  false if it must stay (its lender failed):
 * nothing is dropped unsaved.
 */
static bool fault_clean(struct iam_fault *f, uint64_t i)
{
	struct iam_fault_region *r = f->frames[i].r;
	uint64_t pidx = f->frames[i].pidx;
	uint64_t addr = r->start + pidx * IAM_FAULT_PAGE;
	uint8_t *p = &r->pages[pidx];
	const struct iam_m2i_entry *e;
	uint32_t off;
	uint8_t flags;
	int err;

	/* A page of a refused allocation has nowhere to go: dropped. */
	if (!(*p & P_DIRTY) || (*p & P_LOST) || r->dead)
		return true;
	e = fault_entry(f, r, addr);
	off = (uint32_t)((addr - r->start) & ((1ull << r->block_shift) - 1));
	flags = e ? __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) : 0;
	/* ENOENT: the client unmapped this page without iam_free() (or
	 * mapped over it).  No write through the region can race the copy
	 * any more, and the memfd still holds the data: save it as usual,
	 * or the frame would stay pinned and the data die with it. */
	err = fault_wp(r, addr, true);
	if (err && err != -ENOENT)
		return r->dead;
	if (!(flags & IAM_M2I_VALID)) {
		err = -ENOENT;
	} else if (flags & IAM_M2I_LOCAL) {
		ssize_t k = pread(r->memfd,
				  (void *)(uintptr_t)(e->remote_addr + off),
				  IAM_FAULT_PAGE,
				  (off_t)(pidx * IAM_FAULT_PAGE));

		err = k == IAM_FAULT_PAGE ? 0 : -EIO;
	} else {
		struct iam_xfer_conn *c =
			e->lender_idx < IAM_FAULT_MAX_LENDERS ?
				f->conns[e->lender_idx] :
				NULL;

		if (c && !f->lost[e->lender_idx] &&
		    pread(r->memfd, c->ops->write_buf(c), IAM_FAULT_PAGE,
			  (off_t)(pidx * IAM_FAULT_PAGE)) != IAM_FAULT_PAGE)
			err = -EIO;
		else
			err = fault_xfer(f, e, off, NULL);
		if (err == -EACCES) {
			/* Nowhere left to save it: the page goes with its
			 * allocation. */
			fault_alloc_lost(f, r, e);
			return true;
		}
	}
	if (err) {
		/* Keep it, writable again: the data lives only here. */
		fault_wp(r, addr, false);
		*p |= P_REF;
		return false;
	}
	*p = (uint8_t)((*p | P_REMOTE) & ~P_DIRTY);
	STAT_INC(f, writebacks);
	return true;
}

static int victim_cmp(const void *x, const void *y)
{
	const struct fault_victim *a = x, *b = y;

	if (a->r != b->r)
		return (uintptr_t)a->r < (uintptr_t)b->r ? -1 : 1;
	return a->pidx < b->pidx ? -1 : a->pidx > b->pidx;
}

/*
 * Evict up to n pages that CLOCK picks (a frame whose reference bit is
 * clear, clearing bits on the way; at most two sweeps).  The victims are
 * punched out of their memfd a contiguous range at a time: one fallocate
 * for a run of pages, which is what makes eviction cheap per page.
 * Returns the number evicted.
 */
static unsigned fault_evict_batch(struct iam_fault *f, unsigned n)
{
	struct fault_victim *v = f->victims;
	unsigned nv = 0, done = 0;

	if (n > IAM_FAULT_EVICT_BATCH)
		n = IAM_FAULT_EVICT_BATCH;
	for (uint64_t k = 0; k < 2 * f->nframes && nv < n; k++) {
		uint64_t i = f->hand;
		struct fault_frame *fr = &f->frames[i];

		f->hand = (f->hand + 1) % f->nframes;
		if (!fr->r)
			continue;
		if (fr->r->pages[fr->pidx] & P_REF) {
			fr->r->pages[fr->pidx] &= (uint8_t)~P_REF;
			continue;
		}
		if (!fault_clean(f, i))
			continue;
		/* Out of the CLOCK now, so a second sweep cannot pick it. */
		v[nv].r = fr->r;
		v[nv].pidx = fr->pidx;
		v[nv++].frame = i;
		fr->r = NULL;
	}
	qsort(v, nv, sizeof(*v), victim_cmp);
	for (unsigned a = 0; a < nv;) {
		struct iam_fault_region *r = v[a].r;
		unsigned b = a + 1;

		while (b < nv && v[b].r == r && v[b].pidx == v[b - 1].pidx + 1)
			b++;
		if (fallocate(r->memfd,
			      FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(v[a].pidx * IAM_FAULT_PAGE),
			      (off_t)(b - a) * IAM_FAULT_PAGE) < 0 &&
		    !r->dead) {
			/* Still resident: back into the CLOCK. */
			iam_warn("fault: punching pages %llu+%u of pid %d: %s",
				 (unsigned long long)v[a].pidx, b - a,
				 (int)r->pid, strerror(errno));
			for (unsigned k = a; k < b; k++) {
				f->frames[v[k].frame].r = r;
				f->frames[v[k].frame].pidx = v[k].pidx;
			}
		} else {
			for (unsigned k = a; k < b; k++) {
				r->pages[v[k].pidx] &= (uint8_t) ~(
					P_RESIDENT | P_REF | P_DIRTY);
				frame_release(f, v[k].frame);
			}
			STAT_ADD(f, evictions, b - a);
			done += b - a;
		}
		a = b;
	}
	return done;
}

/* A frame for a new page, evicting a batch if the cache is full;
 * UINT64_MAX if nothing can be evicted (the page is then resident
 * untracked). */
static uint64_t frame_get(struct iam_fault *f)
{
	if (!f->nfree && !fault_evict_batch(f, IAM_FAULT_EVICT_BATCH)) {
		if (!f->over_cache_warned)
			iam_warn("fault: cache full of pages that cannot be "
				 "written back; going over --cache");
		f->over_cache_warned = true;
		STAT_ADD(f, resident, 1);
		return UINT64_MAX;
	}
	STAT_ADD(f, resident, 1);
	return f->free_frames[--f->nfree];
}

/* ---- serving faults ----------------------------------------------------- */

static void fault_poison(struct iam_fault *f, struct iam_fault_region *r,
			 uint64_t addr, uint32_t tid)
{
	struct uffdio_poison po = {
		.range = { .start = addr, .len = IAM_FAULT_PAGE },
	};
	bool unmarked = false;

	r->pages[(addr - r->start) / IAM_FAULT_PAGE] |= P_LOST;
	STAT_INC(f, lost);
	if (f->no_poison)
		goto sigbus;
	while (ioctl(r->uffd, UFFDIO_POISON, &po) < 0) {
		if (errno == EINTR || errno == EAGAIN)
			continue;
		if (errno == EEXIST && !unmarked) {
			/* An evicted page that was write-protected keeps a
			 * uffd-wp marker in its PTE, and POISON refuses to
			 * overwrite any PTE.  The page is absent and its
			 * writer waits on this very fault, so dropping the
			 * marker races nothing. */
			fault_wp(r, addr, false);
			unmarked = true;
			continue;
		}
		if (errno == EEXIST) {
			fault_wake(r, addr);
			return;
		}
		if (errno == ESRCH) {
			r->dead = true;
			return;
		}
		/* Kernels before 6.6 cannot poison one page (the ioctl is
		 * unknown: EINVAL): the faulting thread gets the SIGBUS
		 * directly, from then on without asking. */
		if (errno == EINVAL || errno == ENOTTY) {
			iam_warn("fault: no UFFDIO_POISON (%s): lost pages "
				 "raise SIGBUS by tgkill instead",
				 strerror(errno));
			f->no_poison = true;
		} else {
			iam_warn("fault: UFFDIO_POISON: %s; sending SIGBUS "
				 "to pid %d",
				 strerror(errno), (int)r->pid);
		}
		goto sigbus;
	}
	return;
sigbus:
	if (!tid || syscall(SYS_tgkill, r->pid, tid, SIGBUS) < 0)
		kill(r->pid, SIGBUS);
}

static void fault_missing(struct iam_fault *f, struct iam_fault_region *r,
			  uint64_t addr, bool write, uint32_t tid)
{
	uint64_t pidx = (addr - r->start) / IAM_FAULT_PAGE;
	uint64_t t0 = fault_now_ns(), fr;
	uint8_t *p = &r->pages[pidx];
	const struct iam_m2i_entry *e;
	struct uffdio_copy cp = {
		.dst = addr,
		.len = IAM_FAULT_PAGE,
		.mode = write ? 0 : UFFDIO_COPY_MODE_WP,
	};
	const void *src;
	uint8_t flags;

	if (*p & P_RESIDENT) {
		/* Two threads faulted on one page: it is there now. */
		fault_wake(r, addr);
		return;
	}
	e = fault_entry(f, r, addr);
	flags = e ? __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) : 0;
	if ((*p & P_LOST) || !(flags & IAM_M2I_VALID) ||
	    (flags & IAM_M2I_LOST)) {
		fault_poison(f, r, addr, tid);
		return;
	}
	fr = frame_get(f);
	if (!(*p & P_REMOTE)) {
		/* Never written back: the lender's block is still zero. */
		src = f->zero_page;
		STAT_INC(f, zero_fills);
	} else {
		uint32_t off = (uint32_t)((addr - r->start) &
					  ((1ull << r->block_shift) - 1));

		if (flags & IAM_M2I_LOCAL) {
			src = (const void *)(uintptr_t)(e->remote_addr + off);
			STAT_INC(f, local_reads);
		} else {
			int err = fault_xfer(f, e, off, &src);

			if (err) {
				if (err == -EACCES)
					fault_alloc_lost(f, r, e);
				if (fr != UINT64_MAX)
					frame_release(f, fr);
				fault_poison(f, r, addr, tid);
				return;
			}
			STAT_INC(f, remote_reads);
		}
	}
	cp.src = (uintptr_t)src;
	/* Counted before the copy wakes the client, so a client that reads
	 * the counters after its access sees its own fault. */
	STAT_INC(f, faults);
	while (ioctl(r->uffd, UFFDIO_COPY, &cp) < 0) {
		if (errno == EINTR || (errno == EAGAIN && cp.copy <= 0)) {
			cp.copy = 0;
			continue;
		}
		if (errno == EEXIST) {
			fault_wake(r, addr);
			break;
		}
		if (errno == ESRCH) {
			r->dead = true;
		} else if (errno == ENOENT) {
			/* Another thread of the client unmapped the page
			 * while this one waited.  Wake the waiter: it faults
			 * again and gets SIGSEGV, as on any unmapped memory,
			 * instead of sleeping for good. */
			fault_wake(r, addr);
		} else {
			iam_warn("fault: UFFDIO_COPY at %#llx for pid %d: %s",
				 (unsigned long long)addr, (int)r->pid,
				 strerror(errno));
		}
		if (fr != UINT64_MAX)
			frame_release(f, fr);
		return;
	}
	*p = (uint8_t)((*p & P_REMOTE) | P_RESIDENT | P_REF |
		       (write ? P_DIRTY : 0));
	if (fr != UINT64_MAX) {
		f->frames[fr].r = r;
		f->frames[fr].pidx = pidx;
	}
	STAT_ADD(f, fault_ns, fault_now_ns() - t0);
}

static void fault_wp_event(struct iam_fault *f, struct iam_fault_region *r,
			   uint64_t addr)
{
	uint8_t *p = &r->pages[(addr - r->start) / IAM_FAULT_PAGE];

	STAT_INC(f, wp_faults);
	if (!(*p & P_RESIDENT)) {
		/* Evicted while the writer waited: let it retry, it will
		 * fault as missing and get the written-back copy. */
		fault_wake(r, addr);
		return;
	}
	*p |= P_DIRTY | P_REF;
	/* Also wakes the writer -- unless another thread of the client
	 * unmapped the page meanwhile (ENOENT): wake it then, to take its
	 * SIGSEGV rather than sleep for good. */
	if (fault_wp(r, addr, false) == -ENOENT)
		fault_wake(r, addr);
}

static void fault_drain(struct iam_fault *f, struct iam_fault_region *r)
{
	struct uffd_msg msgs[16];

	while (!r->dead) {
		ssize_t n = read(r->uffd, msgs, sizeof(msgs));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				iam_warn("fault: reading uffd of pid %d: %s",
					 (int)r->pid, strerror(errno));
			return;
		}
		if (n == 0)
			return;
		for (size_t i = 0; i < (size_t)n / sizeof(msgs[0]); i++) {
			uint64_t a;

			if (msgs[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			a = msgs[i].arg.pagefault.address &
			    ~(uint64_t)(IAM_FAULT_PAGE - 1);
			if (a < r->start || a >= r->start + r->len)
				continue;
			if (msgs[i].arg.pagefault.flags &
			    UFFD_PAGEFAULT_FLAG_WP)
				fault_wp_event(f, r, a);
			else
				fault_missing(f, r, a,
					      msgs[i].arg.pagefault.flags &
						      UFFD_PAGEFAULT_FLAG_WRITE,
					      msgs[i].arg.pagefault.feat.ptid);
		}
		/* A short read drained the queue; epoll (level-triggered)
		 * reports what came in since.  Saves a system call per
		 * fault. */
		if ((size_t)n < sizeof(msgs))
			return;
	}
}

/* ---- the thread --------------------------------------------------------- */

/*
 * --cpu follow: a fault is a round trip between the client and this
 * thread, and a wake-up across CPUs costs ~20 us here against a few on
 * one CPU (tests/bench/plot.sh measures both).  A client pinned to one
 * CPU cannot come to us, so go to it: run on the CPU of the newest region
 * whose client is pinned to exactly one, and anywhere when none is.
 * Checked when a region comes or goes.
 */
static void fault_follow(struct iam_fault *f)
{
	struct iam_fault_region *r;
	cpu_set_t set;
	int cpu = -1;
	pid_t pid = 0;

	for (r = f->regions; r && cpu < 0; r = r->next) {
		if (r->dead || sched_getaffinity(r->pid, sizeof(set), &set) ||
		    CPU_COUNT(&set) != 1)
			continue;
		for (int i = 0; i < CPU_SETSIZE; i++) {
			if (CPU_ISSET(i, &set)) {
				cpu = i;
				pid = r->pid;
				break;
			}
		}
	}
	if ((uint64_t)(cpu + 1) == f->stats.cpu_plus1 &&
	    (uint64_t)pid == f->stats.follow_pid)
		return;
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			return;
		iam_info("fault: serving on CPU %d, where client pid %d is "
			 "pinned",
			 cpu, (int)pid);
	} else {
		if (pthread_setaffinity_np(pthread_self(), sizeof(f->any_cpu),
					   &f->any_cpu))
			return;
		iam_info("fault: no client pinned to one CPU; serving on any");
	}
	__atomic_store_n(&f->stats.cpu_plus1, (uint64_t)(cpu + 1),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&f->stats.follow_pid, (uint64_t)pid, __ATOMIC_RELAXED);
}

static void fault_cmd_run(struct iam_fault *f, struct fault_cmd *c)
{
	struct iam_fault_region *r = c->r, **pp;
	struct epoll_event ev = { .events = EPOLLIN };

	switch (c->op) {
	case CMD_ADD:
		ev.data.ptr = r;
		if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, r->uffd, &ev) < 0) {
			iam_err("fault: cannot watch the uffd of pid %d: %s",
				(int)r->pid, strerror(errno));
			return;
		}
		r->next = f->regions;
		f->regions = r;
		if (f->cfg.cpu == IAM_FAULT_CPU_FOLLOW)
			fault_follow(f);
		/* Faults raced in before we watched the descriptor. */
		fault_drain(f, r);
		return;
	case CMD_REMOVE:
		epoll_ctl(f->epfd, EPOLL_CTL_DEL, r->uffd, NULL);
		for (pp = &f->regions; *pp; pp = &(*pp)->next) {
			if (*pp == r) {
				*pp = r->next;
				break;
			}
		}
		for (uint64_t i = 0; i < f->nframes; i++)
			if (f->frames[i].r == r)
				frame_release(f, i);
		if (f->cfg.cpu == IAM_FAULT_CPU_FOLLOW)
			fault_follow(f);
		c->done.fn = region_removed_cb;
		iam_loop_post(f->cfg.loop, &c->done);
		return;
	case CMD_CONN:
		iam_xfer_close(f->conns[c->idx]);
		f->conns[c->idx] = c->conn;
		f->lost[c->idx] = false;
		c->done.fn = cmd_free_cb;
		iam_loop_post(f->cfg.loop, &c->done);
		return;
	case CMD_STOP:
		f->stopping = true;
		return;
	}
}

static void fault_cmds(struct iam_fault *f)
{
	struct fault_cmd *c, *fifo = NULL;
	uint64_t v;

	if (read(f->cmdfd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing new. */
	}
	c = __atomic_exchange_n(&f->cmds, NULL, __ATOMIC_ACQUIRE);
	while (c) {
		struct fault_cmd *next = c->next;

		c->next = fifo;
		fifo = c;
		c = next;
	}
	while (fifo) {
		c = fifo;
		fifo = c->next;
		fault_cmd_run(f, c);
	}
}

static void fault_events(struct iam_fault *f, struct epoll_event *evs, int n)
{
	for (int i = 0; i < n; i++) {
		if (!evs[i].data.ptr)
			fault_cmds(f);
		else
			fault_drain(f, evs[i].data.ptr);
	}
}

static void *fault_thread(void *arg)
{
	struct iam_fault *f = arg;
	struct epoll_event evs[16];

	pthread_getaffinity_np(pthread_self(), sizeof(f->any_cpu), &f->any_cpu);
	if (f->cfg.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(f->cfg.cpu, &set);
		if (!pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			__atomic_store_n(&f->stats.cpu_plus1,
					 (uint64_t)f->cfg.cpu + 1,
					 __ATOMIC_RELAXED);
	}
	bool yielded = false;

	while (!f->stopping) {
		bool evict = f->nfree < f->low_free;
		int n = epoll_wait(f->epfd, evs, 16, evict ? 0 : -1);
		uint64_t spin_end;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			iam_err("fault: epoll: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			/* Idle: make room now so a fault does not pay for
			 * eviction.  Yield first: a client this thread just
			 * woke on the same CPU runs before this work -- and
			 * look again after it, for that client's next fault
			 * must not wait behind a whole batch.  If nothing can
			 * go, stop trying until a page leaves by itself. */
			if (!yielded) {
				sched_yield();
				yielded = true;
				continue;
			}
			yielded = false;
			if (evict &&
			    !fault_evict_batch(f, IAM_FAULT_EVICT_BATCH))
				f->low_free = f->nfree;
			continue;
		}
		yielded = false;
		fault_events(f, evs, n);
		/* Busy-poll a little after a fault: the next one usually
		 * follows at once, and a sleeping thread costs a wake-up
		 * (~20 us across CPUs here). */
		spin_end = fault_now_ns() + f->cfg.spin_us * 1000ull;
		while (!f->stopping && fault_now_ns() < spin_end) {
			n = epoll_wait(f->epfd, evs, 16, 0);
			if (n <= 0)
				continue;
			fault_events(f, evs, n);
			spin_end = fault_now_ns() + f->cfg.spin_us * 1000ull;
		}
	}
	return NULL;
}

int iam_fault_start(const struct iam_fault_config *cfg, struct iam_fault **out)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct iam_fault *f;
	int err;

	if (cfg->cache_pages < 16 || !cfg->m2i || !cfg->m2i_slots || !cfg->loop)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->cfg = *cfg;
	f->epfd = f->cmdfd = -1;
	f->nframes = cfg->cache_pages;
	/* Keep a batch or an eighth of the cache free, whichever is less. */
	f->low_free = f->nframes / 8 < IAM_FAULT_EVICT_BATCH ?
			      (f->nframes / 8 ? f->nframes / 8 : 1) :
			      IAM_FAULT_EVICT_BATCH;
	f->stats.cache_pages = cfg->cache_pages;
	for (int i = 0; i < IAM_FAULT_MAX_LENDERS; i++) {
		f->notes[i].f = f;
		f->notes[i].idx = (uint16_t)i;
		f->notes[i].w.fn = lost_note_cb;
	}
	f->frames = calloc(f->nframes, sizeof(*f->frames));
	f->free_frames = calloc(f->nframes, sizeof(*f->free_frames));
	f->zero_page = aligned_alloc(IAM_FAULT_PAGE, IAM_FAULT_PAGE);
	if (!f->frames || !f->free_frames || !f->zero_page) {
		err = -ENOMEM;
		goto err_free;
	}
	memset(f->zero_page, 0, IAM_FAULT_PAGE);
	for (uint64_t i = 0; i < f->nframes; i++)
		f->free_frames[f->nfree++] = f->nframes - 1 - i;
	f->epfd = epoll_create1(EPOLL_CLOEXEC);
	f->cmdfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->epfd < 0 || f->cmdfd < 0) {
		err = -errno;
		goto err_fds;
	}
	if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->cmdfd, &ev) < 0) {
		err = -errno;
		goto err_fds;
	}
	err = -pthread_create(&f->thread, NULL, fault_thread, f);
	if (err)
		goto err_fds;
	*out = f;
	return 0;

err_fds:
	if (f->cmdfd >= 0)
		close(f->cmdfd);
	if (f->epfd >= 0)
		close(f->epfd);
err_free:
	free(f->frames);
	free(f->free_frames);
	free(f->zero_page);
	free(f);
	return err;
}

void iam_fault_stop(struct iam_fault *f)
{
	struct fault_cmd *c;

	if (!f)
		return;
	f->stop_cmd.op = CMD_STOP;
	fault_push(f, &f->stop_cmd);
	pthread_join(f->thread, NULL);
	/* Commands that never ran: free what the control plane allocated. */
	c = __atomic_exchange_n(&f->cmds, NULL, __ATOMIC_ACQUIRE);
	while (c) {
		struct fault_cmd *next = c->next;

		if (c->op == CMD_CONN) {
			iam_xfer_close(c->conn);
			free(c);
		}
		c = next;
	}
	while (f->regions) {
		struct iam_fault_region *r = f->regions;

		f->regions = r->next;
		iam_fault_region_destroy(r);
	}
	for (int i = 0; i < IAM_FAULT_MAX_LENDERS; i++)
		iam_xfer_close(f->conns[i]);
	close(f->cmdfd);
	close(f->epfd);
	free(f->frames);
	free(f->free_frames);
	free(f->zero_page);
	free(f);
}

void iam_fault_get_stats(struct iam_fault *f, struct iam_fault_stats *st)
{
	const uint64_t *src = (const uint64_t *)&f->stats;
	uint64_t *dst = (uint64_t *)st;

	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

int iam_fault_region_create(struct iam_fault *f, int uffd, int memfd,
			    uint64_t start, uint64_t len, uint32_t first_slot,
			    uint8_t block_shift, pid_t pid,
			    struct iam_fault_region **out)
{
	struct iam_fault_region *r;
	uint64_t nblocks;

	if (!len || (start | len) & (IAM_FAULT_PAGE - 1) || block_shift < 12 ||
	    block_shift > 21)
		return -EINVAL;
	nblocks = (len + (1ull << block_shift) - 1) >> block_shift;
	if (first_slot + nblocks > f->cfg.m2i_slots)
		return -ERANGE;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->npages = len / IAM_FAULT_PAGE;
	r->pages = calloc(r->npages, 1);
	if (!r->pages) {
		free(r);
		return -ENOMEM;
	}
	r->f = f;
	r->uffd = uffd;
	r->memfd = memfd;
	r->start = start;
	r->len = len;
	r->first_slot = first_slot;
	r->block_shift = block_shift;
	r->pid = pid;
	r->add_cmd.op = CMD_ADD;
	r->add_cmd.r = r;
	r->add_cmd.f = f;
	r->rm_cmd.op = CMD_REMOVE;
	r->rm_cmd.r = r;
	r->rm_cmd.f = f;
	*out = r;
	return 0;
}

void iam_fault_region_add(struct iam_fault *f, struct iam_fault_region *r)
{
	fault_push(f, &r->add_cmd);
}

void iam_fault_region_remove(struct iam_fault *f, struct iam_fault_region *r)
{
	fault_push(f, &r->rm_cmd);
}

void iam_fault_region_destroy(struct iam_fault_region *r)
{
	if (!r)
		return;
	if (r->uffd >= 0)
		close(r->uffd);
	if (r->memfd >= 0)
		close(r->memfd);
	free(r->pages);
	free(r);
}

int iam_fault_page_state(const struct iam_fault_region *r, uint64_t addr)
{
	uint8_t p;

	if (addr < r->start || addr >= r->start + r->len)
		return -EINVAL;
	p = __atomic_load_n(&r->pages[(addr - r->start) / IAM_FAULT_PAGE],
			    __ATOMIC_RELAXED);
	if (p & P_LOST)
		return IAM_PAGE_LOST;
	if (p & P_RESIDENT)
		return p & P_DIRTY ? IAM_PAGE_DIRTY : IAM_PAGE_CLEAN;
	return p & P_REMOTE ? IAM_PAGE_REMOTE : IAM_PAGE_ABSENT;
}

int iam_fault_set_conn(struct iam_fault *f, uint16_t idx,
		       struct iam_xfer_conn *c)
{
	struct fault_cmd *cmd;

	if (idx >= IAM_FAULT_MAX_LENDERS)
		return -EINVAL;
	cmd = calloc(1, sizeof(*cmd));
	if (!cmd)
		return -ENOMEM;
	cmd->op = CMD_CONN;
	cmd->idx = idx;
	cmd->conn = c;
	cmd->f = f;
	fault_push(f, cmd);
	return 0;
}
