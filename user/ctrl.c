// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* ctrl.c - control-protocol connections on the event loop; see ctrl.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctrl.h"
#include "log.h"

#define CTRL_OUT_MAX (1u << 20)

struct iam_ctrl_conn {
	struct iam_loop *loop;
	struct iam_ctrl_handlers h;
	int fd;
	struct in6_addr peer;
	char peer_str[INET6_ADDRSTRLEN];
	bool connecting, closed;
	bool heard; /* a whole message came */
	uint64_t since_ms; /* made or accepted at */
	int busy; /* callbacks running: free is deferred */
	void *data;
	uint8_t in[IAM_CTRL_MAX_LEN];
	size_t inlen;
	uint8_t *out;
	size_t outlen, outcap, outoff;
};

static void ctrl_free(struct iam_ctrl_conn *c)
{
	free(c->out);
	free(c);
}

static void ctrl_shut(struct iam_ctrl_conn *c)
{
	c->closed = true;
	iam_loop_del(c->loop, c->fd);
	close(c->fd);
	c->fd = -1;
}

static void ctrl_fail(struct iam_ctrl_conn *c, int err)
{
	if (c->closed)
		return;
	ctrl_shut(c);
	if (c->h.on_close)
		c->h.on_close(c, err, c->h.arg);
}

void iam_ctrl_close(struct iam_ctrl_conn *c)
{
	if (!c || c->closed)
		return;
	ctrl_shut(c);
	if (!c->busy)
		ctrl_free(c);
}

static void ctrl_watch(struct iam_ctrl_conn *c)
{
	uint32_t ev = EPOLLIN;

	if (c->connecting || c->outlen > c->outoff)
		ev |= EPOLLOUT;
	iam_loop_mod(c->loop, c->fd, ev);
}

static void ctrl_flush(struct iam_ctrl_conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff,
				 c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				ctrl_fail(c, -errno);
			break;
		}
		c->outoff += (size_t)n;
	}
	if (c->closed)
		return;
	if (c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	ctrl_watch(c);
}

static void ctrl_input(struct iam_ctrl_conn *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->inlen,
				 sizeof(c->in) - c->inlen, 0);
		size_t off = 0;

		if (n == 0) {
			ctrl_fail(c, 0);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				ctrl_fail(c, -errno);
			return;
		}
		c->inlen += (size_t)n;
		while (!c->closed) {
			struct iam_ctrl_msg m;
			const char *why = "";
			size_t fl;
			int err = iam_ctrl_frame(c->in + off, c->inlen - off,
						 &fl, &why);

			if (err == -EAGAIN)
				break;
			if (!err)
				err = iam_ctrl_decode(c->in + off, fl, &m,
						      &why);
			if (err) {
				struct iam_ctrl_msg e;
				uint8_t buf[256];
				ssize_t k;

				iam_warn("ctrl: malformed message from %s: %s; "
					 "closing the connection",
					 c->peer_str, why);
				iam_ctrl_error_init(&e, 0, 0,
						    err == -EPROTONOSUPPORT ?
							    EPROTONOSUPPORT :
							    EBADMSG,
						    why);
				k = iam_ctrl_encode(&e, buf, sizeof(buf));
				if (k > 0 &&
				    send(c->fd, buf, (size_t)k,
					 MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
					/* Closing anyway. */
				}
				ctrl_fail(c, -EBADMSG);
				return;
			}
			off += fl;
			iam_trace("ctrl: %s from %s",
				  iam_ctrl_type_name(m.type), c->peer_str);
			c->heard = true;
			c->h.on_msg(c, &m, c->h.arg);
		}
		if (c->closed)
			return;
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
}

static void ctrl_io(struct iam_loop *loop, int fd, uint32_t events, void *arg)
{
	struct iam_ctrl_conn *c = arg;

	c->busy++;
	if (c->connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr) {
			ctrl_fail(c, -soerr);
		} else {
			c->connecting = false;
			ctrl_watch(c);
			if (c->h.on_up)
				c->h.on_up(c, c->h.arg);
		}
	}
	if (!c->closed && !c->connecting && (events & (EPOLLIN | EPOLLHUP)))
		ctrl_input(c);
	if (!c->closed && !c->connecting && (events & EPOLLOUT))
		ctrl_flush(c);
	if (!c->closed && (events & EPOLLERR))
		ctrl_fail(c, -EIO);
	c->busy--;
	if (c->closed && !c->busy)
		ctrl_free(c);
}

static int ctrl_new(struct iam_loop *loop, int fd, const struct in6_addr *peer,
		    const struct iam_ctrl_handlers *h, bool connecting,
		    struct iam_ctrl_conn **out)
{
	struct iam_ctrl_conn *c = calloc(1, sizeof(*c));
	int one = 1, err;

	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->h = *h;
	c->fd = fd;
	c->peer = *peer;
	c->connecting = connecting;
	c->since_ms = iam_now_ms();
	inet_ntop(AF_INET6, peer, c->peer_str, sizeof(c->peer_str));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	err = iam_loop_add(loop, fd, connecting ? EPOLLOUT : EPOLLIN, ctrl_io,
			   c);
	if (err) {
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

int iam_ctrl_conn_accepted(struct iam_loop *loop, int fd,
			   const struct in6_addr *peer,
			   const struct iam_ctrl_handlers *h,
			   struct iam_ctrl_conn **out)
{
	return ctrl_new(loop, fd, peer, h, false, out);
}

int iam_ctrl_connect(struct iam_loop *loop, const struct in6_addr *src,
		     const struct in6_addr *dst, uint16_t port,
		     const struct iam_ctrl_handlers *h,
		     struct iam_ctrl_conn **out)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = *dst };
	int fd, err;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (src) {
		struct sockaddr_in6 sl = { .sin6_family = AF_INET6,
					   .sin6_addr = *src };

		if (bind(fd, (struct sockaddr *)&sl, sizeof(sl)) < 0) {
			err = -errno;
			goto err_close;
		}
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS) {
		err = -errno;
		goto err_close;
	}
	err = ctrl_new(loop, fd, dst, h, true, out);
	if (err)
		goto err_close;
	return 0;
err_close:
	close(fd);
	return err;
}

int iam_ctrl_send(struct iam_ctrl_conn *c, const struct iam_ctrl_msg *m)
{
	ssize_t n;

	if (c->closed)
		return -ENOTCONN;
	if (c->outlen + IAM_CTRL_MAX_LEN > c->outcap) {
		size_t cap = c->outcap ? c->outcap * 2 : 2 * IAM_CTRL_MAX_LEN;
		uint8_t *p;

		if (c->outlen + IAM_CTRL_MAX_LEN > CTRL_OUT_MAX)
			return -ENOBUFS;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->outcap = cap;
	}
	n = iam_ctrl_encode(m, c->out + c->outlen, c->outcap - c->outlen);
	if (n < 0)
		return (int)n;
	c->outlen += (size_t)n;
	iam_trace("ctrl: %s to %s", iam_ctrl_type_name(m->type), c->peer_str);
	if (!c->connecting && !c->busy)
		ctrl_flush(c);
	else if (!c->connecting)
		ctrl_watch(c);
	return 0;
}

int iam_ctrl_send_error(struct iam_ctrl_conn *c, const struct iam_ctrl_msg *req,
			int code, const char *fmt, ...)
{
	struct iam_ctrl_msg e;
	char text[IAM_CTRL_ERRMSG_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	iam_info("ctrl: refusing %s from %s: %s", iam_ctrl_type_name(req->type),
		 c->peer_str, text);
	iam_ctrl_error_init(&e, req->xid, req->type, (uint32_t)code, text);
	return iam_ctrl_send(c, &e);
}

const struct in6_addr *iam_ctrl_peer(const struct iam_ctrl_conn *c)
{
	return &c->peer;
}

const char *iam_ctrl_peer_str(const struct iam_ctrl_conn *c)
{
	return c->peer_str;
}

bool iam_ctrl_is_up(const struct iam_ctrl_conn *c)
{
	return !c->closed && !c->connecting;
}

uint64_t iam_ctrl_since_ms(const struct iam_ctrl_conn *c)
{
	return c->since_ms;
}

bool iam_ctrl_heard(const struct iam_ctrl_conn *c)
{
	return c->heard;
}

void iam_ctrl_set_data(struct iam_ctrl_conn *c, void *data)
{
	c->data = data;
}

void *iam_ctrl_data(const struct iam_ctrl_conn *c)
{
	return c->data;
}
