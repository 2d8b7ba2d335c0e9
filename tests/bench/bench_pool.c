// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * bench_pool: the Memory Manager on a 1 GiB pool of 64 KiB blocks.
 *
 * - reserve + confirm + release of 1, 16 and 1024 blocks: the release of a
 *   confirmed allocation zeroes its blocks, so beside it is the raw limit,
 *   memset bandwidth over the same memory measured in this run;
 * - reserve + release (never confirmed, so no zeroing): the allocator's
 *   own cost;
 * - the lock-free data-path check (access + re-check) per block;
 * - metadata bytes per block.
 *
 * Prints figures only; asserts nothing about time.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "pool.h"

#define POOL_SIZE (1ull << 30)
#define SHIFT 16
#define RUN_NS 400000000ull /* per figure */

static volatile uint64_t sink;

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* reserve [+ confirm] + release of k blocks, as often as fits RUN_NS. */
static int cycle(struct iam_pool *p, uint64_t k, bool confirm, double *ops_s,
		 double *us_op)
{
	uint64_t t0 = iam_now_ns(), t, n = 0, id;
	int err;

	do {
		err = iam_pool_reserve(p, k, 1, IAM_RIGHTS_RW, 0, 1000, &id);
		if (!err && confirm)
			err = iam_pool_confirm(p, id, 1, 1);
		if (!err)
			err = iam_pool_release(p, id, 1);
		if (err)
			return err;
		n++;
		t = iam_now_ns();
	} while (t - t0 < RUN_NS || n < 5);
	*ops_s = (double)n / secs(t - t0);
	*us_op = secs(t - t0) * 1e6 / (double)n;
	return 0;
}

/* memset of bytes at p, repeated for RUN_NS: GB/s. */
static double memset_bw(char *p, uint64_t bytes)
{
	uint64_t t0 = iam_now_ns(), t, n = 0;

	do {
		memset(p, 0, bytes);
		sink += (unsigned char)p[bytes - 1];
		n++;
		t = iam_now_ns();
	} while (t - t0 < RUN_NS || n < 5);
	return (double)(n * bytes) / secs(t - t0) / 1e9;
}

int main(void)
{
	struct iam_pool_cfg cfg = { .size = POOL_SIZE, .block_shift = SHIFT };
	static const uint64_t ks[] = { 1, 16, 1024 };
	struct iam_pool_stats st;
	struct iam_pool *p;
	char err[512];
	uint64_t t0, id, tok, n;
	int rc;

	t0 = iam_now_ns();
	rc = iam_pool_create(&cfg, &p, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "bench_pool: %s\n", err);
		return 1;
	}
	printf("pool: 1G of 64K blocks (%" PRIu64 " blocks) at %p, mapped "
	       "and locked in %.0f ms\n",
	       iam_pool_total_blocks(p), iam_pool_base(p),
	       secs(iam_now_ns() - t0) * 1e3);

	printf("\n%-6s  %-28s  %-28s  %s\n", "blocks",
	       "reserve+confirm+release", "reserve+release (no zeroing)",
	       "raw limit: memset of the same bytes");
	for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		uint64_t bytes = ks[i] << SHIFT;
		double ops, us, ops2, us2, bw, zero_us;
		char *buf = iam_pool_block_ptr(p, 0);

		if (cycle(p, ks[i], true, &ops, &us) ||
		    cycle(p, ks[i], false, &ops2, &us2)) {
			fprintf(stderr, "bench_pool: allocator failed\n");
			return 1;
		}
		bw = memset_bw(buf, bytes);
		zero_us = (double)bytes / (bw * 1e9) * 1e6;
		printf("%-6" PRIu64 "  %9.0f/s %8.2f us/op     "
		       "%9.0f/s %8.2f us/op     %6.2f GB/s = %8.2f us per "
		       "%" PRIu64 "K\n",
		       ks[i], ops, us, ops2, us2, bw, zero_us, bytes >> 10);
		printf("        = %.2f GB/s of blocks cycled\n",
		       ops * (double)bytes / 1e9);
	}

	/* The data path: one check and one re-check per block access. */
	rc = iam_pool_reserve(p, 1, 7, IAM_RIGHTS_RO, 0, 1000, &id);
	if (!rc)
		rc = iam_pool_confirm(p, id, 7, 1);
	if (rc) {
		fprintf(stderr, "bench_pool: reserve failed: %d\n", rc);
		return 1;
	}
	n = 0;
	t0 = iam_now_ns();
	for (uint64_t t = t0; t - t0 < RUN_NS; t = iam_now_ns()) {
		for (int k = 0; k < 1000; k++) {
			if (iam_pool_access(p, 0, 7, IAM_RIGHTS_RO, &tok) ||
			    !iam_pool_access_valid(p, 0, tok))
				return 1;
		}
		n += 1000;
	}
	printf("\ndata path: access + re-check %.1f ns per block (lock-free)\n",
	       secs(iam_now_ns() - t0) * 1e9 / (double)n);
	iam_pool_release(p, id, 7);

	iam_pool_stats(p, &st);
	printf("\nmetadata: %u bytes per block fixed; this pool %" PRIu64
	       " bytes = %.2f per block (%.4f %% of the pool)\n",
	       IAM_POOL_META_PER_BLOCK, st.meta_bytes,
	       (double)st.meta_bytes / (double)st.total,
	       100.0 * (double)st.meta_bytes / POOL_SIZE);
	printf("          1T of 64K blocks = 16M blocks: %llu MiB fixed "
	       "(%.3f %%); 4K blocks: %.3f %%\n",
	       (unsigned long long)((1ull << 24) * IAM_POOL_META_PER_BLOCK >>
				    20),
	       100.0 * IAM_POOL_META_PER_BLOCK / 65536,
	       100.0 * IAM_POOL_META_PER_BLOCK / 4096);
	printf("          plus per allocation: a record and its runs "
	       "(about 76 bytes for one run)\n");
	iam_pool_destroy(p);
	return (int)(sink & 0);
}
