#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# `make bench`: remote page-fault latency over the FIG. 1A fabric of the
# demo (tests/demo/fig1a.bash), for a few region sizes and access
# patterns, beside the limit iam-bench measures in the same run (a
# userfaultfd fault served from a local buffer plus a 4 KiB TCP
# request/response to the lender).  Writes, under $BUILD/bench/:
#
#   fault-latency.jsonl   iam-bench --json, one line per run
#   fault-latency.dat     the table the plot is drawn from
#   fault-latency.png     p50 beside the limit, per run, with the threads
#                         on any CPU and all on one (gnuplot)
#
# h1 borrows with no local budget and a 2M cache, so every fault of a
# region is remote; h2 (same leaf) lends 16M, h3 and h4 (across the
# spine) 32M each, and lenders are taken by AS hops first: a 4M or 16M
# region lives on h2, a 64M region mostly across the spine.
# Nothing here passes or fails on a number.
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
OUT=$BUILD/bench
FIG_NAME=${BENCH_NAME:-iambench}
FIG_DIR=$OUT/fabric
# shellcheck source=tests/demo/fig1a.bash
. "$top/tests/demo/fig1a.bash"

skip() {
	echo "plot: skipped: $*"
	exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root (namespaces, XDP, mlock)"
for t in bird birdc jq gnuplot nsenter setsid; do
	command -v $t > /dev/null || skip "$t is missing (tools/deps.sh installs it)"
done
for t in iam-load iam-bench iamctl; do
	[ -x "$BUILD/$t" ] || skip "$BUILD/$t is not built"
done

trap 'fig_down > /dev/null' EXIT
trap 'exit 130' INT TERM
fig_down > /dev/null
rm -rf "$FIG_DIR"
mkdir -p "$OUT" "$FIG_DIR"

echo "plot: bringing up the fabric ($FIG_NAME-*)"
fig_up || { echo "plot: the fabric did not come up (logs in $FIG_DIR)"; exit 1; }
fig_agent 1 "pool 4M" "local-budget 0" "cache 2M" || exit 1
fig_agent 2 "pool 16M" "cache 1M" || exit 1
fig_agent 3 "pool 32M" "cache 1M" || exit 1
fig_agent 4 "pool 32M" "cache 1M" || exit 1
M=$(((4 + 16 + 32 + 32) * 16))
iam_wait_eq 30 $M fig_status 1 .total_blocks || exit 1

jsonl=$OUT/fault-latency.jsonl
dat=$OUT/fault-latency.dat
: > "$jsonl"
{
	echo "# iam-bench over the FIG. 1A demo fabric; latencies in us"
	echo "# any CPU: the scheduler places every thread; one CPU: the"
	echo "# fabric's processes (agents, BIRD) and iam-bench on CPU 0"
	echo "# label p50 p99 limit ratio p50_1cpu p99_1cpu limit_1cpu ratio_1cpu where"
} > "$dat"

# place any|one: where the fabric's processes may run.  Threads that wake
# each other across the two CPUs pay ~20 us per wake-up here; on one CPU
# that path is several times cheaper, so both placements are measured.
place() {
	local ns p cpus=0-$(($(nproc) - 1))
	[ "$1" = one ] && cpus=0
	for ns in $(ip netns list | awk '{print $1}'); do
		case $ns in "$FIG_NAME"-*) ;; *) continue ;; esac
		for p in $(ip netns pids "$ns"); do
			taskset -a -p -c "$cpus" "$p" > /dev/null 2>&1
		done
	done
}

# bench PLACE SIZE PATTERN WRITES: one iam-bench run, its JSON on stdout.
bench() {
	local cpu=()
	place "$1"
	[ "$1" = one ] && cpu=(--cpu 0)
	fig_in 1 "$BUILD/iam-bench" -i "$(fig_inst 1)" --size "$2" \
		--pattern "$3" --writes "$4" --passes 3 "${cpu[@]}" --json
}

printf '%-18s %-7s %8s %8s %8s %8s %8s %6s  %s\n' run cpus p50_us p99_us \
	uffd_us tcp_us limit_us ratio lender
rc=0
# size pattern writes-percent
for run in "4M seq 0" "4M random 0" "16M seq 0" "16M random 0" \
	"16M random 30" "64M seq 0" "64M random 0"; do
	read -r size pattern writes <<< "$run"
	label="$size $pattern"
	[ "$writes" != 0 ] && label+=" +${writes}%w"
	row=()
	for pl in any one; do
		if ! out=$(bench $pl "$size" "$pattern" "$writes"); then
			echo "plot: iam-bench failed for $label ($pl CPU)"
			rc=1
			continue 2
		fi
		echo "$out" >> "$jsonl"
		jq -r --arg l "$label" --arg c "$pl CPU" '"\($l)\t\($c)\t\(.p50_us)\t\(.p99_us)\t\(.limit_uffd_p50_us)\t\(.limit_tcp_p50_us)\t\(.limit_p50_us)\t\(.ratio_p50)\t\(.lender // "-")"' <<< "$out" |
			awk -F'\t' '{ printf "%-18s %-7s %8.1f %8.1f %8.1f %8.1f %8.1f %6.2f  %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }'
		row+=("$(jq -r '[.p50_us, .p99_us, .limit_p50_us, .ratio_p50] |
			map(. * 100 | round / 100) | join(" ")' <<< "$out")")
	done
	# The limit's lender is the one of the region's last block: which
	# host that is, and whether the path crosses the spine.
	lender=$(jq -r '.lender // "-"' <<< "$out")
	where=-
	for i in "${FIG_HOSTS[@]}"; do
		[ "$lender" = "$(fig_agent_addr $i)" ] || continue
		where="h$i"
		[ "$(fig_leaf_of $i)" = "$(fig_leaf_of 1)" ] && where+=", same leaf" ||
			where+=", via spine"
	done
	echo "\"$label\" ${row[0]} ${row[1]} \"$where\"" >> "$dat"
done
place any

png=$OUT/fault-latency.png
gnuplot << EOF || { echo "plot: gnuplot failed"; exit 1; }
set terminal pngcairo size 1100,600 font "sans,10"
set output "$png"
set title "IAM: remote page-fault latency, TCP over veth, FIG. 1A fabric in namespaces\n(iam-bench, 3 passes per run; limit = uffd fault served by another process + TCP 4K request/response to the lender, medians, same run)"
set ylabel "microseconds"
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set grid ytics
set key top left horizontal
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics nomirror
set bmargin 6
set xlabel "region size, access order (+30%w: 30% of the pages read are rewritten), lender of the last block; no local blocks: every fault goes to a lender\nany CPU: the scheduler places the agents, BIRD and iam-bench on the 2 CPUs; one CPU: all of them on CPU 0 (p99 is printed by the script)" offset 0,-0.5
plot "$dat" using 2:xtic(stringcolumn(1)."\n".stringcolumn(10)) title "fault p50, any CPU" lc rgb "#3b75af", \
     "" using 4 title "limit, any CPU" lc rgb "#c7c7c7", \
     "" using 6 title "fault p50, one CPU" lc rgb "#e6842a", \
     "" using 8 title "limit, one CPU" lc rgb "#8c8c8c", \
     "" using (\$0 - 0.3):2:(sprintf("%.0f", \$2)) with labels offset 0,0.7 notitle, \
     "" using (\$0 - 0.1):4:(sprintf("%.0f", \$4)) with labels offset 0,0.7 notitle, \
     "" using (\$0 + 0.1):6:(sprintf("%.0f", \$6)) with labels offset 0,0.7 notitle, \
     "" using (\$0 + 0.3):8:(sprintf("%.0f", \$8)) with labels offset 0,0.7 notitle
EOF
echo "plot: $png (data in $dat, raw runs in $jsonl)"
exit $rc
