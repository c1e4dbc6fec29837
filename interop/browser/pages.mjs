// The console pages as people use them, at 1280 px and at 390 px (a phone): each page is checked
// with axe-core (no serious or critical violation), must not scroll sideways (wide tables scroll
// inside their card), and is saved as a screenshot `<name>-<width>.png`. Any console error or
// failed request in the browser fails the run.
// Usage: node interop/browser/pages.mjs <base_url>
//   env ADMIN_EMAIL     an account (password PASSWORD) that manages the integrations below
//       PAGES           the pages to visit, "name=path" separated by spaces
//       SCREENSHOTS_DIR where screenshots go (default ./artifacts)
//       CHROMIUM        the browser (default /usr/bin/chromium)
// On the page named "credentials" it also presses "Generate access token" and checks the token shown.
// Prints one line per page and "N passed, N failed" at the end; exits non-zero on failure.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { checkA11y } from './axe.mjs';

const base = (process.argv[2] || '').replace(/\/$/, '');
if (!base) {
  console.error('usage: node pages.mjs <base_url>');
  process.exit(2);
}
const dir = process.env.SCREENSHOTS_DIR || 'artifacts';
fs.mkdirSync(dir, { recursive: true });
const PASSWORD = 'violet tractor harbour 42';
const ADMIN = process.env.ADMIN_EMAIL || 'admin@acme.test';
const pages = (process.env.PAGES || '').split(/\s+/).filter(Boolean).map((p) => {
  const i = p.indexOf('=');
  return { name: p.slice(0, i), path: p.slice(i + 1) };
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const problems = [];
page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
// A request the browser itself abandoned (net::ERR_ABORTED: the page moved on while a favicon was
// loading) is no failure of the server's; every answer the server gave is checked below.
page.on('requestfailed', (r) => {
  const why = r.failure()?.errorText;
  if (why !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${why}`);
});
page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });

await page.goto(`${base}/signin`);
await page.getByLabel('Email address').fill(ADMIN);
await page.getByRole('button', { name: 'Continue' }).click();
await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.waitForURL(`${base}/`);

let passed = 0;
let failed = 0;
async function check(name, width) {
  await page.setViewportSize({ width, height: width < 600 ? 844 : 900 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (wide > 1) {
    const culprits = await page.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
      .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 1))
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className ? '.' + String(e.className).replace(/ /g, '.') : ''}`));
    throw new Error(`the page is ${wide} px wider than the ${width} px window: ${culprits.join(', ')}`);
  }
  await checkA11y(page, `${name} at ${width} px`);
  await page.screenshot({ path: path.join(dir, `${name}-${width}.png`), fullPage: true });
}

for (const p of pages) {
  try {
    problems.length = 0;
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${base}${p.path}`);
      await check(p.name, width);
    }
    if (p.name === 'credentials') {
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(`${base}${p.path}`);
      await page.getByRole('button', { name: 'Generate access token' }).click();
      await page.getByText('Your test access token').waitFor({ timeout: 10_000 });
      const token = (await page.locator('#access-token').textContent()).trim();
      if (token.split('.').length !== 3) throw new Error(`not a JWT: ${token}`);
      for (const width of [1280, 390]) await check('credentials-token', width);
    }
    if (problems.length > 0) throw new Error(problems.join('\n  '));
    passed++;
    console.log(`ok - ${p.name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${p.name}: ${e.message}`);
    await page.screenshot({ path: path.join(dir, `failed-${p.name}.png`), fullPage: true }).catch(() => {});
  }
}
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
