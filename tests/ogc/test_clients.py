#!/usr/bin/env python3
"""Real GIS clients against `tilesrv serve` on the demo data:

- OWSLib (python3-owslib) parses the WMS 1.1.1 / 1.3.0 and WMTS capabilities; its GetMap,
  GetFeatureInfo and GetTile calls work;
- GDAL's WMS and WMTS drivers (the Python bindings and the gdalinfo / gdal_translate
  programs) read the right georeferencing and non-blank pixels;
- a tile fetched by WMTS in DE_EPSG_25832_ADV lines up with a WMS GetMap of the same box
  in EPSG:25832 within a pixel;
- QGIS (python3-qgis, headless with QT_QPA_PLATFORM=offscreen), when it can be imported,
  loads the WMS layer, the WMTS layer in EPSG:25832 and the XYZ layer, renders each
  non-blank and the three line up.

Usage: test_clients.py --binary build/tilesrv --srcdir .   (run with /usr/bin/python3)
"""
import argparse
import http.client
import json
import urllib.request
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()

ARGS = None
SERVER = None
TMP = None
BASE = None

# A box in the city centre, in EPSG:25832, and the AdV tile that holds it.
ADV_LEVEL = "11"            # 2.3887 m per pixel
ADV_RES = 4891.96981025128 / 2 ** 11
ADV_ORIGIN = (-46133.17, 6301219.54)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def http_get(path):
    c = http.client.HTTPConnection("127.0.0.1", SERVER[1], timeout=120)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    h = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, h, body


def start_server():
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="tilesrv-clients-", suffix=".log", delete=False)
    proc = subprocess.Popen([ARGS.binary, "serve", "--listen", "127.0.0.1:%d" % port,
                             "--threads", "2"], stdout=log, stderr=log)
    global SERVER
    SERVER = (proc, port, log.name)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError("server exited:\n" + open(log.name).read())
        try:
            if http_get("/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not come up")


def decode(data):
    """Image bytes -> (h, w, bands) uint8 array, through GDAL."""
    path = "/vsimem/img_%d" % id(data)
    gdal.FileFromMemBuffer(path, bytes(data))
    try:
        ds = gdal.Open(path)
        a = ds.ReadAsArray()
    finally:
        gdal.Unlink(path)
    if a.ndim == 2:
        a = a[None, :, :]
    return np.transpose(a, (1, 2, 0))


def assert_not_blank(img, what):
    flat = img.reshape(-1, img.shape[2])
    colours = len(np.unique(flat, axis=0))
    assert colours > 20, "%s looks blank (%d colours)" % (what, colours)


def adv_tile_box(row, col):
    minx = ADV_ORIGIN[0] + col * 256 * ADV_RES
    maxy = ADV_ORIGIN[1] - row * 256 * ADV_RES
    return (minx, maxy - 256 * ADV_RES, minx + 256 * ADV_RES, maxy)


def adv_tile_of(x, y):
    col = int((x - ADV_ORIGIN[0]) // (256 * ADV_RES))
    row = int((ADV_ORIGIN[1] - y) // (256 * ADV_RES))
    return row, col


def best_shift(a, b, r=3, skip=None):
    """The integer (dx, dy) within +-r that best maps b onto a, and its mean |difference|
    (over the pixels of b that are not of colour skip, when given: a background one image
    has and the other has not)."""
    a = a[:, :, :3].astype(np.int32)
    b = b[:, :, :3].astype(np.int32)
    h, w = a.shape[:2]
    best = None
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            pa = a[r + dy:h - r + dy, r + dx:w - r + dx]
            pb = b[r:h - r, r:w - r]
            diff = np.abs(pa - pb)
            if skip is not None:
                keep = np.any(pb != np.array(skip), axis=2) & np.any(pa != np.array(skip), axis=2)
                keep &= np.any(pa != 255, axis=2)
                diff = diff[keep]
            d = diff.mean()
            if best is None or d < best[0]:
                best = (d, dx, dy)
    return best


# ---- OWSLib --------------------------------------------------------------------------------

def test_owslib_wms_130():
    from owslib.wms import WebMapService
    w = WebMapService(BASE + "/wms", version="1.3.0")
    assert w.identification.type == "WMS" and w.identification.version == "1.3.0"
    for name in ("city", "cadastre", "parcels", "buildings", "streets", "parking_bays"):
        assert name in w.contents, (name, list(w.contents))
    lay = w["parcels"]
    assert "EPSG:25832" in lay.crsOptions and "EPSG:31467" in lay.crsOptions
    west, south, east, north = lay.boundingBoxWGS84
    assert 6.7 < west < east < 6.9 and 51.1 < south < north < 51.3, lay.boundingBoxWGS84
    assert lay.queryable == 1 and lay.styles["default"]["legend"].startswith(BASE)
    img = w.getmap(layers=["cadastre"], styles=[""], srs="EPSG:25832",
                   bbox=(344000, 5677000, 345000, 5678000), size=(300, 300),
                   format="image/png")
    data = img.read()
    a = decode(data)
    assert a.shape[:2] == (300, 300)
    assert_not_blank(a, "OWSLib 1.3.0 GetMap")
    info = w.getfeatureinfo(layers=["parcels"], styles=[""], srs="EPSG:25832",
                            bbox=(344000, 5677000, 345000, 5678000), size=(300, 300),
                            format="image/png", query_layers=["parcels"],
                            info_format="text/plain", xy=(150, 150), feature_count=3)
    text = info.read().decode()
    assert "Layer 'parcels'" in text and "Feature" in text, text[:300]


def test_owslib_wms_111():
    from owslib.wms import WebMapService
    w = WebMapService(BASE + "/wms", version="1.1.1")
    assert w.identification.version == "1.1.1"
    lay = w["cadastre"]
    assert "EPSG:4326" in lay.crsOptions
    img = w.getmap(layers=["cadastre"], styles=[""], srs="EPSG:4326",
                   bbox=(6.7700, 51.2245, 6.7844, 51.2335), size=(256, 256), format="image/jpeg")
    data = img.read()
    assert data[:3] == b"\xff\xd8\xff", data[:100]
    assert_not_blank(decode(data), "OWSLib 1.1.1 GetMap (jpeg, EPSG:4326)")
    info = w.getfeatureinfo(layers=["parcels"], styles=[""], srs="EPSG:4326",
                            bbox=(6.7700, 51.2245, 6.7844, 51.2335), size=(256, 256),
                            format="image/png", query_layers=["parcels"],
                            info_format="application/vnd.ogc.gml", xy=(128, 128))
    assert b"<parcels_feature" in info.read()


def test_owslib_wmts():
    from owslib.wmts import WebMapTileService
    for url in (BASE + "/wmts", BASE + "/wmts/1.0.0/WMTSCapabilities.xml"):
        w = WebMapTileService(url)
        assert "cadastre" in w.contents, list(w.contents)
        assert "DE_EPSG_25832_ADV" in w.tilematrixsets and "WebMercatorQuad" in w.tilematrixsets
        tms = w.tilematrixsets["DE_EPSG_25832_ADV"]
        m0 = tms.tilematrix["00"]
        assert abs(m0.scaledenominator - 17471320.7508974) < 1e-3, m0.scaledenominator
        assert abs(m0.topleftcorner[0] + 46133.17) < 1e-6 and abs(m0.topleftcorner[1] - 6301219.54) < 1e-6
        assert set(w["cadastre"].tilematrixsetlinks) >= {"WebMercatorQuad", "DE_EPSG_25832_ADV"}
    row, col = adv_tile_of(344500, 5677500)
    t = w.gettile(layer="cadastre", tilematrixset="DE_EPSG_25832_ADV", tilematrix=ADV_LEVEL,
                  row=row, column=col, format="image/png")
    a = decode(t.read())
    assert a.shape[:2] == (256, 256)
    assert_not_blank(a, "OWSLib WMTS GetTile (AdV)")
    t = w.gettile(layer="cadastre", tilematrixset="WebMercatorQuad", tilematrix="16",
                  row=21873, column=34001, format="image/png")
    assert_not_blank(decode(t.read()), "OWSLib WMTS GetTile (WebMercatorQuad)")


# ---- GDAL ----------------------------------------------------------------------------------

def test_gdal_wms_driver_georeferencing_and_pixels():
    ds = gdal.Open("WMS:" + BASE + "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities")
    subs = dict(ds.GetMetadata("SUBDATASETS"))
    names = [v for k, v in subs.items() if k.endswith("_NAME")]
    for layer in ("city", "cadastre", "parcels", "buildings", "streets", "parking_bays"):
        assert any("LAYERS=%s&" % layer in v for v in names), (layer, names)
    # the capabilities' first CRS (EPSG:3857) and the layer's box in it
    sub = gdal.Open([v for v in names if "LAYERS=cadastre&" in v][0])
    srs = osr.SpatialReference(wkt=sub.GetProjection())
    srs.AutoIdentifyEPSG()
    assert srs.GetAuthorityCode(None) == "3857", sub.GetProjection()[:200]
    gt = sub.GetGeoTransform()
    assert 750000 < gt[0] < 751500 and 6667000 < gt[3] < 6669000, gt
    # a GetMap URL in EPSG:25832 (what gdal_translate users write)
    name = ["WMS:" + BASE + "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=cadastre"
            "&CRS=EPSG:25832&BBOX=342600,5675200,346500,5681500&FORMAT=image/png"]
    sub = gdal.Open(name[0])
    srs = osr.SpatialReference(wkt=sub.GetProjection())
    srs.AutoIdentifyEPSG()
    assert srs.GetAuthorityCode(None) == "25832", sub.GetProjection()[:200]
    gt = sub.GetGeoTransform()
    assert abs(gt[0] - 342600) < 1e-6 and abs(gt[3] - 5681500) < 1e-6, gt
    # pixels of a window, at a resolution of a few metres
    out = "/vsimem/gdal_wms.tif"
    gdal.Translate(out, sub, projWin=[344000, 5678000, 345000, 5677000], width=200, height=200)
    a = np.transpose(gdal.Open(out).ReadAsArray(), (1, 2, 0))
    gdal.Unlink(out)
    assert_not_blank(a, "GDAL WMS window")
    # the command-line programs
    r = subprocess.run(["gdalinfo", name[0]], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "25832" in r.stdout, r.stdout[-500:] + r.stderr[-500:]
    tif = os.path.join(TMP, "wms.tif")
    r = subprocess.run(["gdal_translate", "-q", "-projwin", "344000", "5678000", "345000",
                        "5677000", "-outsize", "128", "128", name[0], tif],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    t = gdal.Open(tif)
    assert abs(t.GetGeoTransform()[0] - 344000) < 1 and abs(t.GetGeoTransform()[3] - 5678000) < 1
    assert_not_blank(np.transpose(t.ReadAsArray(), (1, 2, 0)), "gdal_translate WMS")


def test_gdal_wmts_driver_adv_set():
    conn = "WMTS:" + BASE + "/wmts/1.0.0/WMTSCapabilities.xml,layer=cadastre,tilematrixset=DE_EPSG_25832_ADV"
    ds = gdal.Open(conn)
    srs = osr.SpatialReference(wkt=ds.GetProjection())
    srs.AutoIdentifyEPSG()
    assert srs.GetAuthorityCode(None) == "25832", ds.GetProjection()[:200]
    gt = ds.GetGeoTransform()
    res13 = 4891.96981025128 / 2 ** 13
    assert abs(gt[1] - res13) < 1e-6 and abs(gt[5] + res13) < 1e-6, gt
    # pixel grid aligned with the AdV origin
    ox = (gt[0] - ADV_ORIGIN[0]) / res13
    oy = (ADV_ORIGIN[1] - gt[3]) / res13
    assert abs(ox - round(ox)) < 1e-3 and abs(oy - round(oy)) < 1e-3, (ox, oy)
    out = "/vsimem/gdal_wmts.tif"
    gdal.Translate(out, ds, projWin=[344000, 5678000, 345000, 5677000], width=256, height=256)
    a = np.transpose(gdal.Open(out).ReadAsArray(), (1, 2, 0))
    gdal.Unlink(out)
    assert_not_blank(a, "GDAL WMTS (AdV)")
    r = subprocess.run(["gdalinfo", conn], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "25832" in r.stdout, r.stderr[-500:]
    tif = os.path.join(TMP, "wmts.tif")
    r = subprocess.run(["gdal_translate", "-q", "-projwin", "344000", "5678000", "345000",
                        "5677000", "-outsize", "128", "128", conn, tif],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert_not_blank(np.transpose(gdal.Open(tif).ReadAsArray(), (1, 2, 0)), "gdal_translate WMTS")


# ---- WMTS (AdV) against WMS (EPSG:25832) ---------------------------------------------------

def test_adv_tile_lines_up_with_wms_getmap():
    for x, y in ((344500, 5677500), (343300, 5679800)):
        row, col = adv_tile_of(x, y)
        st, h, tile = http_get("/wmts/1.0.0/cadastre/default/DE_EPSG_25832_ADV/%s/%d/%d.png"
                               % (ADV_LEVEL, row, col))
        assert st == 200, tile[:300]
        b = adv_tile_box(row, col)
        st, h, img = http_get("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=cadastre"
                              "&STYLES=&CRS=EPSG:25832&BBOX=%.6f,%.6f,%.6f,%.6f&WIDTH=256"
                              "&HEIGHT=256&FORMAT=image/png&BGCOLOR=0xdedad2" % b)
        assert st == 200 and h["content-type"] == "image/png", img[:300]
        a, m = decode(tile), decode(img)
        assert_not_blank(a, "AdV tile")
        d, dx, dy = best_shift(a, m)
        print("     AdV tile %s/%d/%d vs WMS: shift (%d, %d) px, mean |difference| %.2f"
              % (ADV_LEVEL, row, col, dx, dy, d))
        # labels may be placed differently (a tile's labels may cross its edges, a map's
        # must stay inside), everything else is the same drawing
        assert (dx, dy) == (0, 0), "WMS map is shifted by (%d, %d) px against the tile" % (dx, dy)
        assert d < 4.0, "mean difference %.2f" % d


# ---- QGIS ----------------------------------------------------------------------------------

QGIS_SCRIPT = r'''
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import (QgsApplication, QgsRasterLayer, QgsMapSettings, QgsRectangle,
                       QgsCoordinateReferenceSystem, QgsMapRendererSequentialJob)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
app = QgsApplication([], False)
app.initQgis()
base, out = sys.argv[1], sys.argv[2]
layers = {
  "wms": QgsRasterLayer("crs=EPSG:25832&dpiMode=7&format=image/png&layers=cadastre&styles=&url=" + base + "/wms", "wms", "wms"),
  "wmts": QgsRasterLayer("crs=EPSG:25832&dpiMode=7&format=image/png&layers=cadastre&styles=default&tileMatrixSet=DE_EPSG_25832_ADV&url=" + base + "/wmts/1.0.0/WMTSCapabilities.xml", "wmts", "wms"),
  "xyz": QgsRasterLayer("type=xyz&url=" + base.replace("://", "%3A%2F%2F") + "/tiles/cadastre/%7Bz%7D/%7Bx%7D/%7By%7D.png&zmax=19&zmin=0", "xyz", "wms"),
}
for name, lay in layers.items():
    if not lay.isValid():
        print("INVALID", name, lay.error().summary())
        sys.exit(3)
    s = QgsMapSettings()
    s.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:25832"))
    s.setExtent(QgsRectangle(344000, 5677000, 344800, 5677800))
    s.setOutputSize(QSize(400, 400))
    s.setBackgroundColor(QColor(255, 255, 255))
    s.setLayers([lay])
    job = QgsMapRendererSequentialJob(s)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(os.path.join(out, name + ".png"), "PNG")
    print("OK", name)
app.exitQgis()
'''


def test_qgis_loads_and_renders_wms_wmts_xyz_aligned():
    probe = subprocess.run([sys.executable, "-c", "import qgis.core"], capture_output=True,
                           text=True, timeout=120)
    if probe.returncode != 0:
        print("     (QGIS not installed: python3-qgis cannot be imported; skipped)")
        return
    script = os.path.join(TMP, "qgis_render.py")
    with open(script, "w") as f:
        f.write(QGIS_SCRIPT)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=TMP, HOME=TMP)
    r = subprocess.run([sys.executable, script, BASE, TMP], capture_output=True, text=True,
                       timeout=300, env=env)
    assert r.returncode == 0 and r.stdout.count("OK") == 3, (r.returncode, r.stdout, r.stderr[-2000:])
    imgs = {}
    for name in ("wms", "wmts", "xyz"):
        with open(os.path.join(TMP, name + ".png"), "rb") as f:
            imgs[name] = decode(f.read())
        assert_not_blank(imgs[name], "QGIS " + name)
    # WMS and WMTS draw the same map in the same CRS: aligned within a pixel
    # QGIS asks WMS for a transparent map (white here) while the tiles have the tileset's
    # background: compare where both show data. QGIS resamples the tiles of the nearest
    # level (2.39 m/px for a 2 m/px view), so the pictures differ in line widths; the
    # position of the best match is what must be (0, 0).
    d, dx, dy = best_shift(imgs["wms"], imgs["wmts"], skip=(222, 218, 210))
    print("     QGIS WMS vs WMTS: shift (%d, %d) px, mean |difference| %.2f" % (dx, dy, d))
    assert abs(dx) <= 1 and abs(dy) <= 1 and d < 30, ("QGIS WMS vs WMTS", dx, dy, d)
    # the XYZ layer is Web Mercator resampled by QGIS: aligned within two pixels
    d, dx, dy = best_shift(imgs["wms"], imgs["xyz"], skip=(222, 218, 210))
    print("     QGIS WMS vs XYZ: shift (%d, %d) px, mean |difference| %.2f" % (dx, dy, d))
    assert abs(dx) <= 2 and abs(dy) <= 2 and d < 35, ("QGIS WMS vs XYZ", dx, dy, d)


QGIS_VT_SCRIPT = r'''
import json, os, sys, urllib.request
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from qgis.core import (QgsApplication, QgsVectorTileLayer, QgsMapBoxGlStyleConverter,
                       QgsMapBoxGlStyleConversionContext, QgsMapSettings, QgsRectangle,
                       QgsCoordinateReferenceSystem, QgsMapRendererSequentialJob)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
app = QgsApplication([], False)
app.initQgis()
base, out = sys.argv[1], sys.argv[2]
style = json.load(urllib.request.urlopen(base + "/styles/cadastre.json"))
lay = QgsVectorTileLayer("type=xyz&url=" + base + "/tiles/cadastre/{z}/{x}/{y}.pbf&zmax=19&zmin=0",
                         "cadastre")
if not lay.isValid():
    print("INVALID", lay.error().summary())
    sys.exit(3)
conv = QgsMapBoxGlStyleConverter()
ctx = QgsMapBoxGlStyleConversionContext()
if conv.convert(style, ctx) != QgsMapBoxGlStyleConverter.Success:
    print("CONVERT", conv.errorMessage())
    sys.exit(4)
for w in ctx.warnings():
    print("WARNING", w)
lay.setRenderer(conv.renderer())
lay.setLabeling(conv.labeling())
s = QgsMapSettings()
s.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
s.setExtent(QgsRectangle(753782, 6660957, 754262, 6661317))  # demo district, 0.6 m/px
s.setOutputSize(QSize(800, 600))
s.setBackgroundColor(QColor(255, 255, 255))
s.setLayers([lay])
job = QgsMapRendererSequentialJob(s)
job.start()
job.waitForFinished()
job.renderedImage().save(os.path.join(out, "qgis_vt.png"), "PNG")
print("OK")
app.exitQgis()
'''


def test_qgis_draws_the_vector_tiles_with_the_maplibre_style():
    """QGIS 3.22 loads the cadastre's vector tiles and converts /styles/cadastre.json with
    its own MapLibre converter: the buildings show the colours of their functions (the
    ElseFilter rules, once written as ["!", ["any", ...]], which QGIS reads as no filter,
    painted the 'other' colour over every building and parcel) and the labels are drawn."""
    probe = subprocess.run([sys.executable, "-c", "import qgis.core"], capture_output=True,
                           text=True, timeout=120)
    if probe.returncode != 0:
        print("     (QGIS not installed: python3-qgis cannot be imported; skipped)")
        return
    script = os.path.join(TMP, "qgis_vt.py")
    with open(script, "w") as f:
        f.write(QGIS_VT_SCRIPT)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=TMP, HOME=TMP)
    r = subprocess.run([sys.executable, script, BASE, TMP], capture_output=True, text=True,
                       timeout=300, env=env)
    assert r.returncode == 0 and "OK" in r.stdout, (r.returncode, r.stdout, r.stderr[-2000:])
    with open(os.path.join(TMP, "qgis_vt.png"), "rb") as f:
        img = decode(f.read())[:, :, :3].astype(np.int32)
    assert_not_blank(img, "QGIS vector tiles")

    def near(rgb, tol=4):
        return int((np.abs(img - np.array(rgb)).max(axis=2) <= tol).sum())
    style = json.loads(urllib.request.urlopen(BASE + "/styles/cadastre.json").read())
    colour = {}  # building function -> fill colour, from the style's filters
    for l in style["layers"]:
        f = l.get("filter")
        if l.get("source-layer") == "buildings" and l["type"] == "fill" and f and f[0] == "==":
            colour[f[2]] = tuple(int(l["paint"]["fill-color"][i:i + 2], 16) for i in (1, 3, 5))
    residential, commercial = near(colour["residential"]), near(colour["commercial"])
    other = [l for l in style["layers"] if l.get("source-layer") == "buildings" and
             l["type"] == "fill" and l.get("filter", [""])[0] == "all"]
    assert other, "no ElseFilter layer for the buildings"
    else_px = near(tuple(int(other[0]["paint"]["fill-color"][i:i + 2], 16) for i in (1, 3, 5)))
    print("     QGIS vector tiles: residential %d px, commercial %d px, other %d px"
          % (residential, commercial, else_px))
    assert residential > 5000 and commercial > 500, (residential, commercial)
    assert else_px < residential, (else_px, residential)
    # labels: dark text pixels on the light map
    dark = int((img.max(axis=2) < 80).sum())
    assert dark > 500, dark


def main():
    global ARGS, TMP, BASE
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--srcdir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("tests", nargs="*")
    ARGS = ap.parse_args()
    TMP = tempfile.mkdtemp(prefix="tilesrv-clients-")
    start_server()
    BASE = "http://127.0.0.1:%d" % SERVER[1]
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and callable(f)]
    if ARGS.tests:
        tests = [t for t in tests if any(a in t[0] for a in ARGS.tests)]
    failed = 0
    for name, fn in tests:
        t0 = time.time()
        try:
            fn()
            print("ok   %s (%.1f s)" % (name, time.time() - t0))
        except Exception:
            failed += 1
            print("FAIL %s" % name)
            traceback.print_exc()
    SERVER[0].send_signal(signal.SIGTERM)
    try:
        SERVER[0].wait(timeout=60)
    except subprocess.TimeoutExpired:
        SERVER[0].kill()
    log = open(SERVER[2], errors="replace").read()
    if any(m in log for m in ("ERROR: AddressSanitizer", "LeakSanitizer", "runtime error:")):
        failed += 1
        print("FAIL sanitizer report in the server log:\n" + log[-4000:])
    if failed:
        print("--- server log ---")
        print(open(SERVER[2]).read()[-3000:])
    if os.environ.get("KEEP_TMP"):
        print("images kept in", TMP)
    else:
        shutil.rmtree(TMP, ignore_errors=True)
    print("%d tests, %d failed" % (len(tests), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
