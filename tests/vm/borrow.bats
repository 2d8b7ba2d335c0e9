#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Borrowing end to end over RDMA (issue 6), in the tests/vm guest: two
# real agents on soft-RoCE, side 0 lending, side 1 borrowing with no
# local budget and a 1M cache, so every page of a 4M region goes to the
# lender by RDMA WRITE and comes back by RDMA READ.  XDP is attached to
# both veths.  The tests run in order and share the agents and the
# client.  Run by tests/vm/guest-tests.sh; skipped anywhere else.

bats_require_minimum_version 1.5.0
load agents

setup_file() {
	[ -n "${IAM_VM:-}" ] || skip "runs in the tests/vm guest (make test-rxe)"
	vm_agent 0 --pool 16M --cache 1M -v
	vm_agent 1 --pool 1M --local-budget 0 --cache 1M -v
	vm_agents_wait 60
}

teardown_file() {
	vm_agents_down
}

# vm_explode ADDR: the address with every group in four digits, as the
# GID table in sysfs writes it.
vm_explode() {
	local a=$1 head tail x i n out=()
	local -a h t
	head=$a tail=
	if [[ $a == *::* ]]; then
		head=${a%%::*} tail=${a#*::}
	fi
	IFS=: read -ra h <<< "$head"
	IFS=: read -ra t <<< "$tail"
	n=$((8 - ${#h[@]} - ${#t[@]}))
	for x in "${h[@]}"; do out+=("$(printf %04x "0x$x")"); done
	for ((i = 0; i < n; i++)); do out+=(0000); done
	for x in "${t[@]}"; do out+=("$(printf %04x "0x$x")"); done
	(IFS=:; echo "${out[*]}")
}

@test "agent addresses are deprecated, yet RoCE v2 GIDs that rdma_cm binds to" {
	local i dev agent gid g x want
	for i in 0 1; do
		dev=IAM_VM_NETDEV$i agent=IAM_VM_AGENT$i
		# preferred_lft 0: never a default source address.
		run ip -6 -o addr show dev "${!dev}" to "${!agent}/128"
		[[ "$output" == *"inet6 ${!agent}/128 scope global "*deprecated* ]]
		[[ "$output" == *"preferred_lft 0sec"* ]]
		# rxe's table has 1024 entries, filled from the start.
		want=$(vm_explode "${!agent}") gid=
		for ((g = 0; g < 1024; g++)); do
			read -r x < /sys/class/infiniband/rxe$i/ports/1/gids/$g || break
			[ "$x" = "$want" ] && gid=$g && break
			[ "$x" = 0000:0000:0000:0000:0000:0000:0000:0000 ] && break
		done
		[ -n "$gid" ]
		[ "$(cat /sys/class/infiniband/rxe$i/ports/1/gid_attrs/types/$gid)" = "RoCE v2" ]
		grep -q "rdma: listening on \[${!agent}\]:7412 (rxe$i)" "$VM_DIR/agent$i.log"
	done
}

@test "4M borrowed from the other side over RDMA: rkeys, mem_to_ip, iamctl status" {
	local pool0
	run vm_client_start c1 1 --size 4M
	[ "$output" = "ready 1024 pages" ]
	run vm_ctl 0 allocations --json
	[ "$(jq -r '.allocations[] | select(.role == "lent") | .borrower' <<< "$output")" = "$IAM_VM_AGENT1" ]
	[ "$(jq '[.allocations[] | select(.role == "lent") | .blocks] | add' <<< "$output")" = 64 ]
	# One memory region per run of the allocation, one queue pair.
	[ "$(vm_status 0 .rdma_regions)" -ge 1 ]
	[ "$(vm_status 0 .rdma_queue_pairs)" = 1 ]
	# Every block of the region: on the lender, by RDMA, with an rkey.
	run vm_ctl 1 map --json
	[ "$(jq '[.entries[] | select((.flags | index("rdma")) and .rkey != 0)] | length' <<< "$output")" = 64 ]
	# The lender table shows the transport, as JSON and as text.
	pool0=$(vm_status 0 .pool_prefix)
	[ "$(vm_status 1 ".lenders[] | select(.prefix == \"$pool0\") | .transport")" = rdma ]
	run vm_ctl 1 status
	awk -v p="$pool0" '$1 == p' <<< "$output" | grep -qw rdma
}

@test "every byte survives eviction, RDMA WRITE-back and RDMA READ re-fault" {
	local st
	run vm_client c1 verify
	[ "$output" = "verified 1024 lost 0 wrong 0" ]
	st=$(vm_ctl 1 status --json)
	# 1024 pages through a 256-page cache: at least 768 went out dirty
	# and came back.
	[ "$(jq .writebacks <<< "$st")" -ge 768 ]
	[ "$(jq .remote_reads <<< "$st")" -ge 768 ]
	[ "$(jq .rdma_writes <<< "$st")" = "$(jq .writebacks <<< "$st")" ]
	[ "$(jq .rdma_reads <<< "$st")" = "$(jq .remote_reads <<< "$st")" ]
	[ "$(jq .resident_pages <<< "$st")" -le 256 ]
	[ "$(jq .lost_faults <<< "$st")" = 0 ]
	run vm_client c1 rewrite
	[ "$output" = rewritten ]
	run vm_client c1 verify
	[ "$output" = "verified 1024 lost 0 wrong 0" ]
}

@test "the lender served it all by RDMA: TCP data server idle, XDP passed the CM and checked every request" {
	local st0 st1 x0 x1
	st0=$(vm_ctl 0 status --json)
	st1=$(vm_ctl 1 status --json)
	x0=$(vm_ctl 0 stats --json)
	x1=$(vm_ctl 1 stats --json)
	[ "$(jq '.data_reads + .data_writes + .data_denied' <<< "$st0")" = 0 ]
	[ "$(jq .classes.data.packets <<< "$x0")" = 0 ]
	[ "$(jq .classes.data.packets <<< "$x1")" = 0 ]
	# Each READ and WRITE (4K: one packet at MTU 4096) was checked
	# against the access map on its way in: source = the borrower.
	[ "$(jq .classes.rdma.packets <<< "$x0")" -ge "$(jq '.rdma_reads + .rdma_writes' <<< "$st1")" ]
	# The connection manager's MADs (RoCEv2 to QP 1) to the agent
	# address passed, and the read responses came back.
	[ "$(jq .classes.roce.packets <<< "$x0")" -gt 0 ]
	[ "$(jq .classes.roce.packets <<< "$x1")" -ge "$(jq .rdma_reads <<< "$st1")" ]
	[ "$(jq .dropped_packets <<< "$x0")" = 0 ]
	[ "$(jq .dropped_packets <<< "$x1")" = 0 ]
}

@test "free: the lender deregisters, withdraws and is whole again" {
	run vm_client c1 free
	[ "$output" = freed ]
	iam_wait_eq 20 0 vm_status 0 .rdma_regions
	iam_wait_eq 20 "$(vm_status 0 .own_total_blocks)" vm_status 0 .own_available_blocks
	[ "$(vm_ctl 0 allocations --json | jq '.allocations | length')" = 0 ]
	iam_wait_eq 20 "$(vm_status 1 .total_blocks)" vm_status 1 .available_blocks
	vm_client_stop c1
}

# vm_xdp_forget PID: the lender's XDP program forgets which allocation
# holds the blocks that process PID on side 1 borrowed, so it drops their
# RDMA requests (no_access) while the lender, its queue pair and its
# rkeys live on: what a borrower sees once its lease ran out there.
vm_xdp_forget() {
	local pid=$1 x base idx
	x=$(vm_explode "$(vm_status 0 .pool_prefix | cut -d/ -f1)")
	base=$((16#${x:25:4}${x:30:4}${x:35:4}))
	vm_ctl 1 map --json |
		jq -r --argjson pid "$pid" --argjson base "$base" \
			'.entries[] | select(.pid == $pid) | (.remote_addr / 65536 | floor) - $base' |
		while read -r idx; do
			echo "map update pinned /sys/fs/bpf/iam/vm0/iam_blocks key" \
				$((idx & 255)) $((idx >> 8 & 255)) $((idx >> 16 & 255)) \
				$((idx >> 24)) "value 0 0 0 0 0 0 0 0"
		done > "$VM_DIR/forget.batch"
	[ -s "$VM_DIR/forget.batch" ] && bpftool batch file "$VM_DIR/forget.batch"
}

@test "a live lender that drops one allocation's requests: only that allocation is lost" {
	local st pid drops
	run vm_client_start c3 1 --size 1M
	[ "$output" = "ready 256 pages" ]
	run vm_client_start c4 1 --size 1M
	[ "$output" = "ready 256 pages" ]
	drops=$(vm_ctl 0 stats --json | jq .drops.no_access.packets)
	vm_xdp_forget "$(cat "$VM_DIR/c3.pid")"
	run vm_client c3 verify
	# Resident pages read back right; the others are lost (SIGBUS):
	# the fault thread's READ went unanswered, it reconnected, the
	# lender took the new queue pair but again did not answer for the
	# block, so the allocation -- not the lender -- is lost.
	[[ "$output" =~ ^verified\ ([0-9]+)\ lost\ ([0-9]+)\ wrong\ 0$ ]]
	[ "${BASH_REMATCH[2]}" -gt 0 ]
	[ $((BASH_REMATCH[1] + BASH_REMATCH[2])) = 256 ]
	[ "$(vm_ctl 0 stats --json | jq .drops.no_access.packets)" -gt "$drops" ]
	st=$(vm_ctl 1 status --json)
	[ "$(jq .lost_allocations <<< "$st")" = 1 ]
	grep -q "refused allocation" "$VM_DIR/agent1.log"
	! grep -q "lender $IAM_VM_AGENT0 failed" "$VM_DIR/agent1.log"
	# The other allocation of the same lender, over the new queue pair.
	run vm_client c4 verify
	[ "$output" = "verified 256 lost 0 wrong 0" ]
	run vm_client c4 rewrite
	run vm_client c4 verify
	[ "$output" = "verified 256 lost 0 wrong 0" ]
	[ "$(vm_status 0 .rdma_queue_pairs)" = 1 ]
	for c in c3 c4; do
		run vm_client $c free
		[ "$output" = freed ]
		vm_client_stop $c
	done
}

@test "a lender killed mid-run: SIGBUS on its pages, the borrower keeps serving" {
	run vm_client_start c2 1 --size 2M
	[ "$output" = "ready 512 pages" ]
	kill -9 "$(vm_agent_pid 0)"
	run vm_client c2 verify
	# Pages still resident read back right; the others are lost.
	[[ "$output" =~ ^verified\ ([0-9]+)\ lost\ ([0-9]+)\ wrong\ 0$ ]]
	[ "${BASH_REMATCH[2]}" -gt 0 ]
	[ $((BASH_REMATCH[1] + BASH_REMATCH[2])) = 512 ]
	grep -q "lender $IAM_VM_AGENT0 failed" "$VM_DIR/agent1.log"
	[ "$(vm_status 1 .lost_faults)" -gt 0 ]
	run vm_client c2 free
	[ "$output" = freed ]
	vm_client_stop c2
}
