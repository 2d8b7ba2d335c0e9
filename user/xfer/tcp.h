/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * tcp.h - the TCP transport of the Data Manager (for hosts without RDMA).
 *
 * Client: one persistent connection per lender, opened to an address of a
 * block the borrower holds (the XDP program on the lender lets data to a
 * block through only from its borrower), driven by the fault thread through
 * struct iam_xfer_ops.  Requests and answers are headers/iam_proto.h's
 * iam_data_req / iam_data_rep; one request in flight per connection.
 *
 * Server: a thread of its own serves every borrower's connections.  For
 * each request it asks the agent's resolver for the memory behind (block,
 * offset, length) -- the lender derives it from the block address alone
 * and checks the requester holds the block with the needed right -- which
 * holds the block while the server copies between it and the socket, so
 * the block cannot change hands under the copy.
 */
#ifndef IAM_XFER_TCP_H
#define IAM_XFER_TCP_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "xfer/xfer.h"

/*
 * Connect to dst (a block address) port `port`, from `src` if not NULL.
 * timeout_ms bounds the connect and every later request (a lender that
 * vanishes turns into -ETIMEDOUT, not a hang).  max_io: the largest read
 * or write the caller will issue.
 */
int iam_tcpx_connect(const struct in6_addr *src, const struct in6_addr *dst,
		     uint16_t port, uint32_t max_io, int timeout_ms,
		     struct iam_xfer_conn **out);
/* A request/answer of len bytes without touching any block: the raw TCP
 * limit iam-bench prints beside fault latencies.  0 or -errno. */
int iam_tcpx_ping(struct iam_xfer_conn *c, uint32_t len);

struct iam_tcpx_server;

/* What resolve hands to finish: the resolver's own bookkeeping. */
struct iam_tcpx_token {
	uint64_t a, b;
};

struct iam_tcpx_access {
	/*
	 * May `peer` access [off, off + len) of `block` (write: needs
	 * read-write)?  0 with *mem pointing at the bytes, or -EACCES (not
	 * the holder, or not allowed to write), -ENOENT (not a block of
	 * ours), -EINVAL (range), -EBUSY.  On success the block is held (it
	 * cannot be released and handed to someone else) until finish, so
	 * the server may copy straight between it and the socket.  Called
	 * on the server thread; must not block.
	 */
	int (*resolve)(void *arg, const struct in6_addr *peer,
		       const struct in6_addr *block, uint32_t off, uint32_t len,
		       bool write, void **mem, struct iam_tcpx_token *tok);
	/* Drop the hold resolve took. */
	void (*finish)(void *arg, bool write, const struct iam_tcpx_token *tok);
	void *arg;
};

struct iam_tcpx_server_config {
	struct in6_addr addr; /* listen address, in6addr_any for all */
	uint16_t port;
	/* Serve only connections that arrive on this interface
	 * (SO_BINDTODEVICE); "" for any. */
	char ifname[IF_NAMESIZE];
	uint32_t max_io; /* largest request served, bytes */
	int cpu; /* pin the server thread to this CPU, -1: no */
	struct iam_tcpx_access access;
};

struct iam_tcpx_server_stats {
	uint64_t connections; /* accepted so far */
	uint64_t reads, writes, pings; /* requests served */
	uint64_t denied; /* answered EACCES/ENOENT/EINVAL */
	uint64_t malformed; /* connections closed for a bad request */
};

int iam_tcpx_server_start(const struct iam_tcpx_server_config *cfg,
			  struct iam_tcpx_server **out);
/* Stop the thread, close every connection; accepts NULL. */
void iam_tcpx_server_stop(struct iam_tcpx_server *s);
/* The port it listens on (useful when started with port 0). */
uint16_t iam_tcpx_server_port(const struct iam_tcpx_server *s);
void iam_tcpx_server_get_stats(struct iam_tcpx_server *s,
			       struct iam_tcpx_server_stats *st);

#endif /* IAM_XFER_TCP_H */
