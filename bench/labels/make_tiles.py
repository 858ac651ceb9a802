#!/usr/bin/env python3
"""Write bench/labels/tiles.txt: the label-heavy tile list (z16-z19) over the bench
cadastre, deterministic (seed 4711, sorted candidates).

A tile is a candidate when it lies in the area of bench/tiles.txt (the union of its
z12 tiles) and is dense in what gets labelled at its zoom: at z18-z19 parcel numbers
(parcel centroids in the tile, top quarter of the tiles of that zoom), at z16-z17 street
names (street segments, by the middle vertex, in the top quarter; parcels dense too).
From the candidates of each zoom QUOTA[z] tiles are drawn with random.Random(4711).

    /usr/bin/python3 bench/labels/make_tiles.py [bench/data/cadastre.gpkg] > bench/labels/tiles.txt
"""
import collections
import os
import random
import sys

from osgeo import ogr, osr

ORIGIN = 20037508.342789244
QUOTA = {16: 40, 17: 50, 18: 55, 19: 55}
HERE = os.path.dirname(os.path.abspath(__file__))


def tile_of(x, y, z):
    size = 2 * ORIGIN / (1 << z)
    return int((x + ORIGIN) // size), int((ORIGIN - y) // size)


def quantile(counter, q):
    v = sorted(counter.values())
    return v[min(len(v) - 1, int(q * len(v)))]


def main():
    gpkg = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "data", "cadastre.gpkg")
    ds = ogr.Open(gpkg)
    if ds is None:
        sys.exit("make_tiles.py: cannot open %s (run bench/make_data.sh)" % gpkg)
    src = osr.SpatialReference()
    src.ImportFromEPSG(25832)
    dst = osr.SpatialReference()
    dst.ImportFromEPSG(3857)
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(src, dst)
    parcels = []
    for f in ds.GetLayerByName("parcels"):
        c = f.GetGeometryRef().Centroid()
        parcels.append(ct.TransformPoint(c.GetX(), c.GetY())[:2])
    streets = []
    for f in ds.GetLayerByName("streets"):
        if not f.GetField("name"):
            continue
        g = f.GetGeometryRef()
        p = g.GetPoint(g.GetPointCount() // 2)
        streets.append(ct.TransformPoint(p[0], p[1])[:2])
    # the area of bench/tiles.txt: its z12 tiles
    area = set()
    with open(os.path.join(HERE, "..", "tiles.txt")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                z, x, y = (int(v) for v in line.split("/"))
                if z == 12:
                    area.add((x, y))
    rng = random.Random(4711)
    print("# bench/labels/tiles.txt - label-heavy tiles z16-z19 over bench/data/cadastre.gpkg,")
    print("# written by bench/labels/make_tiles.py (seed 4711); %s" %
          ", ".join("z%d: %d" % (z, n) for z, n in sorted(QUOTA.items())))
    for z, quota in sorted(QUOTA.items()):
        pc = collections.Counter(tile_of(x, y, z) for x, y in parcels)
        sc = collections.Counter(tile_of(x, y, z) for x, y in streets)
        pmin = quantile(pc, 0.75) if z >= 18 else quantile(pc, 0.5)
        smin = quantile(sc, 0.75) if z <= 17 else 1
        shift = z - 12
        cand = sorted(t for t in pc if pc[t] >= pmin and sc.get(t, 0) >= smin
                      and (t[0] >> shift, t[1] >> shift) in area)
        if len(cand) < quota:
            sys.exit("make_tiles.py: only %d dense tiles at z%d" % (len(cand), z))
        for x, y in rng.sample(cand, quota):
            print("%d/%d/%d" % (z, x, y))


if __name__ == "__main__":
    main()
