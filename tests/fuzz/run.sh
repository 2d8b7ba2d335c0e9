#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Run every libFuzzer target for FUZZ_TIME seconds (default 10) from its seed
# corpus tests/fuzz/corpus/NAME/ and report one TAP line per target.  New
# inputs go to a scratch corpus under $BUILD, never into the tree; a crash
# leaves its reproducer in $BUILD/fuzz/artifacts/.
set -u
BUILD=${1:-${BUILD:-build}}
t=${FUZZ_TIME:-10}
targets=$(ls "$BUILD"/fuzz/fuzz_* 2>/dev/null | grep -v -e '\.d$' -e '\.log$')
n=$(echo "$targets" | grep -c . || true)
echo "1..$n"
i=0
for f in $targets; do
	[ -x "$f" ] || continue
	i=$((i + 1))
	name=${f##*/}
	seed=tests/fuzz/corpus/$name
	work=$BUILD/fuzz/work/$name
	art=$BUILD/fuzz/artifacts/
	mkdir -p "$work" "$art"
	dirs=("$work")
	[ -d "$seed" ] && dirs+=("$seed")
	log=$BUILD/fuzz/$name.log
	if "$f" -max_total_time="$t" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$art" -print_final_stats=1 "${dirs[@]}" > "$log" 2>&1; then
		execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$')
		echo "ok $i - fuzz: $name (${execs:-?} runs in ${t}s, no crash)"
	else
		grep -E 'ERROR|SUMMARY|==[0-9]+==|artifact' "$log" | head -n 20 | sed 's/^/#   /'
		echo "not ok $i - fuzz: $name (see $log)"
	fi
done
