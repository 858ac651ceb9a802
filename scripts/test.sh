#!/bin/sh
# Install what is missing, build with AddressSanitizer + UBSan, and run the whole test
# suite (ctest). Prints the ctest summary; exits non-zero when a test fails.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh --test
# the npm packages of package.json (a second MVT decoder for the tests)
if [ -f package.json ] && command -v npm >/dev/null 2>&1; then
  npm install --no-audit --no-fund --loglevel=error >/dev/null || echo "test.sh: npm install failed; the npm test will be skipped" >&2
fi
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTS_SANITIZE=address,undefined \
      -DTS_WERROR=ON -DTS_BENCH=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$(pwd)/tests/supp/lsan.supp:print_suppressions=0"
cd build-asan
ctest --output-on-failure -j"$(nproc)" "$@"
