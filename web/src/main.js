// The web map served at "/": OpenLayers over this server's XYZ PNG tiles, of whatever
// tilesets the configuration has. /tiles.json lists them (the TileJSON of every tileset on
// WebMercatorQuad, with "live" and the feeds of the live ones): the base is the demo's
// `cadastre` when there is one, else the first tileset that is not live; the live tilesets
// are overlays (on), the other tilesets overlays to switch on. /events (Server-Sent Events)
// says which tilesets changed where, and only the overlay tiles inside that box are fetched
// again (the base is never reloaded). A click shows the values of the nearest sensor from
// /sensors/{feed}.geojson, elsewhere the base's features (WMS GetFeatureInfo). Built by
// web/build.mjs (npm run build) into web/dist/.
import 'ol/ol.css';
import './style.css';
import Map from 'ol/Map.js';
import View from 'ol/View.js';
import Overlay from 'ol/Overlay.js';
import TileLayer from 'ol/layer/Tile.js';
import XYZ from 'ol/source/XYZ.js';
import TileState from 'ol/TileState.js';
import {Attribution, ScaleLine, Zoom} from 'ol/control.js';
import {fromLonLat, toLonLat, transformExtent} from 'ol/proj.js';
import {buffer as growExtent, getIntersection, intersects, isEmpty} from 'ol/extent.js';

// The bundled demo's base tileset (data/demo/tilesrv.yaml), the base whenever the server has
// it, and the page's title with it (any other base names the page by its TileJSON).
const DEMO = {base: 'cadastre', title: 'Düsseldorf'};
// Düsseldorf city centre: the view only when the base tileset gives neither bounds nor a
// center (else those are used)
const HOME = {lon: 6.7735, lat: 51.2277, zoom: 14};
const SYMBOL_PAD_PX = 24; // symbol radius + halo of the overlay styles, in pixels
const HIT_PX = 12; // how near a click must be to a sensor
const HIDPI = window.devicePixelRatio > 1;

const $ = (id) => document.getElementById(id);

// The TileJSON of every tileset the server offers in Web Mercator (/tiles.json), or [].
async function tilesets() {
  try {
    const r = await fetch('tiles.json');
    const v = r.ok ? await r.json() : [];
    return Array.isArray(v) ? v.filter((t) => t && t.name) : [];
  } catch {
    return [];
  }
}

// The tile URL template of a TileJSON as a path relative to the page: the document's URLs
// are absolute (server.public_url, or the Host the request named), the page's stay relative
// so that it works behind a proxy as it did when it was loaded.
function tileTemplate(tj) {
  const t = (Array.isArray(tj.tiles) && tj.tiles[0]) ||
    `tiles/${encodeURIComponent(tj.name)}/{z}/{x}/{y}.png`;
  const i = t.indexOf('/tiles/');
  return i >= 0 ? t.slice(i + 1) : t;
}

// ---- tile layers --------------------------------------------------------------------------

// One XYZ layer from the tileset's TileJSON (its tile URLs: /tiles/{name}/{z}/{x}/{y}.png,
// or /tiles/{name}/WebMercatorQuad/... when that is not the tileset's first grid). Tiles
// refreshed after an event get a new version in their URL, so neither the browser nor a
// proxy hands back the picture from before the change. overlay: a live overlay (no fading,
// no preloading) as opposed to the base or a tileset switched on as an overlay.
function makeLayer(tj, overlay) {
  const versions = new globalThis.Map(); // "z/x/y" -> version of the last change there
  const template = tileTemplate(tj);
  const url = (z, x, y) => {
    const v = versions.get(`${z}/${x}/${y}`) ?? versions.floor;
    return template.replace('{z}', z).replace('{x}', x)
      .replace('{y}', `${y}${HIDPI ? '@2x' : ''}`) + (v ? `?v=${v}` : '');
  };
  const source = new XYZ({
    tileUrlFunction: (c) => url(c[0], c[1], c[2]),
    tilePixelRatio: HIDPI ? 2 : 1,
    attributions: tj.attribution ? [tj.attribution] : undefined, // TileJSON: HTML from the config
    attributionsCollapsible: false,
    minZoom: tj.minzoom ?? 0,
    maxZoom: tj.maxzoom ?? 22,
    transition: overlay ? 0 : 250,
  });
  const layer = new TileLayer({
    source,
    preload: overlay ? 0 : 1,
    properties: {name: tj.name, title: tj.description || tj.name},
  });
  return {name: tj.name, tj, layer, source, versions, url, live: !!tj.live, defaults: [],
    feeds: new Set(), dead: new Set()};
}

// Fetch again the tiles of ov that lie within bbox (lon/lat) grown by the symbol size. Tiles
// on screen are loaded in the background and swapped in when they arrive (no flicker);
// cached tiles off screen are renewed and come back fresh when needed.
function refreshTiles(ov, bbox, version) {
  const renderer = ov.layer.getRenderer();
  const cache = renderer && renderer.getTileCache ? renderer.getTileCache() : null;
  const grid = ov.source.getTileGrid();
  const box = transformExtent(bbox, 'EPSG:4326', 'EPSG:3857');
  const size = map.getSize();
  const viewExtent = size ? map.getView().calculateExtent(size) : null;
  const zoom = map.getView().getZoom();
  let n = 0;
  // tiles on screen not loaded yet come with the new version when they are asked for
  const seen = viewExtent ? getIntersection(viewExtent, growExtent(box,
    SYMBOL_PAD_PX * map.getView().getResolution())) : null;
  if (seen && !isEmpty(seen)) {
    for (let z = Math.max(grid.getMinZoom(), Math.floor(zoom) - 1);
      z <= Math.min(grid.getMaxZoom(), Math.ceil(zoom) + 1); z++) {
      grid.forEachTileCoord(seen, z, (c) => ov.versions.set(`${c[0]}/${c[1]}/${c[2]}`, version));
    }
  }
  // a long session: forget the per-tile versions, every tile gets the latest one instead
  if (ov.versions.size > 20000) {
    ov.versions.clear();
    ov.versions.floor = version;
  }
  if (!cache) return 0;
  const renew = [];
  cache.forEach((tile, key) => {
    if (!tile) return;
    const c = tile.getTileCoord();
    const te = grid.getTileCoordExtent(c);
    const pad = SYMBOL_PAD_PX * grid.getResolution(c[0]); // CSS pixels, also on HiDPI
    if (!intersects(growExtent(box, pad), te)) return;
    const k = `${c[0]}/${c[1]}/${c[2]}`;
    ov.versions.set(k, version);
    const onScreen = viewExtent && intersects(te, viewExtent) &&
      Math.abs(c[0] - zoom) < 1.5 && ov.layer.getVisible();
    if (onScreen && tile.getState() === TileState.LOADED) {
      const img = new Image();
      const current = () => cache.containsKey(key) && cache.peek(key) === tile &&
        ov.versions.get(k) === version;
      img.onload = () => {
        if (current()) {
          tile.setImage(img);
          ov.layer.changed();
        }
      };
      img.onerror = () => {
        if (current()) { // asked again by the next render
          renewTile(ov, cache, key, c);
          ov.layer.changed();
        }
      };
      img.src = ov.url(c[0], c[1], c[2]);
      n++;
    } else {
      renew.push([key, c]); // loading (maybe the old picture), off screen or hidden
    }
  });
  // after the walk: replace() makes an entry the newest, which forEach would meet again
  for (const [key, c] of renew) renewTile(ov, cache, key, c);
  if (renew.length) ov.layer.changed();
  stats.tilesRefreshed += n;
  return n;
}

// Put a new tile (not loaded yet, its URL with the latest version) in place of the one cached
// under key: a render that wants it loads it, until then the layer shows what it shows for any
// tile on its way. Not cache.remove(key): OpenLayers' LRUCache.remove() of its last entry
// leaves the list's oldest end on the removed entry, so forEach still hands it out and
// removing it again throws ("Tried to get a value for a key that does not exist in the
// cache"). That happened whenever one event emptied the cache (every tile of the overlay
// loading, as at page load when the held events come in one answer, or the overlay switched
// off) and another came before a render filled it again. replace() keeps the count.
function renewTile(ov, cache, key, c) {
  const tile = ov.source.getTile(c[0], c[1], c[2], map.getPixelRatio(),
    map.getView().getProjection());
  if (tile) cache.replace(key, tile);
}

// ---- sensors ------------------------------------------------------------------------------

const sensors = new globalThis.Map(); // feed -> {features, version, at}
const changes = new globalThis.Map(); // feed -> number of events seen for it
const inflight = new globalThis.Map(); // feed -> promise of the load under way

// Fetch /sensors/{feed}.geojson (one request per feed at a time).
function loadSensors(feed) {
  if (inflight.has(feed)) return inflight.get(feed);
  const at = changes.get(feed) || 0;
  const p = (async () => {
    try {
      const r = await fetch(`sensors/${encodeURIComponent(feed)}.geojson`);
      if (!r.ok) throw new Error(`${r.status}`);
      const fc = await r.json();
      for (const f of fc.features) f.xy = fromLonLat(f.geometry.coordinates);
      sensors.set(feed, {features: fc.features, version: fc.version, at});
      return fc;
    } finally {
      inflight.delete(feed);
    }
  })();
  inflight.set(feed, p);
  return p;
}

// Load a feed's sensors unless the copy here is newer than its last event (a load that was
// under way when an event came is followed by another).
async function freshSensors(feed) {
  for (let i = 0; i < 3; i++) {
    const s = sensors.get(feed);
    if (s && s.at === (changes.get(feed) || 0)) return;
    await loadSensors(feed);
  }
}

// The feeds of an overlay: the ones the events named, else the defaults (its TileJSON's
// "feeds", those that answered).
function feedsOf(ov) {
  if (ov.feeds.size) return [...ov.feeds];
  return ov.defaults.filter((f) => !ov.dead.has(f));
}

// Load the sensors of an overlay's feeds that are missing or changed since. The default feeds
// are asked only when probe is set (on a click), so a page whose events name other feeds
// never asks for them.
async function ensureSensors(ov, probe) {
  const feeds = ov.feeds.size ? [...ov.feeds] : probe ? feedsOf(ov) : [];
  await Promise.all(feeds.map(async (feed) => {
    try {
      await freshSensors(feed);
    } catch {
      if (!ov.feeds.has(feed)) ov.dead.add(feed);
    }
  }));
}

// The sensor of a visible overlay nearest to pixel px, within HIT_PX.
function sensorAt(px) {
  let best = null;
  for (const ov of overlays) {
    if (!ov.layer.getVisible()) continue;
    for (const feed of feedsOf(ov)) {
      const s = sensors.get(feed);
      if (!s) continue;
      for (const f of s.features) {
        const p = map.getPixelFromCoordinate(f.xy);
        if (!p) continue;
        const d = Math.hypot(p[0] - px[0], p[1] - px[1]);
        if (d <= HIT_PX && (!best || d < best.d)) best = {d, f, feed, ov};
      }
    }
  }
  return best;
}

// ---- popup --------------------------------------------------------------------------------

// Air-quality fields by their usual names: label and the unit the UBA publishes them in.
const POLLUTANTS = {no2: ['NO₂', 'µg/m³'], no: ['NO', 'µg/m³'], o3: ['O₃', 'µg/m³'],
  pm10: ['PM10', 'µg/m³'], pm25: ['PM2.5', 'µg/m³'], pm2_5: ['PM2.5', 'µg/m³'],
  so2: ['SO₂', 'µg/m³'], co: ['CO', 'mg/m³']};
const SKIP = new Set(['id', 'label', 'state', 'last_state', 'stale', 'time', 'seen', 'name']);

function fmtTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString(undefined, {dateStyle: 'medium',
    timeStyle: 'medium'});
}

// Numbers as they are (ids, codes), fractions with at most two decimals.
const num = (v) => (Number.isInteger(v) ? String(v) :
  v.toLocaleString(undefined, {maximumFractionDigits: 2}));

function row(th, td, cls) {
  const tr = document.createElement('tr');
  if (cls) tr.className = cls;
  const h = document.createElement('th');
  h.textContent = th;
  const d = document.createElement('td');
  if (td instanceof Node) d.append(td); else d.textContent = td;
  tr.append(h, d);
  return tr;
}

function fillPopup(hit) {
  const p = hit.f.properties || {};
  $('popup-title').textContent = p.label || p.name || p.id || hit.f.id;
  $('popup-sub').textContent = `${hit.ov.layer.get('title')} · ${hit.feed}`;
  const tb = $('popup-rows');
  tb.replaceChildren();
  if (p.state !== null && p.state !== undefined) {
    const s = document.createElement('span');
    s.className = `state state-${String(p.state).replace(/[^a-z0-9_-]/gi, '')}`;
    s.textContent = p.state;
    tb.append(row('State', s, 'r-state'));
  }
  for (const [k, v] of Object.entries(p)) {
    if (SKIP.has(k) || k.endsWith('_time') || v === null || typeof v === 'object') continue;
    const [name, unit] = POLLUTANTS[k] || [k, ''];
    tb.append(row(name, `${typeof v === 'number' ? num(v) : v}${unit ? ` ${unit}` : ''}`,
      `r-value r-${k}`));
  }
  tb.append(row('Observed', fmtTime(p.time), 'r-time'));
  const st = document.createElement('span');
  st.className = p.stale ? 'badge stale' : 'badge current';
  st.textContent = p.stale ? 'stale: no recent update' : 'current';
  tb.append(row('Status', st, 'r-stale'));
  popupHit = hit;
}

let popupHit = null;

// GetFeatureInfo (JSON) of tileset ly at a pixel of the map, or null.
async function featureInfo(ly, px) {
  const size = map.getSize();
  const q = new URLSearchParams({SERVICE: 'WMS', VERSION: '1.3.0', REQUEST: 'GetFeatureInfo',
    LAYERS: ly.name, QUERY_LAYERS: ly.name, STYLES: '', CRS: 'EPSG:3857',
    BBOX: map.getView().calculateExtent(size).join(','), WIDTH: String(size[0]),
    HEIGHT: String(size[1]), I: String(Math.round(px[0])), J: String(Math.round(px[1])),
    INFO_FORMAT: 'application/json', FEATURE_COUNT: '5'});
  try {
    const r = await fetch(`wms?${q}`);
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

// The popup for features of the base map: one block of attributes per feature.
function fillInfoPopup(ly, features) {
  $('popup-title').textContent = ly.layer.get('title');
  $('popup-sub').textContent = `${features.length} feature${features.length > 1 ? 's' : ''} here`;
  const tb = $('popup-rows');
  tb.replaceChildren();
  for (const f of features) {
    const tr = document.createElement('tr');
    tr.className = 'r-layer';
    const th = document.createElement('th');
    th.colSpan = 2;
    th.textContent = f.layer || String(f.id || '').split('.')[0];
    tr.append(th);
    tb.append(tr);
    for (const [k, v] of Object.entries(f.properties || {})) {
      if (v === null || typeof v === 'object') continue;
      tb.append(row(k, typeof v === 'number' ? num(v) : String(v), `r-${k}`));
    }
  }
  popupHit = {info: true};
}

function closePopup() {
  popup.setPosition(undefined);
  popupHit = null;
}

// ---- events -------------------------------------------------------------------------------

// the ?v= of refreshed tiles: counted here, so that no two changes share a URL (snapshot
// versions are per feed, event ids start again with the server)
let refreshSeq = 0;
const stats = {events: 0, lastEventId: 0, tilesRefreshed: 0, lastEvent: null, byFeed: {}};

function setLive(state, text) {
  const el = $('live');
  el.className = `live ${state}`;
  $('live-text').textContent = text;
}

// true until the page's first live event: a reset then only says that the server's held
// events began before the page was loaded, whose tiles are fresh
let freshPage = true;

// How long the server may hold a request for events before the page says it is reconnecting:
// it answers with the next event or, when there is none, with a keep-alive after 20 s (the
// rest is margin for a slow network or a busy server)
const HELD_MS = 30000;
// How long the browser's attempts may fail one after another (the server away: refused,
// reset) before the page says so: a restart or a blip is not worth showing
const FAILING_MS = 3000;

function connectEvents() {
  // since=0: the events the server still holds come first (they name the feed of each
  // overlay); after that EventSource reconnects with Last-Event-ID and waits for new ones.
  const es = new EventSource('events?since=0');
  // Every answer ends the stream: EventSource fires 'error' (readyState CONNECTING) and asks
  // again after the server's `retry: 250` ms, and the server holds that request, without
  // response headers and so without 'open', until the next event or the keep-alive 20 s
  // later. So an 'error' after an 'open' is the normal end of an answer and the silence after
  // it the server waiting (quiet feeds: nearly always); an 'error' without an 'open' since the
  // last one is an attempt that failed, repeated every 250 ms while the server is away.
  let answered = false; // an 'open' since the last 'error'
  let down = null, failing = false, shownDown = false;
  const expect = (ms, failed) => {
    clearTimeout(down);
    failing = failed;
    down = setTimeout(() => {
      shownDown = true;
      setLive('off', 'reconnecting…');
    }, ms);
  };
  expect(HELD_MS, false); // the first request is answered at once (the held events or hello)
  es.addEventListener('open', () => {
    answered = true;
    clearTimeout(down);
    down = null;
    failing = false;
    if (!stats.lastEvent || shownDown) setLive('on', 'live');
    shownDown = false;
  });
  es.addEventListener('error', () => {
    if (es.readyState === EventSource.CLOSED) {
      clearTimeout(down);
      down = null;
      // refused (e.g. a server without feeds answers 404): try again now and then
      setLive('off', 'no live updates');
      setTimeout(connectEvents, 15000);
      return;
    }
    if (answered) expect(HELD_MS, false); // an answer ended: the next may take 20 s
    // a failed attempt: shown when no attempt succeeds for a while (the timer runs from the
    // first failure, the retries every 250 ms must not restart it)
    else if (!failing) expect(FAILING_MS, true);
    answered = false;
  });
  es.addEventListener('change', (e) => {
    freshPage = false;
    let ev;
    try {
      ev = JSON.parse(e.data);
    } catch {
      return;
    }
    stats.events++;
    stats.lastEventId = Number(e.lastEventId) || stats.lastEventId;
    stats.lastEvent = ev;
    stats.byFeed[ev.feed] = (stats.byFeed[ev.feed] || 0) + 1;
    const touched = [];
    for (const name of ev.tilesets || []) {
      const ov = overlays.find((o) => o.name === name);
      if (!ov) continue;
      if (ev.feed) ov.feeds.add(ev.feed);
      if (Array.isArray(ev.bbox) && ev.bbox.length === 4) refreshTiles(ov, ev.bbox, ++refreshSeq);
      touched.push(ov);
    }
    if (touched.length && ev.feed) {
      // positions and values are fetched when needed: at once for an open popup
      changes.set(ev.feed, (changes.get(ev.feed) || 0) + 1);
      if (popupHit && popupHit.feed === ev.feed) reloadSensors(ev.feed);
    }
    setLive('on', `live · updated ${new Date().toLocaleTimeString()}`);
  });
  es.addEventListener('reset', () => {
    // the page's first answer: its tiles were just loaded, nothing was missed
    if (freshPage) {
      freshPage = false;
      return;
    }
    // events were lost: everything live is fetched again
    for (const ov of overlays) if (ov.live) ov.source.refresh();
    for (const feed of sensors.keys()) changes.set(feed, (changes.get(feed) || 0) + 1);
  });
  return es;
}

// Reload a feed's sensors and show the new values in the open popup.
function reloadSensors(feed) {
  freshSensors(feed).then(() => {
    if (!popupHit || popupHit.feed !== feed) return;
    const f = sensors.get(feed).features.find((x) => x.id === popupHit.f.id);
    if (f) {
      fillPopup({...popupHit, f});
      popup.setPosition(f.xy);
    }
  }, () => {});
}

// ---- page ---------------------------------------------------------------------------------

let map, popup, overlays = [];

// The view in the address (#z=16&c=6.77,51.22: kept up to date, so it can be shared), or null.
function viewFromHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const z = Number(p.get('z'));
  const c = (p.get('c') || '').split(',').map(Number);
  if (!(Number.isFinite(z) && z > 0 && c.length === 2 && c.every(Number.isFinite))) return null;
  return {zoom: z, center: c};
}

function layerList(base) {
  const list = $('layers');
  for (const ov of overlays) {
    const li = document.createElement('li');
    const label = document.createElement('label');
    const cb = document.createElement('input');
    cb.type = 'checkbox';
    cb.checked = ov.layer.getVisible(); // live overlays on, other tilesets off
    cb.id = `layer-${ov.name}`;
    cb.addEventListener('change', () => {
      ov.layer.setVisible(cb.checked);
      legend.hidden = !cb.checked;
      if (popupHit && popupHit.ov === ov && !cb.checked) closePopup();
    });
    const title = document.createElement('span');
    title.textContent = ov.layer.get('title');
    label.append(cb, title);
    const legend = document.createElement('img');
    legend.className = 'legend';
    legend.alt = `Legend of ${ov.layer.get('title')}`;
    legend.src = `wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&FORMAT=image/png&LAYER=${
      encodeURIComponent(ov.name)}`;
    legend.addEventListener('error', () => legend.remove());
    legend.hidden = !cb.checked;
    li.append(label, legend);
    list.append(li);
  }
  $('layers-title').textContent = overlays.every((o) => o.live) ? 'Live layers' : 'Layers';
  // the base's title under the page's, unless it is the same
  const sub = base ? base.layer.get('title') : '';
  $('base-title').textContent = sub === $('title').textContent ? '' : sub;
  // small screens start with the layer list folded
  if (window.matchMedia('(max-width: 600px)').matches) list.closest('details').open = false;
}

async function main() {
  $('app').hidden = false;
  $('nobundle').remove();
  const all = await tilesets();
  const baseTj = all.find((t) => t.name === DEMO.base) || all.find((t) => !t.live) || null;
  const base = baseTj ? makeLayer(baseTj, false) : null;
  // the other tilesets above the base (switched off), the live ones on top (on)
  const others = all.filter((t) => t !== baseTj && !t.live).map((t) => makeLayer(t, false));
  for (const o of others) o.layer.setVisible(false);
  const live = all.filter((t) => t.live).map((t) => Object.assign(makeLayer(t, true),
    {defaults: Array.isArray(t.feeds) ? t.feeds.map(String) : []}));
  overlays = [...others, ...live];
  // the page is named after its base (the demo's as it always was)
  const title = !baseTj ? '' : baseTj.name === DEMO.base ? DEMO.title :
    baseTj.description || baseTj.name;
  if (title) {
    $('title').textContent = title;
    document.title = `${title} – tilesrv map`;
    $('map').setAttribute('aria-label', `Map of ${title}`);
  }

  // the view: the address's, else the base's bounds (fitted below) or center, else HOME
  const center = baseTj && Array.isArray(baseTj.center) && baseTj.center.length >= 2 &&
    baseTj.center.every(Number.isFinite) ? baseTj.center : null;
  const v = viewFromHash() || (center ? {zoom: center[2] ?? HOME.zoom, center: center.slice(0, 2)} :
    {zoom: HOME.zoom, center: [HOME.lon, HOME.lat]});
  const zoom = new Zoom({zoomInTipLabel: 'Zoom in', zoomOutTipLabel: 'Zoom out'});
  map = new Map({
    target: 'map',
    layers: [...(base ? [base.layer] : []), ...overlays.map((o) => o.layer)],
    view: new View({center: fromLonLat(v.center), zoom: v.zoom, minZoom: 10, maxZoom: 20,
      constrainResolution: true}),
    controls: [zoom, new ScaleLine({units: 'metric'}),
      new Attribution({collapsible: false})],
  });
  // no view asked for: the base tileset's data, clear of the panel
  const bounds = baseTj && baseTj.bounds;
  if (!viewFromHash() && Array.isArray(bounds) && bounds.length === 4) {
    const wide = map.getSize() && map.getSize()[0] > 700;
    map.getView().fit(transformExtent(bounds, 'EPSG:4326', 'EPSG:3857'), {
      padding: [16, wide ? 300 : 16, 16, 16], maxZoom: 16, nearest: true});
  }
  if (!base && !overlays.length) {
    $('status').textContent = 'The server offers no tileset in Web Mercator (/tiles.json is ' +
      'empty): see its WMTS capabilities.';
  }

  popup = new Overlay({element: $('popup'), positioning: 'bottom-center', offset: [0, -14],
    autoPan: {animation: {duration: 200}, margin: 20}, stopEvent: true});
  map.addOverlay(popup);
  $('popup-close').addEventListener('click', (e) => {
    e.preventDefault();
    closePopup();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closePopup();
  });

  map.on('singleclick', async (e) => {
    await Promise.all(overlays.filter((o) => o.layer.getVisible())
      .map((o) => ensureSensors(o, true)));
    const hit = sensorAt(e.pixel);
    if (hit) {
      fillPopup(hit);
      popup.setPosition(hit.f.xy);
      return;
    }
    // no sensor there: what the base map has at that point (WMS GetFeatureInfo)
    const info = base && base.layer.getVisible() ? await featureInfo(base, e.pixel) : null;
    if (info && info.features && info.features.length) {
      fillInfoPopup(base, info.features);
      popup.setPosition(e.coordinate);
    } else {
      closePopup();
    }
  });
  map.on('pointermove', (e) => {
    if (e.dragging) return;
    map.getTargetElement().style.cursor = sensorAt(e.pixel) ? 'pointer' : '';
    for (const ov of overlays) if (ov.layer.getVisible()) ensureSensors(ov, false);
  });
  map.on('moveend', () => {
    const [lon, lat] = toLonLat(map.getView().getCenter());
    history.replaceState(null, '', `#z=${map.getView().getZoom()}&c=${lon.toFixed(5)},${
      lat.toFixed(5)}`);
  });

  layerList(base);
  // live updates only for live overlays (a server without feeds holds /events open silently)
  if (overlays.some((o) => o.live)) connectEvents();
  else $('live').hidden = true;

  // for the browser test (tests/web/test_webmap.mjs) and the curious
  window.tilesrvMap = {
    map, base, overlays, stats, sensors,
    pixelOf: (lon, lat) => map.getPixelFromCoordinate(fromLonLat([lon, lat])),
    ready: new Promise((resolve) => map.once('rendercomplete', () => resolve(true))),
  };
}

main().catch((err) => {
  const el = $('status');
  if (el) el.textContent = `The map could not start: ${err.message}`;
  console.error(err);
});
