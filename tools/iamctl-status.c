// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * iamctl status | lenders | allocations | peers: what a running agent
 * knows, asked over its UNIX socket (headers/iam_ipc.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iam_const.h"
#include "iam_ipc.h"
#include "iamctl.h"
#include "json.h"
#include "lib/ipc.h"
#include "parse.h"

#define MAX_RECORDS 65536

static int connect_agent(const char *cmd, const struct iamctl_ctx *ctx)
{
	int fd = iam_ipc_connect(ctx->instance);

	if (fd == -ENOENT || fd == -ECONNREFUSED)
		return -iamctl_fail(cmd,
				    "no agent runs for instance \"%s\" "
				    "(no %s/%s.sock); start iam-load first",
				    ctx->instance, IAM_RUN_DIR, ctx->instance);
	if (fd < 0)
		return -iamctl_fail(cmd, "cannot reach instance \"%s\": %s",
				    ctx->instance, strerror(-fd));
	return fd;
}

/* Ask for a list; *recs gets a malloc'ed array of records of rsize. */
static int fetch_list(int fd, uint16_t type, size_t rsize, void **recs,
		      size_t *n)
{
	char buf[IAM_IPC_MAX_MSG];
	const struct iam_ipc_hdr *h = (const void *)buf;
	size_t cap = 0;
	uint32_t seq = (uint32_t)getpid();
	int err;

	*recs = NULL;
	*n = 0;
	err = iam_ipc_send(fd, type, 0, seq, 0, NULL, 0, NULL, 0);
	if (err)
		return err;
	for (;;) {
		ssize_t k = iam_ipc_recv(fd, buf, sizeof(buf), NULL, NULL, 0);

		if (k == 0)
			return -ECONNRESET;
		if (k < 0)
			return (int)k;
		if (h->seq != seq || h->type != type)
			continue;
		if (h->status < 0)
			return h->status;
		if (!(h->flags & IAM_IPC_F_MORE))
			return 0;
		if ((size_t)k - sizeof(*h) != rsize)
			return -EBADMSG;
		if (*n == cap) {
			void *p;

			if (cap >= MAX_RECORDS)
				return -E2BIG;
			cap = cap ? cap * 2 : 64;
			p = realloc(*recs, cap * rsize);
			if (!p)
				return -ENOMEM;
			*recs = p;
		}
		memcpy((char *)*recs + *n * rsize, buf + sizeof(*h), rsize);
		(*n)++;
	}
}

static const char *ip6(const void *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

static const char *pfx(const void *a, unsigned len, char *buf, size_t blen)
{
	char b[INET6_ADDRSTRLEN];

	snprintf(buf, blen, "%s/%u", ip6(a, b), len);
	return buf;
}

static const char *dur(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, len, "%lluh%02llum",
			 (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60));
	return buf;
}

static const char *transport_name(unsigned t)
{
	static const char *const names[] = { "-", "local", "tcp", "rdma" };

	return t < 4 ? names[t] : "?";
}

static const char *as_path_str(const struct iam_ipc_lender *l, char *buf,
			       size_t len)
{
	size_t o = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < l->as_path_len && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%u", i ? " " : "",
				      l->as_path[i]);
	return buf;
}

static void lenders_json(struct iam_json *j, const struct iam_ipc_lender *l,
			 size_t n)
{
	char b[64], p[64];

	iam_json_arr_begin(j, "lenders");
	for (size_t i = 0; i < n; i++) {
		iam_json_obj_begin(j, NULL);
		iam_json_str(j, "prefix",
			     pfx(l[i].prefix, l[i].plen, p, sizeof(p)));
		iam_json_u64(j, "total_blocks", l[i].total_blocks);
		iam_json_u64(j, "available_blocks", l[i].available_blocks);
		iam_json_u64(j, "block_size", l[i].block_size);
		iam_json_str(j, "next_hop",
			     l[i].self ? NULL : ip6(l[i].next_hop, b));
		iam_json_arr_begin(j, "as_path");
		for (unsigned k = 0; k < l[i].as_path_len; k++)
			iam_json_u64(j, NULL, l[i].as_path[k]);
		iam_json_arr_end(j);
		iam_json_u64(j, "age_ms", l[i].age_ms);
		iam_json_bool(j, "self", l[i].self);
		iam_json_str(j, "transport", transport_name(l[i].transport));
		iam_json_obj_end(j);
	}
	iam_json_arr_end(j);
}

static void lenders_table(const struct iam_ipc_lender *l, size_t n)
{
	char p[64], b[64], s[32], a[128], age[32];

	/* The AS path is last: it is the one column of unbounded width. */
	printf("%-34s %9s %9s %6s %-26s %7s %-9s %s\n", "LENDER", "M_i", "V_i",
	       "BLOCK", "NEXT HOP", "AGE", "TRANSPORT", "AS PATH");
	for (size_t i = 0; i < n; i++)
		printf("%-34s %9llu %9llu %6s %-26s %7s %-9s %s\n",
		       pfx(l[i].prefix, l[i].plen, p, sizeof(p)),
		       (unsigned long long)l[i].total_blocks,
		       (unsigned long long)l[i].available_blocks,
		       iam_fmt_size(l[i].block_size, s, sizeof(s)),
		       l[i].self ? "(this agent)" : ip6(l[i].next_hop, b),
		       dur(l[i].age_ms, age, sizeof(age)),
		       transport_name(l[i].transport),
		       l[i].as_path_len ? as_path_str(&l[i], a, sizeof(a)) :
					  "-");
}

static int cmd_status(int argc, char **argv, const struct iamctl_ctx *ctx)
{
	struct iam_ipc_status st;
	struct iam_ipc_lender *l = NULL;
	char e[IAM_IPC_ERRMSG_MAX], b[64], p[64], s1[32], s2[32], s3[32];
	uint64_t bs;
	size_t n = 0;
	int fd, err;

	if (argc > 1)
		return iamctl_usage_error("status", "unexpected argument %s",
					  argv[1]);
	fd = connect_agent("status", ctx);
	if (fd < 0)
		return -fd;
	err = iam_ipc_call(fd, IAM_IPC_STATUS, NULL, 0, NULL, 0, &st,
			   sizeof(st), e, sizeof(e));
	if (!err)
		err = fetch_list(fd, IAM_IPC_LENDERS, sizeof(*l), (void **)&l,
				 &n);
	close(fd);
	if (err) {
		free(l);
		return iamctl_fail("status", "%s", e[0] ? e : strerror(-err));
	}
	bs = 1ull << st.block_shift;
	if (ctx->json) {
		struct iam_json j;

		iam_json_init(&j, stdout);
		iam_json_obj_begin(&j, NULL);
		iam_json_u64(&j, "total_blocks", st.total_blocks);
		iam_json_u64(&j, "available_blocks", st.available_blocks);
		iam_json_u64(&j, "block_size", bs);
		lenders_json(&j, l, n);
		iam_json_str(&j, "instance", st.instance);
		iam_json_str(&j, "dev", st.dev);
		iam_json_str(&j, "xdp_mode", st.xdp_mode);
		iam_json_str(&j, "agent_address", ip6(st.self, b));
		iam_json_str(&j, "pool_prefix",
			     pfx(st.pool_prefix, st.pool_plen, p, sizeof(p)));
		iam_json_u64(&j, "asn", st.asn);
		snprintf(b, sizeof(b), "%u.%u.%u.%u", st.router_id >> 24,
			 (st.router_id >> 16) & 255, (st.router_id >> 8) & 255,
			 st.router_id & 255);
		iam_json_str(&j, "router_id", b);
		iam_json_u64(&j, "peers", st.npeers);
		iam_json_u64(&j, "peers_established", st.npeers_up);
		iam_json_u64(&j, "own_total_blocks", st.own_total);
		iam_json_u64(&j, "own_available_blocks", st.own_available);
		iam_json_u64(&j, "lent_blocks", st.lent_blocks);
		iam_json_u64(&j, "borrowed_blocks", st.borrowed_blocks);
		iam_json_u64(&j, "regions", st.nregions);
		iam_json_u64(&j, "cache_pages", st.cache_pages);
		iam_json_u64(&j, "resident_pages", st.resident_pages);
		iam_json_u64(&j, "faults", st.faults);
		iam_json_u64(&j, "zero_fills", st.zero_fills);
		iam_json_u64(&j, "remote_reads", st.remote_reads);
		iam_json_u64(&j, "wp_faults", st.wp_faults);
		iam_json_u64(&j, "evictions", st.evictions);
		iam_json_u64(&j, "writebacks", st.writebacks);
		iam_json_u64(&j, "lost_faults", st.lost_faults);
		iam_json_double(&j, "fault_service_avg_us",
				st.faults ? (double)st.fault_service_ns /
						    (double)st.faults / 1000.0 :
					    0.0);
		iam_json_u64(&j, "rdma_reads", st.rdma_reads);
		iam_json_u64(&j, "rdma_writes", st.rdma_writes);
		iam_json_u64(&j, "lost_allocations", st.lost_allocs);
		iam_json_u64(&j, "data_reads", st.data_reads);
		iam_json_u64(&j, "data_writes", st.data_writes);
		iam_json_u64(&j, "data_denied", st.data_denied);
		iam_json_u64(&j, "rdma_queue_pairs", st.rdma_qps);
		iam_json_u64(&j, "rdma_regions", st.rdma_regions);
		iam_json_i64(&j, "fault_cpu", st.fault_cpu);
		iam_json_u64(&j, "fault_follow_pid", st.fault_follow_pid);
		iam_json_u64(&j, "uptime_ms", st.uptime_ms);
		iam_json_obj_end(&j);
		free(l);
		return IAMCTL_OK;
	}
	printf("instance %s on %s (XDP %s), agent %s", st.instance, st.dev,
	       st.xdp_mode, ip6(st.self, b));
	if (st.asn)
		printf(", AS %u, router id %u.%u.%u.%u", st.asn,
		       st.router_id >> 24, (st.router_id >> 16) & 255,
		       (st.router_id >> 8) & 255, st.router_id & 255);
	printf(", up %s\n", dur(st.uptime_ms, s1, sizeof(s1)));
	printf("pool %s: %llu blocks of %s, %llu available, %llu lent\n",
	       pfx(st.pool_prefix, st.pool_plen, p, sizeof(p)),
	       (unsigned long long)st.own_total,
	       iam_fmt_size(bs, s1, sizeof(s1)),
	       (unsigned long long)st.own_available,
	       (unsigned long long)st.lent_blocks);
	printf("fabric: M = %llu blocks (%s), V = %llu blocks (%s), %u "
	       "lender(s); BGP %u/%u peers established\n",
	       (unsigned long long)st.total_blocks,
	       iam_fmt_size(st.total_blocks * bs, s2, sizeof(s2)),
	       (unsigned long long)st.available_blocks,
	       iam_fmt_size(st.available_blocks * bs, s3, sizeof(s3)),
	       st.nlenders, st.npeers_up, st.npeers);
	printf("borrowing: %llu region(s), %llu blocks; cache %llu of %llu "
	       "pages resident\n",
	       (unsigned long long)st.nregions,
	       (unsigned long long)st.borrowed_blocks,
	       (unsigned long long)st.resident_pages,
	       (unsigned long long)st.cache_pages);
	if (st.fault_cpu < 0)
		printf("fault thread: any CPU\n");
	else if (st.fault_follow_pid)
		printf("fault thread: CPU %d, where client pid %u is pinned\n",
		       st.fault_cpu, st.fault_follow_pid);
	else
		printf("fault thread: CPU %d (--cpu)\n", st.fault_cpu);
	printf("faults: %llu (%llu zero, %llu read), %llu first writes, %llu "
	       "evictions, %llu write-backs, %llu lost\n",
	       (unsigned long long)st.faults, (unsigned long long)st.zero_fills,
	       (unsigned long long)st.remote_reads,
	       (unsigned long long)st.wp_faults,
	       (unsigned long long)st.evictions,
	       (unsigned long long)st.writebacks,
	       (unsigned long long)st.lost_faults);
	printf("data path: %llu reads and %llu write-backs by RDMA, %llu "
	       "allocation(s) refused by lenders\n",
	       (unsigned long long)st.rdma_reads,
	       (unsigned long long)st.rdma_writes,
	       (unsigned long long)st.lost_allocs);
	printf("serving borrowers: TCP %llu reads, %llu writes, %llu refused; "
	       "RDMA %u queue pair(s), %u region(s)\n\n",
	       (unsigned long long)st.data_reads,
	       (unsigned long long)st.data_writes,
	       (unsigned long long)st.data_denied, st.rdma_qps,
	       st.rdma_regions);
	lenders_table(l, n);
	free(l);
	return IAMCTL_OK;
}

IAMCTL_CMD(status, .name = "status", .args = "",
	   .summary = "M, V, this agent's pool, lenders, faults",
	   .run = cmd_status)

static int cmd_lenders(int argc, char **argv, const struct iamctl_ctx *ctx)
{
	struct iam_ipc_lender *l = NULL;
	size_t n = 0;
	int fd, err;

	if (argc > 1)
		return iamctl_usage_error("lenders", "unexpected argument %s",
					  argv[1]);
	fd = connect_agent("lenders", ctx);
	if (fd < 0)
		return -fd;
	err = fetch_list(fd, IAM_IPC_LENDERS, sizeof(*l), (void **)&l, &n);
	close(fd);
	if (err) {
		free(l);
		return iamctl_fail("lenders", "%s", strerror(-err));
	}
	if (ctx->json) {
		struct iam_json j;

		iam_json_init(&j, stdout);
		iam_json_obj_begin(&j, NULL);
		lenders_json(&j, l, n);
		iam_json_obj_end(&j);
	} else {
		lenders_table(l, n);
	}
	free(l);
	return IAMCTL_OK;
}

IAMCTL_CMD(lenders, .name = "lenders", .args = "",
	   .summary = "pools known through BGP (own included)",
	   .run = cmd_lenders)

static int cmd_allocations(int argc, char **argv, const struct iamctl_ctx *ctx)
{
	struct iam_ipc_alloc_rec *r = NULL;
	struct iam_json j;
	char b[64], p[64], e[32];
	size_t n = 0;
	int fd, err;

	if (argc > 1)
		return iamctl_usage_error("allocations",
					  "unexpected argument %s", argv[1]);
	fd = connect_agent("allocations", ctx);
	if (fd < 0)
		return -fd;
	err = fetch_list(fd, IAM_IPC_ALLOCS, sizeof(*r), (void **)&r, &n);
	close(fd);
	if (err) {
		free(r);
		return iamctl_fail("allocations", "%s", strerror(-err));
	}
	if (ctx->json) {
		iam_json_init(&j, stdout);
		iam_json_obj_begin(&j, NULL);
		iam_json_arr_begin(&j, "allocations");
	} else {
		printf("%-9s %-10s %12s %-8s %5s %-28s %-34s %s\n", "ROLE",
		       "STATE", "ID", "BLOCKS", "RIGHT", "PEER", "PREFIXES",
		       "EXPIRES");
	}
	for (size_t i = 0; i < n; i++) {
		const char *role = r[i].role == IAM_ROLE_LENT ? "lent" :
								"borrowed";
		const char *state = r[i].state == IAM_ALLOC_CONFIRMED ?
					    "confirmed" :
					    "reserved";
		const char *rights = r[i].rights == IAM_RIGHTS_RW ? "rw" : "ro";

		if (ctx->json) {
			iam_json_obj_begin(&j, NULL);
			iam_json_str(&j, "role", role);
			iam_json_str(&j, "state", state);
			iam_json_u64(&j, "id", r[i].id);
			iam_json_u64(&j, "blocks", r[i].nblocks);
			iam_json_str(&j, "rights", rights);
			iam_json_str(&j,
				     r[i].role == IAM_ROLE_LENT ? "borrower" :
								  "lender",
				     ip6(r[i].peer, b));
			snprintf(b, sizeof(b), "%u.%u.%u.%u",
				 r[i].borrower_id >> 24,
				 (r[i].borrower_id >> 16) & 255,
				 (r[i].borrower_id >> 8) & 255,
				 r[i].borrower_id & 255);
			iam_json_str(&j, "borrower_id", b);
			if (r[i].role == IAM_ROLE_BORROWED) {
				iam_json_u64(&j, "region", r[i].region_id);
				iam_json_u64(&j, "pid", r[i].pid);
			}
			iam_json_arr_begin(&j, "prefixes");
			for (unsigned k = 0; k < r[i].nprefixes; k++)
				iam_json_str(&j, NULL,
					     pfx(r[i].prefixes[k].addr,
						 r[i].prefixes[k].plen, p,
						 sizeof(p)));
			iam_json_arr_end(&j);
			iam_json_u64(&j, "total_prefixes", r[i].total_prefixes);
			iam_json_u64(&j, "expires_ms", r[i].expires_ms);
			iam_json_obj_end(&j);
			continue;
		}
		printf("%-9s %-10s %12llu %-8llu %5s %-28s %-34s %s\n", role,
		       state, (unsigned long long)r[i].id,
		       (unsigned long long)r[i].nblocks, rights,
		       ip6(r[i].peer, b),
		       r[i].nprefixes ?
			       pfx(r[i].prefixes[0].addr, r[i].prefixes[0].plen,
				   p, sizeof(p)) :
			       "-",
		       /* Blocks borrowed from our own pool carry no lease. */
		       r[i].role == IAM_ROLE_BORROWED && !r[i].expires_ms ?
			       "-" :
			       dur(r[i].expires_ms, e, sizeof(e)));
		for (unsigned k = 1; k < r[i].nprefixes; k++)
			printf("%-9s %-10s %12s %-8s %5s %-28s %s\n", "", "",
			       "", "", "", "",
			       pfx(r[i].prefixes[k].addr, r[i].prefixes[k].plen,
				   p, sizeof(p)));
		if (r[i].total_prefixes > r[i].nprefixes)
			printf("%-9s %-10s %12s %-8s %5s %-28s (%u more)\n", "",
			       "", "", "", "", "",
			       r[i].total_prefixes - r[i].nprefixes);
	}
	if (ctx->json) {
		iam_json_arr_end(&j);
		iam_json_obj_end(&j);
	}
	free(r);
	return IAMCTL_OK;
}

IAMCTL_CMD(allocations, .name = "allocations", .args = "",
	   .summary = "blocks lent to borrowers and borrowed from lenders",
	   .run = cmd_allocations)

static int cmd_peers(int argc, char **argv, const struct iamctl_ctx *ctx)
{
	struct iam_ipc_peer *r = NULL;
	struct iam_json j;
	char b[64], u[32];
	size_t n = 0;
	int fd, err;

	if (argc > 1)
		return iamctl_usage_error("peers", "unexpected argument %s",
					  argv[1]);
	fd = connect_agent("peers", ctx);
	if (fd < 0)
		return -fd;
	err = fetch_list(fd, IAM_IPC_PEERS, sizeof(*r), (void **)&r, &n);
	close(fd);
	if (err) {
		free(r);
		return iamctl_fail("peers", "%s", strerror(-err));
	}
	if (ctx->json) {
		iam_json_init(&j, stdout);
		iam_json_obj_begin(&j, NULL);
		iam_json_arr_begin(&j, "peers");
	} else {
		printf("%-28s %10s %-12s %8s %8s %s\n", "PEER", "AS", "STATE",
		       "UP", "ROUTES", "LAST ERROR");
	}
	for (size_t i = 0; i < n; i++) {
		if (ctx->json) {
			iam_json_obj_begin(&j, NULL);
			iam_json_str(&j, "address", ip6(r[i].addr, b));
			iam_json_u64(&j, "remote_as", r[i].remote_as);
			iam_json_str(&j, "state", r[i].state);
			iam_json_u64(&j, "uptime_ms", r[i].uptime_ms);
			iam_json_u64(&j, "routes", r[i].prefixes);
			iam_json_str(&j, "last_error", r[i].last_error);
			iam_json_obj_end(&j);
			continue;
		}
		printf("%-28s %10u %-12s %8s %8u %s\n", ip6(r[i].addr, b),
		       r[i].remote_as, r[i].state,
		       r[i].uptime_ms ? dur(r[i].uptime_ms, u, sizeof(u)) : "-",
		       r[i].prefixes,
		       r[i].last_error[0] ? r[i].last_error : "-");
	}
	if (ctx->json) {
		iam_json_arr_end(&j);
		iam_json_obj_end(&j);
	}
	free(r);
	return IAMCTL_OK;
}

IAMCTL_CMD(peers, .name = "peers", .args = "", .summary = "BGP sessions",
	   .run = cmd_peers)
