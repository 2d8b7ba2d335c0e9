// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * agent_borrow.c - the borrower side of the agent (DESIGN.md
 * "Allocation"; patent FIG. 3: the mem-to-ip table).
 *
 * A client's region is covered by blocks of our own pool first (up to
 * --local-budget), then by lenders chosen by path length and available
 * blocks.  Two phases, all or nothing: RESERVE at every chosen lender,
 * then CONFIRM at every one; any failure releases everything held.  Then
 * the data connections are opened (RDMA when both ends can, else TCP to a
 * block address of the allocation, the XDP program lets only us reach
 * it), mem_to_ip is filled and the fault thread takes the region.
 * Leases are renewed every third of their length.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"

#define BORROW_CONNECT_TIMEOUT_MS 2000
#define BORROW_IO_TIMEOUT_MS 2000

struct agent_request {
	struct agent_request *next;
	uint32_t xid;
	struct agent_region *r; /* NULL: nobody waits (RELEASE, RENEW) */
	struct agent_lender *l; /* asked */
	unsigned part;
	void (*done)(struct iam_agent *a, struct agent_request *q,
		     const struct iam_ctrl_msg *m, int err);
};

static struct iam_agent *borrow_agent; /* for the ctrl handlers */

/* ---- block addresses -------------------------------------------------- */

/* The address j blocks after a: FIG. 2 puts the block address in the low
 * 48 bits. */
static void addr_add_blocks(const struct in6_addr *a, uint64_t j,
			    struct in6_addr *out)
{
	uint64_t b = 0;

	*out = *a;
	for (int i = 10; i < 16; i++)
		b = b << 8 | a->s6_addr[i];
	b += j;
	for (int i = 15; i >= 10; i--) {
		out->s6_addr[i] = (uint8_t)b;
		b >>= 8;
	}
}

static uint64_t addr_block(const struct in6_addr *a)
{
	uint64_t b = 0;

	for (int i = 10; i < 16; i++)
		b = b << 8 | a->s6_addr[i];
	return b;
}

/* The agent address (net:host::1) of the agent that owns address a. */
static void addr_agent_of(const struct in6_addr *a, struct in6_addr *out)
{
	*out = *a;
	memset(&out->s6_addr[10], 0, 6);
	out->s6_addr[15] = IAM_CTRL_BLOCK_ADDR;
}

/* ---- lenders ---------------------------------------------------------- */

static struct agent_lender *lender_find(struct iam_agent *a,
					const struct in6_addr *addr)
{
	for (int i = 0; i < IAM_AGENT_MAX_LENDERS; i++)
		if (a->lenders[i].used &&
		    !memcmp(&a->lenders[i].addr, addr, 16))
			return &a->lenders[i];
	return NULL;
}

static void lender_renew_timer(struct iam_loop *loop, struct iam_timer *t,
			       void *arg);

static struct agent_lender *lender_get(struct iam_agent *a,
				       const struct in6_addr *addr)
{
	struct agent_lender *l = lender_find(a, addr);

	if (l)
		return l;
	for (int i = 0; i < IAM_AGENT_MAX_LENDERS; i++) {
		l = &a->lenders[i];
		if (l->used)
			continue;
		memset(l, 0, sizeof(*l));
		l->used = true;
		l->idx = (uint16_t)i;
		l->addr = *addr;
		iam_timer_init(&l->renew_timer, lender_renew_timer, l);
		return l;
	}
	return NULL;
}

static void borrow_on_msg(struct iam_ctrl_conn *c, const struct iam_ctrl_msg *m,
			  void *arg)
{
	struct agent_lender *l = arg;
	struct agent_request **pp, *q;

	for (pp = &l->requests; *pp; pp = &(*pp)->next) {
		if ((*pp)->xid != m->xid)
			continue;
		q = *pp;
		*pp = q->next;
		q->done(borrow_agent, q, m, 0);
		free(q);
		return;
	}
	iam_warn("ctrl: lender %s answered %s to no request (xid %u)",
		 iam_ctrl_peer_str(c), iam_ctrl_type_name(m->type), m->xid);
}

static void lender_fail_requests(struct iam_agent *a, struct agent_lender *l,
				 int err)
{
	while (l->requests) {
		struct agent_request *q = l->requests;

		l->requests = q->next;
		q->done(a, q, NULL, err);
		free(q);
	}
}

static void borrow_on_close(struct iam_ctrl_conn *c, int err, void *arg)
{
	struct agent_lender *l = arg;

	if (l->nparts)
		iam_warn("ctrl: connection to lender %s lost (%s); leases "
			 "will be renewed on a new one",
			 iam_ctrl_peer_str(c), err ? strerror(-err) : "closed");
	l->ctrl = NULL;
	l->state = LENDER_IDLE;
	lender_fail_requests(borrow_agent, l, err ? err : -ECONNRESET);
}

static void borrow_on_up(struct iam_ctrl_conn *c, void *arg)
{
	struct agent_lender *l = arg;

	l->state = LENDER_UP;
}

static int
lender_request(struct iam_agent *a, struct agent_lender *l,
	       struct iam_ctrl_msg *m, struct agent_region *r, unsigned part,
	       void (*done)(struct iam_agent *, struct agent_request *,
			    const struct iam_ctrl_msg *, int))
{
	struct iam_ctrl_handlers h = { .on_msg = borrow_on_msg,
				       .on_up = borrow_on_up,
				       .on_close = borrow_on_close,
				       .arg = l };
	struct agent_request *q;
	int err;

	if (!l->ctrl) {
		err = iam_ctrl_connect(a->loop, &a->self, &l->addr,
				       a->cfg.ctrl_port, &h, &l->ctrl);
		if (err)
			return err;
		l->state = LENDER_CONNECTING;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->xid = ++l->next_xid;
	q->r = r;
	q->l = l;
	q->part = part;
	q->done = done;
	m->xid = q->xid;
	err = iam_ctrl_send(l->ctrl, m);
	if (err) {
		free(q);
		return err;
	}
	q->next = l->requests;
	l->requests = q;
	return 0;
}

static void renew_done(struct iam_agent *a, struct agent_request *q,
		       const struct iam_ctrl_msg *m, int err)
{
	if (m && m->type == IAM_CTRL_RENEWED)
		q->l->lease_end_ms = iam_now_ms() + q->l->lease_ms;
	else
		iam_warn("lease renewal failed: %s",
			 m ? m->error.msg : strerror(-err));
}

/* Renew every third of the lease the lender granted (ours until then). */
static uint64_t lender_renew_period(const struct iam_agent *a,
				    const struct agent_lender *l)
{
	return (l->lease_ms ? l->lease_ms : a->cfg.lease_ms) / 3;
}

static void lender_renew_timer(struct iam_loop *loop, struct iam_timer *t,
			       void *arg)
{
	struct agent_lender *l = arg;
	struct iam_agent *a = borrow_agent;
	struct iam_ctrl_msg m = { .type = IAM_CTRL_RENEW };
	char ab[INET6_ADDRSTRLEN];
	int err;

	if (!l->nparts)
		return;
	m.renew.lease_ms = (uint32_t)a->cfg.lease_ms;
	err = lender_request(a, l, &m, NULL, 0, renew_done);
	if (err)
		iam_warn("lease renewal at %s: %s",
			 agent_addr_str(&l->addr, ab), strerror(-err));
	iam_timer_arm(loop, t, lender_renew_period(a, l));
}

static void release_done(struct iam_agent *a, struct agent_request *q,
			 const struct iam_ctrl_msg *m, int err)
{
	if (!m || m->type != IAM_CTRL_RELEASED)
		iam_warn("release at a lender failed: %s (its lease will "
			 "reclaim the blocks)",
			 m ? m->error.msg : strerror(-err));
	/* The last answer a stopping agent waited for? */
	a->release_pending--;
	agent_maybe_exit(a);
}

/* ---- regions: the two phases ------------------------------------------ */

/* Only the slots the region got: one refused before region_slots_get
 * (bad input, full table) must not retire another region's entries. */
static void region_slots_free(struct iam_agent *a, struct agent_region *r)
{
	if (!r->has_slots)
		return;
	r->has_slots = false;
	for (uint64_t i = 0; i < r->nblocks; i++) {
		iam_m2i_retire(&a->m2i[r->first_slot + i]);
		a->slots.used[r->first_slot + i] = 0;
	}
}

static int region_slots_get(struct iam_agent *a, struct agent_region *r)
{
	uint32_t run = 0;

	for (uint32_t i = 0; i < a->slots.nslots; i++) {
		run = a->slots.used[i] ? 0 : run + 1;
		if (run == r->nblocks) {
			r->first_slot = i + 1 - run;
			memset(a->slots.used + r->first_slot, 1, run);
			r->has_slots = true;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Give back everything the region's parts hold (local blocks at once,
 * remote ones by RELEASE). */
static void region_release_parts(struct iam_agent *a, struct agent_region *r)
{
	for (unsigned i = 0; i < r->nparts; i++) {
		struct agent_part *p = &r->parts[i];
		struct iam_ctrl_msg m = { .type = IAM_CTRL_RELEASE };
		struct agent_lender *l;

		if (p->lender < 0) {
			if (p->reserved || p->confirmed) {
				iam_pool_release(a->pool, p->id, a->self_owner);
				a->local_used -= p->nblocks;
				agent_pool_changed(a);
			}
			continue;
		}
		l = &a->lenders[p->lender];
		if (p->confirmed && l->nparts)
			l->nparts--;
		if (!p->reserved && !p->confirmed)
			continue;
		m.id.id = p->id;
		if (lender_request(a, l, &m, NULL, 0, release_done))
			iam_warn("cannot send RELEASE of %llu; the lender's "
				 "lease will reclaim it",
				 (unsigned long long)p->id);
		else
			a->release_pending++;
		p->reserved = p->confirmed = false;
	}
}

static void region_unlink_free(struct iam_agent *a, struct agent_region *r)
{
	struct agent_region **pp;

	for (pp = &a->regions; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	if (r->uffd >= 0)
		close(r->uffd);
	if (r->memfd >= 0)
		close(r->memfd);
	for (unsigned i = 0; i < r->nparts; i++) {
		free(r->parts[i].runs);
		free(r->parts[i].rkeys);
	}
	free(r->parts);
	free(r);
}

/* The allocation failed (r->error): undo, answer, forget. */
static void region_fail(struct iam_agent *a, struct agent_region *r)
{
	region_release_parts(a, r);
	region_slots_free(a, r);
	if (r->client)
		agent_ipc_reply(a, r->client, IAM_IPC_ALLOC, r->reply_seq,
				r->error, r->errmsg, strlen(r->errmsg) + 1);
	iam_info("allocation of %llu blocks for pid %d failed: %s",
		 (unsigned long long)r->nblocks, (int)r->pid,
		 r->errmsg[0] ? r->errmsg : strerror(-r->error));
	region_unlink_free(a, r);
}

__attribute__((format(printf, 3, 4))) static void
region_error(struct agent_region *r, int err, const char *fmt, ...)
{
	va_list ap;

	if (r->error)
		return;
	r->error = err;
	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
	va_end(ap);
}

/* A data connection to lender l for this part's blocks. */
static int lender_data_up(struct iam_agent *a, struct agent_lender *l,
			  struct agent_part *p)
{
	uint32_t bs = 1u << a->cfg.block_shift;
	struct iam_xfer_conn *c = NULL;
	int err;

	if (l->transport && !l->failed)
		return 0;
	if (a->have_rdma && l->rdma_offered && p->rkeys &&
	    a->cfg.transport != IAM_CFG_TRANSPORT_TCP) {
		err = iam_rdma_connect(&a->self, &l->addr, a->cfg.rdma_port, bs,
				       BORROW_CONNECT_TIMEOUT_MS, &c);
		if (!err) {
			l->transport = IAM_TRANSPORT_RDMA;
			goto up;
		}
		if (a->cfg.transport == IAM_CFG_TRANSPORT_RDMA)
			return err;
		iam_warn("RDMA to %s failed (%s); using TCP",
			 iam_ctrl_peer_str(l->ctrl), strerror(-err));
	}
	/* TCP goes to a block we hold: the lender's XDP program passes data
	 * to a block only from its borrower. */
	err = iam_tcpx_connect(&a->self, &p->runs[0].first, a->cfg.data_port,
			       bs, BORROW_IO_TIMEOUT_MS, &c);
	if (err)
		return err;
	l->transport = IAM_TRANSPORT_TCP;
	l->data_dst = p->runs[0].first;
	l->data_alloc = p->id;
up:
	l->failed = false;
	return iam_fault_set_conn(a->fault, l->idx, c);
}

static void region_activate(struct iam_agent *a, struct agent_region *r)
{
	uint32_t bs = 1u << a->cfg.block_shift;
	struct iam_ipc_alloc_rep rep = { 0 };
	char ab[INET6_ADDRSTRLEN];
	uint64_t k = 0;
	unsigned nlenders = 0;
	int err;

	if (!r->client) {
		region_error(r, -ECANCELED, "the client went away");
		region_fail(a, r);
		return;
	}
	for (unsigned i = 0; i < r->nparts; i++) {
		struct agent_part *p = &r->parts[i];
		struct agent_lender *l;

		if (p->lender < 0)
			continue;
		l = &a->lenders[p->lender];
		err = lender_data_up(a, l, p);
		if (err) {
			region_error(r, err,
				     "no data connection to lender %s: %s",
				     agent_addr_str(&l->addr, ab),
				     strerror(-err));
			region_fail(a, r);
			return;
		}
	}
	/* FIG. 3: client virtual block -> block IPv6 address, lender. */
	for (unsigned i = 0; i < r->nparts; i++) {
		struct agent_part *p = &r->parts[i];
		struct agent_lender *l =
			p->lender >= 0 ? &a->lenders[p->lender] : NULL;

		for (uint32_t ri = 0; ri < p->nruns; ri++) {
			for (uint32_t j = 0; j < p->runs[ri].count; j++, k++) {
				struct iam_m2i_entry *e =
					&a->m2i[r->first_slot + k];
				struct in6_addr b;
				uint8_t flags = 0;

				addr_add_blocks(&p->runs[ri].first, j, &b);
				memset(e, 0, sizeof(*e));
				e->vaddr = r->start + k * bs;
				e->remote_addr = addr_block(&b)
						 << a->cfg.block_shift;
				memcpy(e->block, &b, 16);
				memcpy(e->lender, l ? &l->addr : &a->self, 16);
				e->rkey = p->rkeys ? p->rkeys[ri] : 0;
				e->pid = (uint32_t)r->pid;
				e->alloc_id = p->id;
				e->lender_idx = l ? l->idx : 0;
				e->rights = r->rights;
				e->block_shift = (uint8_t)a->cfg.block_shift;
				if (!l)
					flags |= IAM_M2I_LOCAL;
				else if (l->transport == IAM_TRANSPORT_RDMA)
					flags |= IAM_M2I_RDMA;
				iam_m2i_publish(e, flags);
			}
		}
		if (l) {
			if (!l->nparts++)
				iam_timer_arm(a->loop, &l->renew_timer,
					      lender_renew_period(a, l));
			nlenders++;
		} else {
			rep.nlocal += p->nblocks;
		}
	}
	err = iam_fault_region_create(a->fault, r->uffd, r->memfd, r->start,
				      r->len, r->first_slot,
				      (uint8_t)a->cfg.block_shift, r->pid,
				      &r->fr);
	if (err) {
		region_error(r, err, "fault service: %s", strerror(-err));
		region_fail(a, r);
		return;
	}
	r->uffd = r->memfd = -1; /* the fault region has them now */
	iam_fault_region_add(a->fault, r->fr);
	r->state = REGION_ACTIVE;
	rep.region_id = r->id;
	rep.nblocks = r->nblocks;
	rep.block_size = bs;
	rep.nlenders = nlenders;
	agent_ipc_reply(a, r->client, IAM_IPC_ALLOC, r->reply_seq, 0, &rep,
			sizeof(rep));
	iam_info("region %llu for pid %d: %llu blocks (%llu local, %u "
		 "lender(s)) at %#llx",
		 (unsigned long long)r->id, (int)r->pid,
		 (unsigned long long)r->nblocks, (unsigned long long)rep.nlocal,
		 nlenders, (unsigned long long)r->start);
}

/* The answer is not the one asked for (or none came): say why. */
static void region_bad_answer(struct agent_region *r,
			      const struct iam_ctrl_msg *m, int err,
			      const char *lender, const char *what)
{
	if (m && m->type == IAM_CTRL_ERROR)
		region_error(r, -(int)m->error.code, "lender %s: %s", lender,
			     m->error.msg);
	else
		region_error(r, m ? -EPROTO : err, "lender %s: %s failed: %s",
			     lender, what,
			     m ? "unexpected answer" : strerror(-err));
}

/* One answer of a phase is in; after the last one, go on or fail. */
static void region_answered(struct iam_agent *a, struct agent_region *r,
			    void (*next)(struct iam_agent *,
					 struct agent_region *))
{
	if (--r->pending)
		return;
	if (r->error)
		region_fail(a, r);
	else
		next(a, r);
}

static void confirm_done(struct iam_agent *a, struct agent_request *q,
			 const struct iam_ctrl_msg *m, int err)
{
	struct agent_region *r = q->r;
	struct agent_part *p = &r->parts[q->part];
	char ab[INET6_ADDRSTRLEN];

	agent_addr_str(&a->lenders[p->lender].addr, ab);
	if (m && m->type == IAM_CTRL_CONFIRMED &&
	    (m->confirmed.nrkeys == 0 || m->confirmed.nrkeys == p->nruns)) {
		p->confirmed = true;
		if (m->confirmed.nrkeys) {
			p->rkeys = calloc(p->nruns, sizeof(*p->rkeys));
			if (p->rkeys)
				for (uint32_t i = 0; i < p->nruns; i++)
					p->rkeys[i] = iam_ctrl_rkey_get(m, i);
		}
		q->l->lease_ms = m->confirmed.lease_ms;
		q->l->lease_end_ms = iam_now_ms() + m->confirmed.lease_ms;
	} else {
		region_bad_answer(r, m, err, ab, "confirm");
	}
	region_answered(a, r, region_activate);
}

static void region_confirm_all(struct iam_agent *a, struct agent_region *r)
{
	char ab[INET6_ADDRSTRLEN];

	r->state = REGION_CONFIRMING;
	for (unsigned i = 0; i < r->nparts; i++) {
		struct agent_part *p = &r->parts[i];
		struct iam_ctrl_msg m = { .type = IAM_CTRL_CONFIRM };
		struct agent_lender *l;
		int err;

		if (p->lender < 0)
			continue;
		l = &a->lenders[p->lender];
		m.id.id = p->id;
		err = lender_request(a, l, &m, r, i, confirm_done);
		if (err)
			region_error(r, err, "lender %s: %s",
				     agent_addr_str(&l->addr, ab),
				     strerror(-err));
		else
			r->pending++;
	}
	if (!r->pending) {
		if (r->error)
			region_fail(a, r);
		else
			region_activate(a, r);
	}
}

static void reserve_done(struct iam_agent *a, struct agent_request *q,
			 const struct iam_ctrl_msg *m, int err)
{
	struct agent_region *r = q->r;
	struct agent_part *p = &r->parts[q->part];
	struct agent_lender *l = &a->lenders[p->lender];
	char ab[INET6_ADDRSTRLEN];

	agent_addr_str(&l->addr, ab);
	if (m && m->type == IAM_CTRL_RESERVED) {
		uint64_t total = 0;

		p->id = m->reserved.resv_id;
		p->reserved = true;
		p->nruns = m->reserved.nruns;
		p->runs = calloc(p->nruns, sizeof(*p->runs));
		for (uint32_t i = 0; p->runs && i < p->nruns; i++) {
			iam_ctrl_run_get(m, i, &p->runs[i]);
			total += p->runs[i].count;
		}
		l->rdma_offered = m->reserved.rdma;
		if (!p->runs)
			region_error(r, -ENOMEM, "out of memory");
		else if (total != p->nblocks ||
			 m->reserved.block_shift != a->cfg.block_shift)
			region_error(r, -EPROTO,
				     "lender %s reserved %llu blocks of 2^%u "
				     "bytes, asked %llu of 2^%u",
				     ab, (unsigned long long)total,
				     m->reserved.block_shift,
				     (unsigned long long)p->nblocks,
				     a->cfg.block_shift);
	} else {
		region_bad_answer(r, m, err, ab, "reserve");
	}
	region_answered(a, r, region_confirm_all);
}

/* ---- choosing lenders ------------------------------------------------- */

struct candidate {
	struct in6_addr agent;
	uint64_t avail;
	uint64_t since_ms;
	uint32_t hops;
};

struct cand_list {
	struct iam_agent *a;
	struct candidate *c;
	unsigned n, cap;
};

static int cand_cb(void *arg, const struct iam_bgp_lender *bl)
{
	struct cand_list *cl = arg;
	struct candidate *c;

	if (bl->local || bl->block_shift != cl->a->cfg.block_shift)
		return 0;
	if (cl->n == cl->cap) {
		unsigned cap = cl->cap ? cl->cap * 2 : 16;
		struct candidate *nc = realloc(cl->c, cap * sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		cl->c = nc;
		cl->cap = cap;
	}
	c = &cl->c[cl->n];
	addr_agent_of(&bl->prefix.addr, &c->agent);
	/* One agent, two pool routes: it restarted and its old pool is
	 * not withdrawn yet.  Only its newest pool is real. */
	for (unsigned i = 0; i < cl->n; i++) {
		if (memcmp(&cl->c[i].agent, &c->agent, 16))
			continue;
		if (bl->since_ms > cl->c[i].since_ms) {
			cl->c[i].avail = bl->avail_blocks;
			cl->c[i].hops = bl->hops;
			cl->c[i].since_ms = bl->since_ms;
		}
		return 0;
	}
	cl->n++;
	c->avail = bl->avail_blocks;
	c->hops = bl->hops;
	c->since_ms = bl->since_ms;
	return 0;
}

/* Fewest AS hops first (the closest memory), then the most available. */
static int cand_cmp(const void *x, const void *y)
{
	const struct candidate *a = x, *b = y;

	if (a->hops != b->hops)
		return a->hops < b->hops ? -1 : 1;
	if (a->avail != b->avail)
		return a->avail > b->avail ? -1 : 1;
	return memcmp(&a->agent, &b->agent, 16);
}

static int region_plan(struct iam_agent *a, struct agent_region *r)
{
	uint64_t bs = 1ull << a->cfg.block_shift, left = r->nblocks;
	uint64_t budget = a->cfg.local_budget == UINT64_MAX ?
				  UINT64_MAX :
				  a->cfg.local_budget / bs;
	uint64_t local, total_avail = 0, fabric_v = 0, fabric_m = 0;
	struct cand_list cl = { .a = a };
	int err = 0;

	budget = budget > a->local_used ? budget - a->local_used : 0;
	local = iam_pool_free_blocks(a->pool);
	if (local > budget)
		local = budget;
	if (local > left)
		local = left;
	left -= local;
	if (left && a->bgp) {
		err = iam_bgp_lenders_foreach(a->bgp, cand_cb, &cl);
		if (err)
			goto out;
		qsort(cl.c, cl.n, sizeof(*cl.c), cand_cmp);
		for (unsigned i = 0; i < cl.n; i++)
			total_avail += cl.c[i].avail;
		iam_bgp_totals(a->bgp, &fabric_m, &fabric_v);
	} else {
		fabric_m = iam_pool_total_blocks(a->pool);
		fabric_v = iam_pool_free_blocks(a->pool);
	}
	if (total_avail < left) {
		region_error(r, -ENOMEM,
			     "not enough memory in the fabric: need %llu "
			     "blocks, %llu local (budget) + %llu at lenders "
			     "(V=%llu of M=%llu)",
			     (unsigned long long)r->nblocks,
			     (unsigned long long)local,
			     (unsigned long long)total_avail,
			     (unsigned long long)fabric_v,
			     (unsigned long long)fabric_m);
		err = -ENOMEM;
		goto out;
	}
	r->parts = calloc(cl.n + 1, sizeof(*r->parts));
	if (!r->parts) {
		err = -ENOMEM;
		goto out;
	}
	if (local) {
		struct agent_part *p = &r->parts[r->nparts++];

		p->lender = -1;
		p->nblocks = local;
	}
	for (unsigned i = 0; i < cl.n && left; i++) {
		struct agent_lender *l;
		struct agent_part *p;
		uint64_t k = cl.c[i].avail < left ? cl.c[i].avail : left;

		if (!k)
			continue;
		l = lender_get(a, &cl.c[i].agent);
		if (!l) {
			region_error(r, -EUSERS, "more than %d lenders",
				     IAM_AGENT_MAX_LENDERS);
			err = -EUSERS;
			goto out;
		}
		p = &r->parts[r->nparts++];
		p->lender = l->idx;
		p->nblocks = k;
		left -= k;
	}
out:
	free(cl.c);
	return err;
}

/* Our own blocks: reserve and confirm at once, no network involved. */
static int region_take_local(struct iam_agent *a, struct agent_region *r,
			     struct agent_part *p)
{
	struct iam_pool_alloc_info info;
	struct iam_pool_run *runs;
	uint64_t now = iam_now_ms();
	int err;

	err = iam_pool_reserve(a->pool, p->nblocks, a->self_owner, r->rights,
			       now, a->cfg.reserve_ttl_ms, &p->id);
	if (err)
		return err;
	p->reserved = true;
	err = iam_pool_confirm(a->pool, p->id, a->self_owner, now);
	if (err)
		return err;
	p->confirmed = true;
	a->local_used += p->nblocks;
	agent_pool_changed(a);
	iam_pool_get(a->pool, p->id, &info, NULL, 0);
	runs = calloc(info.nruns, sizeof(*runs));
	p->runs = calloc(info.nruns, sizeof(*p->runs));
	if (!runs || !p->runs) {
		free(runs);
		return -ENOMEM;
	}
	iam_pool_get(a->pool, p->id, &info, runs, info.nruns);
	p->nruns = info.nruns;
	for (uint32_t i = 0; i < info.nruns; i++) {
		iam_addr_from_block(&a->space,
				    iam_pool_first_block_addr(a->pool) +
					    runs[i].first,
				    &p->runs[i].first);
		p->runs[i].count = (uint32_t)runs[i].count;
	}
	free(runs);
	return 0;
}

/*
 * The client's descriptors must be what ALLOC says they are, or the
 * agent would reserve blocks for a region whose faults it can never see
 * and the client would hang on its first access.  The memfd: shmem (only
 * shmem and hugetlbfs files have seals) at least len long.  The uffd: a
 * userfaultfd on which [addr, addr + len) is registered for write-protect
 * -- clearing write-protection on a fresh range changes nothing and fails
 * with ENOENT where it is not registered.  0, or -errno with why in msg.
 */
static int region_check_fds(const struct agent_region *r, char *msg, size_t cap)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = r->start, .len = r->len },
		.mode = 0,
	};
	char path[40], link[64];
	struct stat st;
	ssize_t n;

	if (fstat(r->memfd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    fcntl(r->memfd, F_GET_SEALS) < 0) {
		snprintf(msg, cap, "the first descriptor is not a memfd");
		return -EBADF;
	}
	if ((uint64_t)st.st_size < r->len) {
		snprintf(msg, cap,
			 "the memfd is %lld bytes, shorter than the region "
			 "(%llu)",
			 (long long)st.st_size, (unsigned long long)r->len);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", r->uffd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0 || (link[n] = 0, strcmp(link, "anon_inode:[userfaultfd]"))) {
		snprintf(msg, cap,
			 "the second descriptor is not a userfaultfd");
		return -EBADF;
	}
	if (ioctl(r->uffd, UFFDIO_WRITEPROTECT, &wp) < 0) {
		snprintf(msg, cap,
			 "the region is not registered with the userfaultfd "
			 "for missing and write-protect faults (%s)",
			 strerror(errno));
		return -EINVAL;
	}
	return 0;
}

void agent_region_alloc(struct iam_agent *a, struct agent_client *c,
			uint32_t seq, const struct iam_ipc_alloc *req,
			int memfd, int uffd)
{
	uint64_t bs = 1ull << a->cfg.block_shift;
	struct agent_region *r = calloc(1, sizeof(*r));
	char ab[INET6_ADDRSTRLEN], msg[160];
	int err;

	if (!r) {
		close(memfd);
		close(uffd);
		agent_ipc_reply(a, c, IAM_IPC_ALLOC, seq, -ENOMEM, NULL, 0);
		return;
	}
	r->client = c;
	r->id = ++a->next_region_id;
	r->start = req->addr;
	r->len = req->len;
	r->rights = req->rights;
	r->pid = c->pid;
	r->memfd = memfd;
	r->uffd = uffd;
	r->reply_seq = seq;
	r->created_ms = iam_now_ms();
	r->nblocks = (req->len + bs - 1) / bs;
	r->next = a->regions;
	a->regions = r;
	r->state = REGION_RESERVING;

	if (a->stopping) {
		region_error(r, -ESHUTDOWN, "the agent is stopping");
		goto fail;
	}
	if (!req->len || (req->addr | req->len) & (IAM_FAULT_PAGE - 1) ||
	    (req->rights != IAM_RIGHTS_RO && req->rights != IAM_RIGHTS_RW)) {
		region_error(r, -EINVAL,
			     "bad region: address and length must be page "
			     "aligned, rights 1 or 2");
		goto fail;
	}
	err = region_check_fds(r, msg, sizeof(msg));
	if (err) {
		region_error(r, err, "%s", msg);
		goto fail;
	}
	err = region_slots_get(a, r);
	if (err) {
		region_error(r, -ENOSPC,
			     "mem_to_ip is full: %llu blocks do not fit in "
			     "%u slots (raise --map-slots)",
			     (unsigned long long)r->nblocks, a->slots.nslots);
		goto fail;
	}
	err = region_plan(a, r);
	if (err) {
		region_error(r, err, "cannot plan: %s", strerror(-err));
		goto fail;
	}
	for (unsigned i = 0; i < r->nparts; i++) {
		struct agent_part *p = &r->parts[i];
		struct iam_ctrl_msg m = { .type = IAM_CTRL_RESERVE };
		struct agent_lender *l;

		if (p->lender < 0) {
			err = region_take_local(a, r, p);
			if (err) {
				region_error(r, err, "own pool: %s",
					     strerror(-err));
				goto fail;
			}
			continue;
		}
		l = &a->lenders[p->lender];
		m.reserve.nblocks = (uint32_t)p->nblocks;
		m.reserve.lease_ms = (uint32_t)a->cfg.lease_ms;
		m.reserve.borrower_id = a->router_id;
		m.reserve.rights = r->rights;
		m.reserve.block_shift = (uint8_t)a->cfg.block_shift;
		err = lender_request(a, l, &m, r, i, reserve_done);
		if (err) {
			region_error(r, err, "lender %s: %s",
				     agent_addr_str(&l->addr, ab),
				     strerror(-err));
			break;
		}
		r->pending++;
	}
	if (r->pending)
		return; /* reserve_done goes on */
	if (r->error)
		goto fail;
	region_confirm_all(a, r);
	return;
fail:
	if (r->pending)
		return; /* the last answer fails it */
	region_fail(a, r);
}

void agent_region_free(struct iam_agent *a, struct agent_region *r, bool reply,
		       uint32_t seq)
{
	if (r->state != REGION_ACTIVE) {
		/* Still allocating: the client is gone or gave up; the last
		 * answer sees no client and undoes everything. */
		r->client = NULL;
		return;
	}
	r->state = REGION_FREEING;
	r->reply_free = reply;
	r->reply_seq = seq;
	iam_fault_region_remove(a->fault, r->fr);
}

/* After a TCP data connection's target allocation goes away, move it to
 * a block of another allocation we still hold there, or close it. */
static void lender_data_retarget(struct iam_agent *a, struct agent_lender *l,
				 uint64_t gone)
{
	if (l->transport != IAM_TRANSPORT_TCP || l->data_alloc != gone)
		return;
	l->transport = IAM_TRANSPORT_NONE;
	if (!l->nparts) {
		iam_fault_set_conn(a->fault, l->idx, NULL);
		return;
	}
	for (struct agent_region *r = a->regions; r; r = r->next) {
		if (r->state != REGION_ACTIVE)
			continue;
		for (unsigned i = 0; i < r->nparts; i++) {
			if (r->parts[i].lender == l->idx &&
			    r->parts[i].id != gone &&
			    !lender_data_up(a, l, &r->parts[i]))
				return;
		}
	}
	iam_warn("lender #%u: no data connection after a release", l->idx);
}

void agent_borrow_region_removed(struct iam_agent *a,
				 struct iam_fault_region *fr)
{
	struct agent_region *r;

	for (r = a->regions; r && r->fr != fr; r = r->next)
		;
	if (!r)
		return;
	region_slots_free(a, r);
	region_release_parts(a, r);
	for (unsigned i = 0; i < r->nparts; i++)
		if (r->parts[i].lender >= 0)
			lender_data_retarget(a, &a->lenders[r->parts[i].lender],
					     r->parts[i].id);
	iam_fault_region_destroy(r->fr);
	if (r->reply_free && r->client)
		agent_ipc_reply(a, r->client, IAM_IPC_FREE, r->reply_seq, 0,
				NULL, 0);
	iam_info("region %llu of pid %d freed", (unsigned long long)r->id,
		 (int)r->pid);
	region_unlink_free(a, r);
}

void agent_borrow_lender_failed(struct iam_agent *a, uint16_t idx, int err)
{
	struct agent_lender *l = &a->lenders[idx];
	char ab[INET6_ADDRSTRLEN];
	uint64_t lost = 0;

	if (!l->used)
		return;
	l->failed = true;
	for (struct agent_region *r = a->regions; r; r = r->next) {
		uint64_t n = 0;

		if (r->state != REGION_ACTIVE)
			continue;
		for (uint64_t i = 0; i < r->nblocks; i++) {
			struct iam_m2i_entry *e = &a->m2i[r->first_slot + i];
			uint8_t f = iam_m2i_flags(e);

			if ((f & IAM_M2I_VALID) && !(f & IAM_M2I_LOCAL) &&
			    e->lender_idx == idx) {
				iam_m2i_publish(e, (uint8_t)(f | IAM_M2I_LOST));
				n++;
			}
		}
		if (n)
			iam_err("lender %s failed (%s): %llu blocks of region "
				"%llu (pid %d) are lost; touching a page of "
				"them raises SIGBUS",
				agent_addr_str(&l->addr, ab), strerror(-err),
				(unsigned long long)n,
				(unsigned long long)r->id, (int)r->pid);
		lost += n;
	}
	if (!lost)
		iam_warn("lender %s failed (%s)", agent_addr_str(&l->addr, ab),
			 strerror(-err));
}

int agent_region_where(struct iam_agent *a, struct agent_client *c,
		       uint64_t addr, struct iam_ipc_where_rep *out)
{
	for (struct agent_region *r = a->regions; r; r = r->next) {
		const struct iam_m2i_entry *e;
		uint8_t f;

		if (r->client != c || r->state != REGION_ACTIVE ||
		    addr < r->start || addr >= r->start + r->len)
			continue;
		e = &a->m2i[r->first_slot +
			    ((addr - r->start) >> a->cfg.block_shift)];
		f = iam_m2i_flags(e);
		memset(out, 0, sizeof(*out));
		out->region_id = r->id;
		out->block_vaddr = e->vaddr;
		out->remote_addr = e->remote_addr;
		memcpy(out->block, e->block, 16);
		memcpy(out->lender, e->lender, 16);
		out->alloc_id = e->alloc_id;
		out->block_size = 1u << a->cfg.block_shift;
		out->rights = e->rights;
		out->m2i_flags = f;
		out->page_state = (uint8_t)iam_fault_page_state(r->fr, addr);
		out->transport = (f & IAM_M2I_LOCAL) ? IAM_TRANSPORT_LOCAL :
				 (f & IAM_M2I_RDMA)  ? IAM_TRANSPORT_RDMA :
						       IAM_TRANSPORT_TCP;
		return 0;
	}
	return -EINVAL;
}

int agent_borrow_foreach(struct iam_agent *a,
			 int (*cb)(void *arg,
				   const struct iam_ipc_alloc_rec *r),
			 void *arg)
{
	uint64_t now = iam_now_ms();

	for (struct agent_region *r = a->regions; r; r = r->next) {
		for (unsigned i = 0; i < r->nparts; i++) {
			struct agent_part *p = &r->parts[i];
			struct iam_ipc_alloc_rec rec = { 0 };
			int rc;

			if (!p->reserved && !p->confirmed)
				continue;
			rec.id = p->id;
			rec.nblocks = p->nblocks;
			rec.region_id = r->id;
			rec.role = IAM_ROLE_BORROWED;
			rec.state = p->confirmed ? IAM_ALLOC_CONFIRMED :
						   IAM_ALLOC_RESERVED;
			rec.rights = r->rights;
			rec.pid = (uint32_t)r->pid;
			rec.borrower_id = a->router_id;
			memcpy(rec.peer,
			       p->lender < 0 ? &a->self :
					       &a->lenders[p->lender].addr,
			       16);
			if (p->lender >= 0 &&
			    a->lenders[p->lender].lease_end_ms > now)
				rec.expires_ms =
					a->lenders[p->lender].lease_end_ms -
					now;
			for (uint32_t k = 0; k < p->nruns; k++) {
				struct iam_addr_space sp;
				struct iam_prefix pf[IAM_IPC_ALLOC_PREFIXES];
				uint64_t mem;
				size_t n = 0;

				iam_addr_decode(&p->runs[k].first,
						a->cfg.block_shift, &sp, &mem);
				rec.total_prefixes +=
					(uint32_t)iam_addr_run_prefixes(
						addr_block(&p->runs[k].first),
						p->runs[k].count);
				if (rec.nprefixes >= IAM_IPC_ALLOC_PREFIXES)
					continue;
				iam_addr_aggregate_run(
					&sp, addr_block(&p->runs[k].first),
					p->runs[k].count, pf,
					IAM_IPC_ALLOC_PREFIXES - rec.nprefixes,
					&n);
				for (size_t j = 0; j < n; j++) {
					memcpy(rec.prefixes[rec.nprefixes].addr,
					       &pf[j].addr, 16);
					rec.prefixes[rec.nprefixes].plen =
						pf[j].len;
					rec.nprefixes++;
				}
			}
			rc = cb(arg, &rec);
			if (rc)
				return rc;
		}
	}
	return 0;
}

unsigned agent_borrow_pending(const struct iam_agent *a)
{
	return a->release_pending;
}

int agent_lender_transport(struct iam_agent *a, const struct in6_addr *addr)
{
	struct in6_addr agent;
	struct agent_lender *l;

	addr_agent_of(addr, &agent);
	l = lender_find(a, &agent);
	return l ? l->transport : IAM_TRANSPORT_NONE;
}

int agent_borrow_start(struct iam_agent *a)
{
	borrow_agent = a;
	return 0;
}

void agent_borrow_stop(struct iam_agent *a)
{
	for (int i = 0; i < IAM_AGENT_MAX_LENDERS; i++) {
		struct agent_lender *l = &a->lenders[i];

		if (!l->used)
			continue;
		if (a->loop)
			iam_timer_cancel(a->loop, &l->renew_timer);
		/* Going away: nobody is left to hear the answers. */
		while (l->requests) {
			struct agent_request *q = l->requests;

			l->requests = q->next;
			free(q);
		}
		iam_ctrl_close(l->ctrl);
		l->ctrl = NULL;
		l->used = false;
	}
	while (a->regions)
		region_unlink_free(a, a->regions);
}
