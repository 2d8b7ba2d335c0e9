// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* log.c - leveled logging to stderr; see log.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "log.h"

static int log_level = IAM_LOG_INFO;
static int log_timestamps;
static char log_ident[64];

static const char *const level_names[] = {
	[IAM_LOG_ERR] = "error",   [IAM_LOG_WARN] = "warning",
	[IAM_LOG_INFO] = "info",   [IAM_LOG_DEBUG] = "debug",
	[IAM_LOG_TRACE] = "trace",
};

void iam_log_set_level(int level)
{
	if (level < IAM_LOG_ERR)
		level = IAM_LOG_ERR;
	if (level > IAM_LOG_TRACE)
		level = IAM_LOG_TRACE;
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

int iam_log_get_level(void)
{
	return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

void iam_log_set_ident(const char *ident)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident ? ident : "");
}

void iam_log_set_timestamps(int on)
{
	log_timestamps = on;
}

void iam_vlog(int level, const char *fmt, va_list ap)
{
	char buf[2048];
	size_t n = 0;
	int r;

	if (level > iam_log_get_level())
		return;
	if (level < IAM_LOG_ERR)
		level = IAM_LOG_ERR;
	if (level > IAM_LOG_TRACE)
		level = IAM_LOG_TRACE;
	if (log_timestamps) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n += strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
		n += snprintf(buf + n, sizeof(buf) - n, ".%03ldZ ",
			      ts.tv_nsec / 1000000);
	}
	if (log_ident[0])
		n += snprintf(buf + n, sizeof(buf) - n, "%s: ", log_ident);
	if (level != IAM_LOG_INFO)
		n += snprintf(buf + n, sizeof(buf) - n,
			      "%s: ", level_names[level]);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	r = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	if (r < 0)
		return;
	n += (size_t)r;
	if (n >= sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	/* One message, one line: drop a trailing newline the caller gave
	 * (libbpf's messages carry one) and add our own. */
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, n) < 0) {
		/* Nowhere left to report this. */
	}
}

void iam_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	iam_vlog(level, fmt, ap);
	va_end(ap);
}

int iam_log_libbpf(int libbpf_level, const char *fmt, va_list ap)
{
	int level;

	switch (libbpf_level) {
	case LIBBPF_WARN:
		level = IAM_LOG_WARN;
		break;
	case LIBBPF_INFO:
		level = IAM_LOG_DEBUG;
		break;
	default:
		level = IAM_LOG_TRACE;
		break;
	}
	iam_vlog(level, fmt, ap);
	return 0;
}

bool iam_ratelimit(struct iam_ratelimit *r)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	r->count++;
	if (r->count > 1 && now - r->last_ms < 60000)
		return false;
	r->last_ms = now;
	return true;
}
