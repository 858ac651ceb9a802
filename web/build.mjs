// Bundle the web map (web/src/main.js with OpenLayers from node_modules, and its CSS) into
// web/dist/main.js + main.css: `npm run build`, or `node web/build.mjs OUTDIR` for another
// directory (the browser test builds into its own). No CDN at run time: the server serves
// web/ (or share/tilesrv/web/ when installed) and everything comes from there.
import {build} from 'esbuild';
import {fileURLToPath} from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(process.argv[2] || path.join(here, 'dist'));

await build({
  entryPoints: [path.join(here, 'src', 'main.js')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  outdir,
  entryNames: '[name]',
  logLevel: 'warning',
});
console.log(`web map bundled into ${path.relative(process.cwd(), outdir) || '.'}`);
