#!/usr/bin/env bash
# Time to open a split on an SSH pane: lumen over its shared connection and with a fresh login,
# vs ssh over a ControlMaster and plain ssh, against one test sshd on loopback, same run;
# prints a table of medians and the ratios. Needs openssh-server (scripts/install-test-deps.sh).
# Usage: benches/split_vs_ssh.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
cargo bench --bench split_vs_ssh
