// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * iam-client - a scriptable libiam client for the bats tests.
 *
 *   iam-client [-i NAME] --size SIZE      borrow, write the pattern, then
 *                                         obey commands on stdin
 *   iam-client [-i NAME] --bad-allocs     send malformed ALLOC requests,
 *                                         one per connection, and print
 *                                         "CASE status ERRNO text" each
 *   iam-client [-i NAME] --steal BLOCK [--via OWN]
 *                                         from this host's agent address,
 *                                         read a block we do not hold;
 *                                         with --via, over a connection
 *                                         to a block we do hold (past the
 *                                         lender's XDP, so the lender's
 *                                         own check must refuse)
 *
 * Commands (one per line; each answer is one line on stdout):
 *   verify        read every page back: "verified N lost L wrong W"
 *                 (a page whose lender is gone raises SIGBUS: counted as
 *                 lost, and the rest goes on)
 *   where OFF     "where OFF lender LENDER block BLOCK state S local L"
 *   rewrite       write version+1 of the pattern everywhere: "rewritten"
 *   fork          a child calls iam_free() on the region, then reads
 *                 its first and last page: "fork child segv" (iam_free
 *                 refused and the region not inherited), "fork child
 *                 iam_free-not-refused",
 *                 or "fork child read-right N" / "read-wrong N" (N of
 *                 the two pages as written), or "fork child status S"
 *   free          iam_free: "freed" or "free-failed ERR"
 *   exit          leave (the agent frees what is left when we go)
 *
 * The pattern of page p, version v is a hash of (p, v), so a page that
 * came back from the wrong block or with stale bytes is caught.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/userfaultfd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iam.h"
#include "iam_const.h"
#include "iam_ipc.h"
#include "lib/ipc.h"
#include "parse.h"
#include "xfer/tcp.h"

#define PAGE 4096u

static sigjmp_buf jb;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	siglongjmp(jb, 1);
}

static uint64_t word_of(uint64_t p, uint64_t w, uint32_t v)
{
	uint64_t x = (p << 20 | w) * 0x9e3779b97f4a7c15ull + v;

	return x ^ (x >> 29);
}

static void fill(uint8_t *mem, uint64_t npages, uint32_t v)
{
	for (uint64_t p = 0; p < npages; p++) {
		uint64_t *w = (uint64_t *)(mem + p * PAGE);

		for (uint64_t i = 0; i < PAGE / 8; i++)
			w[i] = word_of(p, i, v);
	}
}

static void verify(uint8_t *mem, uint64_t npages, uint32_t v)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus,
				.sa_flags = SA_SIGINFO };
	volatile uint64_t ok = 0, lost = 0, wrong = 0;
	volatile uint64_t p;

	sigaction(SIGBUS, &sa, NULL);
	for (p = 0; p < npages; p++) {
		const uint64_t *w = (const uint64_t *)(mem + p * PAGE);
		volatile uint64_t bad = 0;

		if (sigsetjmp(jb, 1)) {
			lost++;
			continue;
		}
		for (uint64_t i = 0; i < PAGE / 8; i++)
			bad += w[i] != word_of(p, i, v);
		if (bad)
			wrong++;
		else
			ok++;
	}
	printf("verified %llu lost %llu wrong %llu\n", (unsigned long long)ok,
	       (unsigned long long)lost, (unsigned long long)wrong);
}

/* The child: 20 if iam_free() of the inherited pointer did not fail
 * with EINVAL (it must not free the parent's region), 0 if the region is
 * not there (SIGSEGV), else 10 + the number of the two pages it read as
 * written. */
static void fork_child(uint8_t *mem, uint64_t npages, uint32_t v)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus,
				.sa_flags = SA_SIGINFO };
	const uint64_t pages[2] = { 0, npages - 1 };
	int right = 0;

	if (iam_free(mem) != -1 || errno != EINVAL)
		_exit(20);
	sigaction(SIGSEGV, &sa, NULL);
	if (sigsetjmp(jb, 1))
		_exit(0);
	for (int k = 0; k < 2; k++) {
		const uint64_t *w = (const uint64_t *)(mem + pages[k] * PAGE);
		uint64_t bad = 0;

		for (uint64_t i = 0; i < PAGE / 8; i++)
			bad += w[i] != word_of(pages[k], i, v);
		right += !bad;
	}
	_exit(10 + right);
}

static void fork_check(uint8_t *mem, uint64_t npages, uint32_t v)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		fork_child(mem, npages, v);
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		printf("fork-failed %s\n", strerror(errno));
		return;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		printf("fork child segv\n");
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 20)
		printf("fork child iam_free-not-refused\n");
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 12)
		printf("fork child read-right 2\n");
	else if (WIFEXITED(st) && WEXITSTATUS(st) >= 10 && WEXITSTATUS(st) < 12)
		printf("fork child read-wrong %d\n", 12 - WEXITSTATUS(st));
	else
		printf("fork child status %d\n", st);
}

static int steal(const char *instance, const char *block, const char *via)
{
	struct iam_ipc_status st;
	struct in6_addr self, b, dst;
	struct iam_xfer_conn *c;
	struct iam_xfer_target t = { 0 };
	const void *data;
	int fd, err;

	if (inet_pton(AF_INET6, block, &b) != 1 ||
	    inet_pton(AF_INET6, via ? via : block, &dst) != 1) {
		fprintf(stderr, "iam-client: bad block address %s\n",
			via ? via : block);
		return 2;
	}
	fd = iam_ipc_connect(instance);
	if (fd < 0 || iam_ipc_call(fd, IAM_IPC_STATUS, NULL, 0, NULL, 0, &st,
				   sizeof(st), NULL, 0)) {
		fprintf(stderr, "iam-client: no agent \"%s\"\n", instance);
		return 1;
	}
	close(fd);
	memcpy(&self, st.self, 16);
	err = iam_tcpx_connect(&self, &dst, IAM_PORT_DATA, PAGE, 1500, &c);
	if (err) {
		printf("connect %s\n", strerror(-err));
		return 0;
	}
	t.block = b;
	err = iam_xfer_read(c, &t, 0, PAGE, &data);
	printf("read %s\n", err ? strerror(-err) : "SUCCEEDED");
	iam_xfer_close(c);
	return 0;
}

/*
 * ALLOC requests a broken or hostile client could send: wrong descriptors,
 * a region the userfaultfd does not cover, sizes out of range.  Each must
 * be refused with a reason, and nothing else in the agent may change.
 */
static int bad_allocs(const char *instance)
{
	static const struct {
		const char *name;
		int fds; /* 0 none, 1 /dev/null twice, 2 memfd + /dev/null,
			  * 3 memfd + a uffd with nothing registered,
			  * 4 two memfds */
		uint64_t len;
		uint8_t rights;
	} cases[] = {
		{ "no-descriptors", 0, 1 << 20, IAM_RIGHTS_RW },
		{ "devnull-descriptors", 1, 1 << 20, IAM_RIGHTS_RW },
		{ "no-userfaultfd", 2, 1 << 20, IAM_RIGHTS_RW },
		{ "two-memfds", 4, 1 << 20, IAM_RIGHTS_RW },
		{ "unregistered-range", 3, 1 << 20, IAM_RIGHTS_RW },
		{ "memfd-too-short", 3, 4 << 20, IAM_RIGHTS_RW },
		{ "zero-length", 3, 0, IAM_RIGHTS_RW },
		{ "bad-rights", 3, 1 << 20, 9 },
		{ "huge", 3, 1ull << 62, IAM_RIGHTS_RW },
	};
	int memfd = memfd_create("iam-bad", MFD_CLOEXEC);
	int memfd2 = memfd_create("iam-bad2", MFD_CLOEXEC);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	struct uffdio_api api = { .api = UFFD_API };

	if (memfd < 0 || memfd2 < 0 || null < 0 || uffd < 0 ||
	    ftruncate(memfd, 1 << 20) || ftruncate(memfd2, 1 << 20) ||
	    ioctl(uffd, UFFDIO_API, &api)) {
		printf("setup-failed %s\n", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct iam_ipc_alloc req = {
			.addr = 0x7f0000000000ull,
			.len = cases[i].len,
			.rights = cases[i].rights,
		};
		int fdset[5][2] = { { -1, -1 },
				    { null, null },
				    { memfd, null },
				    { memfd, uffd },
				    { memfd, memfd2 } };
		char msg[IAM_IPC_ERRMSG_MAX] = "";
		struct iam_ipc_alloc_rep rep;
		int fd = iam_ipc_connect(instance), st;

		if (fd < 0) {
			printf("%s connect-failed %s\n", cases[i].name,
			       strerror(-fd));
			return 1;
		}
		st = iam_ipc_call(fd, IAM_IPC_ALLOC, &req, sizeof(req),
				  fdset[cases[i].fds], cases[i].fds ? 2 : 0,
				  &rep, sizeof(rep), msg, sizeof(msg));
		printf("%s status %d %s\n", cases[i].name, st, msg);
		close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "instance", required_argument, NULL, 'i' },
		{ "size", required_argument, NULL, 's' },
		{ "steal", required_argument, NULL, 'S' },
		{ "bad-allocs", no_argument, NULL, 'B' },
		{ "via", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *instance = IAM_INSTANCE_DEFAULT, *victim = NULL,
		   *via = NULL;
	bool bad = false;
	uint64_t size = 0, npages;
	uint32_t version = 0;
	char line[256];
	uint8_t *mem;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "i:", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			instance = optarg;
			break;
		case 's':
			if (iam_parse_size(optarg, &size) || !size)
				return 2;
			break;
		case 'S':
			victim = optarg;
			break;
		case 'V':
			via = optarg;
			break;
		case 'B':
			bad = true;
			break;
		default:
			return 2;
		}
	}
	if (bad)
		return bad_allocs(instance);
	if (victim)
		return steal(instance, victim, via);
	if (!size || iam_set_instance(instance))
		return 2;
	size = (size + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	npages = size / PAGE;
	mem = iam_alloc(size);
	if (!mem) {
		printf("alloc-failed %s: %s\n", strerror(errno),
		       iam_strerror_last());
		return 1;
	}
	fill(mem, npages, version);
	printf("ready %llu pages\n", (unsigned long long)npages);
	while (fgets(line, sizeof(line), stdin)) {
		unsigned long long off;

		line[strcspn(line, "\n")] = 0;
		if (!strcmp(line, "verify")) {
			verify(mem, npages, version);
		} else if (!strcmp(line, "rewrite")) {
			fill(mem, npages, ++version);
			printf("rewritten\n");
		} else if (sscanf(line, "where %llu", &off) == 1) {
			struct iam_where_info w;

			if (off >= size || iam_where(mem + off, &w))
				printf("where-failed %s\n", strerror(errno));
			else
				printf("where %llu lender %s block %s state %d "
				       "local %d\n",
				       off, w.lender, w.block, w.page_state,
				       w.local);
		} else if (!strcmp(line, "fork")) {
			fork_check(mem, npages, version);
		} else if (!strcmp(line, "free")) {
			if (iam_free(mem))
				printf("free-failed %s\n", strerror(errno));
			else
				printf("freed\n");
			mem = NULL;
		} else if (!strcmp(line, "exit")) {
			break;
		} else {
			printf("unknown %s\n", line);
		}
	}
	return 0;
}
