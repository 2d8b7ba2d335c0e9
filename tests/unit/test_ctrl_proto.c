// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Control protocol codec (user/ctrl_proto.c): round trips and a table of
 * malformed messages, each of which must be refused with a reason. */
#include <arpa/inet.h>

#include "ctrl_proto.h"
#include "iam_const.h"
#include "iam_test.h"

static size_t enc(const struct iam_ctrl_msg *m, uint8_t *buf, size_t cap)
{
	ssize_t n = iam_ctrl_encode(m, buf, cap);

	REQUIRE(n > 0);
	return (size_t)n;
}

TEST(roundtrip_every_type)
{
	struct iam_ctrl_run_h runs[3];
	struct iam_ctrl_msg m, d;
	uint8_t buf[4096];
	const char *why = NULL;
	size_t n, fl;

	for (int i = 0; i < 3; i++) {
		inet_pton(AF_INET6, "2001:db8:1:c0a8:a010::100",
			  &runs[i].first);
		runs[i].first.s6_addr[15] = (uint8_t)(i * 16);
		runs[i].count = (uint32_t)(16 >> i);
	}
	memset(&m, 0, sizeof(m));
	m.type = IAM_CTRL_RESERVE;
	m.xid = 7;
	m.reserve.nblocks = 100;
	m.reserve.lease_ms = 30000;
	m.reserve.borrower_id = 0x0a000001;
	m.reserve.rights = IAM_RIGHTS_RW;
	m.reserve.block_shift = 16;
	n = enc(&m, buf, sizeof(buf));
	CHECK_EQ(n, 32);
	CHECK_EQ(iam_ctrl_frame(buf, n, &fl, &why), 0);
	CHECK_EQ(fl, n);
	CHECK_EQ(iam_ctrl_frame(buf, n - 1, &fl, &why), -EAGAIN);
	REQUIRE_EQ(iam_ctrl_decode(buf, n, &d, &why), 0);
	CHECK_EQ(d.type, IAM_CTRL_RESERVE);
	CHECK_EQ(d.xid, 7);
	CHECK_EQ(d.reserve.nblocks, 100);
	CHECK_EQ(d.reserve.lease_ms, 30000);
	CHECK_EQ(d.reserve.borrower_id, 0x0a000001);
	CHECK_EQ(d.reserve.rights, IAM_RIGHTS_RW);
	CHECK_EQ(d.reserve.block_shift, 16);

	memset(&m, 0, sizeof(m));
	m.type = IAM_CTRL_RESERVED;
	m.xid = 8;
	m.reserved.resv_id = 0x1122334455667788ull;
	m.reserved.ttl_ms = 5000;
	m.reserved.nruns = 3;
	m.reserved.block_shift = 16;
	m.reserved.rdma = 1;
	m.reserved.runs = runs;
	n = enc(&m, buf, sizeof(buf));
	CHECK_EQ(n, 16 + 24 + 3 * 24);
	REQUIRE_EQ(iam_ctrl_decode(buf, n, &d, &why), 0);
	CHECK(d.reserved.resv_id == 0x1122334455667788ull);
	CHECK_EQ(d.reserved.nruns, 3);
	CHECK_EQ(d.reserved.rdma, 1);
	for (uint32_t i = 0; i < 3; i++) {
		struct iam_ctrl_run_h r;

		iam_ctrl_run_get(&d, i, &r);
		CHECK(!memcmp(&r.first, &runs[i].first, 16));
		CHECK_EQ(r.count, runs[i].count);
	}

	static const uint32_t rkeys[2] = { 0xdeadbeef, 7 };

	memset(&m, 0, sizeof(m));
	m.type = IAM_CTRL_CONFIRMED;
	m.confirmed.alloc_id = 42;
	m.confirmed.lease_ms = 1000;
	m.confirmed.nrkeys = 2;
	m.confirmed.rkeys = rkeys;
	n = enc(&m, buf, sizeof(buf));
	CHECK_EQ(n, 16 + 16 + 8);
	REQUIRE_EQ(iam_ctrl_decode(buf, n, &d, &why), 0);
	CHECK_EQ(d.confirmed.alloc_id, 42);
	CHECK_EQ(d.confirmed.nrkeys, 2);
	CHECK_EQ(iam_ctrl_rkey_get(&d, 0), 0xdeadbeef);
	CHECK_EQ(iam_ctrl_rkey_get(&d, 1), 7);
	buf[16 + 15] = 3; /* one rkey more than present */
	CHECK_EQ(iam_ctrl_decode(buf, n, &d, &why), -EBADMSG);

	iam_ctrl_error_init(&m, 9, IAM_CTRL_RESERVE, ENOSPC,
			    "only 3 blocks free\n");
	n = enc(&m, buf, sizeof(buf));
	REQUIRE_EQ(iam_ctrl_decode(buf, n, &d, &why), 0);
	CHECK_EQ(d.error.code, ENOSPC);
	CHECK_EQ(d.error.request, IAM_CTRL_RESERVE);
	/* The newline is not printable: it arrives as '?'. */
	CHECK_STR(d.error.msg, "only 3 blocks free?");

	for (uint8_t t = IAM_CTRL_CONFIRM; t <= IAM_CTRL_RENEWED; t++) {
		if (t == IAM_CTRL_CONFIRMED)
			continue;
		memset(&m, 0, sizeof(m));
		m.type = t;
		m.id.id = 5;
		if (t == IAM_CTRL_RENEW)
			m.renew.lease_ms = 10;
		n = enc(&m, buf, sizeof(buf));
		CHECK_MSG(iam_ctrl_decode(buf, n, &d, &why) == 0, "%s: %s",
			  iam_ctrl_type_name(t), why);
		CHECK_EQ(d.type, t);
	}
	CHECK_EQ(iam_ctrl_encode(&m, buf, 10), -ENOSPC);
}

/* Build a RESERVE and then break one thing in it. */
static size_t base_reserve(uint8_t *buf)
{
	struct iam_ctrl_msg m = { .type = IAM_CTRL_RESERVE };

	m.reserve.nblocks = 1;
	m.reserve.lease_ms = 200;
	m.reserve.rights = IAM_RIGHTS_RO;
	m.reserve.block_shift = 16;
	return (size_t)iam_ctrl_encode(&m, buf, 64);
}

TEST(malformed_messages_are_refused_with_a_reason)
{
	static const struct {
		const char *name;
		int off; /* byte to change, -1: none */
		uint8_t val;
		int trunc; /* bytes to drop from the end */
		int extra; /* bytes to append (len patched) */
		int err;
		const char *why; /* substring of the reason */
	} v[] = {
		{ "version 2", 0, 2, 0, 0, -EPROTONOSUPPORT, "version" },
		{ "version 0", 0, 0, 0, 0, -EPROTONOSUPPORT, "version" },
		{ "type 0", 1, 0, 0, 0, -EBADMSG, "unknown message type" },
		{ "type 9", 1, 9, 0, 0, -EBADMSG, "unknown message type" },
		{ "type 255", 1, 255, 0, 0, -EBADMSG, "unknown message type" },
		{ "len below header", 7, 8, 0, 0, -EBADMSG,
		  "shorter than the header" },
		{ "len over 64K", 5, 0x02, 0, 0, -EBADMSG, "64 KiB" },
		{ "truncated body", -1, 0, 4, 0, -EBADMSG,
		  "shorter than its header says" },
		{ "trailing bytes", -1, 0, 0, 4, -EBADMSG, "trailing" },
		{ "zero blocks", 19, 0, 0, 0, -EBADMSG, "zero blocks" },
		{ "zero lease", 23, 0, 0, 0, -EBADMSG, "zero lease" },
		{ "rights 3", 28, 3, 0, 0, -EBADMSG, "rights" },
		{ "rights 0", 28, 0, 0, 0, -EBADMSG, "rights" },
		{ "block shift 11", 29, 11, 0, 0, -EBADMSG, "block size" },
		{ "block shift 22", 29, 22, 0, 0, -EBADMSG, "block size" },
	};
	uint8_t buf[128];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct iam_ctrl_msg d;
		const char *why = "";
		size_t n = base_reserve(buf);
		int err;

		if (v[i].off >= 0)
			buf[v[i].off] = v[i].val;
		if (v[i].extra) {
			memset(buf + n, 0, (size_t)v[i].extra);
			n += (size_t)v[i].extra;
			buf[7] = (uint8_t)n;
		}
		n -= (size_t)v[i].trunc;
		err = iam_ctrl_decode(buf, n, &d, &why);
		CHECK_MSG(err == v[i].err, "%s: err %d want %d (%s)", v[i].name,
			  err, v[i].err, why);
		CHECK_MSG(strstr(why, v[i].why), "%s: reason \"%s\"", v[i].name,
			  why);
	}
}

TEST(malformed_reserved_and_error)
{
	struct iam_ctrl_run_h run = { .count = 4 };
	struct iam_ctrl_msg m = { .type = IAM_CTRL_RESERVED }, d;
	uint8_t buf[256];
	const char *why = "";
	size_t n;

	m.reserved.nruns = 1;
	m.reserved.block_shift = 16;
	m.reserved.runs = &run;
	n = (size_t)iam_ctrl_encode(&m, buf, sizeof(buf));
	CHECK_EQ(iam_ctrl_decode(buf, n, &d, &why), 0);
	buf[16 + 15] = 2; /* nruns 2, only one present */
	CHECK_EQ(iam_ctrl_decode(buf, n, &d, &why), -EBADMSG);
	CHECK(strstr(why, "run count") != NULL);
	buf[16 + 15] = 0; /* nruns 0 */
	CHECK_EQ(iam_ctrl_decode(buf, n, &d, &why), -EBADMSG);
	buf[16 + 15] = 1;
	buf[16 + 24 + 19] = 0; /* run of zero blocks */
	CHECK_EQ(iam_ctrl_decode(buf, n, &d, &why), -EBADMSG);
	CHECK(strstr(why, "zero blocks") != NULL);

	iam_ctrl_error_init(&m, 1, 1, EIO, "abc");
	n = (size_t)iam_ctrl_encode(&m, buf, sizeof(buf));
	buf[16 + 5] = 4; /* text length past the end */
	CHECK_EQ(iam_ctrl_decode(buf, n, &d, &why), -EBADMSG);
	CHECK(strstr(why, "text length") != NULL);
}
