// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Tests of the Adj-RIB-In / Loc-RIB and the decision process
 * (user/bgp/rib.c): RFC 4271 9.1.2.2 step by step, RFC 4456 9, implicit
 * withdraw, flushing a source, and the change notifications.
 */
#include <arpa/inet.h>

#include "bgp/rib.h"
#include "iam_test.h"

struct change {
	int calls;
	const struct iam_bgp_route *last;
	bool gone;
};

static void on_best(void *ctx, struct iam_bgp_rib_entry *e)
{
	struct change *c = ctx;

	c->calls++;
	c->last = e->best;
	c->gone = !e->best;
}

static struct iam_bgp_path *mkpath(uint32_t lp, uint32_t hops, uint8_t origin,
				   uint32_t med, uint32_t neighbor)
{
	struct iam_bgp_path *p = calloc(1, sizeof(*p));

	p->refs = 1;
	p->local_pref = lp;
	p->hops = hops;
	p->origin = origin;
	p->med = med;
	p->neighbor_as = neighbor;
	return p;
}

static struct iam_bgp_src mksrc(const char *addr, uint32_t id, bool ibgp)
{
	struct iam_bgp_src s = { .name = addr, .router_id = id, .ibgp = ibgp };

	inet_pton(AF_INET6, addr, &s.addr);
	return s;
}

static struct iam_bgp_prefix pfx(const char *s)
{
	struct iam_bgp_prefix p;

	REQUIRE_EQ(iam_bgp_prefix_parse(s, &p), 0);
	return p;
}

/* Two routes from two sources; which one wins. */
static int winner(struct iam_bgp_path *pa, struct iam_bgp_src *sa,
		  struct iam_bgp_path *pb, struct iam_bgp_src *sb)
{
	struct iam_bgp_route a = { .src = sa, .path = pa };
	struct iam_bgp_route b = { .src = sb, .path = pb };
	int ab = iam_bgp_route_cmp(&a, &b), ba = iam_bgp_route_cmp(&b, &a);

	/* antisymmetric, never a tie between sources */
	CHECK((ab < 0) == (ba > 0) && ab != 0);
	return ab < 0 ? 0 : 1;
}

TEST(decision_process)
{
	struct iam_bgp_src e1 = mksrc("2001:db8::1", 0x0a000001, false);
	struct iam_bgp_src e2 = mksrc("2001:db8::2", 0x0a000002, false);
	struct iam_bgp_src i3 = mksrc("2001:db8::3", 0x0a000003, true);
	struct iam_bgp_path *a, *b;

	/* LOCAL_PREF first, whatever the AS_PATH */
	a = mkpath(200, 5, 2, 0, 1);
	b = mkpath(100, 1, 0, 0, 1);
	CHECK_EQ(winner(a, &e2, b, &e1), 0);
	/* (a) shorter AS_PATH */
	a->local_pref = 100;
	CHECK_EQ(winner(a, &e1, b, &e2), 1);
	/* (b) lower ORIGIN */
	a->hops = 1;
	CHECK_EQ(winner(a, &e1, b, &e2), 1);
	/* (c) lower MED, same neighbouring AS only */
	a->origin = 0;
	a->med = 5;
	b->med = 10;
	CHECK_EQ(winner(a, &e2, b, &e1), 0);
	b->neighbor_as = 2; /* different AS: MED ignored -> router id */
	CHECK_EQ(winner(a, &e2, b, &e1), 1);
	b->neighbor_as = 1;
	b->med = 5;
	/* (d) eBGP over iBGP */
	CHECK_EQ(winner(a, &i3, b, &e2), 1);
	/* (f) lower router id; ORIGINATOR_ID stands in (RFC 4456 9) */
	CHECK_EQ(winner(a, &e2, b, &e1), 1);
	b->originator_id = 0x0b000000;
	CHECK_EQ(winner(a, &e2, b, &e1), 0);
	/* RFC 4456 9: shorter CLUSTER_LIST */
	a->originator_id = b->originator_id;
	a->ncluster = 2;
	b->ncluster = 1;
	CHECK_EQ(winner(a, &e1, b, &e2), 1);
	/* (g) lower peer address */
	a->ncluster = 1;
	CHECK_EQ(winner(a, &e2, b, &e1), 1);
	iam_bgp_path_put(a);
	iam_bgp_path_put(b);
}

TEST(update_replace_withdraw)
{
	struct change ch = { 0 };
	struct iam_bgp_rib rib = { .on_best = on_best, .ctx = &ch };
	struct iam_bgp_src s1 = mksrc("2001:db8::1", 1, false);
	struct iam_bgp_src s2 = mksrc("2001:db8::2", 2, false);
	struct iam_bgp_prefix p = pfx("2001:db8:1::/48");
	struct iam_bgp_path *long_path = mkpath(100, 3, 0, 0, 1);
	struct iam_bgp_path *short_path = mkpath(100, 1, 0, 0, 1);
	struct iam_bgp_rib_entry *e;

	REQUIRE_EQ(iam_bgp_rib_update(&rib, &s1, &p, long_path, 1), 0);
	CHECK_EQ(ch.calls, 1);
	CHECK(ch.last && ch.last->src == &s1);
	/* a better route from another peer takes over */
	REQUIRE_EQ(iam_bgp_rib_update(&rib, &s2, &p, short_path, 2), 0);
	CHECK_EQ(ch.calls, 2);
	CHECK(ch.last->src == &s2);
	/* a worse one from the first peer changes nothing visible */
	REQUIRE_EQ(iam_bgp_rib_update(&rib, &s1, &p, long_path, 3), 0);
	CHECK_EQ(ch.calls, 2);
	/* implicit withdraw of the best route with new attributes */
	REQUIRE_EQ(iam_bgp_rib_update(&rib, &s2, &p, short_path, 4), 0);
	CHECK_EQ(ch.calls, 3);
	e = iam_bgp_rib_find(&rib, &p);
	REQUIRE(e);
	CHECK_EQ(e->best->since_ms, 4);
	CHECK_EQ(s1.nroutes, 1);
	CHECK_EQ(s2.nroutes, 1);
	/* withdrawing the best falls back to the other */
	iam_bgp_rib_withdraw(&rib, &s2, &p);
	CHECK_EQ(ch.calls, 4);
	CHECK(ch.last && ch.last->src == &s1);
	/* withdrawing what is not there is a no-op */
	iam_bgp_rib_withdraw(&rib, &s2, &p);
	CHECK_EQ(ch.calls, 4);
	/* the last one: the entry goes */
	iam_bgp_rib_withdraw(&rib, &s1, &p);
	CHECK_EQ(ch.calls, 5);
	CHECK(ch.gone);
	CHECK(!iam_bgp_rib_find(&rib, &p));
	CHECK_EQ(long_path->refs, 1);
	CHECK_EQ(short_path->refs, 1);
	iam_bgp_path_put(long_path);
	iam_bgp_path_put(short_path);
	iam_bgp_rib_fini(&rib);
}

TEST(flush_source)
{
	struct change ch = { 0 };
	struct iam_bgp_rib rib = { .on_best = on_best, .ctx = &ch };
	struct iam_bgp_src s1 = mksrc("2001:db8::1", 1, false);
	struct iam_bgp_src s2 = mksrc("2001:db8::2", 2, false);
	struct iam_bgp_path *p = mkpath(100, 1, 0, 0, 1);
	enum { N = 5000 };

	/* many prefixes, the map grows as it goes */
	for (unsigned i = 0; i < N; i++) {
		struct iam_bgp_prefix x = pfx("2001:db8::/128");

		x.addr.s6_addr[14] = (uint8_t)(i >> 8);
		x.addr.s6_addr[15] = (uint8_t)i;
		REQUIRE_EQ(iam_bgp_rib_update(&rib, &s1, &x, p, 0), 0);
		if (i % 2)
			REQUIRE_EQ(iam_bgp_rib_update(&rib, &s2, &x, p, 0), 0);
	}
	CHECK_EQ(rib.map.count, N);
	CHECK_EQ(s1.nroutes, N);
	CHECK_EQ(s2.nroutes, N / 2);
	CHECK_EQ(p->refs, 1 + N + N / 2);
	ch.calls = 0;
	iam_bgp_rib_flush(&rib, &s1);
	CHECK_EQ(s1.nroutes, 0);
	CHECK(!s1.routes);
	/* s1 (lower address) was best everywhere: every entry changed, and
	 * those without s2 went away */
	CHECK_EQ(ch.calls, N);
	CHECK_EQ(rib.map.count, N / 2);
	iam_bgp_rib_flush(&rib, &s2);
	CHECK_EQ(rib.map.count, 0);
	CHECK_EQ(p->refs, 1);
	iam_bgp_path_put(p);
	iam_bgp_rib_fini(&rib);
}

TEST(fini_releases_everything)
{
	struct iam_bgp_rib rib = { 0 };
	struct iam_bgp_src s1 = mksrc("2001:db8::1", 1, false);
	struct iam_bgp_path *p = mkpath(100, 1, 0, 0, 1);
	struct iam_bgp_prefix x = pfx("2001:db8::/32");

	REQUIRE_EQ(iam_bgp_rib_update(&rib, &s1, &x, p, 0), 0);
	CHECK_EQ(p->refs, 2);
	iam_bgp_rib_fini(&rib);
	CHECK_EQ(p->refs, 1);
	CHECK_EQ(s1.nroutes, 0);
	iam_bgp_path_put(p);
}
