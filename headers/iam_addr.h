/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * iam_addr.h - the Address Manager: memory blocks <-> IPv6 addresses and
 * prefixes (US 11,675,510, FIG. 2), and the kernel routes and addresses
 * that make a pool's block addresses reachable (rtnetlink, user/addr_nl.c).
 *
 * An IAM address is
 *
 *   network (48 bits) | host (32 bits) | block address (48 bits)
 *
 * where the block address is the block's start address in the lender's
 * virtual address space shifted right by log2(block size).  Patent example:
 * network 2001:db80:8000, host c0a8:a010, a 64 KiB block at
 * 0x0000b8a038640000 is 2001:db80:8000:c0a8:a010:0:b8a0:3864.
 *
 * Everything here is a pure function of its arguments except the iam_nl_
 * calls, which talk to the kernel.  All functions return 0 or -errno.
 */
#ifndef IAM_ADDR_H
#define IAM_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iam_const.h"

/*
 * Route protocol number of every route IAM installs (rtm_protocol, see
 * rtnetlink(7)).  241 is in no registry (iproute2's rt_protos lists up to
 * 192), so `ip -6 route show proto 241` and `ip -6 route show table local
 * proto 241` list exactly IAM's routes, and a restarted agent can flush
 * what a crashed one left behind (iam_nl_flush()).  Override with -D if a
 * site already uses 241.
 */
#ifndef IAM_RTPROT
#define IAM_RTPROT 241
#endif

/* The /80 that holds every address of one agent: network | host. */
#define IAM_NODE_PREFIX_LEN (IAM_NET_BITS + IAM_HOST_BITS)
/* Largest block address: 48 bits. */
#define IAM_BLOCK_ADDR_MAX ((1ull << IAM_BLOCK_BITS) - 1)

/* "2001:db8:0:1:2:3:4:5/128" with room to spare. */
#define IAM_PREFIX_STRLEN (INET6_ADDRSTRLEN + 4)
/* "2001:db80:8000" */
#define IAM_NET_STRLEN 16
/* "c0a8:a010" */
#define IAM_HOST_STRLEN 12

/* The address space of one agent: everything but the block address. */
struct iam_addr_space {
	uint8_t net[6]; /* network part, 48 bits, network byte order */
	uint8_t block_shift; /* log2(block size in bytes), 12..21 */
	uint8_t pad; /* zero */
	uint32_t host; /* host part, 32 bits, HOST byte order (0xc0a8a010) */
};
_Static_assert(sizeof(struct iam_addr_space) == 12, "iam_addr_space ABI");

/* An IPv6 prefix; bits of addr beyond len are zero once parsed/built. */
struct iam_prefix {
	struct in6_addr addr; /* network byte order */
	uint8_t len; /* prefix length in bits, 0..128 */
	uint8_t pad[3]; /* zero */
};
_Static_assert(sizeof(struct iam_prefix) == 20, "iam_prefix ABI");

/* ---- FIG. 2 encoding ------------------------------------------------ */

/* Fill a space; -EINVAL if block_shift is outside 12..21. */
int iam_addr_space_init(struct iam_addr_space *s, const uint8_t net[6],
			uint32_t host, unsigned block_shift);

/*
 * Memory address -> IPv6 address.  -EINVAL: mem_addr not aligned to the
 * block size, or a bad block_shift; -ERANGE: the block address
 * (mem_addr >> block_shift) does not fit 48 bits.
 */
int iam_addr_encode(const struct iam_addr_space *s, uint64_t mem_addr,
		    struct in6_addr *out);
/* Block address (already shifted) -> IPv6 address; -ERANGE if > 48 bits. */
int iam_addr_from_block(const struct iam_addr_space *s, uint64_t block,
			struct in6_addr *out);
/*
 * IPv6 address -> network, host and memory address, for a given block
 * size.  -EINVAL: bad shift; -ERANGE: block address << shift overflows
 * 64 bits.  s (may be NULL) gets net, host and block_shift.
 */
int iam_addr_decode(const struct in6_addr *a, unsigned block_shift,
		    struct iam_addr_space *s, uint64_t *mem_addr);
/* The low 48 bits of a: its block address. */
uint64_t iam_addr_block(const struct in6_addr *a);
/* The agent's own address, net:host::1 (IAM_CTRL_BLOCK_ADDR). */
void iam_addr_ctrl(const struct iam_addr_space *s, struct in6_addr *out);
/* The agent's /80, net:host::/80. */
void iam_addr_node_prefix(const struct iam_addr_space *s,
			  struct iam_prefix *out);
/* True when a lies in the space's /80. */
bool iam_addr_in_space(const struct iam_addr_space *s,
		       const struct in6_addr *a);

/* ---- aggregation ---------------------------------------------------- */

/*
 * Block addresses -> the minimal set of prefixes that covers exactly those
 * blocks.  blocks[] may be in any order and hold duplicates; it is sorted
 * and deduplicated IN PLACE (no allocation).  Prefixes come out in
 * ascending address order.  *nout is the number of prefixes needed, also
 * when the result is -ENOSPC (out has fewer than *nout entries; out may
 * be NULL with max 0 to count).  -ERANGE if a block exceeds 48 bits.
 *
 * Minimality: a prefix covers an aligned power-of-two range, so an exact
 * cover never spans a gap; within one maximal run the greedy split into
 * the largest aligned pieces is the smallest cover (see addr.c).
 */
int iam_addr_aggregate(const struct iam_addr_space *s, uint64_t *blocks,
		       size_t n, struct iam_prefix *out, size_t max,
		       size_t *nout);
/* Fast path for one contiguous run [first, first + count); count >= 1. */
int iam_addr_aggregate_run(const struct iam_addr_space *s, uint64_t first,
			   uint64_t count, struct iam_prefix *out, size_t max,
			   size_t *nout);
/* How many prefixes iam_addr_aggregate_run() needs (at most 2 * 48). */
size_t iam_addr_run_prefixes(uint64_t first, uint64_t count);
/*
 * Prefix -> the blocks it covers: first block address and count.
 * -EINVAL if p is shorter than /80 (wider than one agent) or has bits set
 * beyond its length.
 */
int iam_addr_prefix_blocks(const struct iam_prefix *p, uint64_t *first,
			   uint64_t *count);

/* ---- text ----------------------------------------------------------- */

/*
 * "2001:db8::/64" or a bare address (= /128).  -EINVAL: malformed, or bits
 * set beyond the length (as `ip route` refuses them); -ERANGE: len > 128.
 */
int iam_addr_prefix_parse(const char *str, struct iam_prefix *p);
/* RFC 5952 canonical text (inet_ntop) "/len"; returns buf. */
const char *iam_addr_prefix_fmt(const struct iam_prefix *p, char *buf,
				size_t len);
/* Clear the bits beyond p->len. */
void iam_addr_prefix_mask(struct iam_prefix *p);
bool iam_addr_prefix_contains(const struct iam_prefix *p,
			      const struct in6_addr *a);
/*
 * Network part: "2001:db80:8000" (three groups of 1-4 hex digits), or an
 * IPv6 address/prefix whose bits after the first 48 are zero
 * ("2001:db80:8000::", "fd00:1:2::/48").  -EINVAL if malformed.
 */
int iam_addr_net_parse(const char *str, uint8_t net[6]);
/* "2001:db80:8000": lower case, no leading zeros (RFC 5952, 4.1). */
const char *iam_addr_net_fmt(const uint8_t net[6], char *buf, size_t len);
/*
 * Host part: "c0a8:a010" (two groups), a dotted IPv4 address
 * "192.168.160.16", or hex "0xc0a8a010".  -EINVAL if malformed, -ERANGE if
 * wider than 32 bits.
 */
int iam_addr_host_parse(const char *str, uint32_t *host);
/* "c0a8:a010" */
const char *iam_addr_host_fmt(uint32_t host, char *buf, size_t len);
/*
 * Block size in people's units ("64K", "65536", "2M") -> log2.  -EINVAL:
 * malformed or not a power of two; -ERANGE: outside 4K..2M.
 */
int iam_addr_block_size_parse(const char *str, unsigned *block_shift);

/* ---- kernel registration (user/addr_nl.c, rtnetlink via libmnl) -------
 *
 * One struct iam_nl is one NETLINK_ROUTE socket with NETLINK_EXT_ACK and
 * NETLINK_CAP_ACK.  Calls are synchronous (request, then the kernel's
 * acknowledgement) and not thread-safe on one handle: the agent uses it
 * from the main thread.  Every call takes an optional caller buffer ext
 * (extlen bytes) that receives the kernel's extended-ack text
 * (NLMSGERR_ATTR_MSG, e.g. "Nexthop has invalid gateway"), or "" when the
 * kernel gave none; errors are the kernel's -errno (-EEXIST when adding
 * what exists, -ESRCH when removing a route that does not exist, -ENODEV
 * for a bad ifindex, -EADDRNOTAVAIL when removing an absent address).
 *
 * All routes carry rtm_protocol IAM_RTPROT.
 */
struct iam_nl;

/* One IPv6 route as the kernel reports it (iam_nl_route_list()). */
struct iam_nl_route {
	struct iam_prefix dst; /* destination prefix */
	struct in6_addr via; /* gateway, :: when none (local routes) */
	uint32_t ifindex; /* RTA_OIF, 0 when absent */
	uint32_t table; /* RT_TABLE_LOCAL (255), RT_TABLE_MAIN (254), ... */
	uint32_t metric; /* RTA_PRIORITY, 0 when absent */
	uint8_t type; /* RTN_UNICAST, RTN_LOCAL, ... */
	uint8_t protocol; /* rtm_protocol (IAM_RTPROT for IAM's) */
	uint8_t pad[2]; /* zero */
};
_Static_assert(sizeof(struct iam_nl_route) == 52, "iam_nl_route layout");

typedef int (*iam_nl_route_cb)(const struct iam_nl_route *r, void *arg);

int iam_nl_open(struct iam_nl **out);
void iam_nl_close(struct iam_nl *nl);

/*
 * A `local` route for p in the local table (RTN_LOCAL, scope host), so the
 * kernel delivers every address in p to local sockets (IPv6 "AnyIP": no
 * per-address configuration).  ifindex: the fabric interface or lo.
 */
int iam_nl_local_add(struct iam_nl *nl, const struct iam_prefix *p,
		     uint32_t ifindex, char *ext, size_t extlen);
int iam_nl_local_del(struct iam_nl *nl, const struct iam_prefix *p,
		     uint32_t ifindex, char *ext, size_t extlen);

/*
 * A unicast route in the main table to p via a next hop.  A link-local
 * via (fe80::/10) needs ifindex; a global one may leave ifindex 0 and let
 * the kernel resolve it.  add fails with -EEXIST if the route exists;
 * replace installs or overwrites it (NLM_F_REPLACE).
 */
int iam_nl_route_add(struct iam_nl *nl, const struct iam_prefix *p,
		     const struct in6_addr *via, uint32_t ifindex, char *ext,
		     size_t extlen);
int iam_nl_route_replace(struct iam_nl *nl, const struct iam_prefix *p,
			 const struct in6_addr *via, uint32_t ifindex,
			 char *ext, size_t extlen);
/* Remove IAM's route to p; via and ifindex narrow the match when given
 * (NULL / 0 match any). */
int iam_nl_route_del(struct iam_nl *nl, const struct iam_prefix *p,
		     const struct in6_addr *via, uint32_t ifindex, char *ext,
		     size_t extlen);

/* An IPv6 address on an interface, without duplicate address detection
 * (IFA_F_NODAD) and deprecated (preferred lifetime 0, valid forever), so
 * only sockets bound to it use it: e.g. the agent's own address as a
 * /128. */
int iam_nl_addr_add(struct iam_nl *nl, uint32_t ifindex,
		    const struct in6_addr *a, uint8_t plen, char *ext,
		    size_t extlen);
int iam_nl_addr_del(struct iam_nl *nl, uint32_t ifindex,
		    const struct in6_addr *a, uint8_t plen, char *ext,
		    size_t extlen);

/*
 * Every IPv6 route with rtm_protocol IAM_RTPROT, in any table.  cb returns
 * 0 to go on, anything else to stop (returned).  The dump is read to its
 * end either way.
 */
int iam_nl_route_list(struct iam_nl *nl, iam_nl_route_cb cb, void *arg,
		      char *ext, size_t extlen);
/* Remove every IPv6 route with protocol IAM_RTPROT; *removed (optional)
 * counts them. */
int iam_nl_flush(struct iam_nl *nl, unsigned *removed, char *ext,
		 size_t extlen);

/*
 * The reply parser (exported for tests and the fuzz target): walks the
 * netlink messages in buf, accepting only those that match seq and
 * portid.  RTM_NEWROUTE messages go to cb (when not NULL) after
 * validation; NLMSG_ERROR ends the reply with its error and extack text.
 * Returns 1 when more messages are due (a dump without NLMSG_DONE yet),
 * 0 when the reply is complete, -errno from the kernel, -EBADMSG for a
 * malformed message, or cb's non-zero value (as *cb_rc, parsing goes on).
 */
int iam_nl_parse_reply(const void *buf, size_t len, uint32_t seq,
		       uint32_t portid, iam_nl_route_cb cb, void *arg,
		       int *cb_rc, char *ext, size_t extlen);

#endif /* IAM_ADDR_H */
