// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* iam-load's configuration (user/config.c): the file format, its golden
 * round trip (parse -> print -> parse gives the same), and errors that
 * name the file, the line and the problem. */
#include <stdio.h>

#include "config.h"
#include "iam_test.h"

static const char golden[] = "# a fabric host\n"
			     "dev eth1\n"
			     "instance lab-1\n"
			     "pool 1G   # one prefix\n"
			     "block-size 64K\n"
			     "net 2001:db8:1\n"
			     "host c0a8:a010\n"
			     "asn 65001\n"
			     "router-id 10.0.0.1\n"
			     "peer 2001:db8:ff::1,as=65000\n"
			     "peer \"2001:db8:ff::2,as=65000,md5=two words\"\n"
			     "\n"
			     "  local-budget 256M\n"
			     "cache 32M\n"
			     "lease 45s\n"
			     "reserve-ttl 1500ms\n"
			     "transport tcp\n"
			     "xdp-mode generic\n"
			     "cpu 1\n"
			     "hugepages\n"
			     "allow-user 1000\n";

static char *print(const struct iam_config *c)
{
	static char buf[4][8192];
	static int n;
	char *b = buf[n++ % 4];
	FILE *f = fmemopen(b, sizeof(buf[0]), "w");

	iam_config_print(c, f);
	fclose(f);
	return b;
}

TEST(golden_round_trip)
{
	struct iam_config a, b;
	char err[256] = "";
	char *pa, *pb;

	iam_config_init(&a);
	REQUIRE_EQ(iam_config_parse(&a, golden, "golden", err, sizeof(err)), 0);
	CHECK_STR(a.dev, "eth1");
	CHECK_EQ(a.pool_size, 1ull << 30);
	CHECK_EQ(a.block_shift, 16);
	CHECK_EQ(a.host, 0xc0a8a010);
	CHECK_EQ(a.router_id, 0x0a000001);
	CHECK_EQ(a.npeers, 2);
	CHECK_STR(a.peers[1], "2001:db8:ff::2,as=65000,md5=two words");
	CHECK_EQ(a.local_budget, 256ull << 20);
	CHECK_EQ(a.reserve_ttl_ms, 1500);
	CHECK_EQ(a.cpu, 1);
	CHECK(a.hugepages);
	CHECK_EQ(a.transport, IAM_CFG_TRANSPORT_TCP);
	CHECK_EQ(iam_config_check(&a, err, sizeof(err)), 0);
	pa = print(&a);
	iam_config_init(&b);
	REQUIRE_MSG(iam_config_parse(&b, pa, "printed", err, sizeof(err)) == 0,
		    "%s", err);
	pb = print(&b);
	CHECK_STR(pa, pb);
	CHECK(!memcmp(&a, &b, sizeof(a)));
}

TEST(defaults_print_and_parse_back)
{
	struct iam_config a, b;
	char err[256];

	iam_config_init(&a);
	iam_config_init(&b);
	REQUIRE_EQ(iam_config_parse(&b, print(&a), "defaults", err,
				    sizeof(err)),
		   0);
	CHECK(!memcmp(&a, &b, sizeof(a)));
}

TEST(errors_name_file_line_and_problem)
{
	static const struct {
		const char *text;
		const char *want;
	} v[] = {
		{ "dev eth0\nbogus 1\n", "f:2: unknown option \"bogus\"" },
		{ "pool lots\n", "f:1: pool: \"lots\" is not a size" },
		{ "block-size 3K\n", "f:1: block-size: \"3K\" is not a power" },
		{ "net 2001:db8::1\n", "f:1: net: \"2001:db8::1\"" },
		{ "host 1:2:3\n", "f:1: host: \"1:2:3\"" },
		{ "asn 0\n", "f:1: asn: \"0\"" },
		{ "router-id 1.2.3\n", "f:1: router-id" },
		{ "hold-time 2\n", "f:1: hold-time" },
		{ "lease 0\n", "f:1: lease: bad value" },
		{ "cpu -1\n", "f:1: cpu: bad value" },
		{ "xdp-mode fast\n", "f:1: xdp-mode: bad value" },
		{ "hugepages yes\n", "f:1: hugepages takes no value" },
		{ "pool\n", "f:1: pool needs a value" },
		{ "peer a b\n", "one value per line" },
		{ "peer \"a b\n", "unbalanced quote" },
		{ "instance ../x\n", "f:1: instance" },
		{ "allow-user no-such-user-here\n", "no user" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct iam_config c;
		char err[256] = "";

		iam_config_init(&c);
		CHECK_MSG(iam_config_parse(&c, v[i].text, "f", err,
					   sizeof(err)) < 0,
			  "accepted: %s", v[i].text);
		CHECK_MSG(strstr(err, v[i].want), "\"%s\" -> \"%s\"", v[i].text,
			  err);
	}
}

TEST(check_requires_the_essentials)
{
	struct iam_config c;
	char err[256];

	iam_config_init(&c);
	CHECK_EQ(iam_config_check(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "--dev") != NULL);
	REQUIRE_EQ(iam_config_parse(&c,
				    "dev e\npool 3M\nnet 2001:db8:1\n"
				    "host 1:2\n",
				    "f", err, sizeof(err)),
		   0);
	CHECK_EQ(iam_config_check(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "power of two") != NULL);
	REQUIRE_EQ(iam_config_set(&c, "pool", "4M", err, sizeof(err)), 0);
	REQUIRE_EQ(iam_config_set(&c, "peer", "2001:db8::1,as=1", err,
				  sizeof(err)),
		   0);
	CHECK_EQ(iam_config_check(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "--asn") != NULL);
	REQUIRE_EQ(iam_config_set(&c, "asn", "65001", err, sizeof(err)), 0);
	CHECK_EQ(iam_config_check(&c, err, sizeof(err)), 0);
}
