#!/usr/bin/env python3
"""Extract the hourly UBA measurements of the four Düsseldorf air-quality stations for the
demo feed (tilesrv feed kind `demo`, simulate: air) from the team's shared GeoPackage.

    /usr/bin/python3 tools/feed_demo_air.py [SRC.gpkg] [OUT.csv]

Defaults: /work/shared/data/airquality/uba_lanuv_airquality.gpkg ->
data/demo/air_uba_duesseldorf.csv. Reads the GeoPackage as plain SQLite (no GDAL needed):
table uba_hourly_2024_01_01_08 joined to uba_stations on station_id, stations whose
station_city is Düsseldorf. Output columns: station_code, station_name, lon, lat, datetime,
no2, pm10, o3 (µg/m³; empty = no measurement), ordered by station code and time.
Data: Umweltbundesamt mit Daten der Messnetze der Länder und des Bundes (see data/README.md).
"""
import csv
import os
import sqlite3
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/airquality/uba_lanuv_airquality.gpkg"
out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "data",
                                                        "demo", "air_uba_duesseldorf.csv")
db = sqlite3.connect("file:%s?mode=ro" % src, uri=True)
rows = db.execute(
    """SELECT s.station_code, s.station_name, s.lon, s.lat, h.datetime, h.no2, h.pm10, h.o3
       FROM uba_hourly_2024_01_01_08 h JOIN uba_stations s ON CAST(s.station_id AS INTEGER) = h.station_id
       WHERE s.station_city = 'Düsseldorf'
       ORDER BY s.station_code, h.datetime""").fetchall()
if not rows:
    sys.exit("no Düsseldorf rows found in %s" % src)


def num(v):
    if v is None:
        return ""
    return ("%.1f" % v).rstrip("0").rstrip(".")


with open(out, "w", newline="", encoding="utf-8") as f:
    f.write("# Hourly NO2, PM10, O3 (µg/m³) of the Düsseldorf UBA stations, 2024-01-01..08.\n")
    f.write("# Umweltbundesamt mit Daten der Messnetze der Länder und des Bundes; see data/README.md.\n")
    f.write("# Made by tools/feed_demo_air.py; datetime is the hour as the source table gives it.\n")
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["station_code", "station_name", "lon", "lat", "datetime", "no2", "pm10", "o3"])
    for code, name, lon, lat, dt, no2, pm10, o3 in rows:
        w.writerow([code, name, lon, lat, dt[:19] if dt else dt, num(no2), num(pm10), num(o3)])
print("%s: %d rows" % (out, len(rows)))
