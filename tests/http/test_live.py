#!/usr/bin/env python3
"""Live overlays end to end: a REAL mosquitto broker (started here on a free port), `tilesrv
serve` with a LoRaWAN feed (tests/data/feed samples, device table of three demo bays) drawn
by the parking_state style, and mosquitto_pub publishing uplinks:

  - /sensors/bays.geojson lists the bays of the device table, ETag from the version, 304;
  - an uplink (TTS v3, occupied) -> the bay's tile changes ETag and turns red, a tile of a
    bay 3 km away keeps its ETag (304 on revalidation);
  - a later uplink (ChirpStack v4 start-up frame, free) -> the tile turns green;
  - an older uplink is ignored: the tile keeps its ETag;
  - /metrics carries the feed's counters and the invalidations;
  - a reload (SIGHUP) with the feed unchanged keeps it running: the bay stays green;
  - a reload with a changed setting, and one after an edit of the device table (a bay
    added), restart the feed with the bays' last states (the bay stays green), and the new
    MQTT client does not push the old one off the broker (distinct client ids);
  - a reload with a broken device table (a duplicate device) is refused naming the table's
    file:line; the running feed keeps going.

Usage: test_live.py --binary build/tilesrv [--srcdir .]
Exit 0 = pass, 1 = fail, 77 = skipped (mosquitto / mosquitto_pub not installed).
Standard library only (PNG tiles are decoded here with zlib).
"""
import argparse
import http.client
import json
import os
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

MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"

# bays of tests/data/feed/lorawan_devices.csv
BAY1 = (6.77600982000319, 51.2165985594095)   # PB-000001, device 1000000000000001
BAY3 = (6.7812582977145, 51.2444667604448)    # PB-000003, 3 km north
Z = 16


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


def wait_port(port, proc, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise Fail("%s exited with %d" % (what, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise Fail("%s did not come up on port %d" % (what, port))


def get(port, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, body


def tile_of(lon, lat, z):
    import math
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * n)
    return x, y


def png_rgba(data):
    """Decode an 8-bit RGBA / RGB / palette PNG (what tilesrv writes) to rows of RGBA."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise Fail("not a PNG")
    pos, idat, plte, trns = 8, b"", None, None
    w = h = depth = ctype = 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        elif kind == b"PLTE":
            plte = body
        elif kind == b"tRNS":
            trns = body
    if depth != 8 or ctype not in (2, 3, 6):
        raise Fail("unexpected PNG type depth %d colour %d" % (depth, ctype))
    bpp = {2: 3, 3: 1, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    out = []
    p = 0
    for _ in range(h):
        f = raw[p]
        line = bytearray(raw[p + 1:p + 1 + stride])
        p += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        prev = line
        row = []
        for x in range(w):
            if ctype == 6:
                row.append(tuple(line[4 * x:4 * x + 4]))
            elif ctype == 2:
                row.append(tuple(line[3 * x:3 * x + 3]) + (255,))
            else:
                k = line[x]
                al = trns[k] if trns and k < len(trns) else 255
                row.append(tuple(plte[3 * k:3 * k + 3]) + (al,))
        out.append(row)
    return out


def count_colour(png, rgb, tol=40):
    n = 0
    for row in png_rgba(png):
        for r, g, b, a in row:
            if a > 200 and abs(r - rgb[0]) < tol and abs(g - rgb[1]) < tol and abs(b - rgb[2]) < tol:
                n += 1
    return n


GREEN = (0x2c, 0xa0, 0x2c)   # parking_state.sld: free
RED = (0xd6, 0x27, 0x28)     # occupied


def publish(port, topic, path):
    with open(path, "rb") as f:
        data = f.read()
    subprocess.run([MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic,
                    "-s"], input=data, check=True, timeout=10)


def wait_etag_change(port, path, old, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st, h, body = get(port, path)
        if st == 200 and h.get("etag") != old:
            return h.get("etag"), body, time.time()
        time.sleep(0.05)
    raise Fail("tile %s kept its ETag %s for %d s" % (path, old, timeout))


def run(a, tmp):
    data = os.path.join(a.srcdir, "tests", "data", "feed")
    bport, hport = free_port(), free_port()
    broker = subprocess.Popen([MOSQUITTO, "-p", str(bport)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    srv = None
    log = os.path.join(tmp, "tilesrv.log")
    devices = os.path.join(tmp, "devices.csv")  # a copy: the test edits it
    shutil.copy(os.path.join(data, "lorawan_devices.csv"), devices)
    try:
        wait_port(bport, broker, "mosquitto")
        cfg = os.path.join(tmp, "live.yaml")
        with open(cfg, "w") as f:
            f.write("""server:
  cache_mb: 64
feeds:
  bays:
    kind: lorawan
    mqtt:
      host: 127.0.0.1
      port: %d
      topics: ["v3/+/devices/+/up", "application/+/device/+/event/up"]
    lorawan: {decoder: bosch_pls}
    devices: {path: %s}
    stale_after: 0
    backoff_min: 0.1
    backoff_max: 0.5
layers:
  bays:
    feed: bays
    style: %s
tilesets:
  parking:
    layers: [bays]
    metatile: 2
""" % (bport, devices, os.path.join(a.srcdir, "styles", "parking_state.sld")))
        logf = open(log, "w")
        srv = subprocess.Popen([a.binary, "serve", "-c", cfg, "--listen", "127.0.0.1:%d" % hport,
                                "--threads", "2"], stdout=logf, stderr=logf)
        wait_port(hport, srv, "tilesrv", 60)

        # the feed: the three bays of the device table, connected to the broker
        deadline = time.time() + 15
        while True:
            st, h, body = get(hport, "/sensors/bays.geojson")
            fc = json.loads(body) if st == 200 else None
            st_m, _, m = get(hport, "/metrics")
            if (fc and len(fc["features"]) == 3 and
                    'tilesrv_feed_mqtt_connected{feed="bays"} 1' in m.decode()):
                break
            if time.time() > deadline:
                raise Fail("feed not up: %s %s" % (st, body[:300]))
            time.sleep(0.1)
        # the overlay is rebuilt from that snapshot (the device table's bays, no state yet)
        # when an event of its version (or a later one) is out
        deadline = time.time() + 15
        while fc["version"] > 0:
            _, _, evs = get(hport, "/events?since=0")
            vs = [json.loads(l[6:])["version"] for l in evs.decode().splitlines()
                  if l.startswith("data: ") and '"feed":"bays"' in l]
            if vs and max(vs) >= fc["version"]:
                break
            if time.time() > deadline:
                raise Fail("no event for snapshot version %d: %s" % (fc["version"], evs[:300]))
            time.sleep(0.05)
        check(h["content-type"] == "application/geo+json", "GeoJSON content type")
        check(fc["feed"] == "bays" and {f["id"] for f in fc["features"]} >=
              {"PB-000001", "PB-000003"}, "/sensors/bays.geojson lists the device table's bays")
        etag = h["etag"]
        st, _, _ = get(hport, "/sensors/bays.geojson", {"If-None-Match": etag})
        check(st == 304, "unchanged snapshot: 304")
        st, _, _ = get(hport, "/sensors/nope.geojson")
        check(st == 404, "unknown feed: 404")

        x1, y1 = tile_of(*BAY1, Z)
        x3, y3 = tile_of(*BAY3, Z)
        near = "/tiles/parking/%d/%d/%d.png" % (Z, x1, y1)
        far = "/tiles/parking/%d/%d/%d.png" % (Z, x3, y3)
        st, h1, t1 = get(hport, near)
        check(st == 200 and h1.get("cache-control") == "no-cache",
              "live tile: 200, Cache-Control no-cache")
        st, hf, tf = get(hport, far)
        check(st == 200, "far tile 200")
        check(count_colour(t1, RED) == 0 and count_colour(t1, GREEN) == 0,
              "no state yet: nothing drawn")

        # /events: the hello names the latest event; a reconnect with it waits for the next
        st, h, body = get(hport, "/events")
        check(st == 200 and h["content-type"] == "text/event-stream" and
              b"event: hello" in body, "/events: hello")
        last = [l for l in body.decode().splitlines() if l.startswith("id: ")][0][4:]
        check("-" in last, "event ids carry this run's epoch: %s" % last)
        # an id of another run or node (another epoch, or a bare number) is told apart: a
        # reset at once, not the events of this run that happen to have those numbers
        for foreign in ("1a2b3c-1", "7"):
            t0 = time.time()
            st, _, fb = get(hport, "/events", {"Last-Event-ID": foreign})
            check(st == 200 and b"event: reset" in fb and time.time() - t0 < 5,
                  "foreign Last-Event-ID %s: reset at once" % foreign)
        got = {}

        def listen():
            got["t0"] = time.time()
            got["resp"] = get(hport, "/events", {"Last-Event-ID": last})
            got["t1"] = time.time()
        th = threading.Thread(target=listen)
        th.start()
        time.sleep(0.5)
        check(th.is_alive(), "/events with Last-Event-ID waits for the next event")

        # occupied (TTS v3, port 2 status frame)
        t_pub = time.time()
        publish(bport, "v3/application-tts-name@ttn/devices/eui-1000000000000001/up",
                os.path.join(data, "lorawan_tts_community_v3_uplink_1.json"))
        e2, t2, t_seen = wait_etag_change(hport, near, h1["etag"])
        print("  publish -> changed tile: %.0f ms" % ((t_seen - t_pub) * 1000), flush=True)
        check(count_colour(t2, RED) > 10 and count_colour(t2, GREEN) == 0,
              "occupied: the bay is drawn red")
        st, h, b = get(hport, far, {"If-None-Match": hf["etag"]})
        if st != 304:
            for name, png in (("first", tf), ("now", b)):
                px = [p for row in png_rgba(png) for p in row if p[3] > 0]
                print("  far tile %s: %d drawn pixels, first %s" % (name, len(px), px[:3]))
        check(st == 304, "the far tile kept its ETag (304) [%d %s -> %s]" %
              (st, hf["etag"], h.get("etag")))
        th.join(15)
        check(not th.is_alive() and got["resp"][0] == 200, "/events answered after the change")
        ev = [l[6:] for l in got["resp"][2].decode().splitlines() if l.startswith("data: ")]
        check(ev, "an event arrived: %s" % ev)
        e = json.loads(ev[-1])
        check(e["feed"] == "bays" and e["tilesets"] == ["parking"], "event names feed and tileset")
        bb = e["bbox"]
        check(bb[0] <= BAY1[0] <= bb[2] and bb[1] <= BAY1[1] <= bb[3],
              "event bbox holds the changed bay (rounded outwards)")
        st, _, _ = get(hport, near, {"If-None-Match": e2})
        check(st == 304, "the changed tile revalidates with its new ETag")
        st, h, body = get(hport, "/sensors/bays.geojson", {"If-None-Match": etag})
        check(st == 200 and h["etag"] != etag, "the snapshot's ETag changed")
        props = {f["id"]: f["properties"] for f in json.loads(body)["features"]}
        check(props["PB-000001"]["state"] == "occupied", "GeoJSON: PB-000001 occupied")

        # free (ChirpStack v4 start-up frame, a later uplink)
        publish(bport, "application/x/device/1000000000000001/event/up",
                os.path.join(data, "lorawan_chirpstack_v4_uplink_2.json"))
        e3, t3, _ = wait_etag_change(hport, near, e2)
        check(count_colour(t3, GREEN) > 10 and count_colour(t3, RED) == 0,
              "free: the bay is drawn green")

        # an older uplink is ignored: nothing changes
        publish(bport, "v3/application-tts-name@ttn/devices/eui-1000000000000001/up",
                os.path.join(data, "lorawan_tts_community_v3_uplink_0.json"))
        deadline = time.time() + 10
        while True:
            _, _, m = get(hport, "/metrics")
            if 'tilesrv_feed_ignored_total{feed="bays",reason="old"} 1' in m.decode():
                break
            if time.time() > deadline:
                raise Fail("older uplink not counted as ignored")
            time.sleep(0.05)
        time.sleep(0.3)
        st, _, _ = get(hport, near, {"If-None-Match": e3})
        check(st == 304, "older uplink ignored: the tile kept its ETag")
        st, _, _ = get(hport, far, {"If-None-Match": hf["etag"]})
        check(st == 304, "the far tile still has its first ETag")
        m = m.decode()
        inval = [l for l in m.splitlines() if l.startswith("tilesrv_live_tiles_invalidated_total")]
        check(inval and int(inval[0].split()[1]) >= 1, "invalidations counted in /metrics")

        # a reload with the feed unchanged keeps it running: the bay stays green
        srv.send_signal(signal.SIGHUP)
        deadline = time.time() + 30
        while "reload done" not in open(log).read():
            if time.time() > deadline:
                raise Fail("reload did not finish")
            time.sleep(0.1)
        check("feed bays unchanged: kept running" in open(log).read(), "reload kept the feed")
        deadline = time.time() + 10
        while True:
            st, h, t4 = get(hport, near)
            if st == 200 and count_colour(t4, GREEN) > 10:
                break
            if time.time() > deadline:
                raise Fail("after the reload the bay is not drawn green")
            time.sleep(0.1)
        check(count_colour(t4, RED) == 0, "after the reload the bay is still free (green)")

        def reload_and_wait(what):
            """SIGHUP; the log once the reload is done or refused."""
            srv.send_signal(signal.SIGHUP)
            deadline = time.time() + 30
            while True:
                text = open(log).read()
                done = text.count("reload done") + text.count("reload refused")
                if done >= reload_and_wait.done + 1:
                    reload_and_wait.done = done
                    return text
                if time.time() > deadline:
                    raise Fail("reload (%s) did not finish" % what)
                time.sleep(0.1)
        reload_and_wait.done = 1  # the unchanged reload above

        def bay_states():
            st, _, body = get(hport, "/sensors/bays.geojson")
            check(st == 200, "sensors answer")
            return {f["id"]: f["properties"].get("state") for f in json.loads(body)["features"]}

        # a changed setting restarts the feed: the bays keep their last states
        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write(text.replace("backoff_max: 0.5", "backoff_max: 0.6"))
        reload_and_wait("changed setting")
        states = bay_states()
        check(states.get("PB-000001") == "free",
              "a changed feed keeps the bays' last states: %r" % states)
        # an edited device table (a bay added) restarts the feed too (it was kept as it was)
        with open(devices, "a") as f:
            f.write("1000000000000009,PB-000009,6.7801,51.2301,Neu\n")
        text = reload_and_wait("edited device table")
        states = bay_states()
        check("PB-000009" in states and states.get("PB-000001") == "free",
              "the edited device table is read, the states kept: %r" % states)
        check("connection was lost" not in text.lower(),
              "the new MQTT clients did not push the old ones off the broker")
        # a broken device table is refused at its file:line; the feed goes on
        with open(devices, "a") as f:
            f.write("1000000000000009,PB-000010,6.7802,51.2302,Doppelt\n")
        text = reload_and_wait("broken device table")
        check("reload refused" in text and devices + ":" in text and "duplicate" in text,
              "a broken device table refuses the reload, naming it")
        states = bay_states()
        check(len(states) == 4 and states.get("PB-000001") == "free",
              "after the refused reload the feed goes on: %r" % states)
        st, _, body = get(hport, "/health")
        check(json.loads(body).get("reload", {}).get("ok") is False,
              "health says the last reload failed: %s" % body[:300])

        # /health names the feed: ok while connected; the broker gone -> "degraded", the
        # feed not ok, mqtt_connected false (INTERFACE.md: readiness includes feeds fresh)
        st, _, body = get(hport, "/health")
        hj = json.loads(body)
        feeds = {f["name"]: f for f in hj.get("feeds", [])}
        check(st == 200 and hj["status"] == "ok" and feeds.get("bays", {}).get("ok") is True and
              feeds["bays"]["mqtt_connected"] is True and feeds["bays"]["sensors"] == 4,
              "health: the feed is ok and connected: %s" % body[:400])
        broker.kill()
        broker.wait()
        deadline = time.time() + 15
        while True:
            _, _, body = get(hport, "/health")
            hj = json.loads(body)
            fb = {f["name"]: f for f in hj.get("feeds", [])}.get("bays", {})
            if hj["status"] == "degraded" and fb.get("ok") is False and \
                    fb.get("mqtt_connected") is False:
                break
            if time.time() > deadline:
                raise Fail("health did not report the lost broker: %s" % body[:400])
            time.sleep(0.1)
        check(fb["sensors"] == 4, "the last good state is kept while the broker is gone")
    finally:
        if srv is not None:
            srv.send_signal(signal.SIGTERM)
            try:
                rc = srv.wait(timeout=30)
            except subprocess.TimeoutExpired:
                srv.kill()
                rc = -1
            text = open(log).read()
            if rc != 0:
                print(text)
            check(rc == 0, "server stopped cleanly")
            check("runtime error" not in text and "AddressSanitizer" not in text,
                  "no sanitizer reports in the server log")
        broker.kill()
        broker.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--srcdir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    a = ap.parse_args()
    a.binary = os.path.abspath(a.binary)
    a.srcdir = os.path.abspath(a.srcdir)
    if not (os.access(MOSQUITTO, os.X_OK) and os.access(MOSQUITTO_PUB, os.X_OK)):
        print("mosquitto / mosquitto_pub not installed (scripts/deps.sh --test): skipped")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="tilesrv-live-")
    try:
        run(a, tmp)
    except Fail as e:
        print("FAIL: %s" % e, flush=True)
        sys.exit(1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("live: all passed")


if __name__ == "__main__":
    main()
