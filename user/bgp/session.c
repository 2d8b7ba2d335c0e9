// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * session.c - BGP sessions: the RFC 4271 finite state machine (section 8)
 * over non-blocking sockets and the agent's event loop, connection
 * collisions (6.8), the ConnectRetry, Hold and Keepalive timers (10),
 * TCP MD5 signatures (RFC 2385), and sending the routes we originate.
 *
 * Each peer has two connection slots, one we opened and one the peer
 * opened; both run the FSM from OpenSent on, and the first to reach
 * Established wins (the other is closed with Cease / Connection Collision
 * Resolution, RFC 4486).  Connect and Active are the states of the peer
 * while neither slot has a live session.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bgp/session.h"
#include "log.h"

/* RFC 4271 8.2.2: the hold timer before an OPEN arrives, "a large value"
 * (4 minutes suggested). */
#define BGP_OPEN_HOLD_MS (240 * 1000)
/* How long a closing socket may take to deliver our NOTIFICATION. */
#define BGP_LINGER_MS 2000
/* Back-off ceiling for a peer whose sessions keep failing. */
#define BGP_RETRY_MAX_MS (60 * 1000)
/* A session that lived this long was not a flap. */
#define BGP_STABLE_MS (60 * 1000)
/* Output queued beyond this means the peer does not read: give up. */
#define BGP_WBUF_MAX (8u << 20)

__attribute__((format(printf, 3, 4))) static void
peer_log(int level, const struct bgp_peer *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (level > iam_log_get_level())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	iam_log(level, "bgp: peer %s: %s", p->name, msg);
}

static void conn_io_cb(struct iam_loop *loop, int fd, uint32_t events,
		       void *arg);
static void conn_down(struct bgp_conn *c, bool linger);
static void peer_schedule(struct bgp_peer *p);
static void stop_check(struct iam_bgp *bgp);

/* ---- addresses ------------------------------------------------------- */

static int addr_family(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a) ? AF_INET : AF_INET6;
}

static socklen_t sockaddr_make(struct sockaddr_storage *ss, int family,
			       const struct in6_addr *a, uint16_t port,
			       uint32_t scope)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, &a->s6_addr[12], 4);
		return sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = *a;
		s6->sin6_scope_id = scope;
		return sizeof(*s6);
	}
}

/* Any socket address as IPv6 (IPv4 mapped); false for other families.
 * Copied out, as getifaddrs() gives no alignment guarantee. */
static bool sockaddr_in6_of(const void *sa, struct in6_addr *a, uint32_t *scope)
{
	sa_family_t family;

	memcpy(&family, (const char *)sa + offsetof(struct sockaddr, sa_family),
	       sizeof(family));
	*scope = 0;
	if (family == AF_INET6) {
		struct sockaddr_in6 s6;

		memcpy(&s6, sa, sizeof(s6));
		*a = s6.sin6_addr;
		*scope = s6.sin6_scope_id;
		return true;
	}
	if (family == AF_INET) {
		struct sockaddr_in s4;

		memcpy(&s4, sa, sizeof(s4));
		memset(a, 0, sizeof(*a));
		a->s6_addr[10] = a->s6_addr[11] = 0xff;
		memcpy(&a->s6_addr[12], &s4.sin_addr, 4);
		return true;
	}
	memset(a, 0, sizeof(*a));
	return false;
}

static const char *addr_str(const struct in6_addr *a, char *buf, size_t len)
{
	if (IN6_IS_ADDR_V4MAPPED(a))
		return inet_ntop(AF_INET, &a->s6_addr[12], buf, (socklen_t)len);
	return inet_ntop(AF_INET6, a, buf, (socklen_t)len);
}

/* RFC 2385: every segment to or from the peer's address carries an MD5
 * digest keyed with the secret.  On an IPv6 socket a v4-mapped address
 * installs an IPv4 key (the kernel's tcp_v6_parse_md5_keys). */
static int md5_set(int fd, int family, const struct bgp_peer *p)
{
	struct tcp_md5sig m;
	struct sockaddr_storage ss;
	size_t klen = strlen(p->cfg.md5);

	memset(&m, 0, sizeof(m));
	sockaddr_make(&ss, family, &p->cfg.addr, 0, p->cfg.scope_id);
	if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&p->cfg.addr))
		((struct sockaddr_in6 *)&ss)->sin6_scope_id = 0;
	memcpy(&m.tcpm_addr, &ss, sizeof(ss));
	m.tcpm_keylen = (uint16_t)klen;
	memcpy(m.tcpm_key, p->cfg.md5, klen);
	if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &m, sizeof(m)) < 0)
		return -errno;
	return 0;
}

/* ---- peer state ------------------------------------------------------ */

static enum iam_bgp_state peer_state(const struct bgp_peer *p)
{
	enum iam_bgp_state s = IAM_BGP_IDLE;

	if (p->est)
		return IAM_BGP_ESTABLISHED;
	for (int i = 0; i < 2; i++)
		if (p->conn[i].fd >= 0 && p->conn[i].state > s)
			s = p->conn[i].state;
	/* RFC 4271 8.2.2: Active is waiting for the peer to connect, which
	 * a passive peer, or one between attempts, is doing. */
	if (s == IAM_BGP_IDLE && !p->bgp->stopping &&
	    (p->cfg.passive || iam_timer_armed(&p->retry)))
		s = IAM_BGP_ACTIVE;
	return s;
}

static void peer_touch(struct bgp_peer *p)
{
	enum iam_bgp_state s = peer_state(p);

	if (s != p->shown) {
		p->shown = s;
		p->since_ms = iam_now_ms();
	}
}

static void peer_info(const struct bgp_peer *p, struct iam_bgp_peer_info *i)
{
	const struct bgp_conn *c = p->est;

	memset(i, 0, sizeof(*i));
	i->name = p->name;
	i->addr = p->cfg.addr;
	i->remote_as = p->cfg.remote_as;
	i->state = peer_state(p);
	i->since_ms = p->since_ms;
	i->ibgp = p->ibgp;
	i->passive = p->cfg.passive;
	i->updates_in = p->updates_in;
	i->updates_out = p->updates_out;
	i->flaps = p->flaps;
	i->last_error = p->last_error;
	for (int k = 0; k < 2 && !i->remote_id; k++)
		if (p->conn[k].fd >= 0 &&
		    p->conn[k].state >= IAM_BGP_OPENCONFIRM)
			i->remote_id = p->conn[k].open.bgp_id;
	if (c) {
		i->hold_time = p->hold;
		i->as4 = p->as4;
		i->route_refresh = p->rr;
		i->local_addr = p->local;
		i->prefixes = p->src.nroutes;
	}
}

static void peer_hook(struct bgp_peer *p)
{
	struct iam_bgp_peer_info i;

	if (!p->bgp->hooks.peer)
		return;
	peer_info(p, &i);
	p->bgp->hooks.peer(p->bgp->hooks.ctx, &i);
}

/* ---- output ---------------------------------------------------------- */

static void conn_kill_cb(struct iam_loop *loop, struct iam_timer *t, void *arg)
{
	struct bgp_conn *c = arg;

	peer_log(IAM_LOG_WARN, c->peer, "%s", c->kill_reason);
	snprintf(c->peer->last_error, sizeof(c->peer->last_error), "%s",
		 c->kill_reason);
	conn_down(c, false);
}

/* Close from the loop, not from inside whatever was sending. */
static void conn_kill_later(struct bgp_conn *c, const char *why, int err)
{
	if (c->dead)
		return;
	c->dead = true;
	snprintf(c->kill_reason, sizeof(c->kill_reason), "%s: %s", why,
		 strerror(err));
	iam_timer_arm(c->peer->bgp->loop, &c->kill, 0);
}

static void conn_pollout(struct bgp_conn *c, bool on)
{
	if (c->pollout == on)
		return;
	c->pollout = on;
	iam_loop_mod(c->peer->bgp->loop, c->fd,
		     EPOLLIN | (on ? (uint32_t)EPOLLOUT : 0));
}

static void conn_send(struct bgp_conn *c, const uint8_t *buf, size_t len)
{
	ssize_t n = 0;

	if (c->fd < 0 || c->dead || !len)
		return;
	if (!c->wlen) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				return conn_kill_later(c, "send", errno);
			n = 0;
		}
		if ((size_t)n == len)
			return;
	}
	len -= (size_t)n;
	buf += n;
	if (c->wlen + len > c->wcap) {
		size_t cap = c->wcap ? c->wcap : 4096;
		uint8_t *nb;

		while (cap < c->wlen + len)
			cap *= 2;
		if (cap > BGP_WBUF_MAX)
			return conn_kill_later(c, "peer does not read",
					       ENOBUFS);
		nb = realloc(c->wbuf, cap);
		if (!nb)
			return conn_kill_later(c, "output queue", ENOMEM);
		c->wbuf = nb;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, buf, len);
	c->wlen += len;
	if (c->state != IAM_BGP_CONNECT)
		conn_pollout(c, true);
}

static void conn_flush(struct bgp_conn *c)
{
	ssize_t n;

	if (!c->wlen) {
		conn_pollout(c, false);
		return;
	}
	n = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_kill_later(c, "send", errno);
		return;
	}
	memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
	c->wlen -= (size_t)n;
	if (!c->wlen)
		conn_pollout(c, false);
}

/* RFC 4271 4.2: the smaller of the two hold times; 0 means no timers. */
static uint16_t conn_hold(const struct bgp_conn *c)
{
	uint16_t ours = c->peer->bgp->cfg.hold_time;

	return c->open.hold_time < ours ? c->open.hold_time : ours;
}

static void conn_keepalive_arm(struct bgp_conn *c)
{
	/* RFC 4271 10: KeepaliveTime is a third of HoldTime. */
	uint64_t ms = conn_hold(c) * 1000ull / 3;

	if (ms && c->state >= IAM_BGP_OPENCONFIRM)
		iam_timer_arm(c->peer->bgp->loop, &c->keepalive,
			      ms < 1000 ? 1000 : ms);
}

static void conn_send_keepalive(struct bgp_conn *c)
{
	uint8_t m[IAM_BGP_KEEPALIVE_LEN];

	iam_bgp_write_keepalive(m, sizeof(m));
	conn_send(c, m, sizeof(m));
	conn_keepalive_arm(c);
}

/* Send a NOTIFICATION, log it with the peer's address, close. */
__attribute__((format(printf, 6, 7))) static void
conn_notify(struct bgp_conn *c, uint8_t code, uint8_t subcode, const void *data,
	    size_t len, const char *fmt, ...)
{
	struct bgp_peer *p = c->peer;
	uint8_t m[IAM_BGP_MAX_MSG];
	char why[256], name[96];
	bool quiet = code == IAM_BGP_ERR_CEASE &&
		     (subcode == IAM_BGP_CEASE_COLLISION ||
		      subcode == IAM_BGP_CEASE_SHUTDOWN);
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	iam_bgp_error_name(code, subcode, name, sizeof(name));
	peer_log(quiet ? IAM_LOG_INFO : IAM_LOG_ERR, p,
		 "sending NOTIFICATION %u/%u (%s): %s", code, subcode, name,
		 why);
	if (!quiet)
		snprintf(p->last_error, sizeof(p->last_error),
			 "sent %u/%u %.100s: %.200s", code, subcode, name, why);
	n = iam_bgp_write_notification(m, sizeof(m), code, subcode, data, len);
	if (n > 0)
		conn_send(c, m, (size_t)n);
	conn_down(c, true);
}

static void conn_fsm_error(struct bgp_conn *c, uint8_t type)
{
	/* RFC 6608 3: the subcode names the state. */
	uint8_t sub =
		c->state == IAM_BGP_OPENSENT	? IAM_BGP_FSM_IN_OPENSENT :
		c->state == IAM_BGP_OPENCONFIRM ? IAM_BGP_FSM_IN_OPENCONFIRM :
						  IAM_BGP_FSM_IN_ESTABLISHED;

	conn_notify(c, IAM_BGP_ERR_FSM, sub, NULL, 0, "unexpected %s in %s",
		    iam_bgp_msg_name(type), iam_bgp_state_name(c->state));
}

/* ---- lingering close ------------------------------------------------- */

static void linger_end(struct bgp_linger *l)
{
	struct iam_bgp *bgp = l->bgp;
	struct bgp_linger **pp;

	iam_loop_del(bgp->loop, l->fd);
	close(l->fd);
	iam_timer_cancel(bgp->loop, &l->t);
	for (pp = &bgp->lingers; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	free(l->wbuf);
	free(l);
	if (bgp->stopping && !bgp->lingers)
		iam_timer_arm(bgp->loop, &bgp->stop_timer, 0);
}

static void linger_timer_cb(struct iam_loop *loop, struct iam_timer *t,
			    void *arg)
{
	linger_end(arg);
}

static void linger_cb(struct iam_loop *loop, int fd, uint32_t events, void *arg)
{
	struct bgp_linger *l = arg;
	char buf[4096];
	ssize_t n;

	if (l->wlen && (events & EPOLLOUT)) {
		n = send(fd, l->wbuf, l->wlen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return linger_end(l);
		if (n > 0) {
			memmove(l->wbuf, l->wbuf + n, l->wlen - (size_t)n);
			l->wlen -= (size_t)n;
		}
		if (!l->wlen) {
			shutdown(fd, SHUT_WR);
			iam_loop_mod(loop, fd, EPOLLIN);
		}
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return linger_end(l);
	}
}

static void linger_start(struct iam_bgp *bgp, int fd, uint8_t *wbuf,
			 size_t wlen)
{
	struct bgp_linger *l = calloc(1, sizeof(*l));

	if (!l || iam_loop_add(bgp->loop, fd,
			       EPOLLIN | (wlen ? (uint32_t)EPOLLOUT : 0),
			       linger_cb, l)) {
		free(l);
		free(wbuf);
		close(fd);
		return;
	}
	l->bgp = bgp;
	l->fd = fd;
	l->wbuf = wbuf;
	l->wlen = wlen;
	if (!wlen)
		shutdown(fd, SHUT_WR);
	iam_timer_init(&l->t, linger_timer_cb, l);
	iam_timer_arm(bgp->loop, &l->t, BGP_LINGER_MS);
	l->next = bgp->lingers;
	bgp->lingers = l;
}

/* ---- connections ----------------------------------------------------- */

static void peer_down(struct bgp_peer *p)
{
	struct iam_bgp *bgp = p->bgp;
	struct bgp_conn *c = p->est;

	p->est = NULL;
	p->flaps++;
	if (iam_now_ms() - c->since_ms >= BGP_STABLE_MS)
		p->fails = 0;
	else
		p->fails++;
	peer_log(IAM_LOG_INFO, p, "session down, %u routes dropped",
		 p->src.nroutes);
	iam_bgp_rib_flush(&bgp->rib, &p->src);
	peer_touch(p);
	peer_hook(p);
}

/* Close the slot; with linger, queued output (a NOTIFICATION) is still
 * delivered before the socket goes. */
static void conn_down(struct bgp_conn *c, bool linger)
{
	struct bgp_peer *p = c->peer;
	struct iam_bgp *bgp = p->bgp;
	struct bgp_conn *other = &p->conn[c == &p->conn[0]];
	bool was_est = p->est == c, opened = c->state >= IAM_BGP_OPENSENT;

	if (c->fd < 0)
		return;
	iam_loop_del(bgp->loop, c->fd);
	iam_timer_cancel(bgp->loop, &c->hold);
	iam_timer_cancel(bgp->loop, &c->keepalive);
	iam_timer_cancel(bgp->loop, &c->kill);
	if (linger && !c->dead) {
		linger_start(bgp, c->fd, c->wbuf, c->wlen);
	} else {
		close(c->fd);
		free(c->wbuf);
	}
	c->fd = -1;
	c->wbuf = NULL;
	c->wlen = c->wcap = 0;
	c->rlen = 0;
	c->state = IAM_BGP_IDLE;
	c->dead = false;
	c->pollout = false;
	c->gen++;
	if (was_est)
		peer_down(p);
	else if (opened && !p->est && other->fd < 0)
		p->fails++; /* OPEN exchange failed (not a collision loser) */
	peer_schedule(p);
	peer_touch(p);
}

static void hold_cb(struct iam_loop *loop, struct iam_timer *t, void *arg)
{
	struct bgp_conn *c = arg;

	/* RFC 4271 6.5. */
	conn_notify(c, IAM_BGP_ERR_HOLD, 0, NULL, 0,
		    "hold timer expired, nothing heard for %u s",
		    c->state >= IAM_BGP_OPENCONFIRM ? conn_hold(c) :
						      BGP_OPEN_HOLD_MS / 1000);
}

static void keepalive_cb(struct iam_loop *loop, struct iam_timer *t, void *arg)
{
	conn_send_keepalive(arg);
}

static void hold_restart(struct bgp_conn *c)
{
	uint16_t hold = conn_hold(c);

	if (c->state < IAM_BGP_OPENCONFIRM)
		return;
	/* RFC 4271 4.4: a negotiated hold time of zero means no timers. */
	if (hold)
		iam_timer_arm(c->peer->bgp->loop, &c->hold, hold * 1000ull);
	else
		iam_timer_cancel(c->peer->bgp->loop, &c->hold);
}

/* TCP is up: send our OPEN (RFC 4271 8.2.2, Connect -> OpenSent). */
static void conn_start(struct bgp_conn *c)
{
	struct iam_bgp *bgp = c->peer->bgp;
	uint8_t m[64];
	int n;

	c->state = IAM_BGP_OPENSENT;
	c->since_ms = iam_now_ms();
	memset(&c->open, 0, sizeof(c->open));
	iam_loop_mod(bgp->loop, c->fd, EPOLLIN);
	c->pollout = false;
	n = iam_bgp_write_open(m, sizeof(m), bgp->cfg.local_as,
			       bgp->cfg.hold_time, bgp->cfg.router_id);
	conn_send(c, m, (size_t)n);
	iam_timer_arm(bgp->loop, &c->hold, BGP_OPEN_HOLD_MS);
	peer_log(IAM_LOG_DEBUG, c->peer, "%s connection up, OPEN sent",
		 c->outgoing ? "outgoing" : "incoming");
	peer_touch(c->peer);
}

static int sock_setup(int fd)
{
	int one = 1;

	/* Small messages, latency matters (V_i changes). */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

static void conn_connect(struct bgp_peer *p)
{
	struct iam_bgp *bgp = p->bgp;
	struct bgp_conn *c = &p->conn[0];
	int family = addr_family(&p->cfg.addr);
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *what;
	int fd, err;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		what = "socket";
		goto fail;
	}
	if (p->cfg.md5[0] && (err = md5_set(fd, family, p))) {
		what = "TCP MD5 signature (RFC 2385)";
		goto fail_fd;
	}
	if (p->cfg.ifname[0] &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, p->cfg.ifname,
		       (socklen_t)strlen(p->cfg.ifname)) < 0) {
		err = -errno;
		what = "bind to device";
		goto fail_fd;
	}
	if (p->cfg.has_source) {
		sl = sockaddr_make(&ss, family, &p->cfg.source, 0,
				   p->cfg.scope_id);
		if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
			err = -errno;
			what = "bind to the source address";
			goto fail_fd;
		}
	}
	err = sock_setup(fd);
	if (err) {
		what = "socket options";
		goto fail_fd;
	}
	sl = sockaddr_make(&ss, family, &p->cfg.addr, p->cfg.port,
			   p->cfg.scope_id);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 &&
	    errno != EINPROGRESS) {
		err = -errno;
		what = "connect";
		goto fail_fd;
	}
	err = iam_loop_add(bgp->loop, fd, EPOLLOUT, conn_io_cb, c);
	if (err) {
		what = "event loop";
		goto fail_fd;
	}
	c->fd = fd;
	c->outgoing = true;
	c->state = IAM_BGP_CONNECT;
	c->pollout = true;
	c->since_ms = iam_now_ms();
	/* RFC 4271 8.2.2: the ConnectRetryTimer also bounds the attempt. */
	iam_timer_arm(bgp->loop, &p->retry, bgp->cfg.connect_retry_ms);
	peer_log(IAM_LOG_DEBUG, p, "connecting");
	peer_touch(p);
	return;

fail_fd:
	close(fd);
fail:
	peer_log(IAM_LOG_WARN, p, "%s: %s", what, strerror(-err));
	snprintf(p->last_error, sizeof(p->last_error), "%s: %s", what,
		 strerror(-err));
	peer_schedule(p);
	peer_touch(p);
}

/* ConnectRetryTimer: (re)try our own connection. */
static void retry_cb(struct iam_loop *loop, struct iam_timer *t, void *arg)
{
	struct bgp_peer *p = arg;
	struct bgp_conn *c = &p->conn[0];

	if (p->bgp->stopping || p->est || p->cfg.passive)
		return;
	if (c->fd >= 0) {
		if (c->state != IAM_BGP_CONNECT)
			return;
		peer_log(IAM_LOG_DEBUG, p, "connect timed out");
		conn_down(c, false);
		iam_timer_cancel(loop, &p->retry);
	}
	/* A connection the peer opened is under way: let it finish. */
	if (p->conn[1].fd >= 0) {
		peer_schedule(p);
		return;
	}
	conn_connect(p);
}

/* Arm the ConnectRetryTimer, unless something is under way. */
static void peer_schedule(struct bgp_peer *p)
{
	struct iam_bgp *bgp = p->bgp;
	uint64_t ms = bgp->cfg.connect_retry_ms;
	unsigned shift = p->fails < 5 ? p->fails : 5;

	if (bgp->stopping || p->cfg.passive || p->est || p->conn[0].fd >= 0 ||
	    iam_timer_armed(&p->retry))
		return;
	/* RFC 4271 8.1.1 (DampPeerOscillations): a peer whose sessions
	 * keep failing is retried less and less often. */
	ms <<= shift;
	if (ms > BGP_RETRY_MAX_MS)
		ms = BGP_RETRY_MAX_MS > bgp->cfg.connect_retry_ms ?
			     BGP_RETRY_MAX_MS :
			     bgp->cfg.connect_retry_ms;
	/* RFC 4271 10: jitter, 75% to 100% of the value. */
	ms = ms * (75 + iam_now_ns() % 26) / 100;
	iam_timer_arm(bgp->loop, &p->retry, ms);
}

/* ---- receiving ------------------------------------------------------- */

/* The next hop we give this peer for our routes (RFC 2545 3): the
 * session's local address (or the configured one), plus our link-local
 * address on that interface when the peer shares the link. */
static void peer_nexthop(struct bgp_peer *p, int fd)
{
	struct iam_bgp *bgp = p->bgp;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct ifaddrs *ifa0 = NULL, *ifa;
	const char *ifname = NULL;
	uint32_t scope = 0;
	bool onlink = false;

	memset(&p->local, 0, sizeof(p->local));
	p->has_nh_ll = false;
	p->src.ifindex = p->cfg.scope_id;
	if (!getsockname(fd, (struct sockaddr *)&ss, &sl))
		sockaddr_in6_of(&ss, &p->local, &scope);
	if (!IN6_IS_ADDR_UNSPECIFIED(&p->local) && !getifaddrs(&ifa0)) {
		for (ifa = ifa0; ifa; ifa = ifa->ifa_next) {
			struct in6_addr a, m;
			uint32_t sc;

			if (!ifa->ifa_addr || !ifa->ifa_netmask ||
			    !sockaddr_in6_of(ifa->ifa_addr, &a, &sc) ||
			    memcmp(&a, &p->local, sizeof(a)))
				continue;
			ifname = ifa->ifa_name;
			sockaddr_in6_of(ifa->ifa_netmask, &m, &sc);
			if (IN6_IS_ADDR_V4MAPPED(&a))
				memset(&m, 0xff, 12);
			onlink = true;
			for (int i = 0; i < 16; i++)
				if ((a.s6_addr[i] ^ p->cfg.addr.s6_addr[i]) &
				    m.s6_addr[i])
					onlink = false;
			break;
		}
		if (ifname)
			p->src.ifindex = if_nametoindex(ifname);
		if (IN6_IS_ADDR_LINKLOCAL(&p->cfg.addr))
			onlink = true;
		for (ifa = ifa0; onlink && ifname && ifa; ifa = ifa->ifa_next) {
			struct in6_addr a;
			uint32_t sc;

			if (!ifa->ifa_addr || strcmp(ifa->ifa_name, ifname) ||
			    ifa->ifa_addr->sa_family != AF_INET6 ||
			    !sockaddr_in6_of(ifa->ifa_addr, &a, &sc) ||
			    !IN6_IS_ADDR_LINKLOCAL(&a))
				continue;
			p->nh_ll = a;
			p->has_nh_ll = true;
			break;
		}
		freeifaddrs(ifa0);
	}
	p->nh = bgp->cfg.has_nexthop ? bgp->cfg.nexthop : p->local;
	if (p->has_nh_ll && !memcmp(&p->nh_ll, &p->nh, sizeof(p->nh)))
		p->has_nh_ll = false;
	if (IN6_IS_ADDR_UNSPECIFIED(&p->nh))
		peer_log(IAM_LOG_WARN, p,
			 "no next hop for our routes (no local address and "
			 "none configured): not announcing");
}

static void peer_send_local(struct bgp_peer *p, const struct bgp_local *l)
{
	struct iam_bgp *bgp = p->bgp;
	struct iam_bgp_out_attrs a = {
		.local_as = bgp->cfg.local_as,
		.ibgp = p->ibgp,
		.as4 = p->as4,
		.local_pref = IAM_BGP_LOCAL_PREF_DEFAULT,
		.nh = p->nh,
		.has_nh_ll = p->has_nh_ll,
		.nh_ll = p->nh_ll,
		.lcomm = l->lc,
		.nlcomm = l->nlc,
	};
	int n;

	if (IN6_IS_ADDR_UNSPECIFIED(&p->nh))
		return;
	n = iam_bgp_write_announce(bgp->msg, sizeof(bgp->msg), &a,
				   &l->node.prefix, 1);
	if (n < 0)
		return;
	conn_send(p->est, bgp->msg, (size_t)n);
	p->updates_out++;
	conn_keepalive_arm(p->est);
}

struct send_all {
	struct bgp_peer *p;
};

static int send_one(void *arg, struct iam_bgp_pfxnode *n)
{
	struct send_all *s = arg;

	peer_send_local(s->p, (struct bgp_local *)n);
	return 0;
}

static void peer_send_all(struct bgp_peer *p)
{
	struct send_all s = { p };

	iam_bgp_pfxmap_walk(&p->bgp->local, send_one, &s);
}

/* Withdraw prefixes, as many per UPDATE as fit. */
static void peer_send_withdraw(struct bgp_peer *p,
			       const struct iam_bgp_prefix *pfx, unsigned n)
{
	struct iam_bgp *bgp = p->bgp;
	unsigned done = 0;

	while (done < n || !n) {
		unsigned k = n - done;
		int len;

		/* 4096 - 19 - 4 - 7 octets hold at least 200 /128s. */
		if (k > 200)
			k = 200;
		len = iam_bgp_write_withdraw(bgp->msg, sizeof(bgp->msg),
					     n ? pfx + done : NULL, k);
		if (len < 0)
			return;
		conn_send(p->est, bgp->msg, (size_t)len);
		p->updates_out++;
		done += k;
		if (!n)
			break;
	}
	conn_keepalive_arm(p->est);
}

static void conn_established(struct bgp_conn *c)
{
	struct bgp_peer *p = c->peer;
	struct bgp_conn *other = &p->conn[c == &p->conn[0]];
	char id[INET_ADDRSTRLEN], la[INET6_ADDRSTRLEN];
	uint32_t idn = htonl(c->open.bgp_id);

	c->state = IAM_BGP_ESTABLISHED;
	c->since_ms = iam_now_ms();
	p->est = c;
	iam_timer_cancel(p->bgp->loop, &p->retry);
	if (other->fd >= 0)
		conn_notify(other, IAM_BGP_ERR_CEASE, IAM_BGP_CEASE_COLLISION,
			    NULL, 0,
			    "the other connection reached Established first");
	p->as4 = c->open.as4_cap;
	p->rr = c->open.rr_cap;
	p->hold = conn_hold(c);
	p->src.router_id = c->open.bgp_id;
	p->src.ibgp = p->ibgp;
	p->last_error[0] = 0;
	peer_nexthop(p, c->fd);
	inet_ntop(AF_INET, &idn, id, sizeof(id));
	peer_log(
		IAM_LOG_INFO, p,
		"session established (%s, AS %u, id %s, hold %u s, local %s%s%s)",
		p->ibgp ? "iBGP" : "eBGP", iam_bgp_open_as(&c->open), id,
		p->hold, addr_str(&p->local, la, sizeof(la)),
		p->as4 ? "" : ", two-octet AS peer",
		p->rr ? "" : ", no route refresh");
	/* RFC 4271 9.4: our routes, then End-of-RIB (RFC 4724 2). */
	peer_send_all(p);
	if (p->est == c)
		peer_send_withdraw(p, NULL, 0);
	peer_touch(p);
	peer_hook(p);
}

static void rx_open(struct bgp_conn *c, const uint8_t *body, size_t len)
{
	struct bgp_peer *p = c->peer;
	struct iam_bgp *bgp = p->bgp;
	struct bgp_conn *other = &p->conn[c == &p->conn[0]];
	struct iam_bgp_open_expect x = {
		.peer_as = p->cfg.remote_as,
		.local_id = bgp->cfg.router_id,
		.ibgp = p->ibgp,
	};
	struct iam_bgp_error *err = &bgp->upd.err;
	struct iam_bgp_open o;
	uint16_t hold;

	if (c->state != IAM_BGP_OPENSENT)
		return conn_fsm_error(c, IAM_BGP_MSG_OPEN);
	if (iam_bgp_open_decode(body, len, &o, err))
		return conn_notify(c, err->code, err->subcode, err->data,
				   err->len, "malformed OPEN");
	if (iam_bgp_open_check(&o, &x, err))
		return conn_notify(c, err->code, err->subcode, err->data,
				   err->len,
				   "OPEN not acceptable (version %u, AS %u, "
				   "expected AS %u, hold %u s, id 0x%08x%s)",
				   o.version, iam_bgp_open_as(&o),
				   p->cfg.remote_as, o.hold_time, o.bgp_id,
				   iam_bgp_open_has_mp(&o, IAM_BGP_AFI_IPV6,
						       IAM_BGP_SAFI_UNICAST) ?
					   "" :
					   ", no IPv6 unicast capability");
	c->open = o;
	/* RFC 4271 6.8: connection collision.  With the other connection
	 * Established, the new one goes; with it in OpenConfirm the higher
	 * BGP identifier keeps the connection it opened (equal identifiers,
	 * possible between ASes: the higher AS, RFC 6286 2.3). */
	if (other->fd >= 0 && other->state == IAM_BGP_ESTABLISHED)
		return conn_notify(c, IAM_BGP_ERR_CEASE,
				   IAM_BGP_CEASE_COLLISION, NULL, 0,
				   "collision with the established session");
	if (other->fd >= 0 && other->state == IAM_BGP_OPENCONFIRM) {
		bool keep_ours = bgp->cfg.router_id > o.bgp_id ||
				 (bgp->cfg.router_id == o.bgp_id &&
				  bgp->cfg.local_as > p->cfg.remote_as);
		struct bgp_conn *loser = keep_ours ? &p->conn[1] : &p->conn[0];

		conn_notify(loser, IAM_BGP_ERR_CEASE, IAM_BGP_CEASE_COLLISION,
			    NULL, 0, "connection collision, %s one closed",
			    loser->outgoing ? "our" : "their");
		if (loser == c)
			return;
	}
	hold = conn_hold(c);
	c->state = IAM_BGP_OPENCONFIRM;
	c->since_ms = iam_now_ms();
	conn_send_keepalive(c);
	if (hold)
		iam_timer_arm(bgp->loop, &c->hold, hold * 1000ull);
	else
		iam_timer_cancel(bgp->loop, &c->hold);
	peer_touch(p);
}

static void rx_update(struct bgp_conn *c, const uint8_t *body, size_t len)
{
	struct bgp_peer *p = c->peer;
	struct iam_bgp *bgp = p->bgp;
	struct iam_bgp_update *u = &bgp->upd;
	struct iam_bgp_sess s = {
		.as4 = p->as4,
		.ibgp = p->ibgp,
		.enforce_first_as = p->cfg.enforce_first_as,
		.peer_as = p->cfg.remote_as,
	};
	struct iam_bgp_nlri_it it;
	struct iam_bgp_prefix pfx;
	struct iam_bgp_path *path = NULL;
	const char *ignore = NULL;
	unsigned gen = c->gen;
	uint64_t now = iam_now_ms();

	p->updates_in++;
	if (iam_bgp_update_decode(body, len, &s, u))
		return conn_notify(c, u->err.code, u->err.subcode, u->err.data,
				   u->err.len, "UPDATE: %s", u->reason);
	if (u->action == IAM_BGP_ACT_WITHDRAW)
		peer_log(IAM_LOG_WARN, p,
			 "UPDATE treated as withdraw (RFC 7606): %s",
			 u->reason);
	else if (u->action == IAM_BGP_ACT_DISCARD)
		peer_log(IAM_LOG_INFO, p,
			 "UPDATE: %u attribute(s) discarded (RFC 7606): %s",
			 u->discarded, u->reason);
	if (u->nlri4.len || u->withdrawn4.len)
		peer_log(IAM_LOG_DEBUG, p,
			 "IPv4 unicast routes ignored (not negotiated)");
	if (u->eor)
		peer_log(IAM_LOG_DEBUG, p, "End-of-RIB");
	if (u->a.mp_unreach) {
		iam_bgp_nlri_begin(&it, &u->a.unreach);
		while (c->gen == gen && iam_bgp_nlri_next(&it, &pfx))
			iam_bgp_rib_withdraw(&bgp->rib, &p->src, &pfx);
	}
	if (!u->a.mp_reach || !u->a.reach.len || c->gen != gen)
		return;
	if (u->action != IAM_BGP_ACT_WITHDRAW) {
		/* RFC 4456 8: our own route reflected back to us. */
		if (u->a.originator_id &&
		    u->a.originator_id == bgp->cfg.router_id)
			ignore = "ORIGINATOR_ID is ours (RFC 4456 8)";
		/* RFC 4271 9.1.2: a path through our AS is a loop. */
		else if (iam_bgp_aspath_contains(u->a.aspath, u->a.aspath_len,
						 bgp->cfg.local_as))
			ignore = "our AS is in the AS_PATH (RFC 4271 9.1.2)";
		if (ignore)
			peer_log(IAM_LOG_DEBUG, p, "routes ignored: %s",
				 ignore);
		if (!ignore) {
			path = iam_bgp_path_new(&u->a, p->ibgp,
						bgp->cfg.local_as);
			if (!path)
				return conn_notify(c, IAM_BGP_ERR_CEASE,
						   IAM_BGP_CEASE_RESOURCES,
						   NULL, 0,
						   "no memory for routes");
		}
	}
	iam_bgp_nlri_begin(&it, &u->a.reach);
	while (c->gen == gen && iam_bgp_nlri_next(&it, &pfx)) {
		if (!path) {
			iam_bgp_rib_withdraw(&bgp->rib, &p->src, &pfx);
		} else if (iam_bgp_rib_update(&bgp->rib, &p->src, &pfx, path,
					      now)) {
			iam_bgp_path_put(path);
			return conn_notify(c, IAM_BGP_ERR_CEASE,
					   IAM_BGP_CEASE_RESOURCES, NULL, 0,
					   "no memory for routes");
		} else if (bgp->cfg.max_prefixes &&
			   p->src.nroutes > bgp->cfg.max_prefixes) {
			uint8_t d[7];

			/* RFC 4486 4: AFI, SAFI, the upper bound. */
			iam_put16(d, IAM_BGP_AFI_IPV6);
			d[2] = IAM_BGP_SAFI_UNICAST;
			iam_put32(d + 3, bgp->cfg.max_prefixes);
			iam_bgp_path_put(path);
			return conn_notify(c, IAM_BGP_ERR_CEASE,
					   IAM_BGP_CEASE_MAX_PREFIXES, d,
					   sizeof(d), "more than %u routes",
					   bgp->cfg.max_prefixes);
		}
	}
	iam_bgp_path_put(path);
}

static void rx_notification(struct bgp_conn *c, const uint8_t *body, size_t len)
{
	struct bgp_peer *p = c->peer;
	struct iam_bgp_notification n;
	char name[96], text[256] = "";

	if (iam_bgp_notification_decode(body, len, &n))
		n = (struct iam_bgp_notification){ 0, 0, 0, NULL };
	iam_bgp_error_name(n.code, n.subcode, name, sizeof(name));
	if (!iam_bgp_shutdown_text(&n, text + 3, sizeof(text) - 4)) {
		memcpy(text, ": \"", 3);
		strcat(text, "\"");
	}
	/* A Cease is a normal end; anything else means a fault somewhere. */
	peer_log(n.code == IAM_BGP_ERR_CEASE ? IAM_LOG_INFO : IAM_LOG_ERR, p,
		 "received NOTIFICATION %u/%u (%s)%s", n.code, n.subcode, name,
		 text);
	snprintf(p->last_error, sizeof(p->last_error),
		 "received %u/%u %.100s%.260s", n.code, n.subcode, name, text);
	conn_down(c, false);
}

static void rx_route_refresh(struct bgp_conn *c, const uint8_t *body,
			     size_t len)
{
	struct bgp_peer *p = c->peer;
	struct iam_bgp_error *err = &p->bgp->upd.err;
	uint16_t afi;
	uint8_t sub, safi;

	if (iam_bgp_route_refresh_decode(body, len, &afi, &sub, &safi, err))
		return conn_notify(c, err->code, err->subcode, err->data,
				   err->len, "malformed ROUTE-REFRESH");
	/* RFC 2918 4: only for an AFI/SAFI we announced; RFC 7313 3: other
	 * subtypes (BoRR, EoRR) mean nothing without enhanced refresh. */
	if (afi != IAM_BGP_AFI_IPV6 || safi != IAM_BGP_SAFI_UNICAST || sub) {
		peer_log(IAM_LOG_DEBUG, p,
			 "ROUTE-REFRESH for AFI %u SAFI %u subtype %u ignored",
			 afi, safi, sub);
		return;
	}
	peer_log(IAM_LOG_DEBUG, p, "ROUTE-REFRESH: sending our routes again");
	peer_send_all(p);
}

static void conn_handle(struct bgp_conn *c, uint8_t type, const uint8_t *body,
			size_t len)
{
	if (type != IAM_BGP_MSG_NOTIFICATION)
		hold_restart(c);
	switch (type) {
	case IAM_BGP_MSG_OPEN:
		rx_open(c, body, len);
		break;
	case IAM_BGP_MSG_KEEPALIVE:
		if (c->state == IAM_BGP_OPENCONFIRM)
			conn_established(c);
		else if (c->state != IAM_BGP_ESTABLISHED)
			conn_fsm_error(c, type);
		break;
	case IAM_BGP_MSG_UPDATE:
		if (c->state != IAM_BGP_ESTABLISHED)
			return conn_fsm_error(c, type);
		rx_update(c, body, len);
		break;
	case IAM_BGP_MSG_NOTIFICATION:
		rx_notification(c, body, len);
		break;
	case IAM_BGP_MSG_ROUTE_REFRESH:
		if (c->state != IAM_BGP_ESTABLISHED)
			return conn_fsm_error(c, type);
		rx_route_refresh(c, body, len);
		break;
	}
}

static void conn_read(struct bgp_conn *c)
{
	struct iam_bgp_error *err = &c->peer->bgp->upd.err;
	unsigned gen = c->gen;
	size_t off = 0;
	ssize_t n;

	n = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen,
		 MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		peer_log(c->state == IAM_BGP_ESTABLISHED ? IAM_LOG_WARN :
							   IAM_LOG_DEBUG,
			 c->peer, "receive: %s", strerror(errno));
		snprintf(c->peer->last_error, sizeof(c->peer->last_error),
			 "receive: %s", strerror(errno));
		return conn_down(c, false);
	}
	if (n == 0) {
		peer_log(c->state == IAM_BGP_ESTABLISHED ? IAM_LOG_WARN :
							   IAM_LOG_DEBUG,
			 c->peer, "connection closed by the peer in %s",
			 iam_bgp_state_name(c->state));
		snprintf(c->peer->last_error, sizeof(c->peer->last_error),
			 "connection closed by the peer");
		return conn_down(c, false);
	}
	c->rlen += (size_t)n;
	while (c->rlen - off >= IAM_BGP_HDR_LEN) {
		uint8_t type;
		int mlen = iam_bgp_header_check(c->rbuf + off, c->rlen - off,
						&type, err);

		if (mlen < 0)
			return conn_notify(c, err->code, err->subcode,
					   err->data, err->len,
					   "bad message header");
		if ((size_t)mlen > c->rlen - off)
			break;
		conn_handle(c, type, c->rbuf + off + IAM_BGP_HDR_LEN,
			    (size_t)mlen - IAM_BGP_HDR_LEN);
		if (c->gen != gen)
			return;
		off += (size_t)mlen;
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
}

static void conn_io_cb(struct iam_loop *loop, int fd, uint32_t events,
		       void *arg)
{
	struct bgp_conn *c = arg;
	unsigned gen = c->gen;

	if (c->dead)
		return;
	if (c->state == IAM_BGP_CONNECT) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr) {
			peer_log(IAM_LOG_DEBUG, c->peer, "connect: %s",
				 strerror(soerr));
			snprintf(c->peer->last_error,
				 sizeof(c->peer->last_error), "connect: %s",
				 strerror(soerr));
			iam_timer_cancel(loop, &c->peer->retry);
			return conn_down(c, false);
		}
		iam_timer_cancel(loop, &c->peer->retry);
		return conn_start(c);
	}
	if (events & EPOLLOUT)
		conn_flush(c);
	if (c->gen == gen && !c->dead &&
	    (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		conn_read(c);
}

/* ---- accepting ------------------------------------------------------- */

static struct bgp_peer *peer_by_addr(struct iam_bgp *bgp,
				     const struct in6_addr *a, uint32_t scope)
{
	for (unsigned i = 0; i < bgp->npeers; i++) {
		struct bgp_peer *p = &bgp->peers[i];

		if (!memcmp(&p->cfg.addr, a, sizeof(*a)) &&
		    (!p->cfg.scope_id || !scope || p->cfg.scope_id == scope))
			return p;
	}
	return NULL;
}

static int conn_adopt(struct bgp_peer *p, int fd)
{
	struct bgp_conn *c = &p->conn[1];
	int err;

	if (c->fd >= 0) {
		peer_log(IAM_LOG_DEBUG, p,
			 "new incoming connection replaces the old one");
		conn_down(c, false);
	}
	err = iam_loop_add(p->bgp->loop, fd, EPOLLIN, conn_io_cb, c);
	if (err) {
		close(fd);
		return err;
	}
	c->fd = fd;
	c->outgoing = false;
	conn_start(c);
	return 0;
}

/* A connection from an address that is no peer of ours: logged at most
 * once a minute, with the count, so that a scan or a flood of them does
 * not flood the log too. */
static void refused_log(struct iam_bgp *bgp, const struct in6_addr *a,
			const char *why)
{
	char as[INET6_ADDRSTRLEN];

	if (!iam_ratelimit(&bgp->refused))
		return;
	iam_info("bgp: connection from %s refused: %s (%llu refused so far)",
		 addr_str(a, as, sizeof(as)), why,
		 (unsigned long long)bgp->refused.count);
}

static void accept_cb(struct iam_loop *loop, int lfd, uint32_t events,
		      void *arg)
{
	struct iam_bgp *bgp = arg;

	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct bgp_peer *p;
		struct in6_addr a;
		uint32_t scope;
		int fd;

		fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (!iam_accept_error_is_hard(errno))
				return;
			iam_warn("bgp: accept: %s; not accepting for 1 s",
				 strerror(errno));
			iam_listener_pause(loop, &bgp->listener, 1000);
			return;
		}
		sockaddr_in6_of(&ss, &a, &scope);
		p = peer_by_addr(bgp, &a, scope);
		if (!p || bgp->stopping) {
			refused_log(bgp, &a,
				    p ? "shutting down" :
					"not a configured peer");
			close(fd);
			continue;
		}
		/* RFC 4271 6.8: an Established session keeps the peer. */
		if (p->est) {
			peer_log(IAM_LOG_DEBUG, p,
				 "connection refused: a session is "
				 "established (RFC 4271 6.8)");
			close(fd);
			continue;
		}
		if (sock_setup(fd)) {
			close(fd);
			continue;
		}
		conn_adopt(p, fd);
	}
}

int iam_bgp_attach_fd(struct iam_bgp *bgp, unsigned idx, int fd)
{
	int fl;

	if (idx >= bgp->npeers || bgp->stopping) {
		close(fd);
		return -EINVAL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (bgp->peers[idx].est) {
		close(fd);
		return -EBUSY;
	}
	return conn_adopt(&bgp->peers[idx], fd);
}

static int listen_open(struct iam_bgp *bgp)
{
	const struct iam_bgp_config *cfg = &bgp->cfg;
	int family = addr_family(&cfg->listen_addr);
	struct sockaddr_storage ss;
	char a[INET6_ADDRSTRLEN];
	socklen_t sl;
	int fd, one = 1, zero = 0, err;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	for (unsigned i = 0; i < bgp->npeers; i++) {
		if (!bgp->peers[i].cfg.md5[0])
			continue;
		err = md5_set(fd, family, &bgp->peers[i]);
		if (err) {
			iam_err("bgp: TCP MD5 key for %s on the listening "
				"socket: %s",
				bgp->peers[i].name, strerror(-err));
			goto fail;
		}
	}
	sl = sockaddr_make(&ss, family, &cfg->listen_addr, cfg->listen_port, 0);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 16) < 0) {
		err = -errno;
		iam_err("bgp: cannot listen on [%s]:%u: %s",
			addr_str(&cfg->listen_addr, a, sizeof(a)),
			cfg->listen_port, strerror(-err));
		goto fail;
	}
	err = iam_loop_add(bgp->loop, fd, EPOLLIN, accept_cb, bgp);
	if (err)
		goto fail;
	bgp->lfd = fd;
	bgp->listener.fd = fd;
	return 0;

fail:
	close(fd);
	return err;
}

/* ---- life cycle ------------------------------------------------------ */

static void shutdown_now(struct iam_bgp *bgp);

static void stop_timer_cb(struct iam_loop *loop, struct iam_timer *t, void *arg)
{
	struct iam_bgp *bgp = arg;

	if (bgp->stopping && !bgp->shutdown_done)
		shutdown_now(bgp);
	stop_check(bgp);
}

static void stop_check(struct iam_bgp *bgp)
{
	if (!bgp->stopping || bgp->stopped || bgp->lingers)
		return;
	for (unsigned i = 0; i < bgp->npeers; i++)
		for (int k = 0; k < 2; k++)
			if (bgp->peers[i].conn[k].fd >= 0)
				return;
	bgp->stopped = true;
	iam_info("bgp: stopped");
	if (bgp->hooks.stopped)
		bgp->hooks.stopped(bgp->hooks.ctx);
}

static void peer_init(struct iam_bgp *bgp, struct bgp_peer *p, unsigned idx,
		      const struct iam_bgp_peer_config *cfg)
{
	char a[INET6_ADDRSTRLEN];

	p->bgp = bgp;
	p->idx = idx;
	p->cfg = *cfg;
	if (p->cfg.ifname[0] && !p->cfg.scope_id &&
	    IN6_IS_ADDR_LINKLOCAL(&p->cfg.addr))
		p->cfg.scope_id = if_nametoindex(p->cfg.ifname);
	addr_str(&cfg->addr, a, sizeof(a));
	if (IN6_IS_ADDR_LINKLOCAL(&cfg->addr) && cfg->ifname[0])
		snprintf(p->name, sizeof(p->name), "%s%%%s", a, cfg->ifname);
	else
		snprintf(p->name, sizeof(p->name), "%s", a);
	p->ibgp = cfg->remote_as == bgp->cfg.local_as;
	p->src.name = p->name;
	p->src.addr = cfg->addr;
	p->src.ibgp = p->ibgp;
	for (int k = 0; k < 2; k++) {
		struct bgp_conn *c = &p->conn[k];

		c->peer = p;
		c->fd = -1;
		c->outgoing = k == 0;
		iam_timer_init(&c->hold, hold_cb, c);
		iam_timer_init(&c->keepalive, keepalive_cb, c);
		iam_timer_init(&c->kill, conn_kill_cb, c);
	}
	iam_timer_init(&p->retry, retry_cb, p);
	p->since_ms = iam_now_ms();
}

int iam_bgp_create(struct iam_loop *loop, const struct iam_bgp_config *cfg,
		   const struct iam_bgp_hooks *hooks, struct iam_bgp **out)
{
	struct iam_bgp *bgp;
	char msg[256];
	int err;

	err = iam_bgp_config_check(cfg, msg, sizeof(msg));
	if (err) {
		iam_err("bgp: %s", msg);
		return err;
	}
	bgp = calloc(1, sizeof(*bgp));
	if (!bgp)
		return -ENOMEM;
	bgp->loop = loop;
	bgp->cfg = *cfg;
	if (hooks)
		bgp->hooks = *hooks;
	bgp->lfd = -1;
	bgp->rib.on_best = iam_bgp_iam_on_best;
	bgp->rib.ctx = bgp;
	iam_timer_init(&bgp->stop_timer, stop_timer_cb, bgp);
	iam_listener_init(&bgp->listener, -1);
	iam_bgp_iam_init(bgp);
	bgp->npeers = cfg->npeers;
	bgp->peers = calloc(cfg->npeers ? cfg->npeers : 1, sizeof(*bgp->peers));
	if (!bgp->peers) {
		err = -ENOMEM;
		goto err_free;
	}
	for (unsigned i = 0; i < cfg->npeers; i++)
		peer_init(bgp, &bgp->peers[i], i, &cfg->peers[i]);
	if (cfg->listen) {
		err = listen_open(bgp);
		if (err)
			goto err_peers;
	}
	for (unsigned i = 0; i < bgp->npeers; i++) {
		struct bgp_peer *p = &bgp->peers[i];

		/* Start at once, a little apart so that two speakers
		 * started together rarely collide. */
		if (!p->cfg.passive)
			iam_timer_arm(loop, &p->retry, iam_now_ns() % 200);
		peer_touch(p);
	}
	iam_info("bgp: AS %u, router id %u.%u.%u.%u, %u peer(s)%s",
		 cfg->local_as, cfg->router_id >> 24,
		 (cfg->router_id >> 16) & 0xff, (cfg->router_id >> 8) & 0xff,
		 cfg->router_id & 0xff, cfg->npeers,
		 cfg->listen ? "" : ", not listening");
	*out = bgp;
	return 0;

err_peers:
	free(bgp->peers);
err_free:
	free(bgp);
	return err;
}

static int withdraw_collect(void *arg, struct iam_bgp_pfxnode *n)
{
	struct {
		struct iam_bgp_prefix *v;
		unsigned n;
	} *c = arg;

	c->v[c->n++] = n->prefix;
	return 0;
}

/* The shutdown proper, from the loop (so never inside a hook's caller,
 * e.g. in the middle of applying an UPDATE). */
static void shutdown_now(struct iam_bgp *bgp)
{
	static const char bye[] = "iam-load shutting down";
	uint8_t data[1 + sizeof(bye)];
	struct {
		struct iam_bgp_prefix *v;
		unsigned n;
	} all = { NULL, 0 };

	bgp->shutdown_done = true;
	iam_info("bgp: stopping: withdrawing %u route(s)", bgp->local.count);
	all.v = calloc(bgp->local.count + 1, sizeof(*all.v));
	if (all.v)
		iam_bgp_pfxmap_walk(&bgp->local, withdraw_collect, &all);
	/* RFC 9003 2: a length octet, then the message. */
	data[0] = sizeof(bye) - 1;
	memcpy(data + 1, bye, sizeof(bye) - 1);
	for (unsigned i = 0; i < bgp->npeers; i++) {
		struct bgp_peer *p = &bgp->peers[i];

		iam_timer_cancel(bgp->loop, &p->retry);
		if (p->est && all.n)
			peer_send_withdraw(p, all.v, all.n);
		for (int k = 0; k < 2; k++) {
			struct bgp_conn *c = &p->conn[k];

			if (c->fd < 0)
				continue;
			if (c->state >= IAM_BGP_OPENSENT)
				/* RFC 4486 4: Administrative Shutdown. */
				conn_notify(c, IAM_BGP_ERR_CEASE,
					    IAM_BGP_CEASE_SHUTDOWN, data,
					    sizeof(bye), "shutting down");
			else
				conn_down(c, false);
		}
	}
	free(all.v);
}

void iam_bgp_shutdown(struct iam_bgp *bgp)
{
	if (!bgp || bgp->stopping)
		return;
	bgp->stopping = true;
	if (bgp->lfd >= 0) {
		iam_loop_del(bgp->loop, bgp->lfd);
		close(bgp->lfd);
		bgp->lfd = -1;
	}
	iam_listener_fini(bgp->loop, &bgp->listener);
	iam_timer_cancel(bgp->loop, &bgp->pool.rate);
	iam_timer_arm(bgp->loop, &bgp->stop_timer, 0);
}

static int local_free(void *arg, struct iam_bgp_pfxnode *n)
{
	free(n);
	return 0;
}

void iam_bgp_destroy(struct iam_bgp *bgp)
{
	if (!bgp)
		return;
	for (unsigned i = 0; i < bgp->npeers; i++) {
		struct bgp_peer *p = &bgp->peers[i];

		iam_timer_cancel(bgp->loop, &p->retry);
		for (int k = 0; k < 2; k++) {
			struct bgp_conn *c = &p->conn[k];

			iam_timer_cancel(bgp->loop, &c->hold);
			iam_timer_cancel(bgp->loop, &c->keepalive);
			iam_timer_cancel(bgp->loop, &c->kill);
			if (c->fd >= 0) {
				iam_loop_del(bgp->loop, c->fd);
				close(c->fd);
			}
			free(c->wbuf);
		}
	}
	while (bgp->lingers) {
		struct bgp_linger *l = bgp->lingers;

		bgp->lingers = l->next;
		iam_loop_del(bgp->loop, l->fd);
		close(l->fd);
		iam_timer_cancel(bgp->loop, &l->t);
		free(l->wbuf);
		free(l);
	}
	if (bgp->lfd >= 0) {
		iam_loop_del(bgp->loop, bgp->lfd);
		close(bgp->lfd);
	}
	iam_timer_cancel(bgp->loop, &bgp->stop_timer);
	iam_listener_fini(bgp->loop, &bgp->listener);
	iam_bgp_iam_fini(bgp);
	iam_bgp_rib_fini(&bgp->rib);
	iam_bgp_pfxmap_walk(&bgp->local, local_free, NULL);
	iam_bgp_pfxmap_fini(&bgp->local);
	free(bgp->peers);
	free(bgp);
}

/* ---- our routes ------------------------------------------------------ */

static bool prefix_valid(const struct iam_bgp_prefix *p)
{
	if (p->len > 128)
		return false;
	for (unsigned b = p->len; b < 128; b++)
		if (p->addr.s6_addr[b / 8] & (0x80 >> (b % 8)))
			return false;
	return true;
}

int iam_bgp_announce(struct iam_bgp *bgp, const struct iam_bgp_prefix *p,
		     const struct iam_bgp_lcomm *lc, unsigned nlc)
{
	struct bgp_local *l;
	int err;

	if (!prefix_valid(p) || nlc > IAM_BGP_LCOMM_MAX)
		return -EINVAL;
	if (bgp->stopping)
		return -ESHUTDOWN;
	l = (struct bgp_local *)iam_bgp_pfxmap_find(&bgp->local, p);
	if (l && l->nlc == nlc &&
	    (!nlc || !memcmp(l->lc, lc, nlc * sizeof(*lc))))
		return 0;
	if (!l) {
		l = calloc(1, sizeof(*l));
		if (!l)
			return -ENOMEM;
		l->node.prefix = *p;
		err = iam_bgp_pfxmap_insert(&bgp->local, &l->node);
		if (err) {
			free(l);
			return err;
		}
	}
	l->nlc = nlc;
	if (nlc)
		memcpy(l->lc, lc, nlc * sizeof(*lc));
	for (unsigned i = 0; i < bgp->npeers; i++)
		if (bgp->peers[i].est)
			peer_send_local(&bgp->peers[i], l);
	return 0;
}

int iam_bgp_withdraw(struct iam_bgp *bgp, const struct iam_bgp_prefix *p)
{
	struct bgp_local *l;

	l = (struct bgp_local *)iam_bgp_pfxmap_find(&bgp->local, p);
	if (!l)
		return -ENOENT;
	iam_bgp_pfxmap_remove(&bgp->local, &l->node);
	free(l);
	for (unsigned i = 0; i < bgp->npeers; i++)
		if (bgp->peers[i].est)
			peer_send_withdraw(&bgp->peers[i], p, 1);
	return 0;
}

void iam_bgp_refresh(struct iam_bgp *bgp)
{
	uint8_t m[IAM_BGP_ROUTE_REFRESH_LEN];

	iam_bgp_write_route_refresh(m, sizeof(m), IAM_BGP_AFI_IPV6,
				    IAM_BGP_SAFI_UNICAST);
	for (unsigned i = 0; i < bgp->npeers; i++)
		if (bgp->peers[i].est && bgp->peers[i].rr)
			conn_send(bgp->peers[i].est, m, sizeof(m));
}

int iam_bgp_peers_foreach(const struct iam_bgp *bgp,
			  int (*cb)(void *arg,
				    const struct iam_bgp_peer_info *p),
			  void *arg)
{
	for (unsigned i = 0; i < bgp->npeers; i++) {
		struct iam_bgp_peer_info info;
		int r;

		peer_info(&bgp->peers[i], &info);
		r = cb(arg, &info);
		if (r)
			return r;
	}
	return 0;
}
