#!/bin/sh
# Install what is missing, build with AddressSanitizer + UBSan, and run the whole test
# suite (ctest); then build the concurrency tests with ThreadSanitizer (build-tsan) and run
# them. Prints the ctest summaries; exits non-zero when a test fails.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh --test
# the npm packages of package.json (the web map's OpenLayers and esbuild, a second MVT
# decoder, Playwright for the browser test) and the web map's bundle (web/dist)
if [ -f package.json ] && command -v npm >/dev/null 2>&1; then
  if npm install --no-audit --no-fund --loglevel=error >/dev/null; then
    npm run build --silent >/dev/null || echo "test.sh: npm run build failed (web map)" >&2
  else
    echo "test.sh: npm install failed; the npm tests will be skipped" >&2
  fi
fi
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTS_SANITIZE=address,undefined \
      -DTS_WERROR=ON -DTS_BENCH=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$(pwd)/tests/supp/lsan.supp:print_suppressions=0"
rc=0
(cd build-asan && ctest --output-on-failure -j"$(nproc)" "$@") || rc=$?
# ThreadSanitizer: the concurrency tests only (ctest -L concurrency, tests/CMakeLists.txt),
# building just their targets. TS_NO_TSAN=1 skips it (e.g. while iterating on one test).
if [ "${TS_NO_TSAN:-0}" != 1 ]; then
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DTS_SANITIZE=thread -DTS_WERROR=ON \
        -DTS_BENCH=OFF >/dev/null
  cmake --build build-tsan -j"$(nproc)" --target test_pipeline test_cache test_config \
        test_encode test_style test_text test_source test_seed feed_driver tilesrv
  (cd build-tsan && ctest --output-on-failure -L concurrency) || rc=$?
fi
exit "$rc"
