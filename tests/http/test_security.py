#!/usr/bin/env python3
"""Security defaults and operations, end to end against `tilesrv serve` (SECURITY.md names
one test here per claim; each fails when its protection is taken out).

Usage: test_security.py --binary build/tilesrv [--srcdir .] [filter]
Standard library only; reuses the harness of test_http.py (start_server, get).
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_http as H  # noqa: E402

ARGS = None
TMP = None
MAIN = None        # (proc, port, log): the server most tests talk to
TOKEN = "s3cret-token-for-the-tests-0123456789"
GETMAP = dict(SERVICE="WMS", VERSION="1.3.0", REQUEST="GetMap", LAYERS="cadastre", STYLES="",
              CRS="EPSG:25832", BBOX="344000,5677000,345000,5678000", WIDTH="256",
              HEIGHT="256", FORMAT="image/png")


def q(**kw):
    return urllib.parse.urlencode(kw)


def demo_config(path, server, cache=None):
    """The demo configuration with absolute paths, its server section replaced by server
    (YAML text, indented by two) and the cadastre tileset given cache (YAML text)."""
    src = ARGS.srcdir
    demo = open(os.path.join(src, "data", "demo", "tilesrv.yaml")).read()
    demo = demo.replace("path: duesseldorf_demo.gpkg",
                        "path: %s" % os.path.join(src, "data", "demo", "duesseldorf_demo.gpkg"))
    demo = demo.replace("air_csv: air_uba_duesseldorf.csv",
                        "air_csv: %s" % os.path.join(src, "data", "demo", "air_uba_duesseldorf.csv"))
    demo = demo.replace("../../styles/", os.path.join(src, "styles") + "/")
    old = re.search(r"^server:\n(  .*\n)+", demo, re.M)
    assert old, "demo config has no server section"
    demo = demo[:old.start()] + "server:\n" + server + demo[old.end():]
    if cache:
        demo = demo.replace("    buffer: 64\n", "    buffer: 64\n    cache: %s\n" % cache, 1)
    with open(path, "w") as f:
        f.write(demo)
    return path


def port():
    return MAIN[1]


def raw(p, data, timeout=5.0):
    """Send raw bytes, return what comes back until the server closes (or timeout)."""
    s = socket.create_connection(("127.0.0.1", p), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out and b"Connection: close" not in out:
                # keep-alive: one full answer is enough when it has a length
                m = re.search(rb"Content-Length: (\d+)", out)
                if m and len(out.split(b"\r\n\r\n", 1)[1]) >= int(m.group(1)):
                    break
        return out
    finally:
        s.close()


def status_of(resp):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", resp)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------- request limits

def test_long_request_target_is_414():
    st, _, body = H.get(port(), "/tiles/" + "a" * 9000 + ".png")
    assert st == 414, (st, body[:200])
    st, _, _ = H.get(port(), "/wms?" + q(**GETMAP) + "&X=" + "b" * 9000)
    assert st == 414, st
    st, _, _ = H.get(port(), "/health?x=" + "c" * 100)
    assert st == 200, st


def in_flight(p):
    st, _, body = H.get(p, "/metrics")
    assert st == 200, st
    m = re.search(rb"^tilesrv_http_requests_in_flight (\d+)$", body, re.M)
    assert m, "no in-flight gauge"
    return int(m.group(1))


def test_many_query_arguments_are_414_at_once_and_leave_nothing_behind():
    """A short target with hundreds of arguments (more than libmicrohttpd's memory pool
    takes: it used to hang such a connection without an answer until the timeout, and to
    leak the in-flight count) is answered 414 at once; up to the limit it is served."""
    p = port()
    before = in_flight(p)
    for n, want in [(100, 200), (400, 414), (2000, 414)]:
        t0 = time.time()
        st, h, body = H.get(p, "/health?x=1" + "&a=1" * (n - 1))
        assert st == want, (n, st, body[:200])
        assert time.time() - t0 < 2.0, (n, time.time() - t0)
        if want == 414:
            assert b"query arguments" in body, body[:200]
    st, _, _ = H.get(p, "/tiles/cadastre/16/34001/21873.png?" + "&".join(["k%d=v" % i for i in range(300)]))
    assert st == 414, st
    time.sleep(1.5)  # the refused connections are shut down 1 s after their answer
    assert in_flight(p) == before, (in_flight(p), before)


def test_large_request_head_is_431():
    st, _, body = H.get(port(), "/health", {"X-Filler": "a" * 20000})
    assert st == 431, (st, body[:200])
    st, _, _ = H.get(port(), "/health", {"X-Filler": "a" * 2000})
    assert st == 200, st


def test_get_with_a_body_is_refused():
    p = port()
    # an HTTP/1.1 request must name its Host (RFC 9112 3.2); HTTP/1.0 need not
    r = raw(p, b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert status_of(r) == 400 and b"Host" in r, r[:200]
    r = raw(p, b"GET /health HTTP/1.0\r\n\r\n")
    assert status_of(r) == 200, r[:200]
    # two Host fields: which one a proxy and which one the server reads may differ
    r = raw(p, b"GET /health HTTP/1.1\r\nHost: a\r\nhost: b\r\nConnection: close\r\n\r\n")
    assert status_of(r) == 400 and b"Host" in r, r[:200]
    r = raw(p, b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    assert status_of(r) == 400, r[:200]
    r = raw(p, b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n0\r\n\r\n")
    assert status_of(r) == 400, r[:200]
    r = raw(p, b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    assert status_of(r) == 200, r[:200]


def test_slowloris_is_cut_off():
    """A client sending one header byte every 0.5 s (never idle long enough for an idle
    timeout) is cut off connection_timeout (3 s) after it connected."""
    s = socket.create_connection(("127.0.0.1", port()), timeout=2)
    t0 = time.time()
    cut = None
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        while time.time() - t0 < 12:
            try:
                s.sendall(b"X")
            except OSError:
                cut = time.time() - t0
                break
            s.settimeout(0.5)
            try:
                if s.recv(4096) == b"":
                    cut = time.time() - t0
                    break
            except socket.timeout:
                pass
            except OSError:
                cut = time.time() - t0
                break
    finally:
        s.close()
    assert cut is not None, "a slow request head was never cut off"
    assert 2.5 <= cut <= 6.5, cut


def hold(p, n, attempts=5):
    """n open connections, each known to be accepted: one keep-alive request answered.
    Connections of the tests before may still count against the server's limits for a
    moment on a loaded machine (a connection over the limit is reset): then all are closed
    and the n are opened again, up to `attempts` times."""
    for attempt in range(attempts):
        try:
            return hold_once(p, n)
        except (OSError, AssertionError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def hold_once(p, n):
    held = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", p), timeout=10)
            held.append(s)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            while b"\r\n\r\n" not in got:
                chunk = s.recv(65536)
                assert chunk, "connection %d of %d closed" % (len(held), n)
                got += chunk
            head, _, body = got.partition(b"\r\n\r\n")
            assert status_of(head) == 200, head[:100]
            length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
            while len(body) < length:
                body += s.recv(65536)
    except BaseException:
        for s in held:
            s.close()
        raise
    return held


def test_connections_per_ip_are_limited():
    """max_connections_per_ip: 6 — a seventh connection from the same address is closed
    without an answer; once one of the six goes, a new one is served."""
    p = port()
    held = hold(p, 6)
    try:
        r = b""
        try:
            r = raw(p, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 2)
        except OSError:
            pass
        assert status_of(r) is None, r[:200]
        held.pop().close()
        time.sleep(0.3)
        r = raw(p, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 3)
        assert status_of(r) == 200, r[:200]
    finally:
        for s in held:
            s.close()


def test_total_connections_are_limited():
    """Server B: max_connections 3 (per address 100): a fourth connection gets no answer."""
    p = SERVER_B[1]
    held = hold(p, 3)
    try:
        r = b""
        try:
            r = raw(p, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 2)
        except OSError:
            pass
        assert status_of(r) is None, r[:200]
    finally:
        for s in held:
            s.close()
    time.sleep(0.3)
    st, _, _ = H.get(p, "/health")
    assert st == 200


def test_wms_render_time_limit_answers_with_an_ogc_exception():
    """Server B: server.wms.max_render_ms 1 — a 2048 x 2048 GetMap (about 1 s to render) is
    answered at its deadline with a ServiceExceptionReport, and the server stays healthy."""
    p = SERVER_B[1]
    t0 = time.time()
    st, h, body = H.get(p, "/wms?" + q(**dict(GETMAP, WIDTH="2048", HEIGHT="2048")))
    assert st == 200, st
    assert h["content-type"].startswith("text/xml"), (h["content-type"], body[:100])
    assert b"ServiceException" in body and b"render time limit" in body, body[:400]
    assert time.time() - t0 < 30
    st, _, _ = H.get(p, "/health")
    assert st == 200
    # and the render itself stops there (it had run on to its end, unseen)
    deadline = time.time() + 60
    while "past the render time limit" not in open(SERVER_B[2]).read() and \
            time.time() < deadline:
        time.sleep(0.1)
    assert "past the render time limit" in open(SERVER_B[2]).read()
    # labels alone (an SLD_BODY of a TextSymbolizer) stop there as well
    sld = ('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" '
           'xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>parcels</Name><UserStyle>'
           '<FeatureTypeStyle><Rule><TextSymbolizer><Label><ogc:PropertyName>flstnr'
           '</ogc:PropertyName></Label></TextSymbolizer></Rule></FeatureTypeStyle></UserStyle>'
           '</NamedLayer></StyledLayerDescriptor>')
    st, h, body = H.get(p, "/wms?" + q(**dict(GETMAP, LAYERS="parcels", WIDTH="2048",
                                               HEIGHT="2048", SLD_BODY=sld)))
    assert st == 200 and b"render time limit" in body, body[:300]
    deadline = time.time() + 60
    while open(SERVER_B[2]).read().count("past the render time limit") < 2 and \
            time.time() < deadline:
        time.sleep(0.1)
    assert open(SERVER_B[2]).read().count("past the render time limit") >= 2


# ---------------------------------------------------------------- paths

def test_static_paths_cannot_leave_the_web_root():
    p = port()
    for path in ["/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                 "/..%2f..%2f..%2fetc%2fpasswd", "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
                 "//etc/passwd", "/etc/passwd", "/index.html/../../outside/secret.txt",
                 "/..\\..\\etc\\passwd", "/%5c..%5c..%5cetc%5cpasswd", "/.%2e/outside/secret.txt"]:
        r = raw(p, ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
        st = status_of(r)
        assert st in (400, 404), (path, r[:200])
        assert b"root:" not in r and b"TOP SECRET" not in r, path
    st, _, body = H.get(p, "/index.html")
    assert st == 200 and b"web root" in body


def test_encoded_nul_is_refused():
    st, _, body = H.get(port(), "/index.html%00.png")
    assert st == 400, (st, body[:100])
    st, _, _ = H.get(port(), "/tiles/cadastre%00/16/34001/21873.png")
    assert st == 400, st


def test_symlinks_out_of_the_web_root_are_not_followed():
    p = port()
    for path in ["/leak.txt", "/outdir/secret.txt"]:
        st, _, body = H.get(p, path)
        assert st == 404, (path, st, body[:100])
        assert b"TOP SECRET" not in body
    st, _, body = H.get(p, "/inside.html")   # a link that stays inside is fine
    assert st == 200 and b"web root" in body, st


def test_tileset_names_are_looked_up_never_used_as_paths():
    p = port()
    for path in ["/tiles/../../etc/passwd/1/1/1.png", "/tiles/..%2f..%2fetc%2fpasswd/1/1/1.png",
                 "/tiles/.../1/1/1.png", "/tiles/cadastre.json.json", "/tiles/..json",
                 "/tiles/%2e%2e.json", "/tiles/cadastre/../cadastre/16/34001/21873.png",
                 "/wmts/1.0.0/..%2f..%2fetc/default/WebMercatorQuad/1/1/1.png",
                 "/sensors/..%2f..%2fetc%2fpasswd.geojson"]:
        st, _, body = H.get(p, path)
        assert st in (400, 404), (path, st)
        assert b"root:" not in body


def test_remote_sld_is_refused_and_nothing_is_fetched():
    """SLD= (a style by URL) is refused with an OGC exception; an SLD_BODY naming a remote
    graphic (drawn without it) or declaring an external entity fetches nothing and reads no
    file."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(8)
    lst.settimeout(0.2)
    lp = lst.getsockname()[1]
    try:
        p = port()
        st, _, body = H.get(p, "/wms?" + q(**dict(GETMAP, SLD="http://127.0.0.1:%d/s.sld" % lp)))
        assert st == 200 and b"OperationNotSupported" in body and b"SLD" in body, body[:300]
        remote = ("""<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"
  xmlns:xlink="http://www.w3.org/1999/xlink"><NamedLayer><Name>parcels</Name><UserStyle>
  <FeatureTypeStyle><Rule><PointSymbolizer><Graphic><ExternalGraphic><OnlineResource
  xlink:type="simple" xlink:href="http://127.0.0.1:%d/x.png"/><Format>image/png</Format>
  </ExternalGraphic></Graphic></PointSymbolizer></Rule></FeatureTypeStyle></UserStyle>
  </NamedLayer></StyledLayerDescriptor>""" % lp)
        # the remote graphic is left out (warned about), the map drawn without it
        st, _, body = H.get(p, "/wms?" + q(**dict(GETMAP, LAYERS="parcels", SLD_BODY=remote)))
        assert st == 200 and body[:8] == b"\x89PNG\r\n\x1a\n", body[:300]
        xxe = ("""<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">
  <!ENTITY y SYSTEM "http://127.0.0.1:%d/e">]>
  <StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"><NamedLayer>
  <Name>&x;&y;</Name></NamedLayer></StyledLayerDescriptor>""" % lp)
        st, _, body = H.get(p, "/wms?" + q(**dict(GETMAP, LAYERS="parcels", SLD_BODY=xxe)))
        assert st == 200 and b"ServiceException" in body and b"root:" not in body, body[:300]
        st, _, body = H.get(p, "/wms?" + q(SERVICE="WMS", VERSION="1.3.0",
                                           REQUEST="GetLegendGraphic", LAYER="parcels",
                                           FORMAT="image/png", SLD_BODY=xxe))
        assert b"root:" not in body
        try:
            conn, _ = lst.accept()
            conn.close()
            raise AssertionError("the server connected to a URL given in a request")
        except socket.timeout:
            pass
    finally:
        lst.close()


# ---------------------------------------------------------------- SQL

def test_no_sql_is_built_from_request_text():
    """Every SQL statement in tilesrv/ is a string literal with bound parameters (no
    sqlite3_mprintf, no printf into SQL, no OGR ExecuteSQL; the only OGR attribute filter
    is the layer's `where` from the configuration; PostGIS queries of per-request sources
    are assembled from quoted identifiers and bind the box as $1..$4); requests with SQL in their names leave
    the MBTiles cache of server B intact and serving."""
    root = os.path.join(ARGS.srcdir, "tilesrv")
    sql_kw = re.compile(r'"[^"\n]*\b(SELECT|INSERT|DELETE|UPDATE|CREATE|DROP|PRAGMA)\b[^"\n]*"')
    for d, _, files in os.walk(root):
        for fn in files:
            if not fn.endswith(".c"):
                continue
            text = open(os.path.join(d, fn), encoding="utf-8", errors="replace").read()
            for bad in ("sqlite3_mprintf", "sqlite3_vmprintf", "sqlite3_snprintf",
                        "sqlite3_str_appendf", "OGR_DS_ExecuteSQL", "GDALDatasetExecuteSQL"):
                assert bad not in text, (fn, bad)
            # files that speak SQL (not e.g. Redis's SELECT <db>): SQLite, PostgreSQL
            if "sqlite3" in text or "libpq-fe.h" in text:
                for m in sql_kw.finditer(text):
                    assert "%" not in m.group(0), (fn, m.group(0))
            for m in re.finditer(r"OGR_L_SetAttributeFilter\(([^;]*)\)", text):
                assert "def->where" in m.group(1), (fn, m.group(0))
    p = SERVER_B[1]
    st, _, a = H.get(p, "/tiles/cadastre/16/34001/21873.png")
    assert st == 200
    for path in ["/tiles/cadastre';DROP%20TABLE%20map;--/16/34001/21873.png",
                 "/tiles/cadastre%22%20OR%201=1--/16/34001/21873.png",
                 "/tiles/cadastre/16/34001%20OR%201=1/21873.png"]:
        st, _, _ = H.get(p, path)
        assert st in (400, 404), (path, st)
    st, _, body = H.get(p, "/wms?" + q(**dict(GETMAP, LAYERS="parcels' OR '1'='1")))
    assert b"LayerNotDefined" in body, body[:300]
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(TMP, "b-cache.mbtiles"), uri=True)
    try:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        assert {"map", "images", "metadata", "tiles"} <= names, names
    finally:
        db.close()
    st, _, b = H.get(p, "/tiles/cadastre/16/34001/21873.png")
    assert st == 200 and a == b


# ---------------------------------------------------------------- CORS

def test_cors_preflight_is_answered():
    p = port()
    st, h, body = H.get(p, "/tiles/cadastre/16/34001/21873.png", method="OPTIONS",
                        headers={"Origin": "https://map.example", "Access-Control-Request-Method": "GET",
                                 "Access-Control-Request-Headers": "if-none-match"})
    assert st == 204 and body == b"", st
    assert h.get("access-control-allow-origin") == "*", h
    assert "GET" in h.get("access-control-allow-methods", ""), h
    assert h.get("access-control-allow-headers") == "if-none-match", h
    assert "POST" not in h.get("allow", "") and "GET" in h.get("allow", ""), h
    st, h, _ = H.get(p, "/tiles/cadastre/16/34001/21873.png", {"Origin": "https://map.example"})
    assert h.get("access-control-allow-origin") == "*"
    st, h, _ = H.get(p, "/health", {"Origin": "https://map.example"})  # for operators only
    assert "access-control-allow-origin" not in h, h


def test_cors_can_be_disabled():
    p = SERVER_B[1]   # cors_origin: ""
    st, h, _ = H.get(p, "/tiles/cadastre/16/34001/21873.png", {"Origin": "https://evil.example"})
    assert st == 200 and "access-control-allow-origin" not in h, h
    st, h, _ = H.get(p, "/health", method="OPTIONS",
                     headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert st == 204, st
    assert not any(k.startswith("access-control-") for k in h), h


# ---------------------------------------------------------------- admin

def admin(p, path, token=None, method="POST", headers=None):
    hd = dict(headers or {})
    if token is not None:
        hd["Authorization"] = "Bearer " + token
    return H.get(p, path, hd, method=method)


def test_admin_needs_the_token():
    p = port()
    st, h, _ = admin(p, "/admin/reload")
    assert st == 401 and h.get("www-authenticate", "").startswith("Bearer"), (st, h)
    st, _, _ = admin(p, "/admin/reload", "wrong-token")
    assert st == 403, st
    st, _, _ = admin(p, "/admin/reload", TOKEN[:-1])
    assert st == 403, st
    st, _, _ = admin(p, "/admin/reload", TOKEN + "x")
    assert st == 403, st
    st, _, _ = admin(p, "/admin/reload", TOKEN, method="GET")
    assert st == 405, st
    st, _, _ = admin(p, "/admin/reload", TOKEN, headers={"Origin": "https://evil.example"})
    assert st == 403, st


def test_admin_reload_with_the_token_reloads():
    log_before = open(MAIN[2]).read().count("reload done")
    st, _, body = admin(port(), "/admin/reload", TOKEN)
    assert st == 200 and json.loads(body) == {"reloaded": True}, (st, body)
    assert open(MAIN[2]).read().count("reload done") == log_before + 1


def test_admin_reload_leaves_the_server_thread_serving():
    """POST /admin/reload loads the configuration on a render thread, the connection
    suspended: on a server with one HTTP thread, /health is answered while the reload runs
    (it had waited for the whole reload: health probes timed out)."""
    path = demo_config(os.path.join(TMP, "one.yaml"),
                       "  listen: \"127.0.0.1:8080\"\n"
                       "  http_threads: 1\n"
                       "  admin:\n"
                       "    token: \"${TILESRV_TEST_ADMIN_TOKEN}\"\n"
                       "    allow: [127.0.0.0/8]\n")
    srv = H.start_server(path)
    try:
        result = {}

        def do_reload():
            result["r"] = admin(srv[1], "/admin/reload", TOKEN)

        t = threading.Thread(target=do_reload)
        t.start()
        during = 0
        while t.is_alive():
            st, _, _ = H.get(srv[1], "/health")
            if t.is_alive():
                during += st == 200
        t.join()
        st, _, body = result["r"]
        assert st == 200 and json.loads(body) == {"reloaded": True}, (st, body)
        assert during > 0, "no /health answered while the reload ran"
    finally:
        H.stop_server(srv)


def test_admin_truncate_removes_cached_tiles():
    p = port()
    cache = os.path.join(TMP, "a-cache")
    st, _, _ = H.get(p, "/tiles/cadastre/16/34001/21873.png")
    assert st == 200
    tile = os.path.join(cache, "WebMercatorQuad", "16", "34001", "21873.png")
    for _ in range(100):
        if os.path.exists(tile):
            break
        time.sleep(0.05)
    assert os.path.exists(tile), "the tile was not written to the disk cache"
    st, _, body = admin(p, "/admin/truncate?tileset=nonexistent", TOKEN)
    assert st == 404, (st, body)
    st, _, body = admin(p, "/admin/truncate?tileset=cadastre&zoom=99", TOKEN)
    assert st == 400, (st, body)
    # a typo or an unknown argument is refused, nothing removed (it meant "everything")
    for q in ("tileset=cadastre&zooom=16&bbbox=6.76,51.21,6.79,51.23",
              "tileset=cadastre&zoom=16&zoom=17", "tileset=cadastre&foo=bar"):
        st, _, body = admin(p, "/admin/truncate?" + q, TOKEN)
        assert st == 400 and b"refused" in body, (q, st, body)
    assert os.path.exists(tile), "a refused truncate removed the tile"
    # a tileset cached in memory only: its memory tiles are dropped (it was refused 400)
    st, _, body = admin(p, "/admin/truncate?tileset=parking&zoom=16", TOKEN)
    assert st == 200 and json.loads(body)["removed"] == 0, (st, body)
    st, _, body = admin(p, "/admin/truncate?tileset=cadastre&zoom=16&bbox=6.76,51.21,6.79,51.23", TOKEN)
    assert st == 200, (st, body)
    r = json.loads(body)
    assert r["tileset"] == "cadastre" and r["removed"] >= 1, r
    assert not os.path.exists(tile), "the tile is still on disk"
    # the memory level was dropped too: the next request renders again
    before = metric(p, "tilesrv_metatiles_rendered_total")
    st, _, _ = H.get(p, "/tiles/cadastre/16/34001/21873.png")
    assert st == 200
    assert metric(p, "tilesrv_metatiles_rendered_total") == before + 1


def test_admin_answers_report_what_was_done_and_health_is_not_for_other_origins():
    """An If-None-Match must not turn a truncate that ran into a 304 (it had: the tiles
    were gone, the client told 'not modified'); admin answers carry no validators, no CORS,
    no-store. /health and /metrics are not readable by pages of other origins."""
    p = port()
    st, h, body = admin(p, "/admin/truncate?tileset=cadastre&zoom=17", TOKEN)
    assert st == 200, (st, body)
    assert "etag" not in h and "last-modified" not in h, h
    assert h.get("cache-control") == "no-store", h
    assert not any(k.startswith("access-control-") for k in h), h
    for bad in ("/admin/truncate?tileset=nope", "/admin/truncate?tileset=cadastre&zoom=99",
                "/admin/nothing"):
        st, h, _ = admin(p, bad, TOKEN)
        assert st in (400, 404) and "access-control-allow-origin" not in h, (bad, st, h)
    st, h, body = admin(p, "/admin/truncate?tileset=cadastre&zoom=17", TOKEN,
                        headers={"If-None-Match": "*"})
    assert st == 200 and json.loads(body)["tileset"] == "cadastre", (st, body)
    for path in ("/health", "/metrics"):
        st, h, _ = H.get(p, path)
        assert st == 200 and "access-control-allow-origin" not in h, (path, h)
    st, h, _ = H.get(p, "/tiles/cadastre/16/34001/21873.png")
    assert st == 200 and h.get("access-control-allow-origin") == "*", h


def test_admin_from_an_address_outside_the_allow_list_is_403():
    """Server B: admin allow [10.0.0.0/8] only, token from a file: 127.0.0.1 is refused even
    with the right token; server A (allow 127.0.0.0/8) takes the same request."""
    st, _, _ = admin(SERVER_B[1], "/admin/reload", TOKEN)
    assert st == 403, st
    st, _, _ = admin(SERVER_B[1], "/admin/reload")
    assert st == 403, st


def test_admin_is_off_unless_configured():
    srv = SERVER_D
    st, _, _ = admin(srv[1], "/admin/reload", TOKEN)
    assert st == 404, st


def test_admin_config_refuses_open_or_weak_settings():
    for server, msg in [("  admin: {}\n", "open to all"),
                        ("  admin: {token: short}\n", "at least 16"),
                        ("  admin: {allow: [10.0.0.1/8]}\n", "host bits"),
                        ("  admin: {allow: [not-an-ip]}\n", "not an IPv4")]:
        cfg = demo_config(os.path.join(TMP, "bad-admin.yaml"), server)
        r = subprocess.run([ARGS.binary, "check", "-c", cfg], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode != 0 and msg in r.stderr, (server, r.stderr)


def metric(p, name):
    st, _, body = H.get(p, "/metrics")
    m = re.search(r"^%s (\S+)$" % re.escape(name), body.decode(), re.M)
    assert m, name
    return float(m.group(1))


# ---------------------------------------------------------------- access log

def test_access_log_has_one_json_line_per_request():
    p = port()
    path = "/tiles/cadastre/16/34002/21873.png?probe=%d" % os.getpid()
    st, _, body = H.get(p, path)
    st2, _, body2 = H.get(p, path)
    assert st == 200 and st2 == 200
    st3, _, _ = H.get(p, "/nope-%d" % os.getpid())
    assert st3 == 404
    time.sleep(0.2)
    lines = [json.loads(l) for l in open(os.path.join(TMP, "access.log")) if l.strip()]
    mine = [l for l in lines if l["path"] == path]
    assert len(mine) == 2, mine
    for rec in mine:
        assert set(rec) >= {"time", "remote", "method", "path", "status", "bytes", "duration_us",
                            "cache"}, rec
        assert rec["remote"] == "127.0.0.1" and rec["method"] == "GET" and rec["status"] == 200
        assert rec["bytes"] == len(body) and rec["duration_us"] >= 0
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", rec["time"]), rec
    # the first rendered it, the second found it in memory (lines are written at completion,
    # so their order may differ)
    assert sorted(rec["cache"] for rec in mine) == ["memory", "pipeline"], mine
    nope = [l for l in lines if l["path"] == "/nope-%d" % os.getpid()]
    assert len(nope) == 1 and nope[0]["status"] == 404 and nope[0]["cache"] is None, nope
    # a client's key in the query is not written to the log
    st4, _, _ = H.get(p, "/tiles/cadastre/16/34002/21873.png?api_key=K3y%d&x=1" % os.getpid())
    time.sleep(0.2)
    keyed = [l for l in open(os.path.join(TMP, "access.log")) if "api_key=" in l]
    assert keyed and all("K3y" not in l and "api_key=***&x=1" in l for l in keyed), keyed
    # a request target with quotes and control bytes stays one valid JSON line
    raw(p, b'GET /x%22%0a"\\ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    time.sleep(0.2)
    for l in open(os.path.join(TMP, "access.log")):
        json.loads(l)


# ---------------------------------------------------------------- reload and shutdown

def test_sighup_reload_under_load_drops_no_request():
    p = port()
    stop = time.time() + 4
    errors = []
    count = [0]

    def loop(i):
        # one keep-alive connection per client (three, well under max_connections_per_ip)
        c = http.client.HTTPConnection("127.0.0.1", p, timeout=120)
        n = 0
        # at least 4 s of reloads, and at least 5 requests per client whatever the speed
        # of the machine (each reload drops the memory cache: tiles are rendered again)
        while time.time() < stop or n < 5:
            path = "/tiles/cadastre/15/%d/%d.png" % (17000 + (n % 4), 10936 + i)
            try:
                c.request("GET", path)
                r = c.getresponse()
                body = r.read()
                if r.status != 200 or body[:4] != b"\x89PNG":
                    errors.append((path, r.status))
            except Exception as e:  # noqa: BLE001
                errors.append((path, repr(e)))
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", p, timeout=120)
            n += 1
        c.close()
        count[0] += n

    with concurrent.futures.ThreadPoolExecutor(3) as ex:
        futs = [ex.submit(loop, i) for i in range(3)]
        while time.time() < stop or not all(f.done() for f in futs):
            MAIN[0].send_signal(signal.SIGHUP)
            time.sleep(0.4)
        for f in futs:
            f.result()
    assert not errors, errors[:5]
    assert count[0] >= 15, count


def test_a_half_sent_request_head_does_not_hold_a_shutdown():
    """A client that sent half a request head and waits is not a request in flight: a stop
    had waited the whole shutdown_timeout for it (any client could delay every restart)."""
    cfg = demo_config(os.path.join(TMP, "half.yaml"),
                      "  listen: \"127.0.0.1:8080\"\n  shutdown_timeout: 20\n")
    srv = H.start_server(cfg)
    try:
        half = socket.create_connection(("127.0.0.1", srv[1]), timeout=10)
        half.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # no blank line
        time.sleep(0.3)
        t0 = time.time()
        srv[0].send_signal(signal.SIGTERM)
        rc = srv[0].wait(timeout=60)
        took = time.time() - t0
        half.close()
        assert rc == 0 and took < 8, (rc, took)
    finally:
        if srv[0].poll() is None:
            srv[0].kill()


def test_sigterm_finishes_requests_in_flight_and_exits_0():
    """Server C (MBTiles cache): when SIGTERM comes a large GetMap is rendering and a 16 MiB
    file is being downloaded by a client that has stopped reading; both are answered in full, new connections are
    refused, the MBTiles WAL is checkpointed into the file and the exit code is 0."""
    cfg = demo_config(os.path.join(TMP, "c.yaml"),
                      "  listen: \"127.0.0.1:8080\"\n  shutdown_timeout: 60\n",
                      "{type: mbtiles, path: %s}" % os.path.join(TMP, "c-cache.mbtiles"))
    srv = H.start_server(cfg)
    p = srv[1]
    big_size = os.path.getsize(os.path.join(TMP, "web", "big.bin"))
    try:
        st, _, _ = H.get(p, "/tiles/cadastre/16/34001/21873.png")
        assert st == 200
        # that tile's connection counts as suspended until its render thread has resumed
        # it, which may be after its answer arrived: wait, so the count below is the GetMap
        for _ in range(500):
            if metric(p, "tilesrv_http_suspended") == 0:
                break
            time.sleep(0.01)
        result = {}

        def getmap():
            try:
                result["r"] = H.get(p, "/wms?" + q(**dict(GETMAP, WIDTH="1024", HEIGHT="1024")))
            except Exception as e:  # noqa: BLE001
                result["e"] = e

        # a paused reader: a small receive buffer, so most of the file waits in the server
        dl = socket.socket()
        dl.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        dl.settimeout(30)
        dl.connect(("127.0.0.1", p))
        dl.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        got = dl.recv(65536)
        t = threading.Thread(target=getmap)
        t.start()
        seen = False
        for _ in range(500):
            if metric(p, "tilesrv_http_suspended") >= 1:
                seen = True
                break
            time.sleep(0.01)
        assert seen, "the GetMap was never seen in flight"
        srv[0].send_signal(signal.SIGTERM)
        time.sleep(0.3)
        refused = False
        try:
            H.get(p, "/health")
        except OSError:
            refused = True
        while True:
            chunk = dl.recv(262144)
            if not chunk:
                break
            got += chunk
        dl.close()
        t.join(120)
        rc = srv[0].wait(timeout=120)
    except BaseException:
        srv[0].kill()
        raise
    log = open(srv[2]).read()
    head, _, body = got.partition(b"\r\n\r\n")
    assert status_of(head) == 200 and len(body) == big_size, (head[:100], len(body), big_size)
    assert "e" not in result, (result.get("e"), log[-2000:])
    st, h, body = result["r"]
    assert st == 200 and h["content-type"] == "image/png", (st, body[:200])
    assert H.png_size(body) == (1024, 1024)
    assert refused, "a new connection was served after SIGTERM"
    assert rc == 0, (rc, log[-2000:])
    wal = os.path.join(TMP, "c-cache.mbtiles-wal")
    assert not os.path.exists(wal) or os.path.getsize(wal) == 0, "WAL left behind"
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(TMP, "c-cache.mbtiles"), uri=True)
    try:
        n = db.execute("SELECT count(*) FROM tiles WHERE zoom_level = 16").fetchone()[0]
    finally:
        db.close()
    assert n >= 1, n


# ---------------------------------------------------------------- main

SERVER_B = None
SERVER_D = None


def main():
    global ARGS, TMP, MAIN, SERVER_B, SERVER_D
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--srcdir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("filter", nargs="?")
    ARGS = ap.parse_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    ARGS.srcdir = os.path.abspath(ARGS.srcdir)
    H.ARGS = ARGS
    TMP = tempfile.mkdtemp(prefix="tilesrv-sec-")
    # a web root with links: one inside, one to a file and one to a directory outside
    web = os.path.join(TMP, "web")
    out = os.path.join(TMP, "outside")
    os.makedirs(web)
    os.makedirs(out)
    with open(os.path.join(web, "index.html"), "w") as f:
        f.write("<html>the web root</html>\n")
    with open(os.path.join(out, "secret.txt"), "w") as f:
        f.write("TOP SECRET\n")
    os.symlink(os.path.join(out, "secret.txt"), os.path.join(web, "leak.txt"))
    os.symlink(out, os.path.join(web, "outdir"))
    os.symlink("index.html", os.path.join(web, "inside.html"))
    with open(os.path.join(web, "big.bin"), "wb") as f:   # for the slow reader at shutdown
        f.write(os.urandom(1 << 20) * 16)
    os.environ["TILESRV_WEB_ROOT"] = web
    os.environ["TILESRV_TEST_ADMIN_TOKEN"] = TOKEN
    with open(os.path.join(TMP, "token"), "w") as f:
        f.write(TOKEN + "\n")
    servers = []
    failed = ran = 0
    try:
        a = demo_config(os.path.join(TMP, "a.yaml"),
                        "  listen: \"127.0.0.1:8080\"\n"
                        "  connection_timeout: 3\n"
                        "  max_connections_per_ip: 6\n"
                        "  access_log: access.log\n"
                        "  admin:\n"
                        "    token: \"${TILESRV_TEST_ADMIN_TOKEN}\"\n"
                        "    allow: [127.0.0.0/8, \"::1\"]\n",
                        "{type: disk, path: a-cache}")
        MAIN = H.start_server(a)
        servers.append(MAIN)
        b = demo_config(os.path.join(TMP, "b.yaml"),
                        "  listen: \"127.0.0.1:8080\"\n"
                        "  cors_origin: \"\"\n"
                        "  max_connections: 3\n"
                        "  max_connections_per_ip: 100\n"
                        "  wms: {max_render_ms: 1}\n"
                        "  admin:\n"
                        "    token_file: token\n"
                        "    allow: [10.0.0.0/8]\n",
                        "{type: mbtiles, path: b-cache.mbtiles}")
        SERVER_B = H.start_server(b)
        servers.append(SERVER_B)
        d = demo_config(os.path.join(TMP, "d.yaml"), "  listen: \"127.0.0.1:8080\"\n")
        SERVER_D = H.start_server(d)
        servers.append(SERVER_D)
        for name, fn in sorted(globals().items()):
            if not name.startswith("test_") or (ARGS.filter and ARGS.filter not in name):
                continue
            ran += 1
            t0 = time.time()
            try:
                fn()
                print("ok   %s (%.1f s)" % (name, time.time() - t0), flush=True)
            except Exception:
                failed += 1
                print("FAIL %s\n%s" % (name, traceback.format_exc()), flush=True)
    finally:
        for srv in servers:
            rc, log = H.stop_server(srv)
            if rc != 0:
                failed += 1
                print("FAIL server exit code %d\n%s" % (rc, log[-3000:]))
        shutil.rmtree(TMP, ignore_errors=True)
    print("%d tests, %d failed" % (ran, failed))
    sys.exit(1 if failed or not ran else 0)


if __name__ == "__main__":
    main()
