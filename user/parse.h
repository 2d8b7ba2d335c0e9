/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * parse.h - strict parsers for numbers and sizes given by people (command
 * lines, the config file).  Each returns 0 or -EINVAL (malformed) /
 * -ERANGE (out of range) and never accepts trailing garbage.
 */
#ifndef IAM_PARSE_H
#define IAM_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* "65536", "64K", "64KiB", "1G", "2M", "0x10000": binary multiples. */
int iam_parse_size(const char *s, uint64_t *out);
/* Decimal, or hex with 0x. */
int iam_parse_u64(const char *s, uint64_t *out);
int iam_parse_u32(const char *s, uint32_t *out);
/* Bare hex (with or without 0x), at most 'bits' bits. */
int iam_parse_hex(const char *s, unsigned bits, uint64_t *out);
/* "500ms", "30s", "2m", "1h", or a bare number of seconds. */
int iam_parse_duration_ms(const char *s, uint64_t *out);
/* The largest exact binary unit: 65536 -> "64K", 3000 -> "3000". */
const char *iam_fmt_size(uint64_t v, char *buf, size_t len);

#endif /* IAM_PARSE_H */
