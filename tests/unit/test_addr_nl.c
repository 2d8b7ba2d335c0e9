// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the Address Manager's kernel half (user/addr_nl.c): the
 * reply parser on crafted and malformed messages, then real routes and
 * addresses in a private network namespace, checked against `ip`.
 */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>

#include "iam_addr.h"
#include "iam_test.h"

#define SEQ 77
#define PID 4242

/* ---- crafted replies ------------------------------------------------- */

struct msgbuf {
	char b[4096];
	size_t len;
};

static struct nlmsghdr *put(struct msgbuf *m, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(m->b + m->len);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = SEQ;
	nlh->nlmsg_pid = PID;
	return nlh;
}

static void done(struct msgbuf *m, struct nlmsghdr *nlh)
{
	m->len += MNL_ALIGN(nlh->nlmsg_len);
}

static void put_ack(struct msgbuf *m, int error, const char *text)
{
	struct nlmsghdr *nlh =
		put(m, NLMSG_ERROR, NLM_F_CAPPED | (text ? NLM_F_ACK_TLVS : 0));
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	e->error = error;
	e->msg.nlmsg_len = sizeof(struct nlmsghdr) + 12;
	e->msg.nlmsg_seq = SEQ;
	if (text)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, text);
	done(m, nlh);
}

static struct nlmsghdr *put_route(struct msgbuf *m, const char *dst,
				  uint8_t len, const char *via)
{
	struct nlmsghdr *nlh = put(m, RTM_NEWROUTE, NLM_F_MULTI);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct in6_addr a;

	rtm->rtm_family = AF_INET6;
	rtm->rtm_dst_len = len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = IAM_RTPROT;
	rtm->rtm_type = RTN_UNICAST;
	inet_pton(AF_INET6, dst, &a);
	mnl_attr_put(nlh, RTA_DST, sizeof(a), &a);
	if (via) {
		inet_pton(AF_INET6, via, &a);
		mnl_attr_put(nlh, RTA_GATEWAY, sizeof(a), &a);
	}
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
	mnl_attr_put_u32(nlh, RTA_OIF, 3);
	return nlh;
}

static int routes_seen;
static struct iam_nl_route last_route;

static int count_route(const struct iam_nl_route *r, void *arg)
{
	routes_seen++;
	last_route = *r;
	return 0;
}

static int parse(struct msgbuf *m, char *ext, size_t extlen)
{
	int cb_rc = 0;

	routes_seen = 0;
	return iam_nl_parse_reply(m->b, m->len, SEQ, PID, count_route, NULL,
				  &cb_rc, ext, extlen);
}

TEST(reply_ack_and_errors)
{
	char ext[128];
	struct msgbuf m;

	memset(&m, 0, sizeof(m));
	put_ack(&m, 0, NULL);
	CHECK_EQ(parse(&m, ext, sizeof(ext)), 0);

	memset(&m, 0, sizeof(m));
	put_ack(&m, -EEXIST, "File exists here");
	strcpy(ext, "stale");
	CHECK_EQ(parse(&m, ext, sizeof(ext)), -EEXIST);
	CHECK_STR(ext, "File exists here");
	/* The text is cut to the caller's buffer. */
	CHECK_EQ(parse(&m, ext, 5), -EEXIST);
	CHECK_STR(ext, "File");

	/* Not capped: the request is echoed before the TLVs. */
	{
		struct nlmsghdr *nlh;
		struct nlmsgerr *e;
		char *req;

		memset(&m, 0, sizeof(m));
		nlh = put(&m, NLMSG_ERROR, NLM_F_ACK_TLVS);
		e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
		e->error = -ENODEV;
		e->msg.nlmsg_len = sizeof(struct nlmsghdr) + 8;
		req = mnl_nlmsg_put_extra_header(nlh, 8);
		memset(req, 0xee, 8);
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "no such device");
		done(&m, nlh);
		CHECK_EQ(parse(&m, ext, sizeof(ext)), -ENODEV);
		CHECK_STR(ext, "no such device");
	}
}

/* Table of malformed replies: each must be refused, not read past. */
enum mangle {
	M_SHORT_ERR, /* payload shorter than struct nlmsgerr */
	M_POSITIVE_ERR, /* error > 0 */
	M_HUGE_ERR, /* error below -4095 */
	M_TEXT_NO_NUL, /* NLMSGERR_ATTR_MSG without its NUL */
	M_ATTR_OVERRUN, /* attribute longer than the message */
	M_ATTR_TOO_SHORT, /* nla_len < 4 */
	M_ECHO_OVERRUN, /* echoed request longer than the payload */
	M_TRUNCATED, /* buffer ends inside the message */
	M_TRAILING, /* 3 stray bytes after the message */
	M_UNKNOWN_TYPE, /* a type nobody asked for */
	M_DONE_SHORT, /* NLMSG_DONE with 2 bytes */
	M_ROUTE_SHORT, /* RTM_NEWROUTE shorter than struct rtmsg */
	M_ROUTE_DST_SIZE, /* RTA_DST of 8 bytes */
	M_ROUTE_GW_SIZE, /* RTA_GATEWAY of 4 bytes */
	M_ROUTE_OIF_SIZE, /* RTA_OIF of 2 bytes */
	M_ROUTE_DSTLEN, /* rtm_dst_len 129 */
	M_ROUTE_UNMASKED, /* bits beyond rtm_dst_len */
	M_HUGE_LEN, /* nlmsg_len >= 2^31 after a good message */
	M_NMANGLE
};

static void build_mangled(struct msgbuf *m, enum mangle k)
{
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;
	struct nlattr *a;

	memset(m, 0, sizeof(*m));
	switch (k) {
	case M_SHORT_ERR:
		nlh = put(m, NLMSG_ERROR, 0);
		mnl_nlmsg_put_extra_header(nlh, 8);
		done(m, nlh);
		break;
	case M_POSITIVE_ERR:
		put_ack(m, 5, NULL);
		break;
	case M_HUGE_ERR:
		put_ack(m, -100000, NULL);
		break;
	case M_TEXT_NO_NUL:
		put_ack(m, -EINVAL, "abcdefg");
		/* Overwrite the NUL (last payload byte) of the string. */
		nlh = (struct nlmsghdr *)m->b;
		a = (struct nlattr *)((char *)mnl_nlmsg_get_payload(nlh) +
				      sizeof(struct nlmsgerr));
		((char *)mnl_attr_get_payload(a))[7] = 'h';
		break;
	case M_ATTR_OVERRUN:
		put_ack(m, -EINVAL, "abc");
		nlh = (struct nlmsghdr *)m->b;
		a = (struct nlattr *)((char *)mnl_nlmsg_get_payload(nlh) +
				      sizeof(struct nlmsgerr));
		a->nla_len = 200;
		break;
	case M_ATTR_TOO_SHORT:
		put_ack(m, -EINVAL, "abc");
		nlh = (struct nlmsghdr *)m->b;
		a = (struct nlattr *)((char *)mnl_nlmsg_get_payload(nlh) +
				      sizeof(struct nlmsgerr));
		a->nla_len = 2;
		break;
	case M_ECHO_OVERRUN:
		nlh = put(m, NLMSG_ERROR, NLM_F_ACK_TLVS);
		e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
		e->error = -EINVAL;
		e->msg.nlmsg_len = 4000;
		done(m, nlh);
		break;
	case M_TRUNCATED:
		put_ack(m, -EINVAL, "some text");
		m->len -= 6;
		break;
	case M_TRAILING:
		put_route(m, "2001:db8::", 64, NULL);
		done(m, (struct nlmsghdr *)m->b);
		m->len += 3;
		break;
	case M_UNKNOWN_TYPE:
		nlh = put(m, RTM_NEWLINK, 0);
		mnl_nlmsg_put_extra_header(nlh, 16);
		done(m, nlh);
		break;
	case M_DONE_SHORT:
		nlh = put(m, NLMSG_DONE, NLM_F_MULTI);
		mnl_nlmsg_put_extra_header(nlh, 2);
		nlh->nlmsg_len -= 2; /* put_extra_header aligns to 4 */
		done(m, nlh);
		break;
	case M_ROUTE_SHORT:
		nlh = put(m, RTM_NEWROUTE, NLM_F_MULTI);
		mnl_nlmsg_put_extra_header(nlh, 8);
		done(m, nlh);
		break;
	case M_ROUTE_DST_SIZE: {
		struct rtmsg *rtm;
		uint8_t x[8] = { 0x20, 0x01, 0x0d, 0xb8 };

		nlh = put(m, RTM_NEWROUTE, NLM_F_MULTI);
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = AF_INET6;
		rtm->rtm_dst_len = 32;
		mnl_attr_put(nlh, RTA_DST, sizeof(x), x);
		done(m, nlh);
		break;
	}
	case M_ROUTE_GW_SIZE:
		nlh = put_route(m, "2001:db8::", 64, NULL);
		mnl_attr_put_u32(nlh, RTA_GATEWAY, 1);
		done(m, nlh);
		break;
	case M_ROUTE_OIF_SIZE:
		nlh = put_route(m, "2001:db8::", 64, NULL);
		mnl_attr_put_u16(nlh, RTA_OIF, 1);
		done(m, nlh);
		break;
	case M_ROUTE_DSTLEN:
		nlh = put_route(m, "2001:db8::", 64, NULL);
		((struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_dst_len = 129;
		done(m, nlh);
		break;
	case M_ROUTE_UNMASKED:
		nlh = put_route(m, "2001:db8::1", 64, NULL);
		done(m, nlh);
		break;
	case M_HUGE_LEN:
		put_ack(m, 0, NULL);
		nlh = put(m, NLMSG_ERROR, 0);
		mnl_nlmsg_put_extra_header(nlh, sizeof(struct nlmsgerr));
		done(m, nlh);
		nlh->nlmsg_len = 0xfffffff0;
		break;
	case M_NMANGLE:
		break;
	}
}

TEST(reply_malformed_table)
{
	for (int k = 0; k < M_NMANGLE; k++) {
		char ext[64];
		struct msgbuf m;
		int err;

		build_mangled(&m, (enum mangle)k);
		err = parse(&m, ext, sizeof(ext));
		CHECK_MSG(err == -EBADMSG, "case %d: %d, want -EBADMSG", k,
			  err);
		CHECK_MSG(routes_seen == 0, "case %d: a route got through", k);
	}
}

TEST(reply_dump)
{
	char ext[64], buf[IAM_PREFIX_STRLEN];
	struct nlmsghdr *nlh;
	struct msgbuf m;
	int32_t err;

	memset(&m, 0, sizeof(m));
	nlh = put_route(&m, "2001:db8:1::", 64, "fe80::1");
	done(&m, nlh);
	/* A message of someone else's request in between is skipped. */
	nlh = put_route(&m, "2001:db8:2::", 64, NULL);
	nlh->nlmsg_seq = SEQ + 1;
	done(&m, nlh);
	/* An IPv4 route is not ours to read. */
	nlh = put(&m, RTM_NEWROUTE, NLM_F_MULTI);
	((struct rtmsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtmsg)))
		->rtm_family = AF_INET;
	done(&m, nlh);
	/* No NLMSG_DONE yet: more to come. */
	CHECK_EQ(parse(&m, ext, sizeof(ext)), 1);
	CHECK_EQ(routes_seen, 1);
	CHECK_STR(iam_addr_prefix_fmt(&last_route.dst, buf, sizeof(buf)),
		  "2001:db8:1::/64");
	CHECK_STR(inet_ntop(AF_INET6, &last_route.via, buf, sizeof(buf)),
		  "fe80::1");
	CHECK_EQ(last_route.ifindex, 3);
	CHECK_EQ(last_route.table, RT_TABLE_MAIN);
	CHECK_EQ(last_route.protocol, IAM_RTPROT);

	nlh = put(&m, NLMSG_DONE, NLM_F_MULTI);
	err = 0;
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(err)), &err, sizeof(err));
	done(&m, nlh);
	CHECK_EQ(parse(&m, ext, sizeof(ext)), 0);
	CHECK_EQ(routes_seen, 1);

	/* A dump that failed says so in NLMSG_DONE. */
	memset(&m, 0, sizeof(m));
	nlh = put(&m, NLMSG_DONE, NLM_F_MULTI);
	err = -EMSGSIZE;
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(err)), &err, sizeof(err));
	done(&m, nlh);
	CHECK_EQ(parse(&m, ext, sizeof(ext)), -EMSGSIZE);
}

/* ---- the kernel, in a private namespace ---------------------------- */

static void netns(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		SKIP("unshare(CLONE_NEWNET): %s", strerror(errno));
	REQUIRE_EQ(system("ip link set lo up"), 0);
}

/* Output of a shell command, trailing newline and spaces kept. */
static char *sh(const char *cmd)
{
	static char out[8192];
	size_t n = 0;
	FILE *f = popen(cmd, "r");

	REQUIRE(f);
	while (n < sizeof(out) - 1) {
		size_t r = fread(out + n, 1, sizeof(out) - 1 - n, f);

		if (!r)
			break;
		n += r;
	}
	out[n] = '\0';
	pclose(f);
	return out;
}

static struct iam_prefix pfx(const char *s)
{
	struct iam_prefix p;

	REQUIRE_EQ(iam_addr_prefix_parse(s, &p), 0);
	return p;
}

static struct in6_addr in6(const char *s)
{
	struct in6_addr a;

	REQUIRE_EQ(inet_pton(AF_INET6, s, &a), 1);
	return a;
}

TEST(local_route_delivers_every_block)
{
	struct iam_prefix p;
	struct iam_nl *nl;
	char ext[256];
	uint32_t lo;

	netns();
	lo = if_nametoindex("lo");
	REQUIRE(lo);
	REQUIRE_EQ(iam_nl_open(&nl), 0);
	p = pfx("2001:db8:1:c0a8:a010::1:0/114");
	REQUIRE_EQ(iam_nl_local_add(nl, &p, lo, ext, sizeof(ext)), 0);
	CHECK_STR(sh("ip -6 route show table local proto 241"),
		  "local 2001:db8:1:c0a8:a010:0:1:0/114 dev lo metric 1024 "
		  "pref medium\n");
	CHECK_EQ(iam_nl_local_add(nl, &p, lo, ext, sizeof(ext)), -EEXIST);

	/* A datagram to any block address is delivered here. */
	{
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
					   .sin6_port = htons(7411) };
		int s = socket(AF_INET6, SOCK_DGRAM, 0), one = 1;
		char msg[4] = "", cbuf[256];
		struct iovec iov = { msg, sizeof(msg) };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct in6_pktinfo *pi = NULL;

		REQUIRE(s >= 0);
		setsockopt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
			   sizeof(one));
		sa.sin6_addr = in6addr_any;
		REQUIRE_EQ(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
		sa.sin6_addr = in6("2001:db8:1:c0a8:a010::1:3abc");
		REQUIRE_EQ(sendto(s, "blk", 4, 0, (struct sockaddr *)&sa,
				  sizeof(sa)),
			   4);
		REQUIRE_EQ(recvmsg(s, &mh, 0), 4);
		CHECK_STR(msg, "blk");
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
		     c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == IPPROTO_IPV6 &&
			    c->cmsg_type == IPV6_PKTINFO)
				pi = (struct in6_pktinfo *)CMSG_DATA(c);
		REQUIRE(pi);
		CHECK(!memcmp(&pi->ipi6_addr, &sa.sin6_addr, 16));
		close(s);
	}

	REQUIRE_EQ(iam_nl_local_del(nl, &p, lo, ext, sizeof(ext)), 0);
	CHECK_STR(sh("ip -6 route show table local proto 241"), "");
	CHECK_EQ(iam_nl_local_del(nl, &p, lo, ext, sizeof(ext)), -ESRCH);
	/* An interface that does not exist. */
	CHECK_EQ(iam_nl_local_add(nl, &p, 999999, ext, sizeof(ext)), -ENODEV);
	/* Host bits beyond the length never reach the kernel. */
	p.addr.s6_addr[15] = 1;
	CHECK_EQ(iam_nl_local_add(nl, &p, lo, ext, sizeof(ext)), -EINVAL);
	iam_nl_close(nl);
}

static uint32_t veth(void)
{
	uint32_t ix;

	REQUIRE_EQ(system("ip link add iamv0 type veth peer name iamv1 && "
			  "ip link set iamv0 up && ip link set iamv1 up"),
		   0);
	ix = if_nametoindex("iamv0");
	REQUIRE(ix);
	return ix;
}

TEST(own_address)
{
	struct iam_nl *nl;
	struct in6_addr a = in6("2001:db8:1:c0a8:a010::1");
	char ext[256];
	uint32_t ix;

	netns();
	ix = veth();
	REQUIRE_EQ(iam_nl_open(&nl), 0);
	REQUIRE_EQ(iam_nl_addr_add(nl, ix, &a, 128, ext, sizeof(ext)), 0);
	CHECK_STR(
		sh("ip -6 addr show dev iamv0 scope global | "
		   "sed -n 's/^ *inet6 //p'"),
		"2001:db8:1:c0a8:a010::1/128 scope global nodad deprecated \n");
	CHECK_EQ(iam_nl_addr_add(nl, ix, &a, 128, ext, sizeof(ext)), -EEXIST);
	REQUIRE_EQ(iam_nl_addr_del(nl, ix, &a, 128, ext, sizeof(ext)), 0);
	CHECK_STR(sh("ip -6 addr show dev iamv0 scope global"), "");
	CHECK_EQ(iam_nl_addr_del(nl, ix, &a, 128, ext, sizeof(ext)),
		 -EADDRNOTAVAIL);
	CHECK_EQ(iam_nl_addr_add(nl, 0, &a, 128, ext, sizeof(ext)), -EINVAL);
	iam_nl_close(nl);
}

TEST(unicast_routes)
{
	struct iam_prefix p = pfx("2001:db8:2:c0a8:a011::4:0/116");
	struct in6_addr ll1 = in6("fe80::1"), ll2 = in6("fe80::2");
	struct in6_addr far = in6("2001:db8:ffff::9");
	struct iam_nl *nl;
	char ext[256];
	uint32_t ix;
	int err;

	netns();
	ix = veth();
	REQUIRE_EQ(iam_nl_open(&nl), 0);
	REQUIRE_EQ(iam_nl_route_add(nl, &p, &ll1, ix, ext, sizeof(ext)), 0);
	CHECK_STR(sh("ip -6 route show proto 241"),
		  "2001:db8:2:c0a8:a011:0:4:0/116 via fe80::1 dev iamv0 "
		  "metric 1024 pref medium\n");
	CHECK_EQ(iam_nl_route_add(nl, &p, &ll2, ix, ext, sizeof(ext)), -EEXIST);
	REQUIRE_EQ(iam_nl_route_replace(nl, &p, &ll2, ix, ext, sizeof(ext)), 0);
	CHECK_STR(sh("ip -6 route show proto 241"),
		  "2001:db8:2:c0a8:a011:0:4:0/116 via fe80::2 dev iamv0 "
		  "metric 1024 pref medium\n");
	/* The kernel explains refusals: its text comes back. */
	err = iam_nl_route_add(nl, &p, &far, 0, ext, sizeof(ext));
	CHECK_MSG(err == -EHOSTUNREACH || err == -ENETUNREACH,
		  "unreachable next hop: %d", err);
	p = pfx("2001:db8:3::/64");
	err = iam_nl_route_add(nl, &p, &ll1, 0, ext, sizeof(ext));
	CHECK_MSG(err < 0, "link-local next hop without a device: %d", err);
	CHECK_MSG(ext[0], "no extack text for %d", err);
	printf("# kernel: \"%s\"\n", ext);
	CHECK_EQ(iam_nl_route_add(nl, &p, NULL, ix, ext, sizeof(ext)), -EINVAL);

	/* A global next hop resolved through a connected route. */
	REQUIRE_EQ(system("ip -6 route add 2001:db8:ffff::/64 dev iamv0"), 0);
	REQUIRE_EQ(iam_nl_route_add(nl, &p, &far, 0, ext, sizeof(ext)), 0);
	CHECK_STR(sh("ip -6 route show 2001:db8:3::/64"),
		  "2001:db8:3::/64 via 2001:db8:ffff::9 dev iamv0 proto 241 "
		  "metric 1024 pref medium\n");
	REQUIRE_EQ(iam_nl_route_del(nl, &p, NULL, 0, ext, sizeof(ext)), 0);
	CHECK_EQ(iam_nl_route_del(nl, &p, NULL, 0, ext, sizeof(ext)), -ESRCH);
	CHECK_STR(sh("ip -6 route show 2001:db8:3::/64"), "");
	/* Only IAM's routes are IAM's to remove. */
	REQUIRE_EQ(system("ip -6 route add 2001:db8:4::/64 via fe80::1 dev "
			  "iamv0 proto static"),
		   0);
	p = pfx("2001:db8:4::/64");
	CHECK_EQ(iam_nl_route_del(nl, &p, NULL, 0, ext, sizeof(ext)), -ESRCH);
	iam_nl_close(nl);
}

struct listed {
	int n;
	char text[1024];
};

static int list_cb(const struct iam_nl_route *r, void *arg)
{
	struct listed *l = arg;
	char p[IAM_PREFIX_STRLEN];

	l->n++;
	snprintf(l->text + strlen(l->text), sizeof(l->text) - strlen(l->text),
		 "%s t%u %s;", iam_addr_prefix_fmt(&r->dst, p, sizeof(p)),
		 r->table, r->type == RTN_LOCAL ? "local" : "unicast");
	return 0;
}

TEST(list_and_flush)
{
	struct iam_prefix pool = pfx("2001:db8:1:c0a8:a010::1:0/114");
	struct iam_prefix r1 = pfx("2001:db8:2::/80");
	struct iam_prefix r2 = pfx("2001:db8:3::/80");
	struct in6_addr ll = in6("fe80::1");
	struct listed l = { 0 };
	struct iam_nl *nl;
	unsigned removed = 0;
	char ext[256];
	uint32_t ix;

	netns();
	ix = veth();
	REQUIRE_EQ(iam_nl_open(&nl), 0);
	REQUIRE_EQ(iam_nl_local_add(nl, &pool, ix, ext, sizeof(ext)), 0);
	REQUIRE_EQ(iam_nl_route_add(nl, &r1, &ll, ix, ext, sizeof(ext)), 0);
	REQUIRE_EQ(iam_nl_route_add(nl, &r2, &ll, ix, ext, sizeof(ext)), 0);
	REQUIRE_EQ(system("ip -6 route add 2001:db8:4::/64 via fe80::1 dev "
			  "iamv0 proto static"),
		   0);
	REQUIRE_EQ(iam_nl_route_list(nl, list_cb, &l, ext, sizeof(ext)), 0);
	CHECK_EQ(l.n, 3);
	CHECK_STR(l.text, "2001:db8:2::/80 t254 unicast;"
			  "2001:db8:3::/80 t254 unicast;"
			  "2001:db8:1:c0a8:a010:0:1:0/114 t255 local;");
	REQUIRE_EQ(iam_nl_flush(nl, &removed, ext, sizeof(ext)), 0);
	CHECK_EQ(removed, 3);
	CHECK_STR(sh("ip -6 route show proto 241; "
		     "ip -6 route show table local proto 241"),
		  "");
	CHECK_STR(sh("ip -6 route show proto static"),
		  "2001:db8:4::/64 via fe80::1 dev iamv0 metric 1024 pref "
		  "medium\n");
	REQUIRE_EQ(iam_nl_flush(nl, &removed, ext, sizeof(ext)), 0);
	CHECK_EQ(removed, 0);
	iam_nl_close(nl);
}

/* Many routes: the dump spans several reads. */
TEST(list_many)
{
	struct in6_addr ll = in6("fe80::1");
	struct listed l = { 0 };
	struct iam_nl *nl;
	unsigned removed;
	char ext[256];
	uint32_t ix;

	netns();
	ix = veth();
	REQUIRE_EQ(iam_nl_open(&nl), 0);
	for (unsigned i = 0; i < 2000; i++) {
		struct iam_prefix p = pfx("2001:db8:5::/128");

		p.addr.s6_addr[14] = (uint8_t)(i >> 8);
		p.addr.s6_addr[15] = (uint8_t)i;
		REQUIRE_EQ(iam_nl_route_add(nl, &p, &ll, ix, ext, sizeof(ext)),
			   0);
	}
	REQUIRE_EQ(iam_nl_route_list(nl, list_cb, &l, ext, sizeof(ext)), 0);
	CHECK_EQ(l.n, 2000);
	REQUIRE_EQ(iam_nl_flush(nl, &removed, ext, sizeof(ext)), 0);
	CHECK_EQ(removed, 2000);
	CHECK_STR(sh("ip -6 route show proto 241 | wc -l"), "0\n");
	iam_nl_close(nl);
}
