// Browser tests of Gatehouse's developer console in headless Chromium (playwright-core):
//   1. create an integration of each type through the guided flow; reloading the page that shows
//      the new client secret shows it no more and creates nothing (POST-redirect-GET);
//   2. generate a key pair and download the private key exactly once; a reload does not offer it
//      again nor generate another;
//   3. rotate a client secret (add a new one — a reload does not show it again nor add another —
//      and revoke the old one);
//   4. subscribe to an allowed service; the ones the type cannot use are listed apart, without a button.
// Usage: node interop/browser/console.mjs <base_url>
//   env ADMIN_EMAIL   an account (password PASSWORD) that is an admin of the organization ORG_NAME
//       ORG_NAME      that organization's name
//       ARTIFACTS_DIR where screenshots go (default ./artifacts)
//       CHROMIUM      the browser (default /usr/bin/chromium)
// Prints one line per step and "N passed, N failed" at the end; exits non-zero on failure.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const base = (process.argv[2] || '').replace(/\/$/, '');
if (!base) {
  console.error('usage: node console.mjs <base_url>');
  process.exit(2);
}
const artifacts = process.env.ARTIFACTS_DIR || 'artifacts';
fs.mkdirSync(artifacts, { recursive: true });
const PASSWORD = 'violet tractor harbour 42';
const ADMIN = process.env.ADMIN_EMAIL || 'admin@acme.test';
const ORG = process.env.ORG_NAME || 'Acme';

async function expectText(page, text) {
  await page.getByText(text, { exact: false }).first().waitFor({ timeout: 10_000 });
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, name), fullPage: true });
}

async function signIn(page) {
  await page.goto(`${base}/signin`);
  await page.getByLabel('Email address').fill(ADMIN);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
}

// Creates an integration through the guided flow; returns its overview path.
async function createIntegration(page, type, fill) {
  await page.goto(`${base}/console/integrations/new`);
  await page.getByLabel(type, { exact: true }).check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await fill(page);
  await page.getByRole('button', { name: 'Create integration' }).click();
  await expectText(page, 'is ready');
  const overview = await page.getByRole('link', { name: 'Overview' }).last().getAttribute('href');
  return overview;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let passed = 0;
let failed = 0;
let serviceAccount = null;
async function step(name, fn) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  try {
    await signIn(page);
    await fn(page, context);
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e.message}`);
    await page.screenshot({ path: path.join(artifacts, `failed-${name.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => {});
  } finally {
    await context.close();
  }
}

await step('create an integration of each type', async (page) => {
  await page.goto(`${base}/console/integrations`);
  await expectText(page, 'You have no integrations yet');
  await shot(page, 'console-dashboard-empty.png');
  await page.getByRole('link', { name: 'Create your first integration' }).click();
  await expectText(page, 'what kind of application are you building?');
  await page.getByLabel('OAuth', { exact: true }).check();
  await shot(page, 'console-create-type.png');

  await createIntegration(page, 'OAuth', async (p) => {
    await p.getByLabel('Name').fill('Photo editor');
    await p.getByLabel('Web app (server-side, confidential)').check();
    // A pattern that would match any host is refused with a precise message, and nothing is created.
    await p.getByLabel('Default redirect URI').fill('https://photos.example.com/callback');
    await p.getByLabel(/Redirect URI patterns/).fill('https://.*');
    await p.getByRole('button', { name: 'Create integration' }).click();
    await expectText(p, 'There is a problem');
    await expectText(p, 'the host must be literal');
    await shot(p, 'console-create-form-error.png');
    await p.getByLabel(/Redirect URI patterns/).fill('https://photos\\.example\\.com/callback/.*');
    await shot(p, 'console-create-form.png');
  });
  if (!(await page.locator('#client-secret').textContent()).startsWith('ghs_')) throw new Error('no client secret shown');
  await shot(page, 'console-created.png');
  // A reload neither shows the secret again nor creates a second integration.
  await page.reload();
  await expectText(page, 'The client secret was shown once');
  if ((await page.locator('#client-secret').count()) !== 0) throw new Error('the secret was shown twice');
  await shot(page, 'console-created-reloaded.png');

  await createIntegration(page, 'API Key', async (p) => {
    await p.getByLabel('Name').fill('Stock widget');
  });
  if ((await page.locator('#client-secret').count()) !== 0) throw new Error('an API key must have no secret');

  serviceAccount = await createIntegration(page, 'Service Account', async (p) => {
    await p.getByLabel('Name').fill('Nightly export');
    await p.getByLabel('Owner').selectOption({ label: ORG });
  });
  await expectText(page, '@techacct.');

  await page.goto(`${base}/console/integrations`);
  for (const name of ['Photo editor', 'Stock widget', 'Nightly export']) await expectText(page, name);
  const editors = await page.getByRole('link', { name: 'Photo editor' }).count();
  if (editors !== 1) throw new Error(`${editors} "Photo editor" integrations after a reload, not 1`);
  await shot(page, 'console-dashboard.png');
});

await step('generate a key pair and download the private key once', async (page) => {
  if (!serviceAccount) throw new Error('no service account from the first step');
  await page.goto(`${base}${serviceAccount}/credentials`);
  await page.getByRole('button', { name: 'Generate key pair' }).click();
  await expectText(page, 'Download your private key now');
  const link = page.locator('#download-private-key');
  const href = await link.getAttribute('href');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const file = await download.path();
  const pem = fs.readFileSync(file, 'utf8');
  if (!pem.startsWith('-----BEGIN PRIVATE KEY-----')) throw new Error('the download is not a private key');
  await shot(page, 'console-credentials.png');
  // The second time, it is gone.
  const again = await page.request.get(`${base}${href}`);
  if (again.status() !== 410) throw new Error(`second download answered ${again.status()}, not 410`);
  // Reloading the page after the download offers nothing and generates no second key pair.
  await page.reload();
  await expectText(page, 'This private key is no longer available');
  if ((await page.locator('#download-private-key').count()) !== 0) throw new Error('the key is offered again');
  await page.goto(`${base}${serviceAccount}/credentials`);
  if ((await page.locator('table .fingerprint').count()) !== 1) throw new Error('expected one certificate');
});

await step('rotate a client secret', async (page) => {
  await page.goto(`${base}${serviceAccount}/credentials`);
  await page.getByRole('button', { name: 'Add a new secret' }).click();
  await expectText(page, 'New client secret');
  const fresh = (await page.locator('#client-secret').textContent()).trim();
  if (!fresh.startsWith('ghs_')) throw new Error('no new secret shown');
  const rows = await page.locator('tbody tr').count();
  await page.reload();
  await expectText(page, 'The new client secret was shown once');
  if ((await page.locator('#client-secret').count()) !== 0) throw new Error('the new secret was shown twice');
  if ((await page.locator('tbody tr').count()) !== rows) throw new Error('the reload added another secret');
  const oldHint = await page.locator('tbody tr').first().locator('code').first().textContent();
  await page.getByRole('button', { name: /Revoke the secret ending in/ }).first().click();
  await expectText(page, 'The client secret was revoked');
  await expectText(page, `…${fresh.slice(-4)}`);
  const revoked = await page.locator('tbody tr', { hasText: oldHint.replace('…', '') }).first().textContent();
  if (!revoked.includes('Revoked')) throw new Error('the old secret is not revoked');
  await shot(page, 'console-rotated.png');
});

await step('subscribe to an allowed service; services it cannot use are listed apart, without a button', async (page) => {
  await page.goto(`${base}${serviceAccount}/subscriptions`);
  await page.getByRole('button', { name: 'Subscribe to PDF Services' }).click();
  await expectText(page, 'Subscribed.');
  if (await page.getByRole('button', { name: 'Subscribe to Creative SDK' }).count() !== 0) {
    throw new Error('a service the type cannot use is offered as a button');
  }
  await page.getByText('Not available for Service Account integrations').click();
  await expectText(page, 'Creative SDK allows OAuth integrations only.');
  await shot(page, 'console-subscriptions.png');
});

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
