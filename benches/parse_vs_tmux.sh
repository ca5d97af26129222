#!/usr/bin/env bash
# Terminal emulation throughput: lumen's pane vs tmux on the same streams, in one run.
#
# The streams come from benches/parse.rs (written to files). tmux: a detached 200x50 window
# with 10 000 lines of history runs `cat` on the stream REPEAT times; we time until the window
# signals it is done. lumen: the bench binary feeds the file REPEAT times through one 200x50
# pane in 4 KiB chunks. Each figure is the median of RUNS runs. tmux's figure includes the PTY
# between cat and tmux, as a real session would; ours has no PTY, so read the ratio with that
# in mind. Usage: benches/parse_vs_tmux.sh   (RUNS=3 REPEAT=5 by default)
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
REPEAT=${REPEAT:-5}
COLS=200
ROWS=50
HISTORY=10000

command -v tmux >/dev/null || { echo "tmux is not installed (apt-get install tmux)" >&2; exit 1; }

dir=$(mktemp -d)
sock="lumen-bench-$$"
cleanup() {
    tmux -L "$sock" kill-server 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

echo "building the bench and writing the streams..." >&2
LUMEN_BENCH_WRITE_STREAMS="$dir" cargo bench -q --bench parse >/dev/null

cat >"$dir/tmux.conf" <<EOF
set -g history-limit $HISTORY
set -g default-size ${COLS}x${ROWS}
set -g status off
EOF
tmux -L "$sock" -f "$dir/tmux.conf" new-session -d -s idle -x "$COLS" -y "$ROWS"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

tmux_mbps() {
    local file=$1 bytes files="" i start end
    bytes=$(($(stat -c %s "$file") * REPEAT))
    for ((i = 0; i < REPEAT; i++)); do files="$files $file"; done
    start=$(now)
    tmux -L "$sock" new-window -d "cat $files; tmux wait-for -S done-$$"
    tmux -L "$sock" wait-for "done-$$"
    end=$(now)
    awk -v b="$bytes" -v s="$start" -v e="$end" 'BEGIN {printf "%.1f\n", b / (e - s) / 1e6}'
}

lumen_mbps() {
    LUMEN_BENCH_FILE=$1 LUMEN_BENCH_REPEAT=$REPEAT cargo bench -q --bench parse | tail -1
}

printf "%-16s %10s %12s %12s %8s\n" stream "size MiB" "tmux MB/s" "lumen MB/s" "ratio"
for file in "$dir"/*.bin; do
    name=$(basename "$file" .bin)
    t=$(for ((r = 0; r < RUNS; r++)); do tmux_mbps "$file"; done | median)
    l=$(for ((r = 0; r < RUNS; r++)); do lumen_mbps "$file"; done | median)
    size=$(awk -v b="$(stat -c %s "$file")" 'BEGIN {printf "%.1f", b / 1048576}')
    ratio=$(awk -v l="$l" -v t="$t" 'BEGIN {printf "%.1fx", l / t}')
    printf "%-16s %10s %12s %12s %8s\n" "$name" "$size" "$t" "$l" "$ratio"
done
