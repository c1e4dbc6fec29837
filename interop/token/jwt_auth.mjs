// @adobe/jwt-auth against Gatehouse: exchange a service-account JWT at /ims/exchange/jwt/ (the
// library's `ims` option points it at the test server) and validate the token it returns at
// /ims/validate_token/v1; a wrong secret comes back as the library's typed error.
// Usage: GH_INTEROP='{"base": ..., "client_id": ..., "client_secret": ..., "org_id": ...,
//        "technical_account_id": ..., "private_key": "<PEM>", "metascope": ...}' node jwt_auth.mjs
import auth from '@adobe/jwt-auth';
import { assert, base, cfg, decode, done, step } from './lib.mjs';

const options = {
  clientId: cfg.client_id,
  clientSecret: cfg.client_secret,
  technicalAccountId: cfg.technical_account_id,
  orgId: cfg.org_id,
  privateKey: cfg.private_key,
  metaScopes: [cfg.metascope],
  ims: base,
};

let token;
await step('jwt-auth exchanges a service-account JWT', async () => {
  token = await auth(options);
  assert(token.token_type === 'bearer', JSON.stringify(token));
  assert(token.expires_in > 86_000_000, `expires_in in milliseconds: ${token.expires_in}`);
  const claims = decode(token.access_token);
  assert(claims.type === 'access_token' && claims.client_id === cfg.client_id, JSON.stringify(claims));
});

await step('the token validates at /ims/validate_token/v1', async () => {
  const form = new FormData();
  form.append('type', 'access_token');
  form.append('client_id', cfg.client_id);
  const res = await fetch(`${base}/ims/validate_token/v1`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token.access_token}` },
    body: form,
  });
  const body = await res.json();
  assert(res.status === 200 && body.valid === true, JSON.stringify(body));
  assert(body.token.user_id === cfg.technical_account_id, JSON.stringify(body.token));
});

await step('a wrong client secret is the typed invalid_client error', async () => {
  try {
    await auth({ ...options, clientSecret: 'ghs_wrong' });
    throw new Error('accepted a wrong secret');
  } catch (e) {
    assert(e.code === 'invalid_client', `code ${e.code}: ${e.message}`);
  }
});

done();
