/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xfer.h - the Data Manager (FIG. 5): move bytes of a block between a
 * borrower and a lender.  One interface, two transports: RDMA (rdma.c,
 * RoCEv2 through rdma-core) and TCP (tcp.c) for hosts without RDMA.
 *
 * Borrower side.  A connection is opened by the control plane (it may
 * block for a connect) and then handed to the fault thread, which alone
 * uses it from then on: the operations below are not thread-safe, do not
 * allocate, and block only on the network.
 *
 * A block is named by its IPv6 address (FIG. 2).  The lender derives the
 * memory address from that address alone and checks that the requester
 * holds the block with the needed right; a request for a block the
 * requester does not hold fails with -EACCES and nothing is read or
 * written.  For RDMA the check is the rkey's: it covers exactly the
 * allocation and dies with it.  Any other error means the connection
 * failed; for RDMA even -EACCES leaves the connection broken (an RC queue
 * pair does not survive a failed request) until recover().
 */
#ifndef IAM_XFER_H
#define IAM_XFER_H

#include <netinet/in.h>
#include <stdint.h>

struct iam_xfer_conn;

/* What the fault path knows about the block it wants (from mem_to_ip). */
struct iam_xfer_target {
	struct in6_addr block; /* block address */
	uint64_t remote_addr; /* lender VA of the block (FIG. 2) */
	uint32_t rkey; /* RDMA: the allocation's rkey; TCP: unused */
	uint64_t alloc_id; /* lender's allocation id */
};

enum iam_xfer_kind {
	IAM_XFER_TCP = 1,
	IAM_XFER_RDMA = 2,
};

struct iam_xfer_ops {
	const char *name; /* "tcp" or "rdma" */
	enum iam_xfer_kind kind;
	/*
	 * Read len bytes at offset off of the block.  On success *data
	 * points at them in the connection's own (for RDMA: registered,
	 * pinned) staging memory, valid until the next call on this
	 * connection.  len <= the connection's max_io.
	 */
	int (*read)(struct iam_xfer_conn *c, const struct iam_xfer_target *t,
		    uint32_t off, uint32_t len, const void **data);
	/* Staging memory of at least max_io bytes to fill before write(). */
	void *(*write_buf)(struct iam_xfer_conn *c);
	/* Write len bytes from write_buf() to offset off of the block. */
	int (*write)(struct iam_xfer_conn *c, const struct iam_xfer_target *t,
		     uint32_t off, uint32_t len);
	/* Close and free; accepts NULL. */
	void (*close)(struct iam_xfer_conn *c);
	/*
	 * Make c usable again after a read or write failed, with a new
	 * connection to the same lender (same staging memory, same
	 * handle).  NULL for a transport whose connection outlives a
	 * refused request and that cannot reconnect by itself (TCP).
	 * Blocks for at most timeout_ms and allocates: for error paths
	 * only.  0, or -errno: the lender does not answer.
	 */
	int (*recover)(struct iam_xfer_conn *c, int timeout_ms);
};

/* Every transport's connection starts with this. */
struct iam_xfer_conn {
	const struct iam_xfer_ops *ops;
	uint32_t max_io; /* largest read or write, bytes */
	struct in6_addr lender; /* lender agent address */
};

static inline int iam_xfer_read(struct iam_xfer_conn *c,
				const struct iam_xfer_target *t, uint32_t off,
				uint32_t len, const void **data)
{
	return c->ops->read(c, t, off, len, data);
}

static inline int iam_xfer_write(struct iam_xfer_conn *c,
				 const struct iam_xfer_target *t, uint32_t off,
				 uint32_t len)
{
	return c->ops->write(c, t, off, len);
}

static inline void iam_xfer_close(struct iam_xfer_conn *c)
{
	if (c)
		c->ops->close(c);
}

#endif /* IAM_XFER_H */
