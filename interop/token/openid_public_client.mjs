// openid-client v6 as a public client — an OAuth Single-Page App and an OAuth Native App, which
// have no client secret — running the authorization-code flow with PKCE through the hosted
// sign-in in headless Chromium, the token request authenticated by nothing but the PKCE verifier.
// Usage: GH_INTEROP='{"base": ..., "clients": [{"kind", "client_id"}], "redirect_uri", "email",
//        "password"}' node openid_public_client.mjs
import * as client from 'openid-client';
import { assert, base, browserAuthorize, cfg, done, step } from './lib.mjs';

for (const c of cfg.clients) {
  let config;
  await step(`${c.kind}: discovery as a public client`, async () => {
    config = await client.discovery(new URL(base), c.client_id, {}, client.None(), {
      execute: [client.allowInsecureRequests],
    });
  });
  await step(`${c.kind}: authorization code + PKCE, no secret`, async () => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: cfg.redirect_uri,
      scope: 'openid email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const { url: back } = await browserAuthorize(url.href, {
      email: cfg.email,
      password: cfg.password,
      redirectPrefix: cfg.redirect_uri,
    });
    const tokens = await client.authorizationCodeGrant(config, new URL(back), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    assert(tokens.access_token && tokens.claims().email === cfg.email, JSON.stringify(tokens));
  });
  await step(`${c.kind}: the code is not redeemed with another verifier`, async () => {
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: cfg.redirect_uri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state,
    });
    const { url: back } = await browserAuthorize(url.href, {
      email: cfg.email,
      password: cfg.password,
      redirectPrefix: cfg.redirect_uri,
    });
    let refused = false;
    try {
      await client.authorizationCodeGrant(config, new URL(back), {
        pkceCodeVerifier: client.randomPKCECodeVerifier(),
        expectedState: state,
      });
    } catch (e) {
      refused = e.error === 'invalid_grant';
    }
    assert(refused, 'a wrong PKCE verifier is refused with invalid_grant');
  });
}
done();
