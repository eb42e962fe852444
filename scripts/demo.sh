#!/usr/bin/env bash
# demo.sh - the README's first command: install what is missing, build, and run
# the main job: the consolidated middlebox examples/guard.mbx (port-scan
# detection, a web firewall over std.http, and the malicious-retransmission
# detector), compiled by mbxc into a native binary and run on the bundled
# capture examples/captures/demo.pcap.  Its events are printed as EVE JSON lines
# on stdout; the run's statistics follow on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
build/compiler/mbxc build examples/guard.mbx -o build/guard
echo "== build/guard -r examples/captures/demo.pcap --set web_firewall.blocked=/download --stats" >&2
exec build/guard -r examples/captures/demo.pcap --set web_firewall.blocked=/download --stats
