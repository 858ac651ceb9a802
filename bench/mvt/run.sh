#!/bin/sh
# bench/mvt/run.sh — Mapbox Vector Tiles (issue 7): tilesrv beside MapServer 8's MVT output
# and GDAL's MVT driver on the 300 tiles of bench/tiles.txt over the generated
# Düsseldorf-scale cadastre (bench/data/cadastre.gpkg), single-threaded, in ROUNDS
# interleaved rounds (default 3; GDAL, which takes minutes, in the first round only).
# Prints the medians and the ratios by tiles/s and by CPU seconds, and checks the tiles
# with GDAL's MVT reader (features per layer of a few tiles from each). Writes
# bench/results/mvt/.
#
#   bench/mvt/run.sh
#   ROUNDS=5 bench/mvt/run.sh
#   SKIP_DEPS=1 BUILD=/tmp/build JOBS=1 bench/mvt/run.sh     # no apt, own build dir, make -j1
#   SKIP_GDAL=1 bench/mvt/run.sh
#
# Uncompressed tiles everywhere: tilesrv's tiles_per_s_no_gzip (query + encode; the line
# also shows gzip separately), MapServer's WMS GetMap FORMAT=application/vnd.mapbox-vector-tile,
# GDAL with COMPRESS=NO. No tile size limit for tilesrv (--max-bytes 100000000: nothing
# dropped, as the peers drop nothing). Each keeps its own buffer: tilesrv 16 px (256 units),
# which gives it more features per tile than MapServer (see features in the check).
set -eu
cd "$(dirname "$0")/../.."
[ -n "${SKIP_DEPS:-}" ] || scripts/deps.sh --bench
bench/make_data.sh
PY=/usr/bin/python3
BUILD=${BUILD:-build-release}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTS_TESTS=OFF -DTS_BENCH=ON >/dev/null
cmake --build "$BUILD" -j"${JOBS:-$(nproc)}" --target bench_mvt >/dev/null
ROUNDS=${ROUNDS:-3}
RES=bench/results/mvt
rm -rf "$RES"
mkdir -p "$RES"

{
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) commit ${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)} nproc=$(nproc)" \
     "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" \
     "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
    echo "# round $r"
    save_ts="" save_ms="" save_gd=""
    if [ "$r" = 1 ]; then
        save_ts="--save $RES/tilesrv" save_ms="--save $RES/mapserver" save_gd="--save $RES/gdal"
    fi
    "$BUILD"/bench/bench_mvt --runs 1 --max-bytes 100000000 --name tilesrv_mvt $save_ts \
        2>/dev/null | grep '^tilesrv_mvt' | tee -a "$RES/tilesrv.lines"
    $PY bench/mvt/bench_mapserver_mvt.py $save_ms 2>>"$RES/mapserver.zoom" | tee -a "$RES/mapserver.lines"
    if [ "$r" = 1 ] && [ -z "${SKIP_GDAL:-}" ]; then
        $PY bench/mvt/bench_gdal_mvt.py $save_gd 2>>"$RES/gdal.zoom" | tee -a "$RES/gdal.lines"
    fi
done
echo "# end loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$RES/run.log"

$PY - "$RES" <<'EOF' | tee "$RES/summary.txt"
import os, statistics, sys
from osgeo import gdal
gdal.UseExceptions()
res = sys.argv[1]

def runs(name):
    p = os.path.join(res, name + ".lines")
    if not os.path.exists(p):
        return []
    out = []
    for line in open(p):
        parts = line.split()
        if len(parts) > 1:
            out.append({k: float(v) for k, v in (q.split("=", 1) for q in parts[1:])})
    return out

def med(rs, key):
    return statistics.median(r[key] for r in rs)

ts, ms, gd = runs("tilesrv"), runs("mapserver"), runs("gdal")
rows = []
if ts:
    rows.append(("tilesrv (query + encode, no gzip)", ts[0]["tiles"] / (med(ts, "query_s") + med(ts, "encode_s")),
                 # its CPU share: the run's CPU split as its wall time splits (one thread)
                 med(ts, "cpu_s") * (med(ts, "query_s") + med(ts, "encode_s")) /
                 (med(ts, "query_s") + med(ts, "encode_s") + med(ts, "gzip_s")),
                 med(ts, "mean_bytes") / 1024, len(ts)))
    rows.append(("tilesrv with gzip level 6", med(ts, "tiles_per_s"), med(ts, "cpu_s"),
                 med(ts, "mean_gzip_bytes") / 1024, len(ts)))
if ms:
    rows.append(("MapServer 8 MVT (WMS GetMap)", med(ms, "tiles_per_s"), med(ms, "cpu_s"), med(ms, "avg_kb"), len(ms)))
if gd:
    rows.append(("GDAL MVT driver (VectorTranslate per tile)", med(gd, "tiles_per_s"), med(gd, "cpu_s"), med(gd, "avg_kb"), len(gd)))
print("| producer | tiles/s | CPU s (300 tiles) | mean KiB | runs |")
print("| --- | --- | --- | --- | --- |")
for r in rows:
    print("| %s | %.1f | %.2f | %.1f | %d |" % r)
print()
if ts and ms:
    t_tps, t_cpu = rows[0][1], rows[0][2]
    print("tilesrv / MapServer MVT = %.1fx by tiles/s, %.1fx by CPU s   (target >= 5x)"
          % (t_tps / med(ms, "tiles_per_s"), med(ms, "cpu_s") / t_cpu))
    if gd:
        print("tilesrv / GDAL MVT      = %.1fx by tiles/s, %.1fx by CPU s"
              % (t_tps / med(gd, "tiles_per_s"), med(gd, "cpu_s") / t_cpu))
# the same tiles read back by GDAL's MVT reader: features per layer (iterated, i.e. as GDAL
# clips them to the tile) for a few tiles of each zoom
print()
print("features per layer as GDAL's MVT reader iterates them (tilesrv | MapServer | GDAL):")
import glob, shutil, tempfile
tmp = tempfile.mkdtemp()
def counts(root, z, x, y):
    p = os.path.join(res, root, str(z), str(x), "%d.mvt" % y)
    if not os.path.exists(p) or os.path.getsize(p) == 0:
        return "-"
    q = os.path.join(tmp, "%d-%d-%d.pbf" % (z, x, y))
    shutil.copy(p, q)
    ds = gdal.OpenEx(q)
    return " ".join("%s=%d" % (ds.GetLayer(i).GetName()[:5], len(list(ds.GetLayer(i))))
                    for i in range(ds.GetLayerCount()))
tiles = [tuple(int(v) for v in l.split("/")) for l in open("bench/tiles.txt") if l[0].isdigit()]
seen = set()
for z, x, y in tiles:
    if z in seen or z % 2:
        continue
    seen.add(z)
    print("  %d/%d/%d: %s | %s | %s" % (z, x, y, counts("tilesrv", z, x, y),
                                       counts("mapserver", z, x, y), counts("gdal", z, x, y)))
shutil.rmtree(tmp)
EOF
