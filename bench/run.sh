#!/bin/sh
# bench/run.sh — tilesrv beside MapServer 8 and Mapnik 3.1 on the same 300 tiles of the
# generated Düsseldorf-scale cadastre, in ROUNDS interleaved rounds (default 3), so load
# from elsewhere hits every renderer alike. Prints the medians and the ratios, compares the
# images, and writes bench/results/{*.lines,summary.txt,compare_*.png}.
#
#   bench/run.sh                 # everything
#   ROUNDS=5 bench/run.sh
#   SKIP_PEERS=1 bench/run.sh    # tilesrv only
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
scripts/deps.sh --bench
bench/make_data.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DTS_TESTS=OFF -DTS_BENCH=ON >/dev/null
cmake --build build-release -j"$(nproc)" --target bench_tiles bench_png >/dev/null
ROUNDS=${ROUNDS:-3}
NCPU=$(nproc)
PY=/usr/bin/python3
RES=bench/results
mkdir -p "$RES"
rm -f "$RES"/*.lines
BT="build-release/bench/bench_tiles -c bench/cadastre.yaml --tileset bench --tiles bench/tiles.txt"
# Every renderer draws the list once untimed first (--warmup 1): then each timed pass is a
# warm process's, as a server's. tilesrv's pass takes under a second, so it runs three
# timed passes per round (a line each; the medians are over all lines) to average out the
# noise of this shared machine as the peers' 8-12 s passes do.
# The --meta and --save passes are not warmed.
W="--warmup 1 --runs 3"
peers() { (cd bench/peers && { [ -e fonts/DejaVuSans.ttf ] || ./setup_fonts.sh >/dev/null; } &&
           PYTHONPATH=bench $PY "$@"); }

{
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) commit $(git rev-parse --short HEAD) nproc=$NCPU" \
     "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" \
     "cc=$(cc --version | head -1) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
    echo "# round $r"
    if [ -z "${SKIP_PEERS:-}" ]; then
        peers bench/bench_mapscript.py --warmup 1 --tiles tiles.txt 2>/dev/null | tee -a "$RES/mapserver.lines"
        peers bench/bench_mapnik.py --warmup 1 --tiles tiles.txt 2>/dev/null | tee -a "$RES/mapnik.lines"
    fi
    $BT $W --threads 1 --name tilesrv 2>/dev/null | tee -a "$RES/tilesrv.lines"
    $BT $W --threads "$NCPU" --name tilesrv_mt 2>/dev/null | tee -a "$RES/tilesrv_mt.lines"
    $BT $W --threads 1 --format png8 --name tilesrv_png8 2>/dev/null | tee -a "$RES/tilesrv_png8.lines"
    $BT --threads 1 --meta 8 2>/dev/null | tee -a "$RES/tilesrv_meta.lines"
done
echo "# end loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$RES/run.log"

med() { $PY bench/peers/bench/median.py < "$RES/$1.lines"; }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
{
echo "# medians of $ROUNDS rounds"
for n in mapserver mapnik tilesrv tilesrv_mt tilesrv_png8 tilesrv_meta; do
    [ -s "$RES/$n.lines" ] && med "$n"
done
ts=$(med tilesrv)
t1=$(field "$ts" tiles_per_s)
tmt=$(field "$(med tilesrv_mt)" tiles_per_s)
wall=$(field "$ts" wall_s)
enc=$(field "$ts" encode_s)
echo "# ratios (tiles/s, single-threaded unless noted)"
if [ -s "$RES/mapserver.lines" ]; then
    ms=$(field "$(med mapserver)" tiles_per_s)
    mn=$(field "$(med mapnik)" tiles_per_s)
    $PY -c "print('tilesrv / MapServer = %.1fx   tilesrv / Mapnik = %.1fx' % ($t1/$ms, $t1/$mn))"
    $PY -c "print('tilesrv %d threads / MapServer 1 thread = %.1fx' % ($NCPU, $tmt/$ms))"
fi
$PY -c "print('tilesrv render+encode / encode alone = %.2fx' % ($wall/$enc))"
} | tee "$RES/summary.txt"

# Look-alike check: one round of tiles saved by each renderer, mean |A-B| per tile.
if [ -z "${SKIP_PEERS:-}" ]; then
    rm -rf "$RES/img"
    mkdir -p "$RES/img"
    $BT --threads 1 --save "$RES/img/tilesrv" >/dev/null 2>&1
    peers bench/bench_mapscript.py --tiles tiles.txt --save "$ROOT/$RES/img/mapserver" >/dev/null 2>&1
    peers bench/bench_mapnik.py --tiles tiles.txt --save "$ROOT/$RES/img/mapnik" >/dev/null 2>&1
    for p in mapserver mapnik; do
        $PY bench/peers/bench/compare.py "$RES/img/tilesrv" "$RES/img/$p" \
            --out "$RES/compare_$p.png" > "$RES/diff_$p.txt"
        awk -F= -v p=$p '{s+=$2; if ($2>m) m=$2; n++} END {printf "image mean |tilesrv - %s| over %d tiles: %.2f / 255 (worst tile %.2f)\n", p, n, s/n, m}' \
            "$RES/diff_$p.txt" | tee -a "$RES/summary.txt"
    done
    $PY bench/peers/bench/compare.py "$RES/img/mapserver" "$RES/img/mapnik" --out "$RES/compare_peers.png" \
        | awk -F= '{s+=$2; n++} END {printf "image mean |mapserver - mapnik| over %d tiles: %.2f / 255\n", n, s/n}' \
        | tee -a "$RES/summary.txt"
fi
