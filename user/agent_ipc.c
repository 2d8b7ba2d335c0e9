// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * agent_ipc.c - the agent's UNIX socket (headers/iam_ipc.h): libiam's
 * allocations and iamctl's questions.
 *
 * Who may connect: root, the agent's own user, and the users and groups
 * given with --allow-user / --allow-group (checked with SO_PEERCRED).
 * Others are told so on their first request and nothing else.  A client
 * that hangs up (or dies) has all its regions freed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "lib/ipc.h"
#include "log.h"

struct ipc_conn {
	struct agent_client c;
	bool denied;
	struct iam_agent *a;
};

void agent_ipc_reply(struct iam_agent *a, struct agent_client *c, uint16_t type,
		     uint32_t seq, int status, const void *body, size_t len)
{
	int err = iam_ipc_send(c->fd, type, IAM_IPC_F_REPLY, seq, status, body,
			       len, NULL, 0);

	if (err)
		iam_dbg("ipc: reply to pid %d: %s", (int)c->pid,
			strerror(-err));
}

static void ipc_reply_text(struct iam_agent *a, struct agent_client *c,
			   uint16_t type, uint32_t seq, int status,
			   const char *text)
{
	agent_ipc_reply(a, c, type, seq, status, text, strlen(text) + 1);
}

static bool ipc_permitted(struct iam_agent *a, uid_t uid, gid_t gid)
{
	if (uid == 0 || uid == geteuid())
		return true;
	for (unsigned i = 0; i < a->cfg.nallow_uid; i++)
		if (a->cfg.allow_uid[i] == uid)
			return true;
	for (unsigned i = 0; i < a->cfg.nallow_gid; i++)
		if (a->cfg.allow_gid[i] == gid)
			return true;
	return false;
}

static int ipc_count_peer(void *arg, const struct iam_bgp_peer_info *p)
{
	struct iam_ipc_status *st = arg;

	st->npeers++;
	st->npeers_up += p->state == IAM_BGP_ESTABLISHED;
	return 0;
}

static int ipc_count_lender(void *arg, const struct iam_bgp_lender *l)
{
	((struct iam_ipc_status *)arg)->nlenders++;
	return 0;
}

static void ipc_status(struct iam_agent *a, struct agent_client *c,
		       uint32_t seq)
{
	struct iam_ipc_status st = { 0 };
	struct iam_fault_stats fs;
	struct iam_pool_stats ps;

	snprintf(st.instance, sizeof(st.instance), "%s", a->cfg.instance);
	snprintf(st.dev, sizeof(st.dev), "%s", a->cfg.dev);
	snprintf(st.xdp_mode, sizeof(st.xdp_mode), "%s",
		 iam_maps_xdp_mode(a->maps));
	memcpy(st.self, &a->self, 16);
	memcpy(st.pool_prefix, &a->pool_prefix.addr, 16);
	st.pool_plen = a->pool_prefix.len;
	st.block_shift = (uint8_t)a->cfg.block_shift;
	st.asn = a->cfg.asn;
	st.router_id = a->router_id;
	iam_pool_stats(a->pool, &ps);
	st.own_total = ps.total;
	st.own_available = ps.free;
	/* Our own clients' blocks are borrowed here, not lent. */
	st.lent_blocks = ps.allocated - a->local_used;
	if (a->bgp) {
		uint64_t m, v;

		iam_bgp_totals(a->bgp, &m, &v);
		st.total_blocks = m;
		st.available_blocks = v;
		iam_bgp_peers_foreach(a->bgp, ipc_count_peer, &st);
		iam_bgp_lenders_foreach(a->bgp, ipc_count_lender, &st);
	} else {
		st.nlenders = 1;
		st.total_blocks = ps.total;
		st.available_blocks = ps.free;
	}
	for (struct agent_region *r = a->regions; r; r = r->next) {
		if (r->state != REGION_ACTIVE)
			continue;
		st.nregions++;
		st.borrowed_blocks += r->nblocks;
	}
	iam_fault_get_stats(a->fault, &fs);
	st.cache_pages = fs.cache_pages;
	st.resident_pages = fs.resident;
	st.faults = fs.faults;
	st.zero_fills = fs.zero_fills;
	st.remote_reads = fs.remote_reads + fs.local_reads;
	st.wp_faults = fs.wp_faults;
	st.evictions = fs.evictions;
	st.writebacks = fs.writebacks;
	st.lost_faults = fs.lost;
	st.fault_service_ns = fs.fault_ns;
	st.rdma_reads = fs.rdma_reads;
	st.rdma_writes = fs.rdma_writes;
	st.lost_allocs = fs.lost_allocs;
	st.fault_cpu = (int32_t)fs.cpu_plus1 - 1;
	st.fault_follow_pid = (uint32_t)fs.follow_pid;
	if (a->data_srv) {
		struct iam_tcpx_server_stats ds;

		iam_tcpx_server_get_stats(a->data_srv, &ds);
		st.data_reads = ds.reads;
		st.data_writes = ds.writes;
		st.data_denied = ds.denied;
	}
	if (a->rdma_srv) {
		st.rdma_qps = iam_rdma_server_conn_count(a->rdma_srv);
		st.rdma_regions = iam_rdma_server_region_count(a->rdma_srv);
	}
	st.uptime_ms = iam_now_ms() - a->started_ms;
	agent_ipc_reply(a, c, IAM_IPC_STATUS, seq, 0, &st, sizeof(st));
}

struct ipc_list {
	struct iam_agent *a;
	struct agent_client *c;
	uint16_t type;
	uint32_t seq;
};

static int ipc_more(struct ipc_list *l, const void *rec, size_t len)
{
	return iam_ipc_send(l->c->fd, l->type, IAM_IPC_F_REPLY | IAM_IPC_F_MORE,
			    l->seq, 0, rec, len, NULL, 0);
}

static int ipc_lender_cb(void *arg, const struct iam_bgp_lender *bl)
{
	struct ipc_list *l = arg;
	struct iam_ipc_lender r = { 0 };

	memcpy(r.prefix, &bl->prefix.addr, 16);
	r.plen = bl->prefix.len;
	memcpy(r.next_hop, &bl->next_hop, 16);
	r.self = bl->local;
	r.transport =
		bl->local ?
			IAM_TRANSPORT_LOCAL :
			(uint8_t)agent_lender_transport(l->a, &bl->prefix.addr);
	r.block_size = 1u << bl->block_shift;
	r.total_blocks = bl->total_blocks;
	r.available_blocks = bl->avail_blocks;
	r.age_ms = iam_now_ms() - bl->since_ms;
	/* The flattened path, not the text: "{65001 65002}" (an AS_SET)
	 * is no list of numbers. */
	_Static_assert(IAM_BGP_LENDER_PATH_MAX ==
			       sizeof(r.as_path) / sizeof(r.as_path[0]),
		       "iam_ipc_lender.as_path holds what the speaker keeps");
	r.as_path_len = (uint8_t)bl->as_path_len;
	memcpy(r.as_path, bl->as_path_asn,
	       bl->as_path_len * sizeof(r.as_path[0]));
	return ipc_more(l, &r, sizeof(r));
}

static int ipc_peer_cb(void *arg, const struct iam_bgp_peer_info *pi)
{
	struct ipc_list *l = arg;
	struct iam_ipc_peer r = { 0 };

	memcpy(r.addr, &pi->addr, 16);
	r.remote_as = pi->remote_as;
	r.router_id = pi->remote_id;
	r.uptime_ms = pi->state == IAM_BGP_ESTABLISHED ?
			      iam_now_ms() - pi->since_ms :
			      0;
	r.prefixes = pi->prefixes;
	snprintf(r.state, sizeof(r.state), "%s", iam_bgp_state_name(pi->state));
	snprintf(r.last_error, sizeof(r.last_error), "%s",
		 pi->last_error ? pi->last_error : "");
	return ipc_more(l, &r, sizeof(r));
}

static int ipc_alloc_cb(void *arg, const struct iam_ipc_alloc_rec *r)
{
	return ipc_more(arg, r, sizeof(*r));
}

static void ipc_list(struct iam_agent *a, struct agent_client *c, uint16_t type,
		     uint32_t seq)
{
	struct ipc_list l = { a, c, type, seq };
	int err = 0;

	switch (type) {
	case IAM_IPC_LENDERS:
		if (a->bgp) {
			err = iam_bgp_lenders_foreach(a->bgp, ipc_lender_cb,
						      &l);
		} else {
			struct iam_bgp_lender own = {
				.prefix = { .addr = a->pool_prefix.addr,
					    .len = a->pool_prefix.len },
				.total_blocks = (uint32_t)iam_pool_total_blocks(
					a->pool),
				.avail_blocks =
					(uint32_t)iam_pool_free_blocks(a->pool),
				.block_shift = (uint8_t)a->cfg.block_shift,
				.local = true,
				.as_path = "",
				.peer = "",
				.since_ms = a->started_ms,
			};

			err = ipc_lender_cb(&l, &own);
		}
		break;
	case IAM_IPC_PEERS:
		if (a->bgp)
			err = iam_bgp_peers_foreach(a->bgp, ipc_peer_cb, &l);
		break;
	case IAM_IPC_ALLOCS:
		err = agent_lend_foreach(a, ipc_alloc_cb, &l);
		if (!err)
			err = agent_borrow_foreach(a, ipc_alloc_cb, &l);
		break;
	}
	agent_ipc_reply(a, c, type, seq, err < 0 ? err : 0, NULL, 0);
}

static void ipc_conn_free(struct iam_agent *a, struct ipc_conn *ic)
{
	struct agent_client **pp;
	struct agent_region *r, *next;

	for (pp = &a->clients; *pp; pp = &(*pp)->next) {
		if (*pp == &ic->c) {
			*pp = ic->c.next;
			break;
		}
	}
	/* A client that goes away without iam_free(): its memory goes back
	 * all the same. */
	for (r = a->regions; r; r = next) {
		next = r->next;
		if (r->client != &ic->c)
			continue;
		r->client = NULL;
		if (r->state == REGION_ACTIVE)
			iam_info("pid %d went away: freeing region %llu",
				 (int)ic->c.pid, (unsigned long long)r->id);
		agent_region_free(a, r, false, 0);
	}
	iam_loop_del(a->loop, ic->c.fd);
	close(ic->c.fd);
	free(ic);
	a->nipc--;
}

static void ipc_conn_io(struct iam_loop *loop, int fd, uint32_t ev, void *arg)
{
	struct ipc_conn *ic = arg;
	struct iam_agent *a = ic->a;
	struct agent_client *c = &ic->c;
	char buf[IAM_IPC_MAX_MSG];
	const struct iam_ipc_hdr *h = (const void *)buf;
	const void *body = buf + sizeof(*h);
	int fds[4], nfds = 0;
	ssize_t n;
	size_t blen;

	n = iam_ipc_recv(fd, buf, sizeof(buf), fds, &nfds, 4);
	if (n == -EAGAIN || n == -EINTR)
		return;
	if (n <= 0) {
		if (n < 0 && n != -ECONNRESET)
			iam_warn("ipc: pid %d sent a malformed message (%s); "
				 "closing",
				 (int)c->pid, strerror((int)-n));
		ipc_conn_free(a, ic);
		return;
	}
	blen = (size_t)n - sizeof(*h);
	if (ic->denied) {
		char msg[128];

		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		snprintf(msg, sizeof(msg),
			 "user %u may not use IAM agent \"%s\" (see "
			 "--allow-user, --allow-group)",
			 (unsigned)c->uid, a->cfg.instance);
		ipc_reply_text(a, c, h->type, h->seq, -EACCES, msg);
		/* Said once; a refused client holds nothing here. */
		ipc_conn_free(a, ic);
		return;
	}
	if (h->type != IAM_IPC_ALLOC)
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
	switch (h->type) {
	case IAM_IPC_ALLOC:
		if (blen != sizeof(struct iam_ipc_alloc) || nfds != 2) {
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
			ipc_reply_text(a, c, h->type, h->seq, -EINVAL,
				       "ALLOC needs its body and two "
				       "descriptors (memfd, userfaultfd)");
			return;
		}
		c->is_lib = true;
		agent_region_alloc(a, c, h->seq, body, fds[0], fds[1]);
		return;
	case IAM_IPC_FREE: {
		const struct iam_ipc_region *q = body;
		char msg[64];

		if (blen == sizeof(*q)) {
			for (struct agent_region *r = a->regions; r;
			     r = r->next) {
				if (r->client == c && r->id == q->region_id &&
				    r->state == REGION_ACTIVE) {
					agent_region_free(a, r, true, h->seq);
					return;
				}
			}
		}
		snprintf(msg, sizeof(msg), "no region %llu of this process",
			 blen == sizeof(*q) ? (unsigned long long)q->region_id :
					      0ull);
		ipc_reply_text(a, c, h->type, h->seq, -EINVAL, msg);
		return;
	}
	case IAM_IPC_WHERE: {
		struct iam_ipc_where_rep rep;
		const struct iam_ipc_where *q = body;

		if (blen != sizeof(*q) ||
		    agent_region_where(a, c, q->addr, &rep)) {
			ipc_reply_text(a, c, h->type, h->seq, -EINVAL,
				       "the address is in no region of this "
				       "process");
			return;
		}
		agent_ipc_reply(a, c, h->type, h->seq, 0, &rep, sizeof(rep));
		return;
	}
	case IAM_IPC_STATUS:
		ipc_status(a, c, h->seq);
		return;
	case IAM_IPC_LENDERS:
	case IAM_IPC_ALLOCS:
	case IAM_IPC_PEERS:
		ipc_list(a, c, h->type, h->seq);
		return;
	default:
		ipc_reply_text(a, c, h->type, h->seq, -EOPNOTSUPP,
			       "unknown request type");
		return;
	}
}

static void ipc_accept(struct iam_loop *loop, int fd, uint32_t ev, void *arg)
{
	struct iam_agent *a = arg;

	for (;;) {
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		struct ipc_conn *ic;
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (!iam_accept_error_is_hard(errno))
				return;
			iam_warn("ipc: accept: %s; not accepting for 1 s",
				 strerror(errno));
			iam_listener_pause(loop, &a->ipc_listener, 1000);
			return;
		}
		if (a->nipc >= IAM_AGENT_MAX_IPC) {
			if (iam_ratelimit(&a->ipc_refused))
				iam_warn("ipc: refusing a client: %u "
					 "connected, the limit (%llu refused "
					 "so far)",
					 a->nipc,
					 (unsigned long long)
						 a->ipc_refused.count);
			close(cfd);
			continue;
		}
		ic = calloc(1, sizeof(*ic));
		if (!ic ||
		    getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
		    iam_loop_add(loop, cfd, EPOLLIN, ipc_conn_io, ic)) {
			free(ic);
			close(cfd);
			continue;
		}
		ic->a = a;
		ic->c.fd = cfd;
		ic->c.pid = cred.pid;
		ic->c.uid = cred.uid;
		ic->denied = !ipc_permitted(a, cred.uid, cred.gid);
		if (ic->denied && iam_ratelimit(&a->ipc_refused))
			iam_warn("ipc: refusing pid %d of user %u (not "
				 "allowed; %llu refused so far)",
				 (int)cred.pid, (unsigned)cred.uid,
				 (unsigned long long)a->ipc_refused.count);
		ic->c.next = a->clients;
		a->clients = &ic->c;
		a->nipc++;
	}
}

int agent_ipc_start(struct iam_agent *a)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int err;

	err = iam_ipc_path(a->cfg.instance, sun.sun_path, sizeof(sun.sun_path));
	if (err)
		return err;
	snprintf(a->ipc_path, sizeof(a->ipc_path), "%s", sun.sun_path);
	/* We hold the instance lock: a socket file here is a dead agent's. */
	unlink(sun.sun_path);
	a->ipc_lfd = socket(AF_UNIX,
			    SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->ipc_lfd < 0)
		return -errno;
	if (bind(a->ipc_lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(a->ipc_lfd, 64) < 0) {
		err = -errno;
		iam_err("UNIX socket %s: %s", sun.sun_path, strerror(-err));
		return err;
	}
	/* Everyone may connect; SO_PEERCRED decides who gets answers. */
	chmod(sun.sun_path, 0666);
	a->ipc_listener.fd = a->ipc_lfd;
	return iam_loop_add(a->loop, a->ipc_lfd, EPOLLIN, ipc_accept, a);
}

void agent_ipc_stop(struct iam_agent *a)
{
	iam_listener_fini(a->loop, &a->ipc_listener);
	if (a->ipc_lfd >= 0) {
		iam_loop_del(a->loop, a->ipc_lfd);
		close(a->ipc_lfd);
		a->ipc_lfd = -1;
		unlink(a->ipc_path);
	}
	while (a->clients)
		ipc_conn_free(a, (struct ipc_conn *)a->clients);
}
