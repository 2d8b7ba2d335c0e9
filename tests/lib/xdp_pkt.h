/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xdp_pkt.h - craft the frames that the XDP classifier's tests and its
 * benchmark feed to BPF_PROG_TEST_RUN: Ethernet, an optional VLAN tag,
 * IPv6 with a list of extension headers, then TCP, UDP (RoCEv2 BTH and its
 * extended headers), ICMPv6 or any other protocol, from one descriptive
 * struct.  Header-only: each user is one translation unit.
 */
#ifndef IAM_TEST_XDP_PKT_H
#define IAM_TEST_XDP_PKT_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#define XP_MAX_EXT 12
#define XP_FRAME_MAX 512

struct xp_spec {
	uint16_t vlan; /* TPID of one tag (0x8100, 0x88a8); 0: untagged */
	uint16_t vlan2; /* TPID of a second tag; 0: none */
	uint16_t ethertype; /* 0: IPv6 */
	uint8_t version; /* IP version nibble; 0: 6 */
	const char *src, *dst; /* IPv6 addresses */
	uint8_t ext[XP_MAX_EXT]; /* extension header types, in order */
	int next; /* how many of ext[] */
	uint16_t frag_off; /* fragment header's offset|M field, host order */
	uint8_t segleft; /* routing header's segments left */
	uint8_t proto; /* upper layer after the extension headers */
	uint16_t sport, dport; /* TCP or UDP */
	uint8_t icmp_type;
	int roce; /* UDP carries a BTH with this opcode... */
	uint8_t opcode;
	uint64_t va; /* ...and, for RETH/AtomicETH opcodes, this request */
	uint32_t dma_len;
};

static inline uint8_t *xp_put(uint8_t *p, const void *v, size_t n)
{
	memcpy(p, v, n);
	return p + n;
}

static inline uint8_t *xp_put16(uint8_t *p, uint16_t v)
{
	v = htons(v);
	return xp_put(p, &v, 2);
}

static inline uint8_t *xp_put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	return xp_put(p, &v, 4);
}

static inline uint8_t *xp_put64(uint8_t *p, uint64_t v)
{
	p = xp_put32(p, (uint32_t)(v >> 32));
	return xp_put32(p, (uint32_t)v);
}

/* Which extended headers a RoCE opcode carries after the BTH (IBA 9.2). */
static inline uint8_t *xp_roce(uint8_t *p, const struct xp_spec *s)
{
	uint8_t tr = s->opcode >> 5, op = s->opcode & 0x1f;
	uint8_t bth[12] = { s->opcode, 0, 0xff, 0xff, 0, 0, 0, 0x11 };

	p = xp_put(p, bth, sizeof(bth));
	if (tr == 2) /* RD: RDETH, DETH */
		p = xp_put(p, (uint8_t[12]){ 0 }, 12);
	else if (tr == 5) /* XRC: XRCETH */
		p = xp_put(p, (uint8_t[4]){ 0 }, 4);
	else if (tr != 0 && tr != 1)
		return xp_put(p, (uint8_t[8]){ 0 }, 8);
	if (op == 0x1C) /* FLUSH: FETH first */
		p = xp_put(p, (uint8_t[4]){ 0 }, 4);
	if (op == 0x06 || op == 0x0A || op == 0x0B || op == 0x0C ||
	    op == 0x1C || op == 0x1D) {
		p = xp_put64(p, s->va);
		p = xp_put32(p, 0x1234); /* rkey */
		p = xp_put32(p, s->dma_len);
	} else if (op == 0x13 || op == 0x14) {
		p = xp_put64(p, s->va);
		p = xp_put32(p, 0x1234);
		p = xp_put64(p, 1);
		p = xp_put64(p, 0);
	}
	if (op == 0x1D) /* ATOMIC WRITE payload */
		p = xp_put64(p, 42);
	return p;
}

/* Build the frame into buf (XP_FRAME_MAX bytes); returns its length. */
static inline size_t xp_build(const struct xp_spec *s, uint8_t *buf)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	uint8_t *p = buf, *ip, *l4;
	struct in6_addr a;

	memset(buf, 0, XP_FRAME_MAX);
	p = xp_put(p, macs, sizeof(macs));
	if (s->vlan) {
		p = xp_put16(p, s->vlan);
		p = xp_put16(p, 100);
	}
	if (s->vlan2) {
		p = xp_put16(p, s->vlan2);
		p = xp_put16(p, 200);
	}
	p = xp_put16(p, s->ethertype ? s->ethertype : 0x86DD);
	if (s->ethertype && s->ethertype != 0x86DD) {
		/* Some other protocol: 40 bytes of it. */
		memset(p, 0x45, 40);
		return (size_t)(p + 40 - buf);
	}
	ip = p;
	*p++ = (uint8_t)((s->version ? s->version : 6) << 4);
	p += 3; /* traffic class, flow label */
	p += 2; /* payload length, below */
	*p++ = s->next ? s->ext[0] : s->proto;
	*p++ = 64;
	inet_pton(AF_INET6, s->src, &a);
	p = xp_put(p, &a, 16);
	inet_pton(AF_INET6, s->dst, &a);
	p = xp_put(p, &a, 16);
	for (int i = 0; i < s->next; i++) {
		uint8_t nh = i + 1 < s->next ? s->ext[i + 1] : s->proto;
		switch (s->ext[i]) {
		case 0: /* hop-by-hop: PadN */
			p = xp_put(p, (uint8_t[8]){ nh, 0, 1, 4 }, 8);
			break;
		case 60: /* destination options, 16 bytes: PadN */
			p = xp_put(p, (uint8_t[16]){ nh, 1, 1, 12 }, 16);
			break;
		case 43: /* segment routing header with one segment */
			p = xp_put(p, (uint8_t[24]){ nh, 2, 4, s->segleft },
				   24);
			break;
		case 44: /* fragment */
			p = xp_put(p, (uint8_t[2]){ nh, 0 }, 2);
			p = xp_put16(p, s->frag_off);
			p = xp_put32(p, 0xabcd);
			break;
		case 51: /* AH, 24 bytes */
			p = xp_put(p, (uint8_t[24]){ nh, 4 }, 24);
			break;
		default: /* anything else: 8 bytes the classifier must not
			  * walk */
			p = xp_put(p, (uint8_t[8]){ nh, 0 }, 8);
		}
	}
	l4 = p;
	switch (s->proto) {
	case 6: /* TCP, 20 bytes, ACK */
		p = xp_put16(p, s->sport);
		p = xp_put16(p, s->dport);
		p = xp_put32(p, 1);
		p = xp_put32(p, 1);
		p = xp_put(p, (uint8_t[8]){ 0x50, 0x10, 0xff, 0xff }, 8);
		break;
	case 17: /* UDP */
		p = xp_put16(p, s->sport);
		p = xp_put16(p, s->dport);
		p += 4;
		if (s->roce)
			p = xp_roce(p, s);
		else
			p = xp_put(p, (uint8_t[8]){ 1, 2, 3 }, 8);
		xp_put16(l4 + 4, (uint16_t)(p - l4));
		break;
	case 58: /* ICMPv6, 8 bytes */
		p = xp_put(p, (uint8_t[8]){ s->icmp_type }, 8);
		break;
	default:
		p = xp_put(p, (uint8_t[8]){ 0 }, 8);
	}
	xp_put16(ip + 4, (uint16_t)(p - ip - 40));
	return (size_t)(p - buf);
}

#endif /* IAM_TEST_XDP_PKT_H */
