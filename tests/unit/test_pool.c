// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the Memory Manager (user/pool.c): placement and locking,
 * every allocator path, the lock-free data-path checks under concurrency,
 * and the accounting invariants after random operation sequences.
 */
#include <linux/capability.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "iam_addr.h"
#include "iam_test.h"
#include "pool.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)

static struct iam_pool *mkpool(uint64_t size, unsigned shift)
{
	struct iam_pool_cfg cfg = { .size = size,
				    .block_shift = (uint8_t)shift };
	struct iam_pool *p = NULL;
	char err[256];
	int rc = iam_pool_create(&cfg, &p, err, sizeof(err));

	CHECK_MSG(rc == 0, "iam_pool_create: %d: %s", rc, err);
	REQUIRE(p);
	return p;
}

static void audit(struct iam_pool *p)
{
	char err[256];
	int rc = iam_pool_audit(p, err, sizeof(err));

	CHECK_MSG(rc == 0, "audit: %s", err);
	if (rc)
		exit(IAM_T_FAIL);
}

static void stats_eq(const struct iam_pool_stats *a,
		     const struct iam_pool_stats *b)
{
	CHECK_EQ(a->free, b->free);
	CHECK_EQ(a->reserved, b->reserved);
	CHECK_EQ(a->allocated, b->allocated);
	CHECK_EQ(a->releasing, b->releasing);
	CHECK_EQ(a->reservations, b->reservations);
	CHECK_EQ(a->allocations, b->allocations);
	CHECK_EQ(a->largest_free, b->largest_free);
}

static long vm_locked_kib(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	REQUIRE(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* ---- creation ------------------------------------------------------- */

TEST(placement_and_lock)
{
	long before = vm_locked_kib();
	struct iam_pool *p = mkpool(4 * MiB, 12), *q;
	uintptr_t base = (uintptr_t)iam_pool_base(p);
	struct iam_pool_cfg cfg = { .size = 64 * MiB,
				    .block_shift = 16,
				    .hint = 64 * GiB };
	uint64_t idx;

	printf("# pool of 4M at %#lx\n", (unsigned long)base);
	CHECK(base >= IAM_POOL_MIN_VADDR);
	CHECK_EQ(base & (4 * MiB - 1), 0);
	CHECK_EQ(iam_pool_size(p), 4 * MiB);
	CHECK_EQ(iam_pool_total_blocks(p), 1024);
	CHECK_EQ(iam_pool_free_blocks(p), 1024);
	CHECK_EQ(iam_pool_block_shift(p), 12);
	CHECK_EQ(iam_pool_first_block_addr(p), base >> 12);
	CHECK(iam_pool_block_ptr(p, 5) == (char *)base + 5 * 4096);
	CHECK(iam_pool_block_ptr(p, 1024) == NULL);
	CHECK_EQ(iam_pool_index(p, (base >> 12) + 77, &idx), 0);
	CHECK_EQ(idx, 77);
	CHECK_EQ(iam_pool_index(p, (base >> 12) + 1024, &idx), -ERANGE);
	CHECK_EQ(iam_pool_index(p, (base >> 12) - 1, &idx), -ERANGE);
	/* Locked: every byte is resident and counted in VmLck. */
	CHECK_MSG(vm_locked_kib() - before >= 4096, "VmLck grew by %ld kB",
		  vm_locked_kib() - before);

	/* An explicit hint is honoured exactly when it is free. */
	REQUIRE_EQ(iam_pool_create(&cfg, &q, NULL, 0), 0);
	CHECK_EQ((uintptr_t)iam_pool_base(q), 64 * GiB);
	/* Taken now: the next pool at that hint goes to the next slot. */
	{
		struct iam_pool *r;

		REQUIRE_EQ(iam_pool_create(&cfg, &r, NULL, 0), 0);
		CHECK_EQ((uintptr_t)iam_pool_base(r), 64 * GiB + 64 * MiB);
		iam_pool_destroy(r);
	}
	/* The whole pool is one prefix. */
	{
		struct iam_addr_space s = { .net = { 0x20, 0x01, 0x0d, 0xb8 },
					    .block_shift = 16 };
		struct iam_prefix pr;
		char buf[IAM_PREFIX_STRLEN];
		size_t n;

		REQUIRE_EQ(iam_addr_aggregate_run(
				   &s, iam_pool_first_block_addr(q),
				   iam_pool_total_blocks(q), &pr, 1, &n),
			   0);
		CHECK_EQ(n, 1);
		CHECK_STR(iam_addr_prefix_fmt(&pr, buf, sizeof(buf)),
			  "2001:db8::10:0/118");
	}
	iam_pool_destroy(q);
	iam_pool_destroy(p);
	iam_pool_destroy(NULL);
}

TEST(create_refuses_bad_config)
{
	static const struct {
		uint64_t size, hint;
		unsigned shift;
		bool huge;
		const char *msg;
	} v[] = {
		{ 3 * MiB, 0, 16, false, "not a power-of-two multiple" },
		{ 2 * KiB, 0, 12, false, "not a power-of-two multiple" },
		{ 0, 0, 12, false, "not a power-of-two multiple" },
		{ 4 * MiB, 0, 11, false, "outside 4K..2M" },
		{ 4 * MiB, 0, 22, false, "outside 4K..2M" },
		{ 4 * MiB, 4 * GiB + 1 * MiB, 12, false, "not aligned" },
		{ 4 * MiB, 1 * GiB, 12, false, "below 4G" },
		{ 1 * MiB, 0, 12, true, "at least 2M" },
		{ 1ull << 46, 0, 12, false, "too large" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct iam_pool_cfg cfg = { .size = v[i].size,
					    .block_shift = (uint8_t)v[i].shift,
					    .huge = v[i].huge,
					    .hint = v[i].hint };
		struct iam_pool *p = NULL;
		char err[256] = "";

		CHECK_EQ(iam_pool_create(&cfg, &p, err, sizeof(err)), -EINVAL);
		CHECK_MSG(strstr(err, v[i].msg), "case %zu: \"%s\"", i, err);
		CHECK(p == NULL);
	}
}

static void drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	REQUIRE_EQ(syscall(SYS_capget, &h, d), 0);
	d[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	REQUIRE_EQ(syscall(SYS_capset, &h, d), 0);
}

/* Without CAP_IPC_LOCK and over RLIMIT_MEMLOCK: refused, and it says why. */
TEST(refuses_what_cannot_be_locked)
{
	struct rlimit rl = { 1 * MiB, 1 * MiB };
	struct iam_pool_cfg cfg = { .size = 16 * MiB, .block_shift = 16 };
	struct iam_pool *p = NULL;
	char err[512] = "";
	int rc;

	drop_cap_ipc_lock();
	REQUIRE_EQ(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	rc = iam_pool_create(&cfg, &p, err, sizeof(err));
	printf("# %d: %s\n", rc, err);
	CHECK(rc == -ENOMEM || rc == -EPERM || rc == -EAGAIN);
	CHECK(p == NULL);
	CHECK_MSG(strstr(err, "RLIMIT_MEMLOCK is 1M"), "message: %s", err);
	CHECK(strstr(err, "16M"));
	/* Nothing was left mapped: the same place is free again. */
	cfg.size = 512 * KiB;
	REQUIRE_EQ(iam_pool_create(&cfg, &p, err, sizeof(err)), 0);
	CHECK_EQ((uintptr_t)iam_pool_base(p), IAM_POOL_MIN_VADDR);
	iam_pool_destroy(p);
}

TEST(huge_pages)
{
	struct iam_pool_cfg cfg = { .size = 4 * MiB,
				    .block_shift = 21,
				    .huge = true };
	struct iam_pool *p = NULL;
	char err[512] = "";
	long nfree = -1;
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/"
			"free_hugepages",
			"r");
	int rc;

	if (!f)
		SKIP("no 2M huge page support in this kernel");
	REQUIRE_EQ(fscanf(f, "%ld", &nfree), 1);
	fclose(f);
	rc = iam_pool_create(&cfg, &p, err, sizeof(err));
	if (nfree < 2) {
		/* Clear refusal naming the cause and the remedy. */
		printf("# %s\n", err);
		CHECK_EQ(rc, -ENOMEM);
		CHECK(strstr(err, "huge pages"));
		CHECK(strstr(err, "nr_hugepages"));
		CHECK(p == NULL);
	} else {
		CHECK_EQ(rc, 0);
		REQUIRE(p);
		CHECK_EQ((uintptr_t)iam_pool_base(p) & (4 * MiB - 1), 0);
		CHECK_EQ(iam_pool_total_blocks(p), 2);
		iam_pool_destroy(p);
	}
}

/* ---- allocator paths ------------------------------------------------ */

TEST(reserve_confirm_release)
{
	struct iam_pool *p = mkpool(4 * MiB, 12);
	struct iam_pool_alloc_info info;
	struct iam_pool_run runs[4];
	struct iam_pool_stats st;
	uint64_t id;

	REQUIRE_EQ(iam_pool_reserve(p, 10, 7, IAM_RIGHTS_RW, 1000, 500, &id),
		   0);
	CHECK(id != 0);
	REQUIRE_EQ(iam_pool_get(p, id, &info, runs, 4), 0);
	CHECK_EQ(info.id, id);
	CHECK_EQ(info.owner, 7);
	CHECK_EQ(info.rights, IAM_RIGHTS_RW);
	CHECK_EQ(info.state, IAM_POOL_RESERVED);
	CHECK_EQ(info.expiry_ms, 1500);
	CHECK_EQ(info.nblocks, 10);
	CHECK_EQ(info.nruns, 1);
	CHECK_EQ(runs[0].first, 0);
	CHECK_EQ(runs[0].count, 10);
	iam_pool_stats(p, &st);
	CHECK_EQ(st.total, 1024);
	CHECK_EQ(st.free, 1014);
	CHECK_EQ(st.reserved, 10);
	CHECK_EQ(st.reservations, 1);
	CHECK_EQ(iam_pool_next_expiry(p), 1500);
	audit(p);

	REQUIRE_EQ(iam_pool_confirm(p, id, 7, 1200), 0);
	REQUIRE_EQ(iam_pool_get(p, id, &info, NULL, 0), 0);
	CHECK_EQ(info.state, IAM_POOL_ALLOCATED);
	CHECK_EQ(info.expiry_ms, 0);
	CHECK_EQ(iam_pool_next_expiry(p), UINT64_MAX);
	iam_pool_stats(p, &st);
	CHECK_EQ(st.allocated, 10);
	CHECK_EQ(st.reserved, 0);
	CHECK_EQ(st.allocations, 1);
	/* A confirmed allocation never expires. */
	CHECK_EQ(iam_pool_expire(p, UINT64_MAX, NULL, NULL), 0);
	audit(p);

	REQUIRE_EQ(iam_pool_release(p, id, 7), 0);
	iam_pool_stats(p, &st);
	CHECK_EQ(st.free, 1024);
	CHECK_EQ(st.allocated, 0);
	CHECK_EQ(st.largest_free, 1024);
	CHECK_EQ(iam_pool_get(p, id, &info, NULL, 0), -ENOENT);
	audit(p);

	CHECK_EQ(iam_pool_reserve(p, 0, 7, IAM_RIGHTS_RW, 0, 1, &id), -EINVAL);
	CHECK_EQ(iam_pool_reserve(p, 1, 7, 3, 0, 1, &id), -EINVAL);
	CHECK_EQ(iam_pool_reserve(p, 1, 7, 0, 0, 1, &id), -EINVAL);
	CHECK_EQ(iam_pool_reserve(p, 1, 7, IAM_RIGHTS_RO, 0, 0, &id), -EINVAL);
	iam_pool_destroy(p);
}

/* Number of prefixes the runs of an allocation need. */
static size_t prefixes_of(struct iam_pool *p, uint64_t id)
{
	struct iam_addr_space s = { .block_shift = 12 };
	struct iam_pool_alloc_info info;
	struct iam_pool_run runs[64];
	size_t total = 0;

	REQUIRE_EQ(iam_pool_get(p, id, &info, runs, 64), 0);
	REQUIRE(info.nruns <= 64);
	for (uint32_t i = 0; i < info.nruns; i++) {
		size_t n;

		iam_addr_aggregate_run(
			&s, iam_pool_first_block_addr(p) + runs[i].first,
			runs[i].count, NULL, 0, &n);
		total += n;
	}
	return total;
}

static void one_run(struct iam_pool *p, uint64_t id, uint64_t first,
		    uint64_t count)
{
	struct iam_pool_alloc_info info;
	struct iam_pool_run run;

	REQUIRE_EQ(iam_pool_get(p, id, &info, &run, 1), 0);
	CHECK_EQ(info.nruns, 1);
	CHECK_EQ(run.first, first);
	CHECK_EQ(run.count, count);
}

/* One aligned run when there is room: popcount(k) prefixes, the least. */
TEST(contiguity_preference)
{
	struct iam_pool *p = mkpool(4 * MiB, 12);
	uint64_t a, b, c, d;

	REQUIRE_EQ(iam_pool_reserve(p, 3, 1, IAM_RIGHTS_RO, 0, 1000, &a), 0);
	one_run(p, a, 0, 3);
	CHECK_EQ(prefixes_of(p, a), 2);
	REQUIRE_EQ(iam_pool_reserve(p, 16, 1, IAM_RIGHTS_RO, 0, 1000, &b), 0);
	one_run(p, b, 16, 16);
	CHECK_EQ(prefixes_of(p, b), 1);
	/* Best fit: the single block left over by the first reservation. */
	REQUIRE_EQ(iam_pool_reserve(p, 1, 1, IAM_RIGHTS_RO, 0, 1000, &c), 0);
	one_run(p, c, 3, 1);
	/* 100 blocks from the smallest chunk that holds them, [128, 256). */
	REQUIRE_EQ(iam_pool_reserve(p, 100, 1, IAM_RIGHTS_RO, 0, 1000, &d), 0);
	one_run(p, d, 128, 100);
	CHECK_EQ(prefixes_of(p, d), 3);
	audit(p);
	iam_pool_destroy(p);
}

/* A fragmented pool still serves k blocks, largest pieces first, and
 * merges back to one chunk when everything is returned. */
TEST(fragmented_fallback_and_merge)
{
	struct iam_pool *p = mkpool(256 * KiB, 12); /* 64 blocks */
	struct iam_pool_alloc_info info;
	struct iam_pool_run runs[8];
	struct iam_pool_stats st;
	uint64_t ids[64], id, big;

	for (int i = 0; i < 64; i++) {
		REQUIRE_EQ(iam_pool_reserve(p, 1, 1, IAM_RIGHTS_RO, 0, 1000,
					    &ids[i]),
			   0);
		one_run(p, ids[i], (uint64_t)i, 1);
	}
	/* Free 0, 2, 4, ..., 30 and 32..47 (a chunk of 16). */
	for (int i = 0; i < 32; i += 2)
		REQUIRE_EQ(iam_pool_release(p, ids[i], 1), 0);
	for (int i = 32; i < 48; i++)
		REQUIRE_EQ(iam_pool_release(p, ids[i], 1), 0);
	audit(p);
	iam_pool_stats(p, &st);
	CHECK_EQ(st.free, 32);
	CHECK_EQ(st.largest_free, 16);
	/* 19 blocks: the chunk of 16, then 3 singles. */
	REQUIRE_EQ(iam_pool_reserve(p, 19, 2, IAM_RIGHTS_RO, 0, 1000, &big), 0);
	REQUIRE_EQ(iam_pool_get(p, big, &info, runs, 8), 0);
	CHECK_EQ(info.nblocks, 19);
	CHECK_EQ(info.nruns, 4);
	CHECK_EQ(runs[3].first, 32);
	CHECK_EQ(runs[3].count, 16);
	audit(p);
	REQUIRE_EQ(iam_pool_release(p, big, 2), 0);
	for (int i = 1; i < 32; i += 2)
		REQUIRE_EQ(iam_pool_release(p, ids[i], 1), 0);
	for (int i = 48; i < 64; i++)
		REQUIRE_EQ(iam_pool_release(p, ids[i], 1), 0);
	audit(p);
	iam_pool_stats(p, &st);
	CHECK_EQ(st.free, 64);
	CHECK_EQ(st.largest_free, 64);
	REQUIRE_EQ(iam_pool_reserve(p, 64, 3, IAM_RIGHTS_RO, 0, 1000, &id), 0);
	one_run(p, id, 0, 64);
	iam_pool_destroy(p);
}

TEST(exhaustion_reserves_nothing)
{
	struct iam_pool *p = mkpool(4 * MiB, 12);
	struct iam_pool_stats before, after;
	uint64_t id, id2;

	iam_pool_stats(p, &before);
	CHECK_EQ(iam_pool_reserve(p, 1025, 1, IAM_RIGHTS_RW, 0, 10, &id),
		 -ENOSPC);
	iam_pool_stats(p, &after);
	stats_eq(&before, &after);
	REQUIRE_EQ(iam_pool_reserve(p, 1000, 1, IAM_RIGHTS_RW, 0, 10, &id), 0);
	iam_pool_stats(p, &before);
	CHECK_EQ(iam_pool_reserve(p, 25, 2, IAM_RIGHTS_RW, 0, 10, &id2),
		 -ENOSPC);
	iam_pool_stats(p, &after);
	stats_eq(&before, &after);
	audit(p);
	REQUIRE_EQ(iam_pool_reserve(p, 24, 2, IAM_RIGHTS_RW, 0, 10, &id2), 0);
	CHECK_EQ(iam_pool_free_blocks(p), 0);
	CHECK_EQ(iam_pool_reserve(p, 1, 3, IAM_RIGHTS_RW, 0, 10, &id2),
		 -ENOSPC);
	audit(p);
	iam_pool_destroy(p);
}

struct expired {
	int n;
	uint64_t ids[8];
	uint64_t blocks;
};

static void on_expired(uint64_t id, uint32_t owner, uint64_t nblocks, void *arg)
{
	struct expired *e = arg;

	if (e->n < 8)
		e->ids[e->n] = id;
	e->n++;
	e->blocks += nblocks;
}

TEST(ttl_expiry)
{
	struct iam_pool *p = mkpool(4 * MiB, 12);
	struct expired e = { 0 };
	uint64_t a, b, c, d;

	REQUIRE_EQ(iam_pool_reserve(p, 5, 1, IAM_RIGHTS_RO, 1000, 300, &a), 0);
	REQUIRE_EQ(iam_pool_reserve(p, 6, 2, IAM_RIGHTS_RO, 1000, 100, &b), 0);
	REQUIRE_EQ(iam_pool_reserve(p, 7, 3, IAM_RIGHTS_RO, 1000, 200, &c), 0);
	REQUIRE_EQ(iam_pool_reserve(p, 8, 4, IAM_RIGHTS_RO, 1000, 150, &d), 0);
	REQUIRE_EQ(iam_pool_confirm(p, d, 4, 1100), 0);
	CHECK_EQ(iam_pool_next_expiry(p), 1100);
	CHECK_EQ(iam_pool_expire(p, 1099, on_expired, &e), 0);
	CHECK_EQ(e.n, 0);
	CHECK_EQ(iam_pool_expire(p, 1100, on_expired, &e), 1);
	CHECK_EQ(e.ids[0], b);
	CHECK_EQ(e.blocks, 6);
	CHECK_EQ(iam_pool_next_expiry(p), 1200);
	CHECK_EQ(iam_pool_confirm(p, b, 2, 1100), -ENOENT);
	/* Two at once, earliest first. */
	CHECK_EQ(iam_pool_expire(p, 5000, on_expired, &e), 2);
	CHECK_EQ(e.ids[1], c);
	CHECK_EQ(e.ids[2], a);
	CHECK_EQ(iam_pool_next_expiry(p), UINT64_MAX);
	CHECK_EQ(iam_pool_free_blocks(p), 1024 - 8);
	audit(p);

	/* Confirming at or after the deadline reclaims it there and then. */
	REQUIRE_EQ(iam_pool_reserve(p, 9, 5, IAM_RIGHTS_RO, 2000, 50, &a), 0);
	CHECK_EQ(iam_pool_confirm(p, a, 6, 2050), -EPERM);
	CHECK_EQ(iam_pool_free_blocks(p), 1024 - 8 - 9);
	CHECK_EQ(iam_pool_confirm(p, a, 5, 2050), -ETIMEDOUT);
	CHECK_EQ(iam_pool_free_blocks(p), 1024 - 8);
	CHECK_EQ(iam_pool_confirm(p, a, 5, 2050), -ENOENT);
	CHECK_EQ(iam_pool_next_expiry(p), UINT64_MAX);
	/* A TTL past the end of time saturates. */
	REQUIRE_EQ(iam_pool_reserve(p, 1, 5, IAM_RIGHTS_RO, UINT64_MAX - 5, 50,
				    &a),
		   0);
	CHECK_EQ(iam_pool_next_expiry(p), UINT64_MAX);
	audit(p);
	iam_pool_destroy(p);
}

TEST(double_release_changes_nothing)
{
	struct iam_pool *p = mkpool(4 * MiB, 12);
	struct iam_pool_stats before, after;
	uint64_t a, b;

	REQUIRE_EQ(iam_pool_reserve(p, 4, 1, IAM_RIGHTS_RW, 0, 100, &a), 0);
	REQUIRE_EQ(iam_pool_confirm(p, a, 1, 0), 0);
	REQUIRE_EQ(iam_pool_reserve(p, 4, 1, IAM_RIGHTS_RW, 0, 100, &b), 0);
	REQUIRE_EQ(iam_pool_release(p, a, 1), 0);
	iam_pool_stats(p, &before);
	CHECK_EQ(iam_pool_release(p, a, 1), -ENOENT);
	CHECK_EQ(iam_pool_release(p, 0, 1), -ENOENT);
	CHECK_EQ(iam_pool_release(p, a + (1ull << 32), 1), -ENOENT);
	CHECK_EQ(iam_pool_release(p, 0xffffffffull, 1), -ENOENT);
	iam_pool_stats(p, &after);
	stats_eq(&before, &after);
	/* The other allocation is untouched and still releasable. */
	CHECK_EQ(iam_pool_release(p, b, 1), 0);
	CHECK_EQ(iam_pool_release(p, b, 1), -ENOENT);
	audit(p);
	iam_pool_destroy(p);
}

TEST(non_owner_changes_nothing)
{
	struct iam_pool *p = mkpool(4 * MiB, 12);
	struct iam_pool_stats before, after;
	struct iam_pool_alloc_info info;
	uint64_t a, tok;

	REQUIRE_EQ(iam_pool_reserve(p, 4, 1, IAM_RIGHTS_RW, 0, 100, &a), 0);
	iam_pool_stats(p, &before);
	CHECK_EQ(iam_pool_confirm(p, a, 2, 0), -EPERM);
	CHECK_EQ(iam_pool_release(p, a, 2), -EPERM);
	iam_pool_stats(p, &after);
	stats_eq(&before, &after);
	REQUIRE_EQ(iam_pool_confirm(p, a, 1, 0), 0);
	CHECK_EQ(iam_pool_confirm(p, a, 1, 0), -EALREADY);
	iam_pool_stats(p, &before);
	CHECK_EQ(iam_pool_release(p, a, 2), -EPERM);
	iam_pool_stats(p, &after);
	stats_eq(&before, &after);
	REQUIRE_EQ(iam_pool_get(p, a, &info, NULL, 0), 0);
	CHECK_EQ(info.state, IAM_POOL_ALLOCATED);
	CHECK_EQ(iam_pool_access(p, 0, 1, IAM_RIGHTS_RW, &tok), 0);
	audit(p);
	CHECK_EQ(iam_pool_release(p, a, 1), 0);
	iam_pool_destroy(p);
}

static bool all_zero(const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

TEST(released_blocks_are_zeroed)
{
	struct iam_pool *p = mkpool(1 * MiB, 16); /* 16 blocks */
	char *base = iam_pool_base(p);
	uint64_t a, b;

	CHECK(all_zero(base, MiB));
	REQUIRE_EQ(iam_pool_reserve(p, 16, 1, IAM_RIGHTS_RW, 0, 100, &a), 0);
	REQUIRE_EQ(iam_pool_confirm(p, a, 1, 0), 0);
	memset(base, 0xab, MiB);
	REQUIRE_EQ(iam_pool_release(p, a, 1), 0);
	CHECK(all_zero(base, MiB));
	/* Partial: only the released allocation's blocks are zeroed. */
	REQUIRE_EQ(iam_pool_reserve(p, 8, 1, IAM_RIGHTS_RW, 0, 100, &a), 0);
	REQUIRE_EQ(iam_pool_confirm(p, a, 1, 0), 0);
	REQUIRE_EQ(iam_pool_reserve(p, 8, 2, IAM_RIGHTS_RW, 0, 100, &b), 0);
	REQUIRE_EQ(iam_pool_confirm(p, b, 2, 0), 0);
	memset(base, 0xcd, MiB);
	REQUIRE_EQ(iam_pool_release(p, a, 1), 0);
	CHECK(all_zero(base, MiB / 2));
	CHECK_EQ((unsigned char)base[MiB / 2], 0xcd);
	CHECK_EQ((unsigned char)base[MiB - 1], 0xcd);
	iam_pool_destroy(p);
}

struct walk {
	int n;
	uint64_t blocks;
};

/* Stops the walk after the second allocation. */
static int walk_cb(const struct iam_pool_alloc_info *i,
		   const struct iam_pool_run *r, void *arg)
{
	struct walk *w = arg;

	w->n++;
	for (uint32_t k = 0; k < i->nruns; k++)
		w->blocks += r[k].count;
	return w->n == 2 ? 42 : 0;
}

TEST(lookup_foreach_release_owner)
{
	struct iam_pool *p = mkpool(4 * MiB, 12);
	struct iam_pool_alloc_info info;
	uint64_t a, b, c;
	unsigned n;

	REQUIRE_EQ(iam_pool_reserve(p, 4, 10, IAM_RIGHTS_RO, 0, 100, &a), 0);
	REQUIRE_EQ(iam_pool_reserve(p, 4, 11, IAM_RIGHTS_RW, 0, 100, &b), 0);
	REQUIRE_EQ(iam_pool_confirm(p, b, 11, 0), 0);
	REQUIRE_EQ(iam_pool_reserve(p, 8, 10, IAM_RIGHTS_RW, 0, 100, &c), 0);
	REQUIRE_EQ(iam_pool_confirm(p, c, 10, 0), 0);

	REQUIRE_EQ(iam_pool_block_lookup(p, 5, &info), 0);
	CHECK_EQ(info.id, b);
	CHECK_EQ(info.owner, 11);
	CHECK_EQ(info.rights, IAM_RIGHTS_RW);
	CHECK_EQ(info.state, IAM_POOL_ALLOCATED);
	REQUIRE_EQ(iam_pool_block_lookup(p, 2, &info), 0);
	CHECK_EQ(info.id, a);
	CHECK_EQ(info.state, IAM_POOL_RESERVED);
	CHECK_EQ(iam_pool_block_lookup(p, 500, &info), -ENOENT);
	CHECK_EQ(iam_pool_block_lookup(p, 1024, &info), -ERANGE);

	{
		struct walk w = { 0 };

		CHECK_EQ(iam_pool_foreach(p, walk_cb, &w), 42);
		CHECK_EQ(w.n, 2);
		CHECK_EQ(w.blocks, 8);
	}

	REQUIRE_EQ(iam_pool_release_owner(p, 10, &n), 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(iam_pool_get(p, a, &info, NULL, 0), -ENOENT);
	CHECK_EQ(iam_pool_get(p, c, &info, NULL, 0), -ENOENT);
	CHECK_EQ(iam_pool_get(p, b, &info, NULL, 0), 0);
	CHECK_EQ(iam_pool_free_blocks(p), 1020);
	REQUIRE_EQ(iam_pool_release_owner(p, 99, &n), 0);
	CHECK_EQ(n, 0);
	audit(p);
	iam_pool_destroy(p);
}

/* ---- data path ------------------------------------------------------ */

TEST(access_checks)
{
	struct iam_pool *p = mkpool(4 * MiB, 12);
	uint64_t a, b, tok, tok2;

	REQUIRE_EQ(iam_pool_reserve(p, 2, 1, IAM_RIGHTS_RO, 0, 100, &a), 0);
	/* Reserved is not allocated. */
	CHECK_EQ(iam_pool_access(p, 0, 1, IAM_RIGHTS_RO, &tok), -ENOENT);
	CHECK_EQ(iam_pool_pin(p, 0, 1, IAM_RIGHTS_RO), -ENOENT);
	REQUIRE_EQ(iam_pool_confirm(p, a, 1, 0), 0);
	CHECK_EQ(iam_pool_access(p, 0, 1, IAM_RIGHTS_RO, &tok), 0);
	CHECK(iam_pool_access_valid(p, 0, tok));
	CHECK_EQ(iam_pool_access(p, 1, 1, IAM_RIGHTS_RO, &tok2), 0);
	CHECK_EQ(iam_pool_access(p, 0, 1, IAM_RIGHTS_RW, &tok), -EPERM);
	CHECK_EQ(iam_pool_access(p, 0, 2, IAM_RIGHTS_RO, &tok), -EPERM);
	CHECK_EQ(iam_pool_access(p, 2, 1, IAM_RIGHTS_RO, &tok), -ENOENT);
	CHECK_EQ(iam_pool_access(p, 1024, 1, IAM_RIGHTS_RO, &tok), -ERANGE);
	CHECK_EQ(iam_pool_access(p, 0, 1, 0, &tok), -EINVAL);
	/* Pins do not disturb readers' tokens. */
	REQUIRE_EQ(iam_pool_access(p, 0, 1, IAM_RIGHTS_RO, &tok), 0);
	REQUIRE_EQ(iam_pool_pin(p, 0, 1, IAM_RIGHTS_RO), 0);
	CHECK(iam_pool_access_valid(p, 0, tok));
	iam_pool_unpin(p, 0);
	CHECK(iam_pool_access_valid(p, 0, tok));

	/* Released and handed to the same owner again: old tokens fail. */
	REQUIRE_EQ(iam_pool_release(p, a, 1), 0);
	CHECK(!iam_pool_access_valid(p, 0, tok));
	CHECK_EQ(iam_pool_access(p, 0, 1, IAM_RIGHTS_RO, &tok2), -ENOENT);
	REQUIRE_EQ(iam_pool_reserve(p, 2, 1, IAM_RIGHTS_RO, 0, 100, &b), 0);
	REQUIRE_EQ(iam_pool_confirm(p, b, 1, 0), 0);
	REQUIRE_EQ(iam_pool_access(p, 0, 1, IAM_RIGHTS_RO, &tok2), 0);
	CHECK(tok2 != tok);
	CHECK(!iam_pool_access_valid(p, 0, tok));
	CHECK(iam_pool_access_valid(p, 0, tok2));

	/* RW covers RO. */
	REQUIRE_EQ(iam_pool_reserve(p, 1, 3, IAM_RIGHTS_RW, 0, 100, &a), 0);
	REQUIRE_EQ(iam_pool_confirm(p, a, 3, 0), 0);
	CHECK_EQ(iam_pool_access(p, 2, 3, IAM_RIGHTS_RO, &tok), 0);
	CHECK_EQ(iam_pool_access(p, 2, 3, IAM_RIGHTS_RW, &tok), 0);
	/* At most 255 pins. */
	for (int i = 0; i < 255; i++)
		REQUIRE_EQ(iam_pool_pin(p, 2, 3, IAM_RIGHTS_RW), 0);
	CHECK_EQ(iam_pool_pin(p, 2, 3, IAM_RIGHTS_RW), -EBUSY);
	for (int i = 0; i < 255; i++)
		iam_pool_unpin(p, 2);
	CHECK_EQ(iam_pool_release(p, a, 3), 0);
	audit(p);
	iam_pool_destroy(p);
}

struct releaser {
	struct iam_pool *p;
	uint64_t id;
	atomic_int done;
};

static void *release_thread(void *arg)
{
	struct releaser *r = arg;

	CHECK_EQ(iam_pool_release(r->p, r->id, 1), 0);
	atomic_store(&r->done, 1);
	return NULL;
}

/* A pinned block is not zeroed under its writer; it is once unpinned. */
TEST(pin_holds_release)
{
	struct iam_pool *p = mkpool(1 * MiB, 16);
	struct releaser r = { .p = p };
	struct iam_pool_stats st;
	char *blk = iam_pool_block_ptr(p, 0);
	pthread_t t;

	REQUIRE_EQ(iam_pool_reserve(p, 1, 1, IAM_RIGHTS_RW, 0, 100, &r.id), 0);
	REQUIRE_EQ(iam_pool_confirm(p, r.id, 1, 0), 0);
	REQUIRE_EQ(iam_pool_pin(p, 0, 1, IAM_RIGHTS_RW), 0);
	REQUIRE_EQ(pthread_create(&t, NULL, release_thread, &r), 0);
	/* Wait (no timing) until the release has started. */
	do {
		iam_pool_stats(p, &st);
		sched_yield();
	} while (!st.releasing);
	/* New pins and accesses are refused from that moment... */
	CHECK_EQ(iam_pool_pin(p, 0, 1, IAM_RIGHTS_RW), -ENOENT);
	/* ...but the writer holding a pin finishes its write. */
	memset(blk, 0x5a, 65536);
	CHECK(!atomic_load(&r.done));
	CHECK_EQ((unsigned char)blk[65535], 0x5a);
	iam_pool_unpin(p, 0);
	pthread_join(t, NULL);
	CHECK(atomic_load(&r.done));
	CHECK(all_zero(blk, 65536));
	CHECK_EQ(iam_pool_free_blocks(p), 16);
	audit(p);
	iam_pool_destroy(p);
}

/*
 * Several control threads reserve, confirm, write their own blocks (owner
 * byte, under a pin) and release, while reader threads check-copy-recheck
 * random blocks.  A copy that re-checks valid may only hold 0 (not yet
 * written) or the owner's byte: never another owner's bytes.
 */
#define NWORKERS 4
#define NREADERS 2
#define CBLOCKS 256

struct conc {
	struct iam_pool *p;
	atomic_int stop;
	atomic_long good_reads, torn;
	atomic_int bad;
};

struct worker {
	struct conc *c;
	uint32_t owner;
	unsigned seed;
};

static void *worker_thread(void *arg)
{
	struct worker *w = arg;
	struct iam_pool *p = w->c->p;

	/* At least 3000 rounds, and on until the readers have checked
	 * 2000 copies (bounded, in case they starve). */
	for (int it = 0; it < 3000 ||
			 (atomic_load(&w->c->good_reads) < 2000 && it < 300000);
	     it++) {
		uint64_t n = 1 + (uint64_t)rand_r(&w->seed) % 24, id;
		struct iam_pool_run runs[32];
		struct iam_pool_alloc_info info;
		int err = iam_pool_reserve(p, n, w->owner, IAM_RIGHTS_RW, 0,
					   1000000, &id);

		if (err == -ENOSPC)
			continue;
		if (err) {
			atomic_store(&w->c->bad, 1);
			break;
		}
		if (rand_r(&w->seed) % 4 == 0) {
			/* Change of mind: release the reservation. */
			if (iam_pool_release(p, id, w->owner))
				atomic_store(&w->c->bad, 2);
			continue;
		}
		if (iam_pool_confirm(p, id, w->owner, 1) ||
		    iam_pool_get(p, id, &info, runs, 32) || info.nruns > 32) {
			atomic_store(&w->c->bad, 3);
			break;
		}
		for (uint32_t r = 0; r < info.nruns; r++)
			for (uint64_t b = runs[r].first;
			     b < runs[r].first + runs[r].count; b++) {
				if (iam_pool_pin(p, b, w->owner,
						 IAM_RIGHTS_RW)) {
					atomic_store(&w->c->bad, 4);
					continue;
				}
				memset(iam_pool_block_ptr(p, b), (int)w->owner,
				       4096);
				iam_pool_unpin(p, b);
			}
		if (iam_pool_release(p, id, w->owner))
			atomic_store(&w->c->bad, 5);
	}
	return NULL;
}

static void *reader_thread(void *arg)
{
	struct conc *c = arg;
	unsigned seed = 99;
	unsigned char copy[4096];

	while (!atomic_load(&c->stop)) {
		uint64_t b = (uint64_t)rand_r(&seed) % CBLOCKS, tok;

		for (uint32_t o = 1; o <= NWORKERS; o++) {
			if (iam_pool_access(c->p, b, o, IAM_RIGHTS_RO, &tok))
				continue;
			/* A slow copy, so blocks do change hands mid-way. */
			memcpy(copy, iam_pool_block_ptr(c->p, b), 2048);
			sched_yield();
			memcpy(copy + 2048,
			       (char *)iam_pool_block_ptr(c->p, b) + 2048,
			       2048);
			if (!iam_pool_access_valid(c->p, b, tok)) {
				atomic_fetch_add(&c->torn, 1);
				continue;
			}
			for (size_t i = 0; i < sizeof(copy); i++) {
				if (copy[i] != 0 && copy[i] != o) {
					atomic_store(&c->bad, 100 + copy[i]);
					break;
				}
			}
			atomic_fetch_add(&c->good_reads, 1);
		}
	}
	return NULL;
}

TEST(concurrent_use)
{
	struct conc c = { .p = mkpool(CBLOCKS * 4096, 12) };
	struct worker w[NWORKERS];
	pthread_t wt[NWORKERS], rt[NREADERS];
	struct iam_pool_stats st;

	for (int i = 0; i < NREADERS; i++)
		REQUIRE_EQ(pthread_create(&rt[i], NULL, reader_thread, &c), 0);
	for (int i = 0; i < NWORKERS; i++) {
		w[i] = (struct worker){ &c, (uint32_t)i + 1, (unsigned)i * 7 };
		REQUIRE_EQ(pthread_create(&wt[i], NULL, worker_thread, &w[i]),
			   0);
	}
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(wt[i], NULL);
	atomic_store(&c.stop, 1);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(rt[i], NULL);
	printf("# %ld checked reads, %ld discarded as changed mid-copy\n",
	       atomic_load(&c.good_reads), atomic_load(&c.torn));
	CHECK_EQ(atomic_load(&c.bad), 0);
	audit(c.p);
	iam_pool_stats(c.p, &st);
	CHECK_EQ(st.free, CBLOCKS);
	CHECK_EQ(st.largest_free, CBLOCKS);
	CHECK(all_zero(iam_pool_base(c.p), CBLOCKS * 4096));
	iam_pool_destroy(c.p);
}

/* ---- accounting ----------------------------------------------------- */

struct model_alloc {
	uint64_t id;
	uint64_t n;
	uint64_t expiry;
	uint32_t owner;
	bool confirmed;
};

/* Random operations against a model; counters, records and blocks agree
 * after every step. */
TEST(random_sequences_keep_accounts)
{
	struct iam_pool *p = mkpool(2 * MiB, 12); /* 512 blocks */
	static struct model_alloc m[4096];
	int nm = 0;
	uint64_t now = 1000, used = 0;
	unsigned seed = 2024;

	for (int step = 0; step < 20000; step++) {
		int op = rand_r(&seed) % 10;
		struct iam_pool_stats st;

		if (op < 4) {
			uint64_t n = 1 + (uint64_t)rand_r(&seed) %
						 (rand_r(&seed) % 8 ? 16 : 200);
			uint32_t owner = (uint32_t)rand_r(&seed) % 5;
			uint64_t ttl = 1 + (uint64_t)rand_r(&seed) % 500, id;
			int err = iam_pool_reserve(p, n, owner, IAM_RIGHTS_RO,
						   now, ttl, &id);

			if (used + n > 512) {
				CHECK_EQ(err, -ENOSPC);
			} else {
				REQUIRE_EQ(err, 0);
				m[nm++] = (struct model_alloc){ id, n,
								now + ttl,
								owner, false };
				used += n;
			}
		} else if (op < 6 && nm) {
			int i = rand_r(&seed) % nm;
			bool wrong = rand_r(&seed) % 4 == 0;
			int err = iam_pool_confirm(p, m[i].id,
						   m[i].owner + wrong, now);

			if (wrong)
				CHECK_EQ(err, -EPERM);
			else if (m[i].confirmed)
				CHECK_EQ(err, -EALREADY);
			else if (now >= m[i].expiry)
				CHECK_EQ(err, -ETIMEDOUT);
			else
				CHECK_EQ(err, 0);
			if (!wrong && !m[i].confirmed && now >= m[i].expiry) {
				used -= m[i].n;
				m[i] = m[--nm];
			} else if (!wrong) {
				m[i].confirmed = true;
			}
		} else if (op < 8 && nm) {
			int i = rand_r(&seed) % nm;
			bool wrong = rand_r(&seed) % 4 == 0;
			int err = iam_pool_release(p, m[i].id,
						   m[i].owner + wrong);

			CHECK_EQ(err, wrong ? -EPERM : 0);
			if (!wrong) {
				uint64_t id = m[i].id;

				used -= m[i].n;
				m[i] = m[--nm];
				CHECK_EQ(iam_pool_release(p, id, 0), -ENOENT);
			}
		} else {
			unsigned expected = 0;

			now += (uint64_t)rand_r(&seed) % 100;
			for (int i = 0; i < nm;) {
				if (!m[i].confirmed && m[i].expiry <= now) {
					expected++;
					used -= m[i].n;
					m[i] = m[--nm];
				} else {
					i++;
				}
			}
			CHECK_EQ(iam_pool_expire(p, now, NULL, NULL), expected);
		}
		iam_pool_stats(p, &st);
		CHECK_EQ(st.free + st.reserved + st.allocated + st.releasing,
			 512);
		CHECK_EQ(st.free, 512 - used);
		CHECK_EQ(st.reservations + st.allocations, (uint64_t)nm);
		if (step % 200 == 0)
			audit(p);
	}
	audit(p);
	iam_pool_destroy(p);
}

/* Metadata stays under 0.5 % of the pool, even one allocation per
 * block with 64K blocks. */
TEST(metadata_budget)
{
	struct iam_pool *p = mkpool(64 * MiB, 16); /* 1024 blocks */
	struct iam_pool_stats st;
	uint64_t id;

	iam_pool_stats(p, &st);
	printf("# empty: %.2f bytes per block (%.4f %% of 64K)\n",
	       (double)st.meta_bytes / 1024,
	       100.0 * st.meta_bytes / (64 * MiB));
	CHECK(st.meta_bytes * 200 < 64 * MiB);
	for (int i = 0; i < 1024; i++)
		REQUIRE_EQ(iam_pool_reserve(p, 1, (uint32_t)i, IAM_RIGHTS_RO, 0,
					    100, &id),
			   0);
	iam_pool_stats(p, &st);
	printf("# one allocation per block: %.2f bytes per block "
	       "(%.4f %%)\n",
	       (double)st.meta_bytes / 1024,
	       100.0 * st.meta_bytes / (64 * MiB));
	CHECK(st.meta_bytes * 200 < 64 * MiB);
	/* The fixed part for 1 TiB of 64K blocks: 16 M blocks. */
	printf("# 1T pool of 64K blocks: %llu MiB fixed metadata (%.3f %%)\n",
	       (unsigned long long)((1ull << 24) * IAM_POOL_META_PER_BLOCK >>
				    20),
	       100.0 * IAM_POOL_META_PER_BLOCK / 65536);
	iam_pool_destroy(p);
}
