// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tcp_server.c - TCP transport, lender side; see tcp.h.
 *
 * One thread, one epoll set: the listening socket, a stop eventfd and the
 * borrowers' connections, all non-blocking, so a slow or hostile peer can
 * stall only itself.  A connection reads a 32-byte request, for a write
 * also its payload, answers, and only then reads the next request.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "iam_proto.h"
#include "log.h"
#include "loop.h"
#include "xfer/tcp.h"

/* Connections at once, and from one borrower: a borrower needs one; each
 * holds two buffers of the block size, so a borrower that opens them
 * without end must not eat the lender's memory or descriptors. */
#define SRV_MAX_CONNS 1024
#define SRV_MAX_PER_PEER 64

enum srv_state { SRV_HDR, SRV_PAYLOAD, SRV_SEND };

struct srv_conn {
	struct srv_conn *prev, *next; /* the server's list, for stop */
	int fd;
	bool want_out; /* registered for EPOLLOUT (answer not sent yet) */
	enum srv_state state;
	struct in6_addr peer;
	struct iam_data_req req; /* as received, network byte order */
	uint32_t got; /* bytes of the current request or payload */
	uint32_t sent, outlen; /* answer being sent from obuf */
	uint8_t *in; /* write payload, max_io bytes */
	uint8_t *obuf; /* answer: header + up to max_io bytes */
};

struct iam_tcpx_server {
	struct iam_tcpx_server_config cfg;
	int lfd, epfd, stopfd;
	pthread_t thread;
	struct srv_conn *conns; /* touched by the server thread only */
	unsigned nconns;
	uint64_t paused_until_ms; /* accept() ran out of descriptors: 0 */
	struct iam_ratelimit refused;
	struct iam_tcpx_server_stats stats; /* atomic counters */
};

static void srv_count(struct iam_tcpx_server *s, uint64_t *field)
{
	__atomic_fetch_add(field, 1, __ATOMIC_RELAXED);
}

static void srv_conn_free(struct iam_tcpx_server *s, struct srv_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->obuf);
	free(c);
	s->nconns--;
}

/* Why a new connection from peer must be refused, or NULL. */
static const char *srv_over(struct iam_tcpx_server *s,
			    const struct in6_addr *peer)
{
	unsigned same = 0;

	if (s->nconns >= SRV_MAX_CONNS)
		return "connections at their limit (1024)";
	for (struct srv_conn *c = s->conns; c; c = c->next)
		if (!memcmp(&c->peer, peer, sizeof(*peer)))
			same++;
	return same >= SRV_MAX_PER_PEER ?
		       "its connections at their limit (64 per address)" :
		       NULL;
}

static void srv_refused(struct iam_tcpx_server *s, const struct in6_addr *a,
			const char *why)
{
	char pb[INET6_ADDRSTRLEN];

	if (!iam_ratelimit(&s->refused))
		return;
	iam_warn("data server: refusing a connection from %s: %s (%llu "
		 "refused so far)",
		 inet_ntop(AF_INET6, a, pb, sizeof(pb)), why,
		 (unsigned long long)s->refused.count);
}

static void srv_accept(struct iam_tcpx_server *s)
{
	for (;;) {
		struct sockaddr_in6 sa;
		socklen_t sl = sizeof(sa);
		struct epoll_event ev = { .events = EPOLLIN };
		struct srv_conn *c;
		const char *why;
		int fd, one = 1;

		fd = accept4(s->lfd, (struct sockaddr *)&sa, &sl,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			struct epoll_event off = { .data.ptr = &s->lfd };

			if (!iam_accept_error_is_hard(errno))
				return;
			/* Out of descriptors or memory: the listener stays
			 * readable, so stop watching it for a second rather
			 * than spin on it (srv_thread resumes). */
			iam_warn("data server: accept: %s; not accepting for "
				 "1 s",
				 strerror(errno));
			epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->lfd, &off);
			s->paused_until_ms = iam_now_ms() + 1000;
			return;
		}
		why = srv_over(s, &sa.sin6_addr);
		if (why) {
			srv_refused(s, &sa.sin6_addr, why);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c)
			goto err_close;
		c->fd = fd;
		c->peer = sa.sin6_addr;
		c->in = malloc(s->cfg.max_io);
		c->obuf = malloc(sizeof(struct iam_data_rep) + s->cfg.max_io);
		if (!c->in || !c->obuf)
			goto err_free;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ev.data.ptr = c;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			goto err_free;
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		srv_count(s, &s->stats.connections);
		continue;
err_free:
		free(c->in);
		free(c->obuf);
		free(c);
err_close:
		iam_warn("data server: dropping a connection: out of memory");
		close(fd);
	}
}

/* Build the answer in obuf; the payload, if any, is already there. */
static void srv_answer(struct srv_conn *c, int status, uint32_t len)
{
	struct iam_data_rep *rep = (struct iam_data_rep *)c->obuf;

	rep->version = IAM_PROTO_VERSION;
	rep->op = c->req.op | IAM_DATA_REPLY;
	rep->status = htons((uint16_t)status);
	rep->xid = c->req.xid;
	rep->len = htonl(status ? 0 : len);
	rep->pad = 0;
	c->outlen = (uint32_t)sizeof(*rep) + (status ? 0 : len);
	c->sent = 0;
	c->state = SRV_SEND;
}

/*
 * Send the answer built in obuf with its payload straight from mem (one
 * copy, into the socket).  What the socket does not take now is copied
 * behind the header in obuf and goes out as the socket drains, so mem is
 * not needed after this returns.
 */
static void srv_send_from(struct srv_conn *c, const void *mem, uint32_t len)
{
	struct iovec iov[2] = { { c->obuf, sizeof(struct iam_data_rep) },
				{ (void *)mem, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t k;

	do {
		k = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (k < 0 && errno == EINTR);
	if (k < 0)
		k = 0; /* srv_io sends it all, or finds the error */
	c->sent = (uint32_t)k;
	if (c->sent < c->outlen)
		memcpy(c->obuf + sizeof(struct iam_data_rep), mem, len);
}

static void srv_serve(struct iam_tcpx_server *s, struct srv_conn *c)
{
	const struct iam_tcpx_access *a = &s->cfg.access;
	uint8_t *payload = c->obuf + sizeof(struct iam_data_rep);
	uint32_t off = ntohl(c->req.off), len = ntohl(c->req.len);
	struct iam_tcpx_token tok = { 0, 0 };
	struct in6_addr block;
	void *mem = NULL;
	int err;

	memcpy(&block, c->req.block, 16);
	switch (c->req.op) {
	case IAM_DATA_PING:
		memset(payload, 0, len);
		srv_count(s, &s->stats.pings);
		srv_answer(c, 0, len);
		return;
	case IAM_DATA_READ:
		err = a->resolve(a->arg, &c->peer, &block, off, len, false,
				 &mem, &tok);
		if (err)
			break;
		srv_count(s, &s->stats.reads);
		srv_answer(c, 0, len);
		srv_send_from(c, mem, len);
		a->finish(a->arg, false, &tok);
		return;
	case IAM_DATA_WRITE:
		/* The block is held between resolve and finish, so it cannot
		 * be released and handed to someone else under the copy. */
		err = a->resolve(a->arg, &c->peer, &block, off, len, true, &mem,
				 &tok);
		if (err)
			break;
		memcpy(mem, c->in, len);
		a->finish(a->arg, true, &tok);
		srv_count(s, &s->stats.writes);
		srv_answer(c, 0, 0);
		return;
	default:
		err = -EOPNOTSUPP;
		break;
	}
	srv_count(s, &s->stats.denied);
	if (iam_log_get_level() >= IAM_LOG_DEBUG) {
		char pb[INET6_ADDRSTRLEN], bb[INET6_ADDRSTRLEN];

		iam_dbg("data server: refused op %u from %s for %s +%u/%u: %s",
			c->req.op,
			inet_ntop(AF_INET6, &c->peer, pb, sizeof(pb)),
			inet_ntop(AF_INET6, &block, bb, sizeof(bb)), off, len,
			strerror(-err));
	}
	srv_answer(c, -err, 0);
}

/* A request we cannot answer in kind: log once and close. */
static bool srv_malformed(struct iam_tcpx_server *s, struct srv_conn *c,
			  const char *why)
{
	char pb[INET6_ADDRSTRLEN];

	iam_warn("data server: closing connection from %s: %s",
		 inet_ntop(AF_INET6, &c->peer, pb, sizeof(pb)), why);
	srv_count(s, &s->stats.malformed);
	return false;
}

/* Wait for room to send (on) or for the next request (off). */
static bool srv_want_out(struct iam_tcpx_server *s, struct srv_conn *c, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLOUT : EPOLLIN,
				  .data.ptr = c };

	if (c->want_out == on)
		return true;
	c->want_out = on;
	return epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0;
}

/* Progress one connection; false when it must be closed. */
static bool srv_io(struct iam_tcpx_server *s, struct srv_conn *c)
{
	for (;;) {
		ssize_t k;

		switch (c->state) {
		case SRV_HDR:
			k = recv(c->fd, (uint8_t *)&c->req + c->got,
				 sizeof(c->req) - c->got, 0);
			if (k == 0)
				return false;
			if (k < 0)
				return errno == EAGAIN || errno == EINTR;
			c->got += (uint32_t)k;
			if (c->got < sizeof(c->req))
				continue;
			c->got = 0;
			if (c->req.version != IAM_PROTO_VERSION)
				return srv_malformed(s, c,
						     "unsupported version");
			if (ntohl(c->req.len) > s->cfg.max_io)
				return srv_malformed(s, c,
						     "length over the limit");
			if (c->req.op == IAM_DATA_WRITE && c->req.len) {
				c->state = SRV_PAYLOAD;
				continue;
			}
			srv_serve(s, c);
			continue;
		case SRV_PAYLOAD:
			k = recv(c->fd, c->in + c->got,
				 ntohl(c->req.len) - c->got, 0);
			if (k == 0)
				return false;
			if (k < 0)
				return errno == EAGAIN || errno == EINTR;
			c->got += (uint32_t)k;
			if (c->got < ntohl(c->req.len))
				continue;
			c->got = 0;
			srv_serve(s, c);
			continue;
		case SRV_SEND:
			if (c->sent == c->outlen) {
				k = 0;
				goto sent;
			}
			k = send(c->fd, c->obuf + c->sent, c->outlen - c->sent,
				 MSG_NOSIGNAL);
			if (k < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN)
					return false;
				return srv_want_out(s, c, true);
			}
sent:
			c->sent += (uint32_t)k;
			if (c->sent < c->outlen)
				continue;
			c->state = SRV_HDR;
			if (!srv_want_out(s, c, false))
				return false;
			/* One request in flight per connection: the next one
			 * cannot be here before this answer, so go back to
			 * epoll rather than try a read that fails. */
			return true;
		}
	}
}

static void *srv_thread(void *arg)
{
	struct iam_tcpx_server *s = arg;
	struct epoll_event evs[32];

	if (s->cfg.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(s->cfg.cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	for (;;) {
		int timeout = -1, n;

		if (s->paused_until_ms) {
			uint64_t now = iam_now_ms();

			if (now >= s->paused_until_ms) {
				struct epoll_event on = {
					.events = EPOLLIN,
					.data.ptr = &s->lfd,
				};

				epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->lfd, &on);
				s->paused_until_ms = 0;
			} else {
				timeout = (int)(s->paused_until_ms - now);
			}
		}
		n = epoll_wait(s->epfd, evs, 32, timeout);
		if (n < 0 && errno != EINTR) {
			iam_err("data server: epoll: %s", strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &s->stopfd)
				return NULL;
			if (p == &s->lfd) {
				srv_accept(s);
				continue;
			}
			if (!srv_io(s, p))
				srv_conn_free(s, p);
		}
	}
}

int iam_tcpx_server_start(const struct iam_tcpx_server_config *cfg,
			  struct iam_tcpx_server **out)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_port = htons(cfg->port),
				   .sin6_addr = cfg->addr };
	struct epoll_event ev = { .events = EPOLLIN };
	struct iam_tcpx_server *s;
	int one = 1, err;

	if (!cfg->max_io || cfg->max_io > IAM_DATA_MAX_IO ||
	    !cfg->access.resolve || !cfg->access.finish)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->epfd = s->stopfd = -1;
	s->lfd =
		socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		err = -errno;
		goto err_free;
	}
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Connections accepted here inherit the device binding, so their
	 * answers leave through it too (socket(7), SO_BINDTODEVICE). */
	if (cfg->ifname[0] &&
	    setsockopt(s->lfd, SOL_SOCKET, SO_BINDTODEVICE, cfg->ifname,
		       (socklen_t)strnlen(cfg->ifname, IF_NAMESIZE)) < 0) {
		err = -errno;
		goto err_lfd;
	}
	/* Block addresses are local only through the pool's local route, not
	 * as interface addresses; a socket on :: receives them all. */
	if (bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s->lfd, 128) < 0) {
		err = -errno;
		goto err_lfd;
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->epfd < 0 || s->stopfd < 0) {
		err = -errno;
		goto err_fds;
	}
	ev.data.ptr = &s->lfd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) < 0) {
		err = -errno;
		goto err_fds;
	}
	ev.data.ptr = &s->stopfd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->stopfd, &ev) < 0) {
		err = -errno;
		goto err_fds;
	}
	err = -pthread_create(&s->thread, NULL, srv_thread, s);
	if (err)
		goto err_fds;
	*out = s;
	return 0;

err_fds:
	if (s->stopfd >= 0)
		close(s->stopfd);
	if (s->epfd >= 0)
		close(s->epfd);
err_lfd:
	close(s->lfd);
err_free:
	free(s);
	return err;
}

void iam_tcpx_server_stop(struct iam_tcpx_server *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (write(s->stopfd, &one, sizeof(one)) < 0)
		iam_warn("data server: stop: %s", strerror(errno));
	pthread_join(s->thread, NULL);
	while (s->conns)
		srv_conn_free(s, s->conns);
	close(s->lfd);
	close(s->stopfd);
	close(s->epfd);
	free(s);
}

void iam_tcpx_server_get_stats(struct iam_tcpx_server *s,
			       struct iam_tcpx_server_stats *st)
{
	st->connections =
		__atomic_load_n(&s->stats.connections, __ATOMIC_RELAXED);
	st->reads = __atomic_load_n(&s->stats.reads, __ATOMIC_RELAXED);
	st->writes = __atomic_load_n(&s->stats.writes, __ATOMIC_RELAXED);
	st->pings = __atomic_load_n(&s->stats.pings, __ATOMIC_RELAXED);
	st->denied = __atomic_load_n(&s->stats.denied, __ATOMIC_RELAXED);
	st->malformed = __atomic_load_n(&s->stats.malformed, __ATOMIC_RELAXED);
}

uint16_t iam_tcpx_server_port(const struct iam_tcpx_server *s)
{
	struct sockaddr_in6 sa;
	socklen_t sl = sizeof(sa);

	if (getsockname(s->lfd, (struct sockaddr *)&sa, &sl) < 0)
		return 0;
	return ntohs(sa.sin6_port);
}
