// Shared by the token-service interop scripts: the test configuration handed over by the Rust
// test (GH_INTEROP, JSON), a step runner that prints "ok - name" / "not ok - name: error" and a
// final "N passed, N failed", and a headless-Chromium sign-in through Gatehouse's hosted pages.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

export const cfg = JSON.parse(process.env.GH_INTEROP || '{}');
export const base = (cfg.base || '').replace(/\/$/, '');
if (!base) {
  console.error('GH_INTEROP must name the server: {"base": "http://127.0.0.1:PORT", ...}');
  process.exit(2);
}

let passed = 0;
let failed = 0;
export async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e && e.stack ? e.stack : e}`);
  }
}

export function done() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

export function decode(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

/**
 * Opens `url` (an authorization request) in headless Chromium, signs in as `email` on the hosted
 * pages, approves the consent screen if it is shown, and returns the URL the browser was sent
 * back to (any URL starting with `redirectPrefix`, answered here without leaving the machine).
 * Returns `{ url, consentShown }`.
 */
export async function browserAuthorize(url, { email, password, redirectPrefix, screenshot }) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    let callback;
    let consentShown = false;
    await context.route((u) => u.href.startsWith(redirectPrefix), async (route) => {
      callback = route.request().url();
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'signed in' });
    });
    await page.goto(url);
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('input[name=password]').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const allow = page.getByRole('button', { name: 'Allow' });
    const deadline = Date.now() + 15_000;
    while (!callback && Date.now() < deadline) {
      if (await allow.isVisible().catch(() => false)) {
        consentShown = true;
        if (screenshot) {
          const dir = process.env.ARTIFACTS_DIR || 'artifacts';
          fs.mkdirSync(dir, { recursive: true });
          await page.screenshot({ path: path.join(dir, screenshot), fullPage: true });
        }
        await allow.click();
      }
      await page.waitForTimeout(100);
    }
    if (!callback) throw new Error(`the browser never came back to ${redirectPrefix}; it is at ${page.url()}`);
    return { url: callback, consentShown };
  } finally {
    await browser.close();
  }
}
