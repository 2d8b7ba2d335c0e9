// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * addr_nl.c - the kernel side of the Address Manager: IPv6 routes and
 * addresses through rtnetlink (rtnetlink(7)), with libmnl.
 *
 * Requests ask for an acknowledgement (NLM_F_ACK) on a socket with
 * NETLINK_CAP_ACK (the kernel does not echo our request back in errors) and
 * NETLINK_EXT_ACK (errors carry a text, NLMSGERR_ATTR_MSG), as iproute2's
 * lib/mnl_utils.c does.  Replies are outside bytes: every message and
 * attribute is length-checked before use (iam_nl_parse_reply()).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "iam_addr.h"
#include "log.h"

/* Large enough for the kernel's dump batches (libmnl's
 * MNL_SOCKET_DUMP_SIZE in newer releases). */
#define NL_BUF_SIZE 32768
/* The kernel answers route requests at once; a reply this late means the
 * socket is broken, not that the kernel is busy. */
#define NL_TIMEOUT_S 5

struct iam_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char buf[NL_BUF_SIZE];
};

static void ext_set(char *ext, size_t extlen, const char *s, size_t n)
{
	if (!ext || !extlen)
		return;
	if (n >= extlen)
		n = extlen - 1;
	memcpy(ext, s, n);
	ext[n] = '\0';
}

int iam_nl_open(struct iam_nl **out)
{
	struct timeval tv = { .tv_sec = NL_TIMEOUT_S };
	struct iam_nl *nl;
	int one = 1, err;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock) {
		err = -errno;
		goto err_free;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto err_close;
	}
	/* Both exist since Linux 4.12; without them errors have no text. */
	if (mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one,
				  sizeof(one)) < 0 ||
	    mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one,
				  sizeof(one)) < 0) {
		err = -errno;
		if (err != -ENOPROTOOPT)
			goto err_close;
		iam_warn("netlink: no extended acks on this kernel; route "
			 "errors will carry no text");
	}
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO,
		       &tv, sizeof(tv)) < 0) {
		err = -errno;
		goto err_close;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	*out = nl;
	return 0;

err_close:
	mnl_socket_close(nl->sock);
err_free:
	free(nl);
	return err;
}

void iam_nl_close(struct iam_nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

/* ---- reply parsing (outside bytes) ------------------------------------ */

/*
 * Walk the attributes in [p, p + len).  Every attribute must have a valid
 * header and fit; only the padding of the last one may run past the end.
 * cb returns 0 or -EBADMSG.
 */
static int attr_walk(const void *p, size_t len,
		     int (*cb)(const struct nlattr *a, void *data), void *data)
{
	const struct nlattr *a = p;

	while (len) {
		size_t step;
		int err;

		if (len < sizeof(*a) || a->nla_len < sizeof(*a) ||
		    a->nla_len > len)
			return -EBADMSG;
		err = cb(a, data);
		if (err)
			return err;
		step = MNL_ALIGN(a->nla_len);
		if (step >= len)
			break;
		len -= step;
		a = (const struct nlattr *)((const char *)a + step);
	}
	return 0;
}

struct ext_data {
	char *ext;
	size_t extlen;
};

static int ext_attr(const struct nlattr *a, void *data)
{
	struct ext_data *d = data;
	const char *s = mnl_attr_get_payload(a);
	uint16_t n = mnl_attr_get_payload_len(a);

	if (mnl_attr_get_type(a) != NLMSGERR_ATTR_MSG)
		return 0;
	/* A string attribute carries its NUL (NLA_NUL_STRING). */
	if (!n || s[n - 1] != '\0')
		return -EBADMSG;
	ext_set(d->ext, d->extlen, s, strnlen(s, n));
	return 0;
}

/* NLMSG_ERROR: struct nlmsgerr, the request (unless capped), then TLVs. */
static int parse_error(const struct nlmsghdr *nlh, char *ext, size_t extlen)
{
	size_t plen = mnl_nlmsg_get_payload_len(nlh), off;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct ext_data d = { ext, extlen };
	int err;

	if (plen < sizeof(*e))
		return -EBADMSG;
	/* The kernel sends 0 or a negative errno (netlink(7)). */
	if (e->error > 0 || e->error < -4095)
		return -EBADMSG;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
			if (e->msg.nlmsg_len < sizeof(struct nlmsghdr))
				return -EBADMSG;
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
			/* The TLVs start aligned, as libmnl and iproute2
			 * read them. */
			off = MNL_ALIGN(off);
		}
		if (off > plen)
			return -EBADMSG;
		err = attr_walk((const char *)e + off, plen - off, ext_attr,
				&d);
		if (err)
			return err;
	}
	return e->error;
}

/* NLMSG_DONE of a dump: an int error, then TLVs with NLM_F_ACK_TLVS. */
static int parse_done(const struct nlmsghdr *nlh, char *ext, size_t extlen)
{
	size_t plen = mnl_nlmsg_get_payload_len(nlh);
	const char *p = mnl_nlmsg_get_payload(nlh);
	struct ext_data d = { ext, extlen };
	int32_t err;
	int r;

	/* Very old kernels sent an empty NLMSG_DONE. */
	if (plen == 0)
		return 0;
	if (plen < sizeof(err))
		return -EBADMSG;
	memcpy(&err, p, sizeof(err));
	if (err > 0 || err < -4095)
		return -EBADMSG;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		r = attr_walk(p + sizeof(err), plen - sizeof(err), ext_attr,
			      &d);
		if (r)
			return r;
	}
	return err;
}

static int route_attr(const struct nlattr *a, void *data)
{
	struct iam_nl_route *r = data;
	uint16_t n = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case RTA_DST:
		if (n != sizeof(r->dst.addr))
			return -EBADMSG;
		memcpy(&r->dst.addr, mnl_attr_get_payload(a), n);
		break;
	case RTA_GATEWAY:
		if (n != sizeof(r->via))
			return -EBADMSG;
		memcpy(&r->via, mnl_attr_get_payload(a), n);
		break;
	case RTA_OIF:
		if (n != sizeof(uint32_t))
			return -EBADMSG;
		r->ifindex = mnl_attr_get_u32(a);
		break;
	case RTA_TABLE:
		if (n != sizeof(uint32_t))
			return -EBADMSG;
		r->table = mnl_attr_get_u32(a);
		break;
	case RTA_PRIORITY:
		if (n != sizeof(uint32_t))
			return -EBADMSG;
		r->metric = mnl_attr_get_u32(a);
		break;
	default:
		/* Other attributes (RTA_PREF, RTA_CACHEINFO, ...) are not
		 * read, so they need no check. */
		break;
	}
	return 0;
}

/* RTM_NEWROUTE -> r.  -EBADMSG if malformed; -EAFNOSUPPORT if not IPv6. */
static int parse_route(const struct nlmsghdr *nlh, struct iam_nl_route *r)
{
	size_t plen = mnl_nlmsg_get_payload_len(nlh);
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	int err;

	if (plen < sizeof(*rtm))
		return -EBADMSG;
	if (rtm->rtm_family != AF_INET6)
		return -EAFNOSUPPORT;
	if (rtm->rtm_dst_len > 128)
		return -EBADMSG;
	memset(r, 0, sizeof(*r));
	r->dst.len = rtm->rtm_dst_len;
	r->table = rtm->rtm_table;
	r->type = rtm->rtm_type;
	r->protocol = rtm->rtm_protocol;
	err = attr_walk((const char *)rtm + MNL_ALIGN(sizeof(*rtm)),
			plen > MNL_ALIGN(sizeof(*rtm)) ?
				plen - MNL_ALIGN(sizeof(*rtm)) :
				0,
			route_attr, r);
	if (err)
		return err;
	/* The kernel keeps prefixes masked; anything else is not a route
	 * we could give back to it. */
	{
		struct iam_prefix m = r->dst;

		iam_addr_prefix_mask(&m);
		if (memcmp(&m.addr, &r->dst.addr, sizeof(m.addr)))
			return -EBADMSG;
	}
	return 0;
}

/*
 * Our own framing walk: libmnl's mnl_nlmsg_ok() compares nlmsg_len as an
 * int, so a length of 2^31 or more passes it (found by fuzz_addr).
 */
static bool msg_ok(const struct nlmsghdr *nlh, size_t rem)
{
	return rem >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= rem;
}

static const struct nlmsghdr *msg_next(const struct nlmsghdr *nlh, size_t *rem)
{
	size_t step = MNL_ALIGN((size_t)nlh->nlmsg_len);

	/* The last message may come without its padding. */
	if (step > *rem)
		step = *rem;
	*rem -= step;
	return (const struct nlmsghdr *)((const char *)nlh + step);
}

int iam_nl_parse_reply(const void *buf, size_t len, uint32_t seq,
		       uint32_t portid, iam_nl_route_cb cb, void *arg,
		       int *cb_rc, char *ext, size_t extlen)
{
	const struct nlmsghdr *nlh = buf;
	struct iam_nl_route r;
	size_t rem;
	int err;

	/* Framing first: nothing is used from a buffer that does not split
	 * exactly into messages. */
	for (rem = len; msg_ok(nlh, rem); nlh = msg_next(nlh, &rem))
		;
	if (rem)
		return -EBADMSG;
	nlh = buf;
	for (rem = len; msg_ok(nlh, rem); nlh = msg_next(nlh, &rem)) {
		/* Not ours (a late reply to an earlier request): skip. */
		if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != portid)
			continue;
		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP:
			break;
		case NLMSG_ERROR:
			return parse_error(nlh, ext, extlen);
		case NLMSG_DONE:
			return parse_done(nlh, ext, extlen);
		case NLMSG_OVERRUN:
			return -ENOBUFS;
		case RTM_NEWROUTE:
			err = parse_route(nlh, &r);
			if (err == -EAFNOSUPPORT)
				break;
			if (err)
				return err;
			if (cb && cb_rc && !*cb_rc)
				*cb_rc = cb(&r, arg);
			break;
		default:
			/* Nothing else answers our requests. */
			return -EBADMSG;
		}
	}
	return 1;
}

/* ---- requests --------------------------------------------------------- */

/* Send nlh and read the reply to the end; see iam_nl_parse_reply(). */
static int nl_talk(struct iam_nl *nl, struct nlmsghdr *nlh, iam_nl_route_cb cb,
		   void *arg, int *cb_rc, char *ext, size_t extlen)
{
	uint32_t seq = ++nl->seq;
	int err;

	ext_set(ext, extlen, "", 0);
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n =
			mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));

		if (n < 0) {
			err = -errno;
			if (err == -EINTR)
				continue;
			if (err == -EAGAIN)
				err = -ETIMEDOUT;
			return err;
		}
		err = iam_nl_parse_reply(nl->buf, (size_t)n, seq, nl->portid,
					 cb, arg, cb_rc, ext, extlen);
		if (err != 1)
			return err;
	}
}

static int prefix_ok(const struct iam_prefix *p)
{
	struct iam_prefix m;

	if (p->len > 128)
		return -EINVAL;
	m = *p;
	iam_addr_prefix_mask(&m);
	return memcmp(&m.addr, &p->addr, sizeof(m.addr)) ? -EINVAL : 0;
}

/* One route request; r->table, r->type, r->via, r->ifindex, r->metric
 * as given (zero fields are left out). */
static int route_msg(struct iam_nl *nl, uint16_t type, uint16_t flags,
		     const struct iam_nl_route *r, char *ext, size_t extlen)
{
	static const struct in6_addr any = IN6ADDR_ANY_INIT;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int err;

	err = prefix_ok(&r->dst);
	if (err)
		return err;
	nlh = mnl_nlmsg_put_header(nl->buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_dst_len = r->dst.len;
	rtm->rtm_table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = IAM_RTPROT;
	rtm->rtm_type = r->type;
	if (type == RTM_DELROUTE)
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	else if (r->type == RTN_LOCAL)
		rtm->rtm_scope = RT_SCOPE_HOST;
	else
		rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	mnl_attr_put(nlh, RTA_DST, sizeof(r->dst.addr), &r->dst.addr);
	mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	if (memcmp(&r->via, &any, sizeof(any)))
		mnl_attr_put(nlh, RTA_GATEWAY, sizeof(r->via), &r->via);
	if (r->ifindex)
		mnl_attr_put_u32(nlh, RTA_OIF, r->ifindex);
	if (r->metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	return nl_talk(nl, nlh, NULL, NULL, NULL, ext, extlen);
}

static int local_route(struct iam_nl *nl, uint16_t type, uint16_t flags,
		       const struct iam_prefix *p, uint32_t ifindex, char *ext,
		       size_t extlen)
{
	struct iam_nl_route r = {
		.dst = *p,
		.ifindex = ifindex,
		.table = RT_TABLE_LOCAL,
		.type = RTN_LOCAL,
	};

	return route_msg(nl, type, flags, &r, ext, extlen);
}

int iam_nl_local_add(struct iam_nl *nl, const struct iam_prefix *p,
		     uint32_t ifindex, char *ext, size_t extlen)
{
	return local_route(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, p,
			   ifindex, ext, extlen);
}

int iam_nl_local_del(struct iam_nl *nl, const struct iam_prefix *p,
		     uint32_t ifindex, char *ext, size_t extlen)
{
	return local_route(nl, RTM_DELROUTE, 0, p, ifindex, ext, extlen);
}

static int unicast_route(struct iam_nl *nl, uint16_t type, uint16_t flags,
			 const struct iam_prefix *p, const struct in6_addr *via,
			 uint32_t ifindex, char *ext, size_t extlen)
{
	struct iam_nl_route r = {
		.dst = *p,
		.ifindex = ifindex,
		.table = RT_TABLE_MAIN,
		.type = RTN_UNICAST,
	};

	if (via)
		r.via = *via;
	return route_msg(nl, type, flags, &r, ext, extlen);
}

int iam_nl_route_add(struct iam_nl *nl, const struct iam_prefix *p,
		     const struct in6_addr *via, uint32_t ifindex, char *ext,
		     size_t extlen)
{
	if (!via)
		return -EINVAL;
	return unicast_route(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, p,
			     via, ifindex, ext, extlen);
}

int iam_nl_route_replace(struct iam_nl *nl, const struct iam_prefix *p,
			 const struct in6_addr *via, uint32_t ifindex,
			 char *ext, size_t extlen)
{
	if (!via)
		return -EINVAL;
	return unicast_route(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, p,
			     via, ifindex, ext, extlen);
}

int iam_nl_route_del(struct iam_nl *nl, const struct iam_prefix *p,
		     const struct in6_addr *via, uint32_t ifindex, char *ext,
		     size_t extlen)
{
	return unicast_route(nl, RTM_DELROUTE, 0, p, via, ifindex, ext, extlen);
}

static int addr_msg(struct iam_nl *nl, uint16_t type, uint16_t flags,
		    uint32_t ifindex, const struct in6_addr *a, uint8_t plen,
		    char *ext, size_t extlen)
{
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (!ifindex || plen > 128)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(nl->buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_flags = IFA_F_NODAD;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(*a), a);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(*a), a);
	mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	if (type == RTM_NEWADDR) {
		/* Valid forever but deprecated (preferred lifetime 0): a
		 * socket bound to it works, but source address selection
		 * never picks it for the host's other traffic (RFC 6724,
		 * 5, rule 3). */
		struct ifa_cacheinfo ci = { .ifa_prefered = 0,
					    .ifa_valid = 0xffffffffu };

		mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
	}
	return nl_talk(nl, nlh, NULL, NULL, NULL, ext, extlen);
}

int iam_nl_addr_add(struct iam_nl *nl, uint32_t ifindex,
		    const struct in6_addr *a, uint8_t plen, char *ext,
		    size_t extlen)
{
	return addr_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, a,
			plen, ext, extlen);
}

int iam_nl_addr_del(struct iam_nl *nl, uint32_t ifindex,
		    const struct in6_addr *a, uint8_t plen, char *ext,
		    size_t extlen)
{
	return addr_msg(nl, RTM_DELADDR, 0, ifindex, a, plen, ext, extlen);
}

/* ---- dumps ------------------------------------------------------------ */

struct list_filter {
	iam_nl_route_cb cb;
	void *arg;
};

static int list_one(const struct iam_nl_route *r, void *arg)
{
	struct list_filter *f = arg;

	if (r->protocol != IAM_RTPROT)
		return 0;
	return f->cb(r, f->arg);
}

int iam_nl_route_list(struct iam_nl *nl, iam_nl_route_cb cb, void *arg,
		      char *ext, size_t extlen)
{
	struct list_filter f = { cb, arg };
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int cb_rc = 0, err;

	nlh = mnl_nlmsg_put_header(nl->buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	err = nl_talk(nl, nlh, list_one, &f, &cb_rc, ext, extlen);
	return err ? err : cb_rc;
}

struct route_vec {
	struct iam_nl_route *v;
	size_t n, cap;
};

static int collect(const struct iam_nl_route *r, void *arg)
{
	struct route_vec *rv = arg;

	if (rv->n == rv->cap) {
		size_t cap = rv->cap ? rv->cap * 2 : 16;
		struct iam_nl_route *v = realloc(rv->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rv->v = v;
		rv->cap = cap;
	}
	rv->v[rv->n++] = *r;
	return 0;
}

int iam_nl_flush(struct iam_nl *nl, unsigned *removed, char *ext, size_t extlen)
{
	struct route_vec rv = { 0 };
	unsigned done = 0;
	int err;

	/* Collect first: a socket cannot take requests mid-dump. */
	err = iam_nl_route_list(nl, collect, &rv, ext, extlen);
	for (size_t i = 0; !err && i < rv.n; i++) {
		err = route_msg(nl, RTM_DELROUTE, 0, &rv.v[i], ext, extlen);
		/* Gone already (removed with its interface): fine. */
		if (err == -ESRCH)
			err = 0;
		else if (!err)
			done++;
	}
	free(rv.v);
	if (removed)
		*removed = done;
	return err;
}
