/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * bgp.h - the Coordinator (FIG. 5): an embedded BGP-4 speaker that
 * announces this agent's pool and allocations and learns every other
 * agent's, as DESIGN.md "BGP encoding" says.
 *
 * Files: packets.c (message codec), attrs.c (path attributes), both pure
 * functions over buffers; session.c (FSM, timers, sockets); rib.c
 * (Adj-RIB-In, Loc-RIB, best path); iam.c (the IAM meaning of routes:
 * pool, allocations, lenders); config.c (options people write).
 *
 * Driving it (all calls on the loop's thread):
 *
 *   struct iam_bgp_config cfg;
 *   iam_bgp_config_init(&cfg);
 *   cfg.local_as = 65001; cfg.router_id = 0x0a000001;
 *   iam_bgp_peer_parse("2001:db8::1,as=65000", &cfg.peers[0], err, len);
 *   iam_bgp_create(loop, &cfg, &hooks, &bgp);    // starts the sessions
 *   iam_bgp_pool_announce(bgp, &pool_prefix, M, V, 16);
 *   iam_bgp_host_announce(bgp, &agent_addr);      // the /128
 *   ...  iam_bgp_pool_set_available(bgp, V);      // rate-limited
 *   ...  iam_bgp_alloc_announce(bgp, &pfx, borrower, IAM_RIGHTS_RW);
 *   iam_bgp_shutdown(bgp);   // withdraw all, Cease; hooks.stopped() later
 *   iam_bgp_destroy(bgp);
 *
 * Only routes this agent originates are ever advertised: learned routes
 * are used (Loc-RIB, lenders, kernel routes by the agent) but never
 * re-advertised, so this speaker is never a transit for anything.
 */
#ifndef IAM_BGP_H
#define IAM_BGP_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct iam_loop;
struct iam_bgp;

/* An IPv6 prefix; the bits past len are zero. */
struct iam_bgp_prefix {
	struct in6_addr addr;
	uint8_t len; /* 0..128 */
};

/* A large community (RFC 8092): global administrator (an AS), two
 * operator-defined values.  Host byte order. */
struct iam_bgp_lcomm {
	uint32_t global;
	uint32_t local1;
	uint32_t local2;
};

/* IAM large-community functions (local1), DESIGN.md "BGP encoding". */
enum {
	IAM_BGP_FN_TOTAL = 1, /* pool: total blocks M_i */
	IAM_BGP_FN_AVAIL = 2, /* pool: available blocks V_i */
	IAM_BGP_FN_BLOCK_SHIFT = 3, /* pool: log2 of the block size */
	IAM_BGP_FN_BORROWER = 10, /* allocation: borrower id */
	IAM_BGP_FN_RIGHTS = 11, /* allocation: IAM_RIGHTS_RO or _RW */
};

/* ---- configuration --------------------------------------------------- */

#define IAM_BGP_MD5_MAX 80 /* TCP_MD5SIG_MAXKEYLEN */
#define IAM_BGP_MAX_PEERS 64

struct iam_bgp_peer_config {
	/* Address of the peer, IPv6, or IPv4 as ::ffff:a.b.c.d; scope id
	 * set for a link-local peer (ADDR%IFNAME). */
	struct in6_addr addr;
	uint32_t scope_id;
	uint16_t port; /* TCP port to connect to, 179 by default */
	uint32_t remote_as;
	char md5[IAM_BGP_MD5_MAX + 1]; /* RFC 2385 key; "" for none */
	bool passive; /* never connect, only accept */
	/* Require the leftmost AS of an eBGP peer's AS_PATH to be its AS
	 * (RFC 4271 6.3, a MAY).  Off by default so that a route server,
	 * which does not prepend its AS (RFC 7947 2.2.2.1), works. */
	bool enforce_first_as;
	bool has_source;
	struct in6_addr source; /* local address to connect from */
	char ifname[IF_NAMESIZE]; /* bind the session to it; "" for none */
};

struct iam_bgp_config {
	uint32_t local_as; /* four-octet AS (RFC 6793) */
	uint32_t router_id; /* BGP identifier, host order: 10.0.0.1 is
			     * 0x0a000001 */
	bool listen; /* accept connections (true by default) */
	struct in6_addr listen_addr; /* :: by default (v4 as ::ffff:) */
	uint16_t listen_port; /* 179 by default */
	uint16_t hold_time; /* s, offered in OPEN: 0 or >= 3 (90) */
	uint32_t connect_retry_ms; /* ConnectRetryTime (5000) */
	/* At most this many re-announcements of V_i per second (10);
	 * 0: no limit.  `--pool-update-rate`. */
	uint32_t pool_update_rate;
	/* Routes a peer may send before it is cut off with Cease / Maximum
	 * Number of Prefixes Reached (RFC 4486); 0: no limit (100000). */
	uint32_t max_prefixes;
	/* Global next hop for our routes; when unset, each session's own
	 * local address (plus the link-local one toward an on-link peer). */
	bool has_nexthop;
	struct in6_addr nexthop;
	unsigned npeers;
	struct iam_bgp_peer_config peers[IAM_BGP_MAX_PEERS];
};

/* Defaults as documented above; no peers. */
void iam_bgp_config_init(struct iam_bgp_config *cfg);

/*
 * Parse one peer as people write it, on the command line (--peer) and in
 * the config file:
 *
 *   ADDR,as=N[,md5=SECRET][,passive][,port=N][,source=ADDR]
 *        [,dev=IFNAME][,enforce-first-as]
 *
 * ADDR is IPv6 (fe80::1%eth0 for link-local) or IPv4.  Returns 0, or
 * -EINVAL with a message naming what is wrong in err.
 */
int iam_bgp_peer_parse(const char *s, struct iam_bgp_peer_config *out,
		       char *err, size_t errlen);
/* "A.B.C.D" (not 0.0.0.0) into a host-order identifier. */
int iam_bgp_router_id_parse(const char *s, uint32_t *out);
/* Whole-config consistency (AS, router id, hold time, duplicate peers);
 * 0 or -EINVAL with a message. */
int iam_bgp_config_check(const struct iam_bgp_config *cfg, char *err,
			 size_t errlen);

/* ---- what the agent learns ------------------------------------------- */

enum iam_bgp_route_kind {
	IAM_BGP_ROUTE_PLAIN = 0, /* no (or incomplete) IAM communities */
	IAM_BGP_ROUTE_POOL, /* functions 1, 2 and 3 present and sane */
	IAM_BGP_ROUTE_ALLOC, /* functions 10 and 11 present */
};

/* A best route as handed to the agent; valid during the call only. */
struct iam_bgp_route_info {
	struct iam_bgp_prefix prefix;
	struct in6_addr next_hop; /* global next hop */
	bool has_next_hop_ll;
	struct in6_addr next_hop_ll; /* link-local next hop */
	uint32_t ifindex; /* interface of the session it came over; 0 if
			   * unknown (use with next_hop_ll) */
	uint32_t origin_as; /* originating AS (ours for iBGP-only paths) */
	uint32_t hops; /* AS_PATH length, RFC 4271 9.1.2.2 (a) */
	const char *as_path; /* "65001 65002", "" when empty */
	const char *peer; /* the peer it was learned from */
	enum iam_bgp_route_kind kind;
	uint32_t total_blocks; /* POOL: M_i */
	uint32_t avail_blocks; /* POOL: V_i */
	uint8_t block_shift; /* POOL: log2 block size */
	uint8_t rights; /* ALLOC: IAM_RIGHTS_* */
	uint32_t borrower_id; /* ALLOC */
	const struct iam_bgp_lcomm *lcomm; /* all large communities */
	unsigned nlcomm;
};

enum iam_bgp_state {
	IAM_BGP_IDLE = 0,
	IAM_BGP_CONNECT,
	IAM_BGP_ACTIVE,
	IAM_BGP_OPENSENT,
	IAM_BGP_OPENCONFIRM,
	IAM_BGP_ESTABLISHED,
};
const char *iam_bgp_state_name(enum iam_bgp_state s);

struct iam_bgp_peer_info {
	const char *name; /* the peer's address as text */
	struct in6_addr addr;
	uint32_t remote_as;
	uint32_t remote_id; /* host order; 0 before an OPEN */
	enum iam_bgp_state state;
	uint64_t since_ms; /* iam_now_ms() when the state was entered */
	bool ibgp;
	bool passive;
	uint16_t hold_time; /* negotiated, s */
	bool as4; /* four-octet AS negotiated */
	bool route_refresh; /* the peer can be asked to resend */
	struct in6_addr local_addr; /* of the established session */
	uint32_t prefixes; /* routes in its Adj-RIB-In */
	uint32_t updates_in, updates_out;
	uint32_t flaps; /* times Established was left */
	const char *last_error; /* "" or the last NOTIFICATION/reason */
};

#define IAM_BGP_LENDER_PATH_MAX 16

/* One pool this agent knows, its own included (DESIGN.md "Interfaces":
 * the `lenders` entries of `iamctl status --json`). */
struct iam_bgp_lender {
	struct iam_bgp_prefix prefix;
	uint32_t total_blocks; /* M_i */
	uint32_t avail_blocks; /* V_i */
	uint8_t block_shift; /* block size = 1 << block_shift */
	bool local; /* our own pool */
	uint32_t origin_as;
	uint32_t hops; /* AS_PATH length; 0 for our own */
	struct in6_addr next_hop; /* :: for our own */
	const char *as_path; /* "" for our own or iBGP */
	/* The AS_PATH flattened, first hop first (sets in their order),
	 * at most IAM_BGP_LENDER_PATH_MAX ASes kept (iam_ipc_lender). */
	unsigned as_path_len;
	uint32_t as_path_asn[IAM_BGP_LENDER_PATH_MAX];
	const char *peer; /* learned from; "" for our own */
	uint64_t since_ms; /* iam_now_ms() of the last change */
};

/*
 * Callbacks into the agent, on the loop's thread.  A hook may call any
 * function here (announce, withdraw, lookups, even iam_bgp_shutdown, which
 * does its work from the loop) except iam_bgp_destroy.
 */
struct iam_bgp_hooks {
	void *ctx;
	/* The best learned route for prefix appeared or changed (best
	 * non-NULL) or went away (best NULL).  Not called for our own. */
	void (*route)(void *ctx, const struct iam_bgp_prefix *prefix,
		      const struct iam_bgp_route_info *best);
	/* M, V or the set of lenders changed (own pool included). */
	void (*pools)(void *ctx, uint64_t total_blocks, uint64_t avail_blocks);
	/* A peer entered or left Established. */
	void (*peer)(void *ctx, const struct iam_bgp_peer_info *peer);
	/* After iam_bgp_shutdown(): every session is closed. */
	void (*stopped)(void *ctx);
};

/* ---- life cycle ------------------------------------------------------ */

/* Copies cfg (checked with iam_bgp_config_check), binds the listening
 * socket (-EADDRINUSE, -EACCES ... are returned) and starts the peers. */
int iam_bgp_create(struct iam_loop *loop, const struct iam_bgp_config *cfg,
		   const struct iam_bgp_hooks *hooks, struct iam_bgp **out);
/* Clean stop: no new connections or announcements from now on; from the
 * loop, withdraw every route we announced, then NOTIFICATION Cease /
 * Administrative Shutdown (RFC 4486, with an RFC 9003 message) to every
 * peer; no reconnects.  hooks.stopped runs once all sessions are closed,
 * at most ~2 s later: keep the loop running until then.  Idempotent. */
void iam_bgp_shutdown(struct iam_bgp *bgp);
/* Closes everything at once (no withdrawals); accepts NULL. */
void iam_bgp_destroy(struct iam_bgp *bgp);

/* Hand an already-connected stream socket to peer number idx (tests,
 * socketpairs); the speaker owns fd from then on, even on error. */
int iam_bgp_attach_fd(struct iam_bgp *bgp, unsigned idx, int fd);

/* ---- what the agent says --------------------------------------------- */

/* Originate (or replace) a prefix with these large communities (at most
 * 16), or withdraw it.  Sent at once to every established peer. */
int iam_bgp_announce(struct iam_bgp *bgp, const struct iam_bgp_prefix *p,
		     const struct iam_bgp_lcomm *lc, unsigned nlc);
int iam_bgp_withdraw(struct iam_bgp *bgp, const struct iam_bgp_prefix *p);

/* The pool: communities (AS,1,M) (AS,2,V) (AS,3,shift).  shift is
 * IAM_BLOCK_SHIFT_MIN..MAX and avail <= total, else -EINVAL. */
int iam_bgp_pool_announce(struct iam_bgp *bgp, const struct iam_bgp_prefix *p,
			  uint32_t total_blocks, uint32_t avail_blocks,
			  unsigned block_shift);
/* A new V_i: visible locally at once, re-announced at most
 * pool_update_rate times a second (the last value always goes out).
 * -ENOENT without a pool. */
int iam_bgp_pool_set_available(struct iam_bgp *bgp, uint32_t avail_blocks);
int iam_bgp_pool_withdraw(struct iam_bgp *bgp);
/* An allocation on confirm: (AS,10,borrower) (AS,11,rights). */
int iam_bgp_alloc_announce(struct iam_bgp *bgp, const struct iam_bgp_prefix *p,
			   uint32_t borrower_id, unsigned rights);
int iam_bgp_alloc_withdraw(struct iam_bgp *bgp, const struct iam_bgp_prefix *p);
/* The agent's own address as a /128, no IAM community. */
int iam_bgp_host_announce(struct iam_bgp *bgp, const struct in6_addr *addr);

/* Ask every established peer that can to send its routes again
 * (RFC 2918). */
void iam_bgp_refresh(struct iam_bgp *bgp);

/* ---- what the agent reads (iamctl status) ---------------------------- */

/* M = sum of M_i, V = sum of V_i over every lender, our own included. */
void iam_bgp_totals(const struct iam_bgp *bgp, uint64_t *total_blocks,
		    uint64_t *avail_blocks);
/* Call cb for each lender (own pool first); stops early and returns the
 * value if cb returns non-zero.  Entries are valid during cb only. */
int iam_bgp_lenders_foreach(const struct iam_bgp *bgp,
			    int (*cb)(void *arg,
				      const struct iam_bgp_lender *l),
			    void *arg);
int iam_bgp_peers_foreach(const struct iam_bgp *bgp,
			  int (*cb)(void *arg,
				    const struct iam_bgp_peer_info *p),
			  void *arg);
/* Best learned route for exactly this prefix; 0 or -ENOENT.  The
 * strings in *out stay valid until the next lookup or the loop runs. */
int iam_bgp_lookup(struct iam_bgp *bgp, const struct iam_bgp_prefix *p,
		   struct iam_bgp_route_info *out);

/* "2001:db8::/48" */
const char *iam_bgp_prefix_str(const struct iam_bgp_prefix *p, char *buf,
			       size_t len);
/* Parse "2001:db8::/48" (host bits must be zero); 0 or -EINVAL. */
int iam_bgp_prefix_parse(const char *s, struct iam_bgp_prefix *out);

#endif /* IAM_BGP_H */
