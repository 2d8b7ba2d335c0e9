/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * fault.h - the VM Extension (FIG. 5): serves the page faults of client
 * regions from borrowed blocks, and keeps the IPMem cache (FIG. 4).
 *
 * One thread serves every region.  A region is a client's memfd mapping,
 * registered with a userfaultfd for MISSING and WP faults; libiam hands
 * both descriptors to the agent.  For a missing page the thread looks up
 * mem_to_ip (a plain load from the mmapped BPF array), installs a zero
 * page for a page never written back, or reads the page from the lender
 * (TCP or RDMA, through the connection the control plane handed over),
 * then UFFDIO_COPY.  Pages come in write-protected; the first write is a
 * WP fault that marks the page dirty.  The cache holds at most
 * cache_pages pages; CLOCK picks victims: a dirty victim is
 * write-protected, written back, and punched out of the memfd, so the
 * next touch faults again (../shared/notes/uffd-memfd.md).
 *
 * Reference bits come from the faults the thread sees (a page's arrival
 * and its first write): userfaultfd tells nothing about later accesses,
 * so this CLOCK approximates the hardware-referenced one.  Eviction runs
 * between faults to keep a little room free, so a fault rarely pays a
 * write-back.
 *
 * The fault path allocates nothing and takes no lock: every page array
 * and the CLOCK frames are allocated by the control plane up front, and
 * commands reach the thread through a lock-free queue.
 *
 * Failures (fault_xfer() in fault.c): when a lender refuses a block
 * (-EACCES: the allocation is no longer ours there), the pages of that
 * allocation are lost and nothing else; when the connection fails and
 * cannot be made again, the lender is lost: every page it held, and the
 * control plane is told (hooks.lender_failed).  A lost page's fault is
 * answered with UFFDIO_POISON (the client gets SIGBUS at that address).
 * Reconnecting (RDMA) blocks the thread and allocates; it happens only
 * after a failure.
 */
#ifndef IAM_FAULT_H
#define IAM_FAULT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "iam_maps.h"
#include "loop.h"
#include "xfer/xfer.h"

#define IAM_FAULT_MAX_LENDERS 256
#define IAM_FAULT_PAGE 4096u

struct iam_fault;
struct iam_fault_region;

struct iam_fault_hooks {
	/* A lender's connection failed (err); its pages are lost.  Runs on
	 * the control plane's loop. */
	void (*lender_failed)(void *arg, uint16_t lender_idx, int err);
	/* A region was removed from the thread (iam_fault_region_remove);
	 * the control plane may now clear its mem_to_ip slots and destroy
	 * it.  Runs on the control plane's loop. */
	void (*region_removed)(void *arg, struct iam_fault_region *r);
	void *arg;
};

#define IAM_FAULT_CPU_ANY (-1)
#define IAM_FAULT_CPU_FOLLOW (-2)

struct iam_fault_config {
	uint64_t cache_pages; /* IPMem cache capacity, pages, >= 16 */
	int cpu; /* pin the thread to this CPU; IAM_FAULT_CPU_ANY: do not;
		  * IAM_FAULT_CPU_FOLLOW: to the CPU of a client pinned to
		  * one (see fault_follow) */
	uint32_t spin_us; /* busy-poll this long after a fault before
			   * sleeping (0: never spin) */
	struct iam_m2i_entry *m2i; /* the mmapped mem_to_ip array */
	uint32_t m2i_slots;
	struct iam_loop *loop; /* the control plane's, for the hooks */
	struct iam_fault_hooks hooks;
};

struct iam_fault_stats {
	uint64_t faults; /* missing-page faults served */
	uint64_t zero_fills; /* of which never-written pages */
	uint64_t remote_reads; /* of which read through a transport */
	uint64_t local_reads; /* of which copied from our own pool */
	uint64_t wp_faults; /* first writes */
	uint64_t evictions;
	uint64_t writebacks;
	uint64_t lost; /* faults answered with SIGBUS */
	uint64_t resident; /* pages resident now */
	uint64_t cache_pages;
	uint64_t fault_ns; /* sum of service times of missing faults */
	uint64_t rdma_reads; /* of remote_reads, by RDMA READ */
	uint64_t rdma_writes; /* of writebacks, by RDMA WRITE */
	uint64_t lost_allocs; /* allocations a lender refused */
	uint64_t cpu_plus1; /* 1 + the CPU the thread is pinned to; 0: any */
	uint64_t follow_pid; /* the pinned client it follows there; 0: none */
};

int iam_fault_start(const struct iam_fault_config *cfg, struct iam_fault **out);
/* Stop the thread; regions still registered are destroyed.  NULL ok. */
void iam_fault_stop(struct iam_fault *f);
void iam_fault_get_stats(struct iam_fault *f, struct iam_fault_stats *st);

/*
 * A region: the client's mapping [start, start + len) of memfd, served
 * through uffd (both descriptors now belong to the region), whose block i
 * is described by mem_to_ip slot first_slot + i.  The control plane fills
 * those slots before iam_fault_region_add().
 */
int iam_fault_region_create(struct iam_fault *f, int uffd, int memfd,
			    uint64_t start, uint64_t len, uint32_t first_slot,
			    uint8_t block_shift, pid_t pid,
			    struct iam_fault_region **out);
/* Start serving it. */
void iam_fault_region_add(struct iam_fault *f, struct iam_fault_region *r);
/* Stop serving it; hooks.region_removed() follows. */
void iam_fault_region_remove(struct iam_fault *f, struct iam_fault_region *r);
/* Close its descriptors and free it (after region_removed, or if it was
 * never added).  NULL ok. */
void iam_fault_region_destroy(struct iam_fault_region *r);
/* enum iam_page_state of the page at addr (a racy read, for people). */
int iam_fault_page_state(const struct iam_fault_region *r, uint64_t addr);

/* Give the thread the connection to lender idx (it owns it from now on
 * and closes the one it replaces); NULL closes it.  Clears a lost mark. */
int iam_fault_set_conn(struct iam_fault *f, uint16_t idx,
		       struct iam_xfer_conn *c);

#endif /* IAM_FAULT_H */
