// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* json.c - see json.h.  Strings are escaped per RFC 8259, section 7. */
#include <math.h>

#include "json.h"

void iam_json_init(struct iam_json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	j->need_comma[0] = false;
}

static void json_escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void json_key(struct iam_json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->out);
	j->need_comma[j->depth] = true;
	if (key) {
		json_escaped(j->out, key);
		fputc(':', j->out);
	}
}

static void json_open(struct iam_json *j, const char *key, char c)
{
	json_key(j, key);
	fputc(c, j->out);
	if (j->depth < IAM_JSON_MAX_DEPTH - 1)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void json_close(struct iam_json *j, char c)
{
	fputc(c, j->out);
	if (j->depth > 0)
		j->depth--;
	if (j->depth == 0) {
		fputc('\n', j->out);
		fflush(j->out);
	}
}

void iam_json_obj_begin(struct iam_json *j, const char *key)
{
	json_open(j, key, '{');
}

void iam_json_obj_end(struct iam_json *j)
{
	json_close(j, '}');
}

void iam_json_arr_begin(struct iam_json *j, const char *key)
{
	json_open(j, key, '[');
}

void iam_json_arr_end(struct iam_json *j)
{
	json_close(j, ']');
}

void iam_json_str(struct iam_json *j, const char *key, const char *v)
{
	json_key(j, key);
	if (v)
		json_escaped(j->out, v);
	else
		fputs("null", j->out);
}

void iam_json_u64(struct iam_json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	fprintf(j->out, "%llu", (unsigned long long)v);
}

void iam_json_i64(struct iam_json *j, const char *key, int64_t v)
{
	json_key(j, key);
	fprintf(j->out, "%lld", (long long)v);
}

void iam_json_double(struct iam_json *j, const char *key, double v)
{
	json_key(j, key);
	if (isfinite(v))
		fprintf(j->out, "%.3f", v);
	else
		fputs("null", j->out);
}

void iam_json_bool(struct iam_json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->out);
}

void iam_json_null(struct iam_json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->out);
}
