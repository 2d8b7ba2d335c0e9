// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* ctrl_proto.c - control protocol codec; see ctrl_proto.h, iam_proto.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctrl_proto.h"
#include "iam_const.h"
#include "wire.h"

#define HDR_LEN sizeof(struct iam_ctrl_hdr)

/* Body bytes of each type; for RESERVED and ERROR the fixed part. */
static const uint16_t body_len[IAM_CTRL_TYPE_MAX + 1] = {
	[IAM_CTRL_RESERVE] = sizeof(struct iam_ctrl_reserve),
	[IAM_CTRL_RESERVED] = sizeof(struct iam_ctrl_reserved),
	[IAM_CTRL_CONFIRM] = sizeof(struct iam_ctrl_id),
	[IAM_CTRL_CONFIRMED] = sizeof(struct iam_ctrl_confirmed),
	[IAM_CTRL_RELEASE] = sizeof(struct iam_ctrl_id),
	[IAM_CTRL_RELEASED] = sizeof(struct iam_ctrl_id),
	[IAM_CTRL_RENEW] = sizeof(struct iam_ctrl_renew),
	[IAM_CTRL_RENEWED] = sizeof(struct iam_ctrl_renewed),
	[IAM_CTRL_ERROR] = sizeof(struct iam_ctrl_error),
};

static const char *const type_names[IAM_CTRL_TYPE_MAX + 1] = {
	[IAM_CTRL_RESERVE] = "RESERVE", [IAM_CTRL_RESERVED] = "RESERVED",
	[IAM_CTRL_CONFIRM] = "CONFIRM", [IAM_CTRL_CONFIRMED] = "CONFIRMED",
	[IAM_CTRL_RELEASE] = "RELEASE", [IAM_CTRL_RELEASED] = "RELEASED",
	[IAM_CTRL_RENEW] = "RENEW",	[IAM_CTRL_RENEWED] = "RENEWED",
	[IAM_CTRL_ERROR] = "ERROR",
};

const char *iam_ctrl_type_name(uint8_t type)
{
	if (type <= IAM_CTRL_TYPE_MAX && type_names[type])
		return type_names[type];
	return "unknown";
}

int iam_ctrl_frame(const void *buf, size_t avail, size_t *frame_len,
		   const char **why)
{
	struct iam_rd r;
	uint32_t len;
	uint8_t ver;

	if (avail < HDR_LEN)
		return -EAGAIN;
	iam_rd_init(&r, buf, avail);
	ver = iam_rd_u8(&r);
	iam_rd_u8(&r);
	iam_rd_u16(&r);
	len = iam_rd_u32(&r);
	if (ver != IAM_PROTO_VERSION) {
		*why = "unsupported protocol version";
		return -EPROTONOSUPPORT;
	}
	if (len < HDR_LEN) {
		*why = "length shorter than the header";
		return -EBADMSG;
	}
	if (len > IAM_CTRL_MAX_LEN) {
		*why = "length over the 64 KiB limit";
		return -EBADMSG;
	}
	if (avail < len)
		return -EAGAIN;
	*frame_len = len;
	return 0;
}

static int bad(const char **why, const char *what)
{
	*why = what;
	return -EBADMSG;
}

int iam_ctrl_decode(const void *buf, size_t len, struct iam_ctrl_msg *m,
		    const char **why)
{
	struct iam_rd r;
	uint32_t hlen;
	size_t body;
	int err;

	err = iam_ctrl_frame(buf, len, &body, why);
	if (err == -EAGAIN)
		return bad(why, "message shorter than its header says");
	if (err)
		return err;
	if (body != len)
		return bad(why, "trailing bytes after the message");
	memset(m, 0, sizeof(*m));
	iam_rd_init(&r, buf, len);
	iam_rd_u8(&r); /* version, checked by iam_ctrl_frame */
	m->type = iam_rd_u8(&r);
	iam_rd_u16(&r); /* flags: none defined, ignored */
	hlen = iam_rd_u32(&r);
	m->xid = iam_rd_u32(&r);
	iam_rd_u32(&r); /* reserved */
	if (m->type > IAM_CTRL_TYPE_MAX || !body_len[m->type])
		return bad(why, "unknown message type");
	body = hlen - HDR_LEN;
	if (body < body_len[m->type])
		return bad(why, "message too short for its type");

	switch (m->type) {
	case IAM_CTRL_RESERVE:
		if (body != body_len[m->type])
			return bad(why, "RESERVE has trailing bytes");
		m->reserve.nblocks = iam_rd_u32(&r);
		m->reserve.lease_ms = iam_rd_u32(&r);
		m->reserve.borrower_id = iam_rd_u32(&r);
		m->reserve.rights = iam_rd_u8(&r);
		m->reserve.block_shift = iam_rd_u8(&r);
		if (!m->reserve.nblocks)
			return bad(why, "RESERVE of zero blocks");
		if (m->reserve.rights != IAM_RIGHTS_RO &&
		    m->reserve.rights != IAM_RIGHTS_RW)
			return bad(why, "RESERVE with unknown rights");
		if (m->reserve.block_shift < IAM_BLOCK_SHIFT_MIN ||
		    m->reserve.block_shift > IAM_BLOCK_SHIFT_MAX)
			return bad(why, "RESERVE with a block size out of "
					"4K..2M");
		if (!m->reserve.lease_ms)
			return bad(why, "RESERVE with a zero lease");
		break;
	case IAM_CTRL_RESERVED:
		m->reserved.resv_id = iam_rd_u64(&r);
		m->reserved.ttl_ms = iam_rd_u32(&r);
		m->reserved.nruns = iam_rd_u32(&r);
		m->reserved.block_shift = iam_rd_u8(&r);
		m->reserved.rdma = iam_rd_u8(&r);
		iam_rd_skip(&r, 6);
		if (!m->reserved.nruns)
			return bad(why, "RESERVED with no runs");
		if (m->reserved.nruns > IAM_CTRL_MAX_RUNS ||
		    body - body_len[m->type] !=
			    (size_t)m->reserved.nruns *
				    sizeof(struct iam_ctrl_run))
			return bad(why, "RESERVED run count does not match "
					"its length");
		if (m->reserved.block_shift < IAM_BLOCK_SHIFT_MIN ||
		    m->reserved.block_shift > IAM_BLOCK_SHIFT_MAX)
			return bad(why, "RESERVED with a block size out of "
					"4K..2M");
		m->reserved.wire_runs =
			iam_rd_take(&r, (size_t)m->reserved.nruns *
						sizeof(struct iam_ctrl_run));
		for (uint32_t i = 0; i < m->reserved.nruns; i++) {
			struct iam_ctrl_run_h run;

			iam_ctrl_run_get(m, i, &run);
			if (!run.count)
				return bad(why, "RESERVED run of zero blocks");
		}
		break;
	case IAM_CTRL_CONFIRM:
	case IAM_CTRL_RELEASE:
	case IAM_CTRL_RELEASED:
		if (body != body_len[m->type])
			return bad(why, "message has trailing bytes");
		m->id.id = iam_rd_u64(&r);
		break;
	case IAM_CTRL_CONFIRMED:
		m->confirmed.alloc_id = iam_rd_u64(&r);
		m->confirmed.lease_ms = iam_rd_u32(&r);
		m->confirmed.nrkeys = iam_rd_u32(&r);
		if (m->confirmed.nrkeys > IAM_CTRL_MAX_RUNS ||
		    body - body_len[m->type] !=
			    (size_t)m->confirmed.nrkeys * sizeof(uint32_t))
			return bad(why, "CONFIRMED rkey count does not match "
					"its length");
		m->confirmed.wire_rkeys = iam_rd_take(
			&r, (size_t)m->confirmed.nrkeys * sizeof(uint32_t));
		break;
	case IAM_CTRL_RENEW:
		if (body != body_len[m->type])
			return bad(why, "RENEW has trailing bytes");
		m->renew.lease_ms = iam_rd_u32(&r);
		if (!m->renew.lease_ms)
			return bad(why, "RENEW with a zero lease");
		break;
	case IAM_CTRL_RENEWED:
		if (body != body_len[m->type])
			return bad(why, "RENEWED has trailing bytes");
		m->renewed.nallocs = iam_rd_u32(&r);
		break;
	case IAM_CTRL_ERROR: {
		uint8_t n;
		const uint8_t *p;

		m->error.code = iam_rd_u32(&r);
		m->error.request = iam_rd_u8(&r);
		n = iam_rd_u8(&r);
		iam_rd_skip(&r, 2);
		if (body - body_len[m->type] != n)
			return bad(why, "ERROR text length does not match");
		p = iam_rd_take(&r, n);
		for (unsigned i = 0; p && i < n && i < IAM_CTRL_ERRMSG_MAX; i++)
			/* A peer's text goes into our log: keep it printable. */
			m->error.msg[i] =
				p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
		break;
	}
	}
	if (!iam_rd_ok(&r))
		return bad(why, "message truncated");
	return 0;
}

void iam_ctrl_run_get(const struct iam_ctrl_msg *m, uint32_t i,
		      struct iam_ctrl_run_h *out)
{
	struct iam_rd r;

	iam_rd_init(&r, m->reserved.wire_runs + (size_t)i * 24, 24);
	iam_rd_bytes(&r, &out->first, 16);
	out->count = iam_rd_u32(&r);
}

uint32_t iam_ctrl_rkey_get(const struct iam_ctrl_msg *m, uint32_t i)
{
	struct iam_rd r;

	iam_rd_init(&r, m->confirmed.wire_rkeys + (size_t)i * 4, 4);
	return iam_rd_u32(&r);
}

ssize_t iam_ctrl_encode(const struct iam_ctrl_msg *m, void *buf, size_t cap)
{
	struct iam_wr w;
	size_t n;

	if (m->type > IAM_CTRL_TYPE_MAX || !body_len[m->type])
		return -EINVAL;
	iam_wr_init(&w, buf, cap);
	iam_wr_u8(&w, IAM_PROTO_VERSION);
	iam_wr_u8(&w, m->type);
	iam_wr_u16(&w, 0);
	iam_wr_u32(&w, 0); /* the length, patched below */
	iam_wr_u32(&w, m->xid);
	iam_wr_u32(&w, 0);

	switch (m->type) {
	case IAM_CTRL_RESERVE:
		iam_wr_u32(&w, m->reserve.nblocks);
		iam_wr_u32(&w, m->reserve.lease_ms);
		iam_wr_u32(&w, m->reserve.borrower_id);
		iam_wr_u8(&w, m->reserve.rights);
		iam_wr_u8(&w, m->reserve.block_shift);
		iam_wr_zero(&w, 2);
		break;
	case IAM_CTRL_RESERVED:
		if (!m->reserved.nruns || m->reserved.nruns > IAM_CTRL_MAX_RUNS)
			return -EINVAL;
		iam_wr_u64(&w, m->reserved.resv_id);
		iam_wr_u32(&w, m->reserved.ttl_ms);
		iam_wr_u32(&w, m->reserved.nruns);
		iam_wr_u8(&w, m->reserved.block_shift);
		iam_wr_u8(&w, m->reserved.rdma);
		iam_wr_zero(&w, 6);
		for (uint32_t i = 0; i < m->reserved.nruns; i++) {
			iam_wr_bytes(&w, &m->reserved.runs[i].first, 16);
			iam_wr_u32(&w, m->reserved.runs[i].count);
			iam_wr_u32(&w, 0);
		}
		break;
	case IAM_CTRL_CONFIRM:
	case IAM_CTRL_RELEASE:
	case IAM_CTRL_RELEASED:
		iam_wr_u64(&w, m->id.id);
		break;
	case IAM_CTRL_CONFIRMED:
		if (m->confirmed.nrkeys > IAM_CTRL_MAX_RUNS)
			return -EINVAL;
		iam_wr_u64(&w, m->confirmed.alloc_id);
		iam_wr_u32(&w, m->confirmed.lease_ms);
		iam_wr_u32(&w, m->confirmed.nrkeys);
		for (uint32_t i = 0; i < m->confirmed.nrkeys; i++)
			iam_wr_u32(&w, m->confirmed.rkeys[i]);
		break;
	case IAM_CTRL_RENEW:
		iam_wr_u32(&w, m->renew.lease_ms);
		iam_wr_u32(&w, 0);
		break;
	case IAM_CTRL_RENEWED:
		iam_wr_u32(&w, m->renewed.nallocs);
		iam_wr_u32(&w, 0);
		break;
	case IAM_CTRL_ERROR:
		n = strnlen(m->error.msg, IAM_CTRL_ERRMSG_MAX);
		iam_wr_u32(&w, m->error.code);
		iam_wr_u8(&w, m->error.request);
		iam_wr_u8(&w, (uint8_t)n);
		iam_wr_zero(&w, 2);
		iam_wr_bytes(&w, m->error.msg, n);
		break;
	}
	if (!iam_wr_ok(&w))
		return -ENOSPC;
	iam_put32(w.p + 4, (uint32_t)w.len);
	return (ssize_t)w.len;
}

void iam_ctrl_error_init(struct iam_ctrl_msg *m, uint32_t xid, uint8_t req,
			 uint32_t code, const char *msg)
{
	memset(m, 0, sizeof(*m));
	m->type = IAM_CTRL_ERROR;
	m->xid = xid;
	m->error.code = code;
	m->error.request = req;
	snprintf(m->error.msg, sizeof(m->error.msg), "%s", msg ? msg : "");
}
