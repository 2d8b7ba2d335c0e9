// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Fault service and IPMem cache (user/fault.c), in one process: the test
 * thread is the client touching a memfd region registered with a
 * userfaultfd; the fault thread serves it from a "lender" that is a TCP
 * data server over loopback backed by a plain buffer; a loop thread plays
 * the control plane.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "fault.h"
#include "iam_ipc.h"
#include "iam_test.h"
#include "xfer/tcp.h"

#define BSHIFT 14 /* 16 KiB blocks: 4 pages each */
#define BS (1u << BSHIFT)
#define NBLOCKS 32 /* 512 KiB region, 128 pages */
#define PG 4096

static uint8_t *lender; /* NBLOCKS * BS, the lender's pool */
static struct iam_m2i_entry m2i[64];
static struct iam_loop *loop;
static pthread_t loop_thread;
static int lost_calls, removed_calls;
static struct iam_fault_region *removed_region;

/* Blocks [refused_lo, refused_hi) are refused: their allocation went. */
static uint32_t refused_lo, refused_hi;
/* Requests for block stall_block wait until stall_go is set;
 * stall_seen says one is waiting. */
static int stall_block = -1, stall_go, stall_seen;

static int resolve(void *arg, const struct in6_addr *peer,
		   const struct in6_addr *block, uint32_t off, uint32_t len,
		   bool write, void **mem, struct iam_tcpx_token *tok)
{
	uint32_t i = ntohl(*(const uint32_t *)&block->s6_addr[12]);

	while ((int)i == __atomic_load_n(&stall_block, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&stall_go, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&stall_seen, 1, __ATOMIC_RELEASE);
		usleep(1000);
	}
	if (i >= NBLOCKS || off + len > BS ||
	    (i >= __atomic_load_n(&refused_lo, __ATOMIC_ACQUIRE) &&
	     i < __atomic_load_n(&refused_hi, __ATOMIC_ACQUIRE)))
		return -EACCES;
	*mem = lender + (size_t)i * BS + off;
	return 0;
}

static void finish(void *arg, bool write, const struct iam_tcpx_token *tok)
{
}

static void on_lost(void *arg, uint16_t idx, int err)
{
	__atomic_add_fetch(&lost_calls, 1, __ATOMIC_SEQ_CST);
}

static void on_removed(void *arg, struct iam_fault_region *r)
{
	removed_region = r;
	__atomic_add_fetch(&removed_calls, 1, __ATOMIC_SEQ_CST);
}

static void *loop_main(void *arg)
{
	iam_loop_run(loop);
	return NULL;
}

struct rig {
	struct iam_tcpx_server *srv;
	struct iam_fault *f;
	struct iam_fault_region *r;
	uint8_t *mem;
	size_t len;
	int uffd; /* the region's, for a test to poll */
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

/* A region of NBLOCKS blocks; blocks < nlocal are "local" (served from
 * the lender buffer directly), the rest remote over TCP, as two
 * allocations: blocks below ALLOC2 are allocation 1, the rest 2. */
#define ALLOC2 18
static int rig_cpu = IAM_FAULT_CPU_ANY; /* the fault thread's --cpu */
static bool rig_no_add; /* leave iam_fault_region_add() to the test */
static void rig_up(struct rig *g, uint64_t cache_pages, int nlocal)
{
	struct iam_tcpx_server_config sc = {
		.addr = in6addr_loopback,
		.max_io = BS,
		.cpu = -1,
		.access = { resolve, finish, NULL },
	};
	struct iam_fault_config fc = {
		.cache_pages = cache_pages,
		.cpu = rig_cpu,
		.m2i = m2i,
		.m2i_slots = 64,
		.hooks = { on_lost, on_removed, NULL },
	};
	struct iam_xfer_conn *c;
	int memfd, uffd;

	lender = mmap(NULL, (size_t)NBLOCKS * BS, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(lender != MAP_FAILED);
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	pthread_create(&loop_thread, NULL, loop_main, NULL);
	fc.loop = loop;
	REQUIRE_EQ(iam_tcpx_server_start(&sc, &g->srv), 0);
	REQUIRE_EQ(iam_fault_start(&fc, &g->f), 0);
	REQUIRE_EQ(iam_tcpx_connect(NULL, &in6addr_loopback,
				    iam_tcpx_server_port(g->srv), BS, 1000, &c),
		   0);
	REQUIRE_EQ(iam_fault_set_conn(g->f, 3, c), 0);

	g->len = (size_t)NBLOCKS * BS;
	memfd = memfd_create("t", MFD_CLOEXEC);
	REQUIRE(memfd >= 0);
	REQUIRE_EQ(ftruncate(memfd, (off_t)g->len), 0);
	g->mem = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd,
		      0);
	REQUIRE(g->mem != MAP_FAILED);
	uffd = make_uffd(g->mem, g->len);
	g->uffd = uffd;
	for (int i = 0; i < NBLOCKS; i++) {
		struct iam_m2i_entry *e = &m2i[10 + i];

		memset(e, 0, sizeof(*e));
		e->vaddr = (uintptr_t)g->mem + (uint64_t)i * BS;
		e->block[0] = 0xfd;
		*(uint32_t *)&e->block[12] = htonl((uint32_t)i);
		e->remote_addr = (uintptr_t)lender + (uint64_t)i * BS;
		e->lender_idx = 3;
		e->alloc_id = i < ALLOC2 ? 1 : 2;
		e->rights = 2;
		e->block_shift = BSHIFT;
		e->flags = IAM_M2I_VALID | (i < nlocal ? IAM_M2I_LOCAL : 0);
	}
	REQUIRE_EQ(iam_fault_region_create(g->f, uffd, memfd, (uintptr_t)g->mem,
					   g->len, 10, BSHIFT, getpid(), &g->r),
		   0);
	if (!rig_no_add)
		iam_fault_region_add(g->f, g->r);
}

static uint8_t pat(size_t i)
{
	return (uint8_t)(i * 131 + (i >> 12) * 7 + 1);
}

TEST(zero_fill_costs_no_transfer)
{
	struct rig g;
	struct iam_fault_stats st;
	uint64_t sum = 0;

	rig_up(&g, 1024, 0);
	for (size_t i = 0; i < g.len; i += 64)
		sum += g.mem[i];
	CHECK_EQ(sum, 0);
	iam_fault_get_stats(g.f, &st);
	CHECK_EQ(st.faults, g.len / PG);
	CHECK_EQ(st.zero_fills, g.len / PG);
	CHECK_EQ(st.remote_reads, 0);
	CHECK_EQ(st.resident, g.len / PG);
	CHECK_EQ(iam_fault_page_state(g.r, (uintptr_t)g.mem), IAM_PAGE_CLEAN);
	g.mem[5] = 1;
	CHECK_EQ(iam_fault_page_state(g.r, (uintptr_t)g.mem), IAM_PAGE_DIRTY);
	iam_fault_get_stats(g.f, &st);
	CHECK_EQ(st.wp_faults, 1);
}

TEST(eviction_writeback_and_refault_keep_every_byte)
{
	struct rig g;
	struct iam_fault_stats st;
	size_t bad = 0;

	/* 16 pages of cache for a 128-page region: most pages go out to the
	 * lender and come back. Blocks 0-3 are local, the rest remote. */
	rig_up(&g, 16, 4);
	for (size_t i = 0; i < g.len; i++)
		g.mem[i] = pat(i);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < g.len; i++)
			bad += g.mem[i] != pat(i);
	CHECK_EQ(bad, 0);
	iam_fault_get_stats(g.f, &st);
	CHECK(st.resident <= 16);
	CHECK(st.evictions >= g.len / PG);
	CHECK(st.writebacks >= g.len / PG - 16);
	CHECK(st.remote_reads > 0);
	CHECK(st.local_reads > 0);
	CHECK_EQ(st.lost, 0);
	/* The lender really holds the data: the written-back blocks match. */
	for (size_t i = 4 * BS; i < g.len; i++)
		if (lender[i] != pat(i) &&
		    iam_fault_page_state(g.r, (uintptr_t)g.mem + i) !=
			    IAM_PAGE_DIRTY)
			bad++;
	CHECK_EQ(bad, 0);
	CHECK_EQ(iam_fault_page_state(g.r, (uintptr_t)g.mem + g.len), -EINVAL);
}

static sigjmp_buf jb;
static volatile uintptr_t bus_addr;
static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	bus_addr = (uintptr_t)si->si_addr;
	siglongjmp(jb, 1);
}

TEST(lost_lender_raises_sigbus_only_on_its_pages)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus,
				.sa_flags = SA_SIGINFO };
	struct rig g;
	volatile uint8_t v = 0;
	struct iam_fault_stats st;

	rig_up(&g, 16, 4);
	for (size_t i = 0; i < g.len; i++)
		g.mem[i] = pat(i);
	/* The lender dies; most remote pages are out of the cache now. */
	iam_tcpx_server_stop(g.srv);
	sigaction(SIGBUS, &sa, NULL);
	if (!sigsetjmp(jb, 1)) {
		v = g.mem[8 * BS];
		CHECK_MSG(0, "no SIGBUS reading a lost page (read %u)", v);
	}
	CHECK_EQ(bus_addr, (uintptr_t)g.mem + 8 * BS);
	/* Local blocks keep working. */
	for (size_t i = 0; i < 4 * BS; i++)
		if (g.mem[i] != pat(i))
			CHECK_MSG(0, "local byte %zu differs", i);
	iam_fault_get_stats(g.f, &st);
	CHECK(st.lost >= 1);
	CHECK_EQ(iam_fault_page_state(g.r, (uintptr_t)g.mem + 8 * BS),
		 IAM_PAGE_LOST);
	for (int i = 0; i < 100 && !__atomic_load_n(&lost_calls, 0); i++)
		usleep(10000);
	CHECK_EQ(lost_calls, 1);
}

TEST(refused_allocation_loses_only_its_pages)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus,
				.sa_flags = SA_SIGINFO };
	struct iam_fault_stats st;
	volatile uint8_t v = 0;
	struct rig g;

	rig_up(&g, 16, 4);
	for (size_t i = 0; i < g.len; i++)
		g.mem[i] = pat(i);
	/* The lender no longer lends allocation 1 (released, or its lease
	 * ran out): it refuses those blocks, the connection stays. */
	__atomic_store_n(&refused_lo, 4, __ATOMIC_RELEASE);
	__atomic_store_n(&refused_hi, ALLOC2, __ATOMIC_RELEASE);
	sigaction(SIGBUS, &sa, NULL);
	if (!sigsetjmp(jb, 1)) {
		v = g.mem[8 * BS];
		CHECK_MSG(0, "no SIGBUS reading a refused page (read %u)", v);
	}
	CHECK_EQ(bus_addr, (uintptr_t)g.mem + 8 * BS);
	/* Allocation 2 of the same lender, over the same connection. */
	for (size_t i = (size_t)ALLOC2 * BS; i < g.len; i++)
		if (g.mem[i] != pat(i)) {
			CHECK_MSG(0, "byte %zu of allocation 2 differs", i);
			break;
		}
	iam_fault_get_stats(g.f, &st);
	CHECK_EQ(st.lost_allocs, 1);
	CHECK_EQ(st.rdma_reads, 0);
	/* Every page of allocation 1 is known lost, no request needed. */
	CHECK_EQ(iam_fault_page_state(g.r, (uintptr_t)g.mem + 12 * BS),
		 IAM_PAGE_LOST);
	CHECK(iam_fault_page_state(g.r, (uintptr_t)g.mem + ALLOC2 * BS) !=
	      IAM_PAGE_LOST);
	usleep(50000);
	CHECK_EQ(lost_calls, 0);
}

TEST(region_removal_is_reported_and_frees_frames)
{
	struct rig g;
	struct iam_fault_stats st;

	rig_up(&g, 64, 0);
	for (size_t i = 0; i < 32 * PG; i += PG)
		g.mem[i] = 1;
	iam_fault_region_remove(g.f, g.r);
	for (int i = 0; i < 100 && !__atomic_load_n(&removed_calls, 0); i++)
		usleep(10000);
	CHECK_EQ(removed_calls, 1);
	CHECK(removed_region == g.r);
	iam_fault_get_stats(g.f, &st);
	CHECK_EQ(st.resident, 0);
	iam_fault_region_destroy(g.r);
	iam_fault_stop(g.f);
}

/* Pin this thread to the last CPU it may use; *old gets the previous
 * set (for sched_setaffinity after).  Returns the CPU. */
static int pin_to_one_cpu(cpu_set_t *old)
{
	cpu_set_t one;
	int cpu = -1;

	REQUIRE_EQ(sched_getaffinity(0, sizeof(*old), old), 0);
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, old))
			cpu = i;
	REQUIRE(cpu >= 0);
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	REQUIRE_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
	return cpu;
}

/* --cpu follow: the fault thread goes to the one CPU its client is
 * pinned to while the region lives, and back to any CPU after. */
TEST(follow_goes_to_a_pinned_client_and_back)
{
	struct iam_fault_stats st;
	cpu_set_t old;
	struct rig g;
	int cpu;

	cpu = pin_to_one_cpu(&old);
	rig_cpu = IAM_FAULT_CPU_FOLLOW;
	rig_up(&g, 64, 0);
	rig_cpu = IAM_FAULT_CPU_ANY;
	g.mem[0] = 1; /* served: the region was added before */
	iam_fault_get_stats(g.f, &st);
	CHECK_EQ(st.cpu_plus1, (uint64_t)cpu + 1);
	CHECK_EQ(st.follow_pid, (uint64_t)getpid());
	removed_calls = 0;
	iam_fault_region_remove(g.f, g.r);
	for (int i = 0; i < 100 && !__atomic_load_n(&removed_calls, 0); i++)
		usleep(10000);
	CHECK_EQ(removed_calls, 1);
	iam_fault_get_stats(g.f, &st);
	CHECK_EQ(st.cpu_plus1, 0);
	CHECK_EQ(st.follow_pid, 0);
	iam_fault_region_destroy(g.r);
	iam_fault_stop(g.f);
	sched_setaffinity(0, sizeof(old), &old);
}

/* A client that unmaps part of its region without iam_free() (its bug):
 * the dirty pages it left there must still leave the cache, not hold
 * their frames for good, and their data must reach the lender.
 * Write-protecting a range with no mapping left fails with ENOENT.  Both
 * threads run on one CPU so that the client unmaps before the fault
 * thread's idle eviction can write the pages back while still mapped
 * (on two CPUs that race made the old code fail one run in ten). */
TEST(pages_of_an_unmapped_range_still_leave_the_cache)
{
	struct iam_fault_stats st;
	size_t bad = 0;
	cpu_set_t old;
	struct rig g;

	pin_to_one_cpu(&old);
	rig_cpu = IAM_FAULT_CPU_FOLLOW;
	rig_up(&g, 16, 0);
	rig_cpu = IAM_FAULT_CPU_ANY;
	for (size_t i = 0; i < 16 * PG; i++)
		g.mem[i] = pat(i);
	REQUIRE_EQ(munmap(g.mem, 16 * PG), 0);
	for (size_t i = 64 * PG; i < 96 * PG; i++)
		g.mem[i] = pat(i);
	for (size_t i = 64 * PG; i < 96 * PG; i++)
		bad += g.mem[i] != pat(i);
	CHECK_EQ(bad, 0);
	iam_fault_get_stats(g.f, &st);
	CHECK(st.resident <= 16);
	CHECK(st.evictions >= 32);
	/* Nothing lost: the unmapped pages were written back. */
	for (size_t i = 0; i < 16 * PG; i++)
		bad += lender[i] != pat(i);
	CHECK_EQ(bad, 0);
	sched_setaffinity(0, sizeof(old), &old);
}

static __thread sigjmp_buf segv_jb;
static void on_segv(int sig)
{
	siglongjmp(segv_jb, 1);
}

static void *touch_first_page(void *arg)
{
	volatile uint8_t *mem = arg;
	uintptr_t got = 0;

	if (!sigsetjmp(segv_jb, 1))
		(void)mem[0];
	else
		got = SIGSEGV;
	return (void *)got;
}

static void *write_first_page(void *arg)
{
	volatile uint8_t *mem = arg;
	uintptr_t got = 0;

	if (!sigsetjmp(segv_jb, 1))
		mem[0] = 1;
	else
		got = SIGSEGV;
	return (void *)got;
}

/* Thread t must end by SIGSEGV within 3 s; then the old handler is
 * restored (else t still holds ours: it stays installed). */
static void join_expect_sigsegv(pthread_t t, const struct sigaction *old)
{
	struct timespec ts;
	void *got = NULL;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 3;
	if (pthread_timedjoin_np(t, &got, &ts)) {
		CHECK_MSG(0, "the faulting thread still sleeps after 3 s");
		return;
	}
	CHECK_EQ((uintptr_t)got, SIGSEGV);
	sigaction(SIGSEGV, old, NULL);
}

/* One client thread waits in a fault while another unmaps the page (the
 * client's bug).  UFFDIO_COPY then fails with ENOENT; the waiter must be
 * woken to take its SIGSEGV, not sleep for good. */
TEST(waiter_on_a_page_unmapped_meanwhile_gets_sigsegv)
{
	struct sigaction sa = { .sa_handler = on_segv }, old;
	struct pollfd pfd;
	pthread_t t;
	struct rig g;

	rig_no_add = true;
	rig_up(&g, 16, 0);
	rig_no_add = false;
	REQUIRE_EQ(sigaction(SIGSEGV, &sa, &old), 0);
	REQUIRE_EQ(pthread_create(&t, NULL, touch_first_page, g.mem), 0);
	/* The fault is queued on the uffd, which nobody reads yet. */
	pfd = (struct pollfd){ .fd = g.uffd, .events = POLLIN };
	REQUIRE_EQ(poll(&pfd, 1, 2000), 1);
	REQUIRE_EQ(munmap(g.mem, g.len), 0);
	iam_fault_region_add(g.f, g.r);
	join_expect_sigsegv(t, &old);
}

/* The same for a first write to a clean page (a write-protect fault): the
 * fault thread is held in a remote read (the lender stalls) while the
 * writer waits and another thread unmaps the page; the un-protect then
 * fails with ENOENT, and the writer must be woken all the same. */
TEST(writer_on_a_page_unmapped_meanwhile_gets_sigsegv)
{
	struct sigaction sa = { .sa_handler = on_segv }, old;
	size_t remote = 0;
	pthread_t reader, writer;
	struct pollfd pfd;
	void *got = NULL;
	struct rig g;

	rig_up(&g, 16, 0);
	/* Pages 16-47 (blocks 4-11) written through a 16-page cache: some
	 * go to the lender, to be read back later. */
	for (size_t i = 16 * PG; i < 48 * PG; i++)
		g.mem[i] = pat(i);
	for (size_t pg = 16; pg < 48 && !remote; pg++)
		if (iam_fault_page_state(g.r, (uintptr_t)g.mem + pg * PG) ==
		    IAM_PAGE_REMOTE)
			remote = pg;
	REQUIRE(remote);
	/* Idle, the fault thread empties the small cache, so the two faults
	 * below find free frames and evict nothing. */
	usleep(50000);
	(void)*(volatile uint8_t *)g.mem; /* resident, clean, write-protected */
	__atomic_store_n(&stall_block, (int)(remote * PG / BS),
			 __ATOMIC_RELEASE);
	REQUIRE_EQ(pthread_create(&reader, NULL, touch_first_page,
				  g.mem + remote * PG),
		   0);
	/* The fault thread took the read's event and waits for the lender:
	 * the next event on the uffd is the writer's. */
	for (int i = 0; i < 200 && !__atomic_load_n(&stall_seen, 0); i++)
		usleep(10000);
	REQUIRE(__atomic_load_n(&stall_seen, __ATOMIC_ACQUIRE));
	REQUIRE_EQ(sigaction(SIGSEGV, &sa, &old), 0);
	REQUIRE_EQ(pthread_create(&writer, NULL, write_first_page, g.mem), 0);
	pfd = (struct pollfd){ .fd = g.uffd, .events = POLLIN };
	REQUIRE_EQ(poll(&pfd, 1, 2000), 1);
	REQUIRE_EQ(iam_fault_page_state(g.r, (uintptr_t)g.mem), IAM_PAGE_CLEAN);
	REQUIRE_EQ(munmap(g.mem, PG), 0);
	__atomic_store_n(&stall_go, 1, __ATOMIC_RELEASE);
	pthread_join(reader, &got);
	CHECK_EQ((uintptr_t)got, 0);
	join_expect_sigsegv(writer, &old);
}
