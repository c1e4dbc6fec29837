// A newcomer's whole journey through Gatehouse in one headless Chromium session (playwright-core),
// each page checked with axe-core and saved as `journey-NN-<step>.png`:
//    1. the setup link creates the first administrator and signs them in;
//    2. the signed-in dashboard;
//    3. create an organization;
//    4. create one integration of each type (OAuth web app, OAuth Server-to-Server, Service
//       Account, API Key);
//    5. subscribe the Server-to-Server integration to a service;
//    6. get a token with the curl command its credentials page shows, run here with bash as shown;
//    7. register a webhook (a provider and an event type first) — the challenge passes;
//    8. send a test event and inspect its attempt: the request as sent and the answer;
//    9. the operator area finds the account;
//   10. the audit log holds an entry for every step above;
//   11. at 390 px the navigation collapses behind a Menu button and nothing scrolls sideways.
// Any console error, uncaught page error, failed request or answer of 400 or more fails the run.
// Usage: node interop/browser/journey.mjs <base_url>
//   env SETUP_LINK    the one-time bootstrap link of a server with no account yet
//       RECEIVER_URL  the webhook URL (a receiver that answers challenges); the caller delivers
//       SERVICE       a service Server-to-Server integrations may use (its name)
//       ARTIFACTS_DIR where screenshots go (default ./artifacts)
//       CHROMIUM      the browser (default /usr/bin/chromium)
// Prints one line per step and "N passed, N failed" at the end; exits non-zero on failure.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { checkA11y } from './axe.mjs';
import { completeSetup, launchWatched } from './harness.mjs';

const base = (process.argv[2] || '').replace(/\/$/, '');
const setupLink = process.env.SETUP_LINK;
const receiver = process.env.RECEIVER_URL;
const service = process.env.SERVICE || 'PDF Services';
if (!base || !setupLink || !receiver) {
  console.error('usage: SETUP_LINK=... RECEIVER_URL=... node journey.mjs <base_url>');
  process.exit(2);
}
const artifacts = process.env.ARTIFACTS_DIR || 'artifacts';
fs.mkdirSync(artifacts, { recursive: true });
const ADMIN = 'ada@gatehouse.test';
const PASSWORD = 'violet tractor harbour 42';
const ORG = 'Acme Labs';
const CODE = 'com.acme.invoice.paid';

const { browser, page, problems } = await launchWatched({ failStatus: 400 });

async function expectText(text) {
  await page.getByText(text, { exact: false }).first().waitFor({ timeout: 10_000 });
}

// Every page of the journey: axe finds no serious or critical violation; then a screenshot.
let shots = 0;
async function look(name) {
  await checkA11y(page, name);
  // The title is plain text, and the page script is loaded once (twice would undo every toggle).
  const title = await page.title();
  if (title.includes('<') || !title.endsWith('· Gatehouse')) throw new Error(`the page title is ${JSON.stringify(title)}`);
  const scripts = await page.locator('script[src="/static/console.js"]').count();
  if (scripts > 1) throw new Error(`console.js is loaded ${scripts} times`);
  shots++;
  await page.screenshot({ path: path.join(artifacts, `journey-${String(shots).padStart(2, '0')}-${name}.png`), fullPage: true });
}

// Reloads until `check` holds (the caller's dispatcher delivers in the background).
async function until(check, what) {
  for (let i = 0; i < 50; i++) {
    if (await check()) return;
    await page.waitForTimeout(200);
    await page.reload();
  }
  throw new Error(`timed out waiting for ${what}`);
}

let passed = 0;
let failed = 0;
let broken = false;
async function step(name, fn) {
  if (broken) {
    failed++;
    console.log(`not ok - ${name}: not tried after an earlier failure`);
    return;
  }
  try {
    const before = problems.length;
    await fn();
    if (problems.length > before) throw new Error(problems.slice(before).join('; '));
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    broken = true;
    console.log(`not ok - ${name}: ${e.message}`);
    await page.screenshot({ path: path.join(artifacts, `failed-journey-${name.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => {});
  }
}

await step('the setup link creates the administrator and signs them in', async () => {
  await page.goto(setupLink);
  await look('setup');
  await completeSetup(page, base, setupLink, { email: ADMIN, name: 'Ada', password: PASSWORD });
  await expectText('You are signed in');
  await look('setup-done');
});

await step('the signed-in dashboard offers the next step', async () => {
  await page.getByRole('link', { name: 'Go to your dashboard' }).click();
  await page.waitForURL(`${base}/`);
  await expectText('Welcome, Ada');
  await expectText('Start here');
  await look('dashboard');
});

await step('create an organization', async () => {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Organizations' }).click();
  await page.getByLabel('Name', { exact: true }).fill(ORG);
  await page.getByRole('button', { name: 'Create organization' }).click();
  await expectText(ORG);
  await look('organization');
});

// Creates an integration through the guided flow; returns its overview path and the client secret
// shown once (or null).
async function create(type, fill) {
  await page.goto(`${base}/console/integrations/new`);
  await page.getByLabel(type, { exact: true }).check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await fill();
  await page.getByRole('button', { name: 'Create integration' }).click();
  await expectText('is ready');
  const secret = (await page.locator('#client-secret').count()) ? (await page.locator('#client-secret').textContent()).trim() : null;
  const overview = await page.getByRole('link', { name: 'Overview' }).last().getAttribute('href');
  return { overview, secret };
}

let s2s = null;
await step('create one integration of each type', async () => {
  const web = await create('OAuth', async () => {
    await page.getByLabel('Name').fill('Photo editor');
    await page.getByLabel('Web app (server-side, confidential)').check();
    await page.getByLabel('Default redirect URI').fill('https://photos.example.com/callback');
    await look('create-oauth');
  });
  if (!web.secret?.startsWith('ghs_')) throw new Error('the OAuth web app got no client secret');
  await look('created-oauth');
  s2s = await create('OAuth Server-to-Server', async () => {
    await page.getByLabel('Name').fill('Billing backend');
    await page.getByLabel('Owner').selectOption({ label: ORG });
  });
  if (!s2s.secret?.startsWith('ghs_')) throw new Error('the Server-to-Server integration got no client secret');
  await look('created-server-to-server');
  await create('Service Account', async () => {
    await page.getByLabel('Name').fill('Nightly export');
    await page.getByLabel('Owner').selectOption({ label: ORG });
  });
  await expectText('@techacct.');
  const key = await create('API Key', async () => {
    await page.getByLabel('Name').fill('Stock widget');
  });
  if (key.secret) throw new Error('an API Key integration must have no secret');
  await page.goto(`${base}/console/integrations`);
  for (const name of ['Photo editor', 'Billing backend', 'Nightly export', 'Stock widget']) await expectText(name);
  await look('integrations');
});

await step(`subscribe the Server-to-Server integration to ${service}`, async () => {
  await page.goto(`${base}${s2s.overview}/subscriptions`);
  await page.getByRole('button', { name: `Subscribe to ${service}` }).click();
  await expectText('Subscribed.');
  await look('subscribed');
});

await step('get a token with the curl command the credentials page shows', async () => {
  await page.goto(`${base}${s2s.overview}/credentials`);
  const command = (await page.locator('#curl-client-credentials').textContent()).trim();
  if (!command.includes('$CLIENT_SECRET')) throw new Error(`the command does not take the secret from CLIENT_SECRET: ${command}`);
  const out = execFileSync('bash', ['-c', command], {
    env: { ...process.env, CLIENT_SECRET: s2s.secret },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const answer = JSON.parse(out);
  if (!answer.access_token || answer.token_type?.toLowerCase() !== 'bearer') throw new Error(`no token: ${out}`);
  if (!String(answer.scope || '').split(' ').some(Boolean)) throw new Error(`the token carries no scope of the subscription: ${out}`);
  await look('credentials');
});

let registration = null;
await step('register a webhook; the challenge passes', async () => {
  const events = `${base}${s2s.overview}/events`;
  await page.goto(events);
  await page.getByRole('link', { name: 'Providers and event types' }).click();
  await page.locator('#plabel').fill('Invoices');
  await page.getByRole('button', { name: 'Create provider' }).click();
  await expectText('Provider created');
  await page.getByLabel('Event code').fill(CODE);
  await page.getByLabel('Label', { exact: true }).first().fill('Invoice paid');
  await page.getByRole('button', { name: 'Add event type' }).click();
  await expectText('Event type added');
  await look('event-provider');
  await page.goto(events);
  await page.getByLabel('Name', { exact: true }).fill('Paid invoices');
  await page.getByLabel('Webhook — one signed POST per event').check();
  await page.getByLabel('Webhook URL').fill(receiver);
  await page.getByLabel(/Invoice paid/).check();
  await page.getByRole('button', { name: 'Create registration' }).click();
  await expectText('The webhook answered the challenge');
  await look('registration-created');
  await page.goto(events);
  await page.getByRole('link', { name: 'Paid invoices' }).click();
  registration = page.url();
});

await step('send a test event and inspect its attempt', async () => {
  await page.locator('#send-test-event').click();
  await until(async () => (await page.locator('#attempts .attempt-link').count()) >= 1, 'the test event\'s attempt');
  await look('registration');
  await page.locator('#attempts .attempt-link').first().click();
  await expectText('200');
  await expectText('webhook-signature');
  await expectText(CODE);
  await look('attempt');
});

await step('the operator area finds the account', async () => {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Operator' }).click();
  await page.getByLabel('Email or name').fill('ada');
  await page.getByRole('button', { name: 'Search' }).click();
  await expectText('1 account');
  await page.getByRole('link', { name: ADMIN }).click();
  await expectText('Live sessions');
  await look('operator-account');
});

await step('the audit log holds an entry for every step', async () => {
  for (const [action, at_least] of [
    ['account.created', 1],
    ['org.created', 1],
    ['integration.created', 4],
    ['subscription.created', 1],
    ['event_provider.created', 1],
    ['event_type.created', 1],
    ['event_registration.created', 1],
    ['event_registration.test_sent', 1],
  ]) {
    await page.goto(`${base}/operator/audit?action=${encodeURIComponent(action)}&actor=${encodeURIComponent(ADMIN)}`);
    const n = await page.getByText(action, { exact: true }).count();
    if (n < at_least) throw new Error(`${n} audit entries ${action} by ${ADMIN}, expected at least ${at_least}`);
  }
  await page.goto(`${base}/operator/audit?actor=${encodeURIComponent(ADMIN)}`);
  await expectText('event_registration.test_sent');
  await look('audit');
});

await step('at 390 px the navigation collapses behind a Menu button', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(registration);
  const nav = page.getByRole('navigation', { name: 'Console' });
  const menu = nav.getByRole('button', { name: 'Menu' });
  await menu.waitFor({ state: 'visible' });
  if (await nav.getByRole('link', { name: 'Projects' }).isVisible()) throw new Error('the links show before the menu opens');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > 390) throw new Error(`the page is ${width} px wide`);
  await look('menu-closed-390');
  await menu.click();
  if ((await menu.getAttribute('aria-expanded')) !== 'true') throw new Error('the button does not say it is expanded');
  await nav.getByRole('link', { name: 'Projects' }).waitFor({ state: 'visible' });
  await look('menu-open-390');
  await nav.getByRole('link', { name: 'Integrations' }).click();
  await expectText('Billing backend');
  await page.setViewportSize({ width: 1280, height: 900 });
  if (!(await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Projects' }).isVisible())) {
    throw new Error('the links are hidden on a wide screen');
  }
  if (await page.getByRole('button', { name: 'Menu' }).isVisible()) throw new Error('the Menu button shows on a wide screen');
});

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
