// undici-env-proxy.mjs — preload (node --import=<this file>, or via NODE_OPTIONS).
//
// Node 20's built-in fetch (bundled undici) ignores HTTPS_PROXY/NO_PROXY.
// @adobe/aio-lib-console's createEnterpriseCredential() uses that global fetch
// (helpers.createCredentialDirect), so without this preload it would try to
// reach the real developers.adobe.io. Everything else in aio-lib-console /
// aio-lib-ims / aio-lib-events goes through node-fetch + proxy-from-env and
// does NOT need this file.
//
// npm's undici@6 writes the same global symbol
// (Symbol.for('undici.globalDispatcher.1')) that Node's bundled undici reads.
import { setGlobalDispatcher, EnvHttpProxyAgent } from 'undici'

if (process.env.HTTPS_PROXY || process.env.https_proxy || process.env.HTTP_PROXY || process.env.http_proxy) {
  // silence the one-off "EnvHttpProxyAgent is experimental" warning only
  const emit = process.emitWarning
  process.emitWarning = (w, ...rest) => (String(w).includes('EnvHttpProxyAgent') ? undefined : emit.call(process, w, ...rest))
  try { setGlobalDispatcher(new EnvHttpProxyAgent()) } finally { process.emitWarning = emit }
}
