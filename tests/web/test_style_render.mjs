#!/usr/bin/env node
// The MapLibre style of the demo (/styles/cadastre,parking,air.json) drawn client-side from
// the vector tiles: OpenLayers with ol-mapbox-style (its VectorTile layers, canvas 2D: no
// WebGL needed) in headless Chromium (Debian's /usr/bin/chromium through playwright-core),
// against `tilesrv serve` on the bundled demo started here.
//
// Checked on a screenshot of the map over the demo district at z16: the cadastre shows — the
// background colour, the parcels' fill colours and the buildings' colour of the SLDs, each
// on many pixels — and the page loaded every style, TileJSON and tile request without an
// error (no request failed or answered >= 400, no page error).
//
// Usage: node test_style_render.mjs --binary build/tilesrv [--srcdir .] [--keep DIR]
// Exit 0 = pass, 1 = fail, 77 = skipped (the npm packages not installed). Chromium missing
// is a failure: scripts/deps.sh --test installs it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {CHROMIUM, Fail, args, check, countNear, decodePng, startServer} from './browser_lib.mjs';

const VIEW = {width: 800, height: 600};
const CENTER = [6.7735, 51.2247]; // inside the demo's cadastre, Düsseldorf
const BACKGROUND = [0xde, 0xda, 0xd2]; // the cadastre tileset's background

const hex = (s) => [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16));

async function run(a, tmp, esbuild, chromium) {
  // the page's script: OpenLayers + ol-mapbox-style, bundled from node_modules
  const entry = path.join(tmp, 'entry.js');
  fs.writeFileSync(entry, `
import {apply} from 'ol-mapbox-style';
import {fromLonLat} from 'ol/proj.js';
window.drawStyle = async (url, center, zoom) => {
  const map = await apply('map', url);
  map.getView().setCenter(fromLonLat(center));
  map.getView().setZoom(zoom);
  await new Promise((resolve) => map.once('rendercomplete', resolve));
  return map.getLayers().getLength();
};
`);
  const bundled = await esbuild.build({
    entryPoints: [entry], bundle: true, format: 'iife', target: ['es2020'], write: false,
    nodePaths: [path.join(a.srcdir, 'node_modules')], logLevel: 'warning',
  });
  const script = bundled.outputFiles[0].text;
  check(script.length > 10000, `OpenLayers + ol-mapbox-style bundled (${script.length} bytes)`);

  const srv = await startServer(a.binary, tmp);
  let browser = null;
  try {
    const base = srv.base;
    const styleUrl = `${base}/styles/cadastre,parking,air.json`;
    const style = await (await fetch(styleUrl)).json();
    browser = await chromium.launch({executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu']});
    const page = await browser.newPage({viewport: VIEW});
    const failures = [];
    const errors = [];
    let tiles = 0;
    page.on('requestfailed', (r) => failures.push(`${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400) failures.push(`${r.url()} ${r.status()}`);
      if (r.url().endsWith('.pbf')) tiles++;
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    // a page of the server's origin, the map in it
    await page.goto(`${base}/health`);
    await page.setContent(`<!doctype html><html><head><style>html,body,#map{margin:0;
      width:100%;height:100%}</style></head><body><div id="map"></div></body></html>`);
    await page.addScriptTag({content: script});
    const nlayers = await page.evaluate(
      ([u, c]) => window.drawStyle(u, c, 16), [styleUrl, CENTER]);
    check(nlayers >= 3, `ol-mapbox-style made ${nlayers} layers from the style`);
    const shot = await page.screenshot({type: 'png'});
    if (a.keep) fs.writeFileSync(path.join(a.keep, 'style_render.png'), shot);
    const img = decodePng(shot);
    const total = img.w * img.h;
    check(tiles > 0, `${tiles} vector tiles fetched`);
    check(failures.length === 0, `no failed request ${failures.slice(0, 3).join('; ')}`);
    check(errors.length === 0, `no page error ${errors.slice(0, 3).join('; ')}`);
    // the colours of the style (from the SLDs) on the screenshot
    const fills = (layer) => [...new Set(style.layers.filter((l) => l['source-layer'] === layer &&
      l.type === 'fill').map((l) => l.paint['fill-color']))];
    const parcelPx = fills('parcels').reduce((s, c) => s + countNear(img, hex(c), 3), 0);
    const buildingPx = fills('buildings').reduce((s, c) => s + countNear(img, hex(c), 3), 0);
    const bgPx = countNear(img, BACKGROUND, 3);
    console.log(`  .. of ${total} pixels: parcels ${parcelPx}, buildings ${buildingPx}, ` +
                `background ${bgPx}`);
    check(parcelPx > total / 10, 'the parcels are drawn in their SLD fill colours');
    check(buildingPx > total / 50, 'the buildings are drawn in their SLD fill colour');
    check(bgPx < total * 0.9, 'the map is not just the background');
  } finally {
    if (browser) await browser.close();
    await srv.stop();
  }
}

async function main() {
  const a = args(import.meta.url);
  let esbuild, chromium;
  try {
    esbuild = await import('esbuild');
    ({chromium} = await import('playwright-core'));
    await import('ol-mapbox-style');
  } catch (e) {
    console.log(`npm packages missing (npm install): ${e.message}: skipped`);
    process.exit(77);
  }
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`FAIL: ${CHROMIUM} missing (scripts/deps.sh --test installs chromium)`);
    process.exit(1);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tilesrv-style-'));
  try {
    await run(a, tmp, esbuild, chromium);
    console.log('style render: all passed');
  } catch (e) {
    console.log(`FAIL: ${e instanceof Fail ? e.message : e.stack}`);
    process.exitCode = 1;
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true});
  }
}

await main();
