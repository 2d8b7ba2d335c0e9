// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * iam.c - what routes mean to IAM (DESIGN.md "BGP encoding"): our pool
 * and allocations as large communities (RFC 8092) of our AS, and the
 * lender table derived from the pools others announce.
 *
 * A learned route is a pool when its large communities of the
 * originating AS (the rightmost AS of the AS_PATH; ours for an iBGP route
 * with an empty path) carry functions 1, 2 and 3 with sane values: a
 * router on the way may add communities of its own AS, which are not
 * ours to read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/session.h"
#include "iam_const.h"
#include "log.h"

static void pool_rate_cb(struct iam_loop *loop, struct iam_timer *t, void *arg);

void iam_bgp_iam_init(struct iam_bgp *bgp)
{
	iam_timer_init(&bgp->pool.rate, pool_rate_cb, bgp);
}

static int lender_free(void *arg, struct iam_bgp_pfxnode *n)
{
	free(n);
	return 0;
}

void iam_bgp_iam_fini(struct iam_bgp *bgp)
{
	iam_timer_cancel(bgp->loop, &bgp->pool.rate);
	iam_bgp_pfxmap_walk(&bgp->lenders, lender_free, NULL);
	iam_bgp_pfxmap_fini(&bgp->lenders);
}

/* ---- reading routes -------------------------------------------------- */

static bool lcomm_get(const struct iam_bgp_path *p, uint32_t as, uint32_t fn,
		      uint32_t *v)
{
	for (unsigned i = 0; i < p->nlcomm; i++) {
		if (p->lcomm[i].global == as && p->lcomm[i].local1 == fn) {
			*v = p->lcomm[i].local2;
			return true;
		}
	}
	return false;
}

static enum iam_bgp_route_kind classify(const struct iam_bgp_path *p,
					struct iam_bgp_route_info *i)
{
	uint32_t as = p->origin_as, t, a, s, b, r;

	if (as && lcomm_get(p, as, IAM_BGP_FN_TOTAL, &t) &&
	    lcomm_get(p, as, IAM_BGP_FN_AVAIL, &a) &&
	    lcomm_get(p, as, IAM_BGP_FN_BLOCK_SHIFT, &s) && a <= t &&
	    s >= IAM_BLOCK_SHIFT_MIN && s <= IAM_BLOCK_SHIFT_MAX) {
		i->total_blocks = t;
		i->avail_blocks = a;
		i->block_shift = (uint8_t)s;
		return IAM_BGP_ROUTE_POOL;
	}
	if (as && lcomm_get(p, as, IAM_BGP_FN_BORROWER, &b) &&
	    lcomm_get(p, as, IAM_BGP_FN_RIGHTS, &r) &&
	    (r == IAM_RIGHTS_RO || r == IAM_RIGHTS_RW)) {
		i->borrower_id = b;
		i->rights = (uint8_t)r;
		return IAM_BGP_ROUTE_ALLOC;
	}
	return IAM_BGP_ROUTE_PLAIN;
}

void iam_bgp_route_fill(struct iam_bgp *bgp, const struct iam_bgp_route *r,
			struct iam_bgp_route_info *info, char *strbuf,
			size_t len)
{
	const struct iam_bgp_path *p = r->path;

	memset(info, 0, sizeof(*info));
	info->prefix = r->entry->node.prefix;
	info->next_hop = p->nh;
	info->has_next_hop_ll = p->has_nh_ll;
	info->next_hop_ll = p->nh_ll;
	info->ifindex = r->src->ifindex;
	info->origin_as = p->origin_as;
	info->hops = p->hops;
	info->as_path =
		iam_bgp_aspath_str(p->aspath, p->aspath_len, strbuf, len);
	info->peer = r->src->name;
	info->lcomm = p->lcomm;
	info->nlcomm = p->nlcomm;
	info->kind = classify(p, info);
}

/* ---- the lender table ------------------------------------------------ */

struct totals {
	uint64_t m, v;
};

static int totals_add(void *arg, struct iam_bgp_pfxnode *n)
{
	struct totals *t = arg;
	struct bgp_lender *l = (struct bgp_lender *)n;

	t->m += l->total;
	t->v += l->avail;
	return 0;
}

void iam_bgp_totals(const struct iam_bgp *bgp, uint64_t *total_blocks,
		    uint64_t *avail_blocks)
{
	struct totals t = { 0, 0 };

	if (bgp->pool.set) {
		t.m = bgp->pool.total;
		t.v = bgp->pool.avail;
	}
	iam_bgp_pfxmap_walk(&bgp->lenders, totals_add, &t);
	*total_blocks = t.m;
	*avail_blocks = t.v;
}

static void pools_hook(struct iam_bgp *bgp)
{
	uint64_t m, v;

	if (!bgp->hooks.pools)
		return;
	iam_bgp_totals(bgp, &m, &v);
	bgp->hooks.pools(bgp->hooks.ctx, m, v);
}

void iam_bgp_iam_on_best(void *ctx, struct iam_bgp_rib_entry *e)
{
	struct iam_bgp *bgp = ctx;
	const struct iam_bgp_prefix *pfx = &e->node.prefix;
	struct iam_bgp_route_info info;
	struct bgp_lender *l;
	bool changed = false;

	memset(&info, 0, sizeof(info));
	if (e->best)
		iam_bgp_route_fill(bgp, e->best, &info, bgp->strbuf[0],
				   sizeof(bgp->strbuf[0]));
	if (bgp->hooks.route)
		bgp->hooks.route(bgp->hooks.ctx, pfx, e->best ? &info : NULL);
	/* Our own pool counts once, from what the agent told us. */
	if (bgp->pool.set && iam_bgp_prefix_eq(pfx, &bgp->pool.prefix)) {
		if (e->best && info.kind == IAM_BGP_ROUTE_POOL)
			iam_warn("bgp: peer %s announces our own pool %s",
				 e->best->src->name,
				 iam_bgp_prefix_str(pfx, bgp->strbuf[1],
						    sizeof(bgp->strbuf[1])));
		info.kind = IAM_BGP_ROUTE_PLAIN;
	}
	l = (struct bgp_lender *)iam_bgp_pfxmap_find(&bgp->lenders, pfx);
	if (e->best && info.kind == IAM_BGP_ROUTE_POOL) {
		if (!l) {
			l = calloc(1, sizeof(*l));
			if (!l) {
				iam_err("bgp: no memory for a lender");
				return;
			}
			l->node.prefix = *pfx;
			if (iam_bgp_pfxmap_insert(&bgp->lenders, &l->node)) {
				free(l);
				return;
			}
			changed = true;
		}
		if (changed || l->total != info.total_blocks ||
		    l->avail != info.avail_blocks ||
		    l->shift != info.block_shift) {
			l->total = info.total_blocks;
			l->avail = info.avail_blocks;
			l->shift = info.block_shift;
			l->since_ms = iam_now_ms();
			changed = true;
		}
		l->route = e->best;
	} else if (l) {
		iam_bgp_pfxmap_remove(&bgp->lenders, &l->node);
		free(l);
		changed = true;
	}
	if (changed)
		pools_hook(bgp);
}

struct lender_walk {
	const struct iam_bgp *bgp;
	int (*cb)(void *arg, const struct iam_bgp_lender *l);
	void *arg;
	char *buf;
	size_t len;
};

static int lender_one(void *arg, struct iam_bgp_pfxnode *n)
{
	struct lender_walk *w = arg;
	struct bgp_lender *l = (struct bgp_lender *)n;
	const struct iam_bgp_path *p = l->route->path;
	struct iam_bgp_lender out = {
		.prefix = n->prefix,
		.total_blocks = l->total,
		.avail_blocks = l->avail,
		.block_shift = l->shift,
		.origin_as = p->origin_as,
		.hops = p->hops,
		.next_hop = p->nh,
		.peer = l->route->src->name,
		.since_ms = l->since_ms,
	};

	out.as_path =
		iam_bgp_aspath_str(p->aspath, p->aspath_len, w->buf, w->len);
	out.as_path_len = iam_bgp_aspath_flatten(p->aspath, p->aspath_len,
						 out.as_path_asn,
						 IAM_BGP_LENDER_PATH_MAX);
	return w->cb(w->arg, &out);
}

int iam_bgp_lenders_foreach(const struct iam_bgp *bgp,
			    int (*cb)(void *arg,
				      const struct iam_bgp_lender *l),
			    void *arg)
{
	char buf[1024];
	struct lender_walk w = { bgp, cb, arg, buf, sizeof(buf) };

	if (bgp->pool.set) {
		struct iam_bgp_lender own = {
			.prefix = bgp->pool.prefix,
			.total_blocks = bgp->pool.total,
			.avail_blocks = bgp->pool.avail,
			.block_shift = bgp->pool.shift,
			.local = true,
			.origin_as = bgp->cfg.local_as,
			.as_path = "",
			.peer = "",
			.since_ms = bgp->pool.since_ms,
		};
		int r = cb(arg, &own);

		if (r)
			return r;
	}
	return iam_bgp_pfxmap_walk(&bgp->lenders, lender_one, &w);
}

int iam_bgp_lookup(struct iam_bgp *bgp, const struct iam_bgp_prefix *p,
		   struct iam_bgp_route_info *out)
{
	struct iam_bgp_rib_entry *e = iam_bgp_rib_find(&bgp->rib, p);

	if (!e || !e->best)
		return -ENOENT;
	iam_bgp_route_fill(bgp, e->best, out, bgp->strbuf[1],
			   sizeof(bgp->strbuf[1]));
	return 0;
}

/* ---- what we say ----------------------------------------------------- */

static int pool_send(struct iam_bgp *bgp)
{
	struct bgp_pool *pl = &bgp->pool;
	uint32_t as = bgp->cfg.local_as;
	struct iam_bgp_lcomm lc[3] = {
		{ as, IAM_BGP_FN_TOTAL, pl->total },
		{ as, IAM_BGP_FN_AVAIL, pl->avail },
		{ as, IAM_BGP_FN_BLOCK_SHIFT, pl->shift },
	};
	int err = iam_bgp_announce(bgp, &pl->prefix, lc, 3);

	if (!err) {
		pl->sent = true;
		pl->sent_avail = pl->avail;
		pl->sent_ms = iam_now_ms();
	}
	return err;
}

static void pool_rate_cb(struct iam_loop *loop, struct iam_timer *t, void *arg)
{
	struct iam_bgp *bgp = arg;

	if (bgp->pool.set && bgp->pool.avail != bgp->pool.sent_avail)
		pool_send(bgp);
}

int iam_bgp_pool_announce(struct iam_bgp *bgp, const struct iam_bgp_prefix *p,
			  uint32_t total_blocks, uint32_t avail_blocks,
			  unsigned block_shift)
{
	struct bgp_pool *pl = &bgp->pool;
	int err;

	if (block_shift < IAM_BLOCK_SHIFT_MIN ||
	    block_shift > IAM_BLOCK_SHIFT_MAX || avail_blocks > total_blocks ||
	    p->len > 128)
		return -EINVAL;
	if (pl->set && !iam_bgp_prefix_eq(&pl->prefix, p))
		iam_bgp_withdraw(bgp, &pl->prefix);
	iam_timer_cancel(bgp->loop, &pl->rate);
	pl->set = true;
	pl->prefix = *p;
	pl->total = total_blocks;
	pl->avail = avail_blocks;
	pl->shift = (uint8_t)block_shift;
	pl->since_ms = iam_now_ms();
	err = pool_send(bgp);
	if (err) {
		pl->set = false;
		return err;
	}
	pools_hook(bgp);
	return 0;
}

int iam_bgp_pool_set_available(struct iam_bgp *bgp, uint32_t avail_blocks)
{
	struct bgp_pool *pl = &bgp->pool;
	uint64_t now = iam_now_ms(), gap;

	if (!pl->set)
		return -ENOENT;
	if (avail_blocks > pl->total)
		return -EINVAL;
	if (avail_blocks == pl->avail)
		return 0;
	pl->avail = avail_blocks;
	pl->since_ms = now;
	pools_hook(bgp);
	if (bgp->stopping || iam_timer_armed(&pl->rate))
		return 0; /* the pending re-announcement takes the value */
	if (!bgp->cfg.pool_update_rate)
		return pool_send(bgp);
	/* At most pool_update_rate announcements a second: the first at
	 * once, changes within the interval coalesced into one. */
	gap = (1000 + bgp->cfg.pool_update_rate - 1) /
	      bgp->cfg.pool_update_rate;
	if (!pl->sent || now - pl->sent_ms >= gap)
		return pool_send(bgp);
	iam_timer_arm(bgp->loop, &pl->rate, pl->sent_ms + gap - now);
	return 0;
}

int iam_bgp_pool_withdraw(struct iam_bgp *bgp)
{
	struct bgp_pool *pl = &bgp->pool;

	if (!pl->set)
		return -ENOENT;
	iam_timer_cancel(bgp->loop, &pl->rate);
	pl->set = false;
	pl->sent = false;
	iam_bgp_withdraw(bgp, &pl->prefix);
	pools_hook(bgp);
	return 0;
}

int iam_bgp_alloc_announce(struct iam_bgp *bgp, const struct iam_bgp_prefix *p,
			   uint32_t borrower_id, unsigned rights)
{
	struct iam_bgp_lcomm lc[2] = {
		{ bgp->cfg.local_as, IAM_BGP_FN_BORROWER, borrower_id },
		{ bgp->cfg.local_as, IAM_BGP_FN_RIGHTS, rights },
	};

	if (rights != IAM_RIGHTS_RO && rights != IAM_RIGHTS_RW)
		return -EINVAL;
	return iam_bgp_announce(bgp, p, lc, 2);
}

int iam_bgp_alloc_withdraw(struct iam_bgp *bgp, const struct iam_bgp_prefix *p)
{
	return iam_bgp_withdraw(bgp, p);
}

int iam_bgp_host_announce(struct iam_bgp *bgp, const struct in6_addr *addr)
{
	struct iam_bgp_prefix p = { *addr, 128 };

	return iam_bgp_announce(bgp, &p, NULL, 0);
}
