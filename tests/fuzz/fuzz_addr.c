// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * fuzz_addr: the Address Manager's parsers of outside bytes.  The first
 * byte picks the target:
 *
 *   0  text: prefix, network, host and block-size parsers; whatever parses
 *      must format and parse back to the same value;
 *   1  rtnetlink replies (iam_nl_parse_reply); the sequence number and
 *      port id are taken from the first header so that the messages are
 *      read, not skipped;
 *   2  aggregation: the bytes are block numbers; the prefixes must cover
 *      exactly those blocks, without overlap.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iam_addr.h"

static int route_cb(const struct iam_nl_route *r, void *arg)
{
	if (r->dst.len > 128)
		abort();
	return 0;
}

static void fuzz_text(const uint8_t *d, size_t n)
{
	char s[256], buf[IAM_PREFIX_STRLEN];
	struct iam_prefix p, q;
	uint8_t net[6], net2[6];
	uint32_t host, host2;
	unsigned shift;

	if (n >= sizeof(s))
		n = sizeof(s) - 1;
	memcpy(s, d, n);
	s[n] = '\0';
	if (!iam_addr_prefix_parse(s, &p)) {
		iam_addr_prefix_fmt(&p, buf, sizeof(buf));
		if (iam_addr_prefix_parse(buf, &q) || memcmp(&p, &q, sizeof(p)))
			abort();
	}
	if (!iam_addr_net_parse(s, net)) {
		iam_addr_net_fmt(net, buf, sizeof(buf));
		if (iam_addr_net_parse(buf, net2) || memcmp(net, net2, 6))
			abort();
	}
	if (!iam_addr_host_parse(s, &host)) {
		iam_addr_host_fmt(host, buf, sizeof(buf));
		if (iam_addr_host_parse(buf, &host2) || host != host2)
			abort();
	}
	if (!iam_addr_block_size_parse(s, &shift) &&
	    (shift < IAM_BLOCK_SHIFT_MIN || shift > IAM_BLOCK_SHIFT_MAX))
		abort();
}

static void fuzz_netlink(const uint8_t *d, size_t n)
{
	uint32_t seq = 0, pid = 0;
	char ext[64];
	int cb_rc = 0, rc;
	void *buf;

	/* An aligned copy, as a socket read gives. */
	buf = malloc(n ? n : 1);
	if (!buf)
		return;
	memcpy(buf, d, n);
	if (n >= 16) {
		memcpy(&seq, d + 8, 4);
		memcpy(&pid, d + 12, 4);
	}
	rc = iam_nl_parse_reply(buf, n, seq, pid, route_cb, NULL, &cb_rc, ext,
				sizeof(ext));
	if (rc > 1 || rc < -4095 || strnlen(ext, sizeof(ext)) == sizeof(ext))
		abort();
	free(buf);
}

static void fuzz_aggregate(const uint8_t *d, size_t n)
{
	static const struct iam_addr_space s = { .block_shift = 16 };
	uint64_t blocks[256];
	struct iam_prefix out[256];
	uint8_t seen[256] = { 0 }, cover[256] = { 0 };
	size_t nb = n > 256 ? 256 : n, np;

	for (size_t i = 0; i < nb; i++) {
		blocks[i] = 0x100000 + d[i];
		seen[d[i]] = 1;
	}
	if (iam_addr_aggregate(&s, blocks, nb, out, 256, &np))
		abort();
	for (size_t i = 0; i < np; i++) {
		uint64_t first, count;

		if (iam_addr_prefix_blocks(&out[i], &first, &count))
			abort();
		for (uint64_t b = first; b < first + count; b++) {
			if (b < 0x100000 || b > 0x1000ff || cover[b - 0x100000])
				abort();
			cover[b - 0x100000] = 1;
		}
	}
	if (memcmp(seen, cover, sizeof(seen)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_text(data + 1, size - 1);
		break;
	case 1:
		fuzz_netlink(data + 1, size - 1);
		break;
	default:
		fuzz_aggregate(data + 1, size - 1);
		break;
	}
	return 0;
}
