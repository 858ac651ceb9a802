// Shared by the browser tests of the MapLibre styles (test_style_render.mjs,
// test_maplibre_render.mjs): checks that print as they pass, a free port, `tilesrv serve` on
// the bundled demo started and stopped (its log checked for sanitizer reports), and a PNG
// decoder for Chromium's screenshots.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import {fileURLToPath} from 'node:url';

export const CHROMIUM = '/usr/bin/chromium';

export class Fail extends Error {}
export function check(cond, what) {
  if (!cond) throw new Fail(what);
  console.log(`  ok: ${what}`);
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const children = new Set();
process.on('exit', () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(1));

// --binary PATH (required), --srcdir DIR (default: the repository), --keep DIR
export function args(scriptUrl) {
  const a = {srcdir: path.resolve(path.dirname(fileURLToPath(scriptUrl)), '..', '..')};
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

export function freePort() {
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

// `tilesrv serve` on the bundled demo, logging into tmp/tilesrv.log; resolves when /health
// answers. Returns {base, stop}: stop() ends it with SIGTERM and checks that it exited 0
// without sanitizer reports.
export async function startServer(binary, tmp) {
  const port = await freePort();
  const log = path.join(tmp, 'tilesrv.log');
  const logfd = fs.openSync(log, 'w');
  const srv = spawn(binary, ['serve', '--listen', `127.0.0.1:${port}`, '--threads', '2'],
    {stdio: ['ignore', logfd, logfd]});
  children.add(srv);
  await waitHealth(port, srv, 60000);
  const stop = async () => {
    srv.kill('SIGTERM');
    const rc = await new Promise((resolve) => {
      if (srv.exitCode !== null) resolve(srv.exitCode);
      else srv.once('exit', (code) => resolve(code));
    });
    const text = fs.readFileSync(log, 'utf8');
    if (rc !== 0) console.log(text.slice(-3000));
    check(rc === 0, 'server stopped cleanly');
    check(!/runtime error|AddressSanitizer/.test(text), 'no sanitizer reports in the server log');
  };
  return {base: `http://127.0.0.1:${port}`, stop};
}

// 8-bit RGB/RGBA, non-interlaced PNG (Chromium's screenshots) -> {w, h, out: RGB pixels,
// px(x, y): [r, g, b]}; anything else throws.
export function decodePng(buf) {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Fail('screenshot is not a PNG');
  let pos = 8, w = 0, h = 0, ctype = 0, depth = 0, interlace = 0;
  const idat = [];
  while (pos < buf.length) {
    const n = buf.readUInt32BE(pos), kind = buf.toString('latin1', pos + 4, pos + 8);
    const body = buf.subarray(pos + 8, pos + 8 + n);
    if (kind === 'IHDR') {
      w = body.readUInt32BE(0); h = body.readUInt32BE(4);
      depth = body[8]; ctype = body[9]; interlace = body[12];
    } else if (kind === 'IDAT') idat.push(body);
    pos += 12 + n;
  }
  if (depth !== 8 || (ctype !== 2 && ctype !== 6) || interlace)
    throw new Fail(`unexpected PNG: depth ${depth} colour type ${ctype} interlace ${interlace}`);
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
  return {w, h, out, px: (x, y) => [...out.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)]};
}

// Pixels of img within tol of rgb in every channel.
export function countNear(img, rgb, tol) {
  let n = 0;
  for (let i = 0; i < img.w * img.h; i++) {
    const o = i * 3;
    if (Math.abs(img.out[o] - rgb[0]) <= tol && Math.abs(img.out[o + 1] - rgb[1]) <= tol &&
        Math.abs(img.out[o + 2] - rgb[2]) <= tol)
      n++;
  }
  return n;
}
