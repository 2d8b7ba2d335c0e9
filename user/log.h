/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * log.h - the one logging module of the agent and the tools.
 *
 * Levels: errors and warnings always, info by default, debug with -v, trace
 * with -vv.  Each message is one write(2) to stderr, so lines from threads
 * never interleave.  libbpf's own output is routed here (iam_log_libbpf).
 */
#ifndef IAM_LOG_H
#define IAM_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum iam_log_level {
	IAM_LOG_ERR = 0,
	IAM_LOG_WARN,
	IAM_LOG_INFO,
	IAM_LOG_DEBUG,
	IAM_LOG_TRACE,
};

void iam_log_set_level(int level);
int iam_log_get_level(void);
/* Name shown on each line, e.g. "iam-load[default]"; copied. */
void iam_log_set_ident(const char *ident);
/* Add a wall-clock timestamp to each line (the agent does; tools do not). */
void iam_log_set_timestamps(int on);

__attribute__((format(printf, 2, 3))) void iam_log(int level, const char *fmt,
						   ...);
void iam_vlog(int level, const char *fmt, va_list ap);
/* Hook for libbpf_set_print(); libbpf's warnings stay warnings, its info
 * becomes debug and its debug becomes trace. */
int iam_log_libbpf(int libbpf_level, const char *fmt, va_list ap);

#define iam_err(...) iam_log(IAM_LOG_ERR, __VA_ARGS__)
#define iam_warn(...) iam_log(IAM_LOG_WARN, __VA_ARGS__)
#define iam_info(...) iam_log(IAM_LOG_INFO, __VA_ARGS__)
#define iam_dbg(...)                                         \
	do {                                                 \
		if (iam_log_get_level() >= IAM_LOG_DEBUG)    \
			iam_log(IAM_LOG_DEBUG, __VA_ARGS__); \
	} while (0)
#define iam_trace(...)                                       \
	do {                                                 \
		if (iam_log_get_level() >= IAM_LOG_TRACE)    \
			iam_log(IAM_LOG_TRACE, __VA_ARGS__); \
	} while (0)

/* A message worth logging, but not on every occurrence (a flood of
 * refused connections must not become a flood of log lines): count each;
 * true for the first and then at most one a minute. */
struct iam_ratelimit {
	uint64_t count, last_ms;
};
bool iam_ratelimit(struct iam_ratelimit *r);

#endif /* IAM_LOG_H */
