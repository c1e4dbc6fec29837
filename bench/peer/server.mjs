// The benchmark peer: node `oidc-provider` (8.x, the line that supports Node.js 20), configured the way Gatehouse's token service works, so
// bench/run can drive both with the same load generator and the same request.
//
//   - client_credentials grant only, client_secret_basic authentication;
//   - access tokens are JWTs (RFC 9068) signed with ES256 (or RS256 with PEER_ALG=RS256), issued
//     for one resource server (resource indicators, `accessTokenFormat: 'jwt'`);
//   - the token endpoint is served at /oauth/token, the same path as Gatehouse.
//
// Configuration comes from the environment (bench/run sets it):
//   PEER_PORT           port to listen on, 127.0.0.1 only   (default 3000)
//   PEER_CLIENT_ID      the one client's ID                  (default bench-client)
//   PEER_CLIENT_SECRET  its secret                           (default bench-secret)
//   PEER_SCOPE          scopes the resource server grants    (default "read")
//   PEER_ALG            ES256 | RS256                        (default ES256)
//
// The signing key is generated at start-up; nothing secret is stored on disk.

import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PEER_PORT || 3000);
const clientId = process.env.PEER_CLIENT_ID || 'bench-client';
const clientSecret = process.env.PEER_CLIENT_SECRET || 'bench-secret';
const scope = process.env.PEER_SCOPE || 'read';
const alg = process.env.PEER_ALG || 'ES256';
const issuer = `http://127.0.0.1:${port}`;
const audience = 'https://api.bench.test';

function signingKey() {
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `bench-${alg.toLowerCase()}` };
}

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: alg,
      scope,
    },
  ],
  jwks: { keys: [signingKey()] },
  enabledJWA: { idTokenSigningAlgValues: [alg] },
  scopes: scope.split(' '),
  routes: { token: '/oauth/token', jwks: '/oauth/jwks' },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope,
        audience,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg } },
      }),
    },
  },
});

provider.on('server_error', (_ctx, err) => console.error('peer server_error:', err));

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider peer listening on ${issuer} (token endpoint ${issuer}/oauth/token, ${alg})`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
