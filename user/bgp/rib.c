// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* rib.c - Adj-RIB-In, Loc-RIB and the decision process; see rib.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/rib.h"

/* ---- prefix map ------------------------------------------------------ */

bool iam_bgp_prefix_eq(const struct iam_bgp_prefix *a,
		       const struct iam_bgp_prefix *b)
{
	return a->len == b->len && !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

static unsigned prefix_hash(const struct iam_bgp_prefix *p)
{
	uint64_t w[2], h;

	memcpy(w, &p->addr, sizeof(w));
	h = (w[0] * 0x9e3779b97f4a7c15ull) ^ (w[1] + p->len);
	h *= 0xbf58476d1ce4e5b9ull;
	return (unsigned)(h >> 32);
}

struct iam_bgp_pfxnode *iam_bgp_pfxmap_find(const struct iam_bgp_pfxmap *m,
					    const struct iam_bgp_prefix *p)
{
	struct iam_bgp_pfxnode *n;

	if (!m->nb)
		return NULL;
	for (n = m->b[prefix_hash(p) & (m->nb - 1)]; n; n = n->next)
		if (iam_bgp_prefix_eq(&n->prefix, p))
			return n;
	return NULL;
}

static int pfxmap_grow(struct iam_bgp_pfxmap *m)
{
	unsigned nb = m->nb ? m->nb * 2 : 16;
	struct iam_bgp_pfxnode **b = calloc(nb, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (unsigned i = 0; i < m->nb; i++) {
		struct iam_bgp_pfxnode *n = m->b[i], *next;

		for (; n; n = next) {
			unsigned h = prefix_hash(&n->prefix) & (nb - 1);

			next = n->next;
			n->next = b[h];
			b[h] = n;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return 0;
}

int iam_bgp_pfxmap_insert(struct iam_bgp_pfxmap *m,
			  struct iam_bgp_pfxnode *node)
{
	unsigned h;

	if (m->count >= m->nb) {
		int err = pfxmap_grow(m);

		/* A full table still works, only slower. */
		if (err && !m->nb)
			return err;
	}
	h = prefix_hash(&node->prefix) & (m->nb - 1);
	node->next = m->b[h];
	m->b[h] = node;
	m->count++;
	return 0;
}

void iam_bgp_pfxmap_remove(struct iam_bgp_pfxmap *m,
			   struct iam_bgp_pfxnode *node)
{
	struct iam_bgp_pfxnode **pp;

	if (!m->nb)
		return;
	pp = &m->b[prefix_hash(&node->prefix) & (m->nb - 1)];
	for (; *pp; pp = &(*pp)->next) {
		if (*pp == node) {
			*pp = node->next;
			node->next = NULL;
			m->count--;
			return;
		}
	}
}

void iam_bgp_pfxmap_fini(struct iam_bgp_pfxmap *m)
{
	free(m->b);
	m->b = NULL;
	m->nb = m->count = 0;
}

int iam_bgp_pfxmap_walk(const struct iam_bgp_pfxmap *m,
			int (*cb)(void *arg, struct iam_bgp_pfxnode *n),
			void *arg)
{
	for (unsigned i = 0; i < m->nb; i++) {
		struct iam_bgp_pfxnode *n = m->b[i], *next;

		for (; n; n = next) {
			int r;

			next = n->next;
			r = cb(arg, n);
			if (r)
				return r;
		}
	}
	return 0;
}

/* ---- paths ----------------------------------------------------------- */

struct iam_bgp_path *iam_bgp_path_new(const struct iam_bgp_attrs *a, bool ibgp,
				      uint32_t local_as)
{
	unsigned ncomm = a->comm.len / 4, nlc = a->lcomm.len / 12;
	unsigned ncl = a->cluster.len / 4, ulen = 0, n;
	struct iam_bgp_path *p;
	uint8_t *d;

	for (unsigned i = 0; i < a->nunknown; i++)
		ulen += a->unknown[i].len;
	/* Arrays of 4-octet items first, then bytes: all aligned. */
	p = calloc(1, sizeof(*p) + 4u * ncomm + 12u * nlc + 4u * ncl +
			      a->aspath_len + ulen);
	if (!p)
		return NULL;
	p->refs = 1;
	d = (uint8_t *)(p + 1);
	p->comm = (uint32_t *)d;
	d += 4u * ncomm;
	p->lcomm = (struct iam_bgp_lcomm *)d;
	d += 12u * nlc;
	p->cluster = (uint32_t *)d;
	d += 4u * ncl;
	p->aspath = d;
	d += a->aspath_len;
	p->unknown = d;

	p->origin = a->origin;
	p->med = a->med;
	p->local_pref = ibgp ? a->local_pref : IAM_BGP_LOCAL_PREF_DEFAULT;
	p->originator_id = a->originator_id;
	p->nh = a->nh;
	p->has_nh_ll = a->nh_len == 32;
	if (p->has_nh_ll)
		p->nh_ll = a->nh_ll;
	memcpy(p->aspath, a->aspath, a->aspath_len);
	p->aspath_len = a->aspath_len;
	p->hops = iam_bgp_aspath_hops(a->aspath, a->aspath_len);
	p->neighbor_as = iam_bgp_aspath_first(a->aspath, a->aspath_len);
	p->origin_as = iam_bgp_aspath_origin(a->aspath, a->aspath_len);
	if (!a->aspath_len)
		p->neighbor_as = p->origin_as = local_as;
	for (unsigned i = 0; i < ncomm; i++)
		p->comm[i] = iam_get32(a->comm.p + 4 * i);
	p->ncomm = (uint16_t)ncomm;
	/* RFC 8092 5: duplicates are to be ignored. */
	n = 0;
	for (unsigned i = 0; i < nlc; i++) {
		struct iam_bgp_lcomm c = {
			iam_get32(a->lcomm.p + 12 * i),
			iam_get32(a->lcomm.p + 12 * i + 4),
			iam_get32(a->lcomm.p + 12 * i + 8),
		};
		unsigned j;

		for (j = 0; j < n; j++)
			if (!memcmp(&p->lcomm[j], &c, sizeof(c)))
				break;
		if (j == n)
			p->lcomm[n++] = c;
	}
	p->nlcomm = (uint16_t)n;
	for (unsigned i = 0; i < ncl; i++)
		p->cluster[i] = iam_get32(a->cluster.p + 4 * i);
	p->ncluster = (uint16_t)ncl;
	for (unsigned i = 0, o = 0; i < a->nunknown; i++) {
		memcpy(p->unknown + o, a->unknown[i].p, a->unknown[i].len);
		p->unknown[o] |= IAM_BGP_AF_PARTIAL;
		o += a->unknown[i].len;
	}
	p->unknown_len = (uint16_t)ulen;
	return p;
}

void iam_bgp_path_put(struct iam_bgp_path *p)
{
	if (p && !--p->refs)
		free(p);
}

/* ---- decision process ------------------------------------------------ */

int iam_bgp_route_cmp(const struct iam_bgp_route *a,
		      const struct iam_bgp_route *b)
{
	const struct iam_bgp_path *pa = a->path, *pb = b->path;
	uint32_t ida, idb;
	int c;

	/* RFC 4271 9.1.1: the degree of preference is LOCAL_PREF (ours
	 * for eBGP routes); higher wins. */
	if (pa->local_pref != pb->local_pref)
		return pa->local_pref > pb->local_pref ? -1 : 1;
	/* 9.1.2.2 (a): shorter AS_PATH. */
	if (pa->hops != pb->hops)
		return pa->hops < pb->hops ? -1 : 1;
	/* (b): lower ORIGIN. */
	if (pa->origin != pb->origin)
		return pa->origin < pb->origin ? -1 : 1;
	/* (c): lower MED, between routes from the same neighbouring AS. */
	if (pa->neighbor_as == pb->neighbor_as && pa->med != pb->med)
		return pa->med < pb->med ? -1 : 1;
	/* (d): eBGP over iBGP. */
	if (a->src->ibgp != b->src->ibgp)
		return a->src->ibgp ? 1 : -1;
	/* (f): lower BGP identifier; RFC 4456 9: the ORIGINATOR_ID stands
	 * for it when present. */
	ida = pa->originator_id ? pa->originator_id : a->src->router_id;
	idb = pb->originator_id ? pb->originator_id : b->src->router_id;
	if (ida != idb)
		return ida < idb ? -1 : 1;
	/* RFC 4456 9: shorter CLUSTER_LIST. */
	if (pa->ncluster != pb->ncluster)
		return pa->ncluster < pb->ncluster ? -1 : 1;
	/* (g): lower peer address. */
	c = memcmp(&a->src->addr, &b->src->addr, sizeof(a->src->addr));
	if (c)
		return c;
	return a->src == b->src ? 0 : (a->src < b->src ? -1 : 1);
}

static void entry_select(struct iam_bgp_rib *rib, struct iam_bgp_rib_entry *e,
			 bool force)
{
	struct iam_bgp_route *best = NULL, *r;

	for (r = e->routes; r; r = r->next)
		if (!best || iam_bgp_route_cmp(r, best) < 0)
			best = r;
	if (best == e->best && !force)
		return;
	e->best = best;
	if (rib->on_best)
		rib->on_best(rib->ctx, e);
}

static void entry_maybe_free(struct iam_bgp_rib *rib,
			     struct iam_bgp_rib_entry *e)
{
	if (e->routes)
		return;
	iam_bgp_pfxmap_remove(&rib->map, &e->node);
	free(e);
}

struct iam_bgp_rib_entry *iam_bgp_rib_find(const struct iam_bgp_rib *rib,
					   const struct iam_bgp_prefix *p)
{
	struct iam_bgp_pfxnode *n = iam_bgp_pfxmap_find(&rib->map, p);

	return n ? (struct iam_bgp_rib_entry *)n : NULL;
}

static struct iam_bgp_route *entry_route(struct iam_bgp_rib_entry *e,
					 const struct iam_bgp_src *src)
{
	struct iam_bgp_route *r;

	for (r = e->routes; r; r = r->next)
		if (r->src == src)
			return r;
	return NULL;
}

int iam_bgp_rib_update(struct iam_bgp_rib *rib, struct iam_bgp_src *src,
		       const struct iam_bgp_prefix *p,
		       struct iam_bgp_path *path, uint64_t now_ms)
{
	struct iam_bgp_rib_entry *e = iam_bgp_rib_find(rib, p);
	struct iam_bgp_route *r;
	int err;

	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->node.prefix = *p;
		err = iam_bgp_pfxmap_insert(&rib->map, &e->node);
		if (err) {
			free(e);
			return err;
		}
	}
	r = entry_route(e, src);
	if (r) {
		/* Implicit withdraw: same route object, new attributes. */
		iam_bgp_path_put(r->path);
		path->refs++;
		r->path = path;
		r->since_ms = now_ms;
		entry_select(rib, e, r == e->best);
		return 0;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		entry_maybe_free(rib, e);
		return -ENOMEM;
	}
	r->entry = e;
	r->src = src;
	path->refs++;
	r->path = path;
	r->since_ms = now_ms;
	r->next = e->routes;
	e->routes = r;
	r->snext = src->routes;
	if (src->routes)
		src->routes->sprev = r;
	src->routes = r;
	src->nroutes++;
	entry_select(rib, e, false);
	return 0;
}

static void route_remove(struct iam_bgp_rib *rib, struct iam_bgp_route *r)
{
	struct iam_bgp_rib_entry *e = r->entry;
	struct iam_bgp_route **pp;

	for (pp = &e->routes; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	if (r->sprev)
		r->sprev->snext = r->snext;
	else
		r->src->routes = r->snext;
	if (r->snext)
		r->snext->sprev = r->sprev;
	r->src->nroutes--;
	if (e->best == r) {
		e->best = NULL;
		entry_select(rib, e, true);
	}
	iam_bgp_path_put(r->path);
	free(r);
	entry_maybe_free(rib, e);
}

void iam_bgp_rib_withdraw(struct iam_bgp_rib *rib, struct iam_bgp_src *src,
			  const struct iam_bgp_prefix *p)
{
	struct iam_bgp_rib_entry *e = iam_bgp_rib_find(rib, p);
	struct iam_bgp_route *r = e ? entry_route(e, src) : NULL;

	if (r)
		route_remove(rib, r);
}

void iam_bgp_rib_flush(struct iam_bgp_rib *rib, struct iam_bgp_src *src)
{
	while (src->routes)
		route_remove(rib, src->routes);
}

static int fini_one(void *arg, struct iam_bgp_pfxnode *n)
{
	struct iam_bgp_rib_entry *e = (struct iam_bgp_rib_entry *)n;
	struct iam_bgp_route *r, *next;

	for (r = e->routes; r; r = next) {
		next = r->next;
		r->src->routes = NULL;
		r->src->nroutes = 0;
		iam_bgp_path_put(r->path);
		free(r);
	}
	free(e);
	return 0;
}

void iam_bgp_rib_fini(struct iam_bgp_rib *rib)
{
	iam_bgp_pfxmap_walk(&rib->map, fini_one, NULL);
	iam_bgp_pfxmap_fini(&rib->map);
}
