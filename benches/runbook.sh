#!/usr/bin/env bash
# `lumen run`: a 3-step runbook on 50 loopback hosts with --parallel 16 vs parallel-ssh -p 16
# doing the same, same run; prints wall times, their ratio, lumen's CPU and peak RSS.
# Needs openssh-server and openssh-client (scripts/install-test-deps.sh) and pssh (installed
# here when missing).
# Usage: benches/runbook.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
if ! command -v parallel-ssh >/dev/null; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends pssh
fi
cargo bench --bench runbook
