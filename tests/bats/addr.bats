#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# `iamctl addr`: the FIG. 2 arithmetic from the command line.  Exact
# outputs, exit codes (0 ok, 2 bad input), and --json parsed with jq.

bats_require_minimum_version 1.5.0
load lib

teardown() {
	iam_cleanup
}

NET=2001:db80:8000
HOST=c0a8:a010
IP=2001:db80:8000:c0a8:a010:0:b8a0:3864

@test "addr encode: the patent's example" {
	run "$IAMCTL" addr encode --net $NET --host $HOST --block-size 64K 0x0000b8a038640000
	[ "$status" -eq 0 ]
	[ "$output" = "$IP" ]
}

@test "addr encode: several addresses, --opt=value, dotted host" {
	run "$IAMCTL" addr encode --net=$NET --host=192.168.160.16 --block-size=4K 0x100000000 0x100001000
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "2001:db80:8000:c0a8:a010:0:10:0" ]
	[ "${lines[1]}" = "2001:db80:8000:c0a8:a010:0:10:1" ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "addr encode --json" {
	run "$IAMCTL" addr encode --net $NET --host $HOST --block-size 64K 0x0000b8a038640000 --json
	[ "$status" -eq 0 ]
	[ "$(jq -r .network <<< "$output")" = "$NET" ]
	[ "$(jq -r .host <<< "$output")" = "$HOST" ]
	[ "$(jq -r .block_size <<< "$output")" = 65536 ]
	[ "$(jq -r '.addresses[0].ipv6' <<< "$output")" = "$IP" ]
	[ "$(jq -r '.addresses[0].memory_address' <<< "$output")" = 0x0000b8a038640000 ]
	[ "$(jq -r '.addresses[0].block_address' <<< "$output")" = 0xb8a03864 ]
}

@test "addr decode: the patent's example back" {
	run "$IAMCTL" addr decode --block-size 64K $IP
	[ "$status" -eq 0 ]
	[ "$output" = "network 2001:db80:8000
host c0a8:a010
block_address 0xb8a03864
memory_address 0x0000b8a038640000" ]
}

@test "addr decode --json, uncompressed input" {
	run "$IAMCTL" --json addr decode --block-size 64K 2001:db80:8000:c0a8:a010:0000:b8a0:3864
	[ "$status" -eq 0 ]
	[ "$(jq -r '.addresses[0].network' <<< "$output")" = "$NET" ]
	[ "$(jq -r '.addresses[0].host' <<< "$output")" = "$HOST" ]
	[ "$(jq -r '.addresses[0].memory_address' <<< "$output")" = 0x0000b8a038640000 ]
	[ "$(jq -r '.addresses[0].ipv6' <<< "$output")" = "$IP" ]
	[ "$(jq -r '.block_size' <<< "$output")" = 65536 ]
}

@test "addr encode and decode agree for every block size" {
	for bs in 4K 8K 16K 32K 64K 128K 256K 512K 1M 2M; do
		ip=$("$IAMCTL" addr encode --net fd00:1:2 --host 0:7 --block-size $bs 0x7f0000000000)
		mem=$("$IAMCTL" addr decode --block-size $bs "$ip" --json | jq -r '.addresses[0].memory_address')
		[ "$mem" = 0x00007f0000000000 ]
	done
}

@test "addr aggregate: minimal prefixes, any order, duplicates" {
	run "$IAMCTL" addr aggregate --block-size 64K \
		2001:db80:8000:c0a8:a010:0:b8a0:3867 $IP \
		2001:db80:8000:c0a8:a010:0:b8a0:3866 2001:db80:8000:c0a8:a010:0:b8a0:3865 \
		2001:db80:8000:c0a8:a010:0:b8a0:3868 $IP
	[ "$status" -eq 0 ]
	[ "$output" = "2001:db80:8000:c0a8:a010:0:b8a0:3864/126
2001:db80:8000:c0a8:a010:0:b8a0:3868/128" ]
}

@test "addr aggregate: memory addresses with --net/--host, two agents" {
	run "$IAMCTL" addr aggregate --block-size 64K --net $NET --host $HOST \
		0x100000000 0x100010000 2001:db8:0:0:1::5
	[ "$status" -eq 0 ]
	[ "$output" = "2001:db8::1:0:0:5/128
2001:db80:8000:c0a8:a010:0:1:0/127" ]
}

@test "addr aggregate --json" {
	run "$IAMCTL" addr aggregate --json --block-size 4K --net $NET --host $HOST \
		0x100000000 0x100001000 0x100002000
	[ "$status" -eq 0 ]
	[ "$(jq -r '.blocks' <<< "$output")" = 3 ]
	[ "$(jq -r '.prefixes | length' <<< "$output")" = 2 ]
	[ "$(jq -r '.prefixes[0].prefix' <<< "$output")" = "2001:db80:8000:c0a8:a010:0:10:0/127" ]
	[ "$(jq -r '.prefixes[0].blocks' <<< "$output")" = 2 ]
	[ "$(jq -r '.prefixes[0].bytes' <<< "$output")" = 8192 ]
	[ "$(jq -r '.prefixes[1].memory_address' <<< "$output")" = 0x0000000100002000 ]
}

@test "addr blocks: a 1G pool of 64K blocks is one /114" {
	run "$IAMCTL" addr blocks --block-size 64K 2001:db8::1:0/114
	[ "$status" -eq 0 ]
	[ "$output" = "prefix 2001:db8::1:0/114
network 2001:db8:0
host 0:0
first_block 0x10000
memory_address 0x0000000100000000
blocks 16384
size 1G" ]
	run "$IAMCTL" addr blocks --json 2001:db8::1:0/114
	[ "$status" -eq 0 ]
	[ "$(jq -r '.prefixes[0].bytes' <<< "$output")" = 1073741824 ]
}

# Each bad input: exit 2 and a message naming the problem.
bad() {
	local want=$1
	shift
	run "$IAMCTL" addr "$@"
	echo "status $status: $output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$want"* ]]
}

@test "addr: bad input exits 2 naming the problem" {
	E="encode --net $NET --host $HOST"
	bad "not aligned to the block size 64K" $E --block-size 64K 0x0000b8a038641000
	bad "not aligned to the block size 2M" $E --block-size 2M 0x10000
	bad 'block size "3000" is not a power of two' $E --block-size 3000 0x0
	bad 'block size "48K" is not a power of two' $E --block-size 48K 0x0
	bad 'block size "4M" is out of range (4K..2M)' $E --block-size 4M 0x0
	bad 'block size "2K" is out of range (4K..2M)' $E --block-size 2K 0x0
	bad 'block size "64Q" is malformed' $E --block-size 64Q 0x0
	bad "needs more than 48 bits" $E --block-size 4K 0x1000000000000000
	bad "out of range (more than 64 bits)" $E 0x10000000000000000
	bad 'address "0xzz" is malformed' $E 0xzz
	bad 'address "-5" is malformed' $E -- -5
	bad 'not a 48-bit network part' encode --net 2001:db80 --host $HOST 0x0
	bad 'not a 48-bit network part' encode --net 2001:db80:8000::1 --host $HOST 0x0
	bad 'is out of range (more than 32 bits)' encode --net $NET --host 0x1c0a8a010 0x0
	bad 'not a 32-bit host part' encode --net $NET --host c0a8 0x0
	bad "--net and --host are required" encode --host $HOST 0x0
	bad "no address given" $E
	bad "--block-size needs a value" $E --block-size
	bad '"2001:db80::zz" is not an IPv6 address' decode 2001:db80::zz
	bad "beyond 64-bit memory" decode --block-size 2M 2001:db8::ffff:ffff:ffff
	bad "memory addresses need --net and --host" aggregate 0x1000
	bad '"2001:db8::1/120" is not an IPv6 prefix' blocks 2001:db8::1/120
	bad "wider than one agent's /80" blocks 2001:db8::/64
	bad "prefix length out of range" blocks 2001:db8::/129
	bad "unknown option --frob" encode --frob
	bad 'unknown subcommand "frob"' frob
}

@test "addr: bad input prints nothing on stdout, even with several good ones first" {
	run --separate-stderr "$IAMCTL" addr encode --net $NET --host $HOST 0x10000 0x10001
	[ "$status" -eq 2 ]
	[ -z "$output" ]
}

@test "addr: usage" {
	run "$IAMCTL" addr
	[ "$status" -eq 2 ]
	[[ "$output" == *"usage: iamctl addr encode"* ]]
	run "$IAMCTL" addr --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"iamctl addr aggregate"* ]]
	run "$IAMCTL" --help
	[[ "$output" == *"addr encode|decode|aggregate|blocks"* ]]
}
