/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * packets.h - the BGP-4 message codec: header, OPEN with capabilities,
 * UPDATE framing and NLRI, NOTIFICATION, KEEPALIVE, ROUTE-REFRESH.
 *
 * Pure functions over buffers (no allocation, no I/O), so the unit tests
 * and the fuzz target link them alone.  Every decoder reports what is
 * wrong as the NOTIFICATION to send (struct iam_bgp_error), with the code
 * and subcode the RFC section cited beside each check demands.  Decoders
 * take the message body, i.e. what follows the 19-octet header.
 */
#ifndef IAM_BGP_PACKETS_H
#define IAM_BGP_PACKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/attrs.h"

#define IAM_BGP_HDR_LEN 19
#define IAM_BGP_MAX_MSG 4096 /* RFC 4271 4.1; no RFC 8654 */
#define IAM_BGP_VERSION 4

/* Message types (RFC 4271 4.1, RFC 2918 3). */
enum {
	IAM_BGP_MSG_OPEN = 1,
	IAM_BGP_MSG_UPDATE = 2,
	IAM_BGP_MSG_NOTIFICATION = 3,
	IAM_BGP_MSG_KEEPALIVE = 4,
	IAM_BGP_MSG_ROUTE_REFRESH = 5,
};

/* Minimum message lengths (RFC 4271 4.2 - 4.5, RFC 2918 3). */
#define IAM_BGP_OPEN_MIN 29
#define IAM_BGP_UPDATE_MIN 23
#define IAM_BGP_NOTIFICATION_MIN 21
#define IAM_BGP_KEEPALIVE_LEN 19
#define IAM_BGP_ROUTE_REFRESH_LEN 23

/* NOTIFICATION error codes and subcodes (RFC 4271 4.5, 6; RFC 5492 5;
 * RFC 4486; RFC 6608). */
enum {
	IAM_BGP_ERR_HEADER = 1,
	IAM_BGP_ERR_OPEN = 2,
	IAM_BGP_ERR_UPDATE = 3,
	IAM_BGP_ERR_HOLD = 4,
	IAM_BGP_ERR_FSM = 5,
	IAM_BGP_ERR_CEASE = 6,
};
enum {
	IAM_BGP_HDR_NOT_SYNC = 1,
	IAM_BGP_HDR_BAD_LENGTH = 2,
	IAM_BGP_HDR_BAD_TYPE = 3,
};
enum {
	IAM_BGP_OPEN_UNSPECIFIC = 0,
	IAM_BGP_OPEN_BAD_VERSION = 1,
	IAM_BGP_OPEN_BAD_PEER_AS = 2,
	IAM_BGP_OPEN_BAD_ID = 3,
	IAM_BGP_OPEN_BAD_PARAM = 4,
	IAM_BGP_OPEN_BAD_HOLD = 6,
	IAM_BGP_OPEN_BAD_CAP = 7,
};
enum {
	IAM_BGP_UPD_MALFORMED_LIST = 1,
	IAM_BGP_UPD_UNKNOWN_WELLKNOWN = 2,
	IAM_BGP_UPD_MISSING_WELLKNOWN = 3,
	IAM_BGP_UPD_FLAGS = 4,
	IAM_BGP_UPD_LENGTH = 5,
	IAM_BGP_UPD_ORIGIN = 6,
	IAM_BGP_UPD_NEXT_HOP = 8,
	IAM_BGP_UPD_OPTIONAL = 9,
	IAM_BGP_UPD_NETWORK = 10,
	IAM_BGP_UPD_AS_PATH = 11,
};
enum {
	IAM_BGP_FSM_UNSPECIFIC = 0,
	IAM_BGP_FSM_IN_OPENSENT = 1,
	IAM_BGP_FSM_IN_OPENCONFIRM = 2,
	IAM_BGP_FSM_IN_ESTABLISHED = 3,
};
enum {
	IAM_BGP_CEASE_MAX_PREFIXES = 1,
	IAM_BGP_CEASE_SHUTDOWN = 2,
	IAM_BGP_CEASE_DECONFIGURED = 3,
	IAM_BGP_CEASE_RESET = 4,
	IAM_BGP_CEASE_REJECTED = 5,
	IAM_BGP_CEASE_CONFIG_CHANGE = 6,
	IAM_BGP_CEASE_COLLISION = 7,
	IAM_BGP_CEASE_RESOURCES = 8,
};

/* Capability codes (IANA; RFC 4760, 2918, 6793). */
enum {
	IAM_BGP_CAP_MP = 1,
	IAM_BGP_CAP_ROUTE_REFRESH = 2,
	IAM_BGP_CAP_AS4 = 65,
	IAM_BGP_CAP_ROUTE_REFRESH_OLD = 128, /* pre-standard, same meaning */
};

#define IAM_BGP_MP_MAX 16

/* A decoded OPEN (RFC 4271 4.2) and the capabilities we understand. */
struct iam_bgp_open {
	uint8_t version;
	uint16_t my_as; /* the two-octet field; AS_TRANS for big ASes */
	uint16_t hold_time; /* s */
	uint32_t bgp_id; /* host order */
	bool caps; /* a Capabilities parameter was present (RFC 5492) */
	bool as4_cap; /* RFC 6793 */
	uint32_t as4;
	bool rr_cap; /* RFC 2918 */
	uint8_t nmp; /* RFC 4760 Multiprotocol capabilities, in order */
	struct {
		uint16_t afi;
		uint8_t safi;
	} mp[IAM_BGP_MP_MAX];
};

/* The peer's AS: from the four-octet capability when present. */
static inline uint32_t iam_bgp_open_as(const struct iam_bgp_open *o)
{
	return o->as4_cap ? o->as4 : o->my_as;
}
bool iam_bgp_open_has_mp(const struct iam_bgp_open *o, uint16_t afi,
			 uint8_t safi);

/* What our configuration expects of the peer's OPEN. */
struct iam_bgp_open_expect {
	uint32_t peer_as;
	uint32_t local_id; /* ours, host order */
	bool ibgp;
};

struct iam_bgp_notification {
	uint8_t code;
	uint8_t subcode;
	uint16_t len;
	const uint8_t *data; /* into the message */
};

/* ---- decoding -------------------------------------------------------- */

/*
 * Check the header at the start of buf[0..len) (RFC 4271 4.1, 6.1): the
 * marker, the length against the limits of the type, the type.  Returns
 * the whole message length when buf holds the header (the body may still
 * be incomplete), 0 when fewer than 19 octets are there, or -EBADMSG with
 * err set.
 */
int iam_bgp_header_check(const uint8_t *buf, size_t len, uint8_t *type,
			 struct iam_bgp_error *err);

/* OPEN body: syntax, optional parameters, capabilities (RFC 4271 6.2, RFC
 * 5492, RFC 9072).  0 or -EBADMSG with err. */
int iam_bgp_open_decode(const uint8_t *body, size_t len, struct iam_bgp_open *o,
			struct iam_bgp_error *err);
/* OPEN semantics against the configuration: version, peer AS, hold time,
 * BGP identifier, IPv6 unicast capability.  0 or -EBADMSG with err. */
int iam_bgp_open_check(const struct iam_bgp_open *o,
		       const struct iam_bgp_open_expect *x,
		       struct iam_bgp_error *err);

/*
 * UPDATE body (RFC 4271 4.3, 6.3 as revised by RFC 7606): fills u.  The
 * verdict is u->action; IAM_BGP_ACT_RESET comes with u->err.  Returns 0,
 * or -EBADMSG exactly when u->action is IAM_BGP_ACT_RESET.
 */
int iam_bgp_update_decode(const uint8_t *body, size_t len,
			  const struct iam_bgp_sess *s,
			  struct iam_bgp_update *u);

/* NOTIFICATION body; 0 or -EBADMSG (shorter than code and subcode). */
int iam_bgp_notification_decode(const uint8_t *body, size_t len,
				struct iam_bgp_notification *n);
/* The RFC 9003 shutdown communication of a Cease / Administrative
 * Shutdown or Reset, as printable text; 0 if there is one, else -ENOENT. */
int iam_bgp_shutdown_text(const struct iam_bgp_notification *n, char *buf,
			  size_t len);

/* ROUTE-REFRESH body (RFC 2918 3, RFC 7313 3 subtype): 0 or -EBADMSG. */
int iam_bgp_route_refresh_decode(const uint8_t *body, size_t len, uint16_t *afi,
				 uint8_t *subtype, uint8_t *safi,
				 struct iam_bgp_error *err);

/* NLRI (RFC 4271 4.3, RFC 4760 5): -EBADMSG if a length exceeds maxbits
 * or a prefix overruns, else the number of prefixes. */
int iam_bgp_nlri_check(const uint8_t *p, size_t len, unsigned maxbits);
/* Iterate a checked IPv6 NLRI span. */
struct iam_bgp_nlri_it {
	struct iam_rd r;
};
void iam_bgp_nlri_begin(struct iam_bgp_nlri_it *it,
			const struct iam_bgp_span *s);
bool iam_bgp_nlri_next(struct iam_bgp_nlri_it *it, struct iam_bgp_prefix *p);

/*
 * One-stop decoder for a whole message (header included), used by the
 * fuzz target and the tests: returns the type (> 0) when the message is
 * acceptable, -EBADMSG with err when it must be answered with a
 * NOTIFICATION, -EAGAIN when len is short of the length in the header.
 * For an UPDATE, u must be given and gets the verdict (treat-as-withdraw
 * is acceptable: it returns the type).
 */
int iam_bgp_msg_decode(const uint8_t *buf, size_t len,
		       const struct iam_bgp_sess *s, struct iam_bgp_open *o,
		       struct iam_bgp_update *u, struct iam_bgp_error *err);

/* ---- encoding: each returns the message length or -ENOSPC ------------ */

/* OPEN with capabilities MP (IPv6 unicast), route refresh, four-octet AS
 * (RFC 5492, 4760, 2918, 6793). */
int iam_bgp_write_open(uint8_t *buf, size_t cap, uint32_t local_as,
		       uint16_t hold_time, uint32_t bgp_id);
int iam_bgp_write_keepalive(uint8_t *buf, size_t cap);
int iam_bgp_write_notification(uint8_t *buf, size_t cap, uint8_t code,
			       uint8_t subcode, const void *data, size_t len);
int iam_bgp_write_route_refresh(uint8_t *buf, size_t cap, uint16_t afi,
				uint8_t safi);
/* UPDATE announcing n IPv6 prefixes with the attributes a; -EMSGSIZE
 * when they do not fit in one message (split them). */
int iam_bgp_write_announce(uint8_t *buf, size_t cap,
			   const struct iam_bgp_out_attrs *a,
			   const struct iam_bgp_prefix *p, unsigned n);
/* UPDATE withdrawing n IPv6 prefixes in MP_UNREACH_NLRI; with n = 0 it
 * is the End-of-RIB marker (RFC 4724, section 2). */
int iam_bgp_write_withdraw(uint8_t *buf, size_t cap,
			   const struct iam_bgp_prefix *p, unsigned n);

/* ---- names for logs -------------------------------------------------- */

const char *iam_bgp_msg_name(uint8_t type);
/* "UPDATE Message Error / Malformed AS_PATH" */
const char *iam_bgp_error_name(uint8_t code, uint8_t subcode, char *buf,
			       size_t len);

#endif /* IAM_BGP_PACKETS_H */
