#!/usr/bin/env bash
# 200 fake hosts scanned by the release binary with --parallel 64 vs 8: wall time, peak open
# files, RSS (benches/fleet.rs). Needs nothing but the repository: the hosts are lumen's
# embedded SSH server on loopback ports.
# Usage: benches/fleet.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench fleet
