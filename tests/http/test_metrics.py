#!/usr/bin/env python3
"""/metrics as an operations team scrapes it: the Prometheus text format 0.0.4 checked
strictly (HELP/TYPE once per family and before its samples, families contiguous, names and
labels valid, no duplicate series, histograms cumulative with +Inf == _count, counters
named *_total), by `promtool check metrics` too when it is installed; counters that move by
exactly what the requests made between two scrapes on one keep-alive connection; the render
histograms per tileset and zoom; cache hits per level; feed lag; process metrics checked
against /proc.

Usage: test_metrics.py --binary build/tilesrv [--srcdir .]
"""
import argparse
import concurrent.futures
import http.client
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_http as H  # noqa: E402

ARGS = None
SERVER = None
STARTED = 0.0
CONN = None

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE = re.compile(r"^(%s)(?:\{((?:%s=%s)(?:,%s=%s)*)?\})? (\S+)(?: (-?\d+))?$"
                    % (NAME, LABEL, LABEL_VALUE, LABEL, LABEL_VALUE))
PAIR = re.compile(r"(%s)=(%s)" % (LABEL, LABEL_VALUE))
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
ROUTES = {"tiles", "wms", "wmts", "tms", "ogcapi", "sensors", "events", "static", "health",
          "metrics", "admin", "other"}


def parse_value(s):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    if not re.match(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$", s):
        raise AssertionError("bad sample value %r" % s)
    return float(s)


def unescape(v):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), v[1:-1])


def parse(text):
    """Strict parse of the text format. Returns {family: {"type", "help", "samples":
    {(name, frozenset(labels)): value}}}."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    fams = {}
    order = []          # family of each sample line, to check contiguity
    cur = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d: %r" % (n, line)
        assert line != "", "empty line: " + where
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (%s) (.*)$" % NAME, line)
            assert m, "only HELP and TYPE comments are written: " + where
            kind, name, rest = m.groups()
            f = fams.setdefault(name, {"type": None, "help": None, "samples": {}})
            if kind == "HELP":
                assert f["help"] is None, "second HELP: " + where
                assert not re.search(r"\\[^\\n]", rest), "bad escape in HELP: " + where
                f["help"] = rest
            else:
                assert f["type"] is None, "second TYPE: " + where
                assert not f["samples"], "TYPE after samples: " + where
                assert rest in TYPES, "unknown type: " + where
                f["type"] = rest
            if cur != name:
                assert name not in order, "family %s split: %s" % (name, where)
            cur = name
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: " + where
        name, labels, value, _ts = m.groups()
        pairs = PAIR.findall(labels or "")
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), "repeated label: " + where
        assert not any(k.startswith("__") for k in keys), "reserved label name: " + where
        fam = name
        if cur is not None and fams[cur]["type"] in ("histogram", "summary"):
            for suf in ("_bucket", "_sum", "_count"):
                if name == cur + suf:
                    fam = cur
        if fam != cur:
            assert fam not in order, "family %s split: %s" % (fam, where)
            assert fam in fams and fams[fam]["type"], "sample before its TYPE: " + where
            cur = fam
        if not order or order[-1] != fam:
            order.append(fam)
        t = fams[fam]["type"]
        if t == "histogram":
            assert name != fam, "bare sample in a histogram: " + where
            assert (name == fam + "_bucket") == ("le" in keys), "le only on buckets: " + where
        key = (name, frozenset((k, unescape(v)) for k, v in pairs))
        assert key not in fams[fam]["samples"], "duplicate series: " + where
        v = parse_value(value)
        if t == "counter":
            assert name.endswith("_total"), "counter not named *_total: " + where
            assert v >= 0, "negative counter: " + where
        fams[fam]["samples"][key] = v
    for name, f in fams.items():
        assert f["type"] and f["help"], "family %s without TYPE or HELP" % name
        if f["type"] == "histogram":
            check_histogram(name, f["samples"])
    return fams


def check_histogram(name, samples):
    groups = {}
    for (sname, labels), v in samples.items():
        rest = frozenset((k, x) for k, x in labels if k != "le")
        g = groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if sname == name + "_bucket":
            le = dict(labels)["le"]
            g["buckets"].append((parse_value(le), v))
        elif sname == name + "_sum":
            g["sum"] = v
        elif sname == name + "_count":
            g["count"] = v
        else:
            raise AssertionError("stray sample %s in histogram %s" % (sname, name))
    for rest, g in groups.items():
        what = "%s%s" % (name, dict(rest))
        assert g["sum"] is not None and g["count"] is not None, what + ": _sum/_count missing"
        b = sorted(g["buckets"])
        assert b and b[-1][0] == math.inf, what + ": no +Inf bucket"
        for (le0, c0), (le1, c1) in zip(b, b[1:]):
            assert le0 < le1, what + ": repeated le"
            assert c0 <= c1, what + ": buckets not cumulative at le=%g" % le1
        assert b[-1][1] == g["count"], what + ": +Inf %g != count %g" % (b[-1][1], g["count"])
        assert g["sum"] >= 0, what + ": negative sum"
        assert g["count"] == 0 or g["sum"] > 0, what + ": observations but a zero sum"


def scrape():
    st, body = req("/metrics")
    assert st == 200, st
    return body.decode("utf-8")


def req(path, method="GET"):
    """One request on the test's keep-alive connection: requests are answered (and counted)
    one after the other by the same server thread."""
    global CONN
    for attempt in range(2):
        if CONN is None:
            CONN = http.client.HTTPConnection("127.0.0.1", H.port(), timeout=120)
        try:
            CONN.request(method, path)
            r = CONN.getresponse()
            body = r.read()
            if r.getheader("Connection", "").lower() == "close":
                CONN.close()
                CONN = None
            return r.status, body
        except (http.client.HTTPException, OSError):
            CONN.close()
            CONN = None
            if attempt:
                raise
    raise AssertionError("unreachable")


def series(fams, family, name=None, **labels):
    """The value of one sample (0 when absent)."""
    f = fams.get(family)
    if f is None:
        return 0
    want = frozenset(labels.items())
    for (n, ls), v in f["samples"].items():
        if n == (name or family) and ls == want:
            return v
    return 0


def requests_by(fams):
    out = {}
    for (_, ls), v in fams["tilesrv_http_requests_total"]["samples"].items():
        d = dict(ls)
        out[(d["route"], d["status"])] = v
    return out


def diff(a, b):
    keys = set(a) | set(b)
    return {k: b.get(k, 0) - a.get(k, 0) for k in keys if b.get(k, 0) != a.get(k, 0)}


# ---------------------------------------------------------------- tests

def test_exposition_is_strict_text_format():
    req("/tiles/cadastre/16/34001/21873.png")
    text = scrape()
    fams = parse(text)
    for f, t in [("tilesrv_http_requests_total", "counter"),
                 ("tilesrv_http_request_duration_seconds", "histogram"),
                 ("tilesrv_render_duration_seconds", "histogram"),
                 ("tilesrv_tile_cache_hits_total", "counter"),
                 ("tilesrv_tile_cache_misses_total", "counter"),
                 ("tilesrv_render_queue_length", "gauge"),
                 ("tilesrv_feed_lag_seconds", "gauge"),
                 ("tilesrv_feed_errors_total", "counter"),
                 ("tilesrv_cache_hits_total", "counter"),
                 ("process_resident_memory_bytes", "gauge"),
                 ("process_open_fds", "gauge"),
                 ("process_start_time_seconds", "gauge"),
                 ("process_cpu_seconds_total", "counter")]:
        assert f in fams, "family %s missing" % f
        assert fams[f]["type"] == t, (f, fams[f]["type"])
    for (_, ls), _v in fams["tilesrv_http_requests_total"]["samples"].items():
        d = dict(ls)
        assert set(d) == {"route", "status"} and d["route"] in ROUTES, d
        assert re.match(r"^[1-5]\d\d$", d["status"]), d
    promtool = shutil.which("promtool")
    if promtool is None:
        print("  (promtool not installed: checked by this parser only)")
        return
    p = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode == 0, "promtool check metrics:\n" + p.stdout.decode()


def test_parser_refuses_what_is_wrong():
    # the checks above can fail: each of these breaks one rule
    ok = ("# HELP a_total x\n# TYPE a_total counter\na_total 1\n"
          "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
          "h_sum 3\nh_count 2\n")
    parse(ok)
    bad = [ok.replace("h_count 2", "h_count 3"),                         # +Inf != count
           ok.replace('h_bucket{le="1"} 1', 'h_bucket{le="1"} 5'),       # not cumulative
           ok.replace("# TYPE a_total counter\n", ""),                   # no TYPE
           ok + "a_total 2\n",                                           # split family
           ok.replace("a_total 1", "a_total{x=\"1\",x=\"2\"} 1"),        # repeated label
           ok.replace("a_total 1", "a_total 1\na_total 1"),              # duplicate series
           ok.replace("a_total", "a"),                                   # counter name
           ok[:-1]]                                                      # no final newline
    for i, text in enumerate(bad):
        try:
            parse(text)
        except AssertionError:
            continue
        raise AssertionError("bad exposition %d accepted:\n%s" % (i, text))


def test_request_counters_move_by_exactly_the_requests_made():
    req("/tiles/cadastre/16/34001/21873.png")   # cached before the first scrape
    a = parse(scrape())
    made = [("/health", "health", "200"), ("/health", "health", "200"),
            ("/tiles/cadastre/16/34001/21873.png", "tiles", "200"),
            ("/tiles/cadastre.json", "tiles", "200"),
            ("/tiles/nope/1/1/1.png", "tiles", "404"),
            ("/wms?SERVICE=WMS&REQUEST=GetCapabilities", "wms", "200"),
            ("/ows?SERVICE=WMTS&REQUEST=GetCapabilities", "wmts", "200"),
            ("/wmts/1.0.0/WMTSCapabilities.xml", "wmts", "200"),
            ("/tms/1.0.0", "tms", "200"),
            ("/ogcapi/", "ogcapi", "200"),
            ("/sensors/demo_parking.geojson", "sensors", "200"),
            ("/sensors/nope.geojson", "sensors", "404"),
            ("/events", "events", "200"),
            ("/", "static", "200"),
            ("/no/such/thing", "other", "404"),
            ("/admin/reload", "admin", "404")]
    expect = {}
    for path, route, status in made:
        st, _ = req(path, "POST" if path.startswith("/admin/") else "GET")
        assert str(st) == status, (path, st)
        expect[(route, status)] = expect.get((route, status), 0) + 1
    expect[("metrics", "200")] = 1          # the first scrape, completed before the second
    b = parse(scrape())
    d = diff(requests_by(a), requests_by(b))
    assert d == expect, "moved %s, expected %s" % (sorted(d.items()), sorted(expect.items()))
    # the duration histogram counts the same requests, route by route
    for route in ROUTES:
        n = sum(v for (r, _), v in expect.items() if r == route)
        c0 = series(a, "tilesrv_http_request_duration_seconds",
                    "tilesrv_http_request_duration_seconds_count", route=route)
        c1 = series(b, "tilesrv_http_request_duration_seconds",
                    "tilesrv_http_request_duration_seconds_count", route=route)
        assert c1 - c0 == n, (route, c1 - c0, n)
    aborted = {k: v for k, v in
               diff(requests_by_aborted(a), requests_by_aborted(b)).items()}
    assert aborted == {}, aborted


def test_counters_exact_under_concurrent_clients():
    # 8 clients on their own connections (spread over the server's threads and counter
    # shards), 40 requests each; a request is counted when its answer has been sent, which
    # may be just after the client read it: wait until the count arrives, then it must be
    # exact. The baseline waits for the count of the start-up's /health polls, which may
    # likewise arrive just after their answers.
    a = requests_by(parse(scrape()))
    while True:
        time.sleep(0.2)
        b = requests_by(parse(scrape()))
        if b.get(("health", "200"), 0) == a.get(("health", "200"), 0):
            break
        a = b
    n_threads, per = 8, 40

    def client(_):
        c = http.client.HTTPConnection("127.0.0.1", H.port(), timeout=60)
        got = []
        for _i in range(per):
            c.request("GET", "/health")
            r = c.getresponse()
            r.read()
            got.append(r.status)
        c.close()
        return got

    with concurrent.futures.ThreadPoolExecutor(n_threads) as ex:
        res = [st for got in ex.map(client, range(n_threads)) for st in got]
    assert res == [200] * (n_threads * per), res
    deadline = time.time() + 10 * H.SLOW
    while True:
        d = diff(a, requests_by(parse(scrape())))
        if d.get(("health", "200"), 0) >= n_threads * per or time.time() > deadline:
            break
        time.sleep(0.05)
    d.pop(("metrics", "200"), None)   # the scrapes themselves
    assert d == {("health", "200"): n_threads * per}, d


def requests_by_aborted(fams):
    return {dict(ls)["route"]: v
            for (_, ls), v in fams["tilesrv_http_requests_aborted_total"]["samples"].items()}


def test_render_histogram_and_cache_levels():
    # a metatile nobody asked for: one render at zoom 18, then a memory hit
    path = "/tiles/cadastre/18/136020/87490.png"
    a = parse(scrape())
    st, _ = req(path)
    assert st == 200
    b = parse(scrape())
    st, _ = req(path)
    assert st == 200
    c = parse(scrape())
    hcount = "tilesrv_render_duration_seconds_count"
    fam = "tilesrv_render_duration_seconds"
    n0 = series(a, fam, hcount, tileset="cadastre", zoom="18")
    n1 = series(b, fam, hcount, tileset="cadastre", zoom="18")
    assert n1 - n0 == 1, (n0, n1)
    s0 = series(a, fam, "tilesrv_render_duration_seconds_sum", tileset="cadastre", zoom="18")
    s1 = series(b, fam, "tilesrv_render_duration_seconds_sum", tileset="cadastre", zoom="18")
    assert s1 > s0, (s0, s1)
    assert series(b, "tilesrv_metatiles_rendered_total") - \
        series(a, "tilesrv_metatiles_rendered_total") == 1
    # every metatile drawn is in exactly one (tileset, zoom) histogram
    total = sum(v for (n, _), v in b[fam]["samples"].items() if n == hcount)
    assert total == series(b, "tilesrv_metatiles_rendered_total"), total
    for (n, ls), _v in b[fam]["samples"].items():
        z = int(dict(ls)["zoom"])
        assert 0 <= z <= 30, z
    hits = "tilesrv_tile_cache_hits_total"
    misses = "tilesrv_tile_cache_misses_total"
    # one request, one memory lookup: exactly one miss (it counted three: the lookup, the
    # pipeline's check and its re-check under the render lock)
    assert series(b, misses, level="memory") - series(a, misses, level="memory") == 1
    assert series(c, hits, level="memory") - series(b, hits, level="memory") == 1
    assert series(c, misses, level="memory") == series(b, misses, level="memory")
    assert series(c, fam, hcount, tileset="cadastre", zoom="18") == n1
    # the old flat names stay, equal to the memory level
    assert series(c, "tilesrv_cache_hits_total") == series(c, hits, level="memory")
    assert series(c, "tilesrv_cache_misses_total") == series(c, misses, level="memory")
    for lvl in ("memory", "persistent"):
        assert frozenset({("level", lvl)}) in {ls for _, ls in c[hits]["samples"]}, lvl


def test_persistent_cache_counters_survive_a_reload():
    """A reload opens the persistent cache levels anew: the counters of the old ones keep
    counting in /metrics (they went back to 0 on every SIGHUP)."""
    import signal
    import tempfile
    d = tempfile.mkdtemp()
    try:
        cfg = os.path.join(d, "t.yaml")
        demo = open(os.path.join(ARGS.srcdir, "data", "demo", "tilesrv.yaml")).read()
        demo = demo.replace("path: duesseldorf_demo.gpkg", "path: %s" % os.path.join(
            ARGS.srcdir, "data", "demo", "duesseldorf_demo.gpkg"))
        demo = demo.replace("air_csv: air_uba_duesseldorf.csv", "air_csv: %s" % os.path.join(
            ARGS.srcdir, "data", "demo", "air_uba_duesseldorf.csv"))
        demo = demo.replace("../../styles/", os.path.join(ARGS.srcdir, "styles") + "/")
        demo = demo.replace("    metatile: 8\n", "    metatile: 8\n    cache: {type: disk, path: %s}\n"
                            % os.path.join(d, "tiles"), 1)
        assert "type: disk" in demo
        with open(cfg, "w") as f:
            f.write(demo)
        srv = H.start_server(cfg)
        try:
            port = srv[1]

            def metrics():
                st, _, body = H.get(port, "/metrics")
                assert st == 200
                return parse(body.decode("utf-8"))

            def generation():
                return json.loads(H.get(port, "/health")[2])["generation"]

            def written(before):  # tiles go to the persistent level after the answer
                deadline = time.time() + 60
                while time.time() < deadline:
                    m = metrics()
                    if series(m, "tilesrv_persist_puts_total") > before:
                        return m
                    time.sleep(0.05)
                raise AssertionError("no tile written to the disk cache")

            st, _, _ = H.get(port, "/tiles/cadastre/16/34001/21873.png")
            assert st == 200
            a = written(0)
            puts = series(a, "tilesrv_persist_puts_total")
            misses = series(a, "tilesrv_tile_cache_misses_total", level="persistent")
            assert puts >= 1 and misses >= 1, (puts, misses)
            g = generation()
            srv[0].send_signal(signal.SIGHUP)
            deadline = time.time() + 60
            while generation() == g and time.time() < deadline:
                time.sleep(0.1)
            assert generation() > g
            b = metrics()
            assert series(b, "tilesrv_persist_puts_total") >= puts, \
                (puts, series(b, "tilesrv_persist_puts_total"))
            assert series(b, "tilesrv_tile_cache_misses_total", level="persistent") >= misses
            # and go on counting: a tile of another metatile is written by the new level
            st, _, _ = H.get(port, "/tiles/cadastre/14/8500/5468.png")
            assert st == 200
            written(series(b, "tilesrv_persist_puts_total"))
        finally:
            rc, log = H.stop_server(srv)
            assert rc == 0, log[-2000:]
    finally:
        shutil.rmtree(d)


def test_feed_lag_and_errors():
    # the demo feeds accept observations from their start
    deadline = time.time() + 30 * H.SLOW
    while True:
        f = parse(scrape())
        lag = {dict(ls)["feed"]: v for (_, ls), v in f["tilesrv_feed_lag_seconds"]["samples"].items()}
        if "demo_parking" in lag or time.time() > deadline:
            break
        time.sleep(0.5)
    assert "demo_parking" in lag, lag
    up = time.time() - STARTED
    for feed, v in lag.items():
        assert 0 <= v <= up + 1, (feed, v, up)
    kinds = {dict(ls)["kind"] for (_, ls), _v in f["tilesrv_feed_errors_total"]["samples"].items()
             if dict(ls)["feed"] == "demo_parking"}
    assert len(kinds) >= 3, kinds


def test_process_metrics_agree_with_proc():
    pid = SERVER[0].pid
    f = parse(scrape())
    with open("/proc/%d/status" % pid) as fh:
        rss = int(re.search(r"^VmRSS:\s+(\d+) kB", fh.read(), re.M).group(1)) * 1024
    got = series(f, "process_resident_memory_bytes")
    assert 0.8 * rss < got < 1.25 * rss, (got, rss)
    fds = len(os.listdir("/proc/%d/fd" % pid))
    got = series(f, "process_open_fds")
    assert abs(got - fds) <= 4, (got, fds)
    start = series(f, "process_start_time_seconds")
    assert abs(start - STARTED) < 5, (start, STARTED)
    assert series(f, "process_cpu_seconds_total") > 0
    assert series(f, "process_max_fds") >= fds


def test_seed_progress_of_seed_progress_dir():
    """`tilesrv seed` with a config naming server.seed_progress_dir keeps its progress file
    there, and a server with that config reports the seed in /metrics."""
    import tempfile
    tmp = tempfile.mkdtemp(prefix="tilesrv-seedmetrics-")
    try:
        demo = os.path.join(ARGS.srcdir, "data", "demo")
        with open(os.path.join(demo, "tilesrv.yaml")) as f:
            text = f.read()
        for name in ("duesseldorf_demo.gpkg", "air_uba_duesseldorf.csv"):
            text = text.replace(": " + name, ": " + os.path.join(demo, name))
        text = text.replace("../../styles/", os.path.join(ARGS.srcdir, "styles") + "/")
        text = text.replace("server:\n", "server:\n  seed_progress_dir: %s\n"
                            % os.path.join(tmp, "progress"), 1)
        cfg = os.path.join(tmp, "seed.yaml")
        with open(cfg, "w") as f:
            f.write(text)
        run = subprocess.run([ARGS.binary, "seed", "-q", "-c", cfg, "--tileset", "cadastre",
                              "--zoom", "14-15", "--to", os.path.join(tmp, "seed.mbtiles")],
                             cwd=tmp, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        path = os.path.join(tmp, "progress", ".tilesrv-seed-cadastre-to-seed.mbtiles.progress")
        with open(path) as f:
            prog = dict(l.split(" ", 1) for l in f.read().splitlines())
        rendered = int(prog["rendered"])
        assert rendered > 0 and int(prog["total"]) == rendered + int(prog["skipped"]), prog
        srv = H.start_server(cfg)
        try:
            c = http.client.HTTPConnection("127.0.0.1", srv[1], timeout=60)
            c.request("GET", "/metrics")
            text = c.getresponse().read().decode()
            c.close()
        finally:
            H.stop_server(srv)
        f = parse(text)
        lab = {"tileset": "cadastre", "file": ".tilesrv-seed-cadastre-to-seed.mbtiles.progress"}
        assert series(f, "tilesrv_seed_tiles", state="rendered", **lab) == rendered
        assert series(f, "tilesrv_seed_tiles", state="failed", **lab) == 0
        assert series(f, "tilesrv_seed_tiles_planned", **lab) == int(prog["total"])
        assert series(f, "tilesrv_seed_zoom", **lab) == 15  # done: its last zoom
        assert series(f, "tilesrv_seed_running", **lab) == 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    global ARGS, SERVER, STARTED
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--srcdir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("filter", nargs="?")
    ARGS = ap.parse_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    ARGS.srcdir = os.path.abspath(ARGS.srcdir)
    H.ARGS = ARGS
    STARTED = time.time()
    SERVER = H.start_server()
    H.SERVER = SERVER
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
        if CONN is not None:
            CONN.close()
        rc, log = H.stop_server(SERVER)
        if rc != 0:
            failed += 1
            print("FAIL server exit code %d\n%s" % (rc, log))
    print("%d tests, %d failed" % (ran, failed))
    sys.exit(1 if failed or not ran else 0)


if __name__ == "__main__":
    main()
