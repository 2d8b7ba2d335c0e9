// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tcp.c - TCP transport, client side; see tcp.h. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "iam_proto.h"
#include "xfer/tcp.h"

struct tcpx_conn {
	struct iam_xfer_conn base;
	int fd;
	int broken; /* sticky -errno once the stream is unusable */
	uint32_t xid;
	uint8_t *buf; /* max_io bytes: writes are sent from here */
	uint8_t *rx; /* an answer: header, then up to max_io bytes */
	uint8_t *rx_mem; /* what rx points into */
};

static int tcpx_fail(struct tcpx_conn *c, int err)
{
	c->broken = err;
	return err;
}

/* Full send or a sticky error; the socket has SO_SNDTIMEO. */
static int tcpx_sendv(struct tcpx_conn *c, struct iovec *iov, int n)
{
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };

	while (mh.msg_iovlen) {
		ssize_t k = sendmsg(c->fd, &mh, MSG_NOSIGNAL);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return tcpx_fail(c,
					 errno == EAGAIN ? -ETIMEDOUT : -errno);
		}
		while (k > 0 && mh.msg_iovlen) {
			if ((size_t)k >= mh.msg_iov->iov_len) {
				k -= (ssize_t)mh.msg_iov->iov_len;
				mh.msg_iov++;
				mh.msg_iovlen--;
			} else {
				mh.msg_iov->iov_base =
					(uint8_t *)mh.msg_iov->iov_base + k;
				mh.msg_iov->iov_len -= (size_t)k;
				k = 0;
			}
		}
	}
	return 0;
}

/*
 * Receive one answer into c->rx: its header, then its payload right
 * behind it.  One request is in flight, so nothing follows the answer;
 * asking for the whole expected answer at once saves a system call per
 * request (the header and the page usually arrive together).
 */
static int tcpx_recv_answer(struct tcpx_conn *c, uint8_t op, uint32_t expect,
			    uint32_t *rlen)
{
	const struct iam_data_rep *rep = (const void *)c->rx;
	size_t got = 0, total = sizeof(*rep) + expect;
	bool checked = false;

	while (got < total) {
		ssize_t k = recv(c->fd, c->rx + got, total - got, 0);

		if (k == 0)
			return tcpx_fail(c, -ECONNRESET);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return tcpx_fail(c,
					 errno == EAGAIN ? -ETIMEDOUT : -errno);
		}
		got += (size_t)k;
		if (got < sizeof(*rep) || checked)
			continue;
		/* The header is in: check it, learn the real length. */
		if (rep->version != IAM_PROTO_VERSION ||
		    rep->op != (op | IAM_DATA_REPLY) ||
		    ntohl(rep->xid) != c->xid)
			return tcpx_fail(c, -EPROTO);
		*rlen = ntohl(rep->len);
		if (rep->status ? *rlen != 0 : *rlen != expect)
			return tcpx_fail(c, -EPROTO);
		total = sizeof(*rep) + *rlen;
		if (got > total)
			return tcpx_fail(c, -EPROTO);
		checked = true;
	}
	return rep->status ? -(int)ntohs(rep->status) : 0;
}

/* One request, one answer.  payload: bytes to send after the request
 * (writes); the answer's payload lands in c->rx after its header. */
static int tcpx_rpc(struct tcpx_conn *c, uint8_t op, const struct in6_addr *b,
		    uint32_t off, uint32_t len, const void *payload)
{
	struct iam_data_req req = {
		.version = IAM_PROTO_VERSION,
		.op = op,
		.xid = htonl(++c->xid),
		.off = htonl(off),
		.len = htonl(len),
	};
	struct iovec iov[2] = { { &req, sizeof(req) },
				{ (void *)payload, len } };
	uint32_t rlen = 0;
	int err;

	if (c->broken)
		return c->broken;
	if (len > c->base.max_io)
		return -EINVAL;
	if (b)
		memcpy(req.block, b, 16);
	err = tcpx_sendv(c, iov, payload ? 2 : 1);
	if (err)
		return err;
	return tcpx_recv_answer(c, op, op == IAM_DATA_WRITE ? 0 : len, &rlen);
}

static int tcpx_read(struct iam_xfer_conn *bc, const struct iam_xfer_target *t,
		     uint32_t off, uint32_t len, const void **data)
{
	struct tcpx_conn *c = (struct tcpx_conn *)bc;
	int err = tcpx_rpc(c, IAM_DATA_READ, &t->block, off, len, NULL);

	if (!err)
		*data = c->rx + sizeof(struct iam_data_rep);
	return err;
}

static void *tcpx_write_buf(struct iam_xfer_conn *bc)
{
	return ((struct tcpx_conn *)bc)->buf;
}

static int tcpx_write(struct iam_xfer_conn *bc, const struct iam_xfer_target *t,
		      uint32_t off, uint32_t len)
{
	struct tcpx_conn *c = (struct tcpx_conn *)bc;

	return tcpx_rpc(c, IAM_DATA_WRITE, &t->block, off, len, c->buf);
}

static void tcpx_close(struct iam_xfer_conn *bc)
{
	struct tcpx_conn *c = (struct tcpx_conn *)bc;

	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c->rx_mem);
	free(c);
}

static const struct iam_xfer_ops tcpx_ops = {
	.name = "tcp",
	.kind = IAM_XFER_TCP,
	.read = tcpx_read,
	.write_buf = tcpx_write_buf,
	.write = tcpx_write,
	.close = tcpx_close,
};

int iam_tcpx_ping(struct iam_xfer_conn *bc, uint32_t len)
{
	struct tcpx_conn *c = (struct tcpx_conn *)bc;

	if (bc->ops != &tcpx_ops)
		return -EINVAL;
	return tcpx_rpc(c, IAM_DATA_PING, NULL, 0, len, NULL);
}

static int tcpx_connect_timeout(int fd, const struct sockaddr_in6 *sa,
				int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t sl = sizeof(int);
	int soerr = 0, r;

	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return -errno;
	return -soerr;
}

int iam_tcpx_connect(const struct in6_addr *src, const struct in6_addr *dst,
		     uint16_t port, uint32_t max_io, int timeout_ms,
		     struct iam_xfer_conn **out)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = *dst };
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
			      .tv_usec = (timeout_ms % 1000) * 1000 };
	unsigned int uto = (unsigned int)timeout_ms;
	struct tcpx_conn *c;
	int one = 1, err;

	if (!max_io || max_io > IAM_DATA_MAX_IO || timeout_ms <= 0)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	c->base.ops = &tcpx_ops;
	c->base.max_io = max_io;
	c->base.lender = *dst;
	c->buf = aligned_alloc(4096, (max_io + 4095) & ~4095u);
	/* The payload lands page-aligned, right after a 16-byte header. */
	c->rx_mem = aligned_alloc(4096, ((max_io + 4095) & ~4095u) + 4096);
	c->rx = c->rx_mem + 4096 - sizeof(struct iam_data_rep);
	if (!c->buf || !c->rx_mem) {
		err = -ENOMEM;
		goto err_free;
	}
	c->fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		err = -errno;
		goto err_free;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A lender that disappears without a reset must fail the fault
	 * within the timeout, not after TCP's 15 minutes of retries. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
	if (src) {
		struct sockaddr_in6 sl = { .sin6_family = AF_INET6,
					   .sin6_addr = *src };

		if (bind(c->fd, (struct sockaddr *)&sl, sizeof(sl)) < 0) {
			err = -errno;
			goto err_close;
		}
	}
	err = tcpx_connect_timeout(c->fd, &sa, timeout_ms);
	if (err)
		goto err_close;
	/* From here on the fault thread does blocking I/O, bounded by the
	 * socket timeouts. */
	if (fcntl(c->fd, F_SETFL, 0) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		err = -errno;
		goto err_close;
	}
	*out = &c->base;
	return 0;

err_close:
	close(c->fd);
	c->fd = -1;
err_free:
	tcpx_close(&c->base);
	return err;
}
