#!/usr/bin/env python3
"""MapServer 8 Mapbox Vector Tiles over the tile list, in one warm process (python3-mapscript).

The peer rig's mapfile (bench/peers/mapserver/cadastre.map: the five layers of
bench/data/cadastre.gpkg) with an MVT OUTPUTFORMAT added here (EXTENT 4096, EDGE_BUFFER 16 px
= 256 tile units, as tilesrv's default buffer) and every attribute of every layer included
(gml_include_items all, gml_types auto), requested as WMS 1.3.0 GetMap
FORMAT=application/vnd.mapbox-vector-tile through OWSDispatch (MapServer writes MVT only on
its request paths, not mapObj.draw). Uncompressed tiles, as tilesrv's tiles_per_s_no_gzip.

    bench_mapserver_mvt.py [--map ../peers/mapserver/cadastre.map] [--tiles ../tiles.txt]
                           [--save DIR] [--name mapserver_mvt]
Result line: name tiles= wall_s= tiles_per_s= cpu_s= peak_rss_mb= avg_kb= features=
"""
import argparse
import os
import sys
import time

import mapscript

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "peers", "bench"))
from tilelib import Timer, peak_rss_mb, read_tiles, tile_bounds  # noqa: E402

EDGE_BUFFER = os.environ.get("MS_EDGE_BUFFER", "16")
LAYERS = "parcels,buildings,streets,parking_bays,air_stations"


def body_of(raw):
    """MapServer's buffered output carries its HTTP headers: the bytes after them."""
    i = raw.find(b"\r\n\r\n")
    return raw[i + 4:] if i >= 0 else raw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--map", default=os.path.join(HERE, "..", "peers", "mapserver", "cadastre.map"))
    ap.add_argument("--tiles", default=os.path.join(HERE, "..", "tiles.txt"))
    ap.add_argument("--save", metavar="DIR")
    ap.add_argument("--name", default="mapserver_mvt")
    a = ap.parse_args()

    t_load = time.perf_counter()
    # the mapfile's relative paths (../data/cadastre.gpkg) are relative to its folder
    m = mapscript.mapObj(os.path.abspath(a.map))
    of = mapscript.outputFormatObj("MVT", "mvt")
    of.mimetype = "application/vnd.mapbox-vector-tile"
    of.setOption("EXTENT", "4096")
    of.setOption("EDGE_BUFFER", EDGE_BUFFER)
    m.appendOutputFormat(of)
    m.web.metadata.set("wms_enable_request", "*")
    m.web.metadata.set("wms_getmap_formatlist", "image/png,application/vnd.mapbox-vector-tile")
    for i in range(m.numlayers):
        lay = m.getLayer(i)
        lay.metadata.set("gml_include_items", "all")
        lay.metadata.set("gml_types", "auto")
    t_load = time.perf_counter() - t_load
    tiles = read_tiles(a.tiles)
    timer = Timer()
    nbytes = 0
    timer.start()
    for z, x, y in tiles:
        t = time.perf_counter()
        minx, miny, maxx, maxy = tile_bounds(z, x, y)
        req = mapscript.OWSRequest()
        for k, v in (("SERVICE", "WMS"), ("VERSION", "1.3.0"), ("REQUEST", "GetMap"),
                     ("LAYERS", LAYERS), ("STYLES", ""), ("CRS", "EPSG:3857"),
                     ("BBOX", "%.6f,%.6f,%.6f,%.6f" % (minx, miny, maxx, maxy)),
                     ("WIDTH", "256"), ("HEIGHT", "256"),
                     ("FORMAT", "application/vnd.mapbox-vector-tile")):
            req.setParameter(k, v)
        mapscript.msIO_installStdoutToBuffer()
        rc = m.OWSDispatch(req)
        data = body_of(mapscript.msIO_getStdoutBufferBytes())
        mapscript.msIO_resetHandlers()
        if rc != 0:
            sys.exit("%s: GetMap %d/%d/%d failed" % (a.name, z, x, y))
        timer.add(z, time.perf_counter() - t)
        nbytes += len(data)
        if a.save:
            d = os.path.join(a.save, str(z), str(x))
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "%d.mvt" % y), "wb") as f:
                f.write(data)
    timer.stop()
    n = len(tiles)
    print("%s tiles=%d wall_s=%.3f tiles_per_s=%.1f cpu_s=%.2f peak_rss_mb=%.1f load_s=%.3f "
          "avg_kb=%.1f" % (a.name, n, timer.wall, n / timer.wall, timer.cpu, peak_rss_mb(),
                           t_load, nbytes / n / 1024))
    sys.stderr.write(timer.zoom_line() + "\n")


if __name__ == "__main__":
    main()
