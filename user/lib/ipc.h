/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * ipc.h - framing of the agent's UNIX socket protocol (headers/iam_ipc.h),
 * shared by libiam, iamctl and the agent.
 */
#ifndef IAM_LIB_IPC_H
#define IAM_LIB_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iam_ipc.h"

/* IAM_RUN_DIR/<instance>.sock; -EINVAL for an empty name, one with '/',
 * or one too long. */
int iam_ipc_path(const char *instance, char *buf, size_t len);
/* Connect to an instance's socket: the descriptor, or -errno (-ENOENT
 * or -ECONNREFUSED: no agent runs for that instance). */
int iam_ipc_connect(const char *instance);
/* Send one message with up to 4 descriptors; 0 or -errno. */
int iam_ipc_send(int fd, uint16_t type, uint16_t flags, uint32_t seq,
		 int32_t status, const void *body, size_t len, const int *fds,
		 int nfds);
/*
 * Receive one message into buf (at least IAM_IPC_MAX_MSG bytes) and up to
 * maxfds descriptors (extra ones are closed).  Returns the message length
 * (>= the header) after checking magic, length and truncation; 0 when the
 * peer hung up; -EBADMSG for a malformed message; -errno otherwise.
 */
ssize_t iam_ipc_recv(int fd, void *buf, size_t cap, int *fds, int *nfds,
		     int maxfds);
/* Send a request and wait for its reply (not for list requests): the
 * reply's status (0 or -errno) and body copied to out (at most cap).  On
 * a failed reply with text, errmsg gets it. */
int iam_ipc_call(int fd, uint16_t type, const void *body, size_t len,
		 const int *fds, int nfds, void *out, size_t cap, char *errmsg,
		 size_t errlen);

#endif /* IAM_LIB_IPC_H */
