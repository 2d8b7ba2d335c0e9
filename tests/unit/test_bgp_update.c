// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Vector tests of UPDATE decoding (user/bgp/packets.c, attrs.c): every
 * path attribute we know in valid, short, long, truncated and empty forms,
 * with wrong flags and repeated, each with the RFC 7606 action it must get
 * (none, attribute discard, treat-as-withdraw, session reset with the
 * exact code/subcode); the UPDATE framing; AS4_PATH merging; and
 * encode/decode round trips of what we send.
 *
 * The vectors are also the fuzz seeds (tests/fuzz/corpus/fuzz_bgp/update-*):
 * fuzz_seeds checks them, and writes them with IAM_BGP_CORPUS=DIR.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "bgp/packets.h"
#include "bgp/rib.h"
#include "iam_test.h"

#define B(...) \
	(const uint8_t[]){ __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ })
#define BYTES(f, ...)                          \
	.f = (const uint8_t[]){ __VA_ARGS__ }, \
	.len = sizeof((uint8_t[]){ __VA_ARGS__ })

/* Sessions: four-octet AS or not, iBGP or eBGP, enforce-first-as. */
enum { S2 = 0, S4 = 1, SI = 2, SE = 4 };
enum {
	NONE = IAM_BGP_ACT_NONE,
	DISCARD = IAM_BGP_ACT_DISCARD,
	WITHDRAW = IAM_BGP_ACT_WITHDRAW,
	RESET = IAM_BGP_ACT_RESET
};

static struct iam_bgp_sess sess_of(unsigned f)
{
	return (struct iam_bgp_sess){ .as4 = f & S4,
				      .ibgp = f & SI,
				      .enforce_first_as = f & SE,
				      .peer_as = 65001 };
}

/* 2001:db8::1, fe80::1, 2001:db8:1::/48 */
#define NH6 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
#define LL6 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
#define NLRI48 0x30, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01
#define MPR 0x80, 14, 28, 0, 2, 1, 16, NH6, 0, NLRI48
#define MPR32 0x80, 14, 44, 0, 2, 1, 32, NH6, LL6, 0, NLRI48
#define ORG 0x40, 1, 1, 0
#define AS65001 0, 0, 0xfd, 0xe9
#define ASP4 0x40, 2, 6, 2, 1, AS65001
#define ASP2 0x40, 2, 4, 2, 1, 0xfd, 0xe9
#define GOOD MPR, ORG, ASP4
#define LC1 0, 0, 0xfd, 0xe9, 0, 0, 0, 2, 0, 0, 0, 7

static const struct upd_vec {
	const char *name;
	unsigned sess;
	int want;
	uint8_t code, subcode; /* RESET */
	const uint8_t *attrs; /* the path attribute section */
	size_t len;
} vecs[] = {
#define V(n, s, w, ...)                                                    \
	{                                                                  \
		.name = n, .sess = s, .want = w, BYTES(attrs, __VA_ARGS__) \
	}
#define R(n, s, c, sc, ...)                                                    \
	{                                                                      \
		.name = n, .sess = s, .want = RESET, .code = c, .subcode = sc, \
		BYTES(attrs, __VA_ARGS__)                                      \
	}
	V("upd-good", S4, NONE, GOOD),
	V("upd-good-nh32", S4, NONE, MPR32, ORG, ASP4),
	V("upd-mp-reach-last", S4, NONE, ORG, ASP4, MPR),
	V("upd-mp-reach-extlen", S4, NONE, 0x90, 14, 0, 28, 0, 2, 1, 16, NH6, 0,
	  NLRI48, ORG, ASP4),
	/* ORIGIN (RFC 7606 7.1) */
	V("origin-egp", S4, NONE, MPR, 0x40, 1, 1, 1, ASP4),
	V("origin-incomplete", S4, NONE, MPR, 0x40, 1, 1, 2, ASP4),
	V("origin-undefined", S4, WITHDRAW, MPR, 0x40, 1, 1, 3, ASP4),
	V("origin-empty", S4, WITHDRAW, MPR, 0x40, 1, 0, ASP4),
	V("origin-long", S4, WITHDRAW, MPR, 0x40, 1, 2, 0, 0, ASP4),
	V("origin-truncated", S4, WITHDRAW, MPR, ASP4, 0x40, 1, 1),
	V("origin-extlen", S4, NONE, MPR, 0x50, 1, 0, 1, 0, ASP4),
	V("origin-flag-optional", S4, WITHDRAW, MPR, 0xc0, 1, 1, 0, ASP4),
	V("origin-flag-not-transitive", S4, WITHDRAW, MPR, 0x00, 1, 1, 0, ASP4),
	V("origin-flag-partial", S4, NONE, MPR, 0x60, 1, 1, 0, ASP4),
	V("origin-missing", S4, WITHDRAW, MPR, ASP4),
	V("origin-repeated", S4, DISCARD, GOOD, 0x40, 1, 1, 7),
	/* AS_PATH (RFC 7606 7.2, RFC 7607, RFC 5065) */
	V("aspath-empty-ebgp", S4, NONE, MPR, ORG, 0x40, 2, 0),
	V("aspath-empty-enforced", S4 | SE, WITHDRAW, MPR, ORG, 0x40, 2, 0),
	V("aspath-first-as-enforced", S4 | SE, NONE, GOOD),
	V("aspath-first-as-wrong-enforced", S4 | SE, WITHDRAW, MPR, ORG, 0x40,
	  2, 6, 2, 1, 0, 0, 0xfd, 0xea),
	V("aspath-first-as-wrong-rs", S4, NONE, MPR, ORG, 0x40, 2, 6, 2, 1, 0,
	  0, 0xfd, 0xea),
	V("aspath-2octet", S2, NONE, MPR, ORG, ASP2),
	V("aspath-2octet-in-4octet-session", S4, WITHDRAW, MPR, ORG, ASP2),
	V("aspath-seg-empty", S4, WITHDRAW, MPR, ORG, 0x40, 2, 2, 2, 0),
	V("aspath-seg-overrun", S4, WITHDRAW, MPR, ORG, 0x40, 2, 6, 2, 2,
	  AS65001),
	V("aspath-underrun", S4, WITHDRAW, MPR, ORG, 0x40, 2, 7, 2, 1, AS65001,
	  2),
	V("aspath-seg-type-0", S4, WITHDRAW, MPR, ORG, 0x40, 2, 6, 0, 1,
	  AS65001),
	V("aspath-seg-type-5", S4, WITHDRAW, MPR, ORG, 0x40, 2, 6, 5, 1,
	  AS65001),
	V("aspath-as0", S4, WITHDRAW, MPR, ORG, 0x40, 2, 6, 2, 1, 0, 0, 0, 0),
	V("aspath-set", S4, NONE, MPR, ORG, 0x40, 2, 12, 2, 1, AS65001, 1, 1, 0,
	  0, 0xfd, 0xea),
	V("aspath-confed-ebgp", S4, WITHDRAW, MPR, ORG, 0x40, 2, 6, 3, 1,
	  AS65001),
	V("aspath-confed-ibgp", S4 | SI, NONE, MPR, ORG, 0x40, 2, 6, 3, 1,
	  AS65001),
	V("aspath-missing", S4, WITHDRAW, MPR, ORG),
	V("aspath-flag-optional", S4, WITHDRAW, MPR, ORG, 0xc0, 2, 6, 2, 1,
	  AS65001),
	V("aspath-truncated", S4, WITHDRAW, MPR, ORG, 0x40, 2, 6, 2, 1, 0),
	/* NEXT_HOP (RFC 7606 7.3); optional with MP_REACH only */
	V("nexthop-ok", S4, NONE, GOOD, 0x40, 3, 4, 192, 0, 2, 1),
	V("nexthop-short", S4, WITHDRAW, GOOD, 0x40, 3, 3, 192, 0, 2),
	V("nexthop-long", S4, WITHDRAW, GOOD, 0x40, 3, 5, 192, 0, 2, 1, 0),
	V("nexthop-empty", S4, WITHDRAW, GOOD, 0x40, 3, 0),
	V("nexthop-flag-optional", S4, WITHDRAW, GOOD, 0x80, 3, 4, 192, 0, 2,
	  1),
	/* MULTI_EXIT_DISC (RFC 7606 7.4) */
	V("med-ok", S4, NONE, GOOD, 0x80, 4, 4, 0, 0, 0, 5),
	V("med-short", S4, WITHDRAW, GOOD, 0x80, 4, 3, 0, 0, 5),
	V("med-long", S4, WITHDRAW, GOOD, 0x80, 4, 5, 0, 0, 0, 0, 5),
	V("med-empty", S4, WITHDRAW, GOOD, 0x80, 4, 0),
	V("med-flag-transitive", S4, WITHDRAW, GOOD, 0xc0, 4, 4, 0, 0, 0, 5),
	/* LOCAL_PREF (RFC 7606 7.5) */
	V("localpref-ibgp", S4 | SI, NONE, GOOD, 0x40, 5, 4, 0, 0, 0, 200),
	V("localpref-ibgp-short", S4 | SI, WITHDRAW, GOOD, 0x40, 5, 3, 0, 0,
	  200),
	V("localpref-ibgp-long", S4 | SI, WITHDRAW, GOOD, 0x40, 5, 5, 0, 0, 0,
	  0, 200),
	V("localpref-ibgp-empty", S4 | SI, WITHDRAW, GOOD, 0x40, 5, 0),
	V("localpref-ibgp-missing", S4 | SI, NONE, GOOD),
	V("localpref-ebgp", S4, DISCARD, GOOD, 0x40, 5, 4, 0, 0, 0, 200),
	V("localpref-ebgp-short", S4, DISCARD, GOOD, 0x40, 5, 3, 0, 0, 200),
	V("localpref-flag-optional", S4 | SI, WITHDRAW, GOOD, 0x80, 5, 4, 0, 0,
	  0, 200),
	/* ATOMIC_AGGREGATE (RFC 7606 7.6, 3 (f)) */
	V("atomic-ok", S4, NONE, GOOD, 0x40, 6, 0),
	V("atomic-long", S4, DISCARD, GOOD, 0x40, 6, 1, 0),
	V("atomic-flag-optional", S4, DISCARD, GOOD, 0xc0, 6, 0),
	V("atomic-truncated", S4, WITHDRAW, GOOD, 0x40, 6, 1),
	/* AGGREGATOR (RFC 7606 7.7, RFC 7607) */
	V("aggregator-as4", S4, NONE, GOOD, 0xc0, 7, 8, AS65001, 10, 0, 0, 1),
	V("aggregator-as4-short", S4, DISCARD, GOOD, 0xc0, 7, 6, 0xfd, 0xe9, 10,
	  0, 0, 1),
	V("aggregator-as2", S2, NONE, MPR, ORG, ASP2, 0xc0, 7, 6, 0xfd, 0xe9,
	  10, 0, 0, 1),
	V("aggregator-as2-long", S2, DISCARD, MPR, ORG, ASP2, 0xc0, 7, 8,
	  AS65001, 10, 0, 0, 1),
	V("aggregator-empty", S4, DISCARD, GOOD, 0xc0, 7, 0),
	V("aggregator-as0", S4, DISCARD, GOOD, 0xc0, 7, 8, 0, 0, 0, 0, 10, 0, 0,
	  1),
	V("aggregator-flag-wellknown", S4, DISCARD, GOOD, 0x40, 7, 8, AS65001,
	  10, 0, 0, 1),
	/* COMMUNITIES (RFC 7606 7.8) */
	V("community-one", S4, NONE, GOOD, 0xc0, 8, 4, 0xfd, 0xe9, 0, 1),
	V("community-two", S4, NONE, GOOD, 0xc0, 8, 8, 0xfd, 0xe9, 0, 1, 0xff,
	  0xff, 0xff, 0x01),
	V("community-empty", S4, WITHDRAW, GOOD, 0xc0, 8, 0),
	V("community-short", S4, WITHDRAW, GOOD, 0xc0, 8, 3, 0xfd, 0xe9, 0),
	V("community-long", S4, WITHDRAW, GOOD, 0xc0, 8, 5, 0xfd, 0xe9, 0, 1,
	  0),
	V("community-truncated", S4, WITHDRAW, GOOD, 0xc0, 8, 8, 0xfd, 0xe9),
	V("community-flag-not-transitive", S4, WITHDRAW, GOOD, 0x80, 8, 4, 0xfd,
	  0xe9, 0, 1),
	/* ORIGINATOR_ID (RFC 7606 7.9) */
	V("originator-ibgp", S4 | SI, NONE, GOOD, 0x80, 9, 4, 10, 0, 0, 9),
	V("originator-short", S4 | SI, WITHDRAW, GOOD, 0x80, 9, 3, 10, 0, 0),
	V("originator-long", S4 | SI, WITHDRAW, GOOD, 0x80, 9, 5, 10, 0, 0, 9,
	  0),
	V("originator-empty", S4 | SI, WITHDRAW, GOOD, 0x80, 9, 0),
	V("originator-ebgp", S4, DISCARD, GOOD, 0x80, 9, 4, 10, 0, 0, 9),
	/* CLUSTER_LIST (RFC 7606 7.10) */
	V("cluster-one", S4 | SI, NONE, GOOD, 0x80, 10, 4, 10, 0, 0, 9),
	V("cluster-two", S4 | SI, NONE, GOOD, 0x80, 10, 8, 10, 0, 0, 9, 10, 0,
	  0, 8),
	V("cluster-empty", S4 | SI, WITHDRAW, GOOD, 0x80, 10, 0),
	V("cluster-short", S4 | SI, WITHDRAW, GOOD, 0x80, 10, 6, 10, 0, 0, 9,
	  10, 0),
	V("cluster-ebgp", S4, DISCARD, GOOD, 0x80, 10, 4, 10, 0, 0, 9),
	/* MP_REACH_NLRI (RFC 4760 3, RFC 7606 7.11, RFC 2545 3) */
	R("mpreach-nh-15", S4, 3, 9, 0x80, 14, 27, 0, 2, 1, 15, 0x20, 0x01,
	  0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NLRI48, ORG, ASP4),
	R("mpreach-nh-17", S4, 3, 9, 0x80, 14, 29, 0, 2, 1, 17, NH6, 0, 0,
	  NLRI48, ORG, ASP4),
	R("mpreach-nh-0", S4, 3, 9, 0x80, 14, 12, 0, 2, 1, 0, 0, NLRI48, ORG,
	  ASP4),
	R("mpreach-truncated", S4, 3, 9, 0x80, 14, 10, 0, 2, 1, 16, 0x20, 0x01,
	  0x0d, 0xb8, 0, 0, ORG, ASP4),
	R("mpreach-empty", S4, 3, 9, 0x80, 14, 0, ORG, ASP4),
	R("mpreach-nlri-129", S4, 3, 9, 0x80, 14, 22, 0, 2, 1, 16, NH6, 0, 129,
	  ORG, ASP4),
	R("mpreach-nlri-overrun", S4, 3, 9, 0x80, 14, 25, 0, 2, 1, 16, NH6, 0,
	  64, 0x20, 0x01, 0x0d, ORG, ASP4),
	R("mpreach-twice", S4, 3, 1, GOOD, MPR),
	R("mpreach-flag-transitive", S4, 3, 4, 0xc0, 14, 28, 0, 2, 1, 16, NH6,
	  0, NLRI48, ORG, ASP4),
	R("mpreach-overruns-section", S4, 3, 1, 0x80, 14, 200, 0, 2, 1, 16, NH6,
	  0, NLRI48),
	V("mpreach-ipv4-ignored", S4, NONE, 0x80, 14, 13, 0, 1, 1, 4, 192, 0, 2,
	  1, 0, 0x18, 10, 0, 0),
	V("mpreach-no-nlri", S4, NONE, 0x80, 14, 21, 0, 2, 1, 16, NH6, 0),
	V("mpreach-multicast-nh", S4, WITHDRAW, 0x80, 14, 28, 0, 2, 1, 16, 0xff,
	  0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, NLRI48, ORG, ASP4),
	/* MP_UNREACH_NLRI (RFC 7606 7.12) */
	V("mpunreach-ok", S4, NONE, 0x80, 15, 10, 0, 2, 1, NLRI48),
	R("mpunreach-short", S4, 3, 9, 0x80, 15, 2, 0, 2),
	R("mpunreach-empty", S4, 3, 9, 0x80, 15, 0),
	R("mpunreach-nlri-overrun", S4, 3, 9, 0x80, 15, 5, 0, 2, 1, 48, 0x20),
	R("mpunreach-twice", S4, 3, 1, 0x80, 15, 3, 0, 2, 1, 0x80, 15, 3, 0, 2,
	  1),
	V("mpunreach-eor", S4, NONE, 0x80, 15, 3, 0, 2, 1),
	V("mpunreach-and-reach", S4, NONE, 0x80, 15, 10, 0, 2, 1, NLRI48, GOOD),
	V("mpunreach-ipv4-ignored", S4, NONE, 0x80, 15, 7, 0, 1, 1, 0x18, 10, 0,
	  0),
	/* EXTENDED COMMUNITIES (RFC 7606 7.14) */
	V("extcomm-ok", S4, NONE, GOOD, 0xc0, 16, 8, 0, 2, 0xfd, 0xe9, 0, 0, 0,
	  1),
	V("extcomm-empty", S4, WITHDRAW, GOOD, 0xc0, 16, 0),
	V("extcomm-short", S4, WITHDRAW, GOOD, 0xc0, 16, 7, 0, 2, 0xfd, 0xe9, 0,
	  0, 0),
	V("extcomm-long", S4, WITHDRAW, GOOD, 0xc0, 16, 9, 0, 2, 0xfd, 0xe9, 0,
	  0, 0, 1, 0),
	/* AS4_PATH, AS4_AGGREGATOR (RFC 6793 4.2.3, 6) */
	V("as4path-merge", S2, NONE, MPR, ORG, 0x40, 2, 6, 2, 2, 0x5b, 0xa0,
	  0xfd, 0xea, 0xc0, 17, 10, 2, 2, 0xfa, 0x56, 0xea, 0x00, 0, 0, 0xfd,
	  0xea),
	V("as4path-from-as4-peer", S4, DISCARD, GOOD, 0xc0, 17, 6, 2, 1,
	  AS65001),
	V("as4path-malformed", S2, DISCARD, MPR, ORG, ASP2, 0xc0, 17, 6, 2, 2,
	  AS65001),
	V("as4path-confed", S2, DISCARD, MPR, ORG, ASP2, 0xc0, 17, 6, 3, 1,
	  AS65001),
	V("as4path-as0", S2, DISCARD, MPR, ORG, ASP2, 0xc0, 17, 6, 2, 1, 0, 0,
	  0, 0),
	V("as4path-empty", S2, NONE, MPR, ORG, ASP2, 0xc0, 17, 0),
	V("as4path-longer-ignored", S2, NONE, MPR, ORG, ASP2, 0xc0, 17, 10, 2,
	  2, AS65001, 0, 0, 0xfd, 0xea),
	V("as4aggr-ok", S2, NONE, MPR, ORG, ASP2, 0xc0, 18, 8, AS65001, 10, 0,
	  0, 1),
	V("as4aggr-short", S2, DISCARD, MPR, ORG, ASP2, 0xc0, 18, 7, AS65001,
	  10, 0, 0),
	V("as4aggr-from-as4-peer", S4, DISCARD, GOOD, 0xc0, 18, 8, AS65001, 10,
	  0, 0, 1),
	/* LARGE_COMMUNITY (RFC 8092 6) */
	V("lcomm-one", S4, NONE, GOOD, 0xc0, 32, 12, LC1),
	V("lcomm-two", S4, NONE, GOOD, 0xc0, 32, 24, LC1, LC1),
	V("lcomm-empty", S4, WITHDRAW, GOOD, 0xc0, 32, 0),
	V("lcomm-short", S4, WITHDRAW, GOOD, 0xc0, 32, 11, 0, 0, 0xfd, 0xe9, 0,
	  0, 0, 2, 0, 0, 0),
	V("lcomm-long", S4, WITHDRAW, GOOD, 0xc0, 32, 13, LC1, 0),
	V("lcomm-truncated", S4, WITHDRAW, GOOD, 0xc0, 32, 24, LC1),
	V("lcomm-flag-wellknown", S4, WITHDRAW, GOOD, 0x40, 32, 12, LC1),
	V("lcomm-extlen", S4, NONE, GOOD, 0xd0, 32, 0, 12, LC1),
	/* unknown attributes (RFC 4271 5, 6.3) */
	V("unknown-optional-transitive", S4, NONE, GOOD, 0xc0, 99, 2, 1, 2),
	V("unknown-optional-nontransitive", S4, NONE, GOOD, 0x80, 99, 2, 1, 2),
	V("unknown-optional-empty", S4, NONE, GOOD, 0xc0, 99, 0),
	V("unknown-extlen", S4, NONE, GOOD, 0xd0, 99, 0, 2, 1, 2),
	V("unknown-repeated", S4, DISCARD, GOOD, 0xc0, 99, 1, 1, 0xc0, 99, 1,
	  2),
	R("unknown-wellknown", S4, 3, 2, GOOD, 0x40, 99, 1, 7),
	V("unknown-truncated", S4, WITHDRAW, GOOD, 0xc0, 99, 4, 1),
	/* damage in the attribute section (RFC 7606 4) */
	V("trailing-two-octets", S4, WITHDRAW, GOOD, 0x40, 1),
	V("trailing-one-octet", S4, WITHDRAW, GOOD, 0x40),
	V("extlen-header-truncated", S4, WITHDRAW, GOOD, 0x50, 1, 0),
	R("overrun-before-mpreach", S4, 3, 1, ORG, 0x40, 2, 50, 2, 1, AS65001,
	  MPR),
	/* several problems: the strongest wins (RFC 7606 3 (h)) */
	V("discard-and-withdraw", S4, WITHDRAW, MPR, 0x40, 1, 1, 5, ASP4, 0x40,
	  6, 1, 0),
	R("withdraw-and-reset", S4, 3, 2, MPR, 0x40, 1, 1, 5, ASP4, 0x40, 99,
	  0),
#undef V
#undef R
};

/* UPDATE bodies with their framing: Withdrawn Routes, lengths, IPv4. */
static const struct body_vec {
	const char *name;
	int want;
	uint8_t code, subcode;
	const uint8_t *body;
	size_t len;
} bodies[] = {
#define BV(n, w, c, sc, ...)                                    \
	{                                                       \
		.name = n, .want = w, .code = c, .subcode = sc, \
		BYTES(body, __VA_ARGS__)                        \
	}
	BV("body-minimal", NONE, 0, 0, 0, 0, 0, 0),
	BV("body-empty", RESET, 3, 1),
	BV("body-one-octet", RESET, 3, 1, 0),
	BV("withdrawn-length-long", RESET, 3, 1, 0, 10, 0, 0),
	BV("attr-length-long", RESET, 3, 1, 0, 0, 0, 10, ORG),
	BV("attr-length-missing", RESET, 3, 1, 0, 0, 0),
	BV("ipv4-nlri-33", RESET, 3, 10, 0, 0, 0, 0, 33, 1, 2, 3, 4, 5),
	BV("ipv4-nlri-overrun", RESET, 3, 10, 0, 0, 0, 0, 24, 10, 0),
	BV("ipv4-withdrawn-bad", RESET, 3, 10, 0, 2, 24, 10, 0, 0),
	BV("ipv4-withdrawn-ok", NONE, 0, 0, 0, 4, 24, 10, 0, 0, 0, 0),
	BV("ipv4-nlri-with-nexthop", NONE, 0, 0, 0, 0, 0, 20, ORG, ASP4, 0x40,
	   3, 4, 10, 0, 0, 1, 24, 10, 0, 0),
	BV("ipv4-nlri-without-nexthop", WITHDRAW, 0, 0, 0, 0, 0, 13, ORG, ASP4,
	   24, 10, 0, 0),
#undef BV
};

static size_t mkupdate(uint8_t *out, const uint8_t *attrs, size_t len)
{
	memset(out, 0xff, 16);
	iam_put16(out + 16, (uint16_t)(len + 23));
	out[18] = IAM_BGP_MSG_UPDATE;
	iam_put16(out + 19, 0);
	iam_put16(out + 21, (uint16_t)len);
	memcpy(out + 23, attrs, len);
	return len + 23;
}

static struct iam_bgp_update u;

/* The decoded spans point into body: it must outlive u. */
static uint8_t body[IAM_BGP_MAX_MSG];

static int decode(const uint8_t *attrs, size_t len, unsigned sess)
{
	struct iam_bgp_sess s = sess_of(sess);

	iam_put16(body, 0);
	iam_put16(body + 2, (uint16_t)len);
	memcpy(body + 4, attrs, len);
	return iam_bgp_update_decode(body, len + 4, &s, &u);
}

static const char *act_name(int a)
{
	static const char *const n[] = { "none", "discard", "withdraw",
					 "reset" };

	return a >= 0 && a <= 3 ? n[a] : "?";
}

TEST(attribute_vectors)
{
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct upd_vec *v = &vecs[i];
		int r = decode(v->attrs, v->len, v->sess);

		CHECK_MSG(u.action == (enum iam_bgp_action)v->want,
			  "%s: action %s, want %s (%s)", v->name,
			  act_name(u.action), act_name(v->want), u.reason);
		CHECK_MSG((r == -EBADMSG) == (v->want == RESET),
			  "%s: returned %d", v->name, r);
		if (v->want == RESET)
			CHECK_MSG(u.err.code == v->code &&
					  u.err.subcode == v->subcode,
				  "%s: NOTIFICATION %u/%u, want %u/%u (%s)",
				  v->name, u.err.code, u.err.subcode, v->code,
				  v->subcode, u.reason);
		if (v->want != NONE)
			CHECK_MSG(u.reason[0], "%s: no reason given", v->name);
	}
}

TEST(body_vectors)
{
	struct iam_bgp_sess s = sess_of(S4);

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		const struct body_vec *v = &bodies[i];

		iam_bgp_update_decode(v->body, v->len, &s, &u);
		CHECK_MSG(u.action == (enum iam_bgp_action)v->want,
			  "%s: action %s, want %s (%s)", v->name,
			  act_name(u.action), act_name(v->want), u.reason);
		if (v->want == RESET)
			CHECK_MSG(u.err.code == v->code &&
					  u.err.subcode == v->subcode,
				  "%s: NOTIFICATION %u/%u, want %u/%u", v->name,
				  u.err.code, u.err.subcode, v->code,
				  v->subcode);
	}
}

TEST(good_update_values)
{
	struct iam_bgp_nlri_it it;
	struct iam_bgp_prefix p;
	char s[64];

	REQUIRE_EQ(decode(B(MPR32, ORG, ASP4, 0x80, 4, 4, 0, 0, 0, 5, 0xc0, 32,
			    24, LC1, LC1),
			  S4),
		   0);
	CHECK_EQ(u.action, NONE);
	CHECK(u.a.mp_reach && !u.a.mp_unreach && !u.eor);
	CHECK_EQ(u.a.nh_len, 32);
	inet_ntop(AF_INET6, &u.a.nh, s, sizeof(s));
	CHECK_STR(s, "2001:db8::1");
	inet_ntop(AF_INET6, &u.a.nh_ll, s, sizeof(s));
	CHECK_STR(s, "fe80::1");
	CHECK_EQ(u.a.med, 5);
	CHECK_EQ(u.a.origin, 0);
	CHECK_EQ(iam_bgp_aspath_hops(u.a.aspath, u.a.aspath_len), 1);
	CHECK_EQ(iam_bgp_aspath_first(u.a.aspath, u.a.aspath_len), 65001);
	CHECK_EQ(u.a.lcomm.len, 24);
	iam_bgp_nlri_begin(&it, &u.a.reach);
	REQUIRE(iam_bgp_nlri_next(&it, &p));
	CHECK_STR(iam_bgp_prefix_str(&p, s, sizeof(s)), "2001:db8:1::/48");
	CHECK(!iam_bgp_nlri_next(&it, &p));
}

TEST(problem_details)
{
	/* 3/2 carries the whole unrecognized attribute (RFC 4271 6.3) */
	decode(B(GOOD, 0x40, 99, 1, 7), S4);
	CHECK(u.err.len == 4 && u.err.data[0] == 0x40 && u.err.data[1] == 99 &&
	      u.err.data[2] == 1 && u.err.data[3] == 7);
	/* the discarded attribute leaves the rest in place */
	decode(B(GOOD, 0x40, 5, 4, 0, 0, 0, 200), S4);
	CHECK_EQ(u.action, DISCARD);
	CHECK_EQ(u.discarded, 1);
	CHECK(u.a.mp_reach);
	/* eBGP LOCAL_PREF is not taken; iBGP without it gets 100 */
	CHECK_EQ(u.a.local_pref, 0);
	decode(B(GOOD), S4 | SI);
	CHECK_EQ(u.a.local_pref, 100);
	/* a repeated attribute: the first one counts (RFC 7606 3 (g)) */
	decode(B(GOOD, 0x40, 1, 1, 2), S4);
	CHECK_EQ(u.a.origin, 0);
	/* End-of-RIB is only the bare MP_UNREACH */
	decode(B(0x80, 15, 3, 0, 2, 1), S4);
	CHECK(u.eor);
	decode(B(0x80, 15, 3, 0, 2, 1, ORG), S4);
	CHECK(!u.eor);
	/* unknown optional transitive attributes are kept whole */
	decode(B(GOOD, 0xc0, 99, 2, 1, 2, 0x80, 98, 1, 1), S4);
	CHECK_EQ(u.a.nunknown, 1);
	CHECK(u.a.unknown[0].len == 5 && u.a.unknown[0].p[1] == 99);
}

TEST(as4_path_merge)
{
	char s[128];

	/* AS_PATH 23456 65002, AS4_PATH 4200000000 65002 */
	decode(B(MPR, ORG, 0x40, 2, 6, 2, 2, 0x5b, 0xa0, 0xfd, 0xea, 0xc0, 17,
		 10, 2, 2, 0xfa, 0x56, 0xea, 0x00, 0, 0, 0xfd, 0xea),
	       S2);
	CHECK_STR(iam_bgp_aspath_str(u.a.aspath, u.a.aspath_len, s, sizeof(s)),
		  "4200000000 65002");
	/* a longer AS_PATH keeps its leading ASes: 65010 23456 + AS4 */
	decode(B(MPR, ORG, 0x40, 2, 8, 2, 3, 0xfd, 0xf2, 0x5b, 0xa0, 0xfd, 0xea,
		 0xc0, 17, 10, 2, 2, 0xfa, 0x56, 0xea, 0x00, 0, 0, 0xfd, 0xea),
	       S2);
	CHECK_STR(iam_bgp_aspath_str(u.a.aspath, u.a.aspath_len, s, sizeof(s)),
		  "65010 4200000000 65002");
	CHECK_EQ(iam_bgp_aspath_hops(u.a.aspath, u.a.aspath_len), 3);
	CHECK_EQ(iam_bgp_aspath_origin(u.a.aspath, u.a.aspath_len), 65002);
	/* AS4_PATH longer than AS_PATH: ignored */
	decode(B(MPR, ORG, ASP2, 0xc0, 17, 10, 2, 2, AS65001, 0, 0, 0xfd, 0xea),
	       S2);
	CHECK_STR(iam_bgp_aspath_str(u.a.aspath, u.a.aspath_len, s, sizeof(s)),
		  "65001");
	/* AGGREGATOR with a real AS beside AS4_AGGREGATOR: AS4 ignored */
	decode(B(MPR, ORG, 0x40, 2, 4, 2, 1, 0x5b, 0xa0, 0xc0, 7, 6, 0xfd, 0xe9,
		 10, 0, 0, 1, 0xc0, 17, 6, 2, 1, 0xfa, 0x56, 0xea, 0x00, 0xc0,
		 18, 8, 0xfa, 0x56, 0xea, 0x00, 10, 0, 0, 1),
	       S2);
	CHECK_STR(iam_bgp_aspath_str(u.a.aspath, u.a.aspath_len, s, sizeof(s)),
		  "23456");
	/* with AS_TRANS in AGGREGATOR the AS4 values are used */
	decode(B(MPR, ORG, 0x40, 2, 4, 2, 1, 0x5b, 0xa0, 0xc0, 7, 6, 0x5b, 0xa0,
		 10, 0, 0, 1, 0xc0, 17, 6, 2, 1, 0xfa, 0x56, 0xea, 0x00, 0xc0,
		 18, 8, 0xfa, 0x56, 0xea, 0x00, 10, 0, 0, 1),
	       S2);
	CHECK_STR(iam_bgp_aspath_str(u.a.aspath, u.a.aspath_len, s, sizeof(s)),
		  "4200000000");
	CHECK_EQ(u.a.aggr_as, 4200000000u);
}

TEST(aspath_text)
{
	static const uint8_t p[] = { 2, 2, 0, 0, 0, 1, 0, 0, 0, 2, 1,
				     2, 0, 0, 0, 3, 0, 0, 0, 4, 3, 1,
				     0, 0, 0, 5, 4, 1, 0, 0, 0, 6 };
	char s[64];

	CHECK_STR(iam_bgp_aspath_str(p, sizeof(p), s, sizeof(s)),
		  "1 2 {3 4} (5) [6]");
	CHECK_EQ(iam_bgp_aspath_hops(p, sizeof(p)), 3);
	CHECK_EQ(iam_bgp_aspath_origin(p, sizeof(p)), 0);
	CHECK(iam_bgp_aspath_contains(p, sizeof(p), 4));
	CHECK(!iam_bgp_aspath_contains(p, sizeof(p), 7));
	CHECK_STR(iam_bgp_aspath_str(p, sizeof(p), s, 10), "1 2 ...");
	{
		uint32_t f[8];

		CHECK_EQ(iam_bgp_aspath_flatten(p, sizeof(p), f, 8), 6);
		CHECK(f[0] == 1 && f[2] == 3 && f[5] == 6);
		CHECK_EQ(iam_bgp_aspath_flatten(p, sizeof(p), f, 3), 3);
	}
	CHECK_STR(iam_bgp_aspath_str(p, 0, s, sizeof(s)), "");
}

TEST(nlri_syntax)
{
	struct iam_bgp_span sp;
	struct iam_bgp_nlri_it it;
	struct iam_bgp_prefix p;
	char s[64];
	/* /33 with junk in the trailing bits, /0, /128 */
	static const uint8_t n[] = { 33,   0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 128,
				     0x20, 0x01, 0x0d, 0xb8, 0,	   0,	 0, 0,
				     0,	   0,	 0,    0,    0,	   0,	 0, 1 };

	CHECK_EQ(iam_bgp_nlri_check(n, sizeof(n), 128), 3);
	CHECK_EQ(iam_bgp_nlri_check(n, sizeof(n) - 1, 128), -EBADMSG);
	CHECK_EQ(iam_bgp_nlri_check(B(129), 128), -EBADMSG);
	CHECK_EQ(iam_bgp_nlri_check(B(33, 1, 2, 3, 4, 5), 32), -EBADMSG);
	CHECK_EQ(iam_bgp_nlri_check(NULL, 0, 128), 0);
	sp.p = n;
	sp.len = sizeof(n);
	iam_bgp_nlri_begin(&it, &sp);
	REQUIRE(iam_bgp_nlri_next(&it, &p));
	CHECK_STR(iam_bgp_prefix_str(&p, s, sizeof(s)), "2001:db8:8000::/33");
	REQUIRE(iam_bgp_nlri_next(&it, &p));
	CHECK_STR(iam_bgp_prefix_str(&p, s, sizeof(s)), "::/0");
	REQUIRE(iam_bgp_nlri_next(&it, &p));
	CHECK_STR(iam_bgp_prefix_str(&p, s, sizeof(s)), "2001:db8::1/128");
	CHECK(!iam_bgp_nlri_next(&it, &p));
}

/* What we send decodes to what we meant, for each kind of peer. */
TEST(announce_roundtrip)
{
	struct iam_bgp_lcomm lc[3] = { { 4200000000u, 1, 16384 },
				       { 4200000000u, 2, 1000 },
				       { 4200000000u, 3, 16 } };
	struct iam_bgp_prefix pfx[2];
	struct iam_bgp_out_attrs a = {
		.local_as = 4200000000u,
		.local_pref = 100,
		.lcomm = lc,
		.nlcomm = 3,
	};
	uint8_t m[IAM_BGP_MAX_MSG];
	struct iam_bgp_error err;
	struct iam_bgp_nlri_it it;
	struct iam_bgp_prefix p;
	struct iam_bgp_path *path;
	char s[64];
	uint8_t type;
	int n;

	inet_pton(AF_INET6, "2001:db8:1::", &pfx[0].addr);
	pfx[0].len = 48;
	inet_pton(AF_INET6, "2001:db8:2::1", &pfx[1].addr);
	pfx[1].len = 128;
	inet_pton(AF_INET6, "2001:db8::7", &a.nh);
	inet_pton(AF_INET6, "fe80::7", &a.nh_ll);
	for (unsigned kind = 0; kind < 3; kind++) {
		struct iam_bgp_sess sess = { .peer_as = 4200000000u };

		a.ibgp = kind == 0;
		a.as4 = kind != 2;
		a.has_nh_ll = kind == 1;
		sess.ibgp = a.ibgp;
		sess.as4 = a.as4;
		n = iam_bgp_write_announce(m, sizeof(m), &a, pfx, 2);
		REQUIRE(n > 0);
		CHECK_EQ(iam_bgp_header_check(m, (size_t)n, &type, &err), n);
		REQUIRE_EQ(iam_bgp_update_decode(m + 19, (size_t)n - 19, &sess,
						 &u),
			   0);
		CHECK_MSG(u.action == IAM_BGP_ACT_NONE, "kind %u: %s", kind,
			  u.reason);
		CHECK_EQ(u.a.nh_len, kind == 1 ? 32 : 16);
		CHECK(!memcmp(&u.a.nh, &a.nh, 16));
		iam_bgp_nlri_begin(&it, &u.a.reach);
		REQUIRE(iam_bgp_nlri_next(&it, &p));
		CHECK(iam_bgp_prefix_eq(&p, &pfx[0]));
		REQUIRE(iam_bgp_nlri_next(&it, &p));
		CHECK(iam_bgp_prefix_eq(&p, &pfx[1]));
		/* MP_REACH_NLRI first (RFC 7606 5.1) */
		CHECK_EQ(m[23 + 1], IAM_BGP_A_MP_REACH);
		path = iam_bgp_path_new(&u.a, a.ibgp, 4200000000u);
		REQUIRE(path);
		CHECK_EQ(path->nlcomm, 3);
		CHECK(!memcmp(path->lcomm, lc, sizeof(lc)));
		CHECK_EQ(path->hops, a.ibgp ? 0 : 1);
		CHECK_EQ(path->origin_as, 4200000000u);
		CHECK_EQ(path->local_pref, 100);
		if (kind == 2) /* AS_TRANS + AS4_PATH (RFC 6793 4.2.2) */
			CHECK(iam_bgp_attr_seen(&u.a, IAM_BGP_A_AS4_PATH));
		iam_bgp_path_put(path);
	}
	/* Extended Length for a long MP_REACH_NLRI */
	{
		static struct iam_bgp_prefix many[40];

		for (int i = 0; i < 40; i++) {
			inet_pton(AF_INET6, "2001:db8::", &many[i].addr);
			many[i].addr.s6_addr[15] = (uint8_t)i;
			many[i].len = 128;
		}
		a.ibgp = false;
		a.as4 = true;
		n = iam_bgp_write_announce(m, sizeof(m), &a, many, 40);
		REQUIRE(n > 0);
		CHECK(m[23] & IAM_BGP_AF_EXTLEN);
		struct iam_bgp_sess sess = { .as4 = true };
		REQUIRE_EQ(iam_bgp_update_decode(m + 19, (size_t)n - 19, &sess,
						 &u),
			   0);
		CHECK_EQ(iam_bgp_nlri_check(u.a.reach.p, u.a.reach.len, 128),
			 40);
		/* too many for one message */
		static struct iam_bgp_prefix lots[300];

		for (int i = 0; i < 300; i++)
			lots[i].len = 128;
		CHECK_EQ(iam_bgp_write_announce(m, sizeof(m), &a, lots, 300),
			 -EMSGSIZE);
	}
	/* withdrawal and End-of-RIB */
	n = iam_bgp_write_withdraw(m, sizeof(m), pfx, 2);
	REQUIRE(n > 0);
	{
		struct iam_bgp_sess sess = { .as4 = true };

		REQUIRE_EQ(iam_bgp_update_decode(m + 19, (size_t)n - 19, &sess,
						 &u),
			   0);
		CHECK(u.a.mp_unreach && !u.a.mp_reach && !u.eor);
		CHECK_EQ(iam_bgp_nlri_check(u.a.unreach.p, u.a.unreach.len,
					    128),
			 2);
		n = iam_bgp_write_withdraw(m, sizeof(m), NULL, 0);
		REQUIRE_EQ(iam_bgp_update_decode(m + 19, (size_t)n - 19, &sess,
						 &u),
			   0);
		CHECK(u.eor);
	}
	iam_bgp_prefix_str(&pfx[0], s, sizeof(s));
	CHECK_STR(s, "2001:db8:1::/48");
}

TEST(path_keeps_unknown_and_dedups)
{
	struct iam_bgp_path *p;

	decode(B(GOOD, 0xc0, 32, 36, LC1, LC1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
		 1, 0xc0, 99, 2, 1, 2, 0xc0, 8, 4, 0xfd, 0xe9, 0, 1),
	       S4);
	REQUIRE_EQ(u.action, NONE);
	p = iam_bgp_path_new(&u.a, false, 65009);
	REQUIRE(p);
	/* RFC 8092 5: duplicates ignored */
	CHECK_EQ(p->nlcomm, 2);
	CHECK_EQ(p->lcomm[0].global, 65001);
	CHECK_EQ(p->lcomm[0].local1, 2);
	CHECK_EQ(p->lcomm[0].local2, 7);
	CHECK_EQ(p->ncomm, 1);
	CHECK_EQ(p->comm[0], 0xfde90001u);
	/* kept with the Partial bit set (RFC 4271 5) */
	CHECK_EQ(p->unknown_len, 5);
	CHECK_EQ(p->unknown[0], 0xc0 | IAM_BGP_AF_PARTIAL);
	CHECK_EQ(p->local_pref, 100);
	CHECK_EQ(p->neighbor_as, 65001);
	iam_bgp_path_put(p);
}

/* The fuzz seeds: written to IAM_BGP_CORPUS=DIR, else the committed
 * ones must be exactly these vectors. */
static void seed(const char *name, const uint8_t *m, size_t len)
{
	const char *dir = getenv("IAM_BGP_CORPUS");
	uint8_t old[IAM_BGP_MAX_MSG + 64];
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/update-%s",
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

TEST(fuzz_seeds)
{
	uint8_t m[IAM_BGP_MAX_MSG + 64];

	if (getenv("IAM_BGP_CORPUS"))
		mkdir(getenv("IAM_BGP_CORPUS"), 0755);
	else if (access("tests/fuzz/corpus/fuzz_bgp", R_OK))
		SKIP("run from the top of the tree to check the seeds");
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
		seed(vecs[i].name, m, mkupdate(m, vecs[i].attrs, vecs[i].len));
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		size_t n = bodies[i].len + 19;

		memset(m, 0xff, 16);
		iam_put16(m + 16, (uint16_t)n);
		m[18] = IAM_BGP_MSG_UPDATE;
		memcpy(m + 19, bodies[i].body, bodies[i].len);
		seed(bodies[i].name, m, n);
	}
}
