// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * test_xdp - the XDP classifier under BPF_PROG_TEST_RUN on crafted frames
 * (as the kernel's prog_tests/xdp_*.c do; no NIC needed), and the loader
 * of user/maps.c.
 *
 * Each test runs in a forked child with its own mount namespace and a
 * fresh bpffs on /sys/fs/bpf, so pins never leak onto the host even when
 * a test dies half-way; tests that attach also take a private network
 * namespace.
 *
 * The table covers every class and every drop reason; each case checks
 * the verdict, that the frame comes back unmodified, and that exactly the
 * expected counter moved by one packet and the frame's length in bytes.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "iam_test.h"
#include "maps.h"
#include "xdp_pkt.h"

#define INST "test"

/* FIG. 2 example network and host; 64 KiB blocks; the pool is 1 GiB at
 * virtual address 4 GiB: blocks 0x10000-0x13fff, prefix ...:0:1:0/114. */
#define NET 0x20, 0x01, 0x0d, 0xb8, 0x80, 0x00
#define HOST 0xc0a8a010
#define SELF "2001:db8:8000:c0a8:a010::1"
#define POOL "2001:db8:8000:c0a8:a010:0:1:0"
/* A local pool prefix and a second agent address entered behind the
 * loader's back (it keeps one pool and one address in iam_local). */
#define POOL_HANDMADE "2001:db8:8000:c0a8:a010:0:2:0"
#define SELF_HANDMADE "2001:db8:8000:c0a8:a010::2"
/* Allocations lent by this host: 16 blocks each (/124). */
#define ALLOC_RW "2001:db8:8000:c0a8:a010:0:1:0" /* 0x10000.., B, RW */
#define ALLOC_RO "2001:db8:8000:c0a8:a010:0:1:10" /* 0x10010.., B, RO */
#define ALLOC_OTHER "2001:db8:8000:c0a8:a010:0:1:20" /* 0x10020.., C, RW */
#define BORROWER "2001:db8:9000:c0a8:b020::1" /* B */
#define OTHER "2001:db8:a000:c0a8:c030::1" /* C */
#define STRANGER "2001:db8:dead::7"
#define BLK_RW "2001:db8:8000:c0a8:a010:0:1:5"
#define BLK_RO "2001:db8:8000:c0a8:a010:0:1:15"
#define BLK_OTHER "2001:db8:8000:c0a8:a010:0:1:25"
#define BLK_FREE "2001:db8:8000:c0a8:a010:0:1:100"
#define BLK_HANDMADE "2001:db8:8000:c0a8:a010:0:2:100"
/* Another agent's pool and an allocation of it, learned by BGP. */
#define REMOTE_POOL "2001:db8:9000:c0a8:b020:0:1:0"
#define REMOTE_ALLOC "2001:db8:9000:c0a8:b020:0:2:0"
#define REMOTE_BLK "2001:db8:9000:c0a8:b020:0:1:7"
#define NOT_IAM "2001:db8:ffff::1"
#define BAD_KIND "2001:db8:bad::1"

#define VA(block, off) (((uint64_t)(block) << 16) + (off))

#define C(x) IAM_CLASS_##x
#define D(x) (IAM_CLASS_MAX + IAM_DROP_##x)

#define TCP(s_, d_, sp, dp) \
	.src = s_, .dst = d_, .proto = 6, .sport = sp, .dport = dp
#define UDP(s_, d_, sp, dp) \
	.src = s_, .dst = d_, .proto = 17, .sport = sp, .dport = dp
#define ROCE(s_, op, va_, len_)                                             \
	.src = s_, .dst = SELF, .proto = 17, .sport = 49152, .dport = 4791, \
	.roce = 1, .opcode = op, .va = va_, .dma_len = len_
#define ICMP(s_, d_, type) .src = s_, .dst = d_, .proto = 58, .icmp_type = type

static struct in6_addr in6(const char *s)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, s, &a) != 1)
		abort();
	return a;
}

static void need_root(void)
{
	if (geteuid() != 0)
		SKIP("needs root (BPF, mount namespaces)");
}

/* A private mount namespace with a fresh bpffs on /sys/fs/bpf. */
static void private_bpffs(void)
{
	need_root();
	REQUIRE(unshare(CLONE_NEWNS) == 0);
	REQUIRE(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	REQUIRE(mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") == 0);
}

static struct iam_maps_config base_config(void)
{
	struct iam_maps_config c = {
		.instance = INST,
		.net = { NET },
		.host = HOST,
		.block_shift = 16,
		.m2i_slots = 1024,
		.pool_blocks = 16384,
	};

	c.self = in6(SELF);
	return c;
}

/* Write an iam_prefixes entry directly, as the loader would refuse to. */
static void raw_prefix(const char *a, int plen, int kind, int policy)
{
	struct iam_lpm_key k = { .prefixlen = (uint32_t)plen };
	struct iam_prefix_info v = { .kind = (uint8_t)kind,
				     .policy = (uint8_t)policy };
	struct in6_addr x = in6(a);
	int fd = iam_maps_pinned_fd(INST, IAM_MAP_PREFIXES);

	REQUIRE(fd >= 0);
	memcpy(k.addr, &x, 16);
	REQUIRE(bpf_map_update_elem(fd, &k, &v, BPF_ANY) == 0);
	close(fd);
}

static void set_prefix(struct iam_maps *m, const char *a, int plen, int kind,
		       int policy)
{
	struct in6_addr x = in6(a);

	REQUIRE(iam_maps_prefix_set(m, &x, (uint8_t)plen, (uint8_t)kind,
				    (uint8_t)policy) == 0);
}

static void set_access(struct iam_maps *m, const char *a, int plen,
		       const char *borrower, int rights)
{
	struct in6_addr x = in6(a), b = in6(borrower);

	REQUIRE(iam_maps_access_set(m, &x, (uint8_t)plen, &b,
				    (uint8_t)rights) == 0);
}

/* The loaded classifier with the maps of the addresses above. */
static struct iam_maps *setup(void)
{
	struct iam_maps_config c = base_config();
	struct iam_maps *m;

	private_bpffs();
	REQUIRE(iam_maps_open(&c, &m) == 0);
	set_prefix(m, POOL, 114, IAM_KIND_LOCAL_POOL, 0);
	set_prefix(m, REMOTE_POOL, 114, IAM_KIND_REMOTE_POOL, 0);
	set_prefix(m, REMOTE_ALLOC, 120, IAM_KIND_ALLOCATION, 0);
	set_access(m, ALLOC_RW, 124, BORROWER, IAM_RIGHTS_RW);
	set_access(m, ALLOC_RO, 124, BORROWER, IAM_RIGHTS_RO);
	set_access(m, ALLOC_OTHER, 124, OTHER, IAM_RIGHTS_RW);
	raw_prefix(BAD_KIND, 48, 9, 0);
	raw_prefix(POOL_HANDMADE, 114, IAM_KIND_LOCAL_POOL, 0);
	raw_prefix(SELF_HANDMADE, 128, IAM_KIND_LOCAL_CTRL, 0);
	return m;
}

static const char *counter_name(unsigned int i)
{
	static char buf[64];

	if (i < IAM_CLASS_MAX)
		return iam_maps_classes[i].name;
	snprintf(buf, sizeof(buf), "drop %s",
		 iam_maps_drops[i - IAM_CLASS_MAX].name);
	return buf;
}

/* Run one frame through the program; check verdict, that the frame is
 * unmodified, and that only 'counter' moved (by one packet, len bytes). */
static void check_run(struct iam_maps *m, const char *name, const uint8_t *pkt,
		      size_t len, unsigned int verdict, unsigned int counter)
{
	uint8_t out[XP_FRAME_MAX + 256];
	struct iam_xdp_stats before, after;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
		    .data_size_in = (uint32_t)len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	int err;

	REQUIRE(iam_maps_stats(m, &before) == 0);
	err = bpf_prog_test_run_opts(iam_maps_prog_fd(m), &o);
	if (!CHECK_MSG(!err, "%s (len %zu): test_run: %s", name, len,
		       strerror(-err)))
		return;
	CHECK_MSG(o.retval == verdict, "%s (len %zu): verdict %s, want %s",
		  name, len, o.retval == XDP_PASS ? "PASS" : "DROP",
		  verdict == XDP_PASS ? "PASS" : "DROP");
	CHECK_MSG(o.data_size_out == len && !memcmp(out, pkt, len),
		  "%s (len %zu): frame modified", name, len);
	REQUIRE(iam_maps_stats(m, &after) == 0);
	for (unsigned int i = 0; i < IAM_STATS_NCOUNTERS; i++) {
		const struct iam_counter *a = iam_maps_counter(&after, i);
		const struct iam_counter *b = iam_maps_counter(&before, i);
		uint64_t dp = a->packets - b->packets;
		uint64_t db = a->bytes - b->bytes;

		if (i == counter)
			CHECK_MSG(dp == 1 && db == len,
				  "%s (len %zu): %s moved by %" PRIu64
				  " packets, %" PRIu64 " bytes",
				  name, len, counter_name(i), dp, db);
		else
			CHECK_MSG(dp == 0 && db == 0,
				  "%s (len %zu): %s moved (want %s)", name, len,
				  counter_name(i), counter_name(counter));
	}
}

struct tcase {
	const char *name;
	struct xp_spec s;
	unsigned int verdict;
	unsigned int counter;
};

static void run_table(const struct tcase *t, size_t n)
{
	struct iam_maps *m = setup();
	uint8_t pkt[XP_FRAME_MAX];

	for (size_t i = 0; i < n; i++) {
		size_t len = xp_build(&t[i].s, pkt);

		check_run(m, t[i].name, pkt, len, t[i].verdict, t[i].counter);
	}
	iam_maps_close(m);
}

#define RUN_TABLE(t) run_table(t, sizeof(t) / sizeof(t[0]))

/* ---- pass classes ------------------------------------------------------- */

static const struct tcase pass_cases[] = {
	{ "ipv4", { .ethertype = 0x0800 }, XDP_PASS, C(NON_IPV6) },
	{ "arp", { .ethertype = 0x0806 }, XDP_PASS, C(NON_IPV6) },
	{ "ipv4 in vlan",
	  { .vlan = 0x8100, .ethertype = 0x0800 },
	  XDP_PASS,
	  C(NON_IPV6) },
	{ "ipv6 ethertype, version 4",
	  { .version = 4, TCP(STRANGER, SELF, 1, 22) },
	  XDP_PASS,
	  C(NON_IPV6) },
	{ "two vlan tags (not walked)",
	  { .vlan = 0x88a8, .vlan2 = 0x8100, TCP(STRANGER, SELF, 1, 22) },
	  XDP_PASS,
	  C(NON_IPV6) },
	{ "ipv6 not iam",
	  { TCP(STRANGER, NOT_IAM, 1, 22) },
	  XDP_PASS,
	  C(NOT_IAM) },
	{ "ipv6 not iam, fragment",
	  { TCP(STRANGER, NOT_IAM, 1, 22), .ext = { 44 }, .next = 1,
	    .frag_off = 100 << 3 },
	  XDP_PASS,
	  C(NOT_IAM) },
	{ "ipv6 not iam, too many extension headers",
	  { TCP(STRANGER, NOT_IAM, 1, 22),
	    .ext = { 60, 60, 60, 60, 60, 60, 60, 60, 60, 60 }, .next = 10 },
	  XDP_PASS,
	  C(NOT_IAM) },
	{ "ipv6 not iam, esp",
	  { .src = STRANGER, .dst = NOT_IAM, .proto = 50 },
	  XDP_PASS,
	  C(NOT_IAM) },
	{ "bgp to agent",
	  { TCP(BORROWER, SELF, 40000, 179) },
	  XDP_PASS,
	  C(BGP) },
	{ "bgp reply to agent",
	  { TCP(BORROWER, SELF, 179, 40000) },
	  XDP_PASS,
	  C(BGP) },
	{ "bgp in 802.1Q",
	  { .vlan = 0x8100, TCP(BORROWER, SELF, 40000, 179) },
	  XDP_PASS,
	  C(BGP) },
	{ "bgp in 802.1ad",
	  { .vlan = 0x88a8, TCP(BORROWER, SELF, 40000, 179) },
	  XDP_PASS,
	  C(BGP) },
	{ "control to agent",
	  { TCP(BORROWER, SELF, 40000, 7410) },
	  XDP_PASS,
	  C(CTRL) },
	{ "control reply to agent",
	  { TCP(BORROWER, SELF, 7410, 40000) },
	  XDP_PASS,
	  C(CTRL) },
	{ "data from borrower, rw",
	  { TCP(BORROWER, BLK_RW, 40000, 7411) },
	  XDP_PASS,
	  C(DATA) },
	{ "data from borrower, ro",
	  { TCP(BORROWER, BLK_RO, 40000, 7411) },
	  XDP_PASS,
	  C(DATA) },
	{ "data from borrower in vlan",
	  { .vlan = 0x8100, TCP(BORROWER, BLK_RW, 40000, 7411) },
	  XDP_PASS,
	  C(DATA) },
	{ "data reply to agent",
	  { TCP(REMOTE_BLK, SELF, 7411, 40000) },
	  XDP_PASS,
	  C(DATA) },
	{ "rdma read, rw",
	  { ROCE(BORROWER, 0x0C, VA(0x10005, 0x100), 4096) },
	  XDP_PASS,
	  C(RDMA) },
	{ "rdma read, ro",
	  { ROCE(BORROWER, 0x0C, VA(0x10015, 0), 65536) },
	  XDP_PASS,
	  C(RDMA) },
	{ "rdma read, zero length",
	  { ROCE(BORROWER, 0x0C, VA(0x10015, 0), 0) },
	  XDP_PASS,
	  C(RDMA) },
	{ "rdma read across rw and ro blocks",
	  { ROCE(BORROWER, 0x0C, VA(0x1000f, 0xff00), 0x200) },
	  XDP_PASS,
	  C(RDMA) },
	{ "rdma write first",
	  { ROCE(BORROWER, 0x06, VA(0x10001, 0), 8192) },
	  XDP_PASS,
	  C(RDMA) },
	{ "rdma write only",
	  { ROCE(BORROWER, 0x0A, VA(0x10001, 0), 1024) },
	  XDP_PASS,
	  C(RDMA) },
	{ "rdma write only with immediate",
	  { ROCE(BORROWER, 0x0B, VA(0x10001, 0), 1024) },
	  XDP_PASS,
	  C(RDMA) },
	{ "rdma compare and swap",
	  { ROCE(BORROWER, 0x13, VA(0x10002, 8), 0) },
	  XDP_PASS,
	  C(RDMA) },
	{ "rdma fetch and add",
	  { ROCE(BORROWER, 0x14, VA(0x10002, 8), 0) },
	  XDP_PASS,
	  C(RDMA) },
	{ "rdma flush",
	  { ROCE(BORROWER, 0x1C, VA(0x10003, 0), 4096) },
	  XDP_PASS,
	  C(RDMA) },
	{ "rdma atomic write",
	  { ROCE(BORROWER, 0x1D, VA(0x10003, 0), 8) },
	  XDP_PASS,
	  C(RDMA) },
	{ "uc rdma write only",
	  { ROCE(BORROWER, 0x2A, VA(0x10001, 0), 1024) },
	  XDP_PASS,
	  C(RDMA) },
	{ "rd rdma read",
	  { ROCE(BORROWER, 0x4C, VA(0x10001, 0), 1024) },
	  XDP_PASS,
	  C(RDMA) },
	{ "xrc rdma read",
	  { ROCE(BORROWER, 0xAC, VA(0x10001, 0), 1024) },
	  XDP_PASS,
	  C(RDMA) },
	{ "roce ack", { ROCE(STRANGER, 0x11, 0, 0) }, XDP_PASS, C(ROCE) },
	{ "roce read response",
	  { ROCE(STRANGER, 0x10, 0, 0) },
	  XDP_PASS,
	  C(ROCE) },
	{ "roce send only", { ROCE(STRANGER, 0x04, 0, 0) }, XDP_PASS, C(ROCE) },
	{ "roce write middle",
	  { ROCE(STRANGER, 0x07, 0, 0) },
	  XDP_PASS,
	  C(ROCE) },
	{ "roce ud send (cm)",
	  { ROCE(STRANGER, 0x64, 0, 0) },
	  XDP_PASS,
	  C(ROCE) },
	{ "roce cnp", { ROCE(STRANGER, 0x81, 0, 0) }, XDP_PASS, C(ROCE) },
	{ "echo request to agent",
	  { ICMP(STRANGER, SELF, 128) },
	  XDP_PASS,
	  C(ICMP) },
	{ "echo reply to agent",
	  { ICMP(STRANGER, SELF, 129) },
	  XDP_PASS,
	  C(ICMP) },
	{ "unreachable to agent",
	  { ICMP(STRANGER, SELF, 1) },
	  XDP_PASS,
	  C(ICMP) },
	{ "packet too big to block",
	  { ICMP(STRANGER, BLK_RW, 2) },
	  XDP_PASS,
	  C(ICMP) },
	{ "neighbor solicitation to block",
	  { ICMP(STRANGER, BLK_FREE, 135) },
	  XDP_PASS,
	  C(ICMP) },
	{ "neighbor advertisement to agent",
	  { ICMP(STRANGER, SELF, 136) },
	  XDP_PASS,
	  C(ICMP) },
	{ "to a remote pool",
	  { TCP(STRANGER, REMOTE_BLK, 1, 22) },
	  XDP_PASS,
	  C(REMOTE) },
	{ "to a remote allocation",
	  { TCP(STRANGER, "2001:db8:9000:c0a8:b020:0:2:5", 1, 7411) },
	  XDP_PASS,
	  C(REMOTE) },
	{ "fragment to a remote pool",
	  { TCP(STRANGER, REMOTE_BLK, 1, 22), .ext = { 44 }, .next = 1,
	    .frag_off = 1 },
	  XDP_PASS,
	  C(REMOTE) },
};

TEST(xdp_pass_classes)
{
	RUN_TABLE(pass_cases);
}

/* ---- extension headers -------------------------------------------------- */

static const struct tcase ext_cases[] = {
	{ "every kind once, then control",
	  { TCP(BORROWER, SELF, 40000, 7410), .ext = { 0, 60, 43, 44, 51, 60 },
	    .next = 6 },
	  XDP_PASS,
	  C(CTRL) },
	{ "eight destination options, then bgp (the bound)",
	  { TCP(BORROWER, SELF, 40000, 179),
	    .ext = { 60, 60, 60, 60, 60, 60, 60, 60 }, .next = 8 },
	  XDP_PASS,
	  C(BGP) },
	{ "nine destination options",
	  { TCP(BORROWER, SELF, 40000, 179),
	    .ext = { 60, 60, 60, 60, 60, 60, 60, 60, 60 }, .next = 9 },
	  XDP_DROP,
	  D(EXT_LIMIT) },
	{ "eight hop-by-hop then a fragment header",
	  { TCP(BORROWER, SELF, 40000, 179),
	    .ext = { 0, 0, 0, 0, 0, 0, 0, 0, 44 }, .next = 9 },
	  XDP_DROP,
	  D(EXT_LIMIT) },
	{ "atomic fragment, then bgp",
	  { TCP(BORROWER, SELF, 40000, 179), .ext = { 44 }, .next = 1 },
	  XDP_PASS,
	  C(BGP) },
	{ "first fragment to agent",
	  { TCP(BORROWER, SELF, 40000, 179), .ext = { 44 }, .next = 1,
	    .frag_off = 1 },
	  XDP_DROP,
	  D(FRAGMENT) },
	{ "later fragment to agent",
	  { TCP(BORROWER, SELF, 40000, 179), .ext = { 44 }, .next = 1,
	    .frag_off = 185 << 3 },
	  XDP_DROP,
	  D(FRAGMENT) },
	{ "last fragment to block from borrower",
	  { TCP(BORROWER, BLK_RW, 40000, 7411), .ext = { 44 }, .next = 1,
	    .frag_off = 185 << 3 },
	  XDP_DROP,
	  D(FRAGMENT) },
	{ "routing header, segments left",
	  { TCP(BORROWER, SELF, 40000, 7410), .ext = { 43 }, .next = 1,
	    .segleft = 1 },
	  XDP_DROP,
	  D(ROUTING) },
	{ "routing header, no segments left",
	  { TCP(BORROWER, SELF, 40000, 7410), .ext = { 43 }, .next = 1 },
	  XDP_PASS,
	  C(CTRL) },
	{ "ah, then data from borrower",
	  { TCP(BORROWER, BLK_RW, 40000, 7411), .ext = { 51 }, .next = 1 },
	  XDP_PASS,
	  C(DATA) },
	{ "hop-by-hop, then rdma read",
	  { ROCE(BORROWER, 0x0C, VA(0x10005, 0), 64), .ext = { 0 }, .next = 1 },
	  XDP_PASS,
	  C(RDMA) },
};

TEST(xdp_extension_headers)
{
	RUN_TABLE(ext_cases);
}

/* ---- drop reasons ------------------------------------------------------- */

static const struct tcase drop_cases[] = {
	{ "sctp to agent",
	  { .src = STRANGER, .dst = SELF, .proto = 132 },
	  XDP_DROP,
	  D(PROTO) },
	{ "esp to agent",
	  { .src = STRANGER, .dst = SELF, .proto = 50 },
	  XDP_DROP,
	  D(PROTO) },
	{ "no next header to block",
	  { .src = BORROWER, .dst = BLK_RW, .proto = 59 },
	  XDP_DROP,
	  D(PROTO) },
	{ "ssh to agent",
	  { TCP(STRANGER, SELF, 40000, 22) },
	  XDP_DROP,
	  D(PORT) },
	{ "dns to agent",
	  { UDP(STRANGER, SELF, 40000, 53) },
	  XDP_DROP,
	  D(PORT) },
	{ "data port to agent",
	  { TCP(BORROWER, SELF, 40000, 7411) },
	  XDP_DROP,
	  D(PORT) },
	{ "bgp to block",
	  { TCP(BORROWER, BLK_RW, 40000, 179) },
	  XDP_DROP,
	  D(PORT) },
	{ "control to block",
	  { TCP(BORROWER, BLK_RW, 40000, 7410) },
	  XDP_DROP,
	  D(PORT) },
	{ "roce to block",
	  { UDP(BORROWER, BLK_RW, 49152, 4791) },
	  XDP_DROP,
	  D(PORT) },
	{ "data reply port to block",
	  { TCP(BORROWER, BLK_RW, 7411, 40000) },
	  XDP_DROP,
	  D(PORT) },
	{ "echo request to block",
	  { ICMP(STRANGER, BLK_RW, 128) },
	  XDP_DROP,
	  D(ICMP) },
	{ "mld query to agent",
	  { ICMP(STRANGER, SELF, 130) },
	  XDP_DROP,
	  D(ICMP) },
	{ "data to an unallocated block",
	  { TCP(BORROWER, BLK_FREE, 40000, 7411) },
	  XDP_DROP,
	  D(NO_ACCESS) },
	{ "rdma read of an unallocated block",
	  { ROCE(BORROWER, 0x0C, VA(0x10100, 0), 4096) },
	  XDP_DROP,
	  D(NO_ACCESS) },
	{ "rdma read outside the pool",
	  { ROCE(BORROWER, 0x0C, 0x7f0000001000, 4096) },
	  XDP_DROP,
	  D(NO_ACCESS) },
	{ "data from a stranger",
	  { TCP(STRANGER, BLK_RW, 40000, 7411) },
	  XDP_DROP,
	  D(NOT_BORROWER) },
	{ "data to another borrower's block",
	  { TCP(BORROWER, BLK_OTHER, 40000, 7411) },
	  XDP_DROP,
	  D(NOT_BORROWER) },
	{ "rdma read from a stranger",
	  { ROCE(STRANGER, 0x0C, VA(0x10005, 0), 4096) },
	  XDP_DROP,
	  D(NOT_BORROWER) },
	{ "rdma read running into another borrower's block",
	  { ROCE(BORROWER, 0x0C, VA(0x1001f, 0xff00), 0x200) },
	  XDP_DROP,
	  D(NOT_BORROWER) },
	{ "rdma write to a read-only block",
	  { ROCE(BORROWER, 0x0A, VA(0x10015, 0), 4096) },
	  XDP_DROP,
	  D(RIGHTS) },
	{ "rdma write first to a read-only block",
	  { ROCE(BORROWER, 0x06, VA(0x10015, 0), 8192) },
	  XDP_DROP,
	  D(RIGHTS) },
	{ "rdma write running into a read-only block",
	  { ROCE(BORROWER, 0x0A, VA(0x1000f, 0xff00), 0x200) },
	  XDP_DROP,
	  D(RIGHTS) },
	{ "compare and swap on a read-only block",
	  { ROCE(BORROWER, 0x13, VA(0x10015, 0), 0) },
	  XDP_DROP,
	  D(RIGHTS) },
	{ "fetch and add on a read-only block",
	  { ROCE(BORROWER, 0x14, VA(0x10015, 0), 0) },
	  XDP_DROP,
	  D(RIGHTS) },
	{ "flush of a read-only block",
	  { ROCE(BORROWER, 0x1C, VA(0x10015, 0), 64) },
	  XDP_DROP,
	  D(RIGHTS) },
	{ "atomic write to a read-only block",
	  { ROCE(BORROWER, 0x1D, VA(0x10015, 0), 8) },
	  XDP_DROP,
	  D(RIGHTS) },
	{ "xrc rdma write to a read-only block",
	  { ROCE(BORROWER, 0xAA, VA(0x10015, 0), 64) },
	  XDP_DROP,
	  D(RIGHTS) },
	{ "rdma read wrapping around",
	  { ROCE(BORROWER, 0x0C, 0xffffffffffffff00ull, 0x1000) },
	  XDP_DROP,
	  D(RDMA_RANGE) },
	{ "prefix of an unknown kind",
	  { TCP(BORROWER, BAD_KIND, 40000, 7410) },
	  XDP_DROP,
	  D(BAD_PREFIX) },
	{ "hand-made pool entry: data has no allocation",
	  { TCP(BORROWER, BLK_HANDMADE, 40000, 7411) },
	  XDP_DROP,
	  D(NO_ACCESS) },
	{ "hand-made pool entry: dns",
	  { UDP(BORROWER, BLK_HANDMADE, 40000, 53) },
	  XDP_DROP,
	  D(PORT) },
	{ "hand-made agent address: ssh",
	  { TCP(BORROWER, SELF_HANDMADE, 40000, 22) },
	  XDP_DROP,
	  D(PORT) },
	{ "hand-made agent address: control",
	  { TCP(BORROWER, SELF_HANDMADE, 40000, 7410) },
	  XDP_PASS,
	  C(CTRL) },
};

TEST(xdp_drop_reasons)
{
	RUN_TABLE(drop_cases);
}

static const struct tcase audit_cases[] = {
	{ "audit: data to an unallocated block passes, counted",
	  { TCP(BORROWER, BLK_FREE, 40000, 7411) },
	  XDP_PASS,
	  D(NO_ACCESS) },
	{ "audit: data from a stranger passes, counted",
	  { TCP(STRANGER, BLK_RW, 40000, 7411) },
	  XDP_PASS,
	  D(NOT_BORROWER) },
	{ "audit: dns to a block passes, counted",
	  { UDP(BORROWER, BLK_RW, 40000, 53) },
	  XDP_PASS,
	  D(PORT) },
	{ "audit: data from the borrower still passes as data",
	  { TCP(BORROWER, BLK_RW, 40000, 7411) },
	  XDP_PASS,
	  C(DATA) },
	{ "audit on the pool only: ssh to the agent dropped",
	  { TCP(STRANGER, SELF, 40000, 22) },
	  XDP_DROP,
	  D(PORT) },
	{ "ping off for the agent",
	  { ICMP(STRANGER, SELF, 128) },
	  XDP_DROP,
	  D(ICMP) },
	{ "ping on for the pool",
	  { ICMP(STRANGER, BLK_RW, 128) },
	  XDP_PASS,
	  C(ICMP) },
};

/* Policies change on a live agent: the pool to audit and ping, the agent
 * address to no ping. */
TEST(xdp_policies)
{
	struct iam_maps *m = setup();
	uint8_t pkt[XP_FRAME_MAX];

	set_prefix(m, POOL, 114, IAM_KIND_LOCAL_POOL,
		   IAM_POLICY_AUDIT | IAM_POLICY_PING);
	set_prefix(m, SELF, 128, IAM_KIND_LOCAL_CTRL, 0);
	for (size_t i = 0; i < sizeof(audit_cases) / sizeof(audit_cases[0]);
	     i++)
		check_run(m, audit_cases[i].name, pkt,
			  xp_build(&audit_cases[i].s, pkt),
			  audit_cases[i].verdict, audit_cases[i].counter);
	iam_maps_close(m);
}

/* The agent address and the pool stop being served when deleted. */
TEST(xdp_local_deleted)
{
	struct iam_maps *m = setup();
	struct in6_addr self = in6(SELF), pool = in6(POOL);
	struct xp_spec ctrl = { TCP(BORROWER, SELF, 40000, 7410) };
	struct xp_spec data = { TCP(BORROWER, BLK_RW, 40000, 7411) };
	struct xp_spec read = { ROCE(BORROWER, 0x0C, VA(0x10005, 0), 64) };
	uint8_t pkt[XP_FRAME_MAX];

	check_run(m, "read before", pkt, xp_build(&read, pkt), XDP_PASS,
		  C(RDMA));
	REQUIRE(iam_maps_prefix_del(m, &pool, 114) == 0);
	check_run(m, "data after pool deleted", pkt, xp_build(&data, pkt),
		  XDP_PASS, C(NOT_IAM));
	check_run(m, "read after pool deleted", pkt, xp_build(&read, pkt),
		  XDP_DROP, D(NO_ACCESS));
	REQUIRE(iam_maps_prefix_del(m, &self, 128) == 0);
	check_run(m, "control after address deleted", pkt, xp_build(&ctrl, pkt),
		  XDP_PASS, C(NOT_IAM));
	/* The pool comes back without its old allocations. */
	set_prefix(m, POOL, 114, IAM_KIND_LOCAL_POOL, 0);
	check_run(m, "data after pool back", pkt, xp_build(&data, pkt),
		  XDP_DROP, D(NO_ACCESS));
	iam_maps_close(m);
}

/* Every class and drop reason appears in the tables above (truncation in
 * xdp_truncation), so a new reason without a test fails here. */
TEST(xdp_tables_cover_every_counter)
{
	bool seen[IAM_STATS_NCOUNTERS] = { false };
	const struct tcase *tabs[] = { pass_cases, ext_cases, drop_cases,
				       audit_cases };
	size_t ns[] = { sizeof(pass_cases) / sizeof(pass_cases[0]),
			sizeof(ext_cases) / sizeof(ext_cases[0]),
			sizeof(drop_cases) / sizeof(drop_cases[0]),
			sizeof(audit_cases) / sizeof(audit_cases[0]) };

	seen[D(TRUNCATED)] = true;
	for (size_t t = 0; t < 4; t++)
		for (size_t i = 0; i < ns[t]; i++)
			seen[tabs[t][i].counter] = true;
	for (unsigned int i = 0; i < IAM_STATS_NCOUNTERS; i++)
		CHECK_MSG(seen[i], "no test case for %s", counter_name(i));
}

/* ---- truncation at every header boundary -------------------------------- */

/* Frames cut at every length from the Ethernet header (BPF_PROG_TEST_RUN
 * refuses less than 14 bytes) to the whole frame.  Before the IPv6
 * destination is complete the frame cannot be told apart from non-IAM
 * traffic and passes for the kernel to drop; from then on, up to the end
 * of the last header the classifier reads, it is dropped as truncated. */
static const struct {
	const char *name;
	struct xp_spec s;
	size_t unread; /* trailing bytes the classifier does not read */
} trunc_cases[] = {
	{ "bgp", { TCP(BORROWER, SELF, 40000, 179) }, 0 },
	{ "data in vlan",
	  { .vlan = 0x8100, TCP(BORROWER, BLK_RW, 1, 7411) },
	  0 },
	{ "rdma read", { ROCE(BORROWER, 0x0C, VA(0x10005, 0), 64) }, 0 },
	{ "rd rdma read", { ROCE(BORROWER, 0x4C, VA(0x10005, 0), 64) }, 0 },
	{ "xrc rdma read", { ROCE(BORROWER, 0xAC, VA(0x10005, 0), 64) }, 0 },
	{ "flush", { ROCE(BORROWER, 0x1C, VA(0x10005, 0), 64) }, 0 },
	{ "atomic", { ROCE(BORROWER, 0x13, VA(0x10005, 0), 0) }, 0 },
	{ "atomic write", { ROCE(BORROWER, 0x1D, VA(0x10005, 0), 8) }, 8 },
	{ "roce ack", { ROCE(STRANGER, 0x11, 0, 0) }, 0 },
	{ "echo", { ICMP(STRANGER, SELF, 128) }, 4 },
	{ "extension headers",
	  { TCP(BORROWER, SELF, 1, 7410), .ext = { 0, 60, 43, 44, 51 },
	    .next = 5 },
	  0 },
};

TEST(xdp_truncation)
{
	struct iam_maps *m = setup();
	uint8_t pkt[XP_FRAME_MAX];

	for (size_t i = 0; i < sizeof(trunc_cases) / sizeof(trunc_cases[0]);
	     i++) {
		const struct xp_spec *s = &trunc_cases[i].s;
		size_t full = xp_build(s, pkt);
		size_t l3end = 14 + (s->vlan ? 4 : 0) + 40;
		struct iam_xdp_stats st;
		unsigned int want_counter = 0;
		uint32_t want_verdict;

		/* What the whole frame gives. */
		{
			uint8_t out[XP_FRAME_MAX + 256];
			struct iam_xdp_stats st0;
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
				    .data_size_in = (uint32_t)full,
				    .data_out = out,
				    .data_size_out = sizeof(out));

			REQUIRE(iam_maps_stats(m, &st0) == 0);
			REQUIRE(bpf_prog_test_run_opts(iam_maps_prog_fd(m),
						       &o) == 0);
			REQUIRE(iam_maps_stats(m, &st) == 0);
			want_verdict = o.retval;
			for (unsigned int k = 0; k < IAM_STATS_NCOUNTERS; k++)
				if (iam_maps_counter(&st, k)->packets !=
				    iam_maps_counter(&st0, k)->packets)
					want_counter = k;
			CHECK_MSG(want_verdict == XDP_PASS &&
					  want_counter < IAM_CLASS_MAX,
				  "%s: whole frame not passed", s->dst);
		}
		for (size_t len = 14; len < full; len++) {
			char name[96];

			snprintf(name, sizeof(name), "%s cut",
				 trunc_cases[i].name);
			if (len < l3end)
				check_run(m, name, pkt, len, XDP_PASS,
					  C(NON_IPV6));
			else if (len < full - trunc_cases[i].unread)
				check_run(m, name, pkt, len, XDP_DROP,
					  D(TRUNCATED));
			else
				check_run(m, name, pkt, len, want_verdict,
					  want_counter);
		}
	}
	iam_maps_close(m);
}

/* ---- knobs -------------------------------------------------------------- */

/* With 4 KiB blocks, a virtual address can name a block address wider
 * than FIG. 2's 48 bits; with other ports, the ports move. */
TEST(xdp_knobs)
{
	struct iam_maps_config c = base_config();
	struct iam_maps *m;
	uint8_t pkt[XP_FRAME_MAX];
	struct xp_spec wide = { ROCE(BORROWER, 0x0C, 0xffff000000000000ull,
				     64) };
	struct xp_spec ctrl = { TCP(BORROWER, SELF, 40000, 9410) };
	struct xp_spec bgp = { TCP(BORROWER, SELF, 1179, 40000) };
	struct xp_spec old_bgp = { TCP(BORROWER, SELF, 40000, 179) };
	struct xp_spec old_ctrl = { TCP(BORROWER, SELF, 40000, 7410) };
	struct xp_spec data = { TCP(BORROWER, "2001:db8:8000:c0a8:a010:0:1:5",
				    40000, 9411) };
	/* Block 0x10005 of 4 KiB blocks is VA 0x10005000. */
	struct xp_spec read4k = { ROCE(BORROWER, 0x0C, 0x10005000, 4096) };

	private_bpffs();
	c.block_shift = 12;
	c.ctrl_port = 9410;
	c.data_port = 9411;
	c.bgp_port = 1179;
	REQUIRE(iam_maps_open(&c, &m) == 0);
	set_prefix(m, POOL, 114, IAM_KIND_LOCAL_POOL, 0);
	set_access(m, ALLOC_RW, 124, BORROWER, IAM_RIGHTS_RW);
	check_run(m, "wide block address", pkt, xp_build(&wide, pkt), XDP_DROP,
		  D(RDMA_RANGE));
	check_run(m, "control on its port", pkt, xp_build(&ctrl, pkt), XDP_PASS,
		  C(CTRL));
	check_run(m, "default control port", pkt, xp_build(&old_ctrl, pkt),
		  XDP_DROP, D(PORT));
	check_run(m, "bgp reply from its port", pkt, xp_build(&bgp, pkt),
		  XDP_PASS, C(BGP));
	check_run(m, "default bgp port", pkt, xp_build(&old_bgp, pkt), XDP_DROP,
		  D(PORT));
	check_run(m, "data on its port", pkt, xp_build(&data, pkt), XDP_PASS,
		  C(DATA));
	check_run(m, "read of a 4k block", pkt, xp_build(&read4k, pkt),
		  XDP_PASS, C(RDMA));
	iam_maps_close(m);
}

/* ---- the loader --------------------------------------------------------- */

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static const char *const map_names[] = { IAM_MAP_PREFIXES, IAM_MAP_LOCAL,
					 IAM_MAP_BLOCKS,   IAM_MAP_ACCESS,
					 IAM_MAP_M2I,	   IAM_MAP_STATS };
#define NMAPS (int)(sizeof(map_names) / sizeof(map_names[0]))

TEST(maps_pins_come_and_go)
{
	struct iam_maps_config c = base_config();
	struct iam_maps *m;
	char path[256];

	private_bpffs();
	REQUIRE(iam_maps_open(&c, &m) == 0);
	CHECK_STR(iam_maps_pin_dir(m), "/sys/fs/bpf/iam/" INST);
	CHECK_STR(iam_maps_xdp_mode(m), "none");
	for (int i = 0; i < NMAPS; i++) {
		int fd = iam_maps_pinned_fd(INST, map_names[i]);

		CHECK_MSG(fd >= 0, "pin %s: %s", map_names[i], strerror(-fd));
		if (fd >= 0)
			close(fd);
	}
	iam_maps_close(m);
	for (int i = 0; i < NMAPS; i++) {
		REQUIRE(iam_maps_pin_path(INST, map_names[i], path,
					  sizeof(path)) == 0);
		CHECK_MSG(!exists(path), "%s left behind", path);
	}
	CHECK(!exists("/sys/fs/bpf/iam/" INST));
	CHECK_EQ(iam_maps_pinned_fd(INST, IAM_MAP_STATS), -ENOENT);
	iam_maps_close(NULL);
}

static uint32_t map_id(int fd)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* A killed agent leaves its pins; the next start replaces them, and
 * nothing of the old maps (here: a stale prefix) survives. */
TEST(maps_stale_pins_replaced)
{
	struct iam_maps_config c = base_config();
	struct iam_maps *m1, *m2;
	struct in6_addr p = in6(REMOTE_POOL);
	struct iam_lpm_key k = { .prefixlen = 128 };
	struct iam_prefix_info v;
	uint32_t old_id;
	int fd;

	private_bpffs();
	REQUIRE(iam_maps_open(&c, &m1) == 0);
	set_prefix(m1, REMOTE_POOL, 114, IAM_KIND_REMOTE_POOL, 0);
	fd = iam_maps_pinned_fd(INST, IAM_MAP_PREFIXES);
	REQUIRE(fd >= 0);
	old_id = map_id(fd);
	close(fd);
	/* Another file in the directory is stale too. */
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "junk", 4, 4, 1, NULL);
	REQUIRE(fd >= 0);
	REQUIRE(bpf_obj_pin(fd, "/sys/fs/bpf/iam/" INST "/junk") == 0);
	close(fd);

	/* As if the agent died: the pins stay, a new agent starts. */
	REQUIRE(iam_maps_open(&c, &m2) == 0);
	fd = iam_maps_pinned_fd(INST, IAM_MAP_PREFIXES);
	REQUIRE(fd >= 0);
	CHECK(map_id(fd) != old_id);
	memcpy(k.addr, &p, 16);
	CHECK_EQ(bpf_map_lookup_elem(fd, &k, &v), -ENOENT);
	close(fd);
	CHECK(!exists("/sys/fs/bpf/iam/" INST "/junk"));
	iam_maps_close(m2);
	CHECK(!exists("/sys/fs/bpf/iam/" INST));
	(void)m1; /* its maps die with this process */
}

TEST(maps_mounts_bpffs)
{
	struct iam_maps_config c = base_config();
	struct iam_maps *m;
	struct statfs st;

	need_root();
	REQUIRE(unshare(CLONE_NEWNS) == 0);
	REQUIRE(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	/* Whatever is on /sys/fs/bpf here, hide it under an empty tmpfs. */
	REQUIRE(mount("tmpfs", "/sys/fs/bpf", "tmpfs", 0, "size=64k") == 0);
	REQUIRE(iam_maps_open(&c, &m) == 0);
	REQUIRE(statfs("/sys/fs/bpf", &st) == 0);
	CHECK_EQ((unsigned long)st.f_type, 0xcafe4a11ul);
	CHECK(exists("/sys/fs/bpf/iam/" INST "/" IAM_MAP_M2I));
	iam_maps_close(m);
}

/* What the agent writes through its mapping, a reader of the pin sees
 * (iamctl map), and the reverse. */
TEST(maps_m2i_shared)
{
	struct iam_maps_config c = base_config();
	struct iam_m2i_entry e, *t;
	struct bpf_map_info info = { 0 };
	uint32_t n, len = sizeof(info), slot = 1000;
	struct iam_maps *m;
	int fd;

	private_bpffs();
	c.m2i_slots = 3000;
	REQUIRE(iam_maps_open(&c, &m) == 0);
	t = iam_maps_m2i(m, &n);
	REQUIRE(t != NULL);
	CHECK_EQ(n, 3000);
	fd = iam_maps_pinned_fd(INST, IAM_MAP_M2I);
	REQUIRE(fd >= 0);
	REQUIRE(bpf_obj_get_info_by_fd(fd, &info, &len) == 0);
	CHECK_EQ(info.max_entries, 3000);
	CHECK_EQ(info.value_size, sizeof(struct iam_m2i_entry));
	CHECK(info.map_flags & BPF_F_MMAPABLE);

	t[slot].vaddr = 0x7f0000000000;
	t[slot].rkey = 77;
	t[slot].rights = IAM_RIGHTS_RW;
	iam_m2i_publish(&t[slot], IAM_M2I_RDMA);
	REQUIRE(bpf_map_lookup_elem(fd, &slot, &e) == 0);
	CHECK_EQ(e.vaddr, 0x7f0000000000);
	CHECK_EQ(e.rkey, 77);
	CHECK_EQ(e.flags, IAM_M2I_VALID | IAM_M2I_RDMA);

	slot = 2999;
	memset(&e, 0, sizeof(e));
	e.pid = 4242;
	e.flags = IAM_M2I_VALID;
	REQUIRE(bpf_map_update_elem(fd, &slot, &e, BPF_ANY) == 0);
	CHECK_EQ(t[2999].pid, 4242);
	CHECK(iam_m2i_flags(&t[2999]) & IAM_M2I_VALID);
	iam_m2i_retire(&t[2999]);
	CHECK_EQ(iam_m2i_flags(&t[2999]), 0);
	close(fd);
	iam_maps_close(m);
}

TEST(maps_edit_checks)
{
	struct iam_maps_config c = base_config();
	struct in6_addr a = in6(POOL), b = in6(BORROWER), any = { 0 };
	struct in6_addr host_bits = in6("2001:db8:8000:c0a8:a010:0:1:abc");
	struct in6_addr remote = in6(REMOTE_POOL), self = in6(SELF);
	struct in6_addr alloc = in6(ALLOC_RO), o = in6(OTHER);
	struct iam_maps *m;

	private_bpffs();
	REQUIRE(iam_maps_open(&c, &m) == 0);
	CHECK_EQ(iam_maps_prefix_set(m, &remote, 129, IAM_KIND_REMOTE_POOL, 0),
		 -EINVAL);
	CHECK_EQ(iam_maps_prefix_set(m, &remote, 114, 0, 0), -EINVAL);
	CHECK_EQ(iam_maps_prefix_set(m, &remote, 114, IAM_KIND_MAX, 0),
		 -EINVAL);
	CHECK_EQ(iam_maps_prefix_set(m, &remote, 114, IAM_KIND_REMOTE_POOL,
				     0x80),
		 -EINVAL);
	CHECK_EQ(iam_maps_prefix_del(m, &remote, 114), -ENOENT);
	/* Bits past the length do not matter: set and del meet. */
	remote.s6_addr[15] = 0x77;
	CHECK_EQ(iam_maps_prefix_set(m, &remote, 114, IAM_KIND_REMOTE_POOL, 0),
		 0);
	remote.s6_addr[15] = 0;
	CHECK_EQ(iam_maps_prefix_del(m, &remote, 114), 0);
	CHECK_EQ(iam_maps_prefix_del(m, &remote, 114), -ENOENT);
	/* The agent's address is the agent's. */
	CHECK_EQ(iam_maps_prefix_set(m, &self, 128, IAM_KIND_REMOTE_POOL, 0),
		 -EEXIST);

	/* Allocations need the pool, and lie inside it. */
	CHECK_EQ(iam_maps_access_set(m, &alloc, 124, &b, IAM_RIGHTS_RO),
		 -ENOENT);
	/* The pool: inside net|host/80, at most pool_blocks blocks, one. */
	CHECK_EQ(iam_maps_prefix_set(m, &remote, 114, IAM_KIND_LOCAL_POOL, 0),
		 -EINVAL);
	CHECK_EQ(iam_maps_prefix_set(m, &a, 112, IAM_KIND_LOCAL_POOL, 0),
		 -E2BIG);
	CHECK_EQ(iam_maps_prefix_set(m, &a, 79, IAM_KIND_LOCAL_POOL, 0),
		 -EINVAL);
	CHECK_EQ(iam_maps_prefix_set(m, &host_bits, 114, IAM_KIND_LOCAL_POOL,
				     0),
		 0);
	CHECK_EQ(iam_maps_prefix_set(m, &a, 114, IAM_KIND_LOCAL_POOL,
				     IAM_POLICY_PING),
		 0);
	CHECK_EQ(iam_maps_prefix_set(m, &a, 115, IAM_KIND_LOCAL_POOL, 0),
		 -EEXIST);
	CHECK_EQ(iam_maps_prefix_set(m, &a, 114, IAM_KIND_REMOTE_POOL, 0),
		 -EEXIST);

	CHECK_EQ(iam_maps_access_set(m, &alloc, 124, &b, 0), -EINVAL);
	CHECK_EQ(iam_maps_access_set(m, &alloc, 124, &b, 3), -EINVAL);
	CHECK_EQ(iam_maps_access_set(m, &alloc, 124, &any, IAM_RIGHTS_RO),
		 -EINVAL);
	CHECK_EQ(iam_maps_access_set(m, &alloc, 200, &b, IAM_RIGHTS_RO),
		 -EINVAL);
	CHECK_EQ(iam_maps_access_set(m, &alloc, 113, &b, IAM_RIGHTS_RO),
		 -EINVAL);
	CHECK_EQ(iam_maps_access_set(m, &remote, 124, &b, IAM_RIGHTS_RO),
		 -EINVAL);
	CHECK_EQ(iam_maps_access_set(m, &alloc, 124, &b, IAM_RIGHTS_RO), 0);
	/* Again: a change of borrower and rights, not a second entry. */
	CHECK_EQ(iam_maps_access_set(m, &alloc, 124, &o, IAM_RIGHTS_RW), 0);
	/* Overlaps, from inside and from outside. */
	CHECK_EQ(iam_maps_access_set(m, &alloc, 126, &b, IAM_RIGHTS_RO),
		 -EEXIST);
	CHECK_EQ(iam_maps_access_set(m, &alloc, 120, &b, IAM_RIGHTS_RO),
		 -EEXIST);
	CHECK_EQ(iam_maps_access_del(m, &alloc, 126), -ENOENT);
	CHECK_EQ(iam_maps_access_del(m, &alloc, 120), -ENOENT);
	CHECK_EQ(iam_maps_access_del(m, &alloc, 124), 0);
	CHECK_EQ(iam_maps_access_del(m, &alloc, 124), -ENOENT);
	CHECK_EQ(iam_maps_access_set(m, &alloc, 120, &b, IAM_RIGHTS_RO), 0);
	/* Deleting the pool takes its allocations along. */
	CHECK_EQ(iam_maps_prefix_del(m, &a, 114), 0);
	CHECK_EQ(iam_maps_access_del(m, &alloc, 120), -ENOENT);
	CHECK_EQ(iam_maps_prefix_set(m, &a, 114, IAM_KIND_LOCAL_POOL, 0), 0);
	CHECK_EQ(iam_maps_access_del(m, &alloc, 120), -ENOENT);
	iam_maps_close(m);
}

/* Every slot of a full pool: one allocation per block, then all freed and
 * taken again (slot reuse wraps around). */
TEST(maps_access_fill)
{
	struct iam_maps_config c = base_config();
	struct in6_addr a = in6(POOL), b = in6(BORROWER);
	struct iam_maps *m;

	private_bpffs();
	c.pool_blocks = 256;
	REQUIRE(iam_maps_open(&c, &m) == 0);
	REQUIRE(iam_maps_prefix_set(m, &a, 120, IAM_KIND_LOCAL_POOL, 0) == 0);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 256; i++) {
			a.s6_addr[15] = (uint8_t)i;
			CHECK_EQ(iam_maps_access_set(m, &a, 128, &b,
						     IAM_RIGHTS_RW),
				 0);
		}
		a.s6_addr[15] = 0;
		CHECK_EQ(iam_maps_access_set(m, &a, 127, &b, IAM_RIGHTS_RW),
			 -EEXIST);
		for (int i = 0; i < 256; i += 2) {
			a.s6_addr[15] = (uint8_t)i;
			CHECK_EQ(iam_maps_access_del(m, &a, 128), 0);
			a.s6_addr[15] = (uint8_t)(i + 1);
			CHECK_EQ(iam_maps_access_del(m, &a, 128), 0);
			a.s6_addr[15] = (uint8_t)i;
			CHECK_EQ(iam_maps_access_set(m, &a, 127, &b,
						     IAM_RIGHTS_RO),
				 0);
		}
		for (int i = 0; i < 256; i += 2) {
			a.s6_addr[15] = (uint8_t)i;
			CHECK_EQ(iam_maps_access_del(m, &a, 127), 0);
		}
	}
	iam_maps_close(m);
}

TEST(maps_bad_config)
{
	struct iam_maps_config c;
	struct iam_maps *m = (void *)1;

	private_bpffs();
	c = base_config();
	c.instance = "a/b";
	CHECK_EQ(iam_maps_open(&c, &m), -EINVAL);
	CHECK(m == NULL);
	c.instance = "..";
	CHECK_EQ(iam_maps_open(&c, &m), -EINVAL);
	c.instance = "0123456789012345678901234567890123";
	CHECK_EQ(iam_maps_open(&c, &m), -EINVAL);
	c = base_config();
	c.block_shift = 11;
	CHECK_EQ(iam_maps_open(&c, &m), -EINVAL);
	c.block_shift = 22;
	CHECK_EQ(iam_maps_open(&c, &m), -EINVAL);
	c = base_config();
	c.m2i_slots = IAM_M2I_SLOTS_MAX + 1;
	CHECK_EQ(iam_maps_open(&c, &m), -EINVAL);
	c = base_config();
	c.pool_blocks = IAM_POOL_BLOCKS_MAX + 1;
	CHECK_EQ(iam_maps_open(&c, &m), -EINVAL);
	c = base_config();
	memset(&c.self, 0, sizeof(c.self));
	CHECK_EQ(iam_maps_open(&c, &m), -EINVAL);
	c.self = in6("2001:db8:8000:c0a8:a011::1");
	CHECK_EQ(iam_maps_open(&c, &m), -EINVAL);
	c.self = in6("2001:db8:8001:c0a8:a010::1");
	CHECK_EQ(iam_maps_open(&c, &m), -EINVAL);
	c = base_config();
	c.ifname = "iam-no-such0";
	CHECK_EQ(iam_maps_open(&c, &m), -ENODEV);
	CHECK(!exists("/sys/fs/bpf/iam/" INST));
}

/* ---- attaching ---------------------------------------------------------- */

/* A private network namespace with a veth pair xa <-> xb. */
static int veth_ns(void)
{
	need_root();
	if (unshare(CLONE_NEWNET) < 0)
		SKIP("no network namespaces: %s", strerror(errno));
	if (system("ip link add xa type veth peer name xb && "
		   "ip link set xa up && ip link set xb up"))
		SKIP("cannot create a veth pair");
	return (int)if_nametoindex("xa");
}

static uint32_t attached(int ifindex, uint8_t *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return 0;
	*mode = q.attach_mode;
	return q.prog_id;
}

TEST(attach_veth_auto_is_generic)
{
	struct iam_maps_config c = base_config();
	struct iam_maps *m;
	int ifindex = veth_ns();
	uint8_t mode = 0;

	private_bpffs();
	c.ifname = "xa";
	REQUIRE(iam_maps_open(&c, &m) == 0);
	CHECK_STR(iam_maps_xdp_mode(m), "generic");
	CHECK(attached(ifindex, &mode) != 0);
	CHECK_EQ(mode, XDP_ATTACHED_SKB);
	iam_maps_close(m);
	CHECK_EQ(attached(ifindex, &mode), 0);
}

TEST(attach_native_and_busy)
{
	struct iam_maps_config c = base_config(), c2;
	struct iam_maps *m, *m2;
	int ifindex = veth_ns();
	uint8_t mode = 0;

	private_bpffs();
	c.ifname = "xa";
	c.mode = IAM_XDP_NATIVE;
	REQUIRE(iam_maps_open(&c, &m) == 0);
	CHECK_STR(iam_maps_xdp_mode(m), "native");
	CHECK(attached(ifindex, &mode) != 0);
	CHECK_EQ(mode, XDP_ATTACHED_DRV);
	/* A second agent on the same interface fails and leaves no pins. */
	c2 = c;
	c2.instance = "second";
	c2.mode = IAM_XDP_GENERIC;
	CHECK(iam_maps_open(&c2, &m2) < 0);
	CHECK(!exists("/sys/fs/bpf/iam/second"));
	c2.mode = IAM_XDP_AUTO;
	CHECK(iam_maps_open(&c2, &m2) < 0);
	iam_maps_close(m);
	CHECK_EQ(attached(ifindex, &mode), 0);
	/* Then the interface is free again. */
	REQUIRE(iam_maps_open(&c2, &m2) == 0);
	CHECK_STR(iam_maps_xdp_mode(m2), "generic");
	iam_maps_close(m2);
}

/* The link dies with its process: no detach call needed. */
TEST(attach_dies_with_process)
{
	struct iam_maps_config c = base_config();
	int ifindex = veth_ns(), status;
	uint8_t mode = 0;
	pid_t pid;

	private_bpffs();
	c.ifname = "xa";
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct iam_maps *m;

		if (iam_maps_open(&c, &m))
			_exit(1);
		raise(SIGKILL);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	REQUIRE(WIFSIGNALED(status));
	CHECK_EQ(attached(ifindex, &mode), 0);
	/* Its pins stay until the next start replaces them. */
	CHECK(exists("/sys/fs/bpf/iam/" INST "/" IAM_MAP_STATS));
}
