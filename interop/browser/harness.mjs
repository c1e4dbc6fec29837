// What the browser tests share: a headless Chromium page that records every problem the browser
// sees, and the first administrator's setup.
//   import { launchWatched, completeSetup } from './harness.mjs';
import { chromium } from 'playwright-core';

/** Launches Chromium (CHROMIUM, default /usr/bin/chromium) with one page whose console errors,
 *  uncaught errors, failed requests and answers of `failStatus` or more are pushed to `problems`.
 *  A request the browser itself abandoned (net::ERR_ABORTED: the page moved on while a favicon was
 *  loading) is no failure of the server's; every answer the server gave is checked. */
export async function launchWatched({ failStatus = 400, contextOptions = {} } = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...contextOptions });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText;
    if (why !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${why}`);
  });
  page.on('response', (r) => { if (r.status() >= failStatus) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  return { browser, context, page, problems };
}

/** Creates the first administrator through the one-time setup link; leaves the page signed in on
 *  /setup/complete. */
export async function completeSetup(page, base, link, { email, name, password }) {
  await page.goto(link);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Display name').fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Repeat the password').fill(password);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await page.waitForURL(`${base}/setup/complete`);
}
