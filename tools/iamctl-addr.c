// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * iamctl addr - the FIG. 2 address arithmetic, for people and scripts.
 * Needs no agent: everything is computed here from the arguments.
 *
 *   iamctl addr encode --net NET --host HOST [--block-size SIZE] ADDR...
 *   iamctl addr decode [--block-size SIZE] IPV6...
 *   iamctl addr aggregate [--block-size SIZE] [--net NET --host HOST] ADDR...
 *   iamctl addr blocks [--block-size SIZE] PREFIX...
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iam_addr.h"
#include "iamctl.h"
#include "json.h"
#include "parse.h"

struct addr_opts {
	const char *cmd; /* "addr encode", ... for messages */
	const char *net_s, *host_s, *bs_s;
	uint8_t net[6];
	uint32_t host;
	unsigned shift;
	char **args; /* positional arguments */
	int nargs;
};

static void addr_usage(FILE *f)
{
	fprintf(f,
		"usage: iamctl addr encode --net NET --host HOST "
		"[--block-size SIZE] ADDR...\n"
		"       iamctl addr decode [--block-size SIZE] IPV6...\n"
		"       iamctl addr aggregate [--block-size SIZE] "
		"[--net NET --host HOST] ADDR...\n"
		"       iamctl addr blocks [--block-size SIZE] PREFIX...\n"
		"\n"
		"  NET         network part, 48 bits: 2001:db80:8000\n"
		"  HOST        host part, 32 bits: c0a8:a010, 192.168.160.16 "
		"or 0xc0a8a010\n"
		"  SIZE        block size, a power of two from 4K to 2M "
		"(default 64K)\n"
		"  ADDR        a block's start address in hex "
		"(0x0000b8a038640000); aggregate\n"
		"              also takes block IPv6 addresses\n"
		"  --json      machine-readable output\n");
}

/* Parse options and positional arguments after the verb. */
static int parse_opts(int argc, char **argv, struct addr_opts *o)
{
	int err;

	o->args = calloc((size_t)argc + 1, sizeof(*o->args));
	if (!o->args)
		return iamctl_fail(o->cmd, "out of memory");
	for (int i = 0; i < argc; i++) {
		const char **dst = NULL, *name = argv[i];
		size_t nl = 0;

		if (!strncmp(name, "--net", 5))
			dst = &o->net_s, nl = 5;
		else if (!strncmp(name, "--host", 6))
			dst = &o->host_s, nl = 6;
		else if (!strncmp(name, "--block-size", 12))
			dst = &o->bs_s, nl = 12;
		if (dst && name[nl] == '=') {
			*dst = name + nl + 1;
		} else if (dst && !name[nl]) {
			if (++i >= argc)
				return iamctl_usage_error(
					o->cmd, "%s needs a value", name);
			*dst = argv[i];
		} else if (!strcmp(name, "--")) {
			while (++i < argc)
				o->args[o->nargs++] = argv[i];
		} else if (name[0] == '-' && name[1] && !strchr(name, ':')) {
			return iamctl_usage_error(o->cmd,
						  "unknown option %s (see "
						  "iamctl addr --help)",
						  name);
		} else {
			o->args[o->nargs++] = argv[i];
		}
	}
	o->shift = IAM_BLOCK_SHIFT_DEFAULT;
	if (o->bs_s) {
		uint64_t v;

		err = iam_parse_size(o->bs_s, &v);
		if (err == -ERANGE)
			return iamctl_usage_error(o->cmd,
						  "block size \"%s\" is out of "
						  "range (4K..2M)",
						  o->bs_s);
		if (err)
			return iamctl_usage_error(o->cmd,
						  "block size \"%s\" is "
						  "malformed (e.g. 64K, 2M, "
						  "65536)",
						  o->bs_s);
		if (!v || (v & (v - 1)))
			return iamctl_usage_error(o->cmd,
						  "block size \"%s\" is not a "
						  "power of two",
						  o->bs_s);
		err = iam_addr_block_size_parse(o->bs_s, &o->shift);
		if (err)
			return iamctl_usage_error(o->cmd,
						  "block size \"%s\" is out of "
						  "range (4K..2M)",
						  o->bs_s);
	}
	if (o->net_s && iam_addr_net_parse(o->net_s, o->net))
		return iamctl_usage_error(
			o->cmd,
			"--net \"%s\" is not a 48-bit network "
			"part (e.g. 2001:db80:8000)",
			o->net_s);
	if (o->host_s) {
		err = iam_addr_host_parse(o->host_s, &o->host);
		if (err == -ERANGE)
			return iamctl_usage_error(o->cmd,
						  "--host \"%s\" is out of "
						  "range (more than 32 bits)",
						  o->host_s);
		if (err)
			return iamctl_usage_error(
				o->cmd,
				"--host \"%s\" is not a "
				"32-bit host part (e.g. "
				"c0a8:a010 or 192.168.160.16)",
				o->host_s);
	}
	return IAMCTL_OK;
}

static int space_of(const struct addr_opts *o, struct iam_addr_space *s)
{
	if (!o->net_s || !o->host_s)
		return iamctl_usage_error(o->cmd, "--net and --host are "
						  "required");
	iam_addr_space_init(s, o->net, o->host, o->shift);
	return IAMCTL_OK;
}

/* A memory address: hex, 0x optional, at most 64 bits. */
static int parse_mem(const struct addr_opts *o, const char *s, uint64_t *v)
{
	int err = iam_parse_hex(s, 64, v);

	if (err == -ERANGE)
		return iamctl_usage_error(o->cmd,
					  "address \"%s\" is out of range "
					  "(more than 64 bits)",
					  s);
	if (err)
		return iamctl_usage_error(o->cmd,
					  "address \"%s\" is malformed (hex, "
					  "e.g. 0x0000b8a038640000)",
					  s);
	return IAMCTL_OK;
}

static int encode_mem(const struct addr_opts *o, const struct iam_addr_space *s,
		      const char *arg, uint64_t mem, struct in6_addr *a)
{
	char bs[16];
	int err = iam_addr_encode(s, mem, a);

	iam_fmt_size(1ull << o->shift, bs, sizeof(bs));
	if (err == -EINVAL)
		return iamctl_usage_error(o->cmd,
					  "address %s is not aligned to the "
					  "block size %s",
					  arg, bs);
	if (err)
		return iamctl_usage_error(o->cmd,
					  "address %s is out of range: its "
					  "block address 0x%" PRIx64
					  " needs more than 48 bits",
					  arg, mem >> o->shift);
	return IAMCTL_OK;
}

static const char *hex16(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "0x%016" PRIx64, v);
	return buf;
}

static const char *hex(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "0x%" PRIx64, v);
	return buf;
}

static int cmd_encode(struct addr_opts *o, const struct iamctl_ctx *ctx)
{
	char ip[INET6_ADDRSTRLEN], nb[IAM_NET_STRLEN], hb[IAM_HOST_STRLEN];
	char h1[24], h2[24];
	struct iam_addr_space s;
	struct in6_addr *out;
	uint64_t *mem;
	struct iam_json j;
	int rc;

	rc = space_of(o, &s);
	if (rc)
		return rc;
	if (!o->nargs)
		return iamctl_usage_error(o->cmd, "no address given");
	out = calloc((size_t)o->nargs, sizeof(*out));
	mem = calloc((size_t)o->nargs, sizeof(*mem));
	if (!out || !mem) {
		rc = iamctl_fail(o->cmd, "out of memory");
		goto out;
	}
	/* Check everything before printing anything. */
	for (int i = 0; i < o->nargs; i++) {
		rc = parse_mem(o, o->args[i], &mem[i]);
		if (!rc)
			rc = encode_mem(o, &s, o->args[i], mem[i], &out[i]);
		if (rc)
			goto out;
	}
	if (!ctx->json) {
		for (int i = 0; i < o->nargs; i++)
			printf("%s\n",
			       inet_ntop(AF_INET6, &out[i], ip, sizeof(ip)));
		goto out;
	}
	iam_json_init(&j, stdout);
	iam_json_obj_begin(&j, NULL);
	iam_json_str(&j, "network", iam_addr_net_fmt(s.net, nb, sizeof(nb)));
	iam_json_str(&j, "host", iam_addr_host_fmt(s.host, hb, sizeof(hb)));
	iam_json_u64(&j, "block_size", 1ull << o->shift);
	iam_json_arr_begin(&j, "addresses");
	for (int i = 0; i < o->nargs; i++) {
		iam_json_obj_begin(&j, NULL);
		iam_json_str(&j, "memory_address",
			     hex16(mem[i], h1, sizeof(h1)));
		iam_json_str(&j, "block_address",
			     hex(mem[i] >> o->shift, h2, sizeof(h2)));
		iam_json_str(&j, "ipv6",
			     inet_ntop(AF_INET6, &out[i], ip, sizeof(ip)));
		iam_json_obj_end(&j);
	}
	iam_json_arr_end(&j);
	iam_json_obj_end(&j);
out:
	free(out);
	free(mem);
	return rc;
}

static int parse_ip(const struct addr_opts *o, const char *s,
		    struct in6_addr *a)
{
	if (inet_pton(AF_INET6, s, a) != 1)
		return iamctl_usage_error(o->cmd,
					  "\"%s\" is not an IPv6 address", s);
	return IAMCTL_OK;
}

static int decode_ip(const struct addr_opts *o, const char *arg,
		     const struct in6_addr *a, struct iam_addr_space *s,
		     uint64_t *mem)
{
	char bs[16];

	if (iam_addr_decode(a, o->shift, s, mem)) {
		iam_fmt_size(1ull << o->shift, bs, sizeof(bs));
		return iamctl_usage_error(o->cmd,
					  "%s is out of range: block address "
					  "0x%" PRIx64 " of %s blocks is "
					  "beyond 64-bit memory",
					  arg, iam_addr_block(a), bs);
	}
	return IAMCTL_OK;
}

static int cmd_decode(struct addr_opts *o, const struct iamctl_ctx *ctx)
{
	char ip[INET6_ADDRSTRLEN], nb[IAM_NET_STRLEN], hb[IAM_HOST_STRLEN];
	char h1[24], h2[24];
	struct iam_json j;
	struct in6_addr a;
	int rc;

	if (o->net_s || o->host_s)
		return iamctl_usage_error(o->cmd, "--net and --host come from "
						  "the address itself");
	if (!o->nargs)
		return iamctl_usage_error(o->cmd, "no address given");
	for (int i = 0; i < o->nargs; i++) {
		struct iam_addr_space s;
		uint64_t mem;

		rc = parse_ip(o, o->args[i], &a);
		if (!rc)
			rc = decode_ip(o, o->args[i], &a, &s, &mem);
		if (rc)
			return rc;
	}
	if (ctx->json) {
		iam_json_init(&j, stdout);
		iam_json_obj_begin(&j, NULL);
		iam_json_u64(&j, "block_size", 1ull << o->shift);
		iam_json_arr_begin(&j, "addresses");
	}
	for (int i = 0; i < o->nargs; i++) {
		struct iam_addr_space s;
		uint64_t mem;

		inet_pton(AF_INET6, o->args[i], &a);
		iam_addr_decode(&a, o->shift, &s, &mem);
		iam_addr_net_fmt(s.net, nb, sizeof(nb));
		iam_addr_host_fmt(s.host, hb, sizeof(hb));
		hex(iam_addr_block(&a), h1, sizeof(h1));
		hex16(mem, h2, sizeof(h2));
		inet_ntop(AF_INET6, &a, ip, sizeof(ip));
		if (ctx->json) {
			iam_json_obj_begin(&j, NULL);
			iam_json_str(&j, "ipv6", ip);
			iam_json_str(&j, "network", nb);
			iam_json_str(&j, "host", hb);
			iam_json_str(&j, "block_address", h1);
			iam_json_str(&j, "memory_address", h2);
			iam_json_obj_end(&j);
		} else {
			printf("%snetwork %s\nhost %s\nblock_address %s\n"
			       "memory_address %s\n",
			       i ? "\n" : "", nb, hb, h1, h2);
		}
	}
	if (ctx->json) {
		iam_json_arr_end(&j);
		iam_json_obj_end(&j);
	}
	return IAMCTL_OK;
}

static int in6_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct in6_addr));
}

/* One prefix as text or a JSON object. */
static void print_prefix(const struct addr_opts *o, struct iam_json *j,
			 const struct iam_prefix *p, bool detail)
{
	char pb[IAM_PREFIX_STRLEN], nb[IAM_NET_STRLEN], hb[IAM_HOST_STRLEN];
	char h1[24], h2[24], sz[32];
	struct iam_addr_space s;
	uint64_t first, count, mem = 0;
	int derr;

	iam_addr_prefix_fmt(p, pb, sizeof(pb));
	iam_addr_prefix_blocks(p, &first, &count);
	derr = iam_addr_decode(&p->addr, o->shift, &s, &mem);
	iam_addr_net_fmt(s.net, nb, sizeof(nb));
	iam_addr_host_fmt(s.host, hb, sizeof(hb));
	hex(first, h1, sizeof(h1));
	hex16(mem, h2, sizeof(h2));
	if (!j) {
		if (!detail) {
			printf("%s\n", pb);
			return;
		}
		printf("prefix %s\nnetwork %s\nhost %s\nfirst_block %s\n"
		       "memory_address %s\nblocks %" PRIu64 "\nsize %s\n",
		       pb, nb, hb, h1, h2, count,
		       count >> (64 - o->shift) ?
			       "(beyond 64 bits)" :
			       iam_fmt_size(count << o->shift, sz, sizeof(sz)));
		return;
	}
	iam_json_obj_begin(j, NULL);
	iam_json_str(j, "prefix", pb);
	if (detail) {
		iam_json_str(j, "network", nb);
		iam_json_str(j, "host", hb);
	}
	iam_json_str(j, "first_block", h1);
	if (derr)
		iam_json_null(j, "memory_address");
	else
		iam_json_str(j, "memory_address", h2);
	iam_json_u64(j, "blocks", count);
	if (count >> (64 - o->shift))
		iam_json_null(j, "bytes");
	else
		iam_json_u64(j, "bytes", count << o->shift);
	iam_json_obj_end(j);
}

static int cmd_aggregate(struct addr_opts *o, const struct iamctl_ctx *ctx)
{
	struct iam_addr_space s = { 0 };
	struct iam_prefix *pfx = NULL, *grown;
	struct in6_addr *in = NULL;
	uint64_t *blocks = NULL;
	bool have_space = o->net_s || o->host_s;
	size_t np = 0, nuniq = 0;
	struct iam_json j;
	int rc = IAMCTL_OK;

	if (have_space) {
		rc = space_of(o, &s);
		if (rc)
			return rc;
	}
	if (!o->nargs)
		return iamctl_usage_error(o->cmd, "no address given");
	in = calloc((size_t)o->nargs, sizeof(*in));
	blocks = calloc((size_t)o->nargs, sizeof(*blocks));
	if (!in || !blocks) {
		rc = iamctl_fail(o->cmd, "out of memory");
		goto out;
	}
	for (int i = 0; i < o->nargs && !rc; i++) {
		const char *arg = o->args[i];
		uint64_t mem;

		if (strchr(arg, ':')) {
			rc = parse_ip(o, arg, &in[i]);
			if (!rc)
				rc = decode_ip(o, arg, &in[i], NULL, &mem);
		} else if (!have_space) {
			rc = iamctl_usage_error(o->cmd,
						"\"%s\" is not an IPv6 address "
						"(memory addresses need --net "
						"and --host)",
						arg);
		} else {
			rc = parse_mem(o, arg, &mem);
			if (!rc)
				rc = encode_mem(o, &s, arg, mem, &in[i]);
		}
	}
	if (rc)
		goto out;
	/* Group by /80 (one agent each), ascending. */
	qsort(in, (size_t)o->nargs, sizeof(*in), in6_cmp);
	for (size_t i = 0, g; i < (size_t)o->nargs; i = g) {
		struct iam_addr_space gs;
		size_t n = 0, need;

		iam_addr_decode(&in[i], o->shift, &gs, NULL);
		for (g = i;
		     g < (size_t)o->nargs && iam_addr_in_space(&gs, &in[g]);
		     g++)
			blocks[n++] = iam_addr_block(&in[g]);
		/* A set of n blocks never needs more than n prefixes. */
		grown = realloc(pfx, (np + n) * sizeof(*pfx));
		if (!grown) {
			rc = iamctl_fail(o->cmd, "out of memory");
			goto out;
		}
		pfx = grown;
		iam_addr_aggregate(&gs, blocks, n, pfx + np, n, &need);
		for (size_t k = np; k < np + need; k++) {
			uint64_t first, count;

			iam_addr_prefix_blocks(&pfx[k], &first, &count);
			nuniq += count;
		}
		np += need;
	}
	if (!ctx->json) {
		for (size_t i = 0; i < np; i++)
			print_prefix(o, NULL, &pfx[i], false);
		goto out;
	}
	iam_json_init(&j, stdout);
	iam_json_obj_begin(&j, NULL);
	iam_json_u64(&j, "block_size", 1ull << o->shift);
	iam_json_u64(&j, "blocks", nuniq);
	iam_json_arr_begin(&j, "prefixes");
	for (size_t i = 0; i < np; i++)
		print_prefix(o, &j, &pfx[i], false);
	iam_json_arr_end(&j);
	iam_json_obj_end(&j);
out:
	free(pfx);
	free(in);
	free(blocks);
	return rc;
}

static int cmd_blocks(struct addr_opts *o, const struct iamctl_ctx *ctx)
{
	struct iam_prefix *p;
	struct iam_json j;
	int rc = IAMCTL_OK;

	if (o->net_s || o->host_s)
		return iamctl_usage_error(o->cmd, "--net and --host come from "
						  "the prefix itself");
	if (!o->nargs)
		return iamctl_usage_error(o->cmd, "no prefix given");
	p = calloc((size_t)o->nargs, sizeof(*p));
	if (!p)
		return iamctl_fail(o->cmd, "out of memory");
	for (int i = 0; i < o->nargs && !rc; i++) {
		int err = iam_addr_prefix_parse(o->args[i], &p[i]);
		uint64_t first, count;

		if (err == -ERANGE)
			rc = iamctl_usage_error(o->cmd,
						"\"%s\": prefix length out of "
						"range (0..128)",
						o->args[i]);
		else if (err)
			rc = iamctl_usage_error(o->cmd,
						"\"%s\" is not an IPv6 prefix "
						"(or has bits set past its "
						"length)",
						o->args[i]);
		else if (iam_addr_prefix_blocks(&p[i], &first, &count))
			rc = iamctl_usage_error(o->cmd,
						"%s is wider than one agent's "
						"/%u",
						o->args[i],
						IAM_NODE_PREFIX_LEN);
	}
	if (rc)
		goto out;
	if (ctx->json) {
		iam_json_init(&j, stdout);
		iam_json_obj_begin(&j, NULL);
		iam_json_u64(&j, "block_size", 1ull << o->shift);
		iam_json_arr_begin(&j, "prefixes");
	}
	for (int i = 0; i < o->nargs; i++) {
		if (i && !ctx->json)
			putchar('\n');
		print_prefix(o, ctx->json ? &j : NULL, &p[i], true);
	}
	if (ctx->json) {
		iam_json_arr_end(&j);
		iam_json_obj_end(&j);
	}
out:
	free(p);
	return rc;
}

static int addr_run(int argc, char **argv, const struct iamctl_ctx *ctx)
{
	static const struct {
		const char *verb;
		int (*fn)(struct addr_opts *o, const struct iamctl_ctx *ctx);
	} verbs[] = {
		{ "encode", cmd_encode },
		{ "decode", cmd_decode },
		{ "aggregate", cmd_aggregate },
		{ "blocks", cmd_blocks },
	};
	struct addr_opts o = { .cmd = "addr" };
	char name[32];
	int rc;

	if (argc < 2) {
		addr_usage(stderr);
		return IAMCTL_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		addr_usage(stdout);
		return IAMCTL_OK;
	}
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		if (strcmp(argv[1], verbs[v].verb))
			continue;
		snprintf(name, sizeof(name), "addr %s", verbs[v].verb);
		o.cmd = name;
		rc = parse_opts(argc - 2, argv + 2, &o);
		if (!rc)
			rc = verbs[v].fn(&o, ctx);
		free(o.args);
		return rc;
	}
	return iamctl_usage_error("addr",
				  "unknown subcommand \"%s\" (encode, decode, "
				  "aggregate, blocks)",
				  argv[1]);
}

IAMCTL_CMD(addr, .name = "addr", .args = "encode|decode|aggregate|blocks ...",
	   .summary = "block <-> IPv6 address arithmetic (FIG. 2)",
	   .run = addr_run, .own_help = true)
