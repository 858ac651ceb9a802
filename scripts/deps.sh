#!/bin/sh
# Install the Debian 12 packages tilesrv needs, when missing.
#   scripts/deps.sh            build + run
#   scripts/deps.sh --test     also what the test suite needs
#   scripts/deps.sh --bench    also the peers for the benchmark (MapServer, Mapnik, MapProxy)
set -eu
pkgs="build-essential cmake pkg-config libgdal-dev gdal-bin libproj-dev proj-bin libgeos-dev
      libpng-dev libdeflate-dev libjpeg62-turbo-dev zlib1g-dev libmicrohttpd-dev libyaml-dev libxml2-dev
      libfreetype-dev libharfbuzz-dev libsqlite3-dev sqlite3 fonts-dejavu-core curl
      libcurl4-openssl-dev libmosquitto-dev libjansson-dev libhiredis-dev libpq-dev"
for a in "$@"; do
  case "$a" in
    --test) pkgs="$pkgs libcairo2-dev clang libclang-rt-14-dev python3 python3-gdal python3-owslib
              python3-qgis qgis-providers mosquitto mosquitto-clients libxml2-utils chromium
              redis-server postgresql-15 postgresql-15-postgis-3 nginx-light" ;;
    --bench) pkgs="$pkgs python3-gdal python3-mapnik python3-mapscript python3-pil hyperfine
              mapproxy mapserver-bin lighttpd
              nginx-light wrk" ;;
    *) echo "deps.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
# Node.js with npm: the web map is bundled from npm packages (package.json: OpenLayers,
# esbuild) and the tests use some. Debian's, unless a node with npm is already installed
# (e.g. from NodeSource, whose nodejs conflicts with npm)
if ! command -v npm >/dev/null 2>&1; then pkgs="$pkgs nodejs npm"; fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps.sh: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
