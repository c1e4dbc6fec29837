// The first administrator's walk through Gatehouse in headless Chromium (playwright-core):
//   1. the setup link creates the administrator and signs them in;
//   2. the signed-in dashboard (empty: it offers the next step);
//   3. the operator area: find an account by email, disable it;
//   4. the audit log: filter by action, see the entry's before and after, export JSON lines and CSV;
//   5. the status page (development-mode mail, signing keys) and the outbox;
//   6. the audit log at 390 px wide: nothing wider than the screen.
// Any console error, uncaught page error, failed request or 5xx answer fails the run.
// Usage: node interop/browser/operator.mjs <base_url>
//   env SETUP_LINK    the one-time bootstrap link
//       MEMBER_EMAIL  an account that exists besides the administrator
//       ARTIFACTS_DIR where screenshots go (default ./artifacts)
//       CHROMIUM      the browser (default /usr/bin/chromium)
// Prints one line per step and "N passed, N failed" at the end; exits non-zero on failure.
import fs from 'node:fs';
import path from 'node:path';
import { completeSetup, launchWatched } from './harness.mjs';

const base = (process.argv[2] || '').replace(/\/$/, '');
const setupLink = process.env.SETUP_LINK;
const member = process.env.MEMBER_EMAIL || 'member@acme.test';
if (!base || !setupLink) {
  console.error('usage: SETUP_LINK=... node operator.mjs <base_url>');
  process.exit(2);
}
const artifacts = process.env.ARTIFACTS_DIR || 'artifacts';
fs.mkdirSync(artifacts, { recursive: true });
const ADMIN = 'ada@gatehouse.test';
const PASSWORD = 'violet tractor harbour 42';

const { browser, page, problems } = await launchWatched({ failStatus: 500, contextOptions: { acceptDownloads: true } });

async function expectText(text) {
  await page.getByText(text, { exact: false }).first().waitFor({ timeout: 10_000 });
}
async function shot(name) {
  await page.screenshot({ path: path.join(artifacts, name), fullPage: true });
}

// The elements that reach past a 390 px screen, for the failure message.
async function wider() {
  return page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > 391)
    .slice(0, 5)
    .map((e) => `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)} px)`)
    .join(', '));
}

let passed = 0;
let failed = 0;
async function step(name, fn) {
  try {
    const before = problems.length;
    await fn();
    if (problems.length > before) throw new Error(problems.slice(before).join('; '));
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e.message}`);
    await page.screenshot({ path: path.join(artifacts, `failed-${name.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => {});
  }
}

await step('the setup link creates the administrator and signs them in', async () => {
  await completeSetup(page, base, setupLink, { email: ADMIN, name: 'Ada', password: PASSWORD });
  await expectText('You are signed in');
  await shot('operator-setup-done.png');
});

await step('the dashboard offers the next step to an empty account', async () => {
  await page.getByRole('link', { name: 'Go to your dashboard' }).click();
  await page.waitForURL(`${base}/`);
  await expectText('Welcome, Ada');
  await expectText('Start here');
  await expectText('account.created');
  await shot('home-dashboard.png');
});

await step('the operator area finds an account and disables it', async () => {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Operator' }).click();
  await page.waitForURL(`${base}/operator/accounts`);
  await page.getByLabel('Email or name').fill(member.split('@')[0]);
  await page.getByRole('button', { name: 'Search' }).click();
  await expectText('1 account');
  await shot('operator-accounts.png');
  await page.getByRole('link', { name: member }).click();
  await expectText('Live sessions');
  await page.getByRole('button', { name: 'Disable account' }).click();
  await expectText('The account is disabled');
  await shot('operator-account.png');
});

await step('the audit log filters by action and shows before and after', async () => {
  await page.getByRole('link', { name: 'Audit log', exact: true }).click();
  await page.getByLabel('Action').fill('account');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/action=account/);
  await expectText('account.disabled');
  await expectText('Before');
  const other = await page.getByText('integration.created').count();
  if (other !== 0) throw new Error('the filter let other actions through');
  await shot('operator-audit.png');
});

await step('the audit log exports JSON lines and CSV with the filter', async () => {
  for (const [label, check] of [
    ['Export JSON lines', (text) => {
      const lines = text.trim().split('\n').map((l) => JSON.parse(l));
      if (!lines.length || !lines.every((l) => l.action.startsWith('account.'))) throw new Error(`JSON lines: ${text}`);
    }],
    ['Export CSV', (text) => {
      if (!text.startsWith('id,time,actor,action,target,org_id,ip,user_agent,details')) throw new Error(`CSV: ${text}`);
      if (!text.includes('account.disabled')) throw new Error(`CSV: ${text}`);
    }],
  ]) {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: label }).click(),
    ]);
    check(fs.readFileSync(await download.path(), 'utf8'));
  }
});

await step('the status page shows the mail transport and signing keys; the outbox is readable', async () => {
  await page.getByRole('link', { name: 'Status' }).click();
  await expectText('Development mode');
  await expectText('Token signing keys');
  await shot('operator-status.png');
  await page.getByRole('link', { name: 'Outbox' }).first().click();
  await expectText('writes every message');
  await shot('operator-outbox.png');
});

await step('the audit log fits a 390 px screen', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/operator/audit?action=account`);
  await expectText('account.disabled');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > 390) throw new Error(`the page is ${width} px wide: ${await wider()}`);
  await shot('operator-audit-390.png');
  await page.goto(`${base}/`);
  const home = await page.evaluate(() => document.documentElement.scrollWidth);
  if (home > 390) throw new Error(`the home page is ${home} px wide: ${await wider()}`);
  await shot('home-dashboard-390.png');
});

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
