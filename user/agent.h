/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * agent.h - the agent (iam-load): what ties the modules of FIG. 5
 * together.  Internal to user/agent*.c.
 *
 *   agent.c         start-up and shut-down, signals, the instance lock,
 *                   kernel routes for what BGP learns
 *   agent_ipc.c     the UNIX socket: libiam clients and iamctl
 *   agent_lend.c    lender side: control-protocol server, leases, the
 *                   TCP data server's access checks, RDMA registrations
 *   agent_borrow.c  borrower side: lender connections, two-phase
 *                   allocation, mem_to_ip, regions, lease renewal
 *
 * Everything here runs on the main thread's loop unless it says so.
 */
#ifndef IAM_AGENT_H
#define IAM_AGENT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bgp/bgp.h"
#include "config.h"
#include "ctrl.h"
#include "fault.h"
#include "iam_addr.h"
#include "iam_ipc.h"
#include "log.h"
#include "loop.h"
#include "maps.h"
#include "pool.h"
#include "xfer/rdma.h"
#include "xfer/tcp.h"

#define IAM_AGENT_MAX_BORROWERS 4096
/* Inbound control connections at once, and from one peer address: a
 * borrower needs one; each costs the agent 64 KiB and a descriptor, so
 * a flood of them must not eat the agent's memory or descriptors. */
#define IAM_AGENT_MAX_CTRL_IN 256
#define IAM_AGENT_MAX_CTRL_PER_PEER 16
/* A borrower speaks as soon as it connects (it connects to send); one
 * that has said nothing this long is closed, so silent connections
 * cannot hold the slots above. */
#define IAM_AGENT_CTRL_SILENT_MS 10000
/* Local clients connected at once (the socket is open to every user;
 * SO_PEERCRED decides who gets answers). */
#define IAM_AGENT_MAX_IPC 1024
#define IAM_AGENT_MAX_LENDERS IAM_FAULT_MAX_LENDERS

struct iam_agent;
struct agent_client;
struct agent_region;

/* ---- lender side ------------------------------------------------------ */

/* A borrower of our blocks.  The table only grows (an owner id is the
 * index + 1, never reused), so the data server thread can read addr
 * without a lock once count covers it. */
struct agent_borrower {
	struct in6_addr addr; /* its agent address */
	uint32_t router_id; /* its BGP id (community fn 10) */
	uint64_t lease_end_ms; /* every allocation it holds ends then */
	uint32_t lease_ms; /* granted: what it asked, at most --lease */
	unsigned nallocs; /* live reservations and allocations */
};

/* One allocation we lend (confirmed), with what announces and protects
 * it: BGP prefixes, XDP access entries, RDMA registrations. */
struct agent_lent {
	struct agent_lent *next;
	uint64_t id;
	uint32_t owner;
	uint8_t rights;
	unsigned nprefixes;
	struct iam_prefix *prefixes;
	unsigned nmrs;
	struct iam_rdma_mr **mrs;
};

/* ---- borrower side ---------------------------------------------------- */

enum lender_ctrl_state { LENDER_IDLE, LENDER_CONNECTING, LENDER_UP };

struct agent_request; /* a control request waiting for its answer */

/* A lender we borrow from.  idx is also its connection index in the
 * fault thread and mem_to_ip entries. */
struct agent_lender {
	bool used;
	uint16_t idx;
	struct in6_addr addr; /* its agent address, net:host::1 */
	struct iam_ctrl_conn *ctrl;
	enum lender_ctrl_state state;
	uint32_t next_xid;
	struct agent_request *requests; /* waiting for answers */
	unsigned nparts; /* region parts that hold its blocks */
	/* data path */
	int transport; /* enum iam_ipc_transport of the fault thread's conn */
	bool rdma_offered; /* it serves RDMA (from RESERVED) */
	struct in6_addr data_dst; /* block address the TCP conn goes to */
	uint64_t data_alloc; /* allocation that address belongs to */
	bool failed; /* its pages are lost */
	struct iam_timer renew_timer;
	uint64_t lease_ms; /* granted */
	uint64_t lease_end_ms; /* our blocks there are safe until then */
};

/* Blocks of a region that one source backs. */
struct agent_part {
	int lender; /* index in agent->lenders, or -1 for our own pool */
	uint64_t nblocks;
	uint64_t id; /* reservation / allocation id at the source */
	bool reserved, confirmed;
	uint32_t nruns;
	struct iam_ctrl_run_h *runs; /* block addresses and counts */
	uint32_t *rkeys; /* per run, from CONFIRMED */
};

enum region_state {
	REGION_RESERVING,
	REGION_CONFIRMING,
	REGION_ACTIVE,
	REGION_FREEING,
};

struct agent_region {
	struct agent_region *next; /* the agent's list */
	struct agent_client *client; /* NULL once the client is gone */
	uint64_t id;
	enum region_state state;
	uint64_t start, len, nblocks;
	uint8_t rights;
	pid_t pid;
	int uffd, memfd; /* until handed to the fault region */
	uint32_t first_slot;
	bool has_slots; /* first_slot.. nblocks slots are this region's */
	unsigned nparts;
	struct agent_part *parts;
	unsigned pending; /* answers still awaited in this phase */
	int error; /* first failure, -errno */
	char errmsg[IAM_IPC_ERRMSG_MAX];
	uint32_t reply_seq; /* the ALLOC / FREE request to answer */
	bool reply_free; /* answer a FREE when removal completes */
	struct iam_fault_region *fr;
	uint64_t created_ms;
};

/* A connection on the UNIX socket (libiam or iamctl). */
struct agent_client {
	struct agent_client *next;
	int fd;
	pid_t pid;
	uid_t uid;
	bool is_lib; /* has borrowed memory (libiam), else iamctl */
};

/* A slot range of mem_to_ip that is free. */
struct agent_slots {
	uint32_t nslots;
	uint8_t *used; /* one byte per slot */
};

struct iam_agent {
	struct iam_config cfg;
	struct iam_loop *loop;
	uint64_t started_ms;
	int lock_fd, sig_fd;
	bool stopping;
	int exit_code;

	/* identity */
	struct iam_addr_space space;
	struct in6_addr self; /* net:host::1 */
	struct iam_prefix pool_prefix;
	uint32_t router_id;
	uint32_t ifindex;

	/* modules */
	struct iam_pool *pool;
	struct iam_nl *nl;
	struct iam_maps *maps;
	struct iam_m2i_entry *m2i;
	struct agent_slots slots;
	struct iam_bgp *bgp;
	struct iam_fault *fault;
	struct iam_tcpx_server *data_srv;
	struct iam_rdma_server *rdma_srv;
	bool have_rdma; /* an RDMA device sits on --dev */

	/* kernel state to undo */
	bool addr_added, local_route_added;
	char routes_file[128];

	/* lender side */
	int ctrl_lfd;
	struct iam_ctrl_conn **ctrl_in; /* inbound control connections */
	unsigned nctrl_in; /* of IAM_AGENT_MAX_CTRL_IN */
	struct iam_ratelimit ctrl_silent; /* closed for saying nothing */
	struct iam_listener ctrl_listener; /* paused after EMFILE */
	struct iam_ratelimit ctrl_refused;
	struct agent_borrower *borrowers; /* IAM_AGENT_MAX_BORROWERS */
	uint32_t nborrowers; /* atomic: published count */
	struct agent_lent *lent;
	struct iam_timer lease_timer, expire_timer;
	uint32_t self_owner; /* our own owner id for local blocks */

	/* borrower side */
	struct agent_lender lenders[IAM_AGENT_MAX_LENDERS];
	uint64_t local_used; /* blocks of our pool used by local regions */
	unsigned release_pending; /* RELEASEs sent, not yet answered */
	uint64_t next_region_id;
	struct agent_region *regions;

	/* UNIX socket */
	int ipc_lfd;
	char ipc_path[108];
	struct agent_client *clients;
	unsigned nipc; /* of IAM_AGENT_MAX_IPC */
	struct iam_listener ipc_listener; /* paused after EMFILE */
	struct iam_ratelimit ipc_refused;
};

/* agent.c */
int iam_agent_run(const struct iam_config *cfg);
void agent_pool_changed(struct iam_agent *a);
/* While stopping: exit the loop if nothing is left to wait for. */
void agent_maybe_exit(struct iam_agent *a);
const char *agent_addr_str(const struct in6_addr *a, char *buf);

/* agent_lend.c */
int agent_lend_start(struct iam_agent *a);
void agent_lend_stop(struct iam_agent *a);
uint32_t agent_borrower_get(struct iam_agent *a, const struct in6_addr *addr,
			    uint32_t router_id);
int agent_lend_foreach(struct iam_agent *a,
		       int (*cb)(void *arg, const struct iam_ipc_alloc_rec *r),
		       void *arg);

/* agent_borrow.c */
int agent_borrow_start(struct iam_agent *a);
void agent_borrow_stop(struct iam_agent *a);
/* Start an allocation for client c; the answer comes later. */
void agent_region_alloc(struct iam_agent *a, struct agent_client *c,
			uint32_t seq, const struct iam_ipc_alloc *req,
			int memfd, int uffd);
/* Free a region (reply: answer FREE with seq when done). */
void agent_region_free(struct iam_agent *a, struct agent_region *r, bool reply,
		       uint32_t seq);
int agent_region_where(struct iam_agent *a, struct agent_client *c,
		       uint64_t addr, struct iam_ipc_where_rep *out);
int agent_borrow_foreach(struct iam_agent *a,
			 int (*cb)(void *arg,
				   const struct iam_ipc_alloc_rec *r),
			 void *arg);
int agent_lender_transport(struct iam_agent *a, const struct in6_addr *addr);
/* Control requests still waiting for a lender's answer. */
unsigned agent_borrow_pending(const struct iam_agent *a);
/* Hooks of the fault thread, on the loop. */
void agent_borrow_region_removed(struct iam_agent *a,
				 struct iam_fault_region *fr);
void agent_borrow_lender_failed(struct iam_agent *a, uint16_t idx, int err);

/* agent_ipc.c */
int agent_ipc_start(struct iam_agent *a);
void agent_ipc_stop(struct iam_agent *a);
/* Answer a pending request of a client (ALLOC or FREE). */
void agent_ipc_reply(struct iam_agent *a, struct agent_client *c, uint16_t type,
		     uint32_t seq, int status, const void *body, size_t len);

#endif /* IAM_AGENT_H */
