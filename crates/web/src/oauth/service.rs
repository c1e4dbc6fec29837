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
    integration::{Integration, IntegrationType, StoredSecret},
    service::Subscription,
    token::{
        Lifetimes, TokenError,
        assertion::{AcceptedAudiences, TrustedCertificate},
        claims::{AccessTokenClaims, AccessTokenRequest, Flavour, IssuerInfo, access_token_claims},
        keys::{self, ACCESS_TOKEN_TYP, Jwks, SigningAlg, SigningKey, VerifyingKey},
        records::{StoredSigningKey, signing_key_aad},
        rotation::{RotationPolicy, plan},
    },
};
use gatehouse_store::{IntegrationStore, SigningKeyStore, Store, StoreError, TokenStore};
use tokio::sync::{Mutex, watch};

use crate::{AppState, Clock, OAuthError};

/// The longest the key ring is trusted before the stored keys are read again, in seconds.
pub const KEY_RING_MAX_AGE: i64 = 300;
/// How often the in-memory copy of the access-token deny-list catches up with the store, in seconds.
pub const DENY_LIST_SYNC: i64 = 1;
/// How far back each catch-up looks, in seconds: tolerates clocks of nodes that differ by less.
pub const DENY_LIST_MARGIN: i64 = 60;
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
    pub fn from_state(state: &AppState) -> Self {
        let s = &state.settings;
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
        Self {
            issuer: IssuerInfo {
                issuer: s.public_url.clone(),
                adobe_as: "ims-na1".to_owned(),
            },
            alg: SigningAlg::ES256,
            lifetimes,
            rotation,
            audiences: AcceptedAudiences {
                endpoints,
                client_bases: vec![s.public_url.clone()],
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
}

impl Client {
    pub fn client_id(&self) -> &str {
        self.integration.client_id.as_str()
    }

    /// The token subject when the client acts for itself: the technical account of a service
    /// account, else the client ID (RFC 9068 §2.2).
    pub fn own_subject(&self) -> String {
        match (
            &self.integration.integration_type,
            &self.integration.technical_account_id,
        ) {
            (IntegrationType::ServiceAccount, Some(t)) => t.clone(),
            _ => self.client_id().to_owned(),
        }
    }
}

/// The keys in use: the one that signs and the published ones that verify.
pub struct KeyRing {
    pub signing: Arc<SigningKey>,
    pub verifying: Vec<VerifyingKey>,
    pub jwks: Jwks,
    valid_until: Timestamp,
    loaded_at: Timestamp,
}

/// Something the token service could not do for internal reasons (never the client's fault).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing keys: {0}")]
    Keys(String),
}

impl From<ServiceError> for OAuthError {
    fn from(e: ServiceError) -> Self {
        OAuthError::server_error(e)
    }
}

/// The revoked access tokens still unexpired, by `jti`, copied from the store.
#[derive(Default)]
struct DenyList {
    entries: HashMap<String, Timestamp>,
    synced_at: Option<Timestamp>,
}

struct ClientCache {
    generation: i64,
    clients: HashMap<String, Arc<Client>>,
}

/// Shared by every token-service handler (an axum `Extension`).
pub struct TokenService {
    pub settings: TokenSettings,
    store: Store,
    master_key: Arc<MasterKey>,
    clock: Clock,
    catalog: watch::Receiver<i64>,
    clients: RwLock<ClientCache>,
    ring: RwLock<Option<Arc<KeyRing>>>,
    ring_reload: Mutex<()>,
    deny: RwLock<DenyList>,
    deny_sync: Mutex<()>,
}

impl TokenService {
    pub fn new(state: &AppState, settings: TokenSettings) -> Self {
        Self {
            settings,
            store: state.store.clone(),
            master_key: state.master_key.clone(),
            clock: state.clock.clone(),
            catalog: state.catalog.clone(),
            clients: RwLock::new(ClientCache {
                generation: *state.catalog.borrow(),
                clients: HashMap::new(),
            }),
            ring: RwLock::new(None),
            ring_reload: Mutex::new(()),
            deny: RwLock::new(DenyList::default()),
            deny_sync: Mutex::new(()),
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
            return Ok(Some(c.clone()));
        }
        let Ok(id) = ClientId::parse(client_id) else {
            return Ok(None);
        };
        let mut conn = self.store.conn().await?;
        let Some(integration) = conn.integration_by_client_id(&id).await? else {
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
        let client = Arc::new(Client {
            integration,
            secrets,
            certificates,
            subscriptions,
        });
        if let Ok(mut cache) = self.clients.write() {
            if cache.generation != generation {
                cache.generation = generation;
                cache.clients.clear();
            }
            cache.clients.insert(client_id.to_owned(), client.clone());
        }
        Ok(Some(client))
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

    fn cached_ring(&self, now: Timestamp) -> Option<Arc<KeyRing>> {
        let slot = self.ring.read().ok()?;
        slot.as_ref().filter(|r| now < r.valid_until).cloned()
    }

    async fn load_ring(&self, now: Timestamp) -> Result<KeyRing, ServiceError> {
        let mut conn = self.store.conn().await?;
        let mut stored = conn.list_signing_keys().await?;
        let mut rotation = plan(now, &stored, &self.settings.rotation);
        for _ in 0..3 {
            let Some(schedule) = rotation.create else { break };
            let alg = self.settings.alg;
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
                tracing::info!(kid = %kid, activates_at = schedule.activates_at, "created a signing key");
            }
            stored = conn.list_signing_keys().await?;
            rotation = plan(now, &stored, &self.settings.rotation);
        }
        let signing_kid = rotation
            .signing
            .ok_or_else(|| ServiceError::Keys("no key may sign".into()))?;
        let by_kid = |kid: &str| stored.iter().find(|k| k.kid == kid);
        let signing_row = by_kid(&signing_kid).ok_or_else(|| ServiceError::Keys("signing key vanished".into()))?;
        let pkcs8 = self
            .master_key
            .decrypt(&signing_row.private_key_enc, &signing_key_aad(&signing_kid))
            .map_err(|e| ServiceError::Keys(format!("key {signing_kid}: {e}")))?;
        let signing = SigningKey::load(signing_row.alg, &pkcs8, &signing_kid)
            .map_err(|e| ServiceError::Keys(format!("key {signing_kid}: {e}")))?;
        let mut verifying = Vec::new();
        for kid in &rotation.published {
            if let Some(row) = by_kid(kid) {
                match VerifyingKey::from_jwk(row.alg, row.public_jwk.clone()) {
                    Ok(v) => verifying.push(v),
                    Err(e) => tracing::warn!(kid = %kid, error = %e, "a stored public key is unusable"),
                }
            }
        }
        let jwks = Jwks {
            keys: verifying.iter().map(|v| v.jwk.clone()).collect(),
        };
        let valid_until = rotation
            .next_change_at
            .map_or(now + KEY_RING_MAX_AGE, |t| t.min(now + KEY_RING_MAX_AGE));
        Ok(KeyRing {
            signing: Arc::new(signing),
            verifying,
            jwks,
            valid_until,
            loaded_at: now,
        })
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

    /// Signs a new access token; returns it with its claims.
    pub async fn issue_access_token(
        &self,
        req: &AccessTokenRequest,
    ) -> Result<(String, AccessTokenClaims), ServiceError> {
        let ring = self.key_ring().await?;
        let claims = access_token_claims(&self.settings.issuer, req, self.now(), &mut rand::thread_rng());
        let token = ring
            .signing
            .sign_access_token(&claims)
            .map_err(|e| ServiceError::Keys(e.to_string()))?;
        Ok((token, claims))
    }

    /// Verifies one of Gatehouse's access tokens for introspection or validation: signature by a
    /// published key, issuer, lifetime, the deny-list, and that its integration is still active.
    pub async fn inspect_access_token(&self, token: &str) -> Result<Result<AccessTokenClaims, Inactive>, ServiceError> {
        let ring = self.key_ring().await?;
        let raw = match keys::verify_own(token, ACCESS_TOKEN_TYP, &ring.verifying) {
            Ok(raw) => raw,
            Err(keys::VerifyError::UnknownKey) => {
                let ring = self.reload_ring_for_unknown_key().await?;
                match keys::verify_own(token, ACCESS_TOKEN_TYP, &ring.verifying) {
                    Ok(raw) => raw,
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

    /// Is the `jti` on the deny-list? Answered from memory; the copy catches up with the store
    /// (revocations made by other nodes) at most every [`DENY_LIST_SYNC`] seconds.
    async fn is_revoked(&self, jti: &str) -> Result<bool, ServiceError> {
        let now = self.now();
        let stale = |d: &DenyList| d.synced_at.is_none_or(|t| now >= t + DENY_LIST_SYNC);
        if self.deny.read().map_or(true, |d| stale(&d)) {
            let _guard = self.deny_sync.lock().await;
            let since = match self.deny.read().ok().map(|d| (stale(&d), d.synced_at)) {
                Some((false, _)) => None,
                Some((true, Some(t))) => Some(t - DENY_LIST_MARGIN),
                _ => Some(Timestamp::MIN),
            };
            if let Some(since) = since {
                let fresh = self.store.conn().await?.revoked_access_tokens_since(since, now).await?;
                if let Ok(mut deny) = self.deny.write() {
                    deny.entries.extend(fresh);
                    deny.entries.retain(|_, exp| *exp > now);
                    deny.synced_at = Some(now);
                }
            }
        }
        Ok(self.deny.read().map_or(true, |d| d.entries.contains_key(jti)))
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
