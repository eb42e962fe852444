#!/usr/bin/env bash
# deps.sh - install the Debian packages mbx builds and tests with (only what is
# missing).  Used by both README commands and by CI (.ci/run).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PKGS=(
  build-essential cmake pkg-config flex bison          # build
  llvm-19-dev clang libclang-rt-14-dev                 # LLVM back end, fuzzing
  libdpdk-dev dpdk libpcap-dev libcmocka-dev           # runtime, unit tests
  libxxhash-dev                                        # runtime: flow hash (header only)
  libhyperscan-dev zlib1g-dev libssl-dev               # stdlib: patterns, gzip, sha256
  graphviz                                             # mbxc graph | dot
  tshark tcpflow tcpdump libnids-dev nginx curl iproute2 ethtool wrk python3-scapy bc  # peers, test bed
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
