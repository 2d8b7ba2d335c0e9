/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * iam_drop.h - the one numbered table of reasons why the XDP classifier
 * drops a packet addressed to an IAM prefix.  The BPF program counts each
 * drop under its reason; iamctl and the tests print the same names.  Both
 * expand the table with their own X():
 *
 *   #define X(num, id, name, text) ...
 *   IAM_DROP_REASONS(X)
 *   #undef X
 *
 * num is the stable number (the counter's index); id gives IAM_DROP_<id>;
 * name is the snake_case key of `iamctl stats --json`; text is for people.
 * Numbers are never reused or reordered: a new reason takes the next one.
 * Usable from BPF C (macros only).
 */
#ifndef IAM_DROP_H
#define IAM_DROP_H

/* clang-format off */
#define IAM_DROP_REASONS(X)                                                    \
	X(0, TRUNCATED, "truncated",                                           \
	  "headers after the IPv6 header cut short")                           \
	X(1, EXT_LIMIT, "ext_limit",                                           \
	  "more IPv6 extension headers than the classifier walks")             \
	X(2, FRAGMENT, "fragment",                                             \
	  "IPv6 fragment to a local IAM address")                              \
	X(3, ROUTING, "routing_header",                                        \
	  "routing header with segments left to a local IAM address")          \
	X(4, PROTO, "proto",                                                   \
	  "upper-layer protocol not served on this IAM address")               \
	X(5, PORT, "port",                                                     \
	  "TCP or UDP port not served on this IAM address")                    \
	X(6, ICMP, "icmp",                                                     \
	  "ICMPv6 type not allowed to this IAM address")                       \
	X(7, NO_ACCESS, "no_access",                                           \
	  "data for a block that no allocation covers")                        \
	X(8, NOT_BORROWER, "not_borrower",                                     \
	  "data for a block from a host that is not its borrower")             \
	X(9, RIGHTS, "rights",                                                 \
	  "borrower lacks the right the operation needs")                      \
	X(10, RDMA_RANGE, "rdma_range",                                        \
	  "RDMA virtual address or length outside the block address space")    \
	X(11, BAD_PREFIX, "bad_prefix",                                        \
	  "IAM prefix entry with an unknown kind")
/* clang-format on */

enum iam_drop_reason {
#define X(num, id, name, text) IAM_DROP_##id = num,
	IAM_DROP_REASONS(X)
#undef X
		IAM_DROP_MAX
};

#endif /* IAM_DROP_H */
