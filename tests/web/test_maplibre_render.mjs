#!/usr/bin/env node
// The MapLibre style of the demo (/styles/cadastre,parking,air.json) in MapLibre GL JS
// itself (npm maplibre-gl: WebGL, here Chromium's SwiftShader), against `tilesrv serve` on
// the bundled demo started here: the client that reads the style's "glyphs" URL and draws
// the labels from this server's /fonts/{fontstack}/{range}.pbf.
//
// Checked at zoom 17.6 over the demo district (parcel numbers and street names):
//   - the map loads without a page error and without a failed request; glyph ranges are
//     fetched from /fonts/ and answered 200 as protobuf;
//   - the labels are drawn: the screenshot with the style's symbol layers differs from one
//     with them hidden on many pixels, and among those are the text colours of the SLDs
//     (#000000 parcel numbers, #202020 street names) and the white of their halos.
//
// Usage: node test_maplibre_render.mjs --binary build/tilesrv [--srcdir .] [--keep DIR]
// Exit 0 = pass, 1 = fail, 77 = skipped (npm packages not installed). Chromium missing is
// a failure: scripts/deps.sh --test installs it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {CHROMIUM, Fail, args, check, decodePng, startServer} from './browser_lib.mjs';

const VIEW = {width: 800, height: 600};
const CENTER = [6.7735, 51.2247]; // inside the demo's cadastre, Düsseldorf
const ZOOM = 17.6; // parcel numbers from 16.5, street names from 14.9

async function idle(page) {
  await page.evaluate(() => new Promise((resolve, reject) => {
    if (window.map.loaded() && !window.map.isMoving()) window.map.triggerRepaint();
    window.map.once('idle', resolve);
    setTimeout(() => reject(new Error('the map did not become idle in 60 s')), 60000);
  }));
}

async function run(a, tmp, chromium) {
  const dist = path.join(a.srcdir, 'node_modules', 'maplibre-gl', 'dist');
  const srv = await startServer(a.binary, tmp);
  let browser = null;
  try {
    const styleUrl = `${srv.base}/styles/cadastre,parking,air.json`;
    const style = await (await fetch(styleUrl)).json();
    check(style.glyphs === `${srv.base}/fonts/{fontstack}/{range}.pbf`,
      `the style names this server's glyphs (${style.glyphs})`);
    const symbols = style.layers.filter((l) => l.type === 'symbol').map((l) => l.id);
    check(symbols.length >= 3, `${symbols.length} symbol layers (labels) in the style`);

    browser = await chromium.launch({executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--use-gl=angle', '--use-angle=swiftshader',
             '--enable-unsafe-swiftshader']});
    const page = await browser.newPage({viewport: VIEW});
    const failures = [], errors = [], glyphs = [];
    page.on('requestfailed', (r) => failures.push(`${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico'))
        failures.push(`${r.url()} ${r.status()}`);
      if (r.url().includes('/fonts/'))
        glyphs.push({url: r.url(), status: r.status(), type: r.headers()['content-type']});
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error' && !/favicon/.test(m.location().url))
      errors.push(m.text()); });
    await page.goto(`${srv.base}/health`); // a page of the server's origin
    await page.setContent(`<!doctype html><html><head><style>html,body,#map{margin:0;
      width:100%;height:100%}</style></head><body><div id="map"></div></body></html>`);
    await page.addStyleTag({path: path.join(dist, 'maplibre-gl.css')});
    await page.addScriptTag({path: path.join(dist, 'maplibre-gl.js')});
    const webgl = await page.evaluate(() =>
      !!document.createElement('canvas').getContext('webgl2'));
    check(webgl, 'WebGL 2 in headless Chromium (SwiftShader)');
    await page.evaluate(([u, c, z]) => {
      window.map = new maplibregl.Map({container: 'map', style: u, center: c, zoom: z,
        fadeDuration: 0, attributionControl: false});
    }, [styleUrl, CENTER, ZOOM]);
    await idle(page);
    const withLabels = decodePng(await page.screenshot({type: 'png'}));
    if (a.keep) fs.writeFileSync(path.join(a.keep, 'maplibre_labels.png'),
      await page.screenshot({type: 'png'}));
    await page.evaluate((ids) => {
      for (const id of ids) window.map.setLayoutProperty(id, 'visibility', 'none');
    }, symbols);
    await idle(page);
    const without = decodePng(await page.screenshot({type: 'png'}));

    check(errors.length === 0, `no page error ${errors.slice(0, 3).join('; ')}`);
    check(failures.length === 0, `no failed request ${failures.slice(0, 3).join('; ')}`);
    check(glyphs.length >= 2 && glyphs.every((g) => g.status === 200 &&
      g.type === 'application/x-protobuf'),
      `glyph ranges fetched from /fonts/ (${glyphs.map((g) => decodeURIComponent(
        g.url.slice(g.url.indexOf('/fonts/') + 7)) + ' ' + g.status).join(', ')})`);

    // pixels the labels changed, and their colours on the labelled screenshot
    let changed = 0, dark = 0, white = 0;
    for (let i = 0; i < withLabels.w * withLabels.h; i++) {
      const o = i * 3, p = withLabels.out, q = without.out;
      const d = Math.max(Math.abs(p[o] - q[o]), Math.abs(p[o + 1] - q[o + 1]),
        Math.abs(p[o + 2] - q[o + 2]));
      if (d >= 3 && p[o] > 250 && p[o + 1] > 250 && p[o + 2] > 250)
        white++; // a halo, also over the parcels' near-white fill
      if (d < 40) continue;
      changed++;
      if (p[o] < 110 && p[o + 1] < 110 && p[o + 2] < 110) dark++;
    }
    console.log(`  .. labels changed ${changed} pixels: ${dark} near black, ${white} white`);
    check(changed > 2000, 'the labels are drawn (many pixels differ without them)');
    check(dark > 300, 'in the text colour of the SLDs (near black)');
    check(white > 300, 'with the white halos of the SLDs');
  } finally {
    if (browser) await browser.close();
    await srv.stop();
  }
}

async function main() {
  const a = args(import.meta.url);
  let chromium;
  try {
    ({chromium} = await import('playwright-core'));
    fs.accessSync(path.join(a.srcdir, 'node_modules', 'maplibre-gl', 'dist', 'maplibre-gl.js'));
  } catch (e) {
    console.log(`npm packages missing (npm install): ${e.message}: skipped`);
    process.exit(77);
  }
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`FAIL: ${CHROMIUM} missing (scripts/deps.sh --test installs chromium)`);
    process.exit(1);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tilesrv-maplibre-'));
  try {
    await run(a, tmp, chromium);
    console.log('maplibre render: all passed');
  } catch (e) {
    console.log(`FAIL: ${e instanceof Fail ? e.message : e.stack}`);
    process.exitCode = 1;
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true});
  }
}

await main();
