#!/bin/sh
# bench/soak.sh — soak test (issue 8): `tilesrv serve` on the bundled demo under a steady
# mix for DURATION seconds (default 600), one wrk process per component:
#   cached    a fixed list of cadastre tiles z14-16 over the demo area (rendered in the
#             warm-up, then answered from memory)
#   uncached  random cadastre tiles z17-20 (UNCACHED_ZOOMS; 1x and @2x) over the demo area:
#             most miss. z17-18 alone are ~100 metatiles there, all cached within a minute;
#             with z19-20 the set (~3,000 metatiles, several hundred MB of PNG) is far
#             larger than the memory cache (CACHE_MB, default 128: small enough that the
#             cache is full and evicting after the warm-up, large enough that the cached
#             list above is never evicted by the misses)
#   wms       WMS 1.3.0 GetMap 512x512 PNG of random boxes over the demo area
#   sensors   the live side: /sensors/{demo_parking,demo_air}.geojson, /events and the
#             parking overlay's tiles (z16-18), which the demo feeds invalidate as they
#             change their sensors (the feeds run inside the server all along)
# After a warm-up (WARMUP s, default 60, the same mix, and on in 15 s rounds until the memory
# cache is 95 % full, then in 60 s rounds until the peak RSS stops growing, at most
# WARMUP_MAX s, default 900) the server's RSS (median of VmRSS over a minute; VmRSS of
# /proc/PID/status) is the baseline; it is sampled every 10 s into rss.csv. At the end:
# HTTP errors (non-2xx/3xx) and socket errors from every wrk, whether the server is alive
# and answers /health, and the verdict
#   soak: ... errors=0 crashes=0 rss_growth_pct=... verdict=PASS|FAIL
# PASS = no error, the server alive, RSS at the end within 10 % of RSS after the warm-up.
#
#   bench/soak.sh                          # build build-release (Release) and run 10 min
#   DURATION=60 bench/soak.sh              # a short run
#   BINARY=/tmp/b-ops/tilesrv DURATION=60 bench/soak.sh   # an existing Release binary
#   SKIP_DEPS=1 BUILD=/tmp/build JOBS=1 bench/soak.sh
#
# 32 connections in all (CONNS_CACHED 16, CONNS_UNCACHED 8, CONNS_WMS 4, CONNS_SENSORS 4),
# under the server's default limit of 64 per client address. Results in
# bench/results/soak/ (wrk output per component, rss.csv, the server log, verdict.txt).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DURATION=${DURATION:-600}
WARMUP=${WARMUP:-60}
CACHE_MB=${CACHE_MB:-128}
UNCACHED_ZOOMS=${UNCACHED_ZOOMS:-17 18 19 20}
CONNS_CACHED=${CONNS_CACHED:-16}
CONNS_UNCACHED=${CONNS_UNCACHED:-8}
CONNS_WMS=${CONNS_WMS:-4}
CONNS_SENSORS=${CONNS_SENSORS:-4}
if [ -z "${BINARY:-}" ]; then
    [ -n "${SKIP_DEPS:-}" ] || scripts/deps.sh
    BUILD=${BUILD:-build-release}
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTS_TESTS=OFF -DTS_BENCH=OFF >/dev/null
    cmake --build "$BUILD" -j"${JOBS:-$(nproc)}" --target tilesrv >/dev/null
    BINARY="$BUILD/tilesrv"
fi
command -v wrk >/dev/null || { echo "soak.sh: wrk is missing (apt-get install wrk)" >&2; exit 2; }
RES=bench/results/soak
rm -rf "$RES"
mkdir -p "$RES"
TMP=$(mktemp -d /tmp/tilesrv_soak_XXXXXX)
PID=""
WRKS=""
cleanup() {
    for p in $WRKS; do kill "$p" 2>/dev/null || true; done
    [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# the demo configuration with absolute paths and a small memory cache
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DEMO="$ROOT/data/demo"
sed -e "s|^  cache_mb: .*|  cache_mb: $CACHE_MB|" \
    -e "s|path: duesseldorf_demo.gpkg|path: $DEMO/duesseldorf_demo.gpkg|g" \
    -e "s|air_csv: air_uba_duesseldorf.csv|air_csv: $DEMO/air_uba_duesseldorf.csv|" \
    -e "s|style: \.\./\.\./styles/|style: $ROOT/styles/|" \
    "$DEMO/tilesrv.yaml" > "$TMP/soak.yaml"
grep -q "cache_mb: $CACHE_MB" "$TMP/soak.yaml" || { echo "soak.sh: cache_mb not set" >&2; exit 2; }
"$BINARY" serve -c "$TMP/soak.yaml" --listen "127.0.0.1:$PORT" > "$RES/server.log" 2>&1 &
PID=$!
for i in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
    kill -0 "$PID" 2>/dev/null || { cat "$RES/server.log"; exit 1; }
    sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { cat "$RES/server.log"; exit 1; }

# request paths over the demo area (the cadastre's TileJSON bounds)
curl -sf "http://127.0.0.1:$PORT/tiles/cadastre.json" > "$TMP/tilejson.json"
python3 - "$TMP" "$UNCACHED_ZOOMS" <<'EOF'
import json, math, random, sys
tmp = sys.argv[1]
uzooms = [int(z) for z in sys.argv[2].split()]
w, s, e, n = json.load(open(tmp + "/tilejson.json"))["bounds"]
rnd = random.Random(8)

def tile(lon, lat, z):
    k = 2 ** z
    x = int((lon + 180) / 360 * k)
    y = int((1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * k)
    return x, y

def span(z):
    x0, y0 = tile(w, n, z)
    x1, y1 = tile(e, s, z)
    return x0, y0, x1, y1

def write(name, paths):
    with open("%s/%s.txt" % (tmp, name), "w") as f:
        f.write("\n".join(paths) + "\n")

# cached: the centre of the area at z14-16 (a fixed list, at most ~150 tiles)
cached = []
cx, cy = (w + e) / 2, (s + n) / 2
for z, r in ((14, 2), (15, 3), (16, 4)):
    x, y = tile(cx, cy, z)
    cached += ["/tiles/cadastre/%d/%d/%d.png" % (z, x + i, y + j)
               for i in range(-r, r + 1) for j in range(-r, r + 1)]
write("cached", cached)
# uncached: random tiles of UNCACHED_ZOOMS, 1x and @2x
unc = []
for _ in range(200000):
    z = rnd.choice(uzooms)
    x0, y0, x1, y1 = span(z)
    unc.append("/tiles/cadastre/%d/%d/%d%s.png" % (z, rnd.randint(x0, x1), rnd.randint(y0, y1),
                                                   rnd.choice(("", "@2x"))))
write("uncached", unc)
# WMS GetMap 512x512 in EPSG:3857, boxes of 300 m to 2 km inside the area
def merc(lon, lat):
    return lon * 20037508.342789244 / 180, math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * 6378137
mx0, my0 = merc(w, s)
mx1, my1 = merc(e, n)
wms = []
for _ in range(20000):
    size = rnd.uniform(300, 2000)
    x = rnd.uniform(mx0, mx1 - size)
    y = rnd.uniform(my0, my1 - size)
    wms.append("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=cadastre&STYLES="
               "&CRS=EPSG:3857&BBOX=%.1f,%.1f,%.1f,%.1f&WIDTH=512&HEIGHT=512&FORMAT=image/png"
               % (x, y, x + size, y + size))
write("wms", wms)
# sensors: the feeds' GeoJSON, /events, the live parking overlay's tiles
sens = []
for _ in range(5000):
    k = rnd.random()
    if k < 0.3:
        sens.append("/sensors/demo_parking.geojson")
    elif k < 0.4:
        sens.append("/sensors/demo_air.geojson")
    elif k < 0.5:
        sens.append("/events")
    else:
        z = rnd.choice((16, 17, 18))
        x0, y0, x1, y1 = span(z)
        sens.append("/tiles/parking/%d/%d/%d.png" % (z, rnd.randint(x0, x1), rnd.randint(y0, y1)))
write("sensors", sens)
EOF

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$PID/status" 2>/dev/null || echo 0; }
LUA="$ROOT/bench/peers/bench/wrk_paths.lua"
# run_mix SECONDS TAG: the four wrk processes at once, in the background (pids in WRKS)
run_mix() {
    WRKS=""
    for c in cached:$CONNS_CACHED uncached:$CONNS_UNCACHED wms:$CONNS_WMS sensors:$CONNS_SENSORS; do
        name=${c%%:*}
        conns=${c#*:}
        WRK_PATHS="$TMP/$name.txt" wrk -t1 -c"$conns" -d"${1}s" --timeout 30s -s "$LUA" \
            "http://127.0.0.1:$PORT" > "$RES/$2_$name.txt" 2>&1 &
        WRKS="$WRKS $!"
    done
}

# warm-up: the cached list rendered once, then the whole mix
while read -r p; do curl -sf -o /dev/null "http://127.0.0.1:$PORT$p" || true; done < "$TMP/cached.txt"
echo "soak: warm-up ${WARMUP}s on port $PORT (server pid $PID)"
run_mix "$WARMUP" warmup
for p in $WRKS; do wait "$p" || true; done
WRKS=""
# ... and on until the memory cache is full (95 %, from /metrics): from then on the misses
# evict, and the cache's size no longer grows RSS (at most WARMUP_MAX s in all)
cache_bytes() {
    curl -sf -m 10 "http://127.0.0.1:$PORT/metrics" | awk '/^tilesrv_cache_bytes / {print $2}'
}
W=$WARMUP
while [ "$(cache_bytes)" -lt $(( CACHE_MB * 1048576 / 100 * 95 )) ] && [ "$W" -lt "${WARMUP_MAX:-900}" ]; do
    run_mix 15 warmup
    for p in $WRKS; do wait "$p" || true; done
    WRKS=""
    W=$((W + 15))
done
# ... and on in 60 s rounds until the peak RSS (VmHWM) grows by less than 2 % in a round:
# the other bounded caches (label blocks, glyph outlines, shaped runs per render thread)
# fill more slowly than the tile cache. RSS0 is the median of VmRSS sampled every 5 s in
# that last round (a single sample lands anywhere in the ±5 % the transient buffers of
# renders in flight make)
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$PID/status" 2>/dev/null || echo 0; }
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
while :; do
    h0=$(hwm_kb)
    run_mix 60 warmup
    : > "$TMP/rss0"
    for i in $(seq 1 12); do sleep 5; rss_kb >> "$TMP/rss0"; done
    for p in $WRKS; do wait "$p" || true; done
    WRKS=""
    W=$((W + 60))
    h1=$(hwm_kb)
    [ "$(awk -v a="$h0" -v b="$h1" 'BEGIN {print (b <= a * 1.02) ? 1 : 0}')" = 1 ] && break
    [ "$W" -lt "${WARMUP_MAX:-900}" ] || break
done
echo "soak: warm-up took ${W}s, memory cache $(cache_bytes) bytes, peak RSS $(hwm_kb) kB"
RSS0=$(median < "$TMP/rss0")
echo "t_s,rss_kb" > "$RES/rss.csv"
echo "0,$RSS0" >> "$RES/rss.csv"
echo "soak: ${DURATION}s, RSS after warm-up ${RSS0} kB"
T0=$(date +%s)
run_mix "$DURATION" soak
CRASH=0
while :; do
    sleep 10
    t=$(( $(date +%s) - T0 ))
    if ! kill -0 "$PID" 2>/dev/null; then CRASH=1; break; fi
    echo "$t,$(rss_kb)" >> "$RES/rss.csv"
    running=0
    for p in $WRKS; do kill -0 "$p" 2>/dev/null && running=1; done
    [ "$running" = 1 ] || break
    [ "$t" -lt $(( DURATION + 60 )) ] || break
done
for p in $WRKS; do wait "$p" || true; done
WRKS=""
if kill -0 "$PID" 2>/dev/null && curl -sf -m 10 "http://127.0.0.1:$PORT/health" >/dev/null; then
    # the median of the samples of the run's last 60 s, as RSS0
    RSS1=$(awk -F, -v d="$DURATION" 'NR > 1 && $1 > d - 60 {print $2}' "$RES/rss.csv" | median)
    [ -n "$RSS1" ] && [ "$RSS1" != 0 ] || RSS1=$(rss_kb)
else
    CRASH=1
    RSS1=0
fi
curl -sf -m 10 "http://127.0.0.1:$PORT/metrics" > "$RES/metrics.txt" 2>/dev/null || true

# errors: wrk's "Non-2xx or 3xx responses" and "Socket errors" lines of each component
REQ=0 ERR=0
SUMMARY=""
for name in cached uncached wms sensors; do
    f="$RES/soak_$name.txt"
    r=$(awk '/requests in/ {print $1}' "$f")
    h=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$f")
    s=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$f")
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
    r=${r:-0} h=${h:-0} s=${s:-0}
    [ -n "$rps" ] || { echo "soak: wrk ($name) gave no result:"; cat "$f"; ERR=$((ERR + 1)); }
    REQ=$((REQ + r))
    ERR=$((ERR + h + s))
    SUMMARY="$SUMMARY $name=${rps:-0}/s(http_err=$h,sock_err=$s)"
done
GROWTH=$(awk -v a="$RSS0" -v b="$RSS1" 'BEGIN { if (a > 0) printf "%.1f", (b - a) * 100 / a; else print "nan" }')
MAX=$(awk -F, 'NR > 1 && $2 > m {m = $2} END {print m + 0}' "$RES/rss.csv")
OK=$(awk -v a="$RSS0" -v b="$RSS1" 'BEGIN { print (a > 0 && b > 0 && b <= a * 1.10 && b >= a * 0.90) ? 1 : 0 }')
VERDICT=FAIL
[ "$ERR" = 0 ] && [ "$CRASH" = 0 ] && [ "$OK" = 1 ] && VERDICT=PASS
{
    echo "soak: rates$SUMMARY"
    echo "soak: duration_s=$DURATION requests=$REQ errors=$ERR crashes=$CRASH" \
         "rss_warm_kb=$RSS0 rss_end_kb=$RSS1 rss_max_kb=$MAX rss_growth_pct=$GROWTH verdict=$VERDICT"
} | tee "$RES/verdict.txt"
[ "$VERDICT" = PASS ]
