#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Borrowing end to end (issue 5): three hosts and a fourth, joined through
# BIRD as an iBGP route reflector.  h1 borrows more than its local budget
# plus one lender's pool, so blocks come from h2 and h3; h4 is an outsider
# that tries to read h1's blocks.  The tests run in order and share the
# fabric and h1's client.

bats_require_minimum_version 1.5.0
load lib
load fabric

# Pools: h1 4M (64 blocks of 64K, local budget 1M = 16), h2 and h3 8M
# (128 each), h4 64K (1 block).  Caches of 1M make the 12M region go out
# to the lenders and come back.
M=$((64 + 128 + 128 + 1))

setup_file() {
	# One fabric for the whole file: its bookkeeping lives per file.
	export IAM_TMP=$BATS_FILE_TMPDIR
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces, XDP, mlock)"
	command -v bird > /dev/null || skip "bird2 is not installed"
	fab_up 4
	fab_agent 1 --pool 4M --local-budget 1M --cache 1M
	fab_agent 2 --pool 8M --cache 1M
	fab_agent 3 --pool 8M --cache 1M
	fab_agent 4 --pool 64K --local-budget 0 --cache 1M --lease 3s
	for i in 1 2 3 4; do
		iam_wait_eq 30 $M fab_status $i .total_blocks
	done
}

teardown_file() {
	iam_cleanup
}

@test "every agent derives the same M and V" {
	for i in 1 2 3 4; do
		[ "$(fab_status $i .total_blocks)" = $M ]
		[ "$(fab_status $i .available_blocks)" = $M ]
		[ "$(fab_status $i '.lenders | length')" = 4 ]
	done
	[ "$(fab_status 2 '.lenders[] | select(.self) | .total_blocks')" = 128 ]
	[ "$(fab_status 1 '.lenders[] | select(.prefix | startswith("2001:db8:3:")) | .available_blocks')" = 128 ]
}

@test "h1 borrows 12M: its 16 local blocks, then both lenders" {
	run fab_client_start c1 1 --size 12M
	[ "$output" = "ready 3072 pages" ]
	# 192 blocks: 16 from h1's own pool, the rest from h2 and h3.
	[ "$(fab_ctl 1 allocations --json | jq '[.allocations[] | select(.role == "borrowed")] | length')" = 3 ]
	[ "$(fab_ctl 1 allocations --json | jq '[.allocations[] | select(.role == "borrowed") | .blocks] | add')" = 192 ]
	for i in 2 3; do
		run fab_ctl $i allocations --json
		[ "$(jq -r '.allocations[] | select(.role == "lent") | .borrower' <<< "$output")" = 2001:db8:1:a:1::1 ]
	done
}

@test "every byte survives eviction and re-fault" {
	run fab_client c1 verify
	[ "$output" = "verified 3072 lost 0 wrong 0" ]
	[ "$(fab_status 1 .evictions)" -gt 2000 ]
	[ "$(fab_status 1 .writebacks)" -gt 2000 ]
	[ "$(fab_status 1 .remote_reads)" -gt 2000 ]
	[ "$(fab_status 1 .resident_pages)" -le 256 ]
	run fab_client c1 rewrite
	run fab_client c1 verify
	[ "$output" = "verified 3072 lost 0 wrong 0" ]
}

@test "a child of fork() does not inherit the region; the parent keeps it" {
	# Inherited, the child would see evicted pages as zeros and its
	# writes would escape dirty tracking: it must get SIGSEGV instead.
	# And its iam_free() must not free the parent's region over the
	# parent's connection.
	run fab_client c1 fork
	[ "$output" = "fork child segv" ]
	run fab_client c1 verify
	[ "$output" = "verified 3072 lost 0 wrong 0" ]
}

@test "libiam says where a page lives" {
	run fab_client c1 "where 0"
	[[ "$output" == "where 0 lender 2001:db8:1:a:1::1 "*" local 1" ]]
	run fab_client c1 "where 12582911"
	[[ "$output" == *"lender 2001:db8:"[23]":a:"[23]"::1 block 2001:db8:"* ]]
	[[ "$output" == *" local 0" ]]
}

@test "bpftool shows the mem-to-ip entries" {
	local pin=/sys/fs/bpf/iam/$(fab_inst 1)/mem_to_ip
	run bpftool map dump pinned "$pin"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"remote_addr"'* ]]
	[[ "$output" == *'"lender_idx"'* ]]
	run fab_ctl 1 map --json
	[ "$status" -eq 0 ]
	[ "$(jq '[.. | objects | select(has("block"))] | length' <<< "$output")" = 192 ]
}

@test "the allocations are in BIRD with borrower id and rights" {
	run fab_birdc show route all
	[ "$status" -eq 0 ]
	# (65000, 10, 10.0.0.1 = 167772161): borrower h1; (65000, 11, 2): rw.
	[[ "$output" == *"(65000, 10, 167772161)"* ]]
	[[ "$output" == *"(65000, 11, 2)"* ]]
}

@test "every agent sees V drop by the 192 blocks" {
	for i in 1 2 3 4; do
		iam_wait_eq 10 $((M - 192)) fab_status $i .available_blocks
		[ "$(fab_status $i .total_blocks)" = $M ]
	done
}

@test "an outsider cannot read a borrower's block" {
	local blk drops0 drops1
	blk=$(fab_ctl 2 allocations --json | jq -r '.allocations[] | select(.role == "lent") | .prefixes[0]' | cut -d/ -f1)
	drops0=$(fab_ctl 2 stats --json | jq .drops.not_borrower.packets)
	run fab_in 4 "$BUILD/tests/tools/iam-client" -i "$(fab_inst 4)" --steal "$blk"
	[ "$status" -eq 0 ]
	# Dropped by XDP on h2: the connection never completes.
	[[ "$output" == "connect "* ]]
	drops1=$(fab_ctl 2 stats --json | jq .drops.not_borrower.packets)
	[ "$drops1" -gt "$drops0" ]
}

@test "a lender refuses a block to anyone but its borrower" {
	local mine victim
	# h4 borrows one block (its budget for its own pool is 0): it now
	# has a data connection past h3's XDP, to its own block.
	run fab_client_start c4 4 --size 64K
	[ "$output" = "ready 16 pages" ]
	mine=$(fab_ctl 3 allocations --json | jq -r '.allocations[] | select(.borrower == "2001:db8:4:a:4::1") | .prefixes[0]' | cut -d/ -f1)
	victim=$(fab_ctl 3 allocations --json | jq -r '.allocations[] | select(.borrower == "2001:db8:1:a:1::1") | .prefixes[0]' | cut -d/ -f1)
	[ -n "$mine" ] && [ -n "$victim" ]
	run fab_in 4 "$BUILD/tests/tools/iam-client" -i "$(fab_inst 4)" --steal "$victim" --via "$mine"
	[ "$status" -eq 0 ]
	[ "$output" = "read Permission denied" ]
	# Its own block it may read.
	run fab_in 4 "$BUILD/tests/tools/iam-client" -i "$(fab_inst 4)" --steal "$mine" --via "$mine"
	[ "$output" = "read SUCCEEDED" ]
}

@test "a reserve for more than V fails cleanly and leaves nothing reserved" {
	local v
	v=$(fab_status 1 .available_blocks)
	run fab_in 1 "$BUILD/tests/tools/iam-client" -i "$(fab_inst 1)" --size 64M
	[ "$status" -eq 1 ]
	[[ "$output" == "alloc-failed Cannot allocate memory: not enough memory in the fabric"* ]]
	for i in 1 2 3 4; do
		[ "$(fab_ctl $i allocations --json | jq '[.allocations[] | select(.state == "reserved")] | length')" = 0 ]
		iam_wait_eq 10 $v fab_status $i .available_blocks
	done
}

@test "malformed ALLOC requests are refused with a reason; the live region is untouched" {
	local v
	v=$(fab_status 1 .available_blocks)
	run fab_in 1 "$BUILD/tests/tools/iam-client" -i "$(fab_inst 1)" --bad-allocs
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "no-descriptors status -22 ALLOC needs its body and two descriptors (memfd, userfaultfd)" ]
	[ "${lines[1]}" = "devnull-descriptors status -9 the first descriptor is not a memfd" ]
	[ "${lines[2]}" = "no-userfaultfd status -9 the second descriptor is not a userfaultfd" ]
	[ "${lines[3]}" = "two-memfds status -9 the second descriptor is not a userfaultfd" ]
	[[ "${lines[4]}" == "unregistered-range status -22 the region is not registered with the userfaultfd"* ]]
	[ "${lines[5]}" = "memfd-too-short status -22 the memfd is 1048576 bytes, shorter than the region (4194304)" ]
	[[ "${lines[6]}" == "zero-length status -22 bad region: "* ]]
	[[ "${lines[7]}" == "bad-rights status -22 bad region: "* ]]
	[[ "${lines[8]}" == "huge status -22 "* ]]
	# Nothing was reserved anywhere, and c1's region (mem_to_ip slots
	# from 0, which a refused request once retired) still reads back.
	for i in 1 2 3 4; do
		[ "$(fab_ctl $i allocations --json | jq '[.allocations[] | select(.state == "reserved")] | length')" = 0 ]
		[ "$(fab_status $i .available_blocks)" = "$v" ]
	done
	run fab_client c1 verify
	[ "$output" = "verified 3072 lost 0 wrong 0" ]
}

@test "a client that dies without freeing gives its memory back" {
	local v pid
	v=$(fab_status 1 .available_blocks)
	run fab_client_start c3 1 --size 1M
	[ "$output" = "ready 256 pages" ]
	iam_wait_eq 10 $((v - 16)) fab_status 2 .available_blocks
	kill -9 "$(cat "$IAM_TMP/c3.pid")"
	for i in 1 2 3; do
		iam_wait_eq 10 $v fab_status $i .available_blocks
	done
	grep -q "went away: freeing region" "$FAB_DIR/agent1.log"
}

@test "a borrower agent killed: its lender reclaims the blocks after the lease" {
	local free
	free=$(fab_status 3 .own_available_blocks)
	kill -9 "$(fab_agent_pid 4)"
	# h4 asked for a 3 s lease; h3 checks every second.
	iam_wait_eq 8 $((free + 1)) fab_status 3 .own_available_blocks
	[ "$(fab_ctl 3 allocations --json | jq '[.allocations[] | select(.borrower == "2001:db8:4:a:4::1")] | length')" = 0 ]
	grep -q "lease of borrower 2001:db8:4:a:4::1 ran out" "$FAB_DIR/agent3.log"
	iam_wait_eq 10 0 bash -c "ip netns exec $FAB_R birdc -s $FAB_DIR/bird.ctl show route all | grep -c '(65000, 10, 167772164)'" ||
		{ fab_birdc show route all; tail -20 "$FAB_DIR/agent3.log"; false; }
}

@test "after free every lender is whole again and BIRD has no allocation" {
	# h4 is gone: M lost its one block.
	run fab_client c1 free
	[ "$output" = freed ]
	for i in 1 2 3; do
		iam_wait_eq 10 $((M - 1)) fab_status $i .available_blocks
		[ "$(fab_status $i .total_blocks)" = $((M - 1)) ]
		[ "$(fab_status $i .own_available_blocks)" = "$(fab_status $i .own_total_blocks)" ]
	done
	iam_wait_eq 10 0 bash -c "ip netns exec $FAB_R birdc -s $FAB_DIR/bird.ctl show route all | grep -c '(65000, 10, '" ||
		{ fab_birdc show route all; false; }
	fab_client_stop c1
}

@test "a lender answers broken control messages with a reason, in any order, and keeps serving" {
	local total
	total=$(fab_status 2 .own_total_blocks)
	run fab_in 1 "$BUILD/tests/tools/ctrl-probe" --from 2001:db8:1:a:1::1 \
		--to 2001:db8:2:a:2::1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "reserve-more-than-the-pool -> ERROR 28 asked 2147483647 blocks, "*" free" ]]
	[ "${lines[1]}" = "reserve-other-block-size -> ERROR 22 block size mismatch: this lender uses 65536 bytes, the request 4096" ]
	[ "${lines[2]}" = "confirm-unknown -> ERROR 2 confirm 999999: no such reservation" ]
	[ "${lines[3]}" = "release-unknown -> ERROR 2 release 999999: no such allocation" ]
	[ "${lines[4]}" = "reserve-zero-blocks -> ERROR 74 RESERVE of zero blocks" ]
	[ "${lines[5]}" = "version-9 -> ERROR 93 unsupported protocol version" ]
	[ "${lines[6]}" = "type-0 -> ERROR 74 unknown message type" ]
	[ "${lines[7]}" = "error-as-request -> ERROR 74 ERROR is an answer, not a request" ]
	[ "${lines[8]}" = "length-under-header -> ERROR 74 length shorter than the header" ]
	[ "${lines[9]}" = "length-over-limit -> ERROR 74 length over the 64 KiB limit" ]
	[ "${lines[10]}" = "reserve-short-body -> ERROR 74 message too short for its type" ]
	[ "${lines[11]}" = "reserve-trailing-bytes -> ERROR 74 RESERVE has trailing bytes" ]
	[ "${lines[12]}" = "reserve-2 -> RESERVED" ]
	[ "${lines[13]}" = "confirm -> CONFIRMED" ]
	[[ "${lines[14]}" == "confirm-again -> ERROR 114 confirm "*": confirmed already" ]]
	[ "${lines[15]}" = "release -> RELEASED" ]
	[[ "${lines[16]}" == "release-again -> ERROR 2 release "*": no such allocation" ]]
	[ "${lines[17]}" = "reserve-3-unconfirmed -> RESERVED" ]
	# The unconfirmed reservation runs out (--reserve-ttl, 5 s) and the
	# pool is whole again; the agent still answers.
	[ "$(fab_status 2 .own_available_blocks)" = $((total - 3)) ]
	iam_wait_eq 15 "$total" fab_status 2 .own_available_blocks
	fab_ctl 2 status > /dev/null
}

@test "a flood of control connections from one address is capped and, silent, closed; others still get through" {
	local total
	total=$(fab_status 2 .own_total_blocks)
	mkfifo "$IAM_TMP/flood.in"
	sleep infinity > "$IAM_TMP/flood.in" 3>&- &
	echo $! > "$IAM_TMP/flood.holder"
	echo $! >> "$IAM_TMP/iam-pids"
	# From h3, whose agent has no control connection to h2 of its own.
	fab_in 3 "$BUILD/tests/tools/ctrl-probe" --from 2001:db8:3:a:3::1 \
		--to 2001:db8:2:a:2::1 --hold 20 < "$IAM_TMP/flood.in" \
		> "$IAM_TMP/flood.out" 2>&1 3>&- &
	echo $! >> "$IAM_TMP/iam-pids"
	iam_wait_for 10 grep -q '^open' "$IAM_TMP/flood.out"
	[ "$(cat "$IAM_TMP/flood.out")" = "open 16 of 20" ]
	grep -q "refusing a connection from 2001:db8:3:a:3::1: its control connections at their limit (16 per address)" \
		"$FAB_DIR/agent2.log"
	# Another address is served meanwhile, and the agent answers.
	run fab_in 1 "$BUILD/tests/tools/ctrl-probe" --from 2001:db8:1:a:1::1 \
		--to 2001:db8:2:a:2::1
	[ "$status" -eq 0 ]
	[ "${lines[12]}" = "reserve-2 -> RESERVED" ]
	fab_ctl 2 status > /dev/null
	# The flood's connections say nothing: after 10 s they are closed.
	iam_wait_for 15 grep -q "ctrl: closing a connection from 2001:db8:3:a:3::1 that said nothing for 10 s" \
		"$FAB_DIR/agent2.log"
	# The flood ends; its address is served again.
	kill "$(cat "$IAM_TMP/flood.holder")"
	iam_wait_for 10 fab_in 3 "$BUILD/tests/tools/ctrl-probe" \
		--from 2001:db8:3:a:3::1 --to 2001:db8:2:a:2::1
	iam_wait_eq 15 "$total" fab_status 2 .own_available_blocks
}

@test "a lender killed mid-run: SIGBUS on its pages, the rest keeps working" {
	run fab_client_start c2 1 --size 12M
	[ "$output" = "ready 3072 pages" ]
	kill -9 "$(fab_agent_pid 3)"
	run fab_client c2 verify
	# h3 held part of the region; its pages that were not resident are
	# lost, every other page reads back right.
	[[ "$output" =~ ^verified\ ([0-9]+)\ lost\ ([0-9]+)\ wrong\ 0$ ]]
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	[ "${BASH_REMATCH[2]}" -gt 0 ]
	grep -q "lender 2001:db8:3:a:3::1 failed" "$FAB_DIR/agent1.log"
	run fab_client c2 free
	[ "$output" = freed ]
	fab_client_stop c2
}
