#!/usr/bin/env python3
"""Scale-out end to end on loopback (issue 8): two `tilesrv serve` nodes with the same
configuration behind nginx (Debian's, round robin over both), sharing a REAL redis-server
as the cadastre's cache, both subscribed to the same REAL mosquitto broker for a LoRaWAN
parking feed (MQTT fan-out: every node receives every uplink):

  - through nginx, every uncached cadastre tile is asked twice at the same moment (so
    round robin hands one request to each node): each metatile is rendered once in total
    over both nodes, and both answers carry the same bytes and ETag;
  - an uplink published ONCE turns the bay occupied on both nodes: /sensors/bays.geojson
    of each node says so, and the bay's parking tile fetched from each node shows it red;
    through nginx, consecutive requests (alternating nodes) agree;
  - node A stopped: nginx serves every tile from node B (no error), and the state is there.

Usage: test_two_nodes.py --binary build/tilesrv [--srcdir .]
Exit 0 = pass, 1 = fail. Missing nginx, redis-server or mosquitto is a failure, not a skip
(scripts/deps.sh --test installs them). Standard library only.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_redis import (Fail, check, free_port, get, renders, start_node,  # noqa: E402
                        start_redis)
from test_live import (BAY1, GREEN, RED, count_colour, publish,  # noqa: E402
                       tile_of, wait_port)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
MOSQUITTO = "/usr/sbin/mosquitto"
Z = 16


def config(src, path, redis_port, mqtt_port):
    data = os.path.join(src, "data")
    with open(path, "w") as f:
        f.write("""server:
  cache_mb: 64
sources:
  demo:
    path: {gpkg}
feeds:
  bays:
    kind: lorawan
    mqtt:
      host: 127.0.0.1
      port: {mqtt}
      topics: ["v3/+/devices/+/up", "application/+/device/+/event/up"]
    lorawan: {{decoder: bosch_pls}}
    devices: {{path: {devices}}}
    stale_after: 0
    backoff_min: 0.1
    backoff_max: 0.5
layers:
  parcels: {{source: demo, table: parcels, style: {styles}/alkis_parcels.sld}}
  buildings: {{source: demo, table: buildings, style: {styles}/alkis_buildings.sld}}
  bays: {{feed: bays, style: {styles}/parking_state.sld}}
tilesets:
  cadastre:
    layers: [parcels, buildings]
    metatile: 8
    buffer: 64
    cache: {{type: redis, url: "redis://127.0.0.1:{redis}/0", prefix: "two:", lock_timeout: 20}}
  parking:
    layers: [bays]
    metatile: 2
""".format(gpkg=os.path.join(data, "demo", "duesseldorf_demo.gpkg"), mqtt=mqtt_port,
           devices=os.path.join(src, "tests", "data", "feed", "lorawan_devices.csv"),
           styles=os.path.join(src, "styles"), redis=redis_port))
    return path


def start_nginx(tmp, port, upstreams):
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx_error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream tilesrv {{
        {servers}
        keepalive 8;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://tilesrv;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_next_upstream error timeout http_502;
            proxy_connect_timeout 2s;
            proxy_read_timeout 120s;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
""".format(tmp=tmp, port=port,
           servers="\n        ".join("server 127.0.0.1:%d max_fails=1 fail_timeout=30s;" % u
                                      for u in upstreams)))
    p = subprocess.Popen([NGINX, "-c", conf, "-p", tmp], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait_port(port, p, "nginx")
    return p


def sensor_state(port, sensor):
    st, _, body = get(port, "/sensors/bays.geojson")
    if st != 200:
        return None
    for f in json.loads(body)["features"]:
        if f["id"] == sensor:
            return f["properties"].get("state")
    return None


def feed_up(port):
    st, _, body = get(port, "/metrics")
    return st == 200 and 'tilesrv_feed_mqtt_connected{feed="bays"} 1' in body.decode()


def wait_for(what, fn, timeout=20):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise Fail("timed out waiting for: %s" % what)
        time.sleep(0.05)


def run(a, tmp):
    for exe, what in ((NGINX, "nginx"), (REDIS, "redis-server"), (MOSQUITTO, "mosquitto")):
        if not os.path.exists(exe):
            raise Fail("%s is not installed (scripts/deps.sh --test installs it)" % what)
    procs = []
    try:
        rport, mport, nport = free_port(), free_port(), free_port()
        redis, rc = start_redis(REDIS, rport, tmp)
        procs.append(redis)
        rc.close()
        broker = subprocess.Popen([MOSQUITTO, "-p", str(mport)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        procs.append(broker)
        wait_port(mport, broker, "mosquitto")
        cfg = config(a.srcdir, os.path.join(tmp, "two.yaml"), rport, mport)
        na, pa = start_node(a.binary, cfg, os.path.join(tmp, "a.log"))
        procs.append(na)
        nb, pb = start_node(a.binary, cfg, os.path.join(tmp, "b.log"))
        procs.append(nb)
        nginx = start_nginx(tmp, nport, [pa, pb])
        procs.append(nginx)
        wait_for("both nodes subscribed", lambda: feed_up(pa) and feed_up(pb))

        # a tile rendered once for both: every request twice at once through nginx
        r0 = renders(pa) + renders(pb)
        metas = set()
        seen_nodes = set()
        for k in range(4):
            x, y = 34000 + 8 * (k % 2), 21872 + 8 * (k // 2)
            metas.add((x // 8, y // 8))
            path = "/tiles/cadastre/%d/%d/%d.png" % (Z, x + 1, y + 1)
            out = [None, None]
            gate = threading.Barrier(2)

            def one(i, p=path):
                gate.wait()
                out[i] = get(nport, p)
            th = [threading.Thread(target=one, args=(i,)) for i in range(2)]
            for t in th:
                t.start()
            for t in th:
                t.join(120)
            check(all(o is not None and o[0] == 200 for o in out),
                  "tile %s: both requests answered 200 through nginx" % path)
            check(out[0][2] == out[1][2] and out[0][1]["etag"] == out[1][1]["etag"],
                  "tile %s: the same bytes and ETag from both" % path)
            seen_nodes |= {o[1].get("x-upstream") for o in out}
        check(len(seen_nodes) == 2, "round robin sent requests to both nodes: %s" % seen_nodes)
        total = renders(pa) + renders(pb) - r0
        check(total == len(metas),
              "each metatile rendered once over both nodes (%d renders, %d metatiles; "
              "A %d, B %d)" % (total, len(metas), renders(pa), renders(pb)))

        # one uplink, published once, reaches both nodes
        x1, y1 = tile_of(BAY1[0], BAY1[1], Z)
        near = "/tiles/parking/%d/%d/%d.png" % (Z, x1, y1)
        for p in (pa, pb):
            st, _, t = get(p, near)
            check(st == 200 and count_colour(t, RED) == 0, "node %d: bay not red before" % p)
        publish(mport, "v3/application-tts-name@ttn/devices/eui-1000000000000001/up",
                os.path.join(a.srcdir, "tests", "data", "feed",
                             "lorawan_tts_community_v3_uplink_1.json"))
        for name, p in (("A", pa), ("B", pb)):
            wait_for("node %s: PB-000001 occupied" % name,
                     lambda p=p: sensor_state(p, "PB-000001") == "occupied")
            check(True, "node %s: /sensors says PB-000001 occupied (published once)" % name)
            tile = wait_for("node %s: the bay's tile turns red" % name,
                            lambda p=p: (lambda r: r[2] if r[0] == 200 and
                                         count_colour(r[2], RED) > 10 else None)(get(p, near)))
            check(count_colour(tile, GREEN) == 0, "node %s: the bay is drawn red" % name)
        via = [get(nport, near) for _ in range(4)]
        check(all(v[0] == 200 and count_colour(v[2], RED) > 10 for v in via) and
              len({v[1].get("x-upstream") for v in via}) == 2,
              "through nginx, both nodes answer the red bay")

        # node A gone: nginx goes on with node B
        na.terminate()
        na.wait(30)
        procs.remove(na)
        outs = [get(nport, "/tiles/cadastre/%d/%d/%d.png" % (Z, 34002, 21874 + k))
                for k in range(6)]
        check(all(o[0] == 200 for o in outs), "node A stopped: every tile answered by node B")
        check(sensor_state(nport, "PB-000001") == "occupied",
              "node A stopped: the sensor state is served by node B")
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--srcdir", default=os.path.join(HERE, "..", ".."))
    a = ap.parse_args()
    a.srcdir = os.path.abspath(a.srcdir)
    tmp = tempfile.mkdtemp(prefix="tilesrv_two_")
    try:
        run(a, tmp)
    except Fail as e:
        print("FAIL: %s" % e, flush=True)
        for n in ("a.log", "b.log", "nginx_error.log"):
            p = os.path.join(tmp, n)
            if os.path.exists(p):
                print("--- %s (tail)\n%s" % (n, open(p, errors="replace").read()[-2000:]))
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("two nodes: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
