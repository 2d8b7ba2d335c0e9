// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * fuzz_bgp_session - libFuzzer target over a whole BGP session: a speaker
 * (with a pool announced) is handed one end of a socketpair; the other
 * end sends a valid OPEN and KEEPALIVE, so the session is Established,
 * then the fuzzer's bytes as the rest of the stream.  The first input
 * byte picks the session: bit 0 iBGP, bit 1 a two-octet AS peer (no
 * capability 65), bit 2 hold time 3 s instead of 90.  Whatever arrives,
 * the speaker must neither crash nor stall: the loop runs until it has
 * nothing left to do.  Seeds: tests/fuzz/corpus/fuzz_bgp_session/.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bgp/bgp.h"
#include "bgp/packets.h"
#include "log.h"
#include "loop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct iam_loop *loop;
static struct iam_bgp_config cfg;

static void setup(void)
{
	char err[128];

	if (loop)
		return;
	if (iam_loop_create(&loop))
		abort();
	iam_log_set_level(IAM_LOG_ERR);
	iam_bgp_config_init(&cfg);
	cfg.local_as = 4200000001u;
	cfg.router_id = 0x0a000001;
	cfg.listen = false;
	cfg.has_nexthop = true;
	cfg.pool_update_rate = 0;
	cfg.nexthop.s6_addr[0] = 0x20;
	cfg.nexthop.s6_addr[1] = 0x01;
	cfg.nexthop.s6_addr[15] = 1;
	if (iam_bgp_peer_parse("2001:db8::2,as=65002,passive", &cfg.peers[0],
			       err, sizeof(err)))
		abort();
	cfg.npeers = 1;
}

static void put_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t open2[] = { 4, 0xfd, 0xea, 0, 90, 10, 0, 0, 2,
					 8, 2,	  6,	1, 4,  0,  2, 0, 1 };
	uint8_t m[256], sink[4096];
	struct iam_bgp_prefix pool = { .len = 96 };
	struct iam_bgp *bgp;
	uint8_t sel;
	int sv[2], n, idle = 0;

	if (!size)
		return 0;
	setup();
	sel = data[0];
	cfg.peers[0].remote_as = sel & 1 ? cfg.local_as : 65002;
	if (iam_bgp_create(loop, &cfg, NULL, &bgp))
		abort();
	pool.addr.s6_addr[0] = 0x20;
	pool.addr.s6_addr[1] = 0x01;
	pool.addr.s6_addr[4] = 0xaa;
	iam_bgp_pool_announce(bgp, &pool, 1000, 500, 16);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		abort();
	iam_bgp_attach_fd(bgp, 0, sv[0]);
	if (sel & 2 && !(sel & 1)) {
		memset(m, 0xff, 16);
		iam_put16(m + 16, 19 + sizeof(open2));
		m[18] = IAM_BGP_MSG_OPEN;
		memcpy(m + 19, open2, sizeof(open2));
		n = 19 + (int)sizeof(open2);
	} else {
		n = iam_bgp_write_open(m, sizeof(m), cfg.peers[0].remote_as,
				       sel & 4 ? 3 : 90, 0x0a000002);
	}
	n += iam_bgp_write_keepalive(m + n, sizeof(m) - (size_t)n);
	put_all(sv[1], m, (size_t)n);
	put_all(sv[1], data + 1, size - 1);
	/* Until the speaker has nothing more to do (a stall is a hang the
	 * fuzzer's -timeout reports). */
	while (idle < 3) {
		int ev = iam_loop_run_once(loop, 0);

		while (recv(sv[1], sink, sizeof(sink), MSG_DONTWAIT) > 0)
			ev++;
		idle = ev ? 0 : idle + 1;
	}
	close(sv[1]);
	for (int i = 0; i < 3; i++)
		iam_loop_run_once(loop, 0);
	iam_bgp_destroy(bgp);
	return 0;
}
