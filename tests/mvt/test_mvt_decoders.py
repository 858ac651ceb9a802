#!/usr/bin/env python3
"""Vector tiles of the demo GeoPackage read back by independent decoders and compared with
the source.

mvt_tiles (tests/mvt/mvt_tiles.c) writes WebMercatorQuad tiles z14..z18 around the centre
of Düsseldorf through the encoder (ts_mvt_add_feature, GeoPackage FIDs as feature ids). A
decoder reads each tile back:

  --decoder gdal   GDAL's MVT driver (osgeo.ogr, CLIP=NO so the buffer is kept);
  --decoder npm    @mapbox/vector-tile + pbf under Node (tests/mvt/decode_npm.mjs); the
                   tiles are also read by GDAL and both decoders must agree feature by
                   feature. Exit 77 (skipped) when node or the packages are missing and
                   `npm install` cannot fetch them.

Checked against the source, read separately through OGR and reprojected with OSR, clipped
with GEOS: the layers; the feature ids (every source feature meeting the tile plus buffer is
in the tile, except slivers thinner than the quantisation, and nothing else is); every
attribute value; geometry within quantisation error (vertices on the source within 0.75
tile units both ways, areas and lengths within error), exterior rings before holes.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
ogr.UseExceptions()

LAYERS = ["parcels", "buildings", "streets", "parking_bays", "air_stations"]
EXTENT = 4096
BUFFER = 256
WORLD = 20037508.342789244
FAILS = []


def fail(msg):
    FAILS.append(msg)
    if len(FAILS) <= 40:
        print("FAIL " + msg)


def tile_of(lon, lat, z):
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * n)
    return z, x, y


def tile_bbox(z, x, y):
    w = 2 * WORLD / (1 << z)
    return (-WORLD + x * w, WORLD - (y + 1) * w, -WORLD + (x + 1) * w, WORLD - y * w)


def box_geom(b):
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for px, py in ((b[0], b[1]), (b[2], b[1]), (b[2], b[3]), (b[0], b[3]), (b[0], b[1])):
        ring.AddPoint_2D(px, py)
    g = ogr.Geometry(ogr.wkbPolygon)
    g.AddGeometry(ring)
    return g


def vertices(g):
    out = []
    if g.GetGeometryCount() > 0:
        for i in range(g.GetGeometryCount()):
            out.extend(vertices(g.GetGeometryRef(i)))
    else:
        for i in range(g.GetPointCount()):
            out.append(g.GetPoint_2D(i))
    return out


def points_near(a, b, tol):
    """Every vertex of a within tol of geometry b (0 inside a polygon b)."""
    pt = ogr.Geometry(ogr.wkbPoint)
    worst = 0.0
    for x, y in vertices(a):
        pt.SetPoint_2D(0, x, y)
        d = pt.Distance(b)
        worst = max(worst, d)
    return worst <= tol, worst


def flat_type(g):
    return ogr.GT_Flatten(g.GetGeometryType())


# ---- the source, through OGR ----

def load_source(gpkg):
    ds = ogr.Open(gpkg)
    dst = osr.SpatialReference()
    dst.ImportFromEPSG(3857)
    dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    src = {}
    for name in LAYERS:
        lyr = ds.GetLayerByName(name)
        s = lyr.GetSpatialRef()
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        ct = osr.CoordinateTransformation(s, dst)
        defn = lyr.GetLayerDefn()
        fields = [defn.GetFieldDefn(i) for i in range(defn.GetFieldCount())]
        feats = {}
        for f in lyr:
            g = f.GetGeometryRef()
            if g is None or g.IsEmpty():
                continue
            g = g.Clone()
            g.Transform(ct)
            props = {}
            for i, fd in enumerate(fields):
                if f.IsFieldSetAndNotNull(i):
                    t = fd.GetType()
                    if t in (ogr.OFTInteger, ogr.OFTInteger64):
                        props[fd.GetName()] = f.GetFieldAsInteger64(i)
                    elif t == ogr.OFTReal:
                        props[fd.GetName()] = f.GetFieldAsDouble(i)
                    else:
                        props[fd.GetName()] = f.GetFieldAsString(i)
            feats[f.GetFID()] = (g, props, g.GetEnvelope())
        src[name] = feats
    return src


# ---- decoders: {layer: {id: (props, ogr geometry in EPSG:3857, extra)}} ----

def decode_gdal(path):
    ds = gdal.OpenEx(path, gdal.OF_VECTOR, open_options=["CLIP=NO"])
    out = {}
    for i in range(ds.GetLayerCount()):
        lyr = ds.GetLayer(i)
        defn = lyr.GetLayerDefn()
        feats = {}
        for f in lyr:
            props = {}
            for k in range(defn.GetFieldCount()):
                if f.IsFieldSetAndNotNull(k):
                    fd = defn.GetFieldDefn(k)
                    t = fd.GetType()
                    if t in (ogr.OFTInteger, ogr.OFTInteger64):
                        v = f.GetFieldAsInteger64(k)
                    elif t == ogr.OFTReal:
                        v = f.GetFieldAsDouble(k)
                    else:
                        v = f.GetFieldAsString(k)
                    props[fd.GetName()] = v
            g = f.GetGeometryRef()
            fid = props.pop("mvt_id", None)  # GDAL exposes the MVT feature id as a field
            if fid is None or fid in feats:
                fail("%s: gdal: id %s missing or twice in layer %s" % (path, fid, lyr.GetName()))
                continue
            feats[fid] = (props, g.Clone() if g else None, None)
        out[lyr.GetName()] = feats
    return out


def decode_npm(path, srcdir, bbox):
    res = subprocess.run(["node", os.path.join(srcdir, "tests/mvt/decode_npm.mjs"), path],
                         capture_output=True, text=True, check=True)
    doc = json.loads(res.stdout)
    out = {}
    for lyr in doc["layers"]:
        if lyr["version"] != 2 or lyr["extent"] != EXTENT:
            fail("%s: npm: layer %s version %s extent %s" % (path, lyr["name"], lyr["version"],
                                                             lyr["extent"]))
        sx = (bbox[2] - bbox[0]) / lyr["extent"]
        sy = (bbox[3] - bbox[1]) / lyr["extent"]

        def m(p):
            return bbox[0] + p[0] * sx, bbox[3] - p[1] * sy

        feats = {}
        for f in lyr["features"]:
            if f["type"] == 1:
                g = ogr.Geometry(ogr.wkbMultiPoint)
                for part in f["geometry"]:
                    for p in part:
                        q = ogr.Geometry(ogr.wkbPoint)
                        q.AddPoint_2D(*m(p))
                        g.AddGeometry(q)
            elif f["type"] == 2:
                g = ogr.Geometry(ogr.wkbMultiLineString)
                for part in f["geometry"]:
                    ls = ogr.Geometry(ogr.wkbLineString)
                    for p in part:
                        ls.AddPoint_2D(*m(p))
                    g.AddGeometry(ls)
            else:
                g = ogr.Geometry(ogr.wkbMultiPolygon)
                for poly in f["polygons"]:
                    pg = ogr.Geometry(ogr.wkbPolygon)
                    for ring in poly:
                        r = ogr.Geometry(ogr.wkbLinearRing)
                        for p in ring:
                            r.AddPoint_2D(*m(p))
                        pg.AddGeometry(r)
                    g.AddGeometry(pg)
            feats[f["id"]] = (f["properties"], g, f)
        out[lyr["name"]] = feats
    return out


# ---- comparison with the source ----

def check_tile(tag, dec, src, bbox, decoder):
    unit = (bbox[2] - bbox[0]) / EXTENT
    buf = BUFFER * unit
    clipb = (bbox[0] - buf, bbox[1] - buf, bbox[2] + buf, bbox[3] + buf)
    box = box_geom(clipb)
    counts = {}
    for name in LAYERS:
        got = dec.get(name, {})
        expect = {}
        for fid, (g, props, env) in src[name].items():
            if env[1] < clipb[0] or env[0] > clipb[2] or env[3] < clipb[1] or env[2] > clipb[3]:
                continue
            if g.Intersects(box):
                expect[fid] = (g, props)
        counts[name] = (len(got), len(expect))
        for fid in got:
            if fid not in expect:
                fail("%s %s: %s feature %d not in the source's tile" % (decoder, tag, name, fid))
        for fid, (g, props) in expect.items():
            clip = g.Intersection(box)
            t = flat_type(g)
            if fid not in got:
                # only slivers thinner than the quantisation may vanish
                if t in (ogr.wkbPolygon, ogr.wkbMultiPolygon):
                    ok = clip.Area() <= clip.Boundary().Length() * unit
                elif t in (ogr.wkbLineString, ogr.wkbMultiLineString):
                    ok = clip.Length() <= 1.5 * unit
                else:
                    ok = False
                if not ok:
                    fail("%s %s: %s feature %d missing" % (decoder, tag, name, fid))
                continue
            dprops, dg, _ = got[fid]
            for k, v in props.items():
                w = dprops.get(k)
                if isinstance(v, float):
                    good = isinstance(w, (int, float)) and abs(v - w) <= 1e-9 * max(1, abs(v))
                else:
                    good = w == v
                if not good:
                    fail("%s %s: %s %d attribute %s: %r != %r" % (decoder, tag, name, fid, k,
                                                                  w, v))
            for k in dprops:
                if k not in props:
                    fail("%s %s: %s %d extra attribute %s" % (decoder, tag, name, fid, k))
            if dg is None or dg.IsEmpty():
                fail("%s %s: %s %d without geometry" % (decoder, tag, name, fid))
                continue
            tol = 0.75 * unit
            ok1, w1 = points_near(dg, clip, tol)
            ok2, w2 = points_near(clip, dg, tol)
            if not (ok1 and ok2):
                fail("%s %s: %s %d geometry off by %.3f / %.3f units" %
                     (decoder, tag, name, fid, w1 / unit, w2 / unit))
            if t in (ogr.wkbPolygon, ogr.wkbMultiPolygon):
                err = abs(dg.Area() - clip.Area())
                if err > clip.Boundary().Length() * tol + unit * unit:
                    fail("%s %s: %s %d area %.1f vs %.1f" % (decoder, tag, name, fid,
                                                             dg.Area(), clip.Area()))
            elif t in (ogr.wkbLineString, ogr.wkbMultiLineString):
                n = max(1, len(vertices(clip)))
                if abs(dg.Length() - clip.Length()) > 2 * n * tol:
                    fail("%s %s: %s %d length %.1f vs %.1f" % (decoder, tag, name, fid,
                                                               dg.Length(), clip.Length()))
    for name in dec:
        if name not in LAYERS:
            fail("%s %s: unexpected layer %s" % (decoder, tag, name))
        if not dec[name]:
            fail("%s %s: empty layer %s" % (decoder, tag, name))
    return counts


def agree(tag, a, b):
    """The npm and GDAL decodings hold the same features, attributes and polygons."""
    if sorted(a) != sorted(b):
        fail("npm/gdal %s: layers %s vs %s" % (tag, sorted(a), sorted(b)))
        return
    for name in a:
        if sorted(a[name]) != sorted(b[name]):
            fail("npm/gdal %s: %s ids differ" % (tag, name))
            continue
        for fid, (pa, ga, fa) in a[name].items():
            pb, gb, _ = b[name][fid]
            if pa != pb:
                bad = [k for k in set(pa) | set(pb) if pa.get(k) != pb.get(k) and not (
                    isinstance(pa.get(k), float) and isinstance(pb.get(k), float) and
                    abs(pa[k] - pb[k]) <= 1e-9 * max(1, abs(pa[k])))]
                if bad:
                    fail("npm/gdal %s: %s %d attributes %s" % (tag, name, fid, bad))
            ea, eb = ga.GetEnvelope(), gb.GetEnvelope()
            if max(abs(ea[i] - eb[i]) for i in range(4)) > 1e-6 * (abs(ea[0]) + 1):
                fail("npm/gdal %s: %s %d envelopes %s vs %s" % (tag, name, fid, ea, eb))
            if fa["type"] == 3:
                np_ = len(fa["polygons"])
                ng = gb.GetGeometryCount() if flat_type(gb) == ogr.wkbMultiPolygon else 1
                if np_ != ng:
                    fail("npm/gdal %s: %s %d polygons %d vs %d" % (tag, name, fid, np_, ng))
                # exterior rings first, positive area by the spec's formula
                if fa["ring_areas"] and fa["ring_areas"][0] <= 0:
                    fail("npm %s: %s %d first ring not exterior" % (tag, name, fid))


def npm_ready(srcdir):
    if shutil.which("node") is None:
        print("node not found: skipped (scripts/deps.sh --test)")
        return False
    mod = os.path.join(srcdir, "node_modules", "@mapbox", "vector-tile", "index.js")
    if not os.path.exists(mod):
        npm = shutil.which("npm")
        if npm is None:
            print("npm not found: skipped")
            return False
        r = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--ignore-scripts"],
                           cwd=srcdir, capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(mod):
            print("npm install failed: skipped\n" + r.stderr[-2000:])
            return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--writer", required=True)
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("--decoder", choices=["gdal", "npm"], default="gdal")
    ap.add_argument("--keep", help="write the tiles here and keep them")
    a = ap.parse_args()
    if a.decoder == "npm" and not npm_ready(a.srcdir):
        return 77
    gpkg = os.path.join(a.srcdir, "data/demo/duesseldorf_demo.gpkg")
    lon, lat = 6.7745, 51.2262  # Altstadt / Carlstadt
    tiles = [tile_of(lon, lat, z) for z in (14, 15, 16, 17, 18)]
    z, x, y = tiles[3]
    tiles.append((z, x + 1, y))  # a neighbour: features across the shared edge
    tmp = a.keep or tempfile.mkdtemp(prefix="mvt_dec_")
    try:
        cmd = [a.writer, "--data", gpkg, "--out", tmp, "--extent", str(EXTENT), "--buffer",
               str(BUFFER), "--max-bytes", "4000000", "--layers", ",".join(LAYERS)]
        cmd += ["%d/%d/%d" % t for t in tiles]
        r = subprocess.run(cmd, capture_output=True, text=True)
        sys.stdout.write(r.stdout)
        if r.returncode != 0:
            print(r.stderr)
            print("FAIL writer exit %d" % r.returncode)
            return 1
        src = load_source(gpkg)
        total = 0
        for z, x, y in tiles:
            path = os.path.join(tmp, "%d/%d/%d.mvt" % (z, x, y))
            bbox = tile_bbox(z, x, y)
            tag = "%d/%d/%d" % (z, x, y)
            gd = decode_gdal(path)
            if a.decoder == "gdal":
                counts = check_tile(tag, gd, src, bbox, "gdal")
            else:
                nd = decode_npm(path, a.srcdir, bbox)
                counts = check_tile(tag, nd, src, bbox, "npm")
                agree(tag, nd, gd)
            n = sum(c[0] for c in counts.values())
            total += n
            print("%s: %s" % (tag, " ".join("%s=%d/%d" % (k, v[0], v[1])
                                             for k, v in counts.items())))
        # a known tile: the z18 tile holds parcels, buildings and streets
        z18 = decode_gdal(os.path.join(tmp, "%d/%d/%d.mvt" % tiles[4]))
        for name in ("parcels", "buildings", "streets"):
            if len(z18.get(name, {})) == 0:
                fail("z18 tile without %s" % name)
        if total < 1000:
            fail("only %d features checked" % total)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print("mvt decoders (%s): %d tiles, %d features checked, %d failures" %
          (a.decoder, len(tiles), total, len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
