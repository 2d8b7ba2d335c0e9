// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Session tests of the speaker (user/bgp/session.c, iam.c) in one process:
 * each test gets its own network namespace (unshare(CLONE_NEWNET)) with
 * 2001:db8::a and 2001:db8::b on lo, and runs either two speakers on one
 * event loop, or one speaker against a scripted peer that writes raw
 * messages (for hold timer expiry, collisions, malformed UPDATEs, ...).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "bgp/bgp.h"
#include "bgp/packets.h"
#include "iam_const.h"
#include "iam_test.h"
#include "log.h"
#include "loop.h"

#define A_ADDR "2001:db8::a"
#define B_ADDR "2001:db8::b"
#define ID_A 0x0a000001u
#define ID_B 0x0a000002u

/* <linux/ipv6.h> struct in6_ifreq, which clashes with netinet/in.h. */
struct in6_ifreq_compat {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

static void netns_setup(void)
{
	struct ifreq ifr = { 0 };
	const char *addrs[] = { A_ADDR, B_ADDR };
	int fd;

	if (unshare(CLONE_NEWNET))
		SKIP("unshare(CLONE_NEWNET): %s", strerror(errno));
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	REQUIRE(fd >= 0);
	strcpy(ifr.ifr_name, "lo");
	REQUIRE(ioctl(fd, SIOCGIFFLAGS, &ifr) == 0);
	ifr.ifr_flags |= IFF_UP;
	REQUIRE(ioctl(fd, SIOCSIFFLAGS, &ifr) == 0);
	for (int i = 0; i < 2; i++) {
		struct in6_ifreq_compat r = {
			.prefixlen = 128, .ifindex = (int)if_nametoindex("lo")
		};

		inet_pton(AF_INET6, addrs[i], &r.addr);
		REQUIRE(ioctl(fd, SIOCSIFADDR, &r) == 0);
	}
	close(fd);
	/* Duplicate address detection runs from a work queue even on lo:
	 * wait until both addresses can be bound. */
	for (int i = 0; i < 2; i++) {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
		uint64_t end = iam_now_ms() + 2000;
		int r;

		inet_pton(AF_INET6, addrs[i], &sa.sin6_addr);
		do {
			fd = socket(AF_INET6, SOCK_STREAM, 0);
			r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
			close(fd);
			if (r)
				usleep(10000);
		} while (r && iam_now_ms() < end);
		REQUIRE_EQ(r, 0);
	}
	iam_log_set_level(getenv("IAM_TEST_VERBOSE") ? IAM_LOG_TRACE :
						       IAM_LOG_WARN);
}

/* ---- what the hooks saw ---------------------------------------------- */

struct seen {
	int routes, gone;
	struct iam_bgp_prefix last_prefix;
	struct iam_bgp_route_info last; /* strings not kept */
	char last_path[128];
	uint64_t m, v;
	int pools;
	int up, down;
	bool stopped;
	struct iam_bgp *bgp; /* for hooks that act */
	bool stop_on_route; /* iam_bgp_shutdown() from the route hook */
};

static void h_route(void *ctx, const struct iam_bgp_prefix *p,
		    const struct iam_bgp_route_info *best)
{
	struct seen *s = ctx;

	s->last_prefix = *p;
	if (s->stop_on_route)
		iam_bgp_shutdown(s->bgp);
	if (best) {
		s->routes++;
		s->last = *best;
		snprintf(s->last_path, sizeof(s->last_path), "%s",
			 best->as_path);
	} else {
		s->gone++;
	}
}

static void h_pools(void *ctx, uint64_t m, uint64_t v)
{
	struct seen *s = ctx;

	s->m = m;
	s->v = v;
	s->pools++;
}

static void h_peer(void *ctx, const struct iam_bgp_peer_info *p)
{
	struct seen *s = ctx;

	if (p->state == IAM_BGP_ESTABLISHED)
		s->up++;
	else
		s->down++;
}

static void h_stopped(void *ctx)
{
	((struct seen *)ctx)->stopped = true;
}

static uint32_t test_rate = 10; /* pool_update_rate of new speakers */
static uint32_t test_max_prefixes = 100000;

static struct iam_bgp *speaker(struct iam_loop *loop, uint32_t as, uint32_t id,
			       const char *listen, const char *peer,
			       struct seen *s, uint16_t hold)
{
	struct iam_bgp_hooks h = { s, h_route, h_pools, h_peer, h_stopped };
	struct iam_bgp_config *c = calloc(1, sizeof(*c));
	struct iam_bgp *bgp = NULL;
	char err[256];

	iam_bgp_config_init(c);
	c->local_as = as;
	c->router_id = id;
	c->hold_time = hold;
	c->connect_retry_ms = 300;
	c->pool_update_rate = test_rate;
	c->max_prefixes = test_max_prefixes;
	inet_pton(AF_INET6, listen, &c->listen_addr);
	if (peer) {
		REQUIRE_EQ(iam_bgp_peer_parse(peer, &c->peers[0], err,
					      sizeof(err)),
			   0);
		c->npeers = 1;
	}
	REQUIRE_EQ(iam_bgp_create(loop, c, &h, &bgp), 0);
	free(c);
	s->bgp = bgp;
	return bgp;
}

/* Run the loop until cond holds; false after timeout_ms. */
#define RUN_UNTIL(loop, ms, cond)                      \
	({                                             \
		uint64_t _end = iam_now_ms() + (ms);   \
		while (!(cond) && iam_now_ms() < _end) \
			iam_loop_run_once(loop, 10);   \
		(bool)(cond);                          \
	})

static int state_cb(void *arg, const struct iam_bgp_peer_info *p)
{
	*(int *)arg = p->state;
	return 0;
}

static int peer_state(struct iam_bgp *bgp)
{
	int st = -1;

	iam_bgp_peers_foreach(bgp, state_cb, &st);
	return st;
}

static int last_error_cb(void *arg, const struct iam_bgp_peer_info *p)
{
	*(const char **)arg = p->last_error;
	return 0;
}

static struct iam_bgp_prefix pfx(const char *s)
{
	struct iam_bgp_prefix p;

	REQUIRE_EQ(iam_bgp_prefix_parse(s, &p), 0);
	return p;
}

struct lender_find {
	struct iam_bgp_prefix p;
	struct iam_bgp_lender l;
	int found;
	char path[64];
};

static int lender_cb(void *arg, const struct iam_bgp_lender *l)
{
	struct lender_find *f = arg;

	if (l->prefix.len == f->p.len &&
	    !memcmp(&l->prefix.addr, &f->p.addr, 16)) {
		f->l = *l;
		f->found++;
		snprintf(f->path, sizeof(f->path), "%s", l->as_path);
	}
	return 0;
}

static bool lender(struct iam_bgp *bgp, const char *prefix,
		   struct lender_find *f)
{
	memset(f, 0, sizeof(*f));
	f->p = pfx(prefix);
	iam_bgp_lenders_foreach(bgp, lender_cb, f);
	return f->found == 1;
}

/* ---- two speakers ---------------------------------------------------- */

TEST(ebgp_pool_exchange)
{
	struct iam_loop *loop;
	struct iam_bgp *a, *b;
	struct seen sa = { 0 }, sb = { 0 };
	struct iam_bgp_prefix pa = pfx("2001:db8:a::/96");
	struct iam_bgp_prefix pb = pfx("2001:db8:b::/96");
	struct iam_bgp_prefix alloc = pfx("2001:db8:a::100/120");
	struct lender_find f;
	struct iam_bgp_route_info info;

	netns_setup();
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	a = speaker(loop, 65001, ID_A, A_ADDR,
		    B_ADDR ",as=4200000002,source=" A_ADDR, &sa, 90);
	b = speaker(loop, 4200000002u, ID_B, B_ADDR,
		    A_ADDR ",as=65001,source=" B_ADDR, &sb, 90);
	REQUIRE(RUN_UNTIL(loop, 5000,
			  peer_state(a) == IAM_BGP_ESTABLISHED &&
				  peer_state(b) == IAM_BGP_ESTABLISHED));
	CHECK_EQ(sa.up, 1);
	CHECK_EQ(sb.up, 1);

	/* A's pool reaches B with M_i, V_i, block size, path and next hop */
	REQUIRE_EQ(iam_bgp_pool_announce(a, &pa, 16384, 1000, 16), 0);
	CHECK(sa.m == 16384 && sa.v == 1000); /* own pool counts at once */
	REQUIRE(RUN_UNTIL(loop, 3000, lender(b, "2001:db8:a::/96", &f)));
	CHECK_EQ(f.l.total_blocks, 16384);
	CHECK_EQ(f.l.avail_blocks, 1000);
	CHECK_EQ(f.l.block_shift, 16);
	CHECK_EQ(f.l.hops, 1);
	CHECK_EQ(f.l.origin_as, 65001);
	CHECK(!f.l.local);
	CHECK_STR(f.path, "65001");
	CHECK(f.l.as_path_len == 1 && f.l.as_path_asn[0] == 65001);
	{
		char nh[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &f.l.next_hop, nh, sizeof(nh));
		CHECK_STR(nh, A_ADDR);
	}
	CHECK(sb.m == 16384 && sb.v == 1000);
	CHECK_EQ(sb.last.kind, IAM_BGP_ROUTE_POOL);

	/* B's own pool: both see M = sum M_i, V = sum V_i */
	REQUIRE_EQ(iam_bgp_pool_announce(b, &pb, 100, 50, 12), 0);
	REQUIRE(RUN_UNTIL(loop, 3000, sa.m == 16484));
	CHECK_EQ(sa.v, 1050);
	CHECK(sb.m == 16484 && sb.v == 1050);
	REQUIRE(lender(a, "2001:db8:b::/96", &f));
	CHECK_STR(f.path, "4200000002");
	CHECK_EQ(f.l.block_shift, 12);

	/* a V_i change is seen on the other side */
	REQUIRE_EQ(iam_bgp_pool_set_available(a, 900), 0);
	REQUIRE(RUN_UNTIL(loop, 3000, sb.v == 950));
	CHECK_EQ(iam_bgp_pool_set_available(a, 20000), -EINVAL);

	/* an allocation: borrower and rights */
	REQUIRE_EQ(iam_bgp_alloc_announce(a, &alloc, ID_B, IAM_RIGHTS_RW), 0);
	REQUIRE(RUN_UNTIL(loop, 3000,
			  !iam_bgp_lookup(b, &alloc, &info) &&
				  info.kind == IAM_BGP_ROUTE_ALLOC));
	CHECK_EQ(info.borrower_id, ID_B);
	CHECK_EQ(info.rights, IAM_RIGHTS_RW);
	CHECK_EQ(iam_bgp_alloc_announce(a, &alloc, ID_B, 3), -EINVAL);
	REQUIRE_EQ(iam_bgp_alloc_withdraw(a, &alloc), 0);
	REQUIRE(RUN_UNTIL(loop, 3000, iam_bgp_lookup(b, &alloc, &info)));
	CHECK_EQ(iam_bgp_alloc_withdraw(a, &alloc), -ENOENT);

	/* the host route: no IAM community */
	{
		struct in6_addr h;
		struct iam_bgp_prefix hp = pfx("2001:db8:a::1/128");

		inet_pton(AF_INET6, "2001:db8:a::1", &h);
		REQUIRE_EQ(iam_bgp_host_announce(a, &h), 0);
		REQUIRE(RUN_UNTIL(loop, 3000, !iam_bgp_lookup(b, &hp, &info)));
		CHECK_EQ(info.kind, IAM_BGP_ROUTE_PLAIN);
		CHECK_EQ(info.nlcomm, 0);
	}

	/* withdrawing the pool removes the lender */
	REQUIRE_EQ(iam_bgp_pool_withdraw(a), 0);
	REQUIRE(RUN_UNTIL(loop, 3000, sb.m == 100));
	CHECK(!lender(b, "2001:db8:a::/96", &f));
	CHECK_EQ(iam_bgp_pool_set_available(a, 1), -ENOENT);

	iam_bgp_destroy(a);
	iam_bgp_destroy(b);
	iam_loop_destroy(loop);
}

TEST(ibgp_and_route_refresh)
{
	struct iam_loop *loop;
	struct iam_bgp *a, *b;
	struct seen sa = { 0 }, sb = { 0 };
	struct iam_bgp_prefix pa = pfx("2001:db8:a::/96");
	struct lender_find f;
	int routes;

	netns_setup();
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	a = speaker(loop, 65000, ID_A, A_ADDR,
		    B_ADDR ",as=65000,source=" A_ADDR, &sa, 90);
	b = speaker(loop, 65000, ID_B, B_ADDR,
		    A_ADDR ",as=65000,passive,source=" B_ADDR, &sb, 90);
	REQUIRE_EQ(iam_bgp_pool_announce(a, &pa, 10, 5, 21), 0);
	REQUIRE(RUN_UNTIL(loop, 5000, lender(b, "2001:db8:a::/96", &f)));
	/* iBGP: empty AS_PATH, origin is our own AS */
	CHECK_EQ(f.l.hops, 0);
	CHECK_EQ(f.l.origin_as, 65000);
	CHECK_STR(f.path, "");
	/* ROUTE-REFRESH makes A send its routes again (RFC 2918) */
	routes = sb.routes;
	iam_bgp_refresh(b);
	REQUIRE(RUN_UNTIL(loop, 3000, sb.routes > routes));
	iam_bgp_destroy(a);
	iam_bgp_destroy(b);
	iam_loop_destroy(loop);
}

TEST(clean_shutdown_withdraws)
{
	struct iam_loop *loop;
	struct iam_bgp *a, *b;
	struct seen sa = { 0 }, sb = { 0 };
	struct iam_bgp_prefix pa = pfx("2001:db8:a::/96");
	struct lender_find f;
	const char *why = NULL;

	netns_setup();
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	a = speaker(loop, 65001, ID_A, A_ADDR,
		    B_ADDR ",as=65002,source=" A_ADDR, &sa, 90);
	b = speaker(loop, 65002, ID_B, B_ADDR,
		    A_ADDR ",as=65001,source=" B_ADDR, &sb, 90);
	REQUIRE_EQ(iam_bgp_pool_announce(a, &pa, 10, 5, 16), 0);
	REQUIRE(RUN_UNTIL(loop, 5000, lender(b, "2001:db8:a::/96", &f)));
	iam_bgp_shutdown(a);
	CHECK_EQ(iam_bgp_pool_set_available(a, 4), 0); /* local only */
	REQUIRE(RUN_UNTIL(loop, 5000, sa.stopped));
	REQUIRE(RUN_UNTIL(loop, 3000, peer_state(b) != IAM_BGP_ESTABLISHED));
	CHECK(!lender(b, "2001:db8:a::/96", &f));
	CHECK_EQ(sb.gone, 1);
	iam_bgp_peers_foreach(b, last_error_cb, &why);
	REQUIRE(why);
	CHECK_MSG(strstr(why, "Administrative Shutdown") &&
			  strstr(why, "iam-load shutting down"),
		  "B's last error: %s", why);
	/* A does not reconnect; B is back to waiting */
	RUN_UNTIL(loop, 1000, false);
	CHECK(peer_state(b) != IAM_BGP_ESTABLISHED);
	iam_bgp_destroy(a);
	iam_bgp_destroy(b);
	iam_loop_destroy(loop);
}

TEST(md5_signatures)
{
	struct iam_loop *loop;
	struct iam_bgp *a, *b;
	struct seen sa = { 0 }, sb = { 0 };
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct tcp_md5sig m = { 0 };
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&m.tcpm_addr;

	netns_setup();
	/* does this kernel have TCP_MD5SIG at all? */
	s6->sin6_family = AF_INET6;
	m.tcpm_keylen = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &m, sizeof(m)) < 0)
		SKIP("TCP_MD5SIG: %s", strerror(errno));
	close(fd);
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	/* different secrets: segments are dropped, no session */
	a = speaker(loop, 65001, ID_A, A_ADDR,
		    B_ADDR ",as=65002,md5=one,source=" A_ADDR, &sa, 90);
	b = speaker(loop, 65002, ID_B, B_ADDR,
		    A_ADDR ",as=65001,md5=two,source=" B_ADDR, &sb, 90);
	CHECK(!RUN_UNTIL(loop, 1500, sa.up || sb.up));
	iam_bgp_destroy(a);
	iam_bgp_destroy(b);
	/* the same secret: established */
	a = speaker(loop, 65001, ID_A, A_ADDR,
		    B_ADDR ",as=65002,md5=s3cr3t,source=" A_ADDR, &sa, 90);
	b = speaker(loop, 65002, ID_B, B_ADDR,
		    A_ADDR ",as=65001,md5=s3cr3t,source=" B_ADDR, &sb, 90);
	CHECK(RUN_UNTIL(loop, 5000, sa.up && sb.up));
	iam_bgp_destroy(a);
	iam_bgp_destroy(b);
	iam_loop_destroy(loop);
}

TEST(socketpair_sessions)
{
	struct iam_loop *loop;
	struct iam_bgp *a, *b;
	struct seen sa = { 0 }, sb = { 0 };
	struct iam_bgp_hooks ha = { &sa, h_route, h_pools, h_peer, NULL };
	struct iam_bgp_hooks hb = { &sb, h_route, h_pools, h_peer, NULL };
	struct iam_bgp_config *c = calloc(1, sizeof(*c));
	struct iam_bgp_prefix pa = pfx("2001:db8:a::/96");
	char err[128];
	int sv[2];

	/* no network at all: attach both ends of a socketpair */
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	iam_log_set_level(IAM_LOG_ERR);
	iam_bgp_config_init(c);
	c->listen = false;
	c->local_as = 65001;
	c->router_id = ID_A;
	c->has_nexthop = true;
	inet_pton(AF_INET6, A_ADDR, &c->nexthop);
	iam_bgp_peer_parse(B_ADDR ",as=65002,passive", &c->peers[0], err,
			   sizeof(err));
	c->npeers = 1;
	REQUIRE_EQ(iam_bgp_create(loop, c, &ha, &a), 0);
	c->local_as = 65002;
	c->router_id = ID_B;
	inet_pton(AF_INET6, B_ADDR, &c->nexthop);
	iam_bgp_peer_parse(A_ADDR ",as=65001,passive", &c->peers[0], err,
			   sizeof(err));
	REQUIRE_EQ(iam_bgp_create(loop, c, &hb, &b), 0);
	REQUIRE_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	REQUIRE_EQ(iam_bgp_attach_fd(a, 0, sv[0]), 0);
	REQUIRE_EQ(iam_bgp_attach_fd(b, 0, sv[1]), 0);
	CHECK_EQ(iam_bgp_attach_fd(b, 5, -1), -EINVAL);
	REQUIRE(RUN_UNTIL(loop, 3000, sa.up && sb.up));
	REQUIRE_EQ(iam_bgp_pool_announce(a, &pa, 8, 8, 16), 0);
	REQUIRE(RUN_UNTIL(loop, 3000, sb.m == 8));
	free(c);
	iam_bgp_destroy(a);
	iam_bgp_destroy(b);
	iam_loop_destroy(loop);
}

TEST(pool_update_rate_limit)
{
	struct iam_loop *loop;
	struct iam_bgp *a, *b;
	struct seen sa = { 0 }, sb = { 0 };
	struct iam_bgp_prefix pa = pfx("2001:db8:a::/96");
	struct lender_find f;
	int pools;

	netns_setup();
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	test_rate = 1; /* a window wide enough for any machine */
	a = speaker(loop, 65001, ID_A, A_ADDR,
		    B_ADDR ",as=65002,source=" A_ADDR, &sa, 90);
	test_rate = 10;
	b = speaker(loop, 65002, ID_B, B_ADDR,
		    A_ADDR ",as=65001,source=" B_ADDR, &sb, 90);
	REQUIRE_EQ(iam_bgp_pool_announce(a, &pa, 1000, 1000, 16), 0);
	REQUIRE(RUN_UNTIL(loop, 5000, sb.v == 1000));
	/* 50 changes in a burst (at most 1 a second here): B sees at
	 * most two more announcements, and the last value always */
	pools = sb.pools;
	for (unsigned v = 999; v >= 950; v--) {
		REQUIRE_EQ(iam_bgp_pool_set_available(a, v), 0);
		iam_loop_run_once(loop, 0);
	}
	CHECK_EQ(sa.v, 950); /* our own view is immediate */
	REQUIRE(RUN_UNTIL(loop, 4000, sb.v == 950));
	RUN_UNTIL(loop, 300, false);
	CHECK_MSG(sb.pools - pools <= 3, "B saw %d announcements",
		  sb.pools - pools);
	REQUIRE(lender(b, "2001:db8:a::/96", &f));
	CHECK_EQ(f.l.avail_blocks, 950);
	iam_bgp_destroy(a);
	iam_bgp_destroy(b);
	iam_loop_destroy(loop);
}

/* ---- one speaker against a scripted peer ----------------------------- */

struct fake {
	int fd;
	size_t len;
	uint8_t buf[1 << 16];
	uint8_t type; /* of the last message taken */
	uint8_t msg[IAM_BGP_MAX_MSG];
	size_t mlen;
};

static int tcp_connect(const char *from, const char *to, uint16_t port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6 };
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	REQUIRE(fd >= 0);
	inet_pton(AF_INET6, from, &s.sin6_addr);
	REQUIRE(bind(fd, (struct sockaddr *)&s, sizeof(s)) == 0);
	inet_pton(AF_INET6, to, &s.sin6_addr);
	s.sin6_port = htons(port);
	REQUIRE(connect(fd, (struct sockaddr *)&s, sizeof(s)) == 0);
	return fd;
}

static int tcp_listen(const char *addr)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6,
				  .sin6_port = htons(IAM_PORT_BGP) };
	int fd = socket(AF_INET6, SOCK_STREAM, 0), one = 1;

	REQUIRE(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_pton(AF_INET6, addr, &s.sin6_addr);
	REQUIRE(bind(fd, (struct sockaddr *)&s, sizeof(s)) == 0);
	REQUIRE(listen(fd, 4) == 0);
	return fd;
}

static void fsend(struct fake *f, const void *m, size_t n)
{
	REQUIRE(send(f->fd, m, n, MSG_NOSIGNAL) == (ssize_t)n);
}

/* Next message from the speaker, running the loop meanwhile: its type,
 * 0 on EOF, -1 on timeout. */
static int frecv(struct iam_loop *loop, struct fake *f, int ms)
{
	uint64_t end = iam_now_ms() + (uint64_t)ms;
	struct iam_bgp_error err;

	for (;;) {
		ssize_t n;
		int mlen;

		mlen = iam_bgp_header_check(f->buf, f->len, &f->type, &err);
		if (mlen > 0 && (size_t)mlen <= f->len) {
			memcpy(f->msg, f->buf, (size_t)mlen);
			f->mlen = (size_t)mlen;
			memmove(f->buf, f->buf + mlen, f->len - (size_t)mlen);
			f->len -= (size_t)mlen;
			return f->type;
		}
		n = recv(f->fd, f->buf + f->len, sizeof(f->buf) - f->len,
			 MSG_DONTWAIT);
		if (n == 0)
			return 0;
		if (n > 0) {
			f->len += (size_t)n;
			continue;
		}
		if (iam_now_ms() > end)
			return -1;
		iam_loop_run_once(loop, 10);
	}
}

/* The End-of-RIB marker for IPv6 unicast (RFC 4724 2). */
static bool is_eor(const struct fake *f)
{
	static const uint8_t eor[] = { 0, 0, 0, 6, 0x80, 15, 3, 0, 2, 1 };

	return f->type == IAM_BGP_MSG_UPDATE && f->mlen == 19 + sizeof(eor) &&
	       !memcmp(f->msg + 19, eor, sizeof(eor));
}

/* Skip KEEPALIVEs and End-of-RIB; the next other message's type. */
static int frecv_nka(struct iam_loop *loop, struct fake *f, int ms)
{
	int t;

	while ((t = frecv(loop, f, ms)) == IAM_BGP_MSG_KEEPALIVE || is_eor(f))
		;
	return t;
}

static void fsend_open(struct fake *f, uint32_t as, uint16_t hold, uint32_t id)
{
	uint8_t m[64];
	int n = iam_bgp_write_open(m, sizeof(m), as, hold, id);

	fsend(f, m, (size_t)n);
}

static void fsend_keepalive(struct fake *f)
{
	uint8_t m[19];

	iam_bgp_write_keepalive(m, sizeof(m));
	fsend(f, m, sizeof(m));
}

static void fsend_update(struct fake *f, const uint8_t *attrs, size_t len)
{
	uint8_t m[IAM_BGP_MAX_MSG];

	memset(m, 0xff, 16);
	iam_put16(m + 16, (uint16_t)(len + 23));
	m[18] = IAM_BGP_MSG_UPDATE;
	iam_put16(m + 19, 0);
	iam_put16(m + 21, (uint16_t)len);
	memcpy(m + 23, attrs, len);
	fsend(f, m, len + 23);
}

/* A speaker at A (passive toward B) and a scripted peer at B connected
 * to it, through OPEN and KEEPALIVE to Established. */
static struct iam_bgp *fake_session(struct iam_loop *loop, struct fake *f,
				    struct seen *s, uint32_t local_as,
				    uint32_t peer_as, bool establish)
{
	char spec[64];
	struct iam_bgp *a;

	snprintf(spec, sizeof(spec), B_ADDR ",as=%u,passive", peer_as);
	a = speaker(loop, local_as, ID_A, A_ADDR, spec, s, 90);
	f->len = 0;
	f->fd = tcp_connect(B_ADDR, A_ADDR, IAM_PORT_BGP);
	REQUIRE_EQ(frecv(loop, f, 3000), IAM_BGP_MSG_OPEN);
	if (establish) {
		fsend_open(f, peer_as, 90, ID_B);
		fsend_keepalive(f);
		REQUIRE_EQ(frecv(loop, f, 3000), IAM_BGP_MSG_KEEPALIVE);
		REQUIRE(RUN_UNTIL(loop, 3000,
				  peer_state(a) == IAM_BGP_ESTABLISHED));
	}
	return a;
}

static bool is_notification(const struct fake *f, uint8_t code, uint8_t subcode)
{
	return f->type == IAM_BGP_MSG_NOTIFICATION && f->msg[19] == code &&
	       f->msg[20] == subcode;
}

TEST(hold_timer_expiry)
{
	struct iam_loop *loop;
	struct fake *f = calloc(1, sizeof(*f));
	struct seen s = { 0 };
	struct iam_bgp *a;
	uint64_t t0;
	int t, keepalives = 0;

	netns_setup();
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	a = fake_session(loop, f, &s, 65001, 65002, false);
	/* offer 3 s; then say nothing more after the KEEPALIVE */
	fsend_open(f, 65002, 3, ID_B);
	fsend_keepalive(f);
	t0 = iam_now_ms();
	while ((t = frecv(loop, f, 10000)) == IAM_BGP_MSG_KEEPALIVE ||
	       is_eor(f))
		keepalives += t == IAM_BGP_MSG_KEEPALIVE;
	/* RFC 4271 6.5: Hold Timer Expired, then the connection goes */
	CHECK_MSG(is_notification(f, 4, 0), "got type %d", t);
	CHECK(iam_now_ms() - t0 >= 2900);
	/* KeepaliveTime is a third of the hold time */
	CHECK_MSG(keepalives >= 2, "%d keepalives", keepalives);
	CHECK_EQ(frecv(loop, f, 3000), 0);
	CHECK_EQ(s.up, 1);
	CHECK_EQ(s.down, 1);
	close(f->fd);
	iam_bgp_destroy(a);
	iam_loop_destroy(loop);
	free(f);
}

TEST(open_errors)
{
	struct iam_loop *loop;
	struct fake *f = calloc(1, sizeof(*f));
	struct seen s = { 0 };
	struct iam_bgp *a;
	uint8_t m[64];

	netns_setup();
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	/* wrong AS -> 2/2 */
	a = fake_session(loop, f, &s, 65001, 65002, false);
	fsend_open(f, 65003, 90, ID_B);
	CHECK_EQ(frecv(loop, f, 3000), IAM_BGP_MSG_NOTIFICATION);
	CHECK(is_notification(f, 2, 2));
	close(f->fd);
	iam_bgp_destroy(a);
	/* no IPv6 unicast capability -> 2/7 naming it */
	a = fake_session(loop, f, &s, 65001, 65002, false);
	{
		static const uint8_t open_v4only[] = {
			4, 0xfd, 0xea, 0, 90, 10, 0, 0, 2,
			8, 2,	 6,    1, 4,  0,  1, 0, 1
		};
		memset(m, 0xff, 16);
		iam_put16(m + 16, 19 + sizeof(open_v4only));
		m[18] = IAM_BGP_MSG_OPEN;
		memcpy(m + 19, open_v4only, sizeof(open_v4only));
		fsend(f, m, 19 + sizeof(open_v4only));
	}
	CHECK_EQ(frecv(loop, f, 3000), IAM_BGP_MSG_NOTIFICATION);
	CHECK(is_notification(f, 2, 7));
	CHECK(f->mlen == 27 && f->msg[21] == 1 && f->msg[24] == 2);
	close(f->fd);
	iam_bgp_destroy(a);
	/* an UPDATE before Established -> FSM error in OpenSent (RFC 6608) */
	a = fake_session(loop, f, &s, 65001, 65002, false);
	fsend_update(f, (const uint8_t[]){ 0 }, 0);
	CHECK_EQ(frecv(loop, f, 3000), IAM_BGP_MSG_NOTIFICATION);
	CHECK(is_notification(f, 5, 1));
	close(f->fd);
	iam_bgp_destroy(a);
	/* garbage instead of a marker -> 1/1 */
	a = fake_session(loop, f, &s, 65001, 65002, false);
	memset(m, 0, 19);
	fsend(f, m, 19);
	CHECK_EQ(frecv(loop, f, 3000), IAM_BGP_MSG_NOTIFICATION);
	CHECK(is_notification(f, 1, 1));
	close(f->fd);
	iam_bgp_destroy(a);
	iam_loop_destroy(loop);
	free(f);
}

#define NH6B 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b
#define POOL_B                                                             \
	0x80, 14, 34, 0, 2, 1, 16, NH6B, 0, 96, 0x20, 0x01, 0x0d, 0xb8, 0, \
		0x0b, 0, 0, 0, 0, 0, 0
#define LC_POOL_B(v)                                                           \
	0xc0, 32, 36, 0, 0, 0xfd, 0xea, 0, 0, 0, 1, 0, 0, 0, 100, 0, 0, 0xfd,  \
		0xea, 0, 0, 0, 2, 0, 0, 0, v, 0, 0, 0xfd, 0xea, 0, 0, 0, 3, 0, \
		0, 0, 16
#define ORG 0x40, 1, 1, 0
#define ASP_B 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xea

TEST(update_errors)
{
	struct iam_loop *loop;
	struct fake *f = calloc(1, sizeof(*f));
	struct seen s = { 0 };
	struct iam_bgp *a;
	struct lender_find lf;

	netns_setup();
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	a = fake_session(loop, f, &s, 65001, 65002, true);
	/* a pool route from B */
	fsend_update(f, (const uint8_t[]){ POOL_B, ORG, ASP_B, LC_POOL_B(60) },
		     sizeof((uint8_t[]){ POOL_B, ORG, ASP_B, LC_POOL_B(60) }));
	REQUIRE(RUN_UNTIL(loop, 3000, s.m == 100 && s.v == 60));
	REQUIRE(lender(a, "2001:db8:b::/96", &lf));
	/* an attribute discard (LOCAL_PREF over eBGP): still there */
	fsend_update(f,
		     (const uint8_t[]){ POOL_B, ORG, ASP_B, LC_POOL_B(61), 0x40,
					5, 4, 0, 0, 0, 1 },
		     sizeof((uint8_t[]){ POOL_B, ORG, ASP_B, LC_POOL_B(61),
					 0x40, 5, 4, 0, 0, 0, 1 }));
	REQUIRE(RUN_UNTIL(loop, 3000, s.v == 61));
	/* treat-as-withdraw (ORIGIN 7): the route goes, the session stays */
	fsend_update(f,
		     (const uint8_t[]){ POOL_B, 0x40, 1, 1, 7, ASP_B,
					LC_POOL_B(62) },
		     sizeof((uint8_t[]){ POOL_B, 0x40, 1, 1, 7, ASP_B,
					 LC_POOL_B(62) }));
	REQUIRE(RUN_UNTIL(loop, 3000, s.m == 0));
	CHECK(!lender(a, "2001:db8:b::/96", &lf));
	CHECK_EQ(peer_state(a), IAM_BGP_ESTABLISHED);
	/* a session reset: MP_REACH_NLRI with a 15-octet next hop -> 3/9 */
	fsend_update(f,
		     (const uint8_t[]){ 0x80, 14, 22, 0, 2, 1, 15, NH6B, 0, 0,
					ORG, ASP_B },
		     sizeof((uint8_t[]){ 0x80, 14, 22, 0, 2, 1, 15, NH6B, 0, 0,
					 ORG, ASP_B }));
	CHECK_EQ(frecv_nka(loop, f, 3000), IAM_BGP_MSG_NOTIFICATION);
	CHECK(is_notification(f, 3, 9));
	CHECK_EQ(frecv(loop, f, 3000), 0);
	CHECK_EQ(s.down, 1);
	close(f->fd);
	iam_bgp_destroy(a);
	iam_loop_destroy(loop);
	free(f);
}

TEST(two_octet_peer_and_loops)
{
	struct iam_loop *loop;
	struct fake *f = calloc(1, sizeof(*f));
	struct seen s = { 0 };
	struct iam_bgp *a;
	struct iam_bgp_prefix pa = pfx("2001:db8:a::/96");
	static struct iam_bgp_update u;
	struct iam_bgp_sess sess = { .as4 = false };
	char path[64];
	/* OPEN without capability 65 (a two-octet AS speaker), AS 65002 */
	static const uint8_t open2[] = { 4, 0xfd, 0xea, 0, 90, 10, 0, 0, 2,
					 8, 2,	  6,	1, 4,  0,  2, 0, 1 };
	uint8_t m[64];

	netns_setup();
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	a = fake_session(loop, f, &s, 4200000001u, 65002, false);
	memset(m, 0xff, 16);
	iam_put16(m + 16, 19 + sizeof(open2));
	m[18] = IAM_BGP_MSG_OPEN;
	memcpy(m + 19, open2, sizeof(open2));
	fsend(f, m, 19 + sizeof(open2));
	fsend_keepalive(f);
	REQUIRE(RUN_UNTIL(loop, 3000, peer_state(a) == IAM_BGP_ESTABLISHED));
	/* our AS goes as AS_TRANS plus AS4_PATH (RFC 6793 4.2.2) */
	REQUIRE_EQ(iam_bgp_pool_announce(a, &pa, 10, 5, 16), 0);
	CHECK_EQ(frecv_nka(loop, f, 3000), IAM_BGP_MSG_UPDATE);
	REQUIRE_EQ(iam_bgp_update_decode(f->msg + 19, f->mlen - 19, &sess, &u),
		   0);
	CHECK_STR(iam_bgp_aspath_str(u.a.aspath, u.a.aspath_len, path,
				     sizeof(path)),
		  "4200000001");
	CHECK(iam_bgp_attr_seen(&u.a, IAM_BGP_A_AS4_PATH));
	/* End-of-RIB came before; no ROUTE-REFRESH is sent to a peer that
	 * did not offer it (nothing to check on the wire but no crash) */
	iam_bgp_refresh(a);
	/* a path with our own AS is a loop: ignored (RFC 4271 9.1.2);
	 * AS_PATH 65002 23456, AS4_PATH 65002 4200000001 */
	fsend_update(
		f, (const uint8_t[]){ POOL_B, ORG,  0x40, 2,	6,
				      2,      2,    0xfd, 0xea, 0x5b,
				      0xa0,   0xc0, 17,	  10,	2,
				      2,      0,    0,	  0xfd, 0xea,
				      0xfa,   0x56, 0xea, 0x01, LC_POOL_B(1) },
		sizeof((uint8_t[]){ POOL_B, ORG,  0x40, 2,    6,
				    2,	    2,	  0xfd, 0xea, 0x5b,
				    0xa0,   0xc0, 17,	10,   2,
				    2,	    0,	  0,	0xfd, 0xea,
				    0xfa,   0x56, 0xea, 0x01, LC_POOL_B(1) }));
	/* then a good one with a two-octet path */
	fsend_update(f,
		     (const uint8_t[]){ POOL_B, ORG, 0x40, 2, 4, 2, 1, 0xfd,
					0xea, LC_POOL_B(2) },
		     sizeof((uint8_t[]){ POOL_B, ORG, 0x40, 2, 4, 2, 1, 0xfd,
					 0xea, LC_POOL_B(2) }));
	REQUIRE(RUN_UNTIL(loop, 3000, s.last.avail_blocks == 2));
	CHECK_EQ(s.routes, 1);
	CHECK_STR(s.last_path, "65002");
	close(f->fd);
	iam_bgp_destroy(a);
	iam_loop_destroy(loop);
	free(f);
}

TEST(route_reflector_originator)
{
	struct iam_loop *loop;
	struct fake *f = calloc(1, sizeof(*f));
	struct seen s = { 0 };
	struct iam_bgp *a;

	netns_setup();
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	a = fake_session(loop, f, &s, 65000, 65000, true);
	/* reflected back to us: ORIGINATOR_ID is ours (RFC 4456 8) */
	fsend_update(
		f,
		(const uint8_t[]){ POOL_B, ORG, 0x40, 2, 0,   0x40,	   5,
				   4,	   0,	0,    0, 100, 0x80,	   9,
				   4,	   10,	0,    0, 1,   0x80,	   10,
				   4,	   10,	0,    0, 99,  LC_POOL_B(5) },
		sizeof((uint8_t[]){ POOL_B, ORG, 0x40, 2, 0,   0x40,	    5,
				    4,	    0,	 0,    0, 100, 0x80,	    9,
				    4,	    10,	 0,    0, 1,   0x80,	    10,
				    4,	    10,	 0,    0, 99,  LC_POOL_B(5) }));
	/* from another client through the reflector: taken */
	fsend_update(
		f,
		(const uint8_t[]){
			POOL_B, ORG,  0x40, 2,	  0,	0x40, 5,  4,	0,
			0,	0,    100,  0x80, 9,	4,    10, 0,	0,
			7,	0x80, 10,   4,	  10,	0,    0,  99,	0xc0,
			32,	36,   0,    0,	  0xfd, 0xe8, 0,  0,	0,
			1,	0,    0,    0,	  100,	0,    0,  0xfd, 0xe8,
			0,	0,    0,    2,	  0,	0,    0,  6,	0,
			0,	0xfd, 0xe8, 0,	  0,	0,    3,  0,	0,
			0,	16 },
		sizeof((uint8_t[]){
			POOL_B, ORG,  0x40, 2,	  0,	0x40, 5,  4,	0,
			0,	0,    100,  0x80, 9,	4,    10, 0,	0,
			7,	0x80, 10,   4,	  10,	0,    0,  99,	0xc0,
			32,	36,   0,    0,	  0xfd, 0xe8, 0,  0,	0,
			1,	0,    0,    0,	  100,	0,    0,  0xfd, 0xe8,
			0,	0,    0,    2,	  0,	0,    0,  6,	0,
			0,	0xfd, 0xe8, 0,	  0,	0,    3,  0,	0,
			0,	16 }));
	REQUIRE(RUN_UNTIL(loop, 3000, s.last.avail_blocks == 6));
	CHECK_EQ(s.routes, 1);
	/* iBGP: the communities of our AS (65000) are the IAM ones */
	CHECK_EQ(s.last.kind, IAM_BGP_ROUTE_POOL);
	CHECK(s.m == 100 && s.v == 6);
	close(f->fd);
	iam_bgp_destroy(a);
	iam_loop_destroy(loop);
	free(f);
}

/*
 * RFC 4271 6.8: A opened a connection to B and B one to A; both OPENs
 * cross.  The higher BGP identifier keeps the connection it opened.
 */
static void collision(uint32_t peer_id)
{
	struct iam_loop *loop;
	struct fake *out = calloc(1, sizeof(*out)); /* A's outgoing */
	struct fake *in = calloc(1, sizeof(*in)); /* A's incoming */
	struct seen s = { 0 };
	struct iam_bgp *a;
	struct fake *loser, *winner;
	int lfd;

	REQUIRE_EQ(iam_loop_create(&loop), 0);
	lfd = tcp_listen(B_ADDR);
	REQUIRE(fcntl(lfd, F_SETFL, O_NONBLOCK) == 0);
	a = speaker(loop, 65001, ID_A, A_ADDR,
		    B_ADDR ",as=65002,source=" A_ADDR, &s, 90);
	/* A connects to us */
	out->fd = -1;
	for (uint64_t end = iam_now_ms() + 3000;
	     out->fd < 0 && iam_now_ms() < end;) {
		iam_loop_run_once(loop, 10);
		out->fd = accept(lfd, NULL, NULL);
	}
	REQUIRE(out->fd >= 0);
	REQUIRE_EQ(frecv(loop, out, 3000), IAM_BGP_MSG_OPEN);
	/* and we connect to A */
	in->fd = tcp_connect(B_ADDR, A_ADDR, IAM_PORT_BGP);
	REQUIRE_EQ(frecv(loop, in, 3000), IAM_BGP_MSG_OPEN);
	fsend_open(out, 65002, 90, peer_id);
	REQUIRE_EQ(frecv(loop, out, 3000), IAM_BGP_MSG_KEEPALIVE);
	fsend_open(in, 65002, 90, peer_id);
	/* peer id above ours (or equal, with its AS above ours): A drops
	 * the one it opened */
	loser = peer_id >= ID_A ? out : in;
	winner = peer_id >= ID_A ? in : out;
	CHECK_EQ(frecv(loop, loser, 3000), IAM_BGP_MSG_NOTIFICATION);
	CHECK(is_notification(loser, 6, 7));
	CHECK_EQ(frecv(loop, loser, 3000), 0);
	if (winner == in)
		REQUIRE_EQ(frecv(loop, in, 3000), IAM_BGP_MSG_KEEPALIVE);
	fsend_keepalive(winner);
	REQUIRE(RUN_UNTIL(loop, 3000, peer_state(a) == IAM_BGP_ESTABLISHED));
	CHECK_EQ(s.up, 1);
	/* a third connection while established is refused (RFC 4271 6.8) */
	{
		struct fake *third = calloc(1, sizeof(*third));

		third->fd = tcp_connect(B_ADDR, A_ADDR, IAM_PORT_BGP);
		CHECK_EQ(frecv(loop, third, 3000), 0);
		close(third->fd);
		free(third);
	}
	CHECK_EQ(peer_state(a), IAM_BGP_ESTABLISHED);
	close(out->fd);
	close(in->fd);
	close(lfd);
	iam_bgp_destroy(a);
	iam_loop_destroy(loop);
	free(out);
	free(in);
}

TEST(collision_higher_peer_id)
{
	netns_setup();
	collision(ID_A + 1);
}

TEST(collision_lower_peer_id)
{
	netns_setup();
	collision(ID_A - 1);
}

/* Equal identifiers (fine between ASes): our AS 65001 < 65002, so ours
 * goes (RFC 6286 2.3). */
TEST(collision_same_peer_id)
{
	netns_setup();
	collision(ID_A);
}

TEST(unknown_peer_refused)
{
	struct iam_loop *loop;
	struct fake *f = calloc(1, sizeof(*f));
	struct seen s = { 0 };
	struct iam_bgp *a;

	netns_setup();
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	a = speaker(loop, 65001, ID_A, A_ADDR, B_ADDR ",as=65002,passive", &s,
		    90);
	/* from ::1, not a configured peer: closed without a word */
	f->fd = tcp_connect("::1", A_ADDR, IAM_PORT_BGP);
	CHECK_EQ(frecv(loop, f, 3000), 0);
	close(f->fd);
	iam_bgp_destroy(a);
	iam_loop_destroy(loop);
	free(f);
}

/* MP_REACH_NLRI with three /96s: 2001:db8:b:1::/96, :2::, :3:: */
#define THREE_96                                                             \
	0x80, 14, 60, 0, 2, 1, 16, NH6B, 0, 96, 0x20, 0x01, 0x0d, 0xb8, 0,   \
		0x0b, 0, 1, 0, 0, 0, 0, 96, 0x20, 0x01, 0x0d, 0xb8, 0, 0x0b, \
		0, 2, 0, 0, 0, 0, 96, 0x20, 0x01, 0x0d, 0xb8, 0, 0x0b, 0, 3, \
		0, 0, 0, 0

TEST(max_prefixes)
{
	struct iam_loop *loop;
	struct fake *f = calloc(1, sizeof(*f));
	struct seen s = { 0 };
	struct iam_bgp *a;

	netns_setup();
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	test_max_prefixes = 2;
	a = fake_session(loop, f, &s, 65001, 65002, true);
	fsend_update(f, (const uint8_t[]){ THREE_96, ORG, ASP_B },
		     sizeof((uint8_t[]){ THREE_96, ORG, ASP_B }));
	/* RFC 4486: Cease / Maximum Number of Prefixes Reached, with AFI,
	 * SAFI and the bound as data; the routes are gone */
	CHECK_EQ(frecv_nka(loop, f, 3000), IAM_BGP_MSG_NOTIFICATION);
	CHECK(is_notification(f, 6, 1));
	CHECK(f->mlen == 28 && f->msg[22] == 2 && f->msg[23] == 1 &&
	      f->msg[27] == 2);
	CHECK(RUN_UNTIL(loop, 1000, s.gone == s.routes));
	close(f->fd);
	iam_bgp_destroy(a);
	iam_loop_destroy(loop);
	free(f);
}

TEST(shutdown_from_a_hook)
{
	struct iam_loop *loop;
	struct fake *f = calloc(1, sizeof(*f));
	struct seen s = { 0 };
	struct iam_bgp *a;
	struct iam_bgp_prefix pa = pfx("2001:db8:a::/96");
	static struct iam_bgp_update u;
	struct iam_bgp_sess sess = { .as4 = true };
	int t;

	netns_setup();
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	a = fake_session(loop, f, &s, 65001, 65002, true);
	REQUIRE_EQ(iam_bgp_pool_announce(a, &pa, 10, 5, 16), 0);
	/* the agent stops from inside the route hook, on the first of three
	 * routes of one UPDATE: the UPDATE is still applied whole, then the
	 * routes are withdrawn and the session ends with a Cease */
	s.stop_on_route = true;
	fsend_update(f, (const uint8_t[]){ THREE_96, ORG, ASP_B },
		     sizeof((uint8_t[]){ THREE_96, ORG, ASP_B }));
	REQUIRE(RUN_UNTIL(loop, 3000, s.stopped));
	CHECK_EQ(s.routes, 3);
	CHECK_EQ(s.gone, 3);
	/* what B saw: our pool, then its withdrawal, then 6/2 */
	while ((t = frecv_nka(loop, f, 3000)) == IAM_BGP_MSG_UPDATE) {
		REQUIRE_EQ(iam_bgp_update_decode(f->msg + 19, f->mlen - 19,
						 &sess, &u),
			   0);
		if (u.a.mp_unreach)
			break;
	}
	CHECK(t == IAM_BGP_MSG_UPDATE && u.a.mp_unreach);
	CHECK_EQ(frecv_nka(loop, f, 3000), IAM_BGP_MSG_NOTIFICATION);
	CHECK(is_notification(f, 6, 2));
	CHECK_EQ(iam_bgp_announce(a, &pa, NULL, 0), -ESHUTDOWN);
	close(f->fd);
	iam_bgp_destroy(a);
	iam_loop_destroy(loop);
	free(f);
}
