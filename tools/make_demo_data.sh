#!/bin/sh
# Rebuild the shipped demo GeoPackage data/demo/duesseldorf_demo.gpkg.
#
#   tools/make_demo_data.sh [OUT.gpkg]
#
# Layers (all EPSG:25832, R-tree spatial index on every layer):
#   parcels, buildings, streets, parking_bays, air_stations
#       SYNTHETIC: tools/gen_cadastre.py --seed 4711 --gfk, clipped to the
#       districts below (same features as the full benchmark dataset there)
#   districts     REAL: all 50 Duesseldorf Stadtteile from OpenStreetMap,
#                 (c) OpenStreetMap contributors, ODbL 1.0; in_clip=1 marks DEMO_DISTRICTS
#   parking_real  REAL: 10 multi-storey car parks (Parkhaeuser) from Open Data
#                 Duesseldorf, Datenlizenz Deutschland - Zero - 2.0
#
# Input files come from $DATA_SRC (default /work/shared/data), see data/README.md.
# The output is byte-identical on every run (OGR_CURRENT_DATE is fixed), given
# the same GDAL/SQLite versions; the script prints its sha256 and a content digest.
# Python: $PY, else the first of /usr/bin/python3, python3 that imports osgeo.
set -eu

cd "$(dirname "$0")/.."
OUT=${1:-data/demo/duesseldorf_demo.gpkg}
DATA_SRC=${DATA_SRC:-/work/shared/data}
DISTRICTS_GPKG=$DATA_SRC/duesseldorf/duesseldorf_stadtteile_osm.gpkg
PARKING_GPKG=$DATA_SRC/duesseldorf/duesseldorf_parking_opendata.gpkg
# Stadtbezirk 1 (all six Stadtteile) plus Unterbilk and Friedrichstadt.
# Altstadt covers the city-centre point lon 6.7735 / lat 51.2277 (tile 16/34001/21873).
DEMO_DISTRICTS="Altstadt,Carlstadt,Stadtmitte,Pempelfort,Derendorf,Golzheim,Unterbilk,Friedrichstadt"
DATE=2024-06-11T00:00:00.000Z

if [ -z "${PY:-}" ]; then
    for c in /usr/bin/python3 python3; do
        if "$c" -c 'from osgeo import ogr' 2>/dev/null; then PY=$c; break; fi
    done
fi
[ -n "${PY:-}" ] || { echo "no python3 with osgeo (python3-gdal) found; set PY=" >&2; exit 1; }
for f in "$DISTRICTS_GPKG" "$PARKING_GPKG"; do
    [ -r "$f" ] || { echo "missing input $f (set DATA_SRC=)" >&2; exit 1; }
done

mkdir -p "$(dirname "$OUT")"
TMP=$OUT.tmp.gpkg
rm -f "$TMP"

"$PY" tools/gen_cadastre.py --seed 4711 --gfk \
    --clip-districts "$DISTRICTS_GPKG:stadtteile" --districts "$DEMO_DISTRICTS" --out "$TMP"

# Real car parks (only the Parkhaeuser layer: its licence dl-de/zero-2.0 is
# verified; the P+R and disabled-parking layers of the same file are not used).
ogr2ogr --config OGR_CURRENT_DATE "$DATE" -q -update "$TMP" "$PARKING_GPKG" \
    -nln parking_real -nlt POINT -s_srs EPSG:4326 -t_srs EPSG:25832 \
    -lco GEOMETRY_NAME=geom -lco FID=fid -lco SPATIAL_INDEX=YES \
    -lco "DESCRIPTION=REAL car parks: Landeshauptstadt Duesseldorf, Open Data, dl-de/zero-2.0" \
    -sql "SELECT CAST(entry_id AS INTEGER) AS entry_id, name, adresse_zufahrt AS address, ort,
                 'Parkhaus' AS kind,
                 'Landeshauptstadt Duesseldorf, Open Data (opendata.duesseldorf.de), dl-de/zero-2.0' AS source,
                 geom
          FROM parkhaeuser_garages ORDER BY CAST(entry_id AS INTEGER)"

ogrinfo --config OGR_CURRENT_DATE "$DATE" -q "$TMP" -sql "VACUUM" >/dev/null
mv "$TMP" "$OUT"

"$PY" tools/gen_cadastre.py --digest "$OUT"
ls -l "$OUT"
sha256sum "$OUT"
