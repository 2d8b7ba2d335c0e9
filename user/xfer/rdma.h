/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * rdma.h - the RDMA transport of the Data Manager (FIG. 5): RoCEv2 through
 * rdma-core.  The borrower reads a block with RDMA READ and writes it back
 * with RDMA WRITE; the lender's CPU is not on that path.  The lender only
 * accepts connections and registers one memory region per allocation.
 *
 * Connections are made with rdma_cm to the lender agent's own address
 * (net:host::1) on IAM_PORT_RDMA_CM.  That address sits on the fabric
 * netdev, so it is a RoCEv2 GID of the device bound there and the CM
 * exchange and all data ride UDP 4791 between the two agent addresses.
 * One RC queue pair per borrower per lender.
 *
 * Remote addresses are lender virtual addresses (FIG. 2: block address <<
 * block shift): the lender registers each allocation at its own virtual
 * address, so iova = VA and target->remote_addr is used as is.
 *
 * Lender side (main thread, driven by the agent's event loop):
 *
 *   iam_rdma_server_create(loop, &agent_addr, IAM_PORT_RDMA_CM, &srv);
 *   on confirm:  iam_rdma_server_reg(srv, va, len, rights, &mr, &rkey);
 *                send rkey in the confirm
 *   on release:  iam_rdma_server_dereg(mr);  (after it, the old rkey fails)
 *
 * Borrower side (the control plane opens, the fault thread uses):
 *
 *   iam_rdma_connect(&my_addr, &lender_addr, IAM_PORT_RDMA_CM, max_io,
 *                    timeout_ms, &conn);
 *   iam_xfer_read(conn, &target, off, len, &data);   (data: staging memory)
 *   memcpy(iam_rdma_ops.write_buf(conn), page, len);
 *   iam_xfer_write(conn, &target, off, len);
 *
 * Errors of read and write (the connection is never freed by them):
 *   -EINVAL      len is 0 or above max_io, or remote_addr + off + len
 *                overflows; nothing was sent, the connection is unchanged.
 *   -EACCES      the lender refused the access (IBV_WC_REM_ACCESS_ERR): the
 *                rkey is not (or no longer) valid, the range lies outside
 *                the allocation, or a write to a read-only allocation.
 *   -ECONNRESET  any other failure: the lender disconnected, the RC retries
 *                ran out (lender gone; about 1 s), a failed completion.
 *   -ETIMEDOUT   no completion within IAM_RDMA_IO_BACKSTOP_MS (a device
 *                that neither completes nor fails; should not happen).
 * A failed work completion moves an RC queue pair to the error state (IB
 * spec. vol. 1, 10.8.3 and 11.6.2), so after -EACCES, -ECONNRESET or
 * -ETIMEDOUT the connection is *broken*: every later read or write
 * returns -ECONNRESET at once, without touching the network, until
 * iam_rdma_conn_repair() builds a new queue pair (or the owner closes the
 * connection and opens another).  iam_rdma_conn_broken() tells which.
 */
#ifndef IAM_XFER_RDMA_H
#define IAM_XFER_RDMA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "xfer/xfer.h"

struct iam_rdma_server;
struct iam_rdma_mr;

/* Largest max_io a connection accepts (its staging memory is 2 x max_io,
 * pinned); the device's own max_msg_sz may lower it. */
#define IAM_RDMA_MAX_IO (16u << 20)
/* Default completion poll burst: spin this long, then sleep on the
 * completion channel.  It covers a 4 KiB READ on RoCE hardware (a few us)
 * and on soft-RoCE over a real NIC (tens of us); it only ever spins while
 * a request is outstanding.  iam_rdma_conn_set_spin() changes it. */
#define IAM_RDMA_SPIN_US_DEFAULT 200
/* Longest a read or write waits for its completion; the RC transport's
 * own retry timeout (IAM_RDMA_ACK_TIMEOUT, IAM_RDMA_RETRY_COUNT retries,
 * ~1 s) fires first. */
#define IAM_RDMA_IO_BACKSTOP_MS 5000
/* Local ACK timeout exponent: 4.096 us << 15 = 134 ms per RC retry. */
#define IAM_RDMA_ACK_TIMEOUT 15
/* RC retries of a request that gets no answer (IB spec. vol. 1, 9.7.6.1.3
 * allows 0..7). */
#define IAM_RDMA_RETRY_COUNT 6
/* How long iam_rdma_server_create() waits for the RoCE GID of a fresh
 * address (the kernel adds it asynchronously after the address), and
 * iam_rdma_connect() for its local one (within its timeout). */
#define IAM_RDMA_GID_WAIT_MS 2000
/* How many released rkeys a server remembers, so that a new registration
 * never hands out an rkey a borrower may still hold from a release
 * (rkeys have an 8-bit key part only). */
#define IAM_RDMA_RKEY_QUARANTINE 1024

/*
 * Is an RDMA device bound to netdev ifname (any of its ports has a GID
 * table entry on ifname)?  The agent uses RDMA for a lender when both it
 * and the lender answer yes for their fabric interfaces, TCP otherwise.
 * False when ifname does not exist or the host has no RDMA at all.
 */
bool iam_rdma_netdev_has_rdma(const char *ifname);

/* ---- lender ------------------------------------------------------------- */

/*
 * Listen with rdma_cm on [addr]:port (addr: the agent address, already on
 * an RDMA-capable netdev) and add the CM event channel to loop.  Incoming
 * borrower queue pairs are accepted on one protection domain; all later
 * CM events are handled by the loop's thread.  Returns -EADDRNOTAVAIL or
 * -ENODEV when no RDMA device owns addr (the agent then uses TCP).
 */
int iam_rdma_server_create(struct iam_loop *loop, const struct in6_addr *addr,
			   uint16_t port, struct iam_rdma_server **out);
/* Disconnect every borrower and free; accepts NULL.  Every region must
 * have been deregistered first (a region still registered is leaked and
 * reported). */
void iam_rdma_server_destroy(struct iam_rdma_server *s);

/*
 * Register [addr, addr + len) for remote access at iova = addr.  rights:
 * IAM_RIGHTS_RO (REMOTE_READ) or IAM_RIGHTS_RW (REMOTE_READ|REMOTE_WRITE).
 * *rkey goes to the borrower with the confirm.  The rkey is never one of
 * the last IAM_RDMA_RKEY_QUARANTINE released ones.  Thread-safe.
 */
int iam_rdma_server_reg(struct iam_rdma_server *s, void *addr, size_t len,
			uint8_t rights, struct iam_rdma_mr **mr,
			uint32_t *rkey);
/* Invalidate the rkey and unpin; accepts NULL.  When it returns, no
 * borrower can read or write the range through this rkey any more.
 * Thread-safe. */
void iam_rdma_server_dereg(struct iam_rdma_mr *mr);

/* Disconnect every queue pair from borrower peer (lease ran out, borrower
 * gone); returns how many.  Loop thread only. */
int iam_rdma_server_disconnect(struct iam_rdma_server *s,
			       const struct in6_addr *peer);
/* Connected borrower queue pairs.  Loop thread only. */
unsigned int iam_rdma_server_conn_count(const struct iam_rdma_server *s);
/* Registered memory regions (one per run of a lent allocation).
 * Thread-safe. */
unsigned int iam_rdma_server_region_count(struct iam_rdma_server *s);

/* ---- borrower ----------------------------------------------------------- */

extern const struct iam_xfer_ops iam_rdma_ops;

/*
 * Connect from local (the borrower agent address; NULL: let routing pick)
 * to the lender's rdma_cm listener at [lender]:port, with staging memory
 * for reads and writes of up to max_io bytes (1 .. IAM_RDMA_MAX_IO and the
 * device's max_msg_sz, else -EINVAL).  Blocks for at most timeout_ms.
 * Errors: -ECONNREFUSED (nobody listens there), -ETIMEDOUT, -EHOSTUNREACH,
 * -EADDRNOTAVAIL / -ENODEV (no RDMA device for local), -ENOMEM.
 */
int iam_rdma_connect(const struct in6_addr *local,
		     const struct in6_addr *lender, uint16_t port,
		     uint32_t max_io, int timeout_ms,
		     struct iam_xfer_conn **out);

/* Is c broken (see the top of this file)?  False for non-RDMA c. */
bool iam_rdma_conn_broken(const struct iam_xfer_conn *c);
/*
 * Replace c's queue pair by a new connection to the same lender (same
 * staging memory, same pointer).  Blocks for at most timeout_ms and
 * allocates: call it off the fault path's hot loop.  0 leaves c usable;
 * on error c stays broken and may be repaired again later.  0 at once
 * when c is not broken; -EINVAL when c is not an RDMA connection.
 */
int iam_rdma_conn_repair(struct iam_xfer_conn *c, int timeout_ms);
/* Completion poll burst in microseconds (0: always sleep). */
void iam_rdma_conn_set_spin(struct iam_xfer_conn *c, uint32_t spin_us);

#endif /* IAM_XFER_RDMA_H */
