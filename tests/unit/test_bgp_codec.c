// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Vector tests of the BGP message codec (user/bgp/packets.c): the header,
 * OPEN and its capabilities, NOTIFICATION, KEEPALIVE, ROUTE-REFRESH, in
 * the manner of FRR's tests/bgpd/test_capability.c: every capability and
 * parameter in a valid, short, long, truncated and empty form, each
 * marked should-parse or should-error with the exact NOTIFICATION.
 *
 * The vectors are also the fuzz seeds (tests/fuzz/corpus/fuzz_bgp/):
 * fuzz_seeds checks them, and writes them with IAM_BGP_CORPUS=DIR.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "bgp/packets.h"
#include "iam_test.h"

#define B(...) \
	(const uint8_t[]){ __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ })
/* The same, as designated initializers of field f and len. */
#define BYTES(f, ...)                          \
	.f = (const uint8_t[]){ __VA_ARGS__ }, \
	.len = sizeof((uint8_t[]){ __VA_ARGS__ })

enum { PARSE, ERROR };

/* Wrap a body in a header of the right length. */
static size_t mkmsg(uint8_t *out, uint8_t type, const uint8_t *body, size_t len)
{
	memset(out, 0xff, 16);
	iam_put16(out + 16, (uint16_t)(len + IAM_BGP_HDR_LEN));
	out[18] = type;
	memcpy(out + IAM_BGP_HDR_LEN, body, len);
	return len + IAM_BGP_HDR_LEN;
}

/*
 * The fuzz seeds: with IAM_BGP_CORPUS=DIR they are written there; without,
 * the committed ones (tests/fuzz/corpus/fuzz_bgp/, from the top of the
 * tree) must be exactly the vectors of this file.
 */
static void seed(const char *name, const uint8_t *m, size_t len)
{
	const char *dir = getenv("IAM_BGP_CORPUS");
	char path[512];
	uint8_t old[IAM_BGP_MAX_MSG + 64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s",
		 dir ? dir : "tests/fuzz/corpus/fuzz_bgp", name);
	if (dir) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, m, len) != (ssize_t)len)
			iam_test_fail(__FILE__, __LINE__, "cannot write %s",
				      path);
	} else {
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : read(fd, old, sizeof(old));
		if (n != (ssize_t)len || memcmp(old, m, len))
			iam_test_fail(
				__FILE__, __LINE__,
				"%s is not the vector (rewrite the seeds: "
				"IAM_BGP_CORPUS=DIR)",
				path);
	}
	if (fd >= 0)
		close(fd);
}

/* ---- header ---------------------------------------------------------- */

#define M16                                                               \
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, \
		0xff, 0xff, 0xff, 0xff, 0xff

/* For 1/2 the data is the Length field, for 1/3 the Type (RFC 4271 6.1). */
static const struct hdr_vec {
	const char *name;
	const uint8_t *m;
	size_t len;
	int want; /* message length, 0 (need more), or -EBADMSG */
	uint8_t code, subcode;
} hdr_vecs[] = {
#define HV(n, w, c, s, ...)                                    \
	{                                                      \
		.name = n, .want = w, .code = c, .subcode = s, \
		BYTES(m, __VA_ARGS__)                          \
	}
	HV("keepalive", 19, 0, 0, M16, 0, 19, 4),
	HV("short-read", 0, 0, 0, M16, 0, 19),
	HV("marker-not-ones", -EBADMSG, 1, 1, 0xff, 0xff, 0xff, 0xff, 0xff,
	   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0,
	   19, 4),
	HV("length-18", -EBADMSG, 1, 2, M16, 0, 18, 4),
	HV("length-4097", -EBADMSG, 1, 2, M16, 0x10, 0x01, 2),
	HV("length-4096-update", 4096, 0, 0, M16, 0x10, 0x00, 2),
	HV("keepalive-long", -EBADMSG, 1, 2, M16, 0, 20, 4, 0),
	HV("open-short", -EBADMSG, 1, 2, M16, 0, 28, 1),
	HV("open-min", 29, 0, 0, M16, 0, 29, 1),
	HV("update-short", -EBADMSG, 1, 2, M16, 0, 22, 2),
	HV("notification-short", -EBADMSG, 1, 2, M16, 0, 20, 3),
	HV("refresh-short", -EBADMSG, 1, 2, M16, 0, 22, 5),
	HV("refresh-long", -EBADMSG, 1, 2, M16, 0, 24, 5),
	HV("type-0", -EBADMSG, 1, 3, M16, 0, 19, 0),
	HV("type-6", -EBADMSG, 1, 3, M16, 0, 19, 6),
	HV("type-255", -EBADMSG, 1, 3, M16, 0, 30, 255),
	HV("type-bad-and-length-bad", -EBADMSG, 1, 2, M16, 0, 5, 9),
#undef HV
};

TEST(header_vectors)
{
	for (size_t i = 0; i < sizeof(hdr_vecs) / sizeof(hdr_vecs[0]); i++) {
		const struct hdr_vec *v = &hdr_vecs[i];
		struct iam_bgp_error err = { 0 };
		uint8_t type;
		int r = iam_bgp_header_check(v->m, v->len, &type, &err);

		CHECK_MSG(r == v->want, "%s: got %d, want %d", v->name, r,
			  v->want);
		if (v->want != -EBADMSG || r != -EBADMSG)
			continue;
		CHECK_MSG(err.code == v->code && err.subcode == v->subcode,
			  "%s: NOTIFICATION %u/%u, want %u/%u", v->name,
			  err.code, err.subcode, v->code, v->subcode);
		if (v->subcode == 2)
			CHECK_MSG(err.len == 2 &&
					  !memcmp(err.data, v->m + 16, 2),
				  "%s: data is not the Length field", v->name);
		if (v->subcode == 3)
			CHECK_MSG(err.len == 1 && err.data[0] == v->m[18],
				  "%s: data is not the Type", v->name);
	}
}

/* ---- OPEN ------------------------------------------------------------ */

/* OPEN body: version 4, AS 65001, hold 90, id 10.0.0.2, then params. */
#define OPEN_HEAD 4, 0xfd, 0xe9, 0, 90, 10, 0, 0, 2
#define CAP_MP6 1, 4, 0, 2, 0, 1
#define CAP_RR 2, 0
#define CAP_AS4 65, 4, 0, 0, 0xfd, 0xe9
/* One capabilities parameter holding n octets of capabilities. */
#define CAPS(n, ...) (n) + 2, 2, (n), __VA_ARGS__

static const struct open_vec {
	const char *name;
	const uint8_t *body;
	size_t len;
	int want;
	uint8_t code, subcode;
	/* for PARSE: what must have been understood */
	bool mp6, rr, as4;
	uint32_t as;
} open_vecs[] = {
	{ .name = "open-full",
	  .want = PARSE,
	  .mp6 = true,
	  .rr = true,
	  .as4 = true,
	  .as = 65001,
	  BYTES(body, OPEN_HEAD, CAPS(14, CAP_MP6, CAP_RR, CAP_AS4)) },
	{ .name = "open-no-params",
	  .want = PARSE,
	  .as = 65001,
	  BYTES(body, OPEN_HEAD, 0) },
	{ .name = "open-caps-in-separate-params",
	  .want = PARSE,
	  .mp6 = true,
	  .rr = true,
	  .as4 = true,
	  .as = 65001,
	  BYTES(body, OPEN_HEAD, 20, 2, 6, CAP_MP6, 2, 2, CAP_RR, 2, 6,
		CAP_AS4) },
	{ .name = "open-empty-caps-param",
	  .want = PARSE,
	  BYTES(body, OPEN_HEAD, 2, 2, 0) },
	{ .name = "open-body-short",
	  .want = ERROR,
	  .code = 1,
	  .subcode = 2,
	  BYTES(body, 4, 0xfd, 0xe9, 0, 90, 10, 0, 0) },
	{ .name = "open-optlen-long",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, 9, 2, 6, CAP_MP6) },
	{ .name = "open-optlen-short",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, 7, 2, 6, CAP_MP6) },
	{ .name = "open-param-truncated",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, 4, 2, 6, 1, 4) },
	{ .name = "open-param-header-truncated",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, 1, 2) },
	{ .name = "open-param-auth",
	  .want = ERROR,
	  .code = 2,
	  .subcode = 4,
	  BYTES(body, OPEN_HEAD, 4, 1, 2, 0, 0) },
	{ .name = "open-param-unknown",
	  .want = ERROR,
	  .code = 2,
	  .subcode = 4,
	  BYTES(body, OPEN_HEAD, 2, 3, 0) },
	{ .name = "open-ext-params",
	  .want = PARSE,
	  .mp6 = true,
	  BYTES(body, OPEN_HEAD, 255, 255, 0, 9, 2, 0, 6, CAP_MP6) },
	{ .name = "open-ext-params-truncated",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, 255, 255, 0, 9, 2, 0, 6) },
	{ .name = "cap-mp-short",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, CAPS(5, 1, 3, 0, 2, 0)) },
	{ .name = "cap-mp-long",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, CAPS(7, 1, 5, 0, 2, 0, 1, 0)) },
	{ .name = "cap-mp-truncated",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, CAPS(4, 1, 4, 0, 2)) },
	{ .name = "cap-mp-empty",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, CAPS(2, 1, 0)) },
	{ .name = "cap-mp-ipv4-only",
	  .want = PARSE,
	  BYTES(body, OPEN_HEAD, CAPS(6, 1, 4, 0, 1, 0, 1)) },
	{ .name = "cap-mp-twice",
	  .want = PARSE,
	  .mp6 = true,
	  BYTES(body, OPEN_HEAD, CAPS(12, CAP_MP6, CAP_MP6)) },
	{ .name = "cap-rr-long",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, CAPS(3, 2, 1, 0)) },
	{ .name = "cap-rr-truncated",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, CAPS(1, 2)) },
	{ .name = "cap-rr-old",
	  .want = PARSE,
	  .rr = true,
	  BYTES(body, OPEN_HEAD, CAPS(2, 128, 0)) },
	{ .name = "cap-as4-short",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, CAPS(4, 65, 2, 0xfd, 0xe9)) },
	{ .name = "cap-as4-long",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, CAPS(7, 65, 5, 0, 0, 0xfd, 0xe9, 0)) },
	{ .name = "cap-as4-truncated",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, CAPS(4, 65, 4, 0, 0)) },
	{ .name = "cap-as4-empty",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, CAPS(2, 65, 0)) },
	{ .name = "cap-as4-big",
	  .want = PARSE,
	  .as4 = true,
	  .as = 4200000000u,
	  BYTES(body, 4, 0x5b, 0xa0, 0, 90, 10, 0, 0, 2,
		CAPS(6, 65, 4, 0xfa, 0x56, 0xea, 0x00)) },
	{ .name = "cap-unknown",
	  .want = PARSE,
	  BYTES(body, OPEN_HEAD, CAPS(7, 73, 5, 1, 2, 3, 4, 5)) },
	{ .name = "cap-unknown-empty",
	  .want = PARSE,
	  BYTES(body, OPEN_HEAD, CAPS(2, 70, 0)) },
	{ .name = "cap-graceful-restart",
	  .want = PARSE,
	  BYTES(body, OPEN_HEAD, CAPS(4, 64, 2, 0x00, 0x78)) },
	{ .name = "cap-unknown-truncated",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, CAPS(3, 73, 5, 1)) },
	{ .name = "cap-header-truncated",
	  .want = ERROR,
	  .code = 2,
	  BYTES(body, OPEN_HEAD, CAPS(1, 73)) },
};

TEST(open_vectors)
{
	for (size_t i = 0; i < sizeof(open_vecs) / sizeof(open_vecs[0]); i++) {
		const struct open_vec *v = &open_vecs[i];
		struct iam_bgp_error err = { 0 };
		struct iam_bgp_open o;
		int r = iam_bgp_open_decode(v->body, v->len, &o, &err);

		if (v->want == PARSE) {
			CHECK_MSG(r == 0, "%s: should parse, got %u/%u",
				  v->name, err.code, err.subcode);
			if (r)
				continue;
			CHECK_MSG(iam_bgp_open_has_mp(&o, 2, 1) == v->mp6,
				  "%s: MP IPv6 unicast", v->name);
			CHECK_MSG(o.rr_cap == v->rr, "%s: route refresh",
				  v->name);
			CHECK_MSG(o.as4_cap == v->as4, "%s: AS4", v->name);
			if (v->as)
				CHECK_MSG(iam_bgp_open_as(&o) == v->as,
					  "%s: AS %u", v->name,
					  iam_bgp_open_as(&o));
		} else {
			CHECK_MSG(r == -EBADMSG, "%s: should error", v->name);
			CHECK_MSG(err.code == v->code &&
					  err.subcode == v->subcode,
				  "%s: NOTIFICATION %u/%u, want %u/%u", v->name,
				  err.code, err.subcode, v->code, v->subcode);
		}
	}
}

static struct iam_bgp_open good_open(void)
{
	struct iam_bgp_open o = {
		.version = 4,
		.my_as = 65001,
		.hold_time = 90,
		.bgp_id = 0x0a000002,
		.caps = true,
		.as4_cap = true,
		.as4 = 65001,
		.rr_cap = true,
		.nmp = 1,
	};

	o.mp[0].afi = 2;
	o.mp[0].safi = 1;
	return o;
}

TEST(open_semantics)
{
	struct iam_bgp_open_expect x = { 65001, 0x0a000001, false };
	struct iam_bgp_error err;
	struct iam_bgp_open o;
	static const uint8_t mp6[] = { 1, 4, 0, 2, 0, 1 };

	o = good_open();
	CHECK_EQ(iam_bgp_open_check(&o, &x, &err), 0);
	/* RFC 4271 6.2: data is our highest version, 2 octets */
	o.version = 3;
	CHECK_EQ(iam_bgp_open_check(&o, &x, &err), -EBADMSG);
	CHECK(err.code == 2 && err.subcode == 1 && err.len == 2 &&
	      err.data[0] == 0 && err.data[1] == 4);
	o = good_open();
	o.as4 = o.my_as = 65002;
	CHECK_EQ(iam_bgp_open_check(&o, &x, &err), -EBADMSG);
	CHECK(err.code == 2 && err.subcode == 2);
	/* My AS must agree with the capability unless it is AS_TRANS */
	o = good_open();
	o.my_as = 65003;
	CHECK_EQ(iam_bgp_open_check(&o, &x, &err), -EBADMSG);
	CHECK(err.subcode == 2);
	/* a two-octet peer: no capability, My AS is the AS */
	o = good_open();
	o.as4_cap = false;
	CHECK_EQ(iam_bgp_open_check(&o, &x, &err), 0);
	/* a big AS behind AS_TRANS */
	o = good_open();
	o.my_as = 23456;
	o.as4 = 4200000000u;
	x.peer_as = 4200000000u;
	CHECK_EQ(iam_bgp_open_check(&o, &x, &err), 0);
	x.peer_as = 65001;
	/* RFC 7607: AS 0 */
	o = good_open();
	o.my_as = 0;
	o.as4 = 0;
	x.peer_as = 0;
	CHECK_EQ(iam_bgp_open_check(&o, &x, &err), -EBADMSG);
	CHECK(err.subcode == 2);
	x.peer_as = 65001;
	/* hold time: 0 and >= 3 only */
	for (unsigned h = 0; h < 5; h++) {
		o = good_open();
		o.hold_time = (uint16_t)h;
		CHECK_EQ(iam_bgp_open_check(&o, &x, &err),
			 h == 1 || h == 2 ? -EBADMSG : 0);
		if (h == 1 || h == 2)
			CHECK(err.code == 2 && err.subcode == 6);
	}
	/* BGP identifier: non-zero; not ours on iBGP (RFC 6286 2.2) */
	o = good_open();
	o.bgp_id = 0;
	CHECK_EQ(iam_bgp_open_check(&o, &x, &err), -EBADMSG);
	CHECK(err.subcode == 3);
	o = good_open();
	o.bgp_id = x.local_id;
	CHECK_EQ(iam_bgp_open_check(&o, &x, &err), 0);
	x.ibgp = true;
	CHECK_EQ(iam_bgp_open_check(&o, &x, &err), -EBADMSG);
	CHECK(err.subcode == 3);
	x.ibgp = false;
	/* RFC 5492 5: no IPv6 unicast -> Unsupported Capability naming it */
	o = good_open();
	o.mp[0].afi = 1;
	CHECK_EQ(iam_bgp_open_check(&o, &x, &err), -EBADMSG);
	CHECK(err.code == 2 && err.subcode == 7 && err.len == sizeof(mp6) &&
	      !memcmp(err.data, mp6, sizeof(mp6)));
	o.nmp = 0;
	o.caps = false;
	CHECK_EQ(iam_bgp_open_check(&o, &x, &err), -EBADMSG);
	CHECK(err.subcode == 7);
}

TEST(open_encode_roundtrip)
{
	uint8_t m[IAM_BGP_MAX_MSG];
	struct iam_bgp_error err;
	struct iam_bgp_open o;
	uint8_t type;
	int n;

	n = iam_bgp_write_open(m, sizeof(m), 4200000000u, 90, 0x0a000001);
	REQUIRE(n > 0);
	CHECK_EQ(iam_bgp_header_check(m, (size_t)n, &type, &err), n);
	CHECK_EQ(type, IAM_BGP_MSG_OPEN);
	REQUIRE_EQ(iam_bgp_open_decode(m + 19, (size_t)n - 19, &o, &err), 0);
	CHECK_EQ(o.my_as, 23456); /* RFC 6793 4.1 */
	CHECK_EQ(iam_bgp_open_as(&o), 4200000000u);
	CHECK_EQ(o.hold_time, 90);
	CHECK_EQ(o.bgp_id, 0x0a000001);
	CHECK(o.rr_cap && iam_bgp_open_has_mp(&o, 2, 1));
	n = iam_bgp_write_open(m, sizeof(m), 65001, 0, 1);
	REQUIRE(n > 0);
	REQUIRE_EQ(iam_bgp_open_decode(m + 19, (size_t)n - 19, &o, &err), 0);
	CHECK_EQ(o.my_as, 65001);
	CHECK_EQ(o.hold_time, 0);
	/* a buffer too small is refused, not overrun */
	CHECK_EQ(iam_bgp_write_open(m, 30, 65001, 90, 1), -ENOSPC);
}

/* ---- NOTIFICATION, KEEPALIVE, ROUTE-REFRESH -------------------------- */

/* NOTIFICATION bodies; n.data points into them, so they are static. */
static const uint8_t n_cease[] = { 6, 2 };
static const uint8_t n_short[] = { 3 };
static const uint8_t n_zero[] = { 0, 0 };
static const uint8_t n_bye[] = { 6, 2, 4, 'b', 'y', 10, 'e' };
static const uint8_t n_past[] = { 6, 4, 9, 'x' };
static const uint8_t n_empty[] = { 6, 4, 0 };
static const uint8_t n_update[] = { 3, 2, 2, 'h', 'i' };
static const uint8_t n_hello[] = { 6, 2, 5, 'h', 'e', 'l', 'l', 'o' };

TEST(notification_vectors)
{
	struct iam_bgp_notification n;
	char text[64];
	uint8_t m[IAM_BGP_MAX_MSG];
	struct iam_bgp_error err;
	uint8_t type;
	int len;

	CHECK_EQ(iam_bgp_notification_decode(n_cease, sizeof(n_cease), &n), 0);
	CHECK(n.code == 6 && n.subcode == 2 && n.len == 0);
	CHECK_EQ(iam_bgp_shutdown_text(&n, text, sizeof(text)), -ENOENT);
	CHECK_EQ(iam_bgp_notification_decode(n_short, sizeof(n_short), &n),
		 -EBADMSG);
	CHECK_EQ(iam_bgp_notification_decode(n_zero, sizeof(n_zero), &n), 0);
	/* RFC 9003: length octet, then the text; controls shown as '?' */
	CHECK_EQ(iam_bgp_notification_decode(n_bye, sizeof(n_bye), &n), 0);
	CHECK_EQ(iam_bgp_shutdown_text(&n, text, sizeof(text)), 0);
	CHECK_STR(text, "by?e");
	/* a length past the data, or zero, is no message */
	iam_bgp_notification_decode(n_past, sizeof(n_past), &n);
	CHECK_EQ(iam_bgp_shutdown_text(&n, text, sizeof(text)), -ENOENT);
	iam_bgp_notification_decode(n_empty, sizeof(n_empty), &n);
	CHECK_EQ(iam_bgp_shutdown_text(&n, text, sizeof(text)), -ENOENT);
	iam_bgp_notification_decode(n_update, sizeof(n_update), &n);
	CHECK_EQ(iam_bgp_shutdown_text(&n, text, sizeof(text)), -ENOENT);
	/* truncated into a small buffer */
	iam_bgp_notification_decode(n_hello, sizeof(n_hello), &n);
	CHECK_EQ(iam_bgp_shutdown_text(&n, text, 3), 0);
	CHECK_STR(text, "he");

	len = iam_bgp_write_notification(m, sizeof(m), 3, 11, "ab", 2);
	CHECK_EQ(len, 23);
	CHECK_EQ(iam_bgp_header_check(m, (size_t)len, &type, &err), 23);
	CHECK_EQ(type, IAM_BGP_MSG_NOTIFICATION);
	CHECK(m[19] == 3 && m[20] == 11 && m[21] == 'a' && m[22] == 'b');
	/* data is capped to what fits in 4096 octets */
	{
		static uint8_t big[5000];

		len = iam_bgp_write_notification(m, sizeof(m), 3, 1, big,
						 sizeof(big));
		CHECK_EQ(len, 4096);
	}
}

TEST(keepalive_and_refresh)
{
	uint8_t m[64];
	struct iam_bgp_error err = { 0 };
	uint16_t afi;
	uint8_t sub, safi, type;

	CHECK_EQ(iam_bgp_write_keepalive(m, sizeof(m)), 19);
	CHECK_EQ(iam_bgp_header_check(m, 19, &type, &err), 19);
	CHECK_EQ(type, IAM_BGP_MSG_KEEPALIVE);
	CHECK_EQ(iam_bgp_write_keepalive(m, 18), -ENOSPC);

	CHECK_EQ(iam_bgp_write_route_refresh(m, sizeof(m), 2, 1), 23);
	CHECK_EQ(iam_bgp_header_check(m, 23, &type, &err), 23);
	CHECK_EQ(type, IAM_BGP_MSG_ROUTE_REFRESH);
	CHECK_EQ(iam_bgp_route_refresh_decode(m + 19, 4, &afi, &sub, &safi,
					      &err),
		 0);
	CHECK(afi == 2 && sub == 0 && safi == 1);
	/* RFC 7313 subtypes parse; the session ignores them */
	CHECK_EQ(iam_bgp_route_refresh_decode(B(0, 2, 1, 1), &afi, &sub, &safi,
					      &err),
		 0);
	CHECK_EQ(sub, 1);
	CHECK_EQ(iam_bgp_route_refresh_decode(B(0, 2, 0), &afi, &sub, &safi,
					      &err),
		 -EBADMSG);
	CHECK(err.code == 1 && err.subcode == 2);
	CHECK_EQ(iam_bgp_route_refresh_decode(B(0, 2, 0, 1, 0), &afi, &sub,
					      &safi, &err),
		 -EBADMSG);
}

TEST(msg_decode_dispatch)
{
	struct iam_bgp_sess s = { .as4 = true, .peer_as = 65001 };
	static struct iam_bgp_update u;
	struct iam_bgp_error err;
	struct iam_bgp_open o;
	uint8_t m[IAM_BGP_MAX_MSG];
	int n;

	n = iam_bgp_write_open(m, sizeof(m), 65001, 90, 1);
	CHECK_EQ(iam_bgp_msg_decode(m, (size_t)n, &s, &o, &u, &err),
		 IAM_BGP_MSG_OPEN);
	CHECK_EQ(iam_bgp_msg_decode(m, (size_t)n - 1, &s, &o, &u, &err),
		 -EAGAIN);
	m[20] = 3; /* version 3 parses; the session checks it */
	CHECK_EQ(iam_bgp_msg_decode(m, (size_t)n, &s, &o, &u, &err),
		 IAM_BGP_MSG_OPEN);
	n = iam_bgp_write_keepalive(m, sizeof(m));
	CHECK_EQ(iam_bgp_msg_decode(m, (size_t)n, &s, &o, &u, &err),
		 IAM_BGP_MSG_KEEPALIVE);
	m[18] = 7;
	CHECK_EQ(iam_bgp_msg_decode(m, (size_t)n, &s, &o, &u, &err), -EBADMSG);
	CHECK(err.code == 1 && err.subcode == 3);
	/* an UPDATE whose attribute length runs past the message */
	n = (int)mkmsg(m, IAM_BGP_MSG_UPDATE, B(0, 0, 0, 9, 0x40, 1, 1, 0));
	CHECK_EQ(iam_bgp_msg_decode(m, (size_t)n, &s, &o, &u, &err), -EBADMSG);
	CHECK(err.code == 3 && err.subcode == 1);
}

TEST(error_names)
{
	char b[96];

	CHECK_STR(iam_bgp_error_name(3, 11, b, sizeof(b)),
		  "UPDATE Message Error / Malformed AS_PATH");
	CHECK_STR(iam_bgp_error_name(6, 7, b, sizeof(b)),
		  "Cease / Connection Collision Resolution");
	CHECK_STR(iam_bgp_error_name(2, 5, b, sizeof(b)),
		  "OPEN Message Error / subcode 5");
	CHECK_STR(iam_bgp_error_name(42, 1, b, sizeof(b)),
		  "error 42 / subcode 1");
	CHECK_STR(iam_bgp_msg_name(5), "ROUTE-REFRESH");
	CHECK_STR(iam_bgp_msg_name(9), "unknown");
}

/* The fuzz seeds: every vector above as a whole message (see seed()). */
TEST(fuzz_seeds)
{
	uint8_t m[IAM_BGP_MAX_MSG + 64];
	char name[128];

	if (getenv("IAM_BGP_CORPUS"))
		mkdir(getenv("IAM_BGP_CORPUS"), 0755);
	else if (access("tests/fuzz/corpus/fuzz_bgp", R_OK))
		SKIP("run from the top of the tree to check the seeds");
	for (size_t i = 0; i < sizeof(hdr_vecs) / sizeof(hdr_vecs[0]); i++) {
		snprintf(name, sizeof(name), "hdr-%s", hdr_vecs[i].name);
		seed(name, hdr_vecs[i].m, hdr_vecs[i].len);
	}
	for (size_t i = 0; i < sizeof(open_vecs) / sizeof(open_vecs[0]); i++) {
		size_t n = mkmsg(m, IAM_BGP_MSG_OPEN, open_vecs[i].body,
				 open_vecs[i].len);

		seed(open_vecs[i].name, m, n);
	}
	seed("keepalive", m, (size_t)iam_bgp_write_keepalive(m, sizeof(m)));
	seed("route-refresh", m,
	     (size_t)iam_bgp_write_route_refresh(m, sizeof(m), 2, 1));
	seed("notification-shutdown", m,
	     mkmsg(m, IAM_BGP_MSG_NOTIFICATION, n_hello, sizeof(n_hello)));
	seed("notification-bare", m,
	     mkmsg(m, IAM_BGP_MSG_NOTIFICATION, B(4, 0)));
}
