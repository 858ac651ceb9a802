#!/usr/bin/env python3
"""Medians, per-zoom times and the label ratios of bench/run_labels.sh.

    summary.py RESULTS_DIR

RESULTS_DIR/<name>.lines holds the result lines of the runs of one renderer
("name tiles=.. wall_s=.. tiles_per_s=.. cpu_s=.."), RESULTS_DIR/<name>.zoom its per-zoom
lines ("z16_ms=4.59(enc 1.81) z17_ms=.." or "z16_ms=55.2 .."). Medians over the runs;
ratios are taken from the medians of tiles/s and, less exposed to other load on a shared
machine, of CPU seconds."""
import os
import re
import statistics
import sys

ORDER = [
    ("tilesrv_nolabels", "tilesrv, no labels, 1 thread"),
    ("tilesrv_labels", "tilesrv, labels, 1 thread"),
    ("mapnik_nolabels", "Mapnik 3.1, no labels"),
    ("mapnik_labels", "Mapnik 3.1, labels"),
    ("tilesrv_meta_nolabels", "tilesrv, 8x8 metatiles, no labels"),
    ("tilesrv_meta_labels", "tilesrv, 8x8 metatiles, labels"),
    ("mapnik_meta_nolabels", "Mapnik 3.1, 8x8 metatiles, no labels"),
    ("mapnik_meta_labels", "Mapnik 3.1, 8x8 metatiles, labels"),
]
ZOOM = re.compile(r"z(\d+)_ms=([0-9.]+)")


def load(d, name):
    runs, zooms = [], {}
    path = os.path.join(d, name + ".lines")
    if not os.path.exists(path):
        return None
    for line in open(path):
        parts = line.split()
        if len(parts) > 1 and "=" not in parts[0]:
            runs.append(dict(p.split("=", 1) for p in parts[1:] if "=" in p))
    zpath = os.path.join(d, name + ".zoom")
    if os.path.exists(zpath):
        for line in open(zpath):
            for z, v in ZOOM.findall(line):
                zooms.setdefault(int(z), []).append(float(v))
    if not runs:
        return None
    med = {}
    for k in runs[0]:
        try:
            med[k] = statistics.median(float(r[k]) for r in runs if k in r)
        except ValueError:
            med[k] = runs[0][k]
    return {"n": len(runs), "med": med, "zoom": {z: statistics.median(v) for z, v in zooms.items()}}


def ratio(a, b):
    return a / b if b else float("nan")


def main():
    d = sys.argv[1]
    res = {n: load(d, n) for n, _ in ORDER}
    zs = sorted({z for r in res.values() if r for z in r["zoom"]})
    print("| renderer | tiles/s | wall s | CPU s | label s | labels drawn | candidates | peak RSS MB | runs |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for n, title in ORDER:
        r = res[n]
        if not r:
            continue
        m = r["med"]
        print("| %s | %.1f | %.2f | %.2f | %s | %s | %s | %.0f | %d |" % (
            title, m["tiles_per_s"], m["wall_s"], m["cpu_s"],
            "%.2f" % m["label_s"] if "label_s" in m else "",
            "%d" % m["labels"] if "labels" in m else "",
            "%d" % m["label_cands"] if "label_cands" in m else "",
            m["peak_rss_mb"], r["n"]))
    print()
    print("ms per tile, by zoom (medians):")
    print()
    print("| renderer | " + " | ".join("z%d" % z for z in zs) + " |")
    print("| --- |" + " --- |" * len(zs))
    for n, title in ORDER:
        r = res[n]
        if r and r["zoom"]:
            print("| %s | " % title + " | ".join("%.1f" % r["zoom"][z] if z in r["zoom"] else ""
                                                for z in zs) + " |")
    print()

    def both(a, b, label, target=None):
        ra, rb = res.get(a), res.get(b)
        if not ra or not rb:
            return
        t = ratio(ra["med"]["tiles_per_s"], rb["med"]["tiles_per_s"])
        c = ratio(rb["med"]["cpu_s"], ra["med"]["cpu_s"])
        print("%s = %.2fx by tiles/s, %.2fx by CPU s%s" % (label, t, c, "" if target is None else
                                                           "   (target %s)" % target))

    print("ratios:")
    both("tilesrv_nolabels", "tilesrv_labels", "labels cost, tilesrv (with / without)", "<= 2x")
    both("tilesrv_labels", "mapnik_labels", "tilesrv / Mapnik, labels on", ">= 5x")
    both("tilesrv_nolabels", "mapnik_nolabels", "tilesrv / Mapnik, no labels")
    both("mapnik_nolabels", "mapnik_labels", "labels cost, Mapnik (with / without)")
    both("tilesrv_meta_nolabels", "tilesrv_meta_labels", "labels cost, tilesrv 8x8 metatiles")
    both("tilesrv_meta_labels", "mapnik_meta_labels", "tilesrv / Mapnik, 8x8 metatiles, labels on")
    both("mapnik_meta_nolabels", "mapnik_meta_labels", "labels cost, Mapnik 8x8 metatiles")


if __name__ == "__main__":
    main()
