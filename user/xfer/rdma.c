// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * rdma.c - the borrower side of the RDMA transport (see rdma.h): one RC
 * queue pair to a lender, RDMA READ into and RDMA WRITE from a registered
 * staging buffer, completions by a short poll burst and then the
 * completion channel.  Also the "has this netdev RDMA" check.
 *
 * One work request is outstanding at a time (the fault thread waits for
 * each), so the completion queue never holds more than a stale completion
 * or two, and wr_id (a sequence number) tells the current one apart.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "log.h"
#include "xfer/rdma.h"

struct iam_rdma_conn {
	struct iam_xfer_conn base; /* first: the generic handle */
	struct sockaddr_in6 src; /* borrower address (port 0) */
	struct sockaddr_in6 dst; /* lender listener */
	bool has_src; /* bind to src, else routing picks */
	bool broken; /* QP unusable until repaired */
	uint32_t spin_us; /* completion poll burst */
	uint64_t wr_seq; /* wr_id of the last posted work request */
	struct rdma_event_channel *ech; /* CM events of id, non-blocking */
	struct rdma_cm_id *id; /* NULL while broken and torn down */
	/* Device resources: kept across repairs while the device is the same. */
	struct ibv_context *verbs; /* device they belong to */
	struct ibv_pd *pd;
	struct ibv_comp_channel *cch; /* non-blocking */
	struct ibv_cq *cq;
	void *buf; /* 2 x max_io: read half, then write half */
	size_t buf_len; /* mapped length (page multiple) */
	struct ibv_mr *mr; /* local access to buf */
	uint32_t initiator_depth; /* RDMA READs in flight we ask for */
	enum rdma_cm_event_type last_ev; /* the unexpected CM event, for logs */
	int last_status; /* and its status */
	bool last_set; /* last_ev is this attempt's */
};

static struct iam_rdma_conn *to_rconn(struct iam_xfer_conn *c)
{
	return (struct iam_rdma_conn *)c;
}

static const char *in6_str(const struct in6_addr *a, char *buf, size_t len)
{
	return inet_ntop(AF_INET6, a, buf, len) ? buf : "?";
}

/* ---- netdev check -------------------------------------------------------- */

static bool dev_has_ifindex(struct ibv_device *dev, unsigned int ifindex)
{
	struct ibv_gid_entry *ents = NULL;
	struct ibv_device_attr attr;
	struct ibv_context *ctx;
	struct ibv_port_attr pa;
	bool found = false;
	size_t max = 0;
	ssize_t n;

	ctx = ibv_open_device(dev);
	if (!ctx)
		return false;
	if (ibv_query_device(ctx, &attr))
		goto out;
	for (uint8_t p = 1; p <= attr.phys_port_cnt; p++)
		if (!ibv_query_port(ctx, p, &pa) && pa.gid_tbl_len > 0)
			max += (size_t)pa.gid_tbl_len;
	if (!max)
		goto out;
	ents = calloc(max, sizeof(*ents));
	if (!ents)
		goto out;
	n = ibv_query_gid_table(ctx, ents, max, 0);
	for (ssize_t i = 0; i < n && !found; i++)
		found = ents[i].ndev_ifindex == ifindex;
out:
	free(ents);
	ibv_close_device(ctx);
	return found;
}

bool iam_rdma_netdev_has_rdma(const char *ifname)
{
	struct ibv_device **list;
	unsigned int ifindex;
	bool found = false;
	int n = 0;

	ifindex = ifname ? if_nametoindex(ifname) : 0;
	if (!ifindex)
		return false;
	list = ibv_get_device_list(&n);
	if (!list)
		return false;
	for (int i = 0; i < n && !found; i++)
		found = dev_has_ifindex(list[i], ifindex);
	ibv_free_device_list(list);
	return found;
}

/* ---- connection setup ---------------------------------------------------- */

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* The errno a CM event other than the awaited one stands for.  For the
 * *_ERROR events and UNREACHABLE the kernel puts a negative errno in
 * status; REJECTED carries a CM reject reason instead (IB spec. vol. 1,
 * 12.6.7.2: 8 = invalid service id, i.e. nobody listens). */
static int cm_event_err(enum rdma_cm_event_type type, int status)
{
	bool neg = status < 0 && status > -4096;

	switch (type) {
	case RDMA_CM_EVENT_ADDR_ERROR:
		return neg ? status : -EADDRNOTAVAIL;
	case RDMA_CM_EVENT_ROUTE_ERROR:
		return neg ? status : -ENETUNREACH;
	case RDMA_CM_EVENT_CONNECT_ERROR:
		return neg ? status : -ECONNABORTED;
	case RDMA_CM_EVENT_UNREACHABLE:
		return neg ? status : -EHOSTUNREACH;
	case RDMA_CM_EVENT_REJECTED:
		return -ECONNREFUSED;
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		return -ENODEV;
	case RDMA_CM_EVENT_DISCONNECTED:
		return -ECONNRESET;
	default:
		return -EPROTO;
	}
}

/* Wait for event want on c->id until deadline_ms (CLOCK_MONOTONIC).
 * Events of ids torn down by an earlier repair are dropped. */
static int conn_wait_cm(struct iam_rdma_conn *c, enum rdma_cm_event_type want,
			uint64_t deadline_ms)
{
	struct rdma_cm_event *ev;
	enum rdma_cm_event_type type;
	struct rdma_cm_id *id;
	int status, err;

	for (;;) {
		if (!rdma_get_cm_event(c->ech, &ev)) {
			type = ev->event;
			status = ev->status;
			id = ev->id;
			rdma_ack_cm_event(ev);
			if (id != c->id)
				continue;
			if (type == want)
				return 0;
			c->last_ev = type;
			c->last_status = status;
			c->last_set = true;
			return cm_event_err(type, status);
		}
		err = -errno;
		if (err != -EAGAIN)
			return err;

		uint64_t now = iam_now_ms();
		struct pollfd pfd = { .fd = c->ech->fd, .events = POLLIN };

		if (now >= deadline_ms)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)(deadline_ms - now)) < 0 &&
		    errno != EINTR)
			return -errno;
	}
}

static void conn_free_dev(struct iam_rdma_conn *c)
{
	struct ibv_cq *cq;
	void *ctx;

	if (c->mr)
		ibv_dereg_mr(c->mr);
	c->mr = NULL;
	if (c->cq) {
		/* Events got but not acked would make destroy_cq hang. */
		while (c->cch && !ibv_get_cq_event(c->cch, &cq, &ctx))
			ibv_ack_cq_events(cq, 1);
		ibv_destroy_cq(c->cq);
	}
	c->cq = NULL;
	if (c->cch)
		ibv_destroy_comp_channel(c->cch);
	c->cch = NULL;
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	c->pd = NULL;
	c->verbs = NULL;
}

/* PD, CQ, completion channel and the staging MR on the device id resolved
 * to (usually the same one as before a repair; then nothing is done). */
static int conn_setup_dev(struct iam_rdma_conn *c, struct rdma_cm_id *id)
{
	struct ibv_context *verbs = id->verbs;
	struct ibv_device_attr attr;
	struct ibv_port_attr pa;
	int err;

	if (c->verbs == verbs)
		return 0;
	conn_free_dev(c);
	err = ibv_query_device(verbs, &attr);
	if (!err)
		err = ibv_query_port(verbs, id->port_num, &pa);
	if (err)
		return -err;
	if (c->base.max_io > pa.max_msg_sz || c->buf_len > attr.max_mr_size) {
		iam_err("rdma: max_io %u is above what %s takes (message %u, "
			"region %" PRIu64 " bytes)",
			c->base.max_io, ibv_get_device_name(verbs->device),
			pa.max_msg_sz, (uint64_t)attr.max_mr_size);
		return -EINVAL;
	}
	c->initiator_depth = attr.max_qp_init_rd_atom > 0 ?
				     (uint32_t)attr.max_qp_init_rd_atom :
				     1;
	if (c->initiator_depth > 4)
		c->initiator_depth = 4;
	c->pd = ibv_alloc_pd(verbs);
	if (!c->pd) {
		err = -errno;
		goto err_free;
	}
	c->cch = ibv_create_comp_channel(verbs);
	if (!c->cch) {
		err = -errno;
		goto err_free;
	}
	err = set_nonblock(c->cch->fd);
	if (err)
		goto err_free;
	c->cq = ibv_create_cq(verbs, 4, c, c->cch, 0);
	if (!c->cq) {
		err = -errno;
		goto err_free;
	}
	c->mr = ibv_reg_mr(c->pd, c->buf, c->buf_len, IBV_ACCESS_LOCAL_WRITE);
	if (!c->mr) {
		err = -errno;
		goto err_free;
	}
	c->verbs = verbs;
	return 0;

err_free:
	conn_free_dev(c);
	return err ? err : -ENOMEM;
}

/* Disconnect and drop the QP and id; the device resources stay. */
static void conn_teardown_qp(struct iam_rdma_conn *c)
{
	if (!c->id)
		return;
	if (c->id->qp) {
		rdma_disconnect(c->id);
		rdma_destroy_qp(c->id);
	}
	rdma_destroy_id(c->id);
	c->id = NULL;
}

/*
 * A new id, resolved to a local device and the lender's link address.
 *
 * The kernel resolves the neighbour and retries when a netevent says it
 * became valid; an answer that comes back before the request is queued
 * (a fast link) is missed, and the request then sits until its timeout.
 * So resolve in short slices, doubling, each with a fresh id: a retry
 * finds the neighbour already valid.
 */
static int conn_resolve_addr(struct iam_rdma_conn *c, uint64_t deadline)
{
	uint8_t ack_timeout = IAM_RDMA_ACK_TIMEOUT;
	uint64_t slice = 100, now;
	int err;

	for (;;) {
		now = iam_now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		if (slice > deadline - now)
			slice = deadline - now;
		if (rdma_create_id(c->ech, &c->id, c, RDMA_PS_TCP)) {
			err = -errno;
			c->id = NULL;
			return err;
		}
		/* Give up on a dead lender after ~1 s of RC retries rather
		 * than the CM default's several seconds; older kernels lack
		 * the option, which is fine. */
		if (rdma_set_option(c->id, RDMA_OPTION_ID,
				    RDMA_OPTION_ID_ACK_TIMEOUT, &ack_timeout,
				    sizeof(ack_timeout)))
			iam_dbg("rdma: ACK_TIMEOUT option: %s",
				strerror(errno));
		if (rdma_resolve_addr(c->id,
				      c->has_src ? (struct sockaddr *)&c->src :
						   NULL,
				      (struct sockaddr *)&c->dst, (int)slice))
			err = -errno;
		else
			err = conn_wait_cm(c, RDMA_CM_EVENT_ADDR_RESOLVED,
					   now + slice + 200 < deadline ?
						   now + slice + 200 :
						   deadline);
		if (err == -ENODEV) {
			/* Our address's GID is not there yet (see
			 * IAM_RDMA_GID_WAIT_MS), or there is no device. */
			usleep(10000);
		} else if (err == -ETIMEDOUT) {
			slice *= 2;
		} else {
			return err;
		}
		conn_teardown_qp(c);
	}
}

/* A new id and QP, connected to c->dst. */
static int conn_establish(struct iam_rdma_conn *c, int timeout_ms)
{
	uint64_t deadline = iam_now_ms() + (uint64_t)timeout_ms;
	struct rdma_conn_param cp = { 0 };
	struct ibv_qp_init_attr qa = { 0 };
	char a[INET6_ADDRSTRLEN], ev[64] = "";
	const char *step;
	int err;

	c->last_set = false;
	step = "resolving the address";
	err = conn_resolve_addr(c, deadline);
	if (err)
		goto err;
	step = "resolving the route";
	if (rdma_resolve_route(c->id, timeout_ms)) {
		err = -errno;
		goto err;
	}
	err = conn_wait_cm(c, RDMA_CM_EVENT_ROUTE_RESOLVED, deadline);
	if (err)
		goto err;
	step = "setting up the device";
	err = conn_setup_dev(c, c->id);
	if (err)
		goto err;
	step = "creating the queue pair";
	qa.send_cq = c->cq;
	qa.recv_cq = c->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.sq_sig_all = 1;
	qa.cap.max_send_wr = 2;
	qa.cap.max_recv_wr = 1;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(c->id, c->pd, &qa)) {
		err = -errno;
		goto err;
	}
	step = "connecting";
	cp.initiator_depth = (uint8_t)c->initiator_depth;
	cp.responder_resources = 0;
	/* Not 7: rdma_rxe never counts a retry_cnt of 7 down (rxe_comp.c
	 * treats it like an RNR retry count of 7, "forever"), so a request
	 * the lender's XDP program drops would hang until the backstop. */
	cp.retry_count = IAM_RDMA_RETRY_COUNT;
	cp.rnr_retry_count = 7;
	if (rdma_connect(c->id, &cp)) {
		err = -errno;
		goto err;
	}
	err = conn_wait_cm(c, RDMA_CM_EVENT_ESTABLISHED, deadline);
	if (err)
		goto err;
	c->broken = false;
	return 0;

err:
	if (c->last_set)
		snprintf(ev, sizeof(ev), " (%s, status %d)",
			 rdma_event_str(c->last_ev), c->last_status);
	iam_warn("rdma: connecting to [%s]:%u failed while %s: %s%s",
		 in6_str(&c->dst.sin6_addr, a, sizeof(a)),
		 ntohs(c->dst.sin6_port), step, strerror(-err), ev);
	conn_teardown_qp(c);
	c->broken = true;
	return err;
}

static void rdma_close(struct iam_xfer_conn *xc)
{
	struct iam_rdma_conn *c = to_rconn(xc);

	if (!c)
		return;
	conn_teardown_qp(c);
	conn_free_dev(c);
	if (c->ech)
		rdma_destroy_event_channel(c->ech);
	if (c->buf)
		munmap(c->buf, c->buf_len);
	free(c);
}

int iam_rdma_connect(const struct in6_addr *local,
		     const struct in6_addr *lender, uint16_t port,
		     uint32_t max_io, int timeout_ms,
		     struct iam_xfer_conn **out)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct iam_rdma_conn *c;
	int err;

	if (!lender || !out || !port || max_io == 0 ||
	    max_io > IAM_RDMA_MAX_IO || timeout_ms <= 0)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->base.ops = &iam_rdma_ops;
	c->base.max_io = max_io;
	c->base.lender = *lender;
	c->spin_us = IAM_RDMA_SPIN_US_DEFAULT;
	c->dst.sin6_family = AF_INET6;
	c->dst.sin6_addr = *lender;
	c->dst.sin6_port = htons(port);
	if (local) {
		c->has_src = true;
		c->src.sin6_family = AF_INET6;
		c->src.sin6_addr = *local;
	}
	c->buf_len = ((size_t)max_io * 2 + (size_t)pg - 1) & ~((size_t)pg - 1);
	c->buf = mmap(NULL, c->buf_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (c->buf == MAP_FAILED) {
		err = -errno;
		c->buf = NULL;
		goto err;
	}
	c->ech = rdma_create_event_channel();
	if (!c->ech) {
		err = -errno;
		goto err;
	}
	err = set_nonblock(c->ech->fd);
	if (err)
		goto err;
	err = conn_establish(c, timeout_ms);
	if (err)
		goto err;
	*out = &c->base;
	return 0;

err:
	rdma_close(&c->base);
	return err;
}

bool iam_rdma_conn_broken(const struct iam_xfer_conn *xc)
{
	return xc && xc->ops == &iam_rdma_ops &&
	       ((const struct iam_rdma_conn *)xc)->broken;
}

int iam_rdma_conn_repair(struct iam_xfer_conn *xc, int timeout_ms)
{
	struct iam_rdma_conn *c = to_rconn(xc);

	if (!xc || xc->ops != &iam_rdma_ops || timeout_ms <= 0)
		return -EINVAL;
	if (!c->broken)
		return 0;
	conn_teardown_qp(c);
	return conn_establish(c, timeout_ms);
}

void iam_rdma_conn_set_spin(struct iam_xfer_conn *xc, uint32_t spin_us)
{
	if (xc && xc->ops == &iam_rdma_ops)
		to_rconn(xc)->spin_us = spin_us;
}

/* ---- data path ----------------------------------------------------------- */

/* Mark c broken; the QP stays until repair so that no completion can land
 * in the staging buffer while a caller reads it. */
static int conn_break(struct iam_rdma_conn *c, int err, const char *why)
{
	char a[INET6_ADDRSTRLEN];

	if (!c->broken)
		iam_warn("rdma: connection to [%s] broken: %s",
			 in6_str(&c->base.lender, a, sizeof(a)), why);
	c->broken = true;
	return err;
}

/* Drain CM events of the connected id: a DISCONNECTED (the lender closed
 * or dropped us) or DEVICE_REMOVAL breaks the connection. */
static int conn_check_cm(struct iam_rdma_conn *c)
{
	struct rdma_cm_event *ev;
	enum rdma_cm_event_type type;
	struct rdma_cm_id *id;

	while (!rdma_get_cm_event(c->ech, &ev)) {
		type = ev->event;
		id = ev->id;
		rdma_ack_cm_event(ev);
		if (id == c->id && (type == RDMA_CM_EVENT_DISCONNECTED ||
				    type == RDMA_CM_EVENT_DEVICE_REMOVAL))
			return conn_break(c, -ECONNRESET, rdma_event_str(type));
	}
	return 0;
}

static int wc_err(struct iam_rdma_conn *c, const struct ibv_wc *wc)
{
	if (wc->status == IBV_WC_SUCCESS)
		return 0;
	return conn_break(
		c, wc->status == IBV_WC_REM_ACCESS_ERR ? -EACCES : -ECONNRESET,
		ibv_wc_status_str(wc->status));
}

/*
 * Wait for the completion of work request wr_id: poll the CQ for spin_us,
 * then arm it and sleep on the completion channel (and the CM channel, to
 * notice a disconnect), so that a connection never spins while idle.
 */
static int conn_wait(struct iam_rdma_conn *c, uint64_t wr_id)
{
	uint64_t start = iam_now_ns();
	uint64_t spin_end = start + (uint64_t)c->spin_us * 1000u;
	uint64_t deadline = start / 1000000u + IAM_RDMA_IO_BACKSTOP_MS;
	struct pollfd pfd[2];
	struct ibv_wc wc;
	struct ibv_cq *ev_cq;
	void *ev_ctx;
	int n, err;

	for (unsigned int i = 1;; i++) {
		n = ibv_poll_cq(c->cq, 1, &wc);
		if (n < 0)
			return conn_break(c, -ECONNRESET, "ibv_poll_cq failed");
		if (n > 0) {
			if (wc.wr_id == wr_id)
				return wc_err(c, &wc);
			continue; /* stale: an earlier request's */
		}
		/* The clock costs more than a poll on some hosts (HPET). */
		if (i % 8 == 0 && iam_now_ns() >= spin_end)
			break;
	}
	for (;;) {
		/* Arm, then look again: a completion that came between the
		 * last poll and the arm raises no event. */
		if (ibv_req_notify_cq(c->cq, 0))
			return conn_break(c, -ECONNRESET,
					  "ibv_req_notify_cq failed");
		while ((n = ibv_poll_cq(c->cq, 1, &wc)) > 0)
			if (wc.wr_id == wr_id)
				return wc_err(c, &wc);
		if (n < 0)
			return conn_break(c, -ECONNRESET, "ibv_poll_cq failed");

		uint64_t now = iam_now_ms();

		if (now >= deadline)
			return conn_break(c, -ETIMEDOUT, "no completion");
		pfd[0] = (struct pollfd){ .fd = c->cch->fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = c->ech->fd, .events = POLLIN };
		n = poll(pfd, 2, (int)(deadline - now));
		if (n < 0 && errno != EINTR)
			return conn_break(c, -ECONNRESET, "poll failed");
		if (n <= 0)
			continue;
		while (!ibv_get_cq_event(c->cch, &ev_cq, &ev_ctx))
			ibv_ack_cq_events(ev_cq, 1);
		if (pfd[1].revents) {
			err = conn_check_cm(c);
			if (err)
				return err;
		}
	}
}

static int conn_post(struct iam_rdma_conn *c, enum ibv_wr_opcode op,
		     const struct iam_xfer_target *t, uint32_t off,
		     uint32_t len, void *local)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)local,
		.length = len,
		.lkey = c->mr->lkey,
	};
	struct ibv_send_wr wr = { 0 }, *bad;
	uint64_t raddr = t->remote_addr + off;
	int err;

	if (len == 0 || len > c->base.max_io || raddr < t->remote_addr ||
	    raddr + len < raddr)
		return -EINVAL;
	if (c->broken)
		return -ECONNRESET;
	wr.wr_id = ++c->wr_seq;
	wr.opcode = op;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = raddr;
	wr.wr.rdma.rkey = t->rkey;
	err = ibv_post_send(c->id->qp, &wr, &bad);
	if (err) /* returns the errno itself, errno is not set */
		return conn_break(c, -ECONNRESET, strerror(err));
	return conn_wait(c, wr.wr_id);
}

static int rdma_read(struct iam_xfer_conn *xc, const struct iam_xfer_target *t,
		     uint32_t off, uint32_t len, const void **data)
{
	struct iam_rdma_conn *c = to_rconn(xc);
	int err;

	err = conn_post(c, IBV_WR_RDMA_READ, t, off, len, c->buf);
	if (!err)
		*data = c->buf;
	return err;
}

static void *rdma_write_buf(struct iam_xfer_conn *xc)
{
	struct iam_rdma_conn *c = to_rconn(xc);

	return (char *)c->buf + c->base.max_io;
}

static int rdma_write(struct iam_xfer_conn *xc, const struct iam_xfer_target *t,
		      uint32_t off, uint32_t len)
{
	struct iam_rdma_conn *c = to_rconn(xc);

	return conn_post(c, IBV_WR_RDMA_WRITE, t, off, len,
			 (char *)c->buf + c->base.max_io);
}

const struct iam_xfer_ops iam_rdma_ops = {
	.name = "rdma",
	.kind = IAM_XFER_RDMA,
	.read = rdma_read,
	.write_buf = rdma_write_buf,
	.write = rdma_write,
	.close = rdma_close,
	.recover = iam_rdma_conn_repair,
};
