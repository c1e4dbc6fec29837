// Browser tests of Gatehouse's hosted identity pages in headless Chromium (playwright-core):
//   1. sign up → confirm the email from the outbox → sign in → set up TOTP → sign out → sign in with TOTP;
//   2. an org admin invites a member, who accepts (creating an account) and signs in;
//   3. a form posted without its CSRF token is refused.
// Usage: node interop/browser/identity.mjs <base_url>
//   env OUTBOX_DIR    the server's <data_dir>/outbox (where mail is kept without SMTP)
//       ARTIFACTS_DIR where screenshots go (default ./artifacts)
//       CHROMIUM      the browser (default /usr/bin/chromium)
// Prints one line per step and "N passed, N failed" at the end; exits non-zero on failure.
import { chromium } from 'playwright-core';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const base = (process.argv[2] || '').replace(/\/$/, '');
if (!base) {
  console.error('usage: node identity.mjs <base_url>');
  process.exit(2);
}
const outbox = process.env.OUTBOX_DIR;
const artifacts = process.env.ARTIFACTS_DIR || 'artifacts';
fs.mkdirSync(artifacts, { recursive: true });
const PASSWORD = 'violet tractor harbour 42';

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) for the step containing `seconds`.
function totp(secret, seconds) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const h = crypto.createHmac('sha1', base32(secret)).update(counter).digest();
  const o = h[19] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

// Mail leaves in the background after the page answers: look for up to 10 s.
async function latestLink(to, marker) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const files = fs.existsSync(outbox) ? fs.readdirSync(outbox).sort().reverse() : [];
    for (const f of files) {
      const text = fs.readFileSync(path.join(outbox, f), 'utf8');
      if (!text.includes(`To: ${to}`)) continue;
      const m = text.split(/\s+/).find((w) => w.startsWith(base) && w.includes(marker));
      if (m) return m;
    }
    if (Date.now() > deadline) throw new Error(`no ${marker} link to ${to} in ${outbox}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function expectText(page, text) {
  await page.getByText(text, { exact: false }).first().waitFor({ timeout: 10_000 });
}

async function signIn(page, email) {
  await page.goto(`${base}/signin`);
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let passed = 0;
let failed = 0;
async function step(name, fn) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  try {
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

await step('sign up, confirm, sign in, set up TOTP, sign in with TOTP', async (page) => {
  const email = 'ada@example.com';
  await page.goto(`${base}/signup`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Your name').fill('Ada Lovelace');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat the password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expectText(page, 'Check the outbox');

  await page.goto(await latestLink(email, '/verify-email/'));
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await expectText(page, 'Email address confirmed');

  await page.goto(`${base}/signin`);
  await page.screenshot({ path: path.join(artifacts, 'signin.png'), fullPage: true });
  await signIn(page, email);
  await page.waitForURL(`${base}/`);

  await page.goto(`${base}/console/account/mfa/totp`);
  const secret = (await page.locator('#totp-secret').textContent()).trim();
  const now = Date.now() / 1000;
  await page.getByLabel('6-digit code').fill(totp(secret, now));
  await page.getByRole('button', { name: 'Turn on two-step verification' }).click();
  await expectText(page, 'Save your recovery codes');
  if ((await page.locator('#recovery-codes li').count()) !== 10) throw new Error('expected ten recovery codes');
  await page.screenshot({ path: path.join(artifacts, 'recovery-codes.png'), fullPage: true });

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expectText(page, 'You have signed out');

  await signIn(page, email);
  await page.waitForURL(`${base}/signin/mfa`);
  // The set-up code is spent; the next step's code is within the accepted skew.
  await page.getByLabel('Verification code').fill(totp(secret, now + 30));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.waitForURL(`${base}/`);
  await expectText(page, 'Your account');
});

await step('org admin invites a member who accepts and signs in', async (page, context) => {
  const admin = 'admin@example.com';
  await page.goto(`${base}/signup`);
  await page.getByLabel('Email address').fill(admin);
  await page.getByLabel('Your name').fill('Grace Admin');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat the password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.goto(await latestLink(admin, '/verify-email/'));
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await signIn(page, admin);
  await page.waitForURL(`${base}/`);

  await page.getByRole('link', { name: 'Organizations' }).click();
  await page.getByLabel('Name').fill('Acme Corp');
  await page.getByRole('button', { name: 'Create organization' }).click();
  await expectText(page, 'The organization has been created');
  await page.getByLabel('Email address').fill('member@example.com');
  await page.getByLabel('Role', { exact: true }).selectOption('developer');
  await page.getByRole('button', { name: 'Send invitation' }).click();
  await expectText(page, 'The invitation was not sent by email');
  await page.screenshot({ path: path.join(artifacts, 'org.png'), fullPage: true });

  const member = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const p2 = await member.newPage();
  try {
    await p2.goto(await latestLink('member@example.com', '/invitations/'));
    await expectText(p2, 'Join Acme Corp');
    await p2.getByLabel('Your name').fill('Mo Member');
    await p2.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await p2.getByLabel('Repeat the password').fill(PASSWORD);
    await p2.getByRole('button', { name: 'Create account and join' }).click();
    await expectText(p2, 'Acme Corp');
    await expectText(p2, 'Mo Member');
    await p2.getByRole('button', { name: 'Sign out' }).click();
    await signIn(p2, 'member@example.com');
    await p2.waitForURL(`${base}/`);
    await p2.getByRole('link', { name: 'Organizations' }).click();
    await p2.getByRole('link', { name: 'Acme Corp' }).click();
    await expectText(p2, 'your role');
  } finally {
    await member.close();
  }
  void context;
});

await step('a form posted without its CSRF token is refused', async (page) => {
  await signIn(page, 'admin@example.com');
  await page.waitForURL(`${base}/`);
  await page.goto(`${base}/console/orgs`);
  await page.getByLabel('Name').fill('Forged Org');
  await page.evaluate(() => document.querySelectorAll('input[name=csrf_token]').forEach((e) => e.remove()));
  await page.getByRole('button', { name: 'Create organization' }).click();
  await expectText(page, 'This form has expired or was not sent from this site');
  await page.goto(`${base}/console/orgs`);
  if ((await page.getByText('Forged Org').count()) !== 0) throw new Error('the forged organization was created');
});

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
