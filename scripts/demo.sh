#!/bin/sh
# Install what is missing, build, and serve the bundled Düsseldorf demo on
# http://127.0.0.1:8080/ (Ctrl-C stops it). Extra arguments go to `tilesrv serve`.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
# the web map at /: OpenLayers from npm, bundled into web/dist (package.json); without it
# the server still runs and / says what to do
{ npm install --no-audit --no-fund --loglevel=error && npm run build --silent; } ||
  echo "demo.sh: the web map could not be built (npm install && npm run build)" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DTS_TESTS=OFF -DTS_BENCH=OFF >/dev/null
cmake --build build -j"$(nproc)"
exec build/tilesrv serve "$@"
