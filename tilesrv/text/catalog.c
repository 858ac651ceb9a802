/* text/catalog.c — the font catalogue: scan font directories once, read each face's
 * family and style with a temporary FreeType library, and find the best face for a
 * family list and style. */
#include "text/text.h"
#include "text/text_int.h"

#include "util/log.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include FT_TRUETYPE_TABLES_H
#include FT_SFNT_NAMES_H
#include FT_TRUETYPE_IDS_H

#define MAX_FACES 4096
#define MAX_DEPTH 3
#define MAX_FILES 65536

/* Debian's and most distributions' system font trees (every package's fonts, e.g.
 * fonts-dejavu, fonts-liberation, fonts-noto, fonts-freefont), then the project's own. */
static const char *const default_dirs[] = {
    "/usr/share/fonts/truetype",
    "/usr/share/fonts/opentype",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/share/fonts/OTF",
    "/usr/local/share/fonts",
    "data/fonts",
};

/* ---- scanning --------------------------------------------------------------------- */

typedef struct paths {
    char **v;
    size_t n, cap;
} paths;

static int
paths_add(paths *p, const char *s)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        char **v = realloc(p->v, cap * sizeof *v);
        if (v == NULL)
            return -1;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n] = strdup(s);
    if (p->v[p->n] == NULL)
        return -1;
    p->n++;
    return 0;
}

static void
paths_free(paths *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
}

static int
is_font_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 5 || name[n - 4] != '.')
        return 0;
    const char *ext = name + n - 3;
    return strcasecmp(ext, "ttf") == 0 || strcasecmp(ext, "otf") == 0 ||
           strcasecmp(ext, "ttc") == 0 || strcasecmp(ext, "otc") == 0;
}

/* Collect font files under dir (depth levels of subdirectories). -1 on out-of-memory,
 * -2 when dir cannot be opened. */
static int
scan_dir(const char *dir, int depth, paths *out)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -2;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && out->n < MAX_FILES) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof path)
            continue;
        struct stat sb;
        if (stat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            if (depth > 0 && scan_dir(path, depth - 1, out) == -1) {
                rc = -1;
                break;
            }
        } else if (S_ISREG(sb.st_mode) && is_font_name(e->d_name)) {
            if (paths_add(out, path) != 0) {
                rc = -1;
                break;
            }
        }
    }
    closedir(d);
    return rc;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The English (or any) legacy family name (name ID 1) from the name table, as UTF-8 in
 * buf; 0 when there is none. Windows Unicode names are UTF-16BE; Mac Roman ones are
 * taken when ASCII. */
static int
legacy_family(FT_Face f, char *buf, size_t size)
{
    FT_UInt n = FT_Get_Sfnt_Name_Count(f);
    int best = -1, best_score = 0;
    FT_SfntName nm;
    for (FT_UInt i = 0; i < n; i++) {
        if (FT_Get_Sfnt_Name(f, i, &nm) != 0 || nm.name_id != TT_NAME_ID_FONT_FAMILY)
            continue;
        int score = 0;
        if (nm.platform_id == TT_PLATFORM_MICROSOFT &&
            (nm.encoding_id == TT_MS_ID_UNICODE_CS || nm.encoding_id == TT_MS_ID_UCS_4))
            score = nm.language_id == TT_MS_LANGID_ENGLISH_UNITED_STATES ? 4 : 3;
        else if (nm.platform_id == TT_PLATFORM_MACINTOSH && nm.encoding_id == TT_MAC_ID_ROMAN)
            score = 2;
        if (score > best_score) {
            best_score = score;
            best = (int)i;
        }
    }
    if (best < 0 || FT_Get_Sfnt_Name(f, (FT_UInt)best, &nm) != 0)
        return 0;
    size_t o = 0;
    if (nm.platform_id == TT_PLATFORM_MICROSOFT) {
        for (FT_UInt i = 0; i + 1 < nm.string_len; i += 2) {
            unsigned c = ((unsigned)nm.string[i] << 8) | nm.string[i + 1];
            if (c >= 0xD800 && c < 0xE000)
                c = 0xFFFD; /* surrogates: not in family names worth matching */
            unsigned char u[3];
            size_t k;
            if (c < 0x80) {
                u[0] = (unsigned char)c;
                k = 1;
            } else if (c < 0x800) {
                u[0] = (unsigned char)(0xC0 | (c >> 6));
                u[1] = (unsigned char)(0x80 | (c & 0x3F));
                k = 2;
            } else {
                u[0] = (unsigned char)(0xE0 | (c >> 12));
                u[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
                u[2] = (unsigned char)(0x80 | (c & 0x3F));
                k = 3;
            }
            if (o + k >= size)
                break;
            memcpy(buf + o, u, k);
            o += k;
        }
    } else {
        for (FT_UInt i = 0; i < nm.string_len && o + 1 < size; i++) {
            if (nm.string[i] >= 0x80)
                return 0;
            buf[o++] = (char)nm.string[i];
        }
    }
    buf[o] = '\0';
    return o > 0;
}

static void
info_free(ts_font_info *fi)
{
    free((char *)fi->family);
    free((char *)fi->family2);
    free((char *)fi->style);
    free((char *)fi->path);
}

/* Read face index of the file at path into *fi. 1 = added, 0 = skipped, -1 = no memory.
 * *nfaces gets the file's face count. */
static int
read_face(FT_Library lib, const char *path, long index, ts_font_info *fi, long *nfaces)
{
    FT_Face f;
    if (FT_New_Face(lib, path, index, &f) != 0) {
        ts_debug("fonts: cannot read %s (face %ld), skipped", path, index);
        return 0;
    }
    *nfaces = f->num_faces;
    int rc = 0;
    if (FT_IS_SCALABLE(f) && f->family_name != NULL && f->family_name[0] != '\0') {
        memset(fi, 0, sizeof *fi);
        TT_OS2 *os2 = FT_Get_Sfnt_Table(f, FT_SFNT_OS2);
        fi->weight = os2 && os2->usWeightClass >= 1 && os2->usWeightClass <= 1000
                         ? os2->usWeightClass
                         : ((f->style_flags & FT_STYLE_FLAG_BOLD) ? 700 : 400);
        fi->width = os2 && os2->usWidthClass >= 1 && os2->usWidthClass <= 9 ? os2->usWidthClass : 5;
        fi->bold = fi->weight >= 600 || (f->style_flags & FT_STYLE_FLAG_BOLD) != 0;
        fi->italic = (f->style_flags & FT_STYLE_FLAG_ITALIC) != 0;
        fi->index = (int)index;
        char fam2[256];
        fi->family = strdup(f->family_name);
        fi->style = strdup(f->style_name ? f->style_name : "");
        fi->path = strdup(path);
        if (legacy_family(f, fam2, sizeof fam2) && strcasecmp(fam2, f->family_name) != 0)
            fi->family2 = strdup(fam2);
        if (fi->family == NULL || fi->style == NULL || fi->path == NULL) {
            info_free(fi);
            rc = -1;
        } else {
            rc = 1;
        }
    }
    FT_Done_Face(f);
    return rc;
}

ts_font_catalog *
ts_font_catalog_new(const char *const *dirs, int ndirs, ts_err *err)
{
    int explicit_dirs = dirs != NULL;
    if (!explicit_dirs) {
        dirs = default_dirs;
        ndirs = (int)(sizeof default_dirs / sizeof default_dirs[0]);
    }
    paths files = {0};
    ts_font_catalog *cat = calloc(1, sizeof *cat);
    FT_Library lib = NULL;
    if (cat == NULL)
        goto nomem;
    for (int i = 0; i < ndirs; i++) {
        int rc = dirs[i] ? scan_dir(dirs[i], MAX_DEPTH, &files) : -2;
        if (rc == -1)
            goto nomem;
        if (rc == -2 && explicit_dirs) {
            TS_FAIL(err, TS_ENOENT, "font directory %s cannot be read",
                    dirs[i] ? dirs[i] : "(null)");
            goto fail;
        }
    }
    if (files.n > 1)
        qsort(files.v, files.n, sizeof *files.v, cmp_str);
    if (FT_Init_FreeType(&lib) != 0)
        goto nomem;
    cat->faces = calloc(MAX_FACES, sizeof *cat->faces);
    if (cat->faces == NULL)
        goto nomem;
    for (size_t i = 0; i < files.n && cat->nfaces < MAX_FACES; i++) {
        if (i > 0 && strcmp(files.v[i - 1], files.v[i]) == 0)
            continue; /* a directory listed twice */
        long nfaces = 1;
        for (long k = 0; k < nfaces && k < 256 && cat->nfaces < MAX_FACES; k++) {
            int rc = read_face(lib, files.v[i], k, &cat->faces[cat->nfaces], &nfaces);
            if (rc < 0)
                goto nomem;
            cat->nfaces += rc;
        }
    }
    FT_Done_FreeType(lib);
    lib = NULL;
    if (cat->nfaces == 0) {
        TS_FAIL(err, TS_ENOENT, "no usable font found in %d font director%s (first: %s)", ndirs,
                ndirs == 1 ? "y" : "ies", ndirs > 0 && dirs[0] ? dirs[0] : "(none)");
        goto fail;
    }
    ts_font_info *shrunk = realloc(cat->faces, (size_t)cat->nfaces * sizeof *shrunk);
    if (shrunk != NULL)
        cat->faces = shrunk;
    paths_free(&files);
    return cat;

nomem:
    TS_FAIL(err, TS_ENOMEM, "out of memory reading the font catalogue");
fail:
    if (lib != NULL)
        FT_Done_FreeType(lib);
    paths_free(&files);
    ts_font_catalog_free(cat);
    return NULL;
}

void
ts_font_catalog_free(ts_font_catalog *cat)
{
    if (cat == NULL)
        return;
    for (int i = 0; i < cat->nfaces; i++)
        info_free(&cat->faces[i]);
    free(cat->faces);
    free(cat);
}

int
ts_font_catalog_count(const ts_font_catalog *cat)
{
    return cat ? cat->nfaces : 0;
}

const ts_font_info *
ts_font_catalog_info(const ts_font_catalog *cat, int i)
{
    if (cat == NULL || i < 0 || i >= cat->nfaces)
        return NULL;
    return &cat->faces[i];
}

/* ---- lookup ----------------------------------------------------------------------- */

/* Substitutes for generic and common proprietary families, first present wins. */
static const char *const sans_subst[] = {"DejaVu Sans", "Noto Sans", "Liberation Sans", "FreeSans",
                                         NULL};
static const char *const serif_subst[] = {"DejaVu Serif", "Noto Serif", "Liberation Serif",
                                          "FreeSerif", NULL};
static const char *const mono_subst[] = {"DejaVu Sans Mono", "Noto Sans Mono", "Liberation Mono",
                                         "FreeMono", NULL};

static const struct {
    const char *name;
    const char *const *subst;
} aliases[] = {
    {"sans-serif", sans_subst},     {"sans", sans_subst},
    {"sansserif", sans_subst},      {"dialog", sans_subst},
    {"arial", sans_subst},          {"helvetica", sans_subst},
    {"helvetica neue", sans_subst}, {"verdana", sans_subst},
    {"tahoma", sans_subst},         {"segoe ui", sans_subst},
    {"system-ui", sans_subst},      {"serif", serif_subst},
    {"times", serif_subst},         {"times new roman", serif_subst},
    {"georgia", serif_subst},       {"monospace", mono_subst},
    {"monospaced", mono_subst},     {"mono", mono_subst},
    {"dialoginput", mono_subst},    {"courier", mono_subst},
    {"courier new", mono_subst},
};

/* Lower is better: slant, then weight, then width. */
static int
style_score(const ts_font_info *fi, int bold, int italic)
{
    int target = bold ? 700 : 400;
    int dw = fi->weight - target;
    if (dw < 0)
        dw = -dw;
    int wd = fi->width - 5;
    if (wd < 0)
        wd = -wd;
    return (fi->italic != (italic != 0)) * 100000 + dw * 10 + wd * 3;
}

static int
family_is(const ts_font_info *fi, const char *name, size_t n)
{
    return (strncasecmp(fi->family, name, n) == 0 && fi->family[n] == '\0') ||
           (fi->family2 && strncasecmp(fi->family2, name, n) == 0 && fi->family2[n] == '\0');
}

/* Best face of the family (n bytes of name), or -1. A family2 match ("DejaVu Sans
 * Condensed") keeps to the faces carrying that legacy name. */
static int
best_of_family(const ts_font_catalog *cat, const char *name, size_t n, int bold, int italic)
{
    int best = -1, best_score = 0;
    for (int i = 0; i < cat->nfaces; i++) {
        if (!family_is(&cat->faces[i], name, n))
            continue;
        int s = style_score(&cat->faces[i], bold, italic);
        if (best < 0 || s < best_score) {
            best = i;
            best_score = s;
        }
    }
    return best;
}

static int
best_of_list(const ts_font_catalog *cat, const char *const *names, int bold, int italic)
{
    for (int k = 0; names[k]; k++) {
        int i = best_of_family(cat, names[k], strlen(names[k]), bold, italic);
        if (i >= 0)
            return i;
    }
    return -1;
}

static const char *const *
alias_of(const char *name, size_t n)
{
    for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; k++)
        if (strncasecmp(aliases[k].name, name, n) == 0 && aliases[k].name[n] == '\0')
            return aliases[k].subst;
    return NULL;
}

/* The next name of a comma-separated list starting at *p: *len bytes at the return
 * value, quotes and spaces stripped; NULL at the end. */
static const char *
next_name(const char **p, size_t *len)
{
    const char *s = *p;
    while (*s) {
        const char *e = strchr(s, ',');
        if (e == NULL)
            e = s + strlen(s);
        *p = *e ? e + 1 : e;
        const char *a = s, *b = e;
        while (a < b && (*a == ' ' || *a == '\t' || *a == '"' || *a == '\''))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '"' || b[-1] == '\''))
            b--;
        if (b > a) {
            *len = (size_t)(b - a);
            return a;
        }
        s = *p;
    }
    return NULL;
}

int
ts_font_catalog_find(const ts_font_catalog *cat, const char *family, int bold, int italic,
                     ts_font_match *match)
{
    ts_font_match how = TS_FONT_FALLBACK;
    int found = -1;
    if (family == NULL || family[0] == '\0') {
        how = TS_FONT_ALIAS;
    } else {
        const char *p = family, *nm;
        size_t n;
        while (found < 0 && (nm = next_name(&p, &n)) != NULL) /* by name */
            found = best_of_family(cat, nm, n, bold, italic);
        if (found >= 0) {
            how = TS_FONT_EXACT;
        } else {
            p = family;
            while (found < 0 && (nm = next_name(&p, &n)) != NULL) { /* by alias */
                const char *const *subst = alias_of(nm, n);
                if (subst)
                    found = best_of_list(cat, subst, bold, italic);
            }
            if (found >= 0)
                how = TS_FONT_ALIAS;
        }
    }
    if (found < 0)
        found = best_of_list(cat, sans_subst, bold, italic);
    if (found < 0) { /* no known sans: the closest style of anything */
        int best_score = 0;
        for (int i = 0; i < cat->nfaces; i++) {
            int s = style_score(&cat->faces[i], bold, italic);
            if (found < 0 || s < best_score) {
                found = i;
                best_score = s;
            }
        }
    }
    if (match)
        *match = how;
    return found < 0 ? 0 : found;
}
