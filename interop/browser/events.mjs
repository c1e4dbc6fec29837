// Browser test of the console's Events tab in headless Chromium (playwright-core):
//   1. create a custom provider and an event type through the forms;
//   2. create a webhook registration against the test receiver (the challenge passes);
//   3. publish an event (the events API, with the integration's token) and see its attempt in the log;
//   4. press Resend and see the second attempt.
// Usage: node interop/browser/events.mjs <base_url>
//   env ADMIN_EMAIL    an account (password PASSWORD) that manages the integration
//       INTEGRATION_ID the integration whose Events tab is used
//       TOKEN          an access token of that integration (to publish)
//       RECEIVER_URL   the webhook URL (a receiver that echoes challenges)
//       ARTIFACTS_DIR  where screenshots go (default ./artifacts)
//       CHROMIUM       the browser (default /usr/bin/chromium)
// The caller runs the dispatcher while this runs. Prints one line per step and
// "N passed, N failed" at the end; exits non-zero on failure.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const base = (process.argv[2] || '').replace(/\/$/, '');
if (!base) {
  console.error('usage: node events.mjs <base_url>');
  process.exit(2);
}
const artifacts = process.env.ARTIFACTS_DIR || 'artifacts';
fs.mkdirSync(artifacts, { recursive: true });
const PASSWORD = 'violet tractor harbour 42';
const ADMIN = process.env.ADMIN_EMAIL || 'admin@acme.test';
const INTEGRATION = process.env.INTEGRATION_ID;
const TOKEN = process.env.TOKEN;
const RECEIVER = process.env.RECEIVER_URL;
const CODE = 'com.acme.invoice.paid';
const events = `${base}/console/integrations/${INTEGRATION}/events`;

async function expectText(page, text) {
  await page.getByText(text, { exact: false }).first().waitFor({ timeout: 10_000 });
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, name), fullPage: true });
}

// Reloads until `check` holds (the dispatcher runs in the background).
async function until(page, check, what) {
  for (let i = 0; i < 50; i++) {
    if (await check()) return;
    await page.waitForTimeout(200);
    await page.reload();
  }
  throw new Error(`timed out waiting for ${what}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
let passed = 0;
let failed = 0;
let broken = false;
async function step(name, fn) {
  if (broken) {
    failed++;
    console.log(`not ok - ${name}: skipped after an earlier failure`);
    return;
  }
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    broken = true;
    console.log(`not ok - ${name}: ${e.message}`);
    await shot(page, `failed-events-${name.replace(/\W+/g, '-')}.png`).catch(() => {});
  }
}

await step('sign in and create a provider with an event type', async () => {
  await page.goto(`${base}/signin`);
  await page.getByLabel('Email address').fill(ADMIN);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  await page.goto(events);
  await expectText(page, 'has no event registrations yet');
  await page.getByRole('link', { name: 'Providers and event types' }).click();
  await expectText(page, 'has no event providers yet');
  await page.locator('#plabel').fill('Invoices');
  await page.getByRole('button', { name: 'Create provider' }).click();
  await expectText(page, 'Provider created');
  await page.getByLabel('Event code').fill(CODE);
  await page.getByLabel('Label', { exact: true }).first().fill('Invoice paid');
  await page.getByLabel('Sample payload (optional JSON)').fill('{"amount": 42}');
  await page.getByRole('button', { name: 'Add event type' }).click();
  await expectText(page, 'Event type added');
});

await step('create a webhook registration; the challenge passes', async () => {
  await page.goto(events);
  await page.getByLabel('Name', { exact: true }).fill('Paid invoices');
  await page.getByLabel('Webhook — one signed POST per event').check();
  await page.getByLabel('Webhook URL').fill(RECEIVER);
  await page.getByLabel(/Invoice paid/).check();
  await page.getByRole('button', { name: 'Create registration' }).click();
  await expectText(page, 'The webhook answered the challenge');
  const secret = await page.locator('#webhook-secret').textContent();
  if (!secret.startsWith('whsec_')) throw new Error(`no secret shown: ${secret}`);
  await page.goto(events);
  await expectText(page, 'Paid invoices');
  await page.locator('#registrations').getByText('Active').waitFor();
  await shot(page, 'events-registrations.png');
});

await step('publish an event and see its attempt in the log', async () => {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const providers = await (await fetch(`${base}/api/v1/events/providers`, { headers: auth })).json();
  const provider = providers.data.find((p) => p.label === 'Invoices');
  const res = await fetch(`${base}/api/v1/events/publish`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({
      specversion: '1.0', type: CODE, source: `urn:uuid:${provider.id}`, id: 'evt-browser-1',
      datacontenttype: 'application/json', data: { amount: 42 },
    }),
  });
  if (res.status !== 202) throw new Error(`publish answered ${res.status}: ${await res.text()}`);
  await page.goto(events);
  await page.getByRole('link', { name: 'Paid invoices' }).click();
  await until(page, async () => (await page.locator('#attempts tbody tr').count()) === 1, 'the first attempt');
  await page.locator('#attempts').getByText('200').first().waitFor();
  await shot(page, 'events-attempts.png');
});

await step('press resend and see a second attempt', async () => {
  await page.locator('#attempts').getByRole('button', { name: /Resend event/ }).first().click();
  await expectText(page, 'The event is queued again');
  await until(page, async () => (await page.locator('#attempts tbody tr').count()) === 2, 'the resent attempt');
  await page.locator('#attempts').getByText('resend').first().waitFor();
  await shot(page, 'events-attempts-resent.png');
});

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
