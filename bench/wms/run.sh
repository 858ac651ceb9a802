#!/bin/sh
# bench/wms/run.sh — WMS GetMap 1024 x 1024 in EPSG:25832 and EPSG:3857 over the generated
# Düsseldorf-scale cadastre: tilesrv (bench_wms, in process through the pipeline) against
# MapServer 8 (mapscript OWSDispatch: the mapserv WMS code path, in process), the same 48
# requests (bench/wms/requests.txt) from the same GeoPackage, in ROUNDS interleaved rounds
# (default 3). Prints the medians and the ratios tilesrv / MapServer per CRS, and writes
# bench/wms/results/{*.lines,summary.txt}.
#
#   bench/wms/run.sh
#   ROUNDS=5 bench/wms/run.sh
set -eu
cd "$(dirname "$0")/../.."
scripts/deps.sh --bench
bench/make_data.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DTS_TESTS=OFF -DTS_BENCH=ON >/dev/null
cmake --build build-release -j"$(nproc)" --target bench_wms >/dev/null
ROUNDS=${ROUNDS:-3}
NCPU=$(nproc)
PY=/usr/bin/python3
RES=bench/wms/results
mkdir -p "$RES"
rm -f "$RES"/*.lines
BW="build-release/bench/bench_wms -c bench/wms/wms.yaml --requests bench/wms/requests.txt"
{
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) commit $(git rev-parse --short HEAD) nproc=$NCPU" \
     "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" \
     "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
    echo "# round $r"
    $PY bench/wms/bench_mapserver_wms.py 2>/dev/null | tee -a "$RES/mapserver.lines"
    $BW --threads 1 2>/dev/null | tee -a "$RES/tilesrv.lines"
    $BW --threads "$NCPU" 2>/dev/null | tee -a "$RES/tilesrv_mt.lines"
done
echo "# end loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$RES/run.log"

# median of a field for one CRS in one file
med() {
    grep "crs=$2 " "$RES/$1.lines" | tr ' ' '\n' | sed -n "s/^$3=//p" | sort -n |
        awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'
}
ratio() { echo "$1 $2" | awk '{printf "%.1f", $1 / $2}'; }
{
echo "# medians of $ROUNDS rounds, ms per 1024 x 1024 map (render + PNG); cpu_s per 24 maps"
for crs in EPSG:25832 EPSG:3857; do
    ms=$(med mapserver "$crs" ms_per_map)
    t1=$(med tilesrv "$crs" ms_per_map)
    tm=$(med tilesrv_mt "$crs" ms_per_map)
    echo "$crs mapserver=$ms tilesrv_1thread=$t1 tilesrv_${NCPU}threads=$tm" \
         "ratio_1thread=$(ratio "$ms" "$t1")x ratio_${NCPU}threads=$(ratio "$ms" "$tm")x" \
         "cpu_ratio=$(ratio "$(med mapserver "$crs" cpu_s)" "$(med tilesrv "$crs" cpu_s)")x"
done
} | tee "$RES/summary.txt"
