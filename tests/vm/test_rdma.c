// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The RDMA transport (user/xfer/rdma*.c) between two soft-RoCE devices:
 * a lender (server + memory regions, its event loop on a thread) on one
 * end of a veth pair and a borrower connection from the other end, both
 * in this process.  Runs inside the tests/vm guest, which sets
 *   IAM_VM_ADDR0 / IAM_VM_NETDEV0  lender address and its netdev (rxe0)
 *   IAM_VM_ADDR1 / IAM_VM_NETDEV1  borrower address and its netdev (rxe1)
 * and is skipped anywhere else.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <sys/mman.h>

#include "iam_addr.h"
#include "iam_const.h"
#include "iam_test.h"
#include "loop.h"
#include "xfer/rdma.h"

#define TMO_MS 5000 /* connect and repair; TCG guests are slow */
#define REGION (4u << 20) /* lender memory per test */

static struct in6_addr addr_lender, addr_borrower;
static const char *dev_lender, *dev_borrower;

static void need_rdma(void)
{
	const char *a0 = getenv("IAM_VM_ADDR0"), *a1 = getenv("IAM_VM_ADDR1");

	dev_lender = getenv("IAM_VM_NETDEV0");
	dev_borrower = getenv("IAM_VM_NETDEV1");
	if (!a0 || !a1 || !dev_lender || !dev_borrower)
		SKIP("not in the tests/vm guest (IAM_VM_ADDR0/1, "
		     "IAM_VM_NETDEV0/1 unset)");
	if (inet_pton(AF_INET6, a0, &addr_lender) != 1 ||
	    inet_pton(AF_INET6, a1, &addr_borrower) != 1) {
		iam_test_fail(__FILE__, __LINE__, "bad IAM_VM_ADDR0/1: %s %s",
			      a0, a1);
		exit(IAM_T_FAIL);
	}
	if (!iam_rdma_netdev_has_rdma(dev_lender) ||
	    !iam_rdma_netdev_has_rdma(dev_borrower))
		SKIP("no RDMA device on %s or %s", dev_lender, dev_borrower);
}

/* ---- the lender: a server whose loop runs on its own thread -------------- */

struct lender {
	struct iam_loop *loop;
	struct iam_rdma_server *srv;
	pthread_t thread;
	uint8_t *mem; /* REGION bytes, page aligned */
};

static void *lender_thread(void *arg)
{
	struct lender *l = arg;

	iam_loop_run(l->loop);
	return NULL;
}

static void lender_start(struct lender *l)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	REQUIRE_EQ(iam_loop_create(&l->loop), 0);
	REQUIRE_EQ(iam_rdma_server_create(l->loop, &addr_lender,
					  IAM_PORT_RDMA_CM, &l->srv),
		   0);
	l->mem = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	REQUIRE(l->mem != MAP_FAILED);
	for (size_t i = 0; i < REGION; i += 8) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy(l->mem + i, &x, 8);
	}
	REQUIRE_EQ(pthread_create(&l->thread, NULL, lender_thread, l), 0);
}

struct loop_call {
	struct iam_loop_work w; /* first */
	struct lender *l;
	int (*fn)(struct lender *l, void *arg);
	void *arg;
	int ret;
	sem_t done;
};

static void loop_call_fn(struct iam_loop *loop, struct iam_loop_work *w)
{
	struct loop_call *c = (struct loop_call *)w;

	c->ret = c->fn(c->l, c->arg);
	sem_post(&c->done);
}

/* Run fn on the lender's loop thread (the server's loop-only calls). */
static int on_loop(struct lender *l, int (*fn)(struct lender *, void *),
		   void *arg)
{
	struct loop_call c = { .w.fn = loop_call_fn, .l = l, .fn = fn };

	c.arg = arg;
	sem_init(&c.done, 0, 0);
	iam_loop_post(l->loop, &c.w);
	while (sem_wait(&c.done) && errno == EINTR)
		;
	sem_destroy(&c.done);
	return c.ret;
}

static int conn_count_fn(struct lender *l, void *arg)
{
	return (int)iam_rdma_server_conn_count(l->srv);
}

static int disconnect_fn(struct lender *l, void *arg)
{
	return iam_rdma_server_disconnect(l->srv, arg);
}

static int destroy_fn(struct lender *l, void *arg)
{
	iam_rdma_server_destroy(l->srv);
	l->srv = NULL;
	return 0;
}

/* The server sees ESTABLISHED a little after the borrower does. */
static int wait_conn_count(struct lender *l, int want)
{
	int n = -1;

	for (int i = 0; i < 500 && n != want; i++) {
		n = on_loop(l, conn_count_fn, NULL);
		if (n != want)
			usleep(10000);
	}
	return n;
}

static void lender_stop(struct lender *l)
{
	if (l->srv)
		on_loop(l, destroy_fn, NULL);
	iam_loop_stop(l->loop);
	pthread_join(l->thread, NULL);
	iam_loop_destroy(l->loop);
	munmap(l->mem, REGION);
}

static struct iam_xfer_conn *borrow(uint32_t max_io)
{
	struct iam_xfer_conn *c = NULL;

	REQUIRE_EQ(iam_rdma_connect(&addr_borrower, &addr_lender,
				    IAM_PORT_RDMA_CM, max_io, TMO_MS, &c),
		   0);
	REQUIRE(c != NULL);
	CHECK_STR(c->ops->name, "rdma");
	CHECK_EQ(c->max_io, max_io);
	CHECK(!memcmp(&c->lender, &addr_lender, sizeof(addr_lender)));
	return c;
}

static struct iam_xfer_target target(void *block, uint32_t rkey)
{
	return (struct iam_xfer_target){ .remote_addr = (uintptr_t)block,
					 .rkey = rkey };
}

static void fill(void *p, size_t len, uint32_t seed)
{
	uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)((i * 131u + seed) ^ (i >> 8));
}

/* ---- tests ---------------------------------------------------------------- */

TEST(netdev_check)
{
	need_rdma();
	CHECK(iam_rdma_netdev_has_rdma(dev_lender));
	CHECK(iam_rdma_netdev_has_rdma(dev_borrower));
	CHECK(!iam_rdma_netdev_has_rdma("lo"));
	CHECK(!iam_rdma_netdev_has_rdma("iamnosuchdev0"));
	CHECK(!iam_rdma_netdev_has_rdma(NULL));
}

TEST(server_needs_an_rdma_address)
{
	struct iam_rdma_server *s = NULL;
	struct iam_loop *loop;
	struct in6_addr a;

	need_rdma();
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	/* ::1 is local but no RDMA device owns it; 2001:db8::77 is not ours. */
	inet_pton(AF_INET6, "::1", &a);
	CHECK(iam_rdma_server_create(loop, &a, IAM_PORT_RDMA_CM, &s) < 0);
	inet_pton(AF_INET6, "2001:db8::77", &a);
	CHECK_EQ(iam_rdma_server_create(loop, &a, IAM_PORT_RDMA_CM, &s),
		 -EADDRNOTAVAIL);
	CHECK(s == NULL);
	CHECK_EQ(iam_rdma_server_create(loop, &addr_lender, 0, &s), -EINVAL);
	iam_loop_destroy(loop);
}

TEST(connect_refused_without_listener)
{
	struct iam_xfer_conn *c = NULL;
	struct lender l = { 0 };

	need_rdma();
	lender_start(&l);
	CHECK_EQ(iam_rdma_connect(&addr_borrower, &addr_lender,
				  IAM_PORT_RDMA_CM + 100, 4096, TMO_MS, &c),
		 -ECONNREFUSED);
	CHECK(c == NULL);
	CHECK_EQ(iam_rdma_connect(&addr_borrower, &addr_lender,
				  IAM_PORT_RDMA_CM, 0, TMO_MS, &c),
		 -EINVAL);
	CHECK_EQ(iam_rdma_connect(&addr_borrower, &addr_lender,
				  IAM_PORT_RDMA_CM, IAM_RDMA_MAX_IO + 1, TMO_MS,
				  &c),
		 -EINVAL);
	lender_stop(&l);
}

TEST(read_write_byte_for_byte)
{
	static const struct {
		uint32_t off, len;
	} io[] = {
		{ 0, 1 },	  { 0, 4096 },	     { 4095, 2 },
		{ 12345, 65536 }, { 65536, 65536 },  { 100000, 777 },
		{ 1, 65535 },	  { 131072 - 3, 3 },
	};
	struct lender l = { 0 };
	struct iam_xfer_conn *c;
	struct iam_rdma_mr *mr;
	uint8_t *ref, *block, *wb;
	const void *data;
	uint32_t rkey;

	need_rdma();
	lender_start(&l);
	REQUIRE_EQ(iam_rdma_server_reg(l.srv, l.mem, REGION, IAM_RIGHTS_RW, &mr,
				       &rkey),
		   0);
	c = borrow(65536);
	CHECK_EQ(wait_conn_count(&l, 1), 1);
	block = l.mem + (1u << 20); /* a block in the middle of the region */
	struct iam_xfer_target t = target(block, rkey);

	for (size_t i = 0; i < sizeof(io) / sizeof(io[0]); i++) {
		data = NULL;
		REQUIRE_EQ(iam_xfer_read(c, &t, io[i].off, io[i].len, &data),
			   0);
		CHECK_MSG(!memcmp(data, block + io[i].off, io[i].len),
			  "read %u bytes at %u differ", io[i].len, io[i].off);
	}
	/* Writes land exactly where asked, nothing around them moves. */
	ref = malloc(REGION);
	REQUIRE(ref);
	memcpy(ref, l.mem, REGION);
	wb = c->ops->write_buf(c);
	REQUIRE(wb != NULL);
	for (size_t i = 0; i < sizeof(io) / sizeof(io[0]); i++) {
		fill(wb, io[i].len, (uint32_t)i + 7);
		memcpy(ref + (block - l.mem) + io[i].off, wb, io[i].len);
		REQUIRE_EQ(iam_xfer_write(c, &t, io[i].off, io[i].len), 0);
		CHECK_MSG(!memcmp(l.mem, ref, REGION),
			  "lender memory differs after write %zu", i);
	}
	/* And read back through RDMA: the staging buffers are distinct. */
	fill(wb, 65536, 99);
	REQUIRE_EQ(iam_xfer_write(c, &t, 0, 65536), 0);
	REQUIRE_EQ(iam_xfer_read(c, &t, 0, 65536, &data), 0);
	CHECK(data != wb);
	CHECK(!memcmp(data, wb, 65536));
	CHECK(!memcmp(block, wb, 65536));
	CHECK(!iam_rdma_conn_broken(c));
	free(ref);
	iam_xfer_close(c);
	iam_rdma_server_dereg(mr);
	lender_stop(&l);
}

TEST(max_io_and_region_bounds)
{
	struct lender l = { 0 };
	struct iam_xfer_conn *c;
	struct iam_rdma_mr *mr;
	const void *data;
	uint32_t rkey;

	need_rdma();
	lender_start(&l);
	REQUIRE_EQ(iam_rdma_server_reg(l.srv, l.mem, REGION, IAM_RIGHTS_RW, &mr,
				       &rkey),
		   0);
	c = borrow(8192);
	struct iam_xfer_target t = target(l.mem, rkey);

	/* max_io exactly is fine; one more, or nothing, is a caller error
	 * that leaves the connection alone. */
	CHECK_EQ(iam_xfer_read(c, &t, 0, 8192, &data), 0);
	CHECK(!memcmp(data, l.mem, 8192));
	CHECK_EQ(iam_xfer_read(c, &t, 0, 8193, &data), -EINVAL);
	CHECK_EQ(iam_xfer_read(c, &t, 0, 0, &data), -EINVAL);
	CHECK_EQ(iam_xfer_write(c, &t, 0, 8193), -EINVAL);
	struct iam_xfer_target wrap = target((void *)(UINTPTR_MAX - 100), rkey);
	CHECK_EQ(iam_xfer_read(c, &wrap, 0, 200, &data), -EINVAL);
	CHECK_EQ(iam_xfer_read(c, &t, UINT32_MAX, 8192, &data), -EACCES);
	CHECK(iam_rdma_conn_broken(c));
	REQUIRE_EQ(iam_rdma_conn_repair(c, TMO_MS), 0);
	CHECK(!iam_rdma_conn_broken(c));

	/* The last max_io bytes of the region, then one byte past it. */
	CHECK_EQ(iam_xfer_read(c, &t, REGION - 8192, 8192, &data), 0);
	CHECK(!memcmp(data, l.mem + REGION - 8192, 8192));
	CHECK_EQ(iam_xfer_read(c, &t, REGION - 8191, 8192, &data), -EACCES);
	CHECK(iam_rdma_conn_broken(c));
	/* Broken: refused at once, until repaired. */
	CHECK_EQ(iam_xfer_read(c, &t, 0, 4096, &data), -ECONNRESET);
	CHECK_EQ(iam_xfer_write(c, &t, 0, 4096), -ECONNRESET);
	CHECK_EQ(iam_xfer_read(c, &t, 0, 8193, &data), -EINVAL);
	REQUIRE_EQ(iam_rdma_conn_repair(c, TMO_MS), 0);
	CHECK_EQ(iam_rdma_conn_repair(c, TMO_MS), 0); /* not broken: no-op */
	CHECK_EQ(iam_xfer_read(c, &t, 4096, 8192, &data), 0);
	CHECK(!memcmp(data, l.mem + 4096, 8192));
	/* Writes past the end do not touch what lies before it. */
	uint8_t last[16];

	memcpy(last, l.mem + REGION - 16, 16);
	memset(c->ops->write_buf(c), 0x5a, 32);
	CHECK_EQ(iam_xfer_write(c, &t, REGION - 16, 32), -EACCES);
	CHECK(!memcmp(last, l.mem + REGION - 16, 16));
	REQUIRE_EQ(iam_rdma_conn_repair(c, TMO_MS), 0);
	/* The server saw the old queue pairs go and the new one come. */
	CHECK_EQ(wait_conn_count(&l, 1), 1);
	iam_xfer_close(c);
	iam_rdma_server_dereg(mr);
	lender_stop(&l);
}

TEST(released_rkey_fails)
{
	struct lender l = { 0 };
	struct iam_xfer_conn *c;
	struct iam_rdma_mr *mr;
	uint32_t rkey, rkey2;
	uint8_t before[4096];
	const void *data;

	need_rdma();
	lender_start(&l);
	REQUIRE_EQ(iam_rdma_server_reg(l.srv, l.mem, 65536, IAM_RIGHTS_RW, &mr,
				       &rkey),
		   0);
	c = borrow(4096);
	struct iam_xfer_target t = target(l.mem, rkey);

	REQUIRE_EQ(iam_xfer_read(c, &t, 0, 4096, &data), 0);
	CHECK(!memcmp(data, l.mem, 4096));
	/* Release: the rkey dies with the region. */
	iam_rdma_server_dereg(mr);
	CHECK_EQ(iam_xfer_read(c, &t, 0, 4096, &data), -EACCES);
	CHECK(iam_rdma_conn_broken(c));
	REQUIRE_EQ(iam_rdma_conn_repair(c, TMO_MS), 0);
	memcpy(before, l.mem, sizeof(before));
	memset(c->ops->write_buf(c), 0xee, 4096);
	CHECK_EQ(iam_xfer_write(c, &t, 0, 4096), -EACCES);
	CHECK(!memcmp(before, l.mem, sizeof(before)));
	REQUIRE_EQ(iam_rdma_conn_repair(c, TMO_MS), 0);

	/* The same memory lent again gets a new rkey; the old one stays
	 * dead, the new one works. */
	REQUIRE_EQ(iam_rdma_server_reg(l.srv, l.mem, 65536, IAM_RIGHTS_RW, &mr,
				       &rkey2),
		   0);
	CHECK(rkey2 != rkey);
	CHECK_EQ(iam_xfer_read(c, &t, 0, 4096, &data), -EACCES);
	REQUIRE_EQ(iam_rdma_conn_repair(c, TMO_MS), 0);
	t.rkey = rkey2;
	CHECK_EQ(iam_xfer_read(c, &t, 0, 4096, &data), 0);
	CHECK(!memcmp(data, l.mem, 4096));
	iam_xfer_close(c);
	iam_rdma_server_dereg(mr);
	lender_stop(&l);
}

TEST(rkeys_never_reused)
{
	struct lender l = { 0 };
	struct iam_rdma_mr *mr;
	static uint32_t seen[600];

	need_rdma();
	lender_start(&l);
	/* Register and release the same block many times: every rkey is
	 * new, although the device recycles its region indexes. */
	for (int i = 0; i < 600; i++) {
		REQUIRE_EQ(iam_rdma_server_reg(l.srv, l.mem, 4096,
					       IAM_RIGHTS_RO, &mr, &seen[i]),
			   0);
		for (int j = 0; j < i; j++)
			CHECK_MSG(seen[j] != seen[i],
				  "rkey %#x handed out twice (%d, %d)", seen[i],
				  j, i);
		iam_rdma_server_dereg(mr);
	}
	CHECK_EQ(iam_rdma_server_reg(l.srv, l.mem, 4096, 3, &mr, &seen[0]),
		 -EINVAL);
	CHECK_EQ(iam_rdma_server_reg(l.srv, l.mem, 0, IAM_RIGHTS_RO, &mr,
				     &seen[0]),
		 -EINVAL);
	iam_rdma_server_dereg(NULL);
	lender_stop(&l);
}

TEST(read_only_allocation)
{
	struct lender l = { 0 };
	struct iam_xfer_conn *c;
	struct iam_rdma_mr *mr;
	uint8_t before[4096];
	const void *data;
	uint32_t rkey;

	need_rdma();
	lender_start(&l);
	REQUIRE_EQ(iam_rdma_server_reg(l.srv, l.mem, 65536, IAM_RIGHTS_RO, &mr,
				       &rkey),
		   0);
	c = borrow(4096);
	struct iam_xfer_target t = target(l.mem, rkey);

	memcpy(before, l.mem, sizeof(before));
	CHECK_EQ(iam_xfer_read(c, &t, 0, 4096, &data), 0);
	CHECK(!memcmp(data, l.mem, 4096));
	memset(c->ops->write_buf(c), 0x11, 4096);
	CHECK_EQ(iam_xfer_write(c, &t, 0, 4096), -EACCES);
	CHECK(!memcmp(before, l.mem, sizeof(before)));
	iam_xfer_close(c);
	iam_rdma_server_dereg(mr);
	lender_stop(&l);
}

TEST(rkey_covers_only_its_allocation)
{
	struct lender l = { 0 };
	struct iam_xfer_conn *c;
	struct iam_rdma_mr *a, *b;
	uint32_t ka, kb;
	const void *data;

	need_rdma();
	lender_start(&l);
	REQUIRE_EQ(iam_rdma_server_reg(l.srv, l.mem, 65536, IAM_RIGHTS_RW, &a,
				       &ka),
		   0);
	REQUIRE_EQ(iam_rdma_server_reg(l.srv, l.mem + 65536, 65536,
				       IAM_RIGHTS_RW, &b, &kb),
		   0);
	c = borrow(4096);
	struct iam_xfer_target ta = target(l.mem + 65536, ka);
	struct iam_xfer_target tb = target(l.mem + 65536, kb);

	CHECK_EQ(iam_xfer_read(c, &ta, 0, 4096, &data), -EACCES);
	REQUIRE_EQ(iam_rdma_conn_repair(c, TMO_MS), 0);
	CHECK_EQ(iam_xfer_read(c, &tb, 0, 4096, &data), 0);
	CHECK(!memcmp(data, l.mem + 65536, 4096));
	iam_xfer_close(c);
	iam_rdma_server_dereg(a);
	iam_rdma_server_dereg(b);
	lender_stop(&l);
}

TEST(sleeping_and_spinning_completions)
{
	struct lender l = { 0 };
	struct iam_xfer_conn *c;
	struct iam_rdma_mr *mr;
	uint64_t x = 88172645463325252ull;
	const void *data;
	uint32_t rkey;
	int bad = 0;

	need_rdma();
	lender_start(&l);
	REQUIRE_EQ(iam_rdma_server_reg(l.srv, l.mem, REGION, IAM_RIGHTS_RW, &mr,
				       &rkey),
		   0);
	c = borrow(16384);
	struct iam_xfer_target t = target(l.mem, rkey);

	/* Random reads and writes, alternating between the pure sleep path
	 * (spin 0), a long spin, and the default. */
	for (int i = 0; i < 600; i++) {
		uint32_t len, off;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		len = 1 + (uint32_t)(x % 16384);
		off = (uint32_t)((x >> 20) % (REGION - len + 1));
		iam_rdma_conn_set_spin(c,
				       i % 3 == 0 ? 0 :
				       i % 3 == 1 ? 100000 :
						    IAM_RDMA_SPIN_US_DEFAULT);
		if (i & 1) {
			fill(c->ops->write_buf(c), len, (uint32_t)i);
			if (iam_xfer_write(c, &t, off, len) ||
			    memcmp(l.mem + off, c->ops->write_buf(c), len))
				bad++;
		} else if (iam_xfer_read(c, &t, off, len, &data) ||
			   memcmp(data, l.mem + off, len)) {
			bad++;
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(!iam_rdma_conn_broken(c));
	iam_xfer_close(c);
	iam_rdma_server_dereg(mr);
	lender_stop(&l);
}

TEST(lender_drops_borrower)
{
	struct lender l = { 0 };
	struct iam_xfer_conn *c, *c2;
	struct iam_rdma_mr *mr;
	const void *data;
	uint32_t rkey;
	int err;

	need_rdma();
	lender_start(&l);
	REQUIRE_EQ(iam_rdma_server_reg(l.srv, l.mem, 65536, IAM_RIGHTS_RW, &mr,
				       &rkey),
		   0);
	c = borrow(4096);
	c2 = borrow(4096);
	CHECK_EQ(wait_conn_count(&l, 2), 2);
	struct iam_xfer_target t = target(l.mem, rkey);

	REQUIRE_EQ(iam_xfer_read(c, &t, 0, 4096, &data), 0);
	/* Lease ran out: the lender drops both queue pairs of the peer. */
	CHECK_EQ(on_loop(&l, disconnect_fn, &addr_borrower), 2);
	CHECK_EQ(wait_conn_count(&l, 0), 0);
	err = iam_xfer_read(c, &t, 0, 4096, &data);
	CHECK_MSG(err == -ECONNRESET, "read after disconnect: %d", err);
	CHECK(iam_rdma_conn_broken(c));
	REQUIRE_EQ(iam_rdma_conn_repair(c, TMO_MS), 0);
	CHECK_EQ(iam_xfer_read(c, &t, 0, 4096, &data), 0);
	CHECK(!memcmp(data, l.mem, 4096));
	CHECK_EQ(wait_conn_count(&l, 1), 1);
	/* A peer the lender does not know: nothing to drop. */
	CHECK_EQ(on_loop(&l, disconnect_fn, &addr_lender), 0);
	iam_xfer_close(c);
	iam_xfer_close(c2);
	iam_rdma_server_dereg(mr);
	lender_stop(&l);
}

TEST(lender_goes_away)
{
	struct lender l = { 0 };
	struct iam_xfer_conn *c;
	struct iam_rdma_mr *mr;
	const void *data;
	uint32_t rkey;
	int err;

	need_rdma();
	lender_start(&l);
	REQUIRE_EQ(iam_rdma_server_reg(l.srv, l.mem, 65536, IAM_RIGHTS_RW, &mr,
				       &rkey),
		   0);
	c = borrow(4096);
	struct iam_xfer_target t = target(l.mem, rkey);

	REQUIRE_EQ(iam_xfer_read(c, &t, 0, 4096, &data), 0);
	iam_rdma_server_dereg(mr);
	CHECK_EQ(on_loop(&l, destroy_fn, NULL), 0);
	err = iam_xfer_read(c, &t, 0, 4096, &data);
	CHECK_MSG(err == -ECONNRESET || err == -EACCES,
		  "read after the lender went: %d", err);
	CHECK(iam_rdma_conn_broken(c));
	/* Nobody listens any more. */
	CHECK_EQ(iam_rdma_conn_repair(c, TMO_MS), -ECONNREFUSED);
	CHECK(iam_rdma_conn_broken(c));
	CHECK_EQ(iam_xfer_read(c, &t, 0, 4096, &data), -ECONNRESET);
	iam_xfer_close(c);
	lender_stop(&l);
}

static void *loop_only(void *loop)
{
	iam_loop_run(loop);
	return NULL;
}

/* The agent adds its address (rtnetlink) and listens on it at once; the
 * RoCE GID for the address appears a little later, asynchronously. */
TEST(server_and_connect_on_fresh_addresses)
{
	struct iam_xfer_conn *c = NULL;
	struct iam_rdma_server *s = NULL;
	struct in6_addr a, b;
	struct iam_loop *loop;
	struct iam_nl *nl;
	pthread_t th;
	char ext[256];

	need_rdma();
	REQUIRE_EQ(iam_loop_create(&loop), 0);
	REQUIRE_EQ(iam_nl_open(&nl), 0);
	inet_pton(AF_INET6, "fd77:0:0:a::99", &a);
	inet_pton(AF_INET6, "fd77:0:0:b::99", &b);
	for (int i = 0; i < 10; i++) {
		s = NULL;
		REQUIRE_EQ(iam_nl_addr_add(nl, if_nametoindex(dev_lender), &a,
					   128, ext, sizeof(ext)),
			   0);
		REQUIRE_EQ(iam_nl_addr_add(nl, if_nametoindex(dev_borrower), &b,
					   128, ext, sizeof(ext)),
			   0);
		CHECK_EQ(iam_rdma_server_create(loop, &a, IAM_PORT_RDMA_CM, &s),
			 0);
		if (s) {
			REQUIRE_EQ(pthread_create(&th, NULL, loop_only, loop),
				   0);
			CHECK_EQ(iam_rdma_connect(&b, &a, IAM_PORT_RDMA_CM,
						  4096, TMO_MS, &c),
				 0);
			iam_xfer_close(c);
			iam_loop_stop(loop);
			pthread_join(th, NULL);
		}
		iam_rdma_server_destroy(s);
		iam_nl_addr_del(nl, if_nametoindex(dev_lender), &a, 128, ext,
				sizeof(ext));
		iam_nl_addr_del(nl, if_nametoindex(dev_borrower), &b, 128, ext,
				sizeof(ext));
	}
	iam_nl_close(nl);
	iam_loop_destroy(loop);
}
