#!/usr/bin/env bash
# Install the system packages lumen's tests use, when they are missing. Idempotent.
#   tmux             end-to-end tests drive the real binary in tmux
#   openssh-server   interop tests start their own sshd on a loopback port
#   openssh-client   ssh -G parity, ssh-keygen oracles, ssh-agent, ProxyCommand ssh -W
#   libnss-wrapper   ssh -G parity runs ssh with a fake passwd home
#   oathtool         TOTP parity
#   procps           pgrep/pkill/ps: find lumen's processes, drop an sshd's connections
#   rpm              librpm's rpm.vercmp is the oracle for the scan's RPM version order
#   python3-minimal  /usr/bin/python3 probes the lumen server's socket as another user
#   util-linux       setpriv runs that probe under another uid
#   python3-venv     scripts/ansible-venv.sh: ansible-core, jsonschema, prometheus_client (PyPI)
#   asciinema        `asciinema cat` (2.x) reads lumen's session recordings as an oracle
#   git              team vault tests: real clones merging through lumen's merge driver
set -euo pipefail
PACKAGES=(tmux openssh-server openssh-client libnss-wrapper oathtool procps rpm python3-minimal util-linux python3-venv asciinema git)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing: ${missing[*]}"
  # Installing openssh-server must not start a system sshd: tests start their own. A
  # policy-rc.d that answers 101 tells the package scripts not to start services.
  policy=/usr/sbin/policy-rc.d
  added_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    added_policy=1
  fi
  trap '[ -n "$added_policy" ] && $SUDO rm -f "$policy"' EXIT
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Python packages from PyPI, in a venv outside the repository (tests/common/venv.rs finds it).
"$(dirname "$0")/ansible-venv.sh"
