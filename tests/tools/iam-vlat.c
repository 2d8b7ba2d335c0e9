// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * iam-vlat - how long a V_i change at one agent takes to be seen at
 * another (tests/bench/bgp_bird_latency.sh).
 *
 *   iam-vlat --at A --seen-at B [--size SIZE] [-n N] [--gap MS]
 *
 * N times, alternately, a libiam client of agent A allocates SIZE (from
 * A's own pool: A's V_i drops) and frees it (V_i is back); after each,
 * agent B's `status` (V = sum of V_i as B knows it) is polled over its
 * UNIX socket until it shows the new value.  The UNIX sockets live in
 * the file system, so one process reaches agents in any network
 * namespace.  Changes are MS apart (150, more than the 100 ms between
 * two announcements that the default --pool-update-rate of 10 allows), so
 * each change is announced at once and measured alone.
 *
 * Prints two lines (ms, CLOCK_MONOTONIC):
 *   seen N changes: min X median X p90 X max X
 *   call N changes: min X median X p90 X max X
 * "seen" runs from the start of the iam_alloc()/iam_free() call at A to
 * B's answer with the new V; "call" is the call alone (A's V_i has
 * changed by the time it returns).  B is asked every 50 us, each time a
 * round trip through its event loop, so "seen" is late by up to about
 * 0.1 ms.  Exit 0, 1 on a failure, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iam.h"
#include "iam_ipc.h"
#include "lib/ipc.h"
#include "parse.h"

#define VLAT_MAX 10000
#define VLAT_TIMEOUT_NS 5000000000ull
#define VLAT_POLL_NS 50000l

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int status_of(int fd, struct iam_ipc_status *st)
{
	return iam_ipc_call(fd, IAM_IPC_STATUS, NULL, 0, NULL, 0, st,
			    sizeof(*st), NULL, 0);
}

/* Poll B until its V is want; the time it was seen, or 0. */
static uint64_t wait_v(int fd, uint64_t want, uint64_t t0)
{
	struct timespec gap = { 0, VLAT_POLL_NS };
	struct iam_ipc_status st;

	for (;;) {
		uint64_t t;

		if (status_of(fd, &st))
			return 0;
		t = now_ns();
		if (st.available_blocks == want)
			return t;
		if (t - t0 > VLAT_TIMEOUT_NS) {
			fprintf(stderr,
				"iam-vlat: V at the other agent stayed %llu, "
				"waited for %llu\n",
				(unsigned long long)st.available_blocks,
				(unsigned long long)want);
			return 0;
		}
		nanosleep(&gap, NULL);
	}
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

static void summary(const char *what, uint64_t *d, unsigned n)
{
	qsort(d, n, sizeof(*d), cmp_u64);
	printf("%s %u changes: min %.2f median %.2f p90 %.2f max %.2f ms\n",
	       what, n, d[0] / 1e6, d[(n - 1) / 2] / 1e6,
	       d[(n - 1) * 9 / 10] / 1e6, d[n - 1] / 1e6);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "at", required_argument, NULL, 'a' },
		{ "seen-at", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "gap", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	const char *at = NULL, *seen_at = NULL;
	uint64_t size = 1 << 20, *seen, *call, v0, k;
	struct iam_ipc_status sa, sb;
	unsigned n = 20, gap_ms = 150;
	struct timespec gap;
	void *mem = NULL;
	int c, fa, fb, rc = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "n:", lo, NULL)) != -1) {
		switch (c) {
		case 'a':
			at = optarg;
			break;
		case 'b':
			seen_at = optarg;
			break;
		case 's':
			if (iam_parse_size(optarg, &size) || !size)
				return 2;
			break;
		case 'g':
			gap_ms = (unsigned)atoi(optarg);
			break;
		case 'n':
			n = (unsigned)atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!at || !seen_at || !n || n > VLAT_MAX || iam_set_instance(at)) {
		fprintf(stderr, "usage: iam-vlat --at A --seen-at B "
				"[--size SIZE] [-n N (1..10000)] [--gap MS]\n");
		return 2;
	}
	gap.tv_sec = gap_ms / 1000;
	gap.tv_nsec = (long)(gap_ms % 1000) * 1000000l;
	fa = iam_ipc_connect(at);
	fb = iam_ipc_connect(seen_at);
	if (fa < 0 || fb < 0 || status_of(fa, &sa) || status_of(fb, &sb)) {
		fprintf(stderr, "iam-vlat: cannot reach agents %s and %s\n", at,
			seen_at);
		return 1;
	}
	k = (size + (1ull << sa.block_shift) - 1) >> sa.block_shift;
	if (k > sa.own_available) {
		fprintf(stderr,
			"iam-vlat: %s has %llu blocks free, %llu needed\n", at,
			(unsigned long long)sa.own_available,
			(unsigned long long)k);
		return 1;
	}
	v0 = sb.available_blocks;
	seen = calloc(n, sizeof(*seen));
	call = calloc(n, sizeof(*call));
	if (!seen || !call)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = now_ns(), t1, t2;

		if (!mem) {
			mem = iam_alloc(size);
			if (!mem) {
				fprintf(stderr, "iam-vlat: iam_alloc: %s\n",
					iam_strerror_last());
				goto out;
			}
		} else {
			if (iam_free(mem)) {
				fprintf(stderr, "iam-vlat: iam_free: %s\n",
					strerror(errno));
				goto out;
			}
			mem = NULL;
		}
		t1 = now_ns();
		/* The blocks must have come from A's own pool, or A's V_i
		 * is not what changed. */
		if (status_of(fa, &sa) ||
		    sa.own_available + (mem ? k : 0) != sa.own_total) {
			fprintf(stderr,
				"iam-vlat: %s's own pool did not "
				"change by %llu blocks\n",
				at, (unsigned long long)k);
			goto out;
		}
		t2 = wait_v(fb, mem ? v0 - k : v0, t0);
		if (!t2)
			goto out;
		seen[i] = t2 - t0;
		call[i] = t1 - t0;
		nanosleep(&gap, NULL);
	}
	summary("seen", seen, n);
	summary("call", call, n);
	rc = 0;
out:
	if (mem)
		iam_free(mem);
	free(seen);
	free(call);
	close(fa);
	close(fb);
	return rc;
}
