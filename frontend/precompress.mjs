// Compresses the site's JS, WASM and CSS once at build time, writing `<file>.br` and
// `<file>.gz` beside each, so the server sends them as they are (content negotiation)
// and no request compresses a WASM file on the fly.
//
//   node frontend/precompress.mjs DIR [brotli-quality]
//
// Quality 11 (the default) is for release builds; a debug build passes a lower one,
// as its WASM is many megabytes.
import { readdirSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const [dir, qualityArg] = process.argv.slice(2);
if (!dir) {
  console.error("usage: node frontend/precompress.mjs DIR [brotli-quality]");
  process.exit(2);
}
const quality = Number(qualityArg ?? 11);
for (const name of readdirSync(dir)) {
  if (!/\.(js|wasm|css)$/.test(name)) continue;
  const path = join(dir, name);
  const data = readFileSync(path);
  const br = brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: quality,
      [constants.BROTLI_PARAM_SIZE_HINT]: statSync(path).size,
    },
  });
  writeFileSync(`${path}.br`, br);
  writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
  console.log(`${name}: ${data.length} B, brotli ${br.length} B`);
}
