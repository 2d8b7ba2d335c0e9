/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * iam_ipc.h - the agent's UNIX socket protocol, spoken by libiam
 * (applications) and iamctl.
 *
 * Socket: IAM_RUN_DIR/<instance>.sock, SOCK_SEQPACKET, so each message
 * is one datagram and a client's death is a hang-up the agent sees at
 * once.  Only root, the agent's own user and the users and groups the
 * operator allowed may connect (SO_PEERCRED).  Same host, so integers are
 * in host byte order; addresses stay in network byte order.
 *
 * Every message: struct iam_ipc_hdr, then the type's body.  A request is
 * answered by one reply with the same type, seq and IAM_IPC_F_REPLY, or,
 * for the list requests, by one reply per record with IAM_IPC_F_MORE and
 * a final reply without a body and without IAM_IPC_F_MORE.
 */
#ifndef IAM_IPC_H
#define IAM_IPC_H

#include <linux/types.h>

#define IAM_IPC_MAGIC 0x314d4149u /* "IAM1" read as little-endian bytes */
#define IAM_IPC_MAX_MSG 4096 /* bytes, header included */

enum iam_ipc_type {
	/* Borrow memory for the calling process.  Body iam_ipc_alloc, with
	 * SCM_RIGHTS { memfd, userfaultfd } of the region.  Reply body
	 * iam_ipc_alloc_rep. */
	IAM_IPC_ALLOC = 1,
	/* Return a region.  Body iam_ipc_region; reply without body. */
	IAM_IPC_FREE = 2,
	/* Where does the page at an address live?  Body iam_ipc_where;
	 * reply body iam_ipc_where_rep. */
	IAM_IPC_WHERE = 3,
	/* Reply body iam_ipc_status. */
	IAM_IPC_STATUS = 4,
	/* List replies of iam_ipc_lender. */
	IAM_IPC_LENDERS = 5,
	/* List replies of iam_ipc_alloc_rec: what we lend and borrow. */
	IAM_IPC_ALLOCS = 6,
	/* List replies of iam_ipc_peer: BGP sessions. */
	IAM_IPC_PEERS = 7,
	IAM_IPC_TYPE_MAX = 7,
};

enum iam_ipc_flags {
	IAM_IPC_F_REPLY = 1 << 0,
	IAM_IPC_F_MORE = 1 << 1, /* more list replies follow */
};

struct iam_ipc_hdr {
	__u32 magic; /* IAM_IPC_MAGIC */
	__u16 type; /* enum iam_ipc_type */
	__u16 flags; /* enum iam_ipc_flags */
	__u32 len; /* bytes, header included */
	__u32 seq; /* chosen by the requester, echoed */
	__s32 status; /* replies: 0 or -errno */
	__u32 pad; /* zero */
};
_Static_assert(sizeof(struct iam_ipc_hdr) == 24, "iam_ipc_hdr ABI");

/* A failed reply may carry a NUL-terminated explanation as its body. */
#define IAM_IPC_ERRMSG_MAX 256

struct iam_ipc_alloc {
	__u64 addr; /* start of the client's mapping of the memfd */
	__u64 len; /* bytes mapped, a multiple of the page size */
	__u8 rights; /* IAM_RIGHTS_RO or IAM_RIGHTS_RW */
	__u8 pad[7]; /* zero */
};
_Static_assert(sizeof(struct iam_ipc_alloc) == 24, "iam_ipc_alloc ABI");

struct iam_ipc_alloc_rep {
	__u64 region_id; /* names the region in FREE */
	__u64 nblocks; /* blocks backing the region */
	__u64 nlocal; /* of which in this host's own pool */
	__u32 block_size; /* bytes */
	__u32 nlenders; /* remote lenders used */
};
_Static_assert(sizeof(struct iam_ipc_alloc_rep) == 32, "alloc_rep ABI");

struct iam_ipc_region {
	__u64 region_id;
};
_Static_assert(sizeof(struct iam_ipc_region) == 8, "iam_ipc_region ABI");

struct iam_ipc_where {
	__u64 addr; /* any address inside a region of the caller */
};
_Static_assert(sizeof(struct iam_ipc_where) == 8, "iam_ipc_where ABI");

enum iam_ipc_transport {
	IAM_TRANSPORT_NONE = 0, /* not connected */
	IAM_TRANSPORT_LOCAL = 1, /* this host's pool */
	IAM_TRANSPORT_TCP = 2,
	IAM_TRANSPORT_RDMA = 3,
};

struct iam_ipc_where_rep {
	__u64 region_id;
	__u64 block_vaddr; /* client address where the block starts */
	__u64 remote_addr; /* lender memory address of the block */
	__u8 block[16]; /* block IPv6 address, network byte order */
	__u8 lender[16]; /* lender agent address, network byte order */
	__u64 alloc_id; /* lender's allocation id */
	__u32 block_size; /* bytes */
	__u8 rights; /* IAM_RIGHTS_* */
	__u8 m2i_flags; /* enum iam_m2i_flags */
	__u8 page_state; /* enum iam_page_state of the page at addr */
	__u8 transport; /* enum iam_ipc_transport */
};
_Static_assert(sizeof(struct iam_ipc_where_rep) == 72, "where_rep ABI");

enum iam_page_state {
	IAM_PAGE_ABSENT = 0, /* not resident, never written back: zeros */
	IAM_PAGE_REMOTE = 1, /* not resident, content on the lender */
	IAM_PAGE_CLEAN = 2, /* resident, same as the lender's copy */
	IAM_PAGE_DIRTY = 3, /* resident, written since it came in */
	IAM_PAGE_LOST = 4, /* the lender is gone: access raises SIGBUS */
};

struct iam_ipc_status {
	char instance[32]; /* NUL-terminated */
	char dev[16]; /* fabric interface, NUL-terminated */
	char xdp_mode[8]; /* "native" / "generic", NUL-terminated */
	__u8 self[16]; /* agent address, network byte order */
	__u8 pool_prefix[16]; /* own pool prefix, network byte order */
	__u8 pool_plen; /* its length */
	__u8 block_shift; /* log2 block size */
	__u8 pad[2]; /* zero */
	__u32 asn; /* BGP AS number */
	__u32 router_id; /* BGP router id, host order */
	__u32 npeers; /* configured BGP peers */
	__u32 npeers_up; /* of which Established */
	__u32 nlenders; /* pools known, own included */
	__u64 total_blocks; /* M = sum of M_i over known pools */
	__u64 available_blocks; /* V = sum of V_i */
	__u64 own_total; /* M_i of this agent */
	__u64 own_available; /* V_i of this agent */
	__u64 lent_blocks; /* confirmed to borrowers */
	__u64 borrowed_blocks; /* backing this host's regions */
	__u64 nregions; /* client regions */
	__u64 cache_pages; /* IPMem cache capacity, pages */
	__u64 resident_pages; /* pages resident now */
	__u64 faults; /* missing-page faults served */
	__u64 zero_fills; /* of which never-written pages */
	__u64 remote_reads; /* of which read from a lender */
	__u64 wp_faults; /* first writes seen */
	__u64 evictions; /* pages evicted */
	__u64 writebacks; /* dirty pages written back */
	__u64 lost_faults; /* faults answered with SIGBUS */
	__u64 uptime_ms;
	__u64 fault_service_ns; /* sum over missing faults of the time from
				 * reading the event to UFFDIO_COPY done */
	/* borrowing: how remote pages moved */
	__u64 rdma_reads; /* of remote_reads, by RDMA READ */
	__u64 rdma_writes; /* of writebacks, by RDMA WRITE */
	__u64 lost_allocs; /* allocations a lender refused (their pages
			    * are lost, the lender's others are not) */
	/* lending: what borrowers asked of this agent */
	__u64 data_reads; /* TCP data server: reads served */
	__u64 data_writes; /* TCP data server: writes served */
	__u64 data_denied; /* TCP data server: requests refused */
	__u32 rdma_qps; /* borrower queue pairs connected (0: no RDMA) */
	__u32 rdma_regions; /* memory regions registered for them */
	/* where the fault thread runs (--cpu) */
	__s32 fault_cpu; /* the CPU it is pinned to, -1: any */
	__u32 fault_follow_pid; /* with --cpu follow: the pinned client it
				 * went to; 0: none */
};
_Static_assert(sizeof(struct iam_ipc_status) == 320, "status ABI");

struct iam_ipc_lender {
	__u8 prefix[16]; /* pool prefix, network byte order */
	__u8 next_hop[16]; /* BGP next hop, network byte order */
	__u8 plen;
	__u8 self; /* 1 for this agent's own pool */
	__u8 transport; /* enum iam_ipc_transport, if connected */
	__u8 as_path_len; /* AS numbers in as_path (at most 16 kept) */
	__u32 block_size; /* bytes */
	__u64 total_blocks; /* M_i */
	__u64 available_blocks; /* V_i */
	__u64 age_ms; /* since the route was learned */
	__u32 as_path[16]; /* AS_PATH flattened, first hop first */
};
_Static_assert(sizeof(struct iam_ipc_lender) == 128, "lender ABI");

enum iam_alloc_role {
	IAM_ROLE_LENT = 1, /* our blocks, held by a borrower */
	IAM_ROLE_BORROWED = 2, /* a lender's blocks, held by us */
};

enum iam_alloc_state {
	IAM_ALLOC_RESERVED = 1,
	IAM_ALLOC_CONFIRMED = 2,
};

#define IAM_IPC_ALLOC_PREFIXES 8
struct iam_ipc_alloc_rec {
	__u64 id; /* lender's allocation id */
	__u64 nblocks;
	__u64 region_id; /* borrowed: the client region, else 0 */
	__u64 expires_ms; /* reservation or lease end, ms from now */
	__u8 peer[16]; /* lent: borrower address; borrowed: lender */
	__u32 borrower_id; /* router id of the borrower */
	__u32 pid; /* borrowed: client process */
	__u8 role; /* enum iam_alloc_role */
	__u8 state; /* enum iam_alloc_state */
	__u8 rights; /* IAM_RIGHTS_* */
	__u8 nprefixes; /* prefixes below (at most 8 shown) */
	__u32 total_prefixes; /* prefixes the allocation aggregates to */
	struct {
		__u8 addr[16];
		__u8 plen;
		__u8 pad[7];
	} prefixes[IAM_IPC_ALLOC_PREFIXES];
};
_Static_assert(sizeof(struct iam_ipc_alloc_rec) == 256, "alloc_rec ABI");

struct iam_ipc_peer {
	__u8 addr[16]; /* peer address (IPv4-mapped for IPv4) */
	__u32 remote_as;
	__u32 router_id; /* peer's BGP identifier, host order */
	__u64 uptime_ms; /* in Established, else 0 */
	__u32 prefixes; /* routes received */
	char state[12]; /* RFC 4271 FSM state name, NUL-terminated */
	char last_error[64]; /* last NOTIFICATION or socket error */
};
_Static_assert(sizeof(struct iam_ipc_peer) == 112, "peer ABI");

#endif /* IAM_IPC_H */
