// Verifies the Adobe-compatible digital signatures of delivered webhooks with Node's crypto, the
// way Adobe's verifier does (RSA-SHA256 of the raw body; valid if either signature verifies),
// fetching the public keys from Gatehouse at the paths the headers name.
//
// Input: GATEHOUSE_URL in the environment; on stdin a JSON array of deliveries
// [{"body_b64": …, "headers": {name: value}}]. Prints {"verified": n, "both": n}; exits 1 if any
// delivery has no valid signature.
import crypto from 'node:crypto'

const chunks = []
for await (const c of process.stdin) chunks.push(c)
const deliveries = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const keys = new Map()

async function key (path) {
  if (!/^\/events\/keys\/pub-key-[0-9a-f-]+\.pem$/.test(path)) throw new Error(`unexpected key path ${path}`)
  if (!keys.has(path)) {
    const res = await fetch(`${process.env.GATEHOUSE_URL}${path}`)
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`)
    keys.set(path, crypto.createPublicKey(await res.text()))
  }
  return keys.get(path)
}

let verified = 0
let both = 0
for (const d of deliveries) {
  const body = Buffer.from(d.body_b64, 'base64')
  const h = d.headers
  const ok1 = crypto.verify('RSA-SHA256', body, await key(h['x-adobe-public-key1-path']), Buffer.from(h['x-adobe-digital-signature-1'], 'base64'))
  const ok2 = crypto.verify('RSA-SHA256', body, await key(h['x-adobe-public-key2-path']), Buffer.from(h['x-adobe-digital-signature-2'], 'base64'))
  if (!(ok1 || ok2)) {
    console.error(`no valid signature on delivery ${h['webhook-id']}`)
    process.exit(1)
  }
  const tampered = Buffer.concat([body, Buffer.from(' ')])
  if (crypto.verify('RSA-SHA256', tampered, await key(h['x-adobe-public-key1-path']), Buffer.from(h['x-adobe-digital-signature-1'], 'base64'))) {
    console.error('a tampered body verified')
    process.exit(1)
  }
  verified++
  if (ok1 && ok2) both++
}
console.log(JSON.stringify({ verified, both }))
