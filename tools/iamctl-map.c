// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * iamctl map - the mem-to-ip table (FIG. 3), read from and written to the
 * instance's pinned mem_to_ip map while the agent runs.
 *
 *   iamctl [-i NAME] map [--json]          the entries in use
 *   iamctl [-i NAME] map add SLOT --vaddr ADDR --block IP6 --lender IP6
 *          [--remote ADDR] [--rights ro|rw] [--block-shift N] [--rkey N]
 *          [--pid N] [--alloc N] [--lender-idx N] [--local] [--rdma]
 *          [--lost]
 *   iamctl [-i NAME] map del SLOT
 *
 * `add` and `del` are for tests until borrowing fills the table: they
 * replace the whole entry in one bpf(2) update, racing with nothing but
 * the agent's own writes to that slot.  --remote defaults to the block's
 * address in the lender's memory, block address << block shift (FIG. 2).
 *
 * JSON: {"instance", "slots", "entries": [{"slot", "vaddr", "remote_addr",
 * "block", "lender", "rights", "flags": [...], "block_shift", "rkey",
 * "pid", "alloc_id", "lender_idx"}]}; addresses in memory are numbers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "iamctl.h"
#include "json.h"
#include "maps.h"
#include "parse.h"

static const struct {
	unsigned int bit;
	const char *name;
} flag_names[] = {
	{ IAM_M2I_VALID, "valid" },
	{ IAM_M2I_LOCAL, "local" },
	{ IAM_M2I_RDMA, "rdma" },
	{ IAM_M2I_LOST, "lost" },
};

static const char *rights_name(uint8_t r)
{
	return r == IAM_RIGHTS_RW ? "rw" : r == IAM_RIGHTS_RO ? "ro" : "none";
}

/* The pinned mem_to_ip's fd and size, or an exit status. */
static int open_m2i(const struct iamctl_ctx *ctx, const char *cmd, int *fd,
		    uint32_t *slots)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	char path[256];

	if (iam_maps_pin_path(ctx->instance, IAM_MAP_M2I, path, sizeof(path)))
		return iamctl_usage_error(cmd, "bad instance name \"%s\"",
					  ctx->instance);
	*fd = iam_maps_pinned_fd(ctx->instance, IAM_MAP_M2I);
	if (*fd == -ENOENT)
		return iamctl_fail(cmd,
				   "instance \"%s\" is not running (no %s)",
				   ctx->instance, path);
	if (*fd < 0)
		return iamctl_fail(cmd, "%s: %s", path, strerror(-*fd));
	if (bpf_obj_get_info_by_fd(*fd, &info, &len) ||
	    info.value_size != sizeof(struct iam_m2i_entry)) {
		close(*fd);
		return iamctl_fail(cmd, "%s is not a mem-to-ip table", path);
	}
	*slots = info.max_entries;
	return IAMCTL_OK;
}

static void print_entry_json(struct iam_json *j, uint32_t slot,
			     const struct iam_m2i_entry *e)
{
	char block[INET6_ADDRSTRLEN], lender[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, e->block, block, sizeof(block));
	inet_ntop(AF_INET6, e->lender, lender, sizeof(lender));
	iam_json_obj_begin(j, NULL);
	iam_json_u64(j, "slot", slot);
	iam_json_u64(j, "vaddr", e->vaddr);
	iam_json_u64(j, "remote_addr", e->remote_addr);
	iam_json_str(j, "block", block);
	iam_json_str(j, "lender", lender);
	iam_json_str(j, "rights", rights_name(e->rights));
	iam_json_arr_begin(j, "flags");
	for (size_t f = 0; f < sizeof(flag_names) / sizeof(flag_names[0]); f++)
		if (e->flags & flag_names[f].bit)
			iam_json_str(j, NULL, flag_names[f].name);
	iam_json_arr_end(j);
	iam_json_u64(j, "block_shift", e->block_shift);
	iam_json_u64(j, "rkey", e->rkey);
	iam_json_u64(j, "pid", e->pid);
	iam_json_u64(j, "alloc_id", e->alloc_id);
	iam_json_u64(j, "lender_idx", e->lender_idx);
	iam_json_obj_end(j);
}

static void print_entry_text(uint32_t slot, const struct iam_m2i_entry *e)
{
	char block[INET6_ADDRSTRLEN], lender[INET6_ADDRSTRLEN];
	char flags[64] = "";

	inet_ntop(AF_INET6, e->block, block, sizeof(block));
	inet_ntop(AF_INET6, e->lender, lender, sizeof(lender));
	for (size_t f = 1; f < sizeof(flag_names) / sizeof(flag_names[0]); f++)
		if (e->flags & flag_names[f].bit)
			snprintf(flags + strlen(flags),
				 sizeof(flags) - strlen(flags), "%s%s",
				 flags[0] ? "," : "", flag_names[f].name);
	printf("%6u  %#14llx  %-39s  %-39s  %-4s  %-10s  %#14llx  %4u  %8u  %7u  "
	       "%8llu\n",
	       slot, (unsigned long long)e->vaddr, block, lender,
	       rights_name(e->rights), flags[0] ? flags : "-",
	       (unsigned long long)e->remote_addr, 1u << e->block_shift >> 10,
	       e->rkey, e->pid, (unsigned long long)e->alloc_id);
}

static int map_list(const struct iamctl_ctx *ctx)
{
	const struct iam_m2i_entry *t;
	uint32_t slots, used = 0;
	struct iam_json j;
	size_t len;
	int fd, rc;

	rc = open_m2i(ctx, "map", &fd, &slots);
	if (rc)
		return rc;
	len = (size_t)slots * sizeof(*t);
	t = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED) {
		rc = iamctl_fail("map", "cannot map mem_to_ip: %s",
				 strerror(errno));
		close(fd);
		return rc;
	}
	if (ctx->json) {
		iam_json_init(&j, stdout);
		iam_json_obj_begin(&j, NULL);
		iam_json_str(&j, "instance", ctx->instance);
		iam_json_u64(&j, "slots", slots);
		iam_json_arr_begin(&j, "entries");
	} else {
		printf("%6s  %14s  %-39s  %-39s  %-4s  %-10s  %14s  %4s  %8s  "
		       "%7s  %8s\n",
		       "slot", "vaddr", "block", "lender", "rght", "flags",
		       "remote_addr", "KiB", "rkey", "pid", "alloc");
	}
	for (uint32_t i = 0; i < slots; i++) {
		struct iam_m2i_entry e;

		/* The agent publishes an entry by its flags (maps.h): read
		 * them first, then the rest, then check they held. */
		if (!(iam_m2i_flags(&t[i]) & IAM_M2I_VALID))
			continue;
		memcpy(&e, &t[i], sizeof(e));
		if (!(iam_m2i_flags(&t[i]) & IAM_M2I_VALID))
			continue;
		used++;
		if (ctx->json)
			print_entry_json(&j, i, &e);
		else
			print_entry_text(i, &e);
	}
	if (ctx->json) {
		iam_json_arr_end(&j);
		iam_json_obj_end(&j);
	} else {
		printf("%u of %u slots in use\n", used, slots);
	}
	munmap((void *)t, len);
	close(fd);
	return IAMCTL_OK;
}

static int parse_slot(const char *s, uint32_t slots, uint32_t *slot)
{
	if (iam_parse_u32(s, slot))
		return iamctl_usage_error("map", "bad slot \"%s\"", s);
	if (*slot >= slots)
		return iamctl_usage_error(
			"map", "slot %u is past the table's %u slots", *slot,
			slots);
	return IAMCTL_OK;
}

/* The value of option argv[*i] ("--name VALUE"), or NULL after a usage
 * message. */
static const char *opt_value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		iamctl_usage_error("map", "%s needs a value", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

static int parse_add(int argc, char **argv, struct iam_m2i_entry *e,
		     bool *have_remote)
{
	bool have_vaddr = false, have_block = false, have_lender = false;
	uint64_t u64;
	uint32_t u32;

	for (int i = 3; i < argc; i++) {
		const char *o = argv[i], *v = NULL;

		if (!strcmp(o, "--local")) {
			e->flags |= IAM_M2I_LOCAL;
			continue;
		} else if (!strcmp(o, "--rdma")) {
			e->flags |= IAM_M2I_RDMA;
			continue;
		} else if (!strcmp(o, "--lost")) {
			e->flags |= IAM_M2I_LOST;
			continue;
		}
		if (strncmp(o, "--", 2))
			return iamctl_usage_error("map", "unexpected \"%s\"",
						  o);
		v = opt_value(argc, argv, &i);
		if (!v)
			return IAMCTL_USAGE;
		if (!strcmp(o, "--vaddr")) {
			if (iam_parse_u64(v, &u64))
				goto bad;
			e->vaddr = u64;
			have_vaddr = true;
		} else if (!strcmp(o, "--remote")) {
			if (iam_parse_u64(v, &u64))
				goto bad;
			e->remote_addr = u64;
			*have_remote = true;
		} else if (!strcmp(o, "--block")) {
			if (inet_pton(AF_INET6, v, e->block) != 1)
				goto bad;
			have_block = true;
		} else if (!strcmp(o, "--lender")) {
			if (inet_pton(AF_INET6, v, e->lender) != 1)
				goto bad;
			have_lender = true;
		} else if (!strcmp(o, "--rights")) {
			if (!strcmp(v, "ro"))
				e->rights = IAM_RIGHTS_RO;
			else if (!strcmp(v, "rw"))
				e->rights = IAM_RIGHTS_RW;
			else
				goto bad;
		} else if (!strcmp(o, "--block-shift")) {
			if (iam_parse_u64(v, &u64) ||
			    u64 < IAM_BLOCK_SHIFT_MIN ||
			    u64 > IAM_BLOCK_SHIFT_MAX)
				goto bad;
			e->block_shift = (uint8_t)u64;
		} else if (!strcmp(o, "--rkey")) {
			if (iam_parse_u32(v, &e->rkey))
				goto bad;
		} else if (!strcmp(o, "--pid")) {
			if (iam_parse_u32(v, &e->pid))
				goto bad;
		} else if (!strcmp(o, "--alloc")) {
			if (iam_parse_u64(v, &u64))
				goto bad;
			e->alloc_id = u64;
		} else if (!strcmp(o, "--lender-idx")) {
			if (iam_parse_u32(v, &u32) || u32 > 0xffff)
				goto bad;
			e->lender_idx = (uint16_t)u32;
		} else {
			return iamctl_usage_error("map", "unknown option %s",
						  o);
		}
		continue;
bad:
		return iamctl_usage_error("map", "bad value \"%s\" for %s", v,
					  o);
	}
	if (!have_vaddr || !have_block || !have_lender)
		return iamctl_usage_error(
			"map", "add needs --vaddr, --block and --lender");
	return IAMCTL_OK;
}

static int map_add(int argc, char **argv, const struct iamctl_ctx *ctx)
{
	struct iam_m2i_entry e = { .rights = IAM_RIGHTS_RO,
				   .block_shift = IAM_BLOCK_SHIFT_DEFAULT };
	bool have_remote = false;
	uint32_t slots, slot;
	int fd, rc;

	if (argc < 3)
		return iamctl_usage_error("map", "add needs a slot");
	rc = parse_add(argc, argv, &e, &have_remote);
	if (rc)
		return rc;
	if (e.vaddr & ((1ull << e.block_shift) - 1))
		return iamctl_usage_error(
			"map", "vaddr %#llx is not aligned to the %u KiB block",
			(unsigned long long)e.vaddr,
			(1u << e.block_shift) >> 10);
	if (!have_remote) {
		uint64_t b = 0;

		/* FIG. 2: the last 48 bits of a block's address. */
		for (int i = 10; i < 16; i++)
			b = b << 8 | e.block[i];
		e.remote_addr = b << e.block_shift;
	}
	e.flags |= IAM_M2I_VALID;
	rc = open_m2i(ctx, "map", &fd, &slots);
	if (rc)
		return rc;
	rc = parse_slot(argv[2], slots, &slot);
	if (!rc && bpf_map_update_elem(fd, &slot, &e, BPF_ANY))
		rc = iamctl_fail("map", "cannot write slot %u: %s", slot,
				 strerror(errno));
	close(fd);
	return rc;
}

static int map_del(int argc, char **argv, const struct iamctl_ctx *ctx)
{
	struct iam_m2i_entry e = { 0 };
	uint32_t slots, slot;
	int fd, rc;

	if (argc != 3)
		return iamctl_usage_error("map", "usage: map del SLOT");
	rc = open_m2i(ctx, "map", &fd, &slots);
	if (rc)
		return rc;
	rc = parse_slot(argv[2], slots, &slot);
	if (!rc && bpf_map_update_elem(fd, &slot, &e, BPF_ANY))
		rc = iamctl_fail("map", "cannot clear slot %u: %s", slot,
				 strerror(errno));
	close(fd);
	return rc;
}

static int map_run(int argc, char **argv, const struct iamctl_ctx *ctx)
{
	if (argc == 1)
		return map_list(ctx);
	if (!strcmp(argv[1], "add"))
		return map_add(argc, argv, ctx);
	if (!strcmp(argv[1], "del"))
		return map_del(argc, argv, ctx);
	return iamctl_usage_error("map", "unknown action \"%s\" (add, del)",
				  argv[1]);
}

IAMCTL_CMD(map, .name = "map", .args = "[add SLOT OPTIONS... | del SLOT]",
	   .summary = "the mem-to-ip table; add/del entries for tests",
	   .run = map_run);
