/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ctrl.h - control-protocol connections on the agent's event loop.
 *
 * A connection frames the TCP stream into messages (ctrl_proto.c), calls
 * on_msg for each, and queues what is sent until the socket takes it.  A
 * malformed message from the peer is answered with an ERROR naming the
 * problem, logged with the peer's address, and the connection is closed
 * (a stream cannot be resynchronised); on_close reports it.  Both the
 * lender (accepted connections) and the borrower (outgoing ones) use it.
 */
#ifndef IAM_CTRL_H
#define IAM_CTRL_H

#include <netinet/in.h>

#include "ctrl_proto.h"
#include "loop.h"

struct iam_ctrl_conn;

struct iam_ctrl_handlers {
	/* A decoded message.  The connection may be closed from here. */
	void (*on_msg)(struct iam_ctrl_conn *c, const struct iam_ctrl_msg *m,
		       void *arg);
	/* Outgoing connection established (not called for accepted). */
	void (*on_up)(struct iam_ctrl_conn *c, void *arg);
	/* The connection is gone (err: -errno, or 0 for an orderly close
	 * by the peer); c is freed after this returns.  Not called after
	 * iam_ctrl_close(). */
	void (*on_close)(struct iam_ctrl_conn *c, int err, void *arg);
	void *arg;
};

/* Take over an accepted, connected socket. */
int iam_ctrl_conn_accepted(struct iam_loop *loop, int fd,
			   const struct in6_addr *peer,
			   const struct iam_ctrl_handlers *h,
			   struct iam_ctrl_conn **out);
/* Start a non-blocking connect from src (may be NULL) to dst:port;
 * messages sent meanwhile are queued. */
int iam_ctrl_connect(struct iam_loop *loop, const struct in6_addr *src,
		     const struct in6_addr *dst, uint16_t port,
		     const struct iam_ctrl_handlers *h,
		     struct iam_ctrl_conn **out);
/* Encode and queue; 0, -ENOSPC (a message too big), -ENOBUFS (the peer
 * is not reading: more than 1 MiB queued), -ENOTCONN (closing). */
int iam_ctrl_send(struct iam_ctrl_conn *c, const struct iam_ctrl_msg *m);
/* Answer request req with an ERROR (errno code, text) and log it. */
int iam_ctrl_send_error(struct iam_ctrl_conn *c, const struct iam_ctrl_msg *req,
			int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Close now (queued output is dropped); no callback follows.  Safe inside
 * a callback of c.  NULL ok. */
void iam_ctrl_close(struct iam_ctrl_conn *c);
const struct in6_addr *iam_ctrl_peer(const struct iam_ctrl_conn *c);
/* The peer as text, for logs. */
const char *iam_ctrl_peer_str(const struct iam_ctrl_conn *c);
/* Connected (outgoing: after on_up). */
bool iam_ctrl_is_up(const struct iam_ctrl_conn *c);
/* When the connection was made or accepted (iam_now_ms()), and whether a
 * whole message has come over it since. */
uint64_t iam_ctrl_since_ms(const struct iam_ctrl_conn *c);
bool iam_ctrl_heard(const struct iam_ctrl_conn *c);
/* Free-form pointer for the owner. */
void iam_ctrl_set_data(struct iam_ctrl_conn *c, void *data);
void *iam_ctrl_data(const struct iam_ctrl_conn *c);

#endif /* IAM_CTRL_H */
