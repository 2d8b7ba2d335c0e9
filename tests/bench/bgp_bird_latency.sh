#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Time from a V_i change at one agent to the new V_i seen at another, with
# BIRD 2 between them as an iBGP route reflector (goal: <= 100 ms), and
# beside it the same over a direct session between the two agents (no
# router): the limit of the speakers and the kernel, measured in the same
# run.  Agents are tests/tools/bgp-speak in namespaces on one bridge; both
# stamp events with CLOCK_MONOTONIC, so their lines can be subtracted.
# Changes are 150 ms apart, slower than the default rate limit (10/s), so
# each is announced at once.  N=50 changes by default.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
N=${N:-50}
if [ "$(id -u)" != 0 ] || ! command -v bird > /dev/null ||
	[ ! -x "$BUILD/tests/tools/bgp-speak" ]; then
	echo "bgp_bird_latency: skipped (needs root, bird2 and make tests)"
	exit 0
fi
BATS_TEST_TMPDIR=$(mktemp -d /tmp/iam-bgplat.XXXXXX)
export BATS_TEST_TMPDIR
# shellcheck source=../bats/lib.bash
. tests/bats/lib.bash
# shellcheck source=../bats/bird/bgp_bird.bash
. tests/bats/bird/bgp_bird.bash
trap 'iam_cleanup; rm -rf "$BATS_TEST_TMPDIR"' EXIT

# run A B: N changes on A's pool, each waited for on B; then the delays
# (ms) between A's "avail V" and B's route with v=V: min median p90 max.
run() {
	local a=$1 b=$2 i v
	for ((i = 1; i <= N; i++)); do
		v=$((5000 - i))
		bb_cmd "$a" "avail $v"
		bb_wait "$b" "route 2001:db8:a::/96 kind=pool m=16384 v=$v " 5 > /dev/null || return 1
		sleep 0.15
	done
	awk -v A="$IAM_TMP/$a.out" '
		BEGIN { while ((getline l < A) > 0) { split(l, f, " ");
			if (f[2] == "avail") t[f[3]] = f[1] } }
		$2 == "route" && $3 == "2001:db8:a::/96" {
			for (i = 4; i <= NF; i++) if ($i ~ /^v=/) v = substr($i, 3)
			if ((v in t) && !(v in seen)) { seen[v] = 1; d[n++] = ($1 - t[v]) / 1000 } }
		END { for (i = 1; i < n; i++) for (j = i; j > 0 && d[j - 1] > d[j]; j--) {
				x = d[j]; d[j] = d[j - 1]; d[j - 1] = x }
			printf "%d changes: min %.2f ms, median %.2f ms, p90 %.2f ms, max %.2f ms\n",
			n, d[0], d[int((n - 1) / 2)], d[int((n - 1) * 0.9)], d[n - 1] }' "$IAM_TMP/$b.out"
}

bb_fabric || exit 1
bb_bird rr || exit 1
bb_speak a "$NS_A" --asn 65000 --router-id 10.0.0.1 \
	--pool 2001:db8:a::/96,16384,5000,16 --peer fd00:1::1,as=65000
bb_speak b "$NS_B" --asn 65000 --router-id 10.0.0.2 --peer fd00:1::1,as=65000
bb_wait b 'route 2001:db8:a::/96 kind=pool' > /dev/null || exit 1
printf 'V_i change -> seen at the other agent, through BIRD (route reflector): '
run a b || exit 1

# The limit: the same two speakers peered directly, BIRD out of the way.
kill "$(cat "$IAM_TMP/bird.pid")" 2> /dev/null
bb_speak a2 "$NS_A" --asn 65000 --router-id 10.0.0.1 --port 1179 \
	--pool 2001:db8:a::/96,16384,5000,16 --peer fd00:1::b,as=65000,port=1179
bb_speak b2 "$NS_B" --asn 65000 --router-id 10.0.0.2 --port 1179 \
	--peer fd00:1::a,as=65000,port=1179,passive
bb_wait b2 'route 2001:db8:a::/96 kind=pool' > /dev/null || exit 1
printf 'V_i change -> seen at the other agent, direct session (limit):    '
run a2 b2 || exit 1
