#!/usr/bin/env node
// The web map at "/" in headless Chromium (Debian's /usr/bin/chromium driven by the npm
// package playwright-core), against a REAL mosquitto broker and `tilesrv serve` started here:
//
//  (a) the map renders: the screenshot of the map area is not blank (many colours, mostly
//      not the background), and no request failed or answered >= 400;
//  (b) an uplink published over MQTT (bay PB-000001 occupied) turns the bay's pixel in a
//      later screenshot red (the style's "occupied" colour) without reloading the page, and
//      only parking tiles are fetched again (no cadastre tile);
//  (c) a click on the bay opens a popup with its name, state, observation time and stale
//      flag, and the open popup follows the next change (free: the bay turns green); a click
//      on an air-quality station shows its measured values, a click elsewhere the cadastre's
//      features there (WMS GetFeatureInfo);
//  (d) with a configuration of its own (no `cadastre`, `parking` or `air`; the base's first
//      grid the AdV UTM grid, WebMercatorQuad its second), the page learns the tilesets from
//      /tiles.json: it shows that base (its tiles through the TileJSON's grid-qualified URLs,
//      the screenshot not blank), named after it, in its bounds, the other tileset as an
//      overlay switched off and the live one switched on;
//  (e) the live indicator: while the feeds are quiet (the own configuration's air replay at
//      real-time speed) the server holds the page's request for events up to 20 s, and the
//      page keeps saying "live" (no "reconnecting…") for 12 s of that; once the server is
//      stopped, it says "reconnecting…" within 5 s, and "live" again when the server is back
//      on the same port;
//  (f) the bundled demo (data/demo/tilesrv.yaml, its simulated feeds as they are): loaded
//      while the server holds a batch of events (among them two of the air replay) and the
//      overlay tiles are still on their way, then 20 s and two air events more with the air
//      overlay switched off, the page throws no error (an air event, whose box holds every
//      station, refreshes every air tile in this view: loading or hidden, all of them left
//      the cache, and OpenLayers' LRUCache.remove() of its last entry leaves it corrupt, so
//      the next event threw "Tried to get a value for a key that does not exist in the
//      cache"; the load did so every time, the later events when the replay changed all
//      stations); switched on again, the air overlay fetches its renewed tiles.
//
// The bundle is built from web/src into a temporary web root (node web/build.mjs DIR), so
// the test checks the current sources, not an old web/dist.
//
// Usage: node test_webmap.mjs --binary build/tilesrv [--srcdir .] [--keep DIR]
// Exit 0 = pass, 1 = fail, 77 = skipped (mosquitto or the npm packages not installed).
// Chromium missing is a failure: scripts/deps.sh --test installs it.
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';

import {args, decodePng, freePort, sleep} from './browser_lib.mjs';

const CHROMIUM = '/usr/bin/chromium';
const MOSQUITTO = '/usr/sbin/mosquitto';
const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';
// bays of tests/data/feed/lorawan_devices.csv, and a station of data/demo/air_uba_duesseldorf.csv
const BAY1 = [6.77600982000319, 51.2165985594095]; // PB-000001 "Postring"
const STATION = [6.7825, 51.2132]; // DENW082 Düsseldorf Corneliusstraße
const RED = [0xd6, 0x27, 0x28]; // styles/parking_state.sld: occupied
const GREEN = [0x2c, 0xa0, 0x2c]; // free
const BACKGROUND = [0xde, 0xda, 0xd2]; // the cadastre's background
const VIEW = {width: 1000, height: 700};

class Fail extends Error {}
const T0 = Date.now();
function check(cond, what) {
  if (!cond) throw new Fail(what);
  console.log(`  ok [${((Date.now() - T0) / 1000).toFixed(1)} s]: ${what}`);
}
// the broker and the server die with this process, however it ends
const children = new Set();
process.on('exit', () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(1));
const note = (what) => console.log(`  .. [${((Date.now() - T0) / 1000).toFixed(1)} s]: ${what}`);

async function waitPort(port, proc, what, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Fail(`${what} exited with ${proc.exitCode}`);
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Fail(`${what} did not come up on port ${port}`);
}

async function get(port, p) {
  const r = await fetch(`http://127.0.0.1:${port}${p}`);
  return {status: r.status, text: await r.text()};
}

const near = (c, ref, tol) => Math.abs(c[0] - ref[0]) <= tol && Math.abs(c[1] - ref[1]) <= tol &&
  Math.abs(c[2] - ref[2]) <= tol;

// The pixels of a (2r+1)^2 square around (x, y).
function around(img, x, y, r) {
  const v = [];
  for (let dy = -r; dy <= r; dy++)
    for (let dx = -r; dx <= r; dx++) v.push(img.px(Math.round(x) + dx, Math.round(y) + dy));
  return v;
}

// `tilesrv serve -c cfg` with the web root web, logging into log; resolves when it listens
// (on port, else on a free one).
async function startTilesrv(a, cfg, web, log, port = 0) {
  port = port || await freePort();
  const logf = fs.openSync(log, 'w');
  const srv = spawn(a.binary, ['serve', '-c', cfg, '--listen', `127.0.0.1:${port}`, '--threads',
    '2'], {stdio: ['ignore', logf, logf], env: {...process.env, TILESRV_WEB_ROOT: web}});
  children.add(srv);
  await waitPort(port, srv, 'tilesrv', 60000);
  return {srv, port};
}

// SIGTERM; checks that it exits 0 without sanitizer reports in its log.
async function stopTilesrv(srv, log) {
  if (srv.exitCode !== null) return;
  srv.kill('SIGTERM');
  let timer;
  const rc = await Promise.race([new Promise((r) => srv.once('exit', (code) => r(code))),
    new Promise((r) => { timer = setTimeout(() => { srv.kill('SIGKILL'); r(-1); }, 30000); })]);
  clearTimeout(timer);
  const text = fs.readFileSync(log, 'utf8');
  if (rc !== 0) console.log(text);
  check(rc === 0, 'server stopped cleanly');
  check(!text.includes('runtime error') && !text.includes('AddressSanitizer'),
    'no sanitizer reports in the server log');
}

// Records what the page's live indicator says, and when (window.__live: [ms, text]), and
// the open/error events of its EventSource (window.__es: [ms, type, readyState]).
async function watchLive(page) {
  await page.addInitScript(() => {
    window.__es = [];
    const ES = window.EventSource;
    window.EventSource = class extends ES {
      constructor(...v) {
        super(...v);
        for (const type of ['open', 'error'])
          this.addEventListener(type, () => window.__es.push([performance.now(), type,
            this.readyState]));
      }
    };
    window.__live = [];
    document.addEventListener('DOMContentLoaded', () => {
      const el = document.getElementById('live-text');
      const rec = () => window.__live.push([performance.now(), el.textContent]);
      rec();
      new MutationObserver(rec).observe(el, {childList: true, characterData: true,
        subtree: true});
    });
  });
}

// Share of the map area (left of the panel, every other pixel) not background or white, the
// share of background, and the number of distinct colours there.
function drawnShare(img, right, background) {
  const colours = new Set();
  let drawn = 0, total = 0, bg = 0;
  for (let y = 0; y < img.h; y += 2) {
    for (let x = 0; x < Math.min(img.w, right); x += 2) {
      const p = img.px(x, y);
      colours.add((p[0] >> 3) << 10 | (p[1] >> 3) << 5 | p[2] >> 3);
      total++;
      if (near(p, background, 6)) bg++;
      else if (!near(p, [255, 255, 255], 2)) drawn++;
    }
  }
  return {colours: colours.size, drawn: drawn / total, background: bg / total};
}

// ---- the run ------------------------------------------------------------------------------
async function run(a, tmp, chromium) {
  const data = path.join(a.srcdir, 'tests', 'data', 'feed');
  const demo = path.join(a.srcdir, 'data', 'demo');
  const styles = path.join(a.srcdir, 'styles');

  // the web root: index.html and a bundle built from the current sources
  const web = path.join(tmp, 'web');
  fs.mkdirSync(web);
  fs.copyFileSync(path.join(a.srcdir, 'web', 'index.html'), path.join(web, 'index.html'));
  const b = spawnSync(process.execPath, [path.join(a.srcdir, 'web', 'build.mjs'),
    path.join(web, 'dist')], {cwd: a.srcdir, encoding: 'utf8'});
  check(b.status === 0 && fs.existsSync(path.join(web, 'dist', 'main.js')) &&
        fs.existsSync(path.join(web, 'dist', 'main.css')),
        `bundle built from web/src ${b.status === 0 ? '' : b.stderr}`);

  const bport = await freePort();
  const broker = spawn(MOSQUITTO, ['-p', String(bport)], {stdio: 'ignore'});
  children.add(broker);
  let srv = null, browser = null;
  const log = path.join(tmp, 'tilesrv.log');
  try {
    await waitPort(bport, broker, 'mosquitto', 20000);
    const cfg = path.join(tmp, 'webmap.yaml');
    fs.writeFileSync(cfg, `server:
  cache_mb: 64
sources:
  demo:
    path: ${path.join(demo, 'duesseldorf_demo.gpkg')}
feeds:
  bays:
    kind: lorawan
    mqtt:
      host: 127.0.0.1
      port: ${bport}
      topics: ["v3/+/devices/+/up", "application/+/device/+/event/up"]
    lorawan: {decoder: bosch_pls}
    devices: {path: ${path.join(data, 'lorawan_devices.csv')}}
    stale_after: 0
    backoff_min: 0.1
    backoff_max: 0.5
  demo_air:
    kind: demo
    simulate: air
    air_csv: ${path.join(demo, 'air_uba_duesseldorf.csv')}
    fields: [no2, pm10, pm25, o3]
layers:
  parcels: {source: demo, table: parcels, style: ${path.join(styles, 'alkis_parcels.sld')}}
  buildings: {source: demo, table: buildings, style: ${path.join(styles, 'alkis_buildings.sld')}}
  streets: {source: demo, table: streets, style: ${path.join(styles, 'alkis_streets.sld')}}
  bays: {feed: bays, style: ${path.join(styles, 'parking_state.sld')}}
  stations: {feed: demo_air, style: ${path.join(styles, 'air_quality_uba.sld')}}
tilesets:
  cadastre:
    title: "Cadastre (test)"
    attribution: "Synthetic cadastre by tilesrv; districts © OpenStreetMap contributors"
    layers: [parcels, buildings, streets]
    background: "#dedad2"
    metatile: 4
  parking:
    title: "Parking bays (test feed)"
    layers: [bays]
    metatile: 2
  air:
    title: "Air quality (demo replay)"
    layers: [stations]
    metatile: 2
`);
    let hport;
    ({srv, port: hport} = await startTilesrv(a, cfg, web, log));

    // the feed is connected and its first snapshot is out as an event (the page learns the
    // parking tileset's feed, "bays", from the events the server still holds)
    let end = Date.now() + 20000;
    for (;;) {
      const m = await get(hport, '/metrics');
      const ev = await get(hport, '/events?since=0');
      if (m.text.includes('tilesrv_feed_mqtt_connected{feed="bays"} 1') &&
          ev.text.includes('"feed":"bays"') && ev.text.includes('"feed":"demo_air"')) break;
      if (Date.now() > end) throw new Fail('feeds not up or no first events');
      await sleep(100);
    }

    note('server up, feeds connected');
    browser = await chromium.launch({executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--font-render-hinting=none']});
    note('chromium started');
    const page = await browser.newPage({viewport: VIEW, deviceScaleFactor: 1});
    const bad = [], requests = [];
    page.on('requestfailed', (r) => bad.push(`${r.url()} failed: ${r.failure()?.errorText}`));
    page.on('response', (r) => { if (r.status() >= 400) bad.push(`${r.url()}: ${r.status()}`); });
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => bad.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') bad.push(`console: ${m.text()}`); });

    // both the bay and the station in view, clear of the panel on the right
    const c = [(BAY1[0] + STATION[0]) / 2, (BAY1[1] + STATION[1]) / 2];
    await page.goto(`http://127.0.0.1:${hport}/#z=16&c=${c[0]},${c[1]}`);
    await page.waitForFunction(() => window.tilesrvMap, null, {timeout: 20000});
    await page.evaluate(() => window.tilesrvMap.ready);
    // the panel learned the feed of "parking" from the events
    await page.waitForFunction(() => window.tilesrvMap.overlays.find((o) => o.name ===
      'parking')?.feeds.has('bays'), null, {timeout: 10000});

    note('page loaded, map rendered');

    // (a) the map renders
    const panel = await page.locator('.panel').boundingBox();
    const shot1 = decodePng(await page.screenshot());
    if (a.keep) fs.writeFileSync(path.join(a.keep, 'webmap_1.png'), await page.screenshot());
    const share = drawnShare(shot1, panel.x - 4, BACKGROUND);
    console.log(`  map area: ${share.colours} colours, ${(100 * share.drawn).toFixed(0)}% drawn`);
    check(share.colours >= 40 && share.drawn > 0.5, 'the map renders (screenshot not blank)');
    const tilesAsked = requests.filter((u) => /\/tiles\/(cadastre|parking|air)\/16\//.test(u));
    check(['cadastre', 'parking', 'air'].every((t) => tilesAsked.some((u) =>
      u.includes(`/tiles/${t}/`))), 'tiles of the base and both overlays requested');
    check(bad.length === 0, `no failed requests, no errors: ${bad.join('; ') || 'none'}`);
    const attribution = await page.locator('.ol-attribution').innerText();
    check(attribution.includes('OpenStreetMap'), `attribution shown: "${attribution.trim()}"`);
    check(await page.locator('.ol-scale-line').count() === 1, 'scale line shown');
    check(await page.locator('#layers input[type=checkbox]').count() === 2,
      'layer switcher: parking and air');
    check(await page.title() === 'Düsseldorf – tilesrv map' &&
          await page.locator('.panel h1').innerText() === 'Düsseldorf',
      'the demo page is still called Düsseldorf');

    // (b) a sensor change over MQTT shows without a reload
    const bay = await page.evaluate(([lon, lat]) => window.tilesrvMap.pixelOf(lon, lat), BAY1);
    check(bay[0] > 20 && bay[0] < panel.x - 20 && bay[1] > 20 && bay[1] < VIEW.height - 20,
      `the bay is in view at ${bay.map(Math.round)}`);
    const before = around(shot1, bay[0], bay[1], 2);
    check(!before.some((p) => near(p, RED, 40)), 'before: the bay is not drawn red (no state)');
    await page.evaluate(() => { window.__sameDocument = 1; });
    const eventsBefore = await page.evaluate(() => window.tilesrvMap.stats.byFeed.bays || 0);
    const nreq = requests.length;
    const t0 = Date.now();
    const pub = spawnSync(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', String(bport), '-q', '1', '-t',
      'v3/application-tts-name@ttn/devices/eui-1000000000000001/up', '-f',
      path.join(data, 'lorawan_tts_community_v3_uplink_1.json')], {timeout: 10000});
    check(pub.status === 0, 'uplink published (PB-000001 occupied)');
    let after = null, shot2 = null;
    end = Date.now() + 15000;
    while (Date.now() < end) {
      shot2 = decodePng(await page.screenshot());
      after = around(shot2, bay[0], bay[1], 2);
      if (after.some((p) => near(p, RED, 40))) break;
      await sleep(100);
    }
    const ms = Date.now() - t0;
    if (a.keep) fs.writeFileSync(path.join(a.keep, 'webmap_2.png'), await page.screenshot());
    check(after.some((p) => near(p, RED, 40)),
      `after: the bay's pixel turned red in a later screenshot (${ms} ms; centre ${
        shot2.px(Math.round(bay[0]), Math.round(bay[1]))})`);
    check(JSON.stringify(before) !== JSON.stringify(after), 'the screenshot differs at the bay');
    check(await page.evaluate(() => window.__sameDocument === 1),
      'no page reload');
    const st = await page.evaluate(() => window.tilesrvMap.stats);
    check((st.byFeed.bays || 0) > eventsBefore,
      `the change came through /events (${st.byFeed.bays - eventsBefore} new for the feed)`);
    // (the air replay may change a station meanwhile: its tiles may come too)
    const fetched = requests.slice(nreq).filter((u) => u.includes('/tiles/'));
    const parking = fetched.filter((u) => u.includes('/tiles/parking/'));
    check(parking.length > 0 && parking.length <= 8 &&
          !fetched.some((u) => u.includes('/tiles/cadastre/')),
      `only the affected parking tiles fetched again, no cadastre tile: ${fetched.map((u) =>
        u.replace(/^.*\/tiles\//, '')).join(', ')}`);

    // (c) clicking the bay opens its popup
    await page.mouse.click(bay[0], bay[1]);
    const popup = page.locator('#popup');
    await popup.waitFor({state: 'visible', timeout: 10000});
    await page.waitForFunction(() => document.querySelector('#popup-title')?.textContent, null,
      {timeout: 5000});
    const text = await popup.innerText();
    if (a.keep) fs.writeFileSync(path.join(a.keep, 'webmap_3.png'), await page.screenshot());
    console.log(`  popup: ${text.replace(/\s+/g, ' ')}`);
    check(text.includes('Postring') && text.includes('occupied'), 'popup: name and state');
    check(/\b20\d\d\b/.test(text) && /Observed/.test(text), 'popup: observation time');
    // (the feed has stale_after: 0, so the bay is never stale)
    check(await page.locator('#popup-rows .r-stale td').innerText() === 'current',
      'popup: stale flag (current)');

    // the open popup follows the next change (ChirpStack v4 frame: the bay is free)
    const pub2 = spawnSync(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', String(bport), '-q', '1',
      '-t', 'application/x/device/1000000000000001/event/up', '-f',
      path.join(data, 'lorawan_chirpstack_v4_uplink_2.json')], {timeout: 10000});
    check(pub2.status === 0, 'uplink published (PB-000001 free)');
    const updated = await page.waitForFunction(() => document.querySelector(
      '#popup-rows .r-state td')?.textContent === 'free', null, {timeout: 10000})
      .then(() => true, () => false);
    check(updated, updated ? 'the open popup shows the new state (free)' : `the open popup ${
      'did not follow the change'}: ${(await popup.innerText()).replace(/\s+/g, ' ')} ${
      JSON.stringify(await page.evaluate(() => window.tilesrvMap.stats))}`);
    end = Date.now() + 10000;
    let green = false;
    while (Date.now() < end && !green) {
      green = around(decodePng(await page.screenshot()), bay[0], bay[1], 2)
        .some((p) => near(p, GREEN, 40));
      if (!green) await sleep(100);
    }
    check(green, 'and the bay turned green');

    // ... and clicking an air-quality station shows its measured values
    const stn = await page.evaluate(([lon, lat]) => window.tilesrvMap.pixelOf(lon, lat), STATION);
    check(stn[0] > 20 && stn[0] < panel.x - 20 && stn[1] > 20 && stn[1] < VIEW.height - 20,
      `the station is in view at ${stn.map(Math.round)}`);
    await page.mouse.click(stn[0], stn[1]);
    await page.waitForFunction(() => /Corneliusstra/.test(document.querySelector('#popup-title')
      ?.textContent || ''), null, {timeout: 10000});
    const text2 = await popup.innerText();
    if (a.keep) fs.writeFileSync(path.join(a.keep, 'webmap_4.png'), await page.screenshot());
    console.log(`  popup: ${text2.replace(/\s+/g, ' ')}`);
    check(/(NO₂|PM10|O₃)\s+[\d.,]+ µg\/m³/.test(text2), 'popup: the station\'s measured values');

    // ... and clicking the base map elsewhere shows what is there (WMS GetFeatureInfo)
    await page.mouse.click(150, 600);
    await page.waitForFunction(() => document.querySelector('#popup-rows tr.r-layer'), null,
      {timeout: 10000});
    const text3 = await popup.innerText();
    if (a.keep) fs.writeFileSync(path.join(a.keep, 'webmap_5.png'), await page.screenshot());
    console.log(`  popup: ${text3.replace(/\s+/g, ' ').slice(0, 200)}`);
    const infoLayers = await page.locator('#popup-rows tr.r-layer').allInnerTexts();
    check(infoLayers.length > 0 && infoLayers.every((t) => /^(parcels|buildings|streets)$/.test(
      t.trim())), `popup: the cadastre's features at a click off the sensors (${infoLayers})`);
    await page.keyboard.press('Escape');
    await popup.waitFor({state: 'hidden', timeout: 5000});
    check(true, 'Escape closes the popup');

    check(bad.length === 0, `still no failed requests or errors: ${bad.join('; ') || 'none'}`);
    await browser.close();
    browser = null;
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (srv) await stopTilesrv(srv, log);
    if (broker.exitCode === null) broker.kill('SIGKILL');
  }
}

// (d) A city's own configuration: none of the demo's tileset names, the base on the AdV
// grid first (WebMercatorQuad second), another tileset and a live one (the demo air feed).
async function runOwnConfig(a, tmp, chromium) {
  const demo = path.join(a.srcdir, 'data', 'demo');
  const styles = path.join(a.srcdir, 'styles');
  const web = path.join(tmp, 'web'); // built by run()
  const cfg = path.join(tmp, 'city.yaml');
  const CITY_BG = [0xf4, 0xf1, 0xe8];
  fs.writeFileSync(cfg, `server:
  cache_mb: 64
sources:
  demo:
    path: ${path.join(demo, 'duesseldorf_demo.gpkg')}
feeds:
  luftdaten:
    kind: demo
    simulate: air
    air_csv: ${path.join(demo, 'air_uba_duesseldorf.csv')}
    fields: [no2, pm10]
    air_speed: 1 # real time: the next hour of the replay in up to an hour, quiet until then
layers:
  flurstuecke: {source: demo, table: parcels, style: ${path.join(styles, 'alkis_parcels.sld')}}
  gebaeude: {source: demo, table: buildings, style: ${path.join(styles, 'alkis_buildings.sld')}}
  strassen: {source: demo, table: streets, style: ${path.join(styles, 'alkis_streets.sld')}}
  messstellen: {feed: luftdaten, style: ${path.join(styles, 'air_quality_uba.sld')}}
tilesets:
  stadtkarte:
    title: "Stadtkarte (test)"
    layers: [flurstuecke, gebaeude, strassen]
    grids: [DE_EPSG_25832_ADV, WebMercatorQuad]
    background: "#f4f1e8"
    metatile: 4
  strassennetz:
    title: "Straßennetz"
    layers: [strassen]
    metatile: 4
  luft:
    title: "Luftqualität"
    layers: [messstellen]
    metatile: 2
`);
  const log = path.join(tmp, 'city.log');
  let {srv, port} = await startTilesrv(a, cfg, web, log);
  let browser = null;
  try {
    const index = JSON.parse((await get(port, '/tiles.json')).text);
    const baseTj = index.find((t) => t.name === 'stadtkarte');
    check(baseTj && /\/tiles\/stadtkarte\/WebMercatorQuad\/\{z\}/.test(baseTj.tiles[0]) &&
          Array.isArray(baseTj.bounds), `own config: /tiles.json has the base on WebMercatorQuad (${
      baseTj && baseTj.tiles[0]})`);
    browser = await chromium.launch({executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--font-render-hinting=none']});
    const page = await browser.newPage({viewport: VIEW, deviceScaleFactor: 1});
    const bad = [], requests = [];
    page.on('requestfailed', (r) => bad.push(`${r.url()} failed: ${r.failure()?.errorText}`));
    page.on('response', (r) => { if (r.status() >= 400) bad.push(`${r.url()}: ${r.status()}`); });
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => bad.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') bad.push(`console: ${m.text()}`); });
    await watchLive(page);
    // no view in the address: the page fits the base's bounds
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => window.tilesrvMap, null, {timeout: 20000});
    await page.evaluate(() => window.tilesrvMap.ready);
    // the fitted view drawn with all its tiles
    await page.evaluate(() => new Promise((resolve) => {
      window.tilesrvMap.map.once('rendercomplete', resolve);
      window.tilesrvMap.map.render();
    }));
    note('own config: page loaded, map rendered');

    const panel = await page.locator('.panel').boundingBox();
    const png = await page.screenshot();
    if (a.keep) fs.writeFileSync(path.join(a.keep, 'webmap_city.png'), png);
    const share = drawnShare(decodePng(png), panel.x - 4, CITY_BG);
    console.log(`  map area: ${share.colours} colours, ${(100 * share.drawn).toFixed(0)}% drawn, ${
      (100 * share.background).toFixed(0)}% the base's background`);
    // the base's tiles cover the view (its background colour), its data drawn in its colours
    check(share.colours >= 20 && share.drawn > 0.03 && share.background > 0.5,
      'own config: the map shows the base (screenshot not blank)');
    const baseTiles = requests.filter((u) => /\/tiles\/stadtkarte\/WebMercatorQuad\/\d+\/\d+\/\d+\.png/
      .test(u));
    check(baseTiles.length >= 4, `own config: the base's Web Mercator tiles requested (${
      baseTiles.length}, e.g. ${baseTiles[0]})`);
    check(!requests.some((u) => /\/tiles\/stadtkarte\/\d/.test(u) ||
      /\/tiles\/(cadastre|parking|air)[/.]/.test(u)),
    'own config: no tile of the AdV grid, no request for the demo\'s tilesets');
    check(!requests.some((u) => u.includes('/tiles/strassennetz/')),
      'own config: the other tileset (switched off) is not fetched');
    check(requests.some((u) => u.includes('/tiles/luft/')), 'own config: the live overlay is');
    const h1 = await page.locator('.panel h1').innerText();
    check(h1 === 'Stadtkarte (test)' && await page.title() === 'Stadtkarte (test) – tilesrv map',
      `own config: the page is named after its base ("${h1}")`);
    const boxes = await page.evaluate(() => [...document.querySelectorAll(
      '#layers input[type=checkbox]')].map((c) => `${c.id}:${c.checked}`));
    check(JSON.stringify(boxes) === JSON.stringify(['layer-strassennetz:false', 'layer-luft:true']),
      `own config: layer switcher ${boxes.join(', ')}`);
    const [lon, lat] = await page.evaluate(() => { // the view's centre, EPSG:3857 -> lon/lat
      const c = window.tilesrvMap.map.getView().getCenter().map((v) => v / 6378137);
      return [c[0] * 180 / Math.PI, (2 * Math.atan(Math.exp(c[1])) - Math.PI / 2) * 180 / Math.PI];
    });
    const [w, s, e, n] = baseTj.bounds;
    check(lon > w && lon < e && lat > s && lat < n,
      `own config: the view is in the base's bounds (${lon.toFixed(4)}, ${lat.toFixed(4)})`);
    // switching the other tileset on fetches its tiles
    await page.click('#layer-strassennetz');
    await page.waitForFunction(() => performance.getEntriesByType('resource').some((r) =>
      r.name.includes('/tiles/strassennetz/')), null, {timeout: 10000});
    check(true, 'own config: the other tileset switched on is fetched');
    check(bad.length === 0, `own config: no failed requests, no errors: ${bad.join('; ') || 'none'}`);

    // (e) quiet feeds: each answer of /events ends the stream, and the server holds the
    // browser's next request until the next event or the keep-alive after 20 s
    const live = () => page.evaluate(() => ({texts: window.__live, es: window.__es,
      now: performance.now(), events: window.tilesrvMap.stats.events}));
    await page.waitForFunction(() => window.__es.some((e) => e[1] === 'error'), null,
      {timeout: 10000}); // the first answer ended
    const q0 = await live();
    await sleep(12000);
    const q1 = await live();
    const quiet = q1.texts.filter((t) => t[0] >= q0.now);
    // the longest time without an answer (a request held) within the window
    let held = 0, since = q0.now;
    for (const [t] of q1.es.filter((e) => e[0] >= q0.now && e[1] === 'open')) {
      held = Math.max(held, t - since);
      since = t;
    }
    held = Math.max(held, q1.now - since);
    console.log(`  quiet: ${q1.events - q0.events} events in ${((q1.now - q0.now) / 1000).toFixed(
      1)} s, a request held up to ${(held / 1000).toFixed(1)} s; the indicator: ${
      [q0.texts.at(-1), ...quiet].map((t) => `"${t[1]}"`).join(', ')}`);
    check(q1.events === q0.events && held > 10000,
      'quiet feeds: no event for 12 s, the server held the request for events over 10 s');
    check(!quiet.some((t) => /reconnecting/.test(t[1])) && /^live/.test(q1.texts.at(-1)[1]),
      'quiet feeds: the indicator stays "live" (no "reconnecting…")');
    if (a.keep) fs.writeFileSync(path.join(a.keep, 'webmap_quiet.png'), await page.screenshot());

    // ... the server stopped: "reconnecting…" within 5 s
    const k0 = (await live()).now;
    await stopTilesrv(srv, log);
    srv = null;
    const down = await page.waitForFunction(() => /reconnecting/.test(
      document.getElementById('live-text').textContent), null, {timeout: 8000})
      .then(() => page.evaluate(() => performance.now()), () => null);
    const downMs = down === null ? null : down - k0;
    if (a.keep) fs.writeFileSync(path.join(a.keep, 'webmap_down.png'), await page.screenshot());
    check(downMs !== null && downMs <= 5000, `server stopped: "reconnecting…" after ${
      downMs === null ? 'more than 8 s' : `${(downMs / 1000).toFixed(1)} s`} (at most 5 s): ${
      (await live()).texts.slice(-3).map((t) => `"${t[1]}"`).join(', ')}`);

    // ... and back on the same port: "live" again
    ({srv} = await startTilesrv(a, cfg, web, log, port));
    const back = await page.waitForFunction(() => /^live/.test(
      document.getElementById('live-text').textContent), null, {timeout: 10000})
      .then(() => true, () => false);
    check(back, `server back on port ${port}: the indicator says "${
      (await live()).texts.at(-1)[1]}"`);
    await browser.close();
    browser = null;
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (srv) await stopTilesrv(srv, log);
  }
}

// (f) The bundled demo as it is (data/demo/tilesrv.yaml: simulated parking bays, the air
// replay: an air event every 10 s, whose box holds every station).
async function runDemo(a, tmp, chromium) {
  const web = path.join(tmp, 'web'); // built by run()
  const log = path.join(tmp, 'demo.log');
  const {srv, port} = await startTilesrv(a, path.join(a.srcdir, 'data', 'demo', 'tilesrv.yaml'),
    web, log);
  let browser = null;
  try {
    // the server holds two air events (its first snapshot and a change): the page's first
    // answer brings both
    const end = Date.now() + 30000;
    for (;;) {
      const held = (await get(port, '/events?since=0')).text;
      if ((held.match(/"feed":"demo_air"/g) || []).length >= 2) break;
      if (Date.now() > end) throw new Fail('demo: no second air event within 30 s');
      await sleep(250);
    }
    note('demo: server up, two air events held');
    browser = await chromium.launch({executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--font-render-hinting=none']});
    const page = await browser.newPage({viewport: VIEW, deviceScaleFactor: 1});
    const bad = [], requests = [];
    page.on('requestfailed', (r) => bad.push(`${r.url()} failed: ${r.failure()?.errorText}`));
    page.on('response', (r) => { if (r.status() >= 400) bad.push(`${r.url()}: ${r.status()}`); });
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => bad.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') bad.push(`console: ${m.text()}`); });
    // a slow network at page load: the held events come after the first render, while the
    // overlay tiles are on their way
    let slow = true;
    await page.route(/\/events\b/, async (r) => {
      if (slow) await sleep(300);
      await r.continue();
    });
    await page.route(/\/tiles\/(parking|air)\//, async (r) => {
      if (slow) await sleep(1000);
      await r.continue();
    });
    // a view within the box of the air events (every air tile in it is refreshed by each)
    await page.goto(`http://127.0.0.1:${port}/#z=16&c=6.765,51.257`);
    await page.waitForFunction(() => window.tilesrvMap, null, {timeout: 20000});
    await page.evaluate(() => window.tilesrvMap.ready);
    await page.waitForFunction(() => (window.tilesrvMap.stats.byFeed.demo_air || 0) >= 2, null,
      {timeout: 10000});
    slow = false;
    const t0 = Date.now();
    const st0 = await page.evaluate(() => window.tilesrvMap.stats);
    note(`demo: page loaded (${st0.events} events, ${st0.byFeed.demo_air} of the air feed)`);
    check(bad.length === 0, `demo: no errors at page load: ${bad.join('; ') || 'none'}`);
    if (a.keep) fs.writeFileSync(path.join(a.keep, 'webmap_demo.png'), await page.screenshot());

    // the air overlay switched off: its tiles are renewed by every air event, none swapped
    await page.click('#layer-air');
    const nreq = requests.length;
    let st = st0;
    while (Date.now() - t0 < 20000 || (st.byFeed.demo_air || 0) - st0.byFeed.demo_air < 2) {
      if (Date.now() - t0 > 45000 || bad.length) break;
      await sleep(500);
      st = await page.evaluate(() => window.tilesrvMap.stats);
    }
    const air = (st.byFeed.demo_air || 0) - st0.byFeed.demo_air;
    console.log(`  demo: ${st.events - st0.events} events in ${((Date.now() - t0) / 1000).toFixed(
      1)} s, ${air} of the air feed, ${st.tilesRefreshed - st0.tilesRefreshed} tiles swapped`);
    check(bad.length === 0, `demo: no errors during ${((Date.now() - t0) / 1000).toFixed(0)} s of ${
      'live events'}: ${bad.join('; ') || 'none'}`);
    check(air >= 2 && st.tilesRefreshed > st0.tilesRefreshed,
      'demo: two air events or more with the overlay off, parking tiles swapped');
    const fetched = requests.slice(nreq).filter((u) => u.includes('/tiles/'));
    check(fetched.some((u) => u.includes('/tiles/parking/')) &&
          !fetched.some((u) => /\/tiles\/(cadastre|air)\//.test(u)),
    `demo: parking tiles fetched again, no cadastre tile, no air tile while it is off (${
      fetched.length} tiles)`);
    // switched on again: its tiles come with their new version
    const nreq2 = requests.length;
    await page.click('#layer-air');
    await page.evaluate(() => new Promise((resolve) => {
      window.tilesrvMap.map.once('rendercomplete', resolve);
      window.tilesrvMap.map.render();
    }));
    const again = requests.slice(nreq2).filter((u) => u.includes('/tiles/air/'));
    check(again.length > 0 && again.every((u) => /\?v=\d+$/.test(u)),
      `demo: the air overlay switched on again fetches its renewed tiles (${again.length})`);
    check(bad.length === 0, `demo: still no errors: ${bad.join('; ') || 'none'}`);
    if (a.keep) fs.writeFileSync(path.join(a.keep, 'webmap_demo_2.png'), await page.screenshot());
    await browser.close();
    browser = null;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await stopTilesrv(srv, log);
  }
}

async function main() {
  const a = args(import.meta.url);
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`FAIL: ${CHROMIUM} not installed (scripts/deps.sh --test installs chromium)`);
    process.exit(1);
  }
  for (const p of [MOSQUITTO, MOSQUITTO_PUB]) {
    if (!fs.existsSync(p)) {
      console.log(`${p} not installed (scripts/deps.sh --test): skipped`);
      process.exit(77);
    }
  }
  const req = createRequire(path.join(a.srcdir, 'package.json'));
  let chromium;
  try {
    req.resolve('esbuild');
    req.resolve('ol/Map.js');
    ({chromium} = req('playwright-core'));
  } catch (e) {
    console.log(`npm packages missing (npm install in ${a.srcdir}): skipped (${e.message})`);
    process.exit(77);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tilesrv-webmap-'));
  const t0 = Date.now();
  try {
    await run(a, tmp, chromium);
    await runOwnConfig(a, tmp, chromium);
    await runDemo(a, tmp, chromium);
  } catch (e) {
    console.log(`FAIL: ${e instanceof Fail ? e.message : e.stack}`);
    process.exitCode = 1;
    return;
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true});
  }
  console.log(`webmap: all passed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

main();
