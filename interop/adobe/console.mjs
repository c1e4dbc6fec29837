// Routes Adobe's Console API client to Gatehouse and runs ./console_client.mjs with it.
//
// @adobe/aio-lib-console calls https://developers.adobe.io, fixed. This starts the forward proxy of
// ./tls-proxy.mjs (a throw-away CA, TLS terminated for Adobe's hosts, requests replayed to
// GATEHOUSE_URL unchanged) and runs the client in a child process whose environment alone points
// it there (HTTPS_PROXY, NODE_EXTRA_CA_CERTS, and the global-fetch preload for the one call that
// uses Node's fetch). The library itself is not patched.
//
// Input (environment): GATEHOUSE_URL plus what console_client.mjs reads. Prints the client's JSON
// and the requests the proxy saw; exits with the client's status.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startAdobeProxy } from './tls-proxy.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const proxy = await startAdobeProxy({ upstream: process.env.GATEHOUSE_URL, quiet: true })
// aio-lib-ims keeps its context in the working directory's .aio file: a throw-away one.
const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-aio-'))
const child = spawn(process.execPath, [path.join(HERE, 'console_client.mjs')], {
  cwd,
  env: { ...process.env, ...proxy.envWithFetchPreload() },
  stdio: ['ignore', 'pipe', 'inherit']
})
let out = ''
child.stdout.on('data', (d) => { out += d })
const code = await new Promise((resolve) => child.on('close', resolve))
await proxy.close()
fs.rmSync(cwd, { recursive: true, force: true })
let seen
try { seen = JSON.parse(out) } catch { seen = { raw: out } }
seen.requests = proxy.requests.map((r) => `${r.method} ${r.host}${r.path} ${r.status}`)
console.log(JSON.stringify(seen))
process.exit(code ?? 1)
