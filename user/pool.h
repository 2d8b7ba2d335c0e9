/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * pool.h - the Memory Manager: the lendable chunk of RAM and its block
 * allocator (US 11,675,510, FIG. 5; DESIGN.md "Allocation").
 *
 * The pool is one mapping, aligned to its own size (a power of two), at or
 * above IAM_POOL_MIN_VADDR, locked in RAM (no lend ever page-faults),
 * optionally on 2 MiB huge pages.  Being aligned to its size makes the
 * whole pool one IPv6 prefix (iam_addr_aggregate_run() of
 * iam_pool_first_block_addr() and iam_pool_total_blocks()).
 *
 * Blocks are numbered 0..M-1 inside the pool ("block index"); the FIG. 2
 * block address of index i is iam_pool_first_block_addr() + i.
 *
 * Life of an allocation:
 *
 *   reserve (k blocks, owner, rights, time-to-live) -> RESERVED
 *      | confirm                       | release / TTL runs out
 *      v                               v
 *   ALLOCATED --release--> zeroed --> free
 *
 * The allocator prefers one contiguous run starting on an aligned boundary
 * (k blocks then need popcount(k) prefixes, the minimum), and keeps large
 * aligned runs intact (best fit, buddy system).  Reserved blocks were never
 * writable through the pool's data path (iam_pool_pin() needs ALLOCATED),
 * so releasing or expiring a reservation does not zero them; releasing a
 * confirmed allocation does, before its blocks can be handed out again.
 *
 * Threads: everything is thread-safe.  The control-plane calls take one
 * mutex and cost O(log M) per run plus O(1) per block.  The data-path
 * calls (iam_pool_access*, iam_pool_pin/unpin) take no lock: they read a
 * per-block atomic word (owner, rights, state, generation) with acquire
 * semantics; the control plane updates it with release semantics.
 *
 * Accounting: M (iam_pool_total_blocks) = free + reserved + allocated +
 * releasing, always, under the lock; V_i (what BGP announces) is free.
 *
 * All functions return 0 or -errno unless said otherwise.
 */
#ifndef IAM_POOL_H
#define IAM_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iam_const.h"

struct iam_pool;

struct iam_pool_cfg {
	uint64_t size; /* bytes: a power of two, >= the block size */
	uint8_t block_shift; /* log2(block size), 12..21 */
	bool huge; /* back with 2 MiB huge pages (size >= 2 MiB) */
	uint8_t pad[6];
	/* Where to try first (aligned to size, >= IAM_POOL_MIN_VADDR); 0
	 * for the default: the lowest aligned address >= 4 GiB. */
	uint64_t hint;
};

/* The most blocks one pool holds (block indices are 32-bit inside). */
#define IAM_POOL_MAX_BLOCKS (1ull << 31)
/* Fixed metadata per block, bytes (see pool.c: one 16-byte slot). */
#define IAM_POOL_META_PER_BLOCK 16u

enum iam_pool_state {
	IAM_POOL_FREE = 0,
	IAM_POOL_RESERVED = 1, /* waiting for confirm, has an expiry */
	IAM_POOL_ALLOCATED = 2, /* confirmed */
	IAM_POOL_RELEASING = 3, /* released, being zeroed */
};

/* A run of consecutive blocks: indices [first, first + count). */
struct iam_pool_run {
	uint64_t first; /* block index */
	uint64_t count; /* blocks, >= 1 */
};

struct iam_pool_alloc_info {
	uint64_t id; /* allocation id, never 0, not reused soon */
	uint64_t expiry_ms; /* RESERVED: CLOCK_MONOTONIC ms; else 0 */
	uint64_t nblocks; /* blocks in all runs */
	uint32_t owner; /* opaque borrower id given at reserve */
	uint32_t nruns; /* runs, ascending and non-adjacent */
	uint8_t rights; /* IAM_RIGHTS_RO or IAM_RIGHTS_RW */
	uint8_t state; /* enum iam_pool_state */
	uint8_t pad[6];
};

struct iam_pool_stats {
	uint64_t total; /* M: blocks in the pool */
	uint64_t free; /* V: neither reserved, allocated nor releasing */
	uint64_t reserved;
	uint64_t allocated;
	uint64_t releasing; /* released, being zeroed right now */
	uint64_t reservations; /* RESERVED allocations */
	uint64_t allocations; /* ALLOCATED allocations */
	uint64_t largest_free; /* blocks in the largest free aligned run */
	uint64_t meta_bytes; /* all metadata now (per-block + records) */
};

/* ---- life ------------------------------------------------------------ */

/*
 * Map and lock the pool.  -EINVAL: size not a power-of-two multiple of
 * the block size, or too large; -ENOMEM / -EPERM / -EAGAIN: the memory
 * cannot be had or locked.  errbuf (may be NULL) gets a sentence for
 * people: which limit stopped it and how to raise it (RLIMIT_MEMLOCK,
 * CAP_IPC_LOCK, free huge pages).
 */
int iam_pool_create(const struct iam_pool_cfg *cfg, struct iam_pool **out,
		    char *errbuf, size_t errlen);
/* Unmaps the pool; NULL is fine.  No other thread may use it then. */
void iam_pool_destroy(struct iam_pool *p);

void *iam_pool_base(const struct iam_pool *p);
uint64_t iam_pool_size(const struct iam_pool *p);
unsigned iam_pool_block_shift(const struct iam_pool *p);
uint64_t iam_pool_total_blocks(const struct iam_pool *p); /* M */
uint64_t iam_pool_free_blocks(struct iam_pool *p); /* V */
/* FIG. 2 block address of block 0: base >> block_shift. */
uint64_t iam_pool_first_block_addr(const struct iam_pool *p);
/* Block index -> its memory; NULL if out of range. */
void *iam_pool_block_ptr(const struct iam_pool *p, uint64_t index);
/* FIG. 2 block address -> block index; -ERANGE if not in this pool. */
int iam_pool_index(const struct iam_pool *p, uint64_t block_addr,
		   uint64_t *index);
void iam_pool_stats(struct iam_pool *p, struct iam_pool_stats *st);

/* ---- control plane --------------------------------------------------- */

/*
 * Reserve nblocks for owner with rights, until now_ms + ttl_ms.  -EINVAL:
 * nblocks or ttl_ms 0, bad rights; -ENOSPC: fewer than nblocks free
 * (nothing is reserved then); -ENOMEM.  *id identifies the reservation.
 */
int iam_pool_reserve(struct iam_pool *p, uint64_t nblocks, uint32_t owner,
		     unsigned rights, uint64_t now_ms, uint64_t ttl_ms,
		     uint64_t *id);
/*
 * RESERVED -> ALLOCATED.  -ENOENT: no such reservation (or it expired and
 * was reclaimed); -EPERM: owner is not the reserver; -EALREADY: already
 * confirmed; -ETIMEDOUT: its time-to-live ran out at now_ms (it is
 * reclaimed now).  Nothing changes on error except that last case.
 */
int iam_pool_confirm(struct iam_pool *p, uint64_t id, uint32_t owner,
		     uint64_t now_ms);
/*
 * Give back a reservation or allocation.  -ENOENT: no such id (e.g.
 * released already); -EPERM: owner is not its owner.  Nothing changes on
 * error.  A confirmed allocation is zeroed before this returns, after the
 * data path has dropped its pins (iam_pool_pin()).
 */
int iam_pool_release(struct iam_pool *p, uint64_t id, uint32_t owner);
/* Release everything owner holds (its lease ran out); *n (optional) gets
 * the number of allocations and reservations released. */
int iam_pool_release_owner(struct iam_pool *p, uint32_t owner, unsigned *n);

/*
 * Reclaim every reservation whose time-to-live ended at or before now_ms.
 * cb (may be NULL) is called for each, under the pool's lock: it must not
 * call back into the pool.  Returns how many expired.
 */
typedef void (*iam_pool_expired_cb)(uint64_t id, uint32_t owner,
				    uint64_t nblocks, void *arg);
unsigned iam_pool_expire(struct iam_pool *p, uint64_t now_ms,
			 iam_pool_expired_cb cb, void *arg);
/* When the next reservation expires (ms); UINT64_MAX when none. */
uint64_t iam_pool_next_expiry(struct iam_pool *p);

/*
 * One allocation: info and up to max_runs runs (info->nruns is the total).
 * -ENOENT if there is no such id.
 */
int iam_pool_get(struct iam_pool *p, uint64_t id,
		 struct iam_pool_alloc_info *info, struct iam_pool_run *runs,
		 size_t max_runs);
/* The allocation that holds block index; -ENOENT if it is free or being
 * released, -ERANGE if out of the pool. */
int iam_pool_block_lookup(struct iam_pool *p, uint64_t index,
			  struct iam_pool_alloc_info *info);
/*
 * Every reservation and allocation, in no set order, under the lock (cb
 * must not call into the pool).  cb returns 0 to go on; anything else
 * stops the walk and is returned.
 */
typedef int (*iam_pool_iter_cb)(const struct iam_pool_alloc_info *info,
				const struct iam_pool_run *runs, void *arg);
int iam_pool_foreach(struct iam_pool *p, iam_pool_iter_cb cb, void *arg);

/* Recount everything (tags, free lists, records) against the counters:
 * 0 or -EUCLEAN with the first mismatch in errbuf.  O(M): tests, debug. */
int iam_pool_audit(struct iam_pool *p, char *errbuf, size_t errlen);

const char *iam_pool_state_name(unsigned state);

/* ---- data path (lock-free) -------------------------------------------
 *
 * Reads (seqlock style):
 *
 *   uint64_t tok;
 *   if (iam_pool_access(p, idx, owner, IAM_RIGHTS_RO, &tok))
 *           refuse;
 *   memcpy(dst, iam_pool_block_ptr(p, idx) + off, len);
 *   if (!iam_pool_access_valid(p, idx, tok))
 *           discard the copy: the block changed hands meanwhile;
 *
 * Writes (the block must not change hands mid-write, or the next owner
 * would see our bytes): pin, write, unpin.  A release waits for the pins
 * to go before it zeroes, so keep pins short and never block while one
 * is held.
 */

/*
 * Is block index ALLOCATED (confirmed) to owner with at least rights (RW
 * includes RO)?  0 and a token for iam_pool_access_valid(); -ENOENT: not
 * allocated (free, reserved, releasing); -EPERM: another owner or too few
 * rights; -ERANGE: index out of the pool.
 */
int iam_pool_access(const struct iam_pool *p, uint64_t index, uint32_t owner,
		    unsigned rights, uint64_t *token);
/* After a copy: true if the block is still what the token said. */
bool iam_pool_access_valid(const struct iam_pool *p, uint64_t index,
			   uint64_t token);
/*
 * As iam_pool_access() and, on success, hold the block: it cannot be
 * released (zeroed, reused) until iam_pool_unpin().  -EBUSY if 255 pins
 * are held already.
 */
int iam_pool_pin(struct iam_pool *p, uint64_t index, uint32_t owner,
		 unsigned rights);
void iam_pool_unpin(struct iam_pool *p, uint64_t index);

#endif /* IAM_POOL_H */
