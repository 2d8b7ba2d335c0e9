/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * rib.h - Adj-RIB-In per peer and the Loc-RIB (RFC 4271 3.2), with the
 * decision process of RFC 4271 9.1.2.2 and RFC 4456 9.  No sockets, no
 * loop: the unit tests drive it with made-up sources.
 *
 * One entry per prefix holds the candidate routes, at most one per source
 * (the peer it came from); a source also links its routes, which is its
 * Adj-RIB-In, so a session going down drops them in one walk.  Attribute
 * sets (paths) are shared by every route of an UPDATE and refcounted.
 */
#ifndef IAM_BGP_RIB_H
#define IAM_BGP_RIB_H

#include <stdbool.h>
#include <stdint.h>

#include "bgp/attrs.h"
#include "bgp/bgp.h"

/* An intrusive hash map keyed by prefix. */
struct iam_bgp_pfxnode {
	struct iam_bgp_pfxnode *next;
	struct iam_bgp_prefix prefix;
};

struct iam_bgp_pfxmap {
	struct iam_bgp_pfxnode **b;
	unsigned nb; /* buckets, a power of two, 0 until the first insert */
	unsigned count;
};

struct iam_bgp_pfxnode *iam_bgp_pfxmap_find(const struct iam_bgp_pfxmap *m,
					    const struct iam_bgp_prefix *p);
/* node->prefix must be set; it must not be in the map.  0 or -ENOMEM. */
int iam_bgp_pfxmap_insert(struct iam_bgp_pfxmap *m,
			  struct iam_bgp_pfxnode *node);
void iam_bgp_pfxmap_remove(struct iam_bgp_pfxmap *m,
			   struct iam_bgp_pfxnode *node);
/* Frees the buckets, not the nodes. */
void iam_bgp_pfxmap_fini(struct iam_bgp_pfxmap *m);
/* Walk: the callback may remove the node it is given. Stops and returns
 * the callback's value if non-zero. */
int iam_bgp_pfxmap_walk(const struct iam_bgp_pfxmap *m,
			int (*cb)(void *arg, struct iam_bgp_pfxnode *n),
			void *arg);

/* A shared, immutable set of path attributes. */
struct iam_bgp_path {
	unsigned refs;
	uint8_t origin;
	bool has_nh_ll;
	uint32_t med; /* 0 when absent */
	uint32_t local_pref; /* ours (100) for eBGP routes */
	uint32_t originator_id; /* 0 when absent */
	uint32_t neighbor_as; /* leftmost AS, or ours for an empty path */
	uint32_t origin_as; /* rightmost AS, or ours for an empty path */
	uint32_t hops; /* RFC 4271 9.1.2.2 (a) */
	struct in6_addr nh;
	struct in6_addr nh_ll;
	uint16_t aspath_len; /* octets, four-octet form (attrs.h) */
	uint16_t ncomm;
	uint16_t nlcomm;
	uint16_t ncluster;
	uint16_t unknown_len;
	uint8_t *aspath;
	uint32_t *comm;
	struct iam_bgp_lcomm *lcomm;
	uint32_t *cluster;
	/* Unknown optional transitive attributes as received, with the
	 * Partial bit set (RFC 4271 5): kept so that they are not lost,
	 * though this speaker never re-advertises learned routes. */
	uint8_t *unknown;
};

/* Build a path from a decoded UPDATE; NULL on -ENOMEM.  Large
 * communities are de-duplicated (RFC 8092 5). */
struct iam_bgp_path *iam_bgp_path_new(const struct iam_bgp_attrs *a, bool ibgp,
				      uint32_t local_as);
void iam_bgp_path_put(struct iam_bgp_path *p);

/* Where routes come from: one per peer. */
struct iam_bgp_src {
	const char *name; /* the peer's address, for the log */
	struct in6_addr addr;
	uint32_t router_id; /* the peer's BGP identifier, host order */
	bool ibgp;
	uint32_t ifindex; /* of the session, 0 if unknown */
	unsigned nroutes;
	struct iam_bgp_route *routes; /* its Adj-RIB-In */
};

struct iam_bgp_rib_entry;

struct iam_bgp_route {
	struct iam_bgp_route *next; /* in the entry */
	struct iam_bgp_route *snext, *sprev; /* in the source */
	struct iam_bgp_rib_entry *entry;
	struct iam_bgp_src *src;
	struct iam_bgp_path *path;
	uint64_t since_ms; /* when this path was received */
};

struct iam_bgp_rib_entry {
	struct iam_bgp_pfxnode node; /* node.prefix is the prefix */
	struct iam_bgp_route *routes;
	struct iam_bgp_route *best;
};

struct iam_bgp_rib {
	struct iam_bgp_pfxmap map;
	/* Called when e->best is a different route or has a new path; with
	 * e->best NULL just before the entry is freed. */
	void (*on_best)(void *ctx, struct iam_bgp_rib_entry *e);
	void *ctx;
};

/* Add or replace src's route for p (an implicit withdraw of the old one,
 * RFC 4271 3.1); takes its own reference on path.  0 or -ENOMEM. */
int iam_bgp_rib_update(struct iam_bgp_rib *rib, struct iam_bgp_src *src,
		       const struct iam_bgp_prefix *p,
		       struct iam_bgp_path *path, uint64_t now_ms);
/* Remove src's route for p, if any. */
void iam_bgp_rib_withdraw(struct iam_bgp_rib *rib, struct iam_bgp_src *src,
			  const struct iam_bgp_prefix *p);
/* Remove all of src's routes (its session went down). */
void iam_bgp_rib_flush(struct iam_bgp_rib *rib, struct iam_bgp_src *src);
struct iam_bgp_rib_entry *iam_bgp_rib_find(const struct iam_bgp_rib *rib,
					   const struct iam_bgp_prefix *p);
/* Frees every entry without calling on_best. */
void iam_bgp_rib_fini(struct iam_bgp_rib *rib);

/* The decision process: < 0 when a is preferred to b, > 0 when b is;
 * never 0 for routes from different sources. */
int iam_bgp_route_cmp(const struct iam_bgp_route *a,
		      const struct iam_bgp_route *b);

bool iam_bgp_prefix_eq(const struct iam_bgp_prefix *a,
		       const struct iam_bgp_prefix *b);

#endif /* IAM_BGP_RIB_H */
