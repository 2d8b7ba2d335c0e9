/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * iam_roce.h - the InfiniBand transport headers that RoCEv2 carries in UDP
 * (InfiniBand Architecture Specification vol. 1, release 1.5, chapter 9;
 * RoCEv2 is annex A17), as far as the classifier reads them: enough to find
 * the remote virtual address of an RDMA READ, WRITE or atomic request.
 */
#ifndef IAM_ROCE_H
#define IAM_ROCE_H

#include "vmlinux.h"

/* Base Transport Header (IBA 9.2). */
struct iam_bth {
	__u8 opcode; /* transport << 5 | operation */
	__u8 flags; /* SE, MigReq, pad count, transport header version */
	__be16 pkey;
	__be32 dqpn; /* reserved(8) | destination QP(24) */
	__be32 psn; /* AckReq(1) | reserved(7) | PSN(24) */
};

/* RDMA Extended Transport Header (IBA 9.3.3). */
struct iam_reth {
	__be64 va; /* remote virtual address */
	__be32 rkey;
	__be32 dma_len; /* bytes */
} __attribute__((packed));

/* Atomic Extended Transport Header (IBA 9.3.4). */
struct iam_atomiceth {
	__be64 va;
	__be32 rkey;
	__be64 swap_add;
	__be64 compare;
} __attribute__((packed));

/* Transport of the opcode's top three bits (IBA 9.2, table 38). */
#define IAM_IB_RC 0
#define IAM_IB_UC 1
#define IAM_IB_RD 2
#define IAM_IB_UD 3
#define IAM_IB_CNP 4
#define IAM_IB_XRC 5

/* Headers between the BTH and the RETH per transport: RD has RDETH (4) and
 * DETH (8), XRC has XRCETH (4). */
#define IAM_IB_RD_EXT_LEN 12
#define IAM_IB_XRC_EXT_LEN 4

/* Operations of the low five bits that carry a remote address. */
#define IAM_IB_WRITE_FIRST 0x06
#define IAM_IB_WRITE_ONLY 0x0A
#define IAM_IB_WRITE_ONLY_IMM 0x0B
#define IAM_IB_READ_REQUEST 0x0C
#define IAM_IB_CMP_SWAP 0x13
#define IAM_IB_FETCH_ADD 0x14
#define IAM_IB_FLUSH 0x1C /* FETH (4 bytes), then RETH */
#define IAM_IB_ATOMIC_WRITE 0x1D /* RETH, then 8 bytes of payload */
#define IAM_IB_FETH_LEN 4

#endif /* IAM_ROCE_H */
