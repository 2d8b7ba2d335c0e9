// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * agent.c - iam-load's life: bring every module up in order, run the loop,
 * take everything down in reverse order, leaving no route, address, pin or
 * XDP program behind.  Also: the BGP hooks that install learned routes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "parse.h"

#define AGENT_STOP_GRACE_MS 3000

const char *agent_addr_str(const struct in6_addr *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

/* ---- the instance lock ------------------------------------------------ */

static void agent_lock_path(const struct iam_agent *a, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.lock", IAM_RUN_DIR, a->cfg.instance);
}

/*
 * One agent per instance: an exclusive flock on IAM_RUN_DIR/<inst>.lock.
 * The file is removed on a clean exit (while still locked), so after
 * taking the lock we check it is still the file at that path: if a
 * stopping agent unlinked it meanwhile, we locked a ghost and try again.
 */
static int agent_lock(struct iam_agent *a)
{
	char path[128], pid[32];
	struct stat st_fd, st_path;
	ssize_t n;
	int fd;

	if (mkdir(IAM_RUN_DIR, 0755) < 0 && errno != EEXIST) {
		iam_err("cannot create %s: %s", IAM_RUN_DIR, strerror(errno));
		return -errno;
	}
	agent_lock_path(a, path, sizeof(path));
	for (;;) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			iam_err("cannot open %s: %s", path, strerror(errno));
			return -errno;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int err = -errno;

			n = pread(fd, pid, sizeof(pid) - 1, 0);
			pid[n > 0 ? n : 0] = 0;
			pid[strcspn(pid, "\n")] = 0;
			if (err == -EWOULDBLOCK)
				iam_err("instance \"%s\" is already running "
					"(pid %s); stop it first or choose "
					"another --instance",
					a->cfg.instance,
					pid[0] ? pid : "unknown");
			else
				iam_err("cannot lock %s: %s", path,
					strerror(-err));
			close(fd);
			return err == -EWOULDBLOCK ? -EBUSY : err;
		}
		if (!fstat(fd, &st_fd) && !stat(path, &st_path) &&
		    st_fd.st_ino == st_path.st_ino &&
		    st_fd.st_dev == st_path.st_dev)
			break;
		close(fd);
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		iam_warn("cannot write the pid to %s", path);
	a->lock_fd = fd;
	return 0;
}

static void agent_unlock(struct iam_agent *a)
{
	char path[128];

	if (a->lock_fd < 0)
		return;
	agent_lock_path(a, path, sizeof(path));
	unlink(path);
	close(a->lock_fd);
	a->lock_fd = -1;
}

/* ---- kernel routes for what BGP learns -------------------------------- */

/*
 * The routes we installed are also written to IAM_RUN_DIR/<inst>.routes,
 * so an agent started after a kill -9 of the last one removes exactly
 * those (another instance in the same namespace keeps its own).
 */
struct agent_route {
	struct iam_prefix p;
	struct in6_addr via;
	uint32_t ifindex;
	enum iam_bgp_route_kind kind;
	bool in_maps; /* has an iam_prefixes entry (pool or allocation) */
};

static struct agent_route *routes;
static unsigned nroutes, caproutes;

static void routes_save(struct iam_agent *a)
{
	char tmp[160], pb[IAM_PREFIX_STRLEN], vb[INET6_ADDRSTRLEN];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", a->routes_file);
	f = fopen(tmp, "we");
	if (!f) {
		iam_warn("cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	for (unsigned i = 0; i < nroutes; i++)
		fprintf(f, "%s %s %u\n",
			iam_addr_prefix_fmt(&routes[i].p, pb, sizeof(pb)),
			agent_addr_str(&routes[i].via, vb), routes[i].ifindex);
	if (fclose(f) || rename(tmp, a->routes_file) < 0)
		iam_warn("cannot write %s: %s", a->routes_file,
			 strerror(errno));
}

/* Remove the routes a previous run of this instance left behind. */
static void routes_clean_stale(struct iam_agent *a)
{
	char line[256], ext[256];
	unsigned n = 0;
	FILE *f = fopen(a->routes_file, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char ps[128], vs[64];
		struct iam_prefix p;
		struct in6_addr via;
		unsigned ifi;

		if (sscanf(line, "%127s %63s %u", ps, vs, &ifi) != 3 ||
		    iam_addr_prefix_parse(ps, &p) ||
		    inet_pton(AF_INET6, vs, &via) != 1)
			continue;
		if (!iam_nl_route_del(a->nl, &p, &via, ifi, ext, sizeof(ext)))
			n++;
	}
	fclose(f);
	unlink(a->routes_file);
	if (n)
		iam_info("removed %u stale route(s) of a previous run", n);
}

static int route_find(const struct iam_prefix *p)
{
	for (unsigned i = 0; i < nroutes; i++)
		if (routes[i].p.len == p->len &&
		    !memcmp(&routes[i].p.addr, &p->addr, 16))
			return (int)i;
	return -1;
}

static void agent_route_hook(void *ctx, const struct iam_bgp_prefix *bp,
			     const struct iam_bgp_route_info *best)
{
	struct iam_agent *a = ctx;
	struct iam_prefix p = { .addr = bp->addr, .len = bp->len };
	struct iam_prefix node;
	char pb[IAM_PREFIX_STRLEN], vb[INET6_ADDRSTRLEN], ext[256] = "";
	int i = route_find(&p), err;

	iam_addr_node_prefix(&a->space, &node);
	/* Our own addresses are local already; BGP may reflect them. */
	if (iam_addr_prefix_contains(&node, &p.addr) && p.len >= node.len)
		return;
	/* Only IAM routes: pools, allocations and agent addresses (a /128
	 * with block address 1).  The agent is no general routing daemon;
	 * whatever else the fabric carries is the host's business.  A route
	 * we installed that stops being an IAM route (a router on the way
	 * dropped its communities) goes like a withdrawn one. */
	if (best && best->kind == IAM_BGP_ROUTE_PLAIN &&
	    !(p.len == 128 && iam_addr_block(&p.addr) == IAM_CTRL_BLOCK_ADDR))
		best = NULL;
	iam_addr_prefix_fmt(&p, pb, sizeof(pb));
	if (!best) {
		if (i < 0)
			return;
		/* Stopping: our own sessions going down take every learned
		 * route with them, while the RELEASEs of what we borrowed
		 * are still on their way to the lenders.  The routes stay
		 * until agent_kernel_down() removes them all. */
		if (a->stopping)
			return;
		err = iam_nl_route_del(a->nl, &p, &routes[i].via,
				       routes[i].ifindex, ext, sizeof(ext));
		if (err && err != -ESRCH)
			iam_warn("removing route %s: %s%s%s", pb,
				 strerror(-err), ext[0] ? ": " : "", ext);
		if (routes[i].in_maps)
			iam_maps_prefix_del(a->maps, &p.addr, p.len);
		routes[i] = routes[--nroutes];
		routes_save(a);
		iam_dbg("route %s withdrawn", pb);
		return;
	}
	{
		struct agent_route r = { .p = p,
					 .ifindex = a->ifindex,
					 .kind = best->kind };

		/* A link-local next hop is only usable with its interface;
		 * otherwise the global one, on the fabric interface. */
		if (best->has_next_hop_ll && best->ifindex) {
			r.via = best->next_hop_ll;
			r.ifindex = best->ifindex;
		} else {
			r.via = best->next_hop;
		}
		/* Most changes are a new V_i of a pool, up to 10 a second
		 * per lender: nothing to do for the kernel, the XDP map or
		 * the routes file (whose rename alone costs ~2 ms here). */
		if (i >= 0 && routes[i].ifindex == r.ifindex &&
		    !memcmp(&routes[i].via, &r.via, sizeof(r.via)) &&
		    routes[i].kind == r.kind &&
		    (r.kind == IAM_BGP_ROUTE_PLAIN || routes[i].in_maps))
			return;
		err = iam_nl_route_replace(a->nl, &p, &r.via, r.ifindex, ext,
					   sizeof(ext));
		if (err) {
			iam_warn("installing route %s via %s: %s%s%s", pb,
				 agent_addr_str(&r.via, vb), strerror(-err),
				 ext[0] ? ": " : "", ext);
			return;
		}
		/* Pools and allocations of every size (a one-block
		 * allocation is a /128 too) have an XDP prefix entry; an
		 * agent address has none. */
		if (best->kind != IAM_BGP_ROUTE_PLAIN)
			r.in_maps = !iam_maps_prefix_set(
				a->maps, &p.addr, p.len,
				best->kind == IAM_BGP_ROUTE_POOL ?
					IAM_KIND_REMOTE_POOL :
					IAM_KIND_ALLOCATION,
				0);
		else if (i >= 0 && routes[i].in_maps)
			iam_maps_prefix_del(a->maps, &p.addr, p.len);
		if (i < 0) {
			if (nroutes == caproutes) {
				unsigned cap = caproutes ? caproutes * 2 : 64;
				struct agent_route *nr =
					realloc(routes, cap * sizeof(*nr));

				if (!nr) {
					iam_err("out of memory for routes");
					return;
				}
				routes = nr;
				caproutes = cap;
			}
			i = (int)nroutes++;
		}
		routes[i] = r;
		routes_save(a);
		iam_dbg("route %s via %s (%s)", pb, agent_addr_str(&r.via, vb),
			best->as_path[0] ? best->as_path : "iBGP");
	}
}

static void routes_remove_all(struct iam_agent *a)
{
	char ext[256];

	for (unsigned i = 0; i < nroutes; i++)
		iam_nl_route_del(a->nl, &routes[i].p, &routes[i].via,
				 routes[i].ifindex, ext, sizeof(ext));
	nroutes = 0;
	free(routes);
	routes = NULL;
	caproutes = 0;
	unlink(a->routes_file);
}

static void agent_pools_hook(void *ctx, uint64_t total, uint64_t avail)
{
	iam_dbg("fabric: M=%llu V=%llu", (unsigned long long)total,
		(unsigned long long)avail);
}

static void agent_peer_hook(void *ctx, const struct iam_bgp_peer_info *p)
{
	if (p->state == IAM_BGP_ESTABLISHED)
		iam_info("BGP peer %s (AS %u) up", p->name, p->remote_as);
	else
		iam_info("BGP peer %s (AS %u) down%s%s", p->name, p->remote_as,
			 p->last_error[0] ? ": " : "", p->last_error);
}

static bool agent_bgp_stopped;

static void agent_stopped_hook(void *ctx)
{
	agent_bgp_stopped = true;
	agent_maybe_exit(ctx);
}

void agent_pool_changed(struct iam_agent *a)
{
	if (a->bgp)
		iam_bgp_pool_set_available(
			a->bgp, (uint32_t)iam_pool_free_blocks(a->pool));
}

static int agent_bgp_start(struct iam_agent *a)
{
	struct iam_bgp_hooks hooks = {
		.ctx = a,
		.route = agent_route_hook,
		.pools = agent_pools_hook,
		.peer = agent_peer_hook,
		.stopped = agent_stopped_hook,
	};
	struct iam_bgp_config *bc;
	struct iam_bgp_prefix pp;
	char err[256];
	int rc;

	if (!a->cfg.asn) {
		iam_info("no --asn: BGP is off, this agent lends and borrows "
			 "only what it learns of no one (local pool only)");
		agent_bgp_stopped = true;
		return 0;
	}
	bc = calloc(1, sizeof(*bc));
	if (!bc)
		return -ENOMEM;
	iam_bgp_config_init(bc);
	bc->local_as = a->cfg.asn;
	bc->router_id = a->router_id;
	bc->hold_time = (uint16_t)a->cfg.hold_time;
	bc->listen_port = a->cfg.bgp_port;
	bc->pool_update_rate = a->cfg.pool_update_rate;
	_Static_assert(IAM_CONFIG_MAX_PEERS <= IAM_BGP_MAX_PEERS,
		       "every configured peer fits the speaker's table");
	for (unsigned i = 0; i < a->cfg.npeers; i++) {
		rc = iam_bgp_peer_parse(a->cfg.peers[i], &bc->peers[i], err,
					sizeof(err));
		if (rc) {
			iam_err("--peer %s: %s", a->cfg.peers[i], err);
			goto out;
		}
	}
	bc->npeers = a->cfg.npeers;
	rc = iam_bgp_config_check(bc, err, sizeof(err));
	if (rc) {
		iam_err("BGP: %s", err);
		goto out;
	}
	rc = iam_bgp_create(a->loop, bc, &hooks, &a->bgp);
	if (rc) {
		iam_err("BGP: cannot start: %s", strerror(-rc));
		goto out;
	}
	pp.addr = a->pool_prefix.addr;
	pp.len = a->pool_prefix.len;
	rc = iam_bgp_pool_announce(a->bgp, &pp,
				   (uint32_t)iam_pool_total_blocks(a->pool),
				   (uint32_t)iam_pool_free_blocks(a->pool),
				   a->cfg.block_shift);
	if (!rc)
		rc = iam_bgp_host_announce(a->bgp, &a->self);
	if (rc)
		iam_err("BGP: cannot announce the pool: %s", strerror(-rc));
out:
	free(bc);
	return rc;
}

/* ---- signals and the stop sequence ------------------------------------ */

static struct iam_timer stop_timer;

/* Stopping ends once BGP has said goodbye, every region is gone and
 * every lender has answered our RELEASEs (or the grace period is over). */
void agent_maybe_exit(struct iam_agent *a)
{
	if (a->stopping && agent_bgp_stopped && !a->regions &&
	    !agent_borrow_pending(a))
		iam_loop_stop(a->loop);
}

static void stop_deadline(struct iam_loop *loop, struct iam_timer *t, void *arg)
{
	iam_warn("stopping: gave up waiting for peers after %d ms",
		 AGENT_STOP_GRACE_MS);
	iam_loop_stop(loop);
}

static void agent_begin_stop(struct iam_agent *a, const char *why)
{
	if (a->stopping) {
		iam_info("%s again: stopping now", why);
		iam_loop_stop(a->loop);
		return;
	}
	iam_info("%s: stopping (withdrawing routes, returning blocks)", why);
	a->stopping = true;
	agent_ipc_stop(a); /* frees every client's regions */
	if (a->bgp)
		iam_bgp_shutdown(a->bgp);
	iam_timer_init(&stop_timer, stop_deadline, a);
	iam_timer_arm(a->loop, &stop_timer, AGENT_STOP_GRACE_MS);
	agent_maybe_exit(a);
}

static void agent_signal(struct iam_loop *loop, int fd, uint32_t ev, void *arg)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si))
		agent_begin_stop(arg,
				 si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
}

static int agent_signals(struct iam_agent *a)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* A closed terminal must not kill the agent without its cleanup. */
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	a->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->sig_fd < 0)
		return -errno;
	return iam_loop_add(a->loop, a->sig_fd, EPOLLIN, agent_signal, a);
}

/* ---- bring-up --------------------------------------------------------- */

static int agent_kernel_up(struct iam_agent *a)
{
	char ext[256] = "", pb[IAM_PREFIX_STRLEN], ab[INET6_ADDRSTRLEN];
	int err;

	err = iam_nl_open(&a->nl);
	if (err) {
		iam_err("rtnetlink: %s", strerror(-err));
		return err;
	}
	routes_clean_stale(a);
	err = iam_nl_addr_add(a->nl, a->ifindex, &a->self, 128, ext,
			      sizeof(ext));
	if (err && err != -EEXIST) {
		iam_err("adding %s/128 to %s: %s%s%s",
			agent_addr_str(&a->self, ab), a->cfg.dev,
			strerror(-err), ext[0] ? ": " : "", ext);
		return err;
	}
	a->addr_added = true;
	/* A local route of a killed agent may still be there: replace it. */
	iam_nl_local_del(a->nl, &a->pool_prefix, a->ifindex, ext, sizeof(ext));
	err = iam_nl_local_add(a->nl, &a->pool_prefix, a->ifindex, ext,
			       sizeof(ext));
	if (err) {
		iam_err("registering pool prefix %s: %s%s%s",
			iam_addr_prefix_fmt(&a->pool_prefix, pb, sizeof(pb)),
			strerror(-err), ext[0] ? ": " : "", ext);
		return err;
	}
	a->local_route_added = true;
	return 0;
}

static void agent_kernel_down(struct iam_agent *a)
{
	char ext[256];

	if (!a->nl)
		return;
	routes_remove_all(a);
	if (a->local_route_added)
		iam_nl_local_del(a->nl, &a->pool_prefix, a->ifindex, ext,
				 sizeof(ext));
	if (a->addr_added)
		iam_nl_addr_del(a->nl, a->ifindex, &a->self, 128, ext,
				sizeof(ext));
	iam_nl_close(a->nl);
	a->nl = NULL;
}

static int agent_maps_up(struct iam_agent *a)
{
	static const enum iam_xdp_mode modes[] = { IAM_XDP_AUTO, IAM_XDP_NATIVE,
						   IAM_XDP_GENERIC };
	struct iam_maps_config mc = {
		.instance = a->cfg.instance,
		.ifname = a->cfg.dev,
		.mode = modes[a->cfg.xdp_mode],
		.m2i_slots = a->cfg.m2i_slots,
		.pool_blocks = (uint32_t)iam_pool_total_blocks(a->pool),
		.self = a->self,
		.host = a->cfg.host,
		.block_shift = (uint8_t)a->cfg.block_shift,
		.ctrl_port = a->cfg.ctrl_port,
		.data_port = a->cfg.data_port,
		.bgp_port = a->cfg.bgp_port,
	};
	uint32_t n;
	int err;

	memcpy(mc.net, a->cfg.net, 6);
	err = iam_maps_open(&mc, &a->maps);
	if (err) {
		iam_err("XDP on %s: %s", a->cfg.dev, strerror(-err));
		return err;
	}
	err = iam_maps_prefix_set(a->maps, &a->pool_prefix.addr,
				  a->pool_prefix.len, IAM_KIND_LOCAL_POOL, 0);
	if (err)
		return err;
	a->m2i = iam_maps_m2i(a->maps, &n);
	a->slots.nslots = n;
	a->slots.used = calloc(n, 1);
	return a->slots.used ? 0 : -ENOMEM;
}

static void agent_region_removed_hook(void *arg, struct iam_fault_region *r);
static void agent_lender_failed_hook(void *arg, uint16_t idx, int err);

/* --cpu means the same to the configuration and to the fault module. */
_Static_assert(IAM_CFG_CPU_ANY == IAM_FAULT_CPU_ANY &&
		       IAM_CFG_CPU_FOLLOW == IAM_FAULT_CPU_FOLLOW,
	       "--cpu values");

static int agent_fault_up(struct iam_agent *a)
{
	struct iam_fault_config fc = {
		.cache_pages = a->cfg.cache_size / IAM_FAULT_PAGE,
		.cpu = a->cfg.cpu,
		.spin_us = a->cfg.spin_us,
		.m2i = a->m2i,
		.m2i_slots = a->slots.nslots,
		.loop = a->loop,
		.hooks = { agent_lender_failed_hook, agent_region_removed_hook,
			   a },
	};
	int err = iam_fault_start(&fc, &a->fault);

	if (err)
		iam_err("fault thread: %s", strerror(-err));
	return err;
}

static void agent_region_removed_hook(void *arg, struct iam_fault_region *r)
{
	struct iam_agent *a = arg;

	agent_borrow_region_removed(a, r);
	agent_maybe_exit(a);
}

static void agent_lender_failed_hook(void *arg, uint16_t idx, int err)
{
	agent_borrow_lender_failed(arg, idx, err);
}

static void agent_free(struct iam_agent *a)
{
	iam_fault_stop(a->fault);
	agent_borrow_stop(a);
	agent_lend_stop(a);
	iam_bgp_destroy(a->bgp);
	iam_maps_close(a->maps);
	free(a->slots.used);
	agent_kernel_down(a);
	iam_pool_destroy(a->pool);
	if (a->sig_fd >= 0)
		close(a->sig_fd);
	iam_loop_destroy(a->loop);
	agent_unlock(a);
	free(a);
}

int iam_agent_run(const struct iam_config *cfg)
{
	struct iam_pool_cfg pc = { 0 };
	struct iam_agent *a;
	char errbuf[512], pb[IAM_PREFIX_STRLEN], ab[INET6_ADDRSTRLEN];
	char sz[32];
	size_t n;
	int err;

	a = calloc(1, sizeof(*a));
	if (!a)
		return 1;
	a->cfg = *cfg;
	a->lock_fd = a->sig_fd = a->ctrl_lfd = a->ipc_lfd = -1;
	/* agent_lend_stop() cancels these even when bring-up failed before
	 * agent_lend_start(); zeroed, they would look armed at heap slot 0. */
	iam_timer_init(&a->lease_timer, NULL, a);
	iam_timer_init(&a->expire_timer, NULL, a);
	iam_listener_init(&a->ctrl_listener, -1);
	iam_listener_init(&a->ipc_listener, -1);
	a->started_ms = iam_now_ms();
	snprintf(a->routes_file, sizeof(a->routes_file), "%s/%s.routes",
		 IAM_RUN_DIR, cfg->instance);

	err = agent_lock(a);
	if (err)
		goto out;
	a->ifindex = if_nametoindex(cfg->dev);
	if (!a->ifindex) {
		iam_err("--dev %s: no such interface", cfg->dev);
		err = -ENODEV;
		goto out;
	}
	err = iam_loop_create(&a->loop);
	if (err)
		goto out;
	err = agent_signals(a);
	if (err)
		goto out;

	pc.size = cfg->pool_size;
	pc.block_shift = (uint8_t)cfg->block_shift;
	pc.huge = cfg->hugepages;
	err = iam_pool_create(&pc, &a->pool, errbuf, sizeof(errbuf));
	if (err) {
		iam_err("pool of %s: %s",
			iam_fmt_size(cfg->pool_size, sz, sizeof(sz)), errbuf);
		goto out;
	}
	iam_addr_space_init(&a->space, cfg->net, cfg->host, cfg->block_shift);
	iam_addr_ctrl(&a->space, &a->self);
	err = iam_addr_aggregate_run(&a->space,
				     iam_pool_first_block_addr(a->pool),
				     iam_pool_total_blocks(a->pool),
				     &a->pool_prefix, 1, &n);
	if (err || n != 1) {
		iam_err("the pool does not make one prefix (%s)",
			strerror(err ? -err : EINVAL));
		err = err ? err : -EINVAL;
		goto out;
	}
	a->router_id = cfg->router_id ? cfg->router_id : cfg->host;

	err = agent_kernel_up(a);
	if (err)
		goto out;
	err = agent_maps_up(a);
	if (err)
		goto out;
	err = agent_fault_up(a);
	if (err)
		goto out;
	err = agent_lend_start(a);
	if (err)
		goto out;
	err = agent_borrow_start(a);
	if (err)
		goto out;
	err = agent_bgp_start(a);
	if (err)
		goto out;
	err = agent_ipc_start(a);
	if (err)
		goto out;

	iam_info("ready: instance %s on %s (XDP %s), address %s, pool %s = "
		 "%llu blocks of %s, transport %s",
		 cfg->instance, cfg->dev, iam_maps_xdp_mode(a->maps),
		 agent_addr_str(&a->self, ab),
		 iam_addr_prefix_fmt(&a->pool_prefix, pb, sizeof(pb)),
		 (unsigned long long)iam_pool_total_blocks(a->pool),
		 iam_fmt_size(1ull << cfg->block_shift, sz, sizeof(sz)),
		 a->have_rdma ? "rdma+tcp" : "tcp");
	err = iam_loop_run(a->loop);
	if (!a->stopping)
		iam_err("event loop failed: %s", strerror(-err));
	iam_info("stopped");
out:
	if (a->ipc_lfd >= 0)
		agent_ipc_stop(a);
	agent_free(a);
	if (err == -EBUSY)
		return 1;
	return err ? 1 : 0;
}
