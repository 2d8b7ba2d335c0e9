#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# `make demo` must not rot (issue 7): run tests/demo/demo.sh as it is, under
# names of this run, and check the lines a newcomer is told to look at;
# then KEEP=1 and --down.  Each run takes a few seconds.

bats_require_minimum_version 1.5.0
load lib

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces, XDP, mlock)"
	command -v bird > /dev/null || skip "bird2 is not installed"
	command -v ping > /dev/null || skip "ping (iputils-ping) is not installed"
	[ -x "$IAM_LOAD" ] || skip "iam-load is not built"
	export DEMO_NAME=dm$IAM_RUN DEMO_DIR=$BATS_TEST_TMPDIR/demo BUILD
	DEMO=$IAM_TOP/tests/demo/demo.sh
}

teardown() {
	# Whatever a failed run left.
	"$DEMO" --down > /dev/null 2>&1 || true
}

# Nothing of the demo remains: namespaces, pins, sockets.
nothing_left() {
	! ip netns list | grep -q "^$DEMO_NAME-"
	! compgen -G "/sys/fs/bpf/iam/$DEMO_NAME-*"
	! compgen -G "/run/iam/$DEMO_NAME-*"
}

@test "demo: every step checks out, and it cleans up after itself" {
	run "$DEMO"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok  leaf1 <-> spine: BGP Established"* ]]
	[[ "$output" == *"ok  leaf2 <-> spine: BGP Established"* ]]
	[[ "$output" == *"2001:db8:1:a:2:0:1:0/121"*"(65102, 1, 128) (65102, 2, 128) (65102, 3, 16)"* ]]
	for i in 1 2 3 4; do
		[[ "$output" == *"ok  h$i: agent 2001:db8:"*":a:$i::1 up, BGP session with leaf"* ]]
		[[ "$output" == *"ok  h$i sees M = 448 blocks, V = 448 blocks, 4 lenders"* ]]
	done
	[[ "$output" == *"65001 65000 65002 65103"* ]]
	[[ "$output" =~ h1\ +-\ +ok\ +ok\ +ok ]]
	[[ "$output" =~ h4\ +ok\ +ok\ +ok\ +- ]]
	[[ "$output" == *"fault latency: p50 "*" us, p99 "* ]]
	[[ "$output" == *"verified: every byte (0 wrong 8-byte words)"* ]]
	[[ "$output" == *"h2 lends 128 blocks to h1"* ]]
	[[ "$output" == *"every agent now sees V = 192 (M = 448)"* ]]
	[[ "$output" == *"(65102, 10, 167772417) (65102, 11, 2)"* ]]
	[[ "$output" == *'"remote_addr":'* ]]
	[[ "$output" == *"256 of 65536 slots in use"* ]]
	[[ "$output" == *"ok  every agent sees V = M = 448 again"* ]]
	[[ "$output" == *"ok  BIRD has no allocation route left"* ]]
	[[ "${lines[-1]}" == "demo finished in "* ]]
	nothing_left
}

@test "demo: KEEP=1 leaves the fabric and the allocation up, README's first program runs on it; --down removes them" {
	KEEP=1 run "$DEMO"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Remove everything with: make demo-down"* ]]
	[[ "$output" == *"nsenter --net=/run/netns/$DEMO_NAME-h1 $BUILD/iamctl -i $DEMO_NAME-h1 status"* ]]
	run nsenter --net=/run/netns/"$DEMO_NAME-h1" "$IAMCTL" -i "$DEMO_NAME-h1" status --json
	[ "$status" -eq 0 ]
	[ "$(jq .borrowed_blocks <<< "$output")" = 256 ]
	run ip netns exec "$DEMO_NAME-spine" birdc -s "$DEMO_DIR/spine.ctl" show protocols
	[[ "$output" == *"leaf1 "*"Established"* ]]
	# README's "A first borrowed page", as written there.
	sed -n '/^## A first borrowed page/,/^## /p' "$IAM_TOP/README.md" |
		sed -n '/^```c$/,/^```$/p' | sed '1d;$d' > "$BATS_TEST_TMPDIR/first.c"
	grep -q 'iam_alloc' "$BATS_TEST_TMPDIR/first.c"
	cc -Wall -Wextra -Werror -I"$IAM_TOP/headers" "$BATS_TEST_TMPDIR/first.c" \
		"$BUILD/libiam.a" -o "$BATS_TEST_TMPDIR/first"
	IAM_INSTANCE=$DEMO_NAME-h1 run nsenter --net=/run/netns/"$DEMO_NAME-h1" \
		"$BATS_TEST_TMPDIR/first"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "first page: block 2001:db8:"*" on 2001:db8:"*"::1 ("*")" ]]
	[[ "${lines[1]}" == "last page:  block 2001:db8:"*" on 2001:db8:"*"::1 (a lender)" ]]
	run "$DEMO" --down
	[ "$status" -eq 0 ]
	[ "$output" = "demo: removed the namespaces $DEMO_NAME-* and their agents" ]
	nothing_left
	run "$DEMO" --down
	[ "$output" = "demo: nothing to remove (no namespace $DEMO_NAME-*)" ]
}
