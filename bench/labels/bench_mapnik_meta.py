#!/usr/bin/env python3
"""Mapnik 3.1 (python3-mapnik) rendering the tile list as tilesrv's serving pipeline does
with N x N metatiles: each tile of the list renders the metatile holding it (once: a
metatile already drawn is skipped), as one (256 N) px image with a buffer around it, and
every tile of that metatile is encoded to PNG. Compare with bench_tiles --meta N.

    cd bench/peers && PYTHONPATH=bench /usr/bin/python3 ../labels/bench_mapnik_meta.py \\
        --xml ../labels/cadastre_labels.xml --tiles ../labels/tiles.txt --meta 8 --buffer 64

Prints one line like bench_mapnik.py's (tiles = the list's tiles) plus metatiles= and
tiles_encoded=."""
import argparse
import time

import mapnik

from tilelib import Timer, peak_rss_mb, read_tiles, tile_bounds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xml", required=True)
    ap.add_argument("--tiles", required=True)
    ap.add_argument("--meta", type=int, default=8, help="metatile size in tiles (default 8)")
    ap.add_argument("--buffer", type=int, default=64, help="buffer-size in px (default 64, "
                    "the buffer of the tilesrv tileset)")
    ap.add_argument("--format", default="png")
    ap.add_argument("--name", default="mapnik_meta")
    a = ap.parse_args()
    n = a.meta
    t_load = time.perf_counter()
    m = mapnik.Map(256 * n, 256 * n)
    mapnik.load_map(m, a.xml)
    m.buffer_size = a.buffer
    t_load = time.perf_counter() - t_load
    tiles = read_tiles(a.tiles)
    timer = Timer()
    done = set()
    encoded = 0
    t_enc = 0.0
    timer.start()
    for z, x, y in tiles:
        t = time.perf_counter()
        key = (z, x // n, y // n)
        if key not in done:
            done.add(key)
            mx, my = key[1] * n, key[2] * n
            x0, y0, _, _ = tile_bounds(z, mx, my + n - 1)
            _, _, x1, y1 = tile_bounds(z, mx + n - 1, my)
            m.zoom_to_box(mapnik.Box2d(x0, y0, x1, y1))
            im = mapnik.Image(256 * n, 256 * n)
            mapnik.render(m, im)
            te = time.perf_counter()
            for ty in range(n):
                for tx in range(n):
                    im.view(256 * tx, 256 * ty, 256, 256).tostring(a.format)
                    encoded += 1
            t_enc += time.perf_counter() - te
        timer.add(z, time.perf_counter() - t)
    timer.stop()
    print("%s tiles=%d wall_s=%.3f tiles_per_s=%.2f cpu_s=%.2f peak_rss_mb=%.1f load_s=%.3f "
          "encode_s=%.3f metatiles=%d tiles_encoded=%d buffer=%d"
          % (a.name, len(tiles), timer.wall, len(tiles) / timer.wall, timer.cpu, peak_rss_mb(),
             t_load, t_enc, len(done), encoded, a.buffer))


if __name__ == "__main__":
    main()
