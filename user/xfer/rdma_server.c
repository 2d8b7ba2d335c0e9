// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * rdma_server.c - the lender side of the RDMA transport (see rdma.h): an
 * rdma_cm listener on the agent's address, run by the agent's event loop,
 * and one memory region per allocation.
 *
 * Accepted queue pairs only ever respond (RDMA READ and WRITE without
 * immediate consume no receive and raise no responder completion), so
 * they share one small completion queue that nothing is posted to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "iam_const.h"
#include "log.h"
#include "xfer/rdma.h"

/* One accepted borrower queue pair. */
struct rdma_sconn {
	struct rdma_sconn *next;
	struct rdma_sconn **pprev;
	struct rdma_cm_id *id;
	struct in6_addr peer; /* borrower address (v4-mapped for IPv4) */
	bool established; /* ESTABLISHED seen, no disconnect started */
};

struct iam_rdma_server {
	struct iam_loop *loop;
	struct rdma_event_channel *ech; /* non-blocking, in loop */
	struct rdma_cm_id *listen;
	struct ibv_pd *pd; /* every QP and MR */
	struct ibv_cq *cq; /* shared by accepted QPs, never polled */
	uint8_t max_resp; /* device max_qp_rd_atom, at least 1 */
	struct rdma_sconn *conns;
	pthread_mutex_t lock; /* the fields below: reg/dereg are any-thread */
	unsigned int nmrs; /* live regions */
	unsigned int nq, qnext; /* quarantine fill and next slot */
	uint32_t quarantine[IAM_RDMA_RKEY_QUARANTINE]; /* released rkeys */
};

struct iam_rdma_mr {
	struct iam_rdma_server *s;
	struct ibv_mr *mr;
};

static const char *peer_str(const struct in6_addr *a, char *buf, size_t len)
{
	return inet_ntop(AF_INET6, a, buf, len) ? buf : "?";
}

static void peer_addr(struct rdma_cm_id *id, struct in6_addr *out)
{
	struct sockaddr *sa = rdma_get_peer_addr(id);

	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET6) {
		*out = ((struct sockaddr_in6 *)sa)->sin6_addr;
	} else if (sa->sa_family == AF_INET) {
		out->s6_addr[10] = 0xff;
		out->s6_addr[11] = 0xff;
		memcpy(&out->s6_addr[12],
		       &((struct sockaddr_in *)sa)->sin_addr.s_addr, 4);
	}
}

static void sconn_free(struct rdma_sconn *sc)
{
	if (sc->next)
		sc->next->pprev = sc->pprev;
	*sc->pprev = sc->next;
	if (sc->id->qp)
		rdma_destroy_qp(sc->id);
	rdma_destroy_id(sc->id);
	free(sc);
}

/* A borrower's CONNECT_REQUEST on the new id: QP on our PD, then accept.
 * initiator_depth is what the borrower asked for (READs in flight). */
static void srv_accept(struct iam_rdma_server *s, struct rdma_cm_id *id,
		       uint8_t initiator_depth)
{
	struct rdma_conn_param cp = { 0 };
	struct ibv_qp_init_attr qa = { 0 };
	char a[INET6_ADDRSTRLEN];
	struct rdma_sconn *sc;
	const char *why;
	int err;

	sc = calloc(1, sizeof(*sc));
	if (!sc) {
		why = "out of memory";
		err = -ENOMEM;
		goto err_reject;
	}
	sc->id = id;
	id->context = sc;
	peer_addr(id, &sc->peer);
	sc->next = s->conns;
	if (s->conns)
		s->conns->pprev = &sc->next;
	s->conns = sc;
	sc->pprev = &s->conns;
	if (id->verbs != s->pd->context) {
		/* The listener is bound to one address, hence one device;
		 * a request arriving elsewhere cannot use our PD. */
		why = "request on another RDMA device";
		err = -EXDEV;
		goto err_free;
	}
	qa.send_cq = s->cq;
	qa.recv_cq = s->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = 1;
	qa.cap.max_recv_wr = 1;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(id, s->pd, &qa)) {
		err = -errno;
		why = "rdma_create_qp";
		goto err_free;
	}
	/* Responder resources bound the borrower's RDMA READs in flight;
	 * at least one, or every READ would be refused. */
	cp.responder_resources =
		initiator_depth < s->max_resp ? initiator_depth : s->max_resp;
	if (!cp.responder_resources)
		cp.responder_resources = 1;
	cp.initiator_depth = 0;
	cp.rnr_retry_count = 7;
	if (rdma_accept(id, &cp)) {
		err = -errno;
		why = "rdma_accept";
		goto err_free;
	}
	iam_dbg("rdma: accepted a queue pair from [%s]",
		peer_str(&sc->peer, a, sizeof(a)));
	return;

err_free:
	iam_warn("rdma: refusing a connection from [%s]: %s: %s",
		 peer_str(&sc->peer, a, sizeof(a)), why, strerror(-err));
	rdma_reject(id, NULL, 0);
	sconn_free(sc);
	return;
err_reject:
	iam_warn("rdma: refusing a connection: %s", why);
	rdma_reject(id, NULL, 0);
	rdma_destroy_id(id);
}

static void srv_cm_cb(struct iam_loop *loop, int fd, uint32_t events, void *arg)
{
	struct iam_rdma_server *s = arg;
	struct rdma_cm_event *ev;
	enum rdma_cm_event_type type;
	struct rdma_cm_id *id;
	struct rdma_sconn *sc;
	char a[INET6_ADDRSTRLEN];
	uint8_t depth;
	int status;

	while (!rdma_get_cm_event(s->ech, &ev)) {
		/* Copy what we need and ack first: destroying an id waits
		 * until every event delivered for it has been acked. */
		type = ev->event;
		status = ev->status;
		id = ev->id;
		depth = ev->param.conn.initiator_depth;
		rdma_ack_cm_event(ev);
		sc = id != s->listen ? id->context : NULL;

		switch (type) {
		case RDMA_CM_EVENT_CONNECT_REQUEST:
			srv_accept(s, id, depth);
			break;
		case RDMA_CM_EVENT_ESTABLISHED:
			if (sc)
				sc->established = true;
			break;
		case RDMA_CM_EVENT_DISCONNECTED:
		case RDMA_CM_EVENT_CONNECT_ERROR:
		case RDMA_CM_EVENT_UNREACHABLE:
		case RDMA_CM_EVENT_REJECTED:
			if (!sc)
				break;
			iam_dbg("rdma: queue pair from [%s]: %s",
				peer_str(&sc->peer, a, sizeof(a)),
				rdma_event_str(type));
			if (type == RDMA_CM_EVENT_DISCONNECTED)
				rdma_disconnect(id); /* DREP if still owed */
			sconn_free(sc);
			break;
		case RDMA_CM_EVENT_DEVICE_REMOVAL:
			if (sc) {
				sconn_free(sc);
				break;
			}
			iam_err("rdma: the RDMA device of the listener went "
				"away; RDMA service stops");
			iam_loop_del(loop, fd);
			return;
		default:
			iam_trace("rdma: listener event %s (status %d)",
				  rdma_event_str(type), status);
			break;
		}
	}
	if (errno != EAGAIN)
		iam_warn("rdma: rdma_get_cm_event: %s", strerror(errno));
}

int iam_rdma_server_create(struct iam_loop *loop, const struct in6_addr *addr,
			   uint16_t port, struct iam_rdma_server **out)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	struct iam_rdma_server *s;
	struct ibv_device_attr attr;
	char a[INET6_ADDRSTRLEN];
	const char *step;
	int fl, err;

	if (!loop || !addr || !port || !out)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	pthread_mutex_init(&s->lock, NULL);
	sa.sin6_addr = *addr;
	sa.sin6_port = htons(port);

	step = "rdma_create_event_channel";
	s->ech = rdma_create_event_channel();
	if (!s->ech) {
		err = -errno;
		goto err;
	}
	fl = fcntl(s->ech->fd, F_GETFL);
	if (fl < 0 || fcntl(s->ech->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		err = -errno;
		goto err;
	}
	step = "rdma_create_id";
	if (rdma_create_id(s->ech, &s->listen, s, RDMA_PS_TCP)) {
		err = -errno;
		s->listen = NULL;
		goto err;
	}
	/* The RoCE GID of an address appears shortly after the address
	 * (the kernel adds it from a work queue), and binding needs it:
	 * ENODEV for a while after the agent added its address. */
	step = "binding (no RDMA device owns the address?)";
	for (uint64_t end = iam_now_ms() + IAM_RDMA_GID_WAIT_MS;;) {
		if (!rdma_bind_addr(s->listen, (struct sockaddr *)&sa))
			break;
		err = -errno;
		if (err != -ENODEV || iam_now_ms() >= end)
			goto err;
		usleep(10000);
	}
	if (!s->listen->verbs) {
		err = -ENODEV;
		goto err;
	}
	step = "querying the device";
	err = -ibv_query_device(s->listen->verbs, &attr);
	if (err)
		goto err;
	s->max_resp = attr.max_qp_rd_atom > 255 ? 255 :
		      attr.max_qp_rd_atom < 1	? 1 :
						  (uint8_t)attr.max_qp_rd_atom;
	step = "ibv_alloc_pd";
	s->pd = ibv_alloc_pd(s->listen->verbs);
	if (!s->pd) {
		err = -errno;
		goto err;
	}
	step = "ibv_create_cq";
	s->cq = ibv_create_cq(s->listen->verbs, 16, NULL, NULL, 0);
	if (!s->cq) {
		err = -errno;
		goto err;
	}
	step = "rdma_listen";
	if (rdma_listen(s->listen, 64)) {
		err = -errno;
		goto err;
	}
	step = "adding the CM channel to the loop";
	err = iam_loop_add(loop, s->ech->fd, EPOLLIN, srv_cm_cb, s);
	if (err)
		goto err;
	iam_info("rdma: listening on [%s]:%u (%s)",
		 peer_str(addr, a, sizeof(a)), port,
		 ibv_get_device_name(s->listen->verbs->device));
	*out = s;
	return 0;

err:
	iam_warn("rdma: no RDMA service on [%s]:%u: %s: %s",
		 peer_str(addr, a, sizeof(a)), port, step, strerror(-err));
	if (s->cq)
		ibv_destroy_cq(s->cq);
	if (s->pd)
		ibv_dealloc_pd(s->pd);
	if (s->listen)
		rdma_destroy_id(s->listen);
	if (s->ech)
		rdma_destroy_event_channel(s->ech);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return err;
}

void iam_rdma_server_destroy(struct iam_rdma_server *s)
{
	int err;

	if (!s)
		return;
	iam_loop_del(s->loop, s->ech->fd);
	while (s->conns) {
		rdma_disconnect(s->conns->id);
		sconn_free(s->conns);
	}
	rdma_destroy_id(s->listen);
	ibv_destroy_cq(s->cq);
	if (s->nmrs)
		iam_err("rdma: %u memory regions still registered at "
			"shutdown; leaking them",
			s->nmrs);
	else if ((err = ibv_dealloc_pd(s->pd)))
		iam_err("rdma: ibv_dealloc_pd: %s", strerror(err));
	rdma_destroy_event_channel(s->ech);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static bool quarantined(const struct iam_rdma_server *s, uint32_t rkey)
{
	for (unsigned int i = 0; i < s->nq; i++)
		if (s->quarantine[i] == rkey)
			return true;
	return false;
}

int iam_rdma_server_reg(struct iam_rdma_server *s, void *addr, size_t len,
			uint8_t rights, struct iam_rdma_mr **out,
			uint32_t *rkey)
{
	/* LOCAL_WRITE even for read-only allocations: without it the pages
	 * are pinned for reading only, and a page still backed by the
	 * shared zero page would stay pinned there after the lender writes
	 * it.  It grants nothing remotely (IB spec. vol. 1, 10.6.3.1). */
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ;
	struct ibv_mr *held[8], *mr = NULL;
	struct iam_rdma_mr *m;
	int nheld = 0, err = 0;

	if (!s || !addr || !len || !out || !rkey)
		return -EINVAL;
	if (rights == IAM_RIGHTS_RW)
		access |= IBV_ACCESS_REMOTE_WRITE;
	else if (rights != IAM_RIGHTS_RO)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	/* A region whose rkey was handed out before and released would let
	 * a borrower that kept the old rkey in; hold such a region (so the
	 * next one gets another index) and try again. */
	pthread_mutex_lock(&s->lock);
	for (;;) {
		mr = ibv_reg_mr(s->pd, addr, len, access);
		if (!mr) {
			err = -errno;
			break;
		}
		if (!quarantined(s, mr->rkey))
			break;
		if (nheld == (int)(sizeof(held) / sizeof(held[0]))) {
			ibv_dereg_mr(mr);
			mr = NULL;
			err = -EAGAIN;
			break;
		}
		held[nheld++] = mr;
	}
	if (mr)
		s->nmrs++;
	pthread_mutex_unlock(&s->lock);
	while (nheld > 0)
		ibv_dereg_mr(held[--nheld]);
	if (!mr) {
		iam_warn("rdma: registering %zu bytes at %p: %s", len, addr,
			 strerror(-err));
		free(m);
		return err;
	}
	m->s = s;
	m->mr = mr;
	*rkey = mr->rkey;
	*out = m;
	return 0;
}

void iam_rdma_server_dereg(struct iam_rdma_mr *m)
{
	struct iam_rdma_server *s;
	uint32_t rkey;
	int err;

	if (!m)
		return;
	s = m->s;
	rkey = m->mr->rkey;
	err = ibv_dereg_mr(m->mr);
	if (err) {
		/* The rkey may still be live: keep it out of reuse anyway,
		 * and say so, since release did not revoke access. */
		iam_err("rdma: ibv_dereg_mr of rkey %#x: %s", rkey,
			strerror(err));
	}
	pthread_mutex_lock(&s->lock);
	s->quarantine[s->qnext] = rkey;
	s->qnext = (s->qnext + 1) % IAM_RDMA_RKEY_QUARANTINE;
	if (s->nq < IAM_RDMA_RKEY_QUARANTINE)
		s->nq++;
	if (!err)
		s->nmrs--;
	pthread_mutex_unlock(&s->lock);
	free(m);
}

int iam_rdma_server_disconnect(struct iam_rdma_server *s,
			       const struct in6_addr *peer)
{
	int n = 0;

	for (struct rdma_sconn *sc = s->conns; sc; sc = sc->next) {
		if (memcmp(&sc->peer, peer, sizeof(*peer)) || !sc->established)
			continue;
		/* The DISCONNECTED event that follows frees it. */
		sc->established = false;
		rdma_disconnect(sc->id);
		n++;
	}
	return n;
}

unsigned int iam_rdma_server_conn_count(const struct iam_rdma_server *s)
{
	unsigned int n = 0;

	for (const struct rdma_sconn *sc = s->conns; sc; sc = sc->next)
		n += sc->established;
	return n;
}

unsigned int iam_rdma_server_region_count(struct iam_rdma_server *s)
{
	unsigned int n;

	pthread_mutex_lock(&s->lock);
	n = s->nmrs;
	pthread_mutex_unlock(&s->lock);
	return n;
}
