// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * ctrl-probe - what a broken or hostile agent could say to a lender's
 * control port (headers/iam_proto.h), for the bats tests.
 *
 *   ctrl-probe --from ADDR --to AGENT [--block-shift N]
 *   ctrl-probe --from ADDR --to AGENT --hold N
 *
 * With --hold, open N connections at once and keep them: print "open K of
 * N", K being those the lender has not closed half a second later, then
 * hold them until standard input ends.
 *
 * Each case goes over its own connection from ADDR to AGENT port 7410 and
 * prints one line, "CASE -> ANSWER", where ANSWER is the answer's type
 * name, for ERROR followed by its errno code and text, or "closed" when
 * the lender hung up without an answer.  Then a reservation of 2 blocks
 * is confirmed twice and released twice on one connection, and a last
 * one of 3 blocks is left unconfirmed (the lender must let it expire).
 * Exit 0 when every exchange happened, 1 otherwise, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ctrl_proto.h"
#include "iam_const.h"

static struct sockaddr_in6 from, to;

static int probe_connect(void)
{
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to))) {
		fprintf(stderr, "ctrl-probe: connect: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int recv_all(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t k = recv(fd, buf + got, len - got, 0);

		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

/* Send raw bytes, print the answer; the decoded answer in *m (type 0
 * when there was none). */
static int exchange(int fd, const char *name, const void *req, size_t len,
		    struct iam_ctrl_msg *m)
{
	static uint8_t buf[IAM_CTRL_MAX_LEN];
	const struct iam_ctrl_hdr *h = (const void *)buf;
	const char *why = NULL;
	uint32_t flen;

	memset(m, 0, sizeof(*m));
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -1;
	if (recv_all(fd, buf, sizeof(*h))) {
		printf("%s -> closed\n", name);
		return 0;
	}
	flen = ntohl(h->len);
	if (flen < sizeof(*h) || flen > sizeof(buf) ||
	    recv_all(fd, buf + sizeof(*h), flen - sizeof(*h)) ||
	    iam_ctrl_decode(buf, flen, m, &why)) {
		printf("%s -> undecodable answer (%s)\n", name,
		       why ? why : "short");
		return -1;
	}
	if (m->type == IAM_CTRL_ERROR)
		printf("%s -> ERROR %u %s\n", name, m->error.code,
		       m->error.msg);
	else
		printf("%s -> %s\n", name, iam_ctrl_type_name(m->type));
	return 0;
}

static size_t encode(const struct iam_ctrl_msg *m, uint8_t *buf)
{
	ssize_t n = iam_ctrl_encode(m, buf, 256);

	return n < 0 ? 0 : (size_t)n;
}

static struct iam_ctrl_msg reserve(uint32_t n, uint32_t lease, uint8_t rights,
				   uint8_t shift)
{
	struct iam_ctrl_msg m = { .type = IAM_CTRL_RESERVE, .xid = 1 };

	m.reserve.nblocks = n;
	m.reserve.lease_ms = lease;
	m.reserve.borrower_id = 0x0a0000fe;
	m.reserve.rights = rights;
	m.reserve.block_shift = shift;
	return m;
}

/* A header by hand: for what iam_ctrl_encode refuses to write. */
static size_t raw(uint8_t *buf, uint8_t ver, uint8_t type, uint32_t len,
		  size_t body)
{
	struct iam_ctrl_hdr h = {
		.version = ver,
		.type = type,
		.len = htonl(len),
		.xid = htonl(1),
	};

	memcpy(buf, &h, sizeof(h));
	memset(buf + sizeof(h), 0, body);
	return sizeof(h) + body;
}

static int one(const char *name, const uint8_t *req, size_t len)
{
	struct iam_ctrl_msg m;
	int fd = probe_connect(), err;

	if (fd < 0)
		return -1;
	err = exchange(fd, name, req, len, &m);
	close(fd);
	return err;
}

/* Open n connections, report how many the lender keeps, hold them. */
static int hold(int n)
{
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	int open = 0;
	char c;

	if (!p)
		return 1;
	for (int i = 0; i < n; i++) {
		p[i].fd = probe_connect();
		p[i].events = POLLIN;
		if (p[i].fd < 0)
			return 1;
	}
	usleep(500000);
	poll(p, (nfds_t)n, 0);
	for (int i = 0; i < n; i++) {
		/* Readable with nothing sent: the lender closed it. */
		if (!(p[i].revents & (POLLIN | POLLHUP)) ||
		    recv(p[i].fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) < 0)
			open++;
	}
	printf("open %d of %d\n", open, n);
	while (read(0, &c, 1) > 0)
		;
	for (int i = 0; i < n; i++)
		close(p[i].fd);
	free(p);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "block-shift", required_argument, NULL, 'b' },
		{ "hold", required_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct iam_ctrl_msg m, a;
	uint8_t buf[512], bad_shift;
	int c, rc = 0, fd, shift = 16, nhold = 0;
	size_t n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	from.sin6_family = to.sin6_family = AF_INET6;
	to.sin6_port = htons(IAM_PORT_CTRL);
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (inet_pton(AF_INET6, optarg, &from.sin6_addr) != 1)
				return 2;
			break;
		case 't':
			if (inet_pton(AF_INET6, optarg, &to.sin6_addr) != 1)
				return 2;
			break;
		case 'b':
			shift = atoi(optarg);
			if (shift < 12 || shift > 21)
				return 2;
			break;
		case 'h':
			nhold = atoi(optarg);
			if (nhold < 1 || nhold > 10000)
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&to.sin6_addr))
		return 2;
	if (nhold)
		return hold(nhold);
	bad_shift = (uint8_t)(shift == 12 ? 13 : 12);

#define ONE(name, msg)                       \
	do {                                 \
		m = (msg);                   \
		n = encode(&m, buf);         \
		if (!n || one(name, buf, n)) \
			rc = 1;              \
	} while (0)
#define RAW(name, ...)                     \
	do {                               \
		n = raw(buf, __VA_ARGS__); \
		if (one(name, buf, n))     \
			rc = 1;            \
	} while (0)

	ONE("reserve-more-than-the-pool",
	    reserve(0x7fffffff, 30000, IAM_RIGHTS_RW, (uint8_t)shift));
	ONE("reserve-other-block-size",
	    reserve(1, 30000, IAM_RIGHTS_RW, bad_shift));
	m = (struct iam_ctrl_msg){ .type = IAM_CTRL_CONFIRM, .xid = 1 };
	m.id.id = 999999;
	ONE("confirm-unknown", m);
	m.type = IAM_CTRL_RELEASE;
	ONE("release-unknown", m);
	/* What the encoder will not write: by hand. */
	n = raw(buf, IAM_PROTO_VERSION, IAM_CTRL_RESERVE,
		sizeof(struct iam_ctrl_hdr) + sizeof(struct iam_ctrl_reserve),
		sizeof(struct iam_ctrl_reserve));
	((struct iam_ctrl_reserve *)(buf + sizeof(struct iam_ctrl_hdr)))
		->lease_ms = htonl(30000);
	((struct iam_ctrl_reserve *)(buf + sizeof(struct iam_ctrl_hdr)))
		->rights = IAM_RIGHTS_RW;
	if (one("reserve-zero-blocks", buf, n))
		rc = 1;
	RAW("version-9", 9, IAM_CTRL_RESERVE, 32, 16);
	RAW("type-0", IAM_PROTO_VERSION, 0, 16, 0);
	RAW("error-as-request", IAM_PROTO_VERSION, IAM_CTRL_ERROR, 24, 8);
	RAW("length-under-header", IAM_PROTO_VERSION, IAM_CTRL_RESERVE, 3, 16);
	RAW("length-over-limit", IAM_PROTO_VERSION, IAM_CTRL_RESERVE, 1u << 30,
	    16);
	RAW("reserve-short-body", IAM_PROTO_VERSION, IAM_CTRL_RESERVE, 24, 8);
	RAW("reserve-trailing-bytes", IAM_PROTO_VERSION, IAM_CTRL_RESERVE,
	    16 + 16 + 8, 16 + 8);

	/* The right messages in the wrong order, on one connection. */
	fd = probe_connect();
	if (fd < 0)
		return 1;
	m = reserve(2, 30000, IAM_RIGHTS_RW, (uint8_t)shift);
	n = encode(&m, buf);
	if (exchange(fd, "reserve-2", buf, n, &a) ||
	    a.type != IAM_CTRL_RESERVED) {
		close(fd);
		return 1;
	}
	m = (struct iam_ctrl_msg){ .type = IAM_CTRL_CONFIRM, .xid = 2 };
	m.id.id = a.reserved.resv_id;
	n = encode(&m, buf);
	rc |= -exchange(fd, "confirm", buf, n, &a);
	rc |= -exchange(fd, "confirm-again", buf, n, &a);
	m.type = IAM_CTRL_RELEASE;
	n = encode(&m, buf);
	rc |= -exchange(fd, "release", buf, n, &a);
	rc |= -exchange(fd, "release-again", buf, n, &a);
	m = reserve(3, 30000, IAM_RIGHTS_RW, (uint8_t)shift);
	n = encode(&m, buf);
	rc |= -exchange(fd, "reserve-3-unconfirmed", buf, n, &a);
	close(fd);
	return rc ? 1 : 0;
}
