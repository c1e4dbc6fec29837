// The events benchmark's load generator (Node's standard library; targets 127.0.0.1 only).
//
//   node bench/events/load.mjs throughput  -> publishes EVENTS events in batches of BATCH over
//       CONCURRENCY connections as fast as they are accepted, then waits until the receiver has
//       every one; prints deliveries/s from the first publish to the last receipt.
//   node bench/events/load.mjs latency     -> publishes one event per request at a steady RATE
//       events/s for DURATION seconds (open loop: sends are scheduled, not waiting for answers),
//       then waits for every receipt; prints p50/p90/p99/max publish -> receipt in ms.
//
// Environment: GATEHOUSE_URL, TOKEN, CLIENT_ID, PROVIDER, CODE, RECEIVER_URL, and the knobs above;
// SERIES=1 also prints the latency run's p50/p99/max per second of publishing to stderr.
// Prints one JSON object.
import http from 'node:http'

const env = process.env
const mode = process.argv[2]
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(env.CONCURRENCY || 32) })
const now = () => performance.timeOrigin + performance.now()
const target = new URL(`${env.GATEHOUSE_URL}/api/v1/events/publish`)

function post (body) {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body))
    const req = http.request({
      agent,
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: 'POST',
      headers: {
        authorization: `Bearer ${env.TOKEN}`,
        'x-api-key': env.CLIENT_ID,
        'content-type': 'application/json',
        'content-length': data.length
      }
    }, res => {
      res.resume()
      res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`publish answered ${res.statusCode}`))))
    })
    req.on('error', reject)
    req.end(data)
  })
}

const event = (id) => ({
  specversion: '1.0',
  type: env.CODE,
  source: `urn:uuid:${env.PROVIDER}`,
  id,
  datacontenttype: 'application/json',
  data: { id, note: 'benchmark payload of a typical size: a few fields and a short string' }
})

async function receiverStats () {
  const res = await fetch(`${env.RECEIVER_URL}/stats`)
  return res.json()
}

async function waitForAll (n, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const s = await receiverStats()
    if (s.distinct >= n) return s
    if (Date.now() > deadline) throw new Error(`only ${s.distinct} of ${n} events arrived within ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

const run = `${Date.now()}`

if (mode === 'throughput') {
  const total = Number(env.EVENTS || 20000)
  const batch = Number(env.BATCH || 100)
  const concurrency = Number(env.CONCURRENCY || 8)
  await fetch(`${env.RECEIVER_URL}/reset`, { method: 'POST' })
  let next = 0
  const started = now()
  async function worker () {
    while (next < total) {
      const from = next
      next = Math.min(total, next + batch)
      const events = []
      for (let i = from; i < next; i++) events.push(event(`t-${run}-${i}`))
      await post(events.length === 1 ? events[0] : events)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const published = now()
  const s = await waitForAll(total, 600000)
  const seconds = (s.last_ms - started) / 1000
  console.log(JSON.stringify({
    mode,
    events: total,
    deliveries: s.deliveries,
    duplicates: s.deliveries - s.distinct,
    publish_per_s: Math.round(total / ((published - started) / 1000)),
    deliveries_per_s: Math.round(s.distinct / seconds),
    seconds: Number(seconds.toFixed(2))
  }))
} else if (mode === 'latency') {
  const rate = Number(env.RATE || 1000)
  const duration = Number(env.DURATION || 20)
  const total = rate * duration
  await fetch(`${env.RECEIVER_URL}/reset`, { method: 'POST' })
  const sent = new Map()
  const start = now() + 50
  const pending = []
  const acked = []
  let errors = 0
  let late = 0
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate
    const wait = due - now()
    if (wait > 1) await new Promise(resolve => setTimeout(resolve, wait))
    if (now() - due > 5) late++
    const id = `l-${run}-${i}`
    const at = now()
    sent.set(id, at)
    pending.push(post(event(id)).then(() => acked.push(now() - at), () => { errors++ }))
  }
  await Promise.all(pending)
  const publishedAt = now()
  await waitForAll(total - errors, 120000)
  const res = await fetch(`${env.RECEIVER_URL}/receipts?since=0`)
  const receipts = (await res.json()).map(([id, at]) => [sent.get(id) - start, at - sent.get(id)])
  const lat = receipts.map(([, l]) => l).sort((a, b) => a - b)
  const pick = (v, p) => v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))]
  if (env.SERIES) {
    // Per second of publishing: tells a backlog that builds (rising p50) from isolated stalls.
    const seconds = []
    for (const [sentAt, l] of receipts) (seconds[Math.floor(sentAt / 1000)] ??= []).push(l)
    for (const [s, v] of seconds.entries()) {
      if (!v) continue
      v.sort((a, b) => a - b)
      console.error(`second ${s}: p50 ${pick(v, 50).toFixed(1)} p99 ${pick(v, 99).toFixed(1)} max ${v[v.length - 1].toFixed(1)} ms`)
    }
  }
  const q = p => pick(lat, p)
  acked.sort((a, b) => a - b)
  console.log(JSON.stringify({
    mode,
    rate,
    duration_s: duration,
    events: lat.length,
    publish_errors: errors,
    sends_late_over_5ms: late,
    publish_seconds: Number(((publishedAt - start) / 1000).toFixed(2)),
    p50_ms: Number(q(50).toFixed(1)),
    p90_ms: Number(q(90).toFixed(1)),
    p99_ms: Number(q(99).toFixed(1)),
    max_ms: Number(lat[lat.length - 1].toFixed(1)),
    // How long the publish requests themselves took (publish start -> 202), to tell a slow
    // publish from a slow delivery.
    publish_p50_ms: Number(pick(acked, 50).toFixed(1)),
    publish_p99_ms: Number(pick(acked, 99).toFixed(1))
  }))
} else {
  console.error('usage: node bench/events/load.mjs throughput|latency')
  process.exit(2)
}
agent.destroy()
