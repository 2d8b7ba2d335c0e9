/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * iam.h - libiam, the API applications use to get borrowed memory.
 *
 *   #include <iam.h>          link with -liam
 *
 *   char *p = iam_alloc(64 << 30);    // 64 GiB, more than this box has
 *   p[0] = 1;                         // faults are served by the agent
 *   iam_free(p);
 *
 * The memory is a shared mapping of a memfd registered with userfaultfd;
 * the local agent (iam-load) serves every page fault of it: pages never
 * written come back as zeros, others are read from the lender that holds
 * the block (RDMA READ or TCP).  The agent keeps at most its --cache of
 * such pages resident and writes dirty ones back before dropping them.
 *
 * The agent instance is "default", or $IAM_INSTANCE, or what
 * iam_set_instance() chose.  All calls are thread-safe.
 *
 * If a lender dies, pages that lived only there are lost: touching one
 * raises SIGBUS (si_addr = the page), like a file truncated under a
 * mapping; iam_where() reports IAM_PAGE_LOST for it.  Every other page
 * keeps working.  If the agent dies, faults on the region block until
 * the process is killed: the agent is the only one who can serve them.
 *
 * A child of fork() does not inherit regions (MADV_DONTFORK, as for
 * RDMA-registered memory): touching one there raises SIGSEGV, and
 * iam_free() of one there fails with EINVAL, leaving the parent's alone.
 * Do not mremap() a region: the kernel does not carry the userfaultfd
 * registration to the new place (libiam asks for no remap events), so
 * the moved mapping would read evicted pages as zeros.  Unmapping
 * a region instead of iam_free() keeps its blocks until the process ends.
 */
#ifndef IAM_H
#define IAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Borrow size bytes (rounded up to the page size), readable and writable.
 * NULL on failure with errno set: ENOMEM (not enough blocks in the whole
 * fabric: V is too small), ECONNREFUSED/ENOENT (no agent), EACCES (this
 * user may not use the agent), EINVAL (size 0).  iam_strerror_last()
 * gives the agent's explanation. */
void *iam_alloc(size_t size);

/* Give a region back: every block returns to its lender, which zeroes it.
 * ptr must be what iam_alloc returned.  0, or -1 with errno. */
int iam_free(void *ptr);

struct iam_where_info {
	char block[46]; /* block IPv6 address (text), FIG. 2 */
	char lender[46]; /* lender agent address (text) */
	uint64_t block_start; /* address in this process where it starts */
	uint64_t remote_addr; /* the block's memory address on the lender */
	uint64_t alloc_id; /* lender's allocation id */
	uint32_t block_size; /* bytes */
	int local; /* 1: the block is in this host's own pool */
	int transport; /* 1 local, 2 TCP, 3 RDMA (enum iam_ipc_transport) */
	int page_state; /* enum iam_page_state (iam_ipc.h): 0 zeros, 1 on
			 * the lender, 2 resident clean, 3 resident dirty,
			 * 4 lost */
	int rights; /* 1 read-only, 2 read-write */
};

/* Where does the page at addr live?  0, or -1 with errno (EINVAL: not in
 * a region of this process). */
int iam_where(const void *addr, struct iam_where_info *info);

/* Choose the agent instance before the first call (default: $IAM_INSTANCE
 * or "default").  0, or -1 with errno EINVAL (bad name) or EBUSY
 * (already connected). */
int iam_set_instance(const char *name);

/* The agent's text for the last failure of this thread's call, or "". */
const char *iam_strerror_last(void);

#ifdef __cplusplus
}
#endif

#endif /* IAM_H */
