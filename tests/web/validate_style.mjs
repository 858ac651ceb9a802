// Validate a MapLibre GL style JSON file against the style specification
// (@maplibre/maplibre-gl-style-spec's validateStyleMin: layer types, paint and layout
// properties, filter and expression syntax, source references).
// Usage: node tests/web/validate_style.mjs STYLE.json
// Exit 0: valid; 1: errors (printed); 77: the package is not installed (npm install).
import fs from 'node:fs';

let spec;
try {
    spec = await import('@maplibre/maplibre-gl-style-spec');
} catch (e) {
    console.log('@maplibre/maplibre-gl-style-spec not installed (npm install): ' + e.message);
    process.exit(77);
}
const style = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const errors = spec.validateStyleMin(style);
for (const e of errors)
    console.log('error: ' + e.message);
console.log(`${style.layers.length} layers, ${errors.length} errors`);
process.exit(errors.length ? 1 : 0);
