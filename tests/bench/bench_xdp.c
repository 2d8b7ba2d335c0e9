// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * bench_xdp - nanoseconds per packet of the XDP classifier for each class
 * (goal: at most 40), measured with BPF_PROG_TEST_RUN's repeat loop, beside
 * the raw limit measured in the same run: an XDP program that only returns
 * XDP_PASS, i.e. what the test loop itself costs per packet.
 *
 * The maps hold what a busy agent would: its pool, 1024 allocation
 * prefixes lent to 64 borrowers, 64 other agents' pools and 1024 of their
 * allocations.  Runs in a private mount namespace with its own bpffs, so
 * nothing is pinned on the host.  Needs root.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "log.h"
#include "maps.h"
#include "xdp_pkt.h"

#define REPEAT (1u << 17)
#define TRIALS 25

#define SELF "2001:db8:8000:c0a8:a010::1"
#define BORROWER "2001:db8:9000:c0a8:b020::1"
#define STRANGER "2001:db8:dead::7"

static struct in6_addr in6(const char *s)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, s, &a) != 1)
		abort();
	return a;
}

/* Block address b of host 'host' in net 2001:db8:8000 (FIG. 2). */
static struct in6_addr block_addr(uint32_t host, uint64_t b)
{
	struct in6_addr a = in6("2001:db8:8000::");

	for (int i = 0; i < 4; i++)
		a.s6_addr[6 + i] = (uint8_t)(host >> (24 - 8 * i));
	for (int i = 0; i < 6; i++)
		a.s6_addr[10 + i] = (uint8_t)(b >> (40 - 8 * i));
	return a;
}

static int fill_maps(struct iam_maps *m)
{
	struct in6_addr a = block_addr(0xc0a8a010, 0x10000), b;
	int err;

	/* The pool: 1 GiB of 64 KiB blocks at 4 GiB; 1024 allocations of
	 * 16 blocks, to 64 borrowers (the first is BORROWER). */
	err = iam_maps_prefix_set(m, &a, 114, IAM_KIND_LOCAL_POOL, 0);
	for (uint32_t i = 0; !err && i < 1024; i++) {
		a = block_addr(0xc0a8a010, 0x10000 + 16 * i);
		b = in6(BORROWER);
		b.s6_addr[5] = (uint8_t)(i % 64);
		err = iam_maps_access_set(m, &a, 124, &b, IAM_RIGHTS_RW);
	}
	/* 64 other agents, 16 allocations of each learned by BGP. */
	for (uint32_t h = 1; !err && h <= 64; h++) {
		a = block_addr(0x0a000000 + h, 0x10000);
		err = iam_maps_prefix_set(m, &a, 114, IAM_KIND_REMOTE_POOL, 0);
		for (uint32_t i = 0; !err && i < 16; i++) {
			a = block_addr(0x0a000000 + h, 0x20000 + 256 * i);
			err = iam_maps_prefix_set(m, &a, 120,
						  IAM_KIND_ALLOCATION, 0);
		}
	}
	return err;
}

/* Average ns per packet of one BPF_PROG_TEST_RUN of REPEAT packets; -1
 * on failure. */
static double run_once(int prog_fd, const uint8_t *pkt, size_t len,
		       uint32_t *verdict)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
		    .data_size_in = (uint32_t)len, .repeat = REPEAT);

	if (bpf_prog_test_run_opts(prog_fd, &o)) {
		fprintf(stderr, "bench_xdp: test_run: %s\n", strerror(errno));
		return -1;
	}
	*verdict = o.retval;
	return o.duration;
}

/* The best of TRIALS runs of the classifier and, interleaved with them so
 * that both see the same machine, of the empty program on the same frame.
 * The host is shared: the minimum is the figure least disturbed by it. */
static int measure(int prog_fd, int empty_fd, const uint8_t *pkt, size_t len,
		   double *ns, double *raw, uint32_t *verdict)
{
	*ns = *raw = -1;
	for (int t = 0; t < TRIALS; t++) {
		uint32_t v;
		double r = run_once(empty_fd, pkt, len, &v);
		double x = run_once(prog_fd, pkt, len, verdict);

		if (r < 0 || x < 0)
			return -1;
		if (*raw < 0 || r < *raw)
			*raw = r;
		if (*ns < 0 || x < *ns)
			*ns = x;
	}
	return 0;
}

static int empty_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K,
		  .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "iam_xdp_empty", "GPL", insns,
			     2, NULL);
}

int main(void)
{
	static const struct {
		const char *name;
		struct xp_spec s;
	} cases[] = {
		{ "ipv4 (non_ipv6)", { .ethertype = 0x0800 } },
		{ "ipv6, not IAM (not_iam)",
		  { .src = STRANGER,
		    .dst = "2001:db8:ffff::1",
		    .proto = 6,
		    .sport = 1,
		    .dport = 22 } },
		{ "bgp to agent (bgp)",
		  { .src = BORROWER,
		    .dst = SELF,
		    .proto = 6,
		    .sport = 40000,
		    .dport = 179 } },
		{ "control to agent (ctrl)",
		  { .src = BORROWER,
		    .dst = SELF,
		    .proto = 6,
		    .sport = 40000,
		    .dport = 7410 } },
		{ "data from borrower (data)",
		  { .src = BORROWER,
		    .dst = "2001:db8:8000:c0a8:a010:0:1:5",
		    .proto = 6,
		    .sport = 40000,
		    .dport = 7411 } },
		{ "rdma read from borrower (rdma)",
		  { .src = BORROWER,
		    .dst = SELF,
		    .proto = 17,
		    .sport = 49152,
		    .dport = 4791,
		    .roce = 1,
		    .opcode = 0x0C,
		    .va = 0x100050000,
		    .dma_len = 4096 } },
		{ "roce ack (roce)",
		  { .src = BORROWER,
		    .dst = SELF,
		    .proto = 17,
		    .sport = 49152,
		    .dport = 4791,
		    .roce = 1,
		    .opcode = 0x11 } },
		{ "echo to agent (icmp)",
		  { .src = STRANGER,
		    .dst = SELF,
		    .proto = 58,
		    .icmp_type = 128 } },
		{ "to a remote pool (remote)",
		  { .src = STRANGER,
		    .dst = "2001:db8:8000:a00:1:0:1:7",
		    .proto = 6,
		    .sport = 1,
		    .dport = 7411 } },
		{ "data from a stranger (drop not_borrower)",
		  { .src = STRANGER,
		    .dst = "2001:db8:8000:c0a8:a010:0:1:5",
		    .proto = 6,
		    .sport = 40000,
		    .dport = 7411 } },
		{ "ssh to agent (drop port)",
		  { .src = STRANGER,
		    .dst = SELF,
		    .proto = 6,
		    .sport = 40000,
		    .dport = 22 } },
		{ "control after 2 extension headers (ctrl)",
		  { .src = BORROWER,
		    .dst = SELF,
		    .proto = 6,
		    .sport = 40000,
		    .dport = 7410,
		    .ext = { 0, 60 },
		    .next = 2 } },
	};
	struct iam_maps_config cfg = {
		.instance = "bench",
		.net = { 0x20, 0x01, 0x0d, 0xb8, 0x80, 0x00 },
		.host = 0xc0a8a010,
		.block_shift = 16,
		.m2i_slots = 1024,
		.pool_blocks = 16384,
	};
	struct iam_maps *m;
	uint8_t pkt[XP_FRAME_MAX];
	uint32_t verdict;
	int empty, err;

	if (geteuid() != 0) {
		printf("bench_xdp: skipped: needs root (BPF)\n");
		return 0;
	}
	iam_log_set_level(IAM_LOG_WARN);
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		fprintf(stderr, "bench_xdp: private bpffs: %s\n",
			strerror(errno));
		return 1;
	}
	cfg.self = in6(SELF);
	err = iam_maps_open(&cfg, &m);
	if (err)
		return 1;
	if (fill_maps(m)) {
		iam_maps_close(m);
		return 1;
	}
	empty = empty_prog();
	if (empty < 0) {
		fprintf(stderr, "bench_xdp: empty program: %s\n",
			strerror(errno));
		iam_maps_close(m);
		return 1;
	}

	printf("XDP classifier under BPF_PROG_TEST_RUN: best of %d runs of "
	       "%u packets; goal <= 40 ns/packet.\n"
	       "raw limit: an XDP program that only returns XDP_PASS, run "
	       "on the same frame, interleaved.\n",
	       TRIALS, REPEAT);
	printf("%-44s %7s %9s %9s\n", "case (class)", "ns/pkt", "raw limit",
	       "over raw");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = xp_build(&cases[i].s, pkt);
		double ns, raw;

		if (measure(iam_maps_prog_fd(m), empty, pkt, len, &ns, &raw,
			    &verdict)) {
			err = 1;
			break;
		}
		printf("%-44s %7.0f %9.0f %9.0f  %s\n", cases[i].name, ns, raw,
		       ns - raw, verdict == XDP_PASS ? "PASS" : "DROP");
	}
	close(empty);
	iam_maps_close(m);
	return err ? 1 : 0;
}
