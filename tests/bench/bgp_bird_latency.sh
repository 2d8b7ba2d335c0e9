#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Time from a V_i change at one agent to the new V seen at another, with
# BIRD 2 between them as an iBGP route reflector (goal: <= 100 ms), and
# beside it the same over a direct session between the two agents (no
# router): the limit of the agents and the kernel, measured in the same
# run.  The agents are iam-load in namespaces on one bridge; the change is
# real: a libiam client of agent A allocates 1M from A's own pool and
# frees it again, and agent B's `status` is polled until its V follows
# (tests/tools/iam-vlat).  Changes are 150 ms apart, slower than the
# default rate limit (10/s), so each is announced at once.  N=40 changes
# by default.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
N=${N:-40}
if [ "$(id -u)" != 0 ] || ! command -v bird > /dev/null ||
	! command -v jq > /dev/null ||
	[ ! -x "$BUILD/tests/tools/iam-vlat" ] || [ ! -x "$BUILD/iam-load" ]; then
	echo "bgp_bird_latency: skipped (needs root, bird2, jq and make tests)"
	exit 0
fi
BATS_TEST_TMPDIR=$(mktemp -d /tmp/iam-bgplat.XXXXXX)
export BATS_TEST_TMPDIR
# shellcheck source=../bats/lib.bash
. tests/bats/lib.bash
# shellcheck source=../bats/bird/bgp_bird.bash
. tests/bats/bird/bgp_bird.bash
trap 'iam_cleanup; rm -rf "$BATS_TEST_TMPDIR"' EXIT

# agents PEER_A PEER_B: start A and B (AS 65000) with these --peer specs.
agents() {
	bb_agent a "$NS_A" --net 2001:db8:a --host a:1 --asn 65000 \
		--router-id 10.0.0.1 --peer "$1" --pool 4M --cache 1M || return 1
	bb_agent b "$NS_B" --net 2001:db8:b --host b:2 --asn 65000 \
		--router-id 10.0.0.2 --peer "$2" --pool 4M --cache 1M || return 1
	# B knows both pools, whole: V = 128
	iam_wait_eq 20 128 bb_status b .available_blocks > /dev/null
}

# measure LABEL: N changes at A, each seen at B.
measure() {
	local out
	out=$("$BUILD/tests/tools/iam-vlat" --at "a-$IAM_RUN" \
		--seen-at "b-$IAM_RUN" -n "$N" --size 1M) || return 1
	printf 'V_i change -> seen at the other agent, %s: %s\n' "$1" \
		"$(sed -n 's/^seen //p' <<< "$out")"
	printf '  of which the allocation or free at the first agent:   %s\n' \
		"$(sed -n 's/^call //p' <<< "$out")"
}

bb_fabric || exit 1
bb_bird rr || exit 1
agents fd00:1::1,as=65000 fd00:1::1,as=65000 || exit 1
measure "through BIRD (route reflector)" || exit 1

# The limit: the same two agents peered directly, BIRD out of the way.
kill "$(cat "$IAM_TMP/bird.pid")" 2> /dev/null
bb_agent_stop a && bb_agent_stop b || exit 1
agents fd00:1::b,as=65000 fd00:1::a,as=65000,passive || exit 1
measure "direct session (limit)         " || exit 1
