#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Run every test suite and end with one line "N passed, N failed, N skipped".
#
#   tests/run.sh [--only SUITE[,SUITE...]] [--skip SUITE[,...]]
#
# Suites: format unit bpf fuzz bats vm.  Each suite speaks TAP; this script
# shows it as it comes and counts "ok", "not ok" and "# SKIP" lines.  A
# program that exits non-zero without reporting a failure (a crash in
# main, a broken plan) is counted as one failure under its own name.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
only=all skip=
while [ $# -gt 0 ]; do
	case $1 in
	--only) only=$2; shift 2 ;;
	--skip) skip=$2; shift 2 ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
want() {
	case ",$skip," in *",$1,"*) return 1 ;; esac
	[ "$only" = all ] && return 0
	case ",$only," in *",$1,"*) return 0 ;; esac
	return 1
}

pass=0 fail=0 skipn=0
failed_names=()
out=$(mktemp /tmp/iam-test.XXXXXX)
trap 'rm -f "$out"' EXIT

# run NAME TIMEOUT CMD...: run one TAP producer and count its results.
run() {
	local name=$1 to=$2 rc p f s plan
	shift 2
	echo "# ---- $name"
	if [ "$(type -t "$1")" = function ]; then
		"$@" 2>&1 | tee "$out"
	else
		timeout -k 10 "$to" "$@" 2>&1 | tee "$out"
	fi
	rc=${PIPESTATUS[0]}
	p=$(grep -Eic '^ok .*# skip' "$out")
	s=$p
	p=$(grep -Ec '^ok ' "$out")
	p=$((p - s))
	f=$(grep -Ec '^not ok ' "$out")
	plan=$(grep -Em1 '^1\.\.[0-9]+' "$out" | cut -d. -f3)
	while IFS= read -r l; do failed_names+=("$l"); done < <(grep -E '^not ok ' "$out")
	if [ -n "$plan" ] && [ $((p + s + f)) -lt "$plan" ]; then
		echo "not ok - $name: planned $plan tests, saw $((p + s + f))"
		failed_names+=("$name: planned $plan, saw $((p + s + f))")
		f=$((f + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		[ "$rc" -eq 124 ] && echo "not ok - $name: timed out after ${to}s" ||
			echo "not ok - $name: exited with status $rc"
		failed_names+=("$name: exit status $rc")
		f=$((f + 1))
	fi
	pass=$((pass + p)) fail=$((fail + f)) skipn=$((skipn + s))
}

if want format; then
	fmt() {
		echo "1..1"
		local bad
		bad=$(git ls-files '*.c' '*.h' | xargs -r clang-format --dry-run --Werror 2>&1 |
			grep -E '^[^ ].*: (error|warning):' | cut -d: -f1 | sort -u)
		if [ -z "$bad" ]; then
			echo "ok 1 - clang-format: every tracked .c/.h file is formatted"
		else
			echo "# not formatted (run 'make format'):"
			echo "$bad" | sed 's/^/#   /'
			echo "not ok 1 - clang-format"
		fi
	}
	run format 120 fmt
fi

if want unit; then
	for t in "$BUILD"/tests/unit/*; do
		[ -x "$t" ] && run "unit/${t##*/}" 600 "$t"
	done
fi

if want bpf; then
	for t in "$BUILD"/tests/bpf/*; do
		[ -x "$t" ] && run "bpf/${t##*/}" 600 "$t"
	done
fi

if want fuzz && [ -x tests/fuzz/run.sh ]; then
	run fuzz 900 env FUZZ_TIME="${FUZZ_TIME:-10}" tests/fuzz/run.sh "$BUILD"
fi

if want bats; then
	files=$(ls tests/bats/*.bats 2>/dev/null)
	[ -n "$files" ] && run bats 1800 bats --tap $files
fi

if want vm && [ -x tests/vm/run.sh ]; then
	run vm 2400 tests/vm/run.sh
fi

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "# failures:"
	printf '#   %s\n' "${failed_names[@]}"
fi
if [ "$skipn" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skipn skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
