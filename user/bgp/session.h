/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * session.h - the speaker's insides, shared by session.c (FSM, timers,
 * sockets, our routes) and iam.c (the IAM meaning of routes).  Not for
 * the agent: it uses bgp.h.
 */
#ifndef IAM_BGP_SESSION_H
#define IAM_BGP_SESSION_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

#include "bgp/bgp.h"
#include "bgp/packets.h"
#include "log.h"
#include "bgp/rib.h"
#include "loop.h"

/* One TCP connection of a peer.  A peer has two slots, outgoing and
 * incoming, so that a connection collision (RFC 4271 6.8) can be seen and
 * resolved. */
struct bgp_conn {
	struct bgp_peer *peer;
	int fd; /* -1 when the slot is free */
	enum iam_bgp_state state;
	bool outgoing;
	bool pollout; /* EPOLLOUT is armed */
	bool dead; /* an I/O error is pending, closed from the loop */
	unsigned gen; /* bumped on every close */
	uint64_t since_ms;
	struct iam_timer hold;
	struct iam_timer keepalive;
	struct iam_timer kill;
	char kill_reason[96];
	struct iam_bgp_open open; /* the peer's, from OpenConfirm on */
	size_t rlen;
	uint8_t rbuf[2 * IAM_BGP_MAX_MSG];
	uint8_t *wbuf; /* bytes not yet taken by the kernel */
	size_t wlen, wcap;
};

struct bgp_peer {
	struct iam_bgp *bgp;
	unsigned idx;
	struct iam_bgp_peer_config cfg;
	char name[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	bool ibgp;
	struct bgp_conn conn[2]; /* [0] we connected, [1] they did */
	struct bgp_conn *est; /* the Established one, or NULL */
	struct iam_timer retry; /* ConnectRetryTimer */
	unsigned fails; /* sessions lost in a row, for back-off */
	uint64_t since_ms; /* of the summary state */
	enum iam_bgp_state shown; /* last summary state, for since_ms */
	/* Negotiated, valid while est is set. */
	bool as4;
	bool rr;
	uint16_t hold;
	struct in6_addr local;
	struct in6_addr nh;
	bool has_nh_ll;
	struct in6_addr nh_ll;
	struct iam_bgp_src src;
	uint32_t updates_in, updates_out, flaps;
	char last_error[384];
};

/* A prefix we originate, with its large communities. */
struct bgp_local {
	struct iam_bgp_pfxnode node;
	unsigned nlc;
	struct iam_bgp_lcomm lc[IAM_BGP_LCOMM_MAX];
};

/* A closing socket: what is left to write, then wait for the peer's FIN
 * so that our NOTIFICATION is not lost to a reset (RFC 4271 6: send it,
 * then close). */
struct bgp_linger {
	struct bgp_linger *next;
	struct iam_bgp *bgp;
	int fd;
	struct iam_timer t;
	uint8_t *wbuf;
	size_t wlen;
};

/* Our pool as last given by the agent, and what was last sent. */
struct bgp_pool {
	bool set;
	struct iam_bgp_prefix prefix;
	uint32_t total, avail;
	uint8_t shift;
	uint64_t since_ms;
	uint32_t sent_avail; /* V_i in the last announcement */
	bool sent;
	uint64_t sent_ms;
	struct iam_timer rate; /* the next allowed re-announcement */
};

/* A learned pool (the lender table). */
struct bgp_lender {
	struct iam_bgp_pfxnode node;
	uint32_t total, avail;
	uint8_t shift;
	uint64_t since_ms;
	struct iam_bgp_route *route; /* the best route carrying it */
};

struct iam_bgp {
	struct iam_loop *loop;
	struct iam_bgp_config cfg;
	struct iam_bgp_hooks hooks;
	int lfd; /* listening socket, -1 if none */
	unsigned npeers;
	struct bgp_peer *peers;
	struct iam_bgp_rib rib;
	struct iam_bgp_pfxmap local; /* struct bgp_local */
	struct bgp_linger *lingers;
	bool stopping; /* iam_bgp_shutdown() was called */
	bool shutdown_done; /* withdrawals and Cease sent */
	bool stopped; /* hooks.stopped called */
	struct iam_timer stop_timer;
	struct iam_listener listener; /* paused after EMFILE */
	struct iam_ratelimit refused; /* connections from non-peers */
	struct bgp_pool pool;
	struct iam_bgp_pfxmap lenders; /* struct bgp_lender */
	char strbuf[2][1024]; /* route_info / lender strings */
	uint8_t msg[IAM_BGP_MAX_MSG]; /* scratch for one message */
	struct iam_bgp_update upd; /* scratch for decoding */
};

/* session.c -> iam.c */
void iam_bgp_iam_init(struct iam_bgp *bgp);
void iam_bgp_iam_on_best(void *ctx, struct iam_bgp_rib_entry *e);
void iam_bgp_iam_fini(struct iam_bgp *bgp);
void iam_bgp_route_fill(struct iam_bgp *bgp, const struct iam_bgp_route *r,
			struct iam_bgp_route_info *info, char *strbuf,
			size_t len);

#endif /* IAM_BGP_SESSION_H */
