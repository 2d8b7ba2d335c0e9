/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * iam_test.h - a small TAP producer for the C unit tests.
 *
 * Each TEST(name) is one TAP line.  Every test runs in a forked child with
 * an alarm, so a crash or a hang fails that test alone and names it.  A test
 * binary is one translation unit that includes this header once; the header
 * supplies main().  `./test_x NAME...` runs only the named tests.
 *
 *   TEST(pool_exhaustion) {
 *           CHECK_EQ(iam_pool_alloc(...), -ENOSPC);
 *   }
 *
 * CHECK* record a failure with file:line and go on; REQUIRE* end the test.
 * SKIP("reason") ends the test as skipped (TAP "# SKIP reason").
 */
#ifndef IAM_TEST_H
#define IAM_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef IAM_TEST_TIMEOUT_S
#define IAM_TEST_TIMEOUT_S 60
#endif
#define IAM_TEST_MAX 512

struct iam_test_case {
	const char *name;
	void (*fn)(void);
};

static struct iam_test_case iam_tests[IAM_TEST_MAX];
static int iam_ntests;
static int iam_test_failed;
/* Exit codes a test child uses to report its result to the parent. */
enum { IAM_T_PASS = 0, IAM_T_FAIL = 1, IAM_T_SKIP = 77 };

static inline void iam_test_register(const char *name, void (*fn)(void))
{
	if (iam_ntests < IAM_TEST_MAX)
		iam_tests[iam_ntests++] = (struct iam_test_case){ name, fn };
}

#define TEST(n)                                                    \
	static void n(void);                                       \
	__attribute__((constructor)) static void iam_reg_##n(void) \
	{                                                          \
		iam_test_register(#n, n);                          \
	}                                                          \
	static void n(void)

__attribute__((format(printf, 3, 4))) static inline void
iam_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	iam_test_failed = 1;
	fprintf(stdout, "#   %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

#define CHECK(c)                                                            \
	({                                                                  \
		int _ok = !!(c);                                            \
		if (!_ok)                                                   \
			iam_test_fail(__FILE__, __LINE__, "CHECK(%s)", #c); \
		_ok;                                                        \
	})
#define CHECK_MSG(c, ...)                                               \
	({                                                              \
		int _ok = !!(c);                                        \
		if (!_ok)                                               \
			iam_test_fail(__FILE__, __LINE__, __VA_ARGS__); \
		_ok;                                                    \
	})
#define CHECK_EQ(a, b)                                                      \
	({                                                                  \
		long long _a = (long long)(a), _b = (long long)(b);         \
		_a == _b ? 1 :                                              \
			   (iam_test_fail(__FILE__, __LINE__,               \
					  "%s == %s: %lld != %lld", #a, #b, \
					  _a, _b),                          \
			    0);                                             \
	})
#define CHECK_STR(a, b)                                                      \
	({                                                                   \
		const char *_a = (a), *_b = (b);                             \
		(_a && _b && !strcmp(_a, _b)) ?                              \
			1 :                                                  \
			(iam_test_fail(__FILE__, __LINE__,                   \
				       "%s == %s: \"%s\" != \"%s\"", #a, #b, \
				       _a ? _a : "(null)",                   \
				       _b ? _b : "(null)"),                  \
			 0);                                                 \
	})
#define REQUIRE(c)                        \
	do {                              \
		if (!CHECK(c))            \
			exit(IAM_T_FAIL); \
	} while (0)
#define REQUIRE_MSG(c, ...)                     \
	do {                                    \
		if (!CHECK_MSG(c, __VA_ARGS__)) \
			exit(IAM_T_FAIL);       \
	} while (0)
#define REQUIRE_EQ(a, b)                  \
	do {                              \
		if (!CHECK_EQ(a, b))      \
			exit(IAM_T_FAIL); \
	} while (0)
#define SKIP(...)                    \
	do {                         \
		printf("#SKIP ");    \
		printf(__VA_ARGS__); \
		printf("\n");        \
		fflush(stdout);      \
		exit(IAM_T_SKIP);    \
	} while (0)

static inline int iam_test_selected(int argc, char **argv, const char *name)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 :
						   argv[0];
	int failed = 0, n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < iam_ntests; i++)
		n += iam_test_selected(argc, argv, iam_tests[i].name);
	printf("1..%d\n", n);
	n = 0;
	for (int i = 0; i < iam_ntests; i++) {
		const struct iam_test_case *t = &iam_tests[i];
		char reason[1024] = "";
		int status = 0;
		int pipefd[2];
		pid_t pid;

		if (!iam_test_selected(argc, argv, t->name))
			continue;
		n++;
		fflush(stdout);
		if (pipe(pipefd) < 0) {
			perror("pipe");
			return 1;
		}
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			/* The child's stdout goes through the pipe, so the
			 * parent can pick out a SKIP reason. */
			close(pipefd[0]);
			dup2(pipefd[1], STDOUT_FILENO);
			close(pipefd[1]);
			alarm(IAM_TEST_TIMEOUT_S);
			t->fn();
			fflush(stdout);
			_exit(iam_test_failed ? IAM_T_FAIL : IAM_T_PASS);
		}
		close(pipefd[1]);
		{
			FILE *f = fdopen(pipefd[0], "r");
			char line[1024];

			while (f && fgets(line, sizeof(line), f)) {
				if (!strncmp(line, "#SKIP ", 6)) {
					snprintf(reason, sizeof(reason), "%s",
						 line + 6);
					reason[strcspn(reason, "\n")] = 0;
				} else {
					fputs(line, stdout);
				}
			}
			if (f)
				fclose(f);
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == IAM_T_PASS) {
			printf("ok %d - %s: %s\n", n, prog, t->name);
		} else if (WIFEXITED(status) &&
			   WEXITSTATUS(status) == IAM_T_SKIP) {
			printf("ok %d - %s: %s # SKIP %s\n", n, prog, t->name,
			       reason);
		} else {
			failed++;
			if (WIFSIGNALED(status))
				printf("#   killed by signal %d%s\n",
				       WTERMSIG(status),
				       WTERMSIG(status) == SIGALRM ?
					       " (timeout)" :
					       "");
			printf("not ok %d - %s: %s\n", n, prog, t->name);
		}
	}
	return failed ? 1 : 0;
}

#endif /* IAM_TEST_H */
