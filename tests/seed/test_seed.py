#!/usr/bin/env python3
"""End-to-end tests of `tilesrv seed` and `tilesrv truncate` on the demo data.

Usage: test_seed.py --binary build/tilesrv [--srcdir .]
Standard library only (plus the gdalinfo and sqlite3 programs when present). Each test is a
function test_*; failures are collected and the script exits non-zero if any failed.

What is shown:
- a seed into a disk cache and into MBTiles: every tile there, every PNG decodes, blank
  tiles stored once in MBTiles, GDAL's MBTiles driver opens and reads the file;
- kill -9 in the middle of a seed, then --resume: no tile missing or cut, and the resumed
  run renders exactly the tiles that were not yet on disk (work is not redone);
- SIGINT: a clean stop (exit 5), progress saved, --resume finishes;
- a full disk (a small tmpfs when we may mount one, else a file-size limit): the seed stops
  with exit 4 and a clear message, and no partial tile is left;
- truncate by zoom, bbox and age; a damaged tile in the cache is re-rendered, not served;
- a coverage (a GeoJSON triangle in EPSG:25832): seed and truncate touch exactly the tiles
  that meet it (expected tiles from GDAL's ogr Intersects; needs osgeo, as /usr/bin/python3
  has), also cut by a bbox and for vector tiles; --resume with another coverage is refused;
- a bbox in EPSG:25832 seeds the tiles of its densified lon/lat envelope;
- usage errors (also a missing file, layer or polygon in --coverage) give exit 2.
"""
import argparse
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zlib

ARGS = None
TMP = None
SMALL_BBOX = "6.765,51.222,6.78,51.232"      # around lon 6.77, lat 51.227
MID_BBOX = "6.75,51.215,6.80,51.24"          # a few thousand tiles at z12-18
SUMMARY = re.compile(r"(\d+) tiles rendered, (\d+) fresh tiles skipped, (\d+) failed")
TOTAL = re.compile(r"seed \S+ z\d+-\d+: (\d+) tiles")


# ---- helpers ---------------------------------------------------------------------------------

def config(name, cache_yaml):
    """A config on the demo data with the cadastre tileset cached as cache_yaml says."""
    demo = os.path.join(ARGS.srcdir, "data", "demo")
    styles = os.path.join(ARGS.srcdir, "styles")
    text = f"""
sources:
  demo: {{path: "{demo}/duesseldorf_demo.gpkg"}}
layers:
  parcels: {{source: demo, table: parcels, style: "{styles}/parcels.sld"}}
  buildings: {{source: demo, table: buildings, style: "{styles}/buildings.sld"}}
  streets: {{source: demo, table: streets, style: "{styles}/streets.sld"}}
tilesets:
  cadastre:
    layers: [parcels, buildings, streets]
    background: "#dedad2"
    cache: {cache_yaml}
"""
    path = os.path.join(TMP, name + ".yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def run(args, timeout=300, preexec=None):
    p = subprocess.run([ARGS.binary] + args, capture_output=True, text=True, timeout=timeout,
                       preexec_fn=preexec, cwd=TMP)
    return p.returncode, p.stdout, p.stderr


def summary(out):
    m = SUMMARY.search(out)
    assert m, "no summary in output:\n" + out
    return tuple(int(v) for v in m.groups())


def png_problem(data):
    """None if data is a whole PNG that inflates to the size its header says, else why not."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return "no PNG signature"
    pos, idat, ihdr = 8, [], None
    while True:
        if pos + 12 > len(data):
            return "cut inside a chunk header"
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length or pos + 12 + length > len(data):
            return "cut inside chunk %r" % ctype
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        if zlib.crc32(ctype + body) & 0xffffffff != crc:
            return "bad CRC in chunk %r" % ctype
        pos += 12 + length
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if pos != len(data):
        return "bytes after IEND"
    if ihdr is None:
        return "no IHDR"
    w, h, depth, colour, _, _, interlace = ihdr
    if interlace:
        return None  # not produced by tilesrv; structure checked above
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour)
    if channels is None:
        return "bad colour type"
    stride = (w * depth * channels + 7) // 8
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as e:
        return "IDAT does not inflate: %s" % e
    if len(raw) != h * (stride + 1):
        return "inflates to %d bytes, %dx%d needs %d" % (len(raw), w, h, h * (stride + 1))
    if any(raw[y * (stride + 1)] > 4 for y in range(h)):
        return "bad row filter"
    return None


def tree_files(root):
    tiles, temps = [], []
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if f.endswith(".tmp"):
                temps.append(p)
            elif f.endswith(".png"):
                tiles.append(p)
    return tiles, temps


def check_pngs(paths):
    bad = []
    for p in paths:
        with open(p, "rb") as f:
            why = png_problem(f.read())
        if why:
            bad.append("%s: %s" % (p, why))
    assert not bad, "%d damaged tiles, e.g. %s" % (len(bad), bad[:3])


# ---- tests -----------------------------------------------------------------------------------

def test_seed_disk_cache_every_tile_decodes():
    cache = os.path.join(TMP, "disk1")
    cfg = config("disk1", '{type: disk, path: "%s", layout: tc}' % cache)
    rc, out, err = run(["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "12-16",
                        "--bbox", SMALL_BBOX, "--threads", "2", "--progress-file", "p1"])
    assert rc == 0, "exit %d\n%s%s" % (rc, out, err)
    total = int(TOTAL.search(err).group(1))
    rendered, skipped, failed = summary(out)
    assert (rendered, skipped, failed) == (total, 0, 0), out
    tiles, temps = tree_files(cache)
    assert len(tiles) == total and not temps, (len(tiles), total, temps)
    check_pngs(tiles)
    # MapProxy tc layout: zz/xxx/xxx/xxx/yyy/yyy/yyy.png
    rel = os.path.relpath(tiles[0], os.path.join(cache, "WebMercatorQuad"))
    assert re.fullmatch(r"\d\d/\d{3}/\d{3}/\d{3}/\d{3}/\d{3}/\d{3}\.png", rel), rel
    # a second run finds everything fresh
    rc, out, err = run(["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "12-16",
                        "--bbox", SMALL_BBOX, "--progress-file", "p1"])
    assert rc == 0 and summary(out) == (0, total, 0), out + err


def test_seed_mbtiles_standalone_gdal_reads_it():
    mb = os.path.join(TMP, "demo.mbtiles")
    rc, out, err = run(["seed", "--tileset", "cadastre", "--zoom", "12-16", "--bbox", SMALL_BBOX,
                        "--to", mb, "--threads", "2", "--progress-file", "p2"])
    assert rc == 0, "exit %d\n%s%s" % (rc, out, err)
    total = int(TOTAL.search(err).group(1))
    assert summary(out) == (total, 0, 0), out
    import sqlite3
    db = sqlite3.connect(mb)
    rows = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles").fetchall()
    assert len(rows) == total, (len(rows), total)
    for z, x, y, data in rows:
        why = png_problem(bytes(data))
        assert why is None, "tile %d/%d/%d: %s" % (z, x, y, why)
    nimages = db.execute("SELECT count(*) FROM images").fetchone()[0]
    meta = dict(db.execute("SELECT name, value FROM metadata").fetchall())
    db.close()
    assert nimages <= total, (nimages, total)
    for k in ("name", "format", "bounds", "center", "minzoom", "maxzoom", "type"):
        assert k in meta, "metadata %s missing: %r" % (k, meta)
    assert meta["format"] == "png" and meta["minzoom"] == "12" and meta["maxzoom"] == "16", meta
    west, south, east, north = (float(v) for v in meta["bounds"].split(","))
    assert abs(west - 6.765) < 1e-6 and abs(north - 51.232) < 1e-6, meta["bounds"]
    if shutil.which("gdalinfo") is None:
        print("    (gdalinfo not installed: GDAL check skipped)")
        return
    p = subprocess.run(["gdalinfo", "-checksum", mb], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Driver: MBTiles/MBTiles" in p.stdout, p.stdout
    assert "Checksum=" in p.stdout and "ERROR" not in p.stderr, p.stdout + p.stderr


def test_mbtiles_cache_metadata_says_the_zooms_stored_and_gdal_opens_it():
    """A tileset's MBTiles cache (its range reaches 24) seeded at 15-16: minzoom and maxzoom
    say 15 and 16, and GDAL opens the file (it refuses a maxzoom beyond 22: the cache said
    the tileset's 0-24)."""
    mb = os.path.join(TMP, "cache24.mbtiles")
    cfg = config("cache24", '{type: mbtiles, path: "%s"}' % mb)
    rc, out, err = run(["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "15-16",
                        "--bbox", SMALL_BBOX, "--threads", "2", "--progress-file", "p24"])
    assert rc == 0, "exit %d\n%s%s" % (rc, out, err)
    import sqlite3
    db = sqlite3.connect(mb)
    meta = dict(db.execute("SELECT name, value FROM metadata").fetchall())
    db.close()
    assert meta["minzoom"] == "15" and meta["maxzoom"] == "16", meta
    if shutil.which("gdalinfo") is None:
        print("    (gdalinfo not installed: GDAL check skipped)")
        return
    p = subprocess.run(["gdalinfo", mb], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "Driver: MBTiles/MBTiles" in p.stdout, p.stdout + p.stderr


def test_seed_and_render_read_only_the_tileset_they_work_on():
    """seed and render load the data of their tileset alone: another tileset whose table
    is gone from its source does not stop them (they read every tileset's data before)."""
    path = config("two_tilesets", "{type: memory}")
    with open(path, "a") as f:
        f.write("  other:\n    layers: [gone]\n")
    text = open(path).read().replace(
        "layers:\n  parcels:",
        "layers:\n  gone: {source: demo, table: no_such_table, style: \"%s\"}\n  parcels:"
        % os.path.join(ARGS.srcdir, "styles", "parcels.sld"), 1)
    with open(path, "w") as f:
        f.write(text)
    rc, out, err = run(["-c", path, "check"])
    assert rc == 1 and "no_such_table" in err, (rc, err)  # check still reads everything
    mb = os.path.join(TMP, "only.mbtiles")
    rc, out, err = run(["-c", path, "seed", "--tileset", "cadastre", "--zoom", "12-13",
                        "--bbox", SMALL_BBOX, "--to", mb, "--progress-file", "p_only"])
    assert rc == 0, "exit %d\n%s%s" % (rc, out, err)
    assert "no_such_table" not in err, err
    rc, out, err = run(["-c", path, "render", "--tileset", "cadastre", "14/8504/5466",
                        "-o", os.path.join(TMP, "only.png")])
    assert rc == 0, "exit %d\n%s" % (rc, err)


def test_kill_9_then_resume_redoes_nothing():
    cache = os.path.join(TMP, "disk_kill")
    cfg = config("kill", '{type: disk, path: "%s"}' % cache)
    args = ["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "12-18", "--bbox", MID_BBOX,
            "--threads", "2", "--progress-file", "pk"]
    errlog = open(os.path.join(TMP, "kill.log"), "w+")
    proc = subprocess.Popen([ARGS.binary] + args, stdout=subprocess.PIPE, stderr=errlog,
                            text=True, cwd=TMP)
    deadline = time.time() + 300
    killed_at = None
    while time.time() < deadline and proc.poll() is None:
        tiles, _ = tree_files(cache)
        if len(tiles) >= 250:
            proc.send_signal(signal.SIGKILL)
            killed_at = len(tiles)
            break
        time.sleep(0.02)
    proc.wait()
    errlog.seek(0)
    log = errlog.read()
    assert killed_at is not None, "the seed ended before it could be killed:\n" + log
    assert proc.returncode == -signal.SIGKILL
    total = int(TOTAL.search(log).group(1))
    tiles, temps = tree_files(cache)
    present = len(tiles)
    assert 0 < present < total, (present, total)
    check_pngs(tiles)          # nothing cut, even though the writer was killed mid-tile
    rc, out, err = run(args + ["--resume"])
    assert rc == 0, "exit %d\n%s%s" % (rc, out, err)
    assert "resumed at level" in out, out
    rendered, skipped, failed = summary(out)
    tiles, temps_after = tree_files(cache)
    assert len(tiles) == total, "missing tiles: %d of %d" % (len(tiles), total)
    check_pngs(tiles)
    # exactly the tiles that were missing were rendered again; none twice
    assert rendered == total - present, (rendered, total, present)
    assert failed == 0
    print("    killed with %d of %d tiles on disk; the resumed run rendered %d, skipped %d "
          "(%d leftover temporary file(s) of the killed writer)"
          % (present, total, rendered, skipped, len(temps_after)))


def test_sigint_stops_cleanly_and_resume_finishes():
    cache = os.path.join(TMP, "disk_int")
    cfg = config("int", '{type: disk, path: "%s"}' % cache)
    args = ["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "12-18", "--bbox", MID_BBOX,
            "--threads", "2", "--progress-file", "pi"]
    proc = subprocess.Popen([ARGS.binary] + args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=TMP)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if len(tree_files(cache)[0]) >= 200:
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.02)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 5, "exit %s\n%s%s" % (proc.returncode, out, err)
    assert "interrupted" in err and "--resume" in err, err
    with open(os.path.join(TMP, "pi")) as f:
        progress = f.read()
    assert "status interrupted" in progress, progress
    total = int(TOTAL.search(err).group(1))
    r1 = summary(out)[0]
    tiles, temps = tree_files(cache)
    assert len(tiles) == r1 and not temps, (len(tiles), r1, temps)
    rc, out, err = run(args + ["--resume"])
    assert rc == 0, out + err
    r2 = summary(out)[0]
    assert r1 + r2 == total, (r1, r2, total)
    assert len(tree_files(cache)[0]) == total


def test_sighup_does_not_end_a_seed():
    """`kill -HUP $(pidof tilesrv)` (a reload of the server) names running seeds too: a
    seed had died of it (exit 129, its progress file left 'running'). It goes on, says why,
    and finishes every tile."""
    cache = os.path.join(TMP, "disk_hup")
    cfg = config("hup", '{type: disk, path: "%s"}' % cache)
    args = ["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "12-17", "--bbox", MID_BBOX,
            "--threads", "2", "--progress-file", "ph"]
    proc = subprocess.Popen([ARGS.binary] + args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=TMP)
    deadline = time.time() + 300
    sent = False
    while time.time() < deadline and proc.poll() is None:
        if len(tree_files(cache)[0]) >= 50:
            proc.send_signal(signal.SIGHUP)
            sent = True
            break
        time.sleep(0.02)
    out, err = proc.communicate(timeout=300)
    assert sent, "the seed ended before the signal"
    assert proc.returncode == 0, "exit %s\n%s%s" % (proc.returncode, out, err)
    assert "SIGHUP ignored" in err, err[-500:]
    total = int(TOTAL.search(err).group(1))
    assert summary(out)[0] == total and len(tree_files(cache)[0]) == total


def test_export_seed_keeps_its_own_progress_file():
    """A seed into another file (--to) keeps its progress apart from the seed of the
    tileset's cache: an export had overwritten an interrupted seed's progress file, whose
    --resume was then refused as another seed's."""
    work = tempfile.mkdtemp(dir=TMP)
    cache = os.path.join(work, "cache")
    cfg = config("own_progress", '{type: disk, path: "%s"}' % cache)
    base = ["seed", "-c", cfg, "--tileset", "cadastre", "--bbox", SMALL_BBOX, "--threads", "2"]
    for extra in (["--zoom", "12-14"], ["--zoom", "12", "--to", os.path.join(work, "x.mbtiles")]):
        p = subprocess.run([ARGS.binary] + base + extra, capture_output=True, text=True,
                           timeout=300, cwd=work)
        assert p.returncode == 0, p.stdout + p.stderr
    files = sorted(f for f in os.listdir(work) if f.endswith(".progress"))
    assert files == [".tilesrv-seed-cadastre-to-x.mbtiles.progress",
                     ".tilesrv-seed-cadastre.progress"], files
    p = subprocess.run([ARGS.binary] + base + ["--zoom", "12-14", "--resume"],
                       capture_output=True, text=True, timeout=300, cwd=work)
    assert p.returncode == 0 and "belongs to another seed" not in p.stderr, p.stdout + p.stderr


def mount_tmpfs(path, size):
    if os.geteuid() != 0 or shutil.which("mount") is None or os.environ.get("TS_TEST_NO_TMPFS"):
        return False
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                       capture_output=True)
    return p.returncode == 0


def test_disk_full_stops_with_a_clear_error_and_no_partial_tile():
    cache = os.path.join(TMP, "full")
    os.makedirs(cache)
    mounted = mount_tmpfs(cache, "1m")
    preexec = None
    if mounted:
        how = "a 1 MiB tmpfs"
    else:
        # Not root (or no mount): a file-size limit gives EFBIG at the same place in write().
        how = "RLIMIT_FSIZE (no tmpfs: not root or mount refused)"

        def preexec():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (20000, resource.RLIM_INFINITY))
    print("    disk full by " + how)
    try:
        cfg = config("full", '{type: disk, path: "%s"}' % cache)
        rc, out, err = run(["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "12-18",
                            "--bbox", MID_BBOX, "--threads", "2",
                            "--progress-file", os.path.join(TMP, "pf")], preexec=preexec)
        assert rc == 4, "exit %d\n%s%s" % (rc, out, err)
        assert "cache cannot be written" in err and "full" in err, err
        assert ("No space left on device" in err) or ("File too large" in err), err
        tiles, temps = tree_files(cache)
        assert not temps, "partial temporary files left: %s" % temps[:3]
        check_pngs(tiles)
        with open(os.path.join(TMP, "pf")) as f:
            assert "status storage" in f.read()
    finally:
        if mounted:
            subprocess.run(["umount", cache])


def test_truncate_by_zoom_bbox_and_age():
    cache = os.path.join(TMP, "disk_trunc")
    cfg = config("trunc", '{type: disk, path: "%s", layout: tms}' % cache)
    rc, out, err = run(["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "12-16",
                        "--bbox", SMALL_BBOX, "--progress-file", "pt"])
    assert rc == 0, out + err
    total = summary(out)[0]
    z16 = len(os.listdir(os.path.join(cache, "WebMercatorQuad", "16")))
    assert z16 > 0
    rc, out, err = run(["truncate", "-c", cfg, "--tileset", "cadastre", "--older-than", "1h"])
    assert rc == 0 and "0 tiles removed" in out, out + err
    rc, out, err = run(["truncate", "-c", cfg, "--tileset", "cadastre", "--zoom", "16",
                        "--bbox", "6.765,51.222,6.77,51.226"])
    assert rc == 0, out + err
    n1 = int(re.search(r"(\d+) tiles removed", out).group(1))
    assert n1 > 0
    rc, out, err = run(["truncate", "-c", cfg, "--tileset", "cadastre", "--zoom", "12-16"])
    assert rc == 0, out + err
    n2 = int(re.search(r"(\d+) tiles removed", out).group(1))
    assert n1 + n2 == total, (n1, n2, total)
    assert tree_files(cache)[0] == []


def test_truncate_does_not_follow_symbolic_links_out_of_the_cache():
    """A link planted in the cache (as a level, or a column) must not make a truncate,
    perhaps run as root, delete another tree's tiles: it had removed them, directories too."""
    cache = os.path.join(TMP, "disk_links")
    victim = os.path.join(TMP, "victim_tree")
    for d in ("100", "101"):
        os.makedirs(os.path.join(victim, d), exist_ok=True)
        for y in ("1", "2", "3"):
            with open(os.path.join(victim, d, y + ".png"), "wb") as f:
                f.write(b"not ours")
    cfg = config("links", '{type: disk, path: "%s", layout: tms}' % cache)
    rc, out, err = run(["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "14",
                        "--bbox", SMALL_BBOX, "--progress-file", "pl"])
    assert rc == 0, out + err
    base = os.path.join(cache, "WebMercatorQuad")
    os.symlink(victim, os.path.join(base, "19"))                 # a level
    col = sorted(os.listdir(os.path.join(base, "14")))[0]
    os.symlink(os.path.join(victim, "100"), os.path.join(base, "14", "99999"))  # a column
    rc, out, err = run(["truncate", "-c", cfg, "--tileset", "cadastre", "--zoom", "14-19"])
    assert rc == 0, out + err
    left = sorted(os.path.relpath(os.path.join(d, f), victim)
                  for d, _, fs in os.walk(victim) for f in fs)
    assert left == ["100/1.png", "100/2.png", "100/3.png", "101/1.png", "101/2.png",
                    "101/3.png"], left
    assert "not followed" in err, err[-500:]
    assert not os.path.exists(os.path.join(base, "14", col)), "the real tiles are removed"


# ---- coverages and bboxes in other CRSs ---------------------------------------------------

MERC = 20037508.342789244
# A triangle over the demo data in UTM 32N (EPSG:25832), around Düsseldorf's centre.
TRIANGLE_UTM = [(344000, 5676500), (346000, 5676700), (344800, 5678200)]
COVERAGE_ZOOMS = (12, 17)


def write_coverage(name, ring_utm, kind="Polygon"):
    """A GeoJSON file with one polygon (or point) in EPSG:25832."""
    if kind == "Polygon":
        geom = '{"type":"Polygon","coordinates":[[%s]]}' % ",".join(
            "[%r,%r]" % p for p in ring_utm + [ring_utm[0]])
    else:
        geom = '{"type":"Point","coordinates":[%r,%r]}' % ring_utm[0]
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write('{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":'
                '"urn:ogc:def:crs:EPSG::25832"}},"features":[{"type":"Feature","properties":{},'
                '"geometry":%s}]}' % geom)
    return path


def osgeo_or_skip():
    try:
        from osgeo import ogr, osr   # noqa: F401
        return True
    except ImportError:
        print("skip: this Python has no osgeo (GDAL bindings); ctest runs /usr/bin/python3")
        return False


def utm_to_merc():
    from osgeo import osr
    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromEPSG(25832)
    dst.ImportFromEPSG(3857)
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return osr.CoordinateTransformation(src, dst)


def expected_tiles(ring_utm, zooms):
    """Web Mercator tiles meeting the polygon (its vertices transformed, edges straight in
    Web Mercator as tilesrv takes them), by GEOS's Intersects on each tile shrunk by 1e-6 of
    its side; the same with tiles grown by 1e-6 must agree (no tile merely touches)."""
    from osgeo import ogr
    ct = utm_to_merc()
    pts = [ct.TransformPoint(x, y)[:2] for x, y in ring_utm]
    g = ogr.CreateGeometryFromWkt("POLYGON((%s))" % ",".join(
        "%r %r" % p for p in pts + [pts[0]]))
    minx, maxx, miny, maxy = g.GetEnvelope()
    out = set()
    for z in range(zooms[0], zooms[1] + 1):
        side = 2 * MERC / (1 << z)
        for x in range(int((minx + MERC) // side), int((maxx + MERC) // side) + 1):
            for y in range(int((MERC - maxy) // side), int((MERC - miny) // side) + 1):
                hits = []
                for eps in (1e-6, -1e-6):
                    x0, x1 = -MERC + (x + eps) * side, -MERC + (x + 1 - eps) * side
                    y1, y0 = MERC - (y + eps) * side, MERC - (y + 1 - eps) * side
                    t = ogr.CreateGeometryFromWkt(
                        "POLYGON((%r %r,%r %r,%r %r,%r %r,%r %r))"
                        % (x0, y0, x1, y0, x1, y1, x0, y1, x0, y0))
                    hits.append(t.Intersects(g))
                assert hits[0] == hits[1], "tile %d/%d/%d touches the polygon" % (z, x, y)
                if hits[0]:
                    out.add((z, x, y))
    return out


def xyz_tiles(root, ext=".png"):
    """(z, x, y) of the tiles in an xyz directory cache."""
    out = set()
    base = os.path.join(root, "WebMercatorQuad")
    for d, _, files in os.walk(base):
        for f in files:
            if f.endswith(ext):
                z, x = os.path.relpath(d, base).split(os.sep)
                out.add((int(z), int(x), int(f[:-len(ext)])))
    return out


def test_coverage_seeds_and_truncates_exactly_the_tiles_it_meets():
    if not osgeo_or_skip():
        return
    cov = write_coverage("triangle.geojson", TRIANGLE_UTM)
    expect = expected_tiles(TRIANGLE_UTM, COVERAGE_ZOOMS)
    zooms = "%d-%d" % COVERAGE_ZOOMS
    out_dir = os.path.join(TMP, "cov_disk")
    rc, out, err = run(["seed", "--tileset", "cadastre", "--zoom", zooms, "--coverage", cov,
                        "--to", out_dir, "--progress-file", "pc", "--threads", "2"])
    assert rc == 0, out + err
    assert int(TOTAL.search(err).group(1)) == len(expect), err
    assert summary(out) == (len(expect), 0, 0), out
    got = xyz_tiles(out_dir)
    assert got == expect, ("missing", sorted(expect - got)[:5], "extra", sorted(got - expect)[:5])
    # the triangle's bbox would hold many more tiles: the corners are left out
    rc, out, err = run(["seed", "--tileset", "cadastre", "--zoom", zooms,
                        "--bbox", "344000,5676500,346000,5678200,EPSG:25832",
                        "--to", out_dir, "--progress-file", "pc2"])
    assert rc == 0, out + err
    boxed = xyz_tiles(out_dir)
    assert boxed > expect and len(boxed) > len(expect) * 1.3, (len(boxed), len(expect))
    assert summary(out)[1] == len(expect), out      # the coverage's tiles were fresh
    # --resume with another coverage is refused
    other = write_coverage("other.geojson", [(344100, 5676500), (346000, 5676700),
                                             (344800, 5678200)])
    rc, out, err = run(["seed", "--tileset", "cadastre", "--zoom", zooms, "--coverage", other,
                        "--to", out_dir, "--progress-file", "pc", "--resume"])
    assert rc == 2 and "another seed" in err, out + err
    # truncate by the same coverage removes exactly its tiles
    rc, out, err = run(["truncate", "--tileset", "cadastre", "--zoom", zooms, "--coverage", cov,
                        "--to", out_dir])
    assert rc == 0, out + err
    assert "%d tiles removed" % len(expect) in out, out
    assert xyz_tiles(out_dir) == boxed - expect
    # a coverage cut by a bbox: the tiles meeting both
    rc, out, err = run(["truncate", "--tileset", "cadastre", "--zoom", zooms, "--to", out_dir])
    assert rc == 0, out + err
    rc, out, err = run(["seed", "--tileset", "cadastre", "--zoom", zooms, "--coverage", cov,
                        "--bbox", "6.76,51.2,6.775,51.25", "--to", out_dir,
                        "--progress-file", "pc3"])
    assert rc == 0, out + err
    cut = xyz_tiles(out_dir)
    assert cut and cut < expect, (len(cut), len(expect))


def test_coverage_vector_tiles_stay_inside_it():
    if not osgeo_or_skip():
        return
    cov = write_coverage("triangle_pbf.geojson", TRIANGLE_UTM)
    expect = expected_tiles(TRIANGLE_UTM, (12, 16))
    out_dir = os.path.join(TMP, "cov_pbf")
    rc, out, err = run(["seed", "--tileset", "cadastre", "--zoom", "12-16", "--coverage", cov,
                        "--format", "pbf", "--to", out_dir])
    assert rc == 0, out + err
    m = re.search(r"(\d+) tiles written, (\d+) without features, (\d+) failed", out)
    assert m, out
    written, empty, failed = (int(v) for v in m.groups())
    assert written + empty == len(expect) and failed == 0, (m.groups(), len(expect))
    got = xyz_tiles(out_dir, ".pbf")
    assert len(got) == written and got <= expect, (len(got), written, sorted(got - expect)[:5])


def densified_lonlat_envelope(minx, miny, maxx, maxy):
    """The lon/lat envelope of a UTM 32N bbox's outline, 32 points per edge."""
    from osgeo import osr
    src, dst = osr.SpatialReference(), osr.SpatialReference()
    src.ImportFromEPSG(25832)
    dst.ImportFromEPSG(4326)
    for s in (src, dst):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(src, dst)
    pts = []
    for i in range(32):
        t = i / 32
        w, h = maxx - minx, maxy - miny
        pts += [(minx + t * w, miny), (maxx, miny + t * h), (maxx - t * w, maxy),
                (minx, maxy - t * h)]
    ll = [ct.TransformPoint(x, y)[:2] for x, y in pts]
    return (min(p[0] for p in ll), min(p[1] for p in ll), max(p[0] for p in ll),
            max(p[1] for p in ll))


def test_bbox_in_utm_seeds_the_tiles_of_its_lonlat_envelope():
    if not osgeo_or_skip():
        return
    utm = (343500, 5676000, 346500, 5678500)
    ll = densified_lonlat_envelope(*utm)
    a, b = os.path.join(TMP, "bbox_utm"), os.path.join(TMP, "bbox_ll")
    rc, out, err = run(["seed", "--tileset", "cadastre", "--zoom", "12-16", "--bbox",
                        "%r,%r,%r,%r,EPSG:25832" % utm, "--to", a, "--progress-file", "pb1"])
    assert rc == 0, out + err
    rc, out, err = run(["seed", "--tileset", "cadastre", "--zoom", "12-16", "--bbox",
                        "%.12f,%.12f,%.12f,%.12f" % ll, "--to", b, "--progress-file", "pb2"])
    assert rc == 0, out + err
    ta, tb = xyz_tiles(a), xyz_tiles(b)
    assert ta and ta == tb, (len(ta), len(tb), sorted(ta ^ tb)[:5])
    # an unknown CRS is a usage error naming it
    rc, out, err = run(["seed", "--tileset", "cadastre", "--zoom", "12", "--bbox",
                        "1,2,3,4,EPSG:999999", "--to", a])
    assert rc == 2 and "EPSG:999999" in err, out + err


def test_bad_coverage_exits_2_naming_the_file():
    missing = os.path.join(TMP, "no-such-area.geojson")
    points = write_coverage("only-points.geojson", [(344000, 5676500)], kind="Point")
    tri = write_coverage("tri_bad.geojson", TRIANGLE_UTM)
    out_dir = os.path.join(TMP, "cov_bad")
    for cmd in ("seed", "truncate"):
        for spec, needle in ((missing, "no-such-area.geojson"),
                             (points, "only-points.geojson"),
                             (tri + ":nolayer", "nolayer")):
            args = [cmd, "--tileset", "cadastre", "--zoom", "12", "--coverage", spec,
                    "--to", out_dir]
            rc, out, err = run(args)
            assert rc == 2 and needle in err, (args, rc, out, err)
    # bbox and coverage that do not overlap
    rc, out, err = run(["seed", "--tileset", "cadastre", "--zoom", "12", "--coverage", tri,
                        "--bbox", "7.5,51.5,7.6,51.6", "--to", out_dir])
    assert rc == 2 and "do not overlap" in err, out + err


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_damaged_cached_tile_is_rerendered_not_served():
    cache = os.path.join(TMP, "disk_serve")
    cfg = config("serve", '{type: disk, path: "%s"}' % cache)
    rc, out, err = run(["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "16",
                        "--bbox", "6.770,51.226,6.771,51.227", "--progress-file", "ps"])
    assert rc == 0, out + err
    tiles, _ = tree_files(cache)
    assert tiles
    path = tiles[0]
    z, x, y = (int(v) for v in os.path.relpath(path, os.path.join(cache, "WebMercatorQuad"))
               [:-4].split("/"))
    with open(path, "rb") as f:
        good = f.read()
    with open(path, "wb") as f:
        f.write(good[:len(good) // 2])          # a tile cut in half
    port = free_port()
    log = open(os.path.join(TMP, "serve.log"), "w")
    proc = subprocess.Popen([ARGS.binary, "serve", "-c", cfg, "--listen", "127.0.0.1:%d" % port,
                             "--threads", "2"], stdout=log, stderr=log, cwd=TMP)
    try:
        body = None
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                c.request("GET", "/tiles/cadastre/%d/%d/%d.png" % (z, x, y))
                r = c.getresponse()
                body = r.read()
                c.close()
                assert r.status == 200, r.status
                break
            except OSError:
                time.sleep(0.1)
        assert body is not None, "server did not answer"
        assert png_problem(body) is None, png_problem(body)
        assert body == good, "the re-rendered tile differs from the seeded one"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    with open(path, "rb") as f:
        assert f.read() == good, "the damaged file was not replaced"
    with open(os.path.join(TMP, "serve.log")) as f:
        assert "damaged" in f.read()


def wait_health(port, proc, log):
    deadline = time.time() + 120
    while time.time() < deadline:
        assert proc.poll() is None, open(log).read()
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/health")
            ok = c.getresponse().status == 200
            c.close()
            if ok:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not come up")


def fetch(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    assert r.status == 200, (r.status, body[:200])
    return body


def test_a_server_on_old_files_does_not_undo_a_newer_seed():
    """A style edited while the server runs, then a seed: the seed writes tiles of the new
    style; the server, still on the old one, answers them as they are instead of drawing
    them over in its old style (which a directory cache would even have taken for fresh),
    says so in its log, and after a reload takes them as its own."""
    import sqlite3
    own = os.path.join(TMP, "own_styles")
    os.makedirs(own, exist_ok=True)
    for n in ("parcels", "buildings", "streets"):
        shutil.copy(os.path.join(ARGS.srcdir, "styles", n + ".sld"), own)
    mbt = os.path.join(TMP, "undo.mbtiles")
    cfg = config("undo", '{type: mbtiles, path: "%s"}' % mbt)
    with open(cfg) as f:
        text = f.read().replace(os.path.join(ARGS.srcdir, "styles"), own)
    with open(cfg, "w") as f:
        f.write(text)
    bbox = "6.770,51.226,6.771,51.227"
    rc, out, err = run(["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "16", "--bbox",
                        bbox, "--progress-file", "pu"])
    assert rc == 0 and summary(out)[0] > 0, out + err
    port = free_port()
    logp = os.path.join(TMP, "undo.log")
    log = open(logp, "w")
    proc = subprocess.Popen([ARGS.binary, "serve", "-c", cfg, "--listen", "127.0.0.1:%d" % port,
                             "--threads", "2"], stdout=log, stderr=log, cwd=TMP)
    try:
        wait_health(port, proc, logp)
        b = os.path.join(own, "buildings.sld")
        with open(b) as f:
            sld = f.read()
        assert "#bebbb7" in sld
        with open(b, "w") as f:
            f.write(sld.replace("#bebbb7", "#00ff00"))
        rc, out, err = run(["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "16", "--bbox",
                            bbox, "--progress-file", "pu2"])
        n = summary(out)[0]
        assert rc == 0 and n > 0, out + err
        db = sqlite3.connect(mbt)
        versions = db.execute("SELECT version, count(*) FROM map").fetchall()
        assert len(versions) == 1, versions
        z, x, row, seeded = db.execute(
            "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 1").fetchone()
        db.close()
        y = (1 << z) - 1 - row
        time.sleep(1.2)  # past the server's look at its files (once a second)
        for _ in range(3):
            body = fetch(port, "/tiles/cadastre/%d/%d/%d.png" % (z, x, y))
            assert body == seeded, "the server did not answer the seeded tile"
            time.sleep(0.5)
        db = sqlite3.connect(mbt)
        after = db.execute("SELECT version, count(*) FROM map").fetchall()
        db.close()
        assert after == versions, (versions, after)
        with open(logp) as f:
            assert "changed on disk since the configuration was loaded" in f.read()
        # reloaded: the seeded tiles are its own, fresh
        proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 60
        while time.time() < deadline:
            with open(logp) as f:
                if "reload" in f.read().split("changed on disk")[-1]:
                    break
            time.sleep(0.2)
        assert fetch(port, "/tiles/cadastre/%d/%d/%d.png" % (z, x, y)) == seeded
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def test_a_stale_tile_is_answered_without_a_client_lifetime():
    """After a reload with new styles the cached tiles are stale: answered at once while they
    render again (stale-while-revalidate), but with no-cache, so browsers ask again and get
    the new tile; they had kept the old one for max_age (an hour), and 304s prolonged it.
    A cache `expire` also bounds max-age (a tile older than that is stale anyway)."""
    import sqlite3
    own = os.path.join(TMP, "stale_styles")
    shutil.rmtree(own, ignore_errors=True)
    shutil.copytree(os.path.join(ARGS.srcdir, "styles"), own)
    mbt = os.path.join(TMP, "stale.mbtiles")
    cfg = config("stale", '{type: mbtiles, path: "%s", expire: 600}' % mbt)
    with open(cfg) as f:
        text = f.read().replace(os.path.join(ARGS.srcdir, "styles"), own)
    with open(cfg, "w") as f:
        f.write(text)
    bbox = "6.770,51.226,6.771,51.227"
    seeded_before = time.time()
    rc, out, err = run(["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "16", "--bbox",
                        bbox, "--progress-file", "pst"])
    assert rc == 0 and summary(out)[0] > 0, out + err
    db = sqlite3.connect(mbt)
    z, x, row = db.execute("SELECT zoom_level, tile_column, tile_row FROM tiles LIMIT 1").fetchone()
    db.close()
    path = "/tiles/cadastre/%d/%d/%d.png" % (z, x, (1 << z) - 1 - row)

    def head(port, extra=None):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", path, headers=extra or {})
        r = c.getresponse()
        r.read()
        c.close()
        return r.status, r.getheader("Cache-Control"), r.getheader("ETag")

    port = free_port()
    logp = os.path.join(TMP, "stale.log")
    log = open(logp, "w")
    proc = subprocess.Popen([ARGS.binary, "serve", "-c", cfg, "--listen", "127.0.0.1:%d" % port,
                             "--threads", "2"], stdout=log, stderr=log, cwd=TMP)
    try:
        wait_health(port, proc, logp)
        st, cc, old = head(port)
        # expire 600 < max_age 3600, and the tile was seeded some seconds ago: the time it has
        # left (a tile near its expiry had been kept by clients a whole max-age longer)
        age = time.time() - seeded_before
        m = re.match(r"public, max-age=(\d+)$", cc or "")
        assert st == 200 and m and 600 - age - 2 <= int(m.group(1)) <= 600, (cc, age)
        time.sleep(2.1)
        st, cc2, _ = head(port)  # from memory now, 2 s older
        m2 = re.match(r"public, max-age=(\d+)$", cc2 or "")
        assert st == 200 and m2 and int(m2.group(1)) <= int(m.group(1)) - 2, (cc, cc2)
        b = os.path.join(own, "buildings.sld")
        with open(b) as f:
            sld = f.read()
        with open(b, "w") as f:
            f.write(sld.replace("#bebbb7", "#00ff00"))
        proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 60
        while "reload done" not in open(logp).read() and time.time() < deadline:
            time.sleep(0.1)
        assert "reload done" in open(logp).read()
        deadline = time.time() + 30
        stale_answers = 0  # the first request gets the stale tile and starts its render
        while time.time() < deadline:
            st, cc, etag = head(port, {"If-None-Match": old})
            if etag == old:  # the old tile (200 or 304): never with a lifetime
                assert st in (200, 304) and cc == "no-cache", (st, cc)
                stale_answers += 1
            else:  # just drawn: the whole expire left (less the second it may have taken)
                m = re.match(r"public, max-age=(\d+)$", cc or "")
                assert st == 200 and m and 598 <= int(m.group(1)) <= 600, (st, cc)
                break
            time.sleep(0.05)
        assert etag != old, "the tile was not drawn again"
        assert stale_answers >= 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def test_health_says_when_the_files_changed_without_a_reload():
    """A server asked only for tiles it has in memory (or nothing at all) had said ok for as
    long as it was not reloaded after its files changed; /health looks at them itself now."""
    own = os.path.join(TMP, "health_styles")
    shutil.rmtree(own, ignore_errors=True)
    shutil.copytree(os.path.join(ARGS.srcdir, "styles"), own)
    cfg = config("healthfiles", '{type: mbtiles, path: "%s"}' % os.path.join(TMP, "hf.mbtiles"))
    with open(cfg) as f:
        text = f.read().replace(os.path.join(ARGS.srcdir, "styles"), own)
    with open(cfg, "w") as f:
        f.write(text)
    port = free_port()
    logp = os.path.join(TMP, "hf.log")
    log = open(logp, "w")
    proc = subprocess.Popen([ARGS.binary, "serve", "-c", cfg, "--listen", "127.0.0.1:%d" % port,
                             "--threads", "2"], stdout=log, stderr=log, cwd=TMP)
    try:
        wait_health(port, proc, logp)
        h = json.loads(fetch(port, "/health"))
        assert h["status"] == "ok", h
        b = os.path.join(own, "buildings.sld")
        with open(b) as f:
            sld = f.read()
        with open(b, "w") as f:
            f.write(sld.replace("#bebbb7", "#00ff00"))
        deadline = time.time() + 10
        while time.time() < deadline:
            h = json.loads(fetch(port, "/health"))
            if h["status"] != "ok":
                break
            time.sleep(0.3)
        assert h["status"] == "degraded" and h["cache"]["suspended"] == 1, h
        assert h["cache"]["suspended_tileset"] == "cadastre", h
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def test_geopackage_edits_in_its_write_ahead_log_make_tiles_stale():
    """A GeoPackage edited in WAL mode (as QGIS edits it) keeps its changes in <file>-wal
    until a checkpoint, the file's size and time unchanged: a seed sees them as new data."""
    import sqlite3
    gpkg = os.path.join(TMP, "wal.gpkg")
    shutil.copy(os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"), gpkg)
    db = sqlite3.connect(gpkg)
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    cfg = config("wal", '{type: mbtiles, path: "%s"}' % os.path.join(TMP, "wal.mbtiles"))
    with open(cfg) as f:
        text = f.read().replace(os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"),
                                gpkg)
    with open(cfg, "w") as f:
        f.write(text)
    args = ["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "16", "--bbox",
            "6.770,51.226,6.771,51.227"]
    rc, out, err = run(args + ["--progress-file", "pw1"])
    assert rc == 0 and summary(out)[0] > 0, out + err
    rc, out, err = run(args + ["--progress-file", "pw2"])
    assert rc == 0 and summary(out)[0] == 0, out + err      # fresh
    size = os.path.getsize(gpkg)
    db = sqlite3.connect(gpkg)  # held open: no checkpoint into the file
    try:
        db.execute("DELETE FROM buildings")
        db.commit()
        assert os.path.getsize(gpkg + "-wal") > 0 and os.path.getsize(gpkg) == size
        rc, out, err = run(args + ["--progress-file", "pw3"])
        assert rc == 0 and summary(out)[0] > 0, out + err   # stale: drawn again
    finally:
        db.close()


def test_a_folder_of_shapefiles_copied_over_in_place_makes_tiles_stale():
    """A source that is a folder (of Shapefiles): copying new .shp/.shx/.dbf over the old
    ones in place leaves the folder's own time as it was; the data version covers every
    file in it, so the seed renders again (it had skipped every tile as fresh)."""
    shp = os.path.join(TMP, "shpdir")
    shutil.rmtree(shp, ignore_errors=True)
    os.makedirs(shp)
    demo = os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
    r = subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", shp, demo, "buildings"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    cfg = os.path.join(TMP, "shpdir.yaml")
    styles = os.path.join(ARGS.srcdir, "styles")
    with open(cfg, "w") as f:
        f.write('sources:\n  s: {path: "%s"}\nlayers:\n  buildings: {source: s, table: buildings, '
                'style: "%s/buildings.sld"}\ntilesets:\n  t:\n    layers: [buildings]\n'
                '    cache: {type: mbtiles, path: "%s"}\n'
                % (shp, styles, os.path.join(TMP, "shpdir.mbtiles")))
    args = ["seed", "-c", cfg, "--tileset", "t", "--zoom", "16", "--bbox",
            "6.770,51.226,6.771,51.227"]
    rc, out, err = run(args + ["--progress-file", "ps1"])
    assert rc == 0 and summary(out)[0] > 0, out + err
    rc, out, err = run(args + ["--progress-file", "ps2"])
    assert rc == 0 and summary(out)[0] == 0, out + err      # fresh
    dir_mtime = os.stat(shp).st_mtime_ns
    # this week's import: fewer buildings, written beside and copied over in place
    new = os.path.join(TMP, "shpnew")
    shutil.rmtree(new, ignore_errors=True)
    os.makedirs(new)
    r = subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", "-where", "fid % 2 = 0", new, demo,
                        "buildings"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    time.sleep(0.01)
    for name in os.listdir(new):
        with open(os.path.join(new, name), "rb") as src, open(os.path.join(shp, name), "r+b") as dst:
            dst.truncate(0)
            dst.write(src.read())
    assert os.stat(shp).st_mtime_ns == dir_mtime  # the folder itself looks unchanged
    rc, out, err = run(args + ["--progress-file", "ps3"])
    assert rc == 0 and summary(out)[0] > 0, out + err       # stale: drawn again


def test_a_shapefile_cut_short_is_refused_not_loaded_in_part():
    """A .shp copied over in place and read before the copy ends (or cut short): the driver
    reads on with errors and features without geometry. That partial layer had been taken
    (and a reload answered {"reloaded":true}); now the read errors refuse it with the file."""
    shp = os.path.join(TMP, "cutshp")
    shutil.rmtree(shp, ignore_errors=True)
    demo = os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
    r = subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", shp, demo, "buildings"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    p = os.path.join(shp, "buildings.shp")
    with open(p, "r+b") as f:
        f.truncate(os.path.getsize(p) // 3)
    cfg = os.path.join(TMP, "cutshp.yaml")
    with open(cfg, "w") as f:
        f.write('sources:\n  s: {path: "%s"}\nlayers:\n  buildings: {source: s, table: buildings, '
                'style: "%s/buildings.sld"}\ntilesets:\n  t: {layers: [buildings]}\n'
                % (shp, os.path.join(ARGS.srcdir, "styles")))
    rc, out, err = run(["check", "-c", cfg])
    assert rc != 0 and "cutshp.yaml:4:" in err and "errors" in err and "not loaded" in err, err[-800:]


def test_a_disk_cache_takes_no_tiles_of_an_older_version_from_a_process_still_running():
    """A process with last week's data (a seed started before the import, a server not yet
    reloaded) must not write into a directory cache whose version another process has moved
    on: its tiles, newer than the version file, would count as fresh for good. The seed
    stops with the reason; nothing of it is written after the version changed."""
    cache = os.path.join(TMP, "disk_versions")
    shutil.rmtree(cache, ignore_errors=True)
    gpkg = os.path.join(TMP, "versions.gpkg")
    shutil.copy(os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"), gpkg)
    cfg = config("disk_versions", '{type: disk, path: "%s"}' % cache)
    with open(cfg) as f:
        text = f.read().replace(os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"),
                                gpkg)
    with open(cfg, "w") as f:
        f.write(text)
    # a long seed with this week's data ...
    proc = subprocess.Popen([ARGS.binary, "seed", "-c", cfg, "--tileset", "cadastre", "--zoom",
                             "12-21", "--threads", "2", "--progress-file", os.path.join(TMP, "pv1")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    vfile = os.path.join(cache, "WebMercatorQuad", "tilesrv-version")
    deadline = time.time() + 60
    while not os.path.exists(vfile) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    # ... while the import lands and another process (the reloaded server, here a seed of
    # one tile) takes the cache to the new version
    with open(gpkg, "r+b") as f:
        f.seek(0, 2)
        f.write(b"\0" * 4096)  # a new size and time: a new data version
    rc, out, err = run(["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "16", "--bbox",
                        "6.770,51.226,6.771,51.227", "--progress-file", os.path.join(TMP, "pv2")])
    assert rc == 0, out + err
    since = os.stat(vfile).st_mtime_ns
    out, err = proc.communicate(timeout=600)
    assert proc.returncode != 0 and "version" in err and "reload" in err, (proc.returncode, err[-1500:])
    assert "run it again" in err and "free space" not in err, err[-800:]
    # no tile of the old seed is newer than the version file (those in flight when it
    # changed had passed for the new version: they are taken back)
    late = 0
    for root, _, files in os.walk(os.path.join(cache, "WebMercatorQuad")):
        for name in files:
            if name.endswith(".png") and os.stat(os.path.join(root, name)).st_mtime_ns > since:
                late += 1
    assert late <= 1, late  # the one-tile seed's own tile


def test_render_draws_afresh_and_leaves_the_cache_alone():
    """tilesrv render draws the tile from the data and styles as they are: it neither
    answers from the tileset's persistent cache (a stale tile there was what it printed,
    right after a style edit) nor writes it."""
    cache = os.path.join(TMP, "disk_render")
    cfg = config("render_cache", '{type: disk, path: "%s"}' % cache)
    rc, out, err = run(["seed", "-c", cfg, "--tileset", "cadastre", "--zoom", "16",
                        "--bbox", "6.770,51.226,6.771,51.227", "--progress-file", "pr"])
    assert rc == 0, out + err
    tiles, _ = tree_files(cache)
    path = sorted(tiles)[0]
    z, x, y = (int(v) for v in os.path.relpath(path, os.path.join(cache, "WebMercatorQuad"))
               [:-4].split("/"))
    with open(path, "rb") as f:
        good = f.read()
    # another valid tile in its place: what a cache of another style would hold
    other = os.path.join(TMP, "other.png")
    rc, out, err = run(["render", "-c", cfg, "--tileset", "cadastre", "16/0/0", "-o", other])
    assert rc == 0, out + err
    with open(other, "rb") as f:
        fake = f.read()
    assert fake != good
    with open(path, "wb") as f:
        f.write(fake)
    before = sorted(tree_files(cache)[0])
    outp = os.path.join(TMP, "fresh.png")
    rc, out, err = run(["render", "-c", cfg, "--tileset", "cadastre", "%d/%d/%d" % (z, x, y),
                        "-o", outp])
    assert rc == 0, out + err
    with open(outp, "rb") as f:
        assert f.read() == good, "render answered from the cache"
    with open(path, "rb") as f:
        assert f.read() == fake, "render wrote the cache"
    rc, out, err = run(["render", "-c", cfg, "--tileset", "cadastre", "%d/%d/%d" % (z, x + 40, y),
                        "-o", outp])
    assert rc == 0, out + err
    assert sorted(tree_files(cache)[0]) == before, "render added tiles to the cache"


def test_usage_errors_exit_2():
    rc, _, err = run(["seed", "--tileset", "cadastre"])
    assert rc == 2, err
    rc, _, err = run(["seed", "--tileset", "cadastre", "--zoom", "12-16", "--bbox", "1,2,3"])
    assert rc == 2 and "--bbox" in err, err
    rc, _, err = run(["seed", "--tileset", "nope", "--zoom", "12", "--to", "x.mbtiles"])
    assert rc == 2, err
    rc, _, err = run(["seed", "--tileset", "cadastre", "--zoom", "12"])   # no cache anywhere
    assert rc == 2 and "no persistent cache" in err, err
    # a tileset whose first grid is the AdV set: XYZ zooms beyond its 0-13 point at --grid
    adv = config("adv_first", "{type: memory}").replace(".yaml", "")
    with open(adv + ".yaml", "a") as f:
        f.write("    grids: [DE_EPSG_25832_ADV, WebMercatorQuad]\n")
    rc, _, err = run(["seed", "-c", adv + ".yaml", "--tileset", "cadastre", "--zoom", "14-16",
                      "--to", os.path.join(TMP, "adv.mbtiles")])
    assert rc == 2 and "--grid WebMercatorQuad" in err, err
    rc, _, err = run(["seed", "-c", adv + ".yaml", "--tileset", "cadastre", "--zoom", "12",
                      "--to", os.path.join(TMP, "adv.mbtiles")])
    assert rc == 2 and "--grid WebMercatorQuad" in err, err
    rc, _, err = run(["seed", "--tileset", "cadastre", "--zoom", "12", "--shard", "3/3",
                      "--to", "x.mbtiles"])
    assert rc == 2, err
    rc, _, err = run(["truncate", "--tileset", "cadastre", "--older-than", "soon"])
    assert rc == 2, err
    # truncating a cache that is not there creates nothing and says so
    rc, _, err = run(["truncate", "--tileset", "cadastre", "--to", "not-here.mbtiles"])
    assert rc == 2 and "no such cache" in err, err
    assert not os.path.exists(os.path.join(TMP, "not-here.mbtiles"))
    # a resume with other options than the progress file's
    mb = os.path.join(TMP, "u.mbtiles")
    rc, out, err = run(["seed", "--tileset", "cadastre", "--zoom", "12", "--bbox", SMALL_BBOX,
                        "--to", mb, "--progress-file", "pu"])
    assert rc == 0, out + err
    rc, out, err = run(["seed", "--tileset", "cadastre", "--zoom", "12-13", "--bbox", SMALL_BBOX,
                        "--to", mb, "--progress-file", "pu", "--resume"])
    assert rc == 2 and "another seed" in err, out + err
    # options a command does not take are refused, not ignored
    for args, opt in ((["render", "--tileset", "cadastre", "--zoom", "3", "16/34001/21873",
                        "-o", "x.png"], "--zoom"),
                      (["check", "--format", "x"], "--format"),
                      (["serve", "--bbox", "1,2,3,4"], "--bbox"),
                      (["truncate", "--tileset", "cadastre", "--force"], "--force")):
        rc, out, err = run(args)
        assert rc == 2 and opt in err and "does not apply" in err, (args, rc, out, err)


def test_a_resumed_force_seed_stays_forced():
    """--force, interrupted, then --resume without --force: the rest is forced too (it had
    skipped every tile as fresh)."""
    cache = os.path.join(TMP, "force_dir")
    base = ["seed", "--tileset", "cadastre", "--zoom", "12-19", "--bbox", MID_BBOX, "--to", cache,
            "--threads", "2"]
    rc, out, err = run(base + ["--progress-file", "pf0"])            # everything fresh
    assert rc == 0, out + err
    total = int(TOTAL.search(err).group(1))
    t0 = time.time()
    time.sleep(0.05)
    args = base + ["--progress-file", "pf", "--force"]
    proc = subprocess.Popen([ARGS.binary] + args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=TMP)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        tiles = tree_files(cache)[0]
        if sum(1 for t in tiles if os.path.getmtime(t) > t0) >= 200:
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.01)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 5, out + err
    r1 = summary(out)[0]
    with open(os.path.join(TMP, "pf")) as f:
        assert "force 1" in f.read()
    rc, out, err = run(base + ["--progress-file", "pf", "--resume"])
    assert rc == 0, out + err
    r2, skipped, _ = summary(out)
    assert skipped == 0 and r1 + r2 == total, (r1, r2, skipped, total, out + err)
    assert "resuming a --force seed" in err, err


def test_seed_on_another_grid_of_the_tileset():
    """--grid: the tiles of one of the tileset's other grids (the AdV UTM set), as the server
    serves them under /tiles/{tileset}/{grid}/; a grid it lacks is a usage error."""
    demo = os.path.join(ARGS.srcdir, "data", "demo", "tilesrv.yaml")
    out_dir = os.path.join(TMP, "adv")
    rc, out, err = run(["seed", "-c", demo, "--tileset", "cadastre", "--grid",
                        "DE_EPSG_25832_ADV", "--zoom", "10-11", "--bbox", SMALL_BBOX,
                        "--to", out_dir, "--progress-file", "pg"])
    assert rc == 0 and summary(out)[0] > 0, out + err
    tiles, _ = tree_files(os.path.join(out_dir, "DE_EPSG_25832_ADV"))
    assert tiles, os.listdir(out_dir)
    rc, out, err = run(["seed", "-c", demo, "--tileset", "cadastre", "--grid", "nope", "--zoom",
                        "10", "--to", out_dir, "--progress-file", "pg2"])
    assert rc == 2 and "no grid 'nope'" in err, out + err
    port = free_port()
    logp = os.path.join(TMP, "grid.log")
    proc = subprocess.Popen([ARGS.binary, "serve", "-c", demo, "--listen", "127.0.0.1:%d" % port,
                             "--threads", "2"], stdout=open(logp, "w"), stderr=subprocess.STDOUT,
                            cwd=TMP)
    try:
        wait_health(port, proc, logp)
        for path in sorted(tiles)[:3]:
            rel = os.path.relpath(path, out_dir)
            with open(path, "rb") as f:
                assert fetch(port, "/tiles/cadastre/" + rel) == f.read(), rel
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def test_seed_refusals_name_the_problem():
    """A live tileset (its feeds do not run in a seed: every tile would be empty), a --to
    named like another kind of file, a GeoPackage given as the MBTiles target (nothing is
    written into it); an upper-case .MBTILES is an MBTiles file."""
    demo = os.path.join(ARGS.srcdir, "data", "demo", "tilesrv.yaml")
    rc, out, err = run(["seed", "-c", demo, "--tileset", "parking", "--zoom", "14",
                        "--to", "park.mbtiles"])
    assert rc == 2 and "live feed" in err, out + err
    assert not os.path.exists(os.path.join(TMP, "park.mbtiles"))
    rc, out, err = run(["seed", "--tileset", "cadastre", "--zoom", "12", "--bbox", SMALL_BBOX,
                        "--to", "x.tif"])
    assert rc == 2 and "not a tif file" in err, out + err
    assert not os.path.exists(os.path.join(TMP, "x.tif"))
    gpkg = os.path.join(TMP, "target.gpkg")
    shutil.copy(os.path.join(ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"), gpkg)
    with open(gpkg, "rb") as f:
        before = f.read()
    link = os.path.join(TMP, "gpkg.mbtiles")
    if os.path.exists(link):
        os.remove(link)
    os.symlink(gpkg, link)
    rc, out, err = run(["seed", "--tileset", "cadastre", "--zoom", "12", "--bbox", SMALL_BBOX,
                        "--to", link, "--progress-file", "pgp"])
    assert rc != 0 and "GeoPackage" in err, out + err
    with open(gpkg, "rb") as f:
        assert f.read() == before, "the GeoPackage was changed"
    rc, out, err = run(["seed", "--tileset", "cadastre", "--zoom", "12", "--bbox", SMALL_BBOX,
                        "--to", "UPPER.MBTILES", "--progress-file", "pup"])
    assert rc == 0 and os.path.isfile(os.path.join(TMP, "UPPER.MBTILES")), out + err


def test_an_interrupted_seed_says_when_its_progress_was_not_saved():
    """A progress file that cannot be written: the interrupted seed does not claim it saved
    its progress."""
    ro = os.path.join(TMP, "ro")
    os.makedirs(ro, exist_ok=True)
    if os.geteuid() == 0:
        # root writes anywhere: a progress path under a regular file cannot be created
        blocker = os.path.join(TMP, "blocker")
        open(blocker, "w").close()
        ppath = os.path.join(blocker, "p")
    else:
        os.chmod(ro, 0o500)
        ppath = os.path.join(ro, "p")
    mb = os.path.join(TMP, "unsaved.mbtiles")
    args = ["seed", "--tileset", "cadastre", "--zoom", "12-19", "--bbox", MID_BBOX, "--to", mb,
            "--threads", "2", "--progress-file", ppath]
    errp = os.path.join(TMP, "unsaved.err")
    with open(errp, "w") as ef:
        proc = subprocess.Popen([ARGS.binary] + args, stdout=subprocess.PIPE, stderr=ef,
                                text=True, cwd=TMP)
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:   # the seed has begun
            with open(errp) as f:
                if "cannot save progress" in f.read():
                    break
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=300)
    with open(errp) as f:
        err = f.read()
    assert proc.returncode == 5, out + err
    assert "could not be saved" in err and "progress saved" not in err, err


def test_render_errors_say_what_is_wrong():
    """A negative level is the tile's error (not an unknown option with the whole usage); a
    file that cannot be written names the reason; a vector tile into a .png is refused."""
    rc, out, err = run(["render", "--tileset", "cadastre", "-1/0/0", "-o", "neg.png"])
    assert rc == 1 and "zoom -1" in err and "usage" not in err, (rc, err)
    rc, out, err = run(["render", "--tileset", "cadastre", "16/34001/21873", "-o",
                        os.path.join(TMP, "no-such-dir", "r.png")])
    assert rc == 1 and "No such file or directory" in err, (rc, err)
    rc, out, err = run(["render", "--tileset", "cadastre", "16/34001/21873", "--format", "pbf",
                        "-o", "v.png"])
    assert rc == 2 and "names a PNG" in err, (rc, err)
    assert not os.path.exists(os.path.join(TMP, "v.png"))


def test_render_writes_png_or_vector_tile_as_asked():
    """tilesrv render -o x.png: the PNG; -o x.mvt (or --format pbf): the tile's MVT, the
    bytes the server sends for /tiles/.../z/x/y.mvt uncompressed (GDAL reads its layers);
    --hidpi or @2x: 512 px; a bad --format exits 2."""
    rc, out, err = run(["render", "--tileset", "cadastre", "16/34001/21873", "-o", "r.png"])
    assert rc == 0, err
    png = open(os.path.join(TMP, "r.png"), "rb").read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (256, 256)
    rc, out, err = run(["render", "--tileset", "cadastre", "16/34001/21873", "-o", "r.mvt"])
    assert rc == 0, err
    mvt = open(os.path.join(TMP, "r.mvt"), "rb").read()
    assert len(mvt) > 1000 and mvt[:8] != b"\x89PNG\r\n\x1a\n" and mvt[:2] != b"\x1f\x8b"
    rc, out, err = run(["render", "--tileset", "cadastre", "--format", "pbf", "16/34001/21873",
                        "-o", "r.bin"])
    assert rc == 0 and open(os.path.join(TMP, "r.bin"), "rb").read() == mvt, err
    try:
        from osgeo import gdal, ogr
        gdal.UseExceptions()
        ds = gdal.OpenEx(os.path.join(TMP, "r.mvt"), gdal.OF_VECTOR,
                         open_options=["X=34001", "Y=21873", "Z=16"])
        names = {ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount())}
        assert {"parcels", "buildings", "streets"} <= names, names
    except ImportError:
        pass
    rc, out, err = run(["render", "--tileset", "cadastre", "--hidpi", "16/34001/21873",
                        "-o", "r2.png"])
    big = open(os.path.join(TMP, "r2.png"), "rb").read()
    assert rc == 0 and struct.unpack(">II", big[16:24]) == (512, 512), err
    rc, out, err = run(["render", "--tileset", "cadastre", "--format", "jpg", "16/34001/21873",
                        "-o", "x.png"])
    assert rc == 2 and "--format" in err, err


def main():
    global ARGS, TMP
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--srcdir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("filter", nargs="?")
    ARGS = ap.parse_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    ARGS.srcdir = os.path.abspath(ARGS.srcdir)
    TMP = tempfile.mkdtemp(prefix="tilesrv-seed-")
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and callable(f)]
    failed = ran = 0
    t0 = time.time()
    try:
        for name, fn in tests:
            if ARGS.filter and ARGS.filter not in name:
                continue
            t = time.time()
            ran += 1
            try:
                fn()
                print("ok   %s (%.1f s)" % (name, time.time() - t))
            except Exception:
                failed += 1
                print("FAIL %s" % name)
                traceback.print_exc()
            sys.stdout.flush()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print("%d tests, %d failed, %.1f s" % (ran, failed, time.time() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
