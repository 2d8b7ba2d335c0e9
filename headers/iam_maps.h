/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * iam_maps.h - the BPF maps shared by the XDP program (bpf/), the agent
 * (user/maps.c) and iamctl.  Every struct is fixed-width with explicit
 * padding; every field says its unit and byte order.  Pinned under
 * /sys/fs/bpf/iam/<instance>/ with BTF, so `bpftool map dump pinned ...`
 * prints field names.
 */
#ifndef IAM_MAPS_H
#define IAM_MAPS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "iam_const.h"
#include "iam_drop.h"

/* Names of the pinned maps: files in IAM_BPFFS_DIR/<instance>/.  They are
 * also the maps' names in bpf/iam_xdp.bpf.c (at most 15 characters). */
#define IAM_MAP_PREFIXES "iam_prefixes"
#define IAM_MAP_LOCAL "iam_local"
#define IAM_MAP_BLOCKS "iam_blocks"
#define IAM_MAP_ACCESS "iam_access"
#define IAM_MAP_M2I "mem_to_ip"
#define IAM_MAP_STATS "iam_stats"

/* Capacities; the loader checks what it writes against them. */
#ifndef IAM_PREFIXES_MAX
#define IAM_PREFIXES_MAX 16384 /* pools and allocations, local and learned */
#endif
#define IAM_M2I_SLOTS_MAX (1u << 22) /* 288 MiB of entries */
#define IAM_POOL_BLOCKS_DEFAULT (1u << 16) /* 4 GiB of 64 KiB blocks */
#define IAM_POOL_BLOCKS_MAX (1u << 24) /* 64 GiB of 4 KiB blocks */

/* Key of the LPM trie iam_prefixes; the layout the kernel expects of
 * BPF_MAP_TYPE_LPM_TRIE keys (struct bpf_lpm_trie_key). */
struct iam_lpm_key {
	__u32 prefixlen; /* bits, 0..128, host order */
	__u8 addr[16]; /* IPv6 prefix, network byte order, bits past
			* prefixlen zero */
};
_Static_assert(sizeof(struct iam_lpm_key) == 20, "iam_lpm_key ABI");

/* What an IAM prefix is, seen from this agent. */
enum iam_prefix_kind {
	IAM_KIND_LOCAL_POOL = 1, /* this host's pool: its block addresses */
	IAM_KIND_LOCAL_CTRL = 2, /* this agent's own address (/128) */
	IAM_KIND_REMOTE_POOL = 3, /* another agent's pool, learned by BGP */
	IAM_KIND_ALLOCATION = 4, /* an allocation prefix learned by BGP */
	IAM_KIND_MAX
};

/* Per-prefix policy bits, on top of what the kind allows. */
enum iam_prefix_policy {
	/* ICMPv6 echo requests and replies pass (ping the agent).  Error
	 * messages and neighbor discovery always pass to local addresses:
	 * TCP needs Packet Too Big (RFC 8201) and neighbors need unicast NUD
	 * probes (RFC 4861, section 7.3). */
	IAM_POLICY_PING = 1 << 0,
	/* Count what would be dropped under its reason, but pass it: for
	 * bringing up a fabric without cutting it off. */
	IAM_POLICY_AUDIT = 1 << 1,
	IAM_POLICY_ALL = IAM_POLICY_PING | IAM_POLICY_AUDIT,
};

/* iam_prefixes value: every IAM prefix this agent knows, its own included
 * (those also live in iam_local, which the classifier tries first). */
struct iam_prefix_info {
	__u8 kind; /* enum iam_prefix_kind */
	__u8 policy; /* enum iam_prefix_policy bits */
	__u8 pad[2]; /* zero */
};
_Static_assert(sizeof(struct iam_prefix_info) == 4, "iam_prefix_info ABI");

enum iam_local_flags {
	IAM_LOCAL_SELF = 1 << 0, /* self is set */
};

/* iam_local (an array of one): this agent's own address and pool, so the
 * packets that matter most are classified with one inlined array access
 * instead of a trie walk.  The loader keeps it in step with the LOCAL_*
 * entries of iam_prefixes. */
struct iam_local {
	__u8 self[16]; /* the agent's address, network byte order */
	__u64 pool_hi; /* first 64 bits of the pool prefix, host order */
	__u64 pool_lo; /* last 64 bits of the pool's first address (host
			* part's low 16 bits | first block address), host
			* order */
	__u32 pool_blocks; /* blocks in the pool; 0: no pool */
	__u8 flags; /* enum iam_local_flags */
	__u8 self_policy; /* enum iam_prefix_policy bits */
	__u8 pool_policy; /* enum iam_prefix_policy bits */
	__u8 pad[1]; /* zero */
};
_Static_assert(sizeof(struct iam_local) == 40, "iam_local ABI");

/* iam_blocks value, one per block of the pool, indexed by block address
 * - first block address.  BPF_F_MMAPABLE; the loader writes it with
 * stores. */
struct iam_block_ref {
	__u32 slot; /* iam_access slot of the allocation holding the block;
		     * 0: none */
	__u32 pad; /* zero (array elements take 8 bytes anyway) */
};
_Static_assert(sizeof(struct iam_block_ref) == 8, "iam_block_ref ABI");

/* iam_access value, one slot per allocation prefix lent by this host (slot
 * 0 unused): who may move data to and from its blocks.  BPF_F_MMAPABLE;
 * a slot is in use while rights is non-zero. */
struct iam_access_entry {
	__u8 borrower[16]; /* borrower agent's address, network byte order */
	__u8 prefix[16]; /* the allocation prefix, network byte order */
	__u8 plen; /* its length in bits */
	__u8 rights; /* IAM_RIGHTS_RO or IAM_RIGHTS_RW; 0: slot free */
	__u8 pad[6]; /* zero */
};
_Static_assert(sizeof(struct iam_access_entry) == 40, "iam_access_entry ABI");

/* What the classifier does with a packet it passes.  Every packet is
 * counted once: under its pass class, or under its drop reason
 * (iam_drop.h).  Same X() form as IAM_DROP_REASONS. */
/* clang-format off */
#define IAM_CLASSES(X)                                                         \
	X(0, NON_IPV6, "non_ipv6",                                             \
	  "not IPv6, or too short to tell (passed untouched)")                 \
	X(1, NOT_IAM, "not_iam",                                               \
	  "IPv6 to a non-IAM address (passed untouched)")                      \
	X(2, BGP, "bgp", "BGP to or from this agent")                          \
	X(3, CTRL, "ctrl", "control protocol to or from this agent")           \
	X(4, DATA, "data", "TCP data to a block from its borrower, or replies")  \
	X(5, RDMA, "rdma", "RDMA READ/WRITE/atomic request, borrower checked") \
	X(6, ROCE, "roce", "other RoCEv2 (responses, ACKs, CM)")               \
	X(7, ICMP, "icmp", "ICMPv6 to this agent")                             \
	X(8, REMOTE, "remote", "to another agent's prefix")
/* clang-format on */

enum iam_xdp_class {
#define X(num, id, name, text) IAM_CLASS_##id = num,
	IAM_CLASSES(X)
#undef X
		IAM_CLASS_MAX
};

struct iam_counter {
	__u64 packets; /* host order */
	__u64 bytes; /* whole frames, from the Ethernet header; host order */
};

/* iam_stats value (a per-CPU array with one entry): one counter per class
 * then one per drop reason, named so that `bpftool map dump` reads well.
 * Counter i (class number, or IAM_CLASS_MAX + drop reason) lies at
 * i * sizeof(struct iam_counter). */
struct iam_xdp_stats {
#define X(num, id, name, text) struct iam_counter class_##id;
	IAM_CLASSES(X)
#undef X
#define X(num, id, name, text) struct iam_counter drop_##id;
	IAM_DROP_REASONS(X)
#undef X
};

#define IAM_STATS_NCOUNTERS (IAM_CLASS_MAX + IAM_DROP_MAX)
_Static_assert(sizeof(struct iam_xdp_stats) ==
		       IAM_STATS_NCOUNTERS * sizeof(struct iam_counter),
	       "iam_xdp_stats ABI");
/* The tables list their numbers in order, so field i is counter i. */
#define X(num, id, name, text)                                                 \
	_Static_assert(__builtin_offsetof(struct iam_xdp_stats, class_##id) == \
			       (num) * sizeof(struct iam_counter),             \
		       "IAM_CLASSES out of order at " #id);
IAM_CLASSES(X)
#undef X
#define X(num, id, name, text)                                                \
	_Static_assert(__builtin_offsetof(struct iam_xdp_stats, drop_##id) == \
			       (IAM_CLASS_MAX + (num)) *                      \
				       sizeof(struct iam_counter),            \
		       "IAM_DROP_REASONS out of order at " #id);
IAM_DROP_REASONS(X)
#undef X

/* mem_to_ip: the mem-to-ip table of FIG. 3 (patent US 11,675,510 B2).
 * A BPF_F_MMAPABLE array, so the fault handler reads an entry with a plain
 * load from its own mapping, no syscall.  The agent gives each client
 * region a contiguous run of slots; slot = region's first slot +
 * (fault address - region start) >> block shift. */
#ifndef IAM_M2I_SLOTS
#define IAM_M2I_SLOTS 65536 /* default; iam-load --map-slots overrides */
#endif

enum iam_m2i_flags {
	IAM_M2I_VALID = 1 << 0, /* entry in use */
	IAM_M2I_LOCAL = 1 << 1, /* block is in this host's own pool */
	IAM_M2I_RDMA = 1 << 2, /* lender reached over RDMA (else TCP) */
	IAM_M2I_LOST = 1 << 3, /* lender unreachable: faults get SIGBUS */
};

struct iam_m2i_entry {
	__u64 vaddr; /* client virtual address of the block, host order */
	__u64 remote_addr; /* lender memory address of the block (FIG. 2:
			    * block address << block shift), host order */
	__u8 block[16]; /* block IPv6 address, network byte order */
	__u8 lender[16]; /* lender agent's address, network byte order */
	__u64 alloc_id; /* lender's allocation id, host order */
	__u32 rkey; /* RDMA rkey of the block's run, 0 if TCP; host order */
	__u32 pid; /* client process id, host order */
	__u16 lender_idx; /* agent's index of the lender connection */
	__u8 rights; /* IAM_RIGHTS_RO or IAM_RIGHTS_RW */
	__u8 flags; /* enum iam_m2i_flags */
	__u8 block_shift; /* log2 of the block size */
	__u8 pad[3]; /* zero */
};
_Static_assert(sizeof(struct iam_m2i_entry) == 72, "iam_m2i_entry ABI");

#endif /* IAM_MAPS_H */
