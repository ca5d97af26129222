#!/usr/bin/env bash
# End-to-end comparisons with tmux, in one run, reported as ratios (never asserted in tests):
#  (lumen runs in-process here, `--in-process`; benches/server.rs measures the server)
#  1. throughput: `cat` of a large coloured file in a `lumen shell` pane inside tmux vs the
#     same `cat` in a plain tmux pane;
#  2. memory: RSS of lumen with 20 panes whose scrollback is full vs a tmux server with 20
#     panes and the same history limit, in windows 100, 200 and 400 columns wide, with the
#     bytes each history line adds (RSS after filling minus RSS before, per line);
#  3. idle CPU of lumen with 20 panes open.
# Usage: benches/e2e_vs_tmux.sh [MEGABYTES]   (default 200; 0 skips the throughput part)
#   WIDTHS="100 200 400"   window widths for the memory comparison
#   LUMEN=path             a lumen binary to measure instead of building this checkout
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-200}
WIDTHS=${WIDTHS:-100 200 400}
if [ -z "${LUMEN:-}" ]; then
    cargo build --release --quiet
    LUMEN=$PWD/target/release/lumen
fi
WORK=$(mktemp -d)
trap 'tmux -L lumenbench$$ kill-server 2>/dev/null || true; rm -rf "$WORK"' EXIT
export LUMEN_HOME=$WORK/lumen HOME=$WORK/home SHELL=/bin/sh PS1='$ '
mkdir -p "$HOME"
T="tmux -L lumenbench$$ -f /dev/null"

if [ "$MB" -gt 0 ]; then
# A coloured `ls -laR`-like stream, repeated up to MB megabytes.
ls --color=always -laR /usr/share /usr/lib 2>/dev/null | head -c 20000000 > "$WORK/chunk" || true
: > "$WORK/big"
while [ "$(stat -c %s "$WORK/big")" -lt $((MB * 1000000)) ]; do cat "$WORK/chunk" >> "$WORK/big"; done
truncate -s $((MB * 1000000)) "$WORK/big"
SIZE=$(stat -c %s "$WORK/big")

wait_file() { for _ in $(seq 1 1200); do [ -s "$1" ] && return 0; sleep 0.5; done; echo "timeout waiting for $1" >&2; exit 1; }
timed_cat='s=$(date +%s.%N); cat '"$WORK"'/big; e=$(date +%s.%N); echo "$s $e" > '

# 1a. plain tmux pane
$T new-session -d -s plain -x 200 -y 50 "sh -c '$timed_cat $WORK/t_tmux; sleep 600'"
wait_file "$WORK/t_tmux"
$T kill-session -t plain
# 1b. lumen pane inside tmux
$T new-session -d -s lumen -x 200 -y 50 "$LUMEN --in-process shell"
sleep 1
$T send-keys -t lumen "$timed_cat $WORK/t_lumen" Enter
wait_file "$WORK/t_lumen"
$T kill-session -t lumen
rate() { awk -v s="$SIZE" '{ printf "%.1f", s / ($2 - $1) / 1e6 }' "$1"; }
R_TMUX=$(rate "$WORK/t_tmux"); R_LUMEN=$(rate "$WORK/t_lumen")
echo "throughput, cat of $MB MB coloured ls in a 200x50 pane:"
echo "  tmux pane:             $R_TMUX MB/s"
echo "  lumen pane in tmux:    $R_LUMEN MB/s"
awk -v a="$R_LUMEN" -v b="$R_TMUX" 'BEGIN { printf "  ratio lumen/tmux:      %.2fx (target >= 1.0x)\n", a / b }'
fi

# 2. memory with 20 full panes (history 10000 lines of ~83 columns each), per window width
LINES_KEPT=10000
PANES=20
# Each run leaves a file in the directory given as argument once its pane has printed all.
fill='i=0; while [ $i -lt 11000 ]; do printf "%05d the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor\n" $i; i=$((i+1)); done; mktemp "$1/done.XXXXXX" >/dev/null'
printf '%s\n' "$fill" > "$WORK/fill.sh"
rss() { awk '/VmRSS/ {print $2}' /proc/"$1"/status; }
# Wait until all panes printed their history (a loaded machine can take long), then let the
# program settle (lumen compresses cold history between reads).
wait_fills() {
    for _ in $(seq 1 1200); do
        [ "$(find "$1" -name 'done.*' | wc -l)" -ge $PANES ] && { sleep 3; return 0; }
        sleep 0.5
    done
    echo "timeout waiting for the panes to fill ($1)" >&2; exit 1
}

# lumen in a W-column window: prints "RSS_BEFORE_FILL RSS_AFTER_FILL IDLE_TICKS" (KiB, KiB, ticks)
lumen_mem() {
    local w=$1
    $T new-session -d -s mem -x "$w" -y 50 "$LUMEN --in-process shell"
    sleep 1
    for _ in $(seq 2 $PANES); do $T send-keys -t mem C-b c Enter; sleep 0.2; done
    sleep 1
    local pane_pid lpid
    pane_pid=$($T display -p -t mem '#{pane_pid}')
    # The process name is the binary's name, cut to 15 characters.
    local name; name=$(basename "$LUMEN" | cut -c1-15)
    if [ "$(cat /proc/"$pane_pid"/comm)" = "$name" ]; then lpid=$pane_pid; else lpid=$(pgrep -P "$pane_pid" -x "$name"); fi
    local before; before=$(rss "$lpid")
    # Each tab runs the fill script, then the next tab.
    local done_dir; done_dir=$(mktemp -d -p "$WORK")
    for _ in $(seq 1 $PANES); do $T send-keys -t mem "sh $WORK/fill.sh $done_dir" Enter C-b n; sleep 0.3; done
    wait_fills "$done_dir"
    local after; after=$(rss "$lpid")
    local c0 c1
    c0=$(awk '{print $14+$15}' /proc/"$lpid"/stat); sleep 5; c1=$(awk '{print $14+$15}' /proc/"$lpid"/stat)
    $T kill-session -t mem
    echo "$before $after $((c1 - c0))"
}

# a tmux server with 20 W-column windows: prints "RSS_BEFORE_FILL RSS_AFTER_FILL" (KiB)
tmux_mem() {
    local w=$1 m="tmux -L lumenmem$$ -f /dev/null"
    $m new-session -d -s m -x "$w" -y 50 "sh"
    $m set -g history-limit $LINES_KEPT
    for _ in $(seq 2 $PANES); do $m new-window -t m "sh"; done
    sleep 1
    local tpid; tpid=$($m display -p '#{pid}')
    local before; before=$(rss "$tpid")
    local done_dir; done_dir=$(mktemp -d -p "$WORK")
    for i in $(seq 0 $((PANES - 1))); do $m send-keys -t "m:$i" "sh $WORK/fill.sh $done_dir" Enter; done
    wait_fills "$done_dir"
    local after; after=$(rss "$tpid")
    $m kill-server
    echo "$before $after"
}

echo "memory, $PANES panes with $LINES_KEPT lines of scrollback each (~83 columns of text):"
printf "  %-7s %12s %12s %8s %16s %16s\n" width "tmux MiB" "lumen MiB" ratio "tmux B/line" "lumen B/line"
IDLE=""
for w in $WIDTHS; do
    read -r LB LA TICKS < <(lumen_mem "$w")
    read -r TB TA < <(tmux_mem "$w")
    lines=$((PANES * LINES_KEPT))
    awk -v w="$w" -v lb="$LB" -v la="$LA" -v tb="$TB" -v ta="$TA" -v n="$lines" 'BEGIN {
        printf "  %-7s %12.0f %12.0f %7.2fx %16.0f %16.0f\n", w, ta / 1024, la / 1024, la / ta,
            (ta - tb) * 1024 / n, (la - lb) * 1024 / n }'
    IDLE="$IDLE ${w}:${TICKS}"
done
echo "  (ratio = lumen RSS / tmux server RSS in the same run; B/line = RSS growth from filling, per line)"
echo "idle CPU of lumen with $PANES full panes over 5 s, per width:$IDLE ticks (1 tick = 10 ms)"
