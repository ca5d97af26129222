#!/usr/bin/env bash
# The whole test suite: installs the system packages the tests use (idempotent), then runs
# every test. README.md and .ci/run both call exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-deps.sh
cargo test --locked "$@"
