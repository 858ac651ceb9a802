#!/bin/sh
# bench/run_labels.sh — the label-heavy benchmark (issue 3): tilesrv without and with
# labels, and Mapnik 3.1 drawing the same labels, on the 200 tiles of
# bench/labels/tiles.txt (z16-z19, where parcel numbers and street names are dense), in
# ROUNDS interleaved rounds (default 3); prints the medians, ms per zoom and the ratios
# "labels cost" (tilesrv with / without, target <= 2x) and "tilesrv / Mapnik with labels"
# (target >= 5x); writes bench/results/labels/ (raw lines, summary.txt, saved tiles) and
# bench/results/labels_z*.png (tilesrv | Mapnik | |difference| x 4, two tiles per zoom).
#
#   bench/run_labels.sh
#   ROUNDS=5 bench/run_labels.sh
#   META=1 bench/run_labels.sh   # also both renderers through 8x8 metatiles (slow: minutes)
#   SKIP_DEPS=1 BUILD=/tmp/build JOBS=1 bench/run_labels.sh   # no apt, own build dir, make -j1
#   (COMMIT=... names the commit in the log when run from an exported tree)
#
# Both renderers draw one 256 px tile at a time; tilesrv through bench_tiles (render +
# PNG encode, no cache, no metatiles; --no-labels draws the same styles without labels;
# one untimed pass, then 3 timed passes a round: its pass takes 0.2-0.4 s),
# Mapnik through the peer rig's bench/peers/bench/bench_mapnik.py with
# bench/labels/cadastre_labels.xml (buffer-size 0, as the rig's maps).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
[ -n "${SKIP_DEPS:-}" ] || scripts/deps.sh --bench
bench/make_data.sh
PY=/usr/bin/python3
[ -s bench/labels/tiles.txt ] || $PY bench/labels/make_tiles.py > bench/labels/tiles.txt
BUILD=${BUILD:-build-release}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTS_TESTS=OFF -DTS_BENCH=ON >/dev/null
cmake --build "$BUILD" -j"${JOBS:-$(nproc)}" --target bench_tiles >/dev/null
ROUNDS=${ROUNDS:-3}
RES=bench/results/labels
mkdir -p "$RES"
rm -f "$RES"/*.lines "$RES"/*.zoom
TILES=bench/labels/tiles.txt
BT="$BUILD/bench/bench_tiles --tiles $TILES"
LAB="-c bench/labels/cadastre_labels.yaml --tileset labels"
peers() { (cd bench/peers && { [ -e fonts/DejaVuSans.ttf ] || ./setup_fonts.sh >/dev/null; } &&
           PYTHONPATH=bench $PY "$@"); }
# run NAME CMD...: the result line to NAME.lines, the per-zoom line to NAME.zoom
run() {
    n=$1
    shift
    "$@" 2>"$RES/$n.err" | tee -a "$RES/$n.lines"
    grep -E '^z[0-9]+_ms=' "$RES/$n.err" >> "$RES/$n.zoom" || true
}

{
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) commit ${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)} nproc=$(nproc)" \
     "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" \
     "cc=$(cc --version | head -1) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
    echo "# round $r"
    run tilesrv_nolabels $BT $LAB --threads 1 --warmup 1 --runs 3 --no-labels --name tilesrv_nolabels
    run tilesrv_labels $BT $LAB --threads 1 --warmup 1 --runs 3 --name tilesrv_labels
    run mapnik_labels peers bench/bench_mapnik.py --xml ../labels/cadastre_labels.xml \
        --tiles ../labels/tiles.txt --name mapnik_labels
    run mapnik_nolabels peers bench/bench_mapnik.py --xml mapnik/cadastre.xml \
        --tiles ../labels/tiles.txt --name mapnik_nolabels
done
if [ -n "${META:-}" ]; then
    echo "# 8x8 metatiles, one round (the unlabelled tilesrv map is bench/cadastre.yaml)"
    run tilesrv_meta_labels $BT $LAB --threads 1 --meta 8
    run tilesrv_meta_nolabels $BT -c bench/cadastre.yaml --tileset bench --threads 1 --meta 8
    run mapnik_meta_labels peers ../labels/bench_mapnik_meta.py --xml ../labels/cadastre_labels.xml \
        --tiles ../labels/tiles.txt --meta 8 --buffer 64 --name mapnik_meta_labels
    run mapnik_meta_nolabels peers ../labels/bench_mapnik_meta.py --xml mapnik/cadastre.xml \
        --tiles ../labels/tiles.txt --meta 8 --buffer 64 --name mapnik_meta_nolabels
fi
echo "# end loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$RES/run.log"

$PY bench/labels/summary.py "$RES" | tee "$RES/summary.txt"

# The tiles themselves: every tile from both renderers, mean |difference| per tile, and
# sheets of two tiles per zoom (the first and the middle one of the list) to look at.
rm -rf "$RES/img"
mkdir -p "$RES/img"
$BT $LAB --threads 1 --save "$RES/img/tilesrv" >/dev/null 2>&1
peers bench/bench_mapnik.py --xml ../labels/cadastre_labels.xml --tiles ../labels/tiles.txt \
    --save "$ROOT/$RES/img/mapnik" >/dev/null 2>&1
$PY bench/peers/bench/compare.py "$RES/img/tilesrv" "$RES/img/mapnik" --out "$RES/compare_all.png" \
    > "$RES/diff_mapnik.txt"
awk -F= '{s+=$2; if ($2>m) m=$2; n++} END {printf "image mean |tilesrv - mapnik| with labels over %d tiles: %.2f / 255 (worst tile %.2f)\n", n, s/n, m}' \
    "$RES/diff_mapnik.txt" | tee -a "$RES/summary.txt"
for z in 16 17 18 19; do
    sel=$(grep -v '^#' "$TILES" | grep "^$z/" | awk 'NR == 1 || NR == 20' | tr / _)
    [ -n "$sel" ] || continue
    $PY bench/peers/bench/compare.py "$RES/img/tilesrv" "$RES/img/mapnik" \
        --out "bench/results/labels_z$z.png" --tiles $sel >/dev/null
done
echo "sheets: bench/results/labels_z{16,17,18,19}.png (tilesrv | Mapnik | |diff| x 4)"
