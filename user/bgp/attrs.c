// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * attrs.c - BGP path attributes; see attrs.h.
 *
 * Each attribute type we know has a descriptor: its expected Optional and
 * Transitive flags and its decoder.  The decoders apply the per-attribute
 * error handling of RFC 7606 section 7 (and RFC 6793 section 6, RFC 8092
 * section 6, RFC 7607); the generic rules (flags, duplicates, overruns,
 * missing attributes) are in iam_bgp_attrs_decode() with RFC 7606 sections
 * 3 and 4.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bgp/attrs.h"
#include "bgp/packets.h"

void iam_bgp_update_problem(struct iam_bgp_update *u, enum iam_bgp_action act,
			    uint8_t code, uint8_t subcode, const void *data,
			    size_t dlen, const char *fmt, ...)
{
	va_list ap;

	if (act == IAM_BGP_ACT_DISCARD)
		u->discarded++;
	/* RFC 7606, section 3 (h): the strongest approach wins; keep the
	 * first reason given for it. */
	if (act < u->action || (act == u->action && u->reason[0]))
		return;
	u->action = act;
	va_start(ap, fmt);
	vsnprintf(u->reason, sizeof(u->reason), fmt, ap);
	va_end(ap);
	if (act == IAM_BGP_ACT_RESET) {
		u->err.code = code;
		u->err.subcode = subcode;
		if (dlen > sizeof(u->err.data))
			dlen = sizeof(u->err.data);
		u->err.len = (uint16_t)dlen;
		if (dlen)
			memcpy(u->err.data, data, dlen);
	}
}

/* ---- AS paths -------------------------------------------------------- */

/*
 * Validate an AS_PATH or AS4_PATH value whose ASes are asz octets and
 * append it, widened to four octets, to out.  Malformed per RFC 7606
 * section 7.2: an unknown segment type, a segment overrunning the
 * attribute, a lone trailing octet (underrun), a zero segment length.
 */
static int aspath_widen(const uint8_t *p, size_t len, unsigned asz,
			uint8_t *out, size_t cap, size_t *outlen,
			bool *has_zero, bool *has_confed, const char **why)
{
	struct iam_rd r;
	size_t o = *outlen;

	iam_rd_init(&r, p, len);
	while (iam_rd_left(&r)) {
		uint8_t type, n;
		const uint8_t *q;

		if (iam_rd_left(&r) < 2) {
			*why = "a segment header is cut short";
			return -EBADMSG;
		}
		type = iam_rd_u8(&r);
		n = iam_rd_u8(&r);
		if (type < IAM_BGP_AS_SET || type > IAM_BGP_AS_CONFED_SET) {
			*why = "unknown segment type";
			return -EBADMSG;
		}
		if (!n) {
			*why = "empty segment";
			return -EBADMSG;
		}
		q = iam_rd_take(&r, (size_t)n * asz);
		if (!q) {
			*why = "a segment overruns the attribute";
			return -EBADMSG;
		}
		if (o + 2 + (size_t)n * 4 > cap) {
			*why = "too long";
			return -EBADMSG;
		}
		if (type >= IAM_BGP_AS_CONFED_SEQUENCE)
			*has_confed = true;
		out[o++] = type;
		out[o++] = n;
		for (unsigned i = 0; i < n; i++) {
			uint32_t as = asz == 4 ? iam_get32(q + 4 * i) :
						 iam_get16(q + 2 * i);

			if (!as)
				*has_zero = true;
			iam_put32(out + o, as);
			o += 4;
		}
	}
	*outlen = o;
	return 0;
}

unsigned iam_bgp_aspath_hops(const uint8_t *p, size_t len)
{
	unsigned hops = 0;

	for (size_t o = 0; o + 2 <= len;) {
		uint8_t type = p[o], n = p[o + 1];

		if (type == IAM_BGP_AS_SEQUENCE)
			hops += n;
		else if (type == IAM_BGP_AS_SET)
			hops += 1;
		o += 2 + (size_t)n * 4;
	}
	return hops;
}

uint32_t iam_bgp_aspath_first(const uint8_t *p, size_t len)
{
	if (len < 6 || p[0] != IAM_BGP_AS_SEQUENCE)
		return 0;
	return iam_get32(p + 2);
}

uint32_t iam_bgp_aspath_origin(const uint8_t *p, size_t len)
{
	uint32_t as = 0;

	for (size_t o = 0; o + 2 <= len;) {
		uint8_t type = p[o], n = p[o + 1];
		size_t end = o + 2 + (size_t)n * 4;

		if (end > len)
			break;
		as = type == IAM_BGP_AS_SEQUENCE && n ? iam_get32(p + end - 4) :
							0;
		o = end;
	}
	return as;
}

bool iam_bgp_aspath_contains(const uint8_t *p, size_t len, uint32_t as)
{
	for (size_t o = 0; o + 2 <= len;) {
		uint8_t n = p[o + 1];

		for (unsigned i = 0; i < n && o + 6 + 4 * i <= len; i++)
			if (iam_get32(p + o + 2 + 4 * i) == as)
				return true;
		o += 2 + (size_t)n * 4;
	}
	return false;
}

unsigned iam_bgp_aspath_flatten(const uint8_t *p, size_t len, uint32_t *out,
				unsigned max)
{
	unsigned k = 0;

	for (size_t o = 0; o + 2 <= len;) {
		uint8_t n = p[o + 1];

		for (unsigned i = 0; i < n && o + 6 + 4 * i <= len && k < max;
		     i++)
			out[k++] = iam_get32(p + o + 2 + 4 * i);
		o += 2 + (size_t)n * 4;
	}
	return k;
}

const char *iam_bgp_aspath_str(const uint8_t *p, size_t len, char *buf,
			       size_t buflen)
{
	/* Brackets by segment type: SET {}, CONFED_SEQUENCE (), CONFED_SET
	 * [] (the notation of BIRD and FRR). */
	static const char open[] = " { ([", close[] = " } )]";
	size_t w = 0;

	if (!buflen)
		return buf;
	buf[0] = 0;
	for (size_t o = 0; o + 2 <= len;) {
		uint8_t type = p[o], n = p[o + 1];

		if (type < IAM_BGP_AS_SET || type > IAM_BGP_AS_CONFED_SET ||
		    o + 2 + (size_t)n * 4 > len)
			break;
		for (unsigned i = 0; i < n; i++) {
			bool seq = type == IAM_BGP_AS_SEQUENCE;
			char seg[24];
			int k;

			k = snprintf(seg, sizeof(seg), "%s%.*s%u%.*s",
				     w ? " " : "", !seq && !i, &open[type],
				     iam_get32(p + o + 2 + 4 * i),
				     !seq && i == n - 1u, &close[type]);
			if (w + (size_t)k + 5 > buflen) {
				snprintf(buf + w, buflen - w, "%s",
					 buflen - w > 4 ? " ..." : "");
				return buf;
			}
			memcpy(buf + w, seg, (size_t)k + 1);
			w += (size_t)k;
		}
		o += 2 + (size_t)n * 4;
	}
	return buf;
}

/* Merge adjacent AS_SEQUENCE segments (at most 255 ASes each). */
static size_t aspath_pack(uint8_t *p, size_t len)
{
	size_t o = 0, last = (size_t)-1, w = 0;

	while (o + 2 <= len) {
		uint8_t type = p[o], n = p[o + 1];
		size_t seg = 2 + (size_t)n * 4;

		if (last != (size_t)-1 && type == IAM_BGP_AS_SEQUENCE &&
		    p[last] == IAM_BGP_AS_SEQUENCE && p[last + 1] + n <= 255) {
			memmove(p + w, p + o + 2, (size_t)n * 4);
			p[last + 1] += n;
			w += (size_t)n * 4;
		} else {
			memmove(p + w, p + o, seg);
			last = w;
			w += seg;
		}
		o += seg;
	}
	return w;
}

/*
 * RFC 6793 section 4.2.3: a two-octet peer's AS_PATH carries AS_TRANS
 * where a big AS was; the AS4_PATH has the true tail.  When the AS_PATH
 * has fewer ASes than the AS4_PATH the AS4_PATH is ignored; otherwise the
 * leading (difference) ASes of the AS_PATH are kept and the AS4_PATH
 * appended.
 */
static void as4_merge(struct iam_bgp_attrs *a, const uint8_t *as4,
		      size_t as4len)
{
	uint8_t out[IAM_BGP_ASPATH_MAX];
	unsigned n1 = iam_bgp_aspath_hops(a->aspath, a->aspath_len);
	unsigned n2 = iam_bgp_aspath_hops(as4, as4len);
	unsigned keep;
	size_t o = 0, w = 0;

	if (n1 < n2)
		return;
	keep = n1 - n2;
	while (keep && o + 2 <= a->aspath_len) {
		uint8_t type = a->aspath[o], n = a->aspath[o + 1];
		size_t seg = 2 + (size_t)n * 4;

		if (type == IAM_BGP_AS_SEQUENCE && n > keep) {
			out[w] = type;
			out[w + 1] = (uint8_t)keep;
			memcpy(out + w + 2, a->aspath + o + 2, keep * 4);
			w += 2 + keep * 4;
			keep = 0;
			break;
		}
		memcpy(out + w, a->aspath + o, seg);
		w += seg;
		if (type == IAM_BGP_AS_SEQUENCE)
			keep -= n;
		else if (type == IAM_BGP_AS_SET)
			keep -= 1;
		o += seg;
	}
	if (w + as4len > sizeof(out))
		return;
	memcpy(out + w, as4, as4len);
	w = aspath_pack(out, w + as4len);
	memcpy(a->aspath, out, w);
	a->aspath_len = (uint16_t)w;
}

/* ---- decoding -------------------------------------------------------- */

struct attr_ctx {
	const struct iam_bgp_sess *s;
	struct iam_bgp_update *u;
	struct iam_bgp_attrs *a;
	const uint8_t *whole; /* the attribute with its header (for data) */
	size_t whole_len;
	const char *name;
	uint8_t as4buf[IAM_BGP_ASPATH_MAX]; /* widened AS4_PATH */
	size_t as4len;
	bool as4_ok;
	bool as4_aggr;
	uint32_t as4_aggr_as;
};

typedef void (*attr_decode_fn)(struct attr_ctx *c, const uint8_t *v,
			       uint16_t len);

struct attr_desc {
	const char *name;
	uint8_t flags; /* required Optional and Transitive bits */
	/* On an O/T flag conflict: RFC 7606 3 (c) says treat-as-withdraw
	 * unless the attribute's own rules say otherwise. */
	enum iam_bgp_action flag_action;
	attr_decode_fn decode;
};

/* A problem with the current attribute; data is the whole attribute (RFC
 * 4271 6.3: "the Data field contains the erroneous attribute"). */
__attribute__((format(printf, 4, 5))) static void
attr_bad(struct attr_ctx *c, enum iam_bgp_action act, uint8_t subcode,
	 const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	iam_bgp_update_problem(c->u, act, IAM_BGP_ERR_UPDATE, subcode, c->whole,
			       c->whole_len, "%s: %s", c->name, msg);
}

/* RFC 7606 7.1: wrong length or undefined value -> treat-as-withdraw. */
static void dec_origin(struct attr_ctx *c, const uint8_t *v, uint16_t len)
{
	if (len != 1)
		return attr_bad(c, IAM_BGP_ACT_WITHDRAW, IAM_BGP_UPD_LENGTH,
				"length %u, not 1", len);
	if (v[0] > IAM_BGP_ORIGIN_INCOMPLETE)
		return attr_bad(c, IAM_BGP_ACT_WITHDRAW, IAM_BGP_UPD_ORIGIN,
				"undefined value %u", v[0]);
	c->a->origin = v[0];
}

/* RFC 7606 7.2: malformed AS_PATH -> treat-as-withdraw. */
static void dec_as_path(struct attr_ctx *c, const uint8_t *v, uint16_t len)
{
	const char *why = NULL;
	bool zero = false, confed = false;
	size_t o = 0;

	if (aspath_widen(v, len, c->s->as4 ? 4 : 2, c->a->aspath,
			 sizeof(c->a->aspath), &o, &zero, &confed, &why)) {
		c->a->aspath_len = 0;
		return attr_bad(c, IAM_BGP_ACT_WITHDRAW, IAM_BGP_UPD_AS_PATH,
				"%s", why);
	}
	c->a->aspath_len = (uint16_t)o;
	/* RFC 7607 2: AS 0 makes the AS_PATH malformed. */
	if (zero)
		return attr_bad(c, IAM_BGP_ACT_WITHDRAW, IAM_BGP_UPD_AS_PATH,
				"contains AS 0");
	/* RFC 5065 5.3: confederation segments only from a member of our
	 * confederation, which an eBGP peer is not. */
	if (confed && !c->s->ibgp)
		return attr_bad(c, IAM_BGP_ACT_WITHDRAW, IAM_BGP_UPD_AS_PATH,
				"confederation segment from an eBGP peer");
}

/* RFC 7606 7.3: wrong length -> treat-as-withdraw. */
static void dec_next_hop(struct attr_ctx *c, const uint8_t *v, uint16_t len)
{
	if (len != 4)
		return attr_bad(c, IAM_BGP_ACT_WITHDRAW, IAM_BGP_UPD_LENGTH,
				"length %u, not 4", len);
	c->a->nexthop4 = iam_get32(v);
}

/* RFC 7606 7.4. */
static void dec_med(struct attr_ctx *c, const uint8_t *v, uint16_t len)
{
	if (len != 4)
		return attr_bad(c, IAM_BGP_ACT_WITHDRAW, IAM_BGP_UPD_LENGTH,
				"length %u, not 4", len);
	c->a->med = iam_get32(v);
}

/* RFC 7606 7.5: from an eBGP peer it is discarded whatever it holds. */
static void dec_local_pref(struct attr_ctx *c, const uint8_t *v, uint16_t len)
{
	if (!c->s->ibgp)
		return attr_bad(c, IAM_BGP_ACT_DISCARD, 0,
				"from an eBGP peer, ignored");
	if (len != 4)
		return attr_bad(c, IAM_BGP_ACT_WITHDRAW, IAM_BGP_UPD_LENGTH,
				"length %u, not 4", len);
	c->a->local_pref = iam_get32(v);
}

/* RFC 7606 7.6: wrong length -> attribute discard. */
static void dec_atomic(struct attr_ctx *c, const uint8_t *v, uint16_t len)
{
	if (len != 0)
		return attr_bad(c, IAM_BGP_ACT_DISCARD, IAM_BGP_UPD_LENGTH,
				"length %u, not 0", len);
	c->a->atomic_aggregate = true;
}

/* RFC 7606 7.7: wrong length -> attribute discard; RFC 7607: AS 0 too. */
static void dec_aggregator(struct attr_ctx *c, const uint8_t *v, uint16_t len)
{
	unsigned want = c->s->as4 ? 8 : 6;

	if (len != want)
		return attr_bad(c, IAM_BGP_ACT_DISCARD, IAM_BGP_UPD_LENGTH,
				"length %u, not %u", len, want);
	if (!(want == 8 ? iam_get32(v) : iam_get16(v)))
		return attr_bad(c, IAM_BGP_ACT_DISCARD, 0, "AS 0");
	c->a->has_aggr = true;
	c->a->aggr_as = want == 8 ? iam_get32(v) : iam_get16(v);
	c->a->aggr_id = iam_get32(v + want - 4);
}

/* A list attribute of unit-octet entries: RFC 7606 7.8 (communities),
 * 7.10 (CLUSTER_LIST), 7.14 (extended communities), RFC 8092 6 (large
 * communities): not a non-zero multiple of unit -> treat-as-withdraw. */
static bool list_ok(struct attr_ctx *c, uint16_t len, unsigned unit)
{
	if (len && len % unit == 0)
		return true;
	attr_bad(c, IAM_BGP_ACT_WITHDRAW, IAM_BGP_UPD_OPTIONAL,
		 "length %u, not a non-zero multiple of %u", len, unit);
	return false;
}

static void dec_community(struct attr_ctx *c, const uint8_t *v, uint16_t len)
{
	if (list_ok(c, len, 4))
		c->a->comm = (struct iam_bgp_span){ v, len };
}

static void dec_large_community(struct attr_ctx *c, const uint8_t *v,
				uint16_t len)
{
	if (list_ok(c, len, 12))
		c->a->lcomm = (struct iam_bgp_span){ v, len };
}

static void dec_ext_community(struct attr_ctx *c, const uint8_t *v,
			      uint16_t len)
{
	if (list_ok(c, len, 8))
		c->a->ext_comm = (struct iam_bgp_span){ v, len };
}

/* RFC 7606 7.9 / 7.10: from an eBGP peer -> attribute discard (RFC 4456
 * attributes never cross an AS boundary). */
static void dec_originator(struct attr_ctx *c, const uint8_t *v, uint16_t len)
{
	if (!c->s->ibgp)
		return attr_bad(c, IAM_BGP_ACT_DISCARD, 0,
				"from an eBGP peer, ignored");
	if (len != 4)
		return attr_bad(c, IAM_BGP_ACT_WITHDRAW, IAM_BGP_UPD_LENGTH,
				"length %u, not 4", len);
	c->a->originator_id = iam_get32(v);
}

static void dec_cluster(struct attr_ctx *c, const uint8_t *v, uint16_t len)
{
	if (!c->s->ibgp)
		return attr_bad(c, IAM_BGP_ACT_DISCARD, 0,
				"from an eBGP peer, ignored");
	if (list_ok(c, len, 4))
		c->a->cluster = (struct iam_bgp_span){ v, len };
}

/*
 * RFC 4760 3 and RFC 7606 7.11: a malformed MP_REACH_NLRI cannot be
 * handled by withdrawing (its NLRI are what is in doubt): session reset.
 * An AFI/SAFI we did not negotiate is ignored.  IPv6 unicast next hops
 * are 16 octets (global) or 32 (global, link-local), RFC 2545 3.
 */
static void dec_mp_reach(struct attr_ctx *c, const uint8_t *v, uint16_t len)
{
	struct iam_bgp_attrs *a = c->a;
	struct iam_rd r;
	const uint8_t *nh;
	uint16_t afi;
	uint8_t safi, nhl;

	iam_rd_init(&r, v, len);
	afi = iam_rd_u16(&r);
	safi = iam_rd_u8(&r);
	nhl = iam_rd_u8(&r);
	nh = iam_rd_take(&r, nhl);
	iam_rd_u8(&r); /* reserved (was SNPA count), ignored */
	if (r.err)
		return attr_bad(c, IAM_BGP_ACT_RESET, IAM_BGP_UPD_OPTIONAL,
				"cut short (length %u)", len);
	if (afi != IAM_BGP_AFI_IPV6 || safi != IAM_BGP_SAFI_UNICAST)
		return; /* not negotiated: RFC 4760 7 lets us ignore it */
	if (nhl != 16 && nhl != 32)
		return attr_bad(c, IAM_BGP_ACT_RESET, IAM_BGP_UPD_OPTIONAL,
				"next hop length %u, not 16 or 32", nhl);
	memcpy(&a->nh, nh, 16);
	if (nhl == 32)
		memcpy(&a->nh_ll, nh + 16, 16);
	a->nh_len = nhl;
	a->reach.p = v + r.off;
	a->reach.len = (uint16_t)iam_rd_left(&r);
	/* RFC 7606 5.3: syntactically incorrect NLRI -> session reset. */
	if (iam_bgp_nlri_check(a->reach.p, a->reach.len, 128) < 0)
		return attr_bad(c, IAM_BGP_ACT_RESET, IAM_BGP_UPD_OPTIONAL,
				"malformed NLRI");
	a->mp_reach = true;
}

/* RFC 7606 7.12, same reasoning. */
static void dec_mp_unreach(struct attr_ctx *c, const uint8_t *v, uint16_t len)
{
	struct iam_bgp_attrs *a = c->a;
	uint16_t afi;
	uint8_t safi;

	if (len < 3)
		return attr_bad(c, IAM_BGP_ACT_RESET, IAM_BGP_UPD_OPTIONAL,
				"cut short (length %u)", len);
	afi = iam_get16(v);
	safi = v[2];
	if (afi != IAM_BGP_AFI_IPV6 || safi != IAM_BGP_SAFI_UNICAST)
		return;
	a->unreach.p = v + 3;
	a->unreach.len = (uint16_t)(len - 3);
	if (iam_bgp_nlri_check(a->unreach.p, a->unreach.len, 128) < 0)
		return attr_bad(c, IAM_BGP_ACT_RESET, IAM_BGP_UPD_OPTIONAL,
				"malformed withdrawn routes");
	a->mp_unreach = true;
}

/*
 * RFC 6793 4.1: a four-octet peer never sends AS4_PATH; if one does, it
 * is discarded.  Section 6: a malformed AS4_PATH (confederation segments
 * included) is discarded.  RFC 7607 2: AS 0 too.
 */
static void dec_as4_path(struct attr_ctx *c, const uint8_t *v, uint16_t len)
{
	const char *why = NULL;
	bool zero = false, confed = false;
	size_t o = 0;

	if (c->s->as4)
		return attr_bad(c, IAM_BGP_ACT_DISCARD, 0,
				"from a four-octet AS peer, ignored");
	if (aspath_widen(v, len, 4, c->as4buf, sizeof(c->as4buf), &o, &zero,
			 &confed, &why))
		return attr_bad(c, IAM_BGP_ACT_DISCARD, 0, "%s", why);
	if (confed)
		return attr_bad(c, IAM_BGP_ACT_DISCARD, 0,
				"confederation segment");
	if (zero)
		return attr_bad(c, IAM_BGP_ACT_DISCARD, 0, "contains AS 0");
	c->as4len = o;
	c->as4_ok = true;
}

static void dec_as4_aggregator(struct attr_ctx *c, const uint8_t *v,
			       uint16_t len)
{
	if (c->s->as4)
		return attr_bad(c, IAM_BGP_ACT_DISCARD, 0,
				"from a four-octet AS peer, ignored");
	if (len != 8)
		return attr_bad(c, IAM_BGP_ACT_DISCARD, 0, "length %u, not 8",
				len);
	c->as4_aggr = true;
	c->as4_aggr_as = iam_get32(v);
}

#define O IAM_BGP_AF_OPTIONAL
#define T IAM_BGP_AF_TRANSITIVE
static const struct attr_desc attr_table[256] = {
	[IAM_BGP_A_ORIGIN] = { "ORIGIN", T, IAM_BGP_ACT_WITHDRAW, dec_origin },
	[IAM_BGP_A_AS_PATH] = { "AS_PATH", T, IAM_BGP_ACT_WITHDRAW,
				dec_as_path },
	[IAM_BGP_A_NEXT_HOP] = { "NEXT_HOP", T, IAM_BGP_ACT_WITHDRAW,
				 dec_next_hop },
	[IAM_BGP_A_MED] = { "MULTI_EXIT_DISC", O, IAM_BGP_ACT_WITHDRAW,
			    dec_med },
	[IAM_BGP_A_LOCAL_PREF] = { "LOCAL_PREF", T, IAM_BGP_ACT_WITHDRAW,
				   dec_local_pref },
	/* RFC 7606 3 (f): these two are handled by attribute discard. */
	[IAM_BGP_A_ATOMIC_AGGR] = { "ATOMIC_AGGREGATE", T, IAM_BGP_ACT_DISCARD,
				    dec_atomic },
	[IAM_BGP_A_AGGREGATOR] = { "AGGREGATOR", O | T, IAM_BGP_ACT_DISCARD,
				   dec_aggregator },
	[IAM_BGP_A_COMMUNITY] = { "COMMUNITIES", O | T, IAM_BGP_ACT_WITHDRAW,
				  dec_community },
	[IAM_BGP_A_ORIGINATOR_ID] = { "ORIGINATOR_ID", O, IAM_BGP_ACT_WITHDRAW,
				      dec_originator },
	[IAM_BGP_A_CLUSTER_LIST] = { "CLUSTER_LIST", O, IAM_BGP_ACT_WITHDRAW,
				     dec_cluster },
	/* RFC 7606 7.11 / 7.12: no way to withdraw what cannot be read. */
	[IAM_BGP_A_MP_REACH] = { "MP_REACH_NLRI", O, IAM_BGP_ACT_RESET,
				 dec_mp_reach },
	[IAM_BGP_A_MP_UNREACH] = { "MP_UNREACH_NLRI", O, IAM_BGP_ACT_RESET,
				   dec_mp_unreach },
	[IAM_BGP_A_EXT_COMMUNITY] = { "EXTENDED_COMMUNITIES", O | T,
				      IAM_BGP_ACT_WITHDRAW, dec_ext_community },
	/* RFC 6793 6: AS4 attributes are discarded when in error. */
	[IAM_BGP_A_AS4_PATH] = { "AS4_PATH", O | T, IAM_BGP_ACT_DISCARD,
				 dec_as4_path },
	[IAM_BGP_A_AS4_AGGREGATOR] = { "AS4_AGGREGATOR", O | T,
				       IAM_BGP_ACT_DISCARD,
				       dec_as4_aggregator },
	[IAM_BGP_A_LARGE_COMMUNITY] = { "LARGE_COMMUNITY", O | T,
					IAM_BGP_ACT_WITHDRAW,
					dec_large_community },
};
#undef O
#undef T

/*
 * RFC 7606 section 4: an attribute whose length runs past the Total Path
 * Attribute Length, or fewer octets left than an attribute header, calls
 * for treat-as-withdraw, relying on the Total Path Attribute Length to
 * find the NLRI field.  Our routes are in MP_REACH/MP_UNREACH_NLRI,
 * though: when no such attribute and no IPv4 NLRI was found before the
 * damage, the routes the message was about cannot be located and
 * withdrawing them is impossible, so the session is reset (RFC 7606 5.3
 * and 7.11 reasoning).
 */
static void attrs_overrun(struct attr_ctx *c, bool nlri4_present,
			  const char *what)
{
	bool located = c->a->mp_reach || c->a->mp_unreach || nlri4_present ||
		       c->u->withdrawn4.len;

	iam_bgp_update_problem(
		c->u, located ? IAM_BGP_ACT_WITHDRAW : IAM_BGP_ACT_RESET,
		IAM_BGP_ERR_UPDATE, IAM_BGP_UPD_MALFORMED_LIST, NULL, 0,
		"path attributes: %s", what);
}

void iam_bgp_attrs_decode(const uint8_t *attrs, size_t len,
			  const struct iam_bgp_sess *s, bool nlri4_present,
			  struct iam_bgp_update *u)
{
	struct iam_bgp_attrs *a = &u->a;
	struct attr_ctx *c, cbuf;
	struct iam_rd r;
	bool reach;

	c = &cbuf;
	c->s = s;
	c->u = u;
	c->a = a;
	c->as4len = 0;
	c->as4_ok = false;
	c->as4_aggr = false;
	iam_rd_init(&r, attrs, len);
	while (iam_rd_left(&r) && u->action != IAM_BGP_ACT_RESET) {
		const struct attr_desc *d;
		const uint8_t *start = r.p + r.off, *v;
		uint8_t flags, type;
		uint16_t alen;

		if (iam_rd_left(&r) < 3) {
			attrs_overrun(c, nlri4_present,
				      "octets left over after the last one");
			break;
		}
		flags = iam_rd_u8(&r);
		type = iam_rd_u8(&r);
		/* RFC 4271 4.3: Extended Length is allowed on any
		 * attribute; its use does not make a flag error. */
		alen = flags & IAM_BGP_AF_EXTLEN ? iam_rd_u16(&r) :
						   iam_rd_u8(&r);
		v = iam_rd_take(&r, alen);
		if (r.err) {
			char what[64];

			snprintf(what, sizeof(what),
				 "attribute %u runs past the end", type);
			attrs_overrun(c, nlri4_present, what);
			break;
		}
		c->whole = start;
		c->whole_len = (size_t)(v + alen - start);
		d = &attr_table[type];
		c->name = d->name;
		if (iam_bgp_attr_seen(a, type)) {
			/* RFC 7606 3 (g): a second MP_REACH or MP_UNREACH
			 * resets the session; other repeats are dropped. */
			if (type == IAM_BGP_A_MP_REACH ||
			    type == IAM_BGP_A_MP_UNREACH)
				iam_bgp_update_problem(
					u, IAM_BGP_ACT_RESET,
					IAM_BGP_ERR_UPDATE,
					IAM_BGP_UPD_MALFORMED_LIST, NULL, 0,
					"%s appears twice", d->name);
			else
				iam_bgp_update_problem(
					u, IAM_BGP_ACT_DISCARD, 0, 0, NULL, 0,
					"attribute %u repeated, ignored", type);
			continue;
		}
		a->seen[type >> 6] |= 1ull << (type & 63);
		if (!d->decode) {
			/* RFC 4271 6.3: an unrecognized well-known
			 * attribute resets the session (RFC 7606 keeps
			 * this).  Unknown optional ones are no error. */
			if (!(flags & IAM_BGP_AF_OPTIONAL)) {
				c->name = "attribute";
				attr_bad(c, IAM_BGP_ACT_RESET,
					 IAM_BGP_UPD_UNKNOWN_WELLKNOWN,
					 "unrecognized well-known type %u",
					 type);
				break;
			}
			if (!(flags & IAM_BGP_AF_TRANSITIVE))
				continue; /* quietly ignored (RFC 4271 9) */
			if (a->nunknown < IAM_BGP_UNKNOWN_MAX)
				a->unknown[a->nunknown++] =
					(struct iam_bgp_span){
						start, (uint16_t)c->whole_len
					};
			else
				iam_bgp_update_problem(
					u, IAM_BGP_ACT_DISCARD, 0, 0, NULL, 0,
					"more than %d unknown attributes",
					IAM_BGP_UNKNOWN_MAX);
			continue;
		}
		/* RFC 7606 3 (c): Optional / Transitive in conflict with
		 * the type; the Partial bit is not checked. */
		if ((flags ^ d->flags) &
		    (IAM_BGP_AF_OPTIONAL | IAM_BGP_AF_TRANSITIVE)) {
			attr_bad(c, d->flag_action, IAM_BGP_UPD_FLAGS,
				 "flags 0x%02x conflict with the type", flags);
			continue;
		}
		d->decode(c, v, alen);
	}
	if (u->action == IAM_BGP_ACT_RESET)
		return;

	/* RFC 6793 4.2.3: AGGREGATOR with a real AS beside an
	 * AS4_AGGREGATOR means the AS4 attributes are stale: ignore both. */
	if (c->as4_ok &&
	    !(c->as4_aggr && a->has_aggr && a->aggr_as != IAM_BGP_AS_TRANS) &&
	    iam_bgp_attr_seen(a, IAM_BGP_A_AS_PATH))
		as4_merge(a, c->as4buf, c->as4len);
	if (c->as4_aggr && a->has_aggr && a->aggr_as == IAM_BGP_AS_TRANS)
		a->aggr_as = c->as4_aggr_as;

	/* RFC 4271 6.3 (a MAY, per peer): an eBGP peer's leftmost AS is
	 * its own; RFC 7606 3 (b) makes the AS_PATH error a withdraw. */
	if (s->enforce_first_as && !s->ibgp &&
	    iam_bgp_attr_seen(a, IAM_BGP_A_AS_PATH) &&
	    iam_bgp_aspath_first(a->aspath, a->aspath_len) != s->peer_as)
		iam_bgp_update_problem(u, IAM_BGP_ACT_WITHDRAW,
				       IAM_BGP_ERR_UPDATE, IAM_BGP_UPD_AS_PATH,
				       NULL, 0,
				       "AS_PATH: leftmost AS is not %u",
				       s->peer_as);

	reach = (a->mp_reach && a->reach.len) || nlri4_present;
	if (reach) {
		/* RFC 7606 3 (d): missing well-known mandatory attributes
		 * -> treat-as-withdraw.  NEXT_HOP is mandatory only with
		 * IPv4 NLRI (RFC 4760 3). */
		static const uint8_t mand[] = { IAM_BGP_A_ORIGIN,
						IAM_BGP_A_AS_PATH,
						IAM_BGP_A_NEXT_HOP };

		for (unsigned i = 0; i < sizeof(mand); i++) {
			if (mand[i] == IAM_BGP_A_NEXT_HOP && !nlri4_present)
				continue;
			if (!iam_bgp_attr_seen(a, mand[i]))
				iam_bgp_update_problem(
					u, IAM_BGP_ACT_WITHDRAW,
					IAM_BGP_ERR_UPDATE,
					IAM_BGP_UPD_MISSING_WELLKNOWN, &mand[i],
					1, "missing well-known attribute %s",
					attr_table[mand[i]].name);
		}
	}
	/* RFC 4271 5.1.5 makes LOCAL_PREF mandatory on iBGP; like BIRD and
	 * FRR we take the default when it is absent rather than drop the
	 * route. */
	if (s->ibgp && !iam_bgp_attr_seen(a, IAM_BGP_A_LOCAL_PREF))
		a->local_pref = IAM_BGP_LOCAL_PREF_DEFAULT;
	/* A multicast or unspecified global next hop is semantically wrong:
	 * the routes cannot be used (RFC 4271 6.3 reasoning for NEXT_HOP,
	 * RFC 7606 7.11 leaves the NLRI usable -> withdraw). */
	if (a->mp_reach && a->reach.len &&
	    (IN6_IS_ADDR_MULTICAST(&a->nh) ||
	     (IN6_IS_ADDR_UNSPECIFIED(&a->nh) && a->nh_len == 16)))
		iam_bgp_update_problem(u, IAM_BGP_ACT_WITHDRAW,
				       IAM_BGP_ERR_UPDATE, IAM_BGP_UPD_NEXT_HOP,
				       NULL, 0,
				       "MP_REACH_NLRI: unusable next hop");
}

/* ---- encoding -------------------------------------------------------- */

static void attr_hdr(struct iam_wr *w, uint8_t flags, uint8_t type, size_t len)
{
	if (len > 255) {
		iam_wr_u8(w, flags | IAM_BGP_AF_EXTLEN);
		iam_wr_u8(w, type);
		iam_wr_u16(w, (uint16_t)len);
	} else {
		iam_wr_u8(w, flags);
		iam_wr_u8(w, type);
		iam_wr_u8(w, (uint8_t)len);
	}
}

void iam_bgp_nlri_put(struct iam_wr *w, const struct iam_bgp_prefix *p)
{
	unsigned bytes = (p->len + 7u) / 8;

	iam_wr_u8(w, p->len);
	iam_wr_bytes(w, p->addr.s6_addr, bytes);
}

void iam_bgp_attrs_encode(struct iam_wr *w, const struct iam_bgp_out_attrs *a,
			  const struct iam_bgp_prefix *p, unsigned n)
{
	size_t mp = 5 + (a->has_nh_ll ? 32 : 16);
	bool big = a->local_as > 0xffff;

	for (unsigned i = 0; i < n; i++)
		mp += 1 + (p[i].len + 7u) / 8;
	attr_hdr(w, IAM_BGP_AF_OPTIONAL, IAM_BGP_A_MP_REACH, mp);
	iam_wr_u16(w, IAM_BGP_AFI_IPV6);
	iam_wr_u8(w, IAM_BGP_SAFI_UNICAST);
	iam_wr_u8(w, a->has_nh_ll ? 32 : 16);
	iam_wr_bytes(w, &a->nh, 16);
	if (a->has_nh_ll)
		iam_wr_bytes(w, &a->nh_ll, 16);
	iam_wr_u8(w, 0);
	for (unsigned i = 0; i < n; i++)
		iam_bgp_nlri_put(w, &p[i]);

	attr_hdr(w, IAM_BGP_AF_TRANSITIVE, IAM_BGP_A_ORIGIN, 1);
	iam_wr_u8(w, IAM_BGP_ORIGIN_IGP);
	if (a->ibgp) {
		/* RFC 4271 5.1.2: an empty AS_PATH inside our AS. */
		attr_hdr(w, IAM_BGP_AF_TRANSITIVE, IAM_BGP_A_AS_PATH, 0);
		attr_hdr(w, IAM_BGP_AF_TRANSITIVE, IAM_BGP_A_LOCAL_PREF, 4);
		iam_wr_u32(w, a->local_pref);
	} else if (a->as4) {
		attr_hdr(w, IAM_BGP_AF_TRANSITIVE, IAM_BGP_A_AS_PATH, 6);
		iam_wr_u8(w, IAM_BGP_AS_SEQUENCE);
		iam_wr_u8(w, 1);
		iam_wr_u32(w, a->local_as);
	} else {
		/* RFC 6793 4.2.2: AS_TRANS in AS_PATH, the real AS in
		 * AS4_PATH, for a peer that only knows two octets. */
		attr_hdr(w, IAM_BGP_AF_TRANSITIVE, IAM_BGP_A_AS_PATH, 4);
		iam_wr_u8(w, IAM_BGP_AS_SEQUENCE);
		iam_wr_u8(w, 1);
		iam_wr_u16(w, big ? IAM_BGP_AS_TRANS : (uint16_t)a->local_as);
		if (big) {
			attr_hdr(w, IAM_BGP_AF_OPTIONAL | IAM_BGP_AF_TRANSITIVE,
				 IAM_BGP_A_AS4_PATH, 6);
			iam_wr_u8(w, IAM_BGP_AS_SEQUENCE);
			iam_wr_u8(w, 1);
			iam_wr_u32(w, a->local_as);
		}
	}
	if (a->nlcomm) {
		attr_hdr(w, IAM_BGP_AF_OPTIONAL | IAM_BGP_AF_TRANSITIVE,
			 IAM_BGP_A_LARGE_COMMUNITY, 12u * a->nlcomm);
		for (unsigned i = 0; i < a->nlcomm; i++) {
			iam_wr_u32(w, a->lcomm[i].global);
			iam_wr_u32(w, a->lcomm[i].local1);
			iam_wr_u32(w, a->lcomm[i].local2);
		}
	}
}
