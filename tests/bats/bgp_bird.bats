#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# The BGP speaker (user/bgp/) against BIRD 2 in namespaces: two agents
# peered (a) through BIRD as an iBGP route reflector (RFC 4456) and (b)
# through BIRD as an eBGP route server (RFC 7947).  Each agent must see the
# other's pool with the right M_i, V_i and block size, a V_i change on one
# must reach the other, stopping an agent must withdraw its routes, and
# `birdc show route all` must show the large communities.
#
# The agents are tests/tools/bgp-speak: the speaker exactly as iam-load
# links it, driven through a FIFO, so that the protocol is tested against
# a real router on its own.

setup() {
	load lib
	load bird/bgp_bird
	[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
	command -v bird > /dev/null || skip "bird (Debian bird2) is not installed"
	[ -x "$BGP_SPEAK" ] || skip "$BGP_SPEAK is not built (make tests)"
}

teardown() {
	iam_cleanup
}

@test "BIRD route reflector: iBGP agents see each other's pools" {
	bb_fabric
	bb_bird rr
	bb_speak a "$NS_A" --asn 65000 --router-id 10.0.0.1 \
		--pool 2001:db8:a::/96,16384,1000,16 --host 2001:db8:a::1 \
		--peer fd00:1::1,as=65000
	bb_speak b "$NS_B" --asn 65000 --router-id 10.0.0.2 \
		--pool 2001:db8:b::/96,100,50,12 --peer fd00:1::1,as=65000
	# M_i, V_i and block size, the next hop unchanged by the reflector
	bb_wait a 'route 2001:db8:b::/96 kind=pool m=100 v=50 shift=12 nh=fd00:1::b path=""'
	bb_wait b 'route 2001:db8:a::/96 kind=pool m=16384 v=1000 shift=16 nh=fd00:1::a path=""'
	bb_wait b 'route 2001:db8:a::1/128 kind=plain'
	# M = sum M_i, V = sum V_i on both, own pool included
	bb_wait a 'pools 16484 1050$'
	bb_wait b 'pools 16484 1050$'
	run bb_birdc show route all 2001:db8:a::/96
	[[ $output == *"BGP.large_community: (65000, 1, 16384) (65000, 2, 1000) (65000, 3, 16)"* ]]
	[[ $output == *"BGP.next_hop: fd00:1::a fe80::"* ]]
	# a V_i change on A reaches B (and BIRD)
	bb_cmd a "avail 900"
	bb_wait b 'route 2001:db8:a::/96 kind=pool m=16384 v=900 shift=16'
	bb_wait b 'pools 16484 950$'
	run bb_birdc show route all 2001:db8:a::/96
	[[ $output == *"(65000, 2, 900)"* ]]
	# stopping A withdraws its routes: from B and from BIRD
	bb_cmd a stop
	bb_wait a ' stopped$'
	bb_wait b 'gone 2001:db8:a::/96$'
	bb_wait b 'gone 2001:db8:a::1/128$'
	bb_wait b 'pools 100 50$'
	run bb_birdc show route 2001:db8:a::/96
	[[ $output != *"2001:db8:a::/96"* ]]
	grep -q 'agent_a: Received: Administrative shutdown: "iam-load shutting down"' \
		"$IAM_TMP/bird.log"
}

@test "BIRD route server: eBGP agents see each other's pools" {
	bb_fabric
	bb_bird rs
	bb_speak a "$NS_A" --asn 65001 --router-id 10.0.0.1 \
		--pool 2001:db8:a::/96,16384,1000,16 --peer fd00:1::1,as=65000
	bb_speak b "$NS_B" --asn 4200000002 --router-id 10.0.0.2 \
		--pool 2001:db8:b::/96,100,50,12 --peer fd00:1::1,as=65000
	# the server's AS 65000 is not in the path (RFC 7947 2.2.2.1)
	bb_wait a 'route 2001:db8:b::/96 kind=pool m=100 v=50 shift=12 nh=fd00:1::b path="4200000002"'
	bb_wait b 'route 2001:db8:a::/96 kind=pool m=16384 v=1000 shift=16 nh=fd00:1::a path="65001"'
	bb_wait a 'pools 16484 1050$'
	bb_wait b 'pools 16484 1050$'
	run bb_birdc show route all 2001:db8:b::/96
	[[ $output == *"(4200000002, 1, 100) (4200000002, 2, 50) (4200000002, 3, 12)"* ]]
	bb_cmd b "avail 7"
	bb_wait a 'route 2001:db8:b::/96 kind=pool m=100 v=7 shift=12'
	bb_wait a 'pools 16484 1007$'
	bb_cmd b stop
	bb_wait b ' stopped$'
	bb_wait a 'gone 2001:db8:b::/96$'
	bb_wait a 'pools 16384 1000$'
	run bb_birdc show route 2001:db8:b::/96
	[[ $output != *"2001:db8:b::/96"* ]]
}

@test "BIRD route server speaking two-octet AS: AS_TRANS and AS4_PATH" {
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
