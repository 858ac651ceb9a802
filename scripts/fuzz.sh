#!/bin/sh
# Run one libFuzzer target (ASan+UBSan, clang) and merge what it found into its committed
# corpus, tests/fuzz/corpus/<name>/ (docs/fuzzing.md).
#
#   scripts/fuzz.sh <name> [seconds]     e.g. scripts/fuzz.sh sld 600
#
# Builds fuzz_<name> in $BUILD (default /tmp/b-fuzz) with -j1, fuzzes for [seconds] (600)
# at nice 19 in $WORK/<name> (default /tmp/fz), writes crashes to $WORK/<name>/art/, then
# minimises (-merge=1) the old corpus plus the new inputs into the corpus directory. One
# fuzzer at a time: the machine is shared.
set -eu
name=${1:?usage: scripts/fuzz.sh <name> [seconds]}
secs=${2:-600}
src=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-/tmp/b-fuzz}
WORK=${WORK:-/tmp/fz}
t=$src/tests
# max_len and the seed directories of each target (the committed corpus comes first)
case $name in
  config)       len=16384; seeds="$t/data/config" ;;
  sld)          len=16384; seeds="$src/styles $t/data/style"; mflags=-use_counters=0 ;;
  url)          len=1024;  seeds="" ;;
  wms)          len=4096;  seeds=""; mflags=-use_counters=0 ;;
  wmts)         len=4096;  seeds="" ;;
  oat)          len=1024;  seeds="" ;;
  png)          len=65536; seeds="" ;;
  mvt)          len=8192;  seeds=""; mflags=-use_counters=0 ;;
  cache)        len=65536; seeds="" ;;
  feed_lorawan) len=65536; seeds="$t/data/feed $t/data/feed/bad"; mflags=-use_counters=0 ;;
  feed_sta|feed_geojson)
                len=65536; seeds="$t/data/feed $t/data/feed/bad" ;;
  jscan)        len=65536; seeds="$t/data/feed $t/data/feed/bad"; mflags=-use_counters=0 ;;
  feed_csv)     len=65536; mlen=4096; mkdir -p "$WORK/seed_csv"
                cp "$src/data/demo/air_uba_duesseldorf.csv" "$WORK/seed_csv/"
                seeds="$t/data/feed $t/data/feed/bad $WORK/seed_csv" ;;
  *) echo "fuzz.sh: unknown target $name" >&2; exit 2 ;;
esac
# the merge may truncate inputs (mlen) to keep the committed corpus small
# and merge on edges only (mflags) where hit counts alone would keep hundreds of files
mlen=${mlen:-$len}
mflags=${mflags:-}
corpus=$t/fuzz/corpus/$name
w=$WORK/$name
mkdir -p "$corpus" "$w/work" "$w/art"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  CC=clang cmake -S "$src" -B "$BUILD" -DTS_FUZZ=ON -DTS_SANITIZE=address,undefined \
        -DTS_BENCH=OFF >/dev/null
else
  cmake "$BUILD" >/dev/null   # a target added since the last run needs the new Makefiles
fi
nice -n 19 cmake --build "$BUILD" --target "fuzz_$name" -j1 >/dev/null
cp "$corpus"/* "$w/work/" 2>/dev/null || true
rc=0
# shellcheck disable=SC2086 # seeds is a list of directories
nice -n 19 "$BUILD/tests/fuzz_$name" -max_total_time="$secs" -rss_limit_mb=1024 \
  -max_len=$len -timeout=10 -print_final_stats=1 -close_fd_mask=1 \
  -artifact_prefix="$w/art/" "$w/work" $seeds > "$w/fuzz.log" 2>&1 || rc=$?
tail -n 6 "$w/fuzz.log"
if [ "$rc" != 0 ]; then
  echo "fuzz.sh: fuzz_$name stopped with $rc: see $w/fuzz.log and $w/art/" >&2
fi
rm -rf "$w/min" && mkdir -p "$w/min"
# shellcheck disable=SC2086
nice -n 19 "$BUILD/tests/fuzz_$name" -merge=1 $mflags -rss_limit_mb=1024 -max_len=$mlen \
  -close_fd_mask=1 "$w/min" "$corpus" "$w/work" $seeds > "$w/merge.log" 2>&1
cp "$w/min"/* "$corpus/"
echo "fuzz.sh: $corpus now $(ls "$corpus" | wc -l) files, $(du -sh "$corpus" | cut -f1)"
exit "$rc"
