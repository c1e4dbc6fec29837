// The benchmark's webhook receiver: answers challenges, answers every delivery 200 at once, and
// records when each event arrived (wall clock, sub-millisecond) so the load generator can compute
// publish -> receipt latency. Node's standard library only; 127.0.0.1 only.
//
//   RECEIVER_PORT=… node bench/events/receiver.mjs
//   GET /stats            -> {"deliveries": n, "distinct": n, "first_ms": t, "last_ms": t}
//   GET /receipts?since=k -> [[event_id, receipt_ms], …] from the k-th receipt on
//   POST /reset           -> forgets everything
import http from 'node:http'

const receipts = []
const seen = new Set()
let deliveries = 0

const now = () => performance.timeOrigin + performance.now()

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x')
  if (req.method === 'GET' && url.searchParams.has('challenge')) {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end(url.searchParams.get('challenge'))
    return
  }
  if (req.method === 'GET' && url.pathname === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({
      deliveries,
      distinct: seen.size,
      first_ms: receipts.length ? receipts[0][1] : null,
      last_ms: receipts.length ? receipts[receipts.length - 1][1] : null
    }))
    return
  }
  if (req.method === 'GET' && url.pathname === '/receipts') {
    const since = Number(url.searchParams.get('since') || 0)
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(receipts.slice(since)))
    return
  }
  if (req.method === 'POST' && url.pathname === '/reset') {
    receipts.length = 0
    seen.clear()
    deliveries = 0
    res.writeHead(204)
    res.end()
    return
  }
  const chunks = []
  req.on('data', c => chunks.push(c))
  req.on('end', () => {
    const at = now()
    res.writeHead(200)
    res.end()
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      for (const e of Array.isArray(body) ? body : [body]) {
        deliveries++
        if (!seen.has(e.id)) {
          seen.add(e.id)
          receipts.push([e.id, at])
        }
      }
    } catch {
      // Not an event: ignored.
    }
  })
})
server.keepAliveTimeout = 60000
server.listen(Number(process.env.RECEIVER_PORT), '127.0.0.1', () => {
  console.log(`receiver listening on ${server.address().port}`)
})
