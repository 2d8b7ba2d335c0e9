// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* ipc.c - see ipc.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "iam_const.h"
#include "ipc.h"

int iam_ipc_path(const char *instance, char *buf, size_t len)
{
	int n;

	if (!instance || !*instance || strchr(instance, '/') ||
	    strlen(instance) >= IAM_INSTANCE_MAX)
		return -EINVAL;
	n = snprintf(buf, len, "%s/%s.sock", IAM_RUN_DIR, instance);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int iam_ipc_connect(const char *instance)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;

	err = iam_ipc_path(instance, sun.sun_path, sizeof(sun.sun_path));
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int iam_ipc_send(int fd, uint16_t type, uint16_t flags, uint32_t seq,
		 int32_t status, const void *body, size_t len, const int *fds,
		 int nfds)
{
	struct iam_ipc_hdr h = {
		.magic = IAM_IPC_MAGIC,
		.type = type,
		.flags = flags,
		.len = (uint32_t)(sizeof(h) + len),
		.seq = seq,
		.status = status,
	};
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} c;
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)body, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (sizeof(h) + len > IAM_IPC_MAX_MSG || nfds < 0 || nfds > 4)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *cm;

		memset(&c, 0, sizeof(c));
		mh.msg_control = c.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, (size_t)nfds * sizeof(int));
	}
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)h.len ? 0 : -EIO;
}

ssize_t iam_ipc_recv(int fd, void *buf, size_t cap, int *fds, int *nfds,
		     int maxfds)
{
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { buf, cap };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = c.buf,
		.msg_controllen = sizeof(c.buf),
	};
	const struct iam_ipc_hdr *h = buf;
	struct cmsghdr *cm;
	ssize_t n;
	int got = 0;

	if (nfds)
		*nfds = 0;
	do {
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* Keep what fits in fds, close any other descriptor we were sent:
	 * a client must not be able to leak descriptors into the agent. */
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		int *p = (int *)CMSG_DATA(cm);
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int d;

			memcpy(&d, p + i, sizeof(d));
			if (fds && got < maxfds)
				fds[got++] = d;
			else
				close(d);
		}
	}
	if (nfds)
		*nfds = got;
	if (n == 0)
		goto hangup;
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    (size_t)n < sizeof(*h) || h->magic != IAM_IPC_MAGIC ||
	    h->len != (uint32_t)n)
		goto bad;
	return n;
bad:
	n = -EBADMSG;
hangup:
	for (int i = 0; i < got; i++)
		close(fds[i]);
	if (nfds)
		*nfds = 0;
	return n;
}

int iam_ipc_call(int fd, uint16_t type, const void *body, size_t len,
		 const int *fds, int nfds, void *out, size_t cap, char *errmsg,
		 size_t errlen)
{
	static uint32_t seq_counter;
	uint32_t seq = __atomic_add_fetch(&seq_counter, 1, __ATOMIC_RELAXED);
	char buf[IAM_IPC_MAX_MSG];
	const struct iam_ipc_hdr *h = (const void *)buf;
	size_t blen;
	ssize_t n;
	int err;

	if (errmsg && errlen)
		errmsg[0] = 0;
	err = iam_ipc_send(fd, type, 0, seq, 0, body, len, fds, nfds);
	if (err)
		return err;
	for (;;) {
		n = iam_ipc_recv(fd, buf, sizeof(buf), NULL, NULL, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return (int)n;
		if (h->seq == seq && h->type == type &&
		    (h->flags & IAM_IPC_F_REPLY))
			break;
	}
	blen = (size_t)n - sizeof(*h);
	if (h->status < 0) {
		if (errmsg && errlen && blen) {
			size_t k = blen < errlen - 1 ? blen : errlen - 1;

			memcpy(errmsg, buf + sizeof(*h), k);
			errmsg[k] = 0;
		}
		return h->status;
	}
	if (out && cap) {
		memset(out, 0, cap);
		memcpy(out, buf + sizeof(*h), blen < cap ? blen : cap);
	}
	return 0;
}
