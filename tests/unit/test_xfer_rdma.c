// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The RDMA transport's behaviour where there is no RDMA (this host): the
 * agent relies on clean failures to fall back to TCP.  The transport
 * itself is tested on soft-RoCE by tests/vm/test_rdma.c.
 */
#include <arpa/inet.h>

#include "iam_const.h"
#include "iam_test.h"
#include "loop.h"
#include "xfer/rdma.h"

TEST(netdev_without_rdma)
{
	CHECK(!iam_rdma_netdev_has_rdma("lo"));
	CHECK(!iam_rdma_netdev_has_rdma("iamnosuchdev0"));
	CHECK(!iam_rdma_netdev_has_rdma(""));
	CHECK(!iam_rdma_netdev_has_rdma(NULL));
}

TEST(server_on_an_address_without_rdma_fails_cleanly)
{
	struct iam_rdma_server *s = NULL;
	struct iam_loop *loop;

	REQUIRE_EQ(iam_loop_create(&loop), 0);
	/* Loopback never has an RDMA device bound (rxe is per netdev). */
	CHECK(iam_rdma_server_create(loop, &in6addr_loopback, IAM_PORT_RDMA_CM,
				     &s) < 0);
	CHECK(s == NULL);
	CHECK_EQ(iam_rdma_server_create(NULL, &in6addr_loopback,
					IAM_PORT_RDMA_CM, &s),
		 -EINVAL);
	CHECK_EQ(iam_rdma_server_create(loop, NULL, IAM_PORT_RDMA_CM, &s),
		 -EINVAL);
	CHECK_EQ(iam_rdma_server_create(loop, &in6addr_loopback, 0, &s),
		 -EINVAL);
	iam_rdma_server_destroy(NULL);
	iam_rdma_server_dereg(NULL);
	CHECK_EQ(iam_rdma_server_reg(NULL, &s, 8, IAM_RIGHTS_RO, NULL, NULL),
		 -EINVAL);
	iam_loop_destroy(loop);
}

TEST(connect_rejects_bad_arguments_and_missing_rdma)
{
	struct iam_xfer_conn *c = NULL;
	struct in6_addr a;

	inet_pton(AF_INET6, "fd77:0:0:a::7", &a);
	CHECK_EQ(iam_rdma_connect(NULL, &a, IAM_PORT_RDMA_CM, 0, 100, &c),
		 -EINVAL);
	CHECK_EQ(iam_rdma_connect(NULL, &a, IAM_PORT_RDMA_CM,
				  IAM_RDMA_MAX_IO + 1, 100, &c),
		 -EINVAL);
	CHECK_EQ(iam_rdma_connect(NULL, &a, IAM_PORT_RDMA_CM, 4096, 0, &c),
		 -EINVAL);
	CHECK_EQ(iam_rdma_connect(NULL, &a, 0, 4096, 100, &c), -EINVAL);
	CHECK_EQ(iam_rdma_connect(NULL, NULL, IAM_PORT_RDMA_CM, 4096, 100, &c),
		 -EINVAL);
	/* No RDMA here: a clean error within the timeout, nothing returned. */
	CHECK(iam_rdma_connect(&in6addr_loopback, &in6addr_loopback,
			       IAM_PORT_RDMA_CM, 4096, 200, &c) < 0);
	CHECK(c == NULL);
}

TEST(connection_helpers_accept_other_transports)
{
	struct iam_xfer_ops other = { .name = "other" };
	struct iam_xfer_conn c = { .ops = &other, .max_io = 4096 };

	CHECK(!iam_rdma_conn_broken(NULL));
	CHECK(!iam_rdma_conn_broken(&c));
	CHECK_EQ(iam_rdma_conn_repair(NULL, 100), -EINVAL);
	CHECK_EQ(iam_rdma_conn_repair(&c, 100), -EINVAL);
	iam_rdma_conn_set_spin(NULL, 5);
	iam_rdma_conn_set_spin(&c, 5);
	CHECK_STR(iam_rdma_ops.name, "rdma");
	iam_xfer_close(NULL);
}
