#!/usr/bin/env python3
"""MapServer 8 answering the WMS GetMap requests of bench/wms/requests.txt through mapscript's
OWSDispatch (the WMS code path of the mapserv CGI, in one warm process, mapfile loaded once),
from the same GeoPackage with the peers' mapfile (bench/peers/mapserver/cadastre.map).
Prints one line per CRS in bench_wms's format."""
import argparse
import os
import resource
import sys
import time

import mapscript


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--map", default=os.path.join(os.path.dirname(__file__), "..", "peers",
                                                  "mapserver", "cadastre.map"))
    ap.add_argument("--requests", default=os.path.join(os.path.dirname(__file__), "requests.txt"))
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--save", metavar="DIR")
    a = ap.parse_args()
    t0 = time.perf_counter()
    m = mapscript.mapObj(os.path.abspath(a.map))
    load_s = time.perf_counter() - t0
    reqs = [l.split() for l in open(a.requests) if l.strip()]
    layers = "parcels,buildings,streets,parking_bays,air_stations"
    if a.save:
        os.makedirs(a.save, exist_ok=True)

    def getmap(crs, b):
        q = ("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=%s&STYLES=&CRS=%s"
             "&BBOX=%s,%s,%s,%s&WIDTH=%d&HEIGHT=%d&FORMAT=image/png"
             % (layers, crs, b[0], b[1], b[2], b[3], a.size, a.size))
        req = mapscript.OWSRequest()
        req.loadParamsFromURL(q)
        mapscript.msIO_installStdoutToBuffer()
        m.OWSDispatch(req)
        ctype = mapscript.msIO_stripStdoutBufferContentType()
        data = mapscript.msIO_getStdoutBufferBytes()
        mapscript.msIO_resetHandlers()
        if ctype != "image/png":
            sys.exit("mapserver: %s: %s" % (ctype, data[:300]))
        return data

    getmap(reqs[0][0], reqs[0][1:])  # warm-up
    for crs in ("EPSG:25832", "EPSG:3857"):
        wall, c0, nbytes, n = 0.0, time.process_time(), 0, 0
        for i, r in enumerate(reqs):
            if r[0] != crs:
                continue
            t = time.perf_counter()
            data = getmap(crs, r[1:])
            wall += time.perf_counter() - t
            nbytes += len(data)
            n += 1
            if a.save:
                with open(os.path.join(a.save, "%02d_%s.png" % (i, crs.split(":")[1])), "wb") as f:
                    f.write(data)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        print("mapserver_wms crs=%s threads=1 maps=%d size=%d wall_s=%.3f maps_per_s=%.2f "
              "ms_per_map=%.1f cpu_s=%.2f peak_rss_mb=%.1f load_s=%.2f avg_kb=%.1f"
              % (crs, n, a.size, wall, n / wall, 1000 * wall / n, time.process_time() - c0, rss,
                 load_s, nbytes / 1024.0 / n), flush=True)


if __name__ == "__main__":
    main()
