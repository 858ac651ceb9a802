#!/usr/bin/env python3
"""Live tests of the feed module: a REAL mosquitto broker (started here on a free port), a
small HTTP server with the recorded SensorThings / GeoJSON documents of tests/data/feed,
and tests/feed/feed_driver running one feed against them.

    test_feed_live.py --driver BUILD/tests/feed_driver --srcdir SRC \
                      --scenario sta|lorawan|geojson|demo

sta      HTTP 500 at start (counted, retried with backoff) -> load of 30 Things over two
         pages -> MQTT connected -> a published Observation changes one sensor (one change
         reported) -> malformed, NaN, wrong-type and oversize messages are counted and change
         nothing -> broker killed (counted) while the server times out -> broker restarted:
         reconnect, reconciliation (timeout counted, state kept) -> server back: the
         reconciliation brings a change made while the broker was down -> sensors go stale
         on schedule.
lorawan  TTS v3 and ChirpStack v4 uplinks over MQTT -> bay states; older uplink ignored;
         unknown device counted.
geojson  polls with ETag: 304s counted; a changed document -> change; HTTP 500 and an
         invalid document -> counted, state kept; a feature dropped -> removed.
demo     the simulated parking and air gateways publish changes.
Exit 0 = pass, 1 = fail, 77 = skipped (mosquitto not installed).
"""
import argparse
import hashlib
import http.server
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time

MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)
    print("  ok: " + what, flush=True)


# ---- the broker -------------------------------------------------------------------------

class Broker:
    def __init__(self, port):
        self.port = port
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([MOSQUITTO, "-p", str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise Fail("mosquitto did not start on port %d" % self.port)

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def publish(self, topic, payload, qos=1):
        data = payload if isinstance(payload, bytes) else payload.encode()
        subprocess.run([MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(self.port), "-q", str(qos),
                        "-t", topic, "-s"], input=data, check=True, timeout=10)


# ---- the HTTP server --------------------------------------------------------------------

class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.mode = "ok"          # ok | 500 | timeout
        self.docs = {}            # path -> bytes (Things pages by "page1"/"page2")
        self.requests = []


class Handler(http.server.BaseHTTPRequestHandler):
    state = None

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        st = self.state
        with st.lock:
            mode = st.mode
            st.requests.append(self.path)
        if mode == "500":
            self.send_error(500, "recorded outage")
            return
        if mode == "timeout":
            time.sleep(1.5)
        path, _, query = self.path.partition("?")
        with st.lock:
            if path.endswith("/Things"):
                body = st.docs["page2" if "skip=15" in query else "page1"]
            else:
                body = st.docs.get(path)
        if body is None:
            self.send_error(404)
            return
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def start_http(state):
    handler = type("H", (Handler,), {"state": state})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


# ---- the driver --------------------------------------------------------------------------

DRIVERS = []


class Driver:
    def __init__(self, exe, args):
        DRIVERS.append(self)
        self.proc = subprocess.Popen([exe] + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines = queue.Queue()
        self.changes = []         # (time, version, [(id, what)])
        self.log = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        self.expect(lambda l: l == "READY", 20, "driver ready")

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("CHANGE "):
                _, ver, n, *rest = line.split(" ")
                ids = []
                if rest and rest[0]:
                    for item in rest[0].split(","):
                        sid, _, what = item.rpartition(":")
                        ids.append((sid, int(what)))
                self.changes.append((time.time(), int(ver), ids))
            self.lines.put(line)

    def _read_err(self):
        for line in self.proc.stderr:
            self.log.append(line.rstrip("\n"))

    def expect(self, pred, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            if pred(line):
                return line
        raise Fail("timed out waiting for " + what)

    def command(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()

    def stats(self):
        self.command("stats")
        line = self.expect(lambda l: l.startswith("STATS "), 10, "stats")
        return json.loads(line[6:])

    def snap(self):
        self.command("snap")
        head = self.expect(lambda l: l.startswith("SNAP "), 10, "snapshot")
        _, ver, count, stale = head.split(" ")
        sensors = {}
        while True:
            line = self.expect(lambda l: l.startswith("S ") or l == "END", 10, "snapshot lines")
            if line == "END":
                break
            parts = line.split(" ")
            sensors[parts[1]] = {"state": parts[2], "last_state": parts[3],
                                 "stale": parts[4] == "1", "time": parts[5],
                                 "values": dict(p.split("=", 1) for p in parts[6:])}
        return int(ver), int(count), int(stale), sensors

    def wait_stats(self, pred, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            st = self.stats()
            if pred(st):
                print("  ok: " + what, flush=True)
                return st
            time.sleep(0.05)
        raise Fail("timed out waiting for %s (last stats %s)" % (what, json.dumps(st)))

    def wait_change(self, sid, since, timeout, what, mask=None):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for t, ver, ids in list(self.changes):
                if t < since:
                    continue
                for i, w in ids:
                    if i == sid and (mask is None or w & mask):
                        print("  ok: " + what, flush=True)
                        return t, ver, ids
            time.sleep(0.02)
        raise Fail("timed out waiting for " + what)

    def quit(self):
        try:
            self.command("quit")
            self.proc.wait(timeout=30)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode


CHANGED_REMOVED = 1 << 1
CHANGED_STATE = 1 << 4
CHANGED_STALE = 1 << 6


def observation(t, result):
    return json.dumps({"phenomenonTime": t, "result": result})


# ---- scenarios ---------------------------------------------------------------------------

def scenario_sta(a, broker, state, srv):
    data = os.path.join(a.srcdir, "tests", "data", "feed")
    with open(os.path.join(data, "sta_ev_things_page1.json"), "rb") as f:
        page1 = f.read()
    with open(os.path.join(data, "sta_ev_things_page2.json"), "rb") as f:
        page2 = f.read()
    state.docs["page1"], state.docs["page2"] = page1, page2
    state.mode = "500"
    url = "http://127.0.0.1:%d/v1.0" % srv.server_address[1]
    d = Driver(a.driver, ["kind=sensorthings", "name=ev", "url=" + url, "mqtt_host=127.0.0.1",
                          "mqtt_port=%d" % broker.port, "state=available:free",
                          "state=charging:occupied", "state=outoforder:unknown", "poll=600",
                          "timeout=0.5", "backoff_min=0.1", "backoff_max=0.4",
                          "stale_after=2.5", "stale_basis=received", "publish_interval_ms=20",
                          "page_size=15"])
    try:
        print("HTTP 500 at start", flush=True)
        d.wait_stats(lambda s: s["errors"]["http"] >= 2, 15, "HTTP 500s counted and retried")
        check(d.snap()[1] == 0, "no sensors while the server fails")
        state.mode = "ok"
        st = d.wait_stats(lambda s: s["loads"] >= 1 and s["sensors"] == 30, 15,
                          "load of 30 Things over two pages after the outage")
        check(any("skip=15" in r for r in state.requests), "paged through @iot.nextLink")
        d.wait_stats(lambda s: s["mqtt_connected"] == 1, 15, "MQTT connected")
        ver, count, stale, sensors = d.snap()
        check(sensors["4007"]["last_state"] == "occupied", "4007 loaded as occupied (charging)")

        print("published observation", flush=True)
        t0 = time.time()
        broker.publish("v1.0/Datastreams(8519)/Observations",
                       observation("2022-05-17T18:02:11.000Z", "available"))
        _, ver2, ids = d.wait_change("4007", t0, 10, "change reported for 4007", CHANGED_STATE)
        others = [i for i, w in ids if i != "4007" and w & CHANGED_STATE]
        check(not others, "no other sensor changed state (%s)" % others)
        v, _, _, sensors = d.snap()
        check(sensors["4007"]["last_state"] == "free", "4007 now free")
        check(sensors["4008"]["last_state"] == "occupied", "4008 untouched")

        print("bad messages", flush=True)
        before = d.stats()
        topic = "v1.0/Datastreams(8519)/Observations"
        broker.publish(topic, "{not json")
        # (a Datastream the load did not list has no subscription, so it cannot arrive:
        # unknown ids are counted in the lorawan scenario and the unit tests)
        broker.publish(topic, observation("2022-05-17T19:00:00Z", "NaN"))
        broker.publish(topic, '{"phenomenonTime":"2022-05-17T19:00:00Z","result":{"a":1}}')
        broker.publish(topic, b" " * (300 * 1024))
        broker.publish(topic, observation("2022-05-17T18:02:11.000Z", "available"))  # duplicate
        broker.publish(topic, observation("2022-05-17T17:00:00.000Z", "charging"))   # older
        st = d.wait_stats(lambda s: s["errors"]["parse"] == before["errors"]["parse"] + 1 and
                          s["errors"]["range"] == before["errors"]["range"] + 1 and
                          s["errors"]["type"] == before["errors"]["type"] + 1 and
                          s["errors"]["too_large"] == before["errors"]["too_large"] + 1 and
                          s["ignored_duplicate"] == before["ignored_duplicate"] + 1 and
                          s["ignored_old"] == before["ignored_old"] + 1, 10,
                          "malformed, NaN, wrong type, oversize, duplicate and older messages "
                          "counted")
        _, _, _, sensors = d.snap()
        check(sensors["4007"]["last_state"] == "free", "last good state kept")
        check(st["mqtt_connected"] == 1, "still connected")

        print("stale on schedule", flush=True)
        t_upd = [t for t, _, ids in d.changes if any(i == "4007" and w & CHANGED_STATE
                                                     for i, w in ids)][-1]
        t_stale, _, _ = d.wait_change("4007", t_upd, 10, "4007 goes stale", CHANGED_STALE)
        check(t_stale - t_upd >= 2.0, "not before stale_after (%.2f s after the update, "
              "stale_after 2.5 s)" % (t_stale - t_upd))
        _, _, nstale, sensors = d.snap()
        check(sensors["4007"]["state"] == "stale" and sensors["4007"]["last_state"] == "free",
              "stale sensor shows state 'stale', keeps last_state")
        d.wait_stats(lambda s: s["stale"] == 30, 10, "all 30 sensors stale without news")

        print("broker killed, server timing out", flush=True)
        state.mode = "timeout"
        loads = d.stats()["loads"]
        broker.kill()
        d.wait_stats(lambda s: s["mqtt_connected"] == 0 and s["errors"]["mqtt"] >= 1, 15,
                     "connection loss noticed and counted")
        # while the broker is down, 4008 changes on the server
        doc = json.loads(page1)
        for thing in doc["value"]:
            for ds in thing["Datastreams"]:
                if ds["@iot.id"] == 8694:
                    ds["Observations"][0]["phenomenonTime"] = "2022-05-17T18:30:00.000Z"
                    ds["Observations"][0]["result"] = "outoforder"
        newer = json.dumps(doc).encode()
        check(b"2022-05-17T18:30:00.000Z" in newer, "server document changed")
        with state.lock:
            state.docs["page1"] = newer
        broker.start()
        d.wait_stats(lambda s: s["mqtt_connected"] == 1 and s["mqtt_connects"] >= 2, 20,
                     "reconnected after the broker restart")
        d.wait_stats(lambda s: s["errors"]["timeout"] >= 1, 15,
                     "reconciliation timed out, counted")
        _, count, _, sensors = d.snap()
        check(count == 30 and sensors["4008"]["last_state"] == "occupied",
              "last good state kept through the timeout")
        t1 = time.time()
        state.mode = "ok"
        d.wait_change("4008", t1, 15, "reconciliation brings the missed change", CHANGED_STATE)
        # (pages are published as they arrive: the change can come before the load ends)
        d.wait_stats(lambda s: s["loads"] > loads, 10, "a complete load after the reconnect")
        _, _, _, sensors = d.snap()
        check(sensors["4008"]["last_state"] == "unknown", "4008 outoforder -> unknown")
        t2 = time.time()
        broker.publish("v1.0/Datastreams(8569)/Observations",
                       observation("2022-05-17T19:00:00.000Z", "charging"))
        d.wait_change("4007", t2, 10, "messages flow again after the reconnect", CHANGED_STATE)
    finally:
        rc = d.quit()
    check(rc == 0, "driver stopped cleanly")
    return d


def scenario_lorawan(a, broker, state, srv):
    data = os.path.join(a.srcdir, "tests", "data", "feed")
    d = Driver(a.driver, ["kind=lorawan", "name=bays", "mqtt_host=127.0.0.1",
                          "mqtt_port=%d" % broker.port, "topic=v3/+/devices/+/up",
                          "topic=application/+/device/+/event/up",
                          "devices=" + os.path.join(data, "lorawan_devices.csv"),
                          "decoder=bosch_pls", "value_path=temperature", "stale_after=0",
                          "backoff_min=0.1", "backoff_max=0.4"])
    try:
        d.wait_stats(lambda s: s["mqtt_connected"] == 1 and s["sensors"] == 3, 15,
                     "connected, the three bays of the device table on the map")

        def load(name):
            with open(os.path.join(data, name), "rb") as f:
                return f.read()
        t0 = time.time()
        broker.publish("v3/application-tts-name@ttn/devices/eui-1000000000000001/up",
                       load("lorawan_tts_community_v3_uplink_1.json"))
        d.wait_change("PB-000001", t0, 10, "TTS status uplink -> change", CHANGED_STATE)
        _, _, _, s = d.snap()
        check(s["PB-000001"]["state"] == "occupied", "PB-000001 occupied")
        t1 = time.time()
        broker.publish("application/x/device/1000000000000001/event/up",
                       load("lorawan_chirpstack_v4_uplink_2.json"))
        d.wait_change("PB-000001", t1, 10, "ChirpStack start-up uplink -> change", CHANGED_STATE)
        _, _, _, s = d.snap()
        check(s["PB-000001"]["state"] == "free", "PB-000001 free (start-up frame, byte 16)")
        before = d.stats()
        broker.publish("v3/application-tts-name@ttn/devices/eui-1000000000000001/up",
                       load("lorawan_tts_community_v3_uplink_0.json"))  # 2023-05-19: older
        broker.publish("v3/a@ttn/devices/x/up",
                       load(os.path.join("bad", "unknown_device_tts.json")))
        d.wait_stats(lambda s: s["ignored_old"] > before["ignored_old"] and
                     s["errors"]["unknown"] == before["errors"]["unknown"] + 1, 10,
                     "older uplink ignored, unknown device counted")
        _, _, _, s = d.snap()
        check(s["PB-000001"]["state"] == "free", "state kept")
    finally:
        rc = d.quit()
    check(rc == 0, "driver stopped cleanly")
    return d


def scenario_geojson(a, broker, state, srv):
    data = os.path.join(a.srcdir, "tests", "data", "feed")
    with open(os.path.join(data, "ev_ladepunkte.geojson"), "rb") as f:
        doc = json.load(f)
    state.docs["/ev.geojson"] = json.dumps(doc).encode()
    url = "http://127.0.0.1:%d/ev.geojson" % srv.server_address[1]
    d = Driver(a.driver, ["kind=geojson", "name=ev", "url=" + url, "poll=0.2",
                          "state=available:free", "state=charging:occupied",
                          "state=outoforder:unknown", "stale_after=0", "timeout=2",
                          "backoff_min=0.1", "backoff_max=0.4"])
    try:
        d.wait_stats(lambda s: s["sensors"] == 20, 10, "20 sensors loaded")
        d.wait_stats(lambda s: s["http_not_modified"] >= 2, 10, "unchanged document: 304s")
        v0 = d.snap()[0]
        doc["features"][0]["properties"]["state"] = "available"
        doc["features"][0]["properties"]["time"] = "2022-05-17T19:00:00Z"
        t0 = time.time()
        with state.lock:
            state.docs["/ev.geojson"] = json.dumps(doc).encode()
        d.wait_change("8143", t0, 10, "changed document -> change", CHANGED_STATE)
        _, _, _, s = d.snap()
        check(s["8143"]["state"] == "free", "8143 charging -> free")
        state.mode = "500"
        d.wait_stats(lambda s: s["errors"]["http"] >= 1, 10, "HTTP 500 while polling counted")
        _, count, _, s = d.snap()
        check(count == 20 and s["8143"]["state"] == "free", "last good state kept")
        state.mode = "ok"
        before = d.stats()
        with state.lock:
            state.docs["/ev.geojson"] = b'{"type": "FeatureCollection", "features": [ {'
        d.wait_stats(lambda s: s["errors"]["parse"] > before["errors"]["parse"], 10,
                     "invalid document counted")
        _, count, _, s = d.snap()
        check(count == 20 and s["8143"]["state"] == "free", "state kept")
        t1 = time.time()
        gone = doc["features"].pop()
        with state.lock:
            state.docs["/ev.geojson"] = json.dumps(doc).encode()
        d.wait_change(str(gone["id"]), t1, 10, "feature dropped -> removed", CHANGED_REMOVED)
        check(d.snap()[1] == 19, "19 sensors left")
        check(d.snap()[0] > v0, "versions increase")
    finally:
        rc = d.quit()
    check(rc == 0, "driver stopped cleanly")
    return d


def scenario_demo(a, broker, state, srv):
    gpkg = os.path.join(a.srcdir, "data", "demo", "duesseldorf_demo.gpkg")
    d = Driver(a.driver, ["kind=demo", "name=parking", "simulate=parking", "bays=" + gpkg,
                          "parking_speed=600", "stale_after=1", "dead_share=0.05"])
    try:
        d.wait_stats(lambda s: s["sensors"] == 361, 10, "361 simulated bays")
        n0 = len(d.changes)
        d.wait_stats(lambda s: s["snapshots"] >= 5, 10, "occupancy keeps changing")
        check(len(d.changes) > n0, "changes reported")
        d.wait_stats(lambda s: s["stale"] >= 5, 10, "silent sensors go stale")
        _, _, _, s = d.snap()
        check(all(x["state"] in ("free", "occupied", "stale") for x in s.values()),
              "states are free / occupied / stale")
    finally:
        rc = d.quit()
    check(rc == 0, "parking driver stopped cleanly")
    csv = os.path.join(a.srcdir, "data", "demo", "air_uba_duesseldorf.csv")
    d = Driver(a.driver, ["kind=demo", "name=air", "simulate=air", "air_csv=" + csv,
                          "air_speed=36000"])
    try:
        d.wait_stats(lambda s: s["sensors"] == 4 and s["snapshots"] >= 3, 10,
                     "4 stations, a replayed hour every 0.1 s")
        _, _, _, s = d.snap()
        check("no2" in s["DENW082"]["values"], "Corneliusstraße has NO2")
    finally:
        rc = d.quit()
    check(rc == 0, "air driver stopped cleanly")
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("--scenario", required=True,
                    choices=["sta", "lorawan", "geojson", "demo"])
    a = ap.parse_args()
    if a.scenario in ("sta", "lorawan") and not (os.access(MOSQUITTO, os.X_OK) and
                                                 os.access(MOSQUITTO_PUB, os.X_OK)):
        print("mosquitto / mosquitto_pub not installed (scripts/deps.sh --test): skipped")
        return 77
    broker = Broker(free_port())
    state = State()
    srv = start_http(state)
    ok = False
    try:
        if a.scenario in ("sta", "lorawan"):
            broker.start()
        globals()["scenario_" + a.scenario](a, broker, state, srv)
        ok = True
        print("PASS", flush=True)
        return 0
    except Fail as e:
        print("FAIL: %s" % e, flush=True)
        return 1
    finally:
        broker.kill()
        srv.shutdown()
        for drv in DRIVERS:
            if drv.proc.poll() is None:
                drv.proc.kill()
                drv.proc.wait()
            if drv.log and (os.environ.get("FEED_LOG") or not ok):
                print("---- driver log ----\n" + "\n".join(drv.log))


if __name__ == "__main__":
    sys.exit(main())
