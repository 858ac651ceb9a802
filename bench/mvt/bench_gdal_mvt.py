#!/usr/bin/env python3
"""GDAL's MVT driver over the tile list, in one warm process (python3-gdal).

For each tile: gdal.VectorTranslate from bench/data/cadastre.gpkg (opened once) into a
/vsimem/ tileset directory with the MVT driver at that one zoom (MINZOOM = MAXZOOM = z,
EXTENT 4096, BUFFER 80 (GDAL's default), no compression: COMPRESS=NO), with a spatial filter of the
tile's box in EPSG:3857, every layer and attribute. GDAL writes every tile the filtered
features touch (the tile itself and the neighbours its features reach into); the requested
tile is read back from /vsimem/, the directory removed. This is how GDAL makes a tile on
demand; it is built for whole-zoom batch export, which the figure does not measure.

    bench_gdal_mvt.py [--data ../data/cadastre.gpkg] [--tiles ../tiles.txt] [--save DIR]
Result line: name tiles= wall_s= tiles_per_s= cpu_s= peak_rss_mb= avg_kb= extra_tiles=
"""
import argparse
import os
import sys
import time

from osgeo import gdal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "peers", "bench"))
from tilelib import Timer, peak_rss_mb, read_tiles, tile_bounds  # noqa: E402

LAYERS = ["parcels", "buildings", "streets", "parking_bays", "air_stations"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(HERE, "..", "data", "cadastre.gpkg"))
    ap.add_argument("--tiles", default=os.path.join(HERE, "..", "tiles.txt"))
    ap.add_argument("--save", metavar="DIR")
    ap.add_argument("--name", default="gdal_mvt")
    a = ap.parse_args()
    gdal.UseExceptions()
    t_load = time.perf_counter()
    src = gdal.OpenEx(a.data, gdal.OF_VECTOR)
    t_load = time.perf_counter() - t_load
    tiles = read_tiles(a.tiles)
    timer = Timer()
    nbytes = extra = 0
    timer.start()
    for i, (z, x, y) in enumerate(tiles):
        t = time.perf_counter()
        minx, miny, maxx, maxy = tile_bounds(z, x, y)
        out = "/vsimem/gdal_mvt_%d" % i
        gdal.VectorTranslate(
            out, src, format="MVT", layers=LAYERS, dstSRS="EPSG:3857",
            spatFilter=(minx, miny, maxx, maxy), spatSRS="EPSG:3857",
            datasetCreationOptions=["MINZOOM=%d" % z, "MAXZOOM=%d" % z, "EXTENT=4096",
                                    "COMPRESS=NO", "MAX_SIZE=100000000",
                                    "MAX_FEATURES=100000000"])
        path = "%s/%d/%d/%d.pbf" % (out, z, x, y)
        st = gdal.VSIStatL(path)
        data = b""
        if st is not None:
            f = gdal.VSIFOpenL(path, "rb")
            data = gdal.VSIFReadL(1, st.size, f)
            gdal.VSIFCloseL(f)
        written = 0
        for zdir in gdal.ReadDir(out) or []:
            if zdir.isdigit():
                for xdir in gdal.ReadDir("%s/%s" % (out, zdir)) or []:
                    written += len(gdal.ReadDir("%s/%s/%s" % (out, zdir, xdir)) or [])
        extra += max(0, written - 1)
        gdal.RmdirRecursive(out)
        timer.add(z, time.perf_counter() - t)
        nbytes += len(data)
        if a.save:
            d = os.path.join(a.save, str(z), str(x))
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "%d.mvt" % y), "wb") as fo:
                fo.write(data)
    timer.stop()
    n = len(tiles)
    print("%s tiles=%d wall_s=%.3f tiles_per_s=%.1f cpu_s=%.2f peak_rss_mb=%.1f load_s=%.3f "
          "avg_kb=%.1f extra_tiles=%d" % (a.name, n, timer.wall, n / timer.wall, timer.cpu,
                                          peak_rss_mb(), t_load, nbytes / n / 1024, extra))
    sys.stderr.write(timer.zoom_line() + "\n")


if __name__ == "__main__":
    main()
