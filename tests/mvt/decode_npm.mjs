// tests/mvt/decode_npm.mjs — decode a vector tile with @mapbox/vector-tile and pbf (the
// decoder MapLibre and OpenLayers build on) and print it as JSON for test_mvt_decoders.py:
// per layer its name, version, extent and features (id, type, properties, the rings or
// lines from loadGeometry, polygons as classifyRings groups them, and each ring's area by
// the spec's surveyor's formula).
//   node tests/mvt/decode_npm.mjs TILE.mvt
import { readFileSync } from 'node:fs';
import { PbfReader as Pbf } from 'pbf';
import { VectorTile, classifyRings } from '@mapbox/vector-tile';

function area(ring) {
    let a = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++)
        a += ring[j].x * ring[i].y - ring[i].x * ring[j].y;
    return a / 2;
}

const tile = new VectorTile(new Pbf(readFileSync(process.argv[2])));
const out = { layers: [] };
for (const name of Object.keys(tile.layers)) {
    const l = tile.layers[name];
    const layer = { name, version: l.version, extent: l.extent, features: [] };
    for (let i = 0; i < l.length; i++) {
        const f = l.feature(i);
        const geom = f.loadGeometry();
        const rec = {
            id: f.id,
            type: f.type,
            properties: f.properties,
            geometry: geom.map((part) => part.map((p) => [p.x, p.y])),
        };
        if (f.type === 3) {
            rec.polygons = classifyRings(geom).map((poly) =>
                poly.map((ring) => {
                    const r = ring.map((p) => [p.x, p.y]);
                    if (r.length && (r[0][0] !== r[r.length - 1][0] || r[0][1] !== r[r.length - 1][1]))
                        r.push(r[0]);
                    return r;
                }));
            rec.ring_areas = geom.map(area);
        }
        layer.features.push(rec);
    }
    out.layers.push(layer);
}
process.stdout.write(JSON.stringify(out));
