// Renders Mermaid sources to SVG and PNG with one browser for all of them.
// Usage: node render.mjs <out-dir> <diagram.mmd>...
// Each output records the SHA-256 of its source (an SVG comment, a PNG tEXt chunk),
// so `make check` can tell a diagram that was edited but not re-rendered.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

const modules = join(process.env.MERMAID_DIR, 'node_modules');
const require = createRequire(join(modules, 'noop.js'));
const puppeteer = require('puppeteer');
const { renderMermaid } = await import(
  pathToFileURL(join(modules, '@mermaid-js/mermaid-cli/src/index.js')).href);

const [outDir, ...sources] = process.argv.slice(2);
const browser = await puppeteer.launch(
  JSON.parse(readFileSync(new URL('./puppeteer.json', import.meta.url))));

function pngWithText(png, key, value) {
  const data = Buffer.from(`${key}\0${value}`, 'latin1');
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('tEXt', 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(zlib.crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  const iend = png.length - 12;  // IEND is always the last 12 bytes
  return Buffer.concat([png.subarray(0, iend), chunk, png.subarray(iend)]);
}

try {
  for (const source of sources) {
    const text = readFileSync(source, 'utf8');
    const hash = createHash('sha256').update(text).digest('hex');
    const stem = join(outDir, basename(source, '.mmd'));
    const config = { theme: 'default', sequence: { mirrorActors: false } };
    const svg = await renderMermaid(browser, text, 'svg', { mermaidConfig: config });
    writeFileSync(`${stem}.svg`,
      Buffer.concat([Buffer.from(svg.data), Buffer.from(`\n<!-- source-sha256: ${hash} -->\n`)]));
    const png = await renderMermaid(browser, text, 'png', {
      mermaidConfig: config, viewport: { width: 900, height: 600, deviceScaleFactor: 2 } });
    writeFileSync(`${stem}.png`, pngWithText(Buffer.from(png.data), 'source-sha256', hash));
    console.log(`rendered ${basename(source)}`);
  }
} finally {
  await browser.close();
}
