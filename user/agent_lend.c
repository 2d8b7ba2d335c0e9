// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * agent_lend.c - the lender side of the agent (DESIGN.md "Allocation",
 * steps 2, 3 and 5 as the lender sees them).
 *
 * A borrower's RESERVE takes blocks from the pool for a time-to-live;
 * CONFIRM makes them an allocation: announced over BGP with the borrower's
 * id and rights, entered in the XDP access map so data to those blocks
 * passes only from the borrower, and registered for RDMA (one memory
 * region per run, so an rkey covers exactly what the borrower holds).
 * RELEASE, or a lease that ran out, undoes all of it and zeroes the
 * blocks.  The TCP data server asks resolve/finish below on every request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"

#define LEND_LEASE_CHECK_MS 1000

/* ---- borrowers -------------------------------------------------------- */

/* Owner id of the borrower at addr (its index + 1), or 0. */
static uint32_t borrower_find(struct iam_agent *a, const struct in6_addr *addr)
{
	uint32_t n = __atomic_load_n(&a->nborrowers, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; i < n; i++)
		if (!memcmp(&a->borrowers[i].addr, addr, 16))
			return i + 1;
	return 0;
}

uint32_t agent_borrower_get(struct iam_agent *a, const struct in6_addr *addr,
			    uint32_t router_id)
{
	uint32_t owner = borrower_find(a, addr), n;

	if (owner) {
		if (router_id)
			a->borrowers[owner - 1].router_id = router_id;
		return owner;
	}
	n = a->nborrowers;
	if (n >= IAM_AGENT_MAX_BORROWERS)
		return 0;
	a->borrowers[n].addr = *addr;
	a->borrowers[n].router_id = router_id;
	/* Publish after the entry is complete: the data thread scans up to
	 * the count it loads. */
	__atomic_store_n(&a->nborrowers, n + 1, __ATOMIC_RELEASE);
	return n + 1;
}

/* ---- the data server's checks (data server thread) -------------------- */

static int lend_resolve(void *arg, const struct in6_addr *peer,
			const struct in6_addr *block, uint32_t off,
			uint32_t len, bool write, void **mem,
			struct iam_tcpx_token *tok)
{
	struct iam_agent *a = arg;
	uint64_t idx, bs = 1ull << a->cfg.block_shift;
	uint32_t owner;
	int err;

	if (!iam_addr_in_space(&a->space, block) ||
	    iam_pool_index(a->pool, iam_addr_block(block), &idx))
		return -ENOENT;
	if ((uint64_t)off + len > bs)
		return -EINVAL;
	owner = borrower_find(a, peer);
	if (!owner)
		return -EACCES;
	/* Held for the copy: a release waits for the hold to go before it
	 * zeroes the block, so the copy never mixes owners. */
	err = iam_pool_pin(a->pool, idx, owner,
			   write ? IAM_RIGHTS_RW : IAM_RIGHTS_RO);
	if (err)
		return err == -EBUSY ? -EBUSY : -EACCES;
	tok->a = idx;
	*mem = (uint8_t *)iam_pool_block_ptr(a->pool, idx) + off;
	return 0;
}

static void lend_finish(void *arg, bool write, const struct iam_tcpx_token *tok)
{
	struct iam_agent *a = arg;

	iam_pool_unpin(a->pool, tok->a);
}

/* ---- allocations we lend ---------------------------------------------- */

static struct agent_lent *lent_find(struct iam_agent *a, uint64_t id)
{
	for (struct agent_lent *l = a->lent; l; l = l->next)
		if (l->id == id)
			return l;
	return NULL;
}

/* Withdraw, unprotect and deregister one allocation (not yet released in
 * the pool), and forget it. */
static void lent_undo(struct iam_agent *a, struct agent_lent *l)
{
	struct agent_lent **pp;

	for (unsigned i = 0; i < l->nprefixes; i++) {
		struct iam_bgp_prefix bp = { .addr = l->prefixes[i].addr,
					     .len = l->prefixes[i].len };

		if (a->bgp)
			iam_bgp_alloc_withdraw(a->bgp, &bp);
		iam_maps_access_del(a->maps, &l->prefixes[i].addr,
				    l->prefixes[i].len);
	}
	for (unsigned i = 0; i < l->nmrs; i++)
		iam_rdma_server_dereg(l->mrs[i]);
	for (pp = &a->lent; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	free(l->prefixes);
	free(l->mrs);
	free(l);
}

/* Release id of owner: undo what announced and protected it, then the
 * pool zeroes and frees the blocks. */
static int lend_release(struct iam_agent *a, uint64_t id, uint32_t owner)
{
	struct agent_lent *l = lent_find(a, id);
	int err;

	if (l && l->owner != owner)
		return -EPERM;
	if (l)
		lent_undo(a, l);
	err = iam_pool_release(a->pool, id, owner);
	if (!err && a->borrowers[owner - 1].nallocs)
		a->borrowers[owner - 1].nallocs--;
	if (!err)
		agent_pool_changed(a);
	return err;
}

/* The borrower asks for a lease; it gets that, at most our --lease, and
 * everything it holds now ends no earlier than that from now. */
static void lend_lease_extend(struct iam_agent *a, uint32_t owner,
			      uint32_t asked_ms)
{
	struct agent_borrower *b = &a->borrowers[owner - 1];
	uint64_t end;

	b->lease_ms = asked_ms && asked_ms < a->cfg.lease_ms ?
			      asked_ms :
			      (uint32_t)a->cfg.lease_ms;
	end = iam_now_ms() + b->lease_ms;
	if (b->lease_end_ms < end)
		b->lease_end_ms = end;
}

static void lend_arm_expiry(struct iam_agent *a)
{
	uint64_t next = iam_pool_next_expiry(a->pool), now = iam_now_ms();

	if (next == UINT64_MAX)
		iam_timer_cancel(a->loop, &a->expire_timer);
	else
		iam_timer_arm(a->loop, &a->expire_timer,
			      next > now ? next - now : 0);
}

static void lend_expired_cb(uint64_t id, uint32_t owner, uint64_t nblocks,
			    void *arg)
{
	struct iam_agent *a = arg;
	char ab[INET6_ADDRSTRLEN];

	if (owner && owner <= a->nborrowers) {
		struct agent_borrower *b = &a->borrowers[owner - 1];

		if (b->nallocs)
			b->nallocs--;
		iam_info("reservation %llu of %llu blocks for %s expired "
			 "unconfirmed",
			 (unsigned long long)id, (unsigned long long)nblocks,
			 agent_addr_str(&b->addr, ab));
	}
}

static void lend_expire_timer(struct iam_loop *loop, struct iam_timer *t,
			      void *arg)
{
	struct iam_agent *a = arg;

	if (iam_pool_expire(a->pool, iam_now_ms(), lend_expired_cb, a))
		agent_pool_changed(a);
	lend_arm_expiry(a);
}

/* Leases (DESIGN.md "Allocation", 5): a borrower that stopped renewing
 * (agent killed, network gone, BGP session lost) loses every block once
 * its lease has run out; they are zeroed, withdrawn and free again. */
/* Inbound control connections that have said nothing since they were
 * accepted IAM_AGENT_CTRL_SILENT_MS ago: closed (a borrower connects to
 * speak, so only a broken or hostile peer is silent that long). */
static void lend_close_silent(struct iam_agent *a, uint64_t now)
{
	char pb[INET6_ADDRSTRLEN];

	for (unsigned i = a->nctrl_in; i-- > 0;) {
		struct iam_ctrl_conn *c = a->ctrl_in[i];

		if (iam_ctrl_heard(c) ||
		    now - iam_ctrl_since_ms(c) < IAM_AGENT_CTRL_SILENT_MS)
			continue;
		if (iam_ratelimit(&a->ctrl_silent))
			iam_warn("ctrl: closing a connection from %s that said "
				 "nothing for %u s (%llu closed so far)",
				 inet_ntop(AF_INET6, iam_ctrl_peer(c), pb,
					   sizeof(pb)),
				 IAM_AGENT_CTRL_SILENT_MS / 1000,
				 (unsigned long long)a->ctrl_silent.count);
		/* An explicit close calls no on_close: forget it here. */
		a->ctrl_in[i] = a->ctrl_in[--a->nctrl_in];
		iam_ctrl_close(c);
	}
}

static void lend_lease_timer(struct iam_loop *loop, struct iam_timer *t,
			     void *arg)
{
	struct iam_agent *a = arg;
	uint64_t now = iam_now_ms();

	for (uint32_t i = 0; i < a->nborrowers; i++) {
		struct agent_borrower *b = &a->borrowers[i];
		struct agent_lent *l, *next;
		char ab[INET6_ADDRSTRLEN];
		unsigned n = 0;

		if (!b->nallocs || b->lease_end_ms > now ||
		    i + 1 == a->self_owner)
			continue;
		for (l = a->lent; l; l = next) {
			next = l->next;
			if (l->owner == i + 1)
				lent_undo(a, l);
		}
		iam_pool_release_owner(a->pool, i + 1, &n);
		b->nallocs = 0;
		iam_warn("lease of borrower %s ran out: reclaimed %u "
			 "allocation(s), blocks zeroed",
			 agent_addr_str(&b->addr, ab), n);
		agent_pool_changed(a);
	}
	lend_close_silent(a, now);
	iam_timer_arm(loop, t, LEND_LEASE_CHECK_MS);
}

/* ---- the control protocol, lender side -------------------------------- */

static void lend_reserve(struct iam_agent *a, struct iam_ctrl_conn *c,
			 const struct iam_ctrl_msg *m)
{
	struct iam_ctrl_msg rep = { .type = IAM_CTRL_RESERVED, .xid = m->xid };
	struct iam_pool_alloc_info info;
	struct iam_pool_run *runs = NULL;
	struct iam_ctrl_run_h *wruns = NULL;
	uint64_t id, first = iam_pool_first_block_addr(a->pool);
	uint32_t owner;
	int err;

	if (m->reserve.block_shift != a->cfg.block_shift) {
		iam_ctrl_send_error(c, m, EINVAL,
				    "block size mismatch: this lender uses "
				    "%llu bytes, the request %llu",
				    1ull << a->cfg.block_shift,
				    1ull << m->reserve.block_shift);
		return;
	}
	owner = agent_borrower_get(a, iam_ctrl_peer(c), m->reserve.borrower_id);
	if (!owner) {
		iam_ctrl_send_error(c, m, EUSERS, "too many borrowers (%d)",
				    IAM_AGENT_MAX_BORROWERS);
		return;
	}
	err = iam_pool_reserve(a->pool, m->reserve.nblocks, owner,
			       m->reserve.rights, iam_now_ms(),
			       a->cfg.reserve_ttl_ms, &id);
	if (err == -ENOSPC) {
		iam_ctrl_send_error(
			c, m, ENOSPC, "asked %u blocks, %llu free",
			m->reserve.nblocks,
			(unsigned long long)iam_pool_free_blocks(a->pool));
		return;
	}
	if (err) {
		iam_ctrl_send_error(c, m, -err, "reserve: %s", strerror(-err));
		return;
	}
	a->borrowers[owner - 1].nallocs++;
	lend_lease_extend(a, owner, m->reserve.lease_ms);
	iam_pool_get(a->pool, id, &info, NULL, 0);
	runs = calloc(info.nruns, sizeof(*runs));
	wruns = calloc(info.nruns, sizeof(*wruns));
	if (!runs || !wruns || info.nruns > IAM_CTRL_MAX_RUNS) {
		lend_release(a, id, owner);
		iam_ctrl_send_error(c, m, ENOMEM, "reservation too fragmented");
		goto out;
	}
	iam_pool_get(a->pool, id, &info, runs, info.nruns);
	for (uint32_t i = 0; i < info.nruns; i++) {
		iam_addr_from_block(&a->space, first + runs[i].first,
				    &wruns[i].first);
		wruns[i].count = (uint32_t)runs[i].count;
	}
	rep.reserved.resv_id = id;
	rep.reserved.ttl_ms = (uint32_t)a->cfg.reserve_ttl_ms;
	rep.reserved.nruns = info.nruns;
	rep.reserved.block_shift = (uint8_t)a->cfg.block_shift;
	rep.reserved.rdma = a->rdma_srv != NULL;
	rep.reserved.runs = wruns;
	iam_ctrl_send(c, &rep);
	agent_pool_changed(a);
	lend_arm_expiry(a);
out:
	free(runs);
	free(wruns);
}

/*
 * An allocation of the whole pool aggregates to the pool prefix itself,
 * but one prefix carries one route per speaker: announcing it with the
 * allocation's communities would replace the pool's (M_i, V_i).  Such an
 * allocation is announced as the pool's two halves instead.
 */
static void lend_split_pool_prefix(struct iam_agent *a, struct agent_lent *l)
{
	for (unsigned i = 0; i < l->nprefixes; i++) {
		struct iam_prefix *p = &l->prefixes[i];

		if (p->len != a->pool_prefix.len ||
		    memcmp(&p->addr, &a->pool_prefix.addr, 16))
			continue;
		p->len++;
		l->prefixes[l->nprefixes] = *p;
		/* The upper half: set the bit just past the old length. */
		l->prefixes[l->nprefixes].addr.s6_addr[(p->len - 1) / 8] |=
			(uint8_t)(0x80 >> ((p->len - 1) % 8));
		l->nprefixes++;
		return;
	}
}

static void lend_confirm(struct iam_agent *a, struct iam_ctrl_conn *c,
			 const struct iam_ctrl_msg *m)
{
	struct iam_ctrl_msg rep = { .type = IAM_CTRL_CONFIRMED, .xid = m->xid };
	uint32_t owner = borrower_find(a, iam_ctrl_peer(c));
	struct iam_pool_alloc_info info;
	struct iam_pool_run *runs = NULL;
	uint32_t *rkeys = NULL;
	struct agent_lent *l;
	unsigned np = 0;
	int err;

	if (!owner) {
		iam_ctrl_send_error(c, m, ENOENT, "no reservation %llu",
				    (unsigned long long)m->id.id);
		return;
	}
	err = iam_pool_confirm(a->pool, m->id.id, owner, iam_now_ms());
	if (err) {
		iam_ctrl_send_error(c, m, -err, "confirm %llu: %s",
				    (unsigned long long)m->id.id,
				    err == -ETIMEDOUT ? "it expired" :
				    err == -ENOENT    ? "no such reservation" :
				    err == -EPERM     ? "not yours" :
				    err == -EALREADY  ? "confirmed already" :
							strerror(-err));
		if (err == -ETIMEDOUT) {
			if (a->borrowers[owner - 1].nallocs)
				a->borrowers[owner - 1].nallocs--;
			agent_pool_changed(a);
		}
		return;
	}
	iam_pool_get(a->pool, m->id.id, &info, NULL, 0);
	l = calloc(1, sizeof(*l));
	runs = calloc(info.nruns, sizeof(*runs));
	rkeys = calloc(info.nruns, sizeof(*rkeys));
	if (!l || !runs || !rkeys)
		goto nomem;
	iam_pool_get(a->pool, m->id.id, &info, runs, info.nruns);
	l->id = m->id.id;
	l->owner = owner;
	l->rights = info.rights;
	for (uint32_t i = 0; i < info.nruns; i++)
		np += (unsigned)iam_addr_run_prefixes(
			iam_pool_first_block_addr(a->pool) + runs[i].first,
			runs[i].count);
	l->prefixes = calloc(np + 1, sizeof(*l->prefixes));
	if (!l->prefixes)
		goto nomem;
	for (uint32_t i = 0; i < info.nruns; i++) {
		size_t n = 0;

		iam_addr_aggregate_run(
			&a->space,
			iam_pool_first_block_addr(a->pool) + runs[i].first,
			runs[i].count, l->prefixes + l->nprefixes,
			np - l->nprefixes, &n);
		l->nprefixes += (unsigned)n;
	}
	lend_split_pool_prefix(a, l);
	l->next = a->lent;
	a->lent = l;
	if (a->rdma_srv) {
		l->mrs = calloc(info.nruns, sizeof(*l->mrs));
		if (!l->mrs)
			goto undo;
		for (uint32_t i = 0; i < info.nruns; i++) {
			err = iam_rdma_server_reg(
				a->rdma_srv,
				iam_pool_block_ptr(a->pool, runs[i].first),
				runs[i].count << a->cfg.block_shift,
				info.rights, &l->mrs[i], &rkeys[i]);
			if (err) {
				iam_ctrl_send_error(c, m, -err,
						    "RDMA registration: %s",
						    strerror(-err));
				goto undo;
			}
			l->nmrs++;
		}
	}
	for (unsigned i = 0; i < l->nprefixes; i++) {
		struct iam_bgp_prefix bp = { .addr = l->prefixes[i].addr,
					     .len = l->prefixes[i].len };

		err = iam_maps_access_set(a->maps, &l->prefixes[i].addr,
					  l->prefixes[i].len, iam_ctrl_peer(c),
					  info.rights);
		if (err) {
			iam_ctrl_send_error(c, m, -err, "XDP access entry: %s",
					    strerror(-err));
			goto undo;
		}
		if (a->bgp)
			iam_bgp_alloc_announce(
				a->bgp, &bp, a->borrowers[owner - 1].router_id,
				info.rights);
	}
	lend_lease_extend(a, owner, a->borrowers[owner - 1].lease_ms);
	rep.confirmed.alloc_id = m->id.id;
	rep.confirmed.lease_ms = a->borrowers[owner - 1].lease_ms;
	rep.confirmed.nrkeys = a->rdma_srv ? info.nruns : 0;
	rep.confirmed.rkeys = rkeys;
	iam_ctrl_send(c, &rep);
	free(runs);
	free(rkeys);
	return;

nomem:
	iam_ctrl_send_error(c, m, ENOMEM, "out of memory");
	if (l && !l->next && a->lent != l) {
		free(l->prefixes);
		free(l);
	}
	iam_pool_release(a->pool, m->id.id, owner);
	goto out_changed;
undo:
	lend_release(a, m->id.id, owner);
	free(runs);
	free(rkeys);
	return;
out_changed:
	if (a->borrowers[owner - 1].nallocs)
		a->borrowers[owner - 1].nallocs--;
	agent_pool_changed(a);
	free(runs);
	free(rkeys);
}

static void lend_on_msg(struct iam_ctrl_conn *c, const struct iam_ctrl_msg *m,
			void *arg)
{
	struct iam_agent *a = arg;
	struct iam_ctrl_msg rep = { .xid = m->xid };
	uint32_t owner;
	int err;

	switch (m->type) {
	case IAM_CTRL_RESERVE:
		lend_reserve(a, c, m);
		return;
	case IAM_CTRL_CONFIRM:
		lend_confirm(a, c, m);
		return;
	case IAM_CTRL_RELEASE:
		owner = borrower_find(a, iam_ctrl_peer(c));
		err = owner ? lend_release(a, m->id.id, owner) : -ENOENT;
		if (err) {
			iam_ctrl_send_error(c, m, -err, "release %llu: %s",
					    (unsigned long long)m->id.id,
					    err == -ENOENT ? "no such "
							     "allocation" :
					    err == -EPERM  ? "not yours" :
							     strerror(-err));
			return;
		}
		rep.type = IAM_CTRL_RELEASED;
		rep.id.id = m->id.id;
		iam_ctrl_send(c, &rep);
		return;
	case IAM_CTRL_RENEW:
		owner = borrower_find(a, iam_ctrl_peer(c));
		rep.type = IAM_CTRL_RENEWED;
		if (owner) {
			lend_lease_extend(a, owner, m->renew.lease_ms);
			rep.renewed.nallocs = a->borrowers[owner - 1].nallocs;
		}
		iam_ctrl_send(c, &rep);
		return;
	default:
		iam_ctrl_send_error(c, m, EBADMSG,
				    "%s is an answer, not a request",
				    iam_ctrl_type_name(m->type));
		return;
	}
}

static void lend_on_close(struct iam_ctrl_conn *c, int err, void *arg)
{
	struct iam_agent *a = arg;

	/* Nothing to undo: what the borrower holds lives on its lease. */
	iam_dbg("ctrl: borrower %s disconnected (%s)", iam_ctrl_peer_str(c),
		err ? strerror(-err) : "closed");
	for (unsigned i = 0; i < a->nctrl_in; i++) {
		if (a->ctrl_in[i] == c) {
			a->ctrl_in[i] = a->ctrl_in[--a->nctrl_in];
			break;
		}
	}
}

#define LEND_STR_(x) #x
#define LEND_STR(x) LEND_STR_(x)

/* Why a new connection from peer must be refused, or NULL. */
static const char *lend_ctrl_over(struct iam_agent *a,
				  const struct in6_addr *peer)
{
	unsigned same = 0;

	if (a->nctrl_in >= IAM_AGENT_MAX_CTRL_IN)
		return "inbound control connections at their limit (" LEND_STR(
			IAM_AGENT_MAX_CTRL_IN) ")";
	for (unsigned i = 0; i < a->nctrl_in; i++)
		if (!memcmp(iam_ctrl_peer(a->ctrl_in[i]), peer, sizeof(*peer)))
			same++;
	if (same >= IAM_AGENT_MAX_CTRL_PER_PEER)
		return "its control connections at their limit (" LEND_STR(
			IAM_AGENT_MAX_CTRL_PER_PEER) " per address)";
	return NULL;
}

static void lend_accept(struct iam_loop *loop, int fd, uint32_t ev, void *arg)
{
	struct iam_agent *a = arg;
	struct iam_ctrl_handlers h = { .on_msg = lend_on_msg,
				       .on_close = lend_on_close,
				       .arg = a };

	for (;;) {
		struct sockaddr_in6 sa;
		socklen_t sl = sizeof(sa);
		struct iam_ctrl_conn *c;
		char pb[INET6_ADDRSTRLEN];
		const char *why;
		int cfd = accept4(fd, (struct sockaddr *)&sa, &sl,
				  SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (!iam_accept_error_is_hard(errno))
				return;
			iam_warn("ctrl: accept: %s; not accepting for 1 s",
				 strerror(errno));
			iam_listener_pause(loop, &a->ctrl_listener, 1000);
			return;
		}
		why = lend_ctrl_over(a, &sa.sin6_addr);
		if (why) {
			if (iam_ratelimit(&a->ctrl_refused))
				iam_warn("ctrl: refusing a connection from "
					 "%s: %s (%llu refused so far)",
					 inet_ntop(AF_INET6, &sa.sin6_addr, pb,
						   sizeof(pb)),
					 why,
					 (unsigned long long)
						 a->ctrl_refused.count);
			close(cfd);
			continue;
		}
		if (iam_ctrl_conn_accepted(loop, cfd, &sa.sin6_addr, &h, &c)) {
			close(cfd);
			continue;
		}
		a->ctrl_in[a->nctrl_in++] = c;
	}
}

int agent_lend_start(struct iam_agent *a)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_port = htons(a->cfg.ctrl_port),
				   .sin6_addr = a->self };
	struct iam_tcpx_server_config sc = {
		.addr = in6addr_any,
		.port = a->cfg.data_port,
		.max_io = 1u << a->cfg.block_shift,
		.cpu = a->cfg.cpu,
		.access = { lend_resolve, lend_finish, a },
	};
	char ab[INET6_ADDRSTRLEN];
	int one = 1, err;

	/* The data server listens on :: (block addresses are local through
	 * the pool's route, not assigned), but only on the fabric interface:
	 * data reaches it only through the XDP classifier, and agents on
	 * other interfaces of the same namespace keep their own servers on
	 * the same port. */
	snprintf(sc.ifname, sizeof(sc.ifname), "%s", a->cfg.dev);
	a->borrowers = calloc(IAM_AGENT_MAX_BORROWERS, sizeof(*a->borrowers));
	if (!a->borrowers)
		return -ENOMEM;
	a->self_owner = agent_borrower_get(a, &a->self, a->router_id);

	a->ctrl_in = calloc(IAM_AGENT_MAX_CTRL_IN, sizeof(*a->ctrl_in));
	if (!a->ctrl_in)
		return -ENOMEM;
	a->ctrl_lfd =
		socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->ctrl_lfd < 0)
		return -errno;
	setsockopt(a->ctrl_lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The address was added a moment ago (without DAD, but the kernel
	 * may still mark it tentative for an instant). */
	setsockopt(a->ctrl_lfd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
	if (bind(a->ctrl_lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(a->ctrl_lfd, 64) < 0) {
		err = -errno;
		iam_err("control protocol on [%s]:%u: %s",
			agent_addr_str(&a->self, ab), a->cfg.ctrl_port,
			strerror(-err));
		return err;
	}
	a->ctrl_listener.fd = a->ctrl_lfd;
	err = iam_loop_add(a->loop, a->ctrl_lfd, EPOLLIN, lend_accept, a);
	if (err)
		return err;
	err = iam_tcpx_server_start(&sc, &a->data_srv);
	if (err) {
		iam_err("TCP data server on %s port %u: %s", a->cfg.dev,
			a->cfg.data_port, strerror(-err));
		return err;
	}
	a->have_rdma = a->cfg.transport != IAM_CFG_TRANSPORT_TCP &&
		       iam_rdma_netdev_has_rdma(a->cfg.dev);
	if (a->cfg.transport == IAM_CFG_TRANSPORT_RDMA && !a->have_rdma) {
		iam_err("--transport rdma: no RDMA device on %s", a->cfg.dev);
		return -ENODEV;
	}
	if (a->have_rdma) {
		err = iam_rdma_server_create(a->loop, &a->self,
					     a->cfg.rdma_port, &a->rdma_srv);
		if (err) {
			iam_err("RDMA server on %s: %s", a->cfg.dev,
				strerror(-err));
			return err;
		}
	}
	iam_timer_init(&a->lease_timer, lend_lease_timer, a);
	iam_timer_arm(a->loop, &a->lease_timer, LEND_LEASE_CHECK_MS);
	iam_timer_init(&a->expire_timer, lend_expire_timer, a);
	return 0;
}

void agent_lend_stop(struct iam_agent *a)
{
	iam_tcpx_server_stop(a->data_srv);
	a->data_srv = NULL;
	while (a->lent) {
		struct agent_lent *l = a->lent;
		uint32_t owner = l->owner;
		uint64_t id = l->id;

		lent_undo(a, l);
		iam_pool_release(a->pool, id, owner);
	}
	iam_rdma_server_destroy(a->rdma_srv);
	a->rdma_srv = NULL;
	if (a->ctrl_lfd >= 0) {
		if (a->loop)
			iam_loop_del(a->loop, a->ctrl_lfd);
		close(a->ctrl_lfd);
		a->ctrl_lfd = -1;
	}
	/* An explicit close calls no on_close: forget them here. */
	for (unsigned i = 0; a->ctrl_in && i < a->nctrl_in; i++)
		iam_ctrl_close(a->ctrl_in[i]);
	a->nctrl_in = 0;
	free(a->ctrl_in);
	a->ctrl_in = NULL;
	if (a->loop) {
		iam_timer_cancel(a->loop, &a->lease_timer);
		iam_timer_cancel(a->loop, &a->expire_timer);
		iam_listener_fini(a->loop, &a->ctrl_listener);
	}
	free(a->borrowers);
	a->borrowers = NULL;
}

struct lend_iter {
	struct iam_agent *a;
	int (*cb)(void *arg, const struct iam_ipc_alloc_rec *r);
	void *arg;
};

static int lend_iter_cb(const struct iam_pool_alloc_info *info,
			const struct iam_pool_run *runs, void *arg)
{
	struct lend_iter *it = arg;
	struct iam_agent *a = it->a;
	struct iam_ipc_alloc_rec r = { 0 };
	struct agent_borrower *b;
	uint64_t now = iam_now_ms();

	if (!info->owner || info->owner > a->nborrowers ||
	    info->owner == a->self_owner)
		return 0;
	b = &a->borrowers[info->owner - 1];
	r.id = info->id;
	r.nblocks = info->nblocks;
	r.role = IAM_ROLE_LENT;
	r.state = info->state == IAM_POOL_RESERVED ? IAM_ALLOC_RESERVED :
						     IAM_ALLOC_CONFIRMED;
	r.rights = info->rights;
	memcpy(r.peer, &b->addr, 16);
	r.borrower_id = b->router_id;
	if (info->state == IAM_POOL_RESERVED)
		r.expires_ms = info->expiry_ms > now ? info->expiry_ms - now :
						       0;
	else
		r.expires_ms = b->lease_end_ms > now ? b->lease_end_ms - now :
						       0;
	for (uint32_t i = 0; i < info->nruns; i++) {
		struct iam_prefix p[IAM_IPC_ALLOC_PREFIXES];
		uint64_t first =
			iam_pool_first_block_addr(a->pool) + runs[i].first;
		size_t n = 0;

		r.total_prefixes +=
			(uint32_t)iam_addr_run_prefixes(first, runs[i].count);
		if (r.nprefixes >= IAM_IPC_ALLOC_PREFIXES)
			continue;
		iam_addr_aggregate_run(&a->space, first, runs[i].count, p,
				       IAM_IPC_ALLOC_PREFIXES - r.nprefixes,
				       &n);
		for (size_t k = 0; k < n; k++) {
			memcpy(r.prefixes[r.nprefixes].addr, &p[k].addr, 16);
			r.prefixes[r.nprefixes].plen = p[k].len;
			r.nprefixes++;
		}
	}
	return it->cb(it->arg, &r);
}

int agent_lend_foreach(struct iam_agent *a,
		       int (*cb)(void *arg, const struct iam_ipc_alloc_rec *r),
		       void *arg)
{
	struct lend_iter it = { a, cb, arg };

	return iam_pool_foreach(a->pool, lend_iter_cb, &it);
}
