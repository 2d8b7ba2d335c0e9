/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * wire.h - bounded reader and writer over byte buffers.
 *
 * A reader never reads past its end: every get checks the bytes left, and
 * the first short read sets a sticky error, after which every get returns
 * zeros.  The caller checks iam_rd_ok() once at the end (OpenBGPD's habit:
 * fail on short buffers, never trust a length).  The writer is the mirror:
 * the first put that does not fit sets its error and writes nothing more.
 * Multi-byte values are big-endian (network byte order).
 */
#ifndef IAM_WIRE_H
#define IAM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct iam_rd {
	const uint8_t *p;
	size_t left;
	bool err;
};

static inline void iam_rd_init(struct iam_rd *r, const void *p, size_t len)
{
	r->p = p;
	r->left = len;
	r->err = false;
}

static inline bool iam_rd_ok(const struct iam_rd *r)
{
	return !r->err;
}

/* Bytes left; 0 after an error. */
static inline size_t iam_rd_left(const struct iam_rd *r)
{
	return r->err ? 0 : r->left;
}

static inline const uint8_t *iam_rd_take(struct iam_rd *r, size_t n)
{
	const uint8_t *p;

	if (r->err || r->left < n) {
		r->err = true;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

static inline uint8_t iam_rd_u8(struct iam_rd *r)
{
	const uint8_t *p = iam_rd_take(r, 1);

	return p ? p[0] : 0;
}

static inline uint16_t iam_rd_u16(struct iam_rd *r)
{
	const uint8_t *p = iam_rd_take(r, 2);

	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static inline uint32_t iam_rd_u32(struct iam_rd *r)
{
	const uint8_t *p = iam_rd_take(r, 4);

	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			       (uint32_t)p[2] << 8 | p[3] :
		   0;
}

static inline uint64_t iam_rd_u64(struct iam_rd *r)
{
	uint64_t hi = iam_rd_u32(r);

	return hi << 32 | iam_rd_u32(r);
}

static inline void iam_rd_bytes(struct iam_rd *r, void *dst, size_t n)
{
	const uint8_t *p = iam_rd_take(r, n);

	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

static inline void iam_rd_skip(struct iam_rd *r, size_t n)
{
	iam_rd_take(r, n);
}

struct iam_wr {
	uint8_t *p;
	size_t left;
	size_t len; /* bytes written so far */
	bool err;
};

static inline void iam_wr_init(struct iam_wr *w, void *p, size_t cap)
{
	w->p = p;
	w->left = cap;
	w->len = 0;
	w->err = false;
}

static inline bool iam_wr_ok(const struct iam_wr *w)
{
	return !w->err;
}

static inline uint8_t *iam_wr_take(struct iam_wr *w, size_t n)
{
	uint8_t *p;

	if (w->err || w->left < n) {
		w->err = true;
		return NULL;
	}
	p = w->p;
	w->p += n;
	w->left -= n;
	w->len += n;
	return p;
}

static inline void iam_wr_u8(struct iam_wr *w, uint8_t v)
{
	uint8_t *p = iam_wr_take(w, 1);

	if (p)
		p[0] = v;
}

static inline void iam_wr_u16(struct iam_wr *w, uint16_t v)
{
	uint8_t *p = iam_wr_take(w, 2);

	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

static inline void iam_wr_u32(struct iam_wr *w, uint32_t v)
{
	uint8_t *p = iam_wr_take(w, 4);

	if (p) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
}

static inline void iam_wr_u64(struct iam_wr *w, uint64_t v)
{
	iam_wr_u32(w, (uint32_t)(v >> 32));
	iam_wr_u32(w, (uint32_t)v);
}

static inline void iam_wr_bytes(struct iam_wr *w, const void *src, size_t n)
{
	uint8_t *p = iam_wr_take(w, n);

	if (p)
		memcpy(p, src, n);
}

static inline void iam_wr_zero(struct iam_wr *w, size_t n)
{
	uint8_t *p = iam_wr_take(w, n);

	if (p)
		memset(p, 0, n);
}

#endif /* IAM_WIRE_H */
