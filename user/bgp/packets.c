// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* packets.c - the BGP-4 message codec; see packets.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "bgp/packets.h"

static void set_err(struct iam_bgp_error *err, uint8_t code, uint8_t subcode,
		    const void *data, size_t len)
{
	err->code = code;
	err->subcode = subcode;
	if (len > sizeof(err->data))
		len = sizeof(err->data);
	err->len = (uint16_t)len;
	if (len)
		memcpy(err->data, data, len);
}

static void set_err16(struct iam_bgp_error *err, uint8_t code, uint8_t subcode,
		      uint16_t v)
{
	uint8_t d[2];

	iam_put16(d, v);
	set_err(err, code, subcode, d, 2);
}

/* ---- header ---------------------------------------------------------- */

int iam_bgp_header_check(const uint8_t *buf, size_t len, uint8_t *type,
			 struct iam_bgp_error *err)
{
	uint16_t mlen, min = 0, max = IAM_BGP_MAX_MSG;

	if (len < IAM_BGP_HDR_LEN)
		return 0;
	/* RFC 4271 6.1: a marker not all ones -> Connection Not
	 * Synchronized. */
	for (int i = 0; i < 16; i++) {
		if (buf[i] != 0xff) {
			set_err(err, IAM_BGP_ERR_HEADER, IAM_BGP_HDR_NOT_SYNC,
				NULL, 0);
			return -EBADMSG;
		}
	}
	mlen = iam_get16(buf + 16);
	*type = buf[18];
	switch (*type) {
	case IAM_BGP_MSG_OPEN:
		min = IAM_BGP_OPEN_MIN;
		break;
	case IAM_BGP_MSG_UPDATE:
		min = IAM_BGP_UPDATE_MIN;
		break;
	case IAM_BGP_MSG_NOTIFICATION:
		min = IAM_BGP_NOTIFICATION_MIN;
		break;
	case IAM_BGP_MSG_KEEPALIVE:
		min = max = IAM_BGP_KEEPALIVE_LEN;
		break;
	case IAM_BGP_MSG_ROUTE_REFRESH:
		/* RFC 2918 3: AFI, reserved, SAFI; always 4 octets. */
		min = max = IAM_BGP_ROUTE_REFRESH_LEN;
		break;
	default:
		/* RFC 4271 6.1: Bad Message Type, data = the type. */
		if (mlen < IAM_BGP_HDR_LEN || mlen > IAM_BGP_MAX_MSG)
			break;
		set_err(err, IAM_BGP_ERR_HEADER, IAM_BGP_HDR_BAD_TYPE, type, 1);
		return -EBADMSG;
	}
	/* RFC 4271 6.1: a length out of the limits of the type -> Bad
	 * Message Length, data = the erroneous Length field. */
	if (mlen < IAM_BGP_HDR_LEN || mlen > IAM_BGP_MAX_MSG || mlen < min ||
	    mlen > max) {
		set_err(err, IAM_BGP_ERR_HEADER, IAM_BGP_HDR_BAD_LENGTH,
			buf + 16, 2);
		return -EBADMSG;
	}
	return mlen;
}

/* ---- OPEN ------------------------------------------------------------ */

bool iam_bgp_open_has_mp(const struct iam_bgp_open *o, uint16_t afi,
			 uint8_t safi)
{
	for (unsigned i = 0; i < o->nmp; i++)
		if (o->mp[i].afi == afi && o->mp[i].safi == safi)
			return true;
	return false;
}

/* RFC 5492 4 (and RFC 4271 6.2 for a malformed recognized parameter:
 * subcode 0, Unspecific).  Unknown capabilities are ignored. */
static int caps_decode(const uint8_t *p, size_t len, struct iam_bgp_open *o,
		       struct iam_bgp_error *err)
{
	struct iam_rd r;

	o->caps = true;
	iam_rd_init(&r, p, len);
	while (iam_rd_left(&r)) {
		uint8_t code = iam_rd_u8(&r);
		uint8_t clen = iam_rd_u8(&r);
		const uint8_t *v = iam_rd_take(&r, clen);

		if (r.err)
			goto malformed;
		switch (code) {
		case IAM_BGP_CAP_MP: /* RFC 4760 8: AFI, reserved, SAFI */
			if (clen != 4)
				goto malformed;
			if (o->nmp < IAM_BGP_MP_MAX &&
			    !iam_bgp_open_has_mp(o, iam_get16(v), v[3])) {
				o->mp[o->nmp].afi = iam_get16(v);
				o->mp[o->nmp].safi = v[3];
				o->nmp++;
			}
			break;
		case IAM_BGP_CAP_ROUTE_REFRESH: /* RFC 2918 2: no value */
		case IAM_BGP_CAP_ROUTE_REFRESH_OLD:
			if (clen != 0)
				goto malformed;
			o->rr_cap = true;
			break;
		case IAM_BGP_CAP_AS4: /* RFC 6793 3: the four-octet AS */
			if (clen != 4)
				goto malformed;
			o->as4_cap = true;
			o->as4 = iam_get32(v);
			break;
		default:
			break;
		}
	}
	return 0;

malformed:
	set_err(err, IAM_BGP_ERR_OPEN, IAM_BGP_OPEN_UNSPECIFIC, NULL, 0);
	return -EBADMSG;
}

int iam_bgp_open_decode(const uint8_t *body, size_t len, struct iam_bgp_open *o,
			struct iam_bgp_error *err)
{
	struct iam_rd r;
	size_t optlen;
	bool ext = false;

	memset(o, 0, sizeof(*o));
	iam_rd_init(&r, body, len);
	o->version = iam_rd_u8(&r);
	o->my_as = iam_rd_u16(&r);
	o->hold_time = iam_rd_u16(&r);
	o->bgp_id = iam_rd_u32(&r);
	optlen = iam_rd_u8(&r);
	if (r.err) {
		set_err16(err, IAM_BGP_ERR_HEADER, IAM_BGP_HDR_BAD_LENGTH,
			  (uint16_t)(len + IAM_BGP_HDR_LEN));
		return -EBADMSG;
	}
	/* RFC 9072 2: Non-Ext OP Len 255 and Non-Ext OP Type 255 announce
	 * two-octet lengths. */
	if (optlen == 255 && iam_rd_left(&r) >= 3 && body[r.off] == 255) {
		iam_rd_u8(&r);
		optlen = iam_rd_u16(&r);
		ext = true;
	}
	/* The parameters must fill the rest of the message exactly. */
	if (optlen != iam_rd_left(&r))
		goto malformed;
	while (iam_rd_left(&r)) {
		uint8_t type = iam_rd_u8(&r);
		size_t plen = ext ? iam_rd_u16(&r) : iam_rd_u8(&r);
		const uint8_t *v = iam_rd_take(&r, plen);

		if (r.err)
			goto malformed;
		if (type != 2) {
			/* RFC 4271 6.2; type 1 (authentication) is
			 * deprecated by RFC 5492 too. */
			set_err(err, IAM_BGP_ERR_OPEN, IAM_BGP_OPEN_BAD_PARAM,
				NULL, 0);
			return -EBADMSG;
		}
		if (caps_decode(v, plen, o, err))
			return -EBADMSG;
	}
	return 0;

malformed:
	set_err(err, IAM_BGP_ERR_OPEN, IAM_BGP_OPEN_UNSPECIFIC, NULL, 0);
	return -EBADMSG;
}

int iam_bgp_open_check(const struct iam_bgp_open *o,
		       const struct iam_bgp_open_expect *x,
		       struct iam_bgp_error *err)
{
	static const uint8_t mp_v6[] = {
		IAM_BGP_CAP_MP, 4, 0, IAM_BGP_AFI_IPV6, 0, IAM_BGP_SAFI_UNICAST
	};
	uint32_t as = iam_bgp_open_as(o);

	/* RFC 4271 6.2: data = the largest version we support. */
	if (o->version != IAM_BGP_VERSION) {
		set_err16(err, IAM_BGP_ERR_OPEN, IAM_BGP_OPEN_BAD_VERSION,
			  IAM_BGP_VERSION);
		return -EBADMSG;
	}
	/* RFC 4271 6.2, RFC 6793 3 (the capability's AS is the one), RFC
	 * 7607 2 (AS 0 is never acceptable). */
	if (as != x->peer_as || !as ||
	    (o->as4_cap && o->my_as != IAM_BGP_AS_TRANS &&
	     o->my_as != o->as4)) {
		set_err(err, IAM_BGP_ERR_OPEN, IAM_BGP_OPEN_BAD_PEER_AS, NULL,
			0);
		return -EBADMSG;
	}
	/* RFC 4271 6.2: one or two seconds are unacceptable. */
	if (o->hold_time == 1 || o->hold_time == 2) {
		set_err(err, IAM_BGP_ERR_OPEN, IAM_BGP_OPEN_BAD_HOLD, NULL, 0);
		return -EBADMSG;
	}
	/* RFC 6286 2.2: non-zero; unique within the AS (so an iBGP peer
	 * must not have ours). */
	if (!o->bgp_id || (x->ibgp && o->bgp_id == x->local_id)) {
		set_err(err, IAM_BGP_ERR_OPEN, IAM_BGP_OPEN_BAD_ID, NULL, 0);
		return -EBADMSG;
	}
	/* RFC 5492 5: we cannot work without IPv6 unicast (RFC 4760);
	 * the data names the missing capability. */
	if (!iam_bgp_open_has_mp(o, IAM_BGP_AFI_IPV6, IAM_BGP_SAFI_UNICAST)) {
		set_err(err, IAM_BGP_ERR_OPEN, IAM_BGP_OPEN_BAD_CAP, mp_v6,
			sizeof(mp_v6));
		return -EBADMSG;
	}
	return 0;
}

/* ---- NLRI ------------------------------------------------------------ */

int iam_bgp_nlri_check(const uint8_t *p, size_t len, unsigned maxbits)
{
	size_t o = 0;
	int n = 0;

	while (o < len) {
		unsigned bits = p[o];
		size_t bytes = (bits + 7) / 8;

		if (bits > maxbits || bytes > len - o - 1)
			return -EBADMSG;
		o += 1 + bytes;
		n++;
	}
	return n;
}

void iam_bgp_nlri_begin(struct iam_bgp_nlri_it *it,
			const struct iam_bgp_span *s)
{
	iam_rd_init(&it->r, s->p, s->len);
}

bool iam_bgp_nlri_next(struct iam_bgp_nlri_it *it, struct iam_bgp_prefix *p)
{
	const uint8_t *q;
	uint8_t bits;

	if (!iam_rd_left(&it->r))
		return false;
	bits = iam_rd_u8(&it->r);
	if (bits > 128)
		return false;
	q = iam_rd_take(&it->r, (bits + 7u) / 8);
	if (!q)
		return false;
	memset(p, 0, sizeof(*p));
	memcpy(p->addr.s6_addr, q, (bits + 7u) / 8);
	/* RFC 4271 4.3: trailing bits are irrelevant; keep them zero. */
	if (bits % 8)
		p->addr.s6_addr[bits / 8] &= (uint8_t)(0xff << (8 - bits % 8));
	p->len = bits;
	return true;
}

/* ---- UPDATE ---------------------------------------------------------- */

static void update_reset(struct iam_bgp_update *u)
{
	memset(u, 0, offsetof(struct iam_bgp_update, a));
	memset(&u->a, 0, offsetof(struct iam_bgp_attrs, aspath));
	memset(&u->a.comm, 0,
	       sizeof(u->a) - offsetof(struct iam_bgp_attrs, comm));
	u->err.code = u->err.subcode = 0;
	u->err.len = 0;
}

int iam_bgp_update_decode(const uint8_t *body, size_t len,
			  const struct iam_bgp_sess *s,
			  struct iam_bgp_update *u)
{
	struct iam_rd r;
	const uint8_t *w, *at;
	uint16_t wlen, alen;
	uint64_t only_unreach[4] = { 1ull << IAM_BGP_A_MP_UNREACH };

	update_reset(u);
	iam_rd_init(&r, body, len);
	/* RFC 4271 6.3: the two lengths must fit the message, else
	 * Malformed Attribute List (RFC 7606 keeps the session reset: the
	 * NLRI cannot be found). */
	wlen = iam_rd_u16(&r);
	w = iam_rd_take(&r, wlen);
	if (r.err) {
		iam_bgp_update_problem(u, IAM_BGP_ACT_RESET, IAM_BGP_ERR_UPDATE,
				       IAM_BGP_UPD_MALFORMED_LIST, NULL, 0,
				       "Withdrawn Routes Length %u too long",
				       wlen);
		return -EBADMSG;
	}
	alen = iam_rd_u16(&r);
	at = iam_rd_take(&r, alen);
	if (r.err) {
		iam_bgp_update_problem(
			u, IAM_BGP_ACT_RESET, IAM_BGP_ERR_UPDATE,
			IAM_BGP_UPD_MALFORMED_LIST, NULL, 0,
			"Total Path Attribute Length %u too long", alen);
		return -EBADMSG;
	}
	u->withdrawn4 = (struct iam_bgp_span){ w, wlen };
	u->nlri4 = (struct iam_bgp_span){ body + r.off,
					  (uint16_t)iam_rd_left(&r) };
	/* RFC 7606 3 (i) and 5.3: Withdrawn Routes and NLRI are checked
	 * alike; a syntax error there is a session reset. */
	if (iam_bgp_nlri_check(w, wlen, 32) < 0 ||
	    iam_bgp_nlri_check(u->nlri4.p, u->nlri4.len, 32) < 0) {
		iam_bgp_update_problem(u, IAM_BGP_ACT_RESET, IAM_BGP_ERR_UPDATE,
				       IAM_BGP_UPD_NETWORK, NULL, 0,
				       "malformed IPv4 %s",
				       iam_bgp_nlri_check(w, wlen, 32) < 0 ?
					       "Withdrawn Routes" :
					       "NLRI");
		return -EBADMSG;
	}
	iam_bgp_attrs_decode(at, alen, s, u->nlri4.len > 0, u);
	if (u->action == IAM_BGP_ACT_RESET)
		return -EBADMSG;
	u->eor = u->a.mp_unreach && !u->a.unreach.len && !wlen &&
		 !u->nlri4.len &&
		 !memcmp(u->a.seen, only_unreach, sizeof(only_unreach));
	return 0;
}

/* ---- NOTIFICATION, ROUTE-REFRESH ------------------------------------- */

int iam_bgp_notification_decode(const uint8_t *body, size_t len,
				struct iam_bgp_notification *n)
{
	if (len < 2)
		return -EBADMSG;
	n->code = body[0];
	n->subcode = body[1];
	n->data = body + 2;
	n->len = (uint16_t)(len - 2);
	return 0;
}

int iam_bgp_shutdown_text(const struct iam_bgp_notification *n, char *buf,
			  size_t len)
{
	size_t l;

	/* RFC 9003 2: a length octet, then up to 255 octets of UTF-8. */
	if (n->code != IAM_BGP_ERR_CEASE ||
	    (n->subcode != IAM_BGP_CEASE_SHUTDOWN &&
	     n->subcode != IAM_BGP_CEASE_RESET) ||
	    n->len < 2 || !len)
		return -ENOENT;
	l = n->data[0];
	if (!l || l > n->len - 1u)
		return -ENOENT;
	if (l > len - 1)
		l = len - 1;
	for (size_t i = 0; i < l; i++) {
		uint8_t c = n->data[1 + i];

		/* Printable ASCII only in our log; other octets as '?'. */
		buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	buf[l] = 0;
	return 0;
}

int iam_bgp_route_refresh_decode(const uint8_t *body, size_t len, uint16_t *afi,
				 uint8_t *subtype, uint8_t *safi,
				 struct iam_bgp_error *err)
{
	if (len != 4) {
		set_err16(err, IAM_BGP_ERR_HEADER, IAM_BGP_HDR_BAD_LENGTH,
			  (uint16_t)(len + IAM_BGP_HDR_LEN));
		return -EBADMSG;
	}
	*afi = iam_get16(body);
	*subtype = body[2];
	*safi = body[3];
	return 0;
}

int iam_bgp_msg_decode(const uint8_t *buf, size_t len,
		       const struct iam_bgp_sess *s, struct iam_bgp_open *o,
		       struct iam_bgp_update *u, struct iam_bgp_error *err)
{
	struct iam_bgp_notification n;
	const uint8_t *body = buf + IAM_BGP_HDR_LEN;
	uint16_t afi;
	uint8_t type, st, safi;
	int mlen;
	size_t blen;

	memset(err, 0, offsetof(struct iam_bgp_error, data));
	mlen = iam_bgp_header_check(buf, len, &type, err);
	if (mlen < 0)
		return mlen;
	if (!mlen || (size_t)mlen > len)
		return -EAGAIN;
	blen = (size_t)mlen - IAM_BGP_HDR_LEN;
	switch (type) {
	case IAM_BGP_MSG_OPEN:
		if (iam_bgp_open_decode(body, blen, o, err))
			return -EBADMSG;
		break;
	case IAM_BGP_MSG_UPDATE:
		if (iam_bgp_update_decode(body, blen, s, u)) {
			set_err(err, u->err.code, u->err.subcode, u->err.data,
				u->err.len);
			return -EBADMSG;
		}
		break;
	case IAM_BGP_MSG_NOTIFICATION:
		if (iam_bgp_notification_decode(body, blen, &n))
			return -EBADMSG;
		break;
	case IAM_BGP_MSG_ROUTE_REFRESH:
		if (iam_bgp_route_refresh_decode(body, blen, &afi, &st, &safi,
						 err))
			return -EBADMSG;
		break;
	default:
		break;
	}
	return type;
}

/* ---- encoding -------------------------------------------------------- */

static void msg_begin(struct iam_wr *w, uint8_t *buf, size_t cap)
{
	iam_wr_init(w, buf, cap < IAM_BGP_MAX_MSG ? cap : IAM_BGP_MAX_MSG);
	iam_wr_room(w, IAM_BGP_HDR_LEN);
}

static int msg_end(struct iam_wr *w, size_t cap, uint8_t type)
{
	if (w->err)
		return cap >= IAM_BGP_MAX_MSG ? -EMSGSIZE : -ENOSPC;
	memset(w->p, 0xff, 16);
	iam_put16(w->p + 16, (uint16_t)w->len);
	w->p[18] = type;
	return (int)w->len;
}

int iam_bgp_write_open(uint8_t *buf, size_t cap, uint32_t local_as,
		       uint16_t hold_time, uint32_t bgp_id)
{
	struct iam_wr w;
	int n;

	msg_begin(&w, buf, cap);
	iam_wr_u8(&w, IAM_BGP_VERSION);
	/* RFC 6793 4.1: AS_TRANS in My AS when ours needs four octets. */
	iam_wr_u16(&w,
		   local_as > 0xffff ? IAM_BGP_AS_TRANS : (uint16_t)local_as);
	iam_wr_u16(&w, hold_time);
	iam_wr_u32(&w, bgp_id);
	iam_wr_u8(&w, 2 + 6 + 2 + 6); /* Opt Parm Len */
	iam_wr_u8(&w, 2); /* Capabilities (RFC 5492 4) */
	iam_wr_u8(&w, 6 + 2 + 6);
	iam_wr_u8(&w, IAM_BGP_CAP_MP);
	iam_wr_u8(&w, 4);
	iam_wr_u16(&w, IAM_BGP_AFI_IPV6);
	iam_wr_u8(&w, 0);
	iam_wr_u8(&w, IAM_BGP_SAFI_UNICAST);
	iam_wr_u8(&w, IAM_BGP_CAP_ROUTE_REFRESH);
	iam_wr_u8(&w, 0);
	iam_wr_u8(&w, IAM_BGP_CAP_AS4);
	iam_wr_u8(&w, 4);
	iam_wr_u32(&w, local_as);
	n = msg_end(&w, cap, IAM_BGP_MSG_OPEN);
	return n < 0 ? -ENOSPC : n;
}

int iam_bgp_write_keepalive(uint8_t *buf, size_t cap)
{
	struct iam_wr w;
	int n;

	msg_begin(&w, buf, cap);
	n = msg_end(&w, cap, IAM_BGP_MSG_KEEPALIVE);
	return n < 0 ? -ENOSPC : n;
}

int iam_bgp_write_notification(uint8_t *buf, size_t cap, uint8_t code,
			       uint8_t subcode, const void *data, size_t len)
{
	struct iam_wr w;
	int n;

	if (len > IAM_BGP_ERR_DATA_MAX)
		len = IAM_BGP_ERR_DATA_MAX;
	msg_begin(&w, buf, cap);
	iam_wr_u8(&w, code);
	iam_wr_u8(&w, subcode);
	iam_wr_bytes(&w, data, len);
	n = msg_end(&w, cap, IAM_BGP_MSG_NOTIFICATION);
	return n < 0 ? -ENOSPC : n;
}

int iam_bgp_write_route_refresh(uint8_t *buf, size_t cap, uint16_t afi,
				uint8_t safi)
{
	struct iam_wr w;
	int n;

	msg_begin(&w, buf, cap);
	iam_wr_u16(&w, afi);
	iam_wr_u8(&w, 0); /* RFC 7313 3: subtype 0, a normal request */
	iam_wr_u8(&w, safi);
	n = msg_end(&w, cap, IAM_BGP_MSG_ROUTE_REFRESH);
	return n < 0 ? -ENOSPC : n;
}

int iam_bgp_write_announce(uint8_t *buf, size_t cap,
			   const struct iam_bgp_out_attrs *a,
			   const struct iam_bgp_prefix *p, unsigned n)
{
	struct iam_wr w;
	size_t at;

	if (a->nlcomm > IAM_BGP_LCOMM_MAX)
		return -EINVAL;
	msg_begin(&w, buf, cap);
	iam_wr_u16(&w, 0); /* no IPv4 withdrawn routes */
	at = w.len;
	iam_wr_u16(&w, 0); /* Total Path Attribute Length, below */
	iam_bgp_attrs_encode(&w, a, p, n);
	if (!w.err)
		iam_put16(w.p + at, (uint16_t)(w.len - at - 2));
	return msg_end(&w, cap, IAM_BGP_MSG_UPDATE);
}

int iam_bgp_write_withdraw(uint8_t *buf, size_t cap,
			   const struct iam_bgp_prefix *p, unsigned n)
{
	struct iam_wr w;
	size_t vlen = 3;

	for (unsigned i = 0; i < n; i++)
		vlen += 1 + (p[i].len + 7u) / 8;
	msg_begin(&w, buf, cap);
	iam_wr_u16(&w, 0);
	iam_wr_u16(&w, (uint16_t)(vlen + (vlen > 255 ? 4 : 3)));
	iam_wr_u8(&w,
		  IAM_BGP_AF_OPTIONAL | (vlen > 255 ? IAM_BGP_AF_EXTLEN : 0));
	iam_wr_u8(&w, IAM_BGP_A_MP_UNREACH);
	if (vlen > 255)
		iam_wr_u16(&w, (uint16_t)vlen);
	else
		iam_wr_u8(&w, (uint8_t)vlen);
	iam_wr_u16(&w, IAM_BGP_AFI_IPV6);
	iam_wr_u8(&w, IAM_BGP_SAFI_UNICAST);
	for (unsigned i = 0; i < n; i++)
		iam_bgp_nlri_put(&w, &p[i]);
	return msg_end(&w, cap, IAM_BGP_MSG_UPDATE);
}

/* ---- names ----------------------------------------------------------- */

const char *iam_bgp_msg_name(uint8_t type)
{
	static const char *const names[] = {
		[IAM_BGP_MSG_OPEN] = "OPEN",
		[IAM_BGP_MSG_UPDATE] = "UPDATE",
		[IAM_BGP_MSG_NOTIFICATION] = "NOTIFICATION",
		[IAM_BGP_MSG_KEEPALIVE] = "KEEPALIVE",
		[IAM_BGP_MSG_ROUTE_REFRESH] = "ROUTE-REFRESH",
	};

	return type < sizeof(names) / sizeof(names[0]) && names[type] ?
		       names[type] :
		       "unknown";
}

const char *iam_bgp_error_name(uint8_t code, uint8_t subcode, char *buf,
			       size_t len)
{
	static const char *const codes[] = {
		"",
		"Message Header Error",
		"OPEN Message Error",
		"UPDATE Message Error",
		"Hold Timer Expired",
		"Finite State Machine Error",
		"Cease",
		"ROUTE-REFRESH Message Error",
	};
	static const char *const sub[8][12] = {
		[1] = { "Unspecific", "Connection Not Synchronized",
			"Bad Message Length", "Bad Message Type" },
		[2] = { "Unspecific", "Unsupported Version Number",
			"Bad Peer AS", "Bad BGP Identifier",
			"Unsupported Optional Parameter", NULL,
			"Unacceptable Hold Time", "Unsupported Capability" },
		[3] = { "Unspecific", "Malformed Attribute List",
			"Unrecognized Well-known Attribute",
			"Missing Well-known Attribute", "Attribute Flags Error",
			"Attribute Length Error", "Invalid ORIGIN Attribute",
			NULL, "Invalid NEXT_HOP Attribute",
			"Optional Attribute Error", "Invalid Network Field",
			"Malformed AS_PATH" },
		[4] = { "Unspecific" },
		[5] = { "Unspecific", "Unexpected Message in OpenSent",
			"Unexpected Message in OpenConfirm",
			"Unexpected Message in Established" },
		[6] = { "Unspecific", "Maximum Number of Prefixes Reached",
			"Administrative Shutdown", "Peer De-configured",
			"Administrative Reset", "Connection Rejected",
			"Other Configuration Change",
			"Connection Collision Resolution", "Out of Resources" },
		[7] = { "Reserved", "Invalid Message Length" },
	};
	const char *c = code < 8 && code ? codes[code] : NULL;
	const char *s = code < 8 && subcode < 12 ? sub[code][subcode] : NULL;

	if (c && s)
		snprintf(buf, len, "%s / %s", c, s);
	else if (c)
		snprintf(buf, len, "%s / subcode %u", c, subcode);
	else
		snprintf(buf, len, "error %u / subcode %u", code, subcode);
	return buf;
}
