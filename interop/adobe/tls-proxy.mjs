// tls-proxy.mjs — routes the traffic of Adobe's clients (aio-lib-console / aio-lib-ims /
// aio-lib-events) to a local plain-HTTP upstream (Gatehouse) without patching
// the libraries.
//
// Mechanism: an HTTP forward proxy. The Adobe libs fetch through
// @adobe/aio-lib-core-networking -> node-fetch + proxy-from-env, so setting
// HTTPS_PROXY=http://127.0.0.1:<port> in the *child* process makes them send
// `CONNECT developers.adobe.io:443`. We answer 200, terminate TLS with a leaf
// certificate signed by a throw-away CA (child gets NODE_EXTRA_CA_CERTS=ca.pem),
// and replay each decrypted request to the upstream over plain HTTP with the
// original Host header and path unchanged.
//
// Node's built-in fetch (undici) ignores HTTPS_PROXY on Node 20; only
// createEnterpriseCredential() uses it. The optional preload
// ./undici-env-proxy.mjs (NODE_OPTIONS=--import=...) fixes that. See README.md.
//
// Usage:
//   import { startAdobeProxy } from './tls-proxy.mjs'
//   const p = await startAdobeProxy({ upstream: 'http://127.0.0.1:8080' })
//   spawn('node', ['child.js'], { env: { ...process.env, ...p.env } })
//   ...; await p.close()

import http from 'node:http'
import https from 'node:https'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const DEFAULT_HOSTS = [
  'developers.adobe.io', // Console API (prod)
  'developers-stage.adobe.io', // Console API (stage)
  'developer.adobe.com', // Console BFF (getOrganizationFeatures, prod)
  'developer-stage.adobe.com', // Console BFF (stage)
  'ims-na1.adobelogin.com', // IMS (prod)
  'ims-na1-stg1.adobelogin.com', // IMS (stage)
  'api.adobe.io', // I/O Events (prod)
  'api-stage.adobe.io', // I/O Events (stage)
  'eventsingress.adobe.io', // I/O Events publish (prod)
  'eventsingress-stage.adobe.io' // I/O Events publish (stage)
]

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const UNDICI_PRELOAD = path.join(HERE, 'undici-env-proxy.mjs')

function log (msg) { process.stderr.write(`[adobe-proxy] ${msg}\n`) }

/**
 * Create a throw-away CA and one leaf certificate covering `hosts` (SANs),
 * using the openssl CLI. Returns paths + PEM contents.
 */
export function makeCerts (dir, hosts = DEFAULT_HOSTS) {
  fs.mkdirSync(dir, { recursive: true })
  const p = (f) => path.join(dir, f)
  const run = (args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  // CA (EC P-256: fast to generate)
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p('ca.key')])
  run(['req', '-x509', '-new', '-key', p('ca.key'), '-sha256', '-days', '7',
    '-subj', '/CN=Gatehouse throwaway test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', p('ca.pem')])
  // leaf
  run(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p('leaf.key')])
  run(['req', '-new', '-key', p('leaf.key'), '-subj', `/CN=${hosts[0]}`, '-out', p('leaf.csr')])
  fs.writeFileSync(p('leaf.ext'), [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${hosts.map(h => `DNS:${h}`).join(',')}`
  ].join('\n') + '\n')
  run(['x509', '-req', '-in', p('leaf.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'),
    '-CAcreateserial', '-sha256', '-days', '7', '-extfile', p('leaf.ext'), '-out', p('leaf.pem')])
  return {
    dir,
    caPath: p('ca.pem'),
    keyPath: p('leaf.key'),
    certPath: p('leaf.pem'),
    ca: fs.readFileSync(p('ca.pem')),
    key: fs.readFileSync(p('leaf.key')),
    cert: fs.readFileSync(p('leaf.pem'))
  }
}

function resolveUpstream (upstream, host) {
  if (typeof upstream === 'string') return upstream
  if (typeof upstream === 'function') return upstream(host)
  return upstream[host] || upstream.default
}

/**
 * Start the proxy.
 * @param {object} opts
 * @param {string|object|function} opts.upstream  'http://127.0.0.1:PORT', or
 *        { 'ims-na1.adobelogin.com': 'http://...', default: 'http://...' }, or (host) => url
 * @param {string[]} [opts.hosts]  hostnames to intercept (TLS-terminate); default DEFAULT_HOSTS
 * @param {number} [opts.port]  proxy listen port on 127.0.0.1 (default: ephemeral)
 * @param {string} [opts.certDir]  where to write ca.pem etc. (default: fresh tmp dir)
 * @param {boolean} [opts.quiet]  don't log to stderr
 * @returns {Promise<{port, proxyUrl, caPath, certDir, env, requests, close}>}
 *   env: merge into the child's environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY,
 *   NODE_EXTRA_CA_CERTS, plus the lowercase variants). requests: array of
 *   { method, host, path, status } for assertions.
 */
export async function startAdobeProxy (opts = {}) {
  const { upstream, hosts = DEFAULT_HOSTS, port = 0, quiet = false } = opts
  if (!upstream) throw new Error('startAdobeProxy: upstream is required')
  const ownCertDir = !opts.certDir
  const certDir = opts.certDir || fs.mkdtempSync(path.join(os.tmpdir(), 'adobe-proxy-'))
  const certs = makeCerts(certDir, hosts)
  const intercept = new Set(hosts.map(h => h.toLowerCase()))
  const requests = []
  const say = quiet ? () => {} : log

  // Forward one (decrypted or plain) request to the upstream, unchanged
  // except for the connection target.
  function forward (req, res, host, scheme) {
    const started = Date.now()
    const target = new URL(resolveUpstream(upstream, host))
    const headers = { ...req.headers }
    delete headers['proxy-connection']
    delete headers['proxy-authorization']
    headers['x-forwarded-proto'] = scheme
    const entry = { method: req.method, host, path: req.url, status: 0 }
    requests.push(entry)
    const up = http.request({
      host: target.hostname,
      port: target.port || 80,
      method: req.method,
      path: req.url, // path + query exactly as the client sent it
      headers // includes the original Host header
    }, (upRes) => {
      entry.status = upRes.statusCode
      say(`${req.method} ${scheme}://${host}${req.url} -> ${upRes.statusCode} (${Date.now() - started}ms)`)
      res.writeHead(upRes.statusCode, upRes.statusMessage, upRes.rawHeaders)
      upRes.pipe(res)
    })
    up.on('error', (err) => {
      entry.status = 502
      say(`${req.method} ${scheme}://${host}${req.url} -> 502 upstream error: ${err.message}`)
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' })
      res.end(`adobe-proxy: upstream error: ${err.message}`)
    })
    req.pipe(up)
  }

  // Inner HTTPS server: never listens; it is fed CONNECT-tunnelled sockets.
  const inner = https.createServer({ key: certs.key, cert: certs.cert, ALPNProtocols: ['http/1.1'] },
    (req, res) => {
      const host = (req.headers.host || req.socket.servername || '').replace(/:443$/, '')
      forward(req, res, host, 'https')
    })
  inner.on('tlsClientError', (err) => say(`TLS handshake failed: ${err.message}`))

  // Outer plain-HTTP proxy server.
  const outer = http.createServer((req, res) => {
    // Absolute-form request (plain http:// through the proxy).
    let u
    try { u = new URL(req.url) } catch { u = null }
    if (!u) { res.writeHead(400); return res.end('adobe-proxy: expected absolute-form URL') }
    req.url = u.pathname + u.search
    if (intercept.has(u.hostname.toLowerCase())) return forward(req, res, u.host, 'http')
    say(`${req.method} http://${u.host}${req.url} -> 403 (host not intercepted)`)
    res.writeHead(403, { 'content-type': 'text/plain' })
    res.end(`adobe-proxy: host ${u.hostname} not intercepted`)
  })
  const sockets = new Set()
  outer.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  outer.on('connect', (req, clientSocket, head) => {
    const [host, p = '443'] = req.url.split(':')
    if (!intercept.has(host.toLowerCase())) {
      say(`CONNECT ${req.url} -> 403 (host not intercepted)`)
      clientSocket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n')
      return
    }
    if (p !== '443') say(`CONNECT ${req.url}: non-443 port, terminating TLS anyway`)
    clientSocket.on('error', () => {})
    clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
    if (head && head.length) clientSocket.unshift(head)
    inner.emit('connection', clientSocket) // TLS handshake happens in `inner`
  })

  await new Promise((resolve, reject) => {
    outer.once('error', reject)
    outer.listen(port, '127.0.0.1', resolve)
  })
  const actualPort = outer.address().port
  const proxyUrl = `http://127.0.0.1:${actualPort}`
  say(`listening on ${proxyUrl}, CA ${certs.caPath}, upstream ${typeof upstream === 'string' ? upstream : '(map)'}`)

  const env = {
    HTTPS_PROXY: proxyUrl,
    https_proxy: proxyUrl,
    HTTP_PROXY: proxyUrl,
    http_proxy: proxyUrl,
    NO_PROXY: 'localhost,127.0.0.1,::1',
    no_proxy: 'localhost,127.0.0.1,::1',
    NODE_EXTRA_CA_CERTS: certs.caPath // must be present when the child *starts*
  }
  /** env plus the undici preload so Node's global fetch is proxied too. */
  const envWithFetchPreload = (base = process.env.NODE_OPTIONS || '') => ({
    ...env,
    NODE_OPTIONS: `${base} --import=${UNDICI_PRELOAD}`.trim()
  })

  return {
    port: actualPort,
    proxyUrl,
    caPath: certs.caPath,
    certDir,
    env,
    envWithFetchPreload,
    requests,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy()
      outer.close(() => {
        if (ownCertDir) fs.rmSync(certDir, { recursive: true, force: true })
        resolve()
      })
    })
  }
}
