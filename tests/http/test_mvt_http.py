#!/usr/bin/env python3
"""Vector tiles over HTTP in every grid, with typed attributes chosen in the config.

Starts `tilesrv serve` on the demo GeoPackage with `mvt: {attributes: ...}` on the cadastre
layers and `mvt: {extent, buffer, max_bytes}` on the tilesets, then reads the tiles with
GDAL's MVT driver and checks them against the source read separately through OGR:

  - attributes: exactly the configured ones, converted to the declared types (a string that
    does not parse as the type is left out of the feature);
  - TileJSON ?format=pbf: vector_layers with exactly those fields and their TileJSON types;
  - the tileset's extent and buffer are those of the config;
  - WMTS GetTile (KVP and REST) and /tiles/{tileset}/{grid}/{z}/{x}/{y}.pbf give the same
    tile in WebMercatorQuad and in DE_EPSG_25832_ADV; the 25832 tile's coordinates, mapped
    from tile units to UTM with the tile's box, match the source features reprojected to
    EPSG:25832 (centroids and areas of the parcels inside the tile);
  - the WMTS capabilities list application/vnd.mapbox-vector-tile (read by OWSLib's WMTS
    client, whose GetTile in that format returns the tile);
  - an attribute name the layer lacks is refused at start with file:line.

Usage: test_mvt_http.py --binary build/tilesrv --srcdir .
"""
import argparse
import gzip
import http.client
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_http as H  # noqa: E402  (server start/stop and GET helpers)

from osgeo import gdal, ogr, osr  # noqa: E402

gdal.UseExceptions()
ogr.UseExceptions()

ARGS = None
SRV = None
TMP = None
ADV_RES = 4891.96981025128 / 2 ** 11   # level 11 of DE_EPSG_25832_ADV, m per pixel
ADV_ORIGIN = (-46133.17, 6301219.54)
MVT = "application/vnd.mapbox-vector-tile"


def config_text(gpkg, styles):
    return """server: {listen: "127.0.0.1:1"}
sources:
  demo: {path: %(g)s}
layers:
  parcels:
    source: demo
    table: parcels
    style: %(s)s/alkis_parcels.sld
    mvt: {attributes: {flstnr: string, flur: double, zaehler: int, gemarkung: int, nutzung: auto}}
  buildings:
    source: demo
    table: buildings
    style: %(s)s/alkis_buildings.sld
    mvt: {attributes: [funktion, storeys, height_m]}
  streets:
    source: demo
    table: streets
    style: %(s)s/alkis_streets.sld
    mvt: {attributes: {name: string, bridge: bool, class: string}}
  roads: {source: demo, table: streets, style: %(r)s}
  roads_all: {source: demo, table: streets, style: %(r)s, mvt: {features: all}}
  names: {source: demo, table: streets, style: %(n)s}
tilesets:
  cadastre:
    layers: [parcels, buildings, streets]
    grids: [WebMercatorQuad, DE_EPSG_25832_ADV]
    mvt: {buffer: 128, max_bytes: 400000}
  wide:
    layers: [parcels]
    mvt: {extent: 8192, buffer: 0}
  roads:
    layers: [roads, roads_all]
  names:
    layers: [names]
  tight:
    layers: [parcels]
    mvt: {max_bytes: 1024}
""" % {"g": gpkg, "s": styles, "r": os.path.join(TMP, "roads.sld"),
       "n": os.path.join(TMP, "names.sld")}


def get(path, headers=None):
    return H.get(SRV[1], path, headers)


def read_tile(data, name):
    """GDAL's MVT driver on the tile (integer tile coordinates: the file name is no z/x/y)."""
    p = os.path.join(TMP, name)
    with open(p, "wb") as f:
        f.write(data)
    return gdal.OpenEx(p, gdal.OF_VECTOR, open_options=["CLIP=NO"])


def fields_of(lyr):
    d = lyr.GetLayerDefn()
    out = {}
    for i in range(d.GetFieldCount()):
        fd = d.GetFieldDefn(i)
        out[fd.GetName()] = (fd.GetTypeName(), fd.GetSubType())
    return out


def source_layer(name):
    ds = ogr.Open(os.path.join(ARGS.srcdir, "data/demo/duesseldorf_demo.gpkg"))
    return ds, ds.GetLayerByName(name)


# ---------------------------------------------------------------- tests

def test_attributes_are_the_configured_ones_typed():
    st, hdr, body = get("/tiles/cadastre/16/34001/21873.pbf")
    assert st == 200 and hdr["content-type"] == MVT, (st, hdr)
    ds = read_tile(body, "wm.pbf")
    names = sorted(ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount()))
    assert names == ["buildings", "parcels", "parcels_label", "streets"], names
    par = ds.GetLayerByName("parcels")
    f = fields_of(par)
    # gemarkung is a name: it never parses as int, so no feature carries it
    assert set(f) == {"mvt_id", "flstnr", "flur", "zaehler", "nutzung"}, f
    assert f["flstnr"][0] == "String" and f["flur"][0] == "Real", f
    assert f["zaehler"][0] in ("Integer", "Integer64") and f["nutzung"][0] == "String", f
    sds, src = source_layer("parcels")
    n = 0
    for feat in par:
        s = src.GetFeature(feat["mvt_id"])
        assert s is not None, feat["mvt_id"]
        assert feat["flstnr"] == s["flstnr"], (feat["flstnr"], s["flstnr"])
        assert feat["flur"] == float(s["flur"]) and feat["zaehler"] == s["zaehler"]
        assert feat["nutzung"] == s["nutzung"]
        n += 1
    assert n > 10, n
    b = fields_of(ds.GetLayerByName("buildings"))
    assert set(b) == {"mvt_id", "funktion", "storeys", "height_m"}, b
    assert b["storeys"][0] in ("Integer", "Integer64") and b["height_m"][0] == "Real", b
    s = fields_of(ds.GetLayerByName("streets"))
    assert set(s) - {"mvt_id"} <= {"name", "bridge", "class"} and "class" in s, s
    if "bridge" in s:  # MVT bool values: GDAL reads them as Integer of subtype Boolean
        assert s["bridge"][1] == ogr.OFSTBoolean, s


def test_unconvertible_values_are_dropped_not_faked():
    """gemarkung: int on a text field: every value fails to parse and is left out."""
    def unconverted():
        m = get("/metrics")[2].decode()
        return int([l for l in m.splitlines()
                    if l.startswith("tilesrv_mvt_attribute_unconverted_total ")][0].split()[1])
    before = unconverted()
    st, _, body = get("/tiles/cadastre/15/17000/10936.pbf")
    assert st == 200 and len(body) > 0
    ds = read_tile(body, "z15.pbf")
    par = ds.GetLayerByName("parcels")
    assert "gemarkung" not in fields_of(par)
    # counted: one per parcel of the tile (cached tiles are not built again)
    assert unconverted() - before >= par.GetFeatureCount() > 0, (before, unconverted())


# primary streets from 1:200000, the others from 1:20000 (an ElseFilter), their names as
# point labels from 1:3000
ROADS_SLD = """<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"
 xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>roads</Name><UserStyle>
 <FeatureTypeStyle>
  <Rule><ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>class</ogc:PropertyName>
   <ogc:Literal>primary</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
   <MaxScaleDenominator>200000</MaxScaleDenominator>
   <LineSymbolizer><Stroke><CssParameter name="stroke-width">3</CssParameter></Stroke>
   </LineSymbolizer></Rule>
  <Rule><ElseFilter/><MaxScaleDenominator>20000</MaxScaleDenominator>
   <LineSymbolizer/></Rule>
  <Rule><MaxScaleDenominator>3000</MaxScaleDenominator>
   <TextSymbolizer><Label><ogc:PropertyName>name</ogc:PropertyName></Label>
   <LabelPlacement><PointPlacement/></LabelPlacement></TextSymbolizer></Rule>
 </FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>"""


def test_vector_tiles_carry_what_the_style_draws():
    """A layer's vector tiles carry the features its style draws at the scales a client
    shows their level at (GeoServer's rule), so low levels are not weighed down by what only
    close-ups draw; `mvt: {features: all}` keeps every feature at every level. Levels: a 256
    px client shows level z from 1.41x its scale, MapLibre (512 px) down to a quarter of it;
    the last level at every larger scale."""
    def classes(z, x, y):
        st, h, body = get("/tiles/roads/%d/%d/%d.pbf" % (z, x, y))
        assert st == 200, (st, body[:200])
        out = {}
        if not body:
            return out
        ds = read_tile(body, "roads_%d.pbf" % z)
        for i in range(ds.GetLayerCount()):
            lyr = ds.GetLayer(i)
            out[lyr.GetName()] = sorted({f["class"] for f in lyr} if lyr.GetName() != "roads_label"
                                        else {"label"})
        return out
    # z10 (1:546000; shown from 1:136500): primary streets from 1:200000 only
    c = classes(10, 531, 341)
    assert c.get("roads") == ["primary"], c
    assert c["roads_all"] == ["primary", "residential", "secondary"], c
    # z9: nothing of roads (shown from 1:273000 on), roads_all whole
    c = classes(9, 265, 170)
    assert "roads" not in c and c["roads_all"] == ["primary", "residential", "secondary"], c
    # z13 (1:68000, shown down to 1:17000): every class (the ElseFilter's from 1:20000), no
    # labels yet; z16 (shown down to 1:2100): the labels
    c = classes(13, 4250, 2734)
    assert c.get("roads") == ["primary", "residential", "secondary"] and "roads_label" not in c, c
    assert "roads_label" in classes(16, 34001, 21873)
    # TileJSON: each layer's levels
    st, _, body = get("/tiles/roads.json?format=pbf")
    vl = {v["id"]: (v["minzoom"], v["maxzoom"]) for v in json.loads(body)["vector_layers"]}
    assert vl == {"roads": (10, 24), "roads_label": (16, 24), "roads_all": (0, 24),
                  "roads_all_label": (0, 24)}, vl
    # a layer of point labels alone: its label points, not the lines no tile holds
    st, _, body = get("/tiles/names.json?format=pbf")
    vl = {v["id"]: (v["minzoom"], v["maxzoom"]) for v in json.loads(body)["vector_layers"]}
    assert vl == {"names_label": (16, 24)}, vl
    st, _, body = get("/tiles/names/17/68002/43746.pbf")
    ds = read_tile(body, "names.pbf")
    assert [ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount())] == ["names_label"]
    # OGC API - Tiles: the vector tileset's limits begin at its first level holding a layer
    st, _, body = get("/ogcapi/collections/names/tiles/WebMercatorQuad")
    assert st == 200, body[:200]
    limits = json.loads(body)["tileMatrixSetLimits"]
    assert limits[0]["tileMatrix"] == "16", limits[:2]
    st, _, body = get("/ogcapi/collections/names/map/tiles/WebMercatorQuad")
    assert json.loads(body)["tileMatrixSetLimits"][0]["tileMatrix"] != "16"  # the map's own


def test_tilejson_vector_layers_list_exactly_the_fields():
    st, _, body = get("/tiles/cadastre.json?format=pbf")
    assert st == 200, st
    tj = json.loads(body)
    assert tj["tiles"][0].endswith("/tiles/cadastre/{z}/{x}/{y}.pbf"), tj["tiles"]
    vl = {v["id"]: v for v in tj["vector_layers"]}
    assert list(vl) == ["parcels", "parcels_label", "buildings", "streets"], list(vl)
    assert vl["parcels_label"]["fields"] == vl["parcels"]["fields"], vl
    assert vl["parcels"]["fields"] == {"flstnr": "String", "flur": "Number", "zaehler": "Number",
                                       "gemarkung": "Number", "nutzung": "String"}, vl["parcels"]
    assert vl["buildings"]["fields"] == {"funktion": "String", "storeys": "Number",
                                         "height_m": "Number"}, vl["buildings"]
    assert vl["streets"]["fields"] == {"name": "String", "bridge": "Boolean",
                                       "class": "String"}, vl["streets"]
    # the levels whose tiles carry them (the styles' MaxScaleDenominators: parcels and
    # buildings 50000, streets 70000, parcel numbers 3000; the last level at every scale)
    zooms = {k: (v["minzoom"], v["maxzoom"]) for k, v in vl.items()}
    assert zooms == {"parcels": (12, 24), "parcels_label": (16, 24), "buildings": (12, 24),
                     "streets": (11, 24)}, zooms
    # the PNG TileJSON stays as it was
    st, _, body = get("/tiles/cadastre.json")
    tj = json.loads(body)
    assert tj["tiles"][0].endswith(".png") and "vector_layers" not in tj, tj


def test_features_left_out_for_max_bytes_are_counted_and_logged():
    """A tile over mvt.max_bytes leaves its smallest features out (documented); operators
    see it in /metrics and, once a minute at most, in the log (it had been silent)."""
    def metric(name):
        body = get("/metrics")[2].decode()
        m = re.search(r"^%s (\d+)$" % name, body, re.M)
        assert m, name
        return int(m.group(1))
    before = metric("tilesrv_mvt_features_dropped_total")
    tiles0 = metric("tilesrv_mvt_tiles_dropping_total")
    st, _, body = get("/tiles/tight/16/34001/21873.pbf")
    assert st == 200 and 0 < len(body) <= 1024, (st, len(body))
    st, _, full = get("/tiles/cadastre/16/34001/21873.pbf")
    assert len(full) > 1024
    assert metric("tilesrv_mvt_features_dropped_total") > before
    assert metric("tilesrv_mvt_tiles_dropping_total") == tiles0 + 1
    log = open(SRV[2]).read()
    assert re.search(r"vector tile tight/WebMercatorQuad/16/34001/21873: \d+ of \d+ features "
                     r"left out to stay within mvt.max_bytes \(1024 bytes\)", log), log[-2000:]


def test_tileset_extent_and_buffer_from_the_config():
    st, _, body = get("/tiles/wide/16/34001/21873.pbf")
    assert st == 200 and body
    ds = read_tile(body, "wide.pbf")
    lyr = ds.GetLayerByName("parcels")
    xs, ys = [], []
    for f in lyr:
        e = f.GetGeometryRef().GetEnvelope()
        xs += [e[0], e[1]]
        ys += [e[2], e[3]]
    # GDAL reports integer tile coordinates: 0..extent
    assert min(xs) >= 0 and max(xs) <= 8192 and max(xs) > 4096, (min(xs), max(xs))
    assert min(ys) >= 0 and max(ys) <= 8192 and max(ys) > 4096, (min(ys), max(ys))
    # cadastre: buffer 128 of 4096, so coordinates pass the edge by at most 128
    st, _, body = get("/tiles/cadastre/16/34001/21873.pbf")
    ds = read_tile(body, "buf.pbf")
    xs = []
    for f in ds.GetLayerByName("parcels"):
        e = f.GetGeometryRef().GetEnvelope()
        xs += [e[0], e[1]]
    assert min(xs) >= -128 and max(xs) <= 4096 + 128 and (min(xs) < 0 or max(xs) > 4096), xs


def adv_tile_of(x, y):
    col = int((x - ADV_ORIGIN[0]) // (256 * ADV_RES))
    row = int((ADV_ORIGIN[1] - y) // (256 * ADV_RES))
    return row, col


def test_wmts_and_grid_route_serve_the_same_tile_in_every_grid():
    row, col = adv_tile_of(344500, 5677500)
    kvp = ("/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cadastre&STYLE=default"
           "&TILEMATRIXSET=%s&TILEMATRIX=%s&TILEROW=%d&TILECOL=%d&FORMAT=") + MVT.replace("/", "%%2F")
    for tms, z, r, c in (("DE_EPSG_25832_ADV", "11", row, col),
                         ("WebMercatorQuad", "16", 21873, 34001)):
        st1, h1, b1 = get(kvp % (tms, z, r, c))
        st2, h2, b2 = get("/wmts/1.0.0/cadastre/default/%s/%s/%d/%d.pbf" % (tms, z, r, c))
        st3, h3, b3 = get("/tiles/cadastre/%s/%s/%d/%d.pbf" % (tms, z, c, r))
        assert (st1, st2, st3) == (200, 200, 200), (tms, st1, st2, st3, b1[:300])
        assert h1["content-type"] == MVT and h2["content-type"] == MVT, (h1, h2)
        assert b1 == b2 == b3 and len(b1) > 1000, (tms, len(b1), len(b2), len(b3))
        assert h1["etag"] == h2["etag"] == h3["etag"]
        # gzip when accepted
        st, hz, bz = get("/wmts/1.0.0/cadastre/default/%s/%s/%d/%d.pbf" % (tms, z, r, c),
                         {"Accept-Encoding": "gzip"})
        assert st == 200 and hz.get("content-encoding") == "gzip" and gzip.decompress(bz) == b1
    assert get("/tiles/cadastre/16/34001/21873.pbf")[2] == b1  # WebMercatorQuad = plain XYZ
    # the 25832 tile is not the Web Mercator one, and a grid the tileset lacks is 404
    assert get("/tiles/cadastre/WorldCRS84Quad/5/1/1.pbf")[0] == 404
    st, _, body = get((kvp % ("DE_EPSG_25832_ADV", "11", row, col)).replace(
        MVT.replace("/", "%2F"), "image%2Fgif"))
    assert st == 400 and b"InvalidParameterValue" in body, (st, body[:200])


def test_utm_tile_coordinates_match_the_source():
    row, col = adv_tile_of(344500, 5677500)
    st, _, body = get("/tiles/cadastre/DE_EPSG_25832_ADV/11/%d/%d.pbf" % (col, row))
    assert st == 200
    ds = read_tile(body, "adv.pbf")
    size = 256 * ADV_RES
    minx = ADV_ORIGIN[0] + col * size
    maxy = ADV_ORIGIN[1] - row * size
    unit = size / 4096.0   # metres per tile unit

    sds, src = source_layer("parcels")
    ssrs = src.GetSpatialRef().Clone()
    ssrs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_utm = osr.CoordinateTransformation(ssrs, _srs(25832))
    lyr = ds.GetLayerByName("parcels")
    checked = 0
    for f in lyr:
        g = f.GetGeometryRef().Clone()
        # GDAL's tile units without georeferencing: x right, y up from the bottom-left corner
        # (it flips the tile's y-down rows) -> UTM
        _map_coords(g, lambda x, y: (minx + x * unit, maxy - size + y * unit))
        sf = src.GetFeature(f["mvt_id"])  # held: the geometry lives as the feature
        s = sf.GetGeometryRef().Clone()
        s.Transform(to_utm)
        e = s.GetEnvelope()
        inside = e[0] > minx and e[1] < minx + size and e[2] > maxy - size and e[3] < maxy
        if not inside:
            continue
        c1, c2 = g.Centroid(), s.Centroid()
        d = ((c1.GetX() - c2.GetX()) ** 2 + (c1.GetY() - c2.GetY()) ** 2) ** 0.5
        assert d < 2 * unit, (f["mvt_id"], d, unit, c1.GetX(), c1.GetY(), c2.GetX(), c2.GetY())
        assert abs(g.GetArea() - s.GetArea()) <= 0.02 * s.GetArea() + 4 * unit * unit * 50, (
            f["mvt_id"], g.GetArea(), s.GetArea())
        checked += 1
    assert checked >= 20, checked


def _srs(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


def _map_coords(g, fn):
    if g.GetGeometryCount() > 0:
        for i in range(g.GetGeometryCount()):
            _map_coords(g.GetGeometryRef(i), fn)
        return
    for i in range(g.GetPointCount()):
        x, y = g.GetPoint_2D(i)
        g.SetPoint_2D(i, *fn(x, y))


def test_owslib_lists_the_vector_format_and_gets_the_tile():
    try:
        from owslib.wmts import WebMapTileService
    except ImportError:
        print("     (OWSLib missing: scripts/deps.sh --test installs python3-owslib)")
        raise
    w = WebMapTileService("http://127.0.0.1:%d/wmts" % SRV[1])
    lyr = w.contents["cadastre"]
    assert MVT in lyr.formats and "image/png" in lyr.formats, lyr.formats
    # image formats only among the REST templates: OpenLayers takes every tile template
    # of a layer whatever its format (openlayers#12901) and sent image requests to .pbf
    tiles = [u for u in lyr.resourceURLs if u["resourceType"] == "tile"]
    assert tiles and all(u["format"].startswith("image/") for u in tiles), tiles
    # the REST path of vector tiles still answers
    st, h, body = H.get(SRV[1], "/wmts/1.0.0/cadastre/default/WebMercatorQuad/16/21873/34001.pbf")
    assert st == 200 and h["content-type"] == MVT, (st, h)
    row, col = adv_tile_of(344500, 5677500)
    t = w.gettile(layer="cadastre", tilematrixset="DE_EPSG_25832_ADV", tilematrix="11",
                  row=row, column=col, format=MVT)
    data = t.read()
    ds = read_tile(data, "owslib.pbf")
    assert ds.GetLayerByName("parcels").GetFeatureCount() > 10


def test_unknown_attribute_refused_at_start_with_file_line():
    cfg = os.path.join(TMP, "bad.yaml")
    text = config_text(os.path.join(ARGS.srcdir, "data/demo/duesseldorf_demo.gpkg"),
                       os.path.join(ARGS.srcdir, "styles"))
    text = text.replace("mvt: {attributes: [funktion, storeys, height_m]}",
                        "mvt: {attributes: [funktion, stories]}")
    with open(cfg, "w") as f:
        f.write(text)
    line = [i + 1 for i, l in enumerate(text.split("\n")) if "stories" in l][0]
    r = subprocess.run([ARGS.binary, "check", "-c", cfg], capture_output=True, text=True,
                       timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert "bad.yaml:%d:" % line in out and "'stories'" in out, out


def test_attributes_the_style_reads_and_the_tiles_leave_out_are_named():
    """mvt attributes that leave out a field the style filters or labels on: the MapLibre
    style built from it cannot draw as the PNG does; tilesrv check says so at the
    attributes' line, naming the fields."""
    d = tempfile.mkdtemp(dir=TMP)
    cfg = os.path.join(d, "few.yaml")
    with open(cfg, "w") as f:
        f.write("sources:\n  demo: {path: %s}\nlayers:\n  parcels:\n    source: demo\n"
                "    style: %s\n    mvt: {attributes: [zaehler]}\ntilesets:\n"
                "  t: {layers: [parcels]}\n"
                % (os.path.join(ARGS.srcdir, "data/demo/duesseldorf_demo.gpkg"),
                   os.path.join(ARGS.srcdir, "styles/alkis_parcels.sld")))
    r = subprocess.run([ARGS.binary, "check", "-c", cfg], capture_output=True, text=True,
                       timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "few.yaml:7:" in out and "'nutzung'" in out and "'nenner'" in out, out
    assert "'zaehler'" not in out.split("leave out")[1].split("which")[0], out


def test_seed_pbf_into_mbtiles_reads_with_gdal():
    """tilesrv seed --format pbf --to out.mbtiles: gzip'd MVT tiles equal to the served ones,
    but for the file's last level, which clients overzoom: it carries what every larger scale
    draws (the parcel numbers of 1:3000, from level 16 in the served tiles); metadata
    format=pbf and json vector_layers as TileJSON's with the file's levels; ogrinfo (GDAL's
    MBTiles driver) lists the layers."""
    import sqlite3
    out = os.path.join(TMP, "out.mbtiles")
    cfg = os.path.join(TMP, "mvt.yaml")
    r = subprocess.run([ARGS.binary, "seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "14-15",
                        "--format", "pbf", "--to", out, "-q"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "tiles written" in r.stdout, r.stdout
    db = sqlite3.connect(out)
    meta = dict(db.execute("SELECT name, value FROM metadata"))
    assert meta["format"] == "pbf" and meta["minzoom"] == "14" and meta["maxzoom"] == "15", meta
    vl = {v["id"]: v for v in json.loads(meta["json"])["vector_layers"]}
    tj = {v["id"]: v for v in json.loads(get("/tiles/cadastre.json?format=pbf")[2])["vector_layers"]}
    # the layers of TileJSON; the parcel numbers at the last level only
    assert list(vl) == list(tj), (vl, tj)
    zooms = {k: (v["minzoom"], v["maxzoom"]) for k, v in vl.items()}
    assert zooms == {"parcels": (14, 15), "parcels_label": (15, 15), "buildings": (14, 15),
                     "streets": (14, 15)}, zooms
    assert all(vl[k]["fields"] == tj[k]["fields"] for k in vl), (vl, tj)
    rows = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles").fetchall()
    assert len(rows) > 10, len(rows)
    same = last = 0
    for z, x, tms_y, blob in rows:
        assert blob[:2] == b"\x1f\x8b", "tile not gzip'd"
        y = (1 << z) - 1 - tms_y
        tile = gzip.decompress(blob)
        if z == 14 and same < 8:
            st, _, served = get("/tiles/cadastre/%d/%d/%d.pbf" % (z, x, y))
            assert st == 200 and tile == served, (z, x, y, len(tile), len(served))
            same += 1
        elif z == 15 and last < 3:
            ds = read_tile(tile, "last_%d.pbf" % last)  # held: its layers die with it
            lyr = ds.GetLayerByName("parcels_label")
            assert lyr is not None and lyr.GetFeatureCount() > 0, (z, x, y)
            ds = None
            last += 1
    assert same >= 4 and last == 3, (same, last)
    db.close()
    r = subprocess.run(["ogrinfo", "-ro", "-so", out], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "MBTiles" in r.stdout, r.stdout + r.stderr
    for name in ("parcels", "buildings", "streets"):
        assert ("%s" % name) in r.stdout, r.stdout
    assert "format=pbf" in r.stdout, r.stdout
    ds = gdal.OpenEx(out, gdal.OF_VECTOR)
    assert ds.GetLayerByName("parcels").GetFeatureCount() > 100
    f = fields_of(ds.GetLayerByName("parcels"))
    assert {"flstnr", "flur", "nutzung"} <= set(f) and f["flur"][0] == "Real", f
    # a directory of .pbf files; MBTiles refused for a grid other than Web Mercator
    d = os.path.join(TMP, "pbfdir")
    r = subprocess.run([ARGS.binary, "seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "15",
                        "--format", "pbf", "--to", d, "-q"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    files = [os.path.join(dp, fn) for dp, _, fns in os.walk(d) for fn in fns if fn.endswith(".pbf")]
    assert len(files) > 5, files[:5]
    r = subprocess.run([ARGS.binary, "seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "15",
                        "--format", "pbf", "--resume", "--to", out], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "--resume" in r.stderr, r.stdout + r.stderr


def sld_fills(path):
    """{rule title: [fill colour of each symbolizer, None without one]} of an SLD file (the
    colours the PNG tiles use)."""
    import xml.etree.ElementTree as ET
    out = {}
    for rule in ET.parse(path).getroot().iter():
        if not rule.tag.endswith("}Rule"):
            continue
        title = [c.text for c in rule if c.tag.endswith("}Title")]
        syms = [c for c in rule if c.tag.endswith("Symbolizer")]
        fills = []
        for sym in syms:
            f = [c for c in sym.iter() if c.tag.endswith("}Fill")]
            p = [c.text.strip().lower() for c in (f[0].iter() if f else [])
                 if c.get("name") == "fill" and c.text]
            fills.append(p[0] if p else None)
        if title and title[0] not in out:
            out[title[0]] = fills
    return out


def test_maplibre_style_of_the_demo():
    """/styles/cadastre,parking,air.json on the demo configuration: sources at this server's
    TileJSON (absolute URLs from the Host), fill/line/circle layers for every layer with the
    SLD colours, symbol layers for the labels (parcel numbers, street names) after each
    tileset's other layers, in fonts this server's glyph URL serves; valid by
    @maplibre/maplibre-gl-style-spec (which finds the faults of a broken copy)."""
    srv = H.start_server()  # the bundled demo: cadastre, parking and air (simulated feeds)
    try:
        port = srv[1]
        st, hdr, body = H.get(port, "/styles/cadastre,parking,air.json", {"Host": "maps.example:81"})
        assert st == 200 and hdr["content-type"].startswith("application/json"), (st, hdr)
        style = json.loads(body)
        assert style["version"] == 8
        assert style["glyphs"] == "http://maps.example:81/fonts/{fontstack}/{range}.pbf", style
        # the x over stale bays is an icon (it was drawn as a second circle)
        assert style["sprite"] == \
            "http://maps.example:81/styles/cadastre,parking,air/sprite", style["sprite"]
        index = json.loads(H.get(port, "/styles/cadastre,parking,air/sprite.json")[2])
        icons = [l for l in style["layers"] if "icon-image" in l.get("layout", {})]
        assert [l["layout"]["icon-image"] for l in icons] == list(index) and \
            icons[0]["source-layer"] == "parking_bays", (icons, index)
        assert style["sources"] == {
            n: {"type": "vector", "url": "http://maps.example:81/tiles/%s.json?format=pbf" % n}
            for n in ("cadastre", "parking", "air")}, style["sources"]
        layers = style["layers"]
        assert layers[0]["type"] == "background", layers[0]
        assert all(l["type"] in ("background", "fill", "line", "circle", "symbol")
                   for l in layers)
        by_src = {}
        for l in layers[1:]:
            by_src.setdefault(l["source-layer"], set()).add(l["type"])
        # point labels read the tiles' "<layer>_label" points (one per feature)
        assert by_src == {"parcels": {"fill", "line"}, "parcels_label": {"symbol"},
                          "buildings": {"fill", "line"}, "streets": {"line", "symbol"},
                          "parking_bays": {"circle", "symbol"}, "air_stations": {"circle"},
                          "air_stations_label": {"symbol"}}, by_src
        assert style["metadata"]["tilesrv:skipped"] == [], style["metadata"]
        # every negation written without "!" (QGIS 3.22's converter reads "!" as no filter:
        # the air stations all showed 'keine Daten'), but for ["!", ["has", p]] of the null
        # guards, which it reads as IS NULL
        plain = body.replace(b'["!",["has",', b'')
        assert b'["!",' not in plain, plain[plain.find(b'["!",') - 200:][:400]
        # each tileset's labels over all its layers (as in its PNG), under the next tileset
        kinds = [(l["source"], l["type"] == "symbol") for l in layers[1:]]
        assert [k[0] for k in kinds] == sorted((k[0] for k in kinds),
                                              key=["cadastre", "parking", "air"].index), kinds
        kinds = [(l["source"], "text-field" in l.get("layout", {})) for l in layers[1:]]
        for src in ("cadastre", "air"):
            lab = [is_label for s_, is_label in kinds if s_ == src]
            assert lab == sorted(lab) and lab[-1], (src, kinds)
        fonts = json.loads(H.get(port, "/fonts.json")[2])
        for l in layers:
            if "text-field" not in l.get("layout", {}):
                continue
            assert l["layout"]["text-font"][0] in fonts, (l, fonts)
            if l["source-layer"] == "streets":
                assert l["layout"]["symbol-placement"] in ("line", "line-center"), l
                assert l["layout"]["text-field"] == ["to-string", ["get", "name"]], l
                assert l["layout"]["text-font"] == ["DejaVu Sans Oblique"], l
            elif l["source-layer"] == "parcels_label":
                assert "zaehler" in json.dumps(l["layout"]["text-field"]), l
                assert l["layout"]["text-anchor"] == "center", l
            else:  # station names right of the symbol: AnchorPoint (0, 0.5), Displacement
                assert l["layout"]["text-anchor"] == "left", l  # in ems, not turning with
                assert l["layout"]["text-offset"][0] > 0, l     # the map (text-translate)
            assert l["paint"]["text-halo-color"] == "rgba(255,255,255,1)", l
        # the SLD colours, rule by rule
        checked = 0
        for sld, layer, prop in (("alkis_parcels.sld", "parcels", "fill-color"),
                                 ("parking_state.sld", "parking_bays", "circle-color"),
                                 ("air_quality_uba.sld", "air_stations", "circle-color")):
            fills = sld_fills(os.path.join(ARGS.srcdir, "styles", sld))
            for l in layers[1:]:
                t = l.get("metadata", {}).get("tilesrv:rule")
                if l["source-layer"] == layer and t in fills and prop in l["paint"]:
                    si = int(l["id"].split("/")[4])  # tileset/layer/fts/rule/symbolizer
                    want = fills[t][si]
                    assert want is not None and l["paint"][prop] == want, (sld, t, l, want)
                    checked += 1
        assert checked >= 10, checked
        occ = [l for l in layers if l.get("source-layer") == "parking_bays" and
               l.get("filter") == ["==", ["get", "state"], "occupied"]]
        assert occ and occ[0]["paint"]["circle-color"] == "#d62728", occ
        # one tileset alone; unknown names are 404
        st, _, one = H.get(port, "/styles/cadastre.json")
        assert st == 200 and list(json.loads(one)["sources"]) == ["cadastre"]
        assert H.get(port, "/styles/nope.json")[0] == 404
        assert H.get(port, "/styles/cadastre")[0] == 404
        # the TileJSON the sources point at is there and lists the source layers
        tj = json.loads(H.get(port, "/tiles/parking.json?format=pbf")[2])
        assert [v["id"] for v in tj["vector_layers"]] == ["parking_bays"], tj
        # a live bay keeps one MVT feature id in every tile: its sensor id hashed to 53 bits
        # (MapLibre feature-state, promoteId-free), not its index in a tile or snapshot
        def fnv53(text):
            h = 1469598103934665603
            for ch in text.encode():
                h = ((h ^ ch) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
            return h & ((1 << 53) - 1)
        checked = 0
        for (x, y) in ((34000, 21872), (34001, 21872), (34000, 21873), (34001, 21873)):
            st, _, data = H.get(port, "/tiles/parking/16/%d/%d.mvt" % (x, y))
            if st != 200 or not data:
                continue
            ds = read_tile(data, "bays_%d_%d.mvt" % (x, y))
            lyr = ds.GetLayerByName("parking_bays")
            for ft in lyr:
                bay = ft.GetField("id")
                assert ft.GetField("mvt_id") == fnv53(bay), (bay, ft.GetField("mvt_id"))
                checked += 1
        assert checked > 3, checked
        # the style specification's validator
        node = shutil.which("node")
        if node is None:
            print("     (node missing: style-spec validation skipped)")
            return
        path = os.path.join(TMP, "style.json")
        with open(path, "wb") as f:
            f.write(body)
        v = os.path.join(ARGS.srcdir, "tests", "web", "validate_style.mjs")
        r = subprocess.run([node, v, path], capture_output=True, text=True, timeout=120)
        if r.returncode == 77:
            print("     (%s: style-spec validation skipped)" % r.stdout.strip())
            return
        assert r.returncode == 0, r.stdout + r.stderr
        broken = json.loads(body)
        broken["layers"][1]["paint"]["fill-color"] = 12
        broken["layers"][2]["filter"] = ["==", ["get"], 1, 2, 3]
        with open(path, "w") as f:
            json.dump(broken, f)
        r = subprocess.run([node, v, path], capture_output=True, text=True, timeout=120)
        assert r.returncode == 1 and r.stdout.count("error:") >= 2, r.stdout + r.stderr
    finally:
        rc, log = H.stop_server(srv)
        assert rc == 0, log[-2000:]


def _pb_fields(b):
    """(field, value) of one protobuf message: varints as ints, length-delimited as bytes."""
    i, out = 0, []
    def varint(i):
        r = s = 0
        while True:
            c = b[i]
            i += 1
            r |= (c & 0x7F) << s
            s += 7
            if c < 0x80:
                return r, i
    while i < len(b):
        k, i = varint(i)
        if k & 7 == 0:
            v, i = varint(i)
        elif k & 7 == 2:
            n, i = varint(i)
            v, i = b[i:i + n], i + n
        else:
            raise AssertionError("wire type %d" % (k & 7))
        out.append((k >> 3, v))
    return out


def _glyph_range(data):
    """(name, range, {code point: glyph dict}) of a glyphs protobuf with one stack."""
    stacks = _pb_fields(data)
    assert [f for f, _ in stacks] == [1], stacks[:3]
    name = rng = None
    glyphs = {}
    for f, v in _pb_fields(stacks[0][1]):
        if f == 1:
            name = v.decode()
        elif f == 2:
            rng = v.decode()
        elif f == 3:
            g = dict(_pb_fields(v))
            z = lambda u: (u >> 1) ^ -(u & 1)
            glyphs[g[1]] = {"bitmap": g.get(2, b""), "w": g[3], "h": g[4], "left": z(g[5]),
                            "top": z(g[6]), "advance": g[7]}
    return name, rng, glyphs


def test_label_points_once_per_feature():
    """parcels_label holds one point per parcel in the one tile that holds its label's place:
    over a 3 x 3 block of z17 tiles no parcel has two, every parcel whose polygon lies
    wholly inside the block has one."""
    seen, whole = {}, set()
    x0, y0, z = 68000, 43745, 17
    n = 1 << z
    def lon(x):
        return x / n * 360 - 180
    def lat(y):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
    block = (lon(x0), lat(y0 + 3), lon(x0 + 3), lat(y0))
    for dx in range(3):
        for dy in range(3):
            st, _, body = get("/tiles/cadastre/%d/%d/%d.pbf" % (z, x0 + dx, y0 + dy))
            assert st == 200, st
            ds = read_tile(body, "lab_%d_%d.pbf" % (dx, dy))
            lab = ds.GetLayerByName("parcels_label")
            assert lab is not None
            for f in lab:
                fid = f["mvt_id"]
                assert fid not in seen, ("twice", fid, seen[fid], (dx, dy))
                g = f.GetGeometryRef()
                seen[fid] = (dx, dy, g.GetX(), g.GetY())
    sds, src = source_layer("parcels")  # EPSG:25832: the block's corners into it
    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    utm = src.GetSpatialRef().Clone()
    utm.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(wgs, utm)
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for px, py in ((block[0], block[1]), (block[2], block[1]), (block[2], block[3]),
                   (block[0], block[3]), (block[0], block[1])):
        ring.AddPoint_2D(px, py)
    area = ogr.Geometry(ogr.wkbPolygon)
    area.AddGeometry(ring)
    area.Transform(ct)
    src.SetSpatialFilter(area)
    for feat in src:
        if area.Contains(feat.GetGeometryRef()):
            whole.add(feat.GetFID())
    assert len(whole) > 20, len(whole)
    missing = whole - set(seen)
    assert not missing, sorted(missing)[:10]


def test_glyph_ranges():
    """/fonts/{fontstack}/{start}-{end}.pbf: MapLibre's glyph protobuf, 24 px signed distance
    fields with a 3 px border (outline at 191, inside above), gzip when accepted, ETag and
    304; a stack takes each code point from its first font that has it; unknown fonts get
    the default face; ranges other than one block of 256 are 400; /fonts.json lists names."""
    srv = H.start_server()
    try:
        port = srv[1]
        st, hdr, body = H.get(port, "/fonts.json")
        assert st == 200 and hdr["content-type"] == "application/json", (st, hdr)
        fonts = json.loads(body)
        assert "DejaVu Sans Book" in fonts and "DejaVu Sans Bold" in fonts, fonts
        st, hdr, body = H.get(port, "/fonts/DejaVu%20Sans%20Book/0-255.pbf")
        assert st == 200 and hdr["content-type"] == "application/x-protobuf", (st, hdr)
        assert "content-encoding" not in hdr and "max-age" in hdr["cache-control"], hdr
        name, rng, glyphs = _glyph_range(body)
        assert name == "DejaVu Sans Book" and rng == "0-255", (name, rng)
        assert len(glyphs) > 180 and ord(" ") in glyphs and ord("A") in glyphs, len(glyphs)
        sp = glyphs[ord(" ")]
        assert sp["w"] == 0 and sp["bitmap"] == b"" and 5 <= sp["advance"] <= 9, sp
        for ch in "AIlg|":
            g = glyphs[ord(ch)]
            bw, bh = g["w"] + 6, g["h"] + 6
            assert len(g["bitmap"]) == bw * bh, (ch, g["w"], g["h"], len(g["bitmap"]))
            # the border is outside the glyph (below the outline), the field reaches 255
            border = [g["bitmap"][x] for x in range(bw)] + [g["bitmap"][(bh - 1) * bw + x]
                                                            for x in range(bw)]
            assert max(border) < 191 and max(g["bitmap"]) > 200, (ch, max(border))
        a = glyphs[ord("A")]
        assert 14 <= a["w"] <= 18 and 16 <= a["h"] <= 19 and 14 <= a["advance"] <= 18, a
        assert glyphs[ord("g")]["top"] < glyphs[ord("A")]["top"] + 1, glyphs[ord("g")]
        # the stem of an I: a column of inside pixels down its middle
        i = glyphs[ord("I")]
        bw = i["w"] + 6
        mid = [i["bitmap"][r * bw + bw // 2] for r in range(3 + 2, 3 + i["h"] - 2)]
        assert min(mid) >= 191, mid
        # gzip, validators
        st, hdr, gz = H.get(port, "/fonts/DejaVu%20Sans%20Book/0-255.pbf",
                            {"Accept-Encoding": "gzip"})
        assert st == 200 and hdr.get("content-encoding") == "gzip", hdr
        assert gzip.decompress(gz) == body and len(gz) < len(body) * 0.8
        st2, _, _ = H.get(port, "/fonts/DejaVu%20Sans%20Book/0-255.pbf",
                          {"If-None-Match": hdr["etag"], "Accept-Encoding": "gzip"})
        assert st2 == 304, st2
        # a stack: Latin-1 and beyond from the first font that has them
        st, _, b2 = H.get(port, "/fonts/DejaVu%20Sans%20Bold,DejaVu%20Sans%20Book/256-511.pbf")
        name, rng, g2 = _glyph_range(b2)
        assert st == 200 and rng == "256-511" and ord("\u0141") in g2, (st, rng)  # Ł
        bold = _glyph_range(H.get(port, "/fonts/DejaVu%20Sans%20Bold/0-255.pbf")[2])[2]
        assert bold[ord("A")]["advance"] > a["advance"] or bold[ord("A")]["w"] > a["w"]
        # a font this machine lacks (MapLibre's default stack): the default face, labels show
        st, _, b3 = H.get(port, "/fonts/Open%20Sans%20Regular,Arial%20Unicode%20MS%20Regular/0-255.pbf")
        name, _, g3 = _glyph_range(b3)
        # (the stack's name in the answer is the face's: unknown names share its cache entry)
        assert st == 200 and name == "DejaVu Sans Book", (st, name)
        assert ord("A") in g3
        # made-up names share the default face's cached answer; their bytes are not echoed
        st, h1, _ = H.get(port, "/fonts/Made%20Up%201/0-255.pbf")
        st2, h2, b5 = H.get(port, "/fonts/Made%0D%0AUp%FF/0-255.pbf")
        assert st == st2 == 200 and h1["etag"] == h2["etag"], (h1, h2)
        assert b"Made" not in b5 and b"\r\n" not in b5[:200]
        # known names win over unknown ones, in any order
        st, _, b4 = H.get(port, "/fonts/Nope%20Sans,DejaVu%20Sans%20Bold/0-255.pbf")
        assert _glyph_range(b4)[2][ord("A")] == bold[ord("A")]
        for bad in ("0-100", "1-256", "256-510", "65536-65791", "abc-def", "0-255.png",
                    "-256-0"):
            url = "/fonts/DejaVu%20Sans%20Book/" + (bad if bad.endswith(".png") else bad + ".pbf")
            st, _, msg = H.get(port, url)
            assert st == 400, (bad, st, msg[:200])
        assert H.get(port, "/fonts/DejaVu%20Sans%20Book")[0] == 404
        assert H.get(port, "/fonts/a/b/0-255.pbf")[0] == 404
        assert H.get(port, "/fonts/%20/0-255.pbf")[0] == 400
    finally:
        rc, log = H.stop_server(srv)
        assert rc == 0, log[-2000:]


def test_glyph_ranges_are_drawn_off_the_server_thread():
    """A glyph range not drawn yet takes tens of ms to draw: it is drawn on a render thread
    with its connection suspended, so the server thread goes on answering. With one server
    thread, /health asked after 16 new ranges is answered before most of them (it had
    waited behind all of them when they were drawn on the server thread), and every range
    comes back whole."""
    import http.client
    import threading
    cfg = os.path.join(TMP, "one_http_thread.yaml")
    with open(cfg, "w") as f:
        f.write(config_text(os.path.join(ARGS.srcdir, "data/demo/duesseldorf_demo.gpkg"),
                            os.path.join(ARGS.srcdir, "styles"))
                .replace('server: {listen: "127.0.0.1:1"}',
                         'server: {listen: "127.0.0.1:1", http_threads: 1}'))
    srv = H.start_server(cfg)
    try:
        port = srv[1]
        urls = ["/fonts/DejaVu%%20Sans%%20%s/%d-%d.pbf" % (face, a, a + 255)
                for face in ("Book", "Bold") for a in range(0, 2048, 256)]
        conns = []
        for u in urls:  # every request written before /health is asked
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            c.request("GET", u)
            conns.append(c)
        done = {}
        lock = threading.Lock()

        def read(i, c):
            r = c.getresponse()
            body = r.read()
            with lock:
                done[i] = (len(done), r.status, body)

        threads = [threading.Thread(target=read, args=(i, c)) for i, c in enumerate(conns)]
        for t in threads:
            t.start()
        st, _, _ = H.get(port, "/health")
        with lock:
            before = len(done)
        for t in threads:
            t.join(120)
        assert st == 200
        assert len(done) == len(urls), len(done)
        for i, (_, status, body) in done.items():
            assert status == 200, (urls[i], status, body[:200])
            name, rng, glyphs = _glyph_range(body)
            assert rng == "%d-%d" % (i % 8 * 256, i % 8 * 256 + 255), (urls[i], rng)
        assert before < len(urls) // 2, \
            "/health waited for %d of %d glyph ranges" % (before, len(urls))
        # drawn once: asked again, from the cache, the same bytes
        st, _, again = H.get(port, urls[3])
        assert st == 200 and again == done[3][2]
    finally:
        rc, log = H.stop_server(srv)
        assert rc == 0, log[-2000:]


def test_maplibre_style_of_filter_functions():
    """An SLD whose rules filter with GeoServer's in() and QGIS's upper(): the MapLibre
    style writes them as "any" of "==" and "upcase" (valid by the style spec when node is
    there), and the tiles draw what the filters select."""
    sld = os.path.join(TMP, "fn.sld")
    with open(sld, "w") as f:
        f.write("""<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"
 xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>b</Name><UserStyle><FeatureTypeStyle>
<Rule><Name>in</Name><ogc:Filter><ogc:PropertyIsEqualTo><ogc:Function name="in">
<ogc:PropertyName>funktion</ogc:PropertyName><ogc:Literal>garage</ogc:Literal>
<ogc:Literal>church</ogc:Literal></ogc:Function><ogc:Literal>true</ogc:Literal>
</ogc:PropertyIsEqualTo></ogc:Filter>
<PolygonSymbolizer><Fill><CssParameter name="fill">#ff0000</CssParameter></Fill></PolygonSymbolizer></Rule>
<Rule><Name>storeys</Name><ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>funktion</ogc:PropertyName>
<ogc:Literal>residential</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
<PolygonSymbolizer><Fill><CssParameter name="fill"><ogc:Function name="Categorize">
<ogc:PropertyName>storeys</ogc:PropertyName><ogc:Literal>#00ff00</ogc:Literal><ogc:Literal>3</ogc:Literal>
<ogc:Literal>#ffff00</ogc:Literal></ogc:Function></CssParameter></Fill>
<Stroke><CssParameter name="stroke-width"><ogc:Function name="Interpolate"><ogc:PropertyName>height_m</ogc:PropertyName>
<ogc:Literal>0</ogc:Literal><ogc:Literal>0.5</ogc:Literal><ogc:Literal>30</ogc:Literal><ogc:Literal>3</ogc:Literal>
</ogc:Function></CssParameter></Stroke></PolygonSymbolizer></Rule>
<Rule><Name>upper</Name><ogc:Filter><ogc:PropertyIsEqualTo><ogc:Function name="upper">
<ogc:PropertyName>funktion</ogc:PropertyName></ogc:Function><ogc:Literal>COMMERCIAL</ogc:Literal>
</ogc:PropertyIsEqualTo></ogc:Filter>
<PolygonSymbolizer><Fill><CssParameter name="fill">#0000ff</CssParameter></Fill></PolygonSymbolizer></Rule>
</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>
""")
    cfg = os.path.join(TMP, "fn.yaml")
    with open(cfg, "w") as f:
        f.write("sources:\n  demo: {path: %s}\nlayers:\n  b: {source: demo, table: buildings, "
                "style: %s}\ntilesets:\n  fn: {layers: [b]}\n"
                % (os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"), sld))
    srv = H.start_server(cfg)
    try:
        port = srv[1]
        st, _, body = H.get(port, "/styles/fn.json")
        assert st == 200, (st, body[:300])
        style = json.loads(body)
        filters = {l["metadata"]["tilesrv:rule"]: l.get("filter") for l in style["layers"]
                   if "tilesrv:rule" in l.get("metadata", {})}
        assert filters["in"] == ["any", ["==", ["get", "funktion"], "garage"],
                                 ["==", ["get", "funktion"], "church"]], filters
        assert filters["upper"] == ["==", ["upcase", ["to-string", ["get", "funktion"]]],
                                    "COMMERCIAL"], filters
        # colours and widths from the feature: data-driven paint
        paint = {(l["metadata"]["tilesrv:rule"], l["type"]): l["paint"] for l in style["layers"]
                 if "tilesrv:rule" in l.get("metadata", {})}
        # (a null input draws the fixed value, as the PNG does)
        assert paint[("storeys", "fill")]["fill-color"] == [
            "case", ["==", ["get", "storeys"], None], "#808080",
            ["to-color", ["to-string", ["step", ["to-number", ["get", "storeys"], 0], "#00ff00",
                                        3, "#ffff00"]], "#808080"]], paint
        assert paint[("storeys", "line")]["line-width"] == [
            "case", ["==", ["get", "height_m"], None], 1,
            ["to-number", ["interpolate", ["linear"], ["to-number", ["get", "height_m"], 0],
                           0, 0.5, 30, 3], 1]], paint
        # the PNG tile has both colours
        st, _, png = H.get(port, "/tiles/fn/17/68002/43746.png")
        assert st == 200, st
        path = os.path.join(TMP, "fn.png")
        with open(path, "wb") as f:
            f.write(png)
        ds = gdal.Open(path)
        r, g, b = (ds.GetRasterBand(i).ReadAsArray() for i in (1, 2, 3))
        red = int(((r > 200) & (g < 60) & (b < 60)).sum())
        blue = int(((b > 200) & (r < 60) & (g < 60)).sum())
        green = int(((g > 200) & (r < 60) & (b < 60)).sum())
        yellow = int(((r > 200) & (g > 200) & (b < 60)).sum())
        assert red > 50 and blue > 50 and green + yellow > 50, (red, blue, green, yellow)
        node = shutil.which("node")
        if node is None:
            return
        spath = os.path.join(TMP, "fn_style.json")
        with open(spath, "wb") as f:
            f.write(body)
        v = os.path.join(ARGS.srcdir, "tests", "web", "validate_style.mjs")
        r = subprocess.run([node, v, spath], capture_output=True, text=True, timeout=120)
        assert r.returncode in (0, 77), r.stdout + r.stderr
    finally:
        rc, log = H.stop_server(srv)
        assert rc == 0, log[-2000:]


def test_maplibre_style_of_labels_and_font_marks():
    """A TextSymbolizer with LinePlacement, repeat, maxAngleDelta, Priority, autoWrap and
    conflictResolution=false, one with a rotated, displaced PointPlacement, and a ttf://
    font mark: symbol layers carrying each of them (valid by the style spec when node is
    there), in fonts /fonts serves."""
    sld = os.path.join(TMP, "labels.sld")
    with open(sld, "w") as f:
        f.write("""<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"
 xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>s</Name><UserStyle><FeatureTypeStyle>
<Rule><Name>names</Name><TextSymbolizer><Label>Nr. <ogc:PropertyName>name</ogc:PropertyName></Label>
<Font><CssParameter name="font-family">Arial</CssParameter><CssParameter name="font-size">12</CssParameter>
<CssParameter name="font-weight">bold</CssParameter></Font>
<LabelPlacement><LinePlacement><PerpendicularOffset>6</PerpendicularOffset></LinePlacement></LabelPlacement>
<Halo><Radius>2</Radius><Fill><CssParameter name="fill">#ffff00</CssParameter>
<CssParameter name="fill-opacity">0.5</CssParameter></Fill></Halo>
<Fill><CssParameter name="fill">#123456</CssParameter></Fill>
<Priority><ogc:PropertyName>rank</ogc:PropertyName></Priority>
<VendorOption name="repeat">300</VendorOption><VendorOption name="maxAngleDelta">30</VendorOption>
<VendorOption name="autoWrap">60</VendorOption><VendorOption name="conflictResolution">false</VendorOption>
</TextSymbolizer></Rule>
<Rule><Name>points</Name><TextSymbolizer><Label><ogc:PropertyName>name</ogc:PropertyName></Label>
<Font><CssParameter name="font-family">DejaVu Serif</CssParameter><CssParameter name="font-style">italic</CssParameter></Font>
<LabelPlacement><PointPlacement><AnchorPoint><AnchorPointX>0.5</AnchorPointX><AnchorPointY>0</AnchorPointY></AnchorPoint>
<Displacement><DisplacementX>0</DisplacementX><DisplacementY>8</DisplacementY></Displacement>
<Rotation>-30</Rotation></PointPlacement></LabelPlacement></TextSymbolizer>
<PointSymbolizer><Graphic><Mark><WellKnownName>ttf://DejaVu Sans#0x2605</WellKnownName>
<Fill><CssParameter name="fill">#ff0000</CssParameter></Fill></Mark><Size>14</Size></Graphic></PointSymbolizer></Rule>
</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>
""")
    gj = os.path.join(TMP, "labels.geojson")
    with open(gj, "w") as f:
        f.write('{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
                '{"name":"Rhein","rank":5},"geometry":{"type":"LineString","coordinates":'
                '[[6.77,51.22],[6.78,51.23]]}}]}')
    cfg = os.path.join(TMP, "labels.yaml")
    with open(cfg, "w") as f:
        f.write("sources:\n  s: {path: %s}\nlayers:\n  s: {source: s, table: labels, style: %s}\n"
                "tilesets:\n  t: {layers: [s]}\n" % (gj, sld))
    srv = H.start_server(cfg)
    try:
        port = srv[1]
        st, _, body = H.get(port, "/styles/t.json")
        assert st == 200, (st, body[:300])
        style = json.loads(body)
        fonts = json.loads(H.get(port, "/fonts.json")[2])
        sym = [l for l in style["layers"] if l["type"] == "symbol"]
        assert len(sym) == 3 and style["metadata"]["tilesrv:skipped"] == [], style
        mark = [l for l in sym if "icon-image" in l["layout"]]
        sym = [l for l in sym if "text-field" in l["layout"]]
        line = [l for l in sym if l["layout"].get("symbol-placement") == "line"]
        point = [l for l in sym if l["layout"].get("text-rotate") is not None]
        assert len(mark) == len(line) == len(point) == 1, (mark, sym)
        lay, pt = line[0]["layout"], line[0]["paint"]
        assert lay["text-field"] == ["concat", "Nr.", ["get", "name"]], lay  # as the PNG
        assert lay["text-font"] == ["DejaVu Sans Bold"] and lay["text-size"] == 12, lay
        assert lay["symbol-spacing"] == 300 and lay["text-max-angle"] == 30, lay
        assert lay["text-max-width"] == 5 and lay["text-offset"] == [0, -0.5], lay
        assert lay["text-allow-overlap"] is True and lay["text-ignore-placement"] is True, lay
        assert lay["symbol-sort-key"] == ["*", -1, ["to-number", ["get", "rank"], 1000]], lay
        assert pt["text-color"] == "#123456", pt
        assert pt["text-halo-color"] == "rgba(255,255,0,0.5)" and pt["text-halo-width"] == 2, pt
        lay, pt = point[0]["layout"], point[0]["paint"]
        assert lay["text-anchor"] == "bottom" and lay["text-rotate"] == -30, lay
        assert lay["text-font"] == ["DejaVu Serif Italic"] and lay["text-max-width"] == 1000, lay
        assert lay["text-offset"] == [0, -0.8] and "text-translate" not in pt, (lay, pt)
        # the font mark: an icon of the sprite sheet, drawn as the PNG draws it
        assert mark[0]["layout"]["icon-image"] == "t/s/0/1/1", mark
        assert style["sprite"] == "http://127.0.0.1:%d/styles/t/sprite" % port, style["sprite"]
        index = json.loads(H.get(port, "/styles/t/sprite.json")[2])
        assert list(index) == ["t/s/0/1/1"], index
        st, hdr, png = H.get(port, "/styles/t/sprite.png")
        assert st == 200 and hdr["content-type"] == "image/png", (st, hdr)
        for l in sym:
            assert l["layout"]["text-font"][0] in fonts, (l, fonts)
        # the font of each: the glyph range of its text is served
        st, _, pbf = H.get(port, "/fonts/DejaVu%20Sans%20Book/9728-9983.pbf")  # U+2605
        assert st == 200 and 0x2605 in _glyph_range(pbf)[2]
        node = shutil.which("node")
        if node is None:
            return
        spath = os.path.join(TMP, "labels_style.json")
        with open(spath, "wb") as f:
            f.write(body)
        v = os.path.join(ARGS.srcdir, "tests", "web", "validate_style.mjs")
        r = subprocess.run([node, v, spath], capture_output=True, text=True, timeout=120)
        assert r.returncode in (0, 77), r.stdout + r.stderr
    finally:
        rc, log = H.stop_server(srv)
        assert rc == 0, log[-2000:]


def test_maplibre_else_filter_follows_its_siblings_scale_ranges():
    """An ElseFilter draws what no sibling *in scale* draws (the PNG's rule): beside a rule of
    'public' parcels up to 1:20000, the else rule draws the other parcels below 1:20000 and
    all of them above. MapLibre has one zoom range per layer: the else rule becomes one
    layer per window of scales (cut at 1:20000), each excluding the siblings in scale
    there. It had excluded the public parcels at every zoom, leaving holes."""
    d = tempfile.mkdtemp(dir=TMP)
    sld = os.path.join(d, "else.sld")
    with open(sld, "w") as f:
        f.write('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" '
                'xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>x</Name><UserStyle>'
                '<FeatureTypeStyle><Rule><Name>pub</Name><ogc:Filter><ogc:PropertyIsEqualTo>'
                '<ogc:PropertyName>nutzung</ogc:PropertyName><ogc:Literal>public</ogc:Literal>'
                '</ogc:PropertyIsEqualTo></ogc:Filter><MaxScaleDenominator>20000'
                '</MaxScaleDenominator><PolygonSymbolizer><Fill/></PolygonSymbolizer></Rule>'
                '<Rule><Name>else</Name><ElseFilter/><MinScaleDenominator>5000'
                '</MinScaleDenominator><PolygonSymbolizer><Fill/></PolygonSymbolizer></Rule>'
                '</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>')
    cfg = os.path.join(d, "else.yaml")
    with open(cfg, "w") as f:
        f.write("sources:\n  s: {path: %s}\nlayers:\n  pelse: {source: s, table: parcels, "
                "style: %s}\ntilesets:\n  edge: {layers: [pelse]}\n"
                % (os.path.join(ARGS.srcdir, "data/demo/duesseldorf_demo.gpkg"), sld))
    srv = H.start_server(cfg)
    try:
        c = http.client.HTTPConnection("127.0.0.1", srv[1], timeout=60)
        c.request("GET", "/styles/edge.json")
        r = c.getresponse()
        body = r.read()
        c.close()
        assert r.status == 200, body[:200]
        layers = {l["id"]: l for l in json.loads(body)["layers"]}
        z20k = round(math.log2(559082264.028718 / 20000) - 1, 3)
        z5k = round(math.log2(559082264.028718 / 5000) - 1, 3)
        below = layers["edge/pelse/0/1/0/s0"]   # 1:5000 to 1:20000: not the public ones
        above = layers["edge/pelse/0/1/0/s1"]   # from 1:20000: every parcel
        assert (below.get("minzoom"), below.get("maxzoom")) == (z20k, z5k), below
        assert below["filter"] == ["all", ["!=", ["get", "nutzung"], "public"]], below
        assert (above.get("minzoom"), above.get("maxzoom")) == (None, z20k), above
        assert above["filter"] == ["all"], above
        assert "edge/pelse/0/1/0" not in layers
    finally:
        H.stop_server(srv)


def test_maplibre_filters_treat_null_as_the_png_does():
    """A comparison with a null or missing attribute is false in the PNG (and its negation
    true); MapLibre's to-number makes null 0 and compared it: a graduated SLD drew its NULL
    features in the class of 0. The style's filters, evaluated by MapLibre's own filter
    code, select the features the PNG renderer's rules select."""
    node = shutil.which("node")
    if node is None:
        print("    (node not installed: skipped)")
        return
    sld = os.path.join(TMP, "nulls.sld")
    with open(sld, "w") as f:
        f.write('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" '
                'xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>p</Name><UserStyle>'
                '<FeatureTypeStyle>'
                '<Rule><Name>low</Name><ogc:Filter><ogc:PropertyIsLessThan><ogc:PropertyName>'
                'zaehler</ogc:PropertyName><ogc:Literal>300</ogc:Literal>'
                '</ogc:PropertyIsLessThan></ogc:Filter><PolygonSymbolizer><Fill/></PolygonSymbolizer></Rule>'
                '<Rule><Name>else</Name><ElseFilter/><PolygonSymbolizer><Fill/></PolygonSymbolizer></Rule>'
                '<Rule><Name>ring</Name><ogc:Filter><ogc:PropertyIsNotEqualTo><ogc:PropertyName>'
                'zaehler</ogc:PropertyName><ogc:Literal>1000</ogc:Literal>'
                '</ogc:PropertyIsNotEqualTo></ogc:Filter><LineSymbolizer><Stroke/></LineSymbolizer></Rule>'
                '</FeatureTypeStyle><FeatureTypeStyle>'
                '<Rule><Name>mid</Name><ogc:Filter><ogc:PropertyIsBetween><ogc:PropertyName>'
                'zaehler</ogc:PropertyName><ogc:LowerBoundary><ogc:Literal>-10</ogc:Literal>'
                '</ogc:LowerBoundary><ogc:UpperBoundary><ogc:Literal>500</ogc:Literal>'
                '</ogc:UpperBoundary></ogc:PropertyIsBetween></ogc:Filter>'
                '<LineSymbolizer><Stroke/></LineSymbolizer></Rule>'
                '<Rule><Name>notmid</Name><ogc:Filter><ogc:Not><ogc:PropertyIsBetween>'
                '<ogc:PropertyName>zaehler</ogc:PropertyName><ogc:LowerBoundary><ogc:Literal>-10'
                '</ogc:Literal></ogc:LowerBoundary><ogc:UpperBoundary><ogc:Literal>500'
                '</ogc:Literal></ogc:UpperBoundary></ogc:PropertyIsBetween></ogc:Not>'
                '</ogc:Filter><LineSymbolizer><Stroke/></LineSymbolizer></Rule>'
                '</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>')
    cfg = os.path.join(TMP, "nulls.yaml")
    with open(cfg, "w") as f:
        f.write(config_text(os.path.join(ARGS.srcdir, "data/demo/duesseldorf_demo.gpkg"),
                            os.path.join(ARGS.srcdir, "styles"))
                .replace("style: %s/alkis_parcels.sld" % os.path.join(ARGS.srcdir, "styles"),
                         "style: %s" % sld))
    srv = H.start_server(cfg)
    try:
        st, _, body = H.get(srv[1], "/styles/wide.json")
        assert st == 200, (st, body[:300])
    finally:
        rc, log = H.stop_server(srv)
        assert rc == 0, log[-2000:]
    spath, fpath = os.path.join(TMP, "nulls_style.json"), os.path.join(TMP, "nulls_feats.json")
    with open(spath, "wb") as f:
        f.write(body)
    # a vector tile leaves a null value out: null and missing are one case in the tiles
    values = [100, None, None, 1000, -5, 600]
    feats = [{"type": 3, "properties": {} if v is None else {"zaehler": v}} for v in values]
    with open(fpath, "w") as f:
        json.dump(feats, f)
    r = subprocess.run([node, os.path.join(ARGS.srcdir, "tests", "web", "eval_filters.mjs"),
                        spath, fpath], capture_output=True, text=True, timeout=120)
    if r.returncode == 77:
        print("    (" + r.stdout.strip() + ": skipped)")
        return
    assert r.returncode == 0, r.stdout + r.stderr
    got = {}
    for lid, idx in json.loads(r.stdout).items():
        rule = "/".join(lid.split("/")[2:4])  # wide/<layer>/<fts>/<rule>/<sym>
        got.setdefault(rule, set()).update(idx)
    # the PNG's semantics: null and missing make each comparison false, its negation true
    want = {"0/0": {0, 4},          # zaehler < 300
            "0/1": {1, 2, 3},       # else: neither < 300 nor != 1000
            "0/2": {0, 4, 5},       # zaehler != 1000
            "1/0": {0, 4},          # -10 <= zaehler <= 500
            "1/1": {1, 2, 3, 5}}    # not (between)
    assert {k: got.get(k) for k in want} == want, (got, want)


def test_maplibre_filters_of_like_patterns_select_what_the_png_does():
    """PropertyIsLike in the MapLibre style (QGIS writes its rule-based B-Plan classes as
    LIKE 'a1%'): exact texts and prefixes as text comparisons (["==", ...]; ">=" the prefix
    and "<" the next one), case-insensitive ones downcased, null guarded, ElseFilter the
    complement; evaluated by MapLibre's own filter code they select what the PNG's rules do.
    Such rules had been left out of the style, with their ElseFilter."""
    node = shutil.which("node")
    if node is None:
        print("    (node not installed: skipped)")
        return
    def like(pattern, case=""):
        return ('<Rule><ogc:Filter><ogc:PropertyIsLike wildCard="%%" singleChar="_" '
                'escape="\\"%s><ogc:PropertyName>nutzung</ogc:PropertyName><ogc:Literal>%s'
                '</ogc:Literal></ogc:PropertyIsLike></ogc:Filter><PolygonSymbolizer><Fill/>'
                '</PolygonSymbolizer></Rule>' % (case, pattern))
    sld = os.path.join(TMP, "like.sld")
    with open(sld, "w") as f:
        f.write('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" '
                'xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>p</Name><UserStyle>'
                '<FeatureTypeStyle>' + like("a1%") + like("b") +
                like("c%", ' matchCase="false"') +
                '<Rule><ElseFilter/><PolygonSymbolizer><Fill/></PolygonSymbolizer></Rule>'
                '</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>')
    cfg = os.path.join(TMP, "like.yaml")
    with open(cfg, "w") as f:
        f.write(config_text(os.path.join(ARGS.srcdir, "data/demo/duesseldorf_demo.gpkg"),
                            os.path.join(ARGS.srcdir, "styles"))
                .replace("style: %s/alkis_parcels.sld" % os.path.join(ARGS.srcdir, "styles"),
                         "style: %s" % sld))
    srv = H.start_server(cfg)
    try:
        st, _, body = H.get(srv[1], "/styles/wide.json")
        assert st == 200, (st, body[:300])
    finally:
        rc, log = H.stop_server(srv)
        assert rc == 0, log[-2000:]
    assert "PropertyIsLike" not in json.dumps(json.loads(body)["metadata"]), body[:2000]
    spath, fpath = os.path.join(TMP, "like_style.json"), os.path.join(TMP, "like_feats.json")
    with open(spath, "wb") as f:
        f.write(body)
    values = ["a1", "a10", "a2", "A1x", "b", "bb", "c7", "C8", None, 12]
    feats = [{"type": 3, "properties": {} if v is None else {"nutzung": v}} for v in values]
    with open(fpath, "w") as f:
        json.dump(feats, f)
    r = subprocess.run([node, os.path.join(ARGS.srcdir, "tests", "web", "eval_filters.mjs"),
                        spath, fpath], capture_output=True, text=True, timeout=120)
    if r.returncode == 77:
        print("    (" + r.stdout.strip() + ": skipped)")
        return
    assert r.returncode == 0, r.stdout + r.stderr
    got = {}
    for lid, idx in json.loads(r.stdout).items():
        rule = "/".join(lid.split("/")[2:4])  # wide/<layer>/<fts>/<rule>/<sym>
        got.setdefault(rule, set()).update(idx)
    want = {"0/0": {0, 1},            # LIKE 'a1%' (case matters: not A1x)
            "0/1": {4},               # LIKE 'b': the text itself
            "0/2": {6, 7},            # LIKE 'c%' matchCase="false"
            "0/3": {2, 3, 5, 8, 9}}   # else: null and the number 12 too
    assert {k: got.get(k) for k in want} == want, (got, want)


def test_style_and_sprite_names_are_checked_alike():
    """/styles/{names}.json and its sprite take the same names: known, each once, 1 to 16;
    a 404 says which name is wrong (the sprite took a name twice and wrote its icons twice
    under one key, or more names than the style takes)."""
    port = SRV[1]
    for names, why in (("cadastre,cadastre", "named twice"), ("cadastre,nope", "'nope'"),
                       (",".join(["cadastre"] * 17), "1 to 16"), ("cadastre,,wide", "1 to 16")):
        for path in ("/styles/%s.json" % names, "/styles/%s/sprite.json" % names,
                     "/styles/%s/sprite@2x.png" % names):
            st, _, body = H.get(port, path)
            assert st == 404 and why.encode() in body, (path, st, body[:200])
    for path in ("/styles/cadastre,wide.json", "/styles/cadastre,wide/sprite.json"):
        assert H.get(port, path)[0] == 200, path
    st, _, body = H.get(port, "/styles/cadastre/sprite@3x.png")
    assert st == 404 and b"sprite[@2x]" in body, body[:200]


def test_maplibre_sprites_of_icons_and_patterns():
    """Point graphics a circle layer cannot draw (a rotated star, an ExternalGraphic PNG, a
    font mark) and a GraphicFill become symbol and fill-pattern layers whose icons are in
    /styles/{name}/sprite[@2x].json|png, drawn by the renderer: every icon the style names
    is in the index, at its place in the sheet in its colours, twice the size at @2x; a
    shape:// line hatch is listed as skipped; unknown styles are 404."""
    gdal.UseExceptions()
    icon = os.path.join(TMP, "icon.png")
    mem = gdal.GetDriverByName("MEM").Create("", 16, 16, 4, gdal.GDT_Byte)
    for band, v in zip(range(1, 5), (30, 120, 200, 255)):
        mem.GetRasterBand(band).Fill(v)
    gdal.GetDriverByName("PNG").CreateCopy(icon, mem)
    with open(os.path.join(TMP, "marker.svg"), "w") as f:  # as QGIS's markers are written
        f.write('<svg xmlns="http://www.w3.org/2000/svg" height="32" width="32" '
                'viewBox="0 0 32 32"><path d="M16 2 L30 30 H2 Z" fill="param(fill) #00aa55" '
                'stroke="param(outline)" stroke-width="param(outline-width)"/>'
                '<circle cx="16" cy="20" r="4" fill="#ffffff"/></svg>')
    sld = os.path.join(TMP, "sprites.sld")
    with open(sld, "w") as f:
        f.write("""<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"
 xmlns:ogc="http://www.opengis.net/ogc" xmlns:xlink="http://www.w3.org/1999/xlink">
<NamedLayer><Name>p</Name><UserStyle><FeatureTypeStyle>
<Rule><Name>star</Name><PointSymbolizer><Graphic><Mark><WellKnownName>star</WellKnownName>
<Fill><CssParameter name="fill">#ff0000</CssParameter></Fill></Mark><Size>20</Size>
<Rotation>15</Rotation></Graphic></PointSymbolizer></Rule>
<Rule><Name>img</Name><PointSymbolizer><Graphic><ExternalGraphic><OnlineResource
 xlink:type="simple" xlink:href="icon.png"/><Format>image/png</Format></ExternalGraphic>
<Size>24</Size></Graphic></PointSymbolizer></Rule>
<Rule><Name>svg</Name><PointSymbolizer><Graphic><ExternalGraphic><OnlineResource
 xlink:type="simple" xlink:href="marker.svg"/><Format>image/svg+xml</Format></ExternalGraphic>
<Size>20</Size><Displacement><DisplacementX>40</DisplacementX><DisplacementY>0</DisplacementY>
</Displacement></Graphic></PointSymbolizer></Rule>
<Rule><Name>dot</Name><PointSymbolizer><Graphic><Mark><WellKnownName>circle</WellKnownName>
<Fill><CssParameter name="fill">#00ff00</CssParameter></Fill></Mark><Size>8</Size></Graphic>
</PointSymbolizer></Rule>
</FeatureTypeStyle></UserStyle></NamedLayer>
<NamedLayer><Name>a</Name><UserStyle><FeatureTypeStyle>
<Rule><Name>dots</Name><PolygonSymbolizer><Fill><GraphicFill><Graphic><Mark>
<WellKnownName>square</WellKnownName><Fill><CssParameter name="fill">#008800</CssParameter></Fill>
</Mark><Size>6</Size></Graphic></GraphicFill></Fill></PolygonSymbolizer></Rule>
<Rule><Name>hatch</Name><PolygonSymbolizer><Fill><GraphicFill><Graphic><Mark>
<WellKnownName>shape://horline</WellKnownName><Stroke><CssParameter name="stroke">#880000</CssParameter>
</Stroke></Mark><Size>8</Size></Graphic></GraphicFill></Fill></PolygonSymbolizer></Rule>
</FeatureTypeStyle></UserStyle></NamedLayer>
<NamedLayer><Name>l</Name><UserStyle><FeatureTypeStyle>
<Rule><Name>rail</Name><LineSymbolizer><Stroke><GraphicStroke><Graphic><Mark>
<WellKnownName>shape://vertline</WellKnownName><Stroke><CssParameter name="stroke">#333333</CssParameter>
<CssParameter name="stroke-width">2</CssParameter></Stroke></Mark><Size>10</Size></Graphic>
<Gap>8</Gap></GraphicStroke></Stroke></LineSymbolizer></Rule>
</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>
""")
    line = os.path.join(TMP, "sprite_line.geojson")
    with open(line, "w") as f:
        f.write('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                '"geometry":{"type":"LineString","coordinates":[[6.77,51.2255],[6.776,51.224]]}}]}')
    pts = os.path.join(TMP, "sprite_points.geojson")
    with open(pts, "w") as f:
        f.write('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                '"geometry":{"type":"Point","coordinates":[6.773,51.224]}}]}')
    area = os.path.join(TMP, "sprite_area.geojson")
    with open(area, "w") as f:
        f.write('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                '"geometry":{"type":"Polygon","coordinates":[[[6.77,51.222],[6.7725,51.222],'
                '[6.7725,51.2235],[6.77,51.2235],[6.77,51.222]]]}}]}')
    cfg = os.path.join(TMP, "sprites.yaml")
    with open(cfg, "w") as f:
        f.write("sources:\n  p: {path: %s}\n  a: {path: %s}\n  l: {path: %s}\nlayers:\n"
                "  p: {source: p, table: sprite_points, style: %s}\n"
                "  a: {source: a, table: sprite_area, style: %s}\n"
                "  l: {source: l, table: sprite_line, style: %s}\n"
                "tilesets:\n  t: {layers: [a, l, p]}\n" % (pts, area, line, sld, sld, sld))
    srv = H.start_server(cfg)
    try:
        port = srv[1]
        st, _, body = H.get(port, "/styles/t.json")
        assert st == 200, (st, body[:300])
        style = json.loads(body)
        assert style["sprite"] == "http://127.0.0.1:%d/styles/t/sprite" % port, style
        by_rule = {l["metadata"]["tilesrv:rule"]: l for l in style["layers"]
                   if "tilesrv:rule" in l.get("metadata", {})}
        assert by_rule["dot"]["type"] == "circle", by_rule["dot"]  # exact as a circle layer
        star, img = by_rule["star"]["layout"], by_rule["img"]["layout"]
        assert star["icon-rotate"] == 15 and star["icon-anchor"] == "center", star
        assert star["icon-allow-overlap"] is True, star
        assert by_rule["dots"]["type"] == "fill", by_rule["dots"]
        rail = by_rule["rail"]
        assert rail["type"] == "line" and "line-color" not in rail["paint"], rail
        svg = by_rule["svg"]["layout"]
        assert svg["icon-offset"] == [40, 0], svg
        names = {star["icon-image"], img["icon-image"], by_rule["dots"]["paint"]["fill-pattern"],
                 rail["paint"]["line-pattern"], svg["icon-image"]}
        assert "hatch" not in by_rule and any("hatch" in x for x in
                                              style["metadata"]["tilesrv:skipped"]), style
        sheets = {}
        for ratio, suffix in ((1, ""), (2, "@2x")):
            st, hdr, idx = H.get(port, "/styles/t/sprite%s.json" % suffix)
            assert st == 200 and hdr["content-type"] == "application/json", (st, hdr)
            index = json.loads(idx)
            assert set(index) == names, (index, names)
            st, hdr, png = H.get(port, "/styles/t/sprite%s.png" % suffix)
            assert st == 200 and hdr["content-type"] == "image/png", (st, hdr)
            path = os.path.join(TMP, "sprite%s.png" % suffix)
            with open(path, "wb") as f:
                f.write(png)
            a = gdal.Open(path).ReadAsArray()
            assert a.shape[0] == 4, a.shape  # RGBA
            sheets[ratio] = index
            for name, e in index.items():
                assert e["pixelRatio"] == ratio and e["x"] + e["width"] <= a.shape[2] and \
                    e["y"] + e["height"] <= a.shape[1], (name, e, a.shape)
                cell = a[:, e["y"]:e["y"] + e["height"], e["x"]:e["x"] + e["width"]]
                opaque = cell[:, cell[3] == 255]
                assert opaque.shape[1] > 0, (name, "no opaque pixel")
                want = {star["icon-image"]: (255, 0, 0), img["icon-image"]: (30, 120, 200),
                        by_rule["dots"]["paint"]["fill-pattern"]: (0, 136, 0),
                        rail["paint"]["line-pattern"]: (0x33, 0x33, 0x33),
                        svg["icon-image"]: (0, 0xaa, 0x55)}[name]
                hits = int(((abs(opaque[0].astype(int) - want[0]) <= 2) &
                            (abs(opaque[1].astype(int) - want[1]) <= 2) &
                            (abs(opaque[2].astype(int) - want[2]) <= 2)).sum())
                assert hits > opaque.shape[1] // 2, (name, want, hits, opaque.shape)
        # the image at its Size: 24 px (+ the 1 px margin each side), 48 at @2x
        e1, e2 = sheets[1][img["icon-image"]], sheets[2][img["icon-image"]]
        assert e1["height"] == 26 and e2["height"] == 50, (e1, e2)
        # a GraphicStroke step: Size + Gap along the line, as tall as the line is wide
        r1, r2 = sheets[1][rail["paint"]["line-pattern"]], sheets[2][rail["paint"]["line-pattern"]]
        assert r1["width"] == 18 and r2["width"] == 36, (r1, r2)
        assert r1["height"] == rail["paint"]["line-width"], (r1, rail)
        # the SVG marker in the PNG map: its green triangle 40 px right of the point
        x, y = 6.773 * math.pi / 180 * 6378137, math.log(math.tan(math.pi / 4 + 51.224 * math.pi / 360)) * 6378137
        st, _, png = H.get(port, "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=t"
                                 "&STYLES=&CRS=EPSG:3857&BBOX=%f,%f,%f,%f&WIDTH=200&HEIGHT=200"
                                 "&FORMAT=image/png" % (x - 50, y - 50, x + 50, y + 50))
        assert st == 200, st
        path = os.path.join(TMP, "svg_map.png")
        with open(path, "wb") as f:
            f.write(png)
        a = gdal.Open(path).ReadAsArray().astype(int)
        green = (abs(a[0] - 0) <= 3) & (abs(a[1] - 0xaa) <= 3) & (abs(a[2] - 0x55) <= 3)
        ys, xs = green.nonzero()
        assert len(xs) > 60, len(xs)  # a 20 px triangle with a white dot
        assert 130 <= xs.mean() <= 150 and 90 <= ys.mean() <= 110, (xs.mean(), ys.mean())
        assert H.get(port, "/styles/nope/sprite.json")[0] == 404
        assert H.get(port, "/styles/t/sprite.svg")[0] == 404
        node = shutil.which("node")
        if node is not None:
            spath = os.path.join(TMP, "sprites_style.json")
            with open(spath, "wb") as f:
                f.write(body)
            v = os.path.join(ARGS.srcdir, "tests", "web", "validate_style.mjs")
            r = subprocess.run([node, v, spath], capture_output=True, text=True, timeout=120)
            assert r.returncode in (0, 77), r.stdout + r.stderr
    finally:
        rc, log = H.stop_server(srv)
        assert rc == 0, log[-2000:]


def test_legend_draws_font_and_shape_marks():
    """GetLegendGraphic draws font marks and shape:// marks as the map does (a ttf:// star
    was a square, shape://times a filled circle)."""
    sld = os.path.join(TMP, "marks.sld")
    with open(sld, "w") as f:
        f.write("""<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"
 xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>m</Name><UserStyle><FeatureTypeStyle>
<Rule><Name>x</Name><PointSymbolizer><Graphic><Mark><WellKnownName>cross2</WellKnownName>
<Stroke><CssParameter name="stroke">#000000</CssParameter><CssParameter name="stroke-width">2</CssParameter>
</Stroke></Mark><Size>16</Size></Graphic></PointSymbolizer></Rule>
</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>
""")
    gj = os.path.join(TMP, "marks.geojson")
    with open(gj, "w") as f:
        f.write('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                '"geometry":{"type":"Point","coordinates":[6.78,51.22]}}]}')
    cfg = os.path.join(TMP, "marks.yaml")
    with open(cfg, "w") as f:
        f.write("sources:\n  s: {path: %s}\nlayers:\n  m: {source: s, table: marks, style: %s}\n"
                "tilesets:\n  t: {layers: [m]}\n" % (gj, sld))
    srv = H.start_server(cfg)
    try:
        st, h, body = H.get(srv[1], "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic"
                                    "&LAYER=m&FORMAT=image/png&WIDTH=20&HEIGHT=20")
        assert st == 200 and h["content-type"] == "image/png", (st, h)
        path = os.path.join(TMP, "legend_marks.png")
        with open(path, "wb") as f:
            f.write(body)
        ds = gdal.Open(path)
        band = ds.GetRasterBand(1).ReadAsArray()
        # the sample is the 20 x 20 px box at the left: an x is dark in its middle and on
        # its diagonals, white in the middle of each side
        assert band[10, 10] < 128, band[:20, :20]
        assert band[4, 4] < 160 and band[16, 16] < 160, band[:20, :20]
        assert band[2, 10] > 200 and band[10, 2] > 200, band[:20, :20]
    finally:
        rc, log = H.stop_server(srv)
        assert rc == 0, log[-2000:]


def main():
    global ARGS, SRV, TMP
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--srcdir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("filter", nargs="?")
    ARGS = ap.parse_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    ARGS.srcdir = os.path.abspath(ARGS.srcdir)
    H.ARGS = ARGS
    TMP = tempfile.mkdtemp(prefix="tilesrv-mvt-")
    cfg = os.path.join(TMP, "mvt.yaml")
    with open(os.path.join(TMP, "roads.sld"), "w") as f:
        f.write(ROADS_SLD)
    with open(os.path.join(TMP, "names.sld"), "w") as f:  # its point labels alone
        f.write(re.sub(r"<Rule><ogc:Filter>.*?</Rule>\s*<Rule><ElseFilter/>.*?</Rule>", "",
                       ROADS_SLD, flags=re.S))
    with open(cfg, "w") as f:
        f.write(config_text(os.path.join(ARGS.srcdir, "data/demo/duesseldorf_demo.gpkg"),
                            os.path.join(ARGS.srcdir, "styles")))
    SRV = H.start_server(cfg)
    failed = ran = 0
    try:
        for name, fn in sorted(globals().items()):
            if not name.startswith("test_") or (ARGS.filter and ARGS.filter not in name):
                continue
            ran += 1
            try:
                fn()
                print("ok   %s" % name, flush=True)
            except Exception:
                failed += 1
                print("FAIL %s\n%s" % (name, traceback.format_exc()), flush=True)
    finally:
        rc, log = H.stop_server(SRV)
        if rc != 0:
            failed += 1
            print("FAIL server exit code %d\n%s" % (rc, log))
        shutil.rmtree(TMP, ignore_errors=True)
    print("%d tests, %d failed" % (ran, failed))
    sys.exit(1 if failed or not ran else 0)


if __name__ == "__main__":
    main()
