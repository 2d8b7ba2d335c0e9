/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * iam_proto.h - the wire formats between agents.
 *
 * Two protocols, both over TCP, all integers in network byte order:
 *
 *  control (TCP IAM_PORT_CTRL, to the lender agent's address): reserve,
 *    confirm, release and lease renewal (DESIGN.md "Allocation").  Each
 *    message is a struct iam_ctrl_hdr followed by a body of the type's
 *    fixed size plus, for some types, a counted array.  The length in the
 *    header covers the header and is checked against the type's minimum
 *    and maximum before anything else is read.
 *
 *  data (TCP IAM_PORT_DATA, to a block address the borrower holds): read
 *    or write a range of one block.  The request names the block by its
 *    IPv6 address (FIG. 2), so the lender derives the memory address from
 *    the request alone; the layout is fixed so that an XDP program could
 *    one day answer reads itself (DESIGN.md "XDP", read fast path).
 *
 * Both carry a version; a receiver answers a version it does not speak
 * with an error and closes the connection.
 */
#ifndef IAM_PROTO_H
#define IAM_PROTO_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define IAM_PROTO_VERSION 1

/* ---- control protocol --------------------------------------------------- */

enum iam_ctrl_type {
	IAM_CTRL_RESERVE = 1, /* borrower -> lender */
	IAM_CTRL_RESERVED = 2, /* lender -> borrower: block runs, expiry */
	IAM_CTRL_CONFIRM = 3, /* borrower -> lender */
	IAM_CTRL_CONFIRMED = 4, /* lender -> borrower: allocation id, rkey */
	IAM_CTRL_RELEASE = 5, /* borrower -> lender: a reservation or an
			       * allocation */
	IAM_CTRL_RELEASED = 6,
	IAM_CTRL_RENEW = 7, /* borrower -> lender: extend every lease this
			     * borrower holds on the lender */
	IAM_CTRL_RENEWED = 8,
	IAM_CTRL_ERROR = 15, /* answers any request that failed */
	IAM_CTRL_TYPE_MAX = 15,
};

struct iam_ctrl_hdr {
	__u8 version; /* IAM_PROTO_VERSION */
	__u8 type; /* enum iam_ctrl_type */
	__u16 flags; /* zero; receivers ignore unknown bits */
	__u32 len; /* bytes, header included */
	__u32 xid; /* chosen by the requester, echoed in the answer */
	__u32 reserved; /* zero */
};
_Static_assert(sizeof(struct iam_ctrl_hdr) == 16, "iam_ctrl_hdr ABI");

#define IAM_CTRL_MAX_LEN 65536 /* bytes; longer messages are refused */

struct iam_ctrl_reserve {
	__u32 nblocks; /* blocks wanted, >= 1 */
	__u32 lease_ms; /* lease the borrower will renew within, ms */
	__u32 borrower_id; /* borrower's BGP router id (community fn 10) */
	__u8 rights; /* IAM_RIGHTS_RO or IAM_RIGHTS_RW */
	__u8 block_shift; /* the block size the borrower expects */
	__u8 pad[2]; /* zero */
};
_Static_assert(sizeof(struct iam_ctrl_reserve) == 16, "reserve ABI");

/* A run of contiguous blocks: the first block's address and a count. */
struct iam_ctrl_run {
	__u8 first[16]; /* IPv6 address of the first block */
	__u32 count; /* blocks in the run, >= 1 */
	__u32 pad; /* zero */
};
_Static_assert(sizeof(struct iam_ctrl_run) == 24, "run ABI");

#define IAM_CTRL_MAX_RUNS                                  \
	((IAM_CTRL_MAX_LEN - sizeof(struct iam_ctrl_hdr) - \
	  sizeof(struct iam_ctrl_reserved)) /              \
	 sizeof(struct iam_ctrl_run))

struct iam_ctrl_reserved {
	__u64 resv_id; /* reservation id; also the allocation id on confirm */
	__u32 ttl_ms; /* the reservation expires unless confirmed by then */
	__u32 nruns; /* struct iam_ctrl_run entries that follow */
	__u8 block_shift; /* lender's log2 block size */
	__u8 rdma; /* 1: lender serves RDMA on its agent address */
	__u8 pad[6]; /* zero */
};
_Static_assert(sizeof(struct iam_ctrl_reserved) == 24, "reserved ABI");

struct iam_ctrl_id {
	__u64 id; /* reservation or allocation id */
};
_Static_assert(sizeof(struct iam_ctrl_id) == 8, "id ABI");

/* CONFIRMED carries one rkey per run of the RESERVED answer, in the same
 * order: a run is one RDMA memory region on the lender, so an rkey never
 * covers a byte the borrower does not hold. */
struct iam_ctrl_confirmed {
	__u64 alloc_id; /* allocation id (equal to the reservation id) */
	__u32 lease_ms; /* lease granted, ms */
	__u32 nrkeys; /* __u32 rkeys that follow (network byte order);
		       * 0 when the lender serves no RDMA */
};
_Static_assert(sizeof(struct iam_ctrl_confirmed) == 16, "confirmed ABI");

struct iam_ctrl_renew {
	__u32 lease_ms; /* new lease for every allocation of this borrower */
	__u32 pad; /* zero */
};
_Static_assert(sizeof(struct iam_ctrl_renew) == 8, "renew ABI");

struct iam_ctrl_renewed {
	__u32 nallocs; /* allocations whose lease was extended */
	__u32 pad; /* zero */
};
_Static_assert(sizeof(struct iam_ctrl_renewed) == 8, "renewed ABI");

#define IAM_CTRL_ERRMSG_MAX 200
struct iam_ctrl_error {
	__u32 code; /* an errno value (Linux numbering) */
	__u8 request; /* type of the request that failed, 0 if unknown */
	__u8 msglen; /* bytes of text that follow, no NUL */
	__u8 pad[2]; /* zero */
};
_Static_assert(sizeof(struct iam_ctrl_error) == 8, "error ABI");

/* ---- data protocol ------------------------------------------------------ */

enum iam_data_op {
	IAM_DATA_READ = 1, /* answer carries len bytes */
	IAM_DATA_WRITE = 2, /* request carries len bytes */
	IAM_DATA_PING = 3, /* answer carries len zero bytes; no block needed
			    * (iam-bench measures the TCP limit with it) */
};
#define IAM_DATA_REPLY 0x80 /* set in op of every answer */
#define IAM_DATA_MAX_IO (2u << 20) /* largest len: one 2 MiB block */

struct iam_data_req {
	__u8 version; /* IAM_PROTO_VERSION */
	__u8 op; /* enum iam_data_op */
	__u16 flags; /* zero */
	__u32 xid; /* echoed */
	__u8 block[16]; /* block IPv6 address (FIG. 2) */
	__u32 off; /* byte offset in the block */
	__u32 len; /* bytes, <= IAM_DATA_MAX_IO, off + len <= block size */
};
_Static_assert(sizeof(struct iam_data_req) == 32, "iam_data_req ABI");

struct iam_data_rep {
	__u8 version; /* IAM_PROTO_VERSION */
	__u8 op; /* request op | IAM_DATA_REPLY */
	__u16 status; /* 0, or an errno value: no payload follows */
	__u32 xid; /* the request's */
	__u32 len; /* payload bytes that follow */
	__u32 pad; /* zero */
};
_Static_assert(sizeof(struct iam_data_rep) == 16, "iam_data_rep ABI");

#endif /* IAM_PROTO_H */
