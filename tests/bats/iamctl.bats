#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# iamctl against one agent (issue 7): every command prints a table for
# people and valid JSON with --json, and exits 0 (success), 1 (runtime
# failure: no such agent) or 2 (bad usage), as iamctl(8) says.  The agent
# has a BGP peer that never answers, so `peers` has a row to show, and
# iam-bench --hold keeps a region of local blocks for `allocations` and
# `map`.  One agent for the whole file: the tests only read.

bats_require_minimum_version 1.5.0
load lib

NET=2001:db8:7000
HOST=a:77
SELF=2001:db8:7000:a:77::1
PEER=2001:db8:ffff::b

ctl() { nsenter --net=/run/netns/"$NS" "$IAMCTL" -i "$INST" "$@"; }
fault_where() { ctl status --json | jq -c '[.fault_cpu, .fault_follow_pid]'; }

setup_file() {
	export IAM_TMP=$BATS_FILE_TMPDIR
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces, XDP, mlock)"
	command -v jq > /dev/null || skip "jq is missing"
	[ -x "$IAM_LOAD" ] || skip "iam-load is not built"
	export NS INST
	NS=$(iam_ns ctla)
	local b
	b=$(iam_ns ctlb)
	INST=ctl$IAM_RUN
	iam_veth "$NS" eth0 "$b" eth0
	ip -n "$NS" addr add 2001:db8:ffff::a/64 dev eth0 nodad
	ip -n "$b" addr add $PEER/64 dev eth0 nodad
	# Nothing listens on the peer: its session stays down, with an error.
	nsenter --net=/run/netns/"$NS" "$IAM_LOAD" --dev eth0 --instance "$INST" \
		--pool 1M --net $NET --host $HOST --asn 65077 \
		--peer $PEER,as=65078 > "$IAM_TMP/agent.log" 2>&1 3>&- &
	echo $! >> "$IAM_TMP/iam-pids"
	iam_wait_for 20 ctl status || { cat "$IAM_TMP/agent.log"; return 1; }
	# 256K of the 1M pool, held by iam-bench until its input ends.
	mkfifo "$IAM_TMP/bench.in"
	sleep infinity > "$IAM_TMP/bench.in" 3>&- &
	echo $! >> "$IAM_TMP/iam-pids"
	nsenter --net=/run/netns/"$NS" "$IAM_BENCH" -i "$INST" --size 256K --hold \
		< "$IAM_TMP/bench.in" > "$IAM_TMP/bench.out" 2>&1 3>&- &
	echo $! >> "$IAM_TMP/iam-pids"
	iam_wait_for 30 grep -q "holding the region until" "$IAM_TMP/bench.out" ||
		{ cat "$IAM_TMP/bench.out"; return 1; }
}

teardown_file() {
	iam_cleanup
	rm -rf "/sys/fs/bpf/iam/$INST"
}

@test "iamctl status: a summary for people, M and V in JSON" {
	run ctl status
	[ "$status" -eq 0 ]
	[[ "$output" == "instance $INST on eth0 (XDP "*", agent $SELF, AS 65077,"* ]]
	[[ "$output" == *"pool $NET:$HOST:0:1:0/124: 16 blocks of 64K, 12 available, 0 lent"* ]]
	[[ "$output" == *"fabric: M = 16 blocks (1M), V = 12 blocks (768K), 1 lender(s); BGP 0/1 peers established"* ]]
	[[ "$output" == *"borrowing: 1 region(s), 4 blocks;"* ]]
	[[ "$output" == *"LENDER "*" AS PATH"* ]]
	run ctl status --json
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.total_blocks, .available_blocks, .block_size, .regions, .agent_address]' <<< "$output")" = "[16,12,65536,1,\"$SELF\"]" ]
	[ "$(jq -r '.lenders[0] | keys | join(",")' <<< "$output")" = age_ms,as_path,available_blocks,block_size,next_hop,prefix,self,total_blocks,transport ]
}

@test "iamctl lenders: this agent's own pool, table and JSON" {
	run ctl lenders
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(printf '%-34s %9s %9s %6s %-26s %7s %-9s %s' LENDER M_i V_i BLOCK 'NEXT HOP' AGE TRANSPORT 'AS PATH')" ]
	[[ "${lines[1]}" =~ ^$NET:$HOST:0:1:0/124\ +16\ +12\ +64K\ \(this\ agent\)\ +[0-9]+[smh].*\ local\ +-$ ]]
	run ctl lenders --json
	[ "$status" -eq 0 ]
	[ "$(jq -c '.lenders[] | [.prefix, .self, .next_hop, .as_path]' <<< "$output")" = "[\"$NET:$HOST:0:1:0/124\",true,null,[]]" ]
}

@test "iamctl allocations: the held region's local blocks, no lease" {
	run ctl allocations
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "ROLE "*" EXPIRES" ]]
	[[ "${lines[1]}" =~ ^borrowed\ +confirmed\ +[0-9]+\ 4\ +rw\ $SELF\ +$NET:$HOST:0:1:0/126\ +-$ ]]
	run ctl allocations --json
	[ "$status" -eq 0 ]
	[ "$(jq -c '.allocations[] | [.role, .state, .blocks, .rights, .lender, .prefixes]' <<< "$output")" = "[\"borrowed\",\"confirmed\",4,\"rw\",\"$SELF\",[\"$NET:$HOST:0:1:0/126\"]]" ]
}

@test "iamctl map: one entry per borrowed block" {
	run ctl map
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"slot"*"vaddr"*"block"*"lender"* ]]
	[[ "${lines[1]}" == *" $NET:$HOST:0:1:0 "*" $SELF "*" rw "*" local "* ]]
	[ "${lines[-1]}" = "4 of 65536 slots in use" ]
	run ctl map --json
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.entries[] | .block]' <<< "$output")" = "[\"$NET:$HOST:0:1:0\",\"$NET:$HOST:0:1:1\",\"$NET:$HOST:0:1:2\",\"$NET:$HOST:0:1:3\"]" ]
	[ "$(jq -c '.entries[0].flags' <<< "$output")" = '["valid","local"]' ]
}

@test "iamctl peers: the silent peer, its state and last error" {
	run ctl peers
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(printf '%-28s %10s %-12s %8s %8s %s' PEER AS STATE UP ROUTES 'LAST ERROR')" ]
	[[ "${lines[1]}" =~ ^$PEER\ +65078\ +(Idle|Connect|Active|OpenSent)\ +-\ +0\  ]]
	run ctl peers --json
	[ "$status" -eq 0 ]
	[ "$(jq -c '.peers[] | [.address, .remote_as, .routes, .uptime_ms]' <<< "$output")" = "[\"$PEER\",65078,0,0]" ]
	[ "$(jq -r '.peers[0].state' <<< "$output")" != Established ]
}

@test "iamctl stats: classes and drop reasons, table and JSON" {
	run ctl stats
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "XDP counters of instance \"$INST\": "*" passed, "*" dropped" ]]
	[[ "$output" == *"  not_borrower "* ]]
	run ctl stats --json
	[ "$status" -eq 0 ]
	[ "$(jq -r '.instance' <<< "$output")" = "$INST" ]
	jq -e '.drops.not_borrower.packets >= 0 and .passed_packets >= 0' <<< "$output"
}

@test "iamctl: every command's --json is one JSON document" {
	local c
	for c in status lenders allocations peers map stats "addr decode $SELF"; do
		# shellcheck disable=SC2086
		run ctl $c --json
		[ "$status" -eq 0 ]
		jq -e 'type == "object"' <<< "$output" > /dev/null
	done
}

@test "iamctl: exit 1 and nothing on stdout when the instance is not running" {
	local c
	for c in status lenders allocations peers map stats; do
		run --separate-stderr "$IAMCTL" -i "nosuch$IAM_RUN" $c --json
		[ "$status" -eq 1 ]
		[ -z "$output" ]
		[[ "$stderr" == "iamctl $c: "*"nosuch$IAM_RUN"* ]]
	done
}

@test "iamctl: exit 2 for bad usage, 0 for --help" {
	local c
	for c in status lenders allocations peers stats; do
		run --separate-stderr ctl $c extra
		[ "$status" -eq 2 ]
		[[ "$stderr" == "iamctl $c: unexpected argument"* ]]
		run ctl $c --help
		[ "$status" -eq 0 ]
		[[ "${lines[0]}" == "usage: iamctl [-i NAME] $c"* ]]
	done
	run ctl map frobnicate
	[ "$status" -eq 2 ]
	run ctl map -h
	[ "$status" -eq 0 ]
	run ctl addr decode --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "usage: iamctl addr encode"* ]]
	run "$IAMCTL" frobnicate
	[ "$status" -eq 2 ]
	run "$IAMCTL"
	[ "$status" -eq 2 ]
	run "$IAMCTL" -i "bad/name" status
	[ "$status" -eq 2 ]
	run "$IAMCTL" --help
	[ "$status" -eq 0 ]
	for c in addr allocations lenders map peers stats status; do
		[[ "$output" == *"  $c "* ]]
	done
}

@test "iamctl status: the fault thread goes to a client pinned to one CPU (--cpu follow), and back" {
	local pid
	run ctl status
	[[ "$output" == *"fault thread: any CPU"* ]]
	[ "$(fault_where)" = "[-1,0]" ]
	mkfifo "$IAM_TMP/pinned.in"
	sleep infinity > "$IAM_TMP/pinned.in" 3>&- &
	echo $! > "$IAM_TMP/pinned.holder"
	echo $! >> "$IAM_TMP/iam-pids"
	nsenter --net=/run/netns/"$NS" "$IAM_BENCH" -i "$INST" --size 256K --hold \
		--cpu 0 < "$IAM_TMP/pinned.in" > "$IAM_TMP/pinned.out" 2>&1 3>&- &
	pid=$!
	echo $pid >> "$IAM_TMP/iam-pids"
	iam_wait_for 30 grep -q "holding the region until" "$IAM_TMP/pinned.out"
	run ctl status
	[[ "$output" == *"fault thread: CPU 0, where client pid $pid is pinned"* ]]
	[ "$(fault_where)" = "[0,$pid]" ]
	# Its input ends: it frees, and the thread may run anywhere again.
	kill "$(cat "$IAM_TMP/pinned.holder")"
	iam_wait_eq 20 "[-1,0]" fault_where
	[ "$(ctl status --json | jq .regions)" = 1 ]
}

@test "a user the agent does not allow is told so, by iamctl and by libiam" {
	command -v setpriv > /dev/null || skip "setpriv (util-linux) is missing"
	run nsenter --net=/run/netns/"$NS" setpriv --reuid=65534 --regid=65534 \
		--clear-groups "$IAMCTL" -i "$INST" status
	[ "$status" -eq 1 ]
	[ "$output" = "iamctl status: user 65534 may not use IAM agent \"$INST\" (see --allow-user, --allow-group)" ]
	run nsenter --net=/run/netns/"$NS" setpriv --reuid=65534 --regid=65534 \
		--clear-groups "$IAM_BENCH" -i "$INST" --size 64K
	[ "$status" -eq 1 ]
	[[ "$output" == *"Permission denied: user 65534 may not use IAM agent \"$INST\""* ]]
	grep -q "ipc: refusing pid [0-9]* of user 65534 (not allowed" "$IAM_TMP/agent.log"
	# The agent goes on serving the others.
	ctl status > /dev/null
}
