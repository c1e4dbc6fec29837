// Adobe's Console API client, @adobe/aio-lib-console, unmodified, against Gatehouse (reached
// through ./console.mjs): creates a project and a Stage workspace, an OAuth Server-to-Server
// credential subscribed to a service, lists and rotates its client secrets, creates a Service
// Account (JWT) credential by uploading a certificate, and downloads the workspace file; then
// Adobe's IMS client, @adobe/aio-lib-ims, gets a token with the credential from that file.
//
// Input (environment): TOKEN (an access token with the gatehouse.console scope), CLIENT_ID (its
// client, sent as x-api-key), ORG, SERVICE (a service code), CERT_PEM (a certificate). Prints one
// JSON object; exits non-zero on the first failed expectation.
import { Readable } from 'node:stream'
import sdk from '@adobe/aio-lib-console'
import ims from '@adobe/aio-lib-ims'

const { TOKEN, CLIENT_ID, ORG, SERVICE, CERT_PEM } = process.env
const out = {}

function expect (cond, what) {
  if (!cond) {
    console.error(`expectation failed: ${what}; so far: ${JSON.stringify(out)}`)
    console.log(JSON.stringify(out))
    process.exit(1)
  }
}

async function step (name, fn) {
  try {
    return await fn()
  } catch (e) {
    console.error(`${name} failed: ${e.message} ${JSON.stringify(e.sdkDetails ?? {})}`)
    console.log(JSON.stringify(out))
    process.exit(1)
  }
}

const client = await sdk.init(TOKEN, CLIENT_ID, 'prod')

const orgs = (await step('getOrganizations', () => client.getOrganizations())).body
expect(orgs.some((o) => o.id === ORG && o.code === ORG && o.roles.includes('ADMIN')), `organization ${ORG} listed as ADMIN`)

const name = `Interop${Date.now()}`
const created = await step('createProject', () =>
  client.createProject(ORG, { name, title: 'Interop project', description: 'Made by aio-lib-console', type: 'default' }))
expect(created.body.projectId && created.body.workspaceId, 'createProject answers projectId and workspaceId')
const projectId = created.body.projectId
out.project_id = projectId

const stage = await step('createWorkspace', () => client.createWorkspace(ORG, projectId, { name: 'Stage', title: 'Stage' }))
const workspaceId = stage.body.workspaceId
expect(workspaceId, 'createWorkspace answers workspaceId')
out.workspace_id = workspaceId

const workspaces = (await step('getWorkspacesForProject', () => client.getWorkspacesForProject(ORG, projectId))).body
expect(workspaces.map((w) => w.name).join(',') === 'Production,Stage', 'Production then Stage')
const project = (await step('getProject', () => client.getProject(ORG, projectId))).body
expect(project.name === name && project.org_id === ORG, 'getProject')

const s2s = (await step('createOAuthServerToServerCredential', () =>
  client.createOAuthServerToServerCredential(ORG, projectId, workspaceId, 'Interop S2S', 'Server to server'))).body
expect(s2s.id && s2s.apiKey && s2s.orgId === ORG, 'the credential has id, apiKey and orgId')
out.credential_id = s2s.id
out.client_id = s2s.apiKey
out.first_secret = s2s.clientSecret

const services = (await step('getServicesForOrg', () => client.getServicesForOrg(ORG))).body
expect(services.some((s) => s.code === SERVICE), `service ${SERVICE} offered`)
const sub = (await step('subscribeCredentialToServices', () =>
  client.subscribeCredentialToServices(ORG, projectId, workspaceId, 'entp', s2s.id,
    [{ sdkCode: SERVICE, licenseConfigs: null, roles: null }]))).body
expect(JSON.stringify(sub) === JSON.stringify({ sdkList: [SERVICE] }), 'subscribe answers exactly {sdkList}')

const creds = (await step('getCredentials', () => client.getCredentials(ORG, projectId, workspaceId))).body
const listed = creds.find((c) => c.id_integration === s2s.id)
expect(listed && listed.flow_type === 'entp' && listed.integration_type === 'oauth_server_to_server', 'credential listed as oauth_server_to_server')

// Secrets: the library ships these operations in its bundled spec but no method; its own
// swagger client calls them with the library's request options.
const secretOps = client.sdk.apis.Organizations
const ids = { orgId: ORG, credentialId: s2s.id }
const listSecrets = async () => (await step('list secrets', () =>
  secretOps.get_console_organizations__orgId__credentials__credentialId__secrets(...client.__createRequestOptions(ids)))).body
const before = await listSecrets()
expect(before.client_id === s2s.apiKey && before.client_secrets.length === 1, 'one secret listed')
expect(before.client_secrets.every((s) => s.uuid && !('client_secret' in s)), 'secrets listed by uuid, never their value')
const added = (await step('add secret', () =>
  secretOps.post_console_organizations__orgId__credentials__credentialId__secrets(...client.__createRequestOptions(ids)))).body
expect(added.client_secret && added.uuid, 'a new secret with its value, once')
out.second_secret = added.client_secret
expect((await listSecrets()).client_secrets.length === 2, 'two secrets while rotating')
const old = before.client_secrets[0].uuid
await step('delete secret', () =>
  secretOps.delete_console_organizations__orgId__credentials__credentialId__secrets__secretId_(
    ...client.__createRequestOptions({ ...ids, secretId: old })))
const after = await listSecrets()
expect(after.client_secrets.length === 1 && after.client_secrets[0].uuid === added.uuid, 'the old secret is gone')

// A Service Account (JWT) credential, created by uploading its certificate.
const res = await step('createEnterpriseCredential', () =>
  client.createEnterpriseCredential(ORG, projectId, workspaceId, Readable.from([Buffer.from(CERT_PEM)]),
    'Interop JWT', 'With a certificate'))
const jwt = await res.json()
expect(jwt.id && jwt.apiKey && jwt.orgId === ORG, 'the JWT credential has id, apiKey and orgId')
out.jwt_id = jwt.id
const bindings = (await step('getBindingsForIntegration', () => client.getBindingsForIntegration(ORG, jwt.id))).body
expect(bindings.length === 1 && bindings[0].certificateFingerprint, 'its certificate is bound')
out.fingerprint = bindings[0].certificateFingerprint

const file = (await step('downloadWorkspaceJson', () => client.downloadWorkspaceJson(ORG, projectId, workspaceId))).body
expect(file.project.id === projectId && file.project.workspace.id === workspaceId, 'the file names the project and workspace')
expect(file.project.org.ims_org_id === ORG, 'the file names the organization')
const entry = file.project.workspace.details.credentials.find((c) => c.id === s2s.id)
expect(entry && entry.integration_type === 'oauth_server_to_server', 'the S2S credential is in the file')
expect(entry.oauth_server_to_server.client_id === s2s.apiKey, 'with its client ID')
expect(!JSON.stringify(file).includes(added.client_secret), 'and no secret')
expect(file.project.workspace.details.services.some((s) => s.code === SERVICE), 'the subscribed service is listed')
out.file = file

// Adobe's IMS client gets a token with the credential as its oauth_server_to_server context, built
// from the workspace file the way `aio app use` does, with the secret saved at rotation.
const block = entry.oauth_server_to_server
await step('context.set', () => ims.context.set('gatehouse_s2s', {
  client_id: block.client_id,
  client_secrets: [added.client_secret],
  technical_account_email: block.technical_account_email,
  technical_account_id: block.technical_account_id,
  scopes: block.scopes,
  ims_org_id: file.project.org.ims_org_id
}, true))
const imsToken = await step('getToken', () => ims.getToken('gatehouse_s2s'))
expect(typeof imsToken === 'string' && imsToken.split('.').length === 3, 'aio-lib-ims got a Server-to-Server token')
out.ims_token = imsToken
out.ok = true
console.log(JSON.stringify(out))
