// Evaluate the filters of a MapLibre style's layers with MapLibre's own filter code
// (@maplibre/maplibre-gl-style-spec's featureFilter) against a list of features.
// Usage: node tests/web/eval_filters.mjs STYLE.json FEATURES.json [ZOOM]
//   FEATURES.json: [{"type": 1|2|3 (point|line|polygon), "properties": {...}}, ...]
// Prints {"<layer id>": [indexes of the features its filter lets through], ...} for every
// layer with a filter. Exit 0; 77: the package is not installed (npm install).
import fs from 'node:fs';

let spec;
try {
    spec = await import('@maplibre/maplibre-gl-style-spec');
} catch (e) {
    console.log('@maplibre/maplibre-gl-style-spec not installed (npm install): ' + e.message);
    process.exit(77);
}
const style = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const features = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const zoom = Number(process.argv[4] ?? 14);
const out = {};
style.layers.forEach((layer, i) => {
    if (!layer.filter)
        return;
    const f = spec.featureFilter(layer.filter, `layers[${i}].filter`);
    out[layer.id] = features.flatMap((ft, k) => (f.filter({zoom}, ft) ? [k] : []));
});
console.log(JSON.stringify(out));
