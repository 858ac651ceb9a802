#!/usr/bin/env python3
"""Source checks that keep the module layout honest (run by ctest as `lint`):

1. layering: a module may include only the modules listed for it below (STYLE.md §3;
   `style` may also use raster's paint types, `pipeline` loads sources);
2. third-party headers appear only in the module that wraps the library;
3. calls that are wrong in a threaded server are banned (use the _r / snprintf /
   strtol forms);
4. every .c file of a module includes its module's own header before any other
   project header, so each header is proven to compile on its own.
Exit status 1 and a file:line list when anything is off.
"""
import os
import re
import sys

ALLOWED = {
    "util": set(),
    "grid": {"util"},
    "config": {"util", "grid"},
    "raster": {"util"},
    "text": {"util", "raster"},
    "label": {"util"},
    "encode": {"util", "raster"},
    "style": {"util", "grid", "raster"},
    "source": {"util", "grid"},
    "mvt": {"util", "grid"},
    "render": {"util", "grid", "style", "source", "raster", "text", "label", "mvt"},
    "cache": {"util", "grid"},
    "pipeline": {"util", "grid", "config", "style", "source", "cache", "render", "encode", "mvt",
                 "raster", "text", "label"},
    "ows": {"util", "grid", "config", "style"},
    "feed": {"util", "grid", "source"},
    "http": {"util", "ows", "pipeline", "feed", "cache", "grid", "config", "render", "encode", "mvt",
             "raster", "text", "label", "style", "source", "seed"},
    "seed": {"util", "grid", "pipeline", "cache", "config", "source"},
    "main": None,  # anything
}
WRAPPED = [  # header regex -> modules allowed to include it
    (r"^(gdal|ogr_|cpl_|ogrsf)", {"source"}),
    (r"^proj(\.h|_)", {"source"}),
    (r"^geos_c\.h", {"source"}),
    (r"^png\.h", {"encode"}),
    (r"^microhttpd\.h", {"http"}),
    (r"^yaml\.h", {"config"}),
    (r"^libxml/", {"style"}),
    (r"^(ft2build\.h|freetype/|hb\.h|hb-)", {"text"}),
    (r"^(curl/|mosquitto\.h|jansson\.h)", {"feed"}),
    (r"^cairo", set()),
]
BANNED = re.compile(r"(?<![\w.>])(strtok|gmtime|localtime|asctime|ctime|strerror|rand|sprintf|"
                    r"vsprintf|strcpy|strcat|atoi|atol|atof|setlocale|gets)\s*\(")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', text)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    src = os.path.join(root, "tilesrv")
    problems = []
    for mod in sorted(os.listdir(src)):
        d = os.path.join(src, mod)
        if not os.path.isdir(d):
            continue
        if mod not in ALLOWED:
            problems.append("%s: module not in the layering table (tests/lint/check_source.py)" % d)
            continue
        allowed = ALLOWED[mod]
        for fn in sorted(os.listdir(d)):
            if not fn.endswith((".c", ".h")):
                continue
            path = os.path.join(d, fn)
            raw = open(path, encoding="utf-8").read()
            first_project = None
            for ln, line in enumerate(raw.split("\n"), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, inc = m.groups()
                if kind == '"' and "/" in inc:
                    dep = inc.split("/")[0]
                    if first_project is None:
                        first_project = inc
                    if dep != mod and allowed is not None and dep not in allowed:
                        problems.append("%s:%d: module %s may not include %s" % (path, ln, mod, inc))
                for pat, mods in WRAPPED:
                    if re.match(pat, inc) and mod not in mods:
                        problems.append("%s:%d: %s belongs in module %s only" %
                                        (path, ln, inc, "/".join(sorted(mods)) or "(tests)"))
            if fn.endswith(".c") and mod != "main" and first_project is not None:
                if not first_project.startswith(mod + "/"):
                    problems.append("%s: first project include is %s, not %s's own header" %
                                    (path, first_project, mod))
            code = strip_comments(raw)
            for ln, line in enumerate(code.split("\n"), 1):
                m = BANNED.search(line)
                if m:
                    problems.append("%s:%d: %s() is banned in a threaded server" % (path, ln, m.group(1)))
    for p in problems:
        print(p)
    print("lint: %d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
