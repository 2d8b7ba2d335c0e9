// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * iamctl stats - the XDP classifier's counters, summed over CPUs, read
 * from the instance's pinned iam_stats map (so it works while the agent
 * runs, without asking it).  Drop reasons are named from iam_drop.h.
 *
 *   iamctl [-i NAME] stats [--json]
 *
 * JSON: {"instance", "passed_packets", "dropped_packets",
 *        "classes": {NAME: {"packets", "bytes"}, ...},
 *        "drops": {NAME: {"packets", "bytes"}, ...}}
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "iamctl.h"
#include "json.h"
#include "maps.h"

static void print_json(const char *instance, const struct iam_xdp_stats *s,
		       uint64_t passed, uint64_t dropped)
{
	struct iam_json j;

	iam_json_init(&j, stdout);
	iam_json_obj_begin(&j, NULL);
	iam_json_str(&j, "instance", instance);
	iam_json_u64(&j, "passed_packets", passed);
	iam_json_u64(&j, "dropped_packets", dropped);
	iam_json_obj_begin(&j, "classes");
	for (unsigned int i = 0; i < IAM_CLASS_MAX; i++) {
		const struct iam_counter *c = iam_maps_counter(s, i);

		iam_json_obj_begin(&j, iam_maps_classes[i].name);
		iam_json_u64(&j, "packets", c->packets);
		iam_json_u64(&j, "bytes", c->bytes);
		iam_json_obj_end(&j);
	}
	iam_json_obj_end(&j);
	iam_json_obj_begin(&j, "drops");
	for (unsigned int i = 0; i < IAM_DROP_MAX; i++) {
		const struct iam_counter *c =
			iam_maps_counter(s, IAM_CLASS_MAX + i);

		iam_json_obj_begin(&j, iam_maps_drops[i].name);
		iam_json_u64(&j, "packets", c->packets);
		iam_json_u64(&j, "bytes", c->bytes);
		iam_json_obj_end(&j);
	}
	iam_json_obj_end(&j);
	iam_json_obj_end(&j);
}

static void print_text(const char *instance, const struct iam_xdp_stats *s,
		       uint64_t passed, uint64_t dropped)
{
	printf("XDP counters of instance \"%s\": %llu passed, %llu dropped\n",
	       instance, (unsigned long long)passed,
	       (unsigned long long)dropped);
	printf("%-16s %14s %16s\n", "passed", "packets", "bytes");
	for (unsigned int i = 0; i < IAM_CLASS_MAX; i++) {
		const struct iam_counter *c = iam_maps_counter(s, i);

		printf("  %-14s %14llu %16llu  %s\n", iam_maps_classes[i].name,
		       (unsigned long long)c->packets,
		       (unsigned long long)c->bytes, iam_maps_classes[i].text);
	}
	printf("%-16s %14s %16s\n", "dropped", "packets", "bytes");
	for (unsigned int i = 0; i < IAM_DROP_MAX; i++) {
		const struct iam_counter *c =
			iam_maps_counter(s, IAM_CLASS_MAX + i);

		printf("  %-14s %14llu %16llu  %s\n", iam_maps_drops[i].name,
		       (unsigned long long)c->packets,
		       (unsigned long long)c->bytes, iam_maps_drops[i].text);
	}
}

static int stats_run(int argc, char **argv, const struct iamctl_ctx *ctx)
{
	struct iam_xdp_stats s;
	uint64_t passed = 0, dropped = 0;
	char path[256];
	int fd, err;

	if (argc > 1)
		return iamctl_usage_error("stats", "unexpected argument \"%s\"",
					  argv[1]);
	if (iam_maps_pin_path(ctx->instance, IAM_MAP_STATS, path, sizeof(path)))
		return iamctl_usage_error("stats", "bad instance name \"%s\"",
					  ctx->instance);
	fd = iam_maps_pinned_fd(ctx->instance, IAM_MAP_STATS);
	if (fd == -ENOENT)
		return iamctl_fail("stats",
				   "instance \"%s\" is not running (no %s)",
				   ctx->instance, path);
	if (fd < 0)
		return iamctl_fail("stats", "%s: %s", path, strerror(-fd));
	err = iam_maps_stats_read(fd, &s);
	close(fd);
	if (err)
		return iamctl_fail("stats", "cannot read %s: %s", path,
				   strerror(-err));
	for (unsigned int i = 0; i < IAM_STATS_NCOUNTERS; i++)
		*(i < IAM_CLASS_MAX ? &passed : &dropped) +=
			iam_maps_counter(&s, i)->packets;
	if (ctx->json)
		print_json(ctx->instance, &s, passed, dropped);
	else
		print_text(ctx->instance, &s, passed, dropped);
	return IAMCTL_OK;
}

IAMCTL_CMD(stats, .name = "stats", .args = "",
	   .summary = "XDP counters: packets per class and per drop reason",
	   .run = stats_run);
