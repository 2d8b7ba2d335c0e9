// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * bench_bgp - UPDATE encode and decode rates of the codec, for the UPDATE
 * the agent sends most (its pool: one /96, three large communities, a
 * 32-octet next hop) and for a full one (as many /128s as fit in 4096
 * octets).  Beside each, the raw limit measured in the same run: memcpy
 * of the same bytes.  Decoding includes building the shared path (the
 * allocation the speaker does per UPDATE).  Numbers only, no verdict.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/packets.h"
#include "bgp/rib.h"
#include "loop.h"

static volatile uint64_t sink;

static double per_sec(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0;
}

static void bench(const char *what, const struct iam_bgp_out_attrs *a,
		  const struct iam_bgp_prefix *p, unsigned np, unsigned iters)
{
	static uint8_t m[IAM_BGP_MAX_MSG], copy[IAM_BGP_MAX_MSG];
	static struct iam_bgp_update u;
	struct iam_bgp_sess s = { .as4 = true, .peer_as = a->local_as };
	uint64_t t0, enc_ns, dec_ns, cpy_ns;
	int len = 0;

	t0 = iam_now_ns();
	for (unsigned i = 0; i < iters; i++) {
		len = iam_bgp_write_announce(m, sizeof(m), a, p, np);
		sink += (uint64_t)len + m[len - 1];
	}
	enc_ns = iam_now_ns() - t0;
	if (len <= 0) {
		fprintf(stderr, "bench_bgp: encode failed: %d\n", len);
		exit(1);
	}
	t0 = iam_now_ns();
	for (unsigned i = 0; i < iters; i++) {
		struct iam_bgp_path *path;

		iam_bgp_update_decode(m + IAM_BGP_HDR_LEN,
				      (size_t)len - IAM_BGP_HDR_LEN, &s, &u);
		path = iam_bgp_path_new(&u.a, false, 1);
		sink += u.a.reach.len + path->nlcomm;
		iam_bgp_path_put(path);
	}
	dec_ns = iam_now_ns() - t0;
	if (u.action != IAM_BGP_ACT_NONE) {
		fprintf(stderr, "bench_bgp: decode: %s\n", u.reason);
		exit(1);
	}
	t0 = iam_now_ns();
	for (unsigned i = 0; i < iters; i++) {
		memcpy(copy, m, (size_t)len);
		__asm__ volatile("" : : "r"(copy) : "memory");
		sink += copy[i % (unsigned)len];
	}
	cpy_ns = iam_now_ns() - t0;
	printf("%-28s %4d octets %3u prefixes\n", what, len, np);
	printf("  encode  %10.0f UPDATE/s  %7.1f ns each  %8.0f prefixes/s\n",
	       per_sec(iters, enc_ns), (double)enc_ns / iters,
	       per_sec((uint64_t)iters * np, enc_ns));
	printf("  decode  %10.0f UPDATE/s  %7.1f ns each  %8.0f prefixes/s\n",
	       per_sec(iters, dec_ns), (double)dec_ns / iters,
	       per_sec((uint64_t)iters * np, dec_ns));
	printf("  memcpy  %10.0f copies/s  %7.1f ns each  (raw limit)\n",
	       per_sec(iters, cpy_ns), (double)cpy_ns / iters);
}

int main(void)
{
	struct iam_bgp_lcomm lc[3] = { { 4200000001u, 1, 16384 },
				       { 4200000001u, 2, 12000 },
				       { 4200000001u, 3, 16 } };
	struct iam_bgp_out_attrs a = {
		.local_as = 4200000001u,
		.as4 = true,
		.has_nh_ll = true,
		.lcomm = lc,
		.nlcomm = 3,
	};
	static struct iam_bgp_prefix many[200];
	struct iam_bgp_prefix pool;
	unsigned n = 0;

	inet_pton(AF_INET6, "2001:db8::1", &a.nh);
	inet_pton(AF_INET6, "fe80::1", &a.nh_ll);
	inet_pton(AF_INET6, "2001:db8:8000:c0a8:a010::", &pool.addr);
	pool.len = 96;
	bench("pool UPDATE (1 prefix)", &a, &pool, 1, 2000000);
	for (n = 0; n < 200; n++) {
		uint8_t m[IAM_BGP_MAX_MSG];

		many[n] = pool;
		many[n].len = 128;
		many[n].addr.s6_addr[14] = (uint8_t)(n >> 8);
		many[n].addr.s6_addr[15] = (uint8_t)n;
		if (iam_bgp_write_announce(m, sizeof(m), &a, many, n + 1) < 0)
			break;
	}
	bench("full UPDATE (/128s)", &a, many, n, 200000);
	return sink == 42 ? 1 : 0;
}
