#!/usr/bin/env python3
"""End-to-end HTTP tests: start `tilesrv serve` on the demo and talk to it like a client.

Usage: test_http.py --binary build/tilesrv [--srcdir .]
Standard library only. Each test is a function test_*; failures are collected and the
script exits non-zero if any failed.
"""
import argparse
import concurrent.futures
import gzip
import http.client
import json
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

ARGS = None
SERVER = None      # (proc, port, logpath)
# Waits for background work (a reload) are stretched by this factor under slow builds
# (ThreadSanitizer: tests/CMakeLists.txt sets it for the tsan_http_* tests).
SLOW = float(os.environ.get("TS_TEST_TIME_SCALE", "1"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(config=None, extra=()):
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="tilesrv-", suffix=".log", delete=False)
    cmd = [ARGS.binary, "serve", "--listen", "127.0.0.1:%d" % port, "--threads", "2"]
    if config:
        cmd += ["-c", config]
    cmd += list(extra)
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError("server exited with %d:\n%s" % (proc.returncode, open(log.name).read()))
        try:
            st, _, _ = get(port, "/health")
            if st == 200:
                return proc, port, log.name
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not come up:\n" + open(log.name).read())


def stop_server(srv):
    proc, _, log = srv
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("server did not stop on SIGTERM")
    return rc, open(log).read()


def get(port, path, headers=None, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, body


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    w, h = struct.unpack(">II", data[16:24])
    return w, h


def port():
    return SERVER[1]


# ---------------------------------------------------------------- tests

def test_tile_over_the_city_centre_is_a_png():
    st, h, body = get(port(), "/tiles/cadastre/16/34001/21873.png")
    assert st == 200, st
    assert h["content-type"] == "image/png"
    assert png_size(body) == (256, 256)
    assert h["etag"].startswith('"') and len(h["etag"]) == 18
    assert "max-age=" in h["cache-control"]
    assert "last-modified" in h
    assert len(body) > 2000, "a city-centre tile should carry detail, got %d bytes" % len(body)


def test_etag_revalidation_gives_304():
    st, h, body = get(port(), "/tiles/cadastre/16/34001/21873.png")
    st2, h2, body2 = get(port(), "/tiles/cadastre/16/34001/21873.png",
                         {"If-None-Match": h["etag"]})
    assert st2 == 304, st2
    assert body2 == b""
    assert h2["etag"] == h["etag"]
    st3, _, _ = get(port(), "/tiles/cadastre/16/34001/21873.png", {"If-None-Match": '"0000"'})
    assert st3 == 200
    # a 304 carries the representation's Content-Length or none, never 0 (RFC 9110 8.6)
    assert h2.get("content-length") in (None, str(len(body))), h2
    # If-Modified-Since: 304 from Last-Modified on, 200 before it or when unreadable, and
    # ignored next to an If-None-Match (RFC 9110 13.1.3)
    path = "/tiles/cadastre/16/34001/21873.png"
    assert get(port(), path, {"If-Modified-Since": h["last-modified"]})[0] == 304
    assert get(port(), path, {"If-Modified-Since": "Tue, 01 Jan 2019 00:00:00 GMT"})[0] == 200
    assert get(port(), path, {"If-Modified-Since": "yesterday"})[0] == 200
    assert get(port(), path, {"If-Modified-Since": h["last-modified"],
                              "If-None-Match": '"0000"'})[0] == 200
    # the two obsolete forms RFC 9110 5.6.7 says a recipient must take too (they were 200)
    import email.utils
    lm = email.utils.parsedate_to_datetime(h["last-modified"])
    rfc850 = lm.strftime("%A, %d-%b-%y %H:%M:%S GMT")
    asctime = lm.strftime("%a %b ") + ("%2d" % lm.day) + lm.strftime(" %H:%M:%S %Y")
    for form in (rfc850, asctime):
        assert get(port(), path, {"If-Modified-Since": form})[0] == 304, form
    # a date in the future is a wrong clock, not a promise: ignored
    assert get(port(), path, {"If-Modified-Since": "Wed, 01 Jan 2031 00:00:00 GMT"})[0] == 200


def test_hidpi_tile_is_512():
    st, h, body = get(port(), "/tiles/cadastre/16/34001/21873@2x.png")
    assert st == 200, st
    assert png_size(body) == (512, 512)


def test_tms_flips_rows():
    st, _, a = get(port(), "/tiles/cadastre/16/34001/21873.png")
    st2, _, b = get(port(), "/tms/1.0.0/cadastre/16/34001/%d.png" % (65535 - 21873))
    assert st == 200 and st2 == 200
    assert a == b


def test_composite_of_tilesets_on_different_first_grids_is_refused():
    """/tiles/{a},{b}/z/x/y.png draws each tileset on its first grid: when those differ, one
    z/x/y is two places, and the composite is refused with the grids named (it mixed them:
    the second tileset came from somewhere else, blank)."""
    d = tempfile.mkdtemp()
    try:
        gpkg = os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
        style = os.path.join(ARGS.srcdir, "styles", "parcels.sld")
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as f:
            f.write("sources:\n  s: {path: %s}\nlayers:\n"
                    "  l: {source: s, table: parcels, style: %s}\ntilesets:\n"
                    "  a: {layers: [l]}\n"
                    "  b: {layers: [l], grids: [DE_EPSG_25832_ADV, WebMercatorQuad]}\n"
                    % (gpkg, style))
        srv = start_server(cfg)
        try:
            st, _, body = get(srv[1], "/tiles/a,b/14/8500/5467.png")
            assert st == 400, (st, body[:300])
            assert b"WebMercatorQuad" in body and b"DE_EPSG_25832_ADV" in body, body[:300]
            st, _, _ = get(srv[1], "/tiles/a,a/14/8500/5467.png")
            assert st == 200, st
        finally:
            stop_server(srv)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_composite_of_tilesets_is_the_overlay_over_the_base():
    """/tiles/{a},{b}/z/x/y.png (INTERFACE.md): the tilesets composited in order, base
    first; pixel by pixel the parking overlay drawn source-over on the cadastre tile."""
    import test_live
    tile = "16/34001/21873"
    st, h, comp = get(port(), "/tiles/cadastre,parking/%s.png" % tile)
    assert st == 200 and h["content-type"] == "image/png", (st, comp[:200])
    assert png_size(comp) == (256, 256)
    assert h["etag"].startswith('"') and "last-modified" in h
    _, _, base = get(port(), "/tiles/cadastre/%s.png" % tile)
    _, _, over = get(port(), "/tiles/parking/%s.png" % tile)
    C, B, O = (test_live.png_rgba(x) for x in (comp, base, over))
    covered = 0
    for j in range(256):
        for i in range(256):
            o, b, c = O[j][i], B[j][i], C[j][i]
            a = o[3] / 255.0
            # straight-alpha source-over onto an opaque base
            want = tuple(round(o[k] * a + b[k] * (1 - a)) for k in range(3))
            assert all(abs(c[k] - want[k]) <= 2 for k in range(3)) and c[3] == 255, \
                ((i, j), o, b, c)
            covered += o[3] > 0
    assert covered > 20, "the overlay has no bays on this tile (%d px)" % covered
    # HEAD: the headers of the GET without its body (the live overlay may change between
    # two requests: compare with a GET of the same ETag)
    for _ in range(20):
        st, h2, body = get(port(), "/tiles/cadastre,parking/%s.png" % tile, method="HEAD")
        _, h3, again = get(port(), "/tiles/cadastre,parking/%s.png" % tile)
        if h2.get("etag") == h3.get("etag"):
            break
        time.sleep(0.1)
    assert st == 200 and body == b"" and h2.get("content-length") == str(len(again)), (h2, h3)
    st, _, big = get(port(), "/tiles/cadastre,parking,air/16/34001/21873@2x.png")
    assert st == 200 and png_size(big) == (512, 512), st
    st, _, body = get(port(), "/tiles/cadastre,nope/%s.png" % tile)
    assert st == 404 and b"nope" in body, (st, body)
    for bad in ["/tiles/cadastre,,parking/%s.png" % tile, "/tiles/cadastre,parking/99/1/1.png"]:
        st, _, body = get(port(), bad)
        assert st == 400, (bad, st, body)
    st, _, _ = get(port(), "/tiles/cadastre,parking/%s.mvt" % tile)
    assert st == 404, st


def test_unknown_tileset_is_404():
    st, h, body = get(port(), "/tiles/nonexistent/16/34001/21873.png")
    assert st == 404, st
    assert b"nonexistent" in body


def test_bad_numbers_are_400():
    for path in ["/tiles/cadastre/16/abc/21873.png", "/tiles/cadastre/16/-1/2.png",
                 "/tiles/cadastre/99/1/1.png", "/tiles/cadastre/16/65536/0.png",
                 "/tiles/cadastre/16/0/65536.png", "/tiles/cadastre/16/1/1@3x.png",
                 "/tiles/cadastre/16/99999999999999/1.png"]:
        st, h, body = get(port(), path)
        assert st == 400, (path, st, body)
        assert h.get("cache-control") == "no-store"


def test_other_methods_are_405():
    st, _, _ = get(port(), "/tiles/cadastre/16/34001/21873.png", method="POST")
    assert st == 405, st
    st, h, body = get(port(), "/tiles/cadastre/16/34001/21873.png", method="HEAD")
    assert st == 200 and body == b""


def test_head_answers_the_get_headers_with_the_body_length():
    """HEAD gives the fields GET gives (RFC 9110 9.3.2): the body's Content-Length, not 0,
    for tiles, vector tiles, WMS maps, WMTS tiles and sensor GeoJSON."""
    getmap = ("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=cadastre&STYLES="
              "&CRS=EPSG:25832&BBOX=344000,5677000,345000,5678000&WIDTH=256&HEIGHT=256"
              "&FORMAT=image/png")
    for path in ["/tiles/cadastre/16/34001/21873.png", "/tiles/cadastre/16/34001/21873.mvt",
                 getmap, "/wmts/1.0.0/cadastre/default/WebMercatorQuad/16/21873/34001.png",
                 "/tms/1.0.0/cadastre/16/34001/43662.png"]:
        st, h, body = get(port(), path)
        assert st == 200 and len(body) > 0, (path, st)
        st2, h2, body2 = get(port(), path, method="HEAD")
        assert st2 == 200 and body2 == b"", (path, st2)
        assert h2.get("content-length") == str(len(body)), (path, h2.get("content-length"),
                                                            len(body))
        assert h2.get("content-type") == h.get("content-type"), path
        assert h2.get("etag") == h.get("etag"), path


def test_tilejson():
    st, h, body = get(port(), "/tiles/cadastre.json")
    assert st == 200, st
    tj = json.loads(body)
    assert tj["tilejson"] == "3.0.0"
    assert tj["tiles"][0].endswith("/tiles/cadastre/{z}/{x}/{y}.png")
    assert tj["tiles"][0].startswith("http://127.0.0.1:%d/" % port())
    w, s, e, n = tj["bounds"]
    assert 6.6 < w < 6.8 and 51.1 < s < 51.3 and w < e and s < n, tj["bounds"]
    st, _, _ = get(port(), "/tiles/nope.json")
    assert st == 404
    # revalidated by ETag (it changes with a reload: no-cache), the vector form and the
    # index too; a format it does not have is a 400 (it answered the PNG form)
    for path in ("/tiles/cadastre.json", "/tiles/cadastre.json?format=pbf", "/tiles.json"):
        st, h, _ = get(port(), path)
        assert st == 200 and h.get("etag") and h.get("cache-control") == "no-cache", (path, h)
        st, _, _ = get(port(), path, {"If-None-Match": h["etag"]})
        assert st == 304, (path, st)
    for path in ("/tiles/cadastre.json?format=jpg", "/tiles.json?format=png8"):
        st, _, body = get(port(), path)
        assert st == 400 and b"pbf" in body, (path, st, body[:200])


def test_tiles_json_lists_every_tileset_with_live_and_feeds():
    """/tiles.json: the TileJSON of every tileset (as /tiles/{name}.json), with "live" and,
    for the live ones, their feeds (data/demo/tilesrv.yaml: parking and air are live)."""
    st, h, body = get(port(), "/tiles.json")
    assert st == 200, st
    assert h["content-type"] == "application/json"
    index = json.loads(body)
    assert [t["name"] for t in index] == ["cadastre", "parking", "air"], index
    by = {t["name"]: t for t in index}
    assert by["cadastre"]["live"] is False and "feeds" not in by["cadastre"], by["cadastre"]
    assert by["parking"]["live"] is True and by["parking"]["feeds"] == ["demo_parking"]
    assert by["air"]["live"] is True and by["air"]["feeds"] == ["demo_air"]
    for t in index:
        one = json.loads(get(port(), "/tiles/%s.json" % t["name"])[2])
        rest = {k: v for k, v in t.items() if k not in ("live", "feeds")}
        assert rest == one, (rest, one)
    st, _, body = get(port(), "/tiles.json?format=pbf")
    assert st == 200, st
    vec = json.loads(body)
    assert all(t["tiles"][0].endswith("/{z}/{x}/{y}.pbf") and "vector_layers" in t for t in vec)
    assert [t["live"] for t in vec] == [False, True, True]


def tile_url(template, z, x, y):
    return re.sub(r"^http://[^/]+", "", template).replace("{z}", str(z)).replace(
        "{x}", str(x)).replace("{y}", str(y))


def test_tilejson_describes_the_web_mercator_grid_when_it_is_not_the_first():
    """TileJSON is Web Mercator: for a tileset whose first grid is the AdV UTM grid it names
    the WebMercatorQuad grid in its tile URLs, with that grid's zooms and bounds; a tileset
    without WebMercatorQuad has none (404 saying why) and is not in /tiles.json."""
    d = tempfile.mkdtemp()
    try:
        demo = os.path.join(ARGS.srcdir, "data", "demo")
        styles = os.path.join(ARGS.srcdir, "styles")
        cfg = os.path.join(d, "utm.yaml")
        with open(cfg, "w") as f:
            f.write("""sources:
  demo: {path: %(demo)s/duesseldorf_demo.gpkg}
layers:
  parcels: {source: demo, table: parcels, style: %(styles)s/alkis_parcels.sld}
  buildings: {source: demo, table: buildings, style: %(styles)s/alkis_buildings.sld}
tilesets:
  utm:
    layers: [parcels, buildings]
    grids: [DE_EPSG_25832_ADV, WebMercatorQuad]
    background: "#dedad2"
  utm_only:
    layers: [parcels]
    grids: [DE_EPSG_25832_ADV]
""" % {"demo": demo, "styles": styles})
        srv = start_server(cfg)
        p = srv[1]
        try:
            st, _, body = get(p, "/tiles/utm.json")
            assert st == 200, st
            tj = json.loads(body)
            assert tj["scheme"] == "xyz"
            assert tj["tiles"][0].endswith("/tiles/utm/WebMercatorQuad/{z}/{x}/{y}.png"), tj
            w, s, e, n = tj["bounds"]
            assert 6.6 < w < 6.8 and 51.1 < s < 51.3 and w < e and s < n, tj["bounds"]
            lon, lat, cz = tj["center"]
            assert w < lon < e and s < lat < n and tj["minzoom"] <= cz <= tj["maxzoom"], tj
            # a tile of the city centre from the template: the cadastre, not a blank tile
            st, h, tile = get(p, tile_url(tj["tiles"][0], 16, 34001, 21873))
            assert st == 200 and png_size(tile) == (256, 256), st
            assert len(tile) > 2000, "blank tile at the city centre: %d bytes" % len(tile)
            # the zooms are those the URL serves: the levels of WebMercatorQuad
            tmpl = tj["tiles"][0]
            zooms = [(tj["minzoom"], True), (tj["maxzoom"], True), (tj["maxzoom"] + 1, False)]
            if tj["minzoom"] > 0:
                zooms.append((tj["minzoom"] - 1, False))
            for z, ok in zooms:
                sh = z - 16  # the city centre's tile (16/34001/21873) at zoom z
                x, y = (34001 << sh, 21873 << sh) if sh >= 0 else (34001 >> -sh, 21873 >> -sh)
                st = get(p, tile_url(tmpl, z, x, y))[0]
                assert (st == 200) == ok, (z, st, tj["minzoom"], tj["maxzoom"])
            st, _, body = get(p, "/tiles/utm.json?format=pbf")
            vj = json.loads(body)
            assert vj["tiles"][0].endswith("/tiles/utm/WebMercatorQuad/{z}/{x}/{y}.pbf"), vj
            assert {v["id"] for v in vj["vector_layers"]} >= {"parcels", "buildings"}, vj
            assert get(p, tile_url(vj["tiles"][0], 16, 34001, 21873))[0] == 200
            # no Web Mercator grid: no TileJSON, and the reason
            st, _, body = get(p, "/tiles/utm_only.json")
            assert st == 404, st
            msg = body.decode()
            assert "Web Mercator" in msg and "DE_EPSG_25832_ADV" in msg and "WMTS" in msg, msg
            st, _, body = get(p, "/tiles.json")
            assert st == 200 and [t["name"] for t in json.loads(body)] == ["utm"], body
            assert json.loads(body)[0]["live"] is False
        finally:
            rc, log = stop_server(srv)
        assert rc == 0, log
    finally:
        shutil.rmtree(d)


def test_health_and_metrics():
    st, h, body = get(port(), "/health")
    assert st == 200
    j = json.loads(body)
    assert j["status"] == "ok"
    assert {t["name"] for t in j["tilesets"]} >= {"cadastre", "parking", "air"}
    st, h, body = get(port(), "/metrics")
    assert st == 200
    assert b"tilesrv_metatiles_rendered_total" in body


def test_concurrent_requests_of_one_metatile():
    # a metatile nobody asked for yet: 64 tiles, 16 parallel clients
    paths = ["/tiles/cadastre/17/%d/%d.png" % (68008 + i % 8, 43744 + i // 8) for i in range(64)]
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        res = list(ex.map(lambda p: get(port(), p), paths))
    assert all(r[0] == 200 for r in res), [r[0] for r in res]
    assert all(png_size(r[2]) == (256, 256) for r in res)
    st, _, body = get(port(), "/metrics")
    assert b"tilesrv_render_joined_total" in body


def test_web_map_page():
    st, h, body = get(port(), "/")
    assert st == 200
    assert h["content-type"].startswith("text/html")
    assert b"tiles/" in body
    st, _, _ = get(port(), "/../../etc/passwd")
    assert st == 404
    # validators: a revalidation of an unchanged file is a 304 without the body
    st, h, body = get(port(), "/")
    assert h.get("etag") and h.get("last-modified"), h
    st, h2, body2 = get(port(), "/", {"If-None-Match": h["etag"]})
    assert st == 304 and body2 == b"", st
    st, _, _ = get(port(), "/", {"If-Modified-Since": h["last-modified"]})
    assert st == 304, st
    # the script bundle gzipped for a browser (250 KB had gone out whole on every first
    # load), with its own validator, which revalidates to 304; whole without gzip
    bundle = os.path.join(ARGS.srcdir, "web", "dist", "main.js")
    if not os.path.exists(bundle):
        print("    (web map not built: gzip of the bundle not checked)")
        return
    import gzip
    raw = open(bundle, "rb").read()
    st, h, body = get(port(), "/dist/main.js", {"Accept-Encoding": "gzip, deflate, br"})
    assert st == 200 and h.get("content-encoding") == "gzip", h
    assert gzip.decompress(body) == raw and len(body) < len(raw) / 2, len(body)
    assert h.get("vary") == "Accept-Encoding" and h["etag"].endswith('-gz"'), h
    st, h2, _ = get(port(), "/dist/main.js", {"Accept-Encoding": "gzip",
                                              "If-None-Match": h["etag"]})
    assert st == 304 and h2["etag"] == h["etag"], (st, h2)
    st, h3, body = get(port(), "/dist/main.js")
    assert st == 200 and body == raw and h3.get("content-encoding") is None, h3


def test_layer_faults_in_the_data_point_at_the_layer_in_the_config():
    """tilesrv check: a table the source lacks, an unknown layer CRS and a broken `where`
    are refused with the config's file:line:col of the layer (they had no position)."""
    d = tempfile.mkdtemp()
    try:
        gpkg = os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
        style = os.path.join(ARGS.srcdir, "styles", "parcels.sld")
        for extra, needle in (("    table: parcelz\n", "parcelz"),
                              ("    table: parcels\n    srs: \"EPSG:999999\"\n", "EPSG:999999"),
                              ("    table: parcels\n    where: \"nutzung = = 'x'\"\n", "syntax")):
            cfg = os.path.join(d, "bad.yaml")
            with open(cfg, "w") as f:
                f.write("sources:\n  s:\n    path: %s\nlayers:\n  l:\n    source: s\n%s"
                        "    style: %s\ntilesets:\n  t:\n    layers: [l]\n" % (gpkg, extra, style))
            r = subprocess.run([ARGS.binary, "check", "-c", cfg], capture_output=True, text=True)
            assert r.returncode == 1, (extra, r.returncode, r.stderr)
            assert cfg + ":5:3:" in r.stderr and needle in r.stderr, (extra, r.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_crs_typos_point_where_they_are_written_and_tables_are_listed():
    """An unknown CRS in a grid or a source's srs is reported at that grid or source (it was
    blamed on the first layer loaded into it); a table the source lacks lists its tables."""
    d = tempfile.mkdtemp()
    try:
        gpkg = os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
        style = os.path.join(ARGS.srcdir, "styles", "parcels.sld")
        grid = ("grids:\n  G:\n    crs: \"%s\"\n    origin: [-46133.17, 6301219.54]\n"
                "    resolution0: 4891.96981025128\n    levels: 18\n")
        cases = (
            (grid % "EPSG:25823", "", "[G]", ":2:3:", "grid G: unknown CRS 'EPSG:25823'"),
            (grid % "EPSG:25832", "    srs: \"EPSG:25382\"\n", "[G]", ":8:3:",
             "source s: srs: unknown CRS 'EPSG:25382'"),
            ("", "", "[WebMercatorQuad]", ":", "its layers: "),
        )
        for grids, srs, tgrids, where, needle in cases:
            cfg = os.path.join(d, "bad.yaml")
            table = "parcelz" if "layers:" in needle else "parcels"
            with open(cfg, "w") as f:
                f.write("%ssources:\n  s:\n    path: %s\n%slayers:\n  l:\n    source: s\n"
                        "    table: %s\n    style: %s\ntilesets:\n  t:\n    layers: [l]\n"
                        "    grids: %s\n" % (grids, gpkg, srs, table, style, tgrids))
            r = subprocess.run([ARGS.binary, "check", "-c", cfg], capture_output=True, text=True)
            assert r.returncode == 1, (needle, r.returncode, r.stderr)
            assert cfg + where in r.stderr and needle in r.stderr, (needle, r.stderr)
            if "layers:" in needle:
                assert "parcels" in r.stderr.split("its layers: ")[1], r.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_style_property_the_data_lack_is_named_with_style_file_line_once():
    """A style reading a field the layer's table lacks: one warning per layer (not one per
    grid), at the style's file:line, with the nearest field and the table's fields (all of
    them, not only those loaded). A name that differs in case only is the field, as the
    sources match names (no warning)."""
    d = tempfile.mkdtemp()
    try:
        gpkg = os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
        sld = os.path.join(d, "p.sld")
        with open(sld, "w") as f:
            f.write('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"'
                    ' xmlns:ogc="http://www.opengis.net/ogc">\n<NamedLayer><Name>l</Name>'
                    '<UserStyle><FeatureTypeStyle><Rule>\n<ogc:Filter><ogc:PropertyIsEqualTo>\n'
                    '<ogc:PropertyName>nutzungg</ogc:PropertyName><ogc:Literal>x</ogc:Literal>'
                    '</ogc:PropertyIsEqualTo></ogc:Filter>\n<PolygonSymbolizer/></Rule>\n'
                    '<Rule><ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>FLSTNR'
                    '</ogc:PropertyName><ogc:Literal>1</ogc:Literal></ogc:PropertyIsEqualTo>'
                    '</ogc:Filter><PolygonSymbolizer/></Rule>'
                    '</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n')
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as f:
            f.write("sources:\n  s:\n    path: %s\nlayers:\n  l:\n    source: s\n"
                    "    table: parcels\n    style: %s\ntilesets:\n  t:\n    layers: [l]\n"
                    "    grids: [WebMercatorQuad, DE_EPSG_25832_ADV]\n" % (gpkg, sld))
        r = subprocess.run([ARGS.binary, "check", "-c", cfg], capture_output=True, text=True)
        assert r.returncode == 0, (r.returncode, r.stderr)
        lines = [ln for ln in r.stderr.splitlines() if "nutzungg" in ln]
        assert len(lines) == 1, r.stderr
        assert sld + ":4:" in lines[0] and "did you mean 'nutzung'?" in lines[0], lines[0]
        assert "flstnr" in lines[0] and "zaehler" in lines[0], lines[0]  # the table's fields
        assert "FLSTNR" not in r.stderr, r.stderr
        assert "; 1 warning above" in r.stdout, r.stdout  # the verdict says so
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_style_warnings_once_per_layer_and_shapefile_cut_names_suggested():
    """A style's own warnings are given once, not once per grid CRS the layer is loaded
    into; a property a Shapefile cut to 10 characters ('lagequalitaet' -> 'lagequalit') is
    suggested with the reason."""
    d = tempfile.mkdtemp()
    try:
        gj = os.path.join(d, "w.geojson")
        with open(gj, "w") as f:
            f.write('{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
                    '{"lagequalit":"gut"},"geometry":{"type":"Polygon","coordinates":'
                    '[[[6.77,51.22],[6.78,51.22],[6.78,51.23],[6.77,51.22]]]}}]}\n')
        sld = os.path.join(d, "w.sld")
        with open(sld, "w") as f:
            f.write('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"'
                    ' xmlns:ogc="http://www.opengis.net/ogc">\n<NamedLayer><Name>l</Name>'
                    '<UserStyle><FeatureTypeStyle><Rule>\n<ogc:Filter><ogc:PropertyIsEqualTo>\n'
                    '<ogc:PropertyName>lagequalitaet</ogc:PropertyName><ogc:Literal>gut'
                    '</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>\n<PolygonSymbolizer>'
                    '<Fill><GraphicFill><Graphic><Mark><WellKnownName>shape://slash'
                    '</WellKnownName><Stroke/></Mark><Size>8</Size></Graphic></GraphicFill>'
                    '</Fill>\n<VendorOption name="graphic-margin">4</VendorOption>'
                    '</PolygonSymbolizer></Rule>'
                    '</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n')
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as f:
            f.write("sources:\n  s:\n    path: %s\nlayers:\n  l:\n    source: s\n"
                    "    style: %s\ntilesets:\n  t:\n    layers: [l]\n"
                    "    grids: [WebMercatorQuad, DE_EPSG_25832_ADV]\n" % (gj, sld))
        r = subprocess.run([ARGS.binary, "check", "-c", cfg], capture_output=True, text=True)
        assert r.returncode == 0, (r.returncode, r.stderr)
        margin = [ln for ln in r.stderr.splitlines() if "graphic-margin" in ln]
        assert len(margin) == 1 and sld + ":6:" in margin[0], r.stderr
        prop = [ln for ln in r.stderr.splitlines() if "lagequalitaet" in ln]
        assert len(prop) == 1, r.stderr
        assert "did you mean 'lagequalit'? a Shapefile keeps 10 characters" in prop[0], prop[0]
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_listen_failures_say_why():
    """A port another program holds, an address no interface has: the exit says which (it
    said "address in use or not permitted" for both)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    try:
        for listen, why in (("127.0.0.1:%d" % s.getsockname()[1], "in use by another program"),
                            ("10.255.255.254:18123", "no interface of this host")):
            r = subprocess.run([ARGS.binary, "serve", "--listen", listen], capture_output=True,
                               text=True, timeout=120)
            assert r.returncode == 1, (listen, r.returncode, r.stderr[-500:])
            assert "cannot listen on %s: " % listen in r.stderr and why in r.stderr, r.stderr[-800:]
    finally:
        s.close()


def test_cli_help_and_options_before_the_command():
    """`tilesrv CMD --help` prints the usage and exits 0 (it said 'unknown option');
    -q, -c and --log-level may come before the command."""
    for args in (["check", "--help"], ["render", "-h"], ["--help"]):
        r = subprocess.run([ARGS.binary] + args, capture_output=True, text=True)
        assert r.returncode == 0 and "usage:" in r.stdout, (args, r.returncode, r.stderr)
        assert "unknown option" not in r.stderr, (args, r.stderr)
    cfg = os.path.join(ARGS.srcdir, "data", "demo", "tilesrv.yaml")
    r = subprocess.run([ARGS.binary, "-q", "-c", cfg, "check"], capture_output=True, text=True)
    assert r.returncode == 0 and ": ok:" in r.stdout, (r.returncode, r.stdout, r.stderr)
    assert "warning" not in r.stdout, r.stdout  # the demo loads without a warning
    assert " INFO " not in r.stderr, r.stderr  # -q took effect
    # server.log_level: warn takes effect for the load's lines too (they had been printed)
    with open(cfg) as f:
        text = f.read()
    assert "\nserver:\n" in text or text.startswith("server:\n")
    quiet = os.path.join(os.path.dirname(cfg), ".test-log-level.yaml")
    try:
        with open(quiet, "w") as f:
            f.write(text.replace("server:\n", "server:\n  log_level: warn\n", 1))
        r = subprocess.run([ARGS.binary, "-c", quiet, "check"], capture_output=True, text=True)
        assert r.returncode == 0 and " INFO " not in r.stderr, (r.returncode, r.stderr[-500:])
    finally:
        os.unlink(quiet)
    r = subprocess.run([ARGS.binary, "-q"], capture_output=True, text=True)
    assert r.returncode == 2 and "usage:" in r.stderr, (r.returncode, r.stderr)
    r = subprocess.run([ARGS.binary, "check", "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown option --bogus" in r.stderr, (r.returncode, r.stderr)


def test_data_warnings_at_load_name_the_feature():
    """tilesrv check on GeoJSON/CSV data a city meets: a polygon past longitude 180 is
    named in a warning; Latin-1 text without a declared encoding is read as Windows-1252
    with a warning; data without a CRS is refused naming the 'srs' key."""
    d = tempfile.mkdtemp()
    try:
        style = os.path.join(ARGS.srcdir, "styles", "parcels.sld")

        def check(path, extra="", style=style, grids="[WebMercatorQuad]"):
            cfg = os.path.join(d, "c.yaml")
            table = os.path.splitext(os.path.basename(path))[0]
            with open(cfg, "w") as f:
                f.write("sources:\n  s:\n    path: %s\n%slayers:\n  l:\n    source: s\n"
                        "    table: %s\n    style: %s\ntilesets:\n  t:\n    layers: [l]\n"
                        "    grids: %s\n" % (path, extra, table, style, grids))
            return subprocess.run([ARGS.binary, "check", "-c", cfg], capture_output=True)

        gj = os.path.join(d, "anti.geojson")
        with open(gj, "w") as f:
            f.write('{"type":"FeatureCollection","features":['
                    '{"type":"Feature","id":1,"properties":{},"geometry":{"type":"Polygon",'
                    '"coordinates":[[[6.7,51.2],[6.8,51.2],[6.8,51.3],[6.7,51.2]]]}},'
                    '{"type":"Feature","id":2,"properties":{},"geometry":{"type":"Polygon",'
                    '"coordinates":[[[170,-10],[190,-10],[190,-5],[170,-5],[170,-10]]]}}]}')
        r = check(gj)
        err = r.stderr.decode()
        assert r.returncode == 0, err
        assert "longitudes outside -180..180" in err and "feature 2" in err, err
        csv = os.path.join(d, "latin1.csv")
        with open(csv, "wb") as f:
            f.write(b'WKT,name\n"POINT(345000 5680000)",Stra\xdfe\n')
        # (two grids: the data are read twice, the warning about them is given once)
        r = check(csv, "    srs: \"EPSG:25832\"\n",
                  os.path.join(ARGS.srcdir, "styles", "alkis_streets.sld"),  # labels 'name'
                  "[WebMercatorQuad, DE_EPSG_25832_ADV]")

        err = r.stderr.decode()
        assert r.returncode == 0, err
        assert "not UTF-8" in err and "Windows-1252" in err and "'name'" in err, err
        assert err.count("not UTF-8") == 1, err
        assert "longitudes" not in err, err
        r = check(csv)
        err = r.stderr.decode()
        assert r.returncode == 1 and "declares no CRS" in err and "srs:" in err, err
        assert "src_crs" not in err, err
        # a label font that is not installed is told by check, naming the layer
        sld = os.path.join(d, "font.sld")
        with open(sld, "w") as f:
            f.write('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" '
                    'xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>x</Name><UserStyle>'
                    '<FeatureTypeStyle><Rule><TextSymbolizer><Label><ogc:PropertyName>name'
                    '</ogc:PropertyName></Label><Font><CssParameter name="font-family">'
                    'Nonexistent Grotesk</CssParameter></Font></TextSymbolizer></Rule>'
                    '</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>')
        r = check(csv, "    srs: \"EPSG:25832\"\n", sld)
        err = r.stderr.decode()
        assert r.returncode == 0, err
        assert "layer l: font family 'Nonexistent Grotesk' is not installed" in err, err
        # a style none of whose symbolizers can be drawn is named (check said just "ok")
        with open(sld, "w") as f:
            f.write('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld">'
                    '<NamedLayer><Name>x</Name><UserStyle><FeatureTypeStyle><Rule>'
                    '<PointSymbolizer><Graphic><ExternalGraphic><OnlineResource '
                    'xmlns:xlink="http://www.w3.org/1999/xlink" xlink:href="burg.jpg"/>'
                    '<Format>image/jpeg</Format></ExternalGraphic></Graphic></PointSymbolizer>'
                    '</Rule></FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>')
        r = check(csv, "    srs: \"EPSG:25832\"\n", sld)
        err = r.stderr.decode()
        assert r.returncode == 0 and "layer l: its style" in err and "draws nothing" in err, err
        # colours and sizes from the data that cannot be drawn as given are counted, once
        dd = os.path.join(d, "dd.geojson")
        with open(dd, "w") as f:
            f.write('{"type":"FeatureCollection","features":['
                    '{"type":"Feature","properties":{"c":"ff0000","s":1e9},"geometry":'
                    '{"type":"Point","coordinates":[6.78,51.22]}},'
                    '{"type":"Feature","properties":{"c":"#00ff00","s":8},"geometry":'
                    '{"type":"Point","coordinates":[6.79,51.22]}}]}')
        with open(sld, "w") as f:
            f.write('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" '
                    'xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>x</Name><UserStyle>'
                    '<FeatureTypeStyle><Rule><PointSymbolizer><Graphic><Mark><WellKnownName>'
                    'circle</WellKnownName><Fill><CssParameter name="fill"><ogc:PropertyName>c'
                    '</ogc:PropertyName></CssParameter></Fill></Mark><Size><ogc:PropertyName>s'
                    '</ogc:PropertyName></Size></Graphic></PointSymbolizer></Rule>'
                    '</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>')
        r = check(dd, "", sld)
        err = r.stderr.decode()
        assert r.returncode == 0, err
        assert "layer l: 1 features give a size or width over 256 px (e.g. 1e+09)" in err, err
        assert "layer l: 1 features give a colour that is not" in err and "'ff0000'" in err, err
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_missing_source_is_refused_at_start():
    d = tempfile.mkdtemp()
    try:
        cfg = os.path.join(d, "bad.yaml")
        style = os.path.join(ARGS.srcdir, "styles", "parcels.sld")
        with open(cfg, "w") as f:
            f.write("sources:\n  s:\n    path: %s\nlayers:\n  l:\n    source: s\n"
                    "    style: %s\ntilesets:\n  t:\n    layers: [l]\n"
                    % (os.path.join(d, "missing.gpkg"), style))
        r = subprocess.run([ARGS.binary, "check", "-c", cfg], capture_output=True, text=True)
        assert r.returncode != 0
        assert "missing.gpkg" in r.stderr, r.stderr
        # a corrupt GeoPackage: the name of the file is in the message
        bad = os.path.join(d, "corrupt.gpkg")
        with open(bad, "wb") as f:
            f.write(b"SQLite format 3\x00" + os.urandom(4000))
        with open(cfg, "w") as f:
            f.write("sources:\n  s:\n    path: %s\nlayers:\n  l:\n    source: s\n"
                    "    style: %s\ntilesets:\n  t:\n    layers: [l]\n" % (bad, style))
        r = subprocess.run([ARGS.binary, "serve", "-c", cfg, "--listen", "127.0.0.1:%d" % free_port()],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode != 0
        assert "corrupt.gpkg" in r.stderr, r.stderr
    finally:
        shutil.rmtree(d)


def test_broken_config_on_reload_keeps_serving():
    d = tempfile.mkdtemp()
    try:
        cfg = os.path.join(d, "t.yaml")
        demo = open(os.path.join(ARGS.srcdir, "data", "demo", "tilesrv.yaml")).read()
        demo = demo.replace("path: duesseldorf_demo.gpkg",
                            "path: %s" % os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"))
        demo = demo.replace("air_csv: air_uba_duesseldorf.csv",
                            "air_csv: %s" % os.path.join(ARGS.srcdir, "data", "demo",
                                                         "air_uba_duesseldorf.csv"))
        demo = demo.replace("../../styles/", os.path.join(ARGS.srcdir, "styles") + "/")
        with open(cfg, "w") as f:
            f.write(demo)
        srv = start_server(cfg)
        try:
            st, _, a = get(srv[1], "/tiles/cadastre/16/34001/21873.png")
            assert st == 200
            with open(cfg, "w") as f:
                f.write(demo + "\nbogus_key: 1\n")
            srv[0].send_signal(signal.SIGHUP)
            time.sleep(1.0 * SLOW)
            st, _, b = get(srv[1], "/tiles/cadastre/16/34001/21873.png")
            assert st == 200 and a == b
            # settings read at start only: the reload goes through and names them
            with open(cfg, "w") as f:
                f.write(demo.replace("cache_mb: 256", "cache_mb: 64"))
            srv[0].send_signal(signal.SIGHUP)
            time.sleep(1.0 * SLOW)
            assert get(srv[1], "/health")[0] == 200
        finally:
            rc, log = stop_server(srv)
        assert "bogus_key" in log, log
        assert "read at start only changed (cache_mb)" in log, log[-2000:]
        assert rc == 0, rc
    finally:
        shutil.rmtree(d)


def test_blank_tiles_far_from_the_data_are_not_stored():
    """Tiles wholly outside the data's extent are blank and cost nothing to draw again: they
    are served but not written to the persistent cache, so random requests far from the
    city cannot fill its disk (3 s of random z24 tiles had written 77,000 files). Tiles of
    the data are stored as before."""
    d = tempfile.mkdtemp()
    try:
        cache = os.path.join(d, "cache")
        cfg = os.path.join(d, "t.yaml")
        with open(cfg, "w") as f:
            f.write("sources:\n  s: {path: %s}\nlayers:\n  l: {source: s, table: parcels, "
                    "style: %s}\ntilesets:\n  t:\n    layers: [l]\n"
                    "    cache: {type: disk, path: %s}\n"
                    % (os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"),
                       os.path.join(ARGS.srcdir, "styles", "parcels.sld"), cache))
        srv = start_server(cfg)

        def pngs():
            return sum(1 for _, _, fs in os.walk(cache) for f in fs if f.endswith(".png"))
        try:
            for i in range(20):
                x, y = 1000003 * (i + 1) % (1 << 24), 7000001 * (i + 1) % (1 << 24)
                st, _, body = get(srv[1], "/tiles/t/24/%d/%d.png" % (x, y))
                assert st == 200 and body[:8] == b"\x89PNG\r\n\x1a\n", st
            assert get(srv[1], "/tiles/t/16/34001/21873.png")[0] == 200
            deadline = time.time() + 30 * SLOW
            while pngs() == 0 and time.time() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)
            n = pngs()
            assert 0 < n <= 64, n  # the city's metatile only
        finally:
            stop_server(srv)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_deleted_mbtiles_cache_is_opened_anew():
    """An operator clears an MBTiles cache by deleting the file while the server runs: the
    server notices (at a render, within 2 s), opens the caches anew and writes the next
    tiles into a new file. They had gone into the deleted file for good."""
    d = tempfile.mkdtemp()
    try:
        mb = os.path.join(d, "c.mbtiles")
        cfg = os.path.join(d, "t.yaml")
        with open(cfg, "w") as f:
            f.write("sources:\n  s: {path: %s}\nlayers:\n  l: {source: s, table: parcels, "
                    "style: %s}\ntilesets:\n  t:\n    layers: [l]\n    metatile: 1\n"
                    "    cache: {type: mbtiles, path: %s}\n"
                    % (os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"),
                       os.path.join(ARGS.srcdir, "styles", "parcels.sld"), mb))
        srv = start_server(cfg)
        try:
            assert get(srv[1], "/tiles/t/16/34001/21873.png")[0] == 200
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(mb + suffix):
                    os.remove(mb + suffix)
            time.sleep(2.2)
            x = 34002
            deadline = time.time() + 60 * SLOW
            while time.time() < deadline:
                assert get(srv[1], "/tiles/t/16/%d/21873.png" % x)[0] == 200
                x += 1
                if os.path.exists(mb):
                    import sqlite3
                    db = sqlite3.connect(mb)
                    try:
                        n = db.execute("SELECT count(*) FROM map").fetchone()[0]
                    except sqlite3.OperationalError:
                        n = 0
                    db.close()
                    if n > 0:
                        break
                time.sleep(0.2)
            assert os.path.exists(mb) and n > 0, "no new file, or nothing written into it"
        finally:
            rc, log = stop_server(srv)
        assert "was deleted or replaced while the server ran" in log, log[-2000:]
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_suspended_cache_writes_show_in_health_and_metrics():
    """A style edited on disk whose reload is refused (broken): the tileset is served as
    loaded and its persistent cache is not written (its tiles would be of a version the
    files no longer give) — /health is degraded and names the tileset, /metrics counts it;
    the fixed style's reload ends it. Only one WARN line had said so."""
    d = tempfile.mkdtemp()
    try:
        sld = os.path.join(d, "p.sld")
        orig = open(os.path.join(ARGS.srcdir, "styles", "parcels.sld"), encoding="utf-8").read()
        with open(sld, "w", encoding="utf-8") as f:
            f.write(orig)
        cfg = os.path.join(d, "t.yaml")
        with open(cfg, "w") as f:
            f.write("sources:\n  s: {path: %s}\nlayers:\n  l: {source: s, table: parcels, "
                    "style: %s}\ntilesets:\n  t:\n    layers: [l]\n    metatile: 1\n"
                    "    cache: {type: disk, path: %s/cache}\n"
                    % (os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"), sld, d))
        srv = start_server(cfg)
        try:
            assert get(srv[1], "/tiles/t/16/34001/21873.png")[0] == 200
            with open(sld, "w", encoding="utf-8") as f:
                f.write(orig.replace("</Rule>", "</Rul>", 1))
            srv[0].send_signal(signal.SIGHUP)
            for _ in range(int(240 * SLOW)):
                hj = json.loads(get(srv[1], "/health")[2])
                if hj.get("reload", {}).get("ok") is False:
                    break
                time.sleep(0.25)
            assert hj["reload"]["ok"] is False, hj
            time.sleep(1.1)  # the files are looked at once a second at most
            for x in (34002, 34003):
                assert get(srv[1], "/tiles/t/16/%d/21873.png" % x)[0] == 200
            # the cache write (where the files are looked at) follows the answer
            for _ in range(int(120 * SLOW)):
                hj = json.loads(get(srv[1], "/health")[2])
                if hj["cache"]["suspended"] == 1:
                    break
                time.sleep(0.1)
            assert hj["status"] == "degraded" and hj["cache"]["suspended"] == 1, hj
            assert hj["cache"]["suspended_tileset"] == "t", hj
            m = get(srv[1], "/metrics")[2].decode()
            assert "tilesrv_persist_suspended_tilesets 1" in m
            with open(sld, "w", encoding="utf-8") as f:
                f.write(orig)
            srv[0].send_signal(signal.SIGHUP)
            for _ in range(int(240 * SLOW)):
                hj = json.loads(get(srv[1], "/health")[2])
                if hj.get("reload", {}).get("ok") is True:
                    break
                time.sleep(0.25)
            hj = json.loads(get(srv[1], "/health")[2])
            assert hj["status"] == "ok" and hj["cache"]["suspended"] == 0, hj
        finally:
            stop_server(srv)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_style_reload_on_sighup_and_broken_style_refused():
    """A changed style is picked up on SIGHUP; a broken one is refused with file:line and
    the running service keeps the last good one."""
    d = tempfile.mkdtemp()
    try:
        sdir = os.path.join(d, "styles")
        shutil.copytree(os.path.join(ARGS.srcdir, "styles"), sdir)
        cfg = os.path.join(d, "t.yaml")
        demo = open(os.path.join(ARGS.srcdir, "data", "demo", "tilesrv.yaml")).read()
        demo = demo.replace("path: duesseldorf_demo.gpkg",
                            "path: %s" % os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"))
        demo = demo.replace("air_csv: air_uba_duesseldorf.csv",
                            "air_csv: %s" % os.path.join(ARGS.srcdir, "data", "demo",
                                                         "air_uba_duesseldorf.csv"))
        demo = demo.replace("../../styles/", sdir + "/")
        with open(cfg, "w") as f:
            f.write(demo)
        bstyle = os.path.join(sdir, "alkis_buildings.sld")
        orig = open(bstyle, encoding="utf-8").read()
        assert "#f4cfc3" in orig
        srv = start_server(cfg)
        try:
            path = "/tiles/cadastre/17/68003/43746.png"
            st, _, a = get(srv[1], path)
            assert st == 200
            with open(bstyle, "w", encoding="utf-8") as f:
                f.write(orig.replace("#f4cfc3", "#3050ff"))  # residential buildings blue
            srv[0].send_signal(signal.SIGHUP)
            b = a
            # the reload loads in the background: up to a minute on a loaded machine under
            # ASan (the loop ends as soon as the new style shows)
            for _ in range(int(240 * SLOW)):
                time.sleep(0.25)
                st, _, b = get(srv[1], path)
                if b != a:
                    break
            assert st == 200 and b != a, "the changed style was not picked up"
            with open(bstyle, "w", encoding="utf-8") as f:
                f.write(orig.replace("</Rule>", "</Rul>", 1))  # malformed XML
            srv[0].send_signal(signal.SIGHUP)
            # /health and /metrics say the latest reload was refused, and where
            for _ in range(int(240 * SLOW)):
                hj = json.loads(get(srv[1], "/health")[2])
                if hj.get("reload", {}).get("ok") is False:
                    break
                time.sleep(0.25)
            assert hj["reload"]["ok"] is False and "alkis_buildings.sld:" in hj["reload"]["error"], hj
            m = get(srv[1], "/metrics")[2].decode()
            assert "tilesrv_config_last_reload_successful 0" in m
            assert 'tilesrv_config_reloads_total{result="refused"} 1' in m
            st, _, c = get(srv[1], path)
            assert st == 200 and c == b, "a broken style must not replace the good one"
            # fixed: the next reload is done and says so
            with open(bstyle, "w", encoding="utf-8") as f:
                f.write(orig)
            srv[0].send_signal(signal.SIGHUP)
            for _ in range(int(240 * SLOW)):
                hj = json.loads(get(srv[1], "/health")[2])
                if hj.get("reload", {}).get("ok") is True:
                    break
                time.sleep(0.25)
            assert hj["reload"]["ok"] is True and "error" not in hj["reload"], hj
            assert "tilesrv_config_last_reload_successful 1" in get(srv[1], "/metrics")[2].decode()
        finally:
            rc, log = stop_server(srv)
        assert rc == 0, rc
        assert "alkis_buildings.sld:" in log, log  # file:line of the broken style
    finally:
        shutil.rmtree(d)


def test_a_full_render_queue_answers_503_with_retry_after_and_says_so():
    """More metatiles asked for at once than one render thread and a queue of one hold:
    some requests get 503 with Retry-After (a client backs off), and the log says so once
    (it had been visible in /metrics only)."""
    d = tempfile.mkdtemp()
    try:
        cfg = os.path.join(d, "busy.yaml")
        with open(cfg, "w") as f:
            f.write("server:\n  render_threads: 1\n  queue_max: 1\n  http_threads: 2\n"
                    "sources:\n  s: {path: %s}\n"
                    "layers:\n  l: {source: s, table: parcels, style: %s}\n"
                    "tilesets:\n  t: {layers: [l], metatile: 1}\n"
                    % (os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"),
                       os.path.join(ARGS.srcdir, "styles", "parcels.sld")))
        srv = start_server(cfg)
        try:
            urls = ["/tiles/t/17/%d/%d.png" % (68000 + i % 8, 43744 + i // 8) for i in range(48)]
            with concurrent.futures.ThreadPoolExecutor(max_workers=24) as ex:
                res = list(ex.map(lambda u: get(srv[1], u), urls))
            busy = [h for st, h, _ in res if st == 503]
            assert all(st in (200, 503) for st, _, _ in res), [r[0] for r in res]
            assert busy, "no request was refused: the test did not fill the queue"
            assert all(h.get("retry-after") == "1" for h in busy), busy[:2]
        finally:
            rc, log = stop_server(srv)
        assert rc == 0, rc
        assert log.count("render queue full") == 1 and "refused until it drains" in log, log[-2000:]
    finally:
        shutil.rmtree(d)


def test_disk_full_cache_keeps_serving_and_says_so():
    """A disk cache on a full file system: tiles are still served (rendered, not stored),
    /health says "degraded" with the reason, /metrics counts the failed writes."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        print("  skipped: needs root to mount a small tmpfs")
        return
    d = tempfile.mkdtemp()
    cache = os.path.join(d, "cache")
    os.mkdir(cache)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", cache],
                       capture_output=True, text=True)
    if r.returncode != 0:
        shutil.rmtree(d)
        print("  skipped: cannot mount a tmpfs here (%s)" % r.stderr.strip())
        return
    try:
        cfg = os.path.join(d, "t.yaml")
        with open(cfg, "w") as f:
            f.write("sources:\n  s:\n    path: %s\n"
                    "layers:\n  l:\n    source: s\n    table: parcels\n    style: %s\n"
                    "tilesets:\n  t:\n    layers: [l]\n    metatile: 1\n"
                    "    cache: {type: disk, path: %s}\n"
                    "  u:\n    layers: [l]\n    metatile: 1\n"
                    "    cache: {type: disk, path: %s/u}\n"
                    % (os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"),
                       os.path.join(ARGS.srcdir, "styles", "parcels.sld"), cache, cache))
        srv = start_server(cfg)
        try:
            # blank tiles (within the data's extent, beside the city's edge) while there is
            # room: stored, and remembered as the file later blank tiles are hard-linked to
            for x, y in ((33995, 21863), (34006, 21879)):
                assert get(srv[1], "/tiles/t/16/%d/%d.png" % (x, y))[0] == 200
            time.sleep(0.3)
            for x in range(34000, 34004):
                for y in range(21872, 21876):
                    st, _, body = get(srv[1], "/tiles/t/16/%d/%d.png" % (x, y))
                    assert st == 200 and body[:8] == b"\x89PNG\r\n\x1a\n", st
            time.sleep(0.5)  # writes happen after the waiters are answered
            # more blank tiles: their links need no space and succeed, which is no sign that
            # the disk has room again (the state had flapped back to ok)
            for x, y in ((33995, 21879), (34006, 21863), (33996, 21864), (34005, 21879)):
                assert get(srv[1], "/tiles/t/16/%d/%d.png" % (x, y))[0] == 200
            # a second tileset on the same full disk fails too: both are named
            for x in range(34000, 34003):
                assert get(srv[1], "/tiles/u/16/%d/21873.png" % x)[0] == 200
            time.sleep(0.5)
            st, _, health = get(srv[1], "/health")
            h = json.loads(health)
            assert st == 200 and h["status"] == "degraded", health
            assert not h["cache"]["persist_ok"] and h["cache"]["persist_error"], health
            err = h["cache"]["persist_error"]
            assert (err.startswith("t: ") and "also failing: u" in err) or \
                   (err.startswith("u: ") and "also failing: t" in err), health
            st, _, metrics = get(srv[1], "/metrics")
            errs = re.search(rb"^tilesrv_persist_put_errors_total (\d+)", metrics, re.M)
            assert errs and int(errs.group(1)) > 0, metrics
            assert re.search(rb"^tilesrv_persist_failing 1", metrics, re.M), metrics
            # no partial tile left behind: every stored file is a whole PNG
            for root, _, files in os.walk(cache):
                for fn in files:
                    with open(os.path.join(root, fn), "rb") as f:
                        data = f.read()
                    assert not fn.endswith(".png") or data.endswith(b"IEND\xaeB`\x82"), fn
        finally:
            rc, log = stop_server(srv)
        assert rc == 0, rc
        assert "work again" not in log, log[-2000:]
        for t in ("t", "u"):  # each tileset's failure is said (only the first one was)
            assert "cache of tileset %s cannot be written" % t in log, log[-3000:]
    finally:
        subprocess.run(["umount", cache], capture_output=True)
        shutil.rmtree(d)


def test_cache_that_cannot_be_opened_at_start_leaves_the_server_up_and_degraded():
    """A tileset's disk cache that cannot be opened at start (here: its path runs through a
    file; likewise a full disk or a directory the server may not write) no longer stops the
    server: every tileset is served (that one from memory), /health says degraded with the
    reason, and a seed of that cache is refused with it. The whole server had exited."""
    d = tempfile.mkdtemp()
    try:
        blocker = os.path.join(d, "not_a_dir")
        with open(blocker, "w") as f:
            f.write("x")
        gpkg = os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
        sld = os.path.join(ARGS.srcdir, "styles", "parcels.sld")
        cfg = os.path.join(d, "t.yaml")
        with open(cfg, "w") as f:
            f.write("sources:\n  s: {path: %s}\nlayers:\n  l: {source: s, table: parcels, "
                    "style: %s}\ntilesets:\n  broken:\n    layers: [l]\n"
                    "    cache: {type: disk, path: %s/cache}\n  fine:\n    layers: [l]\n"
                    % (gpkg, sld, blocker))
        srv = start_server(cfg)
        try:
            for t in ("broken", "fine"):
                st, _, body = get(srv[1], "/tiles/%s/16/34001/21873.png" % t)
                assert st == 200 and body[:8] == b"\x89PNG\r\n\x1a\n", (t, st, body[:200])
            st, _, health = get(srv[1], "/health")
            h = json.loads(health)
            assert h["status"] == "degraded" and not h["cache"]["persist_ok"], health
            assert "broken" in h["cache"]["persist_error"], health
        finally:
            rc, log = stop_server(srv)
        assert "cache of tileset broken cannot be opened" in log, log[-2000:]
        r = subprocess.run([ARGS.binary, "seed", "-c", cfg, "--tileset", "broken", "--zoom",
                            "12", "--progress-file", os.path.join(d, "p")],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert "cache of tileset broken cannot be opened" in r.stderr, r.stderr
    finally:
        shutil.rmtree(d)


def test_vector_tiles_decode_with_gdal():
    """/tiles/{tileset}/{z}/{x}/{y}.mvt (and .pbf): an MVT 2.1 tile that GDAL's MVT driver
    reads with the tileset's layers, features and attributes; ETag/304 as for PNG."""
    st, hdr, body = get(SERVER[1], "/tiles/cadastre/16/34001/21873.mvt")
    assert st == 200 and hdr["content-type"] == "application/vnd.mapbox-vector-tile", hdr
    assert len(body) > 1000
    st, _, body2 = get(SERVER[1], "/tiles/cadastre/16/34001/21873.pbf")
    assert st == 200 and body2 == body
    st, _, _ = get(SERVER[1], "/tiles/cadastre/16/34001/21873.mvt",
                   {"If-None-Match": hdr["etag"]})
    assert st == 304
    assert "accept-encoding" in hdr.get("vary", "").lower() and "content-encoding" not in hdr
    # gzip when the client accepts it: the same tile compressed, its own ETag
    st, zh, zbody = get(SERVER[1], "/tiles/cadastre/16/34001/21873.mvt",
                        {"Accept-Encoding": "gzip, deflate"})
    assert st == 200 and zh.get("content-encoding") == "gzip", zh
    assert gzip.decompress(zbody) == body and len(zbody) < len(body)
    assert zh["etag"] != hdr["etag"]
    # content codings are case-insensitive, q=0 means "not acceptable", "*" covers gzip
    # (RFC 9110 12.5.3)
    for ae, want in [("GZIP", True), ("x-gzip", True), ("gzip;q=0", False),
                     ("gzip; q=0.000, identity", False), ("br, gzip;q=0.5", True),
                     ("*", True), ("*;q=0", False), ("gzip;q=0, *", False),
                     ("deflate", False), ("identity", False), ("gzipx", False)]:
        st, h2, b2 = get(SERVER[1], "/tiles/cadastre/16/34001/21873.mvt", {"Accept-Encoding": ae})
        assert st == 200 and (h2.get("content-encoding") == "gzip") == want, (ae, h2)
        assert (gzip.decompress(b2) if want else b2) == body, ae
    assert get(SERVER[1], "/tiles/cadastre/16/34001/21873@2x.mvt")[0] == 404
    assert get(SERVER[1], "/tiles/nope/16/34001/21873.mvt")[0] == 404
    try:
        from osgeo import gdal, ogr
    except ImportError:
        print("  (GDAL Python bindings missing: decoding not checked)")
        return
    gdal.UseExceptions()
    d = tempfile.mkdtemp()
    try:
        path = os.path.join(d, "t.mvt")
        with open(path, "wb") as f:
            f.write(body)
        ds = gdal.OpenEx(path, gdal.OF_VECTOR, open_options=["X=34001", "Y=21873", "Z=16"])
        names = [ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount())]
        assert names == ["parcels", "parcels_label", "buildings", "streets"], names
        parcels = ds.GetLayerByName("parcels")
        assert parcels.GetFeatureCount() > 50
        fields = [parcels.GetLayerDefn().GetFieldDefn(i).GetName()
                  for i in range(parcels.GetLayerDefn().GetFieldCount())]
        assert "nutzung" in fields, fields
        f = parcels.GetNextFeature()
        g = f.GetGeometryRef()
        assert g is not None and g.GetGeometryType() in (ogr.wkbPolygon, ogr.wkbMultiPolygon)
        # inside the tile's box (EPSG:3857) grown by the buffer
        x0, x1, y0, y1 = g.GetEnvelope()
        assert 753900 < x1 and x0 < 754700 and 6661500 < y1 and y0 < 6662400, (x0, x1, y0, y1)
    finally:
        shutil.rmtree(d)


def main():
    global ARGS, SERVER
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--srcdir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("filter", nargs="?")
    ARGS = ap.parse_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    ARGS.srcdir = os.path.abspath(ARGS.srcdir)
    SERVER = start_server()
    failed = 0
    ran = 0
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
        rc, log = stop_server(SERVER)
        if rc != 0:
            failed += 1
            print("FAIL server exit code %d\n%s" % (rc, log))
    print("%d tests, %d failed" % (ran, failed))
    sys.exit(1 if failed or not ran else 0)


if __name__ == "__main__":
    main()
