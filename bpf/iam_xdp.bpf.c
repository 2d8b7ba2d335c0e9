// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * iam_xdp.bpf.c - the XDP classifier on the agent's fabric interface
 * (DESIGN.md "XDP", docs/ARCHITECTURE.md "XDP policy").
 *
 * The destination address decides first.  This agent's own address and
 * its pool come from iam_local (an inlined array access); any other
 * address is looked up in iam_prefixes (LPM): no match means not IAM, and
 * the packet passes untouched.  The borrower of a block comes from two
 * more array accesses, iam_blocks (block -> allocation slot) and
 * iam_access (slot -> borrower, rights), so the data path never walks a
 * trie however many allocations are lent.  To a local IAM address only
 * what the agent serves passes:
 *
 *   agent address   TCP BGP (179) and control (7410) either way, TCP data
 *                   replies (source port 7411: this agent borrows), RoCEv2
 *                   (UDP 4791; requests naming a remote address are checked
 *                   against iam_access), ICMPv6 errors and ND;
 *   block address   TCP data (7411) from the borrower holding the block per
 *                   iam_access, ICMPv6 errors and ND;
 *   both            ICMPv6 echo if the prefix's policy has IAM_POLICY_PING.
 *
 * The filter is stateless: replies to connections this agent opened are
 * recognised by their source port, which a sender can forge; what it then
 * reaches is only the agent's own sockets, which check their peers.
 *
 * Everything else to a local IAM address is dropped and counted under its
 * reason (iam_drop.h); with IAM_POLICY_AUDIT it is counted and passed.
 * Remote IAM prefixes (other agents' pools and allocations) pass, counted.
 *
 * Fragments: IAM traffic is never fragmented.  TCP segments are sized by
 * MSS and path MTU discovery, and a RoCEv2 packet is one IB MTU (at most
 * 4096 bytes) that the RNIC sizes below the link MTU; IPv6 routers never
 * fragment (RFC 8200, section 5).  A non-first fragment carries no port,
 * so it cannot be classified at all, and passing first fragments while
 * dropping the rest would only hand the kernel a reassembly it can never
 * finish.  So every fragment to a local IAM address is dropped under
 * "fragment".  An atomic fragment (offset 0, M clear: RFC 6946) is not a
 * fragment of anything and is classified by its upper-layer header.
 * Fragments to remote IAM prefixes pass: they are not this agent's to
 * police.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "iam_maps.h"
#include "iam_parse.h"
#include "iam_roce.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Knobs, set by the loader through skel->rodata before load. */
const volatile __u32 iam_block_shift = IAM_BLOCK_SHIFT_DEFAULT;
const volatile __u16 iam_bgp_port = IAM_PORT_BGP; /* host order */
const volatile __u16 iam_ctrl_port = IAM_PORT_CTRL; /* host order */
const volatile __u16 iam_data_port = IAM_PORT_DATA; /* host order */

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, IAM_PREFIXES_MAX);
	__type(key, struct iam_lpm_key);
	__type(value, struct iam_prefix_info);
} iam_prefixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iam_local);
} iam_local SEC(".maps");

/* Sizes set by the loader: the pool's blocks, and one more slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, IAM_POOL_BLOCKS_DEFAULT);
	__type(key, __u32);
	__type(value, struct iam_block_ref);
} iam_blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, IAM_POOL_BLOCKS_DEFAULT + 1);
	__type(key, __u32);
	__type(value, struct iam_access_entry);
} iam_access SEC(".maps");

/* Not used by the program: created here so that it has BTF and is pinned
 * with the others; the loader sets max_entries (--map-slots). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, IAM_M2I_SLOTS);
	__type(key, __u32);
	__type(value, struct iam_m2i_entry);
} mem_to_ip SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iam_xdp_stats);
} iam_stats SEC(".maps");

/* A classification result is a counter index: a pass class, or a drop. */
#define IAM_DROP(r) (IAM_CLASS_MAX + IAM_DROP_##r)

/* Where BGP and control-protocol packets go: today the kernel stack and the
 * agent's sockets.  Steering them to a dedicated queue or AF_XDP socket is
 * this one function, e.g. bpf_redirect_map(&xsks, ctx->rx_queue_index,
 * XDP_PASS). */
static __always_inline int iam_to_agent(struct xdp_md *ctx)
{
	return XDP_PASS;
}

static __always_inline bool iam_addr_eq(const void *a, const void *b)
{
	const __u64 *x = a, *y = b;

	return x[0] == y[0] && x[1] == y[1];
}

static __always_inline const struct iam_local *iam_local_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&iam_local, &zero);
}

/* Whether the allocation holding block 'idx' of the pool (block address -
 * first block address) lets src move data with the right needed; 0 or a
 * drop index. */
static __always_inline __u32 iam_check_block(__u64 idx,
					     const struct in6_addr *src,
					     bool write)
{
	const struct iam_local *l = iam_local_get();
	const struct iam_access_entry *e;
	const struct iam_block_ref *b;
	__u32 i = idx;

	if (!l || idx >= l->pool_blocks)
		return IAM_DROP(NO_ACCESS);
	b = bpf_map_lookup_elem(&iam_blocks, &i);
	if (!b || !b->slot)
		return IAM_DROP(NO_ACCESS);
	e = bpf_map_lookup_elem(&iam_access, &b->slot);
	if (!e || !e->rights)
		return IAM_DROP(NO_ACCESS);
	if (!iam_addr_eq(e->borrower, src))
		return IAM_DROP(NOT_BORROWER);
	if (e->rights == IAM_RIGHTS_RW ||
	    (!write && e->rights == IAM_RIGHTS_RO))
		return 0;
	return IAM_DROP(RIGHTS);
}

/* An RDMA request for len bytes at the lender's virtual address va: the
 * memory region is registered at the pool's own address (iova = VA,
 * ARCHITECTURE.md "Addresses"), so va >> block shift is the block address
 * (FIG. 2).  The first and the last block touched are checked; blocks in
 * between lie inside the same memory region, whose bounds the RNIC
 * enforces with the allocation's rkey. */
static __always_inline __u32 iam_check_rdma(const struct ipv6hdr *ip6, __u64 va,
					    __u32 len, bool write)
{
	const struct iam_local *l = iam_local_get();
	__u32 shift = iam_block_shift & 63;
	__u64 first = va >> shift, last = first, base;
	__u32 r;

	if (!l)
		return IAM_DROP(NO_ACCESS);
	if (len) {
		__u64 end = va + len - 1;

		if (end < va)
			return IAM_DROP(RDMA_RANGE);
		last = end >> shift;
	}
	if (last >> IAM_BLOCK_BITS)
		return IAM_DROP(RDMA_RANGE);
	base = l->pool_lo & ((1ull << IAM_BLOCK_BITS) - 1);
	r = iam_check_block(first - base, &ip6->saddr, write);
	if (r || last == first)
		return r;
	return iam_check_block(last - base, &ip6->saddr, write);
}

/* RoCEv2 to this agent's address (annex A17): requests that name a remote
 * address are checked like data; everything else (responses, ACKs, SENDs,
 * the connection manager's MADs on UD QP1, CNPs) passes. */
static __always_inline __u32 iam_classify_roce(struct iam_cursor *c,
					       const struct ipv6hdr *ip6)
{
	const struct iam_bth *bth = IAM_PULL(c, struct iam_bth);
	__u32 ext = 0;
	bool write = true, atomic = false;
	__u64 va;
	__u32 len;
	__u8 tr, op;

	if (!bth)
		return IAM_DROP(TRUNCATED);
	tr = bth->opcode >> 5;
	op = bth->opcode & 0x1f;
	if (tr == IAM_IB_RD)
		ext = IAM_IB_RD_EXT_LEN;
	else if (tr == IAM_IB_XRC)
		ext = IAM_IB_XRC_EXT_LEN;
	else if (tr != IAM_IB_RC && tr != IAM_IB_UC)
		return IAM_CLASS_ROCE;
	switch (op) {
	case IAM_IB_READ_REQUEST:
		write = false;
		break;
	case IAM_IB_WRITE_FIRST:
	case IAM_IB_WRITE_ONLY:
	case IAM_IB_WRITE_ONLY_IMM:
	case IAM_IB_ATOMIC_WRITE:
		break;
	case IAM_IB_FLUSH:
		/* Flushing makes a writer's data persistent: a writer's op. */
		ext += IAM_IB_FETH_LEN;
		break;
	case IAM_IB_CMP_SWAP:
	case IAM_IB_FETCH_ADD:
		atomic = true;
		break;
	default:
		return IAM_CLASS_ROCE;
	}
	if (ext && !iam_pull(c, ext))
		return IAM_DROP(TRUNCATED);
	if (atomic) {
		const struct iam_atomiceth *a =
			IAM_PULL(c, struct iam_atomiceth);

		if (!a)
			return IAM_DROP(TRUNCATED);
		va = bpf_be64_to_cpu(a->va);
		len = 8;
	} else {
		const struct iam_reth *r = IAM_PULL(c, struct iam_reth);

		if (!r)
			return IAM_DROP(TRUNCATED);
		va = bpf_be64_to_cpu(r->va);
		len = bpf_ntohl(r->dma_len);
	}
	return iam_check_rdma(ip6, va, len, write) ?: IAM_CLASS_RDMA;
}

static __always_inline __u32 iam_classify_tcp(const struct tcphdr *th,
					      const struct ipv6hdr *ip6,
					      __u8 kind)
{
	__be16 sport = th->source, dport = th->dest;

	if (kind == IAM_KIND_LOCAL_POOL) {
		const struct iam_local *l = iam_local_get();
		__u64 lo;

		if (dport != bpf_htons(iam_data_port))
			return IAM_DROP(PORT);
		if (!l)
			return IAM_DROP(NO_ACCESS);
		lo = bpf_be64_to_cpu(((const __u64 *)&ip6->daddr)[1]);
		/* The data server checks each request's right itself; the
		 * stream hides which operation a segment belongs to, so here
		 * any right will do. */
		return iam_check_block(lo - l->pool_lo, &ip6->saddr, false) ?:
			       IAM_CLASS_DATA;
	}
	if (dport == bpf_htons(iam_bgp_port) ||
	    sport == bpf_htons(iam_bgp_port))
		return IAM_CLASS_BGP;
	if (dport == bpf_htons(iam_ctrl_port) ||
	    sport == bpf_htons(iam_ctrl_port))
		return IAM_CLASS_CTRL;
	if (sport == bpf_htons(iam_data_port))
		return IAM_CLASS_DATA;
	return IAM_DROP(PORT);
}

static __always_inline __u32 iam_classify_icmp(const struct iam_icmp6_hdr *ih,
					       __u8 policy)
{
	__u8 type = ih->type;

	/* RFC 4443, section 2.1: types below 128 are errors (Packet Too Big
	 * among them). */
	if (type < 128 ||
	    (type >= IAM_ICMP6_ND_FIRST && type <= IAM_ICMP6_ND_LAST))
		return IAM_CLASS_ICMP;
	if ((type == IAM_ICMP6_ECHO_REQUEST || type == IAM_ICMP6_ECHO_REPLY) &&
	    (policy & IAM_POLICY_PING))
		return IAM_CLASS_ICMP;
	return IAM_DROP(ICMP);
}

static __always_inline bool iam_is_ext(__u8 nh)
{
	return nh == IAM_IPPROTO_HOPOPTS || nh == IAM_IPPROTO_DSTOPTS ||
	       nh == IAM_IPPROTO_ROUTING || nh == IAM_IPPROTO_FRAGMENT ||
	       nh == IAM_IPPROTO_AH;
}

/* Walks the extension headers (RFC 8200, section 4) from *off, leaving
 * *off on the upper-layer header and its protocol in *nexthdr; 0 or a drop
 * index.  Headers are read with bpf_xdp_load_bytes() at a plain offset
 * rather than through a packet pointer: the offset then carries no bounds
 * the verifier must keep apart, and every mix of header kinds folds into
 * one state per step instead of one per combination. */
static __always_inline __u32 iam_skip_ext(struct xdp_md *ctx, __u32 *off,
					  __u8 *nexthdr)
{
	__u8 nh = *nexthdr;
	__u32 o = *off;

	for (int i = 0; i < IAM_EXT_MAX; i++) {
		/* Every extension header is at least 8 bytes; the first 4
		 * hold all this reads. */
		__u8 h[4];

		if (!iam_is_ext(nh))
			break;
		if (bpf_xdp_load_bytes(ctx, o, h, sizeof(h)))
			return IAM_DROP(TRUNCATED);
		if (nh == IAM_IPPROTO_FRAGMENT) {
			if (((__u16)h[2] << 8 | h[3]) & IAM_FRAG_OFFSET_MORE)
				return IAM_DROP(FRAGMENT);
			o += sizeof(struct iam_frag_hdr);
		} else if (nh == IAM_IPPROTO_AH) {
			/* RFC 4302, section 2.2: 4-octet units, minus 2. */
			o += ((__u32)h[1] + 2) * 4;
		} else {
			/* Routing: segments left means this address is a
			 * waypoint to some other destination (RFC 8200,
			 * section 4.4).  IAM traffic is never source-routed. */
			if (nh == IAM_IPPROTO_ROUTING && h[3])
				return IAM_DROP(ROUTING);
			o += ((__u32)h[1] + 1) * 8;
		}
		nh = h[0];
	}
	if (iam_is_ext(nh))
		return IAM_DROP(EXT_LIMIT);
	*nexthdr = nh;
	*off = o;
	return 0;
}

/* The upper layer of a packet to this agent's address or to a block of
 * its pool, with the cursor on its header. */
static __always_inline __u32 iam_classify_l4(struct iam_cursor *c,
					     const struct ipv6hdr *ip6, __u8 nh,
					     __u8 kind, __u8 policy)
{
	switch (nh) {
	case IAM_IPPROTO_TCP: {
		const struct tcphdr *th = IAM_PULL(c, struct tcphdr);

		if (!th)
			return IAM_DROP(TRUNCATED);
		return iam_classify_tcp(th, ip6, kind);
	}
	case IAM_IPPROTO_UDP: {
		const struct udphdr *uh = IAM_PULL(c, struct udphdr);

		if (!uh)
			return IAM_DROP(TRUNCATED);
		if (kind != IAM_KIND_LOCAL_CTRL ||
		    uh->dest != bpf_htons(IAM_PORT_ROCEV2))
			return IAM_DROP(PORT);
		return iam_classify_roce(c, ip6);
	}
	case IAM_IPPROTO_ICMPV6: {
		const struct iam_icmp6_hdr *ih =
			IAM_PULL(c, struct iam_icmp6_hdr);

		if (!ih)
			return IAM_DROP(TRUNCATED);
		return iam_classify_icmp(ih, policy);
	}
	default:
		return IAM_DROP(PROTO);
	}
}

/* Longest offset of an upper-layer header after extension headers: eight
 * of the longest kind (2048 bytes) would not fit a frame anyway. */
#define IAM_L4_OFF_MAX 4096

/* iam_classify_l4() for packets with extension headers, whose upper-layer
 * header lies at a run-time offset.  A global function: the verifier
 * checks it once with unknown arguments, not once per path that leads
 * here.  meta = next header | kind << 8 | policy << 16. */
__noinline int iam_classify_l4_at(struct xdp_md *ctx, __u32 ip6_off,
				  __u32 l4_off, __u32 meta)
{
	struct iam_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	const struct ipv6hdr *ip6;

	/* Bounds for the verifier: the callers pass 14 or 18 and at most the
	 * end of the frame. */
	if (ip6_off > sizeof(struct ethhdr) + sizeof(struct iam_vlan_hdr) ||
	    l4_off > IAM_L4_OFF_MAX)
		return IAM_DROP(TRUNCATED);
	ip6 = c.pos + ip6_off;
	if ((void *)(ip6 + 1) > c.end)
		return IAM_DROP(TRUNCATED);
	if (!iam_pull(&c, l4_off))
		return IAM_DROP(TRUNCATED);
	return iam_classify_l4(&c, ip6, meta & 0xff, (meta >> 8) & 0xff,
			       (meta >> 16) & 0xff);
}

/* Which local or IAM destination the packet has: 0 with *kind and
 * *policy set, or the counter index to stop at. */
static __always_inline __u32 iam_classify_dst(const struct ipv6hdr *ip6,
					      __u8 *kind, __u8 *policy)
{
	const struct iam_local *l = iam_local_get();
	struct iam_lpm_key dst = { .prefixlen = 128 };
	const struct iam_prefix_info *info;
	__u64 hi, lo;

	if (!l)
		return IAM_CLASS_NOT_IAM;
	if ((l->flags & IAM_LOCAL_SELF) && iam_addr_eq(l->self, &ip6->daddr)) {
		*kind = IAM_KIND_LOCAL_CTRL;
		*policy = l->self_policy;
		return 0;
	}
	hi = bpf_be64_to_cpu(((const __u64 *)&ip6->daddr)[0]);
	lo = bpf_be64_to_cpu(((const __u64 *)&ip6->daddr)[1]);
	if (hi == l->pool_hi && lo - l->pool_lo < l->pool_blocks) {
		*kind = IAM_KIND_LOCAL_POOL;
		*policy = l->pool_policy;
		return 0;
	}
	__builtin_memcpy(dst.addr, &ip6->daddr, sizeof(dst.addr));
	info = bpf_map_lookup_elem(&iam_prefixes, &dst);
	if (!info)
		return IAM_CLASS_NOT_IAM;
	*kind = info->kind;
	*policy = info->policy;
	switch (info->kind) {
	case IAM_KIND_REMOTE_POOL:
	case IAM_KIND_ALLOCATION:
		return IAM_CLASS_REMOTE;
	case IAM_KIND_LOCAL_POOL:
	case IAM_KIND_LOCAL_CTRL:
		/* Local prefixes besides iam_local's (the loader keeps none;
		 * a hand-made entry): classified the same, more slowly. */
		return 0;
	default:
		return IAM_DROP(BAD_PREFIX);
	}
}

static __always_inline __u32 iam_classify(struct xdp_md *ctx, __u8 *policy)
{
	struct iam_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	const struct ethhdr *eth;
	const struct ipv6hdr *ip6;
	__u32 ip6_off = sizeof(*eth), off, r;
	__be16 proto;
	__u8 kind = 0, nh;

	eth = IAM_PULL(&c, struct ethhdr);
	if (!eth)
		return IAM_CLASS_NON_IPV6;
	proto = eth->h_proto;
	if (proto == bpf_htons(IAM_ETH_P_8021Q) ||
	    proto == bpf_htons(IAM_ETH_P_8021AD)) {
		const struct iam_vlan_hdr *vh =
			IAM_PULL(&c, struct iam_vlan_hdr);

		/* One tag: with a second one the EtherType seen here is a
		 * VLAN type again, and the packet passes as not IPv6. */
		if (!vh)
			return IAM_CLASS_NON_IPV6;
		proto = vh->proto;
		ip6_off += sizeof(*vh);
	}
	if (proto != bpf_htons(IAM_ETH_P_IPV6))
		return IAM_CLASS_NON_IPV6;
	ip6 = IAM_PULL(&c, struct ipv6hdr);
	/* A short or non-version-6 packet is the kernel's to drop. */
	if (!ip6 || ip6->version != 6)
		return IAM_CLASS_NON_IPV6;
	r = iam_classify_dst(ip6, &kind, policy);
	if (r)
		return r;
	nh = ip6->nexthdr;
	if (!iam_is_ext(nh))
		return iam_classify_l4(&c, ip6, nh, kind, *policy);
	off = ip6_off + sizeof(*ip6);
	r = iam_skip_ext(ctx, &off, &nh);
	if (r)
		return r;
	return iam_classify_l4_at(ctx, ip6_off, off,
				  nh | (__u32)kind << 8 | (__u32)*policy << 16);
}

SEC("xdp")
int iam_xdp(struct xdp_md *ctx)
{
	struct iam_counter *ctr;
	__u8 policy = 0;
	__u32 zero = 0;
	__u32 idx;

	idx = iam_classify(ctx, &policy);
	ctr = bpf_map_lookup_elem(&iam_stats, &zero);
	if (ctr && idx < IAM_STATS_NCOUNTERS) {
		ctr += idx;
		ctr->packets++;
		ctr->bytes += ctx->data_end - ctx->data;
	}
	if (idx >= IAM_CLASS_MAX)
		return (policy & IAM_POLICY_AUDIT) ? XDP_PASS : XDP_DROP;
	if (idx == IAM_CLASS_BGP || idx == IAM_CLASS_CTRL)
		return iam_to_agent(ctx);
	return XDP_PASS;
}
