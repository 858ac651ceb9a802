#!/bin/sh
# Generate the benchmark dataset with tools/gen_cadastre.py (seed 4711).
#
#   bench/make_data.sh [--scale S] [--out FILE.gpkg] [--force]
#
# S=1 (default) writes bench/data/cadastre.gpkg: the same dataset the peers
# (MapServer, Mapnik, MapProxy) render in /work/shared/peers. Other scales write
# bench/data/cadastre_s<S>.gpkg. bench/data/ is git-ignored.
#
# Work is skipped when the file exists and matches:
#   S=1: size 69021696 bytes and sha256 ca9916eb... (GDAL 3.6.2 / Debian 12), or,
#        on other GDAL/SQLite versions, the content digest of all layers;
#   other S: the sha256 recorded in <file>.sha256 by an earlier run of this script.
# After generating S=1 the content digest is checked against the peers' dataset.
# Python: $PY, else the first of /usr/bin/python3, python3 that imports osgeo.
set -eu

cd "$(dirname "$0")/.."
SCALE=1
OUT=
FORCE=0
while [ $# -gt 0 ]; do
    case $1 in
        --scale) SCALE=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --force) FORCE=1; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

# the peers' S=1 file: bytes (this GDAL) and layer contents (any GDAL)
S1_SIZE=69021696
S1_SHA=ca9916ebf0f0a9b3cc3bcc6dfd5c91522e459f9b2605f1ebb4cebfc8be754453
S1_DIGEST=76032e5809c04794d8bed70f96bc4d6052378d5f149fe76cbfbf65ccf69a03a0

is_one=$(awk -v s="$SCALE" 'BEGIN { print (s + 0 == 1) ? 1 : 0 }')
if [ -z "$OUT" ]; then
    if [ "$is_one" = 1 ]; then OUT=bench/data/cadastre.gpkg; else OUT=bench/data/cadastre_s$SCALE.gpkg; fi
fi

if [ -z "${PY:-}" ]; then
    for c in /usr/bin/python3 python3; do
        if "$c" -c 'from osgeo import ogr' 2>/dev/null; then PY=$c; break; fi
    done
fi
[ -n "${PY:-}" ] || { echo "no python3 with osgeo (python3-gdal) found; set PY=" >&2; exit 1; }

content_digest() {
    "$PY" tools/gen_cadastre.py --digest "$1" | awk '$1 == "ALL" { print $2 }'
}

if [ "$FORCE" = 0 ] && [ -f "$OUT" ]; then
    if [ "$is_one" = 1 ]; then
        if [ "$(stat -c %s "$OUT")" = "$S1_SIZE" ] && [ "$(sha256sum < "$OUT" | cut -d' ' -f1)" = "$S1_SHA" ]; then
            echo "$OUT is up to date (sha256 $S1_SHA)"; exit 0
        fi
        if [ "$(content_digest "$OUT")" = "$S1_DIGEST" ]; then
            echo "$OUT is up to date (content digest $S1_DIGEST; file bytes differ, e.g. other GDAL/SQLite)"; exit 0
        fi
    elif [ -f "$OUT.sha256" ] && [ "$(cat "$OUT.sha256")" = "$(sha256sum < "$OUT" | cut -d' ' -f1) scale=$SCALE seed=4711" ]; then
        echo "$OUT is up to date ($(cat "$OUT.sha256"))"; exit 0
    fi
fi

mkdir -p "$(dirname "$OUT")"
rm -f "$OUT.sha256"
"$PY" tools/gen_cadastre.py --seed 4711 --scale "$SCALE" --out "$OUT"
if [ "$is_one" = 1 ]; then
    got=$(content_digest "$OUT")
    if [ "$got" != "$S1_DIGEST" ]; then
        echo "ERROR: $OUT content digest $got differs from the peers' dataset $S1_DIGEST" >&2
        exit 1
    fi
    echo "content digest matches the peers' dataset ($got)"
else
    echo "$(sha256sum < "$OUT" | cut -d' ' -f1) scale=$SCALE seed=4711" > "$OUT.sha256"
fi
sha256sum "$OUT"
