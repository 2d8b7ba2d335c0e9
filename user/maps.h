/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * maps.h - the agent's side of the XDP classifier and the shared maps
 * (bpf/iam_xdp.bpf.c, headers/iam_maps.h): load the program with the
 * agent's knobs, pin its maps under IAM_BPFFS_DIR/<instance>/, attach it
 * to the fabric interface, and edit the maps while the agent runs.
 *
 * Lifetime: iam_maps_open() loads, pins and attaches; iam_maps_close()
 * detaches, unpins and removes the instance's pin directory.  The program
 * is attached through a bpf_link that only this process holds (never
 * pinned), so if the agent dies, even by SIGKILL, the kernel detaches it.
 * Only the pins can outlive a dead agent; the next iam_maps_open() of the
 * same instance replaces them.  The caller holds the instance's lock
 * (one agent per instance) before calling iam_maps_open().
 *
 * The iam_maps_* editing functions and iam_maps_stats() are for one
 * thread, the control plane's: they keep state in struct iam_maps and
 * take no lock.  They never block on the data path: prefixes are bpf(2)
 * updates; allocations are stores into the mmapped iam_blocks and
 * iam_access, ordered so that the classifier never sees a block pointing
 * to a slot not yet written.  The mem-to-ip array returned by
 * iam_maps_m2i() is shared memory, read and written with plain loads and
 * stores under the iam_m2i_* protocol below, from any thread.
 *
 * All functions return 0 or -errno and log what went wrong.
 */
#ifndef IAM_USER_MAPS_H
#define IAM_USER_MAPS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "iam_maps.h"

enum iam_xdp_mode {
	/* veth: generic (native XDP on a veth slows TCP on the link about
	 * 3x, and the TCP data path must not pay that); other drivers:
	 * native, falling back to generic.  The choice is logged. */
	IAM_XDP_AUTO = 0,
	IAM_XDP_NATIVE, /* driver mode, or fail */
	IAM_XDP_GENERIC, /* skb mode */
};

struct iam_maps_config {
	const char *instance; /* pin directory name; NULL: "default" */
	const char *ifname; /* fabric interface; NULL: load and pin only */
	enum iam_xdp_mode mode;
	uint32_t m2i_slots; /* mem_to_ip entries; 0: IAM_M2I_SLOTS */
	/* Most blocks the local pool can have (--pool / --block-size): sizes
	 * iam_blocks and iam_access.  0: IAM_POOL_BLOCKS_DEFAULT. */
	uint32_t pool_blocks;
	/* This agent's address (net:host::1).  The loader enters it in
	 * iam_prefixes as IAM_KIND_LOCAL_CTRL /128 with IAM_POLICY_PING;
	 * iam_maps_prefix_set() on the same /128 changes its policy. */
	struct in6_addr self;
	/* FIG. 2 network and host parts: self and the pool must lie in
	 * net|host::/80. */
	uint8_t net[6]; /* network byte order */
	uint32_t host; /* host order */
	uint8_t block_shift; /* log2 block size; 0: IAM_BLOCK_SHIFT_DEFAULT */
	uint16_t ctrl_port; /* host order; 0: IAM_PORT_CTRL */
	uint16_t data_port; /* host order; 0: IAM_PORT_DATA */
	uint16_t bgp_port; /* host order; 0: IAM_PORT_BGP */
};

struct iam_maps;

int iam_maps_open(const struct iam_maps_config *cfg, struct iam_maps **out);
/* Detach, unpin, remove the instance directory, free.  Accepts NULL. */
void iam_maps_close(struct iam_maps *m);

/* "native", "generic", or "none" when not attached (no ifname). */
const char *iam_maps_xdp_mode(const struct iam_maps *m);
/* The pin directory, IAM_BPFFS_DIR "/" instance. */
const char *iam_maps_pin_dir(const struct iam_maps *m);

/* iam_prefixes: addr/plen (bits past plen are ignored) is of 'kind'
 * (enum iam_prefix_kind) with 'policy' (enum iam_prefix_policy bits);
 * setting an existing prefix changes it.  -EINVAL for a bad length, kind
 * or policy; -ENOSPC when full.
 *
 * IAM_KIND_LOCAL_POOL is this host's one pool (DESIGN.md: the pool is one
 * prefix): it must lie in net|host::/80 and hold at most cfg.pool_blocks
 * blocks (-E2BIG), and a second, different pool is -EEXIST (delete the
 * first).  Deleting the pool deletes every access entry.  Setting
 * cfg.self/128 as IAM_KIND_LOCAL_CTRL changes the agent address's policy;
 * deleting it stops the address from being served. */
int iam_maps_prefix_set(struct iam_maps *m, const struct in6_addr *addr,
			uint8_t plen, uint8_t kind, uint8_t policy);
/* -ENOENT if there is no such prefix. */
int iam_maps_prefix_del(struct iam_maps *m, const struct in6_addr *addr,
			uint8_t plen);

/* iam_access: the blocks of the allocation prefix alloc/plen, lent by
 * this host, belong to the agent at 'borrower' with 'rights'
 * (IAM_RIGHTS_RO or IAM_RIGHTS_RW); setting the same prefix again changes
 * borrower and rights.  -EINVAL for a bad rights value, an unspecified
 * borrower or a prefix outside the local pool; -ENOENT if no pool is set
 * yet; -EEXIST if the prefix overlaps another allocation's. */
int iam_maps_access_set(struct iam_maps *m, const struct in6_addr *alloc,
			uint8_t plen, const struct in6_addr *borrower,
			uint8_t rights);
/* -ENOENT if there is no such allocation prefix. */
int iam_maps_access_del(struct iam_maps *m, const struct in6_addr *alloc,
			uint8_t plen);

/* The mmapped mem_to_ip array and its number of slots.  Valid until
 * iam_maps_close(). */
struct iam_m2i_entry *iam_maps_m2i(struct iam_maps *m, uint32_t *nslots);

/* The XDP counters summed over CPUs. */
int iam_maps_stats(const struct iam_maps *m, struct iam_xdp_stats *out);

/* The loaded program, for BPF_PROG_TEST_RUN in tests and benchmarks. */
int iam_maps_prog_fd(const struct iam_maps *m);

/* ---- working on the pins of any instance (iamctl) ---------------------- */

/* -EINVAL unless name is 1..IAM_INSTANCE_MAX-1 bytes of [A-Za-z0-9_.-]
 * and not "." or "..". */
int iam_maps_instance_valid(const char *name);
/* buf = IAM_BPFFS_DIR/instance/map; -ENAMETOOLONG if it does not fit. */
int iam_maps_pin_path(const char *instance, const char *map, char *buf,
		      size_t len);
/* A new fd of the pinned map; -ENOENT if the instance runs no agent. */
int iam_maps_pinned_fd(const char *instance, const char *map);
/* Sum the per-CPU iam_stats of map fd into *out. */
int iam_maps_stats_read(int fd, struct iam_xdp_stats *out);
/* Counter i of *s (IAM_STATS_NCOUNTERS of them: classes, then drops). */
static inline const struct iam_counter *
iam_maps_counter(const struct iam_xdp_stats *s, unsigned int i)
{
	return (const struct iam_counter *)s + i;
}

struct iam_maps_counter_desc {
	const char *name; /* snake_case, the JSON key */
	const char *text; /* one line for people */
};
extern const struct iam_maps_counter_desc iam_maps_classes[IAM_CLASS_MAX];
extern const struct iam_maps_counter_desc iam_maps_drops[IAM_DROP_MAX];

/* ---- the mem-to-ip entry protocol ---------------------------------------
 * An entry is in use while flags has IAM_M2I_VALID.  A writer fills every
 * other field while VALID is clear, then publishes flags with a release
 * store; a reader loads flags with acquire and trusts the other fields
 * only if VALID was set.  Retiring clears flags.  One writer per slot (the
 * agent's control plane); it reuses a retired slot only once no reader can
 * still be copying it (the fault thread is done with that region). */
static inline void iam_m2i_publish(struct iam_m2i_entry *e, uint8_t flags)
{
	__atomic_store_n(&e->flags, (uint8_t)(flags | IAM_M2I_VALID),
			 __ATOMIC_RELEASE);
}

static inline void iam_m2i_retire(struct iam_m2i_entry *e)
{
	__atomic_store_n(&e->flags, 0, __ATOMIC_RELEASE);
}

/* The entry's flags (0 if not in use) with acquire semantics. */
static inline uint8_t iam_m2i_flags(const struct iam_m2i_entry *e)
{
	return __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
}

#endif /* IAM_USER_MAPS_H */
