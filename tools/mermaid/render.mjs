// Renders Mermaid sources to SVG and PNG in Debian's Chromium.
// Usage: node render.mjs [--changed] <out-dir> <diagram.mmd>...
//   --changed  skip a diagram whose outputs in <out-dir> already carry its source's hash
//
// One browser and one page with Mermaid loaded once: a diagram then costs a render and a
// screenshot (about 0.3 s), not a browser start and two page loads. (A second page
// rendering at the same time is a background tab, where Chromium can stall Mermaid.) Each output records the
// SHA-256 of its source (an SVG comment, a PNG tEXt chunk), so `make check` can tell a
// diagram that was edited but not re-rendered.
//
// A note whose text is wider than its box (Mermaid sizes a note that spans two
// participants by their distance, not by its text) fails the render.
//
// Diagrams render at their natural size (no scaling to a maximum width) and the PNG at
// twice that, so shown at half its pixel width (as tools/generate.py embeds it) every
// diagram's text has the same size.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import zlib from 'node:zlib';

// One font, installed (Debian's fonts-liberation) and named alone: Mermaid sizes each box
// by measuring its text, and with its default list of fonts (none of them installed) it
// measures in one font and draws in another, so text spills out of its note.
const CONFIG = {
  startOnLoad: false,
  theme: 'default',
  fontFamily: 'Liberation Sans',
  sequence: { mirrorActors: false, useMaxWidth: false },
};

const require = createRequire(join(process.env.MERMAID_DIR, 'node_modules', 'noop.js'));
const puppeteer = require('puppeteer-core');
const mermaidJs = require.resolve('mermaid/dist/mermaid.min.js');

const args = process.argv.slice(2);
const changedOnly = args[0] === '--changed';
const [outDir, ...sources] = changedOnly ? args.slice(1) : args;
mkdirSync(outDir, { recursive: true });

function sha256(text) {
  return createHash('sha256').update(text).digest('hex');
}

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

function isCurrent(stem, hash) {
  return existsSync(`${stem}.svg`) && existsSync(`${stem}.png`)
    && readFileSync(`${stem}.svg`, 'utf8').includes(`source-sha256: ${hash}`)
    && readFileSync(`${stem}.png`).includes(`source-sha256\0${hash}`, 0, 'latin1');
}

async function newPage(browser) {
  const page = await browser.newPage();
  await page.setViewport({ width: 2400, height: 1200, deviceScaleFactor: 2 });
  await page.setContent('<!doctype html><body style="margin:0;background:white">'
    + '<div id="container"></div></body>');
  await page.addScriptTag({ path: mermaidJs });
  await page.evaluate((config) => globalThis.mermaid.initialize(config), CONFIG);
  return page;
}

async function render(page, source, n) {
  const text = readFileSync(source, 'utf8');
  const hash = sha256(text);
  const stem = join(outDir, basename(source, '.mmd'));
  if (changedOnly && isCurrent(stem, hash)) return false;
  const svg = await page.evaluate(async (definition, id) => {
    const container = document.getElementById('container');
    const { svg } = await globalThis.mermaid.render(id, definition);
    container.innerHTML = svg;
    return new XMLSerializer().serializeToString(container.firstElementChild);
  }, text, `diagram-${n}`);
  const spilling = await page.evaluate(() => [...document.querySelectorAll('#container .noteText')]
    .filter((text) => text.getBBox().width > text.parentNode.querySelector('rect').getBBox().width)
    .map((text) => text.textContent));
  if (spilling.length) throw new Error(`note text wider than its box: ${spilling.join(' | ')}`);
  writeFileSync(`${stem}.svg`, `${svg}\n<!-- source-sha256: ${hash} -->\n`);
  const png = await (await page.$('#container > svg')).screenshot({ type: 'png' });
  writeFileSync(`${stem}.png`, pngWithText(Buffer.from(png), 'source-sha256', hash));
  return true;
}

const browser = await puppeteer.launch(
  JSON.parse(readFileSync(new URL('./puppeteer.json', import.meta.url))));
let failed = 0;
try {
  const page = await newPage(browser);
  for (const [n, source] of sources.entries()) {
    try {
      if (await render(page, source, n)) console.log(`rendered ${basename(source)}`);
    } catch (e) {
      failed++;
      console.error(`${source}: ${e.message ?? e}`);
    }
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
