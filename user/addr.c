// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * addr.c - FIG. 2 of US 11,675,510: block <-> IPv6 address, block sets <->
 * minimal prefix sets, and the text forms people type.  See iam_addr.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iam_addr.h"
#include "parse.h"

static bool shift_ok(unsigned shift)
{
	return shift >= IAM_BLOCK_SHIFT_MIN && shift <= IAM_BLOCK_SHIFT_MAX;
}

int iam_addr_space_init(struct iam_addr_space *s, const uint8_t net[6],
			uint32_t host, unsigned block_shift)
{
	if (!shift_ok(block_shift))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	memcpy(s->net, net, sizeof(s->net));
	s->host = host;
	s->block_shift = (uint8_t)block_shift;
	return 0;
}

/* Bytes 0-5 network, 6-9 host, 10-15 block address, all big-endian. */
static void build(const struct iam_addr_space *s, uint64_t block,
		  struct in6_addr *out)
{
	uint8_t *b = out->s6_addr;

	memcpy(b, s->net, 6);
	for (int i = 0; i < 4; i++)
		b[6 + i] = (uint8_t)(s->host >> (24 - 8 * i));
	for (int i = 0; i < 6; i++)
		b[10 + i] = (uint8_t)(block >> (40 - 8 * i));
}

int iam_addr_from_block(const struct iam_addr_space *s, uint64_t block,
			struct in6_addr *out)
{
	if (block > IAM_BLOCK_ADDR_MAX)
		return -ERANGE;
	build(s, block, out);
	return 0;
}

int iam_addr_encode(const struct iam_addr_space *s, uint64_t mem_addr,
		    struct in6_addr *out)
{
	if (!shift_ok(s->block_shift))
		return -EINVAL;
	if (mem_addr & ((1ull << s->block_shift) - 1))
		return -EINVAL;
	return iam_addr_from_block(s, mem_addr >> s->block_shift, out);
}

uint64_t iam_addr_block(const struct in6_addr *a)
{
	uint64_t v = 0;

	for (int i = 10; i < 16; i++)
		v = v << 8 | a->s6_addr[i];
	return v;
}

int iam_addr_decode(const struct in6_addr *a, unsigned block_shift,
		    struct iam_addr_space *s, uint64_t *mem_addr)
{
	uint64_t block = iam_addr_block(a);

	if (!shift_ok(block_shift))
		return -EINVAL;
	/* 48 + 21 bits can exceed a 64-bit address. */
	if (block >> (64 - block_shift))
		return -ERANGE;
	if (s) {
		memset(s, 0, sizeof(*s));
		memcpy(s->net, a->s6_addr, 6);
		s->host = (uint32_t)a->s6_addr[6] << 24 |
			  (uint32_t)a->s6_addr[7] << 16 |
			  (uint32_t)a->s6_addr[8] << 8 | a->s6_addr[9];
		s->block_shift = (uint8_t)block_shift;
	}
	if (mem_addr)
		*mem_addr = block << block_shift;
	return 0;
}

void iam_addr_ctrl(const struct iam_addr_space *s, struct in6_addr *out)
{
	build(s, IAM_CTRL_BLOCK_ADDR, out);
}

void iam_addr_node_prefix(const struct iam_addr_space *s,
			  struct iam_prefix *out)
{
	memset(out, 0, sizeof(*out));
	build(s, 0, &out->addr);
	out->len = IAM_NODE_PREFIX_LEN;
}

bool iam_addr_in_space(const struct iam_addr_space *s, const struct in6_addr *a)
{
	struct in6_addr n = { 0 };

	build(s, 0, &n);
	return !memcmp(n.s6_addr, a->s6_addr, IAM_NODE_PREFIX_LEN / 8);
}

/* ---- aggregation ---------------------------------------------------- */

/*
 * The largest aligned power-of-two piece that starts at pos and ends at
 * or before end: log2 of its size.  pos == 0 is aligned to everything, so
 * the cap is the 48-bit block field (one /80).
 */
static unsigned piece_order(uint64_t pos, uint64_t end)
{
	unsigned k = pos ? (unsigned)__builtin_ctzll(pos) : IAM_BLOCK_BITS;

	if (k > IAM_BLOCK_BITS)
		k = IAM_BLOCK_BITS;
	while ((1ull << k) > end - pos)
		k--;
	return k;
}

size_t iam_addr_run_prefixes(uint64_t first, uint64_t count)
{
	uint64_t pos = first, end = first + count;
	size_t n = 0;

	while (pos < end) {
		pos += 1ull << piece_order(pos, end);
		n++;
	}
	return n;
}

/*
 * Greedy left-to-right split of [first, first + count).  It is minimal:
 * any exact cover must contain a prefix that starts at pos; the greedy one
 * is the longest such, and every block it covers beyond a shorter choice
 * would otherwise need at least one more prefix (the standard CIDR range
 * argument; tests/unit/test_addr.c checks it against brute force).
 */
static void run_emit(const struct iam_addr_space *s, uint64_t first,
		     uint64_t count, struct iam_prefix *out, size_t max,
		     size_t *n)
{
	uint64_t pos = first, end = first + count;

	while (pos < end) {
		unsigned k = piece_order(pos, end);

		if (*n < max) {
			memset(&out[*n], 0, sizeof(out[*n]));
			build(s, pos, &out[*n].addr);
			out[*n].len = (uint8_t)(128 - k);
		}
		(*n)++;
		pos += 1ull << k;
	}
}

int iam_addr_aggregate_run(const struct iam_addr_space *s, uint64_t first,
			   uint64_t count, struct iam_prefix *out, size_t max,
			   size_t *nout)
{
	size_t n = 0;

	if (!count)
		return -EINVAL;
	if (first > IAM_BLOCK_ADDR_MAX || count > IAM_BLOCK_ADDR_MAX + 1 ||
	    first + count - 1 > IAM_BLOCK_ADDR_MAX)
		return -ERANGE;
	run_emit(s, first, count, out, max, &n);
	*nout = n;
	return n > max ? -ENOSPC : 0;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int iam_addr_aggregate(const struct iam_addr_space *s, uint64_t *blocks,
		       size_t n, struct iam_prefix *out, size_t max,
		       size_t *nout)
{
	size_t i, u = 0, np = 0;

	for (i = 0; i < n; i++)
		if (blocks[i] > IAM_BLOCK_ADDR_MAX)
			return -ERANGE;
	qsort(blocks, n, sizeof(*blocks), u64_cmp);
	for (i = 0; i < n; i++)
		if (!u || blocks[u - 1] != blocks[i])
			blocks[u++] = blocks[i];
	/* Maximal runs of consecutive blocks; no prefix can span a gap. */
	for (i = 0; i < u;) {
		size_t j = i + 1;

		while (j < u && blocks[j] == blocks[j - 1] + 1)
			j++;
		run_emit(s, blocks[i], j - i, out, max, &np);
		i = j;
	}
	*nout = np;
	return np > max ? -ENOSPC : 0;
}

static bool host_bits_clear(const struct in6_addr *a, unsigned len)
{
	for (unsigned bit = len; bit < 128; bit++)
		if (a->s6_addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

int iam_addr_prefix_blocks(const struct iam_prefix *p, uint64_t *first,
			   uint64_t *count)
{
	if (p->len < IAM_NODE_PREFIX_LEN || p->len > 128 ||
	    !host_bits_clear(&p->addr, p->len))
		return -EINVAL;
	*first = iam_addr_block(&p->addr);
	*count = 1ull << (128 - p->len);
	return 0;
}

/* ---- text ----------------------------------------------------------- */

void iam_addr_prefix_mask(struct iam_prefix *p)
{
	for (unsigned bit = p->len; bit < 128; bit++)
		p->addr.s6_addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
}

bool iam_addr_prefix_contains(const struct iam_prefix *p,
			      const struct in6_addr *a)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->len > 128)
		return false;
	if (memcmp(p->addr.s6_addr, a->s6_addr, full))
		return false;
	if (!rest)
		return true;
	return !((p->addr.s6_addr[full] ^ a->s6_addr[full]) &
		 (uint8_t)(0xff00 >> rest));
}

int iam_addr_prefix_parse(const char *str, struct iam_prefix *p)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash;
	size_t alen;
	unsigned len = 128;

	if (!str)
		return -EINVAL;
	slash = strchr(str, '/');
	alen = slash ? (size_t)(slash - str) : strlen(str);
	if (!alen || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, str, alen);
	buf[alen] = '\0';
	if (slash) {
		const char *d = slash + 1;

		/* Decimal only, no sign, no leading zeros beyond "0". */
		if (!isdigit((unsigned char)*d) || (d[0] == '0' && d[1]))
			return -EINVAL;
		len = 0;
		for (; *d; d++) {
			if (!isdigit((unsigned char)*d))
				return -EINVAL;
			len = len * 10 + (unsigned)(*d - '0');
			if (len > 999)
				return -ERANGE;
		}
		if (len > 128)
			return -ERANGE;
	}
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET6, buf, &p->addr) != 1)
		return -EINVAL;
	if (!host_bits_clear(&p->addr, len))
		return -EINVAL;
	p->len = (uint8_t)len;
	return 0;
}

const char *iam_addr_prefix_fmt(const struct iam_prefix *p, char *buf,
				size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(AF_INET6, &p->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

/*
 * Up to 'want' colon-separated groups of 1-4 hex digits filling the whole
 * string.  Returns the number of groups, or -EINVAL.
 */
static int hex_groups(const char *s, uint16_t *g, int want)
{
	int n = 0;

	for (;;) {
		unsigned v = 0, digits = 0;

		while (isxdigit((unsigned char)*s)) {
			if (++digits > 4)
				return -EINVAL;
			v = v << 4 |
			    (unsigned)(isdigit((unsigned char)*s) ?
					       *s - '0' :
					       (tolower(*s) - 'a' + 10));
			s++;
		}
		if (!digits || n == want)
			return -EINVAL;
		g[n++] = (uint16_t)v;
		if (!*s)
			return n;
		if (*s != ':')
			return -EINVAL;
		s++;
	}
}

int iam_addr_net_parse(const char *str, uint8_t net[6])
{
	struct iam_prefix p;
	uint16_t g[3];
	int err;

	if (!str)
		return -EINVAL;
	if (hex_groups(str, g, 3) == 3) {
		for (int i = 0; i < 3; i++) {
			net[2 * i] = (uint8_t)(g[i] >> 8);
			net[2 * i + 1] = (uint8_t)g[i];
		}
		return 0;
	}
	/* An address or /48 prefix whose bits past the network are zero. */
	err = iam_addr_prefix_parse(str, &p);
	if (err)
		return -EINVAL;
	if ((p.len != 128 && p.len != IAM_NET_BITS) ||
	    !host_bits_clear(&p.addr, IAM_NET_BITS))
		return -EINVAL;
	memcpy(net, p.addr.s6_addr, 6);
	return 0;
}

const char *iam_addr_net_fmt(const uint8_t net[6], char *buf, size_t len)
{
	snprintf(buf, len, "%x:%x:%x", net[0] << 8 | net[1],
		 net[2] << 8 | net[3], net[4] << 8 | net[5]);
	return buf;
}

int iam_addr_host_parse(const char *str, uint32_t *host)
{
	struct in_addr a4;
	uint16_t g[2];
	uint64_t v;

	if (!str || !*str)
		return -EINVAL;
	if (str[0] == '0' && (str[1] == 'x' || str[1] == 'X')) {
		int err = iam_parse_hex(str, 32, &v);

		if (err)
			return err;
		*host = (uint32_t)v;
		return 0;
	}
	if (strchr(str, '.')) {
		if (inet_pton(AF_INET, str, &a4) != 1)
			return -EINVAL;
		*host = ntohl(a4.s_addr);
		return 0;
	}
	if (hex_groups(str, g, 2) != 2)
		return -EINVAL;
	*host = (uint32_t)g[0] << 16 | g[1];
	return 0;
}

const char *iam_addr_host_fmt(uint32_t host, char *buf, size_t len)
{
	snprintf(buf, len, "%x:%x", host >> 16, host & 0xffff);
	return buf;
}

int iam_addr_block_size_parse(const char *str, unsigned *block_shift)
{
	uint64_t v;
	int err = iam_parse_size(str, &v);

	if (err)
		return err == -ERANGE ? -ERANGE : -EINVAL;
	if (!v || (v & (v - 1)))
		return -EINVAL;
	if (!shift_ok((unsigned)__builtin_ctzll(v)))
		return -ERANGE;
	*block_shift = (unsigned)__builtin_ctzll(v);
	return 0;
}
