// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * iam-bench - fault latency of borrowed memory, beside the raw limit
 * measured in the same run.
 *
 *   iam-bench [-i NAME] --size SIZE [--pattern seq|random] [--writes PCT]
 *             [--passes N] [--cpu N] [--hold] [--json]
 *
 * Allocates SIZE through libiam (make it larger than the agent's --cache,
 * so pages are evicted and fault again), writes a known pattern to every
 * byte, then reads the region back --passes times in the chosen order,
 * timing the first touch of every page that is not resident (mincore
 * tells, before the touch) and verifying every byte.  With --writes PCT,
 * that share of the pages read is rewritten with a new version of the
 * pattern (write-back and dirty tracking are then on the path too).
 *
 * The limit, measured in the same run with the same CPU placement:
 *   uffd   a userfaultfd fault of this process served from a local buffer
 *          (UFFDIO_COPY) by another process, as the agent serves it (the
 *          same served by a thread of this process is printed too: on a
 *          real CPU the two cost the same, under QEMU's TCG a switch of
 *          address space costs a TLB flush, about twice the fault), and
 *   tcp    a 4 KiB request/response to the lender of the region's first
 *          remote block, over the agent's own data protocol (PING),
 * limit = p50(uffd) + p50(tcp): what a remote fault cannot beat.
 *
 * With --hold the region stays allocated after the measurement until
 * standard input reaches its end, so that a person or a script can look
 * at the allocation (iamctl allocations, iamctl map, the routes in BGP)
 * while it exists; the message saying so goes to stderr, which keeps
 * --json output clean.
 *
 * When the agent reaches that lender over RDMA, the TCP round trip is not
 * on the fault path and is not measured (it would also load the lender's
 * TCP data server, which RDMA leaves idle); the network limit is then
 * the device's own 4 KiB RDMA READ latency, which needs the device and
 * is measured by the caller (tests/vm/guest-bench.sh runs ib_read_lat
 * -s 4096 in the same boot).  iam-bench prints the uffd part.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/userfaultfd.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "iam.h"
#include "iam_const.h"
#include "iam_ipc.h"
#include "json.h"
#include "lib/ipc.h"
#include "parse.h"
#include "xfer/tcp.h"

#define PAGE 4096u
#define LIMIT_SAMPLES 2000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentile q (0..1) of n sorted samples, in microseconds. */
static double pct_us(const uint64_t *s, size_t n, double q)
{
	size_t i;

	if (!n)
		return NAN;
	i = (size_t)ceil(q * (double)n);
	if (i)
		i--;
	if (i >= n)
		i = n - 1;
	return (double)s[i] / 1000.0;
}

/* The byte at offset o of page p, version v of the pattern. */
static inline uint64_t word_of(uint64_t p, uint64_t w, uint32_t v)
{
	uint64_t x = (p << 20 | w) * 0x9e3779b97f4a7c15ull + v;

	return x ^ (x >> 29);
}

static void fill_page(uint8_t *page, uint64_t p, uint32_t v)
{
	uint64_t *w = (uint64_t *)page;

	for (uint64_t i = 0; i < PAGE / 8; i++)
		w[i] = word_of(p, i, v);
}

static uint64_t check_page(const uint8_t *page, uint64_t p, uint32_t v)
{
	const uint64_t *w = (const uint64_t *)page;
	uint64_t bad = 0;

	for (uint64_t i = 0; i < PAGE / 8; i++)
		bad += w[i] != word_of(p, i, v);
	return bad;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* ---- limit 1: a userfaultfd fault served from a local buffer ---------- */

struct uffd_limit {
	int uffd, cpu;
	int stopfd; /* a child handler stops when this pipe closes */
	volatile int stop; /* a thread handler stops when this is set */
	uint8_t *src;
};

static void *uffd_handler(void *arg)
{
	struct uffd_limit *u = arg;
	struct pollfd pfd[2] = { { .fd = u->uffd, .events = POLLIN },
				 { .fd = u->stopfd, .events = POLLIN } };

	pin_cpu(u->cpu);
	while (!u->stop) {
		struct uffd_msg m;

		if (poll(pfd, 2, 100) <= 0)
			continue;
		if (pfd[1].revents)
			break;
		while (read(u->uffd, &m, sizeof(m)) == sizeof(m)) {
			struct uffdio_copy cp = {
				.dst = m.arg.pagefault.address & ~(PAGE - 1ull),
				.src = (uintptr_t)u->src,
				.len = PAGE,
				.mode = UFFDIO_COPY_MODE_WP,
			};

			if (m.event != UFFD_EVENT_PAGEFAULT)
				continue;
			while (ioctl(u->uffd, UFFDIO_COPY, &cp) < 0 &&
			       errno == EAGAIN)
				cp.copy = 0;
		}
	}
	return NULL;
}

/* The same calls the agent makes for a client, served by another process
 * (other_process) or by a thread of this one. */
static int measure_uffd(int cpu, bool other_process, uint64_t *samples,
			size_t n)
{
	size_t len = n * PAGE;
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_MISSING_SHMEM |
					      UFFD_FEATURE_WP_HUGETLBFS_SHMEM };
	struct uffd_limit u = { .cpu = cpu, .stopfd = -1 };
	struct uffdio_register reg;
	int memfd, err, stop[2] = { -1, -1 };
	pid_t child = -1;
	pthread_t th;
	uint8_t *mem;

	memfd = memfd_create("iam-bench-limit", MFD_CLOEXEC);
	if (memfd < 0)
		return -errno;
	if (ftruncate(memfd, (off_t)len) < 0) {
		err = -errno;
		goto out_memfd;
	}
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (mem == MAP_FAILED) {
		err = -errno;
		goto out_memfd;
	}
	u.src = aligned_alloc(PAGE, PAGE);
	if (!u.src) {
		err = -ENOMEM;
		goto out_unmap;
	}
	memset(u.src, 0x5a, PAGE);
	u.uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u.uffd < 0) {
		err = -errno;
		goto out_src;
	}
	reg.range.start = (uintptr_t)mem;
	reg.range.len = len;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP;
	if (ioctl(u.uffd, UFFDIO_API, &api) < 0 ||
	    ioctl(u.uffd, UFFDIO_REGISTER, &reg) < 0) {
		err = -errno;
		goto out_uffd;
	}
	if (other_process) {
		if (pipe2(stop, O_CLOEXEC) < 0) {
			err = -errno;
			goto out_uffd;
		}
		child = fork();
		if (child < 0) {
			err = -errno;
			close(stop[0]);
			close(stop[1]);
			goto out_uffd;
		}
		if (!child) {
			/* Without UFFD_FEATURE_EVENT_FORK the child's copy
			 * of the range is not registered: it only serves. */
			close(stop[1]);
			u.stopfd = stop[0];
			uffd_handler(&u);
			_exit(0);
		}
		close(stop[0]);
	} else {
		pthread_create(&th, NULL, uffd_handler, &u);
	}
	for (size_t i = 0; i < n; i++) {
		volatile uint8_t *p = mem + i * PAGE;
		uint64_t t0 = now_ns();

		(void)*p;
		samples[i] = now_ns() - t0;
	}
	if (other_process) {
		close(stop[1]);
		waitpid(child, NULL, 0);
	} else {
		u.stop = 1;
		pthread_join(th, NULL);
	}
	err = 0;
out_uffd:
	close(u.uffd);
out_src:
	free(u.src);
out_unmap:
	munmap(mem, len);
out_memfd:
	close(memfd);
	return err;
}

/* ---- limit 2: TCP 4 KiB request/response to the lender ---------------- */

static int agent_address(const char *instance, struct in6_addr *self)
{
	struct iam_ipc_status st;
	int fd = iam_ipc_connect(instance), err;

	if (fd < 0)
		return fd;
	err = iam_ipc_call(fd, IAM_IPC_STATUS, NULL, 0, NULL, 0, &st,
			   sizeof(st), NULL, 0);
	close(fd);
	if (!err)
		memcpy(self, st.self, 16);
	return err;
}

static int measure_tcp(const char *instance, const struct in6_addr *block,
		       uint64_t *samples, size_t n)
{
	struct iam_xfer_conn *c;
	struct in6_addr self;
	int err;

	/* From the agent's address to a block it holds: the lender's XDP
	 * program lets exactly that through, as for the agent itself. */
	err = agent_address(instance, &self);
	if (err)
		return err;
	err = iam_tcpx_connect(&self, block, IAM_PORT_DATA, PAGE, 2000, &c);
	if (err)
		return err;
	for (size_t i = 0; i < n + 100 && !err; i++) {
		uint64_t t0 = now_ns();

		err = iam_tcpx_ping(c, PAGE);
		if (i >= 100) /* warm-up first */
			samples[i - 100] = now_ns() - t0;
	}
	iam_xfer_close(c);
	return err;
}

/* ---- the workload ----------------------------------------------------- */

struct result {
	uint64_t faults, accesses, bad_words, writes;
	double secs;
	uint64_t *lat;
	size_t nlat;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void run(uint8_t *mem, uint64_t npages, bool random, unsigned wpct,
		unsigned passes, struct result *r)
{
	uint32_t *ver = calloc(npages, sizeof(*ver));
	uint64_t *order = malloc(npages * sizeof(*order));
	uint64_t seed = 0x1234567, t0;

	r->lat = malloc(npages * passes * sizeof(*r->lat));
	if (!ver || !order || !r->lat) {
		fprintf(stderr, "iam-bench: out of memory\n");
		exit(1);
	}
	for (uint64_t i = 0; i < npages; i++) {
		order[i] = i;
		fill_page(mem + i * PAGE, i, 0);
	}
	t0 = now_ns();
	for (unsigned pass = 0; pass < passes; pass++) {
		if (random)
			for (uint64_t i = npages - 1; i > 0; i--) {
				uint64_t j = rnd(&seed) % (i + 1), t = order[i];

				order[i] = order[j];
				order[j] = t;
			}
		for (uint64_t k = 0; k < npages; k++) {
			uint64_t p = order[k];
			uint8_t *page = mem + p * PAGE;
			unsigned char inc = 0;
			uint64_t t;

			mincore(page, PAGE, &inc);
			t = now_ns();
			(void)*(volatile uint8_t *)page;
			t = now_ns() - t;
			if (!(inc & 1)) {
				r->lat[r->nlat++] = t;
				r->faults++;
			}
			r->bad_words += check_page(page, p, ver[p]);
			if (wpct && rnd(&seed) % 100 < wpct) {
				fill_page(page, p, ++ver[p]);
				r->writes++;
			}
			r->accesses++;
		}
	}
	r->secs = (double)(now_ns() - t0) / 1e9;
	/* Every byte once more, after everything settled. */
	for (uint64_t i = 0; i < npages; i++)
		r->bad_words += check_page(mem + i * PAGE, i, ver[i]);
	free(ver);
	free(order);
}

/* --hold: say where the region is, then wait for the end of stdin. */
static void hold_region(uint8_t *mem, uint64_t size)
{
	struct iam_where_info first, last;
	char buf[256];

	if (!iam_where(mem, &first) && !iam_where(mem + size - 1, &last))
		fprintf(stderr,
			"iam-bench: holding the region at %p: first block %s "
			"(%s), last block %s (lender %s)\n",
			(void *)mem, first.block,
			first.local ? "local" : first.lender, last.block,
			last.lender);
	fprintf(stderr, "iam-bench: holding the region until end of input\n");
	while (fread(buf, 1, sizeof(buf), stdin) > 0)
		;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: iam-bench [-i NAME] --size SIZE [--pattern seq|random] "
		"[--writes PCT]\n"
		"                 [--passes N] [--cpu N] [--hold] [--json]\n"
		"Fault latency of memory borrowed through the agent NAME, and "
		"the raw limit.\n"
		"--hold keeps the region after the run until standard input "
		"ends.\n"
		"exit status: 0 verified, 1 a runtime failure or a wrong byte, "
		"2 bad usage\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "instance", required_argument, NULL, 'i' },
		{ "size", required_argument, NULL, 's' },
		{ "pattern", required_argument, NULL, 'p' },
		{ "writes", required_argument, NULL, 'w' },
		{ "passes", required_argument, NULL, 'n' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "hold", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *instance = getenv("IAM_INSTANCE");
	uint64_t size = 0, lim_u[LIMIT_SAMPLES], lim_t[LIMIT_SAMPLES];
	uint64_t lim_ut[LIMIT_SAMPLES];
	uint32_t wpct = 0, passes = 1, cpu32;
	bool random = false, json = false, have_tcp = false, hold = false;
	bool rdma = false;
	struct iam_where_info wi;
	struct result r = { 0 };
	double p50, lu, lut, lt;
	int cpu = -1, c, err;
	uint8_t *mem;
	char sz[32];

	while ((c = getopt_long(argc, argv, "i:h", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			instance = optarg;
			break;
		case 's':
			if (iam_parse_size(optarg, &size) || !size) {
				fprintf(stderr,
					"iam-bench: --size: \"%s\" is "
					"not a size\n",
					optarg);
				return 2;
			}
			break;
		case 'p':
			if (strcmp(optarg, "seq") && strcmp(optarg, "random")) {
				fprintf(stderr, "iam-bench: --pattern: seq or "
						"random\n");
				return 2;
			}
			random = !strcmp(optarg, "random");
			break;
		case 'w':
			if (iam_parse_u32(optarg, &wpct) || wpct > 100) {
				fprintf(stderr, "iam-bench: --writes: a "
						"percentage 0..100\n");
				return 2;
			}
			break;
		case 'n':
			if (iam_parse_u32(optarg, &passes) || !passes ||
			    passes > 100) {
				fprintf(stderr,
					"iam-bench: --passes: 1..100\n");
				return 2;
			}
			break;
		case 'c':
			if (iam_parse_u32(optarg, &cpu32) ||
			    cpu32 >= CPU_SETSIZE) {
				fprintf(stderr, "iam-bench: --cpu: a CPU "
						"number\n");
				return 2;
			}
			cpu = (int)cpu32;
			break;
		case 'j':
			json = true;
			break;
		case 'H':
			hold = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!size || optind < argc) {
		usage(stderr);
		return 2;
	}
	if (instance && iam_set_instance(instance)) {
		fprintf(stderr, "iam-bench: bad instance name \"%s\"\n",
			instance);
		return 2;
	}
	pin_cpu(cpu);
	size = (size + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	mem = iam_alloc(size);
	if (!mem) {
		err = errno;
		fprintf(stderr, "iam-bench: iam_alloc(%s): %s%s%s\n",
			iam_fmt_size(size, sz, sizeof(sz)), strerror(err),
			iam_strerror_last()[0] ? ": " : "",
			iam_strerror_last());
		return 1;
	}
	run(mem, size / PAGE, random, wpct, passes, &r);

	/* The lender of the last block (local blocks come first). */
	if (!iam_where(mem + size - 1, &wi) && !wi.local) {
		struct in6_addr b;

		rdma = wi.transport == IAM_TRANSPORT_RDMA;
		inet_pton(AF_INET6, wi.block, &b);
		err = rdma ? 0 :
			     measure_tcp(instance ? instance :
						    IAM_INSTANCE_DEFAULT,
					 &b, lim_t, LIMIT_SAMPLES);
		if (err)
			fprintf(stderr, "iam-bench: TCP limit to %s: %s\n",
				wi.lender, strerror(-err));
		have_tcp = !err && !rdma;
	}
	err = measure_uffd(cpu, false, lim_ut, LIMIT_SAMPLES);
	if (err)
		fprintf(stderr, "iam-bench: uffd limit (thread): %s\n",
			strerror(-err));
	lut = err ? NAN : 0;
	err = measure_uffd(cpu, true, lim_u, LIMIT_SAMPLES);
	if (err)
		fprintf(stderr, "iam-bench: uffd limit: %s\n", strerror(-err));

	qsort(r.lat, r.nlat, sizeof(*r.lat), cmp_u64);
	qsort(lim_u, LIMIT_SAMPLES, sizeof(lim_u[0]), cmp_u64);
	qsort(lim_t, LIMIT_SAMPLES, sizeof(lim_t[0]), cmp_u64);
	qsort(lim_ut, LIMIT_SAMPLES, sizeof(lim_ut[0]), cmp_u64);
	p50 = pct_us(r.lat, r.nlat, 0.5);
	lu = err ? NAN : pct_us(lim_u, LIMIT_SAMPLES, 0.5);
	lut += pct_us(lim_ut, LIMIT_SAMPLES, 0.5);
	lt = have_tcp ? pct_us(lim_t, LIMIT_SAMPLES, 0.5) : 0;
	if (json) {
		struct iam_json j;

		iam_json_init(&j, stdout);
		iam_json_obj_begin(&j, NULL);
		iam_json_u64(&j, "size", size);
		iam_json_str(&j, "pattern", random ? "random" : "seq");
		iam_json_str(&j, "transport",
			     rdma     ? "rdma" :
			     have_tcp ? "tcp" :
					"local");
		iam_json_u64(&j, "writes_pct", wpct);
		iam_json_u64(&j, "passes", passes);
		iam_json_u64(&j, "accesses", r.accesses);
		iam_json_u64(&j, "faults", r.faults);
		iam_json_double(&j, "faults_per_s", (double)r.faults / r.secs);
		iam_json_double(&j, "p50_us", p50);
		iam_json_double(&j, "p99_us", pct_us(r.lat, r.nlat, 0.99));
		iam_json_double(&j, "p999_us", pct_us(r.lat, r.nlat, 0.999));
		iam_json_double(&j, "limit_uffd_p50_us", lu);
		iam_json_double(&j, "limit_uffd_thread_p50_us", lut);
		iam_json_double(&j, "limit_tcp_p50_us", have_tcp ? lt : NAN);
		iam_json_double(&j, "limit_p50_us", rdma ? NAN : lu + lt);
		iam_json_double(&j, "ratio_p50", rdma ? NAN : p50 / (lu + lt));
		iam_json_str(&j, "lender", have_tcp || rdma ? wi.lender : NULL);
		iam_json_bool(&j, "verified", r.bad_words == 0);
		iam_json_u64(&j, "bad_words", r.bad_words);
		iam_json_obj_end(&j);
	} else {
		printf("region %s, %s, %u%% writes, %u pass(es): %llu "
		       "accesses, %llu faults in %.2f s = %.0f faults/s\n",
		       iam_fmt_size(size, sz, sizeof(sz)),
		       random ? "random" : "sequential", wpct, passes,
		       (unsigned long long)r.accesses,
		       (unsigned long long)r.faults, r.secs,
		       (double)r.faults / r.secs);
		if (r.nlat)
			printf("fault latency: p50 %.1f us, p99 %.1f us, "
			       "p99.9 %.1f us\n",
			       p50, pct_us(r.lat, r.nlat, 0.99),
			       pct_us(r.lat, r.nlat, 0.999));
		else
			printf("fault latency: no faults were timed: the "
			       "region stayed in the agent's cache; use a "
			       "--size larger than its --cache\n");
		if (rdma) {
			printf("limit (same run): uffd fault served from a "
			       "local buffer by another process p50 %.1f us "
			       "(by a thread: %.1f us); faults read from %s by "
			       "RDMA READ: put ib_read_lat -s 4096 between "
			       "the same devices beside it\n",
			       lu, lut, wi.lender);
		} else {
			printf("limit (same run): uffd fault served from a "
			       "local buffer by another process p50 %.1f us "
			       "(by a thread: %.1f us) + TCP 4K "
			       "request/response to %s p50 %.1f us = %.1f us\n",
			       lu, lut,
			       have_tcp ? wi.lender : "(no remote lender)", lt,
			       lu + lt);
			if (r.nlat)
				printf("ratio p50 / limit: %.2f\n",
				       p50 / (lu + lt));
		}
		printf("verified: %s (%llu wrong 8-byte words)\n",
		       r.bad_words ? "NO" : "every byte",
		       (unsigned long long)r.bad_words);
	}
	fflush(stdout);
	if (hold)
		hold_region(mem, size);
	if (iam_free(mem))
		fprintf(stderr, "iam-bench: iam_free: %s\n", strerror(errno));
	free(r.lat);
	return r.bad_words ? 1 : 0;
}
