#!/usr/bin/env python3
"""Deterministic SYNTHETIC cadastre (Flurstuecke) over Duesseldorf, EPSG:25832.

Nothing this program writes is real cadastral data: parcels, buildings,
streets, parking bays and air stations are invented from a seeded random
generator. Only the optional district boundaries (--clip-districts) are real.

Writes a GeoPackage (default data/cadastre.gpkg) with five layers, each with
an R-tree spatial index:

  parcels       Polygon     Flurstuecke tiling street blocks (jittered grid
                            subdivision, occasional merged L/hex parcels);
                            gemarkung, flur, zaehler/nenner, flstnr "123/4"
  buildings     Polygon     rectangles / L-shapes inside ~60% of parcels
  streets       LineString  centre lines, attribute "class"
                            (motorway/primary/secondary/residential); rows are
                            written in class order so the natural feature
                            order is also the drawing z-order
  parking_bays  Point       ~2000 * scale bays at the kerb, "state" free/occupied
  air_stations  Point       ~40 * scale stations with "no2" in ug/m3

--scale S grows the covered square by sqrt(S) per side around the same centre
(S=1: x 335000..355000, y 5670000..5690000), so feature counts grow ~linearly:
S=1 gives ~146k parcels; outside the S=1 square a satellite city core repeats
every 20 km (see Gen.urban); S=8 gives ~1.18M parcels, S=62 ~9M parcels (about
the number of parcels of the state of NRW). Parcels, buildings and streets are
streamed to the file, so memory stays nearly flat in S.
Everything derives from --seed; the same seed and scale give the same file
content (feature order, geometry and attributes). With no new option the file
is byte-identical to the one of the peers benchmark rig (same seed 4711).

Options beyond --seed/--scale/--out (none of them changes the default output):

  --clip-districts FILE.gpkg[:layer] --districts NAME,NAME,...
        keep only features inside the union of the named districts (matched
        on the field "name"; EPSG of the layer is read and reprojected to
        25832). A parcel is kept whole when its area centroid lies inside;
        a building is kept with its parcel; a street segment when its
        midpoint lies inside; bays and stations when the point lies inside.
        All features of the district layer are copied into an extra layer
        "districts" (name, stadtbezirk, in_clip). The generation itself is
        unchanged (same random stream), so every kept feature is identical to
        the same feature of the unclipped file (parcel fids are kept).
  --gfk     ALKIS-like building functions: "funktion" is refined (adds
        industrial, school, church) and an integer column "gfk" holds the
        ALKIS Gebaeudefunktion code (see GFK below). The refinement uses hash
        functions, not the random stream, so geometry and all other values
        stay identical to the default output.
  --digest FILE.gpkg
        print per-layer feature counts and SHA-256 checksums of the layer
        contents (field names, fid, field values, ISO WKB geometry, in fid
        order) of an existing GeoPackage, then exit.
  --progress  progress lines on stderr (useful for large --scale).
"""
import argparse
import array
import hashlib
import math
import os
import random
import resource
import struct
import sys
import time

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
# fixed gpkg_contents.last_change -> byte-identical files for the same seed/scale
gdal.SetConfigOption("OGR_CURRENT_DATE", "2024-06-11T00:00:00.000Z")

CX, CY = 345000.0, 5680000.0          # centre of the S=1 extent
HALF = 10000.0                         # half side at S=1
CITY = (344300.0, 5678800.0)           # "Altstadt": density peak

# half width of the street reserve (kerb to centre line), metres
HALF_W = {"motorway": 17.0, "primary": 11.0, "secondary": 8.5, "residential": 6.0}
CLASS_RANK = {"residential": 0, "secondary": 1, "primary": 2, "motorway": 3}
CLASSES_BY_RANK = sorted(CLASS_RANK, key=CLASS_RANK.get)

GEMARKUNGEN = [
    "Altstadt", "Carlstadt", "Pempelfort", "Derendorf", "Golzheim", "Stockum",
    "Lohausen", "Kaiserswerth", "Rath", "Muendelheim", "Flingern", "Duesseltal",
    "Grafenberg", "Gerresheim", "Ludenberg", "Bilk", "Oberbilk", "Friedrichstadt",
    "Unterbilk", "Hamm", "Volmerswerth", "Flehe", "Eller", "Lierenfeld",
    "Wersten", "Holthausen", "Reisholz", "Benrath", "Urdenbach", "Garath",
    "Hellerhof", "Oberkassel", "Heerdt", "Lorick", "Niederkassel", "Hubbelrath",
]
NAME_A = ["Linden", "Kirch", "Schul", "Garten", "Berg", "Muehlen", "Rhein", "Post",
          "Bahnhof", "Wald", "Feld", "Rosen", "Eichen", "Buchen", "Hof", "Markt",
          "Kloster", "Schloss", "Wiesen", "Brunnen", "Ahorn", "Birken", "Tannen",
          "Sonnen", "Graf-Adolf-", "Kaiser-", "Koenigs", "Schiller", "Goethe",
          "Heine", "Bismarck", "Moltke", "Nord", "Sued", "Ost", "West"]
NAME_B = ["strasse", "strasse", "strasse", "weg", "allee", "ring", "gasse", "damm"]

# ALKIS Gebaeudefunktion (GFK) codes for --gfk. Values of the AdV GeoInfoDok
# code list AX_Gebaeude.gebaeudefunktion as published in the NRW key tables
# (AX_Gebaeude_Funktion): 1000 Wohngebaeude; 1100 Gemischt genutztes Gebaeude
# mit Wohnen; 2000 Gebaeude fuer Wirtschaft oder Gewerbe; 2100 Gebaeude fuer
# Gewerbe und Industrie; 2463 Garage; 3000 Gebaeude fuer oeffentliche Zwecke;
# 3021 Allgemein bildende Schule; 3041 Kirche (also in the LVermGeo
# Sachsen-Anhalt "Erfassungshilfe", GFK 3041). 2700 is NOT industry: it is
# "Gebaeude fuer Land- und Forstwirtschaft". The classes are assigned to
# synthetic buildings; only the codes are real.
GFK = {"residential": 1000, "mixed": 1100, "commercial": 2000, "industrial": 2100,
       "garage": 2463, "public": 3000, "school": 3021, "church": 3041}


# ---------------------------------------------------------------- noise
def _lattice(seed, ix, iy):
    h = (ix * 374761393 + iy * 668265263 + seed * 2246822519) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * 1274126177) & 0xFFFFFFFF
    h ^= h >> 16
    return h / 4294967295.0


def vnoise(seed, x, y):
    ix, iy = math.floor(x), math.floor(y)
    fx, fy = x - ix, y - iy
    sx, sy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)
    a = _lattice(seed, ix, iy)
    b = _lattice(seed, ix + 1, iy)
    c = _lattice(seed, ix, iy + 1)
    d = _lattice(seed, ix + 1, iy + 1)
    top = a + (b - a) * sx
    bot = c + (d - c) * sx
    return top + (bot - top) * sy


def fbm(seed, x, y):
    return (0.55 * vnoise(seed, x, y) + 0.30 * vnoise(seed + 7, 2.03 * x, 2.03 * y)
            + 0.15 * vnoise(seed + 13, 4.1 * x, 4.1 * y))


def _h(seed, a, b):
    h = (a * 73856093) ^ (b * 19349663) ^ (seed * 83492791)
    h &= 0xFFFFFFFF
    h = ((h ^ (h >> 15)) * 2246822519) & 0xFFFFFFFF
    return h ^ (h >> 13)


# ---------------------------------------------------------------- geometry
def river_x(y):
    """Centre line of a Rhine-like river meandering south->north west of the centre.
    It is synthetic: the real Rhine in Duesseldorf runs elsewhere."""
    t = y - 5668000.0
    return 342400.0 + 1100.0 * math.sin(t / 3600.0) + 450.0 * math.sin(t / 1700.0 + 1.3)


RIVER_HALF = 200.0


def in_river(x, y, margin=0.0):
    return abs(x - river_x(y)) < RIVER_HALF + margin


def line_isect(p, d, q, e):
    """Intersection of p + s*d and q + t*e (None when parallel)."""
    den = d[0] * e[1] - d[1] * e[0]
    if abs(den) < 1e-12:
        return None
    s = ((q[0] - p[0]) * e[1] - (q[1] - p[1]) * e[0]) / den
    return (p[0] + s * d[0], p[1] + s * d[1])


def inset_quad(pts, widths):
    """Offset each side of the CCW quad pts inward by widths[k] (side k = pts[k]->pts[k+1])."""
    lines = []
    for k in range(4):
        a, b = pts[k], pts[(k + 1) % 4]
        dx, dy = b[0] - a[0], b[1] - a[1]
        L = math.hypot(dx, dy)
        nx, ny = -dy / L, dx / L                     # left normal = inside for CCW
        w = widths[k]
        lines.append(((a[0] + nx * w, a[1] + ny * w), (dx, dy)))
    out = []
    for k in range(4):
        p = line_isect(lines[k - 1][0], lines[k - 1][1], lines[k][0], lines[k][1])
        if p is None:
            return None
        out.append(p)
    return out


def area(ring):
    s = 0.0
    n = len(ring)
    for k in range(n):
        x1, y1 = ring[k]
        x2, y2 = ring[(k + 1) % n]
        s += x1 * y2 - x2 * y1
    return 0.5 * s


def centroid(ring):
    """Mean of the vertices (the generator's notion of a block/parcel centre)."""
    n = len(ring)
    return (sum(p[0] for p in ring) / n, sum(p[1] for p in ring) / n)


def area_centroid(ring):
    """Centroid of the polygon area (used by the district clip)."""
    x0, y0 = ring[0]
    a = cx = cy = 0.0
    n = len(ring)
    for k in range(n):
        x1, y1 = ring[k][0] - x0, ring[k][1] - y0
        x2, y2 = ring[(k + 1) % n][0] - x0, ring[(k + 1) % n][1] - y0
        c = x1 * y2 - x2 * y1
        a += c
        cx += (x1 + x2) * c
        cy += (y1 + y2) * c
    if a == 0.0:
        return centroid(ring)
    return (x0 + cx / (3.0 * a), y0 + cy / (3.0 * a))


def bilin(q, u, v):
    p0, p1, p2, p3 = q
    a, b, c, d = (1 - u) * (1 - v), u * (1 - v), u * v, (1 - u) * v
    return (a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
            a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1])


def dist(a, b):
    return math.hypot(a[0] - b[0], a[1] - b[1])


def wkb_polygon(ring):
    pts = list(ring) + [ring[0]]
    flat = [c for p in pts for c in p]
    return struct.pack("<BIII", 1, 3, 1, len(pts)) + struct.pack("<%dd" % len(flat), *flat)


def wkb_line(pts):
    flat = [c for p in pts for c in p]
    return struct.pack("<BII", 1, 2, len(pts)) + struct.pack("<%dd" % len(flat), *flat)


def wkb_point(p):
    return struct.pack("<BIdd", 1, 1, p[0], p[1])


def rnd_round(x):
    return round(x, 2)


# ---------------------------------------------------------------- district clip
def _srs(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


class DistrictClip:
    """Union of named districts (reprojected to EPSG:25832) with a fast
    point-in-area test: a 100 m cell grid classifies cells as fully inside,
    fully outside or on the boundary (lazily); only boundary cells run the
    exact GEOS test."""

    CELL = 100.0

    def __init__(self, spec, names):
        path, _, layer = spec.partition(":")
        if not os.path.exists(path):
            raise SystemExit("clip: no such file: %s" % path)
        self.ds = ogr.Open(path)
        lyr = self.ds.GetLayerByName(layer) if layer else self.ds.GetLayer(0)
        if lyr is None:
            raise SystemExit("clip: no layer %r in %s" % (layer, path))
        src = lyr.GetSpatialRef().Clone()
        src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        ct = osr.CoordinateTransformation(src, _srs(25832))
        defn = lyr.GetLayerDefn()
        has_bezirk = defn.GetFieldIndex("stadtbezirk") >= 0
        want = [n.strip() for n in names if n.strip()]
        if not want:
            raise SystemExit("clip: --districts is empty")
        self.districts = []          # (name, stadtbezirk or None, geometry 25832, selected)
        union = None
        found = set()
        for f in lyr:
            name = f.GetField("name")
            g = f.GetGeometryRef().Clone()
            g.Transform(ct)
            sel = name in want
            if sel:
                found.add(name)
                union = g.Clone() if union is None else union.Union(g)
            self.districts.append((name, f.GetField("stadtbezirk") if has_bezirk else None, g, sel))
        missing = [n for n in want if n not in found]
        if missing:
            raise SystemExit("clip: unknown district(s) %s; known: %s" % (
                ", ".join(missing), ", ".join(sorted(d[0] for d in self.districts))))
        self.names = want
        self.geom = union
        self.env = union.GetEnvelope()               # minx, maxx, miny, maxy
        self.cells = {}

    def _cell_state(self, key):
        st = self.cells.get(key)
        if st is None:
            x0, y0 = key[0] * self.CELL, key[1] * self.CELL
            ring = ogr.Geometry(ogr.wkbLinearRing)
            for x, y in ((x0, y0), (x0 + self.CELL, y0), (x0 + self.CELL, y0 + self.CELL),
                         (x0, y0 + self.CELL), (x0, y0)):
                ring.AddPoint_2D(x, y)
            cell = ogr.Geometry(ogr.wkbPolygon)
            cell.AddGeometry(ring)
            if self.geom.Contains(cell):
                st = 1
            elif not self.geom.Intersects(cell):
                st = 0
            else:
                st = 2
            self.cells[key] = st
        return st

    def contains(self, x, y):
        e = self.env
        if not (e[0] <= x <= e[1] and e[2] <= y <= e[3]):
            return False
        st = self._cell_state((math.floor(x / self.CELL), math.floor(y / self.CELL)))
        if st != 2:
            return st == 1
        pt = ogr.Geometry(ogr.wkbPoint)
        pt.AddPoint_2D(x, y)
        return self.geom.Contains(pt)


# ---------------------------------------------------------------- model
class Gen:
    def __init__(self, seed, scale, sink, alkis=False, progress=False):
        self.sink = sink        # GpkgWriter: parcels/buildings are streamed to it
        self.seed = seed
        self.rng = random.Random(seed)
        h = HALF * math.sqrt(scale)
        self.xmin, self.xmax = CX - h, CX + h
        self.ymin, self.ymax = CY - h, CY + h
        self.scale = scale
        self.alkis = alkis
        self.progress = progress
        self.n_parcels = 0
        self.n_parcels_built = 0            # parcels with >= 1 building
        self._last_built = 0
        self.area_hist = {}                 # int(area m2) -> count, residential parcels
        self.flur_counter = {}

    def inside(self, x, y):
        return self.xmin <= x < self.xmax and self.ymin <= y < self.ymax

    def urban(self, x, y):
        """Urban score: city core bump + value noise. Inside the S=1 square the
        core is Duesseldorf's; outside it (scale > 1) the nearest core of a
        20 km lattice of satellite cities, so counts grow ~linearly with S."""
        if CX - HALF <= x < CX + HALF and CY - HALF <= y < CY + HALF:
            cx, cy = CITY
        else:
            cx = CITY[0] + 20000.0 * round((x - CITY[0]) / 20000.0)
            cy = CITY[1] + 20000.0 * round((y - CITY[1]) / 20000.0)
        d = math.hypot(x - cx, y - cy)
        core = math.exp(-(d / 6500.0) ** 2)
        n = fbm(self.seed, x / 2600.0, y / 2600.0)
        return 0.55 * core + 0.75 * n

    # ---- street grid
    def grid(self):
        rng = self.rng
        xs, x = [], self.xmin - rng.uniform(60, 120)
        while x < self.xmax + 200:
            xs.append(x)
            x += rng.uniform(125.0, 205.0)
        ys, y = [], self.ymin - rng.uniform(40, 90)
        while y < self.ymax + 150:
            ys.append(y)
            y += rng.uniform(90.0, 150.0)

        def classes(vals, origin, every):
            out = []
            mw = set()
            k = math.floor((vals[0] - origin) / every)
            while origin + k * every < vals[-1] + every:
                t = origin + k * every
                mw.add(min(range(len(vals)), key=lambda i: abs(vals[i] - t)))
                k += 1
            for i in range(len(vals)):
                if i in mw:
                    out.append("motorway")
                elif i % 12 == 6:
                    out.append("primary")
                elif i % 4 == 2:
                    out.append("secondary")
                else:
                    out.append("residential")
            return out

        self.xs, self.ys = xs, ys
        self.col_class = classes(xs, 352600.0, 16000.0)
        self.row_class = classes(ys, 5687400.0, 14000.0)
        # jittered nodes, column-major in two flat arrays (16 bytes per node)
        nodes_x, nodes_y = array.array("d"), array.array("d")
        for i, x in enumerate(xs):
            col_mw = self.col_class[i] == "motorway"
            for j, y in enumerate(ys):
                jx = 0.0 if col_mw else rng.uniform(-14, 14)
                jy = 0.0 if self.row_class[j] == "motorway" else rng.uniform(-11, 11)
                nodes_x.append(x + jx)
                nodes_y.append(y + jy)
        self.nodes_x, self.nodes_y = nodes_x, nodes_y
        self.n_rows = len(ys)

        # street names: one per grid line
        self.col_name = [NAME_A[_h(seed=self.seed, a=i, b=1) % len(NAME_A)] +
                         NAME_B[_h(seed=self.seed, a=i, b=2) % len(NAME_B)] for i in range(len(xs))]
        self.row_name = [NAME_A[_h(seed=self.seed, a=j, b=3) % len(NAME_A)] +
                         NAME_B[_h(seed=self.seed, a=j, b=4) % len(NAME_B)] for j in range(len(ys))]

    def node(self, i, j):
        k = i * self.n_rows + j
        return (self.nodes_x[k], self.nodes_y[k])

    # ---- streets: generated on demand, never held in memory
    def _row_segments(self, j):
        cls, name = self.row_class[j], self.row_name[j]
        node = self.node
        for i in range(len(self.xs) - 1):
            a, b = node(i, j), node(i + 1, j)
            m = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
            if not self.inside(*m):
                continue
            wet = in_river(*a, 10) or in_river(*b, 10) or in_river(*m, 10)
            if wet and cls not in ("primary", "motorway"):
                continue
            yield (cls, name, wet, a, b)

    def _col_segments(self, i):
        cls, name = self.col_class[i], self.col_name[i]
        node = self.node
        for j in range(len(self.ys) - 1):
            a, b = node(i, j), node(i, j + 1)
            m = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
            if not self.inside(*m):
                continue
            if in_river(*a, 10) or in_river(*b, 10) or in_river(*m, 10):
                continue
            yield (cls, name, False, a, b)

    def segments(self):
        """Street segments (cls, name, wet, a, b) in feature order: by class
        rank, within a class the horizontal rows (j, then i) before the vertical
        columns (i, then j). This is exactly the order of a stable sort by
        class rank of "all rows, then all columns" (the original list)."""
        for cls in CLASSES_BY_RANK:
            for j in range(len(self.ys)):
                if self.row_class[j] == cls:
                    yield from self._row_segments(j)
            for i in range(len(self.xs)):
                if self.col_class[i] == cls:
                    yield from self._col_segments(i)

    # ---- parcels & buildings
    def next_number(self, c):
        """Flurstueck numbering: Gemarkung from a 3 km cell, Flur from a 600 m cell."""
        gx, gy = math.floor(c[0] / 3000.0), math.floor(c[1] / 3000.0)
        gem = GEMARKUNGEN[_h(self.seed, gx, gy) % len(GEMARKUNGEN)]
        fx, fy = math.floor(c[0] / 600.0), math.floor(c[1] / 600.0)
        flur = 1 + (fx - gx * 5) + 5 * (fy - gy * 5)
        key = (gx, gy, flur)
        st = self.flur_counter.get(key)
        if st is None:
            st = [0, 0, 0]                # zaehler, nenner, remaining-in-group
            self.flur_counter[key] = st
        rng = self.rng
        if st[2] > 0:
            st[1] += 1
            st[2] -= 1
            nen = st[1]
        else:
            st[0] += rng.randint(1, 3)
            r = rng.random()
            if r < 0.22:                  # start a split group 123/1, 123/2, ...
                st[1] = 1
                st[2] = rng.randint(1, 3)
                nen = 1
            elif r < 0.35:
                nen = rng.randint(2, 14)
            else:
                nen = None
        num = "%d/%d" % (st[0], nen) if nen else "%d" % st[0]
        return gem, flur, st[0], nen, num

    def add_parcel(self, ring, use):
        c = centroid(ring)
        gem, flur, z, n, num = self.next_number(c)
        a = abs(area(ring))
        self.n_parcels += 1
        fid = self.n_parcels                # 1-based, write order
        self.sink.parcel(fid, ring, (gem, flur, z, n, num, round(a, 1), use))
        if use.startswith("residential"):
            k = int(a)
            self.area_hist[k] = self.area_hist.get(k, 0) + 1
        return fid

    def industrial_zone(self, x, y):
        """Synthetic industrial estates for --gfk: a separate noise field."""
        return fbm(self.seed + 303, x / 2200.0, y / 2200.0) > 0.64

    def alkis_values(self, ring, values, dense):
        """--gfk: refine funktion and append the ALKIS code. Uses hashes of the
        parcel fid and position only, never the random stream."""
        pid, fn, storeys, height = values
        h = _h(self.seed + 29, pid, len(ring)) % 100
        if fn == "public":
            fn = "school" if h < 45 else ("church" if h < 65 else "public")
        elif fn in ("residential", "commercial") and not dense:
            c = centroid(ring)
            if self.industrial_zone(*c) and h < 80:
                fn = "industrial"
        return (pid, fn, storeys, height, GFK[fn])

    def add_building_ring(self, ring, values, dense=False):
        if values[0] != self._last_built:   # buildings of a parcel follow it directly
            self._last_built = values[0]
            self.n_parcels_built += 1
        if self.alkis:
            values = self.alkis_values(ring, values, dense)
        self.sink.building(ring, values)

    def add_building(self, cell, pid, dense, front_top, rng):
        """Building inside the convex cell quad (A,B,C,D), front side A-B (or D-C)."""
        if dense:
            a, b = 0.0, 1.0                       # closed block frontage
            s = rng.uniform(0.0, 0.06)
            d = rng.uniform(0.30, 0.45)
        else:
            a = rng.uniform(0.08, 0.22)
            b = rng.uniform(0.78, 0.92)
            s = rng.uniform(0.10, 0.28)
            d = rng.uniform(0.28, 0.45)
        if rng.random() < 0.3:                    # L-shape: rear wing on one side
            w = (b - a) * rng.uniform(0.3, 0.45)
            e = rng.uniform(0.12, 0.25)
            if rng.random() < 0.5:
                poly = [(a, s), (b, s), (b, s + d), (a + w, s + d), (a + w, s + d + e), (a, s + d + e)]
            else:
                poly = [(a, s), (b, s), (b, s + d + e), (b - w, s + d + e), (b - w, s + d), (a, s + d)]
        else:
            poly = [(a, s), (b, s), (b, s + d), (a, s + d)]
        if front_top:
            poly = [(u, 1.0 - v) for (u, v) in reversed(poly)]
        ring = [bilin(cell, u, v) for (u, v) in poly]
        h = rng.random()
        if dense:
            storeys = rng.randint(3, 7)
            fn = "mixed" if h < 0.35 else "residential"
        else:
            storeys = rng.randint(1, 3)
            fn = "residential" if h < 0.85 else "commercial"
        self.add_building_ring(ring, (pid, fn, storeys, round(storeys * 3.1 + rng.uniform(0.5, 2.5), 1)),
                               dense)
        if not dense and rng.random() < 0.25:     # detached garage at the back
            g = [(0.70, 0.80), (0.92, 0.80), (0.92, 0.93), (0.70, 0.93)]
            if front_top:
                g = [(u, 1.0 - v) for (u, v) in reversed(g)]
            self.add_building_ring([bilin(cell, u, v) for (u, v) in g], (pid, "garage", 1, 2.8))

    def subdivide(self, q, score, rng):
        """Split inset block quad q (CCW) into parcels; add buildings."""
        lu = (dist(q[0], q[1]) + dist(q[3], q[2])) / 2
        lv = (dist(q[0], q[3]) + dist(q[1], q[2])) / 2
        if lv > lu:                               # make u the long axis
            q = [q[1], q[2], q[3], q[0]]
            lu, lv = lv, lu
        dense = score > 0.9
        if rng.random() < 0.04 and lu * lv > 4000:  # school / public / commercial lot
            pid = self.add_parcel(list(q), "public")
            cell = q
            ring = [bilin(cell, u, v) for (u, v) in [(0.15, 0.2), (0.85, 0.2), (0.85, 0.55), (0.15, 0.55)]]
            self.add_building_ring(ring, (pid, "public", 3, 11.5))
            return
        if lv < 45:
            nv = 1
        elif lv < 125:
            nv = 2
        else:
            nv = 3
        w = rng.uniform(10.0, 17.0) if dense else rng.uniform(14.0, 28.0)
        nu = max(1, int(round(lu / w)))
        U = [[0.0] * (nv + 1) for _ in range(nu + 1)]
        V = [[0.0] * (nv + 1) for _ in range(nu + 1)]
        for i in range(nu + 1):
            for j in range(nv + 1):
                u, v = i / nu, j / nv
                if 0 < i < nu:
                    u += rng.uniform(-0.28, 0.28) / nu
                if 0 < j < nv:
                    v += rng.uniform(-0.15, 0.15) / nv
                U[i][j], V[i][j] = u, v
        P = [[bilin(q, U[i][j], V[i][j]) for j in range(nv + 1)] for i in range(nu + 1)]
        use = "residential_dense" if dense else "residential"
        pbuild = 0.85 if dense else 0.74
        vmerge = set()
        if nv == 2:
            for i in range(nu):
                if rng.random() < 0.05:
                    vmerge.add(i)
        for j in range(nv):
            i = 0
            while i < nu:
                if i in vmerge and j == 1:
                    i += 1
                    continue
                front_top = (j == nv - 1 and nv > 1)
                if i in vmerge and j == 0:
                    ring = [P[i][0], P[i + 1][0], P[i + 1][1], P[i + 1][2], P[i][2], P[i][1]]
                    cell = (P[i][0], P[i + 1][0], P[i + 1][1], P[i][1])
                    front_top = False
                    i += 1
                elif (i + 1 < nu and rng.random() < 0.10 and (i + 1) not in vmerge):
                    ring = [P[i][j], P[i + 1][j], P[i + 2][j], P[i + 2][j + 1], P[i + 1][j + 1], P[i][j + 1]]
                    cell = (P[i][j], P[i + 1][j], P[i + 1][j + 1], P[i][j + 1])
                    i += 2
                else:
                    ring = [P[i][j], P[i + 1][j], P[i + 1][j + 1], P[i][j + 1]]
                    cell = ring
                    i += 1
                pid = self.add_parcel(ring, use)
                middle = nv == 3 and j == 1
                if rng.random() < (0.25 if middle else pbuild):
                    self.add_building(cell, pid, dense and not middle, front_top, rng)

    def open_land(self, q, rng, x, y):
        lu = (dist(q[0], q[1]) + dist(q[3], q[2])) / 2
        lv = (dist(q[0], q[3]) + dist(q[1], q[2])) / 2
        if lv > lu:
            q = [q[1], q[2], q[3], q[0]]
        t = fbm(self.seed + 101, x / 1800.0, y / 1800.0)
        if t < 0.42:
            use = "agriculture"
            k = rng.randint(2, 5)
        elif t < 0.58:
            use = "park"
            k = 1
        else:
            use = "forest"
            k = rng.randint(1, 2)
        cuts = [0.0] + sorted(rng.uniform(0.15, 0.85) for _ in range(k - 1)) + [1.0]
        for a, b in zip(cuts, cuts[1:]):
            ring = [bilin(q, a, 0), bilin(q, b, 0), bilin(q, b, 1), bilin(q, a, 1)]
            self.add_parcel(ring, use)

    def make_blocks(self):
        node = self.node
        rng = random.Random(self.seed * 31 + 7)
        ncol = len(self.xs) - 1
        t0 = time.time()
        evict_gx = None
        for i in range(ncol):
            if self.progress and i % max(1, ncol // 20) == 0:
                print("blocks: column %d/%d, %d parcels, %.0f s, peak_rss_mb=%.0f" % (
                    i, ncol, self.n_parcels, time.time() - t0,
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0), file=sys.stderr, flush=True)
            # Parcels of column i have their centres east of xs[i] - 14 m (node
            # jitter), so 3 km Gemarkung cells ending west of xs[i] - 1500 m are
            # never numbered again: drop their Flur counters (flat memory).
            gx_min = math.floor((self.xs[i] - 1500.0) / 3000.0)
            if evict_gx is None or gx_min > evict_gx:
                evict_gx = gx_min
                for key in [k for k in self.flur_counter if k[0] < gx_min]:
                    del self.flur_counter[key]
            for j in range(len(self.ys) - 1):
                pts = [node(i, j), node(i + 1, j), node(i + 1, j + 1), node(i, j + 1)]
                c = centroid(pts)
                if not self.inside(*c):
                    continue
                if any(in_river(p[0], p[1], 25) for p in pts):
                    continue
                widths = [HALF_W[self.row_class[j]], HALF_W[self.col_class[i + 1]],
                          HALF_W[self.row_class[j + 1]], HALF_W[self.col_class[i]]]
                q = inset_quad(pts, widths)
                if q is None or area(q) < 600 or min(dist(q[k], q[(k + 1) % 4]) for k in range(4)) < 15:
                    continue
                s = self.urban(*c)
                if s > 0.58:
                    self.subdivide(q, s, rng)
                else:
                    self.open_land(q, rng, *c)

    # ---- points
    def _dry_weights(self):
        """(segment, station weight, bay weight or None) for every street
        segment not on a bridge, in feature order: the weights of the original
        version (bays: residential/secondary segments only)."""
        for seg in self.segments():
            if seg[2]:
                continue
            a, b = seg[3], seg[4]
            u = self.urban((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
            wb = max(0.0, u - 0.55) ** 2 + 1e-4 if seg[0] in ("residential", "secondary") else None
            yield seg, max(0.0, u - 0.5) + 0.02, wb

    def make_points(self):
        """Parking bays and air stations, in two streaming passes over the
        streets. The random stream is consumed exactly as by the original
        list-based code, random.choices(range(n), weights=w, k) with
        cum = accumulate(w): one random() * cum[-1] per pick, the pick is
        bisect_right(cum, x, 0, n - 1). Pass 1 sums the weights (and notes the
        cumulative weight at the end of each street class: a station's class
        decides its next random draws); pass 2 accumulates the same sums again
        and resolves the sorted targets, so nothing per street is stored."""
        rng = random.Random(self.seed * 17 + 3)
        tot_b = tot_s = 0.0
        n_b = n_s = 0
        class_end = []                 # [cls, cumulative station weight at its last segment]
        for seg, ws, wb in self._dry_weights():
            tot_s += ws
            n_s += 1
            if class_end and class_end[-1][0] == seg[0]:
                class_end[-1][1] = tot_s
            else:
                class_end.append([seg[0], tot_s])
            if wb is not None:
                tot_b += wb
                n_b += 1

        random_ = rng.random
        n_bays = int(round(2000 * self.scale))
        total = tot_b + 0.0
        bay_x = array.array("d", [random_() * total for _ in range(n_bays)])
        bay_t = array.array("d")
        bay_side = array.array("b")
        bay_occ = array.array("b")
        bay_hms = array.array("B")
        for _ in range(n_bays):
            bay_t.append(rng.uniform(0.12, 0.88))
            bay_side.append(1 if rng.random() < 0.5 else -1)
            bay_occ.append(1 if rng.random() < 0.56 else 0)
            bay_hms.extend((rng.randint(6, 21), rng.randint(0, 59), rng.randint(0, 59)))

        n_st = int(round(40 * self.scale))
        total = tot_s + 0.0
        st = []                        # [x, traffic, no2, pm10, segment, class]
        for _ in range(n_st):
            x = random_() * total
            # bisect_right(cum, x, 0, n - 1) < end of class c  <=>  cum[end - 1] > x
            cls = next(c for k, (c, end) in enumerate(class_end) if k == len(class_end) - 1 or end > x)
            traffic = cls in ("primary", "motorway", "secondary") and rng.random() < 0.7
            base = 32.0 if traffic else 17.0
            no2 = min(95.0, max(4.0, rng.lognormvariate(math.log(base), 0.45)))
            pm10 = max(5.0, rng.lognormvariate(math.log(19.0), 0.3))
            st.append([x, traffic, no2, pm10, None, cls])

        # pass 2: the first segment whose cumulative weight exceeds the target
        order_b = array.array("q", sorted(range(n_bays), key=bay_x.__getitem__))
        order_s = sorted(range(n_st), key=lambda k: st[k][0])
        bay_seg = array.array("d", bytes(8 * 4 * n_bays))   # ax, ay, bx, by per bay
        bay_cls, bay_name = [None] * n_bays, [None] * n_bays
        pb = ps = ib = i_s = 0
        cum_b = cum_s = 0.0
        for seg, ws, wb in self._dry_weights():
            cum_s += ws
            last = i_s == n_s - 1
            while ps < n_st and (st[order_s[ps]][0] < cum_s or last):
                st[order_s[ps]][4] = seg
                ps += 1
            i_s += 1
            if wb is None:
                continue
            cum_b += wb
            last = ib == n_b - 1
            while pb < n_bays and (bay_x[order_b[pb]] < cum_b or last):
                k = order_b[pb]
                bay_seg[4 * k:4 * k + 4] = array.array("d", (seg[3][0], seg[3][1], seg[4][0], seg[4][1]))
                bay_cls[k], bay_name[k] = seg[0], seg[1]
                pb += 1
            ib += 1
        self._bays = (bay_seg, bay_cls, bay_name, bay_t, bay_side, bay_occ, bay_hms)

        stations = []
        for k, (x, traffic, no2, pm10, seg, cls_drawn) in enumerate(st):
            cls, name, wet, a, b = seg
            assert cls == cls_drawn, "station class mismatch (random stream would diverge)"
            p = (a[0] + (b[0] - a[0]) * 0.5 + (HALF_W[cls] + 3.0),
                 a[1] + (b[1] - a[1]) * 0.5)
            stations.append((p, ("DENW%03d" % (k + 1), "%s %s" % (name, "Verkehr" if traffic else "Hintergrund"),
                                 "traffic" if traffic else "background", round(no2, 1), round(pm10, 1),
                                 "2024-06-11T12:00:00Z")))
        self.stations = stations

    def bays(self):
        """Parking bays (point, values), built on the fly from compact arrays."""
        bay_seg, bay_cls, bay_name, bay_t, bay_side, bay_occ, bay_hms = self._bays
        for k in range(len(bay_t)):
            ax, ay, bx, by = bay_seg[4 * k:4 * k + 4]
            cls, t = bay_cls[k], bay_t[k]
            dx, dy = bx - ax, by - ay
            L = math.hypot(dx, dy)
            off = (HALF_W[cls] - 2.2) * bay_side[k]
            p = (ax + dx * t - dy / L * off, ay + dy * t + dx / L * off)
            ts = "2024-06-11T%02d:%02d:%02dZ" % tuple(bay_hms[3 * k:3 * k + 3])
            yield p, ("PB-%06d" % (k + 1), "occupied" if bay_occ[k] else "free", bay_name[k], ts)


# ---------------------------------------------------------------- writer
DESCRIPTIONS = {
    "parcels": "SYNTHETIC parcels (not a real cadastre), tools/gen_cadastre.py seed %d",
    "buildings": "SYNTHETIC buildings, tools/gen_cadastre.py seed %d",
    "streets": "SYNTHETIC street centre lines, tools/gen_cadastre.py seed %d",
    "parking_bays": "SYNTHETIC parking bays, tools/gen_cadastre.py seed %d",
    "air_stations": "SYNTHETIC air quality stations, tools/gen_cadastre.py seed %d",
    "districts": "Duesseldorf Stadtteile from OpenStreetMap: (c) OpenStreetMap contributors, ODbL 1.0",
}


class GpkgWriter:
    """Streams features into a GeoPackage (one transaction, R-tree per layer).
    Parcels, buildings and streets are written as they are generated, so
    memory stays flat in the number of parcels (only points are held).
    With a DistrictClip, features outside the clip area are dropped here."""

    def __init__(self, path, clip=None, alkis=False, seed=4711):
        if os.path.exists(path):
            os.remove(path)
        self.clip = clip
        self._kept_pid = 0
        # layer descriptions only for non-default output (default = peers' bytes)
        self.describe = clip is not None or alkis
        self.seed = seed
        self.ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
        self.srs = osr.SpatialReference()
        self.srs.ImportFromEPSG(25832)
        self.counts = {}
        self.parcels = self._layer("parcels", ogr.wkbPolygon, [
            ("gemarkung", ogr.OFTString, 32), ("flur", ogr.OFTInteger, 0), ("zaehler", ogr.OFTInteger, 0),
            ("nenner", ogr.OFTInteger, 0), ("flstnr", ogr.OFTString, 16), ("area_m2", ogr.OFTReal, 0),
            ("nutzung", ogr.OFTString, 24)])
        bfields = [("parcel_fid", ogr.OFTInteger, 0), ("funktion", ogr.OFTString, 16),
                   ("storeys", ogr.OFTInteger, 0), ("height_m", ogr.OFTReal, 0)]
        if alkis:
            bfields.append(("gfk", ogr.OFTInteger, 0))
        self.buildings = self._layer("buildings", ogr.wkbPolygon, bfields)
        self.streets = self._layer("streets", ogr.wkbLineString, [
            ("class", ogr.OFTString, 16), ("name", ogr.OFTString, 48), ("bridge", ogr.OFTInteger, 0)])
        self.bays = self._layer("parking_bays", ogr.wkbPoint, [
            ("bay_id", ogr.OFTString, 12), ("state", ogr.OFTString, 10), ("street", ogr.OFTString, 48),
            ("updated", ogr.OFTString, 24)])
        self.stations = self._layer("air_stations", ogr.wkbPoint, [
            ("station_id", ogr.OFTString, 10), ("name", ogr.OFTString, 64), ("kind", ogr.OFTString, 12),
            ("no2", ogr.OFTReal, 0), ("pm10", ogr.OFTReal, 0), ("measured", ogr.OFTString, 24)])
        self.districts = None
        if clip is not None:
            self.districts = self._layer("districts", ogr.wkbMultiPolygon, [
                ("name", ogr.OFTString, 48), ("stadtbezirk", ogr.OFTInteger, 0), ("in_clip", ogr.OFTInteger, 0)])
        self.ds.StartTransaction()

    def _layer(self, name, gtype, fields):
        opts = ["GEOMETRY_NAME=geom", "FID=fid", "SPATIAL_INDEX=YES"]
        if self.describe:
            d = DESCRIPTIONS[name]
            opts.append("DESCRIPTION=" + (d % self.seed if "%d" in d else d))
        lyr = self.ds.CreateLayer(name, self.srs, gtype, options=opts)
        for fname, ftype, width in fields:
            fd = ogr.FieldDefn(fname, ftype)
            if width:
                fd.SetWidth(width)
            lyr.CreateField(fd)
        self.counts[name] = 0
        return lyr

    def _write(self, lyr, wkb, values, fid=None):
        f = ogr.Feature(lyr.GetLayerDefn())
        if fid is not None:
            f.SetFID(fid)
        for k, v in enumerate(values):
            if v is not None:
                f.SetField(k, v)
        f.SetGeometryDirectly(ogr.CreateGeometryFromWkb(wkb))
        lyr.CreateFeature(f)
        self.counts[lyr.GetName()] += 1

    @staticmethod
    def _ring(ring):
        return wkb_polygon([(rnd_round(x), rnd_round(y)) for x, y in ring])

    def parcel(self, fid, ring, values):
        if self.clip is not None:
            if not self.clip.contains(*area_centroid(ring)):
                self._kept_pid = 0
                return
            self._kept_pid = fid
        self._write(self.parcels, self._ring(ring), values, fid)

    def building(self, ring, values):
        # a building follows its parcel directly; keep it when the parcel was kept
        if self.clip is not None and values[0] != self._kept_pid:
            return
        self._write(self.buildings, self._ring(ring), values)

    def street(self, cls, name, wet, a, b):
        if self.clip is not None and not self.clip.contains((a[0] + b[0]) / 2, (a[1] + b[1]) / 2):
            return
        wkb = wkb_line([(rnd_round(a[0]), rnd_round(a[1])), (rnd_round(b[0]), rnd_round(b[1]))])
        self._write(self.streets, wkb, (cls, name, 1 if wet else 0))

    def point(self, lyr, p, values):
        if self.clip is not None and not self.clip.contains(*p):
            return
        self._write(lyr, wkb_point((rnd_round(p[0]), rnd_round(p[1]))), values)

    def write_districts(self):
        for name, bezirk, g, sel in self.clip.districts:
            f = ogr.Feature(self.districts.GetLayerDefn())
            f.SetField(0, name)
            if bezirk is not None:
                f.SetField(1, bezirk)
            f.SetField(2, 1 if sel else 0)
            f.SetGeometry(ogr.ForceToMultiPolygon(g.Clone()))
            self.districts.CreateFeature(f)
            self.counts["districts"] += 1

    def close(self):
        self.ds.CommitTransaction()
        self.ds = None


# ---------------------------------------------------------------- digest
def digest(path):
    """Per-layer count and SHA-256 of the layer contents (not of the file)."""
    ds = ogr.Open(path)
    if ds is None:
        raise SystemExit("digest: cannot open %s" % path)
    total = hashlib.sha256()
    for li in range(ds.GetLayerCount()):
        lyr = ds.GetLayer(li)
        defn = lyr.GetLayerDefn()
        names = [defn.GetFieldDefn(k).GetName() for k in range(defn.GetFieldCount())]
        h = hashlib.sha256(("|".join(names) + "\n").encode())
        n = 0
        for f in lyr:
            parts = [str(f.GetFID())]
            for k in range(len(names)):
                parts.append(repr(f.GetField(k)) if f.IsFieldSetAndNotNull(k) else "NULL")
            h.update(("|".join(parts) + "\n").encode())
            g = f.GetGeometryRef()
            h.update(g.ExportToIsoWkb() if g is not None else b"-")
            n += 1
        print("%-13s %9d %s" % (lyr.GetName(), n, h.hexdigest()))
        total.update(("%s %d %s\n" % (lyr.GetName(), n, h.hexdigest())).encode())
    print("%-13s %9s %s" % ("ALL", "", total.hexdigest()))
    return 0


# ---------------------------------------------------------------- main
def _pct(hist, q):
    """q-quantile of a histogram {value: count}, by the same index as sorted()[n*q]."""
    n = sum(hist.values())
    want = int(n * q)
    seen = 0
    for k in sorted(hist):
        seen += hist[k]
        if seen > want:
            return k
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=4711)
    ap.add_argument("--scale", type=float, default=1.0, help="area factor (8 -> ~1.2M parcels, 62 -> ~9M)")
    ap.add_argument("--out", default=os.path.join("data", "cadastre.gpkg"))
    ap.add_argument("--clip-districts", metavar="FILE.gpkg[:layer]",
                    help="keep only features inside the union of --districts from this layer")
    ap.add_argument("--districts", metavar="NAME,NAME,...", help="district names (field 'name')")
    ap.add_argument("--gfk", action="store_true",
                    help="ALKIS-like funktion classes and an ALKIS Gebaeudefunktion column 'gfk'")
    ap.add_argument("--digest", metavar="FILE.gpkg", help="print layer counts and content checksums, then exit")
    ap.add_argument("--progress", action="store_true", help="progress lines on stderr")
    args = ap.parse_args()

    if args.digest:
        return digest(args.digest)
    if bool(args.clip_districts) != bool(args.districts):
        ap.error("--clip-districts and --districts go together")

    t0 = time.time()
    clip = DistrictClip(args.clip_districts, args.districts.split(",")) if args.clip_districts else None
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    w = GpkgWriter(args.out, clip=clip, alkis=args.gfk, seed=args.seed)
    g = Gen(args.seed, args.scale, w, alkis=args.gfk, progress=args.progress)
    g.grid()
    g.make_blocks()          # streams parcels + buildings
    g.make_points()
    for s in g.segments():   # streams streets in class order
        w.street(*s)
    for p, vals in g.bays():
        w.point(w.bays, p, vals)
    for p, vals in g.stations:
        w.point(w.stations, p, vals)
    if clip is not None:
        w.write_districts()
    t1 = time.time()
    w.close()                # commit + R-tree build
    t2 = time.time()
    if clip is not None:
        e = clip.env
        print("clip_districts %s" % ",".join(clip.names))
        print("clip_extent_25832 %.0f %.0f %.0f %.0f" % (e[0], e[2], e[1], e[3]))
    print("extent_25832 %.0f %.0f %.0f %.0f" % (g.xmin, g.ymin, g.xmax, g.ymax))
    for k, v in w.counts.items():
        print("%-13s %d" % (k, v))
    print("parcels_with_building %.1f%% (generated, before any clip)" % (
        100.0 * g.n_parcels_built / max(1, g.n_parcels)))
    if g.area_hist:
        print("urban_parcel_area_m2 p5=%d median=%d p95=%d (generated, 1 m2 bins)" % (
            _pct(g.area_hist, 0.05), _pct(g.area_hist, 0.5), _pct(g.area_hist, 0.95)))
    print("generate+write_s=%.1f commit_s=%.1f total_s=%.1f size_mb=%.1f peak_rss_mb=%.0f" % (
        t1 - t0, t2 - t1, t2 - t0, os.path.getsize(args.out) / 1e6,
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
