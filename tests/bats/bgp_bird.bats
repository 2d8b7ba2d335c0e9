#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Two agents (iam-load) peered (a) through BIRD 2 as an iBGP route
# reflector (RFC 4456) and (b) through BIRD as an eBGP route server (RFC
# 7947).  Each agent must see the other's pool with the right M_i, V_i,
# block size, next hop and AS path in `iamctl status --json`; a V_i
# change made by a real allocation on one must reach the other; stopping
# an agent with SIGTERM must withdraw its routes from BIRD and from the
# other agent; `birdc show route all` must show the large communities.
# Through the route server, one agent also borrows from the other.
#
# Two protocol corners that need no agent around the speaker (a peer that
# speaks only two-octet AS numbers, TCP MD5) run tests/tools/bgp-speak,
# the speaker exactly as iam-load links it.

bats_require_minimum_version 1.5.0

setup() {
	load lib
	load bird/bgp_bird
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces, XDP, mlock)"
	command -v bird > /dev/null || skip "bird (Debian bird2) is not installed"
	command -v jq > /dev/null || skip "jq is not installed"
}

teardown() {
	iam_cleanup
}

need_agent() {
	[ -x "$IAM_LOAD" ] && [ -x "$IAM_CLIENT" ] ||
		skip "$IAM_LOAD or $IAM_CLIENT is not built (make tests)"
}

need_speak() {
	[ -x "$BGP_SPEAK" ] || skip "$BGP_SPEAK is not built (make tests)"
}

# totals NAME: "M V" as NAME derives them.
totals() {
	bb_status "$1" '"\(.total_blocks) \(.available_blocks)"'
}

# bird_lacks PREFIX: BIRD answers that it has no route for PREFIX.
bird_lacks() {
	[[ $(bb_birdc show route "$1") == *"ready."$'\n'"Network not found" ]]
}

# alloc_prefixes NAME: the lengths of the allocation prefixes (learned
# from BGP) in NAME's XDP prefix map.
alloc_prefixes() {
	bpftool -j map dump pinned "/sys/fs/bpf/iam/$1-$IAM_RUN/iam_prefixes" |
		jq -r "[.[].formatted | select(.value.kind == 4) |
			.key.prefixlen] | sort | map(tostring) | join(\" \")"
}

has_alloc_prefixes() {
	[ -n "$(alloc_prefixes "$1")" ]
}

@test "BIRD route reflector: iBGP agents see each other's pools" {
	local pa pb sa
	need_agent
	bb_fabric
	bb_bird rr
	# A: 4M of 64K blocks (64); B: 2M of 16K blocks (128).
	bb_agent a "$NS_A" --net 2001:db8:a --host a:1 --asn 65000 \
		--router-id 10.0.0.1 --peer fd00:1::1,as=65000 --pool 4M \
		--cache 1M
	bb_agent b "$NS_B" --net 2001:db8:b --host b:2 --asn 65000 \
		--router-id 10.0.0.2 --peer fd00:1::1,as=65000 --pool 2M \
		--block-size 16K --cache 1M
	pa=$(bb_status a .pool_prefix)
	pb=$(bb_status b .pool_prefix)
	sa=$(bb_status a .agent_address)
	# M_i, V_i, block size; the reflector keeps the next hop and adds
	# no AS (iBGP)
	iam_wait_eq 20 "$pb 128 128 16384 fd00:1::b []" bb_lender a "$pb"
	iam_wait_eq 20 "$pa 64 64 65536 fd00:1::a []" bb_lender b "$pa"
	# M = sum M_i, V = sum V_i on both, own pool included
	[ "$(totals a)" = "192 192" ]
	[ "$(totals b)" = "192 192" ]
	[ "$(bb_status a '.lenders | length')" = 2 ]
	run bb_birdc show route all "$pa"
	[[ $output == *"BGP.large_community: (65000, 1, 64) (65000, 2, 64) (65000, 3, 16)"* ]]
	[[ $output == *"BGP.next_hop: fd00:1::a fe80::"* ]]
	run bb_birdc show route all "$pb"
	[[ $output == *"(65000, 1, 128) (65000, 2, 128) (65000, 3, 14)"* ]]
	# B routes A's pool and agent address to A
	[[ $(ip -n "$NS_B" -6 route show "$pa") == *" dev eth0 "* ]]
	[[ $(ip -n "$NS_B" -6 route show "$sa") == *" dev eth0 "* ]]

	# A V_i change made by a real allocation: 1M of A's own pool (16
	# blocks) is seen at B, and in BIRD
	run bb_client_start c a "$NS_A" --size 1M
	[ "$output" = "ready 256 pages" ]
	[ "$(bb_status a .own_available_blocks)" = 48 ]
	iam_wait_eq 10 "$pa 64 48 65536 fd00:1::a []" bb_lender b "$pa"
	[ "$(totals b)" = "192 176" ]
	run bb_birdc show route all "$pa"
	[[ $output == *"(65000, 2, 48)"* ]]
	run bb_client c free
	[ "$output" = freed ]
	iam_wait_eq 10 "$pa 64 64 65536 fd00:1::a []" bb_lender b "$pa"

	# SIGTERM on A withdraws its routes: from BIRD, from B's lenders,
	# M and V, and B's kernel routes
	bb_agent_stop a
	grep -q 'stopped$' "$IAM_TMP/a.log"
	iam_wait_eq 10 "128 128" totals b
	[ "$(bb_status b '.lenders | length')" = 1 ]
	bird_lacks "$pa"
	bird_lacks "$sa/128"
	[ -z "$(ip -n "$NS_B" -6 route show "$pa")" ]
	[ -z "$(ip -n "$NS_B" -6 route show "$sa")" ]
	grep -q 'agent_a: Received: Administrative shutdown: "iam-load shutting down"' \
		"$IAM_TMP/bird.log"
}

@test "BIRD route server: eBGP agents see each other's pools and borrow" {
	local pa pb sb before
	need_agent
	command -v bpftool > /dev/null || skip "bpftool is missing"
	bb_fabric
	bb_bird rs
	# A (AS 65001) lends nothing to its own clients (local budget 0):
	# what they ask for comes from B (AS 4200000002).  B's lease is
	# long, so that only A's RELEASE can give B its blocks back here.
	bb_agent a "$NS_A" --net 2001:db8:a --host a:1 --asn 65001 \
		--router-id 10.0.0.1 --peer fd00:1::1,as=65000 --pool 1M \
		--local-budget 0 --cache 1M
	bb_agent b "$NS_B" --net 2001:db8:b --host b:2 --asn 4200000002 \
		--router-id 10.0.0.2 --peer fd00:1::1,as=65000 --pool 4M \
		--cache 1M --lease 10m
	pa=$(bb_status a .pool_prefix)
	pb=$(bb_status b .pool_prefix)
	sb=$(bb_status b .agent_address)
	# The server keeps the next hop (the other agent's link address) and
	# does not put its AS 65000 in the path (RFC 7947 2.2.2.1)
	iam_wait_eq 20 "$pb 64 64 65536 fd00:1::b [4200000002]" bb_lender a "$pb"
	iam_wait_eq 20 "$pa 16 16 65536 fd00:1::a [65001]" bb_lender b "$pa"
	[ "$(totals a)" = "80 80" ]
	[ "$(totals b)" = "80 80" ]
	run bb_birdc show route all "$pb"
	[[ $output == *"BGP.as_path: 4200000002"$'\n'* ]]
	[[ $output == *"(4200000002, 1, 64) (4200000002, 2, 64) (4200000002, 3, 16)"* ]]

	# A client of A borrows 1M: 16 blocks at B, reached through the
	# routes A learned
	run bb_client_start c a "$NS_A" --size 1M
	[ "$output" = "ready 256 pages" ]
	run bb_client c verify
	[ "$output" = "verified 256 lost 0 wrong 0" ]
	run bb_client c "where 0"
	[[ $output == "where 0 lender $sb block 2001:db8:b:b:2:"*" local 0" ]]
	[ "$(bb_status b .own_available_blocks)" = 48 ]
	[ "$(bb_ctl b allocations --json | jq -r '.allocations[] | select(.role == "lent") | .borrower')" = "$(bb_status a .agent_address)" ]
	# B's new V_i reaches A through the server; the allocation is in
	# BIRD with borrower id (10.0.0.1) and rights (rw)
	iam_wait_eq 10 "$pb 64 48 65536 fd00:1::b [4200000002]" bb_lender a "$pb"
	[ "$(totals a)" = "80 64" ]
	run bb_birdc show route all
	[[ $output == *"(4200000002, 10, 167772161) (4200000002, 11, 2)"* ]]
	# Allocations learned from B are XDP prefix entries at A, a
	# one-block allocation (a /128) too, and leave with their routes
	iam_wait_for 10 has_alloc_prefixes a
	before=$(alloc_prefixes a)
	run bb_client_start c1 a "$NS_A" --size 64K
	[ "$output" = "ready 16 pages" ]
	iam_wait_eq 10 "$(echo $before 128 | tr ' ' '\n' | sort -n | paste -sd ' ')" \
		alloc_prefixes a
	run bb_client c1 free
	[ "$output" = freed ]
	iam_wait_eq 10 "$before" alloc_prefixes a

	# SIGTERM on A while its client still holds the blocks: A gives them
	# back (a RELEASE to B, before the lease of 10 min could) and its
	# routes go from BIRD and from B
	bb_agent_stop a
	iam_wait_eq 10 64 bb_status b .own_available_blocks
	iam_wait_eq 10 "64 64" totals b
	[ "$(bb_status b '.lenders | length')" = 1 ]
	bird_lacks "$pa"
	run bb_birdc show route all
	[[ $output != *"(4200000002, 10, "* ]]
}

@test "BIRD route server speaking two-octet AS: AS_TRANS and AS4_PATH" {
	need_speak
	bb_fabric
	# BIRD does not offer the four-octet AS capability to A (RFC 6793)
	bb_bird rs "enable as4 off;"
	bb_speak a "$NS_A" --asn 65001 --router-id 10.0.0.1 \
		--pool 2001:db8:a::/96,16384,1000,16 --peer fd00:1::1,as=65000
	bb_speak b "$NS_B" --asn 4200000002 --router-id 10.0.0.2 \
		--pool 2001:db8:b::/96,100,50,12 --peer fd00:1::1,as=65000
	bb_wait a 'two-octet AS peer'
	# B's AS reaches A as AS_TRANS plus AS4_PATH, merged back
	bb_wait a 'route 2001:db8:b::/96 kind=pool m=100 v=50 shift=12 nh=fd00:1::b path="4200000002"'
	bb_wait b 'route 2001:db8:a::/96 kind=pool m=16384 v=1000 shift=16 nh=fd00:1::a path="65001"'
}

@test "BIRD with TCP MD5 signatures (RFC 2385)" {
	need_speak
	bb_fabric
	bb_bird rr 'password "s3cr3t-Key";'
	bb_speak a "$NS_A" --asn 65000 --router-id 10.0.0.1 \
		--pool 2001:db8:a::/96,10,10,16 \
		--peer 'fd00:1::1,as=65000,md5=s3cr3t-Key'
	bb_speak b "$NS_B" --asn 65000 --router-id 10.0.0.2 \
		--peer fd00:1::1,as=65000
	bb_wait a 'peer fd00:1::1 up Established'
	bb_wait b 'route 2001:db8:a::/96 kind=pool m=10 v=10 shift=16'
	run bb_birdc show protocols all agent_a
	[[ $output == *Established* ]]
}

@test "iam-load: a BGP peer given twice is bad input, refused up front" {
	local ns
	need_agent
	# In a namespace of its own, should the check ever let it start.
	ns=$(iam_ns dup)
	run -2 nsenter --net=/run/netns/"$ns" "$IAM_LOAD" --dev lo \
		--instance "dup-$IAM_RUN" --pool 1M --net 2001:db8:9 \
		--host 9:9 --asn 65000 --peer fd00:1::1,as=65000 \
		--peer fd00:1::1,as=65001
	[ "$output" = "iam-load: BGP: peer fd00:1::1 is given twice" ]
}
