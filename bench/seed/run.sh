#!/bin/sh
# bench/seed/run.sh — seed the whole generated Düsseldorf-scale cadastre (bench/data/cadastre.gpkg)
# at zooms 0-18 with 2 threads: tilesrv seed, and MapProxy 1.15's mapproxy-seed from MapServer 8
# (mapserv FastCGI under lighttpd, as many mapserv processes as threads), in the same run, the
# same lon/lat bbox, the same grid (EPSG:3857, 256 px), the same map (bench/peers/mapserver/
# cadastre.map is the look of bench/cadastre.yaml), RGB PNG files on disk for both.
#
# Prints per seeder: tiles, wall s, tiles/s, CPU s (MapProxy: mapproxy-seed and its workers plus
# the mapserv processes), peak RSS (MapProxy: the sum of its processes and mapserv's at their
# sampled peak), and for tilesrv the RSS at 10 % and 90 % of the tiles; then the ratios. The
# lines go to bench/seed/results/ (summary.txt, run.log).
#
#   bench/seed/run.sh
#   ZOOM=0-16 bench/seed/run.sh             # smaller run
#   THREADS=1 bench/seed/run.sh
#   SKIP_MAPPROXY=1 bench/seed/run.sh       # tilesrv only
#
# CACHE=mbtiles (default): both write one MBTiles file (MapProxy: cache type mbtiles);
# CACHE=disk: both write one PNG file per tile in the tc layout. On this VM's ext4 every new
# file costs 0.5-0.7 ms of kernel time (inode allocation; more right after many files were
# deleted), the same for both seeders, which caps any file-per-tile seed near 1,500 tiles/s
# per core: the MBTiles run shows the seeders' own work.
# MapProxy runs with its seeding defaults (4 x 4 metatiles with an 80 px buffer, concurrency =
# THREADS) and paletted: false so that both write RGB PNG; tilesrv with its configured 8 x 8
# metatiles (bench/cadastre.yaml; its buffer is not drawn: docs/config.md).
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
ZOOM=${ZOOM:-0-18}
CACHE=${CACHE:-mbtiles}
THREADS=${THREADS:-2}
PORT=${PORT:-8091}
PY=/usr/bin/python3
RES=bench/seed/results
scripts/deps.sh --bench
bench/make_data.sh >/dev/null
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DTS_TESTS=OFF -DTS_BENCH=ON >/dev/null
cmake --build build-release -j"$(nproc)" --target tilesrv >/dev/null
BIN=$ROOT/build-release/tilesrv
mkdir -p "$RES"
OUT=$(mktemp -d /tmp/tilesrv-seed-vs-mapproxy.XXXXXX)
LIGHTTPD_PID=
ms_pids=
# lighttpd does not always stop its FastCGI children, which would hold the output pipe open
stop_mapserv() {
    if [ -n "$LIGHTTPD_PID" ]; then kill "$LIGHTTPD_PID" 2>/dev/null || true; wait "$LIGHTTPD_PID" 2>/dev/null || true; fi
    sleep 0.3
    for k in $ms_pids; do kill "$k" 2>/dev/null || true; done
    LIGHTTPD_PID= ms_pids=
}
trap '[ "${KEEP:-0}" = 1 ] && echo "kept $OUT" || rm -rf "$OUT"' EXIT
trap 'exit 130' INT TERM

# The bbox: the mapfile's EXTENT (EPSG:3857, the data's envelope) in lon/lat, given to both.
BBOX=$($PY - <<'EOF'
from osgeo import osr
s = osr.SpatialReference(); s.ImportFromEPSG(3857)
t = osr.SpatialReference(); t.ImportFromEPSG(4326)
t.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
ct = osr.CoordinateTransformation(s, t)
a = ct.TransformPoint(738180, 6649222)
b = ct.TransformPoint(771022, 6682150)
print("%.6f,%.6f,%.6f,%.6f" % (a[0], a[1], b[0], b[1]))
EOF
)
ZMIN=${ZOOM%-*}
ZMAX=${ZOOM#*-}

# RSS (kB) of a list of pids, summed; CPU seconds (utime + stime, children waited for
# included) of a pid
rss_of() { for p in "$@"; do awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null; done |
           awk '{ s += $1 } END { print s + 0 }'; }
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15 + $16 + $17) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
descendants() {
    for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do echo "$c"; descendants "$c"; done
}
# tiles in an MBTiles file or a directory
count_tiles() {
    case $1 in
        *.mbtiles) sqlite3 "$1" 'SELECT count(*) FROM tiles' ;;
        *) find "$1" -name '*.png' | wc -l ;;
    esac
}
if [ "$CACHE" = mbtiles ]; then
    TS_TO=$OUT/tilesrv.mbtiles TS_TILES=$TS_TO TS_LAYOUT= MP_TO=$OUT/mapproxy.mbtiles
    MP_CACHE="      type: mbtiles
      filename: $MP_TO"
else
    TS_TO=$OUT/tilesrv TS_TILES=$OUT/tilesrv/WebMercatorQuad TS_LAYOUT="--layout tc"
    MP_TO=$OUT/mapproxy
    MP_CACHE="      type: file
      directory_layout: tc
      directory: $MP_TO"
fi

{
trap stop_mapserv EXIT      # this block is a subshell (of the pipe into tee)
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) commit $(git rev-parse --short HEAD) nproc=$(nproc)" \
     "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" \
     "loadavg=$(cut -d' ' -f1-3 /proc/loadavg) zoom=$ZOOM threads=$THREADS cache=$CACHE bbox=$BBOX"

# ---- tilesrv ----------------------------------------------------------------------------------
/usr/bin/time -f "%e %U %S %M" -o "$OUT/tilesrv.time" "$BIN" seed -q -c bench/cadastre.yaml --tileset bench --zoom "$ZOOM" --bbox "$BBOX" \
    --threads "$THREADS" --to "$TS_TO" $TS_LAYOUT --progress-file "$OUT/progress" \
    >"$OUT/tilesrv.summary" 2>"$OUT/tilesrv.log" &
tpid=$!
start=$(date +%s.%N)
sleep 0.2
pid=$(descendants "$tpid" | head -1)
total=$("$PY" - "$ZMIN" "$ZMAX" "$BBOX" <<'EOF'
import math, sys
z0, z1 = int(sys.argv[1]), int(sys.argv[2])
w, s, e, n = map(float, sys.argv[3].split(","))
def tx(lon, z): return (lon + 180) / 360 * 2 ** z
def ty(lat, z):
    r = math.radians(lat)
    return (1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * 2 ** z
t = 0
for z in range(z0, z1 + 1):
    x0, x1 = int(tx(w, z)), min(int(math.ceil(tx(e, z))) - 1, 2 ** z - 1)
    y0, y1 = int(ty(n, z)), min(int(math.ceil(ty(s, z))) - 1, 2 ** z - 1)
    t += (x1 - x0 + 1) * (y1 - y0 + 1)
print(t)
EOF
)
rss10= rss90= peak=0 last_rss=0 last_done=0
while kill -0 "$pid" 2>/dev/null; do
    rss=$(rss_of "$pid")
    [ "$rss" -gt "$peak" ] && peak=$rss
    done_=$(awk '$1 == "rendered" { print $2 }' "$OUT/progress" 2>/dev/null || true)
    done_=${done_:-0}
    [ -z "$rss10" ] && [ $((done_ * 10)) -ge "$total" ] && [ "$done_" -gt 0 ] && rss10=$rss
    [ -z "$rss90" ] && [ $((done_ * 10)) -ge $((total * 9)) ] && rss90=$rss
    [ "$rss" -gt 0 ] && last_rss=$rss last_done=$done_
    sleep 0.5
done
# The progress file is saved every 2 s: when the last tenth of the tiles took less, the file
# went from below 90 % to done at the end. The last sample of the running process stands in
# (rss90_at_pct says where it was taken).
rss90_at=90
if [ -z "$rss90" ] && [ "$last_rss" -gt 0 ]; then
    rss90=$last_rss
    rss90_at=$((last_done * 100 / total))
fi
wait "$tpid" || { echo "tilesrv seed failed:"; tail "$OUT/tilesrv.log"; exit 1; }
end=$(date +%s.%N)
tiles=$(count_tiles "$TS_TO")
echo "tilesrv $(cat "$OUT/tilesrv.summary")"
cpu=$(awk '{ print $2 + $3 }' "$OUT/tilesrv.time")
awk -v s="$start" -v e="$end" -v n="$tiles" -v c="$cpu" -v p="$peak" -v r10="${rss10:-0}" \
    -v r90="${rss90:-0}" -v at="$rss90_at" 'BEGIN {
    printf "tilesrv_seed tiles=%d wall_s=%.1f tiles_per_s=%.0f cpu_s=%.1f peak_rss_mb=%.0f", n, e - s, n / (e - s), c, p / 1024
    printf " rss10_mb=%.0f rss90_mb=%.0f", r10 / 1024, r90 / 1024
    if (at != 90) printf " rss90_at_pct=%d", at
    printf " rss_growth_pct=%+.1f\n", r10 && r90 ? 100 * (r90 - r10) / r10 : 0
}' | tee "$OUT/tilesrv.line"
du -sh "$TS_TO" | sed 's/^/tilesrv output /'

# ---- MapProxy from MapServer --------------------------------------------------------------------
if [ "${SKIP_MAPPROXY:-0}" != 1 ]; then
    mkdir -p "$OUT/mp"
    cat >"$OUT/mp/mapserver.conf" <<CONF
CONFIG
  ENV
    MS_MAPFILE "$ROOT/bench/peers/mapserver/cadastre.map"
  END
END
CONF
    cat >"$OUT/mp/lighttpd.conf" <<CONF
server.modules = ( "mod_fastcgi" )
server.document-root = "$OUT/mp"
server.bind = "127.0.0.1"
server.port = $PORT
server.errorlog = "$OUT/mp/error.log"
fastcgi.server = ( "/ms" => ((
    "bin-path" => "$(command -v mapserv)",
    "socket" => "$OUT/mp/mapserv.sock",
    "max-procs" => $THREADS,
    "check-local" => "disable",
    "bin-environment" => ( "MAPSERVER_CONFIG_FILE" => "$OUT/mp/mapserver.conf" ),
)))
CONF
    cat >"$OUT/mp/mapproxy.yaml" <<CONF
services:
  tms:
layers:
  - name: cadastre
    title: generated cadastre from mapserv
    sources: [cadastre_cache]
caches:
  cadastre_cache:
    grids: [webmercator]
    sources: [mapserv_wms]
    format: image/png
    cache:
$MP_CACHE
sources:
  mapserv_wms:
    type: wms
    supported_srs: ['EPSG:3857']
    wms_opts:
      version: '1.3.0'
    req:
      url: http://127.0.0.1:$PORT/ms
      layers: base
      transparent: false
grids:
  webmercator:
    base: GLOBAL_WEBMERCATOR
    origin: sw                 # rows from the bottom in the tc layout, as tilesrv's tc
globals:
  image:
    paletted: false
  cache:
    base_dir: $OUT/mp/data
    lock_dir: $OUT/mp/data/locks
CONF
    cat >"$OUT/mp/seed.yaml" <<CONF
seeds:
  cadastre:
    caches: [cadastre_cache]
    levels:
      from: $ZMIN
      to: $ZMAX
    coverages: [extent]
coverages:
  extent:
    bbox: [$BBOX]
    srs: 'EPSG:4326'
CONF
    lighttpd -D -f "$OUT/mp/lighttpd.conf" &
    LIGHTTPD_PID=$!
    for i in $(seq 1 50); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/ms?SERVICE=WMS&REQUEST=GetCapabilities" && break
        sleep 0.1
    done
    ms_pids=$(cat /proc/$LIGHTTPD_PID/task/*/children 2>/dev/null)
    start=$(date +%s.%N)
    /usr/bin/time -f "%e %U %S %M" -o "$OUT/mp/time" \
        mapproxy-seed -f "$OUT/mp/mapproxy.yaml" -s "$OUT/mp/seed.yaml" -c "$THREADS" --seed cadastre \
        >"$OUT/mp/seed.log" 2>&1 &
    tpid=$!
    peak=0
    while kill -0 "$tpid" 2>/dev/null; do
        rss=$(rss_of $(descendants "$tpid") $ms_pids)
        [ "$rss" -gt "$peak" ] && peak=$rss
        sleep 0.5
    done
    wait "$tpid" || { echo "mapproxy-seed failed:"; tail "$OUT/mp/seed.log"; exit 1; }
    end=$(date +%s.%N)
    mscpu=0
    for k in $ms_pids; do mscpu=$(echo "$mscpu $(cpu_of "$k")" | awk '{ print $1 + $2 }'); done
    tiles=$(count_tiles "$MP_TO")
    tail -2 "$OUT/mp/seed.log" | sed 's/^/mapproxy-seed: /'
    awk -v s="$start" -v e="$end" -v n="$tiles" -v c="$(awk '{ print $2 + $3 }' "$OUT/mp/time")" -v m="$mscpu" -v p="$peak" 'BEGIN {
        printf "mapproxy_seed tiles=%d wall_s=%.1f tiles_per_s=%.1f cpu_s=%.1f mapproxy_cpu_s=%.1f mapserv_cpu_s=%.1f peak_rss_mb=%.0f\n",
            n, e - s, n / (e - s), c + m, c, m, p / 1024
    }' | tee "$OUT/mapproxy.line"
    du -sh "$MP_TO" | sed 's/^/mapproxy output /'
    stop_mapserv

    # the same tiles? a sample of 200 tiles present in both, compared decoded
    "$PY" - "$TS_TILES" "$MP_TO" <<'EOF'
import io, os, random, sqlite3, sys
from PIL import Image, ImageChops, ImageStat
a, b = sys.argv[1], sys.argv[2]
def tiles(root):
    """{(z, x, tms_row): reader} of a tc directory or an MBTiles file"""
    out = {}
    if root.endswith(".mbtiles"):
        db = sqlite3.connect(root)
        for z, x, y in db.execute("SELECT zoom_level, tile_column, tile_row FROM tiles"):
            out[(z, x, y)] = (lambda z=z, x=x, y=y, db=db: db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, y)).fetchone()[0])
        return out
    for d, _, fs in os.walk(root):
        for f in fs:
            if f.endswith(".png"):
                p = os.path.join(d, f)
                n = [int(v) for v in os.path.relpath(p, root)[:-4].split(os.sep)]
                z, x, y = n[0], n[1] * 10**6 + n[2] * 1000 + n[3], n[4] * 10**6 + n[5] * 1000 + n[6]
                out[(z, x, y)] = (lambda p=p: open(p, "rb").read())
    return out
ta, tb = tiles(a), tiles(b)
both = sorted(set(ta) & set(tb))
print("tiles only in tilesrv: %d, only in MapProxy: %d, in both: %d" % (len(set(ta) - set(tb)), len(set(tb) - set(ta)), len(both)))
random.seed(4711)
sample = random.sample(both, min(200, len(both)))
diffs = []
for k in sample:
    x = Image.open(io.BytesIO(ta[k]())).convert("RGB")
    y = Image.open(io.BytesIO(tb[k]())).convert("RGB")
    diffs.append(sum(ImageStat.Stat(ImageChops.difference(x, y)).mean) / 3)
if diffs:
    print("decoded |difference| of %d sampled tiles: mean %.2f, worst %.2f (0-255 per channel)"
          % (len(diffs), sum(diffs) / len(diffs), max(diffs)))
EOF
    awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[FILENAME, kv[1]] = kv[2] } }
         END {
           t = "'"$OUT"'/tilesrv.line"; m = "'"$OUT"'/mapproxy.line"
           printf "ratio MapProxy/tilesrv for the same seed (zooms, bbox): wall time %.1fx, CPU time %.1fx;", v[m, "wall_s"] / v[t, "wall_s"], v[m, "cpu_s"] / v[t, "cpu_s"]
           printf " tiles written per s %.1fx (MapProxy also writes the tiles of its metatiles outside the bbox);", v[t, "tiles_per_s"] / v[m, "tiles_per_s"]
           printf " peak RSS tilesrv/MapProxy %.2fx\n", v[t, "peak_rss_mb"] / v[m, "peak_rss_mb"]
         }' "$OUT/tilesrv.line" "$OUT/mapproxy.line"
fi
echo "# end loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
} 2>&1 | tee "$RES/run.log"
grep -E '^(tilesrv_seed|mapproxy_seed|ratio|tiles only|decoded)' "$RES/run.log" > "$RES/summary.txt" || true
