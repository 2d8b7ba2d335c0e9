// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * fuzz_bgp - libFuzzer target over the BGP message decoder: one input is
 * one message as a peer would send it (header included).  It is decoded
 * as seen by each kind of session (two- or four-octet AS, iBGP or eBGP,
 * with or without first-AS enforcement), and whatever decodes is handed
 * to the consumers the speaker runs next (NLRI walks, path building, AS
 * path text, OPEN checks), so that their reads of decoded data are
 * fuzzed too.  Seeds: tests/fuzz/corpus/fuzz_bgp/, written from the unit
 * test vectors (IAM_BGP_CORPUS=DIR test_bgp_codec / test_bgp_update).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/packets.h"
#include "bgp/rib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct iam_bgp_update u;
static struct iam_bgp_error err;

static void walk(const struct iam_bgp_span *s)
{
	struct iam_bgp_nlri_it it;
	struct iam_bgp_prefix p;
	char buf[64];

	iam_bgp_nlri_begin(&it, s);
	while (iam_bgp_nlri_next(&it, &p))
		iam_bgp_prefix_str(&p, buf, sizeof(buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so that ASan sees any over-read. */
	uint8_t *m = malloc(size ? size : 1);

	if (!m)
		return 0;
	memcpy(m, data, size);
	for (unsigned f = 0; f < 8; f++) {
		struct iam_bgp_sess s = {
			.as4 = f & 1,
			.ibgp = f & 2,
			.enforce_first_as = f & 4,
			.peer_as = 65001,
		};
		struct iam_bgp_open_expect x = { 65001, 0x0a000001, f & 2 };
		struct iam_bgp_notification n;
		struct iam_bgp_open o;
		struct iam_bgp_path *path;
		char buf[512];
		int t = iam_bgp_msg_decode(m, size, &s, &o, &u, &err);

		if (t == IAM_BGP_MSG_OPEN) {
			iam_bgp_open_check(&o, &x, &err);
		} else if (t == IAM_BGP_MSG_NOTIFICATION) {
			iam_bgp_notification_decode(m + IAM_BGP_HDR_LEN,
						    size - IAM_BGP_HDR_LEN, &n);
			iam_bgp_shutdown_text(&n, buf, sizeof(buf));
		} else if (t == IAM_BGP_MSG_UPDATE) {
			if (u.a.mp_unreach)
				walk(&u.a.unreach);
			if (u.a.mp_reach)
				walk(&u.a.reach);
			iam_bgp_aspath_str(u.a.aspath, u.a.aspath_len, buf,
					   sizeof(buf));
			iam_bgp_aspath_hops(u.a.aspath, u.a.aspath_len);
			iam_bgp_aspath_contains(u.a.aspath, u.a.aspath_len,
						65000);
			path = iam_bgp_path_new(&u.a, s.ibgp, 65000);
			iam_bgp_path_put(path);
		}
		if (t < 0 && t != -EAGAIN)
			iam_bgp_error_name(err.code, err.subcode, buf,
					   sizeof(buf));
	}
	free(m);
	return 0;
}
