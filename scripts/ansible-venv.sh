#!/usr/bin/env bash
# A Python venv for the fleet tests, outside the repository: ansible-core (ansible-inventory,
# ansible, ansible-playbook), jsonschema (SARIF 2.1.0 validation) and prometheus_client (its
# text-format parser). Idempotent: a venv that already has them is left alone.
#   LUMEN_TEST_VENV   where the venv lives (default: $XDG_CACHE_HOME or ~/.cache, lumen/test-venv)
# The tests find it at the same place (tests/common/venv.rs).
set -euo pipefail
VENV="${LUMEN_TEST_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/lumen/test-venv}"
REQUIREMENTS=("ansible-core>=2.15,<2.19" "jsonschema>=4,<5" "prometheus_client>=0.17,<1")
PYTHON="${PYTHON:-python3}"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import ansible, jsonschema, prometheus_client' 2>/dev/null \
   && [ -x "$VENV/bin/ansible-inventory" ]; then
  exit 0
fi
echo "creating the test venv in $VENV"
mkdir -p "$(dirname "$VENV")"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "${REQUIREMENTS[@]}"
"$VENV/bin/python" -c 'import ansible, jsonschema, prometheus_client'
