// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Tests of the speaker's configuration parsing (user/bgp/config.c): the
 * --peer syntax, router ids, prefixes, and whole-config checks, each bad
 * input with the message a person sees.
 */
#include <arpa/inet.h>

#include "bgp/bgp.h"
#include "iam_test.h"

static const struct peer_vec {
	const char *in;
	const char *err; /* NULL: must parse; else a part of the message */
} peer_vecs[] = {
	{ "2001:db8::1,as=65001", NULL },
	{ "192.0.2.1,as=4200000000", NULL },
	{ "fe80::1%eth0,as=65001", NULL },
	{ "2001:db8::1,as=65001,md5=s3cret,passive", NULL },
	{ "2001:db8::1,passive,as=1,port=1179,source=2001:db8::2", NULL },
	{ "2001:db8::1,as=1,dev=veth0,enforce-first-as", NULL },
	{ "", "empty peer" },
	{ "2001:db8::1", "as=N is required" },
	{ "2001:db8::x,as=1", "not an IPv6 or IPv4 address" },
	{ "::,as=1", "cannot be a peer" },
	{ "ff02::1,as=1", "cannot be a peer" },
	{ "fe80::1,as=1", "needs %INTERFACE" },
	{ "fe80::1%,as=1", "bad interface" },
	{ "2001:db8::1,as=0", "not an AS number" },
	{ "2001:db8::1,as=4294967296", "not an AS number" },
	{ "2001:db8::1,as=12x", "not an AS number" },
	{ "2001:db8::1,as", "not an AS number" },
	{ "2001:db8::1,as=1,md5=", "md5= needs a secret" },
	{ "2001:db8::1,as=1,md5=0123456789012345678901234567890123456789"
	  "01234567890123456789012345678901234567890",
	  "md5= needs a secret" },
	{ "2001:db8::1,as=1,port=0", "not a TCP port" },
	{ "2001:db8::1,as=1,port=65536", "not a TCP port" },
	{ "2001:db8::1,as=1,source=192.0.2.1", "different families" },
	{ "2001:db8::1,as=1,source=nowhere", "not an address" },
	{ "2001:db8::1,as=1,passive=yes", "unknown option \"passive\"" },
	{ "2001:db8::1,as=1,color=red", "unknown option \"color\"" },
	{ "fe80::1%eth0,as=1,dev=eth1", "disagree" },
};

TEST(peer_syntax)
{
	for (size_t i = 0; i < sizeof(peer_vecs) / sizeof(peer_vecs[0]); i++) {
		const struct peer_vec *v = &peer_vecs[i];
		struct iam_bgp_peer_config p;
		char err[256] = "";
		int r = iam_bgp_peer_parse(v->in, &p, err, sizeof(err));

		if (!v->err) {
			CHECK_MSG(r == 0, "\"%s\": %s", v->in, err);
		} else {
			CHECK_MSG(r == -EINVAL, "\"%s\" should fail", v->in);
			CHECK_MSG(strstr(err, v->err),
				  "\"%s\": message \"%s\" lacks \"%s\"", v->in,
				  err, v->err);
		}
	}
}

TEST(peer_values)
{
	struct iam_bgp_peer_config p;
	char err[256], a[INET6_ADDRSTRLEN];

	REQUIRE_EQ(iam_bgp_peer_parse("192.0.2.1,as=4200000000,md5=k,passive,"
				      "port=1179",
				      &p, err, sizeof(err)),
		   0);
	CHECK(IN6_IS_ADDR_V4MAPPED(&p.addr));
	inet_ntop(AF_INET, &p.addr.s6_addr[12], a, sizeof(a));
	CHECK_STR(a, "192.0.2.1");
	CHECK_EQ(p.remote_as, 4200000000u);
	CHECK_STR(p.md5, "k");
	CHECK(p.passive);
	CHECK(!p.enforce_first_as);
	CHECK_EQ(p.port, 1179);
	REQUIRE_EQ(iam_bgp_peer_parse("fe80::2%lo,as=7", &p, err, sizeof(err)),
		   0);
	CHECK_STR(p.ifname, "lo");
	CHECK_EQ(p.port, 179);
	CHECK(!p.passive);
	CHECK(!p.md5[0]);
}

TEST(router_id_and_prefix)
{
	struct iam_bgp_prefix p;
	uint32_t id;
	char s[64];

	CHECK_EQ(iam_bgp_router_id_parse("10.0.0.1", &id), 0);
	CHECK_EQ(id, 0x0a000001);
	CHECK_EQ(iam_bgp_router_id_parse("0.0.0.0", &id), -ERANGE);
	CHECK_EQ(iam_bgp_router_id_parse("10.0.0", &id), -EINVAL);
	CHECK_EQ(iam_bgp_router_id_parse("2001:db8::1", &id), -EINVAL);
	CHECK_EQ(iam_bgp_router_id_parse(NULL, &id), -EINVAL);
	CHECK_EQ(iam_bgp_prefix_parse("2001:db8:8000:c0a8:a010::/80", &p), 0);
	CHECK_EQ(p.len, 80);
	CHECK_STR(iam_bgp_prefix_str(&p, s, sizeof(s)),
		  "2001:db8:8000:c0a8:a010::/80");
	CHECK_EQ(iam_bgp_prefix_parse("2001:db8::1/64", &p), -EINVAL);
	CHECK_EQ(iam_bgp_prefix_parse("2001:db8::/129", &p), -EINVAL);
	CHECK_EQ(iam_bgp_prefix_parse("2001:db8::", &p), -EINVAL);
	CHECK_EQ(iam_bgp_prefix_parse("::/0", &p), 0);
}

TEST(config_check)
{
	struct iam_bgp_config c;
	char err[256];

	iam_bgp_config_init(&c);
	CHECK_EQ(c.hold_time, 90);
	CHECK_EQ(c.listen_port, 179);
	CHECK_EQ(c.pool_update_rate, 10);
	CHECK_EQ(iam_bgp_config_check(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "--asn"));
	c.local_as = 65001;
	CHECK_EQ(iam_bgp_config_check(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "--router-id"));
	c.router_id = 1;
	CHECK_EQ(iam_bgp_config_check(&c, err, sizeof(err)), 0);
	c.hold_time = 2;
	CHECK_EQ(iam_bgp_config_check(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "hold time"));
	c.hold_time = 3;
	REQUIRE_EQ(iam_bgp_peer_parse("2001:db8::1,as=1", &c.peers[0], err,
				      sizeof(err)),
		   0);
	REQUIRE_EQ(iam_bgp_peer_parse("2001:db8::1,as=2", &c.peers[1], err,
				      sizeof(err)),
		   0);
	c.npeers = 2;
	CHECK_EQ(iam_bgp_config_check(&c, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "given twice"));
	c.npeers = 1;
	CHECK_EQ(iam_bgp_config_check(&c, err, sizeof(err)), 0);
	/* an IPv6 peer with MD5 cannot use an IPv4 listener */
	REQUIRE_EQ(iam_bgp_peer_parse("2001:db8::1,as=1,md5=x", &c.peers[0],
				      err, sizeof(err)),
		   0);
	inet_pton(AF_INET6, "::ffff:192.0.2.9", &c.listen_addr);
	CHECK_EQ(iam_bgp_config_check(&c, err, sizeof(err)), -EINVAL);
	CHECK_STR(iam_bgp_state_name(IAM_BGP_OPENCONFIRM), "OpenConfirm");
}
