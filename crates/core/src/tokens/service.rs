//! The token service's shared machinery, used by the standard (`/oauth`) and the Adobe-compatible
//! (`/ims`) surfaces alike: the signing-key ring (generated, rotated and stored sealed with the
//! master key), the in-memory cache of integrations by client ID (with secrets, parsed
//! certificates and subscriptions), client authentication and token issuance.
//!
//! The caches make a warm token request touch the database only where a grant needs it (replay
//! records). The client cache is cleared whenever the catalog generation changes (any audited
//! write, on any node); the key ring is re-read when the rotation plan says something changes,
//! and at least every [`KEY_RING_MAX_AGE`] seconds to see keys other nodes created.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use gatehouse_domain::{
    Timestamp,
    crypto::MasterKey,
    ids::ClientId,
    integration::{Integration, StoredSecret},
    redirect::RedirectRules,
    service::Subscription,
    token::{
        Lifetimes, TokenError,
        assertion::{AcceptedAudiences, TrustedCertificate},
        authorize,
        claims::{AccessTokenClaims, AccessTokenRequest, Flavour, IssuerInfo, access_token_claims},
        grant::{grant_deny_key, parse_account_deny_key},
        keys::{self, ACCESS_TOKEN_TYP, Jwks, SigningAlg, SigningKey, VerifyingKey},
        records::{StoredSigningKey, signing_key_aad},
        rotation::{RotationPolicy, plan},
    },
};
use gatehouse_store::{ConsentStore, IntegrationStore, SigningKeyStore, Store, StoreError, TokenStore};
use serde_json::{Map, Value};
use tokio::sync::{Mutex, watch};

use crate::{Clock, Settings};

/// The longest the key ring is trusted before the stored keys are read again, in seconds.
pub const KEY_RING_MAX_AGE: i64 = 300;
/// How often the in-memory copy of the access-token deny-list catches up with the store, in seconds.
pub const DENY_LIST_SYNC: i64 = 1;
/// How far back each catch-up looks, in seconds: tolerates clocks of nodes that differ by less.
pub const DENY_LIST_MARGIN: i64 = 60;
/// Deny-list key prefix that tells every node a person withdrew a consent (`consent:<account>:<integration>`).
const CONSENT_MARKER: &str = "consent:";
/// How long a withdrawn-consent marker stays on the deny-list: far longer than any node's sync lag.
const CONSENT_MARKER_LIFETIME: i64 = 3_600;
/// Most consents remembered; beyond this the memory starts over.
const MAX_REMEMBERED_CONSENTS: usize = 100_000;
/// The shortest time between two reads of the stored keys prompted by an unknown `kid`, in seconds.
pub const KEY_RING_MIN_AGE: i64 = 10;

/// The token service's settings, derived from [`crate::Settings`].
#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: IssuerInfo,
    pub alg: SigningAlg,
    pub lifetimes: Lifetimes,
    pub rotation: RotationPolicy,
    /// Audiences accepted in service-account assertions.
    pub audiences: AcceptedAudiences,
}

impl TokenSettings {
    pub fn from_settings(s: &Settings) -> Self {
        let lifetimes = Lifetimes {
            access_token: s.tokens.access_token,
            refresh_token: s.tokens.refresh_token,
            authorization_code: s.tokens.authorization_code,
            ..Lifetimes::default()
        };
        let mut rotation = RotationPolicy::default();
        rotation.retain_after_retire = rotation
            .retain_after_retire
            .max(lifetimes.longest_access_token() + 3_600);
        let token_endpoints = [
            "/oauth/token",
            "/ims/token",
            "/ims/token/v1",
            "/ims/token/v2",
            "/ims/token/v3",
            "/ims/exchange/jwt",
        ];
        let mut endpoints: Vec<String> = token_endpoints.iter().map(|p| s.url(p)).collect();
        endpoints.push(s.public_url.clone());
        let mut client_bases = vec![s.public_url.clone()];
        for base in &s.ims.accepted_audience_bases {
            if !client_bases.contains(base) {
                client_bases.push(base.clone());
            }
        }
        Self {
            issuer: IssuerInfo {
                issuer: s.public_url.clone(),
                adobe_as: s.ims.as_.clone(),
            },
            alg: s.signing_algorithm,
            lifetimes,
            rotation,
            audiences: AcceptedAudiences {
                endpoints,
                client_bases,
            },
        }
    }
}

/// An integration with everything the token endpoint needs, as cached.
#[derive(Debug)]
pub struct Client {
    pub integration: Integration,
    pub secrets: Vec<StoredSecret>,
    pub certificates: Vec<TrustedCertificate>,
    pub subscriptions: Vec<Subscription>,
    /// The compiled redirect rules of an OAuth integration with a default redirect URI.
    pub redirect_rules: Option<RedirectRules>,
}

impl Client {
    pub fn client_id(&self) -> &str {
        self.integration.client_id.as_str()
    }

    /// The token subject when the client acts for itself: the technical account of a service
    /// account or an OAuth Server-to-Server integration, else the client ID (RFC 9068 §2.2).
    pub fn own_subject(&self) -> String {
        match &self.integration.technical_account_id {
            Some(t) if self.integration.integration_type.is_technical_account() => t.clone(),
            _ => self.client_id().to_owned(),
        }
    }
}

/// The keys in use: the one that signs, the published ones that verify, and the signers of the
/// other algorithm when ID tokens need it.
pub struct KeyRing {
    /// Signs with the configured algorithm: access tokens, and every other JWT by default.
    pub signing: Arc<SigningKey>,
    /// Signers of other algorithms this node was asked to sign ID tokens with (a client registered
    /// `id_token_signed_response_alg`).
    others: Vec<Arc<SigningKey>>,
    pub verifying: Vec<VerifyingKey>,
    pub jwks: Jwks,
    valid_until: Timestamp,
    loaded_at: Timestamp,
}

impl KeyRing {
    /// The key that signs with `alg` now, if this ring has one.
    pub fn signer(&self, alg: SigningAlg) -> Option<&Arc<SigningKey>> {
        std::iter::once(&self.signing)
            .chain(&self.others)
            .find(|k| k.alg() == alg)
    }
}

/// Something the token service could not do for internal reasons (never the client's fault).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing keys: {0}")]
    Keys(String),
}

/// Access tokens whose signature and issuer checked out, by the SHA-256 of the token, for the key
/// ring they were checked against. A resource server introspects the same token on every request
/// it serves; this spares the signature check (the costliest step) on all but the first. Lifetime,
/// client, deny-list and cutoffs are still checked on every call. Emptied when the ring changes;
/// when full, expired entries go first, and if none has expired it starts over.
#[derive(Default)]
struct VerifiedTokens {
    /// `Arc::as_ptr` of the ring the entries were verified with.
    ring: usize,
    entries: HashMap<String, Arc<AccessTokenClaims>>,
}

/// Most verified tokens remembered (each about 800 bytes: some 7 MB in all). A node's callers
/// present far fewer distinct live tokens in the few minutes that matter; a token that fell out is
/// verified again (one signature check).
const MAX_VERIFIED_TOKENS: usize = 8_192;

/// The revoked access tokens still unexpired, by `jti`, copied from the store.
#[derive(Default)]
struct DenyList {
    entries: HashMap<String, Timestamp>,
    /// Disabled accounts: tokens issued to the account at or before the instant are revoked.
    accounts: HashMap<String, Timestamp>,
    synced_at: Option<Timestamp>,
    /// The count of other nodes' announced deny-list changes at the last catch-up.
    heard: u64,
}

impl DenyList {
    fn add(&mut self, key: String, expires_at: Timestamp) {
        if let Some((account, at)) = parse_account_deny_key(&key) {
            let cutoff = self.accounts.entry(account.to_owned()).or_insert(at);
            *cutoff = (*cutoff).max(at);
        }
        self.entries.insert(key, expires_at);
    }
}

/// Integrations by client ID; `None` remembers an unknown client ID (negative caching), so a
/// flood of made-up IDs costs one lookup each per catalog generation, not one per request.
struct ClientCache {
    generation: i64,
    clients: HashMap<String, Option<Arc<Client>>>,
    unknown: usize,
}

/// Most unknown client IDs remembered; beyond this the negative entries are dropped and start over.
const MAX_UNKNOWN_CLIENTS: usize = 10_000;

/// The node's token service, shared by every surface ([`crate::Core::tokens`]).
pub struct TokenService {
    pub settings: TokenSettings,
    store: Store,
    master_key: Arc<MasterKey>,
    clock: Clock,
    catalog: watch::Receiver<i64>,
    clients: RwLock<ClientCache>,
    ring: RwLock<Option<Arc<KeyRing>>>,
    ring_reload: Mutex<()>,
    /// Algorithms other than the configured one that ID tokens were asked for ([`Self::signer`]).
    other_algs: RwLock<Vec<SigningAlg>>,
    verified: RwLock<VerifiedTokens>,
    deny: RwLock<DenyList>,
    deny_sync: Mutex<()>,
    /// Other nodes' announced deny-list changes (`Store::deny_list_changes`): a change makes the
    /// in-memory copy catch up before the next answer instead of at the next interval.
    denied_elsewhere: watch::Receiver<u64>,
    /// Consents read from the store, by (account ID, integration ID); see [`TokenService::consent_covers`].
    consents: RwLock<HashMap<(String, String), Vec<String>>>,
    cutoffs: super::cutoffs::Cutoffs,
    /// Credentials used on this node and not yet recorded ([`super::last_used`]).
    pub last_used: super::last_used::LastUsed,
}

impl TokenService {
    pub fn new(
        store: Store,
        master_key: Arc<MasterKey>,
        clock: Clock,
        catalog: watch::Receiver<i64>,
        settings: TokenSettings,
    ) -> Self {
        let generation = *catalog.borrow();
        let denied_elsewhere = store.deny_list_changes();
        Self {
            settings,
            cutoffs: super::cutoffs::Cutoffs::new(store.clone(), catalog.clone()),
            store,
            master_key,
            clock,
            clients: RwLock::new(ClientCache {
                generation,
                clients: HashMap::new(),
                unknown: 0,
            }),
            ring: RwLock::new(None),
            other_algs: RwLock::new(Vec::new()),
            verified: RwLock::new(VerifiedTokens::default()),
            ring_reload: Mutex::new(()),
            deny: RwLock::new(DenyList::default()),
            deny_sync: Mutex::new(()),
            denied_elsewhere,
            consents: RwLock::new(HashMap::new()),
            last_used: super::last_used::LastUsed::default(),
            catalog,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The integration with this client ID, from the cache or the store. `None` if unknown.
    pub async fn client(&self, client_id: &str) -> Result<Option<Arc<Client>>, ServiceError> {
        let generation = *self.catalog.borrow();
        if let Ok(cache) = self.clients.read()
            && cache.generation == generation
            && let Some(c) = cache.clients.get(client_id)
        {
            return Ok(c.clone());
        }
        let client = match ClientId::parse(client_id) {
            Ok(id) => self.load_client(&id).await?.map(Arc::new),
            Err(_) => None,
        };
        if let Ok(mut cache) = self.clients.write() {
            if cache.generation != generation {
                cache.generation = generation;
                cache.clients.clear();
                cache.unknown = 0;
            }
            if client.is_none() {
                if cache.unknown >= MAX_UNKNOWN_CLIENTS {
                    cache.clients.retain(|_, c| c.is_some());
                    cache.unknown = 0;
                }
                cache.unknown += 1;
            }
            cache.clients.insert(client_id.to_owned(), client.clone());
        }
        Ok(client)
    }

    async fn load_client(&self, id: &ClientId) -> Result<Option<Client>, ServiceError> {
        let mut conn = self.store.conn().await?;
        let Some(integration) = conn.integration_by_client_id(id).await? else {
            return Ok(None);
        };
        let secrets = conn.secrets_of(&integration.id).await?;
        let certificates = conn
            .certificates_of(&integration.id)
            .await?
            .iter()
            .filter_map(|c| match TrustedCertificate::from_stored(c) {
                Ok(t) => Some(t),
                Err(e) => {
                    tracing::warn!(certificate = %c.id, error = %e, "a stored certificate cannot verify assertions");
                    None
                }
            })
            .collect();
        let subscriptions = conn.subscriptions_of(&integration.id).await?;
        let redirect_rules = authorize::redirect_rules(&integration).unwrap_or_else(|e| {
            tracing::warn!(integration = %integration.id, error = %e, "stored redirect settings are invalid");
            None
        });
        Ok(Some(Client {
            integration,
            secrets,
            certificates,
            subscriptions,
            redirect_rules,
        }))
    }

    /// Like [`TokenService::client`], but an unknown client is `invalid_client`.
    pub async fn known_client(&self, client_id: &str) -> Result<Arc<Client>, Failure> {
        self.client(client_id)
            .await?
            .ok_or(Failure::Token(TokenError::UnknownClient))
    }

    /// The current key ring, creating or rotating keys as the schedule requires.
    pub async fn key_ring(&self) -> Result<Arc<KeyRing>, ServiceError> {
        let now = self.now();
        if let Some(ring) = self.cached_ring(now) {
            return Ok(ring);
        }
        let _guard = self.ring_reload.lock().await;
        if let Some(ring) = self.cached_ring(now) {
            return Ok(ring);
        }
        let ring = Arc::new(self.load_ring(now).await?);
        if let Ok(mut slot) = self.ring.write() {
            *slot = Some(ring.clone());
        }
        Ok(ring)
    }

    /// The key that signs with `alg` now. An algorithm other than the configured one gets keys of
    /// its own the first time it is needed (OpenID Connect requires every provider to offer RS256
    /// ID tokens), which then rotate on the same schedule for as long as this node runs.
    async fn signer(&self, alg: SigningAlg) -> Result<Arc<SigningKey>, ServiceError> {
        let ring = self.key_ring().await?;
        if let Some(k) = ring.signer(alg) {
            return Ok(k.clone());
        }
        let _guard = self.ring_reload.lock().await;
        if let Ok(mut wanted) = self.other_algs.write()
            && !wanted.contains(&alg)
        {
            wanted.push(alg);
        }
        let ring = Arc::new(self.load_ring(self.now()).await?);
        if let Ok(mut slot) = self.ring.write() {
            *slot = Some(ring.clone());
        }
        ring.signer(alg)
            .cloned()
            .ok_or_else(|| ServiceError::Keys(format!("no {} key may sign", alg.as_str())))
    }

    fn cached_ring(&self, now: Timestamp) -> Option<Arc<KeyRing>> {
        let slot = self.ring.read().ok()?;
        slot.as_ref().filter(|r| now < r.valid_until).cloned()
    }

    /// Reads the stored keys, creates the ones the rotation plan asks for, and loads the signers.
    /// Keys of the configured algorithm sign access tokens; keys of another one sign only the ID
    /// tokens of clients that registered it, and otherwise (from before the configuration
    /// changed) stay published until they expire, so their tokens still verify.
    async fn load_ring(&self, now: Timestamp) -> Result<KeyRing, ServiceError> {
        let mut conn = self.store.conn().await?;
        let mut stored = conn.list_signing_keys().await?;
        let mut algs = vec![self.settings.alg];
        if let Ok(wanted) = self.other_algs.read() {
            algs.extend(wanted.iter().filter(|a| **a != self.settings.alg));
        }
        let mut signers = Vec::new();
        let mut valid_until = now + KEY_RING_MAX_AGE;
        for alg in algs {
            let (signer, next_change_at) = self.signer_of(&mut conn, &mut stored, alg, now).await?;
            signers.push(Arc::new(signer));
            valid_until = next_change_at.map_or(valid_until, |t| valid_until.min(t));
        }
        let everything = plan(now, &stored, &self.settings.rotation);
        let mut verifying = Vec::new();
        for kid in &everything.published {
            if let Some(row) = stored.iter().find(|k| k.kid == *kid) {
                match VerifyingKey::from_jwk(row.alg, row.public_jwk.clone()) {
                    Ok(v) => verifying.push(v),
                    Err(e) => tracing::warn!(kid = %kid, error = %e, "a stored public key is unusable"),
                }
            }
        }
        let jwks = Jwks {
            keys: verifying.iter().map(|v| v.jwk.clone()).collect(),
        };
        let valid_until = everything.next_change_at.map_or(valid_until, |t| valid_until.min(t));
        let mut signers = signers.into_iter();
        let signing = signers
            .next()
            .ok_or_else(|| ServiceError::Keys("no key may sign".into()))?;
        Ok(KeyRing {
            signing,
            others: signers.collect(),
            verifying,
            jwks,
            valid_until,
            loaded_at: now,
        })
    }

    /// Creates the keys of `alg` the rotation plan asks for and loads the one that signs now;
    /// with when the plan for `alg` changes next.
    async fn signer_of(
        &self,
        conn: &mut gatehouse_store::Conn,
        stored: &mut Vec<StoredSigningKey>,
        alg: SigningAlg,
        now: Timestamp,
    ) -> Result<(SigningKey, Option<Timestamp>), ServiceError> {
        let same_alg = |keys: &[StoredSigningKey]| -> Vec<StoredSigningKey> {
            keys.iter().filter(|k| k.alg == alg).cloned().collect()
        };
        let mut rotation = plan(now, &same_alg(stored), &self.settings.rotation);
        for _ in 0..3 {
            let Some(schedule) = rotation.create else { break };
            let generated = tokio::task::spawn_blocking(move || keys::generate(alg, &mut rand::rngs::OsRng))
                .await
                .map_err(|e| ServiceError::Keys(e.to_string()))?
                .map_err(|e| ServiceError::Keys(e.to_string()))?;
            let kid = generated.kid().to_owned();
            let sealed =
                self.master_key
                    .encrypt(&mut rand::rngs::OsRng, &generated.private_pkcs8, &signing_key_aad(&kid));
            let key = StoredSigningKey {
                kid: kid.clone(),
                alg,
                private_key_enc: sealed,
                public_jwk: generated.public_jwk,
                schedule,
            };
            if conn.insert_signing_key(&key).await? {
                tracing::info!(kid = %kid, alg = alg.as_str(), activates_at = schedule.activates_at, "created a signing key");
            }
            *stored = conn.list_signing_keys().await?;
            rotation = plan(now, &same_alg(stored), &self.settings.rotation);
        }
        let signing_kid = rotation
            .signing
            .ok_or_else(|| ServiceError::Keys(format!("no {} key may sign", alg.as_str())))?;
        let signing_row = stored
            .iter()
            .find(|k| k.kid == signing_kid)
            .ok_or_else(|| ServiceError::Keys("signing key vanished".into()))?;
        let pkcs8 = self
            .master_key
            .decrypt(&signing_row.private_key_enc, &signing_key_aad(&signing_kid))
            .map_err(|e| ServiceError::Keys(format!("key {signing_kid}: {e}")))?;
        let signing = SigningKey::load(signing_row.alg, &pkcs8, &signing_kid)
            .map_err(|e| ServiceError::Keys(format!("key {signing_kid}: {e}")))?;
        Ok((signing, rotation.next_change_at))
    }

    /// Re-reads the keys early when a token names a key this node has not seen (another node may
    /// have created it), at most once per [`KEY_RING_MIN_AGE`] seconds.
    async fn reload_ring_for_unknown_key(&self) -> Result<Arc<KeyRing>, ServiceError> {
        let now = self.now();
        if let Ok(mut slot) = self.ring.write()
            && slot.as_ref().is_some_and(|r| now >= r.loaded_at + KEY_RING_MIN_AGE)
        {
            *slot = None;
        }
        self.key_ring().await
    }

    /// Signs a new access token; returns it with its claims. `jti` is the token's ID when the
    /// caller had to know it beforehand (a code records what it issued); else a fresh one.
    pub async fn issue_access_token(
        &self,
        req: &AccessTokenRequest,
        jti: Option<String>,
    ) -> Result<(String, AccessTokenClaims), ServiceError> {
        let ring = self.key_ring().await?;
        let mut claims = access_token_claims(&self.settings.issuer, req, self.now(), &mut rand::thread_rng());
        if let Some(jti) = jti {
            claims.jti = jti;
        }
        let token = ring
            .signing
            .sign_access_token(&claims)
            .map_err(|e| ServiceError::Keys(e.to_string()))?;
        Ok((token, claims))
    }

    /// Signs an ID token with `alg` (the client's registered `id_token_signed_response_alg`), or
    /// with the configured algorithm.
    pub async fn sign_id_token(
        &self,
        claims: &impl serde::Serialize,
        alg: Option<SigningAlg>,
    ) -> Result<String, ServiceError> {
        let key = match alg {
            Some(alg) if alg != self.settings.alg => self.signer(alg).await?,
            _ => self.key_ring().await?.signing.clone(),
        };
        key.sign(gatehouse_domain::token::id_token::ID_TOKEN_TYP, claims)
            .map_err(|e| ServiceError::Keys(e.to_string()))
    }

    /// Signs any other JWT (JWT-shaped codes and refresh tokens) with the current key.
    pub async fn sign_jwt(&self, typ: &str, claims: &impl serde::Serialize) -> Result<String, ServiceError> {
        let ring = self.key_ring().await?;
        ring.signing
            .sign(typ, claims)
            .map_err(|e| ServiceError::Keys(e.to_string()))
    }

    /// Verifies a JWT Gatehouse signed (signature by a published key and issuer; not expiry) and
    /// returns its claims. For `id_token_hint`, which may have expired.
    pub async fn verify_own_jwt(
        &self,
        token: &str,
        typ: &'static str,
    ) -> Result<Option<Map<String, Value>>, ServiceError> {
        let ring = self.key_ring().await?;
        let claims = match keys::verify_own(token, typ, &ring.verifying) {
            Ok(c) => c,
            Err(keys::VerifyError::UnknownKey) => {
                let ring = self.reload_ring_for_unknown_key().await?;
                match keys::verify_own(token, typ, &ring.verifying) {
                    Ok(c) => c,
                    Err(_) => return Ok(None),
                }
            }
            Err(_) => return Ok(None),
        };
        Ok((claims.get("iss").and_then(Value::as_str) == Some(self.settings.issuer.issuer.as_str())).then_some(claims))
    }

    /// Verifies one of Gatehouse's access tokens for introspection or validation: signature by a
    /// published key, issuer, lifetime, the deny-list, and that its integration is still active.
    pub async fn inspect_access_token(&self, token: &str) -> Result<Result<AccessTokenClaims, Inactive>, ServiceError> {
        let claims = match self.verified_claims(token).await? {
            Ok(c) => c,
            Err(inactive) => return Ok(Err(inactive)),
        };
        let claims = AccessTokenClaims::clone(&claims);
        if !claims.is_live(self.now()) {
            return Ok(Err(Inactive::Expired));
        }
        let active_client = self
            .client(&claims.client_id)
            .await?
            .is_some_and(|c| c.integration.status == gatehouse_domain::integration::IntegrationStatus::Active);
        if !active_client {
            return Ok(Err(Inactive::ClientDisabled));
        }
        if self.is_revoked(&claims.jti).await? {
            return Ok(Err(Inactive::Revoked));
        }
        if self
            .cutoffs
            .revokes(&claims.client_id, claims.iat, &claims.scopes())
            .await?
        {
            return Ok(Err(Inactive::Revoked));
        }
        if let Some(grant) = &claims.grant_id
            && self.is_revoked(&grant_deny_key(grant)).await?
        {
            return Ok(Err(Inactive::Revoked));
        }
        if claims.sub != claims.client_id && self.account_cut_off(&claims.sub, claims.iat) {
            return Ok(Err(Inactive::Revoked));
        }
        Ok(Ok(claims))
    }

    /// The claims of one of Gatehouse's access tokens whose signature (by a published key) and
    /// issuer check out, from [`VerifiedTokens`] when this token was verified before.
    async fn verified_claims(&self, token: &str) -> Result<Result<Arc<AccessTokenClaims>, Inactive>, ServiceError> {
        let ring = self.key_ring().await?;
        let key = gatehouse_domain::secret::digest(token);
        let ring_id = Arc::as_ptr(&ring) as usize;
        if let Ok(cache) = self.verified.read()
            && cache.ring == ring_id
            && let Some(c) = cache.entries.get(&key)
        {
            return Ok(Ok(c.clone()));
        }
        let (raw, ring) = match keys::verify_own(token, ACCESS_TOKEN_TYP, &ring.verifying) {
            Ok(raw) => (raw, ring),
            Err(keys::VerifyError::UnknownKey) => {
                let ring = self.reload_ring_for_unknown_key().await?;
                match keys::verify_own(token, ACCESS_TOKEN_TYP, &ring.verifying) {
                    Ok(raw) => (raw, ring),
                    Err(_) => return Ok(Err(Inactive::BadSignature)),
                }
            }
            Err(_) => return Ok(Err(Inactive::BadSignature)),
        };
        let Some(claims) = AccessTokenClaims::from_verified(raw) else {
            return Ok(Err(Inactive::BadSignature));
        };
        if claims.iss != self.settings.issuer.issuer {
            return Ok(Err(Inactive::BadSignature));
        }
        let claims = Arc::new(claims);
        if let Ok(mut cache) = self.verified.write() {
            let ring_id = Arc::as_ptr(&ring) as usize;
            if cache.ring != ring_id {
                cache.ring = ring_id;
                cache.entries.clear();
            }
            if cache.entries.len() >= MAX_VERIFIED_TOKENS {
                let now = self.now();
                cache.entries.retain(|_, c| c.exp > now);
                // Evicting a quarter at least keeps a full cache of live tokens from paying this
                // sweep on every insert.
                if cache.entries.len() >= MAX_VERIFIED_TOKENS * 3 / 4 {
                    cache.entries.clear();
                }
            }
            cache.entries.insert(key, claims.clone());
        }
        Ok(Ok(claims))
    }

    /// Puts an access token on the deny-list until it expires.
    pub async fn revoke_access_token(&self, claims: &AccessTokenClaims) -> Result<(), ServiceError> {
        let mut conn = self.store.conn().await?;
        conn.revoke_access_token(&claims.jti, &claims.client_id, self.now(), claims.exp)
            .await?;
        if let Ok(mut deny) = self.deny.write() {
            deny.entries.insert(claims.jti.clone(), claims.exp);
        }
        Ok(())
    }

    /// Revokes a user grant: its refresh tokens, and every access token descending from it
    /// (a deny-list entry for the grant that outlives the longest access-token lifetime).
    pub async fn revoke_grant(&self, grant_id: &str, client_id: &str) -> Result<(), ServiceError> {
        let now = self.now();
        let until = now + self.settings.lifetimes.longest_access_token();
        let key = grant_deny_key(grant_id);
        let mut conn = self.store.conn().await?;
        conn.revoke_refresh_family(grant_id, now).await?;
        conn.revoke_access_token(&key, client_id, now, until).await?;
        if let Ok(mut deny) = self.deny.write() {
            deny.entries.insert(key, until);
        }
        Ok(())
    }

    /// Puts an access-token `jti` on the deny-list until `expires_at`.
    pub async fn revoke_jti(&self, jti: &str, client_id: &str, expires_at: Timestamp) -> Result<(), ServiceError> {
        let mut conn = self.store.conn().await?;
        conn.revoke_access_token(jti, client_id, self.now(), expires_at).await?;
        if let Ok(mut deny) = self.deny.write() {
            deny.entries.insert(jti.to_owned(), expires_at);
        }
        Ok(())
    }

    /// Is the `jti` on the deny-list? Answered from memory; the copy catches up with the store
    /// (revocations made by other nodes) at most every [`DENY_LIST_SYNC`] seconds.
    async fn is_revoked(&self, jti: &str) -> Result<bool, ServiceError> {
        self.sync_deny_list().await?;
        Ok(self.deny.read().map_or(true, |d| d.entries.contains_key(jti)))
    }

    /// Was the account disabled at or after `iat` (its tokens end with it)? Answered from the
    /// in-memory deny-list, which [`Self::is_revoked`] has just brought up to date.
    fn account_cut_off(&self, account_id: &str, iat: Timestamp) -> bool {
        self.deny
            .read()
            .map_or(true, |d| d.accounts.get(account_id).is_some_and(|at| iat <= *at))
    }

    /// Brings the in-memory deny-list up to date with the store, at most once per
    /// [`DENY_LIST_SYNC`] or as soon as another node announced a change; withdrawn-consent markers
    /// among the news empty those consents here.
    async fn sync_deny_list(&self) -> Result<(), ServiceError> {
        let now = self.now();
        let heard = *self.denied_elsewhere.borrow();
        let stale = |d: &DenyList| d.heard != heard || d.synced_at.is_none_or(|t| now >= t + DENY_LIST_SYNC);
        if self.deny.read().map_or(true, |d| stale(&d)) {
            let _guard = self.deny_sync.lock().await;
            let since = match self.deny.read().ok().map(|d| (stale(&d), d.synced_at)) {
                Some((false, _)) => None,
                Some((true, Some(t))) => Some(t - DENY_LIST_MARGIN),
                _ => Some(Timestamp::MIN),
            };
            if let Some(since) = since {
                let fresh = self.store.conn().await?.revoked_access_tokens_since(since, now).await?;
                if let Ok(mut consents) = self.consents.write() {
                    for (key, _) in &fresh {
                        if let Some((account, integration)) =
                            key.strip_prefix(CONSENT_MARKER).and_then(|k| k.split_once(':'))
                        {
                            consents.remove(&(account.to_owned(), integration.to_owned()));
                        }
                    }
                }
                if let Ok(mut deny) = self.deny.write() {
                    for (key, exp) in fresh {
                        deny.add(key, exp);
                    }
                    deny.entries.retain(|_, exp| *exp > now);
                    let live = &deny.entries;
                    let keep: std::collections::HashSet<String> = live
                        .keys()
                        .filter_map(|k| parse_account_deny_key(k).map(|(a, _)| a.to_owned()))
                        .collect();
                    deny.accounts.retain(|a, _| keep.contains(a));
                    deny.synced_at = Some(now);
                    deny.heard = heard;
                }
            }
        }
        Ok(())
    }

    /// Does the person's stored consent to the integration cover `scopes`? Answered from memory
    /// when a remembered consent covers them; otherwise from the store (and remembered).
    pub async fn consent_covers(
        &self,
        account_id: &str,
        integration_id: &str,
        scopes: &[String],
    ) -> Result<bool, ServiceError> {
        self.sync_deny_list().await?;
        let key = (account_id.to_owned(), integration_id.to_owned());
        let covered = |c: &[String]| scopes.iter().all(|s| c.contains(s));
        if let Ok(cache) = self.consents.read()
            && cache.get(&key).is_some_and(|c| covered(c))
        {
            return Ok(true);
        }
        let stored = self.store.conn().await?.consent(account_id, integration_id).await?;
        let answer = stored.as_ref().is_some_and(|c| covered(&c.scopes));
        self.remember_consent(account_id, integration_id, stored.map(|c| c.scopes));
        Ok(answer)
    }

    /// Records what this node knows of a consent (`None`: there is none).
    pub fn remember_consent(&self, account_id: &str, integration_id: &str, scopes: Option<Vec<String>>) {
        if let Ok(mut cache) = self.consents.write() {
            let key = (account_id.to_owned(), integration_id.to_owned());
            match scopes {
                Some(s) => {
                    if cache.len() >= MAX_REMEMBERED_CONSENTS {
                        cache.clear();
                    }
                    cache.insert(key, s);
                }
                None => {
                    cache.remove(&key);
                }
            }
        }
    }

    /// Forgets a withdrawn consent here and, through a deny-list marker, on every other node.
    pub async fn forget_consent(
        &self,
        account_id: &str,
        integration_id: &str,
        client_id: &str,
    ) -> Result<(), ServiceError> {
        self.remember_consent(account_id, integration_id, None);
        let now = self.now();
        let marker = format!("{CONSENT_MARKER}{account_id}:{integration_id}");
        let mut conn = self.store.conn().await?;
        conn.revoke_access_token(&marker, client_id, now, now + CONSENT_MARKER_LIFETIME)
            .await?;
        Ok(())
    }

    /// Records an assertion's `jti`; `true` on its first use.
    pub async fn first_use(
        &self,
        guard: &gatehouse_domain::token::assertion::ReplayGuard,
    ) -> Result<bool, ServiceError> {
        let mut conn = self.store.conn().await?;
        Ok(conn
            .record_assertion_jti(&guard.key, &guard.client_id, guard.expires_at, self.now())
            .await?)
    }

    /// The flavour-specific lifetime of access tokens.
    pub fn access_lifetime(&self, flavour: Flavour) -> i64 {
        match flavour {
            Flavour::Standard => self.settings.lifetimes.access_token,
            Flavour::Adobe => self.settings.lifetimes.ims_access_token,
        }
    }
}

/// Why a token is not active (validate_token's `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inactive {
    BadSignature,
    Expired,
    Revoked,
    ClientDisabled,
}

impl Inactive {
    pub fn reason(self) -> &'static str {
        match self {
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::ClientDisabled => "client_disabled",
        }
    }
}

/// A failed token-service request: a rule said no, or something internal broke.
#[derive(Debug)]
pub enum Failure {
    Token(TokenError),
    Internal(ServiceError),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Token(e) => write!(f, "{e}"),
            Self::Internal(e) => write!(f, "{e}"),
        }
    }
}

impl From<TokenError> for Failure {
    fn from(e: TokenError) -> Self {
        Self::Token(e)
    }
}

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Self {
        Self::Internal(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.into())
    }
}

/// Deletes token bookkeeping that can no longer matter at `now`: deny-list entries and replay
/// records past their expiry, expired refresh tokens and authorization codes, and signing keys no
/// longer published. For a periodic background job (any node); returns how many rows went.
pub async fn purge_expired(store: &Store, now: Timestamp) -> Result<u64, StoreError> {
    let mut conn = store.conn().await?;
    let mut n = conn.purge_revoked_access_tokens(now).await?;
    n += conn.purge_used_assertions(now).await?;
    n += conn.purge_refresh_tokens(now).await?;
    n += conn.purge_authorization_codes(now).await?;
    n += conn.purge_signing_keys(now).await?;
    Ok(n)
}
