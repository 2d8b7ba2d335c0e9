// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* TCP transport (user/xfer/tcp*.c) over loopback with a resolver that
 * plays the pool: four 16 KiB blocks; ::1 holds block 0 read-write and
 * block 1 read-only; blocks 2 and 3 belong to someone else. */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "iam_proto.h"
#include "iam_test.h"
#include "xfer/tcp.h"

#define BS 16384
static uint8_t pool[4 * BS];
static int holds; /* resolve took, finish dropped */

static int blk_index(const struct in6_addr *b)
{
	/* fd00::b0 .. fd00::b3 */
	static const uint8_t pre[15] = { 0xfd };

	if (memcmp(b, pre, 15) || (b->s6_addr[15] & 0xf0) != 0xb0)
		return -1;
	return b->s6_addr[15] & 0x0f;
}

static int resolve(void *arg, const struct in6_addr *peer,
		   const struct in6_addr *block, uint32_t off, uint32_t len,
		   bool write, void **mem, struct iam_tcpx_token *tok)
{
	int i = blk_index(block);

	if (i < 0 || i > 3)
		return -ENOENT;
	if (!IN6_IS_ADDR_LOOPBACK(peer) || i > 1)
		return -EACCES;
	if (write && i != 0)
		return -EACCES;
	if (off > BS || len > BS - off)
		return -EINVAL;
	*mem = pool + (size_t)i * BS + off;
	tok->a = (uint64_t)i;
	holds++;
	return 0;
}

static void finish(void *arg, bool write, const struct iam_tcpx_token *tok)
{
	holds--;
}

static struct iam_tcpx_server *start(void)
{
	struct iam_tcpx_server_config cfg = {
		.addr = in6addr_loopback,
		.port = 0,
		.max_io = BS,
		.cpu = -1,
		.access = { resolve, finish, NULL },
	};
	struct iam_tcpx_server *s = NULL;

	REQUIRE_EQ(iam_tcpx_server_start(&cfg, &s), 0);
	return s;
}

static struct iam_xfer_target tgt(int i)
{
	struct iam_xfer_target t = { .remote_addr = 0 };

	t.block.s6_addr[0] = 0xfd;
	t.block.s6_addr[15] = (uint8_t)(0xb0 | i);
	return t;
}

TEST(read_write_ping_and_refusals)
{
	struct iam_tcpx_server *s = start();
	struct iam_tcpx_server_stats st;
	struct iam_xfer_conn *c;
	struct iam_xfer_target t0 = tgt(0), t1 = tgt(1), t2 = tgt(2),
			       t9 = tgt(9);
	const uint8_t *d;
	uint8_t *w;

	for (size_t i = 0; i < sizeof(pool); i++)
		pool[i] = (uint8_t)(i * 7 + 3);
	REQUIRE_EQ(iam_tcpx_connect(NULL, &in6addr_loopback,
				    iam_tcpx_server_port(s), BS, 2000, &c),
		   0);
	CHECK_STR(c->ops->name, "tcp");
	REQUIRE_EQ(iam_xfer_read(c, &t1, 4096, 4096, (const void **)&d), 0);
	CHECK(!memcmp(d, pool + BS + 4096, 4096));
	w = c->ops->write_buf(c);
	memset(w, 0xab, 4096);
	CHECK_EQ(iam_xfer_write(c, &t0, 8192, 4096), 0);
	CHECK(pool[8192] == 0xab && pool[8192 + 4095] == 0xab);
	CHECK(pool[8191] != 0xab);
	/* Refusals leave the stream usable and change nothing. */
	memset(w, 0xcd, 4096);
	CHECK_EQ(iam_xfer_write(c, &t1, 0, 4096), -EACCES);
	CHECK(pool[BS] != 0xcd);
	CHECK_EQ(iam_xfer_read(c, &t2, 0, 4096, (const void **)&d), -EACCES);
	CHECK_EQ(iam_xfer_read(c, &t9, 0, 4096, (const void **)&d), -ENOENT);
	CHECK_EQ(iam_xfer_read(c, &t0, BS - 100, 4096, (const void **)&d),
		 -EINVAL);
	CHECK_EQ(iam_xfer_read(c, &t0, 0, BS + 1, (const void **)&d), -EINVAL);
	/* Every hold the resolver took was dropped. */
	CHECK_EQ(holds, 0);
	CHECK_EQ(iam_tcpx_ping(c, 4096), 0);
	REQUIRE_EQ(iam_xfer_read(c, &t0, 8192, 4096, (const void **)&d), 0);
	CHECK(d[0] == 0xab);
	iam_tcpx_server_get_stats(s, &st);
	CHECK_EQ(st.reads, 2);
	CHECK_EQ(st.writes, 1);
	CHECK_EQ(st.pings, 1);
	CHECK_EQ(st.denied, 4);
	iam_xfer_close(c);
	iam_tcpx_server_stop(s);
}

TEST(malformed_requests_close_only_that_connection)
{
	struct iam_tcpx_server *s = start();
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct iam_tcpx_server_stats st;
	struct iam_data_req req = { .version = 9, .op = IAM_DATA_READ };
	struct iam_xfer_conn *good;
	struct iam_xfer_target t0 = tgt(0);
	const uint8_t *d;
	char b;
	int fd;

	sa.sin6_port = htons(iam_tcpx_server_port(s));
	REQUIRE_EQ(iam_tcpx_connect(NULL, &in6addr_loopback,
				    iam_tcpx_server_port(s), BS, 2000, &good),
		   0);
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	REQUIRE_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(send(fd, &req, sizeof(req), 0), (ssize_t)sizeof(req));
	CHECK_EQ(recv(fd, &b, 1, 0), 0); /* closed by the server */
	close(fd);
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	REQUIRE_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	req.version = IAM_PROTO_VERSION;
	req.len = htonl(BS + 1);
	CHECK_EQ(send(fd, &req, sizeof(req), 0), (ssize_t)sizeof(req));
	CHECK_EQ(recv(fd, &b, 1, 0), 0);
	close(fd);
	/* Half a request, then hang up: nothing to answer. */
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	REQUIRE_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(send(fd, &req, 10, 0), 10);
	close(fd);
	CHECK_EQ(iam_xfer_read(good, &t0, 0, 4096, (const void **)&d), 0);
	iam_tcpx_server_get_stats(s, &st);
	CHECK_EQ(st.malformed, 2);
	iam_xfer_close(good);
	iam_tcpx_server_stop(s);
}

TEST(dead_lender_fails_fast)
{
	struct iam_tcpx_server *s = start();
	struct iam_xfer_target t0 = tgt(0);
	struct iam_xfer_conn *c;
	const uint8_t *d;
	int err;

	REQUIRE_EQ(iam_tcpx_connect(NULL, &in6addr_loopback,
				    iam_tcpx_server_port(s), BS, 1000, &c),
		   0);
	iam_tcpx_server_stop(s);
	err = iam_xfer_read(c, &t0, 0, 4096, (const void **)&d);
	CHECK_MSG(err == -ECONNRESET || err == -EPIPE, "err %d", err);
	/* Broken stays broken. */
	CHECK_EQ(iam_xfer_read(c, &t0, 0, 4096, (const void **)&d), err);
	iam_xfer_close(c);
	CHECK(iam_tcpx_connect(NULL, &in6addr_loopback, 1, BS, 500, &c) < 0);
}

/* A borrower that opens connections without end gets 64; the 65th and on
 * are closed at once, and the ones it has keep working. */
TEST(connections_per_address_are_capped)
{
	struct iam_tcpx_server *s = start();
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct iam_xfer_conn *good;
	struct iam_xfer_target t0 = tgt(0);
	const uint8_t *d;
	int fds[70], closed = 0;
	char b;

	sa.sin6_port = htons(iam_tcpx_server_port(s));
	REQUIRE_EQ(iam_tcpx_connect(NULL, &in6addr_loopback,
				    iam_tcpx_server_port(s), BS, 2000, &good),
		   0);
	for (int i = 0; i < 70; i++) {
		fds[i] = socket(AF_INET6, SOCK_STREAM, 0);
		REQUIRE(fds[i] >= 0);
		REQUIRE_EQ(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)),
			   0);
	}
	usleep(200000);
	for (int i = 0; i < 70; i++) {
		if (recv(fds[i], &b, 1, MSG_DONTWAIT) == 0)
			closed++;
	}
	/* good is one of the 64 from ::1 */
	CHECK_EQ(closed, 70 - 63);
	CHECK_EQ(iam_xfer_read(good, &t0, 0, 64, (const void **)&d), 0);
	for (int i = 0; i < 70; i++)
		close(fds[i]);
	iam_xfer_close(good);
	iam_tcpx_server_stop(s);
}
