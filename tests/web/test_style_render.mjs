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
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {fileURLToPath} from 'node:url';

const CHROMIUM = '/usr/bin/chromium';
const VIEW = {width: 800, height: 600};
const CENTER = [6.7735, 51.2247]; // inside the demo's cadastre, Düsseldorf
const BACKGROUND = [0xde, 0xda, 0xd2]; // the cadastre tileset's background

class Fail extends Error {}
function check(cond, what) {
  if (!cond) throw new Fail(what);
  console.log(`  ok: ${what}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = new Set();
process.on('exit', () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(1));

function args() {
  const a = {srcdir: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')};
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '--binary') a.binary = path.resolve(v[++i]);
    else if (v[i] === '--srcdir') a.srcdir = path.resolve(v[++i]);
    else if (v[i] === '--keep') a.keep = path.resolve(v[++i]);
    else throw new Error(`unknown argument ${v[i]}`);
  }
  if (!a.binary) throw new Error('--binary is required');
  return a;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitHealth(port, proc, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Fail(`tilesrv exited with ${proc.exitCode}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      if (r.status === 200) return;
    } catch (e) { /* not up yet */ }
    await sleep(100);
  }
  throw new Fail(`tilesrv did not come up on port ${port}`);
}

// 8-bit RGB/RGBA, non-interlaced PNG (Chromium's screenshots) -> RGB pixels
function decodePng(buf) {
  let pos = 8, w = 0, h = 0, ctype = 0;
  const idat = [];
  while (pos < buf.length) {
    const n = buf.readUInt32BE(pos), kind = buf.toString('latin1', pos + 4, pos + 8);
    const body = buf.subarray(pos + 8, pos + 8 + n);
    if (kind === 'IHDR') { w = body.readUInt32BE(0); h = body.readUInt32BE(4); ctype = body[9]; }
    else if (kind === 'IDAT') idat.push(body);
    pos += 12 + n;
  }
  const bpp = ctype === 6 ? 4 : 3, stride = w * bpp;
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const out = Buffer.alloc(w * h * 3);
  let prev = Buffer.alloc(stride), p = 0;
  for (let y = 0; y < h; y++) {
    const f = raw[p];
    const line = Buffer.from(raw.subarray(p + 1, p + 1 + stride));
    p += 1 + stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      let pr = 0;
      if (f === 1) pr = a;
      else if (f === 2) pr = b;
      else if (f === 3) pr = (a + b) >> 1;
      else if (f === 4) {
        const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
        pr = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[i] = (line[i] + pr) & 255;
    }
    for (let x = 0; x < w; x++)
      for (let k = 0; k < 3; k++) out[(y * w + x) * 3 + k] = line[x * bpp + k];
    prev = line;
  }
  return {w, h, out};
}

function countNear(img, rgb, tol) {
  let n = 0;
  for (let i = 0; i < img.w * img.h; i++) {
    const o = i * 3;
    if (Math.abs(img.out[o] - rgb[0]) <= tol && Math.abs(img.out[o + 1] - rgb[1]) <= tol &&
        Math.abs(img.out[o + 2] - rgb[2]) <= tol)
      n++;
  }
  return n;
}

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

  const port = await freePort();
  const log = path.join(tmp, 'tilesrv.log');
  const logfd = fs.openSync(log, 'w');
  const srv = spawn(a.binary, ['serve', '--listen', `127.0.0.1:${port}`, '--threads', '2'],
    {stdio: ['ignore', logfd, logfd]});
  children.add(srv);
  let browser = null;
  try {
    await waitHealth(port, srv, 60000);
    const base = `http://127.0.0.1:${port}`;
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
    srv.kill('SIGTERM');
    const rc = await new Promise((resolve) => {
      if (srv.exitCode !== null) resolve(srv.exitCode);
      else srv.once('exit', (code) => resolve(code));
    });
    const text = fs.readFileSync(log, 'utf8');
    if (rc !== 0) console.log(text.slice(-3000));
    check(rc === 0, 'server stopped cleanly');
    check(!/runtime error|AddressSanitizer/.test(text), 'no sanitizer reports in the server log');
  }
}

async function main() {
  const a = args();
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
