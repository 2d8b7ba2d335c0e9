/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * iam_const.h - constants every part of IAM agrees on: the BPF programs,
 * the agent, libiam and the tools.  Usable from BPF C (no libc).
 */
#ifndef IAM_CONST_H
#define IAM_CONST_H

/* Rights of a borrower on a block; the values are those carried in the
 * allocation's large community (function 11, DESIGN.md "BGP encoding"). */
#define IAM_RIGHTS_RO 1
#define IAM_RIGHTS_RW 2

/* Block sizes: powers of two from 4 KiB to 2 MiB, 64 KiB by default. */
#define IAM_BLOCK_SHIFT_MIN 12
#define IAM_BLOCK_SHIFT_MAX 21
#define IAM_BLOCK_SHIFT_DEFAULT 16

/* FIG. 2: network (48 bits) | host (32 bits) | block address (48 bits). */
#define IAM_NET_BITS 48
#define IAM_HOST_BITS 32
#define IAM_BLOCK_BITS 48

/* The agent's own (control) address is net|host|::1: block address 1,
 * which no pool can hold because pools are mapped at or above
 * IAM_POOL_MIN_VADDR (block address >= 2^32 >> 21 = 2048). */
#define IAM_CTRL_BLOCK_ADDR 1
#define IAM_POOL_MIN_VADDR (1ull << 32)

/* TCP ports of the agent.  BGP is 179 (RFC 4271, section 8.2.1). */
#define IAM_PORT_BGP 179
#define IAM_PORT_CTRL 7410 /* control protocol, to the agent's address */
#define IAM_PORT_DATA 7411 /* TCP data transport, to a block's address */
/* rdma_cm port space RDMA_PS_TCP, to the agent's address.  Not a UDP or
 * TCP port on the wire: with RoCEv2 the CM messages and all data are UDP
 * 4791; this number is only the service id inside the CM REQ. */
#define IAM_PORT_RDMA_CM 7412
#define IAM_PORT_ROCEV2 4791 /* IANA: RoCEv2 UDP destination port */

/* Where an instance keeps its pinned maps and its UNIX socket. */
#define IAM_BPFFS_DIR "/sys/fs/bpf/iam"
#define IAM_RUN_DIR "/run/iam"
#define IAM_INSTANCE_DEFAULT "default"
#define IAM_INSTANCE_MAX 32 /* bytes, including the NUL */

#endif /* IAM_CONST_H */
