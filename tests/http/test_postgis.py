#!/usr/bin/env python3
"""PostGIS as a per-request source (sources: {pg: {path: "PG:...", mode: per_request}}),
against a REAL PostgreSQL 15 + PostGIS started here in a temporary directory on a free port
(as user postgres when run as root: initdb refuses root). The demo tables (parcels,
buildings, streets) are loaded with ogr2ogr; `tilesrv serve` then draws the same layers
from the GeoPackage (loaded at start) and from PostGIS (queried per metatile):

  - a PostGIS tile equals the GeoPackage tile (decoded pixels, small tolerance), at two
    zooms, and a WMS GetMap of the PostGIS layers equals the GeoPackage one, in the grid's
    CRS and in EPSG:25832 (reprojected on the fly);
  - a parcel INSERTed and another UPDATEd in PostGIS: the cached tile stays as it was
    until POST /admin/truncate, then the tile shows both edits (the GeoPackage tile does
    not change);
  - PostgreSQL stopped: an uncached PostGIS tile answers 502 within the test's timeout
    (no hang), a WMS GetMap answers an OGC exception, the error is logged, GeoPackage tiles
    and /health still answer;
  - PostgreSQL started again: PostGIS tiles render again (the worker's connection is
    reopened);
  - a clean stop (exit 0, no sanitizer report).

Usage: test_postgis.py --binary build/tilesrv [--srcdir .]
Exit 0 = pass, 1 = fail. A missing PostgreSQL or PostGIS is a failure, not a skip
(scripts/deps.sh --test installs postgresql-15 and postgresql-15-postgis-3). Standard
library only (PNG decoding below), plus the PostgreSQL client programs and ogr2ogr.
"""
import argparse
import glob
import http.client
import json
import re
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_live import png_rgba  # noqa: E402

TOKEN = "postgis-test-admin-token-0123456789"
Z = 16
TX, TY = 34001, 21873          # lies in the demo data
# a WebMercator box inside the data (the tile above), for GetMap
WMS_BOX_3857 = (755600.0, 6665600.0, 756200.0, 6666200.0)


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)
    print("  ok: " + what, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(port, path, method="GET", headers=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, body


# ---- PNG decoding (8-bit grey, RGB, RGBA, palette) -----------------------------------------

def png_pixels(data):
    """(width, height, [(r, g, b, a)] row-major), by test_live's decoder."""
    rows = png_rgba(data)
    return (len(rows[0]) if rows else 0), len(rows), [p for row in rows for p in row]


def differing(a, b, tol=8, region=None):
    """Pixels of PNGs a and b differing by more than tol in some channel (in region
    (x0, y0, x1, y1) if given), and the number of pixels looked at."""
    wa, ha, pa = png_pixels(a)
    wb, hb, pb = png_pixels(b)
    if (wa, ha) != (wb, hb):
        raise Fail("image sizes differ: %dx%d vs %dx%d" % (wa, ha, wb, hb))
    x0, y0, x1, y1 = region or (0, 0, wa, ha)
    n = tot = 0
    for y in range(y0, y1):
        for x in range(x0, x1):
            u, v = pa[y * wa + x], pb[y * wa + x]
            tot += 1
            if max(abs(u[k] - v[k]) for k in range(4)) > tol:
                n += 1
    return n, tot


def distinct_colours(data):
    return len(set(png_pixels(data)[2]))


# ---- PostgreSQL ------------------------------------------------------------------------------

def pg_bindir():
    for d in ["/usr/lib/postgresql/15/bin"] + sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                                                      reverse=True):
        if os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    raise Fail("PostgreSQL is not installed (scripts/deps.sh --test installs postgresql-15)")


class Postgres:
    def __init__(self, root, port):
        self.bin = pg_bindir()
        self.root, self.port = root, port
        self.data = os.path.join(root, "data")
        self.log = os.path.join(root, "postgres.log")
        self.as_root = os.getuid() == 0
        if self.as_root:   # initdb refuses root: the cluster belongs to postgres
            shutil.chown(root, "postgres", "postgres")
            os.chmod(root, 0o700)

    def run(self, args, check_rc=True, timeout=120):
        cmd = [os.path.join(self.bin, args[0])] + args[1:]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                           cwd=self.root)
        if check_rc and r.returncode != 0:
            raise Fail("%s failed (%d): %s" % (" ".join(args[:2]), r.returncode,
                                              r.stdout.decode(errors="replace")[-2000:]))
        return r

    def init(self):
        self.run(["initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--locale=C"])

    def start(self):
        self.run(["pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "-o",
                  "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "
                  "-c full_page_writes=off" % (self.port, self.root), "start"])

    def stop(self):
        self.run(["pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"], check_rc=False)

    def pids(self):
        """The postmaster and its children."""
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            master = int(f.readline())
        out = [master]
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        st = f.read()
                except OSError:
                    continue
                if int(st.rsplit(")", 1)[1].split()[1]) == master:
                    out.append(int(d))
        return out

    def sql(self, q, db="demo"):
        r = self.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                      "-d", db, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", q])
        return r.stdout.decode().strip()

    def conninfo(self):
        return "host=127.0.0.1 port=%d user=postgres dbname=demo" % self.port


def load_demo(pg, src):
    pg.sql("CREATE DATABASE demo", db="postgres")
    try:
        pg.sql("CREATE EXTENSION postgis")
    except Fail as e:
        raise Fail("PostGIS is missing (scripts/deps.sh --test installs "
                   "postgresql-15-postgis-3): %s" % e)
    gpkg = os.path.join(src, "data", "demo", "duesseldorf_demo.gpkg")
    r = subprocess.run(["ogr2ogr", "-f", "PostgreSQL", "PG:" + pg.conninfo(), gpkg,
                        "parcels", "buildings", "streets", "-lco", "GEOMETRY_NAME=geom",
                        "-lco", "FID=fid"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    if r.returncode != 0:
        raise Fail("ogr2ogr into PostGIS failed: %s" % r.stdout.decode(errors="replace")[-2000:])


# ---- tilesrv ---------------------------------------------------------------------------------

def write_config(src, path, pg):
    styles = os.path.join(src, "styles")
    gpkg = os.path.join(src, "data", "demo", "duesseldorf_demo.gpkg")
    cfg = """server:
  listen: "127.0.0.1:8080"
  cache_mb: 64
  admin:
    token: "%(token)s"
    allow: [127.0.0.0/8]
sources:
  demo:
    path: %(gpkg)s
  pg:
    path: "PG:%(conninfo)s"
    mode: per_request
    query_timeout: 2
  pgload:
    path: "PG:%(conninfo)s"
layers:
  parcels: {source: demo, table: parcels, style: %(styles)s/alkis_parcels.sld}
  buildings: {source: demo, table: buildings, style: %(styles)s/alkis_buildings.sld}
  streets: {source: demo, table: streets, style: %(styles)s/alkis_streets.sld}
  pg_parcels: {source: pg, table: parcels, style: %(styles)s/alkis_parcels.sld,
               mvt: {attributes: [flstnr, gemarkung]}}
  pg_buildings: {source: pg, table: public.buildings, style: %(styles)s/alkis_buildings.sld}
  pg_streets: {source: pg, table: streets, style: %(styles)s/alkis_streets.sld}
  pg_loaded: {source: pgload, table: parcels, style: %(styles)s/alkis_parcels.sld}
tilesets:
  gpkg:
    layers: [parcels, buildings, streets]
    background: "#dedad2"
    metatile: 4
    buffer: 64
  live:
    layers: [pg_parcels, pg_buildings, pg_streets]
    background: "#dedad2"
    metatile: 4
    buffer: 64
    cache: {type: disk, path: %(cache)s}
  loaded:
    layers: [pg_loaded]
  expiring:
    layers: [pg_parcels]
    metatile: 2
    cache: {type: disk, path: %(cache)s-exp, expire: 1}
""" % {"token": TOKEN, "gpkg": gpkg, "conninfo": pg.conninfo(), "styles": styles,
       "cache": os.path.join(os.path.dirname(path), "cache-live")}
    with open(path, "w") as f:
        f.write(cfg)
    return path


def start_server(binary, cfg, log):
    port = free_port()
    logf = open(log, "w")
    p = subprocess.Popen([binary, "serve", "-c", cfg, "--listen", "127.0.0.1:%d" % port,
                          "--threads", "2"], stdout=logf, stderr=logf)
    deadline = time.time() + 120
    while time.time() < deadline:
        if p.poll() is not None:
            raise Fail("tilesrv exited with %d:\n%s" % (p.returncode, open(log).read()[-3000:]))
        try:
            if get(port, "/health", timeout=5)[0] == 200:
                return p, port
        except OSError:
            pass
        time.sleep(0.1)
    p.kill()
    raise Fail("tilesrv did not come up")


def tile(port, ts, z, x, y):
    return get(port, "/tiles/%s/%d/%d/%d.png" % (ts, z, x, y))


def getmap(port, layers, crs, box, size=256):
    q = ("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=%s&STYLES=&CRS=%s"
         "&BBOX=%s&WIDTH=%d&HEIGHT=%d&FORMAT=image/png" %
         (layers, crs, ",".join("%.3f" % v for v in box), size, size))
    return get(port, q)


def truncate(port, ts):
    st, _, body = get(port, "/admin/truncate?tileset=%s" % ts, method="POST",
                      headers={"Authorization": "Bearer " + TOKEN})
    if st != 200:
        raise Fail("POST /admin/truncate?tileset=%s: %d %s" % (ts, st, body[:200]))


def same_image(a, b, what, max_share=0.01):
    n, tot = differing(a, b)
    check(n <= tot * max_share, "%s: %d of %d pixels differ by more than 8" % (what, n, tot))


def run(a, tmp, pgroot):
    pg = Postgres(pgroot, free_port())
    pg.init()
    pg.start()
    server = None
    try:
        load_demo(pg, a.srcdir)
        n = int(pg.sql("SELECT count(*) FROM parcels"))
        check(n > 100, "demo parcels loaded into PostGIS (%d rows)" % n)
        cfg = write_config(a.srcdir, os.path.join(tmp, "postgis.yaml"), pg)
        log = os.path.join(tmp, "tilesrv.log")
        server, port = start_server(a.binary, cfg, log)
        text = open(log).read()
        check("queried per render from PostGIS" in text, "the PostGIS layers are not loaded "
              "at start but described")

        # 1. the same tiles from PostGIS and from the GeoPackage
        for (z, x, y) in ((Z, TX, TY), (14, TX >> 2, TY >> 2)):
            sg, _, g = tile(port, "gpkg", z, x, y)
            sl, _, l = tile(port, "live", z, x, y)
            check(sg == 200 and sl == 200, "tile %d/%d/%d from both sources: %d, %d"
                  % (z, x, y, sg, sl))
            check(distinct_colours(l) > 4, "the PostGIS tile %d/%d/%d has content" % (z, x, y))
            same_image(g, l, "PostGIS tile %d/%d/%d equals the GeoPackage one" % (z, x, y))

        # vector tiles: the per-request layers carry the same features as the loaded ones
        # (decoded by GDAL's MVT driver: /usr/bin/ogrinfo, features per layer)
        counts = {}
        for ts, names in (("gpkg", ("parcels", "buildings", "streets")),
                          ("live", ("pg_parcels", "pg_buildings", "pg_streets"))):
            st, _, body = get(port, "/tiles/%s/%d/%d/%d.mvt" % (ts, Z, TX, TY))
            check(st == 200 and len(body) > 100, "MVT tile of %s: %d, %d bytes"
                  % (ts, st, len(body)))
            path = os.path.join(tmp, "%s-%d-%d-%d.pbf" % (ts, Z, TX, TY))
            with open(path, "wb") as f:
                f.write(body)
            out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", path], capture_output=True,
                                 text=True, timeout=60).stdout
            layer, got = None, {}
            for line in out.splitlines():
                if line.startswith("Layer name: "):
                    layer = line[12:].strip()
                elif line.startswith("Feature Count: ") and layer:
                    got[layer] = int(line[15:])
            counts[ts] = [got.get(n, 0) for n in names]
            if ts == "live":  # `mvt: {attributes}` of a per_request layer are carried
                check("flstnr: String" in out and "gemarkung: String" in out,
                      "MVT: the PostGIS layer carries its mvt attributes (%s)"
                      % [l for l in out.splitlines() if ": " in l and "(" in l][:12])
        check(all(c > 0 for c in counts["live"]) and counts["live"] == counts["gpkg"],
              "MVT: the PostGIS layers hold the GeoPackage's features per layer %s == %s"
              % (counts["live"], counts["gpkg"]))

        # WMS GetMap over the same layers, in the grid's CRS and reprojected to EPSG:25832
        sg, hg, g = getmap(port, "parcels,buildings,streets", "EPSG:3857", WMS_BOX_3857)
        sl, hl, l = getmap(port, "pg_parcels,pg_buildings,pg_streets", "EPSG:3857", WMS_BOX_3857)
        check(sg == 200 and sl == 200 and hl.get("content-type") == "image/png",
              "WMS GetMap of the PostGIS layers (EPSG:3857): %d %s" % (sl, l[:100]))
        check(distinct_colours(l) > 4, "the PostGIS map has content")
        same_image(g, l, "WMS GetMap PostGIS == GeoPackage (EPSG:3857)")
        box25832 = tuple(float(v) for v in pg.sql(
            "SELECT concat_ws(',', ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)) FROM "
            "(SELECT ST_Transform(ST_MakeEnvelope(%f, %f, %f, %f, 3857), 25832)::box2d AS b) q"
            % WMS_BOX_3857).split(","))
        sg, _, g = getmap(port, "parcels,buildings,streets", "EPSG:25832", box25832)
        sl, _, l = getmap(port, "pg_parcels,pg_buildings,pg_streets", "EPSG:25832", box25832)
        check(sg == 200 and sl == 200, "WMS GetMap in EPSG:25832: %d, %d %s" % (sg, sl, l[:100]))
        check(distinct_colours(l) > 4, "the reprojected PostGIS map has content")
        same_image(g, l, "WMS GetMap PostGIS == GeoPackage (EPSG:25832, reprojected)")

        # GetFeatureInfo: the same parcel with all its attributes (read back through OGR by
        # the table's primary key)
        def info(layer):
            q = ("/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&LAYERS=%s&QUERY_LAYERS=%s"
                 "&STYLES=&CRS=EPSG:3857&BBOX=%s&WIDTH=256&HEIGHT=256&I=100&J=140"
                 "&INFO_FORMAT=application/json&FEATURE_COUNT=1" %
                 (layer, layer, ",".join("%.3f" % v for v in WMS_BOX_3857)))
            st, _, body = get(port, q)
            if st != 200:
                raise Fail("GetFeatureInfo %s: %d %s" % (layer, st, body[:200]))
            return json.loads(body)["features"]
        fg, fl = info("parcels"), info("pg_parcels")
        check(len(fg) == 1 and len(fl) == 1 and fl[0]["properties"] == fg[0]["properties"] and
              "flstnr" in fl[0]["properties"],
              "GetFeatureInfo on the PostGIS layer: the same parcel, all attributes (%s)"
              % (fl[0]["properties"] if fl else fl))

        # the capabilities give per_request layers their table's extent (QGIS zooms to it)
        st, _, caps = get(port, "/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.3.0")
        import xml.etree.ElementTree as ET
        ns = {"w": "http://www.opengis.net/wms"}
        found = {}
        for lay in ET.fromstring(caps).iter("{http://www.opengis.net/wms}Layer"):
            nm = lay.find("w:Name", ns)
            gb = lay.find("w:EX_GeographicBoundingBox", ns)
            if nm is not None and gb is not None:
                found[nm.text] = float(gb.find("w:westBoundLongitude", ns).text)
        check(6.5 < found.get("pg_parcels", 0) < 7 and 6.5 < found.get("live", 0) < 7,
              "WMS capabilities: the PostGIS layer and its group have their extent (%s)"
              % {k: v for k, v in found.items() if "pg" in k or k == "live"})
        st, _, col = get(port, "/ogcapi/collections/live")
        cj = json.loads(col) if st == 200 else {}
        bb = cj.get("extent", {}).get("spatial", {}).get("bbox", [[0]])[0]
        check(st == 200 and 6.5 < bb[0] < 7, "OGC API: the PostGIS collection has its extent "
              "(%d, %s)" % (st, cj.get("extent")))

        # a level where no rule of the style applies (the parcels begin at 1:50,000) asks
        # the database nothing: a z9 tile over a big table had read all its rows
        q0 = json.loads(get(port, "/health")[2])["postgis"]["queries"]
        st, _, _ = tile(port, "expiring", 12, TX >> 4, TY >> 4)
        q1 = json.loads(get(port, "/health")[2])["postgis"]["queries"]
        check(st == 200 and q1 == q0, "a z12 tile of a layer drawn from 1:50,000 queries "
              "nothing (%d, %d queries)" % (st, q1 - q0))

        # 2. edits: INSERT a parcel in the middle of the tile, UPDATE the parcel at its
        # centre; both show after the cache is truncated
        _, _, before = tile(port, "live", Z, TX, TY)
        env = "ST_Transform(ST_TileEnvelope(%d, %d, %d), 25832)" % (Z, TX, TY)
        pg.sql("INSERT INTO parcels (geom, nutzung, zaehler, nenner, flstnr, gemarkung, flur) "
               "SELECT ST_SetSRID(ST_Expand(ST_Centroid(%s), 70), 25832), 'public', 9999, 1, "
               "'9999/1', 'Test', 1" % env)
        # the UPDATE moves a parcel of the tile (away from the new one) 10 km away: its
        # area shows the background afterwards. Its bbox in the tile's pixels:
        row = pg.sql("SELECT p.fid, concat_ws(',', (ST_XMin(b) - ST_XMin(t)) / r, "
                     "(ST_YMax(t) - ST_YMax(b)) / r, (ST_XMax(b) - ST_XMin(t)) / r, "
                     "(ST_YMax(t) - ST_YMin(b)) / r) FROM parcels p, "
                     "LATERAL (SELECT ST_Transform(p.geom, 3857)::box2d AS b) pb, "
                     "LATERAL (SELECT ST_TileEnvelope(%d, %d, %d) AS t) tt, "
                     "LATERAL (SELECT (ST_XMax(t) - ST_XMin(t)) / 256 AS r) rr "
                     "WHERE p.zaehler <> 9999 AND ST_Within(ST_Transform(p.geom, 3857), "
                     "ST_Buffer(t, -20 * r)) AND NOT ST_Intersects(p.geom, "
                     "ST_Expand(ST_Centroid(%s), 90)) AND ST_Area(p.geom) > 800 "
                     "ORDER BY ST_Area(p.geom) DESC LIMIT 1" % (Z, TX, TY, env))
        check(row != "", "a parcel inside the tile to move: %s" % row)
        fid, pbox = row.split("|")
        pbox = [int(round(float(v))) for v in pbox.split(",")]
        pg.sql("UPDATE parcels SET geom = ST_Translate(geom, 10000, 0) WHERE fid = %s" % fid)
        _, _, cached = tile(port, "live", Z, TX, TY)
        check(cached == before, "before the truncate the cached tile is served (edits show "
              "after expiry or truncate)")
        truncate(port, "live")
        st, _, after = tile(port, "live", Z, TX, TY)
        check(st == 200, "tile after truncate: %d" % st)
        centre = (128 - 20, 128 - 20, 128 + 20, 128 + 20)
        nc, totc = differing(before, after, region=centre)
        check(nc > totc // 2, "the inserted parcel shows at the tile's centre (%d of %d pixels "
              "changed)" % (nc, totc))
        nm, totm = differing(before, after, region=tuple(pbox))
        check(nm > totm // 5, "the moved parcel %s is gone from the tile (%d of %d pixels of "
              "its box changed)" % (fid, nm, totm))
        _, _, g = tile(port, "gpkg", Z, TX, TY)
        same_image(g, before, "the GeoPackage tile still equals the PostGIS tile before the edit")

        # with `expire`, an edit shows without a truncate: the first request after expiry
        # gets the stale tile and re-renders it in the background
        _, _, e0 = tile(port, "expiring", Z, TX, TY)
        pg.sql("DELETE FROM parcels WHERE zaehler = 9999")
        deadline = time.time() + 20
        while True:
            time.sleep(0.3)
            _, _, e1 = tile(port, "expiring", Z, TX, TY)
            if e1 != e0 or time.time() > deadline:
                break
        nc, totc = differing(e0, e1, region=centre)
        check(nc > totc // 2, "cache expire 1 s: the deleted parcel disappears without a "
              "truncate (%d of %d centre pixels changed)" % (nc, totc))

        # a query that waits on a lock is cancelled by the statement timeout (2 s here)
        locker = subprocess.Popen(
            (["runuser", "-u", "postgres", "--"] if pg.as_root else []) +
            [os.path.join(pg.bin, "psql"), "-h", "127.0.0.1", "-p", str(pg.port), "-U",
             "postgres", "-d", "demo", "-qAt", "-c",
             "BEGIN; LOCK TABLE parcels IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(15); COMMIT;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 10
            while pg.sql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                         "WHERE c.relname = 'parcels' AND l.mode = 'AccessExclusiveLock' "
                         "AND l.granted") != "1":
                if time.time() > deadline:
                    raise Fail("the table lock was not taken")
                time.sleep(0.1)
            truncate(port, "live")
            t0 = time.time()
            st, _, body = tile(port, "live", Z, TX, TY)
            took = time.time() - t0
            check(st == 502 and b"statement timeout" in body and took < 7,
                  "a query blocked by a lock is cancelled by query_timeout: %d after %.1f s (%s)"
                  % (st, took, body[:160].decode(errors="replace")))
            # the next render of that table fails at once while it is locked (each had
            # waited out query_timeout in turn, a map's tiles one after another)
            t0 = time.time()
            st, _, body = tile(port, "live", Z, TX + 4, TY)
            took = time.time() - t0
            check(st == 502 and took < 1 and b"tried again" in body,
                  "the next render of the locked table fails at once (%d after %.1f s: %s)"
                  % (st, took, body[:200]))
            # GetFeatureInfo of the loaded layer reads the attributes back through OGR:
            # its statements give up after 5 s (they had waited for the lock, on an HTTP
            # thread) and the attributes in memory are answered
            t0 = time.time()
            fi = info("pg_loaded")
            took = time.time() - t0
            check(len(fi) == 1 and took < 8.5, "GetFeatureInfo of a loaded PostGIS layer whose "
                  "table is locked answers after %.1f s (%s)" % (took, fi))
        finally:
            locker.wait(30)

        # 3. the database stopped: 5xx at once, the server keeps serving what it can
        truncate(port, "live")
        st, _, cur = tile(port, "live", Z, TX, TY)
        check(st == 200, "the tile of the current data (%d)" % st)
        pg.stop()
        truncate(port, "live")
        t0 = time.time()
        st, _, body = tile(port, "live", Z, TX, TY)
        took = time.time() - t0
        check(500 <= st < 600, "database down: the PostGIS tile answers %d (%s) after %.1f s"
              % (st, body[:160].decode(errors="replace"), took))
        st, h, body = getmap(port, "pg_parcels", "EPSG:3857", WMS_BOX_3857)
        check(b"ServiceException" in body and h.get("content-type", "").find("xml") >= 0,
              "database down: WMS GetMap answers an OGC exception (%d)" % st)
        st, _, g2 = tile(port, "gpkg", 15, TX >> 1, TY >> 1)
        check(st == 200, "database down: GeoPackage tiles still render (%d)" % st)
        st, _, hb = get(port, "/health")
        hj = json.loads(hb)
        check(st == 200 and hj["status"] == "degraded" and not hj["postgis"]["ok"] and
              hj["postgis"]["errors"] > 0 and "pg_parcels" in hj["postgis"]["error"],
              "database down: /health says degraded, with the error counted (%s)"
              % hj.get("postgis"))
        text = open(log).read()
        check("PostGIS" in text and ("unreachable" in text or "query failed" in text),
              "the database error is logged")
        check(server.poll() is None, "the server survives")

        # 4. the database back: tiles render again (connections reopened)
        pg.start()
        deadline = time.time() + 20
        while True:
            st, _, again = tile(port, "live", Z, TX, TY)
            if st == 200 or time.time() > deadline:
                break
            time.sleep(0.3)
        check(st == 200, "database restarted: the PostGIS tile renders again (%d)" % st)
        nc, _ = differing(cur, again, tol=0)
        check(nc == 0, "and shows the current data (%d pixels differ)" % nc)
        hj = json.loads(get(port, "/health")[2])
        check(hj["status"] == "ok" and hj["postgis"]["ok"] and hj["postgis"]["queries"] > 0,
              "/health is ok again (%s)" % hj.get("postgis"))
        st, _, l = getmap(port, "pg_parcels,pg_buildings,pg_streets", "EPSG:3857", WMS_BOX_3857)
        check(st == 200 and l[:4] == b"\x89PNG", "database restarted: WMS GetMap renders (%d)"
              % st)

        # 4b. the database hung (every process stopped: as a server cut off by a firewall
        # after the connections were made, or frozen): the render threads' queries end
        # after query_timeout + 2 s, not never; then the server counts as unreachable and
        # renders fail at once, one thread at a time tries it again, and other tilesets
        # render meanwhile; once it runs again, tiles render again
        truncate(port, "live")
        pids = pg.pids()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            answers = []

            def hung_tile(x):
                t0 = time.time()
                try:
                    st, _, body = get(port, "/tiles/live/%d/%d/%d.png" % (Z, x, TY), timeout=40)
                except OSError as e:
                    st, body = 0, str(e).encode()
                answers.append((st, time.time() - t0, body[:200]))

            # two metatiles at once wait on the frozen server; renders that query a
            # database run on one render thread of the two, so a GeoPackage tile asked
            # meanwhile is drawn on the other (both had waited: 4 s for a file's tile)
            threads = [threading.Thread(target=hung_tile, args=(x,)) for x in (TX, TX + 4)]
            for t in threads:
                t.start()
            time.sleep(0.5)
            t0 = time.time()
            st, _, _ = tile(port, "gpkg", 15, (TX >> 1) + 4, TY >> 1)
            took = time.time() - t0
            check(st == 200 and took < 2, "database hung: a GeoPackage tile renders while "
                  "PostGIS renders wait (%d after %.1f s)" % (st, took))
            for t in threads:
                t.join(60)
            check(len(answers) == 2 and all(500 <= st < 600 and took < 13 for st, took, _ in
                                            answers),
                  "database hung: the renders waiting on it fail after query_timeout + 2 s (%s)"
                  % answers)
            check(any(b"no answer from the server within 4 s" in b for _, _, b in answers),
                  "and say why (%s)" % answers)
            # (the first may be the one try of the server, if a second has passed)
            for x in (TX + 8, TX + 12):
                t0 = time.time()
                st, _, body = tile(port, "live", Z, x, TY)
                took = time.time() - t0
                if took < 1.5:
                    break
            check(500 <= st < 600 and took < 1.5 and b"tried again" in body,
                  "database hung: the next PostGIS render fails at once (%d after %.1f s: %s)"
                  % (st, took, body[:200].decode(errors="replace")))
            t0 = time.time()
            st, _, _ = tile(port, "gpkg", 15, (TX >> 1) + 2, TY >> 1)
            took = time.time() - t0
            check(st == 200 and took < 3, "database hung: GeoPackage tiles render meanwhile "
                  "(%d after %.1f s)" % (st, took))
            # GetFeatureInfo of a layer loaded from PostGIS reads the attributes back from
            # the database: it gives up after the connect timeout and answers those in
            # memory (it had waited for good, on an HTTP thread)
            t0 = time.time()
            fi = info("pg_loaded")
            took = time.time() - t0
            check(len(fi) == 1 and fi[0]["bbox"] == fg[0]["bbox"]
                  and fi[0]["properties"].get("zaehler") == fg[0]["properties"]["zaehler"]
                  and took < 9,
                  "database hung: GetFeatureInfo of a loaded PostGIS layer answers after %.1f s"
                  " (%s against %s)" % (took, fi, fg))
            # and the next ones at once: the server is known to be failing (each had waited
            # its own 5 s, on an HTTP thread, with /health waiting behind them)
            t0 = time.time()
            fi = info("pg_loaded")
            took = time.time() - t0
            check(len(fi) == 1 and took < 1.5, "database hung: the next GetFeatureInfo of a "
                  "loaded PostGIS layer answers at once (%.1f s)" % took)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        deadline = time.time() + 30
        while True:
            st, _, again = tile(port, "live", Z, TX, TY)
            if st == 200 or time.time() > deadline:
                break
            time.sleep(0.3)
        check(st == 200 and differing(cur, again, tol=0)[0] == 0,
              "database running again: the PostGIS tile renders the current data (%d)" % st)

        # a table re-imported in another CRS while the server runs: its query's box (in
        # the CRS read at start) matches nothing; the renders fail saying so, rather than
        # draw the layer empty and cache that (blank buildings, /health ok)
        pg.sql("ALTER TABLE buildings ALTER COLUMN geom TYPE geometry(Geometry, 4326) "
               "USING ST_Transform(geom, 4326)")
        truncate(port, "live")
        st, _, body = tile(port, "live", Z, TX, TY)
        check(st == 502 and b"SRID of public.buildings.geom is 4326 now, 25832" in body,
              "a changed SRID fails the render, naming it (%d %s)" % (st, body[:200]))
        pg.sql("ALTER TABLE buildings ALTER COLUMN geom TYPE geometry(Geometry, 25832) "
               "USING ST_Transform(geom, 25832)")
        st, _, back = tile(port, "live", Z, TX, TY)
        check(st == 200, "the SRID back as it was: the tile renders (%d)" % st)
        # (the coordinates went through EPSG:4326 and back: equal to a millimetre)
        same_image(cur, back, "the SRID back as it was: the tile as before")
        cur = back

        # a seed waits for a database away for a moment: only the metatiles whose queries
        # were in flight fail (every queued one had failed at once during the back-off)
        seed_dir = os.path.join(tmp, "seed-out")
        sp = subprocess.Popen([os.path.abspath(a.binary), "seed", "-c", cfg, "--tileset", "live", "--zoom",
                               "15-18", "--bbox", "6.74,51.20,6.80,51.26", "--threads", "2",
                               "--to", seed_dir], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=tmp)
        time.sleep(0.5)
        frozen = pg.pids()
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        time.sleep(6)  # longer than query_timeout + 2 s: the queries in flight get no answer
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
        sout, serr = sp.communicate(timeout=300)
        m = re.search(r"(?:done|finished with failures) in ([\d.]+) s: (\d+) tiles rendered, "
                      r"\d+ fresh tiles skipped, (\d+) failed", sout + serr)
        check(m is not None and float(m.group(1)) > 6 and int(m.group(3)) <= 2 * 16 and
              int(m.group(2)) > 100,
              "a seed across a 6 s database freeze fails only the metatiles in flight (%s)"
              % (m.group(0) if m else (sout + serr)[-500:]))

        # a reload (SIGHUP) describes the tables again; renders go on over the connections
        # the workers keep
        server.send_signal(signal.SIGHUP)
        deadline = time.time() + 60
        while open(log).read().count("reload done") < 1 and time.time() < deadline:
            time.sleep(0.1)
        check("reload done" in open(log).read(), "SIGHUP reload with per-request layers")
        truncate(port, "live")
        st, _, rel = tile(port, "live", Z, TX, TY)
        check(st == 200 and differing(cur, rel, tol=0)[0] == 0,
              "after the reload the tile renders the same (%d)" % st)

        # a table with a second geometry column: 'geometry:' picks it, a wrong name is
        # refused naming the table
        pg.sql("ALTER TABLE parcels ADD COLUMN centre geometry(Point, 25832)")
        pg.sql("UPDATE parcels SET centre = ST_PointOnSurface(geom)")
        for gcol, want in (("centre", 0), ("nope", 1)):
            gcfg = os.path.join(tmp, "geometry_%s.yaml" % gcol)
            with open(gcfg, "w") as f:
                f.write("sources:\n  pg: {path: \"PG:%s\", mode: per_request}\nlayers:\n"
                        "  centres: {source: pg, table: parcels, geometry: %s, style: %s}\n"
                        "tilesets:\n  c: {layers: [centres]}\n"
                        % (pg.conninfo(), gcol, os.path.join(a.srcdir, "styles", "parking.sld")))
            r = subprocess.run([a.binary, "check", "-c", gcfg], capture_output=True, text=True,
                               timeout=120)
            check(r.returncode == want and
                  (want == 0 or "no table 'parcels' with a geometry column 'nope'" in r.stderr),
                  "per_request layer with geometry: %s: exit %d (%s)"
                  % (gcol, r.returncode, r.stderr[-300:]))

        # a password in the PG: string is never shown: `check` (as /health, HTTP bodies and
        # the log, which get the same messages) says password=***; libpq's multi-line
        # message stays on one log line
        for mode in ("load", "per_request"):
            scfg = os.path.join(tmp, "secret_%s.yaml" % mode)
            with open(scfg, "w") as f:
                f.write("sources:\n  pg: {path: \"PG:host=127.0.0.1 port=1 dbname=demo user=x "
                        "password=Geheim-PG-Passw0rd\", mode: %s}\nlayers:\n"
                        "  p: {source: pg, table: parcels, style: %s}\n"
                        "tilesets:\n  c: {layers: [p]}\n"
                        % (mode, os.path.join(a.srcdir, "styles", "parking.sld")))
            r = subprocess.run([a.binary, "check", "-c", scfg], capture_output=True, text=True,
                               timeout=120)
            check(r.returncode != 0 and "Geheim" not in r.stderr + r.stdout and
                  ("password=***" in r.stderr or mode == "per_request") and
                  not any(l.startswith("connection to server") for l in r.stderr.splitlines()),
                  "%s: the PG: password is not shown (%s)" % (mode, r.stderr[-400:]))

        # a postgres:// URI (libpq takes it, GDAL only postgresql://) works in load mode too
        ucfg = os.path.join(tmp, "uri.yaml")
        with open(ucfg, "w") as f:
            f.write("sources:\n  pg: {path: \"PG:postgres://postgres@127.0.0.1:%d/demo\"}\n"
                    "layers:\n  p: {source: pg, table: parcels, style: %s}\n"
                    "tilesets:\n  c: {layers: [p]}\n"
                    % (pg.port, os.path.join(a.srcdir, "styles", "alkis_parcels.sld")))
        r = subprocess.run([a.binary, "check", "-c", ucfg], capture_output=True, text=True,
                           timeout=120)
        check(r.returncode == 0, "a load-mode PG:postgres:// source loads (%s)" % r.stderr[-300:])

        # without `geometry:` the table's first geometry column is drawn (as a load takes
        # it), not the first by name ('centre' < 'geom'), and the log says so
        ncfg = os.path.join(tmp, "geometry_none.yaml")
        with open(ncfg, "w") as f:
            f.write("sources:\n  pg: {path: \"PG:%s\", mode: per_request}\nlayers:\n"
                    "  p: {source: pg, table: parcels, style: %s}\n"
                    "tilesets:\n  c: {layers: [p]}\n"
                    % (pg.conninfo(), os.path.join(a.srcdir, "styles", "alkis_parcels.sld")))
        r = subprocess.run([a.binary, "check", "-c", ncfg], capture_output=True, text=True,
                           timeout=120)
        check(r.returncode == 0 and "has 2 geometry columns, drawing 'geom'" in r.stderr,
              "per_request layer of a table with two geometry columns draws the first (%s)"
              % r.stderr[-400:])

        # one render thread with per-request layers: said at start (file tilesets would
        # wait behind database renders)
        one_log = os.path.join(tmp, "one-thread.log")
        with open(one_log, "w") as lf:
            one = subprocess.Popen([a.binary, "serve", "-c", cfg, "--listen",
                                    "127.0.0.1:%d" % free_port(), "--threads", "1"],
                                   stdout=lf, stderr=lf)
        try:
            deadline = time.time() + 60
            while "serving on" not in open(one_log).read() and time.time() < deadline:
                if one.poll() is not None:
                    break
                time.sleep(0.1)
            check("one render thread" in open(one_log).read(),
                  "one render thread with PostGIS layers is warned about")
        finally:
            one.send_signal(signal.SIGTERM)
            one.wait(60)

        # 5. a clean stop
        server.send_signal(signal.SIGTERM)
        rc = server.wait(60)
        text = open(log).read()
        check(rc == 0 and "Sanitizer" not in text and "runtime error" not in text,
              "tilesrv stops cleanly (exit %d)" % rc)
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
        pg.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--srcdir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tilesrv-postgis-")
    pgroot = tempfile.mkdtemp(prefix="tilesrv-pg-")
    try:
        run(a, tmp, pgroot)
    except Fail as e:
        print("FAIL: %s" % e, flush=True)
        for p in (os.path.join(tmp, "tilesrv.log"), os.path.join(pgroot, "postgres.log")):
            if os.path.exists(p):
                print("---- %s (end) ----\n%s" % (p, open(p, errors="replace").read()[-4000:]))
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(pgroot, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
