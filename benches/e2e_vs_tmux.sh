#!/usr/bin/env bash
# End-to-end comparisons with tmux, in one run, reported as ratios (never asserted in tests):
#  1. throughput: `cat` of a large coloured file in a `lumen shell` pane inside tmux vs the
#     same `cat` in a plain tmux pane;
#  2. memory: RSS of lumen with 20 panes whose scrollback is full vs a tmux server with 20
#     panes and the same history limit;
#  3. idle CPU of lumen with 4 panes open.
# Usage: benches/e2e_vs_tmux.sh [MEGABYTES]   (default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-200}
cargo build --release --quiet
LUMEN=$PWD/target/release/lumen
WORK=$(mktemp -d)
trap 'tmux -L lumenbench$$ kill-server 2>/dev/null || true; rm -rf "$WORK"' EXIT
export LUMEN_HOME=$WORK/lumen HOME=$WORK/home SHELL=/bin/sh PS1='$ '
mkdir -p "$HOME"
T="tmux -L lumenbench$$ -f /dev/null"

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
$T new-session -d -s lumen -x 200 -y 50 "$LUMEN shell"
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

# 2. memory with 20 full panes (history 10000 lines of ~83 columns each)
fill='i=0; while [ $i -lt 11000 ]; do printf "%05d the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor\n" $i; i=$((i+1)); done'
printf '%s\n' "$fill" > "$WORK/fill.sh"
$T new-session -d -s mem -x 200 -y 50 "$LUMEN shell"
sleep 1
for i in $(seq 1 19); do $T send-keys -t mem C-b c Enter; sleep 0.2; done
# Each tab runs the fill script, then the next tab.
for i in $(seq 1 20); do $T send-keys -t mem "sh $WORK/fill.sh" Enter C-b n; sleep 0.3; done
sleep 8
PANE_PID=$($T display -p -t mem '#{pane_pid}')
if [ "$(cat /proc/"$PANE_PID"/comm)" = lumen ]; then LPID=$PANE_PID; else LPID=$(pgrep -P "$PANE_PID" -x lumen); fi
RSS_LUMEN=$(awk '/VmRSS/ {print $2}' /proc/"$LPID"/status)
# idle CPU over 5 s
C0=$(awk '{print $14+$15}' /proc/"$LPID"/stat); sleep 5; C1=$(awk '{print $14+$15}' /proc/"$LPID"/stat)
$T kill-session -t mem
tmux -L lumenmem$$ -f /dev/null new-session -d -s m -x 200 -y 50 "sh"
tmux -L lumenmem$$ set -g history-limit 10000
for i in $(seq 1 19); do tmux -L lumenmem$$ new-window -t m "sh"; done
for i in $(seq 0 19); do tmux -L lumenmem$$ send-keys -t "m:$i" "sh $WORK/fill.sh" Enter; done
sleep 8
TPID=$(tmux -L lumenmem$$ display -p '#{pid}')
RSS_TMUX=$(awk '/VmRSS/ {print $2}' /proc/"$TPID"/status)
tmux -L lumenmem$$ kill-server
echo "memory, 20 panes with 10000 lines of scrollback each:"
echo "  tmux server RSS:       $((RSS_TMUX / 1024)) MiB"
echo "  lumen RSS:             $((RSS_LUMEN / 1024)) MiB"
awk -v a="$RSS_LUMEN" -v b="$RSS_TMUX" 'BEGIN { printf "  ratio lumen/tmux:      %.2fx\n", a / b }'
echo "idle CPU of lumen with 20 panes over 5 s: $((C1 - C0)) ticks (1 tick = 10 ms)"
