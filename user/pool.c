// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * pool.c - the Memory Manager: the locked, self-aligned pool and its block
 * allocator.  See pool.h for the contract.
 *
 * Allocator: a binary buddy system over block indices.  A free run of 2^o
 * blocks aligned to 2^o ("chunk of order o") sits on free list o; a
 * chunk's buddy is index ^ 2^o, and two free buddies of one order are
 * always merged, so every fully free aligned range is inside one chunk.
 * Those chunks are exactly what one IPv6 prefix covers, which is why the
 * allocator is shaped this way: a chunk of order o is one /(128 - o).
 *
 * Reserving k blocks takes the smallest chunk of order >= ceil(log2 k)
 * (best fit, so big chunks stay whole) and keeps its first k blocks: one
 * run, popcount(k) prefixes.  The unused tail goes back as the aligned
 * pieces it splits into.  If no chunk is that large, whole chunks are
 * taken largest first until the rest fits.
 *
 * Per block there is one 16-byte slot (struct blk): the data-path word and
 * two 32-bit links.  The links are the free-list pointers of a chunk's
 * head block, or the owning record's slot for reserved and allocated
 * blocks; a block is never both.  That is 16 B per block: 0.39 % of a
 * pool of 4 KiB blocks, 0.024 % with 64 KiB blocks.  Records (one per
 * allocation, with its runs) come on top.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "parse.h"
#include "pool.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#define MAP_HUGE_2MB_FLAG (21 << MAP_HUGE_SHIFT)
#define HUGE_SHIFT 21
/* The top of the x86-64 / arm64 48-bit user address space. */
#define USER_VA_END (1ull << 47)
/* Aligned slots tried with MAP_FIXED_NOREPLACE before over-mapping. */
#define PLACE_TRIES 64

#define NIL UINT32_MAX

/*
 * The data-path word of a block (struct blk.tag):
 *
 *   bits  0-31  owner; in a FREE block: order + 1 if it heads a free
 *               chunk, else 0
 *   bits 32-33  rights (IAM_RIGHTS_RO / IAM_RIGHTS_RW)
 *   bits 34-35  state (enum iam_pool_state)
 *   bits 36-43  pins: data-path writers inside the block right now
 *   bits 44-63  generation: +1 each time an allocation of the block ends,
 *               so a reader can tell "same owner again" from "never left"
 *
 * Written under the pool lock with release stores (or CAS where pins may
 * move); read by the data path with acquire loads.
 */
#define TAG_OWNER_MASK 0xffffffffull
#define TAG_RIGHTS_SHIFT 32
#define TAG_STATE_SHIFT 34
#define TAG_PIN_SHIFT 36
#define TAG_PIN_ONE (1ull << TAG_PIN_SHIFT)
#define TAG_PIN_MASK (0xffull << TAG_PIN_SHIFT)
#define TAG_PIN_MAX 0xffu
#define TAG_GEN_SHIFT 44
#define TAG_GEN_MASK (0xfffffull << TAG_GEN_SHIFT)

static inline unsigned tag_state(uint64_t t)
{
	return (unsigned)(t >> TAG_STATE_SHIFT) & 3;
}
static inline unsigned tag_rights(uint64_t t)
{
	return (unsigned)(t >> TAG_RIGHTS_SHIFT) & 3;
}
static inline uint32_t tag_owner(uint64_t t)
{
	return (uint32_t)(t & TAG_OWNER_MASK);
}
static inline unsigned tag_pins(uint64_t t)
{
	return (unsigned)((t & TAG_PIN_MASK) >> TAG_PIN_SHIFT);
}
/* A new tag keeping t's generation (and pins). */
static inline uint64_t tag_make(uint64_t t, unsigned state, uint32_t owner,
				unsigned rights)
{
	return (t & (TAG_GEN_MASK | TAG_PIN_MASK)) |
	       (uint64_t)state << TAG_STATE_SHIFT |
	       (uint64_t)rights << TAG_RIGHTS_SHIFT | owner;
}

struct blk {
	_Atomic uint64_t tag; /* see above */
	uint32_t a; /* free head: previous head; else: record slot */
	uint32_t b; /* free head: next head */
};
_Static_assert(sizeof(struct blk) == IAM_POOL_META_PER_BLOCK, "blk size");

struct rec {
	uint64_t id; /* 0: slot unused */
	uint64_t expiry_ms; /* RESERVED only */
	uint64_t nblocks;
	struct iam_pool_run *runs;
	uint32_t nruns;
	uint32_t owner;
	uint32_t heap_idx; /* in the expiry heap; NIL when not there */
	uint32_t next_free; /* unused slots form a list */
	uint8_t rights;
	uint8_t state;
};

struct iam_pool {
	pthread_mutex_t lock;
	char *base;
	uint64_t size;
	uint64_t nblocks;
	unsigned shift; /* log2 block size */
	unsigned order; /* log2 nblocks */
	bool huge;
	struct blk *blk;
	uint32_t freelist[32]; /* head index per order, NIL if empty */

	uint64_t nfree, nreserved, nallocated, nreleasing;
	uint64_t nres_recs, nalloc_recs;

	struct rec *recs;
	uint32_t nrecs; /* slots in use or on the free list */
	uint32_t rec_cap;
	uint32_t rec_free; /* first unused slot, NIL if none */
	uint32_t seq; /* high half of ids */
	uint64_t run_bytes; /* bytes of all records' runs arrays */

	uint32_t *heap; /* record slots, min-heap on expiry_ms */
	uint32_t heap_n, heap_cap;

	struct iam_pool_run *scratch; /* chunks being reserved */
	size_t scratch_cap;
};

static void errf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void errf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* ---- free lists ------------------------------------------------------- */

static uint64_t tag_get(const struct iam_pool *p, uint64_t i)
{
	return atomic_load_explicit(&p->blk[i].tag, memory_order_relaxed);
}

static void tag_put(struct iam_pool *p, uint64_t i, uint64_t t)
{
	atomic_store_explicit(&p->blk[i].tag, t, memory_order_release);
}

static bool is_free_head(const struct iam_pool *p, uint64_t i, unsigned o)
{
	uint64_t t = tag_get(p, i);

	return tag_state(t) == IAM_POOL_FREE && tag_owner(t) == o + 1;
}

static void list_push(struct iam_pool *p, unsigned o, uint32_t i)
{
	uint32_t h = p->freelist[o];

	p->blk[i].a = NIL;
	p->blk[i].b = h;
	if (h != NIL)
		p->blk[h].a = i;
	p->freelist[o] = i;
	tag_put(p, i, tag_make(tag_get(p, i), IAM_POOL_FREE, o + 1, 0));
}

static void list_del(struct iam_pool *p, unsigned o, uint32_t i)
{
	uint32_t pr = p->blk[i].a, nx = p->blk[i].b;

	if (pr != NIL)
		p->blk[pr].b = nx;
	else
		p->freelist[o] = nx;
	if (nx != NIL)
		p->blk[nx].a = pr;
	tag_put(p, i, tag_make(tag_get(p, i), IAM_POOL_FREE, 0, 0));
}

/* Free the chunk (i, o), whose blocks are tagged FREE, merging buddies. */
static void buddy_free(struct iam_pool *p, uint32_t i, unsigned o)
{
	while (o < p->order) {
		uint32_t buddy = i ^ (1u << o);

		if (!is_free_head(p, buddy, o))
			break;
		list_del(p, o, buddy);
		i &= ~(1u << o);
		o++;
	}
	list_push(p, o, i);
}

/* Largest aligned piece starting at pos that ends by end (log2). */
static unsigned piece_order(uint64_t pos, uint64_t end, unsigned max)
{
	unsigned k = pos ? (unsigned)__builtin_ctzll(pos) : max;

	if (k > max)
		k = max;
	while ((1ull << k) > end - pos)
		k--;
	return k;
}

/* Return [first, first + count) to the free lists and tag it FREE. */
static void free_range(struct iam_pool *p, uint64_t first, uint64_t count)
{
	uint64_t pos = first, end = first + count;

	for (uint64_t i = first; i < end; i++)
		tag_put(p, i, tag_make(tag_get(p, i), IAM_POOL_FREE, 0, 0));
	while (pos < end) {
		unsigned k = piece_order(pos, end, p->order);

		buddy_free(p, (uint32_t)pos, k);
		pos += 1ull << k;
	}
}

/* Pop a chunk of the smallest order >= min; false if none. */
static bool take_fit(struct iam_pool *p, unsigned min, uint32_t *i, unsigned *o)
{
	for (unsigned k = min; k <= p->order; k++) {
		if (p->freelist[k] != NIL) {
			*i = p->freelist[k];
			*o = k;
			list_del(p, k, *i);
			return true;
		}
	}
	return false;
}

static bool take_largest(struct iam_pool *p, uint32_t *i, unsigned *o)
{
	for (int k = (int)p->order; k >= 0; k--) {
		if (p->freelist[k] != NIL) {
			*i = p->freelist[k];
			*o = (unsigned)k;
			list_del(p, (unsigned)k, *i);
			return true;
		}
	}
	return false;
}

static unsigned ceil_log2(uint64_t v)
{
	return v <= 1 ? 0 : 64 - (unsigned)__builtin_clzll(v - 1);
}

/* ---- records and the expiry heap ------------------------------------- */

static struct rec *rec_find(struct iam_pool *p, uint64_t id)
{
	uint32_t slot = (uint32_t)id;

	if (!id || slot >= p->nrecs || p->recs[slot].id != id)
		return NULL;
	return &p->recs[slot];
}

/* Make sure one more record and one more heap entry fit. */
static int rec_reserve_room(struct iam_pool *p)
{
	if (p->rec_free == NIL && p->nrecs == p->rec_cap) {
		uint32_t cap = p->rec_cap ? p->rec_cap * 2 : 64;
		struct rec *r = realloc(p->recs, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		p->recs = r;
		p->rec_cap = cap;
	}
	if (p->heap_n == p->heap_cap) {
		uint32_t cap = p->heap_cap ? p->heap_cap * 2 : 64;
		uint32_t *h = realloc(p->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		p->heap = h;
		p->heap_cap = cap;
	}
	return 0;
}

static uint32_t rec_alloc(struct iam_pool *p)
{
	uint32_t slot;

	if (p->rec_free != NIL) {
		slot = p->rec_free;
		p->rec_free = p->recs[slot].next_free;
	} else {
		slot = p->nrecs++;
	}
	memset(&p->recs[slot], 0, sizeof(p->recs[slot]));
	p->recs[slot].heap_idx = NIL;
	if (++p->seq == 0)
		p->seq = 1;
	p->recs[slot].id = (uint64_t)p->seq << 32 | slot;
	return slot;
}

/* Forget the record; its runs array becomes the caller's if it took it. */
static void rec_drop(struct iam_pool *p, struct rec *r)
{
	uint32_t slot = (uint32_t)(r - p->recs);

	p->run_bytes -= r->nruns * sizeof(*r->runs);
	free(r->runs);
	r->runs = NULL;
	r->id = 0;
	r->next_free = p->rec_free;
	p->rec_free = slot;
}

static bool heap_less(struct iam_pool *p, uint32_t a, uint32_t b)
{
	return p->recs[p->heap[a]].expiry_ms < p->recs[p->heap[b]].expiry_ms;
}

static void heap_swap(struct iam_pool *p, uint32_t a, uint32_t b)
{
	uint32_t t = p->heap[a];

	p->heap[a] = p->heap[b];
	p->heap[b] = t;
	p->recs[p->heap[a]].heap_idx = a;
	p->recs[p->heap[b]].heap_idx = b;
}

static void heap_up(struct iam_pool *p, uint32_t i)
{
	while (i && heap_less(p, i, (i - 1) / 2)) {
		heap_swap(p, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct iam_pool *p, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < p->heap_n && heap_less(p, l, m))
			m = l;
		if (r < p->heap_n && heap_less(p, r, m))
			m = r;
		if (m == i)
			return;
		heap_swap(p, i, m);
		i = m;
	}
}

static void heap_push(struct iam_pool *p, uint32_t slot)
{
	p->heap[p->heap_n] = slot;
	p->recs[slot].heap_idx = p->heap_n;
	heap_up(p, p->heap_n++);
}

static void heap_remove(struct iam_pool *p, struct rec *r)
{
	uint32_t i = r->heap_idx;

	if (i == NIL)
		return;
	r->heap_idx = NIL;
	if (i != --p->heap_n) {
		p->heap[i] = p->heap[p->heap_n];
		p->recs[p->heap[i]].heap_idx = i;
		heap_down(p, i);
		heap_up(p, i);
	}
}

/* ---- creation --------------------------------------------------------- */

static bool have_cap_ipc_lock(void)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return eff & (1ull << 14); /* CAP_IPC_LOCK */
}

static long huge_free_pages(void)
{
	FILE *f = fopen(
		"/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages",
		"re");
	long n = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

/* A PROT_NONE reservation of size bytes aligned to size, >= min_addr. */
static int place(uint64_t size, uint64_t hint, void **out)
{
	const int fl = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	uint64_t a = hint;
	char *m, *al;

	for (int i = 0; i < PLACE_TRIES && a + size <= USER_VA_END;
	     i++, a += size) {
		m = mmap((void *)a, size, PROT_NONE, fl | MAP_FIXED_NOREPLACE,
			 -1, 0);
		if (m == (void *)a) {
			*out = m;
			return 0;
		}
		/* Kernels before 4.17 treat the flag as a hint. */
		if (m != MAP_FAILED)
			munmap(m, size);
		else if (errno != EEXIST)
			break;
	}
	/* Over-map twice the size and trim to the aligned middle. */
	m = mmap(NULL, 2 * size, PROT_NONE, fl, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	al = (char *)(((uintptr_t)m + size - 1) & ~(uintptr_t)(size - 1));
	if (al > m)
		munmap(m, (size_t)(al - m));
	if (al + size < m + 2 * size)
		munmap(al + size, (size_t)(m + 2 * size - (al + size)));
	if ((uintptr_t)al < IAM_POOL_MIN_VADDR) {
		munmap(al, size);
		return -ENOMEM;
	}
	*out = al;
	return 0;
}

static void explain_lock_failure(int err, uint64_t size, char *errbuf,
				 size_t errlen)
{
	char s[32], l[32];
	struct rlimit rl;

	iam_fmt_size(size, s, sizeof(s));
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < size &&
	    !have_cap_ipc_lock()) {
		iam_fmt_size(rl.rlim_cur, l, sizeof(l));
		errf(errbuf, errlen,
		     "cannot lock the %s pool in RAM: RLIMIT_MEMLOCK is %s "
		     "(raise it with `ulimit -l`, LimitMEMLOCK= in a systemd "
		     "unit, or run with CAP_IPC_LOCK)",
		     s, l);
		return;
	}
	errf(errbuf, errlen,
	     "cannot lock the %s pool in RAM: %s (not enough free memory? "
	     "see MemAvailable in /proc/meminfo, or choose a smaller --pool)",
	     s, strerror(-err));
}

int iam_pool_create(const struct iam_pool_cfg *cfg, struct iam_pool **out,
		    char *errbuf, size_t errlen)
{
	uint64_t size = cfg->size, hint = cfg->hint;
	unsigned shift = cfg->block_shift;
	struct iam_pool *p;
	char sz[32];
	void *res = NULL, *m;
	int err, fl;

	errf(errbuf, errlen, "%s", "");
	iam_fmt_size(size, sz, sizeof(sz));
	if (shift < IAM_BLOCK_SHIFT_MIN || shift > IAM_BLOCK_SHIFT_MAX) {
		errf(errbuf, errlen, "block size 2^%u is outside 4K..2M",
		     shift);
		return -EINVAL;
	}
	if (!size || (size & (size - 1)) || size < (1ull << shift)) {
		errf(errbuf, errlen,
		     "pool size %s is not a power-of-two multiple of the "
		     "block size",
		     sz);
		return -EINVAL;
	}
	if ((size >> shift) > IAM_POOL_MAX_BLOCKS || size > USER_VA_END / 4) {
		errf(errbuf, errlen, "pool size %s is too large", sz);
		return -EINVAL;
	}
	if (cfg->huge && size < (1ull << HUGE_SHIFT)) {
		errf(errbuf, errlen,
		     "a pool on 2M huge pages must be at least 2M, not %s", sz);
		return -EINVAL;
	}
	if (!hint) {
		hint = IAM_POOL_MIN_VADDR > size ? IAM_POOL_MIN_VADDR : size;
	} else if (hint < IAM_POOL_MIN_VADDR || (hint & (size - 1))) {
		errf(errbuf, errlen,
		     "pool address 0x%" PRIx64 " is below 4G or not aligned "
		     "to the pool size %s",
		     hint, sz);
		return -EINVAL;
	}

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->size = size;
	p->shift = shift;
	p->nblocks = size >> shift;
	p->order = (unsigned)__builtin_ctzll(p->nblocks);
	p->huge = cfg->huge;
	p->rec_free = NIL;
	p->blk = calloc(p->nblocks, sizeof(*p->blk));
	if (!p->blk) {
		err = -ENOMEM;
		errf(errbuf, errlen,
		     "no memory for the metadata of %" PRIu64 " blocks",
		     p->nblocks);
		goto err_free;
	}

	err = place(size, hint, &res);
	if (err) {
		errf(errbuf, errlen,
		     "cannot find %s of address space aligned to %s above 4G: "
		     "%s",
		     sz, sz, strerror(-err));
		goto err_free;
	}
	fl = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
	if (cfg->huge)
		fl |= MAP_HUGETLB | MAP_HUGE_2MB_FLAG;
	m = mmap(res, size, PROT_READ | PROT_WRITE, fl, -1, 0);
	if (m == MAP_FAILED) {
		err = -errno;
		if (cfg->huge)
			errf(errbuf, errlen,
			     "cannot map the %s pool on 2M huge pages: %s "
			     "(%ld free, %" PRIu64 " needed; reserve them with "
			     "`echo N > /proc/sys/vm/nr_hugepages`)",
			     sz, strerror(-err), huge_free_pages(),
			     size >> HUGE_SHIFT);
		else
			errf(errbuf, errlen, "cannot map the %s pool: %s", sz,
			     strerror(-err));
		munmap(res, size);
		goto err_free;
	}
	p->base = m;
	/* A fork must not copy-on-write the pool (it is RDMA-registered). */
	madvise(p->base, size, MADV_DONTFORK);
	/* Locking faults every page in: no lend ever page-faults. */
	if (mlock(p->base, size) < 0) {
		err = -errno;
		explain_lock_failure(err, size, errbuf, errlen);
		goto err_unmap;
	}
	err = pthread_mutex_init(&p->lock, NULL);
	if (err) {
		err = -err;
		goto err_unmap;
	}
	for (unsigned o = 0; o < 32; o++)
		p->freelist[o] = NIL;
	list_push(p, p->order, 0);
	p->nfree = p->nblocks;
	iam_dbg("pool: %s at %p, %" PRIu64 " blocks of %u bytes%s", sz,
		(void *)p->base, p->nblocks, 1u << shift,
		cfg->huge ? " on 2M huge pages" : "");
	*out = p;
	return 0;

err_unmap:
	munmap(p->base, size);
err_free:
	free(p->blk);
	free(p);
	return err;
}

void iam_pool_destroy(struct iam_pool *p)
{
	if (!p)
		return;
	for (uint32_t s = 0; s < p->nrecs; s++)
		if (p->recs[s].id)
			free(p->recs[s].runs);
	free(p->recs);
	free(p->heap);
	free(p->scratch);
	munmap(p->base, p->size);
	free(p->blk);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void *iam_pool_base(const struct iam_pool *p)
{
	return p->base;
}

uint64_t iam_pool_size(const struct iam_pool *p)
{
	return p->size;
}

unsigned iam_pool_block_shift(const struct iam_pool *p)
{
	return p->shift;
}

uint64_t iam_pool_total_blocks(const struct iam_pool *p)
{
	return p->nblocks;
}

uint64_t iam_pool_free_blocks(struct iam_pool *p)
{
	uint64_t v;

	pthread_mutex_lock(&p->lock);
	v = p->nfree;
	pthread_mutex_unlock(&p->lock);
	return v;
}

uint64_t iam_pool_first_block_addr(const struct iam_pool *p)
{
	return (uintptr_t)p->base >> p->shift;
}

void *iam_pool_block_ptr(const struct iam_pool *p, uint64_t index)
{
	if (index >= p->nblocks)
		return NULL;
	return p->base + (index << p->shift);
}

int iam_pool_index(const struct iam_pool *p, uint64_t block_addr,
		   uint64_t *index)
{
	uint64_t first = iam_pool_first_block_addr(p);

	if (block_addr < first || block_addr - first >= p->nblocks)
		return -ERANGE;
	*index = block_addr - first;
	return 0;
}

static uint64_t meta_bytes(const struct iam_pool *p)
{
	return p->nblocks * sizeof(struct blk) + sizeof(*p) +
	       (uint64_t)p->rec_cap * sizeof(struct rec) + p->run_bytes +
	       (uint64_t)p->heap_cap * sizeof(uint32_t) +
	       p->scratch_cap * sizeof(struct iam_pool_run);
}

void iam_pool_stats(struct iam_pool *p, struct iam_pool_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&p->lock);
	st->total = p->nblocks;
	st->free = p->nfree;
	st->reserved = p->nreserved;
	st->allocated = p->nallocated;
	st->releasing = p->nreleasing;
	st->reservations = p->nres_recs;
	st->allocations = p->nalloc_recs;
	for (int k = (int)p->order; k >= 0; k--) {
		if (p->freelist[k] != NIL) {
			st->largest_free = 1ull << k;
			break;
		}
	}
	st->meta_bytes = meta_bytes(p);
	pthread_mutex_unlock(&p->lock);
}

/* ---- reserve / confirm / release ------------------------------------- */

static int scratch_room(struct iam_pool *p, size_t n)
{
	struct iam_pool_run *s;
	size_t cap;

	if (n <= p->scratch_cap)
		return 0;
	cap = p->scratch_cap ? p->scratch_cap * 2 : 16;
	s = realloc(p->scratch, cap * sizeof(*s));
	if (!s)
		return -ENOMEM;
	p->scratch = s;
	p->scratch_cap = cap;
	return 0;
}

static int run_cmp(const void *a, const void *b)
{
	const struct iam_pool_run *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* Take nblocks free blocks into p->scratch as ranges; *n gets how many.
 * On -ENOMEM everything taken is given back. */
static int take_blocks(struct iam_pool *p, uint64_t nblocks, size_t *n)
{
	uint64_t left = nblocks;
	size_t k = 0;

	while (left) {
		unsigned want = ceil_log2(left), o;
		uint32_t i;

		if (scratch_room(p, k + 1)) {
			for (size_t j = 0; j < k; j++)
				free_range(p, p->scratch[j].first,
					   p->scratch[j].count);
			return -ENOMEM;
		}
		if (take_fit(p, want, &i, &o)) {
			/* Keep the head of the chunk; its tail goes back
			 * as the aligned pieces it is made of. */
			uint64_t pos = i + left, end = i + (1ull << o);

			while (pos < end) {
				unsigned po =
					(unsigned)__builtin_ctzll(pos - i);

				list_push(p, po, (uint32_t)pos);
				pos += 1ull << po;
			}
			p->scratch[k++] = (struct iam_pool_run){ i, left };
			left = 0;
		} else if (take_largest(p, &i, &o)) {
			/* ceil_log2(left) > o, so the whole chunk fits. */
			p->scratch[k++] = (struct iam_pool_run){ i, 1ull << o };
			left -= 1ull << o;
		} else {
			/* Unreachable while nfree is right; give back. */
			for (size_t j = 0; j < k; j++)
				free_range(p, p->scratch[j].first,
					   p->scratch[j].count);
			return -ENOSPC;
		}
	}
	*n = k;
	return 0;
}

static bool rights_ok(unsigned r)
{
	return r == IAM_RIGHTS_RO || r == IAM_RIGHTS_RW;
}

int iam_pool_reserve(struct iam_pool *p, uint64_t nblocks, uint32_t owner,
		     unsigned rights, uint64_t now_ms, uint64_t ttl_ms,
		     uint64_t *id)
{
	struct iam_pool_run *runs;
	size_t n, nr = 0;
	uint32_t slot;
	struct rec *r;
	int err;

	if (!nblocks || !ttl_ms || !rights_ok(rights))
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	if (nblocks > p->nfree) {
		err = -ENOSPC;
		goto out;
	}
	err = rec_reserve_room(p);
	if (err)
		goto out;
	err = take_blocks(p, nblocks, &n);
	if (err)
		goto out;
	/* Sorted, adjacent ranges merged: the runs the borrower sees. */
	qsort(p->scratch, n, sizeof(*p->scratch), run_cmp);
	for (size_t j = 0; j < n; j++) {
		if (nr && p->scratch[nr - 1].first + p->scratch[nr - 1].count ==
				  p->scratch[j].first)
			p->scratch[nr - 1].count += p->scratch[j].count;
		else
			p->scratch[nr++] = p->scratch[j];
	}
	runs = malloc(nr * sizeof(*runs));
	if (!runs) {
		for (size_t j = 0; j < nr; j++)
			free_range(p, p->scratch[j].first, p->scratch[j].count);
		err = -ENOMEM;
		goto out;
	}
	memcpy(runs, p->scratch, nr * sizeof(*runs));
	slot = rec_alloc(p);
	r = &p->recs[slot];
	r->runs = runs;
	r->nruns = (uint32_t)nr;
	r->nblocks = nblocks;
	r->owner = owner;
	r->rights = (uint8_t)rights;
	r->state = IAM_POOL_RESERVED;
	r->expiry_ms = now_ms + ttl_ms < now_ms ? UINT64_MAX : now_ms + ttl_ms;
	p->run_bytes += nr * sizeof(*runs);
	for (size_t j = 0; j < nr; j++) {
		for (uint64_t b = runs[j].first;
		     b < runs[j].first + runs[j].count; b++) {
			p->blk[b].a = slot;
			tag_put(p, b,
				tag_make(tag_get(p, b), IAM_POOL_RESERVED,
					 owner, rights));
		}
	}
	heap_push(p, slot);
	p->nfree -= nblocks;
	p->nreserved += nblocks;
	p->nres_recs++;
	*id = r->id;
out:
	pthread_mutex_unlock(&p->lock);
	return err;
}

/* A reservation ends without having been writable: no zeroing. */
static void unreserve(struct iam_pool *p, struct rec *r)
{
	heap_remove(p, r);
	for (uint32_t j = 0; j < r->nruns; j++)
		free_range(p, r->runs[j].first, r->runs[j].count);
	p->nreserved -= r->nblocks;
	p->nfree += r->nblocks;
	p->nres_recs--;
	rec_drop(p, r);
}

int iam_pool_confirm(struct iam_pool *p, uint64_t id, uint32_t owner,
		     uint64_t now_ms)
{
	struct rec *r;
	int err = 0;

	pthread_mutex_lock(&p->lock);
	r = rec_find(p, id);
	if (!r) {
		err = -ENOENT;
	} else if (r->owner != owner) {
		err = -EPERM;
	} else if (r->state == IAM_POOL_ALLOCATED) {
		err = -EALREADY;
	} else if (now_ms >= r->expiry_ms) {
		unreserve(p, r);
		err = -ETIMEDOUT;
	} else {
		heap_remove(p, r);
		r->state = IAM_POOL_ALLOCATED;
		r->expiry_ms = 0;
		for (uint32_t j = 0; j < r->nruns; j++)
			for (uint64_t b = r->runs[j].first;
			     b < r->runs[j].first + r->runs[j].count; b++)
				tag_put(p, b,
					tag_make(tag_get(p, b),
						 IAM_POOL_ALLOCATED, owner,
						 r->rights));
		p->nreserved -= r->nblocks;
		p->nallocated += r->nblocks;
		p->nres_recs--;
		p->nalloc_recs++;
	}
	pthread_mutex_unlock(&p->lock);
	return err;
}

/*
 * ALLOCATED -> RELEASING with a new generation, keeping the pins.  A CAS
 * because the data path may pin or unpin at the same moment; acq_rel so
 * that the zeroing that follows cannot move before it.
 */
static void mark_releasing(struct iam_pool *p, uint64_t b)
{
	uint64_t t = atomic_load_explicit(&p->blk[b].tag, memory_order_relaxed);
	uint64_t n;

	do {
		n = tag_make(t, IAM_POOL_RELEASING, tag_owner(t),
			     tag_rights(t));
		n = (n & ~TAG_GEN_MASK) |
		    ((t + (1ull << TAG_GEN_SHIFT)) & TAG_GEN_MASK);
	} while (!atomic_compare_exchange_weak_explicit(&p->blk[b].tag, &t, n,
							memory_order_acq_rel,
							memory_order_relaxed));
}

int iam_pool_release(struct iam_pool *p, uint64_t id, uint32_t owner)
{
	struct iam_pool_run *runs;
	uint64_t nblocks;
	uint32_t nruns;
	struct rec *r;

	pthread_mutex_lock(&p->lock);
	r = rec_find(p, id);
	if (!r || r->owner != owner) {
		pthread_mutex_unlock(&p->lock);
		return r ? -EPERM : -ENOENT;
	}
	if (r->state == IAM_POOL_RESERVED) {
		unreserve(p, r);
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	/* Confirmed: take the runs, end the record, zero outside the lock. */
	runs = r->runs;
	nruns = r->nruns;
	nblocks = r->nblocks;
	for (uint32_t j = 0; j < nruns; j++)
		for (uint64_t b = runs[j].first;
		     b < runs[j].first + runs[j].count; b++)
			mark_releasing(p, b);
	p->nallocated -= nblocks;
	p->nreleasing += nblocks;
	p->nalloc_recs--;
	p->run_bytes -= nruns * sizeof(*runs);
	r->runs = NULL;
	r->nruns = 0;
	rec_drop(p, r);
	pthread_mutex_unlock(&p->lock);

	/* Writers that pinned before the state changed finish first. */
	for (uint32_t j = 0; j < nruns; j++)
		for (uint64_t b = runs[j].first;
		     b < runs[j].first + runs[j].count; b++)
			while (tag_pins(atomic_load_explicit(
				&p->blk[b].tag, memory_order_acquire)))
				sched_yield();
	for (uint32_t j = 0; j < nruns; j++)
		memset(p->base + (runs[j].first << p->shift), 0,
		       runs[j].count << p->shift);

	pthread_mutex_lock(&p->lock);
	for (uint32_t j = 0; j < nruns; j++)
		free_range(p, runs[j].first, runs[j].count);
	p->nreleasing -= nblocks;
	p->nfree += nblocks;
	pthread_mutex_unlock(&p->lock);
	free(runs);
	return 0;
}

int iam_pool_release_owner(struct iam_pool *p, uint32_t owner, unsigned *n)
{
	uint64_t *ids = NULL;
	size_t cnt = 0;
	unsigned done = 0;
	int err = 0;

	pthread_mutex_lock(&p->lock);
	for (uint32_t s = 0; s < p->nrecs; s++)
		cnt += p->recs[s].id && p->recs[s].owner == owner;
	if (cnt) {
		ids = malloc(cnt * sizeof(*ids));
		if (!ids)
			err = -ENOMEM;
	}
	cnt = 0;
	for (uint32_t s = 0; ids && s < p->nrecs; s++)
		if (p->recs[s].id && p->recs[s].owner == owner)
			ids[cnt++] = p->recs[s].id;
	pthread_mutex_unlock(&p->lock);
	/* Another thread may release one of them first: -ENOENT is fine. */
	for (size_t i = 0; i < cnt; i++)
		done += iam_pool_release(p, ids[i], owner) == 0;
	free(ids);
	if (n)
		*n = done;
	return err;
}

unsigned iam_pool_expire(struct iam_pool *p, uint64_t now_ms,
			 iam_pool_expired_cb cb, void *arg)
{
	unsigned n = 0;

	pthread_mutex_lock(&p->lock);
	while (p->heap_n && p->recs[p->heap[0]].expiry_ms <= now_ms) {
		struct rec *r = &p->recs[p->heap[0]];

		if (cb)
			cb(r->id, r->owner, r->nblocks, arg);
		unreserve(p, r);
		n++;
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

uint64_t iam_pool_next_expiry(struct iam_pool *p)
{
	uint64_t t;

	pthread_mutex_lock(&p->lock);
	t = p->heap_n ? p->recs[p->heap[0]].expiry_ms : UINT64_MAX;
	pthread_mutex_unlock(&p->lock);
	return t;
}

/* ---- inspection ------------------------------------------------------- */

static void fill_info(const struct rec *r, struct iam_pool_alloc_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = r->id;
	info->expiry_ms = r->state == IAM_POOL_RESERVED ? r->expiry_ms : 0;
	info->nblocks = r->nblocks;
	info->owner = r->owner;
	info->nruns = r->nruns;
	info->rights = r->rights;
	info->state = r->state;
}

int iam_pool_get(struct iam_pool *p, uint64_t id,
		 struct iam_pool_alloc_info *info, struct iam_pool_run *runs,
		 size_t max_runs)
{
	struct rec *r;
	int err = 0;

	pthread_mutex_lock(&p->lock);
	r = rec_find(p, id);
	if (!r) {
		err = -ENOENT;
	} else {
		if (info)
			fill_info(r, info);
		if (runs)
			memcpy(runs, r->runs,
			       (max_runs < r->nruns ? max_runs : r->nruns) *
				       sizeof(*runs));
	}
	pthread_mutex_unlock(&p->lock);
	return err;
}

int iam_pool_block_lookup(struct iam_pool *p, uint64_t index,
			  struct iam_pool_alloc_info *info)
{
	unsigned st;
	int err = 0;

	if (index >= p->nblocks)
		return -ERANGE;
	pthread_mutex_lock(&p->lock);
	st = tag_state(tag_get(p, index));
	if (st == IAM_POOL_RESERVED || st == IAM_POOL_ALLOCATED)
		fill_info(&p->recs[p->blk[index].a], info);
	else
		err = -ENOENT;
	pthread_mutex_unlock(&p->lock);
	return err;
}

int iam_pool_foreach(struct iam_pool *p, iam_pool_iter_cb cb, void *arg)
{
	struct iam_pool_alloc_info info;
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	for (uint32_t s = 0; s < p->nrecs && !rc; s++) {
		if (!p->recs[s].id)
			continue;
		fill_info(&p->recs[s], &info);
		rc = cb(&info, p->recs[s].runs, arg);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

const char *iam_pool_state_name(unsigned state)
{
	static const char *const names[] = { "free", "reserved", "allocated",
					     "releasing" };

	return state < 4 ? names[state] : "unknown";
}

#define AUDIT(cond, ...)                                   \
	do {                                               \
		if (!(cond)) {                             \
			errf(errbuf, errlen, __VA_ARGS__); \
			err = -EUCLEAN;                    \
			goto out;                          \
		}                                          \
	} while (0)

int iam_pool_audit(struct iam_pool *p, char *errbuf, size_t errlen)
{
	uint64_t cnt[4] = { 0 }, listed = 0, nres = 0, nalloc = 0;
	uint64_t rblocks[4] = { 0 };
	uint8_t *seen;
	int err = 0;

	seen = calloc(p->nblocks, 1);
	if (!seen)
		return -ENOMEM;
	errf(errbuf, errlen, "%s", "");
	pthread_mutex_lock(&p->lock);
	for (uint64_t i = 0; i < p->nblocks; i++)
		cnt[tag_state(tag_get(p, i))]++;
	AUDIT(cnt[0] == p->nfree,
	      "%" PRIu64 " blocks tagged free, nfree %" PRIu64, cnt[0],
	      p->nfree);
	AUDIT(cnt[1] == p->nreserved,
	      "%" PRIu64 " tagged reserved, counter %" PRIu64, cnt[1],
	      p->nreserved);
	AUDIT(cnt[2] == p->nallocated,
	      "%" PRIu64 " tagged allocated, counter %" PRIu64, cnt[2],
	      p->nallocated);
	AUDIT(cnt[3] == p->nreleasing,
	      "%" PRIu64 " tagged releasing, counter %" PRIu64, cnt[3],
	      p->nreleasing);
	AUDIT(p->nfree + p->nreserved + p->nallocated + p->nreleasing ==
		      p->nblocks,
	      "counters do not add up to M");
	/* Free lists: aligned heads, free blocks, no unmerged buddies. */
	for (unsigned o = 0; o <= p->order; o++) {
		uint32_t prev = NIL;

		for (uint32_t i = p->freelist[o]; i != NIL; i = p->blk[i].b) {
			AUDIT(i < p->nblocks && !(i & ((1u << o) - 1)),
			      "bad head %u on list %u", i, o);
			AUDIT(is_free_head(p, i, o),
			      "block %u on list %u is "
			      "not tagged as its head",
			      i, o);
			AUDIT(p->blk[i].a == prev, "bad back link at %u", i);
			AUDIT(o == p->order ||
				      !is_free_head(p, i ^ (1u << o), o),
			      "unmerged buddies %u and %u", i, i ^ (1u << o));
			for (uint64_t b = i; b < i + (1ull << o); b++) {
				uint64_t t = tag_get(p, b);

				AUDIT(!seen[b],
				      "block %" PRIu64 " listed twice", b);
				seen[b] = 1;
				AUDIT(tag_state(t) == IAM_POOL_FREE,
				      "listed block %" PRIu64 " is %s", b,
				      iam_pool_state_name(tag_state(t)));
				AUDIT(b == i || tag_owner(t) == 0,
				      "block %" PRIu64
				      " inside a chunk marked as a head",
				      b);
			}
			listed += 1ull << o;
			prev = i;
		}
	}
	AUDIT(listed == p->nfree, "%" PRIu64 " blocks listed, nfree %" PRIu64,
	      listed, p->nfree);
	/* Records against the blocks they name. */
	for (uint32_t s = 0; s < p->nrecs; s++) {
		struct rec *r = &p->recs[s];
		uint64_t sum = 0;

		if (!r->id)
			continue;
		AUDIT(r->state == IAM_POOL_RESERVED ||
			      r->state == IAM_POOL_ALLOCATED,
		      "record %u in state %u", s, r->state);
		AUDIT((r->state == IAM_POOL_RESERVED) == (r->heap_idx != NIL),
		      "record %u: heap membership does not match its state", s);
		for (uint32_t j = 0; j < r->nruns; j++) {
			AUDIT(j == 0 || r->runs[j].first >
						r->runs[j - 1].first +
							r->runs[j - 1].count,
			      "record %u: runs unsorted or adjacent", s);
			for (uint64_t b = r->runs[j].first;
			     b < r->runs[j].first + r->runs[j].count; b++) {
				uint64_t t = tag_get(p, b);

				AUDIT(b < p->nblocks && !seen[b],
				      "block %" PRIu64 " held twice", b);
				seen[b] = 1;
				AUDIT(tag_state(t) == r->state &&
					      tag_owner(t) == r->owner &&
					      tag_rights(t) == r->rights &&
					      p->blk[b].a == s,
				      "block %" PRIu64
				      " does not match record %u",
				      b, s);
			}
			sum += r->runs[j].count;
		}
		AUDIT(sum == r->nblocks,
		      "record %u: runs hold %" PRIu64 " blocks, not %" PRIu64,
		      s, sum, r->nblocks);
		rblocks[r->state] += sum;
		nres += r->state == IAM_POOL_RESERVED;
		nalloc += r->state == IAM_POOL_ALLOCATED;
	}
	AUDIT(rblocks[1] == p->nreserved && rblocks[2] == p->nallocated,
	      "records hold %" PRIu64 "/%" PRIu64
	      " blocks, counters say %" PRIu64 "/%" PRIu64,
	      rblocks[1], rblocks[2], p->nreserved, p->nallocated);
	AUDIT(nres == p->nres_recs && nalloc == p->nalloc_recs &&
		      nres == p->heap_n,
	      "record counts are off");
	for (uint32_t i = 1; i < p->heap_n; i++)
		AUDIT(!heap_less(p, i, (i - 1) / 2), "heap order broken at %u",
		      i);
out:
	pthread_mutex_unlock(&p->lock);
	free(seen);
	return err;
}

/* ---- data path -------------------------------------------------------- */

static int check_tag(uint64_t t, uint32_t owner, unsigned rights)
{
	if (tag_state(t) != IAM_POOL_ALLOCATED)
		return -ENOENT;
	if (tag_owner(t) != owner)
		return -EPERM;
	/* RW covers RO; RO covers only RO. */
	if (rights > tag_rights(t))
		return -EPERM;
	return 0;
}

int iam_pool_access(const struct iam_pool *p, uint64_t index, uint32_t owner,
		    unsigned rights, uint64_t *token)
{
	uint64_t t;
	int err;

	if (index >= p->nblocks)
		return -ERANGE;
	if (!rights_ok(rights))
		return -EINVAL;
	t = atomic_load_explicit(&p->blk[index].tag, memory_order_acquire);
	err = check_tag(t, owner, rights);
	if (err)
		return err;
	*token = t & ~TAG_PIN_MASK;
	return 0;
}

bool iam_pool_access_valid(const struct iam_pool *p, uint64_t index,
			   uint64_t token)
{
	uint64_t t;

	if (index >= p->nblocks)
		return false;
	/* The copy's loads stay before the re-read (a seqlock's rmb). */
	atomic_thread_fence(memory_order_acquire);
	t = atomic_load_explicit(&p->blk[index].tag, memory_order_relaxed);
	return (t & ~TAG_PIN_MASK) == token;
}

int iam_pool_pin(struct iam_pool *p, uint64_t index, uint32_t owner,
		 unsigned rights)
{
	uint64_t t;
	int err;

	if (index >= p->nblocks)
		return -ERANGE;
	if (!rights_ok(rights))
		return -EINVAL;
	t = atomic_load_explicit(&p->blk[index].tag, memory_order_acquire);
	do {
		err = check_tag(t, owner, rights);
		if (err)
			return err;
		if (tag_pins(t) == TAG_PIN_MAX)
			return -EBUSY;
	} while (!atomic_compare_exchange_weak_explicit(
		&p->blk[index].tag, &t, t + TAG_PIN_ONE, memory_order_acq_rel,
		memory_order_acquire));
	return 0;
}

void iam_pool_unpin(struct iam_pool *p, uint64_t index)
{
	if (index >= p->nblocks)
		return;
	/* Release: our writes to the block happen before the zeroing. */
	atomic_fetch_sub_explicit(&p->blk[index].tag, TAG_PIN_ONE,
				  memory_order_release);
}
