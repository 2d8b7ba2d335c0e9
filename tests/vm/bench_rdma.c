// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * bench_rdma - raw latency of the RDMA transport (user/xfer/rdma*.c):
 * 4 KiB RDMA READ and WRITE through iam_xfer_read/write between the two
 * soft-RoCE devices of the tests/vm guest (lender on side 0, borrower on
 * side 1), with the default poll burst and with none (sleep on the
 * completion channel at once).  tests/vm/guest-bench.sh prints it beside
 * ib_read_lat from the same boot.  Prints figures only; never fails on
 * them.
 *
 *   bench_rdma [-n ITERATIONS] [-s BYTES] [-S SPIN_US]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iam_const.h"
#include "loop.h"
#include "xfer/rdma.h"

#define REGION (4u << 20)

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void *loop_thread(void *arg)
{
	iam_loop_run(arg);
	return NULL;
}

/* n timed operations of size bytes at changing offsets; prints a line. */
static int run(struct iam_xfer_conn *c, const struct iam_xfer_target *t,
	       const char *what, bool write, uint32_t size, int n, uint64_t *ns)
{
	const void *data;
	int err;

	for (int i = -n / 10; i < n; i++) { /* the first tenth warms up */
		uint32_t off = (uint32_t)((unsigned int)(i + n) * size) %
			       (REGION - size);
		uint64_t t0 = iam_now_ns();

		err = write ? iam_xfer_write(c, t, off, size) :
			      iam_xfer_read(c, t, off, size, &data);
		if (err) {
			fprintf(stderr, "bench_rdma: %s: %s\n", what,
				strerror(-err));
			return err;
		}
		if (i >= 0)
			ns[i] = iam_now_ns() - t0;
	}
	qsort(ns, (size_t)n, sizeof(*ns), cmp_u64);
	printf("%-34s n=%d  p50 %7.1f us  p99 %7.1f us  min %7.1f us\n", what,
	       n, ns[n / 2] / 1e3, ns[n * 99 / 100] / 1e3, ns[0] / 1e3);
	return 0;
}

int main(int argc, char **argv)
{
	const char *a0 = getenv("IAM_VM_ADDR0"), *a1 = getenv("IAM_VM_ADDR1");
	struct in6_addr lender, borrower;
	struct iam_rdma_server *srv;
	struct iam_xfer_conn *c;
	struct iam_loop *loop;
	struct iam_rdma_mr *mr;
	uint32_t rkey, size = 4096, spin = IAM_RDMA_SPIN_US_DEFAULT;
	char what[64];
	pthread_t th;
	uint64_t *ns;
	int opt, n = 2000, err;
	void *mem;

	while ((opt = getopt(argc, argv, "n:s:S:")) != -1) {
		switch (opt) {
		case 'n':
			n = atoi(optarg);
			break;
		case 's':
			size = (uint32_t)atoi(optarg);
			break;
		case 'S':
			spin = (uint32_t)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench_rdma [-n N] [-s BYTES] "
					"[-S SPIN_US]\n");
			return 2;
		}
	}
	if (n < 10 || size == 0 || size > (1u << 20)) {
		fprintf(stderr, "bench_rdma: -n at least 10, -s 1..1048576\n");
		return 2;
	}
	if (!a0 || !a1 || inet_pton(AF_INET6, a0, &lender) != 1 ||
	    inet_pton(AF_INET6, a1, &borrower) != 1) {
		fprintf(stderr, "bench_rdma: run in the tests/vm guest "
				"(IAM_VM_ADDR0/1)\n");
		return 2;
	}
	ns = calloc((size_t)n, sizeof(*ns));
	mem = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (!ns || mem == MAP_FAILED)
		return 1;
	if ((err = iam_loop_create(&loop)) ||
	    (err = iam_rdma_server_create(loop, &lender, IAM_PORT_RDMA_CM,
					  &srv)) ||
	    (err = iam_rdma_server_reg(srv, mem, REGION, IAM_RIGHTS_RW, &mr,
				       &rkey))) {
		fprintf(stderr, "bench_rdma: lender: %s\n", strerror(-err));
		return 1;
	}
	pthread_create(&th, NULL, loop_thread, loop);
	err = iam_rdma_connect(&borrower, &lender, IAM_PORT_RDMA_CM, size, 5000,
			       &c);
	if (err) {
		fprintf(stderr, "bench_rdma: connect: %s\n", strerror(-err));
		return 1;
	}
	struct iam_xfer_target t = { .remote_addr = (uintptr_t)mem,
				     .rkey = rkey };

	iam_rdma_conn_set_spin(c, spin);
	snprintf(what, sizeof(what), "iam rdma READ %u B, spin %u us", size,
		 spin);
	err = run(c, &t, what, false, size, n, ns);
	snprintf(what, sizeof(what), "iam rdma WRITE %u B, spin %u us", size,
		 spin);
	err = err ?: run(c, &t, what, true, size, n, ns);
	iam_rdma_conn_set_spin(c, 0);
	snprintf(what, sizeof(what), "iam rdma READ %u B, no spin", size);
	err = err ?: run(c, &t, what, false, size, n, ns);
	iam_xfer_close(c);
	iam_rdma_server_dereg(mr);
	iam_loop_stop(loop);
	pthread_join(th, NULL);
	iam_rdma_server_destroy(srv);
	iam_loop_destroy(loop);
	return err ? 1 : 0;
}
