#!/bin/sh
# Seed the benchmark cadastre (bench/make_data.sh -> bench/data/cadastre.gpkg) and report
# time, tiles/s and the memory of the run: RSS when 10% and 90% of the tiles are done, and
# the peak (VmHWM).
#
#   bench/seed_bench.sh [path/to/tilesrv]
#
# Environment: ZOOM (default 0-16), THREADS (2), TO (mbtiles | disk; default mbtiles),
# BBOX (default: the data extent), KEEP=1 keeps the output directory.
set -eu

cd "$(dirname "$0")/.."
BIN=${1:-build-release/tilesrv}
ZOOM=${ZOOM:-0-16}
THREADS=${THREADS:-2}
TO=${TO:-mbtiles}
[ -x "$BIN" ] || { echo "no tilesrv binary at $BIN (give its path)" >&2; exit 2; }
[ -f bench/data/cadastre.gpkg ] || bench/make_data.sh

out=$(mktemp -d /tmp/tilesrv-seed-bench.XXXXXX)
if [ "$TO" = disk ]; then target=$out/tiles; else target=$out/bench.mbtiles; fi
set -- seed -c bench/cadastre.yaml --tileset bench --zoom "$ZOOM" --threads "$THREADS" \
    --to "$target" --progress-file "$out/progress"
[ -n "${BBOX:-}" ] && set -- "$@" --bbox "$BBOX"

echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs:" \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "tilesrv $*"
start=$(date +%s.%N)
"$BIN" "$@" >"$out/summary" 2>"$out/log" &
pid=$!

# Sample RSS and the progress file until the run ends.
total=0 rss10= rss90= hwm=0 maxrss=0
while kill -0 "$pid" 2>/dev/null; do
    if [ "$total" = 0 ]; then
        total=$(sed -n 's/.*seed bench z[0-9-]*: \([0-9]*\) tiles.*/\1/p' "$out/log" | head -1)
        total=${total:-0}
    fi
    rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
    h=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ -n "$rss" ] && [ "$rss" -gt "$maxrss" ] && maxrss=$rss
    [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
    if [ "$total" -gt 0 ]; then
        # tiles stored so far: rows of the MBTiles (a WAL reader), or files on disk
        if [ "$TO" = disk ]; then
            done_=$(find "$target" -name '*.png' 2>/dev/null | wc -l)
        else
            done_=$(sqlite3 "$target" 'SELECT count(*) FROM map' 2>/dev/null || echo 0)
        fi
        done_=${done_:-0}
        [ -z "$rss10" ] && [ $((done_ * 10)) -ge "$total" ] && rss10=$rss
        [ -z "$rss90" ] && [ $((done_ * 10)) -ge $((total * 9)) ] && rss90=$rss
    fi
    sleep 0.2
done
rc=0
wait "$pid" || rc=$?
end=$(date +%s.%N)
cat "$out/summary"
if [ "$rc" != 0 ]; then
    echo "seed failed with exit $rc:" >&2
    tail -20 "$out/log" >&2
    exit "$rc"
fi
rendered=$(sed -n 's/.* \([0-9]*\) tiles rendered.*/\1/p' "$out/summary")
size=$(du -sk "$target" | cut -f1)
awk -v s="$start" -v e="$end" -v n="$rendered" -v t="$total" -v r10="${rss10:-?}" \
    -v r90="${rss90:-?}" -v hwm="$hwm" -v kb="$size" 'BEGIN {
    sec = e - s
    printf "tiles %d of %d, wall %.1f s, %.0f tiles/s\n", n, t, sec, n / sec
    printf "RSS at 10%%: %s kB, at 90%%: %s kB", r10, r90
    if (r10 != "?" && r90 != "?") printf " (%+.1f%%)", 100 * (r90 - r10) / r10
    printf ", peak %d kB\n", hwm
    printf "output %.1f MB\n", kb / 1024
}'
[ "${KEEP:-0}" = 1 ] && echo "kept $out" || rm -rf "$out"
