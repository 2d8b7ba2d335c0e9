/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * json.h - a small streaming JSON writer for `--json` output.
 *
 * Commas and nesting are tracked for the caller:
 *
 *   struct iam_json j;
 *   iam_json_init(&j, stdout);
 *   iam_json_obj_begin(&j, NULL);
 *   iam_json_u64(&j, "total_blocks", m);
 *   iam_json_arr_begin(&j, "lenders");
 *   ...
 *   iam_json_arr_end(&j);
 *   iam_json_obj_end(&j);    // the outermost end prints a newline
 *
 * A NULL key is for array elements and the top-level value.  Keys are
 * snake_case by convention (DESIGN.md, "Interfaces").
 */
#ifndef IAM_JSON_H
#define IAM_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define IAM_JSON_MAX_DEPTH 16

struct iam_json {
	FILE *out;
	int depth;
	bool need_comma[IAM_JSON_MAX_DEPTH];
};

void iam_json_init(struct iam_json *j, FILE *out);
void iam_json_obj_begin(struct iam_json *j, const char *key);
void iam_json_obj_end(struct iam_json *j);
void iam_json_arr_begin(struct iam_json *j, const char *key);
void iam_json_arr_end(struct iam_json *j);
void iam_json_str(struct iam_json *j, const char *key, const char *v);
void iam_json_u64(struct iam_json *j, const char *key, uint64_t v);
void iam_json_i64(struct iam_json *j, const char *key, int64_t v);
void iam_json_double(struct iam_json *j, const char *key, double v);
void iam_json_bool(struct iam_json *j, const char *key, bool v);
void iam_json_null(struct iam_json *j, const char *key);

#endif /* IAM_JSON_H */
