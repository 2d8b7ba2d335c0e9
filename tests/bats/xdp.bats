#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# The XDP classifier on a real interface: iam-load on one end of a veth
# (namespace A), TCP probes from the other end (namespace B).  A probe that
# gets through meets the kernel's stack (an RST or a listener); one that is
# dropped meets silence.  Each verdict is checked against the counters too,
# read with iamctl and with bpftool from the pinned maps.
#
# iam-load runs under `nsenter --net`, not `ip netns exec`: the latter
# mounts a fresh /sys without bpffs, so the pins would be invisible here.

bats_require_minimum_version 1.5.0
load lib

NET=2001:db8:8000
HOST=c0a8:a010
SELF=2001:db8:8000:c0a8:a010::1
LINK_A=2001:db8:ffff::a # the link's own, non-IAM addresses
LINK_B=2001:db8:ffff::b
BORROWER=2001:db8:9000:c0a8:b020::1 # B's agent address
BORROWER_BYTES="0x20 0x01 0x0d 0xb8 0x90 0x00 0xc0 0xa8 0xb0 0x20 0 0 0 0 0 1"
STRANGER=2001:db8:9000:dead::7

setup() {
	command -v bpftool > /dev/null || skip "bpftool is missing"
	command -v jq > /dev/null || skip "jq is missing"
	A=$(iam_ns xdpa)
	B=$(iam_ns xdpb)
	DEV=xa$IAM_RUN
	DEVB=xb$IAM_RUN
	INST=xdp$IAM_RUN
	PIN=/sys/fs/bpf/iam/$INST
	iam_veth "$A" "$DEV" "$B" "$DEVB"
	ip -n "$A" addr add $LINK_A/64 dev "$DEV" nodad
	ip -n "$B" addr add $LINK_B/64 dev "$DEVB" nodad
	ip -n "$B" addr add $BORROWER/128 dev "$DEVB" nodad
	ip -n "$B" addr add $STRANGER/128 dev "$DEVB" nodad
	ip -n "$A" route add 2001:db8:9000::/32 via $LINK_B dev "$DEV"
	from $STRANGER
}

teardown() {
	iam_cleanup
	# A test that failed before stopping its agent leaves its pins.
	rm -rf "$PIN"
}

# from ADDR: B reaches A's /80 (the agent and its blocks) from ADDR.
from() {
	ip -n "$B" route replace $NET:$HOST::/80 via $LINK_A dev "$DEVB" src "$1"
}

agent_start() {
	[ -x "$IAM_LOAD" ] || skip "iam-load is not built"
	nsenter --net=/run/netns/"$A" "$IAM_LOAD" --dev "$DEV" \
		--instance "$INST" --pool 16M --block-size 64K --net $NET \
		--host $HOST -v > "$IAM_TMP/agent.log" 2>&1 &
	AGENT=$!
	echo $AGENT >> "$IAM_TMP/iam-pids"
	iam_wait_for 20 xdp_attached || { cat "$IAM_TMP/agent.log"; return 1; }
	iam_wait_for 20 test -e "$PIN/iam_stats"
	iam_wait_for 20 pool_prefix
}

agent_stop() {
	kill -TERM $AGENT
	wait $AGENT
}

xdp_attached() {
	ip -n "$A" link show dev "$DEV" | grep -q 'prog/xdp'
}

# probe ADDR PORT: "open" or "refused" (the SYN got through), or "silent".
probe() {
	local out rc
	out=$(ip netns exec "$B" timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		echo open
	elif [ $rc -eq 124 ]; then
		echo silent
	elif [[ $out == *refused* ]]; then
		echo refused
	else
		echo "error ($rc): $out"
	fi
}

# stat KEY: a counter from `iamctl stats --json`, e.g. drops.no_access.
stat() {
	"$IAMCTL" -i "$INST" stats --json | jq -r ".$1.packets"
}

# bpfstat FIELD: a counter summed over CPUs from `bpftool map dump` (its
# "formatted" part is what the map's BTF names).
bpfstat() {
	bpftool -j map dump pinned "$PIN/iam_stats" |
		jq "[.[0].formatted.values[].value.$1.packets] | add"
}

# pool_prefix: "PLEN B0 B1 ... B15" of the agent's pool, from iam_prefixes.
pool_prefix() {
	local p
	p=$(bpftool -j map dump pinned "$PIN/iam_prefixes" |
		jq -r '.[].formatted | select(.value.kind == 1) |
			"\(.key.prefixlen) \(.key.addr | join(" "))"')
	[ -n "$p" ] && echo "$p"
}

# block N: the address of the pool's block N (N < 256).
block() {
	local -a b
	read -r -a b <<< "$(pool_prefix)"
	printf '%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x:%02x%02x\n' \
		"${b[@]:1:15}" $((b[16] + $1))
}

# agent_gone: no XDP program, pin, address or route of the agent is left.
# (`! cmd` never fails a test or function under set -e, unless it is the
# last command: each check returns on its own.)
agent_gone() {
	xdp_attached && return 1
	[ ! -e "$PIN" ] || return 1
	ip -n "$A" -6 addr show | grep -q "$SELF/" && return 1
	! ip -n "$A" -6 route show table all | grep -q "^[a-z ]*$NET:$HOST:"
}

@test "xdp: a running agent passes non-IAM, BGP and control, drops and counts the rest" {
	agent_start
	# Not IAM: the link's own address.
	r=$(probe $LINK_A 22)
	[ "$r" = refused ]
	[ "$(stat classes.not_iam)" -ge 1 ]
	# BGP and the control protocol to the agent's address.
	r=$(probe $SELF 179)
	[ "$r" = refused ] || [ "$r" = open ]
	r=$(probe $SELF 7410)
	[ "$r" = refused ] || [ "$r" = open ]
	[ "$(stat classes.bgp)" -ge 1 ]
	[ "$(stat classes.ctrl)" -ge 1 ]
	# Anything else to the agent's address.
	r=$(probe $SELF 22)
	[ "$r" = silent ]
	[ "$(stat drops.port)" -ge 1 ]
	# Data to a block that nobody borrows.
	blk=$(block 5)
	r=$(probe "$blk" 7411)
	[ "$r" = silent ]
	n=$(stat drops.no_access)
	[ "$n" -ge 1 ]
	[ "$(bpfstat drop_NO_ACCESS)" -eq "$n" ]
	[ "$(bpfstat class_BGP)" -eq "$(stat classes.bgp)" ]
	"$IAMCTL" -i "$INST" stats | grep -E '^  no_access +[1-9]'
	agent_stop
}

@test "xdp: data to a block passes from its borrower only" {
	agent_start
	local -a b
	read -r -a b <<< "$(pool_prefix)"
	# Block 5 lent to BORROWER, read-write, in iam_access slot 1, entered
	# into the pinned maps the way the agent's loader does when it lends
	# (headers/iam_maps.h): the slot first, then the block's index.
	bpftool map update pinned "$PIN/iam_access" key 1 0 0 0 value \
		$BORROWER_BYTES "${b[@]:1:15}" $((b[16] + 5)) 128 2 0 0 0 0 0 0
	bpftool map update pinned "$PIN/iam_blocks" key 5 0 0 0 value \
		1 0 0 0 0 0 0 0
	blk=$(block 5)
	from $BORROWER
	r=$(probe "$blk" 7411)
	[ "$r" = refused ] || [ "$r" = open ]
	[ "$(stat classes.data)" -ge 1 ]
	from $STRANGER
	r=$(probe "$blk" 7411)
	[ "$r" = silent ]
	[ "$(stat drops.not_borrower)" -ge 1 ]
	[ "$(bpfstat drop_NOT_BORROWER)" -eq "$(stat drops.not_borrower)" ]
	# Another block of the pool is still nobody's.
	from $BORROWER
	r=$(probe "$(block 6)" 7411)
	[ "$r" = silent ]
	[ "$(stat drops.no_access)" -ge 1 ]
	agent_stop
}

@test "xdp: nothing of the agent remains after it stops" {
	agent_start
	agent_stop
	agent_gone
}

@test "xdp: after kill -9 the program is gone; a restart replaces the pins" {
	agent_start
	stale=$(bpftool -j map show pinned "$PIN/iam_stats" | jq .id)
	kill -KILL $AGENT
	wait $AGENT || true
	# The kernel detached the program with the agent's link; the pins
	# stay until the next start.
	run ! xdp_attached
	[ -e "$PIN/iam_stats" ]
	agent_start
	[ "$(bpftool -j map show pinned "$PIN/iam_stats" | jq .id)" != "$stale" ]
	r=$(probe $SELF 22)
	[ "$r" = silent ]
	[ "$(stat drops.port)" -ge 1 ]
	r=$(probe $SELF 7410)
	[ "$r" = refused ] || [ "$r" = open ]
	agent_stop
	agent_gone
}

@test "iamctl stats and map: exit 1 when the instance is not running" {
	run "$IAMCTL" -i "$INST" stats
	[ "$status" -eq 1 ]
	[[ $output == *"\"$INST\" is not running"* ]]
	run "$IAMCTL" -i "$INST" map
	[ "$status" -eq 1 ]
	run "$IAMCTL" -i "$INST" stats bogus
	[ "$status" -eq 2 ]
	run "$IAMCTL" -i "$INST" map frob
	[ "$status" -eq 2 ]
}

@test "iamctl map: add, list, --json, bpftool, del" {
	agent_start
	run "$IAMCTL" -i "$INST" map
	[ "$status" -eq 0 ]
	[[ ${lines[-1]} == "0 of "*" slots in use" ]]
	"$IAMCTL" -i "$INST" map add 7 --vaddr 0x7f0000010000 \
		--block 2001:db8:9000:c0a8:b020:0:1:5 --lender $BORROWER \
		--rights rw --rdma --rkey 99 --pid 1234 --alloc 3
	run "$IAMCTL" -i "$INST" map --json
	[ "$status" -eq 0 ]
	[ "$(jq '.entries | length' <<< "$output")" -eq 1 ]
	[ "$(jq '.entries[0].slot' <<< "$output")" -eq 7 ]
	[ "$(jq '.entries[0].vaddr' <<< "$output")" -eq $((0x7f0000010000)) ]
	# FIG. 2: block address 0x10005 of 64 KiB blocks.
	[ "$(jq '.entries[0].remote_addr' <<< "$output")" -eq $((0x100050000)) ]
	[ "$(jq -r '.entries[0].block' <<< "$output")" = 2001:db8:9000:c0a8:b020:0:1:5 ]
	[ "$(jq -r '.entries[0].lender' <<< "$output")" = $BORROWER ]
	[ "$(jq -r '.entries[0].rights' <<< "$output")" = rw ]
	[ "$(jq -r '.entries[0].flags | join(",")' <<< "$output")" = valid,rdma ]
	[ "$(jq '.entries[0].rkey' <<< "$output")" -eq 99 ]
	# The same entry through the map's BTF.
	e=$(bpftool -j map lookup pinned "$PIN/mem_to_ip" key 7 0 0 0)
	[ "$(jq '.formatted.value.pid' <<< "$e")" -eq 1234 ]
	[ "$(jq '.formatted.value.alloc_id' <<< "$e")" -eq 3 ]
	[ "$(jq '.formatted.value.rights' <<< "$e")" -eq 2 ]
	run "$IAMCTL" -i "$INST" map
	[ "$status" -eq 0 ]
	[[ ${lines[1]} == *"0x7f0000010000"*"2001:db8:9000:c0a8:b020:0:1:5"*" rw "* ]]
	# Bad input is exit 2 and changes nothing.
	run "$IAMCTL" -i "$INST" map add 8 --vaddr 0x7f0000010001 \
		--block 2001:db8:9000:c0a8:b020:0:1:5 --lender $BORROWER
	[ "$status" -eq 2 ]
	run "$IAMCTL" -i "$INST" map add 99999999 --vaddr 0x7f0000010000 \
		--block 2001:db8:9000:c0a8:b020:0:1:5 --lender $BORROWER
	[ "$status" -eq 2 ]
	run "$IAMCTL" -i "$INST" map add 8 --vaddr 0x7f0000010000
	[ "$status" -eq 2 ]
	run "$IAMCTL" -i "$INST" map add 8 --vaddr 0x7f0000010000 \
		--block 2001:db8::zz --lender $BORROWER
	[ "$status" -eq 2 ]
	"$IAMCTL" -i "$INST" map del 7
	run "$IAMCTL" -i "$INST" map --json
	[ "$(jq '.entries | length' <<< "$output")" -eq 0 ]
	agent_stop
}
