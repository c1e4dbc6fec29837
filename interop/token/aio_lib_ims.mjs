// @adobe/aio-lib-ims against Gatehouse (the instance's `endpoint` points at the test server, as
// compat §6.2 describes): client credentials, validateToken, getOrganizations, invalidateToken,
// and getAccessToken with a code from a real sign-in in headless Chromium (getSusiUrl), then
// with the refresh token.
// Usage: GH_INTEROP='{"base": ..., "sa": {"client_id", "client_secret", "org_id", "scope"},
//        "web": {"client_id", "client_secret", "redirect_uri"}, "email", "password"}' node aio_lib_ims.mjs
import { Ims } from '@adobe/aio-lib-ims';
import { assert, base, browserAuthorize, cfg, decode, done, step } from './lib.mjs';

const ims = new Ims('prod');
ims.endpoint = base;

let cc;
await step('getAccessTokenByClientCredentials', async () => {
  cc = await ims.getAccessTokenByClientCredentials(cfg.sa.client_id, cfg.sa.client_secret, cfg.sa.org_id, [cfg.sa.scope]);
  assert(cc.access_token && cc.access_token.token, JSON.stringify(cc));
  // The library computes the expiry from the created_at and expires_in claims (milliseconds).
  assert(cc.access_token.expiry > Date.now() + 3_600_000, `expiry ${cc.access_token.expiry}`);
});

await step('validateToken says valid', async () => {
  const v = await ims.validateToken(cc.access_token.token, cfg.sa.client_id);
  assert(v.valid === true, JSON.stringify(v));
});

await step('getOrganizations lists the service account\'s organization', async () => {
  const orgs = await ims.getOrganizations(cc.access_token.token);
  const ident = cfg.sa.org_id.split('@')[0];
  assert(Array.isArray(orgs) && orgs.some((o) => o.orgRef && o.orgRef.ident === ident), JSON.stringify(orgs));
});

await step('invalidateToken, after which validateToken says invalid', async () => {
  await ims.invalidateToken(cc.access_token.token, cfg.sa.client_id, cfg.sa.client_secret);
  const v = await ims.validateToken(cc.access_token.token, cfg.sa.client_id);
  assert(v.valid === false, JSON.stringify(v));
});

let user;
await step('getAccessToken with a code from a browser sign-in (getSusiUrl)', async () => {
  const url = ims.getSusiUrl(cfg.web.client_id, 'openid,AdobeID,offline_access,email', cfg.web.redirect_uri, 'aio-state');
  const { url: back } = await browserAuthorize(url, {
    email: cfg.email,
    password: cfg.password,
    redirectPrefix: cfg.web.redirect_uri,
    screenshot: 'token-consent-ims.png',
  });
  const params = new URL(back).searchParams;
  assert(params.get('state') === 'aio-state', back);
  const code = params.get('code');
  assert(decode(code).type === 'authorization_code', 'the code is JWT-shaped with a type');
  user = await ims.getAccessToken(code, cfg.web.client_id, cfg.web.client_secret, 'openid,AdobeID,offline_access,email');
  assert(user.access_token && user.refresh_token, JSON.stringify(user));
  assert(decode(user.access_token.token).user_id, 'a user token');
  const v = await ims.validateToken(user.access_token.token, cfg.web.client_id);
  assert(v.valid === true, JSON.stringify(v));
});

await step('getAccessToken with the refresh token rotates it', async () => {
  const again = await ims.getAccessToken(user.refresh_token.token, cfg.web.client_id, cfg.web.client_secret, 'openid,offline_access');
  assert(again.access_token && again.refresh_token, JSON.stringify(again));
  assert(again.refresh_token.token !== user.refresh_token.token, 'a new refresh token');
});

done();
