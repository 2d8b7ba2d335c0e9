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
	__u32 rkey; /* RDMA rkey of the allocation, 0 if TCP; host order */
	__u32 pid; /* client process id, host order */
	__u32 alloc_id; /* lender's allocation id, host order */
	__u16 lender_idx; /* agent's index of the lender connection */
	__u8 rights; /* IAM_RIGHTS_RO or IAM_RIGHTS_RW */
	__u8 flags; /* enum iam_m2i_flags */
	__u8 block_shift; /* log2 of the block size */
	__u8 pad[7]; /* zero */
};
_Static_assert(sizeof(struct iam_m2i_entry) == 72, "iam_m2i_entry ABI");

#endif /* IAM_MAPS_H */
