// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * bench_rdma - latency over the RDMA transport (user/xfer/rdma*.c)
 * between the two soft-RoCE devices of the tests/vm guest (lender on side
 * 0, borrower on side 1):
 *  - raw 4 KiB READ and WRITE through iam_xfer_read/write;
 *  - page faults served over RDMA by the fault service (user/fault.c): a
 *    client touches pages of a userfaultfd region whose cache is much
 *    smaller than the region, so every touch is a MISSING fault answered
 *    with an RDMA READ and UFFDIO_COPY (dirty victims went back by RDMA
 *    WRITE).  Timed in the client, from the access to its return;
 *  - the same faults served from the agent's own pool (no transport):
 *    what the userfaultfd path alone costs on this machine.
 * With -L (ib_read_lat's typical latency from the same boot, which
 * tests/vm/guest-bench.sh measures first) each p50 is also printed as a
 * multiple of it.  Prints figures only; never fails on them.
 *
 *   bench_rdma [-n N] [-S XFER_SPIN_US] [-F FAULT_SPIN_US] [-C CPU] [-L US]
 *     -C CPU  pin the fault thread to CPU (pin the caller there too, with
 *             taskset: cross-CPU wake-ups are very slow under TCG)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fault.h"
#include "iam_const.h"
#include "iam_ipc.h"
#include "loop.h"
#include "xfer/rdma.h"

#define REGION (4u << 20) /* lender memory, and the client region */
#define BSHIFT 16
#define CACHE_PAGES 64
#define LIDX 1
#define PG 4096u

struct bench {
	struct in6_addr lender, borrower;
	struct iam_loop *loop;
	void *pool; /* the lender's memory, registered */
	uint32_t rkey;
	uint32_t xfer_spin, fault_spin;
	int fault_cpu;
	double ref_us; /* ib_read_lat p50, 0: unknown */
	int n;
	uint64_t *ns;
};

static struct iam_m2i_entry m2i[REGION >> BSHIFT];

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(struct bench *b, const char *what)
{
	int n = b->n;
	double p50;

	qsort(b->ns, (size_t)n, sizeof(*b->ns), cmp_u64);
	p50 = (double)b->ns[n / 2] / 1e3;
	printf("%-38s n=%d  p50 %7.1f us  p99 %7.1f us  min %7.1f us", what, n,
	       p50, (double)b->ns[n * 99 / 100] / 1e3, (double)b->ns[0] / 1e3);
	if (b->ref_us > 0)
		printf("  (%.2fx)", p50 / b->ref_us);
	printf("\n");
}

static void *loop_thread(void *arg)
{
	iam_loop_run(arg);
	return NULL;
}

/* n timed reads or writes of a page at changing offsets. */
static int run_xfer(struct bench *b, struct iam_xfer_conn *c, bool write)
{
	struct iam_xfer_target t = { .remote_addr = (uintptr_t)b->pool,
				     .rkey = b->rkey };
	char what[64];
	const void *data;
	int err;

	for (int i = -b->n / 10; i < b->n; i++) { /* a tenth to warm up */
		uint32_t off = (uint32_t)(i + b->n) * PG % (REGION - PG);
		uint64_t t0 = iam_now_ns();

		err = write ? iam_xfer_write(c, &t, off, PG) :
			      iam_xfer_read(c, &t, off, PG, &data);
		if (err)
			return err;
		if (i >= 0)
			b->ns[i] = iam_now_ns() - t0;
	}
	snprintf(what, sizeof(what), "iam rdma %s 4096 B, spin %u us",
		 write ? "WRITE" : "READ", b->xfer_spin);
	report(b, what);
	return 0;
}

/* n timed first touches of evicted pages, served over RDMA or (local)
 * from the pool directly. */
static int run_faults(struct bench *b, bool local)
{
	struct iam_fault_config fc = {
		.cache_pages = CACHE_PAGES,
		.cpu = b->fault_cpu,
		.spin_us = b->fault_spin,
		.m2i = m2i,
		.m2i_slots = REGION >> BSHIFT,
		.loop = b->loop,
	};
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_MISSING_SHMEM |
					      UFFD_FEATURE_WP_HUGETLBFS_SHMEM |
					      UFFD_FEATURE_THREAD_ID };
	struct uffdio_register reg = {
		.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
	};
	volatile uint8_t *mem = MAP_FAILED;
	struct iam_fault_region *r = NULL;
	struct iam_xfer_conn *c = NULL;
	struct iam_fault_stats st;
	struct iam_fault *f;
	int memfd = -1, uffd = -1, err, k = 0;
	char what[64];

	err = iam_fault_start(&fc, &f);
	if (err)
		return err;
	err = iam_rdma_connect(&b->borrower, &b->lender, IAM_PORT_RDMA_CM, PG,
			       5000, &c);
	if (err)
		goto out;
	iam_rdma_conn_set_spin(c, b->xfer_spin);
	err = iam_fault_set_conn(f, LIDX, c);
	if (err) {
		iam_xfer_close(c);
		goto out;
	}
	memfd = memfd_create("bench_rdma", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, REGION)) {
		err = -errno;
		goto out;
	}
	mem = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	reg.range.start = (uintptr_t)mem;
	reg.range.len = REGION;
	if (mem == MAP_FAILED || uffd < 0 || ioctl(uffd, UFFDIO_API, &api) ||
	    ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		err = -errno;
		goto out;
	}
	for (uint32_t i = 0; i < REGION >> BSHIFT; i++) {
		struct iam_m2i_entry *e = &m2i[i];

		memset(e, 0, sizeof(*e));
		e->vaddr = (uintptr_t)mem + ((uint64_t)i << BSHIFT);
		e->remote_addr = (uintptr_t)b->pool + ((uint64_t)i << BSHIFT);
		memcpy(e->lender, &b->lender, 16);
		e->rkey = b->rkey;
		e->lender_idx = LIDX;
		e->rights = IAM_RIGHTS_RW;
		e->block_shift = BSHIFT;
		e->flags = IAM_M2I_VALID | (local ? IAM_M2I_LOCAL : 0);
	}
	err = iam_fault_region_create(f, uffd, memfd, (uintptr_t)mem, REGION, 0,
				      BSHIFT, getpid(), &r);
	if (err)
		goto out;
	uffd = memfd = -1; /* the region's now */
	iam_fault_region_add(f, r);
	/* Write every page once: the small cache sends them all to the
	 * lender (RDMA WRITE), then touch them in order, again and again:
	 * every touch misses and reads the page back. */
	for (size_t p = 0; p < REGION / PG; p++)
		mem[p * PG] = (uint8_t)p;
	while (k < b->n) {
		for (size_t p = 0; p < REGION / PG && k < b->n; p++) {
			uint64_t t0 = iam_now_ns();

			if (mem[p * PG] != (uint8_t)p) {
				err = -EIO;
				goto out;
			}
			b->ns[k++] = iam_now_ns() - t0;
		}
	}
	iam_fault_get_stats(f, &st);
	snprintf(what, sizeof(what), "fault 4096 B %s",
		 local ? "local pool" : "over RDMA");
	report(b, what);
	printf("    fault thread: %" PRIu64 " faults, %" PRIu64
	       " remote + %" PRIu64 " local reads, %" PRIu64
	       " write-backs, %.1f us mean service\n",
	       st.faults, st.remote_reads, st.local_reads, st.writebacks,
	       st.faults ? (double)st.fault_ns / (double)st.faults / 1e3 : 0);
out:
	iam_fault_stop(f); /* closes c and the region's descriptors */
	if (mem != MAP_FAILED)
		munmap((void *)mem, REGION);
	if (uffd >= 0)
		close(uffd);
	if (memfd >= 0)
		close(memfd);
	return err;
}

int main(int argc, char **argv)
{
	const char *a0 = getenv("IAM_VM_ADDR0"), *a1 = getenv("IAM_VM_ADDR1");
	struct bench b = { .xfer_spin = IAM_RDMA_SPIN_US_DEFAULT,
			   .fault_spin = 50,
			   .fault_cpu = -1,
			   .n = 2000 };
	struct iam_rdma_server *srv = NULL;
	struct iam_xfer_conn *c = NULL;
	struct iam_rdma_mr *mr = NULL;
	pthread_t th;
	int opt, err;

	while ((opt = getopt(argc, argv, "n:S:F:C:L:")) != -1) {
		switch (opt) {
		case 'n':
			b.n = atoi(optarg);
			break;
		case 'S':
			b.xfer_spin = (uint32_t)atoi(optarg);
			break;
		case 'F':
			b.fault_spin = (uint32_t)atoi(optarg);
			break;
		case 'C':
			b.fault_cpu = atoi(optarg);
			break;
		case 'L':
			b.ref_us = atof(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: bench_rdma [-n N] [-S XFER_SPIN_US] "
				"[-F FAULT_SPIN_US] [-C CPU] [-L US]\n");
			return 2;
		}
	}
	if (b.n < 10) {
		fprintf(stderr, "bench_rdma: -n: at least 10\n");
		return 2;
	}
	if (!a0 || !a1 || inet_pton(AF_INET6, a0, &b.lender) != 1 ||
	    inet_pton(AF_INET6, a1, &b.borrower) != 1) {
		fprintf(stderr, "bench_rdma: run me in the tests/vm guest "
				"(IAM_VM_ADDR0/1 unset)\n");
		return 2;
	}
	b.ns = calloc((size_t)b.n, sizeof(*b.ns));
	b.pool = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (!b.ns || b.pool == MAP_FAILED) {
		fprintf(stderr, "bench_rdma: out of memory\n");
		return 1;
	}
	err = iam_loop_create(&b.loop);
	if (err)
		goto out;
	err = iam_rdma_server_create(b.loop, &b.lender, IAM_PORT_RDMA_CM, &srv);
	if (err)
		goto out_loop;
	err = iam_rdma_server_reg(srv, b.pool, REGION, IAM_RIGHTS_RW, &mr,
				  &b.rkey);
	if (err)
		goto out_srv;
	err = -pthread_create(&th, NULL, loop_thread, b.loop);
	if (err)
		goto out_srv;
	err = iam_rdma_connect(&b.borrower, &b.lender, IAM_PORT_RDMA_CM, PG,
			       5000, &c);
	if (!err) {
		iam_rdma_conn_set_spin(c, b.xfer_spin);
		err = run_xfer(&b, c, false);
	}
	if (!err)
		err = run_xfer(&b, c, true);
	iam_xfer_close(c);
	if (!err)
		err = run_faults(&b, false);
	if (!err)
		err = run_faults(&b, true);
	iam_loop_stop(b.loop);
	pthread_join(th, NULL);
out_srv:
	iam_rdma_server_dereg(mr);
	iam_rdma_server_destroy(srv);
out_loop:
	iam_loop_destroy(b.loop);
out:
	if (err)
		fprintf(stderr, "bench_rdma: %s\n", strerror(-err));
	return err ? 1 : 0;
}
