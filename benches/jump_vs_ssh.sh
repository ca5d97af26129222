#!/usr/bin/env bash
# Time to open 20 sessions to 20 hosts behind one jump host: lumen with its shared jump
# connection vs 20 separate `ssh -J` processes, same run; prints both and the ratio.
# Needs openssh-server and openssh-client (scripts/install-test-deps.sh).
# Usage: benches/jump_vs_ssh.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
cargo bench --bench jump_vs_ssh
