/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ctrl_proto.h - codec of the agent-to-agent control protocol
 * (headers/iam_proto.h): pure functions over buffers, no I/O, so the unit
 * tests and the fuzz target link them alone.
 */
#ifndef IAM_CTRL_PROTO_H
#define IAM_CTRL_PROTO_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iam_proto.h"

struct iam_ctrl_run_h {
	struct in6_addr first; /* first block's address */
	uint32_t count; /* blocks */
};

/* One decoded message, host byte order. */
struct iam_ctrl_msg {
	uint8_t type; /* enum iam_ctrl_type */
	uint32_t xid;
	union {
		struct {
			uint32_t nblocks, lease_ms, borrower_id;
			uint8_t rights, block_shift;
		} reserve;
		struct {
			uint64_t resv_id;
			uint32_t ttl_ms, nruns;
			uint8_t block_shift, rdma;
			/* encode: the runs to send; decode: NULL, use
			 * iam_ctrl_run_get() */
			const struct iam_ctrl_run_h *runs;
			const uint8_t *wire_runs; /* decode only */
		} reserved;
		struct {
			uint64_t id;
		} id; /* CONFIRM, RELEASE, RELEASED */
		struct {
			uint64_t alloc_id;
			uint32_t lease_ms, nrkeys;
			/* encode: the rkeys to send; decode: NULL, use
			 * iam_ctrl_rkey_get() */
			const uint32_t *rkeys;
			const uint8_t *wire_rkeys; /* decode only */
		} confirmed;
		struct {
			uint32_t lease_ms;
		} renew;
		struct {
			uint32_t nallocs;
		} renewed;
		struct {
			uint32_t code;
			uint8_t request;
			char msg[IAM_CTRL_ERRMSG_MAX + 1]; /* NUL-terminated,
							    * printable */
		} error;
	};
};

/*
 * Is a whole message at the start of buf?  0: yes, *frame_len set;
 * -EAGAIN: need more bytes; -EBADMSG / -EPROTONOSUPPORT: the header is
 * bad (version, length out of bounds), *why says how; the stream cannot be
 * resynchronised and must be closed after an error answer.
 */
int iam_ctrl_frame(const void *buf, size_t avail, size_t *frame_len,
		   const char **why);
/* Decode one whole message (as iam_ctrl_frame found it).  0 or -EBADMSG /
 * -EPROTONOSUPPORT with *why naming the problem. */
int iam_ctrl_decode(const void *buf, size_t len, struct iam_ctrl_msg *m,
		    const char **why);
/* Run i (< m->reserved.nruns) of a decoded RESERVED. */
void iam_ctrl_run_get(const struct iam_ctrl_msg *m, uint32_t i,
		      struct iam_ctrl_run_h *out);
/* rkey i (< m->confirmed.nrkeys) of a decoded CONFIRMED. */
uint32_t iam_ctrl_rkey_get(const struct iam_ctrl_msg *m, uint32_t i);
/* Encode into buf; the length, or -ENOSPC / -EINVAL (bad message). */
ssize_t iam_ctrl_encode(const struct iam_ctrl_msg *m, void *buf, size_t cap);
const char *iam_ctrl_type_name(uint8_t type);
/* Fill m as an ERROR answering request type req with errno code. */
void iam_ctrl_error_init(struct iam_ctrl_msg *m, uint32_t xid, uint8_t req,
			 uint32_t code, const char *msg);

#endif /* IAM_CTRL_PROTO_H */
