#!/usr/bin/env python3
"""Two `tilesrv serve` nodes sharing a REAL redis-server (started here on a free port) as
the persistent cache of the demo cadastre (cache: {type: redis}):

  - the same uncached tile asked of both nodes at the same moment, over several metatiles:
    each metatile is rendered once in total (tilesrv_metatiles_rendered_total of both), and
    both answer the same bytes and ETag;
  - a tile rendered by node A is served by node B from Redis without rendering;
  - values in Redis: header + PNG, the tiles of a metatile under the documented keys, the
    render lock gone once the tiles are written;
  - a damaged value (garbage written into Redis) is detected, not served, re-rendered;
  - POST /admin/truncate on A deletes the keys (SCAN + UNLINK): B renders afresh; so does
    `tilesrv truncate`;
  - redis-server killed: both nodes keep serving (200, rendered) and /health says degraded;
    redis-server restarted: back to shared (A renders, B takes A's tile);
  - `tilesrv seed` writes into Redis and both nodes serve the seeded tiles unrendered.

Usage: test_redis.py --binary build/tilesrv [--srcdir .]
Exit 0 = pass, 1 = fail. A missing redis-server is a failure, not a skip (scripts/deps.sh
--test installs it). Standard library only (a small RESP client is below).
"""
import argparse
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
import threading
import time
import zlib

TOKEN = "redis-test-admin-token-0123456789"
Z = 16
# metatiles (8x8) of the demo cadastre in Düsseldorf at z16 (34001/21873 lies in the data)
MX, MY = 34000, 21872


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


def get(port, path, headers=None, method="GET", timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, body


def metric(port, name):
    _, _, body = get(port, "/metrics")
    m = re.search(r"^%s (\d+)" % re.escape(name), body.decode(), re.M)
    if not m:
        raise Fail("metric %s missing" % name)
    return int(m.group(1))


def renders(port):
    return metric(port, "tilesrv_metatiles_rendered_total")


def png_whole(data):
    """Signature, chunks with good CRCs, IEND at the end."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return False
    pos = 8
    while pos + 12 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if pos + 12 + n > len(data):
            return False
        crc = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]
        if zlib.crc32(data[pos + 4:pos + 8 + n]) & 0xffffffff != crc:
            return False
        pos += 12 + n
        if kind == b"IEND":
            return pos == len(data)
    return False


class Redis:
    """Just enough RESP for the checks: one command at a time over one connection."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), 5)
        self.f = self.s.makefile("rb")

    def close(self):
        self.f.close()
        self.s.close()

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.read()

    def read(self):
        line = self.f.readline()
        if not line:
            raise Fail("Redis closed the connection")
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise Fail("Redis error: %s" % rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2]
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise Fail("unexpected RESP %r" % line)

    def keys(self, pattern):
        out, cur = [], "0"
        while True:
            cur, ks = self.cmd("SCAN", cur, "MATCH", pattern, "COUNT", 1000)
            out += [k.decode() for k in ks]
            if cur in (b"0", "0"):
                return sorted(out)


def demo_config(src, path, redis_port, prefix):
    demo = open(os.path.join(src, "data", "demo", "tilesrv.yaml")).read()
    demo = demo.replace("path: duesseldorf_demo.gpkg",
                        "path: %s" % os.path.join(src, "data", "demo", "duesseldorf_demo.gpkg"))
    demo = demo.replace("air_csv: air_uba_duesseldorf.csv",
                        "air_csv: %s" % os.path.join(src, "data", "demo", "air_uba_duesseldorf.csv"))
    demo = demo.replace("../../styles/", os.path.join(src, "styles") + "/")
    old = re.search(r"^server:\n(  .*\n)+", demo, re.M)
    if not old:
        raise Fail("demo config has no server section")
    server = ("server:\n  listen: \"127.0.0.1:8080\"\n  cache_mb: 64\n"
              "  admin:\n    token: \"%s\"\n    allow: [127.0.0.0/8]\n" % TOKEN)
    demo = demo[:old.start()] + server + demo[old.end():]
    cache = ('{type: redis, url: "redis://127.0.0.1:%d/0", prefix: "%s", lock_timeout: 20}'
             % (redis_port, prefix))
    if "    buffer: 64\n" not in demo:
        raise Fail("demo config: cadastre has no buffer line")
    demo = demo.replace("    buffer: 64\n", "    buffer: 64\n    cache: %s\n" % cache, 1)
    with open(path, "w") as f:
        f.write(demo)
    return path


def start_redis(exe, port, tmp):
    p = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", tmp, "--daemonize", "no"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        if p.poll() is not None:
            raise Fail("redis-server exited with %d" % p.returncode)
        try:
            r = Redis(port)
            if r.cmd("PING") == "PONG":
                return p, r
            r.close()
        except OSError:
            pass
        time.sleep(0.05)
    p.kill()
    raise Fail("redis-server did not come up on port %d" % port)


def start_node(binary, cfg, log):
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


def tile_path(x, y, z=Z):
    return "/tiles/cadastre/%d/%d/%d.png" % (z, x, y)


def both_at_once(pa, pb, path, rounds=1):
    """GET path from both nodes at the same moment; [(status, headers, body)] * 2."""
    out = [None, None]
    gate = threading.Barrier(2)

    def one(i, port):
        gate.wait()
        out[i] = get(port, path)
    th = [threading.Thread(target=one, args=(i, p)) for i, p in enumerate((pa, pb))]
    for t in th:
        t.start()
    for t in th:
        t.join(120)
    return out


def health(port):
    st, _, body = get(port, "/health")
    return json.loads(body)


def wait_for(what, fn, timeout=15):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise Fail("timed out waiting for: %s" % what)
        time.sleep(0.05)


def run(a, tmp):
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.access(exe, os.X_OK):
        raise Fail("redis-server is not installed (scripts/deps.sh --test installs it)")
    rport = free_port()
    redis, rc = start_redis(exe, rport, tmp)
    nodes = []
    try:
        prefix = "t%d:" % os.getpid()
        cfg = demo_config(a.srcdir, os.path.join(tmp, "redis.yaml"), rport, prefix)
        na = start_node(a.binary, cfg, os.path.join(tmp, "a.log"))
        nodes.append(na)
        nb = start_node(a.binary, cfg, os.path.join(tmp, "b.log"))
        nodes.append(nb)
        pa, pb = na[1], nb[1]
        check(health(pa)["status"] == "ok" and health(pb)["status"] == "ok",
              "both nodes up, /health ok")

        # 1. the same uncached tile from both at once: one render per metatile in total
        n_meta = 6
        r0 = renders(pa) + renders(pb)
        for k in range(n_meta):
            x, y = MX + 8 * k + (k % 8), MY + (3 * k) % 8
            (sa, ha, ba), (sb, hb, bb) = both_at_once(pa, pb, tile_path(x, y))
            if not (sa == 200 and sb == 200):
                raise Fail("tile %d/%d: status %d and %d" % (x, y, sa, sb))
            if ba != bb or ha.get("etag") != hb.get("etag") or not png_whole(ba):
                raise Fail("tile %d/%d: the nodes answered different tiles (ETag %s vs %s)"
                           % (x, y, ha.get("etag"), hb.get("etag")))
        r1 = renders(pa) + renders(pb)
        check(r1 - r0 == n_meta, "%d metatiles asked of both nodes at once: %d renders in total "
              "(A %d, B %d)" % (n_meta, r1 - r0, renders(pa), renders(pb)))
        check(True, "both nodes answered identical bytes and ETag each time")
        waits = sum(metric(p, "tilesrv_shared_render_waits_total") for p in (pa, pb))
        hits = sum(metric(p, "tilesrv_shared_render_hits_total") for p in (pa, pb))
        # the requests really met: at least once a node found the other's lock and took
        # its tiles (else the test would not have exercised the lock at all)
        check(waits >= 1 and hits >= 1, "/metrics: %d waits for another node's render lock, "
              "%d metatiles taken from Redis instead of rendered" % (waits, hits))

        # the keys: 64 tiles per metatile, the locks gone
        keys = rc.keys(prefix + "cadastre/WebMercatorQuad@1x/%d/*" % Z)
        check(len(keys) == 64 * n_meta, "Redis holds the %d tiles of the %d metatiles (%d keys)"
              % (64 * n_meta, n_meta, len(keys)))
        # a lock is released after its tiles are written, off the answered request's path
        wait_for("the render locks released", lambda: rc.keys(prefix + "lock:*") == [],
                 timeout=30)
        check(rc.keys(prefix + "lock:*") == [], "no render lock left behind")
        v = rc.cmd("GET", prefix + "cadastre/WebMercatorQuad@1x/%d/%d/%d" % (Z, MX, MY))
        check(v[:4] == b"TSR1" and png_whole(v[32:]),
              "a value is the TSR1 header and a whole PNG")

        # 2. rendered by A, served by B from Redis without rendering
        x, y = MX + 8 * 10 + 2, MY + 5
        ra, rb = renders(pa), renders(pb)
        st, h1, b1 = get(pa, tile_path(x, y))
        check(st == 200 and renders(pa) == ra + 1, "A renders a new metatile")
        wait_for("A's tiles in Redis", lambda: rc.cmd(
            "EXISTS", prefix + "cadastre/WebMercatorQuad@1x/%d/%d/%d" % (Z, x, y)) == 1)
        st, h2, b2 = get(pb, tile_path(x, y))
        check(st == 200 and b2 == b1 and h2.get("etag") == h1.get("etag"),
              "B answers A's tile: same bytes and ETag")
        st, _, _ = get(pb, tile_path(x + 1, y + 1))
        check(st == 200 and renders(pb) == rb, "B rendered nothing (its tiles came from Redis)")

        # 3. a damaged value is detected, not served, and re-rendered
        x, y = MX + 8 * 12, MY
        get(pa, tile_path(x, y))
        key = prefix + "cadastre/WebMercatorQuad@1x/%d/%d/%d" % (Z, x + 3, y + 3)
        wait_for("tile in Redis", lambda: rc.cmd("EXISTS", key) == 1)
        good = rc.cmd("GET", key)
        rc.cmd("SET", key, good[:40] + b"garbage" + good[47:])   # same length, bad CRC
        c0, rb = metric(pb, "tilesrv_persist_corrupt_total"), renders(pb)
        st, _, body = get(pb, tile_path(x + 3, y + 3))
        check(st == 200 and png_whole(body) and body == good[32:],
              "damaged value: B answers a whole PNG, the right one")
        check(metric(pb, "tilesrv_persist_corrupt_total") == c0 + 1 and renders(pb) == rb + 1,
              "the damage was counted and the metatile re-rendered on B")
        rc.cmd("SET", key, b"TSR1")                               # cut short
        st, _, body = get(pa, tile_path(x + 3, y + 3))            # A has it in memory
        check(st == 200 and body == good[32:], "A still serves its copy from memory")

        # 4. truncate on A (admin endpoint) deletes the keys; B then renders afresh
        x, y = MX + 8 * 14, MY + 8
        get(pa, tile_path(x, y))
        wait_for("A's tiles in Redis", lambda: rc.cmd(
            "EXISTS", prefix + "cadastre/WebMercatorQuad@1x/%d/%d/%d" % (Z, x + 7, y + 7)) == 1)
        pat = prefix + "cadastre/WebMercatorQuad@1x/%d/*" % Z
        n_before = len(rc.keys(pat))
        rc.cmd("SET", prefix + "other-tileset/x/1", "kept")
        st, _, body = get(pa, "/admin/truncate?tileset=cadastre&zoom=%d" % Z,
                          {"Authorization": "Bearer " + TOKEN}, method="POST")
        check(st == 200, "POST /admin/truncate on A: 200 (%s)" % body[:200])
        removed = json.loads(body)["removed"]
        check(removed >= n_before and rc.keys(pat) == [],
              "truncate removed the %d tile keys of level %d from Redis (removed %d)"
              % (n_before, Z, removed))
        check(rc.cmd("GET", prefix + "other-tileset/x/1") == b"kept",
              "keys outside the tileset are left alone")
        rb = renders(pb)
        st, _, body = get(pb, tile_path(x + 1, y))
        check(st == 200 and png_whole(body) and renders(pb) == rb + 1,
              "after the truncate B renders the metatile afresh")

        # the command line: `tilesrv truncate` on the same config
        wait_for("B's tiles in Redis", lambda: len(rc.keys(pat)) == 64)
        out = subprocess.run([a.binary, "truncate", "-c", cfg, "--tileset", "cadastre",
                              "--zoom", "%d-%d" % (Z, Z)], capture_output=True, text=True,
                             timeout=60)
        check(out.returncode == 0 and rc.keys(pat) == [],
              "`tilesrv truncate` deletes them too (exit %d)" % out.returncode)

        # 5. Redis down: both keep serving, rendered, and say degraded
        redis.send_signal(signal.SIGKILL)
        redis.wait(10)
        rc.close()
        for i, (x, y) in enumerate([(MX + 8 * 20, MY), (MX + 8 * 21, MY)]):
            ra, rb = renders(pa), renders(pb)
            t0 = time.time()
            sa, _, ba = get(pa, tile_path(x, y))
            sb, _, bb = get(pb, tile_path(x + 1, y))
            dt = time.time() - t0
            check(sa == 200 and sb == 200 and png_whole(ba) and png_whole(bb) and
                  renders(pa) == ra + 1 and renders(pb) == rb + 1,
                  "Redis down (%d): both nodes answer 200, rendered (%.2f s)" % (i + 1, dt))
        for name, p in (("A", pa), ("B", pb)):
            hh = wait_for("%s degraded" % name,
                          lambda: (lambda j: j if j["status"] == "degraded" else None)(health(p)))
            check("Redis" in hh["cache"]["persist_error"],
                  "%s: /health degraded: %s" % (name, hh["cache"]["persist_error"][:120]))

        # 6. Redis back: shared again
        redis, rc = start_redis(exe, rport, tmp)
        x, y = MX + 8 * 24, MY
        deadline = time.time() + 15
        while True:        # the nodes retry their connection once a second
            ra = renders(pa)
            get(pa, tile_path(x, y))
            if health(pa)["status"] == "ok":
                break
            if time.time() > deadline:
                raise Fail("A did not get back to Redis: %s" % health(pa))
            time.sleep(0.3)
            x += 8
        check(renders(pa) == ra + 1, "Redis back: A renders and writes again, /health ok")
        wait_for("A's tiles in Redis", lambda: rc.cmd(
            "EXISTS", prefix + "cadastre/WebMercatorQuad@1x/%d/%d/%d" % (Z, x + 4, y + 4)) == 1)
        # B tries Redis again once its back-off (1 s, doubling while Redis stayed down) has
        # passed: requests of other tiles until B answers ok
        for k in range(100):
            if health(pb)["status"] == "ok":
                break
            get(pb, tile_path(MX + 8 * (60 + k), MY + 8))
            time.sleep(0.3)
        rb = renders(pb)
        st, _, body = get(pb, tile_path(x + 4, y + 4))
        check(st == 200 and png_whole(body) and renders(pb) == rb,
              "B takes A's new tile from Redis without rendering")
        r0 = renders(pa) + renders(pb)
        (sa, ha, _), (sb, hb, _) = both_at_once(pa, pb, tile_path(MX + 8 * 40, MY))
        r1 = renders(pa) + renders(pb)
        check(sa == sb == 200 and ha.get("etag") == hb.get("etag") and r1 == r0 + 1,
              "and one render for a tile asked of both at once again")
        # B's last render job (or its next one) meets Redis again: ok
        for k in range(50):
            if health(pb)["status"] == "ok":
                break
            get(pb, tile_path(MX + 8 * (50 + k), MY))
            time.sleep(0.1)
        check(health(pa)["status"] == "ok" and health(pb)["status"] == "ok",
              "both nodes report /health ok again")

        # 7. a hung Redis (accepts connections, never answers: SIGSTOP): the first miss waits
        # for the command timeout (2 s), then Redis counts as down and the next misses are
        # rendered at once (they waited 4 s each, queued behind each other)
        redis.send_signal(signal.SIGSTOP)
        try:
            times = []
            for k in range(6):
                t0 = time.time()
                st, _, body = get(pa, tile_path(MX + 8 * (120 + k), MY + 16))
                times.append(time.time() - t0)
                check(st == 200 and png_whole(body), "hung Redis (%d): 200, rendered" % k)
            check(sum(times) < 9 and max(times[1:]) < 2.5,
                  "hung Redis: one timeout, then misses render at once: %s" %
                  ["%.2f" % t for t in times])
            hh = health(pa)
            check(hh["status"] == "degraded", "hung Redis: /health degraded")
        finally:
            redis.send_signal(signal.SIGCONT)
        # back: /health alone (no tile traffic) finds Redis answering again once A's back-off
        # has passed (a probe at most every 5 s)
        for k in range(150):
            if health(pa)["status"] == "ok":
                break
            time.sleep(0.3)
        check(health(pa)["status"] == "ok", "Redis answering again: A /health ok without traffic")

        # `tilesrv seed` fills the shared cache: the nodes serve it without rendering
        out = subprocess.run([a.binary, "seed", "-c", cfg, "--tileset", "cadastre", "--zoom",
                              "12-13", "-q", "--progress-file", os.path.join(tmp, "seed.progress")],
                             capture_output=True, text=True, timeout=120)
        seeded = rc.keys(prefix + "cadastre/WebMercatorQuad@1x/13/*")
        check(out.returncode == 0 and seeded, "`tilesrv seed` z12-13 wrote %d z13 tiles to Redis"
              % len(seeded))
        z13 = [tuple(int(v) for v in k.rsplit("/", 2)[1:]) for k in seeded]
        ra, rb = renders(pa), renders(pb)
        for i, (x, y) in enumerate(z13[:4]):
            st, _, body = get((pa, pb)[i % 2], tile_path(x, y, 13))
            if st != 200 or not png_whole(body):
                raise Fail("seeded tile 13/%d/%d: %d" % (x, y, st))
        check(renders(pa) == ra and renders(pb) == rb, "both nodes serve seeded tiles unrendered")

        # a clean stop (exit 0; under sanitizers: no report, no leak)
        for name, (p, _) in zip(("A", "B"), nodes):
            p.send_signal(signal.SIGTERM)
            rc_ = p.wait(60)
            log = open(os.path.join(tmp, name.lower() + ".log")).read()
            check(rc_ == 0 and "Sanitizer" not in log and "runtime error" not in log,
                  "node %s stops cleanly (exit %d)" % (name, rc_))
    finally:
        for p, _ in nodes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p, _ in nodes:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        try:
            rc.close()
        except Exception:
            pass
        if redis.poll() is None:
            redis.send_signal(signal.SIGTERM)
            try:
                redis.wait(10)
            except subprocess.TimeoutExpired:
                redis.kill()


def wrong_password(a, tmp):
    """A node with a wrong Redis password: /health and the log say that AUTH was refused,
    not that Redis cannot be reached (it answered); tiles are still served."""
    port = free_port()
    exe = shutil.which("redis-server")
    p = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", tmp, "--requirepass", "Right-pass-1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    node = None
    try:
        time.sleep(0.5)
        cfg = demo_config(a.srcdir, os.path.join(tmp, "auth.yaml"), port, "auth:")
        text = open(cfg).read().replace('url: "redis://127.0.0.1:%d/0"' % port,
                                        'url: "redis://:Wrong-pass-2@127.0.0.1:%d/0"' % port)
        with open(cfg, "w") as f:
            f.write(text)
        log = os.path.join(tmp, "auth.log")
        node = start_node(a.binary, cfg, log)
        st, _, body = get(node[1], tile_path(MX, MY))
        check(st == 200 and png_whole(body), "wrong password: tiles still served (uncached)")
        # the tiles are written after the request is answered: wait for that write
        h = wait_for("the failed write in /health",
                     lambda: (lambda j: j if j["cache"]["persist_error"] else None)(health(node[1])),
                     timeout=30)
        err = h["cache"]["persist_error"]
        check(h["status"] == "degraded" and "AUTH" in err and "reached" not in err,
              "wrong password: /health says AUTH was refused: %s" % err)
        check("Wrong-pass-2" not in err and "Wrong-pass-2" not in open(log).read(),
              "the password is in neither /health nor the log")
    finally:
        if node is not None:
            node[0].send_signal(signal.SIGTERM)
            node[0].wait(30)
        p.send_signal(signal.SIGTERM)
        p.wait(10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--srcdir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tilesrv-redis-")
    try:
        run(a, tmp)
        wrong_password(a, tmp)
    except Fail as e:
        print("FAIL: %s" % e, flush=True)
        for n in ("a.log", "b.log"):
            p = os.path.join(tmp, n)
            if os.path.exists(p):
                print("---- %s (end) ----\n%s" % (n, open(p).read()[-4000:]))
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
