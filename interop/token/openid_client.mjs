// openid-client v6 against Gatehouse: discovery, the authorization-code flow with PKCE through
// the hosted sign-in in headless Chromium, ID-token validation (signature checked against the
// JWKS), userinfo, refresh with rotation (the old refresh token then refused), introspection and
// revocation, and client credentials refused (an OAuth web app acts for people; client credentials
// are OAuth Server-to-Server's). The test server is plain http on 127.0.0.1, so every request is allowed to be
// insecure (allowInsecureRequests).
// Usage: GH_INTEROP='{"base": ..., "client_id", "client_secret", "redirect_uri", "email",
//        "password", "alg"}' node openid_client.mjs
import * as client from 'openid-client';
import { assert, base, browserAuthorize, cfg, done, step } from './lib.mjs';

let config;
await step('discovery', async () => {
  config = await client.discovery(
    new URL(base),
    cfg.client_id,
    { client_secret: cfg.client_secret, id_token_signed_response_alg: cfg.alg || 'ES256' },
    client.ClientSecretBasic(cfg.client_secret),
    { execute: [client.allowInsecureRequests] },
  );
  const m = config.serverMetadata();
  assert(m.issuer === base, `issuer ${m.issuer}`);
  assert(m.code_challenge_methods_supported.includes('S256'), 'S256 advertised');
  // ID-token signatures are checked against the JWKS too, not only the TLS-protected channel.
  client.enableNonRepudiationChecks(config);
});

let tokens;
let subject;
await step('authorization code + PKCE through the hosted sign-in, ID token validated', async () => {
  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: cfg.redirect_uri,
    scope: 'openid email profile offline_access',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const { url: back, consentShown } = await browserAuthorize(url.href, {
    email: cfg.email,
    password: cfg.password,
    redirectPrefix: cfg.redirect_uri,
    screenshot: 'token-consent-oidc.png',
  });
  assert(consentShown, 'the consent screen was shown the first time');
  tokens = await client.authorizationCodeGrant(config, new URL(back), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  subject = claims.sub;
  assert(claims.email === cfg.email, JSON.stringify(claims));
  assert(claims.nonce === nonce && typeof claims.auth_time === 'number', JSON.stringify(claims));
  assert(tokens.refresh_token, 'a refresh token for offline_access');
});

let second;
await step('a second sign-in comes straight back: the consent is remembered', async () => {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: cfg.redirect_uri,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    prompt: 'login',
  });
  const { url: back, consentShown } = await browserAuthorize(url.href, {
    email: cfg.email,
    password: cfg.password,
    redirectPrefix: cfg.redirect_uri,
  });
  assert(!consentShown, 'no consent screen the second time');
  second = await client.authorizationCodeGrant(config, new URL(back), { pkceCodeVerifier: verifier, expectedState: state });
  assert(second.claims().sub === subject, 'the same person');
});

await step('userinfo', async () => {
  const info = await client.fetchUserInfo(config, tokens.access_token, subject);
  assert(info.email === cfg.email && info.email_verified === true, JSON.stringify(info));
});

let refreshed;
await step('refresh rotates the refresh token and the old one is refused', async () => {
  refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, 'rotated');
  assert(refreshed.claims().sub === subject, 'the same person');
  try {
    await client.refreshTokenGrant(config, tokens.refresh_token);
    throw new Error('the old refresh token was accepted again');
  } catch (e) {
    assert(e.error === 'invalid_grant', `${e.error}: ${e.message}`);
  }
});

await step('introspection and revocation', async () => {
  const again = await client.discovery(new URL(base), cfg.client_id, cfg.client_secret, undefined, {
    execute: [client.allowInsecureRequests],
  });
  // An OAuth web app gets people's tokens only.
  try {
    await client.clientCredentialsGrant(again, { scope: cfg.scope || 'pdf_read' });
    throw new Error('an OAuth web app got a client-credentials token');
  } catch (e) {
    assert(e.error === 'unauthorized_client', `${e.error}: ${e.message}`);
  }
  // Reusing the old refresh token revoked the first grant; the second sign-in's token lives on.
  const active = await client.tokenIntrospection(again, second.access_token);
  assert(active.active === true && active.client_id === cfg.client_id, JSON.stringify(active));
  const grantGone = await client.tokenIntrospection(again, refreshed.access_token);
  assert(grantGone.active === false, 'the refreshed access token died with its grant');
  await client.tokenRevocation(again, second.access_token);
  const inactive = await client.tokenIntrospection(again, second.access_token);
  assert(inactive.active === false, JSON.stringify(inactive));
});

done();
