// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests of the size and number parsers (user/parse.c). */
#include "iam_test.h"
#include "parse.h"

TEST(sizes)
{
	static const struct {
		const char *in;
		int err;
		uint64_t v;
	} v[] = {
		{ "65536", 0, 65536 },
		{ "64K", 0, 65536 },
		{ "64KiB", 0, 65536 },
		{ "64k", 0, 65536 },
		{ "2M", 0, 2 << 20 },
		{ "1G", 0, 1ull << 30 },
		{ "1T", 0, 1ull << 40 },
		{ "0x1000", 0, 4096 },
		{ "4096B", 0, 4096 },
		{ "", -EINVAL, 0 },
		{ "K", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "1X", -EINVAL, 0 },
		{ "1KB2", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "99999999999999999999", -ERANGE, 0 },
		{ "16777216T", -ERANGE, 0 },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint64_t out = 0;
		int err = iam_parse_size(v[i].in, &out);

		CHECK_MSG(err == v[i].err, "\"%s\": err %d, want %d", v[i].in,
			  err, v[i].err);
		if (!err)
			CHECK_MSG(out == v[i].v, "\"%s\": %llu", v[i].in,
				  (unsigned long long)out);
	}
}

TEST(hex_and_numbers)
{
	uint64_t v;
	uint32_t u;

	CHECK_EQ(iam_parse_hex("c0a8a010", 32, &v), 0);
	CHECK_EQ(v, 0xc0a8a010);
	CHECK_EQ(iam_parse_hex("0x1c0a8a010", 32, &v), -ERANGE);
	CHECK_EQ(iam_parse_hex("xyz", 32, &v), -EINVAL);
	CHECK_EQ(iam_parse_hex("", 32, &v), -EINVAL);
	CHECK_EQ(iam_parse_u32("4294967296", &u), -ERANGE);
	CHECK_EQ(iam_parse_u32("65001", &u), 0);
	CHECK_EQ(u, 65001);
	CHECK_EQ(iam_parse_u64("12a", &v), -EINVAL);
}

TEST(durations_and_format)
{
	uint64_t v;
	char buf[32];

	CHECK_EQ(iam_parse_duration_ms("500ms", &v), 0);
	CHECK_EQ(v, 500);
	CHECK_EQ(iam_parse_duration_ms("30", &v), 0);
	CHECK_EQ(v, 30000);
	CHECK_EQ(iam_parse_duration_ms("2m", &v), 0);
	CHECK_EQ(v, 120000);
	CHECK_EQ(iam_parse_duration_ms("2y", &v), -EINVAL);
	CHECK_STR(iam_fmt_size(65536, buf, sizeof(buf)), "64K");
	CHECK_STR(iam_fmt_size(1ull << 30, buf, sizeof(buf)), "1G");
	CHECK_STR(iam_fmt_size(3000, buf, sizeof(buf)), "3000");
}
