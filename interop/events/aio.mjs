// Drives Gatehouse with Adobe's own events client, @adobe/aio-lib-events, pointed at the test
// server: providers and event metadata, a journal registration and a webhook registration,
// publishing through the ingress, and reading the journal the way Adobe's e2e test does.
//
// Input (environment): GATEHOUSE_URL, ORG, PROJECT and WORKSPACE (where the credential lives, as the
// workspace file names them), CLIENT_ID, TOKEN,
// WEBHOOK_URL (a receiver that answers challenges). Prints one JSON object with what it saw;
// exits non-zero on the first failed expectation.
import sdk from '@adobe/aio-lib-events'

const { GATEHOUSE_URL, ORG, PROJECT, WORKSPACE: WS, CLIENT_ID, TOKEN, WEBHOOK_URL } = process.env
const out = {}

function expect (cond, what) {
  if (!cond) {
    console.error(`expectation failed: ${what}`)
    console.log(JSON.stringify(out))
    process.exit(1)
  }
}

const client = await sdk.init(ORG, CLIENT_ID, TOKEN, {
  eventsBaseURL: GATEHOUSE_URL,
  eventsIngressURL: `${GATEHOUSE_URL}/events/ingress`,
  retries: 0,
  timeout: 10000
})

const provider = await client.createProvider(ORG, PROJECT, WS, { label: 'Interop provider', organization_id: ORG })
expect(provider.id && provider.source === `urn:uuid:${provider.id}`, 'provider has id and source')
out.provider_id = provider.id

const code = `com.example.interop.${Date.now()}`
const meta = await client.createEventMetadataForProvider(ORG, PROJECT, WS, provider.id, {
  event_code: code, label: 'Interop event', description: 'Published by the interop test'
})
expect(meta.event_code === code, 'event metadata created')
out.event_code = code

const providers = await client.getAllProviders(ORG, { fetchEventMetadata: true })
const listed = providers._embedded.providers.find(p => p.id === provider.id)
expect(listed, 'getAllProviders lists the new provider')
expect(listed._embedded.eventmetadata.some(m => m.event_code === code), 'with its event metadata')
out.providers = providers._embedded.providers.map(p => p.id)

const one = await client.getProvider(provider.id, true)
expect(one.id === provider.id, 'getProvider')
const metas = await client.getAllEventMetadataForProvider(provider.id)
expect(metas._embedded.eventmetadata.length === 1, 'getAllEventMetadataForProvider')

const journalReg = await client.createRegistration(ORG, PROJECT, WS, {
  name: 'Interop journal',
  description: 'journal registration',
  client_id: CLIENT_ID,
  delivery_type: 'journal',
  events_of_interest: [{ event_code: code, provider_id: provider.id }]
})
expect(journalReg.webhook_status === 'verified', 'journal registration verified')
expect(journalReg.enabled === true, 'journal registration enabled')
const journalUrl = journalReg._links['rel:events'].href
expect(journalUrl.startsWith(GATEHOUSE_URL), 'rel:events points at Gatehouse')
out.journal_registration = journalReg.registration_id

const hook = await client.createRegistration(ORG, PROJECT, WS, {
  name: 'Interop webhook',
  client_id: CLIENT_ID,
  delivery_type: 'webhook',
  webhook_url: WEBHOOK_URL,
  events_of_interest: [{ event_code: code, provider_id: provider.id }]
})
expect(hook.webhook_status === 'verified', `webhook registration verified (got ${hook.webhook_status})`)
expect(typeof hook.webhook_secret === 'string' && hook.webhook_secret.startsWith('whsec_'), 'webhook_secret in create response')
out.webhook_registration = hook.registration_id
out.webhook_secret = hook.webhook_secret

let journal = await client.getEventsFromJournal(journalUrl, { latest: true })
expect(journal.link && journal.link.next, 'latest read has a next link')
expect(journal.retryAfter === 10000, `retry-after 10 s (got ${journal.retryAfter})`)

const eventId = `interop-${Date.now()}`
const published = await client.publishEvent({
  id: eventId,
  source: `urn:uuid:${provider.id}`,
  time: new Date().toISOString(),
  type: code,
  data: { hello: 'world' }
})
expect(published === 'OK', `publishEvent answers OK (got ${published})`)
out.event_id = eventId

let next = journal.link.next
for (let i = 0; i < 5 && journal.events === undefined; i++) {
  journal = await client.getEventsFromJournal(next, { latest: true })
  next = journal.link.next
}
expect(journal.events && journal.events.length === 1, 'the journal has the event')
expect(journal.events[0].event.id === eventId, 'with its id')
expect(journal.events[0].event.source === `urn:uuid:${provider.id}`, 'and source')
expect(journal.events[0].event.recipient_client_id === CLIENT_ID, 'and the recipient')
out.journal_position = journal.events[0].position

const fromStart = await client.getEventsFromJournal(journalUrl, { limit: 10 })
expect(fromStart.events.length === 1 && fromStart._page.count === 1, 'reading from the start')

const reg = await client.getRegistration(ORG, PROJECT, WS, journalReg.registration_id)
expect(reg.project_id === PROJECT && reg.workspace_id === WS, 'the registration names its project and workspace')
expect(reg.registration_id === journalReg.registration_id, 'getRegistration')
const all = await client.getAllRegistrationsForWorkspace(ORG, PROJECT, WS)
expect(all._embedded.registrations.length === 2, 'getAllRegistrationsForWorkspace')
const paged = await client.getAllRegistrationsForOrg(ORG, { page: 0, size: 1 })
expect(paged.page.totalElements === 2 && paged._embedded.registrations.length === 1, 'getAllRegistrationsForOrg pages')

await client.deleteRegistration(ORG, PROJECT, WS, journalReg.registration_id)
const left = await client.getAllRegistrationsForWorkspace(ORG, PROJECT, WS)
expect(left._embedded.registrations.length === 1, 'deleteRegistration')

out.ok = true
console.log(JSON.stringify(out))
