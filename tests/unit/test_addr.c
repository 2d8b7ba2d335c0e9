// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the Address Manager's pure half (user/addr.c): the FIG. 2
 * encoding, aggregation (against brute force), and the text forms.
 */
#include <arpa/inet.h>

#include "iam_addr.h"
#include "iam_test.h"

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct iam_addr_space patent_space(void)
{
	static const uint8_t net[6] = { 0x20, 0x01, 0xdb, 0x80, 0x80, 0x00 };
	struct iam_addr_space s;

	REQUIRE_EQ(iam_addr_space_init(&s, net, 0xc0a8a010, 16), 0);
	return s;
}

static const char *ntop(const struct in6_addr *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

/* US 11,675,510, FIG. 2, both ways. */
TEST(patent_vector)
{
	struct iam_addr_space s = patent_space(), d;
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a, want;
	uint64_t mem;

	REQUIRE_EQ(iam_addr_encode(&s, 0x0000b8a038640000ull, &a), 0);
	CHECK_STR(ntop(&a, buf), "2001:db80:8000:c0a8:a010:0:b8a0:3864");
	REQUIRE_EQ(inet_pton(AF_INET6,
			     "2001:db80:8000:c0a8:a010:0000:b8a0:3864", &want),
		   1);
	CHECK(!memcmp(&a, &want, sizeof(a)));
	CHECK_EQ(iam_addr_block(&a), 0xb8a03864);

	REQUIRE_EQ(iam_addr_decode(&want, 16, &d, &mem), 0);
	CHECK_EQ(mem, 0x0000b8a038640000ull);
	CHECK(!memcmp(d.net, s.net, 6));
	CHECK_EQ(d.host, 0xc0a8a010);
	CHECK_EQ(d.block_shift, 16);
}

TEST(encode_errors)
{
	struct iam_addr_space s = patent_space();
	struct in6_addr a;

	/* Unaligned: one byte, and one 4K page into a 64K block. */
	CHECK_EQ(iam_addr_encode(&s, 0xb8a038640001ull, &a), -EINVAL);
	CHECK_EQ(iam_addr_encode(&s, 0xb8a038641000ull, &a), -EINVAL);
	s.block_shift = 11;
	CHECK_EQ(iam_addr_encode(&s, 0, &a), -EINVAL);
	s.block_shift = 22;
	CHECK_EQ(iam_addr_encode(&s, 0, &a), -EINVAL);
	/* 4K blocks: addresses from 2^60 up need more than 48 bits. */
	s.block_shift = 12;
	CHECK_EQ(iam_addr_encode(&s, 1ull << 60, &a), -ERANGE);
	CHECK_EQ(iam_addr_encode(&s, (1ull << 60) - 4096, &a), 0);
	CHECK_EQ(iam_addr_block(&a), IAM_BLOCK_ADDR_MAX);
	CHECK_EQ(iam_addr_from_block(&s, IAM_BLOCK_ADDR_MAX + 1, &a), -ERANGE);
	CHECK_EQ(iam_addr_space_init(&s, s.net, 1, 23), -EINVAL);
}

TEST(decode_range)
{
	struct in6_addr a;
	uint64_t mem;

	inet_pton(AF_INET6, "2001:db8::ffff:ffff:ffff", &a);
	/* 48 bits << 16 fits 64; << 21 does not. */
	CHECK_EQ(iam_addr_decode(&a, 16, NULL, &mem), 0);
	CHECK_EQ(mem, 0xffffffffffff0000ull);
	CHECK_EQ(iam_addr_decode(&a, 21, NULL, &mem), -ERANGE);
	CHECK_EQ(iam_addr_decode(&a, 3, NULL, &mem), -EINVAL);
	inet_pton(AF_INET6, "2001:db8::7ff:ffff:ffff", &a);
	CHECK_EQ(iam_addr_decode(&a, 21, NULL, &mem), 0);
	CHECK_EQ(mem, 0xffffffffffe00000ull);
}

/* Random addresses round-trip for every block size. */
TEST(encode_decode_roundtrip)
{
	struct iam_addr_space s = patent_space(), d;
	struct in6_addr a;
	uint64_t mem;

	srandom(7);
	for (int i = 0; i < 20000; i++) {
		unsigned shift = IAM_BLOCK_SHIFT_MIN +
				 (unsigned)random() % (IAM_BLOCK_SHIFT_MAX -
						       IAM_BLOCK_SHIFT_MIN + 1);
		uint64_t blk = ((uint64_t)random() << 31 ^ (uint64_t)random()) &
			       IAM_BLOCK_ADDR_MAX;

		unsigned bits = 64 - shift < IAM_BLOCK_BITS ? 64 - shift :
							      IAM_BLOCK_BITS;

		blk &= (1ull << bits) - 1;
		s.block_shift = (uint8_t)shift;
		s.host = (uint32_t)random();
		REQUIRE_EQ(iam_addr_encode(&s, blk << shift, &a), 0);
		REQUIRE_EQ(iam_addr_decode(&a, shift, &d, &mem), 0);
		CHECK_EQ(mem, blk << shift);
		CHECK_EQ(d.host, s.host);
		CHECK(!memcmp(d.net, s.net, 6));
		CHECK(iam_addr_in_space(&s, &a));
	}
}

TEST(ctrl_and_node_prefix)
{
	struct iam_addr_space s = patent_space();
	char buf[IAM_PREFIX_STRLEN];
	struct iam_prefix p;
	struct in6_addr a, other;

	iam_addr_ctrl(&s, &a);
	CHECK_STR(ntop(&a, buf), "2001:db80:8000:c0a8:a010::1");
	CHECK_EQ(iam_addr_block(&a), IAM_CTRL_BLOCK_ADDR);
	iam_addr_node_prefix(&s, &p);
	CHECK_STR(iam_addr_prefix_fmt(&p, buf, sizeof(buf)),
		  "2001:db80:8000:c0a8:a010::/80");
	CHECK(iam_addr_prefix_contains(&p, &a));
	CHECK(iam_addr_in_space(&s, &a));
	inet_pton(AF_INET6, "2001:db80:8000:c0a8:a011::1", &other);
	CHECK(!iam_addr_prefix_contains(&p, &other));
	CHECK(!iam_addr_in_space(&s, &other));
	/* The control address is never a pool block: pools start at 4G. */
	_Static_assert(IAM_CTRL_BLOCK_ADDR <
			       (IAM_POOL_MIN_VADDR >> IAM_BLOCK_SHIFT_MAX),
		       "control address inside a pool");
}

static void fmt_all(const struct iam_prefix *p, size_t n, char *out, size_t len)
{
	char buf[IAM_PREFIX_STRLEN];

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strncat(out, " ", len - strlen(out) - 1);
		strncat(out, iam_addr_prefix_fmt(&p[i], buf, sizeof(buf)),
			len - strlen(out) - 1);
	}
}

TEST(aggregate_run_vectors)
{
	static const uint8_t net[6] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };
	static const struct {
		uint64_t first, count;
		const char *want;
	} v[] = {
		{ 0x1000, 1, "2001:db8:1::1000/128" },
		{ 0x1000, 2, "2001:db8:1::1000/127" },
		{ 0x1000, 3, "2001:db8:1::1000/127 2001:db8:1::1002/128" },
		{ 0x1001, 3, "2001:db8:1::1001/128 2001:db8:1::1002/127" },
		{ 0x1001, 6,
		  "2001:db8:1::1001/128 2001:db8:1::1002/127 "
		  "2001:db8:1::1004/127 2001:db8:1::1006/128" },
		/* 1 GiB of 64K blocks at 4G: one /114 (ARCHITECTURE.md). */
		{ 0x10000, 16384, "2001:db8:1::1:0/114" },
		{ 0, 1ull << 48, "2001:db8:1::/80" },
		{ IAM_BLOCK_ADDR_MAX, 1, "2001:db8:1::ffff:ffff:ffff/128" },
	};
	struct iam_addr_space s;
	struct iam_prefix out[128];
	char got[2048];
	size_t n;

	REQUIRE_EQ(iam_addr_space_init(&s, net, 0, 16), 0);
	for (size_t i = 0; i < N_ELEM(v); i++) {
		REQUIRE_EQ(iam_addr_aggregate_run(&s, v[i].first, v[i].count,
						  out, N_ELEM(out), &n),
			   0);
		CHECK_EQ(n, iam_addr_run_prefixes(v[i].first, v[i].count));
		fmt_all(out, n, got, sizeof(got));
		CHECK_STR(got, v[i].want);
	}
	CHECK_EQ(iam_addr_aggregate_run(&s, 0, 0, out, 1, &n), -EINVAL);
	CHECK_EQ(iam_addr_aggregate_run(&s, IAM_BLOCK_ADDR_MAX, 2, out, 4, &n),
		 -ERANGE);
	/* Too small an output says how many are needed. */
	CHECK_EQ(iam_addr_aggregate_run(&s, 1, 6, out, 2, &n), -ENOSPC);
	CHECK_EQ(n, 4);
	CHECK_EQ(iam_addr_aggregate_run(&s, 1, 6, NULL, 0, &n), -ENOSPC);
	CHECK_EQ(n, 4);
}

TEST(aggregate_set_unsorted_duplicates)
{
	struct iam_addr_space s = patent_space();
	uint64_t b[] = {
		0x107, 0x104, 0x105, 0x104, 0x106, 0x100, 0x107, 0x10a
	};
	struct iam_prefix out[8];
	char got[512];
	size_t n;

	REQUIRE_EQ(iam_addr_aggregate(&s, b, N_ELEM(b), out, N_ELEM(out), &n),
		   0);
	fmt_all(out, n, got, sizeof(got));
	CHECK_STR(got, "2001:db80:8000:c0a8:a010::100/128 "
		       "2001:db80:8000:c0a8:a010::104/126 "
		       "2001:db80:8000:c0a8:a010::10a/128");
	{
		uint64_t bad[] = { 1, IAM_BLOCK_ADDR_MAX + 1 };

		CHECK_EQ(iam_addr_aggregate(&s, bad, 2, out, 8, &n), -ERANGE);
	}
	CHECK_EQ(iam_addr_aggregate(&s, b, 0, out, 8, &n), 0);
	CHECK_EQ(n, 0);
}

/* Expand prefixes back to a bitmap of blocks relative to base. */
static uint64_t expand(const struct iam_prefix *p, size_t n, uint64_t base,
		       unsigned nbits)
{
	uint64_t m = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t first, count;

		REQUIRE_EQ(iam_addr_prefix_blocks(&p[i], &first, &count), 0);
		REQUIRE(first >= base && first + count <= base + nbits);
		for (uint64_t b = first; b < first + count; b++) {
			/* Prefixes of a minimal cover never overlap. */
			CHECK(!(m & (1ull << (b - base))));
			m |= 1ull << (b - base);
		}
	}
	return m;
}

/*
 * Reference: the fewest aligned power-of-two intervals whose union is
 * exactly 'set', by trying every subset of the 15 candidate intervals of
 * an 8-block pool.
 */
static int brute_min8(unsigned set)
{
	unsigned cand[15];
	int nc = 0, best = 99;

	for (unsigned sz = 1; sz <= 8; sz *= 2)
		for (unsigned s = 0; s < 8; s += sz)
			cand[nc++] = ((1u << sz) - 1) << s;
	for (unsigned pick = 0; pick < (1u << nc); pick++) {
		unsigned u = 0;
		int k = __builtin_popcount(pick);

		if (k >= best)
			continue;
		for (int c = 0; c < nc; c++)
			if (pick & (1u << c))
				u |= cand[c];
		if (u == set)
			best = k;
	}
	return best;
}

/* Every subset of an aligned 8-block pool, against brute force. */
TEST(aggregate_minimal_exhaustive8)
{
	struct iam_addr_space s = patent_space();
	const uint64_t base = 0xb8a03860; /* aligned to 8 */
	struct iam_prefix out[16];

	for (unsigned set = 0; set < 256; set++) {
		uint64_t b[8];
		size_t n = 0, np;

		for (unsigned i = 0; i < 8; i++)
			if (set & (1u << i))
				b[n++] = base + i;
		REQUIRE_EQ(iam_addr_aggregate(&s, b, n, out, 16, &np), 0);
		CHECK_MSG(expand(out, np, base, 8) == set,
			  "set %02x does not round-trip", set);
		CHECK_MSG((int)np == (set ? brute_min8(set) : 0),
			  "set %02x: %zu prefixes, brute force %d", set, np,
			  brute_min8(set));
	}
}

/*
 * 32-block pools: exhaustive search over covers (every exact cover holds
 * an interval that contains the lowest block; try each) on random sets,
 * with duplicates and shuffled order in the input.  What is left after
 * removing such an interval is the set minus its lowest blocks, so the
 * lowest remaining block names a subproblem (memo[lo], -1 = unknown).
 */
static int search_min(uint32_t set, int *memo)
{
	int best = 99;
	unsigned lo;

	if (!set)
		return 0;
	lo = (unsigned)__builtin_ctz(set);
	if (memo[lo] >= 0)
		return memo[lo];
	for (unsigned sz = 1; sz <= 32; sz *= 2) {
		unsigned start = lo & ~(sz - 1);
		uint32_t iv = (uint32_t)(((1ull << sz) - 1) << start);
		int k;

		if ((set & iv) != iv)
			continue;
		k = 1 + search_min(set & ~iv, memo);
		if (k < best)
			best = k;
	}
	memo[lo] = best;
	return best;
}

static int min_cover32(uint32_t set)
{
	int memo[32];

	memset(memo, -1, sizeof(memo));
	return search_min(set, memo);
}

TEST(aggregate_minimal_random32)
{
	struct iam_addr_space s = patent_space();
	const uint64_t base = 0x400000; /* aligned to 32 */
	struct iam_prefix out[64];

	srandom(11);
	for (int it = 0; it < 3000; it++) {
		uint32_t set = (uint32_t)random() ^ ((uint32_t)random() << 16);
		uint64_t b[96];
		size_t n = 0, np;

		if (it % 3 == 0)
			set &= (uint32_t)random(); /* sparser */
		if (it % 5 == 0)
			set |= (uint32_t)random() | 0xff00u; /* denser */
		for (unsigned i = 0; i < 32; i++) {
			if (set & (1u << i)) {
				b[n++] = base + i;
				if (random() % 4 == 0)
					b[n++] = base + i;
			}
		}
		for (size_t i = n; i > 1; i--) {
			size_t j = (size_t)random() % i;
			uint64_t t = b[i - 1];

			b[i - 1] = b[j];
			b[j] = t;
		}
		REQUIRE_EQ(iam_addr_aggregate(&s, b, n, out, 64, &np), 0);
		CHECK_MSG(expand(out, np, base, 32) == set,
			  "set %08x does not round-trip", set);
		CHECK_MSG((int)np == min_cover32(set),
			  "set %08x: %zu prefixes, search says %d", set, np,
			  min_cover32(set));
		for (size_t i = 1; i < np; i++)
			CHECK(memcmp(&out[i - 1].addr, &out[i].addr, 16) < 0);
	}
}

/* Runs: the fast path agrees with the set path, and needs popcount(k)
 * prefixes when the run starts aligned. */
TEST(aggregate_run_matches_set)
{
	struct iam_addr_space s = patent_space();
	struct iam_prefix a[200], b[200];
	static uint64_t blocks[5000];

	srandom(5);
	for (int it = 0; it < 500; it++) {
		uint64_t first = (uint64_t)random() % 100000;
		uint64_t count = 1 + (uint64_t)random() % 4096;
		size_t na, nb;

		for (uint64_t i = 0; i < count; i++)
			blocks[i] = first + count - 1 - i;
		REQUIRE_EQ(iam_addr_aggregate_run(&s, first, count, a, 200,
						  &na),
			   0);
		REQUIRE_EQ(iam_addr_aggregate(&s, blocks, count, b, 200, &nb),
			   0);
		CHECK_EQ(na, nb);
		CHECK(!memcmp(a, b, na * sizeof(a[0])));
		first &= ~4095ull;
		REQUIRE_EQ(iam_addr_aggregate_run(&s, first, count, a, 200,
						  &na),
			   0);
		CHECK_EQ(na, (size_t)__builtin_popcountll(count));
	}
}

TEST(prefix_blocks)
{
	struct iam_prefix p;
	uint64_t first, count;

	REQUIRE_EQ(iam_addr_prefix_parse("2001:db8:1::1:0/114", &p), 0);
	REQUIRE_EQ(iam_addr_prefix_blocks(&p, &first, &count), 0);
	CHECK_EQ(first, 0x10000);
	CHECK_EQ(count, 16384);
	REQUIRE_EQ(iam_addr_prefix_parse("2001:db8:1::/80", &p), 0);
	REQUIRE_EQ(iam_addr_prefix_blocks(&p, &first, &count), 0);
	CHECK_EQ(first, 0);
	CHECK_EQ(count, 1ull << 48);
	REQUIRE_EQ(iam_addr_prefix_parse("2001:db8::/79", &p), 0);
	CHECK_EQ(iam_addr_prefix_blocks(&p, &first, &count), -EINVAL);
	/* Unmasked input built by hand. */
	inet_pton(AF_INET6, "2001:db8::3", &p.addr);
	p.len = 127;
	CHECK_EQ(iam_addr_prefix_blocks(&p, &first, &count), -EINVAL);
	iam_addr_prefix_mask(&p);
	CHECK_EQ(iam_addr_prefix_blocks(&p, &first, &count), 0);
	CHECK_EQ(first, 2);
}

TEST(prefix_text)
{
	static const struct {
		const char *in;
		int err;
		const char *out;
	} v[] = {
		{ "2001:db8::/64", 0, "2001:db8::/64" },
		{ "2001:DB8:0:0:0:0:0:1/128", 0, "2001:db8::1/128" },
		{ "2001:db8::1", 0, "2001:db8::1/128" },
		{ "::/0", 0, "::/0" },
		{ "2001:0db8:0000:0000:0001:0000:0000:0000/80", 0,
		  "2001:db8:0:0:1::/80" },
		{ "2001:db80:8000:c0a8:a010:0000:b8a0:3864", 0,
		  "2001:db80:8000:c0a8:a010:0:b8a0:3864/128" },
		{ "", -EINVAL, NULL },
		{ "/64", -EINVAL, NULL },
		{ "2001:db8::/", -EINVAL, NULL },
		{ "2001:db8::/129", -ERANGE, NULL },
		{ "2001:db8::/99999", -ERANGE, NULL },
		{ "2001:db8::/-1", -EINVAL, NULL },
		{ "2001:db8::/+64", -EINVAL, NULL },
		{ "2001:db8::/064", -EINVAL, NULL },
		{ "2001:db8::/64x", -EINVAL, NULL },
		{ "2001:db8::/6 4", -EINVAL, NULL },
		{ "2001:db8::1/64", -EINVAL, NULL }, /* host bits set */
		{ "1.2.3.4/32", -EINVAL, NULL },
		{ "2001:db8:::/64", -EINVAL, NULL },
		{ "2001:db8::/64/64", -EINVAL, NULL },
		{ " 2001:db8::/64", -EINVAL, NULL },
		{ "2001:db8:0:0:0:0:0:0:0/64", -EINVAL, NULL },
		{ "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff:0000:1111/64",
		  -EINVAL, NULL },
	};

	for (size_t i = 0; i < N_ELEM(v); i++) {
		char buf[IAM_PREFIX_STRLEN];
		struct iam_prefix p;
		int err = iam_addr_prefix_parse(v[i].in, &p);

		CHECK_MSG(err == v[i].err, "\"%s\": %d, want %d", v[i].in, err,
			  v[i].err);
		if (!err && v[i].out)
			CHECK_STR(iam_addr_prefix_fmt(&p, buf, sizeof(buf)),
				  v[i].out);
	}
}

TEST(net_text)
{
	static const struct {
		const char *in;
		int err;
		const char *out;
	} v[] = {
		{ "2001:db80:8000", 0, "2001:db80:8000" },
		{ "2001:DB80:08000", -EINVAL, NULL },
		{ "fd00:0:1", 0, "fd00:0:1" },
		{ "fd00:0000:0001", 0, "fd00:0:1" },
		{ "2001:db80:8000::", 0, "2001:db80:8000" },
		{ "2001:db80:8000::/48", 0, "2001:db80:8000" },
		{ "fd00::", 0, "fd00:0:0" },
		{ "2001:db80:8000::1", -EINVAL, NULL },
		{ "2001:db80:8000::/64", -EINVAL, NULL },
		{ "2001:db80", -EINVAL, NULL },
		{ "2001:db80:8000:1", -EINVAL, NULL },
		{ "2001:db80:8000:", -EINVAL, NULL },
		{ ":2001:db80:8000", -EINVAL, NULL },
		{ "2001:db80:80000", -EINVAL, NULL },
		{ "2001:dg80:8000", -EINVAL, NULL },
		{ "", -EINVAL, NULL },
	};

	for (size_t i = 0; i < N_ELEM(v); i++) {
		char buf[IAM_NET_STRLEN];
		uint8_t net[6];
		int err = iam_addr_net_parse(v[i].in, net);

		CHECK_MSG(err == v[i].err, "\"%s\": %d, want %d", v[i].in, err,
			  v[i].err);
		if (!err && v[i].out)
			CHECK_STR(iam_addr_net_fmt(net, buf, sizeof(buf)),
				  v[i].out);
	}
}

TEST(host_text)
{
	static const struct {
		const char *in;
		int err;
		uint32_t v;
	} v[] = {
		{ "c0a8:a010", 0, 0xc0a8a010 },
		{ "C0A8:A010", 0, 0xc0a8a010 },
		{ "0:1", 0, 1 },
		{ "192.168.160.16", 0, 0xc0a8a010 },
		{ "0xc0a8a010", 0, 0xc0a8a010 },
		{ "0x1c0a8a010", -ERANGE, 0 },
		{ "c0a8", -EINVAL, 0 },
		{ "c0a8:a010:1", -EINVAL, 0 },
		{ "c0a8:a0100", -EINVAL, 0 },
		{ "c0a8:", -EINVAL, 0 },
		{ "1.2.3", -EINVAL, 0 },
		{ "256.1.1.1", -EINVAL, 0 },
		{ "0x", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
	};
	char buf[IAM_HOST_STRLEN];

	for (size_t i = 0; i < N_ELEM(v); i++) {
		uint32_t h = 0;
		int err = iam_addr_host_parse(v[i].in, &h);

		CHECK_MSG(err == v[i].err, "\"%s\": %d, want %d", v[i].in, err,
			  v[i].err);
		if (!err)
			CHECK_EQ(h, v[i].v);
	}
	CHECK_STR(iam_addr_host_fmt(0xc0a8a010, buf, sizeof(buf)), "c0a8:a010");
	CHECK_STR(iam_addr_host_fmt(0x0000000a, buf, sizeof(buf)), "0:a");
}

TEST(block_size_text)
{
	static const struct {
		const char *in;
		int err;
		unsigned shift;
	} v[] = {
		{ "4K", 0, 12 },       { "64K", 0, 16 },
		{ "65536", 0, 16 },    { "2M", 0, 21 },
		{ "1M", 0, 20 },       { "0x1000", 0, 12 },
		{ "64KiB", 0, 16 },    { "3000", -EINVAL, 0 },
		{ "48K", -EINVAL, 0 }, { "0", -EINVAL, 0 },
		{ "abc", -EINVAL, 0 }, { "", -EINVAL, 0 },
		{ "2K", -ERANGE, 0 },  { "4M", -ERANGE, 0 },
		{ "1G", -ERANGE, 0 },  { "99999999999999999999", -ERANGE, 0 },
	};

	for (size_t i = 0; i < N_ELEM(v); i++) {
		unsigned shift = 0;
		int err = iam_addr_block_size_parse(v[i].in, &shift);

		CHECK_MSG(err == v[i].err, "\"%s\": %d, want %d", v[i].in, err,
			  v[i].err);
		if (!err)
			CHECK_EQ(shift, v[i].shift);
	}
}

TEST(prefix_contains)
{
	struct iam_prefix p;
	struct in6_addr a;

	REQUIRE_EQ(iam_addr_prefix_parse("2001:db8:0:8000::/49", &p), 0);
	inet_pton(AF_INET6, "2001:db8:0:ffff::1", &a);
	CHECK(iam_addr_prefix_contains(&p, &a));
	inet_pton(AF_INET6, "2001:db8:0:7fff::1", &a);
	CHECK(!iam_addr_prefix_contains(&p, &a));
	REQUIRE_EQ(iam_addr_prefix_parse("::/0", &p), 0);
	CHECK(iam_addr_prefix_contains(&p, &a));
}
