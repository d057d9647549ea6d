// Opens decks built by tools/make_slides.py in headless Chromium, offline, and checks
// them. Usage: node check.mjs <deck-dir> [deck.slides.html ...]  (default: counter's)
// For each deck: every request it makes stays on this machine (file: or data:), reveal.js
// starts and counts the slides decks.json expects, and screenshots of three slides (the
// title, the first diagram, the first code cell) land in <deck-dir>/screens/.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [relative, ...names] = process.argv.slice(2);
const dir = resolve(relative);
const require = createRequire(join(dir, 'node_modules', 'noop.js'));
const puppeteer = require('puppeteer-core');
const decks = JSON.parse(readFileSync(join(dir, 'decks.json'), 'utf8'));
const config = JSON.parse(readFileSync(new URL('../mermaid/puppeteer.json', import.meta.url)));
mkdirSync(join(dir, 'screens'), { recursive: true });

const browser = await puppeteer.launch(config);
let failures = 0;
try {
  for (const name of names.length ? names : ['counter.slides.html']) {
    const expected = decks[name];
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 720 });
    const remote = [], problems = [];
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      const url = request.url();
      if (url.startsWith('file:') || url.startsWith('data:')) return request.continue();
      remote.push(url);  // a conference network is not to be trusted: none may leave
      return request.abort();
    });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const url = pathToFileURL(join(dir, name)).href;
    await page.goto(url, { waitUntil: 'load' });
    // reveal.js is loaded as an AMD module (no global); it marks its root "ready"
    await page.waitForSelector('.reveal.ready', { timeout: 30000 });
    const total = await page.evaluate(
      () => document.querySelectorAll('.slides section:not(:has(section))').length);
    const shots = [['title', 0], ['diagram', expected.diagram], ['code', expected.code]];
    for (const [label, index] of shots.filter(([, index]) => index !== null)) {
      await page.evaluate((h) => { location.hash = `#/${h}`; }, index);
      await page.waitForFunction((h) => document.querySelector('.slides > section.present')
        === document.querySelectorAll('.slides > section')[h], { timeout: 10000 }, index);
      await page.screenshot({ path: join(dir, 'screens', `${name.split('.')[0]}-${label}.png`) });
    }
    if (errors.length) problems.push(`errors in the page: ${errors.join(' | ')}`);
    if (total !== expected.slides) problems.push(`${total} slides, expected ${expected.slides}`);
    if (remote.length) problems.push(`requests left the machine: ${remote.join(' ')}`);
    console.log(`${name}: ${total} slides, ${remote.length} remote requests, `
      + `screenshots in ${join(dir, 'screens')}${problems.length ? ': ' + problems.join('; ') : ''}`);
    failures += problems.length ? 1 : 0;
    await page.close();
  }
} finally {
  await browser.close();
}
process.exit(failures ? 1 : 0);
