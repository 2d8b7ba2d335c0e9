#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# iam-load's interface as documented (issue 7): the man pages cover every
# option and command the programs have and render cleanly, the example
# configuration file in iam-load(8) means what it says, configuration
# errors exit 2 naming the line, runtime failures exit 1 (without a
# crash), and the capabilities of docs/iam-load@.service are enough.

bats_require_minimum_version 1.5.0
load lib

MAN8=$IAM_TOP/docs/iam-load.8
UNIT=$IAM_TOP/docs/iam-load@.service

teardown() {
	iam_cleanup
}

# The option names documented in the OPTIONS section of man page $1: every
# --name on the line after a .TP.
man_options() {
	sed -n '/^\.SH OPTIONS/,/^\.SH [^O]/p' "$1" | awk '/^\.TP/ { getline; print }' |
		grep -oE '\\-\\-[a-z\\-]+' | sed 's/^\\-\\-//; s/\\-/-/g' | sort -u
}

@test "iam-load(8) documents every option of iam_config_opts, and only those" {
	local have doc
	# --help prints the table, plus the options of the command itself.
	have=$("$IAM_LOAD" --help | grep -oE '^  (-[a-z], )?--[a-z-]+' | sed 's/.*--//' | sort -u)
	doc=$(man_options "$MAN8")
	[ -n "$have" ]
	[ "$(wc -l <<< "$have")" -ge 30 ]
	diff <(echo "$have") <(echo "$doc")
}

@test "iamctl(8) has a section for every command, iam-bench(1) every option" {
	local c o
	for c in $("$IAMCTL" --help | sed -n '/^commands:/,/^$/p' | awk 'NF && !/commands:/ { print $1 }'); do
		grep -qx "\.SS $c" "$IAM_TOP/docs/iamctl.8" || { echo "iamctl.8 lacks $c"; false; }
	done
	for o in $("$IAM_BENCH" --help | grep -oE -- '--[a-z]+' | sort -u); do
		man_options "$IAM_TOP/docs/iam-bench.1" | grep -qx -- "${o#--}" ||
			{ echo "iam-bench.1 lacks $o"; false; }
	done
}

@test "the man pages render without a warning" {
	command -v groff > /dev/null || skip "groff is missing (man-db)"
	local f
	for f in "$IAM_TOP"/docs/*.[18]; do
		run groff -man -ww -z "$f"
		[ "$status" -eq 0 ]
		[ -z "$output" ]
	done
	command -v man > /dev/null || skip "man is missing (man-db)"
	run env MANWIDTH=80 man -l "$MAN8"
	[ "$status" -eq 0 ]
	[[ "$output" == *"CONFIGURATION FILE"* ]]
}

@test "the example file of iam-load(8) parses; print and parse again gives the same" {
	sed -n '/config-example-begin/,/config-example-end/p' "$MAN8" | grep -v '^\.' > "$BATS_TEST_TMPDIR/ex.conf"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/ex.conf")" -ge 8 ]
	run "$IAM_LOAD" -c "$BATS_TEST_TMPDIR/ex.conf" --print-config
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\npeer 2001:db8:ff::1,as=65001\n'* ]]
	[[ "$output" == *$'\ncache 256M\n'* ]]
	[[ "$output" == *$'\nhost c0a8:a010\n'* ]]
	echo "$output" > "$BATS_TEST_TMPDIR/printed.conf"
	run "$IAM_LOAD" -c "$BATS_TEST_TMPDIR/printed.conf" --print-config
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/printed.conf")" ]
	# The command line wins over the file; peers add up.
	run "$IAM_LOAD" -c "$BATS_TEST_TMPDIR/ex.conf" --cache 1G --peer fd00::2,as=1 --print-config
	[[ "$output" == *$'\ncache 1G\n'* ]]
	[[ "$output" == *$'\npeer 2001:db8:ff::1,as=65001\npeer fd00::2,as=1\n'* ]]
}

@test "configuration errors exit 2 and name the file and line" {
	local f=$BATS_TEST_TMPDIR/bad.conf
	printf 'pool 1M\npools 1M\n' > "$f"
	run --separate-stderr "$IAM_LOAD" -c "$f" --print-config
	[ "$status" -eq 2 ]
	[ "$stderr" = "iam-load: $f:2: unknown option \"pools\"" ]
	printf '# a comment\n\ncache\n' > "$f"
	run --separate-stderr "$IAM_LOAD" -c "$f"
	[ "$status" -eq 2 ]
	[ "$stderr" = "iam-load: $f:3: cache needs a value (SIZE)" ]
	printf 'dev eth0 eth1\n' > "$f"
	run --separate-stderr "$IAM_LOAD" -c "$f"
	[ "$status" -eq 2 ]
	[[ "$stderr" == "iam-load: $f:1: dev: one value per line"* ]]
	printf 'peer "fd00::1,as=1\n' > "$f"
	run "$IAM_LOAD" -c "$f"
	[ "$status" -eq 2 ]
	run "$IAM_LOAD" -c "$BATS_TEST_TMPDIR/none.conf"
	[ "$status" -eq 2 ]
	run "$IAM_LOAD" --frobnicate
	[ "$status" -eq 2 ]
	run "$IAM_LOAD" --dev eth0 --pool 3M --net 2001:db8:1 --host a:1
	[ "$status" -eq 2 ]
	run --separate-stderr "$IAM_LOAD" --pool 1M --net 2001:db8:1 --host a:1
	[ "$status" -eq 2 ]
	[ "$stderr" = "iam-load: --dev is required: the fabric interface" ]
	run "$IAM_LOAD" --help
	[ "$status" -eq 0 ]
}

@test "a runtime failure exits 1, also when it comes half-way through the start" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	command -v setpriv > /dev/null || skip "setpriv is missing (util-linux)"
	local ns
	ns=$(iam_ns ldf)
	ip -n "$ns" link add eth0 type veth peer name eth1
	ip -n "$ns" link set eth0 up
	run nsenter --net=/run/netns/"$ns" "$IAM_LOAD" --dev nosuch0 --pool 1M \
		--net 2001:db8:1 --host a:1 --instance "ldf$IAM_RUN"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--dev nosuch0: no such interface"* ]]
	# No CAP_NET_ADMIN: the pool is up, the agent address cannot be added.
	run nsenter --net=/run/netns/"$ns" setpriv --bounding-set=-net_admin \
		"$IAM_LOAD" --dev eth0 --pool 1M --net 2001:db8:1 --host a:1 \
		--instance "ldf$IAM_RUN"
	[ "$status" -eq 1 ]
	[[ "$output" == *"adding 2001:db8:1:a:1::1/128 to eth0: Operation not permitted"* ]]
	# No CAP_BPF: everything up to the XDP program.
	run nsenter --net=/run/netns/"$ns" setpriv --bounding-set=-bpf,-sys_admin \
		"$IAM_LOAD" --dev eth0 --pool 1M --net 2001:db8:1 --host a:1 \
		--instance "ldf$IAM_RUN"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot load the XDP program"* ]]
	! ip -n "$ns" -6 addr show dev eth0 | grep -q 2001:db8:1:a:1::1
}

@test "the capabilities of iam-load@.service are enough to lend and borrow" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	command -v setpriv > /dev/null || skip "setpriv is missing (util-linux)"
	local caps ns inst=svc$IAM_RUN
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
	[ -n "$caps" ]
	caps=$(tr 'A-Z' 'a-z' <<< "$caps" | sed 's/cap_/+/g; s/ /,/g')
	ns=$(iam_ns svc)
	ip -n "$ns" link add eth0 type veth peer name eth1
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set eth1 up
	printf 'dev eth0\npool 4M\nnet 2001:db8:5\nhost a:5\nasn 65005\n' \
		> "$BATS_TEST_TMPDIR/svc.conf"
	# What the unit's ExecStart does, with its bounding set.  With an AS
	# and no peer, BGP still listens on port 179.
	nsenter --net=/run/netns/"$ns" setpriv --bounding-set=-all,"$caps" \
		"$IAM_LOAD" --config "$BATS_TEST_TMPDIR/svc.conf" --instance "$inst" \
		> "$BATS_TEST_TMPDIR/svc.log" 2>&1 3>&- &
	echo $! >> "$IAM_TMP/iam-pids"
	iam_wait_for 20 grep -q "ready: instance $inst" "$BATS_TEST_TMPDIR/svc.log" ||
		{ cat "$BATS_TEST_TMPDIR/svc.log"; false; }
	run nsenter --net=/run/netns/"$ns" "$IAM_BENCH" -i "$inst" --size 2M
	[ "$status" -eq 0 ]
	[[ "$output" == *"verified: every byte"* ]]
	run nsenter --net=/run/netns/"$ns" ss -Htln sport = :179
	[[ "$output" == *LISTEN* ]]
	! grep -E "error|warning" "$BATS_TEST_TMPDIR/svc.log"
}

@test "iam-load@.service passes systemd-analyze verify" {
	command -v systemd-analyze > /dev/null || skip "systemd-analyze is missing"
	mkdir -p "$BATS_TEST_TMPDIR/unit"
	# verify wants ExecStart's program to exist.
	sed "s|/usr/local/sbin/iam-load|$IAM_LOAD|" "$UNIT" > "$BATS_TEST_TMPDIR/unit/iam-load@.service"
	run systemd-analyze verify --man=no "$BATS_TEST_TMPDIR/unit/iam-load@test.service"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}
