/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * buf.h - the bounded reader and writer every BGP codec function goes
 * through.  A read past the end sets 'err', returns zero and moves
 * nothing; a write past the capacity sets 'err' and writes nothing.  The
 * caller checks 'err' once after a run of reads or writes, so no length
 * check can be forgotten in between.  All multi-octet values are in
 * network byte order on the wire (RFC 4271, section 4).
 */
#ifndef IAM_BGP_BUF_H
#define IAM_BGP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct iam_bgp_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool err;
};

static inline void iam_bgp_rd_init(struct iam_bgp_rd *r, const uint8_t *p,
				   size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = false;
}

static inline size_t iam_bgp_rd_left(const struct iam_bgp_rd *r)
{
	return r->len - r->off;
}

/* n bytes in place, or NULL (and err) if fewer remain. */
static inline const uint8_t *iam_bgp_rd_take(struct iam_bgp_rd *r, size_t n)
{
	const uint8_t *q;

	if (r->err || n > r->len - r->off) {
		r->err = true;
		return NULL;
	}
	q = r->p + r->off;
	r->off += n;
	return q;
}

static inline uint8_t iam_bgp_rd_u8(struct iam_bgp_rd *r)
{
	const uint8_t *q = iam_bgp_rd_take(r, 1);

	return q ? q[0] : 0;
}

static inline uint16_t iam_bgp_rd_u16(struct iam_bgp_rd *r)
{
	const uint8_t *q = iam_bgp_rd_take(r, 2);

	return q ? (uint16_t)(q[0] << 8 | q[1]) : 0;
}

static inline uint32_t iam_bgp_rd_u32(struct iam_bgp_rd *r)
{
	const uint8_t *q = iam_bgp_rd_take(r, 4);

	return q ? (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
			       (uint32_t)q[2] << 8 | q[3] :
		   0;
}

static inline uint16_t iam_bgp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t iam_bgp_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void iam_bgp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void iam_bgp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

struct iam_bgp_wr {
	uint8_t *p;
	size_t cap;
	size_t len;
	bool err;
};

static inline void iam_bgp_wr_init(struct iam_bgp_wr *w, uint8_t *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->len = 0;
	w->err = false;
}

/* Room for n bytes at the end, or NULL (and err). */
static inline uint8_t *iam_bgp_wr_room(struct iam_bgp_wr *w, size_t n)
{
	uint8_t *q;

	if (w->err || n > w->cap - w->len) {
		w->err = true;
		return NULL;
	}
	q = w->p + w->len;
	w->len += n;
	return q;
}

static inline void iam_bgp_wr_u8(struct iam_bgp_wr *w, uint8_t v)
{
	uint8_t *q = iam_bgp_wr_room(w, 1);

	if (q)
		q[0] = v;
}

static inline void iam_bgp_wr_u16(struct iam_bgp_wr *w, uint16_t v)
{
	uint8_t *q = iam_bgp_wr_room(w, 2);

	if (q)
		iam_bgp_put16(q, v);
}

static inline void iam_bgp_wr_u32(struct iam_bgp_wr *w, uint32_t v)
{
	uint8_t *q = iam_bgp_wr_room(w, 4);

	if (q)
		iam_bgp_put32(q, v);
}

static inline void iam_bgp_wr_bytes(struct iam_bgp_wr *w, const void *v,
				    size_t n)
{
	uint8_t *q = iam_bgp_wr_room(w, n);

	if (q && n)
		memcpy(q, v, n);
}

#endif /* IAM_BGP_BUF_H */
