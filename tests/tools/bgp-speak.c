// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * bgp-speak - the agent's BGP speaker (user/bgp/) alone, for tests and
 * measurements against real routers (BIRD) without the rest of iam-load.
 *
 *   bgp-speak --asn N --router-id A.B.C.D [--listen ADDR] [--port P]
 *             [--hold S] [--connect-retry MS] [--rate N] [--nexthop ADDR]
 *             [--pool PREFIX,M,V,SHIFT] [--host ADDR] [--control FIFO]
 *             [-v] --peer SPEC [--peer SPEC ...]
 *
 * SPEC is iam-load's: ADDR,as=N[,md5=SECRET][,passive]...  Commands, one
 * per line on the control FIFO (opened read-write, so writers may come
 * and go) or on stdin:
 *
 *   avail V                  new V_i for the pool (rate-limited)
 *   pool PREFIX M V SHIFT    announce (or move) the pool
 *   nopool                   withdraw it
 *   alloc PREFIX BORROWER RIGHTS / free PREFIX
 *   refresh                  ROUTE-REFRESH to every peer
 *   show                     print totals, lenders and peers
 *   stop                     clean stop (withdraw, Cease), then exit
 *
 * Events on stdout, one per line, each starting with the CLOCK_MONOTONIC
 * time in microseconds (so two of these on one host can be compared):
 *
 *   T peer ADDR up|down STATE
 *   T pools M V
 *   T route PREFIX kind=pool|alloc|plain [m= v= shift=] nh=ADDR path="..."
 *   T gone PREFIX
 *   T avail V                (just before the command is applied)
 *   T lender PREFIX m=M v=V shift=S nh=ADDR path="..." [self]
 *   T total m=M v=V
 *   T stopped
 *
 * SIGTERM and SIGINT stop cleanly like "stop".  Exit 0, 1 on a runtime
 * failure, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "bgp/bgp.h"
#include "log.h"
#include "loop.h"
#include "parse.h"

static struct iam_loop *loop;
static struct iam_bgp *bgp;
static char cmdbuf[4096];
static size_t cmdlen;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	printf("%llu ", (unsigned long long)(iam_now_ns() / 1000));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static const char *a6(const struct in6_addr *a, char *b)
{
	return inet_ntop(AF_INET6, a, b, INET6_ADDRSTRLEN);
}

static void on_route(void *ctx, const struct iam_bgp_prefix *p,
		     const struct iam_bgp_route_info *r)
{
	static const char *const kinds[] = { "plain", "pool", "alloc" };
	char ps[64], nh[INET6_ADDRSTRLEN], extra[96] = "";

	iam_bgp_prefix_str(p, ps, sizeof(ps));
	if (!r) {
		say("gone %s", ps);
		return;
	}
	if (r->kind == IAM_BGP_ROUTE_POOL)
		snprintf(extra, sizeof(extra), " m=%u v=%u shift=%u",
			 r->total_blocks, r->avail_blocks, r->block_shift);
	else if (r->kind == IAM_BGP_ROUTE_ALLOC)
		snprintf(extra, sizeof(extra), " borrower=%u rights=%u",
			 r->borrower_id, r->rights);
	say("route %s kind=%s%s nh=%s path=\"%s\" peer=%s", ps, kinds[r->kind],
	    extra, a6(&r->next_hop, nh), r->as_path, r->peer);
}

static void on_pools(void *ctx, uint64_t m, uint64_t v)
{
	say("pools %llu %llu", (unsigned long long)m, (unsigned long long)v);
}

static void on_peer(void *ctx, const struct iam_bgp_peer_info *p)
{
	say("peer %s %s %s", p->name,
	    p->state == IAM_BGP_ESTABLISHED ? "up" : "down",
	    iam_bgp_state_name(p->state));
}

static void on_stopped(void *ctx)
{
	say("stopped");
	iam_loop_stop(loop);
}

static int show_lender(void *arg, const struct iam_bgp_lender *l)
{
	char ps[64], nh[INET6_ADDRSTRLEN];

	iam_bgp_prefix_str(&l->prefix, ps, sizeof(ps));
	say("lender %s m=%u v=%u shift=%u nh=%s path=\"%s\"%s", ps,
	    l->total_blocks, l->avail_blocks, l->block_shift,
	    a6(&l->next_hop, nh), l->as_path, l->local ? " self" : "");
	return 0;
}

static int show_peer(void *arg, const struct iam_bgp_peer_info *p)
{
	say("peer %s %s as=%u prefixes=%u error=\"%s\"", p->name,
	    iam_bgp_state_name(p->state), p->remote_as, p->prefixes,
	    p->last_error);
	return 0;
}

/* "PREFIX,M,V,SHIFT" or the four words of the pool command. */
static int pool_cmd(const char *pfx, const char *m, const char *v,
		    const char *shift)
{
	struct iam_bgp_prefix p;
	uint32_t mm, vv, ss;

	if (!pfx || !m || !v || !shift || iam_bgp_prefix_parse(pfx, &p) ||
	    iam_parse_u32(m, &mm) || iam_parse_u32(v, &vv) ||
	    iam_parse_u32(shift, &ss))
		return -EINVAL;
	return iam_bgp_pool_announce(bgp, &p, mm, vv, ss);
}

static void command(char *line)
{
	char *w[5] = { 0 }, *save = NULL;
	struct iam_bgp_prefix p;
	uint32_t a, b;
	int n = 0, err = -EINVAL;

	for (char *t = strtok_r(line, " \t", &save); t && n < 5;
	     t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	if (!n)
		return;
	if (!strcmp(w[0], "avail") && n == 2 && !iam_parse_u32(w[1], &a)) {
		/* stamped before, so that the time to a peer is all there */
		say("avail %u", a);
		err = iam_bgp_pool_set_available(bgp, a);
	} else if (!strcmp(w[0], "pool") && n == 5) {
		err = pool_cmd(w[1], w[2], w[3], w[4]);
	} else if (!strcmp(w[0], "nopool")) {
		err = iam_bgp_pool_withdraw(bgp);
	} else if (!strcmp(w[0], "alloc") && n == 4 &&
		   !iam_bgp_prefix_parse(w[1], &p) &&
		   !iam_parse_u32(w[2], &a) && !iam_parse_u32(w[3], &b)) {
		err = iam_bgp_alloc_announce(bgp, &p, a, b);
	} else if (!strcmp(w[0], "free") && n == 2 &&
		   !iam_bgp_prefix_parse(w[1], &p)) {
		err = iam_bgp_alloc_withdraw(bgp, &p);
	} else if (!strcmp(w[0], "refresh")) {
		iam_bgp_refresh(bgp);
		err = 0;
	} else if (!strcmp(w[0], "show")) {
		uint64_t m, v;

		iam_bgp_totals(bgp, &m, &v);
		say("total m=%llu v=%llu", (unsigned long long)m,
		    (unsigned long long)v);
		iam_bgp_lenders_foreach(bgp, show_lender, NULL);
		iam_bgp_peers_foreach(bgp, show_peer, NULL);
		err = 0;
	} else if (!strcmp(w[0], "stop")) {
		iam_bgp_shutdown(bgp);
		err = 0;
	}
	if (err)
		fprintf(stderr, "bgp-speak: \"%s\": %s\n", w[0],
			err == -EINVAL ? "bad command or arguments" :
					 strerror(-err));
}

static void control_cb(struct iam_loop *l, int fd, uint32_t events, void *arg)
{
	ssize_t n = read(fd, cmdbuf + cmdlen, sizeof(cmdbuf) - 1 - cmdlen);
	char *nl;

	if (n <= 0) {
		/* stdin closed: no more commands, keep running */
		iam_loop_del(l, fd);
		return;
	}
	cmdlen += (size_t)n;
	cmdbuf[cmdlen] = 0;
	while ((nl = strchr(cmdbuf, '\n'))) {
		*nl = 0;
		command(cmdbuf);
		cmdlen -= (size_t)(nl + 1 - cmdbuf);
		memmove(cmdbuf, nl + 1, cmdlen + 1);
	}
	if (cmdlen == sizeof(cmdbuf) - 1)
		cmdlen = 0; /* a line longer than the buffer: dropped */
}

static void signal_cb(struct iam_loop *l, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) == sizeof(si))
		iam_bgp_shutdown(bgp);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bgp-speak --asn N --router-id A.B.C.D [--listen ADDR] "
		"[--port P]\n"
		"       [--hold S] [--connect-retry MS] [--rate N] "
		"[--nexthop ADDR]\n"
		"       [--pool PREFIX,M,V,SHIFT] [--host ADDR] "
		"[--control FIFO] [-v]\n"
		"       --peer ADDR,as=N[,md5=SECRET][,passive] ...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "asn", 1, NULL, 'a' },     { "router-id", 1, NULL, 'r' },
		{ "listen", 1, NULL, 'l' },  { "port", 1, NULL, 'p' },
		{ "hold", 1, NULL, 'H' },    { "connect-retry", 1, NULL, 'c' },
		{ "rate", 1, NULL, 'R' },    { "nexthop", 1, NULL, 'n' },
		{ "pool", 1, NULL, 'P' },    { "host", 1, NULL, 'h' },
		{ "control", 1, NULL, 'C' }, { "peer", 1, NULL, 'e' },
		{ "verbose", 0, NULL, 'v' }, { NULL, 0, NULL, 0 },
	};
	static struct iam_bgp_config cfg;
	struct iam_bgp_hooks hooks = { NULL, on_route, on_pools, on_peer,
				       on_stopped };
	char *pool = NULL, *host = NULL, *control = NULL, err[256];
	int c, verbose = 0, cfd = STDIN_FILENO, sfd;
	uint32_t v;
	sigset_t ss;

	iam_bgp_config_init(&cfg);
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (iam_parse_u32(optarg, &cfg.local_as))
				usage();
			break;
		case 'r':
			if (iam_bgp_router_id_parse(optarg, &cfg.router_id))
				usage();
			break;
		case 'l':
			if (inet_pton(AF_INET6, optarg, &cfg.listen_addr) != 1)
				usage();
			break;
		case 'p':
			if (iam_parse_u32(optarg, &v) || v > 65535)
				usage();
			cfg.listen_port = (uint16_t)v;
			cfg.listen = v != 0;
			break;
		case 'H':
			if (iam_parse_u32(optarg, &v) || v > 65535)
				usage();
			cfg.hold_time = (uint16_t)v;
			break;
		case 'c':
			if (iam_parse_u32(optarg, &cfg.connect_retry_ms))
				usage();
			break;
		case 'R':
			if (iam_parse_u32(optarg, &cfg.pool_update_rate))
				usage();
			break;
		case 'n':
			if (inet_pton(AF_INET6, optarg, &cfg.nexthop) != 1)
				usage();
			cfg.has_nexthop = true;
			break;
		case 'P':
			pool = optarg;
			break;
		case 'h':
			host = optarg;
			break;
		case 'C':
			control = optarg;
			break;
		case 'e':
			if (cfg.npeers == IAM_BGP_MAX_PEERS)
				usage();
			if (iam_bgp_peer_parse(optarg, &cfg.peers[cfg.npeers++],
					       err, sizeof(err))) {
				fprintf(stderr, "bgp-speak: %s\n", err);
				return 2;
			}
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || iam_bgp_config_check(&cfg, err, sizeof(err))) {
		if (optind == argc)
			fprintf(stderr, "bgp-speak: %s\n", err);
		usage();
	}
	iam_log_set_level(IAM_LOG_INFO + verbose);
	iam_log_set_ident("bgp-speak");
	iam_log_set_timestamps(1);
	if (iam_loop_create(&loop))
		return 1;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || iam_loop_add(loop, sfd, EPOLLIN, signal_cb, NULL))
		return 1;
	if (control) {
		/* Read-write: a writer always exists, no EOF between
		 * commands. */
		cfd = open(control, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (cfd < 0) {
			fprintf(stderr, "bgp-speak: %s: %s\n", control,
				strerror(errno));
			return 1;
		}
	}
	if (iam_loop_add(loop, cfd, EPOLLIN, control_cb, NULL))
		fprintf(stderr, "bgp-speak: commands not read from fd %d\n",
			cfd);
	if (iam_bgp_create(loop, &cfg, &hooks, &bgp))
		return 1;
	if (pool) {
		char *f[4] = { 0 }, *save = NULL;

		f[0] = strtok_r(pool, ",", &save);
		for (int i = 1; i < 4; i++)
			f[i] = strtok_r(NULL, ",", &save);
		if (pool_cmd(f[0], f[1], f[2], f[3])) {
			fprintf(stderr, "bgp-speak: bad --pool\n");
			return 2;
		}
	}
	if (host) {
		struct in6_addr h;

		if (inet_pton(AF_INET6, host, &h) != 1 ||
		    iam_bgp_host_announce(bgp, &h))
			usage();
	}
	iam_loop_run(loop);
	iam_bgp_destroy(bgp);
	iam_loop_destroy(loop);
	return 0;
}
