#!/usr/bin/env python3
"""Sensor tilesets as vector tiles: a REAL mosquitto broker, `tilesrv serve` with a LoRaWAN
feed (the device table of tests/data/feed, the set-up of test_live.py), uplinks published
with mosquitto_pub, and the parking tileset's tiles read as MVT by GDAL's MVT driver:

  - the bay's features carry state, last_state, stale, observation time and the decoder's
    values as attributes (typed as the config says: `mvt: {attributes: ...}` on the layer);
  - an uplink (occupied) -> the bay's MVT tile changes ETag, state "occupied", the time is
    the uplink's observation time; a tile of a bay 3 km away keeps its ETag (304);
  - nothing changes -> the same ETag on every request (the tile is rebuilt from the same
    sensor states: equal bytes), also on the WMTS and the grid-qualified routes;
  - a later uplink (free) changes it again; an older uplink changes nothing;
  - TileJSON ?format=pbf lists the sensor fields.

Usage: test_live_mvt.py --binary build/tilesrv [--srcdir .]
Exit 0 = pass, 1 = fail, 77 = skipped (mosquitto / mosquitto_pub not installed).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_live as L  # noqa: E402  (broker, ports, GET, tile numbers, publishing)
from test_live import Fail, check, get  # noqa: E402

from osgeo import gdal, ogr  # noqa: E402

gdal.UseExceptions()
ogr.UseExceptions()
Z = 17


def bay_features(data, tmp, name):
    """{bay id: {attribute: value}} of the tile's bays layer, read by GDAL's MVT driver."""
    if not data:
        return {}, {}
    p = os.path.join(tmp, name)
    with open(p, "wb") as f:
        f.write(data)
    ds = gdal.OpenEx(p, gdal.OF_VECTOR)
    lyr = ds.GetLayerByName("bays")
    if lyr is None:
        return {}, {}
    d = lyr.GetLayerDefn()
    types = {d.GetFieldDefn(i).GetName(): d.GetFieldDefn(i).GetTypeName()
             for i in range(d.GetFieldCount())}
    out = {}
    for f in lyr:
        out[f["id"]] = {k: f[k] for k in types if f.IsFieldSet(k)}
    return out, types


def same_as_geojson(port, b):
    """The tile's attributes of bay PB-000001 equal /sensors/bays.geojson's properties."""
    fc = json.loads(get(port, "/sensors/bays.geojson")[2])
    props = [f["properties"] for f in fc["features"] if f["id"] == "PB-000001"][0]
    for k in ("id", "label", "state", "last_state", "stale", "time", "occupied"):
        v = props.get(k)
        if v is None:
            check(k not in b, "%s: null in GeoJSON, absent from the tile" % k)
        elif isinstance(v, (bool, int, float)) and not isinstance(v, str):
            check(abs(float(b.get(k, -9999)) - float(v)) < 1e-9, "%s = %r as in GeoJSON" % (k, v))
        else:
            check(b.get(k) == v, "%s = %r as in GeoJSON" % (k, v))


def check_air(port, tmp):
    """The demo air feed (replayed UBA hours): the stations' measured values as attributes,
    equal to /sensors/air.geojson at the same snapshot."""
    deadline = time.time() + 20
    while True:
        st, h, body = get(port, "/sensors/air.geojson")
        fc = json.loads(body)
        with_vals = [f for f in fc["features"]
                     if any(isinstance(f["properties"].get(k), (int, float))
                            for k in ("no2", "pm10", "o3"))]
        if with_vals:
            break
        if time.time() > deadline:
            raise Fail("no air values: %s" % body[:300])
        time.sleep(0.2)
    for _ in range(20):  # the replay moves on: compare tile and GeoJSON of one version
        f = with_vals[0]
        x, y = L.tile_of(*f["geometry"]["coordinates"], 15)
        st, _, tile = get(port, "/tiles/air/15/%d/%d.pbf" % (x, y))
        st2, h2, body2 = get(port, "/sensors/air.geojson")
        if h2["etag"] == h["etag"]:
            break
        h, fc = h2, json.loads(body2)
        with_vals = [g for g in fc["features"] if g["id"] == f["id"]] or with_vals
    p = os.path.join(tmp, "air.pbf")
    with open(p, "wb") as fh:
        fh.write(tile)
    ds = gdal.OpenEx(p, gdal.OF_VECTOR)
    lyr = ds.GetLayerByName("air")
    got = {g["id"]: g for g in lyr}
    check(f["id"] in got, "air station %s in its MVT tile" % f["id"])
    g = got[f["id"]]
    n = 0
    for k, v in f["properties"].items():
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, (int, float)):
            check(abs(g[k] - v) < 1e-6, "air %s = %r as in GeoJSON" % (k, v))
            n += 1
    names = [lyr.GetLayerDefn().GetFieldDefn(i).GetName()
             for i in range(lyr.GetLayerDefn().GetFieldCount())]
    for k in ("time", "state", "label"):
        v = f["properties"].get(k)
        check((v is None and (k not in names or not g.IsFieldSet(k))) or g[k] == v,
              "air %s = %r as in GeoJSON" % (k, v))
    check(n >= 1 and f["properties"].get("time"), "air: %d values and the observation time" % n)


def wait_mvt_change(port, path, old, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st, h, body = get(port, path)
        if st == 200 and h.get("etag") != old:
            return h["etag"], body
        time.sleep(0.05)
    raise Fail("MVT tile %s kept its ETag %s for %d s" % (path, old, timeout))


def run(a, tmp):
    data = os.path.join(a.srcdir, "tests", "data", "feed")
    bport, hport = L.free_port(), L.free_port()
    broker = subprocess.Popen([L.MOSQUITTO, "-p", str(bport)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    srv = None
    log = os.path.join(tmp, "tilesrv.log")
    try:
        L.wait_port(bport, broker, "mosquitto")
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
  air:
    kind: demo
    simulate: air
    air_csv: %s
    fields: [no2, pm10, pm25, o3]
layers:
  bays:
    feed: bays
    style: %s
    mvt: {attributes: {id: string, label: string, state: string, last_state: string,
                       stale: bool, time: string, occupied: int}}
  air:
    feed: air
    style: %s
tilesets:
  parking:
    layers: [bays]
    grids: [WebMercatorQuad, DE_EPSG_25832_ADV]
    metatile: 2
  air:
    layers: [air]
    metatile: 2
""" % (bport, os.path.join(data, "lorawan_devices.csv"),
                os.path.join(a.srcdir, "data", "demo", "air_uba_duesseldorf.csv"),
                os.path.join(a.srcdir, "styles", "parking_state.sld"),
                os.path.join(a.srcdir, "styles", "air_quality_uba.sld")))
        logf = open(log, "w")
        srv = subprocess.Popen([a.binary, "serve", "-c", cfg, "--listen", "127.0.0.1:%d" % hport,
                                "--threads", "2"], stdout=logf, stderr=logf)
        L.wait_port(hport, srv, "tilesrv", 60)
        deadline = time.time() + 15
        while True:
            st, _, body = get(hport, "/sensors/bays.geojson")
            _, _, m = get(hport, "/metrics")
            if (st == 200 and len(json.loads(body)["features"]) == 3 and
                    'tilesrv_feed_mqtt_connected{feed="bays"} 1' in m.decode()):
                break
            if time.time() > deadline:
                raise Fail("feed not up: %s %s" % (st, body[:300]))
            time.sleep(0.1)

        st, _, body = get(hport, "/tiles/parking.json?format=pbf")
        vl = json.loads(body)["vector_layers"]
        check(vl[0]["id"] == "bays" and vl[0]["fields"] == {
            "id": "String", "label": "String", "state": "String", "last_state": "String",
            "stale": "Boolean", "time": "String", "occupied": "Number"},
            "TileJSON lists the sensor fields: %s" % vl[0]["fields"])

        x1, y1 = L.tile_of(*L.BAY1, Z)
        x3, y3 = L.tile_of(*L.BAY3, Z)
        near = "/tiles/parking/%d/%d/%d.pbf" % (Z, x1, y1)
        far = "/tiles/parking/%d/%d/%d.pbf" % (Z, x3, y3)
        # the overlay may still be rebuilt from the first snapshot: wait for the bay
        deadline = time.time() + 15
        while True:
            st, h1, t1 = get(hport, near)
            feats, _ = bay_features(t1, tmp, "n0.pbf")
            if st == 200 and "PB-000001" in feats:
                break
            if time.time() > deadline:
                raise Fail("the bay is not in its MVT tile: %s %r" % (st, feats))
            time.sleep(0.1)
        check(h1["content-type"] == "application/vnd.mapbox-vector-tile" and
              h1.get("cache-control") == "no-cache", "live MVT tile: no-cache")
        st, hf, _ = get(hport, far)
        check(st == 200, "far MVT tile 200")
        time.sleep(0.5)
        st, _, _ = get(hport, near, {"If-None-Match": h1["etag"]})
        check(st == 304, "no sensor change: the same ETag (304)")

        L.publish(bport, "v3/application-tts-name@ttn/devices/eui-1000000000000001/up",
                  os.path.join(data, "lorawan_tts_community_v3_uplink_1.json"))
        e2, t2 = wait_mvt_change(hport, near, h1["etag"])
        feats, types = bay_features(t2, tmp, "n1.pbf")
        b = feats.get("PB-000001", {})
        up = json.load(open(os.path.join(data, "lorawan_tts_community_v3_uplink_1.json")))
        rx = up["uplink_message"].get("received_at") or up.get("received_at")
        check(b.get("state") == "occupied" and b.get("stale") == 0,
              "occupied: state and stale flag as attributes: %r" % b)
        check(types.get("stale") in ("Integer", "Integer64") and types.get("time") == "String",
              "attribute types: %r" % types)
        check(b.get("time", "")[:19] == rx[:19],
              "observation time %s (uplink received %s)" % (b.get("time"), rx))
        same_as_geojson(hport, b)
        st, _, _ = get(hport, far, {"If-None-Match": hf["etag"]})
        check(st == 304, "the far MVT tile kept its ETag")
        # unchanged afterwards: the same ETag, however often and on whichever route
        for _ in range(3):
            time.sleep(0.3)
            st, _, _ = get(hport, near, {"If-None-Match": e2})
            check(st == 304, "unchanged since the uplink: 304")
        st, hz, _ = get(hport, "/wmts/1.0.0/parking/default/WebMercatorQuad/%d/%d/%d.pbf"
                        % (Z, y1, x1))
        check(st == 200 and hz["etag"] == e2, "WMTS REST: the same tile and ETag")

        L.publish(bport, "application/x/device/1000000000000001/event/up",
                  os.path.join(data, "lorawan_chirpstack_v4_uplink_2.json"))
        e3, t3 = wait_mvt_change(hport, near, e2)
        b = bay_features(t3, tmp, "n2.pbf")[0].get("PB-000001", {})
        check(b.get("state") == "free" and b.get("last_state") == "free",
              "free: state and last_state: %r" % b)
        same_as_geojson(hport, b)

        L.publish(bport, "v3/application-tts-name@ttn/devices/eui-1000000000000001/up",
                  os.path.join(data, "lorawan_tts_community_v3_uplink_0.json"))
        deadline = time.time() + 10
        while 'tilesrv_feed_ignored_total{feed="bays",reason="old"} 1' not in \
                get(hport, "/metrics")[2].decode():
            if time.time() > deadline:
                raise Fail("older uplink not counted as ignored")
            time.sleep(0.05)
        time.sleep(0.3)
        st, _, _ = get(hport, near, {"If-None-Match": e3})
        check(st == 304, "older uplink ignored: the MVT tile kept its ETag")
        st, _, _ = get(hport, far, {"If-None-Match": hf["etag"]})
        check(st == 304, "the far MVT tile still has its first ETag")
        check_air(hport, tmp)
    finally:
        if srv is not None:
            srv.terminate()
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
    if not (os.access(L.MOSQUITTO, os.X_OK) and os.access(L.MOSQUITTO_PUB, os.X_OK)):
        print("mosquitto / mosquitto_pub not installed (scripts/deps.sh --test): skipped")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="tilesrv-live-mvt-")
    try:
        run(a, tmp)
    except Fail as e:
        print("FAIL: %s" % e, flush=True)
        sys.exit(1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("live mvt: all passed")


if __name__ == "__main__":
    main()
