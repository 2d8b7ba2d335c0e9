// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The fault service (user/fault.c) served over the RDMA transport, inside
 * the tests/vm guest: the test thread is the client touching a memfd
 * region under a userfaultfd; the fault thread reads evicted pages from
 * the lender with RDMA READ into the connection's staging buffer, then
 * UFFDIO_COPY, and writes dirty victims back with RDMA WRITE.  The lender
 * is an RDMA server on side 0 of the guest's fabric whose pool is one
 * registered region; the borrower connects from side 1.  No agent and no
 * control protocol: the test fills mem_to_ip itself, with the rkey.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <setjmp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "fault.h"
#include "iam_const.h"
#include "iam_ipc.h"
#include "iam_test.h"
#include "xfer/rdma.h"

#define BSHIFT 16 /* 64 KiB blocks, the default */
#define BS (1u << BSHIFT)
#define NBLOCKS 16 /* 1 MiB region, 256 pages */
#define PG 4096
#define LIDX 3 /* the lender's connection index */

static struct in6_addr addr_lender, addr_borrower;
static uint8_t *pool; /* the lender's pool: NBLOCKS * BS */
static struct iam_m2i_entry m2i[64];
static struct iam_loop *loop;
static pthread_t loop_thread;
static int lost_calls, lost_err;

static void need_rdma(void)
{
	const char *a0 = getenv("IAM_VM_ADDR0"), *a1 = getenv("IAM_VM_ADDR1");
	const char *d0 = getenv("IAM_VM_NETDEV0"),
		   *d1 = getenv("IAM_VM_NETDEV1");

	if (!a0 || !a1 || !d0 || !d1)
		SKIP("not in the tests/vm guest (IAM_VM_ADDR0/1 unset)");
	if (inet_pton(AF_INET6, a0, &addr_lender) != 1 ||
	    inet_pton(AF_INET6, a1, &addr_borrower) != 1) {
		iam_test_fail(__FILE__, __LINE__, "bad IAM_VM_ADDR0/1");
		exit(IAM_T_FAIL);
	}
	if (!iam_rdma_netdev_has_rdma(d0) || !iam_rdma_netdev_has_rdma(d1))
		SKIP("no RDMA device on %s or %s", d0, d1);
}

static void on_lost(void *arg, uint16_t idx, int err)
{
	__atomic_store_n(&lost_err, err, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&lost_calls, 1, __ATOMIC_SEQ_CST);
}

static void *loop_main(void *arg)
{
	iam_loop_run(loop);
	return NULL;
}

/* The pool is lent as two allocations (ids 1 and 2), one memory region
 * each: the first NBLOCKS / 2 blocks and the rest. */
struct rig {
	struct iam_rdma_server *srv;
	struct iam_rdma_mr *mr[2];
	uint32_t rkey[2];
	struct iam_fault *f;
	struct iam_fault_region *r;
	uint8_t *mem;
	size_t len;
};

static int make_uffd(void *addr, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_MISSING_SHMEM |
					      UFFD_FEATURE_WP_HUGETLBFS_SHMEM |
					      UFFD_FEATURE_THREAD_ID };
	struct uffdio_register reg = {
		.range = { (uintptr_t)addr, len },
		.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
	};
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	REQUIRE(fd >= 0);
	REQUIRE_EQ(ioctl(fd, UFFDIO_API, &api), 0);
	REQUIRE_EQ(ioctl(fd, UFFDIO_REGISTER, &reg), 0);
	return fd;
}

/* A client region of NBLOCKS blocks, all on the RDMA lender. */
static void rig_up(struct rig *g, uint64_t cache_pages)
{
	struct iam_fault_config fc = {
		.cache_pages = cache_pages,
		.cpu = -1,
		.spin_us = 50,
		.m2i = m2i,
		.m2i_slots = 64,
		.hooks = { .lender_failed = on_lost },
	};
	struct iam_xfer_conn *c;
	int memfd, uffd;

	need_rdma();
	pool = mmap(NULL, (size_t)NBLOCKS * BS, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	REQUIRE(pool != MAP_FAILED);
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	REQUIRE_EQ(iam_rdma_server_create(loop, &addr_lender, IAM_PORT_RDMA_CM,
					  &g->srv),
		   0);
	for (int k = 0; k < 2; k++)
		REQUIRE_EQ(iam_rdma_server_reg(
				   g->srv,
				   pool + (size_t)k * (NBLOCKS / 2) * BS,
				   (size_t)(NBLOCKS / 2) * BS, IAM_RIGHTS_RW,
				   &g->mr[k], &g->rkey[k]),
			   0);
	pthread_create(&loop_thread, NULL, loop_main, NULL);
	fc.loop = loop;
	REQUIRE_EQ(iam_fault_start(&fc, &g->f), 0);
	REQUIRE_EQ(iam_rdma_connect(&addr_borrower, &addr_lender,
				    IAM_PORT_RDMA_CM, PG, 5000, &c),
		   0);
	REQUIRE_EQ(iam_fault_set_conn(g->f, LIDX, c), 0);

	g->len = (size_t)NBLOCKS * BS;
	memfd = memfd_create("iam-rdma-fault", MFD_CLOEXEC);
	REQUIRE(memfd >= 0);
	REQUIRE_EQ(ftruncate(memfd, (off_t)g->len), 0);
	g->mem = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd,
		      0);
	REQUIRE(g->mem != MAP_FAILED);
	uffd = make_uffd(g->mem, g->len);
	for (int i = 0; i < NBLOCKS; i++) {
		struct iam_m2i_entry *e = &m2i[10 + i];
		uint64_t raddr = (uintptr_t)pool + (uint64_t)i * BS;

		memset(e, 0, sizeof(*e));
		e->vaddr = (uintptr_t)g->mem + (uint64_t)i * BS;
		/* FIG. 2: the block address is the lender address >> shift. */
		memcpy(e->block, &addr_lender, 10);
		e->block[10] = (uint8_t)(raddr >> (BSHIFT + 40));
		e->block[11] = (uint8_t)(raddr >> (BSHIFT + 32));
		*(uint32_t *)&e->block[12] = htonl((uint32_t)(raddr >> BSHIFT));
		memcpy(e->lender, &addr_lender, 16);
		e->remote_addr = raddr;
		e->rkey = g->rkey[i >= NBLOCKS / 2];
		e->alloc_id = 1 + (i >= NBLOCKS / 2);
		e->lender_idx = LIDX;
		e->rights = IAM_RIGHTS_RW;
		e->block_shift = BSHIFT;
		e->flags = IAM_M2I_VALID;
	}
	REQUIRE_EQ(iam_fault_region_create(g->f, uffd, memfd, (uintptr_t)g->mem,
					   g->len, 10, BSHIFT, getpid(), &g->r),
		   0);
	iam_fault_region_add(g->f, g->r);
}

static uint8_t pat(size_t i, int round)
{
	return (uint8_t)(i * 131 + (i >> 12) * 7 + 1 + round * 29);
}

/*
 * rig_up with SIGBUS blocked in the agent's threads, and every byte of
 * the region written.  Without UFFDIO_POISON (Linux < 6.6, the guest's
 * 6.1) the fault thread sends SIGBUS itself (tgkill to the faulting
 * thread, else kill): only the client thread may take it, so the agent's
 * threads start with it blocked.
 */
static void rig_up_for_sigbus(struct rig *g)
{
	sigset_t bus, old;

	sigemptyset(&bus);
	sigaddset(&bus, SIGBUS);
	pthread_sigmask(SIG_BLOCK, &bus, &old);
	rig_up(g, 16);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (size_t i = 0; i < g->len; i++)
		g->mem[i] = pat(i, 0);
}

TEST(eviction_writeback_and_refault_over_rdma)
{
	struct iam_fault_stats st;
	struct rig g;
	size_t bad = 0;

	/* 32 pages of cache for a 256-page region: nearly every page is
	 * written back with RDMA WRITE and read again with RDMA READ. */
	rig_up(&g, 32);
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < g.len; i++)
			g.mem[i] = pat(i, round);
		for (size_t i = 0; i < g.len; i++)
			bad += g.mem[i] != pat(i, round);
		CHECK_MSG(bad == 0, "round %d: %zu bytes differ", round, bad);
	}
	iam_fault_get_stats(g.f, &st);
	CHECK(st.resident <= 32);
	CHECK(st.evictions >= g.len / PG);
	CHECK(st.writebacks >= g.len / PG - 32);
	CHECK(st.remote_reads >= g.len / PG);
	CHECK_EQ(st.lost, 0);
	/* The lender's pool holds what the client wrote, byte for byte,
	 * except pages still dirty in the cache. */
	for (size_t i = 0; i < g.len; i++)
		if (pool[i] != pat(i, 1) &&
		    iam_fault_page_state(g.r, (uintptr_t)g.mem + i) !=
			    IAM_PAGE_DIRTY)
			bad++;
	CHECK_EQ(bad, 0);
	CHECK_EQ(lost_calls, 0);
}

static sigjmp_buf jb;
static volatile uintptr_t bus_addr;
static volatile int bus_code;
static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	bus_code = si->si_code;
	bus_addr = si->si_code <= 0 ? 0 : (uintptr_t)si->si_addr;
	siglongjmp(jb, 1);
}

TEST(released_allocation_is_lost_not_misread)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus,
				.sa_flags = SA_SIGINFO };
	size_t half = (size_t)(NBLOCKS / 2) * BS;
	volatile size_t bad = 0;
	struct iam_fault_stats st;
	volatile uint8_t v = 0;
	struct rig g;

	rig_up_for_sigbus(&g);
	/* The lender releases allocation 1: its rkey dies, so the next
	 * remote read of it fails with an access error and the page is lost
	 * (SIGBUS), never served from memory the client no longer holds. */
	iam_rdma_server_dereg(g.mr[0]);
	memset(pool, 0xee, half);
	sigaction(SIGBUS, &sa, NULL);
	if (!sigsetjmp(jb, 1)) {
		v = g.mem[0];
		CHECK_MSG(0, "no SIGBUS reading a released page (read %u)", v);
	}
	CHECK_MSG(bus_addr == (uintptr_t)g.mem || bus_code == SI_TKILL ||
			  bus_code == SI_USER,
		  "SIGBUS at %#lx (code %d), not at the page %p",
		  (unsigned long)bus_addr, bus_code, (void *)g.mem);
	/* Only that allocation is lost: the refused READ broke the queue
	 * pair, the fault thread reconnected, and allocation 2 of the same
	 * lender reads back byte for byte. */
	for (size_t i = half; i < g.len; i++)
		bad += g.mem[i] != pat(i, 0);
	CHECK_MSG(bad == 0, "%zu bytes of allocation 2 differ", (size_t)bad);
	iam_fault_get_stats(g.f, &st);
	CHECK_EQ(st.lost_allocs, 1);
	CHECK(st.rdma_reads >= (g.len - half) / PG - 16);
	/* The rest of allocation 1 is known lost without asking the lender
	 * again: another page of it faults straight into SIGBUS. */
	bus_addr = 0;
	if (!sigsetjmp(jb, 1)) {
		v = g.mem[half - PG];
		CHECK_MSG(0,
			  "no SIGBUS reading page %zu of a released "
			  "allocation (read %u)",
			  half / PG - 1, v);
	}
	CHECK_EQ(iam_fault_page_state(g.r, (uintptr_t)g.mem + PG),
		 IAM_PAGE_LOST);
	CHECK(iam_fault_page_state(g.r, (uintptr_t)g.mem + half) !=
	      IAM_PAGE_LOST);
	iam_fault_get_stats(g.f, &st);
	CHECK_EQ(st.lost_allocs, 1);
	CHECK(st.lost >= 2);
	/* Nothing went to the released memory, and the lender is not lost. */
	for (size_t i = 0; i < half; i++)
		bad += pool[i] != 0xee;
	CHECK_EQ(bad, 0);
	usleep(100000);
	CHECK_EQ(lost_calls, 0);
}

static struct iam_rdma_server *doomed;
static int destroyed;

static void destroy_on_loop(struct iam_loop *l, struct iam_loop_work *w)
{
	iam_rdma_server_destroy(doomed);
	__atomic_store_n(&destroyed, 1, __ATOMIC_SEQ_CST);
}

TEST(lender_gone_is_lost)
{
	static struct iam_loop_work w = { .fn = destroy_on_loop };
	struct sigaction sa = { .sa_sigaction = on_sigbus,
				.sa_flags = SA_SIGINFO };
	volatile uint8_t v = 0;
	struct rig g;

	rig_up_for_sigbus(&g);
	/* The lender goes away (its queue pairs and listener with it): the
	 * fault thread cannot reconnect, so the whole lender is lost and the
	 * control plane is told once. */
	iam_rdma_server_dereg(g.mr[0]);
	iam_rdma_server_dereg(g.mr[1]);
	doomed = g.srv;
	iam_loop_post(loop, &w); /* the server belongs to its loop */
	for (int i = 0; i < 300 && !__atomic_load_n(&destroyed, 0); i++)
		usleep(10000);
	REQUIRE(destroyed);
	sigaction(SIGBUS, &sa, NULL);
	if (!sigsetjmp(jb, 1)) {
		v = g.mem[0];
		CHECK_MSG(0, "no SIGBUS reading from a gone lender (read %u)",
			  v);
	}
	for (int i = 0; i < 300 && !__atomic_load_n(&lost_calls, 0); i++)
		usleep(10000);
	CHECK_EQ(lost_calls, 1);
	CHECK(lost_err != 0 && lost_err != -EACCES);
}
