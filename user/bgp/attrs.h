/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * attrs.h - BGP path attributes: decoding the path attribute section of an
 * UPDATE with the error handling of RFC 7606, AS_PATH / AS4_PATH (RFC
 * 6793), and encoding the attributes of the routes we originate.  Pure
 * functions over buffers: no allocation, no I/O, no global state.
 */
#ifndef IAM_BGP_ATTRS_H
#define IAM_BGP_ATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/bgp.h"
#include "wire.h"

/* Attribute type codes (IANA "BGP Path Attributes"). */
enum {
	IAM_BGP_A_ORIGIN = 1,
	IAM_BGP_A_AS_PATH = 2,
	IAM_BGP_A_NEXT_HOP = 3,
	IAM_BGP_A_MED = 4,
	IAM_BGP_A_LOCAL_PREF = 5,
	IAM_BGP_A_ATOMIC_AGGR = 6,
	IAM_BGP_A_AGGREGATOR = 7,
	IAM_BGP_A_COMMUNITY = 8,
	IAM_BGP_A_ORIGINATOR_ID = 9,
	IAM_BGP_A_CLUSTER_LIST = 10,
	IAM_BGP_A_MP_REACH = 14,
	IAM_BGP_A_MP_UNREACH = 15,
	IAM_BGP_A_EXT_COMMUNITY = 16,
	IAM_BGP_A_AS4_PATH = 17,
	IAM_BGP_A_AS4_AGGREGATOR = 18,
	IAM_BGP_A_LARGE_COMMUNITY = 32,
};

/* Attribute flags (RFC 4271 4.3). */
#define IAM_BGP_AF_OPTIONAL 0x80
#define IAM_BGP_AF_TRANSITIVE 0x40
#define IAM_BGP_AF_PARTIAL 0x20
#define IAM_BGP_AF_EXTLEN 0x10

/* AS_PATH segment types (RFC 4271 4.3, RFC 5065 3). */
enum {
	IAM_BGP_AS_SET = 1,
	IAM_BGP_AS_SEQUENCE = 2,
	IAM_BGP_AS_CONFED_SEQUENCE = 3,
	IAM_BGP_AS_CONFED_SET = 4,
};

#define IAM_BGP_AS_TRANS 23456 /* RFC 6793, section 9 */
#define IAM_BGP_ORIGIN_IGP 0
#define IAM_BGP_ORIGIN_EGP 1
#define IAM_BGP_ORIGIN_INCOMPLETE 2
#define IAM_BGP_LOCAL_PREF_DEFAULT 100

/* AFI / SAFI (RFC 4760), and the only pair this speaker carries. */
#define IAM_BGP_AFI_IPV4 1
#define IAM_BGP_AFI_IPV6 2
#define IAM_BGP_SAFI_UNICAST 1

/*
 * What to do about an UPDATE, weakest first; when several problems are
 * found the strongest wins (RFC 7606, section 3 (h)).
 */
enum iam_bgp_action {
	IAM_BGP_ACT_NONE = 0,
	IAM_BGP_ACT_DISCARD, /* an attribute was dropped, the rest stands */
	IAM_BGP_ACT_WITHDRAW, /* treat-as-withdraw (RFC 7606, section 2) */
	IAM_BGP_ACT_RESET, /* NOTIFICATION and close the session */
};

/* A NOTIFICATION to send: code, subcode, data (RFC 4271 4.5). */
#define IAM_BGP_ERR_DATA_MAX 4075 /* 4096 - header 19 - code/subcode 2 */
struct iam_bgp_error {
	uint8_t code; /* 0: no error */
	uint8_t subcode;
	uint16_t len; /* bytes of data */
	uint8_t data[IAM_BGP_ERR_DATA_MAX];
};

/* What the decoder must know about the session. */
struct iam_bgp_sess {
	bool as4; /* both sides sent the four-octet AS capability */
	bool ibgp;
	bool enforce_first_as; /* see iam_bgp_peer_config */
	uint32_t peer_as;
};

/* Bytes of the message, not copied. */
struct iam_bgp_span {
	const uint8_t *p;
	uint16_t len;
};

/* The largest AS_PATH after widening to four octets: the message holds at
 * most 4096 octets and widening at most doubles a segment. */
#define IAM_BGP_ASPATH_MAX 8192
/* Unknown optional transitive attributes kept per UPDATE. */
#define IAM_BGP_UNKNOWN_MAX 32

struct iam_bgp_attrs {
	uint64_t seen[4]; /* bit per type code: first occurrence taken */
	uint8_t origin;
	bool atomic_aggregate;
	bool has_aggr; /* a valid AGGREGATOR */
	uint32_t med; /* 0 when absent: the lowest (RFC 4271 9.1.2.2 c) */
	uint32_t local_pref;
	uint32_t nexthop4; /* NEXT_HOP, host order (IPv4 NLRI only) */
	uint32_t originator_id; /* host order; 0 when absent */
	uint32_t aggr_as; /* AGGREGATOR, widened to four octets */
	uint32_t aggr_id;
	/* AS_PATH in four-octet form (type, count, count x AS), merged with
	 * AS4_PATH for a two-octet peer (RFC 6793, section 4.2.3). */
	uint16_t aspath_len;
	uint8_t aspath[IAM_BGP_ASPATH_MAX];
	struct iam_bgp_span comm; /* RFC 1997, n x 4 */
	struct iam_bgp_span lcomm; /* RFC 8092, n x 12 */
	struct iam_bgp_span cluster; /* RFC 4456, n x 4 */
	struct iam_bgp_span ext_comm; /* RFC 4360, n x 8 */
	/* Unknown optional transitive attributes, whole (flags, type,
	 * length, value): kept, not an error (RFC 4271, section 5). */
	uint8_t nunknown;
	struct iam_bgp_span unknown[IAM_BGP_UNKNOWN_MAX];
	/* MP_REACH_NLRI / MP_UNREACH_NLRI for IPv6 unicast (RFC 4760);
	 * other AFI/SAFI pairs are skipped. */
	bool mp_reach;
	bool mp_unreach;
	uint8_t nh_len; /* 16 or 32 (RFC 2545, section 3) */
	struct in6_addr nh; /* global */
	struct in6_addr nh_ll; /* link-local, when nh_len is 32 */
	struct iam_bgp_span reach; /* NLRI, syntax checked */
	struct iam_bgp_span unreach; /* withdrawn, syntax checked */
};

static inline bool iam_bgp_attr_seen(const struct iam_bgp_attrs *a,
				     unsigned type)
{
	return a->seen[type >> 6] >> (type & 63) & 1;
}

/* A decoded UPDATE (filled by iam_bgp_update_decode, packets.h). */
struct iam_bgp_update {
	struct iam_bgp_span withdrawn4; /* IPv4 Withdrawn Routes, checked */
	struct iam_bgp_span nlri4; /* IPv4 NLRI, checked */
	enum iam_bgp_action action; /* the strongest problem found */
	char reason[160]; /* what that problem was, for the log */
	unsigned discarded; /* attributes dropped (RFC 7606 discard) */
	bool eor; /* End-of-RIB for IPv6 unicast (RFC 4724, section 2) */
	struct iam_bgp_attrs a;
	struct iam_bgp_error err; /* when action is IAM_BGP_ACT_RESET */
};

/*
 * Decode the path attribute section attrs[0..len) into u->a, recording
 * problems in u->action / u->reason / u->err (RFC 7606).  nlri4_present
 * says whether the UPDATE's own NLRI field is non-empty (NEXT_HOP is then
 * mandatory).  Returns nothing: the verdict is u->action.
 */
void iam_bgp_attrs_decode(const uint8_t *attrs, size_t len,
			  const struct iam_bgp_sess *s, bool nlri4_present,
			  struct iam_bgp_update *u);

/* Record a problem; the strongest action wins, the first reason of that
 * strength is kept.  For IAM_BGP_ACT_RESET, code/subcode/data go to
 * u->err. */
__attribute__((format(printf, 7, 8))) void
iam_bgp_update_problem(struct iam_bgp_update *u, enum iam_bgp_action act,
		       uint8_t code, uint8_t subcode, const void *data,
		       size_t dlen, const char *fmt, ...);

/* ---- AS paths in four-octet form ------------------------------------- */

/* AS_PATH length for route selection: an AS_SET counts 1, confederation
 * segments 0 (RFC 4271 9.1.2.2 (a), RFC 5065 5.3). */
unsigned iam_bgp_aspath_hops(const uint8_t *p, size_t len);
/* First AS of a leading AS_SEQUENCE, or 0. */
uint32_t iam_bgp_aspath_first(const uint8_t *p, size_t len);
/* Last AS of a trailing AS_SEQUENCE (the originator), or 0. */
uint32_t iam_bgp_aspath_origin(const uint8_t *p, size_t len);
bool iam_bgp_aspath_contains(const uint8_t *p, size_t len, uint32_t as);
/* The ASes of every segment in order, at most max of them; returns how
 * many were stored. */
unsigned iam_bgp_aspath_flatten(const uint8_t *p, size_t len, uint32_t *out,
				unsigned max);
/* "65001 {65002 65003}" (confederation segments in ( ) and [ ]);
 * truncated with "..." when buf is short.  Returns buf. */
const char *iam_bgp_aspath_str(const uint8_t *p, size_t len, char *buf,
			       size_t buflen);

/* ---- encoding the routes we originate -------------------------------- */

#define IAM_BGP_LCOMM_MAX 16

struct iam_bgp_out_attrs {
	uint32_t local_as;
	bool ibgp; /* iBGP: empty AS_PATH and LOCAL_PREF */
	bool as4; /* peer speaks four-octet AS */
	uint32_t local_pref; /* iBGP only */
	struct in6_addr nh;
	bool has_nh_ll;
	struct in6_addr nh_ll;
	const struct iam_bgp_lcomm *lcomm;
	unsigned nlcomm; /* <= IAM_BGP_LCOMM_MAX */
};

/*
 * Append the path attributes for our routes to w, MP_REACH_NLRI first
 * (RFC 7606, section 5.1) carrying the n prefixes, then ORIGIN (IGP),
 * AS_PATH (ours for eBGP; AS_TRANS plus AS4_PATH toward a two-octet peer,
 * RFC 6793 4.2.2), LOCAL_PREF (iBGP), LARGE_COMMUNITY.
 */
void iam_bgp_attrs_encode(struct iam_wr *w, const struct iam_bgp_out_attrs *a,
			  const struct iam_bgp_prefix *p, unsigned n);

/* IPv6 NLRI encoding of one prefix (RFC 4760, section 5). */
void iam_bgp_nlri_put(struct iam_wr *w, const struct iam_bgp_prefix *p);

#endif /* IAM_BGP_ATTRS_H */
