#!/bin/sh
# bench/http/run_nginx.sh — cached tile throughput (issue 8): `tilesrv serve` answering from
# its tile cache beside nginx serving the same tiles as files from disk, with the same wrk
# command in the same run, in ROUNDS interleaved rounds (default 3). Prints requests/s,
# latency percentiles and the ratio tilesrv / nginx; writes bench/results/http/.
#
#   bench/http/run_nginx.sh
#   ROUNDS=5 DURATION=20 CONNS=64 bench/http/run_nginx.sh
#   SKIP_DEPS=1 BUILD=/tmp/build JOBS=1 bench/http/run_nginx.sh
#
# The tiles are the 300 of bench/tiles.txt over the generated cadastre (bench/cadastre.yaml):
# tilesrv renders each once (the warm-up, which also writes them under nginx's root), then
# both serve the 300 paths cycled by bench/peers/bench/wrk_paths.lua, each connection at
# its own offset. Same resources: tilesrv with 2 HTTP threads (server.http_threads) and nginx
# with 2 worker processes, sendfile on, access logs off on both sides, keep-alive.
set -eu
cd "$(dirname "$0")/../.."
[ -n "${SKIP_DEPS:-}" ] || scripts/deps.sh --bench
bench/make_data.sh
BUILD=${BUILD:-build-release}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DTS_TESTS=OFF -DTS_BENCH=OFF >/dev/null
cmake --build "$BUILD" -j"${JOBS:-$(nproc)}" --target tilesrv >/dev/null
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
RES=bench/results/http
rm -rf "$RES"
mkdir -p "$RES"
TMP=$(mktemp -d /tmp/bench_nginx_XXXXXX)
chmod 755 "$TMP"
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TS_PORT=$(free_port)
NG_PORT=$(free_port)
TS_PID="" NG_PID=""
cleanup() {
    [ -n "$TS_PID" ] && kill "$TS_PID" 2>/dev/null || true
    [ -n "$NG_PID" ] && kill "$NG_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# tilesrv: the bench map with 2 HTTP threads and a cache big enough for the 300 tiles
sed -e 's|^server:|server:\n  http_threads: 2|' \
    -e "s|path: data/cadastre.gpkg|path: $(pwd)/bench/data/cadastre.gpkg|" \
    -e "s|style: \.\./styles/|style: $(pwd)/styles/|" bench/cadastre.yaml > "$TMP/tilesrv.yaml"
"$BUILD"/tilesrv serve -c "$TMP/tilesrv.yaml" --listen "127.0.0.1:$TS_PORT" -q > "$TMP/tilesrv.log" 2>&1 &
TS_PID=$!
for i in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$TS_PORT/health" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$TS_PORT/health" >/dev/null || { cat "$TMP/tilesrv.log"; exit 1; }

# warm-up: every tile rendered once by tilesrv and written under nginx's root
mkdir -p "$TMP/www"
: > "$TMP/paths_tilesrv.txt"
: > "$TMP/paths_nginx.txt"
grep -E '^[0-9]+/' bench/tiles.txt | while IFS=/ read -r z x y; do
    mkdir -p "$TMP/www/$z/$x"
    curl -sf -o "$TMP/www/$z/$x/$y.png" "http://127.0.0.1:$TS_PORT/tiles/bench/$z/$x/$y.png"
    echo "/tiles/bench/$z/$x/$y.png" >> "$TMP/paths_tilesrv.txt"
    echo "/$z/$x/$y.png" >> "$TMP/paths_nginx.txt"
done
chmod -R a+rX "$TMP/www"
echo "# warm: $(wc -l < "$TMP/paths_nginx.txt") tiles, $(du -sk "$TMP/www" | cut -f1) KiB on disk"

cat > "$TMP/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $TMP/nginx.pid;
error_log $TMP/nginx_error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types { image/png png; }
    server {
        listen 127.0.0.1:$NG_PORT;
        root $TMP/www;
        open_file_cache max=1000;
    }
}
EOF
nginx -c "$TMP/nginx.conf" -p "$TMP" &
NG_PID=$!
for i in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$NG_PORT$(head -1 "$TMP/paths_nginx.txt")" && break
    sleep 0.1
done

WRK="wrk -t2 -c$CONNS -d${DURATION}s --latency -s bench/peers/bench/wrk_paths.lua"
{
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown) nproc=$(nproc)" \
     "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" \
     "nginx=$(nginx -v 2>&1 | cut -d/ -f2) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $WRK http://127.0.0.1:PORT (WRK_PATHS: the 300 tile paths)"
for r in $(seq 1 "$ROUNDS"); do
    echo "# round $r"
    WRK_PATHS="$TMP/paths_tilesrv.txt" $WRK "http://127.0.0.1:$TS_PORT" | grep wrk_summary |
        sed 's/^wrk_summary/tilesrv/' | tee -a "$RES/tilesrv.lines"
    WRK_PATHS="$TMP/paths_nginx.txt" $WRK "http://127.0.0.1:$NG_PORT" | grep wrk_summary |
        sed 's/^wrk_summary/nginx/' | tee -a "$RES/nginx.lines"
done
echo "# end loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$RES/run.log"
renders=$(curl -s "http://127.0.0.1:$TS_PORT/metrics" | grep -E '^tilesrv_(metatiles_rendered|renders)_total' | head -3 | tr '\n' ' ')
echo "# tilesrv metrics after the run: $renders" | tee -a "$RES/run.log"

/usr/bin/python3 - "$RES" <<'EOF' | tee "$RES/summary.txt"
import os, statistics, sys
res = sys.argv[1]
def runs(n):
    out = []
    for line in open(os.path.join(res, n + ".lines")):
        p = line.split()
        out.append({k: float(v) for k, v in (q.split("=", 1) for q in p[1:])})
    return out
t, n = runs("tilesrv"), runs("nginx")
m = lambda rs, k: statistics.median(r[k] for r in rs)
print("| server | requests/s | p50 ms | p99 ms | errors | rounds |")
print("| --- | --- | --- | --- | --- | --- |")
for name, rs in (("tilesrv (tile cache)", t), ("nginx (files, sendfile)", n)):
    print("| %s | %.0f | %.2f | %.2f | %d | %d |" % (name, m(rs, "rps"), m(rs, "p50_ms"),
                                                   m(rs, "p99_ms"), sum(r["errors"] for r in rs), len(rs)))
print()
print("tilesrv / nginx cached tiles = %.2fx requests/s (target >= 1x)" % (m(t, "rps") / m(n, "rps")))
EOF
