#!/usr/bin/env python3
"""OGC services over HTTP: WMS 1.1.1/1.3.0, WMTS (KVP and RESTful), TMS documents and OGC API
- Tiles, against `tilesrv serve` on the demo data.

Checks content types, CORS and caching headers, validates every capabilities and exception
document with xmllint against the OGC schemas in tests/data/ows/schemas (no network), and
provokes every OGC exception code the services report.

Usage: test_ogc_http.py --binary build/tilesrv --srcdir .
Standard library (and xmllint) only; each test is a function test_*.
"""
import argparse
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import zlib

ARGS = None
SERVER = None        # demo server: (proc, port, log)
SERVER2 = None       # custom config (limits, a layer that is not queryable)
TMP = None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(port, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, body


def start_server(config=None):
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="tilesrv-ogc-", suffix=".log", delete=False)
    cmd = [ARGS.binary, "serve", "--listen", "127.0.0.1:%d" % port, "--threads", "2"]
    if config:
        cmd += ["-c", config]
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError("server exited:\n" + open(log.name).read())
        try:
            if get(port, "/health")[0] == 200:
                return proc, port, log.name
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not come up")


def stop_server(srv):
    proc = srv[0]
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()


def q(**kw):
    return urllib.parse.urlencode({k: v for k, v in kw.items() if v is not None})


def wms(port, **kw):
    return get(port, "/wms?" + q(**kw))


def png_info(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG: %r" % data[:80]
    w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
    return w, h, ctype


def png_pixels(data):
    """Decode an 8-bit RGB/RGBA/paletted PNG without filters beyond the standard five."""
    w, h, ctype = png_info(data)
    pos, idat, plte, trns = 8, b"", None, None
    while pos < len(data):
        n, t = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if t == b"IDAT":
            idat += body
        elif t == b"PLTE":
            plte = body
        elif t == b"tRNS":
            trns = body
        pos += 12 + n
    raw = zlib.decompress(idat)
    bpp = {2: 3, 6: 4, 3: 1, 0: 1}[ctype]
    stride = w * bpp
    out, prev = [], bytearray(stride)
    i = 0
    for _ in range(h):
        f = raw[i]
        row = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = row[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                row[x] = (row[x] + a) & 255
            elif f == 2:
                row[x] = (row[x] + b) & 255
            elif f == 3:
                row[x] = (row[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[x] = (row[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = row
        for x in range(w):
            if ctype == 3:
                k = row[x]
                r, g, bb = plte[3 * k:3 * k + 3]
                al = trns[k] if trns and k < len(trns) else 255
                out.append((r, g, bb, al))
            elif ctype == 2:
                out.append((row[3 * x], row[3 * x + 1], row[3 * x + 2], 255))
            else:
                out.append(tuple(row[4 * x:4 * x + 4]))
    return w, h, out


def xmllint(doc, schema):
    """Validate doc (bytes) against a schema or DTD under tests/data/ows/schemas."""
    sdir = os.path.join(ARGS.srcdir, "tests", "data", "ows", "schemas")
    path = os.path.join(TMP, "doc.xml")
    with open(path, "wb") as f:
        f.write(doc)
    cat = os.path.join(TMP, "catalog.xml")
    with open(cat, "w") as f:
        f.write('<?xml version="1.0"?>\n<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">\n'
                '<system systemId="http://schemas.opengis.net/wms/1.1.1/WMS_MS_Capabilities.dtd" '
                'uri="file://%s/wms/1.1.1/capabilities_1_1_1.dtd"/>\n'
                '<system systemId="http://schemas.opengis.net/wms/1.1.1/exception_1_1_1.dtd" '
                'uri="file://%s/wms/1.1.1/exception_1_1_1.dtd"/>\n</catalog>\n' % (sdir, sdir))
    flag = "--dtdvalid" if schema.endswith(".dtd") else "--schema"
    env = dict(os.environ, XML_CATALOG_FILES=cat)
    r = subprocess.run(["xmllint", "--noout", "--nonet", flag, os.path.join(sdir, schema), path],
                       capture_output=True, text=True, env=env)
    msgs = [l for l in (r.stdout + r.stderr).splitlines() if "validates" not in l]
    assert r.returncode == 0 and not msgs, "xmllint %s:\n%s" % (schema, "\n".join(msgs[:10]))


def exception_code(body):
    m = re.search(rb'(?:ServiceException|Exception) [^>]*exceptionCode="([A-Za-z]+)"', body) or \
        re.search(rb'ServiceException code="([A-Za-z]+)"', body)
    assert m, "no exception code in %r" % body[:300]
    return m.group(1).decode()


def wms_exc(port, version, expect, **kw):
    st, h, body = wms(port, **kw)
    assert st == 200, st
    ct = h["content-type"]
    assert ct.startswith("text/xml" if version == "1.3.0" else "application/vnd.ogc.se_xml"), ct
    code = exception_code(body)
    assert code == expect, "expected %s, got %s: %s" % (expect, code, body[:300])
    xmllint(body, "wms/1.3.0/exceptions_1_3_0.xsd" if version == "1.3.0"
            else "wms/1.1.1/exception_1_1_1.dtd")
    return body


MAP = dict(SERVICE="WMS", VERSION="1.3.0", REQUEST="GetMap", LAYERS="cadastre", STYLES="",
           CRS="EPSG:25832", BBOX="344000,5677000,345000,5678000", WIDTH="256", HEIGHT="256",
           FORMAT="image/png")


def getmap(port, **kw):
    p = dict(MAP)
    p.update(kw)
    return wms(port, **p)


# ---- WMS -----------------------------------------------------------------------------------

def test_wms_capabilities_130_valid_with_tree_boxes_and_legends():
    st, h, body = wms(SERVER[1], SERVICE="WMS", REQUEST="GetCapabilities")
    assert st == 200 and h["content-type"].startswith("text/xml"), (st, h)
    assert h.get("access-control-allow-origin") == "*"
    xmllint(body, "sld/1.1.0/sld_capabilities.xsd")
    t = body.decode()
    for name in ("city", "cadastre", "parcels", "buildings", "streets", "parking",
                 "parking_bays", "air", "air_stations"):
        assert "<Name>%s</Name>" % name in t, name
    for crs in ("EPSG:3857", "EPSG:4326", "CRS:84", "EPSG:4258", "EPSG:25832", "EPSG:25833",
                "EPSG:3044", "EPSG:31466", "EPSG:31467"):
        assert '<BoundingBox CRS="%s"' % crs in t, crs
    # 1.3.0 EPSG:4326 box is lat,lon: minx is a latitude near 51
    m = re.search(r'<BoundingBox CRS="EPSG:4326" minx="([0-9.]+)" miny="([0-9.]+)"', t)
    assert 50 < float(m.group(1)) < 52 and 6 < float(m.group(2)) < 8, m.group(0)
    assert "REQUEST=GetLegendGraphic" in t and "<MaxScaleDenominator>" in t
    assert re.search(r'<Layer queryable="1"', t)
    assert "updateSequence=" in t


def test_wms_capabilities_111_valid_and_lonlat():
    st, h, body = wms(SERVER[1], SERVICE="WMS", REQUEST="GetCapabilities", VERSION="1.1.1")
    assert st == 200 and h["content-type"].startswith("application/vnd.ogc.wms_xml")
    xmllint(body, "wms/1.1.1/capabilities_1_1_1.dtd")
    t = body.decode()
    m = re.search(r'<BoundingBox SRS="EPSG:4326" minx="([0-9.]+)"', t)
    assert 6 < float(m.group(1)) < 8, m.group(0)   # 1.1.1: lon first
    assert "<SRS>EPSG:25832</SRS>" in t


def test_ows_endpoint_dispatches_by_service():
    st, _, body = get(SERVER[1], "/ows?SERVICE=WMS&REQUEST=GetCapabilities")
    assert st == 200 and b"WMS_Capabilities" in body
    st, _, body = get(SERVER[1], "/ows?service=WMTS&request=GetCapabilities")
    assert st == 200 and b"<Capabilities" in body


def test_getmap_formats_sizes_and_headers():
    p = SERVER[1]
    st, h, body = getmap(p)
    assert st == 200 and h["content-type"] == "image/png", (st, h, body[:200])
    assert png_info(body)[:2] == (256, 256)
    assert "etag" in h and h.get("access-control-allow-origin") == "*"
    assert "no-cache" in h["cache-control"]
    st, h, body = getmap(p, FORMAT="image/png; mode=8bit", WIDTH="300", HEIGHT="200")
    assert st == 200 and png_info(body) == (300, 200, 3), png_info(body)
    st, h, body = getmap(p, FORMAT="image/jpeg")
    assert st == 200 and h["content-type"] == "image/jpeg" and body[:3] == b"\xff\xd8\xff"
    # transparent: the corner outside the data is alpha 0; opaque: BGCOLOR
    far = "300000,5600000,300500,5600500"
    st, h, body = getmap(p, TRANSPARENT="TRUE", BBOX=far, WIDTH="64", HEIGHT="64")
    w, hh, px = png_pixels(body)
    assert px[0][3] == 0, px[0]
    st, h, body = getmap(p, BGCOLOR="0x336699", BBOX=far, WIDTH="64", HEIGHT="64")
    w, hh, px = png_pixels(body)
    assert px[0][:3] == (0x33, 0x66, 0x99), px[0]


def test_getmap_draws_the_same_map_in_every_crs():
    """Every offered CRS draws the city (reprojected on the fly where no store is kept)."""
    p = SERVER[1]
    boxes = {
        "EPSG:3857": "754000,6661000,755000,6662000",
        "EPSG:4326": "51.2245,6.7700,51.2335,6.7844",          # lat,lon in 1.3.0
        "CRS:84": "6.7700,51.2245,6.7844,51.2335",
        "EPSG:4258": "51.2245,6.7700,51.2335,6.7844",
        "EPSG:25832": "344000,5677000,345000,5678000",
        "EPSG:25833": "-74500,5706500,-73500,5707500",
        "EPSG:3044": "5677000,344000,5678000,345000",          # northing,easting
        "EPSG:31466": "5677000,2553500,5678000,2554500",
        "EPSG:31467": "5679000,3344000,5680000,3345000",
    }
    for crs, bbox in boxes.items():
        st, h, body = getmap(p, CRS=crs, BBOX=bbox, WIDTH="128", HEIGHT="128")
        assert st == 200 and h["content-type"] == "image/png", (crs, body[:300])
        w, hh, px = png_pixels(body)
        colours = set(px)
        assert len(colours) > 20, (crs, len(colours))


def test_getmap_takes_web_mercators_older_codes():
    """EPSG:900913 (OpenLayers 2, GeoServer's alias), EPSG:3785 and ArcGIS's 102100 / 102113
    draw the map EPSG:3857 draws (they had been InvalidCRS: such clients showed nothing)."""
    p = SERVER[1]
    box = "754000,6661000,755000,6662000"
    st, h, want = getmap(p, CRS="EPSG:3857", BBOX=box, WIDTH="128", HEIGHT="128")
    assert st == 200 and h["content-type"] == "image/png", want[:300]
    for crs in ("EPSG:900913", "EPSG:3785", "EPSG:102100", "EPSG:102113"):
        st, h, body = getmap(p, CRS=crs, BBOX=box, WIDTH="128", HEIGHT="128")
        assert st == 200 and h["content-type"] == "image/png", (crs, body[:300])
        assert png_pixels(body)[2] == png_pixels(want)[2], crs
    st, h, body = wms(p, SERVICE="WMS", VERSION="1.1.1", REQUEST="GetMap", LAYERS="cadastre",
                      STYLES="", SRS="EPSG:900913", BBOX=box, WIDTH="128", HEIGHT="128",
                      FORMAT="image/png")
    assert st == 200 and h["content-type"] == "image/png", body[:300]


def test_old_clients_requests_are_answered():
    """What WMS 1.0 / 1.1.0 clients send: GetCapabilities without SERVICE (WMS 1.0 had
    none: "WMTVER=1.0.0&REQUEST=capabilities"), GetMap with VERSION=1.1.0 (answered as
    1.1.1, as MapServer and GeoServer do). Both had been exceptions."""
    p = SERVER[1]
    st, h, body = wms(p, REQUEST="GetCapabilities")
    assert st == 200 and b'<WMS_Capabilities version="1.3.0"' in body, body[:300]
    st, h, body = wms(p, WMTVER="1.0.0", REQUEST="capabilities")
    assert st == 200 and b'<WMT_MS_Capabilities version="1.1.1"' in body, body[:300]
    for v in ("1.1.0", "1.0.0"):
        st, h, body = wms(p, SERVICE="WMS", VERSION=v, REQUEST="GetMap", LAYERS="cadastre",
                          STYLES="", SRS="EPSG:3857", BBOX="754000,6661000,755000,6662000",
                          WIDTH="64", HEIGHT="64", FORMAT="image/png")
        assert st == 200 and h["content-type"] == "image/png", (v, body[:300])


def test_documents_are_gzipped_on_request_and_revalidated():
    """Capabilities and other documents: gzip when the client takes it (20 KB of WMS
    capabilities had gone out whole), Vary: Accept-Encoding, Cache-Control: no-cache as
    docs/ogc.md says (they change with a reload); identity when the client says gzip;q=0."""
    import gzip
    p = SERVER[1]
    for path in ("/wms?SERVICE=WMS&REQUEST=GetCapabilities",
                 "/wmts/1.0.0/WMTSCapabilities.xml", "/ogcapi/collections"):
        st, h, plain = get(p, path)
        assert st == 200 and h.get("content-encoding") is None, (path, h)
        assert h.get("cache-control") == "no-cache" and h.get("vary") == "Accept-Encoding", h
        st, h, body = get(p, path, {"Accept-Encoding": "br, gzip"})
        assert st == 200 and h.get("content-encoding") == "gzip", (path, h)
        assert gzip.decompress(body) == plain and len(body) < len(plain) / 3, path
        st, h, body = get(p, path, {"Accept-Encoding": "gzip;q=0, identity"})
        assert h.get("content-encoding") is None and body == plain, (path, h)


def test_getmap_111_axis_order_is_lonlat():
    p = SERVER[1]
    a = getmap(p, VERSION="1.1.1", CRS=None, SRS="EPSG:4326", BBOX="6.7700,51.2245,6.7844,51.2335")
    b = getmap(p, CRS="EPSG:4326", BBOX="51.2245,6.7700,51.2335,6.7844")
    assert a[0] == 200 and b[0] == 200 and a[1]["content-type"] == "image/png", a[2][:300]
    assert png_pixels(a[2])[2] == png_pixels(b[2])[2]


def test_getmap_dpi_scales_symbols():
    p = SERVER[1]
    a = getmap(p, WIDTH="256", HEIGHT="256")
    b = getmap(p, WIDTH="512", HEIGHT="512", DPI="181.4")
    c = getmap(p, WIDTH="512", HEIGHT="512", FORMAT_OPTIONS="dpi:181.4")
    d = getmap(p, WIDTH="512", HEIGHT="512", MAP_RESOLUTION="181.4")
    assert a[0] == b[0] == 200
    assert png_info(b[2])[:2] == (512, 512)
    assert b[2] == c[2] == d[2]
    # at twice the dpi, lines are twice as wide: more dark pixels than a plain 512 px map
    e = getmap(p, WIDTH="512", HEIGHT="512")
    dark = lambda img: sum(1 for q in png_pixels(img)[2] if sum(q[:3]) < 300)
    assert dark(b[2]) > 1.3 * dark(e[2]), (dark(b[2]), dark(e[2]))


SLD_RED = """<?xml version="1.0" encoding="UTF-8"?>
<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"
    xmlns:ogc="http://www.opengis.net/ogc">
  <NamedLayer><Name>parcels</Name><UserStyle><Name>red</Name><FeatureTypeStyle><Rule>
    <PolygonSymbolizer><Fill><CssParameter name="fill">#ff0000</CssParameter></Fill>
    </PolygonSymbolizer></Rule></FeatureTypeStyle></UserStyle></NamedLayer>
</StyledLayerDescriptor>"""


def test_getmap_sld_body_restyles():
    p = SERVER[1]
    st, h, body = getmap(p, LAYERS="parcels", SLD_BODY=SLD_RED)
    assert st == 200 and h["content-type"] == "image/png", body[:300]
    px = png_pixels(body)[2]
    red = sum(1 for q in px if q[0] > 240 and q[1] < 20 and q[2] < 20)
    assert red > len(px) // 2, red
    st, h, body = getmap(p, LAYERS="parcels")
    px = png_pixels(body)[2]
    assert sum(1 for q in px if q[0] > 240 and q[1] < 20 and q[2] < 20) == 0
    wms_exc(p, "1.3.0", "InvalidParameterValue", **dict(MAP, LAYERS="parcels",
                                                         SLD_BODY="<not-sld/>"))
    # a posted style reading a field the server does not load for the layer (the store
    # keeps what the configured style reads): drawn with nulls, and the log says so
    unread = SLD_RED.replace("<Rule>", "<Rule><ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>"
                             "eigentuemer</ogc:PropertyName><ogc:Literal>x</ogc:Literal>"
                             "</ogc:PropertyIsEqualTo></ogc:Filter>", 1)
    st, h, body = getmap(p, LAYERS="parcels", SLD_BODY=unread)
    assert st == 200 and h["content-type"] == "image/png", body[:300]
    deadline = time.time() + 5
    while "reads 'eigentuemer'" not in open(SERVER[2]).read() and time.time() < deadline:
        time.sleep(0.05)
    assert "SLD_BODY for layer parcels reads 'eigentuemer'" in open(SERVER[2]).read()


def test_sld_body_label_repeat_is_bounded():
    """An SLD_BODY with a LinePlacement label repeated every 0.0001 px (a request under 1 KB
    from anyone): its copies are no closer than the label's own length. Such a request had
    driven the server past 10 GB within a minute. A server of its own: the shared one's
    peak from earlier tests would hide the growth."""
    srv = start_server()
    try:
        label_repeat_is_bounded(srv)
    finally:
        stop_server(srv)


def label_repeat_is_bounded(srv):
    p = srv[1]
    def hwm_kb():
        with open("/proc/%d/status" % srv[0].pid) as f:
            return int(re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M).group(1))
    before = hwm_kb()
    for rep in ("0.0001", "0.3"):
        sld = ('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld">'
               '<NamedLayer><Name>parcels</Name><UserStyle><FeatureTypeStyle><Rule>'
               '<TextSymbolizer><Label>x</Label><LabelPlacement><LinePlacement/>'
               '</LabelPlacement><VendorOption name="repeat">%s</VendorOption>'
               '</TextSymbolizer></Rule></FeatureTypeStyle></UserStyle></NamedLayer>'
               '</StyledLayerDescriptor>' % rep)
        st, h, body = getmap(p, LAYERS="parcels", SLD_BODY=sld, WIDTH="512", HEIGHT="512")
        assert st == 200 and h["content-type"] == "image/png", (rep, body[:300])
    grown_mb = (hwm_kb() - before) / 1024
    assert grown_mb < 300, "peak RSS grew by %.0f MB" % grown_mb


def test_getmap_exceptions_inimage_and_blank():
    p = SERVER[1]
    st, h, body = getmap(p, LAYERS="nope", EXCEPTIONS="INIMAGE")
    assert st == 200 and h["content-type"] == "image/png"
    w, hh, px = png_pixels(body)
    assert (w, hh) == (256, 256) and len(set(px)) > 2   # text was drawn
    st, h, body = getmap(p, LAYERS="nope", EXCEPTIONS="BLANK", BGCOLOR="0x102030")
    w, hh, px = png_pixels(body)
    assert set(px) == {(0x10, 0x20, 0x30, 255)}, set(px)
    st, h, body = getmap(p, VERSION="1.1.1", CRS=None, SRS="EPSG:25832", LAYERS="nope",
                         EXCEPTIONS="application/vnd.ogc.se_blank", TRANSPARENT="TRUE")
    w, hh, px = png_pixels(body)
    assert all(q[3] == 0 for q in px)


def test_wms_exception_codes():
    p, p2 = SERVER[1], SERVER2[1]
    wms_exc(p, "1.3.0", "InvalidFormat", **dict(MAP, FORMAT="image/gif"))
    wms_exc(p, "1.3.0", "InvalidCRS", **dict(MAP, CRS="EPSG:2154"))
    wms_exc(p, "1.1.1", "InvalidSRS", **dict(MAP, VERSION="1.1.1", CRS=None, SRS="EPSG:2154"))
    wms_exc(p, "1.3.0", "LayerNotDefined", **dict(MAP, LAYERS="nope"))
    wms_exc(p, "1.3.0", "StyleNotDefined", **dict(MAP, STYLES="fancy"))
    m = dict(MAP)
    del m["BBOX"]
    wms_exc(p, "1.3.0", "MissingParameterValue", **m)
    wms_exc(p, "1.3.0", "InvalidParameterValue", **dict(MAP, BBOX="1,2,3"))
    wms_exc(p, "1.3.0", "OperationNotSupported", **dict(MAP, REQUEST="GetStyles"))
    wms_exc(p, "1.3.0", "VersionNegotiationFailed", **dict(MAP, VERSION="2.0.0"))
    gfi = dict(MAP, REQUEST="GetFeatureInfo", QUERY_LAYERS="parcels", I="300", J="10",
               INFO_FORMAT="text/plain")
    wms_exc(p, "1.3.0", "InvalidPoint", **gfi)
    wms_exc(p, "1.3.0", "InvalidFormat", **dict(gfi, I="10", INFO_FORMAT="image/png"))
    # limits of server.wms in the second server: max_width 1000, max_layers 2
    wms_exc(p2, "1.3.0", "InvalidParameterValue", **dict(MAP, WIDTH="1001"))
    wms_exc(p2, "1.3.0", "InvalidParameterValue", **dict(MAP, LAYERS="parcels,buildings,streets"))
    wms_exc(p2, "1.3.0", "LayerNotQueryable",
            **dict(gfi, I="10", LAYERS="buildings", QUERY_LAYERS="buildings"))
    # update sequences
    st, _, caps = wms(p, SERVICE="WMS", REQUEST="GetCapabilities")
    seq = re.search(rb'updateSequence="([0-9]+)"', caps).group(1).decode()
    wms_exc(p, "1.3.0", "CurrentUpdateSequence", SERVICE="WMS", REQUEST="GetCapabilities",
            UPDATESEQUENCE=seq)
    wms_exc(p, "1.3.0", "InvalidUpdateSequence", SERVICE="WMS", REQUEST="GetCapabilities",
            UPDATESEQUENCE=str(int(seq) + 1))
    st, _, body = wms(p, SERVICE="WMS", REQUEST="GetCapabilities", UPDATESEQUENCE="1")
    assert b"WMS_Capabilities" in body     # an older sequence gets the document


def test_parameter_names_are_case_insensitive():
    st, h, body = get(SERVER[1], "/wms?service=wms&version=1.3.0&request=getmap&layers=cadastre"
                      "&styles=&crs=EPSG:25832&bbox=344000,5677000,345000,5678000&width=64"
                      "&height=64&format=image/png")
    assert st == 200 and h["content-type"] == "image/png", body[:300]


def test_getfeatureinfo_formats_have_all_attributes():
    p = SERVER[1]
    gfi = dict(MAP, REQUEST="GetFeatureInfo", LAYERS="parcels", QUERY_LAYERS="parcels",
               I="128", J="128", FEATURE_COUNT="5")
    st, h, body = wms(p, **dict(gfi, INFO_FORMAT="application/json"))
    assert st == 200 and h["content-type"].startswith("application/json"), body[:300]
    doc = json.loads(body)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) >= 1, doc
    props = doc["features"][0]["properties"]
    # the demo parcels carry more attributes than the style reads (only the store drops them)
    assert len(props) >= 3, props
    st, h, body = wms(p, **dict(gfi, INFO_FORMAT="text/plain"))
    assert st == 200 and h["content-type"].startswith("text/plain") and b"Layer 'parcels'" in body
    st, h, body = wms(p, **dict(gfi, INFO_FORMAT="text/html"))
    assert st == 200 and h["content-type"].startswith("text/html") and b"<table" in body
    st, h, body = wms(p, **dict(gfi, INFO_FORMAT="application/vnd.ogc.gml"))
    assert st == 200 and b"<parcels_layer>" in body and b"<parcels_feature" in body
    # the same GML asked for as text/xml comes as text/xml
    st, h, body = wms(p, **dict(gfi, INFO_FORMAT="text/xml"))
    assert st == 200 and h["content-type"].startswith("text/xml") and b"<parcels_layer>" in body
    # far away: nothing
    st, h, body = wms(p, **dict(gfi, INFO_FORMAT="application/json",
                                BBOX="300000,5600000,300500,5600500"))
    assert json.loads(body)["features"] == []
    # FEATURE_COUNT caps the hits per layer
    st, h, body = wms(p, **dict(gfi, INFO_FORMAT="application/json", QUERY_LAYERS="cadastre",
                                FEATURE_COUNT="1"))
    feats = json.loads(body)["features"]
    layers = [f["layer"] for f in feats]
    assert len(layers) == len(set(layers)) >= 1, layers


def test_getfeatureinfo_reprojected_crs_hits_the_same_feature():
    p = SERVER[1]
    base = dict(REQUEST="GetFeatureInfo", SERVICE="WMS", VERSION="1.3.0", LAYERS="parcels",
                QUERY_LAYERS="parcels", STYLES="", FORMAT="image/png", WIDTH="101",
                HEIGHT="101", I="50", J="50", INFO_FORMAT="application/json")
    # the same point: 344500, 5677500 in EPSG:25832 is at the centre of both boxes
    a = json.loads(wms(p, **dict(base, CRS="EPSG:25832",
                                 BBOX="344450,5677450,344550,5677550"))[2])
    b = json.loads(wms(p, **dict(base, CRS="EPSG:3044",
                                 BBOX="5677450,344450,5677550,344550"))[2])
    assert a["features"] and a["features"][0]["id"] == b["features"][0]["id"], (a, b)
    # the bbox follows the axis order of the CRS the document names (EPSG:3044: northing
    # first; EPSG:25832: easting first), as the request's BBOX does
    assert b["crs"]["properties"]["name"].endswith("EPSG::3044"), b["crs"]
    ba, bb = a["features"][0]["bbox"], b["features"][0]["bbox"]
    assert ba[0] < 1e6 < ba[1] and bb[0] > 1e6 > bb[1], (ba, bb)


def test_getfeatureinfo_names_the_parcel_that_contains_the_click():
    """At a city-map scale (3.9 m/px: parcels a few pixels wide, the hit tolerance 4 px)
    the first feature is the parcel containing the point, checked with OGR on the source
    GeoPackage for 30 random clicks; neighbours within the tolerance come after it."""
    from osgeo import ogr
    import random
    ds = ogr.Open(os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"))
    lyr = ds.GetLayerByName("parcels")
    p = SERVER[1]
    rnd = random.Random(1)
    res, size, checked = 3.90625, 256, 0
    for _ in range(30):
        x0, y0 = 344000 + rnd.random() * 1500, 5676500 + rnd.random() * 3000
        i, j = rnd.randrange(size), rnd.randrange(size)
        x, y = x0 + (i + 0.5) * res, y0 + size * res - (j + 0.5) * res
        lyr.SetSpatialFilter(ogr.CreateGeometryFromWkt("POINT(%f %f)" % (x, y)))
        truth = [f.GetFID() for f in lyr]
        if not truth:
            continue
        st, _, body = wms(p, REQUEST="GetFeatureInfo", SERVICE="WMS", VERSION="1.3.0",
                          LAYERS="parcels", QUERY_LAYERS="parcels", STYLES="",
                          FORMAT="image/png", CRS="EPSG:25832",
                          BBOX="%f,%f,%f,%f" % (x0, y0, x0 + size * res, y0 + size * res),
                          WIDTH=str(size), HEIGHT=str(size), I=str(i), J=str(j),
                          INFO_FORMAT="application/json", FEATURE_COUNT="3")
        assert st == 200, body[:300]
        ids = [int(f["id"].split(".")[1]) for f in json.loads(body)["features"]]
        assert ids and ids[0] == truth[0], ((x, y), truth, ids)
        checked += 1
    assert checked >= 20, checked


def test_getfeatureinfo_answers_the_geometry_in_the_request_crs():
    """Clients highlight the feature they identified from its geometry (QGIS, OpenLayers,
    Masterportal): JSON and GML GetFeatureInfo carry it, at full detail, in the request's
    CRS: equal to the source's parcel (OGR, the GeoPackage) in EPSG:25832, northing first
    in JSON for EPSG:3044 as its bbox, and readable by OGR's GML driver. It had been null
    (JSON) and missing (GML)."""
    from osgeo import ogr
    ds = ogr.Open(os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"))
    lyr = ds.GetLayerByName("parcels")
    p = SERVER[1]
    base = dict(REQUEST="GetFeatureInfo", SERVICE="WMS", VERSION="1.3.0", LAYERS="parcels",
                QUERY_LAYERS="parcels", STYLES="", FORMAT="image/png", WIDTH="101",
                HEIGHT="101", I="50", J="50", FEATURE_COUNT="1")
    st, _, body = wms(p, **dict(base, CRS="EPSG:25832", BBOX="344450,5677450,344550,5677550",
                                INFO_FORMAT="application/json"))
    assert st == 200, body[:300]
    f = json.loads(body)["features"][0]
    tf = lyr.GetFeature(int(f["id"].split(".")[1]))
    truth = tf.GetGeometryRef()
    assert f["geometry"]["type"] in ("Polygon", "MultiPolygon"), f["geometry"]
    got = ogr.CreateGeometryFromJson(json.dumps(f["geometry"]))
    assert got is not None and got.IsValid()
    assert abs(got.GetArea() - truth.GetArea()) < 0.01 * truth.GetArea(), \
        (got.GetArea(), truth.GetArea())
    assert got.SymDifference(truth).GetArea() < 0.01 * truth.GetArea(), \
        (got.ExportToWkt()[:200], truth.ExportToWkt()[:200])
    # northing first for EPSG:3044, as the bbox
    st, _, body = wms(p, **dict(base, CRS="EPSG:3044", BBOX="5677450,344450,5677550,344550",
                                INFO_FORMAT="application/json"))
    g = json.loads(body)["features"][0]
    assert g["id"] == f["id"], (g["id"], f["id"])
    ring_a, ring_b = f["geometry"]["coordinates"], g["geometry"]["coordinates"]
    while isinstance(ring_a[0][0], list):
        ring_a, ring_b = ring_a[0], ring_b[0]
    assert all(abs(a[0] - b[1]) < 0.01 and abs(a[1] - b[0]) < 0.01
               for a, b in zip(ring_a, ring_b)), (ring_a[:2], ring_b[:2])
    # GML: OGR reads the feature's geometry, the same polygon
    st, _, body = wms(p, **dict(base, CRS="EPSG:25832", BBOX="344450,5677450,344550,5677550",
                                INFO_FORMAT="application/vnd.ogc.gml"))
    assert st == 200 and b"<msGeometry>" in body, body[:500]
    path = os.path.join(TMP, "gfi_geometry.gml")
    with open(path, "wb") as out:
        out.write(body)
    gds = ogr.Open(path)
    assert gds is not None and gds.GetLayerCount() == 1, body[:500]
    feat = gds.GetLayer(0).GetNextFeature()
    gg = feat.GetGeometryRef()
    assert gg is not None and gg.SymDifference(truth).GetArea() < 0.01 * truth.GetArea(), \
        (gg.ExportToWkt()[:200] if gg else None)
    # a street: a LineString
    st, _, body = wms(p, **dict(base, LAYERS="streets", QUERY_LAYERS="streets",
                                CRS="EPSG:3857", BBOX="755600,6665600,756200,6666200",
                                WIDTH="256", HEIGHT="256", I="100", J="140",
                                INFO_FORMAT="application/json"))
    s = json.loads(body)["features"]
    assert s and s[0]["geometry"]["type"] in ("LineString", "MultiLineString"), s[:1]


def test_getfeatureinfo_ids_of_live_features_are_their_sensor_ids():
    """Features of a feed layer have no source FID: each is named by its sensor id (the
    bay), unique, in JSON, GML (an XML ID) and text; they were all "parking_bays.-1"."""
    p = SERVER[1]
    gfi = dict(REQUEST="GetFeatureInfo", SERVICE="WMS", VERSION="1.3.0", LAYERS="parking_bays",
               QUERY_LAYERS="parking_bays", STYLES="", FORMAT="image/png", CRS="CRS:84",
               BBOX="6.70,51.20,6.85,51.28", WIDTH="100", HEIGHT="100", I="50", J="50",
               FEATURE_COUNT="10")
    deadline = time.time() + 20  # the demo feed's first snapshot
    while True:
        st, _, body = wms(p, **dict(gfi, INFO_FORMAT="application/json"))
        feats = json.loads(body)["features"] if st == 200 else []
        if len(feats) >= 3 or time.time() > deadline:
            break
        time.sleep(0.5)
    assert len(feats) >= 3, body[:300]
    ids = [f["id"] for f in feats]
    assert len(set(ids)) == len(ids), ids
    for f in feats:
        assert f["id"] == "parking_bays." + f["properties"]["id"], f
    st, _, gml = wms(p, **dict(gfi, INFO_FORMAT="application/vnd.ogc.gml"))
    fids = re.findall(rb'fid="([^"]*)"', gml)
    assert len(fids) == len(ids) and len(set(fids)) == len(fids), fids
    assert all(re.match(rb"^[A-Za-z_][A-Za-z0-9_.-]*$", x) for x in fids), fids


def test_version_negotiation_legend_urls_and_live_field_types():
    """VERSION=2.0 (two numbers) negotiates down to 1.3.0 like 2.0.0; 1.1.1 capabilities
    link 1.1.1 legends; a live layer's configured value fields are Numbers in the vector
    TileJSON even before a sensor sends one (the demo's air CSV has no pm25)."""
    p = SERVER[1]
    for v, want in (("2.0", b'version="1.3.0"'), ("1.1", b'version="1.1.1"'),
                    ("2.0.0", b'version="1.3.0"')):
        st, _, body = get(p, "/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=" + v)
        assert st == 200 and want in body[:600], (v, body[:300])
    st, _, body = get(p, "/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.1.1")
    urls = re.findall(rb'xlink:href="([^"]*GetLegendGraphic[^"]*)"', body)
    assert urls and all(b"VERSION=1.1.1" in u for u in urls), urls[:3]
    st, _, body = get(p, "/tiles/air.json?format=pbf")
    fields = json.loads(body)["vector_layers"][0]["fields"]
    for f in ("no2", "pm10", "pm25", "o3"):
        assert fields.get(f) == "Number", fields
    assert fields.get("state") == "String", fields


def test_live_layers_advertise_their_configured_extent():
    """The demo's live layers have `extent` in the config: WMS gives them (and the root,
    which encloses every child) a box holding every station, WMTS a WGS84BoundingBox."""
    import xml.etree.ElementTree as ET
    p = SERVER[1]
    st, _, body = get(p, "/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0")
    ns = {"w": "http://www.opengis.net/wms"}
    root = ET.fromstring(body)
    boxes = {}
    for lyr in root.iter("{http://www.opengis.net/wms}Layer"):
        name = lyr.find("w:Name", ns)
        bb = lyr.find("w:EX_GeographicBoundingBox", ns)
        if name is not None and bb is not None:
            boxes[name.text] = [float(bb.find("w:" + k, ns).text) for k in
                                ("westBoundLongitude", "southBoundLatitude",
                                 "eastBoundLongitude", "northBoundLatitude")]
    st, _, gj = get(p, "/sensors/demo_air.geojson")
    pts = [f["geometry"]["coordinates"] for f in json.loads(gj)["features"] if f.get("geometry")]
    assert len(pts) >= 4, pts
    for name in ("air_stations", "air", "city"):
        w, s_, e, n = boxes[name]
        for x, y in pts:
            assert w <= x <= e and s_ <= y <= n, (name, boxes[name], (x, y))
    assert "parking_bays" in boxes and "parking" in boxes, sorted(boxes)
    st, _, caps = get(p, "/wmts/1.0.0/WMTSCapabilities.xml")
    wroot = ET.fromstring(caps)
    owsns = "{http://www.opengis.net/ows/1.1}"
    for lyr in wroot.iter("{http://www.opengis.net/wmts/1.0}Layer"):
        ident = lyr.find(owsns + "Identifier").text
        assert lyr.find(owsns + "WGS84BoundingBox") is not None, ident


def test_getlegendgraphic():
    p = SERVER[1]
    st, h, body = wms(p, SERVICE="WMS", VERSION="1.3.0", REQUEST="GetLegendGraphic",
                      LAYER="buildings", FORMAT="image/png")
    assert st == 200 and h["content-type"] == "image/png"
    w, hh, _ = png_info(body)
    assert w > 40 and hh > 40, (w, hh)
    st, h, body = wms(p, SERVICE="WMS", VERSION="1.3.0", REQUEST="GetLegendGraphic",
                      LAYER="cadastre", FORMAT="image/png")
    assert png_info(body)[1] > hh          # a group shows all its layers' rules
    # ... each layer's under its title: one heading row (20 px and a 2 px gap) per layer
    # more than its layers' legends stacked (they had run on with no heading)
    gh = png_info(body)[1]
    parts = []
    for name in ("parcels", "buildings", "streets"):
        st, _, lb = wms(p, SERVICE="WMS", VERSION="1.3.0", REQUEST="GetLegendGraphic",
                        LAYER=name, FORMAT="image/png")
        parts.append(png_info(lb)[1])
    stacked = sum(parts) + 2 * (len(parts) - 1)
    assert gh == stacked + len(parts) * 22, (gh, parts)
    wms_exc(p, "1.3.0", "LayerNotDefined", SERVICE="WMS", VERSION="1.3.0",
            REQUEST="GetLegendGraphic", LAYER="nope", FORMAT="image/png")
    wms_exc(p, "1.3.0", "InvalidParameterValue", SERVICE="WMS", VERSION="1.3.0",
            REQUEST="GetLegendGraphic", LAYER="buildings", RULE="nope", FORMAT="image/png")
    # DPI (and its GeoServer / MapServer spellings) scales the legend as it scales GetMap
    for k, v in (("DPI", "181.4"), ("MAP_RESOLUTION", "181.4"), ("FORMAT_OPTIONS", "dpi:181.4")):
        st, h, big = wms(p, SERVICE="WMS", VERSION="1.3.0", REQUEST="GetLegendGraphic",
                         LAYER="buildings", FORMAT="image/png", **{k: v})
        bw, bh, _ = png_info(big)
        assert st == 200 and 1.8 * w < bw < 2.2 * w and 1.8 * hh < bh < 2.2 * hh, (k, w, hh, bw, bh)
    wms_exc(p, "1.3.0", "InvalidParameterValue", SERVICE="WMS", VERSION="1.3.0",
            REQUEST="GetLegendGraphic", LAYER="buildings", FORMAT="image/png", DPI="abc")
    # ... GeoServer's LEGEND_OPTIONS=dpi:N too; and WIDTH/HEIGHT grow with the DPI as the
    # default samples do (20 x 20 asked at 300 dpi had been 20 px samples beside 3x text)
    st, _, lo = wms(p, SERVICE="WMS", VERSION="1.3.0", REQUEST="GetLegendGraphic",
                    LAYER="buildings", FORMAT="image/png", LEGEND_OPTIONS="fontAntiAliasing:true;dpi:181.4")
    assert png_info(lo)[:2] == png_info(big)[:2], (png_info(lo), png_info(big))
    st, _, d300 = wms(p, SERVICE="WMS", VERSION="1.3.0", REQUEST="GetLegendGraphic",
                      LAYER="buildings", FORMAT="image/png", DPI="300")
    st, _, w300 = wms(p, SERVICE="WMS", VERSION="1.3.0", REQUEST="GetLegendGraphic",
                      LAYER="buildings", FORMAT="image/png", DPI="300", WIDTH="20", HEIGHT="20")
    assert png_info(w300)[:2] == png_info(d300)[:2], (png_info(w300), png_info(d300))
    # a legend taller than max_height (4096) keeps whole rows: its height is n rows and
    # n - 1 gaps (it had been cut through a row, its last classes gone without a word)
    for dpi in (600.0, 1200.0):
        st, _, tall = wms(p, SERVICE="WMS", VERSION="1.3.0", REQUEST="GetLegendGraphic",
                          LAYER="city", FORMAT="image/png", DPI=str(dpi))
        sf = dpi / (25.4 / 0.28)
        ih = round(20 * sf)
        rowh = max(ih, math.ceil(12.0 * sf * 1.4))
        gap = max(2, round(2 * sf))
        th = png_info(tall)[1]
        assert st == 200 and th <= 4096 and (th + gap) % (rowh + gap) == 0, (dpi, th, rowh, gap)
    # not one row fits: an exception, not a blank image
    wms_exc(p, "1.3.0", "InvalidParameterValue", SERVICE="WMS", VERSION="1.3.0",
            REQUEST="GetLegendGraphic", LAYER="cadastre", FORMAT="image/png", DPI="2400",
            WIDTH="200", HEIGHT="200")


def test_legend_draws_hatched_and_patterned_fills():
    """A GraphicFill's legend sample is its pattern as the map draws it (a B-Plan legend is
    its hatches): shape://slash lines and spaced circles, not a flat colour (it had been
    half the pattern's colour, one value over the whole sample)."""
    d = tempfile.mkdtemp()
    try:
        fills = {
            "hatch": '<Mark><WellKnownName>shape://slash</WellKnownName><Stroke>'
                     '<CssParameter name="stroke">#000000</CssParameter></Stroke></Mark>'
                     '<Size>8</Size>',
            "dots": '<Mark><WellKnownName>circle</WellKnownName><Fill><CssParameter '
                    'name="fill">#000000</CssParameter></Fill></Mark><Size>4</Size>',
        }
        gpkg = os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
        layers = ""
        for name, mark in fills.items():
            with open(os.path.join(d, name + ".sld"), "w") as f:
                f.write('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"'
                        '><NamedLayer><Name>x</Name><UserStyle><FeatureTypeStyle><Rule>'
                        '<PolygonSymbolizer><Fill><GraphicFill><Graphic>%s</Graphic>'
                        '</GraphicFill></Fill><VendorOption name="graphic-margin">3'
                        '</VendorOption></PolygonSymbolizer></Rule></FeatureTypeStyle>'
                        '</UserStyle></NamedLayer></StyledLayerDescriptor>' % mark)
            layers += "  %s: {source: s, table: parcels, style: %s/%s.sld}\n" % (name, d, name)
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as f:
            f.write("sources:\n  s: {path: %s}\nlayers:\n%stilesets:\n  t: {layers: [%s]}\n"
                    % (gpkg, layers, ", ".join(fills)))
        srv = start_server(cfg)
        try:
            for name in fills:
                st, h, body = wms(srv[1], SERVICE="WMS", VERSION="1.3.0",
                                  REQUEST="GetLegendGraphic", LAYER=name, FORMAT="image/png",
                                  WIDTH="40", HEIGHT="40")
                assert st == 200 and h["content-type"] == "image/png", (name, st, body[:300])
                w, hh, px = png_pixels(body)
                inner = [px[y * w + x] for y in range(8, 32) for x in range(8, 32)]
                dark = sum(1 for p in inner if p[0] < 100)
                light = sum(1 for p in inner if p[0] > 200)
                # a pattern: dark lines or dots and light gaps, each a real share
                assert dark > 40 and light > 100, (name, dark, light)
        finally:
            stop_server(srv)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_gml_feature_info_keeps_umlauts_in_field_names():
    """German field names are XML names as they are ("Straße", "Flurstücksnummer"): GML
    GetFeatureInfo had written every byte of a non-ASCII letter as '_' ("Stra__e"), so
    Masterportal's attribute mapping and OpenLayers' GML reader lost those attributes.
    Characters XML does not allow in names still become one '_' each ("Einwohner/km²")."""
    import xml.etree.ElementTree as ET
    d = tempfile.mkdtemp()
    try:
        gj = os.path.join(d, "poi.geojson")
        with open(gj, "w", encoding="utf-8") as f:
            json.dump({"type": "FeatureCollection", "features": [{
                "type": "Feature", "geometry": {"type": "Point", "coordinates": [6.78, 51.22]},
                "properties": {"Stra\u00dfe": "K\u00f6nigsallee", "\u00c4\u00d6\u00dc": 1,
                               "\u00e4\u00f6\u00fc": 2, "Einwohner/km\u00b2": 3,
                               "3D": "ja"}}]}, f, ensure_ascii=False)
        with open(os.path.join(d, "poi.sld"), "w") as f:
            f.write('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld">'
                    '<NamedLayer><Name>x</Name><UserStyle><FeatureTypeStyle><Rule>'
                    '<PointSymbolizer><Graphic><Mark><WellKnownName>circle</WellKnownName>'
                    '<Fill/></Mark><Size>10</Size></Graphic></PointSymbolizer></Rule>'
                    '</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>')
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as f:
            f.write("sources:\n  s: {path: %s}\nlayers:\n  poi: {source: s, style: %s}\n"
                    "tilesets:\n  t: {layers: [poi]}\n" % (gj, os.path.join(d, "poi.sld")))
        srv = start_server(cfg)
        try:
            st, h, body = wms(srv[1], SERVICE="WMS", VERSION="1.3.0", REQUEST="GetFeatureInfo",
                              LAYERS="poi", QUERY_LAYERS="poi", STYLES="", CRS="CRS:84",
                              BBOX="6.77,51.21,6.79,51.23", WIDTH="101", HEIGHT="101", I="50",
                              J="50", FORMAT="image/png", INFO_FORMAT="text/xml")
            assert st == 200, body[:300]
            root = ET.fromstring(body)  # well-formed XML
            feat = root.find("poi_layer/poi_feature")
            assert feat is not None, body.decode()
            tags = {c.tag: c.text for c in feat if not c.tag.startswith("{")}
            assert tags.get("Stra\u00dfe") == "K\u00f6nigsallee", tags
            assert tags.get("\u00c4\u00d6\u00dc") == "1" and tags.get("\u00e4\u00f6\u00fc") == "2", tags
            assert tags.get("Einwohner_km_") == "3", tags  # "/" and "\u00b2" are not name characters
            assert tags.get("_3D") == "ja", tags
        finally:
            stop_server(srv)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_capabilities_carry_catalogue_metadata_of_tilesets_and_layers():
    """What catalogues (GDI-DE, INSPIRE view services) and Masterportal's layer information
    read: a tileset's abstract, keywords, metadata record and attribution, a layer's
    keywords and metadata record, in WMS 1.3.0 and 1.1.1 (valid documents) and WMTS (with
    the legend of each layer's default style), and a root layer named for the city; a
    metadata_url that is not http(s) and a root name that is no name are refused with
    their place."""
    import xml.etree.ElementTree as ET
    d = tempfile.mkdtemp()
    try:
        gpkg = os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
        style = os.path.join(ARGS.srcdir, "styles", "parcels.sld")
        cfg = os.path.join(d, "c.yaml")
        body_yaml = (
            "server:\n  wms: {title: Stadtplan, root_name: duesseldorf, max_pixels: 1000000}\n"
            "sources:\n  s: {path: %s}\nlayers:\n"
            "  flurstuecke:\n    source: s\n    table: parcels\n    style: %s\n"
            "    keywords: [Flurst\u00fccke, ALKIS]\n"
            "    metadata_url: \"https://geoportal.example/csw?id=abc&el=full\"\n"
            "tilesets:\n  kataster:\n    layers: [flurstuecke]\n"
            "    abstract: \"Liegenschaftskarte der Stadt\"\n"
            "    keywords: [Kataster, Liegenschaftskarte]\n"
            "    metadata_url: \"https://geoportal.example/csw?id=kat\"\n"
            "    attribution: \"&copy; <a href='https://www.duesseldorf.de/?a=1&amp;b=2'>"
            "Landeshauptstadt D\u00fcsseldorf</a>, dl-de/by-2-0\"\n" % (gpkg, style))
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(body_yaml)
        srv = start_server(cfg)
        try:
            st, _, body = wms(srv[1], SERVICE="WMS", REQUEST="GetCapabilities", VERSION="1.3.0")
            assert st == 200
            xmllint(body, "sld/1.1.0/sld_capabilities.xsd")
            ns = {"w": "http://www.opengis.net/wms", "x": "http://www.w3.org/1999/xlink"}
            root = ET.fromstring(body)
            # the root layer is named as configured (default "city")
            assert root.findtext("w:Capability/w:Layer/w:Name", namespaces=ns) == "duesseldorf"
            # the sizes advertised stay within max_pixels (QGIS splits prints by them; its
            # 2000 x 2000 pieces had been refused, the print blank)
            assert root.findtext("w:Service/w:MaxWidth", namespaces=ns) == "1000"
            assert root.findtext("w:Service/w:MaxHeight", namespaces=ns) == "1000"
            grp = [l for l in root.iter("{%s}Layer" % ns["w"])
                   if l.findtext("w:Name", namespaces=ns) == "kataster"][0]
            assert grp.findtext("w:Abstract", namespaces=ns) == "Liegenschaftskarte der Stadt"
            kws = [k.text for k in grp.findall("w:KeywordList/w:Keyword", ns)]
            assert kws == ["Kataster", "Liegenschaftskarte"], kws
            att = grp.find("w:Attribution", ns)
            assert att is not None, body.decode()[:2000]
            assert att.findtext("w:Title", namespaces=ns) == \
                "\u00a9 Landeshauptstadt D\u00fcsseldorf, dl-de/by-2-0", att.findtext("w:Title", namespaces=ns)
            assert att.find("w:OnlineResource", ns).get("{%s}href" % ns["x"]) == \
                "https://www.duesseldorf.de/?a=1&b=2"
            md = grp.find("w:MetadataURL", ns)
            assert md.get("type") == "ISO19115:2003" and md.findtext("w:Format", namespaces=ns) == "text/xml"
            assert md.find("w:OnlineResource", ns).get("{%s}href" % ns["x"]) == "https://geoportal.example/csw?id=kat"
            lyr = grp.find("w:Layer", ns)
            assert lyr.findtext("w:Name", namespaces=ns) == "flurstuecke"
            assert [k.text for k in lyr.findall("w:KeywordList/w:Keyword", ns)] == ["Flurst\u00fccke", "ALKIS"]
            assert lyr.find("w:MetadataURL/w:OnlineResource", ns).get("{%s}href" % ns["x"]) == \
                "https://geoportal.example/csw?id=abc&el=full"
            st, _, body = wms(srv[1], SERVICE="WMS", REQUEST="GetCapabilities", VERSION="1.1.1")
            xmllint(body, "wms/1.1.1/capabilities_1_1_1.dtd")
            assert b'<MetadataURL type="TC211">' in body and b"<Attribution>" in body
            st, _, body = get(srv[1], "/wmts?SERVICE=WMTS&REQUEST=GetCapabilities")
            assert st == 200
            xmllint(body, "wmts/1.0/wmtsGetCapabilities_response.xsd")
            wn = {"m": "http://www.opengis.net/wmts/1.0", "ows": "http://www.opengis.net/ows/1.1",
                  "x": "http://www.w3.org/1999/xlink"}
            wl = ET.fromstring(body).find("m:Contents/m:Layer", wn)
            assert wl.findtext("ows:Abstract", namespaces=wn) == "Liegenschaftskarte der Stadt"
            assert [k.text for k in wl.findall("ows:Keywords/ows:Keyword", wn)] == \
                ["Kataster", "Liegenschaftskarte"]
            assert wl.find("ows:Metadata", wn).get("{%s}href" % wn["x"]) == "https://geoportal.example/csw?id=kat"
            leg = wl.find("m:Style/m:LegendURL", wn)
            assert leg is not None and "LAYER=kataster" in leg.get("{%s}href" % wn["x"])
            u = urllib.parse.urlsplit(leg.get("{%s}href" % wn["x"]))
            st, h, img = get(srv[1], u.path + "?" + u.query)
            assert st == 200 and h["content-type"] == "image/png"
            assert png_info(img)[:2] == (int(leg.get("width")), int(leg.get("height")))
        finally:
            stop_server(srv)
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(body_yaml.replace("https://geoportal.example/csw?id=kat", "geoportal/kat"))
        r = subprocess.run([ARGS.binary, "check", "-c", cfg], capture_output=True, text=True)
        assert r.returncode != 0 and "c.yaml:" in r.stderr and "metadata_url" in r.stderr and \
            "http://" in r.stderr, r.stderr
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(body_yaml.replace("root_name: duesseldorf", "root_name: 'D\u00fcsseldorf'"))
        r = subprocess.run([ARGS.binary, "check", "-c", cfg], capture_output=True, text=True)
        assert r.returncode != 0 and "c.yaml:2:" in r.stderr and "root_name" in r.stderr, r.stderr
        for taken in ("kataster", "flurstuecke"):  # a tileset's, a layer's name
            with open(cfg, "w", encoding="utf-8") as f:
                f.write(body_yaml.replace("root_name: duesseldorf", "root_name: " + taken))
            r = subprocess.run([ARGS.binary, "check", "-c", cfg], capture_output=True, text=True)
            assert r.returncode != 0 and "c.yaml:2:" in r.stderr and "unique" in r.stderr, r.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_wms_labels_are_seamless_across_maps_a_client_pieces_together():
    """QGIS splits a print into requests of at most 2000 px and Masterportal asks tiled WMS:
    the maps side by side must show the labels one map of the whole box shows, each once
    and whole. Labels are placed as on the tiles, in the map's pixel grid whatever the box
    (server.wms.labels seamless, the default); each map had placed its own inside itself,
    so labels crossing the seam went missing or moved. `labels: inside` keeps that."""
    res = 0.25  # m per pixel in EPSG:25832: street names and parcel numbers
    x0, y1, w, h = 344150.0, 5676500.0, 600, 400
    cut = 440   # through "Ahornstrasse" on the right and near parcel "420"

    def box(px0, pw):
        return "%.6f,%.6f,%.6f,%.6f" % (x0 + px0 * res, y1 - h * res, x0 + (px0 + pw) * res, y1)

    def seam_diff(port):
        _, _, whole = getmap(port, BBOX=box(0, w), WIDTH=str(w), HEIGHT=str(h))
        _, _, left = getmap(port, BBOX=box(0, cut), WIDTH=str(cut), HEIGHT=str(h))
        _, _, right = getmap(port, BBOX=box(cut, w - cut), WIDTH=str(w - cut), HEIGHT=str(h))
        W, _, pw = png_pixels(whole)
        _, _, pl = png_pixels(left)
        _, _, pr = png_pixels(right)
        bad = 0
        for y in range(h):
            for x in range(w):
                a = pw[y * W + x]
                b = pl[y * cut + x] if x < cut else pr[y * (w - cut) + x - cut]
                bad += max(abs(a[k] - b[k]) for k in range(3)) > 40
        return bad

    seamless = seam_diff(SERVER[1])
    assert seamless <= 20, seamless

    def mosaic_diff(port, x0, y1, rx, ry, w, h, cut, **extra):
        def bb(px0, pw):
            return "%.10f,%.10f,%.10f,%.10f" % (x0 + px0 * rx, y1 - h * ry, x0 + (px0 + pw) * rx, y1)
        _, _, whole = getmap(port, BBOX=bb(0, w), WIDTH=str(w), HEIGHT=str(h), **extra)
        _, _, left = getmap(port, BBOX=bb(0, cut), WIDTH=str(cut), HEIGHT=str(h), **extra)
        _, _, right = getmap(port, BBOX=bb(cut, w - cut), WIDTH=str(w - cut), HEIGHT=str(h), **extra)
        W, _, pw = png_pixels(whole)
        _, _, pl = png_pixels(left)
        _, _, pr = png_pixels(right)
        bad = 0
        for y in range(h):
            for x in range(w):
                a = pw[y * W + x]
                b = pl[y * cut + x] if x < cut else pr[y * (w - cut) + x - cut]
                bad += max(abs(a[k] - b[k]) for k in range(3)) > 40
        return bad
    # QGIS's print pieces: whole pixels over the same extent, 0.024 % taller than wide (at
    # 600 dpi; such maps had been placed inside each piece again: labels lost at seams)
    d = mosaic_diff(SERVER[1], 344190.0, 5676560.0, 0.1058383005817, 0.1058127048630, 1024, 256,
                    512, DPI="600")
    assert d <= 20, d
    # a map at exactly 1:5000, where the street names' MaxScaleDenominator 5000 ends: the
    # pieces' scales (4999.99999999908 and 5000.00000000046) had flipped the rule between
    # them, and seamless labels came out cut in half at the seam ("Os|tdamm")
    d = mosaic_diff(SERVER[1], 343876.6666666667, 5677029.166666667, 0.42333333333333334,
                    0.42333333333333334, 1000, 500, 500, DPI="300")
    assert d <= 20, d
    d = tempfile.mkdtemp()
    try:
        cfg = os.path.join(d, "c.yaml")
        demo_dir = os.path.join(os.path.abspath(ARGS.srcdir), "data", "demo")
        demo = open(os.path.join(demo_dir, "tilesrv.yaml"), encoding="utf-8").read()
        # the demo with its relative paths made absolute, its WMS labels inside each map
        demo = demo.replace("../../styles/", os.path.join(os.path.abspath(ARGS.srcdir), "styles") + "/")
        demo = demo.replace("path: duesseldorf_demo.gpkg", "path: " + os.path.join(demo_dir, "duesseldorf_demo.gpkg"))
        demo = demo.replace("air_uba_duesseldorf.csv", os.path.join(demo_dir, "air_uba_duesseldorf.csv"))
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(demo.replace("server:\n", "server:\n  wms: {labels: inside}\n", 1))
        srv = start_server(cfg)
        try:
            inside = seam_diff(srv[1])
        finally:
            stop_server(srv)
        assert inside > 10 * max(seamless, 20), (seamless, inside)  # labels at the seam
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_feature_info_after_an_import_in_place_answers_the_parcel_clicked():
    """GetFeatureInfo reads a hit's attributes back from the source by feature id. An import
    written into the live GeoPackage (ogr2ogr -overwrite, no reload yet) renumbers the
    features: the click had answered another parcel's Flurstück. Now, with the files changed
    since the load, the attributes kept in memory are answered (the log says so)."""
    d = tempfile.mkdtemp()
    try:
        gpkg = os.path.join(d, "live.gpkg")
        shutil.copy(os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"), gpkg)
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as f:
            f.write("sources:\n  s: {path: %s}\nlayers:\n  parcels: {source: s, table: parcels, "
                    "style: %s}\ntilesets:\n  t: {layers: [parcels]}\n"
                    % (gpkg, os.path.join(ARGS.srcdir, "styles", "alkis_parcels.sld")))
        srv = start_server(cfg)
        try:
            gfi = dict(SERVICE="WMS", VERSION="1.3.0", REQUEST="GetFeatureInfo", LAYERS="parcels",
                       QUERY_LAYERS="parcels", STYLES="", CRS="EPSG:25832",
                       BBOX="344150,5676400,344300,5676500", WIDTH="600", HEIGHT="400",
                       I="429", J="286", FORMAT="image/png", INFO_FORMAT="application/json")
            st, _, body = wms(srv[1], **gfi)
            before = json.loads(body)["features"][0]["properties"]
            assert "zaehler" in before and "flstnr" in before, before  # read from the source
            # this week's import into the live file: the first parcels gone, ids renumbered
            r = subprocess.run(["ogr2ogr", "-update", "-overwrite", "-nln", "parcels", gpkg,
                                os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"),
                                "-unsetFid", "-sql", "SELECT * FROM parcels WHERE fid > 50"],
                               capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            st, _, body = wms(srv[1], **gfi)
            after = json.loads(body)["features"][0]["properties"]
            assert after, body[:300]
            for k, v in after.items():  # never another parcel's values
                assert before.get(k) == v, (k, before.get(k), v)
            assert "has changed on disk since it was loaded" in open(srv[2]).read()
        finally:
            stop_server(srv)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_legend_shows_categorize_and_recode_classes_row_by_row():
    """A fill by Categorize (thresholds) or Recode (keys) of literal colours: one legend row
    per class, its colour and range or key ("< 300", "300 - 600", ">= 600"), after the
    rule's title; it had been one grey sample for all."""
    d = tempfile.mkdtemp()
    try:
        fns = {
            "cat": '<ogc:Function name="Categorize"><ogc:PropertyName>area_m2</ogc:PropertyName>'
                   '<ogc:Literal>#ff0000</ogc:Literal><ogc:Literal>300</ogc:Literal>'
                   '<ogc:Literal>#00ff00</ogc:Literal><ogc:Literal>600</ogc:Literal>'
                   '<ogc:Literal>#0000ff</ogc:Literal></ogc:Function>',
            "rec": '<ogc:Function name="Recode"><ogc:PropertyName>nutzung</ogc:PropertyName>'
                   '<ogc:Literal>Wohnen</ogc:Literal><ogc:Literal>#ff0000</ogc:Literal>'
                   '<ogc:Literal>Gewerbe</ogc:Literal><ogc:Literal>#0000ff</ogc:Literal>'
                   '</ogc:Function>',
        }
        gpkg = os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
        layers = ""
        for name, fn in fns.items():
            with open(os.path.join(d, name + ".sld"), "w", encoding="utf-8") as f:
                f.write('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"'
                        ' xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>x</Name>'
                        '<UserStyle><FeatureTypeStyle><Rule><Title>Fl\u00e4che</Title>'
                        '<PolygonSymbolizer><Fill><CssParameter name="fill">%s</CssParameter>'
                        '</Fill></PolygonSymbolizer></Rule></FeatureTypeStyle></UserStyle>'
                        '</NamedLayer></StyledLayerDescriptor>' % fn)
            layers += "  %s: {source: s, table: parcels, style: %s/%s.sld}\n" % (name, d, name)
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("sources:\n  s: {path: %s}\nlayers:\n%stilesets:\n  t: {layers: [%s]}\n"
                    % (gpkg, layers, ", ".join(fns)))
        srv = start_server(cfg)
        try:
            want = {"cat": [(255, 0, 0), (0, 255, 0), (0, 0, 255)],
                    "rec": [(255, 0, 0), (0, 0, 255)]}
            for name, colours in want.items():
                st, h, body = wms(srv[1], SERVICE="WMS", VERSION="1.3.0",
                                  REQUEST="GetLegendGraphic", LAYER=name, FORMAT="image/png")
                assert st == 200, (name, st, body[:300])
                w, hh, px = png_pixels(body)
                # the sample column (x = 10) from top to bottom: the classes in order
                seen = []
                for y in range(hh):
                    p = px[y * w + 10][:3]
                    if p in colours and (not seen or seen[-1] != p):
                        seen.append(p)
                assert seen == colours, (name, seen)
        finally:
            stop_server(srv)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_legend_leaves_out_untitled_label_rules_and_label_bars_over_marks():
    """GetLegendGraphic: a rule of labels only without a title (QGIS's labelling) has no row
    (it was a bar without a title); a rule drawing a mark and a label shows the mark alone
    (the label's bar was drawn across it); a titled rule of labels only keeps its bar."""
    from osgeo import gdal
    d = tempfile.mkdtemp()
    try:
        mark = ('<Rule><Title>Mark</Title><PointSymbolizer><Graphic><Mark><WellKnownName>square'
                '</WellKnownName><Fill><CssParameter name="fill">#ff0000</CssParameter></Fill>'
                '</Mark><Size>12</Size></Graphic></PointSymbolizer>%s</Rule>')
        text = ('<TextSymbolizer><Label><ogc:PropertyName>flstnr</ogc:PropertyName></Label>'
                '<Fill><CssParameter name="fill">#0000ff</CssParameter></Fill></TextSymbolizer>')
        titled = '<Rule><Title>Namen</Title>%s</Rule>' % text
        untitled = '<Rule>%s</Rule>' % text
        head = ('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" '
                'xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>x</Name><UserStyle>'
                '<FeatureTypeStyle>')
        tail = '</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>'
        styles = {"three": mark % text + untitled + titled, "two": mark % "" + titled}
        for name, rules in styles.items():
            with open(os.path.join(d, name + ".sld"), "w") as f:
                f.write(head + rules + tail)
        gpkg = os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as f:
            f.write("sources:\n  s: {path: %s}\nlayers:\n"
                    "  three: {source: s, table: parcels, style: %s/three.sld}\n"
                    "  two: {source: s, table: parcels, style: %s/two.sld}\n"
                    "tilesets:\n  t: {layers: [three, two]}\n" % (gpkg, d, d))
        srv = start_server(cfg)
        try:
            imgs = {}
            for name in styles:
                st, h, body = wms(srv[1], SERVICE="WMS", VERSION="1.3.0",
                                  REQUEST="GetLegendGraphic", LAYER=name, FORMAT="image/png")
                assert st == 200, (st, body[:300])
                gdal.FileFromMemBuffer("/vsimem/leg_%s.png" % name, body)
                ds = gdal.Open("/vsimem/leg_%s.png" % name)
                imgs[name] = (ds.RasterXSize, ds.RasterYSize,
                              [ds.GetRasterBand(b + 1).ReadRaster() for b in range(3)])
            assert imgs["three"][:2] == imgs["two"][:2], (imgs["three"][:2], imgs["two"][:2])
            w, hh, (r, g, b) = imgs["three"]
            # the first row's sample (the left 24 px of the top 24): red, nothing blue
            blue = red = 0
            for y in range(min(24, hh)):
                for x in range(min(24, w)):
                    i = y * w + x
                    red += r[i] > 200 and g[i] < 60 and b[i] < 60
                    blue += b[i] > 150 and r[i] < 100
            assert red > 20 and blue == 0, (red, blue)
        finally:
            stop_server(srv)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_ground_units_scale_with_the_map():
    """SE 1.1 uom metre (QGIS's "meters at scale", GeoServer's ground units): a line 6 m wide
    is 6 m wide at every scale — the same map at twice the pixels has four times its pixels
    (a line in pixels: twice); so are labels 25 m high. GetLegendGraphic draws it at its SCALE; the MapLibre style's
    line-width grows with the zoom (base 2) through the widths at zooms 0 and 24."""
    from osgeo import gdal
    d = tempfile.mkdtemp()
    try:
        sld = ('<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" '
               'xmlns:se="http://www.opengis.net/se" xmlns:ogc="http://www.opengis.net/ogc">'
               '<NamedLayer><se:Name>x</se:Name><UserStyle><se:FeatureTypeStyle><se:Rule>'
               '<se:Name>s</se:Name><se:LineSymbolizer%s><se:Stroke>'
               '<se:SvgParameter name="stroke">#ff0000</se:SvgParameter>'
               '<se:SvgParameter name="stroke-width">%s</se:SvgParameter></se:Stroke>'
               '</se:LineSymbolizer></se:Rule></se:FeatureTypeStyle></UserStyle></NamedLayer>'
               '</StyledLayerDescriptor>')
        metre = ' uom="http://www.opengeospatial.org/se/units/metre"'
        with open(os.path.join(d, "m.sld"), "w") as f:
            f.write(sld % (metre, "6"))
        with open(os.path.join(d, "px.sld"), "w") as f:
            f.write(sld % ("", "2"))
        text = ('<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" '
                'xmlns:se="http://www.opengis.net/se" xmlns:ogc="http://www.opengis.net/ogc">'
                '<NamedLayer><se:Name>x</se:Name><UserStyle><se:FeatureTypeStyle><se:Rule>'
                '<se:TextSymbolizer%s><se:Label><ogc:PropertyName>station_id</ogc:PropertyName>'
                '</se:Label><se:Font><se:SvgParameter name="font-size">%s</se:SvgParameter>'
                '</se:Font><se:LabelPlacement><se:PointPlacement><se:AnchorPoint>'
                '<se:AnchorPointX>0.5</se:AnchorPointX><se:AnchorPointY>0.5</se:AnchorPointY>'
                '</se:AnchorPoint></se:PointPlacement></se:LabelPlacement>'
                '<se:Fill><se:SvgParameter name="fill">#000000</se:SvgParameter>'
                '</se:Fill></se:TextSymbolizer></se:Rule></se:FeatureTypeStyle></UserStyle>'
                '</NamedLayer></StyledLayerDescriptor>')
        with open(os.path.join(d, "tm.sld"), "w") as f:
            f.write(text % (metre, "25"))
        with open(os.path.join(d, "tpx.sld"), "w") as f:
            f.write(text % ("", "16"))
        gpkg = os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as f:
            f.write("sources:\n  s: {path: %s}\nlayers:\n"
                    "  m: {source: s, table: streets, style: %s/m.sld}\n"
                    "  px: {source: s, table: streets, style: %s/px.sld}\n"
                    "  tm: {source: s, table: air_stations, style: %s/tm.sld}\n"
                    "  tpx: {source: s, table: air_stations, style: %s/tpx.sld}\n"
                    "tilesets:\n  t: {layers: [m]}\n  u: {layers: [px]}\n"
                    "  v: {layers: [tm, tpx]}\n" % (gpkg, d, d, d, d))
        srv = start_server(cfg)
        try:
            p = srv[1]

            def red_pixels(body):
                gdal.FileFromMemBuffer("/vsimem/g.png", body)
                ds = gdal.Open("/vsimem/g.png")
                r, g, b = [ds.GetRasterBand(k + 1).ReadRaster() for k in range(3)]
                return sum(1 for i in range(len(r)) if r[i] > 200 and g[i] < 90 and b[i] < 90)

            # 600 m around the city centre in EPSG:25832 (1:8400 at 256 px, 1:4200 at 512)
            box = "344240,5677200,344840,5677800"
            counts = {}
            for layer in ("m", "px"):
                for size in (256, 512):
                    st, h, body = wms(p, SERVICE="WMS", VERSION="1.3.0", REQUEST="GetMap",
                                      LAYERS=layer, STYLES="", CRS="EPSG:25832", BBOX=box,
                                      WIDTH=str(size), HEIGHT=str(size), FORMAT="image/png")
                    assert st == 200 and h["content-type"] == "image/png", (st, body[:300])
                    counts[layer, size] = red_pixels(body)
            assert counts["m", 256] > 500 and counts["px", 256] > 500, counts
            rm = counts["m", 512] / counts["m", 256]
            rp = counts["px", 512] / counts["px", 256]
            assert 3.3 < rm < 4.6 and 1.6 < rp < 2.5, (rm, rp, counts)

            # a label 25 m high: 16 px at 256 px for 400 m, 32 px at 512 px (4x the ink);
            # one of 16 px stays 16 px
            def dark_pixels(body):
                gdal.FileFromMemBuffer("/vsimem/t.png", body)
                ds = gdal.Open("/vsimem/t.png")
                r, g, b, a = [ds.GetRasterBand(k + 1).ReadRaster() for k in range(4)]
                return sum(1 for i in range(len(r)) if a[i] > 128 and r[i] < 100)

            box = "342650,5679968,343050,5680368"  # station DENW009 in its middle
            ink = {}
            for layer in ("tm", "tpx"):
                for size in (256, 512):
                    st, h, body = wms(p, SERVICE="WMS", VERSION="1.3.0", REQUEST="GetMap",
                                      LAYERS=layer, STYLES="", CRS="EPSG:25832", BBOX=box,
                                      WIDTH=str(size), HEIGHT=str(size), FORMAT="image/png",
                                      TRANSPARENT="TRUE")
                    assert st == 200 and h["content-type"] == "image/png", (st, body[:300])
                    ink[layer, size] = dark_pixels(body)
            assert ink["tm", 256] > 30 and ink["tpx", 256] > 30, ink
            rt = ink["tm", 512] / ink["tm", 256]
            rtp = ink["tpx", 512] / ink["tpx", 256]
            assert 3.0 < rt < 5.0 and 0.7 < rtp < 1.4, (rt, rtp, ink)
            # zoomed in far (25 m = 400 px at 1:223) the label stops growing at 128 px
            # instead of outgrowing the longest label drawn (a box of 1024 px) and vanishing
            near = "342825.5,5680143.24,342875.5,5680193.24"   # 50 m around the station
            st, h, body = wms(p, SERVICE="WMS", VERSION="1.3.0", REQUEST="GetMap", LAYERS="tm",
                              STYLES="", CRS="EPSG:25832", BBOX=near, WIDTH="800",
                              HEIGHT="800", FORMAT="image/png", TRANSPARENT="TRUE")
            assert st == 200 and h["content-type"] == "image/png", (st, body[:300])
            big = dark_pixels(body)
            assert big > ink["tm", 512], (big, ink)

            # the legend at two scales: 6 m is 21 px at 1:1000 (kept inside the sample: 10)
            # and 2.1 px at 1:10000
            leg = {}
            for scale in ("1000", "10000"):
                st, h, body = wms(p, SERVICE="WMS", VERSION="1.3.0", REQUEST="GetLegendGraphic",
                                  LAYER="m", FORMAT="image/png", SCALE=scale)
                assert st == 200, (st, body[:300])
                leg[scale] = red_pixels(body)
            assert leg["1000"] > 3 * leg["10000"] > 0, leg

            # MapLibre: ["interpolate", ["exponential", 2], ["zoom"], 0, w0, 24, w24]
            st, h, body = get(p, "/styles/t.json")
            assert st == 200, (st, body[:300])
            lines = [l for l in json.loads(body)["layers"] if l["type"] == "line"]
            assert len(lines) == 1, lines
            lw = lines[0]["paint"]["line-width"]
            assert lw[:3] == ["interpolate", ["exponential", 2], ["zoom"]], lw
            assert lw[3] == 0 and lw[5] == 24, lw
            # MapLibre zoom 24 shows scale 559082264.03 / 2^25
            want = 6 / (559082264.028718 / 2 ** 25 * 0.00028)
            assert abs(lw[6] - want) < 1e-6 * want and abs(lw[4] * 2 ** 24 - lw[6]) < 1e-6 * want, lw
            # and its labels' size (25 m) grow alike; those in pixels stay
            st, h, body = get(p, "/styles/v.json")
            assert st == 200, (st, body[:300])
            sizes = {l["source-layer"]: l["layout"]["text-size"]
                     for l in json.loads(body)["layers"] if l["type"] == "symbol"}
            assert sizes["tpx_label"] == 16, sizes
            ts = sizes["tm_label"]
            assert ts[:4] == ["interpolate", ["exponential", 2], ["zoom"], 0], ts
            assert abs(ts[6] - 25 / 6 * want) < 1e-6 * want, ts
        finally:
            stop_server(srv)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_large_labels_are_drawn_and_too_long_ones_named():
    """A label of 200 px (a box of about 420 px) is drawn; labels had been dropped without a
    word from a font of 123 px. One longer than the 1024 px a label may reach is not drawn,
    and the log says so with an example."""
    from osgeo import gdal
    d = tempfile.mkdtemp()
    try:
        sld = ('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" '
               'xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>x</Name><UserStyle>'
               '<FeatureTypeStyle><Rule><TextSymbolizer><Label>%s</Label><Font><CssParameter '
               'name="font-size">200</CssParameter></Font><LabelPlacement><PointPlacement>'
               '<AnchorPoint><AnchorPointX>0.5</AnchorPointX><AnchorPointY>0.5</AnchorPointY>'
               '</AnchorPoint></PointPlacement></LabelPlacement></TextSymbolizer></Rule>'
               '</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>')
        with open(os.path.join(d, "big.sld"), "w") as f:
            f.write(sld % "MM")
        with open(os.path.join(d, "long.sld"), "w") as f:
            f.write(sld % "Luftmessstation")
        gpkg = os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as f:
            f.write("sources:\n  s: {path: %s}\nlayers:\n"
                    "  big: {source: s, table: air_stations, style: %s/big.sld}\n"
                    "  long: {source: s, table: air_stations, style: %s/long.sld}\n"
                    "tilesets:\n  v: {layers: [big, long]}\n" % (gpkg, d, d))
        srv = start_server(cfg)
        try:
            ink = {}
            for layer in ("big", "long"):
                st, h, body = wms(srv[1], SERVICE="WMS", VERSION="1.3.0", REQUEST="GetMap",
                                  LAYERS=layer, STYLES="", CRS="EPSG:25832",
                                  BBOX="342650,5679968,343050,5680368", WIDTH="1024",
                                  HEIGHT="1024", FORMAT="image/png", TRANSPARENT="TRUE")
                assert st == 200 and h["content-type"] == "image/png", (st, body[:300])
                gdal.FileFromMemBuffer("/vsimem/big.png", body)
                ds = gdal.Open("/vsimem/big.png")
                a = ds.GetRasterBand(4).ReadRaster()
                ink[layer] = sum(1 for v in a if v > 128)
            assert ink["big"] > 5000 and ink["long"] == 0, ink
        finally:
            stop_server(srv)
        log = open(srv[2]).read()
        assert "labels longer than 1024 px" in log and "Luftmessstation" in log, log[-2000:]
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_layer_named_as_its_tileset_is_requestable_as_tileset_colon_layer():
    """A tileset and one of its layers of one name (natural for a city: tileset `wohnlage`
    with layer `wohnlage` and a district layer): the group keeps the name and the layer is
    `wohnlage:wohnlage` (as GeoServer's workspace:layer), listed, drawn and queried alone.
    It had been listed without a Name, and QUERY_LAYERS=wohnlage queried the whole group."""
    d = tempfile.mkdtemp()
    try:
        gpkg = os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
        sld = os.path.join(ARGS.srcdir, "styles", "parcels.sld")
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as f:
            f.write("sources:\n  s: {path: %s}\nlayers:\n"
                    "  parcels: {source: s, style: %s}\n"
                    "  flurstuecke: {source: s, table: parcels, style: %s}\n"
                    "tilesets:\n  parcels: {layers: [flurstuecke, parcels]}\n"
                    % (gpkg, sld, sld))
        srv = start_server(cfg)
        try:
            st, _, caps = wms(srv[1], SERVICE="WMS", VERSION="1.3.0", REQUEST="GetCapabilities")
            assert st == 200
            names = re.findall(r"<Name>([^<]*)</Name>", caps.decode())
            assert "parcels" in names and "parcels:parcels" in names, names
            base = dict(SERVICE="WMS", VERSION="1.3.0", STYLES="", CRS="EPSG:25832",
                        BBOX="344290,5677950,344350,5678010", WIDTH="64", HEIGHT="64")
            st, h, body = wms(srv[1], REQUEST="GetMap", LAYERS="parcels:parcels",
                              FORMAT="image/png", **base)
            assert st == 200 and h["content-type"] == "image/png", (st, body[:300])
            layers = set()
            for ql in ("parcels:parcels", "parcels"):
                st, h, body = wms(srv[1], REQUEST="GetFeatureInfo", LAYERS=ql, QUERY_LAYERS=ql,
                                  INFO_FORMAT="text/plain", I="32", J="32", FEATURE_COUNT="10",
                                  **base)
                assert st == 200, (st, body[:300])
                layers = set(re.findall(r"Layer '([^']*)'", body.decode()))
                if ql == "parcels:parcels":
                    assert layers == {"parcels"}, body.decode()  # the layer alone
                else:
                    assert layers == {"parcels", "flurstuecke"}, body.decode()  # the group
        finally:
            stop_server(srv)
        assert "requested as parcels:parcels" in open(srv[2]).read()
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---- WMTS ----------------------------------------------------------------------------------

def test_wmts_capabilities_kvp_and_rest_valid_with_adv_sets():
    p = SERVER[1]
    for path in ("/wmts?SERVICE=WMTS&REQUEST=GetCapabilities",
                 "/wmts/1.0.0/WMTSCapabilities.xml"):
        st, h, body = get(p, path)
        assert st == 200 and "xml" in h["content-type"], (st, h)
        xmllint(body, "wmts/1.0/wmtsGetCapabilities_response.xsd")
        t = body.decode()
        for tms in ("WebMercatorQuad", "DE_EPSG_25832_ADV"):
            assert "<ows:Identifier>%s</ows:Identifier>" % tms in t, tms
        assert "urn:ogc:def:crs:EPSG::25832" in t
        assert "<ows:Identifier>00</ows:Identifier>" in t and "<ows:Identifier>13</ows:Identifier>" in t


def test_wmts_gettile_kvp_rest_and_xyz_share_the_cache():
    p = SERVER[1]
    kvp = ("/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cadastre&STYLE=default"
           "&TILEMATRIXSET=WebMercatorQuad&TILEMATRIX=16&TILEROW=21873&TILECOL=34001"
           "&FORMAT=image/png")
    a = get(p, kvp)
    b = get(p, "/wmts/1.0.0/cadastre/default/WebMercatorQuad/16/21873/34001.png")
    c = get(p, "/tiles/cadastre/16/34001/21873.png")
    assert a[0] == b[0] == c[0] == 200
    assert a[2] == b[2] == c[2] and a[1]["etag"] == c[1]["etag"]
    assert a[1]["content-type"] == "image/png" and "max-age" in a[1]["cache-control"]
    st, h, body = get(p, "/wmts/1.0.0/cadastre/default/DE_EPSG_25832_ADV/11/850/1027.png")
    assert st == 200 and png_info(body)[:2] == (256, 256)
    st, h, _ = get(p, "/wmts/1.0.0/cadastre/default/WebMercatorQuad/16/21873/34001.png",
                   {"If-None-Match": a[1]["etag"]})
    assert st == 304


def test_wmts_exception_codes():
    p = SERVER[1]
    base = dict(SERVICE="WMTS", REQUEST="GetTile", VERSION="1.0.0", LAYER="cadastre",
                STYLE="default", TILEMATRIXSET="WebMercatorQuad", TILEMATRIX="16",
                TILEROW="21873", TILECOL="34001", FORMAT="image/png")

    def exc(expect, status, path):
        st, h, body = get(p, path)
        assert st == status, (st, body[:300])
        assert exception_code(body) == expect, body[:300]
        xmllint(body, "ows/1.1.0/owsExceptionReport.xsd")

    exc("TileOutOfRange", 400, "/wmts?" + q(**dict(base, TILEROW="70000")))
    exc("InvalidParameterValue", 400, "/wmts?" + q(**dict(base, LAYER="nope")))
    exc("InvalidParameterValue", 400, "/wmts?" + q(**dict(base, TILEMATRIXSET="nope")))
    m = dict(base)
    del m["TILECOL"]
    exc("MissingParameterValue", 400, "/wmts?" + q(**m))
    exc("OperationNotSupported", 501, "/wmts?" + q(**dict(base, REQUEST="GetLegend")))
    exc("PointIJOutOfRange", 400, "/wmts?" + q(**dict(base, REQUEST="GetFeatureInfo", I="300",
                                                        J="3", INFOFORMAT="text/plain")))
    exc("InvalidParameterValue", 404, "/wmts/1.0.0/nope/default/WebMercatorQuad/16/1/1.png")
    # a tile outside the matrix is 400 TileOutOfRange in both encodings (WMTS 1.0.0 table 28)
    exc("TileOutOfRange", 400, "/wmts/1.0.0/cadastre/default/WebMercatorQuad/16/65536/34001.png")
    exc("TileOutOfRange", 400, "/wmts?" + q(**dict(base, TILEROW="-1")))


def test_wmts_featureinfo_rest():
    st, h, body = get(SERVER[1],
                      "/wmts/1.0.0/cadastre/default/WebMercatorQuad/16/21873/34001/128/128.json")
    assert st == 200 and json.loads(body)["type"] == "FeatureCollection", body[:300]


# ---- TMS, OGC API --------------------------------------------------------------------------

def test_tms_documents():
    p = SERVER[1]
    st, h, body = get(p, "/tms/1.0.0")
    assert st == 200 and b"<TileMapService" in body and b"cadastre" in body
    st, h, body = get(p, "/tms/1.0.0/cadastre")
    assert st == 200 and b"<TileMap" in body and b"<TileSets" in body
    assert get(p, "/tms/1.0.0/nope")[0] == 404


def gdal_reads_tile_matrix_sets(p):
    """GDAL's tile matrix set reader takes our documents (Debian 12's GDAL 3.6 reads only
    the TMS 1.0 names, which they also carry): a COG tiled by each grid."""
    try:
        from osgeo import gdal, osr
    except ImportError:
        print("skip: no osgeo for the GDAL tile matrix set check")
        return
    gdal.UseExceptions()
    for name, epsg, x0, y0 in (("WebMercatorQuad", 3857, 750000, 6660000),
                               ("DE_EPSG_25832_ADV", 25832, 340000, 5680000)):
        doc = os.path.join(TMP, "tms_%s.json" % name)
        with open(doc, "wb") as f:
            f.write(get(p, "/ogcapi/tileMatrixSets/" + name)[2])
        src = gdal.GetDriverByName("MEM").Create("", 64, 64, 1)
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        src.SetProjection(srs.ExportToWkt())
        src.SetGeoTransform((x0, 10, 0, y0, 0, -10))
        out = os.path.join(TMP, "cog_%s.tif" % name)
        gdal.Translate(out, src, format="COG", creationOptions=["TILING_SCHEME=" + doc])
        md = gdal.Open(out).GetMetadata("TILING_SCHEME")
        assert md.get("NAME") == doc and int(md["ZOOM_LEVEL"]) > 0, (name, md)


def test_ogc_api_tiles():
    p = SERVER[1]
    st, h, body = get(p, "/ogcapi/")
    assert st == 200 and h["content-type"].startswith("application/json")
    assert any(l["rel"] == "conformance" for l in json.loads(body)["links"])
    conf = json.loads(get(p, "/ogcapi/conformance")[2])["conformsTo"]
    assert any("ogcapi-tiles-1" in c for c in conf)
    # the API definition (OGC API - Common /req/landing-page/root-success): an OpenAPI 3.0
    # document whose paths exist (each one without parameters answers 200 here), and no
    # claim of a conformance class whose resources are not served (dataset tilesets)
    links = json.loads(body)["links"]
    desc = [l for l in links if l["rel"] == "service-desc"]
    assert desc and desc[0]["href"].endswith("/ogcapi/api"), links
    st, h, api = get(p, "/ogcapi/api")
    assert st == 200 and h["content-type"].startswith("application/vnd.oai.openapi+json"), st
    doc = json.loads(api)
    assert doc["openapi"].startswith("3.0") and doc["servers"][0]["url"].endswith("/ogcapi")
    for path in doc["paths"]:
        if "{" not in path:
            assert get(p, "/ogcapi" + path)[0] == 200, path
    for ref in re.findall(r'"#/components/parameters/(\w+)"', api.decode()):
        assert ref in doc["components"]["parameters"], ref
    assert not any(c.endswith("/dataset-tilesets") for c in conf), conf
    cols = json.loads(get(p, "/ogcapi/collections")[2])["collections"]
    assert {c["id"] for c in cols} >= {"cadastre", "parking", "air"}
    ts = json.loads(get(p, "/ogcapi/collections/cadastre/map/tiles")[2])["tilesets"]
    assert len(ts) == 2, ts
    one = json.loads(get(p, "/ogcapi/collections/cadastre/map/tiles/DE_EPSG_25832_ADV")[2])
    assert one["tileMatrixSetLimits"] and one["crs"].endswith("25832")
    st, h, body = get(p, "/ogcapi/collections/cadastre/map/tiles/WebMercatorQuad/16/21873/34001.png")
    assert st == 200 and body == get(p, "/tiles/cadastre/16/34001/21873.png")[2]
    tms = json.loads(get(p, "/ogcapi/tileMatrixSets/DE_EPSG_25832_ADV")[2])
    assert tms["id"] == "DE_EPSG_25832_ADV" and tms["tileMatrices"][0]["id"] == "00"
    gdal_reads_tile_matrix_sets(p)
    assert get(p, "/ogcapi/collections/nope")[0] == 404
    # paths that name no resource: 404 with the OGC API's JSON exception, never a tile
    for bad in ("/ogcapi//collections", "/ogcapi/collections/cadastre/map",
                "/ogcapi/collections/cadastre/map/tiles/WebMercatorQuad/16/21873/34001.jpg",
                "/ogcapi/collections/cadastre/map/tiles/WebMercatorQuad/16/-1/34001.png",
                "/ogcapi/collections/cadastre/map/tiles/WebMercatorQuad/16/21873/4294967296.png",
                "/ogcapi/collections/cadastre/map/tiles/Nope/16/21873/34001.png",
                "/ogcapi/collections/cadastre/map/tiles/WebMercatorQuad/99/0/0.png",
                "/ogcapi/collections/cadastre/map/tiles/WebMercatorQuad/16/21873/34001.png/x"):
        st, h, body = get(p, bad)
        assert st == 404 and json.loads(body)["code"] == "NotFound", (bad, st, body[:200])
        # RFC 7807 problem details, as OGC API - Common's exception schema asks
        doc = json.loads(body)
        assert h["content-type"] == "application/problem+json" and doc["status"] == 404 and \
            doc["type"] and doc["title"] and doc["detail"], (bad, h, doc)
    st, h, body = get(p, "/ogcapi/collections/cadastre/map/tiles/WebMercatorQuad/2/4/0.png")
    doc = json.loads(body)
    assert st == 400 and doc["status"] == 400 and "outside the tile matrix" in doc["detail"], doc
    # documents are JSON only: f=json or an Accept taking JSON (a browser's */*, GDAL's
    # +json types) get it; another f is a bad request, an Accept without JSON 406
    for path, hdrs, want in (("/ogcapi/collections?f=json", {}, 200),
                             ("/ogcapi/collections?f=html", {}, 400),
                             ("/ogcapi/collections", {"Accept": "application/xml"}, 406),
                             ("/ogcapi/collections", {"Accept": "application/json;q=0, text/html"}, 406),
                             ("/ogcapi/collections", {"Accept": "text/html,application/xhtml+xml,"
                                                      "application/xml;q=0.9,*/*;q=0.8"}, 200),
                             ("/ogcapi/api", {"Accept": "application/vnd.oai.openapi+json;version=3.0"}, 200),
                             ("/ogcapi/collections/cadastre/map/tiles/WebMercatorQuad/16/21873/34001.png",
                              {"Accept": "image/png"}, 200)):
        st, h, body = get(p, path, hdrs)
        assert st == want, (path, hdrs, st, body[:200])
        if want != 200:
            assert json.loads(body)["status"] == want
    items = json.loads(get(p, "/ogcapi/tileMatrixSets")[2])["tileMatrixSets"]
    assert all(any(l["rel"] == "self" and l["href"].endswith("/tileMatrixSets/" + t["id"])
                   for l in t["links"]) for t in items), items
    # the same tiles as vector tiles under .../tiles (not .../map/tiles)
    col = json.loads(get(p, "/ogcapi/collections/cadastre")[2])
    rels = {l["rel"].rsplit("/", 1)[-1]: l["href"] for l in col["links"]}
    assert rels["tilesets-map"].endswith("/collections/cadastre/map/tiles"), rels
    assert rels["tilesets-vector"].endswith("/collections/cadastre/tiles"), rels
    vts = json.loads(get(p, "/ogcapi/collections/cadastre/tiles")[2])["tilesets"]
    assert len(vts) == 2 and all(t["dataType"] == "vector" for t in vts), vts
    # a vector tileset's metadata names its layers, their levels and fields (TMS 2.0
    # "layers"): on the AdV grid, which has no TileJSON, the only place a client finds them
    adv = json.loads(get(p, "/ogcapi/collections/cadastre/tiles/DE_EPSG_25832_ADV")[2])
    lay = {l["id"]: l for l in adv["layers"]}
    assert {"parcels", "buildings", "streets"} <= set(lay), list(lay)
    assert all(l["dataType"] == "vector" for l in lay.values())
    assert lay["parcels"]["minTileMatrix"] <= lay["parcels"]["maxTileMatrix"] <= "13", lay["parcels"]
    props = lay["streets"]["propertiesSchema"]["properties"]
    assert props and all(v["type"] in ("string", "number", "boolean") for v in props.values()), props
    tj = json.loads(get(p, "/tiles/cadastre.json?format=pbf")[2])
    assert set(props) == set(next(v for v in tj["vector_layers"] if v["id"] == "streets")["fields"])
    # the map tilesets' metadata have no layers
    assert "layers" not in json.loads(get(p, "/ogcapi/collections/cadastre/map/tiles/DE_EPSG_25832_ADV")[2])
    one = json.loads(get(p, "/ogcapi/collections/cadastre/tiles/WebMercatorQuad")[2])
    item = [l for l in one["links"] if l["rel"] == "item"][0]
    assert item["type"] == "application/vnd.mapbox-vector-tile", item
    assert item["href"].endswith("/collections/cadastre/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}.mvt")
    st, h, body = get(p, "/ogcapi/collections/cadastre/tiles/WebMercatorQuad/16/21873/34001.mvt")
    assert st == 200 and h["content-type"] == "application/vnd.mapbox-vector-tile", (st, h)
    st2, h2, body2 = get(p, "/tiles/cadastre/16/34001/21873.mvt")
    assert st2 == 200 and body == body2 and len(body) > 100
    assert get(p, "/ogcapi/collections/cadastre/tiles/WebMercatorQuad/16/21873/34001.png")[0] == 404
    # errors in JSON (/req/core/tc-error): a tile outside the matrix is a bad request, one of
    # the matrix outside the tileset's tileMatrixSetLimits (here: below its first level, and
    # a vector tile far from the data) is not found
    st, h, body = get(p, "/ogcapi/collections/cadastre/map/tiles/WebMercatorQuad/2/9/0.png")
    assert st == 400 and h["content-type"] == "application/problem+json", (st, body[:200])
    assert json.loads(body)["code"] == "InvalidParameterValue"
    st, h, body = get(p, "/ogcapi/collections/cadastre/map/tiles/WebMercatorQuad/16/65536/0.png")
    assert st == 400 and h["content-type"] == "application/problem+json", (st, body[:200])
    st, h, body = get(p, "/ogcapi/collections/cadastre/tiles/WebMercatorQuad/16/0/0.mvt")
    assert st == 404 and json.loads(body)["code"] == "NotFound", (st, body[:200])
    st, h, body = get(p, "/ogcapi/collections/cadastre/map/tiles/WebMercatorQuad/25/0/0.png")
    assert st == 404 and h["content-type"] == "application/problem+json", (st, body[:200])



def test_ogc_api_vector_limits_of_a_grid_that_misses_the_data_list_nothing():
    """A grid whose tile matrices lie west of the data: the vector tileset lists no level
    (it had claimed tile 0/0 of every level, which held nothing), every tile is 404, and the
    load warns about the grid."""
    d = tempfile.mkdtemp()
    try:
        gpkg = os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
        style = os.path.join(ARGS.srcdir, "styles", "parcels.sld")
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as f:
            f.write("grids:\n  OFF: {crs: 'EPSG:25832', origin: [280000, 5700000], "
                    "resolution0: 50, tile_size: 512, matrix_size0: [2, 1], levels: 10}\n"
                    "sources:\n  s: {path: %s}\nlayers:\n"
                    "  l: {source: s, table: parcels, style: %s}\n"
                    "tilesets:\n  t: {layers: [l], grids: [WebMercatorQuad, OFF]}\n"
                    % (gpkg, style))
        srv = start_server(cfg)
        try:
            st, _, body = get(srv[1], "/ogcapi/collections/t/tiles/OFF")
            assert st == 200, body[:300]
            assert json.loads(body)["tileMatrixSetLimits"] == [], body[:500]
            st, h, body = get(srv[1], "/ogcapi/collections/t/tiles/OFF/9/0/0.mvt")
            assert st == 404 and json.loads(body)["status"] == 404, (st, body[:200])
            # and the load (so `tilesrv check` too) says so
            assert "data lie outside grid OFF" in open(srv[2]).read()
        finally:
            stop_server(srv)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def shifted_diff(a, b, w, dx, dy):
    """Mean absolute RGB difference of w x w pixel lists a and b where a's pixel (x, y) is
    compared with b's (x - dx, y - dy), over the pixels both have."""
    total, n = 0, 0
    for y in range(max(0, dy), w + min(0, dy)):
        for x in range(max(0, dx), w + min(0, dx)):
            pa, pb = a[y * w + x], b[(y - dy) * w + x - dx]
            total += abs(pa[0] - pb[0]) + abs(pa[1] - pb[1]) + abs(pa[2] - pb[2])
            n += 3
    return total / float(n)


def test_gdal_ogcapi_driver_reads_a_collection():
    """GDAL's OGCAPI raster driver (Debian 12's 3.6) opens a collection of map tiles and reads
    them in place. What the server must give it: a collection whose vector tilesets link does
    not displace the map tilesets (GDAL 3.6 follows a tilesets-vector link typed
    application/json after the map one and keeps its result), and map tileset limits GDAL
    3.6 can mosaic (whole matrices, from the first level at which the data spans a pixel).
    What no server can give it: GDAL before 3.8 reads the collection's extent (CRS84, as OGC
    API Common requires) as coordinates of the tile matrix set, so for WebMercatorQuad the
    client passes the tileset's boundingBox (EPSG:3857) as MINX..MAXY, as docs/ogc.md says."""
    try:
        from osgeo import gdal, osr
    except ImportError:
        raise AssertionError("osgeo missing: /usr/bin/python3 needs python3-gdal "
                             "(scripts/deps.sh --test)")
    gdal.UseExceptions()
    p = SERVER[1]
    one = json.loads(get(p, "/ogcapi/collections/cadastre/map/tiles/WebMercatorQuad")[2])
    bb = one["boundingBox"]
    assert bb["crs"] == "http://www.opengis.net/def/crs/EPSG/0/3857", bb
    (x0, y0), (x1, y1) = bb["lowerLeft"], bb["upperRight"]
    url = "OGCAPI:http://127.0.0.1:%d/ogcapi/collections/cadastre" % p
    box = ["TILEMATRIXSET=WebMercatorQuad", "MINX=%r" % x0, "MINY=%r" % y0, "MAXX=%r" % x1,
           "MAXY=%r" % y1]
    ds = gdal.OpenEx(url, gdal.OF_RASTER, open_options=box)
    assert ds.RasterCount == 4, ds.RasterCount
    srs = ds.GetSpatialRef()
    srs.AutoIdentifyEPSG()
    assert srs.GetAuthorityCode(None) == "3857", srs.ExportToWkt()
    # the finest level read whole: WebMercatorQuad 22 (GDAL's limit), cropped to the box
    gt = ds.GetGeoTransform()
    res22 = 2 * 20037508.342789244 / 256 / 2 ** 22
    assert abs(gt[1] - res22) < 1e-9 and abs(gt[5] + res22) < 1e-9, gt
    right, bottom = gt[0] + ds.RasterXSize * gt[1], gt[3] + ds.RasterYSize * gt[5]
    for edge, want in ((gt[0], x0), (gt[3], y1), (right, x1), (bottom, y0)):
        assert abs(edge - want) <= 2 * res22, (gt, ds.RasterXSize, ds.RasterYSize, bb)
    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lon, lat, _ = osr.CoordinateTransformation(srs, wgs).TransformPoint(
        (gt[0] + right) / 2, (gt[3] + bottom) / 2)
    assert 6.7 < lon < 6.9 and 51.15 < lat < 51.3, (lon, lat)    # Düsseldorf
    assert ds.GetRasterBand(1).GetOverviewCount() >= 10
    # tile 16/34001/21873 read through GDAL against the tile itself: through the overviews
    # (GDAL maps a window to an overview by the size ratio, so up to a pixel off), then from
    # level 16 alone (TILEMATRIX), whose grid is the tile's: the same pixels
    size = 2 * 20037508.342789244 / 2 ** 16
    tx, ty = -20037508.342789244 + 34001 * size, 20037508.342789244 - 21873 * size
    w, hh, want = png_pixels(get(p, "/tiles/cadastre/16/34001/21873.png")[2])
    assert (w, hh) == (256, 256)
    for oo in ([], ["TILEMATRIX=16"]):
        src = gdal.OpenEx(url, gdal.OF_RASTER, open_options=box + oo) if oo else ds
        win = gdal.Translate("", src, format="MEM", projWin=[tx, ty, tx + size, ty - size],
                             width=256, height=256)
        got = list(zip(*[win.GetRasterBand(i + 1).ReadRaster() for i in range(4)]))
        assert len(got) == len(want)
        assert len(set(got)) > 20, sorted(set(got))[:10]           # drawn, not blank
        assert all(px[3] == 255 for px in got)                      # opaque background
        # mean difference per channel, at the best of the shifts by up to a pixel
        shifts = [(0, 0)] if oo else [(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1)]
        best = min(shifted_diff(got, want, 256, dx, dy) for dx, dy in shifts)
        assert best < 1, (oo, best)                                 # the same pixels
    gdal_opens_the_adv_set(gdal, p, url)
    gdal_opens_a_crs84_collection(gdal)


def gdal_opens_the_adv_set(gdal, p, url):
    """The AdV UTM set (not in the OGC registry) is picked by TILEMATRIXSET= too: GDAL 3.6
    finds a set by its tileMatrixSetURI, which for such a set is its definition here (as
    GeoServer writes it; it had had none, and GDAL said 'Cannot find tilematrixset'). A
    tile of level 11 read through GDAL is the server's tile."""
    adv = json.loads(get(p, "/ogcapi/collections/cadastre/map/tiles/DE_EPSG_25832_ADV")[2])
    assert adv["tileMatrixSetURI"].endswith("/ogcapi/tileMatrixSets/DE_EPSG_25832_ADV"), adv
    (x0, y0), (x1, y1) = adv["boundingBox"]["lowerLeft"], adv["boundingBox"]["upperRight"]
    box = ["TILEMATRIXSET=DE_EPSG_25832_ADV", "MINX=%r" % x0, "MINY=%r" % y0, "MAXX=%r" % x1,
           "MAXY=%r" % y1, "TILEMATRIX=11"]
    ds = gdal.OpenEx(url, gdal.OF_RASTER, open_options=box)
    srs = ds.GetSpatialRef()
    srs.AutoIdentifyEPSG()
    assert srs.GetAuthorityCode(None) == "25832", srs.ExportToWkt()
    # tile 11/1019/638 of the set: origin (-46133.17, 6301219.54), 256 px of res
    res = 4891.96981025128 / 2 ** 11   # level 11 of DE_EPSG_25832_ADV, m per pixel
    tx, ty = -46133.17 + 638 * 256 * res, 6301219.54 - 1019 * 256 * res
    w, hh, want = png_pixels(get(p, "/tiles/cadastre/DE_EPSG_25832_ADV/11/638/1019.png")[2])
    win = gdal.Translate("", ds, format="MEM", projWin=[tx, ty, tx + 256 * res, ty - 256 * res],
                         width=256, height=256)
    got = list(zip(*[win.GetRasterBand(i + 1).ReadRaster() for i in range(4)]))
    assert len(set(got)) > 20, sorted(set(got))[:10]
    assert shifted_diff(got, want, 256, 0, 0) < 1


def gdal_opens_a_crs84_collection(gdal):
    """A collection that also offers WorldCRS84Quad: GDAL 3.6 prefers that tileset, whose CRS
    is its extent's, and opens the bare URL (no options), in longitude/latitude."""
    demo = os.path.join(ARGS.srcdir, "data", "demo")
    styles = os.path.join(ARGS.srcdir, "styles")
    path = os.path.join(TMP, "crs84.yaml")
    with open(path, "w") as f:
        f.write("""sources:
  demo: {path: %s/duesseldorf_demo.gpkg}
layers:
  parcels: {source: demo, table: parcels, style: %s/alkis_parcels.sld}
  buildings: {source: demo, table: buildings, style: %s/alkis_buildings.sld}
tilesets:
  cadastre: {layers: [parcels, buildings], grids: [WebMercatorQuad, WorldCRS84Quad],
             background: "#dedad2"}
""" % (demo, styles, styles))
    srv = start_server(path)
    try:
        ds = gdal.Open("OGCAPI:http://127.0.0.1:%d/ogcapi/collections/cadastre" % srv[1])
        gt = ds.GetGeoTransform()
        srs = ds.GetSpatialRef()
        assert srs.GetAuthorityName(None) == "OGC" and srs.GetAuthorityCode(None) == "CRS84", \
            srs.ExportToWkt()
        lon0, lat1 = gt[0], gt[3]
        lon1, lat0 = lon0 + ds.RasterXSize * gt[1], lat1 + ds.RasterYSize * gt[5]
        assert 6.7 < lon0 < lon1 < 6.9 and 51.15 < lat0 < lat1 < 51.3, (gt, ds.RasterXSize)
        cx, cy = (lon0 + lon1) / 2, (lat0 + lat1) / 2           # a 240 x 380 m window
        win = gdal.Translate("", ds, format="MEM", width=128, height=128,
                             projWin=[cx, cy + 0.0017, cx + 0.0034, cy - 0.0017])
        px = bytes(win.ReadRaster())
        colours = set(zip(px[0:16384], px[16384:32768], px[32768:49152]))
        assert len(colours) > 8, colours                                  # drawn, not blank
    finally:
        stop_server(srv)
        log = open(srv[2], errors="replace").read()
        assert not any(m in log for m in ("ERROR: AddressSanitizer", "LeakSanitizer",
                                          "runtime error:")), log[-4000:]


# ---- driver --------------------------------------------------------------------------------

def write_config2():
    demo = os.path.join(ARGS.srcdir, "data", "demo")
    styles = os.path.join(ARGS.srcdir, "styles")
    path = os.path.join(TMP, "ogc.yaml")
    with open(path, "w") as f:
        f.write("""server:
  wms:
    title: "OGC test"
    max_width: 1000
    max_layers: 2
sources:
  demo: {path: %s/duesseldorf_demo.gpkg}
layers:
  parcels: {source: demo, table: parcels, style: %s/alkis_parcels.sld}
  buildings: {source: demo, table: buildings, style: %s/alkis_buildings.sld, queryable: false}
  streets: {source: demo, table: streets, style: %s/alkis_streets.sld}
tilesets:
  cadastre: {layers: [parcels, buildings, streets], grids: [DE_EPSG_25832_ADV]}
""" % (demo, styles, styles, styles))
    return path


def main():
    global ARGS, SERVER, SERVER2, TMP
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--srcdir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("tests", nargs="*")
    ARGS = ap.parse_args()
    ARGS.srcdir = os.path.abspath(ARGS.srcdir)
    if shutil.which("xmllint") is None:
        print("xmllint missing (apt-get install libxml2-utils)")
        return 1
    TMP = tempfile.mkdtemp(prefix="tilesrv-ogc-")
    SERVER = start_server()
    SERVER2 = start_server(write_config2())
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
    stop_server(SERVER)
    stop_server(SERVER2)
    for srv in (SERVER, SERVER2):
        log = open(srv[2], errors="replace").read()
        if any(m in log for m in ("ERROR: AddressSanitizer", "LeakSanitizer", "runtime error:")):
            failed += 1
            print("FAIL sanitizer report in the server log:\n" + log[-4000:])
    if failed:
        print("--- server log ---")
        print(open(SERVER[2]).read()[-3000:])
    shutil.rmtree(TMP, ignore_errors=True)
    print("%d tests, %d failed" % (len(tests), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
