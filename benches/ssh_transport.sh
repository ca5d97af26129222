#!/usr/bin/env bash
# SSH transport and connect-to-prompt, lumen (russh) vs OpenSSH, against a test sshd on loopback.
# Prints MB/s and ms for both and the ratios. Needs openssh-server (scripts/install-test-deps.sh).
# Usage: benches/ssh_transport.sh            (200 MB; LUMEN_BENCH_MB=50 for a quicker run)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
cargo bench --bench ssh_transport
