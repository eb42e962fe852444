#!/usr/bin/env bash
# test.sh - install what is missing, build, and run every test (the README's
# second command; .ci/run calls it).  Two builds: the normal one with -Werror,
# then an ASan+UBSan build (clang) that also runs the fuzz targets for a bounded
# time.  Set MBX_QUICK=1 to skip the sanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
JOBS=$(nproc)
cmake -S . -B build -DMBX_WERROR=ON >/dev/null
cmake --build build -j"$JOBS"
status=0
(cd build && ctest --output-on-failure -j"$JOBS" --timeout 900) || status=1
if [ "${MBX_QUICK:-0}" != 1 ]; then
  CC=clang cmake -S . -B build-asan -DMBX_SANITIZE=ON -DMBX_FUZZ=ON -DMBX_WERROR=ON >/dev/null
  cmake --build build-asan -j"$JOBS"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$JOBS" --timeout 900) || status=1
fi
exit $status
