#!/usr/bin/env python3
"""Writes the bundled SLD styles styles/alkis_*.sld, parking_state.sld and
air_quality_uba.sld (the files are committed; edit here and re-run to change them)."""
import os
HDR = '''<?xml version="1.0" encoding="UTF-8"?>
<!-- %s -->
<StyledLayerDescriptor version="1.0.0"
    xmlns="http://www.opengis.net/sld"
    xmlns:ogc="http://www.opengis.net/ogc"
    xmlns:xlink="http://www.w3.org/1999/xlink"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.0.0/StyledLayerDescriptor.xsd">
  <NamedLayer>
    <Name>%s</Name>
    <UserStyle>
      <Name>%s</Name>
      <Title>%s</Title>
'''
FTR = '''    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
'''
def css(k, v, ind):
    return ' ' * ind + '<CssParameter name="%s">%s</CssParameter>\n' % (k, v)
def fill(c, ind, op=None):
    s = ' ' * ind + '<Fill>\n' + css('fill', c, ind + 2)
    if op is not None: s += css('fill-opacity', op, ind + 2)
    return s + ' ' * ind + '</Fill>\n'
def stroke(c, w, ind, extra=()):
    s = ' ' * ind + '<Stroke>\n' + css('stroke', c, ind + 2) + css('stroke-width', w, ind + 2)
    for k, v in extra: s += css(k, v, ind + 2)
    return s + ' ' * ind + '</Stroke>\n'
def eq(p, v): return '<ogc:PropertyIsEqualTo><ogc:PropertyName>%s</ogc:PropertyName><ogc:Literal>%s</ogc:Literal></ogc:PropertyIsEqualTo>' % (p, v)
def gt(p, v): return '<ogc:PropertyIsGreaterThan><ogc:PropertyName>%s</ogc:PropertyName><ogc:Literal>%s</ogc:Literal></ogc:PropertyIsGreaterThan>' % (p, v)
def rule(name, title, body, flt=None, minsc=None, maxsc=None, els=False):
    s = '        <Rule>\n          <Name>%s</Name>\n          <Title>%s</Title>\n' % (name, title)
    if flt: s += '          <ogc:Filter>%s</ogc:Filter>\n' % flt
    if els: s += '          <ElseFilter/>\n'
    if minsc: s += '          <MinScaleDenominator>%s</MinScaleDenominator>\n' % minsc
    if maxsc: s += '          <MaxScaleDenominator>%s</MaxScaleDenominator>\n' % maxsc
    return s + body + '        </Rule>\n'
def fts(rules): return '      <FeatureTypeStyle>\n' + ''.join(rules) + '      </FeatureTypeStyle>\n'
def poly(fc, sc, sw):
    return '          <PolygonSymbolizer>\n' + (fill(fc, 12) if fc else '') + (stroke(sc, sw, 12) if sc else '') + '          </PolygonSymbolizer>\n'
def line(c, w, extra=()):
    return '          <LineSymbolizer>\n' + stroke(c, w, 12, extra) + '          </LineSymbolizer>\n'
def font(fam, size, weight='normal', style='normal'):
    return ('            <Font>\n' + css('font-family', fam, 14) + css('font-size', size, 14) +
            css('font-style', style, 14) + css('font-weight', weight, 14) + '            </Font>\n')
def halo(r, c):
    return '            <Halo>\n              <Radius>%s</Radius>\n' % r + fill(c, 14) + '            </Halo>\n'
def vendor(opts): return ''.join('            <VendorOption name="%s">%s</VendorOption>\n' % kv for kv in opts)
def mark(shape, fc, sc, sw, size, op=None):
    return ('          <PointSymbolizer>\n            <Graphic>\n              <Mark>\n                <WellKnownName>%s</WellKnownName>\n' % shape +
            fill(fc, 16, op) + (stroke(sc, sw, 16) if sc else '') + '              </Mark>\n              <Size>%s</Size>\n            </Graphic>\n          </PointSymbolizer>\n' % size)

def write(name, comment, layer, sname, title, body):
    open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'styles', name), 'w', encoding='utf-8').write(HDR % (comment, layer, sname, title) + body + FTR)

# ---- parcels ---------------------------------------------------------------------------
NUTZ = [('residential', 'Wohnbaufläche', '#fbf2e8'), ('residential_dense', 'Wohnbaufläche (dicht)', '#f8ece0'),
        ('public', 'Fläche besonderer funktionaler Prägung', '#f3e6ee')]
r = []
for k, t, c in NUTZ:
    r.append(rule('nutzung_' + k, t, poly(c, None, None), eq('nutzung', k), maxsc='50000'))
r.append(rule('nutzung_other', 'Sonstige Nutzung', poly('#f6f3ea', None, None), els=True, maxsc='50000'))
fill_fts = fts(r)
outl = fts([rule('grenze', 'Flurstücksgrenze', poly(None, '#000000', '0.6'), maxsc='25000')])
def numtext(label, extra):
    return ('          <TextSymbolizer>\n            <Label>%s</Label>\n' % label + font('DejaVu Sans', '10') +
            '            <LabelPlacement>\n              <PointPlacement>\n                <AnchorPoint><AnchorPointX>0.5</AnchorPointX><AnchorPointY>0.5</AnchorPointY></AnchorPoint>\n              </PointPlacement>\n            </LabelPlacement>\n' +
            halo('1.5', '#ffffff') + fill('#000000', 12) + vendor([('spaceAround', '2'), ('partials', 'false')] + extra) +
            '          </TextSymbolizer>\n')
frac = numtext('<ogc:PropertyName>zaehler</ogc:PropertyName><![CDATA[\n]]><ogc:PropertyName>nenner</ogc:PropertyName>', [('fraction', 'true')])
single = numtext('<ogc:PropertyName>zaehler</ogc:PropertyName>', [])
nums = fts([
    rule('nummer_bruch', 'Flurstücksnummer (Zähler/Nenner)', frac,
         '<ogc:Not><ogc:PropertyIsNull><ogc:PropertyName>nenner</ogc:PropertyName></ogc:PropertyIsNull></ogc:Not>', maxsc='3000'),
    rule('nummer', 'Flurstücksnummer', single,
         '<ogc:PropertyIsNull><ogc:PropertyName>nenner</ogc:PropertyName></ogc:PropertyIsNull>', maxsc='3000')])
write('alkis_parcels.sld', 'ALKIS-like parcels (Flurstücke): fill by actual use, black parcel boundaries, parcel numbers as Zähler over Nenner with a fraction bar (VendorOption "fraction", a tilesrv extension that other servers ignore). Colours after the GeoInfoDok/NRW signature catalogue, simplified.',
      'parcels', 'alkis_parcels', 'Flurstücke (ALKIS-ähnlich)', fill_fts + outl + nums)

# ---- buildings -------------------------------------------------------------------------
B = [('residential', 'Wohngebäude', '#f4cfc3', '#9a6a5c'), ('mixed', 'Gebäude für Wohnen und Gewerbe', '#efc8d6', '#94687a'),
     ('commercial', 'Gebäude für Handel und Dienstleistungen', '#e3c3e4', '#806183'),
     ('industrial', 'Gebäude für Gewerbe und Industrie', '#cfcfe3', '#5f5f80'),
     ('public', 'Gebäude für öffentliche Zwecke', '#f1a9a0', '#8c4038'), ('school', 'Schule', '#f1a9a0', '#8c4038'),
     ('church', 'Kirche', '#f1a9a0', '#8c4038'), ('garage', 'Garage / Nebengebäude', '#dcdcdc', '#7a7a7a')]
r = [rule('geb_' + k, t, poly(f, s, '0.8'), eq('funktion', k), maxsc='50000') for k, t, f, s in B]
r.append(rule('geb_sonstige', 'Sonstiges Gebäude', poly('#e6dcd4', '#7a6e66', '0.8'), els=True, maxsc='50000'))
write('alkis_buildings.sld', 'ALKIS-like buildings by function (Gebäudefunktion), after the GeoInfoDok signature catalogue, simplified.',
      'buildings', 'alkis_buildings', 'Gebäude nach Funktion (ALKIS-ähnlich)', fts(r))

# ---- streets ---------------------------------------------------------------------------
S = [('primary', 'Hauptverkehrsstraße', 9, '#fff3c4'), ('secondary', 'Verbindungsstraße', 7, '#ffffff'),
     ('residential', 'Anliegerstraße', 5, '#ffffff')]
rc = [rule('rand_' + k, t + ' (Rand)', line('#8a8a8a', str(w + 1.5), [('stroke-linecap', 'round'), ('stroke-linejoin', 'round')]), eq('class', k), maxsc='70000') for k, t, w, c in S]
rf = [rule('str_' + k, t, line(c, str(w), [('stroke-linecap', 'round'), ('stroke-linejoin', 'round')]), eq('class', k), maxsc='70000') for k, t, w, c in S]
def name_text(size):
    return ('          <TextSymbolizer>\n            <Label><ogc:PropertyName>name</ogc:PropertyName></Label>\n' + font('DejaVu Sans', size, style='italic') +
            '            <LabelPlacement>\n              <LinePlacement/>\n            </LabelPlacement>\n' +
            halo('1.5', '#ffffff') + fill('#202020', 12) +
            vendor([('followLine', 'true'), ('maxAngleDelta', '25'), ('repeat', '250'), ('group', 'yes'), ('spaceAround', '4')]) +
            '          </TextSymbolizer>\n')
rn = [rule('name_major', 'Straßenname', name_text('11'), '<ogc:Or>' + eq('class', 'primary') + eq('class', 'secondary') + '</ogc:Or>', maxsc='9000'),
      rule('name_minor', 'Straßenname', name_text('10'), eq('class', 'residential'), maxsc='5000')]
write('alkis_streets.sld', 'Streets by class (casing, then fill, then names along the lines).',
      'streets', 'alkis_streets', 'Straßen', fts(rc) + fts(rf) + fts(rn))

# ---- parking by state ------------------------------------------------------------------
P = [('free', 'Frei', '#2ca02c'), ('occupied', 'Belegt', '#d62728'), ('unknown', 'Unbekannt', '#9e9e9e')]
r = [rule(k, t, mark('circle', c, '#ffffff', '1', '8'), eq('state', k)) for k, t, c in P]
r.append(rule('stale', 'Veraltet (letzter Stand)', mark('circle', '#9e9e9e', '#505050', '1.5', '8', '0.5') + mark('x', '#505050', None, None, '6'), eq('state', 'stale')))
r.append(rule('other', 'Sonstiger Zustand', mark('circle', '#9e9e9e', '#ffffff', '1', '8'), els=True))
write('parking_state.sld', 'Parking bays by occupancy state: free, occupied, unknown, stale (feed silent: last state kept, drawn faded and crossed).',
      'parking_bays', 'parking_state', 'Parkplätze nach Belegung', fts(r))

# ---- air quality (UBA LQI) -------------------------------------------------------------
# class thresholds (upper bounds of sehr gut, gut, mäßig, schlecht; above = sehr schlecht)
T = {'no2': [10, 30, 60, 100], 'pm10': [9, 27, 54, 90], 'pm25': [5, 15, 30, 50], 'o3': [24, 72, 144, 240]}
C = [('sehr_gut', 'sehr gut', '#50f0e6'), ('gut', 'gut', '#50ccaa'), ('maessig', 'mäßig', '#f0e641'),
     ('schlecht', 'schlecht', '#ff5050'), ('sehr_schlecht', 'sehr schlecht', '#960032')]
def worse_than(k):  # some pollutant above the upper bound of class k (0-based)
    return '<ogc:Or>' + ''.join(gt(p, v[k]) for p, v in T.items()) + '</ogc:Or>'
measured = '<ogc:Or>' + ''.join('<ogc:Not><ogc:PropertyIsNull><ogc:PropertyName>%s</ogc:PropertyName></ogc:PropertyIsNull></ogc:Not>' % p for p in T) + '</ogc:Or>'
r = []
for k, (n, t, col) in enumerate(C):
    if k == 0: f = '<ogc:And>' + measured + '<ogc:Not>' + worse_than(0) + '</ogc:Not></ogc:And>'
    elif k == 4: f = worse_than(3)
    else: f = '<ogc:And>' + worse_than(k - 1) + '<ogc:Not>' + worse_than(k) + '</ogc:Not></ogc:And>'
    r.append(rule(n, 'LQI ' + t, mark('circle', col, '#333333', '1', '14'), f))
r.append(rule('keine_daten', 'keine Daten', mark('circle', '#ffffff', '#777777', '1.5', '12'), els=True))
lab = fts([rule('name', 'Stationsname', '          <TextSymbolizer>\n            <Label><ogc:PropertyName>name</ogc:PropertyName><ogc:PropertyName>label</ogc:PropertyName></Label>\n' + font('DejaVu Sans', '10', weight='bold') +
      '            <LabelPlacement>\n              <PointPlacement>\n                <AnchorPoint><AnchorPointX>0</AnchorPointX><AnchorPointY>0.5</AnchorPointY></AnchorPoint>\n                <Displacement><DisplacementX>10</DisplacementX><DisplacementY>0</DisplacementY></Displacement>\n              </PointPlacement>\n            </LabelPlacement>\n' +
      halo('1.5', '#ffffff') + fill('#222222', 12) + vendor([('spaceAround', '2')]) + '          </TextSymbolizer>\n', maxsc='20000')])
write('air_quality_uba.sld', 'The station label is name (a GeoPackage layer) or label (a live feed layer): a missing property adds nothing to the Label. Air-quality stations by the Umweltbundesamt air-quality index (LQI): the worst of NO2 (1 h mean), PM10 and PM2.5 (24 h running means) and O3 (1 h mean), in µg/m³, with the class bounds of the UBA index (sehr gut / gut / mäßig / schlecht / sehr schlecht: NO2 10/30/60/100, PM10 9/27/54/90, PM2.5 5/15/30/50, O3 24/72/144/240; source: umweltbundesamt.de, Der Luftqualitätsindex (LQI)). Missing pollutants are ignored; a station without any value is drawn as "keine Daten". Colours: the European index palette.',
      'air_stations', 'air_quality_uba', 'Luftqualität (UBA-Index)', fts(r) + lab)
