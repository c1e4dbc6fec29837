// Browser test of Gatehouse's passkeys in headless Chromium (playwright-core), with a virtual
// authenticator from the Chrome DevTools Protocol (CTAP2, internal transport, resident keys, user
// verification) standing in for the device:
//   1. sign in with the password → add a passkey on the two-step verification page → sign out;
//   2. sign in with the passkey alone ("Sign in with a passkey", no email, no password);
//   3. sign in with the password, then the passkey as the second factor;
//   4. without JavaScript, the sign-in page still works and shows no passkey button.
// WebAuthn refuses IP addresses as relying party IDs: <base_url> must be http://localhost:<port>.
// Usage: node interop/browser/passkeys.mjs <base_url> <email> <password>
//   env ARTIFACTS_DIR where screenshots go (default ./artifacts)
//       CHROMIUM      the browser (default /usr/bin/chromium)
// Prints one line per step and "N passed, N failed" at the end; exits non-zero on failure.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const [baseArg, email, password] = process.argv.slice(2);
const base = (baseArg || '').replace(/\/$/, '');
if (!base || !email || !password) {
  console.error('usage: node passkeys.mjs <base_url> <email> <password>');
  process.exit(2);
}
const artifacts = process.env.ARTIFACTS_DIR || 'artifacts';
fs.mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
// One page for the whole story: the virtual authenticator (and the passkey on it) lives with it.
const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send('WebAuthn.enable');
const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
  options: {
    protocol: 'ctap2',
    transport: 'internal',
    hasResidentKey: true,
    hasUserVerification: true,
    isUserVerified: true,
    automaticPresenceSimulation: true,
  },
});

let passed = 0;
let failed = 0;
async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e.stack || e}`);
    await page.screenshot({ path: path.join(artifacts, `failed-${name.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => {});
  }
}

async function expectText(text) {
  await page.getByText(text, { exact: false }).first().waitFor({ timeout: 10_000 });
}

async function passwordStep() {
  await page.goto(`${base}/signin`);
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function signOut() {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/signin\?signed_out=1$/);
}

await step('sign in with the password, add a passkey, sign out', async () => {
  await passwordStep();
  await page.waitForURL(`${base}/`);
  await page.goto(`${base}/console/account/mfa`);
  await expectText('You have no passkeys yet.');
  await page.getByLabel('Name of the new passkey').fill('Test device');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.waitForURL(`${base}/console/account/mfa?done=passkey_added`);
  await expectText('The passkey has been added.');
  await expectText('Test device');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  if (credentials.length !== 1 || !credentials[0].isResidentCredential) {
    throw new Error(`expected one discoverable credential, got ${JSON.stringify(credentials)}`);
  }
  await page.screenshot({ path: path.join(artifacts, 'passkeys-mfa.png'), fullPage: true });
  await signOut();
});

await step('sign in with the passkey alone', async () => {
  await page.goto(`${base}/signin`);
  const button = page.getByRole('button', { name: 'Sign in with a passkey' });
  await button.waitFor({ state: 'visible', timeout: 10_000 });
  await page.screenshot({ path: path.join(artifacts, 'signin-passkey.png'), fullPage: true });
  await button.click();
  await page.waitForURL(`${base}/`);
  await expectText('Your account');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  if (credentials[0].signCount < 1) throw new Error('the authenticator was not used');
  await signOut();
});

await step('sign in with the password and the passkey as the second factor', async () => {
  await passwordStep();
  await page.waitForURL(`${base}/signin/mfa`);
  await page.screenshot({ path: path.join(artifacts, 'signin-mfa-passkey.png'), fullPage: true });
  await page.getByRole('button', { name: 'Use your passkey' }).click();
  await page.waitForURL(`${base}/`);
  await expectText('Your account');
  await signOut();
});

await step('without JavaScript the sign-in page works and hides the passkey button', async () => {
  const noJs = await browser.newContext({ javaScriptEnabled: false });
  const p = await noJs.newPage();
  try {
    await p.goto(`${base}/signin`);
    if (await p.getByRole('button', { name: 'Sign in with a passkey' }).isVisible()) {
      throw new Error('the passkey button shows without JavaScript');
    }
    await p.getByLabel('Email address').fill(email);
    await p.getByRole('button', { name: 'Continue' }).click();
    await p.getByLabel('Password', { exact: true }).waitFor({ timeout: 10_000 });
  } finally {
    await noJs.close();
  }
});

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
