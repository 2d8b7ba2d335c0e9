/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * wire.h - the bounded reader and writer every parser and encoder of
 * outside bytes goes through (BGP, the control protocol).
 *
 * A read past the end sets 'err', returns zero and moves nothing; a write
 * past the capacity sets 'err' and writes nothing.  The caller checks
 * 'err' once after a run of reads or writes, so no length check can be
 * forgotten in between (OpenBGPD's habit: fail on short buffers, never
 * trust a length).  Multi-octet values are big-endian: network byte
 * order, as every protocol here puts them on the wire (RFC 4271, 4.1).
 */
#ifndef IAM_WIRE_H
#define IAM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t iam_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t iam_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void iam_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void iam_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

struct iam_rd {
	const uint8_t *p; /* the buffer */
	size_t len; /* its length */
	size_t off; /* bytes read so far */
	bool err; /* a read went past the end */
};

static inline void iam_rd_init(struct iam_rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = false;
}

static inline bool iam_rd_ok(const struct iam_rd *r)
{
	return !r->err;
}

static inline size_t iam_rd_left(const struct iam_rd *r)
{
	return r->len - r->off;
}

/* n bytes in place, or NULL (and err) if fewer remain. */
static inline const uint8_t *iam_rd_take(struct iam_rd *r, size_t n)
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

static inline uint8_t iam_rd_u8(struct iam_rd *r)
{
	const uint8_t *q = iam_rd_take(r, 1);

	return q ? q[0] : 0;
}

static inline uint16_t iam_rd_u16(struct iam_rd *r)
{
	const uint8_t *q = iam_rd_take(r, 2);

	return q ? iam_get16(q) : 0;
}

static inline uint32_t iam_rd_u32(struct iam_rd *r)
{
	const uint8_t *q = iam_rd_take(r, 4);

	return q ? iam_get32(q) : 0;
}

static inline uint64_t iam_rd_u64(struct iam_rd *r)
{
	uint64_t hi = iam_rd_u32(r);

	return hi << 32 | iam_rd_u32(r);
}

/* Copy n bytes out; zeros (and err) if fewer remain. */
static inline void iam_rd_bytes(struct iam_rd *r, void *dst, size_t n)
{
	const uint8_t *q = iam_rd_take(r, n);

	if (q)
		memcpy(dst, q, n);
	else
		memset(dst, 0, n);
}

static inline void iam_rd_skip(struct iam_rd *r, size_t n)
{
	iam_rd_take(r, n);
}

struct iam_wr {
	uint8_t *p; /* the buffer */
	size_t cap; /* its capacity */
	size_t len; /* bytes written so far */
	bool err; /* a write did not fit */
};

static inline void iam_wr_init(struct iam_wr *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = cap;
	w->len = 0;
	w->err = false;
}

static inline bool iam_wr_ok(const struct iam_wr *w)
{
	return !w->err;
}

/* Room for n bytes at the end, or NULL (and err). */
static inline uint8_t *iam_wr_room(struct iam_wr *w, size_t n)
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

static inline void iam_wr_u8(struct iam_wr *w, uint8_t v)
{
	uint8_t *q = iam_wr_room(w, 1);

	if (q)
		q[0] = v;
}

static inline void iam_wr_u16(struct iam_wr *w, uint16_t v)
{
	uint8_t *q = iam_wr_room(w, 2);

	if (q)
		iam_put16(q, v);
}

static inline void iam_wr_u32(struct iam_wr *w, uint32_t v)
{
	uint8_t *q = iam_wr_room(w, 4);

	if (q)
		iam_put32(q, v);
}

static inline void iam_wr_u64(struct iam_wr *w, uint64_t v)
{
	iam_wr_u32(w, (uint32_t)(v >> 32));
	iam_wr_u32(w, (uint32_t)v);
}

static inline void iam_wr_bytes(struct iam_wr *w, const void *v, size_t n)
{
	uint8_t *q = iam_wr_room(w, n);

	if (q && n)
		memcpy(q, v, n);
}

static inline void iam_wr_zero(struct iam_wr *w, size_t n)
{
	uint8_t *q = iam_wr_room(w, n);

	if (q)
		memset(q, 0, n);
}

#endif /* IAM_WIRE_H */
