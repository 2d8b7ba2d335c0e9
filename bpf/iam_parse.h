/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * iam_parse.h - bounded packet reading for the XDP programs, in the manner
 * of xdp-tools' parsing_helpers.h: a cursor over [data, data_end) that
 * hands out a header only after checking the whole header lies inside the
 * packet.  Nothing here reads a byte it has not bounds-checked, so the
 * verifier accepts every path and a short packet is just a NULL.
 *
 * Wire constants the kernel headers keep in macros (which vmlinux.h cannot
 * carry) are defined here.
 */
#ifndef IAM_PARSE_H
#define IAM_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define IAM_ETH_P_IPV6 0x86DD
#define IAM_ETH_P_8021Q 0x8100 /* IEEE 802.1Q customer VLAN tag */
#define IAM_ETH_P_8021AD 0x88A8 /* IEEE 802.1ad service VLAN tag */

/* IPv6 next-header values (IANA "Assigned Internet Protocol Numbers"). */
#define IAM_IPPROTO_HOPOPTS 0
#define IAM_IPPROTO_TCP 6
#define IAM_IPPROTO_UDP 17
#define IAM_IPPROTO_ROUTING 43
#define IAM_IPPROTO_FRAGMENT 44
#define IAM_IPPROTO_ESP 50
#define IAM_IPPROTO_AH 51
#define IAM_IPPROTO_ICMPV6 58
#define IAM_IPPROTO_NONE 59
#define IAM_IPPROTO_DSTOPTS 60

/* How many extension headers the classifier walks before giving up.  RFC
 * 8200, section 4.1 allows each kind once (destination options twice),
 * plus AH: seven in a well-formed packet. */
#ifndef IAM_EXT_MAX
#define IAM_EXT_MAX 8
#endif

struct iam_vlan_hdr {
	__be16 tci; /* priority, DEI, VLAN id */
	__be16 proto; /* EtherType of what follows */
};

/* Extension headers are read as bytes (see iam_skip_ext()): byte 0 is
 * the next header everywhere; byte 1 the length (hop-by-hop, routing and
 * destination options: 8-octet units past the first 8, RFC 8200 sections
 * 4.3-4.6; AH: 4-octet units minus 2, RFC 4302 section 2.2); routing
 * headers keep segments left in byte 3; fragment headers their offset and
 * M flag in bytes 2-3. */

/* RFC 8200, section 4.5. */
struct iam_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-octet units << 3 | res(2) | M(1) */
	__be32 id;
};
#define IAM_FRAG_OFFSET_MORE 0xFFF9 /* offset bits and the M flag */

/* RFC 4443, section 2.1: the part of every ICMPv6 message read here. */
struct iam_icmp6_hdr {
	__u8 type; /* < 128 error messages, >= 128 informational */
	__u8 code;
	__be16 cksum;
};
#define IAM_ICMP6_ECHO_REQUEST 128
#define IAM_ICMP6_ECHO_REPLY 129
#define IAM_ICMP6_ND_FIRST 133 /* router solicitation (RFC 4861, 4.1) */
#define IAM_ICMP6_ND_LAST 137 /* redirect (RFC 4861, 4.5) */

struct iam_cursor {
	void *pos;
	void *end;
};

/* len bytes at the cursor, and the cursor moved past them; NULL (cursor
 * unchanged) if the packet ends first.  len may vary at run time as long
 * as the verifier knows a bound for it. */
static __always_inline void *iam_pull(struct iam_cursor *c, __u32 len)
{
	void *p = c->pos;

	if (p + len > c->end)
		return NULL;
	c->pos = p + len;
	return p;
}

#define IAM_PULL(c, type) ((type *)iam_pull((c), sizeof(type)))

#endif /* IAM_PARSE_H */
