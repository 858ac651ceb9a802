/* ows/wms_caps.c — WMS documents: the GetCapabilities response for 1.1.1 (DTD) and 1.3.0
 * (XSD, with sld:GetLegendGraphic), and the ServiceExceptionReport of both versions. */
#include "ows/ows.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ows/ows_int.h"
#include "util/fmt.h"
#include "util/utf8.h"

const char *
ts_ows_wms_exception_mime(int version)
{
    return version == 111 ? "application/vnd.ogc.se_xml" : "text/xml";
}

const char *
ts_ows_wms_capabilities_mime(int version)
{
    return version == 111 ? "application/vnd.ogc.wms_xml" : "text/xml";
}

ts_status
ts_ows_write_wms_exception(const ts_ows_fault *fault, int version, ts_buf *out)
{
    ts_ows_code code = fault->code == TS_OWS_NONE ? TS_OWS_NO_APPLICABLE_CODE : fault->code;
    TS_TRY(ts_buf_printf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    if (version == 111) {
        TS_TRY(ts_buf_printf(out, "<!DOCTYPE ServiceExceptionReport SYSTEM "
                                  "\"http://schemas.opengis.net/wms/1.1.1/exception_1_1_1.dtd\">\n"
                                  "<ServiceExceptionReport version=\"1.1.1\">\n"));
        TS_TRY(ts_buf_printf(out, "  <ServiceException code=\"%s\">", ts_ows_code_name(code, 1)));
    } else {
        TS_TRY(ts_buf_printf(out,
                             "<ServiceExceptionReport version=\"1.3.0\" "
                             "xmlns=\"http://www.opengis.net/ogc\" "
                             "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                             "xsi:schemaLocation=\"http://www.opengis.net/ogc "
                             "http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd\">\n"));
        TS_TRY(ts_buf_printf(out, "  <ServiceException code=\"%s\"", ts_ows_code_name(code, 0)));
        if (fault->locator[0]) {
            TS_TRY(ts_buf_printf(out, " locator=\""));
            TS_TRY(ts_ows_xml_escape(out, fault->locator));
            TS_TRY(ts_buf_add(out, "\"", 1));
        }
        TS_TRY(ts_buf_add(out, ">", 1));
    }
    TS_TRY(ts_ows_xml_escape(out, fault->err.msg));
    return ts_buf_printf(out, "</ServiceException>\n</ServiceExceptionReport>\n");
}

/* ---- capabilities --------------------------------------------------------------------- */

typedef struct caps_writer {
    ts_buf *b;
    const ts_wms_capabilities *c;
    int v111;
} caps_writer;

static ts_status
online_resource(ts_buf *b, const char *indent, const char *url)
{
    TS_TRY(ts_buf_printf(b,
                         "%s<OnlineResource xmlns:xlink=\"http://www.w3.org/1999/xlink\" "
                         "xlink:type=\"simple\" xlink:href=\"",
                         indent));
    TS_TRY(ts_ows_xml_escape(b, url));
    return ts_buf_printf(b, "\"/>\n");
}

static ts_status
keywords(ts_buf *b, const char *indent, const char *const *kw, int n)
{
    if (n <= 0)
        return TS_OK;
    TS_TRY(ts_buf_printf(b, "%s<KeywordList>\n", indent));
    for (int i = 0; i < n; i++) {
        TS_TRY(ts_buf_printf(b, "%s  ", indent));
        TS_TRY(ts_ows__xml_elem(b, "", "Keyword", kw[i]));
    }
    return ts_buf_printf(b, "%s</KeywordList>\n", indent);
}

static int
any(const char *s)
{
    return s != NULL && *s != '\0';
}

/* The character entity at s ("&amp;", "&copy;", "&#169;", "&#xA9;") as UTF-8 into out (4
 * bytes); returns its length in s (0: not one this reads, the '&' stays as it is) and the
 * bytes written in *n. */
static size_t
html_entity(const char *s, char out[4], int *n)
{
    static const struct { const char *name; uint32_t cp; } names[] = {
        {"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''},
        {"nbsp;", ' '}, {"copy;", 0xA9}, {"reg;", 0xAE}, {"middot;", 0xB7},
        {"ndash;", 0x2013}, {"mdash;", 0x2014},
    };
    uint32_t cp = 0;
    size_t len = 0;
    if (s[1] == '#') {
        int hex = s[2] == 'x' || s[2] == 'X';
        const char *p = s + (hex ? 3 : 2);
        while (*p != ';' && cp <= 0x10FFFF) {
            int d = hex ? ts_hexval((unsigned char)*p) : *p >= '0' && *p <= '9' ? *p - '0' : -1;
            if (d < 0)
                return 0;
            cp = cp * (hex ? 16 : 10) + (uint32_t)d;
            p++;
        }
        if (p == s + (hex ? 3 : 2) || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        len = (size_t)(p + 1 - s);
    } else {
        for (size_t i = 0; i < sizeof names / sizeof names[0] && len == 0; i++)
            if (strncmp(s + 1, names[i].name, strlen(names[i].name)) == 0) {
                cp = names[i].cp;
                len = 1 + strlen(names[i].name);
            }
        if (len == 0)
            return 0;
    }
    *n = (int)ts_utf8_put(cp, (uint8_t *)out);
    return len;
}

/* The text of an HTML fragment: tags left out, character entities read, runs of white
 * space one space, trimmed. */
static ts_status
html_text(ts_buf *out, const char *html)
{
    int space = 0, any_text = 0;
    for (const char *p = html; *p;) {
        if (*p == '<') {
            const char *e = strchr(p, '>');
            if (e == NULL)
                break;
            p = e + 1; /* inline markup: no space of its own */
            continue;
        }
        char u[4];
        int n = 1;
        size_t adv = 1;
        if (*p == '&' && (adv = html_entity(p, u, &n)) > 0) {
            /* u holds the character */
        } else {
            u[0] = *p;
            adv = 1;
            n = 1;
        }
        if (n == 1 && (u[0] == ' ' || u[0] == '\t' || u[0] == '\n' || u[0] == '\r')) {
            space = any_text;
        } else {
            if (space)
                TS_TRY(ts_buf_add(out, " ", 1));
            TS_TRY(ts_buf_add(out, u, (size_t)n));
            space = 0;
            any_text = 1;
        }
        p += adv;
    }
    return ts_buf_add(out, "", 1);
}

/* The first link's target of an HTML fragment (href="..." or '...', "&amp;" read), into
 * out; 0 when it has none. */
static int
html_first_href(ts_buf *out, const char *html)
{
    for (const char *p = html; (p = strstr(p, "href")) != NULL; p += 4) {
        const char *q = p + 4;
        while (*q == ' ')
            q++;
        if (*q != '=')
            continue;
        q++;
        while (*q == ' ')
            q++;
        char quote = *q;
        if (quote != '"' && quote != '\'')
            continue;
        const char *e = strchr(q + 1, quote);
        if (e == NULL || e == q + 1)
            return 0;
        for (const char *c = q + 1; c < e; c++) {
            if (*c == '&' && strncmp(c, "&amp;", 5) == 0) {
                if (ts_buf_add(out, "&", 1) != TS_OK)
                    return 0;
                c += 4;
            } else if (ts_buf_add(out, c, 1) != TS_OK) {
                return 0;
            }
        }
        return ts_buf_add(out, "", 1) == TS_OK;
    }
    return 0;
}

/* <Attribution> of an HTML attribution: its text as Title, its first link as
 * OnlineResource. */
static ts_status
attribution_elem(ts_buf *b, const char *in, const char *html)
{
    ts_buf text, href;
    ts_buf_init(&text, 64 * 1024);
    ts_buf_init(&href, 8 * 1024);
    ts_status st = html_text(&text, html);
    int has_href = st == TS_OK && html_first_href(&href, html);
    const char *t = st == TS_OK ? (const char *)text.data : NULL;
    if (t != NULL && (*t != '\0' || has_href)) {
        char in2[80];
        snprintf(in2, sizeof in2, "%s  ", in);
        st = ts_buf_printf(b, "%s<Attribution>\n", in);
        if (st == TS_OK && *t != '\0')
            st = ts_ows__xml_elem(b, in2, "Title", t);
        if (st == TS_OK && has_href)
            st = online_resource(b, in2, (const char *)href.data);
        if (st == TS_OK)
            st = ts_buf_printf(b, "%s</Attribution>\n", in);
    }
    ts_buf_fini(&text);
    ts_buf_fini(&href);
    return st;
}

/* <MetadataURL> of an ISO 19115 record in XML (1.1.1 names that type TC211). */
static ts_status
metadata_url_elem(caps_writer *w, const char *in, const char *url)
{
    ts_buf *b = w->b;
    TS_TRY(ts_buf_printf(b, "%s<MetadataURL type=\"%s\">\n%s  <Format>text/xml</Format>\n", in,
                         w->v111 ? "TC211" : "ISO19115:2003", in));
    char in2[80];
    snprintf(in2, sizeof in2, "%s  ", in);
    TS_TRY(online_resource(b, in2, url));
    return ts_buf_printf(b, "%s</MetadataURL>\n", in);
}

static ts_status
contact(ts_buf *b, const ts_ows_contact *ct)
{
    int person = any(ct->person) || any(ct->organization);
    int addr = any(ct->address) || any(ct->city) || any(ct->state) || any(ct->postcode) ||
               any(ct->country);
    if (!person && !addr && !any(ct->position) && !any(ct->phone) && !any(ct->email))
        return TS_OK;
    TS_TRY(ts_buf_printf(b, "    <ContactInformation>\n"));
    if (person) {
        TS_TRY(ts_buf_printf(b, "      <ContactPersonPrimary>\n"));
        TS_TRY(ts_ows__xml_elem(b, "        ", "ContactPerson", ct->person));
        TS_TRY(ts_ows__xml_elem(b, "        ", "ContactOrganization", ct->organization));
        TS_TRY(ts_buf_printf(b, "      </ContactPersonPrimary>\n"));
    }
    if (any(ct->position))
        TS_TRY(ts_ows__xml_elem(b, "      ", "ContactPosition", ct->position));
    if (addr) {
        TS_TRY(ts_buf_printf(b, "      <ContactAddress>\n"));
        TS_TRY(ts_ows__xml_elem(b, "        ", "AddressType", "postal"));
        TS_TRY(ts_ows__xml_elem(b, "        ", "Address", ct->address));
        TS_TRY(ts_ows__xml_elem(b, "        ", "City", ct->city));
        TS_TRY(ts_ows__xml_elem(b, "        ", "StateOrProvince", ct->state));
        TS_TRY(ts_ows__xml_elem(b, "        ", "PostCode", ct->postcode));
        TS_TRY(ts_ows__xml_elem(b, "        ", "Country", ct->country));
        TS_TRY(ts_buf_printf(b, "      </ContactAddress>\n"));
    }
    if (any(ct->phone))
        TS_TRY(ts_ows__xml_elem(b, "      ", "ContactVoiceTelephone", ct->phone));
    if (any(ct->email))
        TS_TRY(ts_ows__xml_elem(b, "      ", "ContactElectronicMailAddress", ct->email));
    return ts_buf_printf(b, "    </ContactInformation>\n");
}

static ts_status
service_section(caps_writer *w)
{
    ts_buf *b = w->b;
    const ts_ows_service *s = w->c->service;
    TS_TRY(ts_buf_printf(b, "  <Service>\n"));
    TS_TRY(ts_ows__xml_elem(b, "    ", "Name", w->v111 ? "OGC:WMS" : "WMS"));
    TS_TRY(ts_ows__xml_elem(b, "    ", "Title", s->title));
    if (any(s->abstract_text))
        TS_TRY(ts_ows__xml_elem(b, "    ", "Abstract", s->abstract_text));
    TS_TRY(keywords(b, "    ", s->keywords, s->nkeywords));
    TS_TRY(online_resource(b, "    ", any(s->online_resource) ? s->online_resource : w->c->url));
    TS_TRY(contact(b, &s->contact));
    TS_TRY(ts_ows__xml_elem(b, "    ", "Fees", any(s->fees) ? s->fees : "none"));
    TS_TRY(ts_ows__xml_elem(b, "    ", "AccessConstraints",
                            any(s->access_constraints) ? s->access_constraints : "none"));
    if (!w->v111) {
        if (w->c->layer_limit > 0)
            TS_TRY(ts_buf_printf(b, "    <LayerLimit>%d</LayerLimit>\n", w->c->layer_limit));
        if (w->c->max_width > 0)
            TS_TRY(ts_buf_printf(b, "    <MaxWidth>%d</MaxWidth>\n", w->c->max_width));
        if (w->c->max_height > 0)
            TS_TRY(ts_buf_printf(b, "    <MaxHeight>%d</MaxHeight>\n", w->c->max_height));
    }
    return ts_buf_printf(b, "  </Service>\n");
}

/* One operation: its formats and the GET endpoint ("url?"). */
static ts_status
operation(caps_writer *w, const char *tag, const char *const *formats, int nformats)
{
    ts_buf *b = w->b;
    TS_TRY(ts_buf_printf(b, "      <%s>\n", tag));
    for (int i = 0; i < nformats; i++)
        TS_TRY(ts_ows__xml_elem(b, "        ", "Format", formats[i]));
    TS_TRY(ts_buf_printf(b, "        <DCPType>\n          <HTTP>\n            <Get>\n"));
    char url[1024];
    snprintf(url, sizeof url, "%s?", w->c->url);
    TS_TRY(online_resource(b, "              ", url));
    return ts_buf_printf(b,
                         "            </Get>\n          </HTTP>\n        </DCPType>\n      "
                         "</%s>\n",
                         tag);
}

static ts_status
request_section(caps_writer *w)
{
    static const char *const caps130[] = {"text/xml"};
    static const char *const caps111[] = {"application/vnd.ogc.wms_xml"};
    static const char *const maps[] = {"image/png", "image/png; mode=8bit", "image/jpeg"};
    static const char *const infos[] = {"text/plain", "text/html", "application/json",
                                        "application/vnd.ogc.gml"};
    static const char *const legends[] = {"image/png", "image/jpeg"};
    ts_buf *b = w->b;
    TS_TRY(ts_buf_printf(b, "    <Request>\n"));
    TS_TRY(operation(w, "GetCapabilities", w->v111 ? caps111 : caps130, 1));
    TS_TRY(operation(w, "GetMap", maps, 3));
    TS_TRY(operation(w, "GetFeatureInfo", infos, 4));
    TS_TRY(operation(w, w->v111 ? "GetLegendGraphic" : "sld:GetLegendGraphic", legends, 2));
    TS_TRY(ts_buf_printf(b, "    </Request>\n    <Exception>\n"));
    if (w->v111)
        TS_TRY(ts_buf_printf(b, "      <Format>application/vnd.ogc.se_xml</Format>\n"
                                "      <Format>application/vnd.ogc.se_inimage</Format>\n"
                                "      <Format>application/vnd.ogc.se_blank</Format>\n"));
    else
        TS_TRY(ts_buf_printf(b, "      <Format>XML</Format>\n      <Format>INIMAGE</Format>\n"
                                "      <Format>BLANK</Format>\n"));
    return ts_buf_printf(b, "    </Exception>\n");
}

static ts_status
bbox_attrs(ts_buf *b, ts_bbox x)
{
    TS_TRY(ts_buf_printf(b, " minx=\""));
    TS_TRY(ts_ows__num(b, x.minx));
    TS_TRY(ts_buf_printf(b, "\" miny=\""));
    TS_TRY(ts_ows__num(b, x.miny));
    TS_TRY(ts_buf_printf(b, "\" maxx=\""));
    TS_TRY(ts_ows__num(b, x.maxx));
    TS_TRY(ts_buf_printf(b, "\" maxy=\""));
    TS_TRY(ts_ows__num(b, x.maxy));
    return ts_buf_add(b, "\"", 1);
}

static ts_status
style_elem(caps_writer *w, const char *in, const ts_ows_style *st)
{
    ts_buf *b = w->b;
    TS_TRY(ts_buf_printf(b, "%s<Style>\n", in));
    char in2[64];
    snprintf(in2, sizeof in2, "%s  ", in);
    TS_TRY(ts_ows__xml_elem(b, in2, "Name", st->name));
    TS_TRY(ts_ows__xml_elem(b, in2, "Title", any(st->title) ? st->title : st->name));
    if (any(st->abstract_text))
        TS_TRY(ts_ows__xml_elem(b, in2, "Abstract", st->abstract_text));
    if (any(st->legend_url)) {
        TS_TRY(ts_buf_printf(b, "%s<LegendURL width=\"%d\" height=\"%d\">\n", in2,
                             st->legend_width > 0 ? st->legend_width : 20,
                             st->legend_height > 0 ? st->legend_height : 20));
        TS_TRY(ts_buf_printf(b, "%s  <Format>image/png</Format>\n", in2));
        char in3[80];
        snprintf(in3, sizeof in3, "%s  ", in2);
        TS_TRY(online_resource(b, in3, st->legend_url));
        TS_TRY(ts_buf_printf(b, "%s</LegendURL>\n", in2));
    }
    return ts_buf_printf(b, "%s</Style>\n", in);
}

#define MAX_DEPTH 16

static ts_status
layer_elem(caps_writer *w, const ts_ows_layer *l, int depth)
{
    if (depth >= MAX_DEPTH)
        return TS_FAIL(NULL, TS_EINVAL, "layer tree deeper than %d", MAX_DEPTH);
    ts_buf *b = w->b;
    char in[2 * MAX_DEPTH + 8], in2[2 * MAX_DEPTH + 10];
    snprintf(in, sizeof in, "%*s", 4 + 2 * depth, "");
    snprintf(in2, sizeof in2, "%s  ", in);
    TS_TRY(ts_buf_printf(b, "%s<Layer queryable=\"%d\" opaque=\"%d\">\n", in, l->queryable ? 1 : 0,
                         l->opaque ? 1 : 0));
    if (any(l->name))
        TS_TRY(ts_ows__xml_elem(b, in2, "Name", l->name));
    TS_TRY(ts_ows__xml_elem(b, in2, "Title", any(l->title) ? l->title : l->name));
    if (any(l->abstract_text))
        TS_TRY(ts_ows__xml_elem(b, in2, "Abstract", l->abstract_text));
    TS_TRY(keywords(b, in2, l->keywords, l->nkeywords));
    if (depth == 0) /* the root lists every CRS; children inherit them */
        for (int i = 0; i < w->c->ncrs; i++)
            TS_TRY(ts_ows__xml_elem(b, in2, w->v111 ? "SRS" : "CRS", w->c->crs[i]->id));
    if (l->has_lonlat) {
        const ts_bbox *g = &l->lonlat;
        if (w->v111) {
            TS_TRY(ts_buf_printf(b, "%s<LatLonBoundingBox", in2));
            TS_TRY(bbox_attrs(b, *g));
            TS_TRY(ts_buf_printf(b, "/>\n"));
        } else {
            TS_TRY(ts_buf_printf(b, "%s<EX_GeographicBoundingBox>\n%s  <westBoundLongitude>", in2,
                                 in2));
            TS_TRY(ts_ows__num(b, g->minx));
            TS_TRY(ts_buf_printf(b, "</westBoundLongitude>\n%s  <eastBoundLongitude>", in2));
            TS_TRY(ts_ows__num(b, g->maxx));
            TS_TRY(ts_buf_printf(b, "</eastBoundLongitude>\n%s  <southBoundLatitude>", in2));
            TS_TRY(ts_ows__num(b, g->miny));
            TS_TRY(ts_buf_printf(b, "</southBoundLatitude>\n%s  <northBoundLatitude>", in2));
            TS_TRY(ts_ows__num(b, g->maxy));
            TS_TRY(ts_buf_printf(b, "</northBoundLatitude>\n%s</EX_GeographicBoundingBox>\n", in2));
        }
    }
    for (int i = 0; i < l->nbboxes; i++) {
        const ts_ows_bbox *bb = &l->bboxes[i];
        if (bb->crs == NULL)
            continue;
        /* 1.3.0: the attributes follow the CRS's axis order (minx is the latitude for
         * EPSG:4326); 1.1.1 is always x = easting */
        ts_bbox x = w->v111 ? bb->box : ts_grid_crs_axis_box(bb->crs, bb->box);
        TS_TRY(ts_buf_printf(b, "%s<BoundingBox %s=\"%s\"", in2, w->v111 ? "SRS" : "CRS",
                             bb->crs->id));
        TS_TRY(bbox_attrs(b, x));
        TS_TRY(ts_buf_printf(b, "/>\n"));
    }
    if (any(l->attribution))
        TS_TRY(attribution_elem(b, in2, l->attribution));
    if (any(l->metadata_url))
        TS_TRY(metadata_url_elem(w, in2, l->metadata_url));
    for (int i = 0; i < l->nstyles; i++)
        TS_TRY(style_elem(w, in2, &l->styles[i]));
    if (w->v111) {
        if (l->min_scale > 0 || l->max_scale > 0) {
            /* ScaleHint: ground size of a pixel's diagonal at the standard 0.28 mm pixel */
            double k = TS_STD_PIXEL_M * sqrt(2.0);
            TS_TRY(ts_buf_printf(b, "%s<ScaleHint min=\"", in2));
            TS_TRY(ts_ows__num(b, l->min_scale * k));
            TS_TRY(ts_buf_printf(b, "\" max=\""));
            TS_TRY(ts_ows__num(b, l->max_scale > 0 ? l->max_scale * k : 1e12));
            TS_TRY(ts_buf_printf(b, "\"/>\n"));
        }
    } else {
        if (l->min_scale > 0) {
            TS_TRY(ts_buf_printf(b, "%s<MinScaleDenominator>", in2));
            TS_TRY(ts_ows__num(b, l->min_scale));
            TS_TRY(ts_buf_printf(b, "</MinScaleDenominator>\n"));
        }
        if (l->max_scale > 0) {
            TS_TRY(ts_buf_printf(b, "%s<MaxScaleDenominator>", in2));
            TS_TRY(ts_ows__num(b, l->max_scale));
            TS_TRY(ts_buf_printf(b, "</MaxScaleDenominator>\n"));
        }
    }
    for (int i = 0; i < l->nchildren; i++)
        TS_TRY(layer_elem(w, &l->children[i], depth + 1));
    return ts_buf_printf(b, "%s</Layer>\n", in);
}

ts_status
ts_ows_write_wms_capabilities(const ts_wms_capabilities *caps, int version, ts_buf *out)
{
    if ((version != 111 && version != 130) || caps->service == NULL || !any(caps->service->title) ||
        caps->url == NULL)
        return TS_FAIL(NULL, TS_EINVAL, "WMS capabilities: bad version or missing title/url");
    caps_writer w = {out, caps, version == 111};
    const char *us = caps->service->update_sequence;
    TS_TRY(ts_buf_printf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    if (w.v111) {
        TS_TRY(ts_buf_printf(out,
                             "<!DOCTYPE WMT_MS_Capabilities SYSTEM "
                             "\"http://schemas.opengis.net/wms/1.1.1/WMS_MS_Capabilities.dtd\">\n"
                             "<WMT_MS_Capabilities version=\"1.1.1\""));
    } else {
        TS_TRY(ts_buf_printf(
            out, "<WMS_Capabilities version=\"1.3.0\" xmlns=\"http://www.opengis.net/wms\" "
                 "xmlns:sld=\"http://www.opengis.net/sld\" "
                 "xmlns:xlink=\"http://www.w3.org/1999/xlink\" "
                 "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                 "xsi:schemaLocation=\"http://www.opengis.net/wms "
                 "http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd "
                 "http://www.opengis.net/sld "
                 "http://schemas.opengis.net/sld/1.1.0/sld_capabilities.xsd\""));
    }
    if (any(us)) {
        TS_TRY(ts_buf_printf(out, " updateSequence=\""));
        TS_TRY(ts_ows_xml_escape(out, us));
        TS_TRY(ts_buf_add(out, "\"", 1));
    }
    TS_TRY(ts_buf_printf(out, ">\n"));
    TS_TRY(service_section(&w));
    TS_TRY(ts_buf_printf(out, "  <Capability>\n"));
    TS_TRY(request_section(&w));
    if (caps->root)
        TS_TRY(layer_elem(&w, caps->root, 0));
    TS_TRY(ts_buf_printf(out, "  </Capability>\n"));
    return ts_buf_printf(out, w.v111 ? "</WMT_MS_Capabilities>\n" : "</WMS_Capabilities>\n");
}
