#!/bin/sh
# bench/nrw/run.sh — NRW scale: the generated cadastre at --scale 62 (about 9 million parcels,
# a 157 x 157 km square around Düsseldorf with a satellite city core every 20 km), loaded by
# `tilesrv serve` and served. Prints the load time (start to /health answering), RSS after the
# load, the tiles rendered per zoom (cold: each request renders its 8 x 8 metatile, nothing is
# cached before) with their latency, and the peak RSS. Lines also go to bench/nrw/results/.
#
#   bench/nrw/run.sh                 # generates bench/data/cadastre_s62.gpkg first (~25 min)
#   SCALE=8 bench/nrw/run.sh         # 1.2 million parcels, for a quicker look
#   TILES=40 bench/nrw/run.sh        # random tiles per zoom (default 25)
set -eu
cd "$(dirname "$0")/../.."
SCALE=${SCALE:-62}
TILES=${TILES:-25}
RES=bench/nrw/results
mkdir -p "$RES"
bench/make_data.sh --scale "$SCALE"
GPKG=$(pwd)/bench/data/cadastre_s$SCALE.gpkg
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DTS_TESTS=OFF -DTS_BENCH=ON >/dev/null
cmake --build build-release -j"$(nproc)" --target tilesrv >/dev/null
BIN=build-release/tilesrv
TMP=$(mktemp -d /tmp/tilesrv-nrw.XXXXXX)
# the server runs inside the { } | tee subshell below, which stops it; on an error or ^C
# whatever still runs from this config is stopped here
trap 'pkill -f "serve -c $TMP/nrw.yaml" 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM
# the bench map (bench/cadastre.yaml) over the big file
sed -e "s|path: data/cadastre.gpkg|path: $GPKG|" -e "s|\.\./styles/|$(pwd)/styles/|" \
    bench/cadastre.yaml > "$TMP/nrw.yaml"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) commit $(git rev-parse --short HEAD) nproc=$(nproc)" \
     "mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)" \
     "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "# data: $(ls -l "$GPKG" | awk '{ printf "%.0f MB", $5 / 1e6 }') $GPKG"
start=$(date +%s.%N)
"$BIN" serve -c "$TMP/nrw.yaml" --listen "127.0.0.1:$PORT" > "$TMP/server.log" 2>&1 &
PID=$!
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/health"; do
    kill -0 "$PID" 2>/dev/null || { echo "server died:"; tail "$TMP/server.log"; exit 1; }
    sleep 0.5
done
end=$(date +%s.%N)
rss=$(awk '/^VmRSS/ { print $2 }' /proc/$PID/status)
hwm=$(awk '/^VmHWM/ { print $2 }' /proc/$PID/status)
grep -E "loaded|features|skipped|repaired" "$TMP/server.log" | head -20 | sed 's/^/server: /'
awk -v s="$start" -v e="$end" -v r="$rss" -v h="$hwm" 'BEGIN {
    printf "load_s=%.1f rss_after_load_mb=%.0f peak_rss_during_load_mb=%.0f\n", e - s, r / 1024, h / 1024 }'
/usr/bin/python3 - "$PORT" "$TILES" <<'PY'
import io, math, random, sys, time, urllib.request
from PIL import Image
port, n = int(sys.argv[1]), int(sys.argv[2])
# the square of scale 62 in lon/lat (EPSG:25832 266 000..424 000, 5 601 000..5 759 000)
w, s, e, nn = 5.55, 50.53, 7.85, 51.96
def tile(lon, lat, z):
    r = math.radians(lat)
    return (int((lon + 180) / 360 * 2 ** z),
            int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * 2 ** z))
rnd = random.Random(4711)
for z in (8, 10, 12, 14, 16, 18):
    ms, blank = [], 0
    for i in range(n):
        x, y = tile(rnd.uniform(w, e), rnd.uniform(s, nn), z)
        t = time.perf_counter()
        body = urllib.request.urlopen("http://127.0.0.1:%d/tiles/bench/%d/%d/%d.png" % (port, z, x, y)).read()
        ms.append((time.perf_counter() - t) * 1000)
        im = Image.open(io.BytesIO(body)).convert("RGB")
        blank += len(im.getcolors(4) or []) == 1
    ms.sort()
    print("z%d tiles=%d blank=%d median_ms=%.0f max_ms=%.0f" % (z, n, blank, ms[len(ms) // 2], ms[-1]))
PY
echo "peak_rss_mb=$(awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' /proc/$PID/status)" \
     "rss_end_mb=$(awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' /proc/$PID/status)"
curl -s "http://127.0.0.1:$PORT/tiles/bench/12/2124/1367.png" -o "$RES/z12_2124_1367.png"
curl -s "http://127.0.0.1:$PORT/tiles/bench/16/34001/21873.png" -o "$RES/z16_34001_21873.png"
kill "$PID"; wait "$PID" 2>/dev/null || true
echo "# end loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
} 2>&1 | tee "$RES/run.log"
