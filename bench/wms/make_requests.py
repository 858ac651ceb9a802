#!/usr/bin/env python3
"""Write bench/wms/requests.txt: 1024 x 1024 GetMap boxes over the benchmark cadastre, the
same ground in EPSG:25832 and in EPSG:3857, at map widths from 250 m to 8 km (scales about
1:1,000 to 1:30,000), centres drawn with a fixed seed from the city. One line per request:
CRS minx miny maxx maxy (x = easting)."""
import random
import sys

from osgeo import osr

random.seed(4711)
utm = osr.SpatialReference()
utm.ImportFromEPSG(25832)
wm = osr.SpatialReference()
wm.ImportFromEPSG(3857)
for s in (utm, wm):
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
to_wm = osr.CoordinateTransformation(utm, wm)
# the central part of the generated city (EPSG:25832)
X0, Y0, X1, Y1 = 340000, 5670000, 352000, 5685000
widths = [250, 500, 1000, 2000, 4000, 8000]
out = open(sys.argv[1] if len(sys.argv) > 1 else "requests.txt", "w")
n = 0
for rep in range(4):
    for w in widths:
        cx = random.uniform(X0 + w / 2, X1 - w / 2)
        cy = random.uniform(Y0 + w / 2, Y1 - w / 2)
        b = (cx - w / 2, cy - w / 2, cx + w / 2, cy + w / 2)
        out.write("EPSG:25832 %.2f %.2f %.2f %.2f\n" % b)
        # the same ground in Web Mercator: the centre transformed, the width scaled by the
        # Mercator factor there, so both maps show the same area at the same pixel size
        mx, my, _ = to_wm.TransformPoint(cx, cy)
        k = (to_wm.TransformPoint(cx + 1, cy)[0] - mx)
        hw = w / 2 * k
        out.write("EPSG:3857 %.2f %.2f %.2f %.2f\n" % (mx - hw, my - hw, mx + hw, my + hw))
        n += 2
print("%d requests" % n, file=sys.stderr)
