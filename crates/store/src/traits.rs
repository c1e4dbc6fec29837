//! Everything the storage can do, one trait per aggregate. Reading this file tells the whole story.
//!
//! Every trait is implemented for anything that lends a connection ([`AsDb`]): a pooled
//! [`crate::Conn`] for reads, a [`crate::Tx`] for writes. Writes belong in a `Tx` together with the
//! audit entry that describes them ([`AuditStore::append_audit`]); `Tx::commit` enforces it.

use async_trait::async_trait;
use gatehouse_domain::{
    Timestamp,
    account::{Account, Email},
    audit::{AuditEntry, AuditQuery, AuditRecord},
    ids::{ClientId, OrgId},
    integration::{Integration, StoredCertificate, StoredSecret},
    org::{Membership, Organization},
    project::{Project, Workspace},
    service::{Service, ServiceCode, Subscription},
};

use crate::{AsDb, StoreError};

pub type Result<T> = std::result::Result<T, StoreError>;

#[async_trait]
pub trait AccountStore: AsDb {
    /// Fails with [`StoreError::Conflict`] when the email is taken.
    async fn insert_account(&mut self, account: &Account) -> Result<()>;
    /// Replaces every mutable field of the account with the given values.
    async fn update_account(&mut self, account: &Account) -> Result<()>;
    async fn account_by_id(&mut self, id: &str) -> Result<Option<Account>>;
    async fn account_by_email(&mut self, email: &Email) -> Result<Option<Account>>;
    /// All accounts, ordered by email.
    async fn list_accounts(&mut self) -> Result<Vec<Account>>;
    async fn count_operators(&mut self) -> Result<i64>;
}

#[async_trait]
pub trait OrgStore: AsDb {
    async fn insert_org(&mut self, org: &Organization) -> Result<()>;
    /// Replaces the name, MFA policy and `updated_at` (not the ID or `created_at`); does nothing
    /// when there is no such organization.
    async fn update_org(&mut self, org: &Organization) -> Result<()>;
    async fn org_by_id(&mut self, id: &OrgId) -> Result<Option<Organization>>;
    /// All organizations, ordered by name then ID (byte order, the same on both backends).
    async fn list_orgs(&mut self) -> Result<Vec<Organization>>;
    /// Adds the member, or changes their role if they already are one (keeping when they joined).
    /// Fails with [`StoreError::MissingReference`] when the organization or account does not exist.
    async fn upsert_membership(&mut self, m: &Membership) -> Result<()>;
    /// Returns whether there was such a membership.
    async fn delete_membership(&mut self, org: &OrgId, account_id: &str) -> Result<bool>;
    async fn membership(&mut self, org: &OrgId, account_id: &str) -> Result<Option<Membership>>;
    /// The organization's members, in the order they joined (then by account ID).
    async fn memberships_of_org(&mut self, org: &OrgId) -> Result<Vec<Membership>>;
    /// The account's memberships, in the order it joined them (then by organization ID).
    async fn memberships_of_account(&mut self, account_id: &str) -> Result<Vec<Membership>>;
}

#[async_trait]
pub trait ServiceStore: AsDb {
    /// Creates the service, or replaces its fields (all but `created_at`) if the code exists.
    async fn upsert_service(&mut self, service: &Service) -> Result<()>;
    async fn service_by_code(&mut self, code: &ServiceCode) -> Result<Option<Service>>;
    /// All services, ordered by code (byte order, the same on both backends).
    async fn list_services(&mut self) -> Result<Vec<Service>>;
    /// Deletes the service (its event providers go with it, by cascade); returns whether it
    /// existed. Fails with a database error while subscriptions to it remain: delete those first.
    async fn delete_service(&mut self, code: &ServiceCode) -> Result<bool>;
}

/// Projects and their workspaces, which hold integrations.
#[async_trait]
pub trait ProjectStore: AsDb {
    /// Fails with [`StoreError::Conflict`] when its owner has a project of that name.
    async fn insert_project(&mut self, project: &Project) -> Result<()>;
    /// Replaces the title, description and `updated_at`.
    async fn update_project(&mut self, project: &Project) -> Result<()>;
    async fn project_by_id(&mut self, id: &str) -> Result<Option<Project>>;
    /// A personal account's projects, ordered by creation then ID.
    async fn projects_of_account(&mut self, account_id: &str) -> Result<Vec<Project>>;
    /// An organization's projects, ordered by creation then ID.
    async fn projects_of_org(&mut self, org_id: &str) -> Result<Vec<Project>>;
    /// Deletes the project and, by cascade, its workspaces; fails with a database error while an
    /// integration remains in one of them.
    async fn delete_project(&mut self, id: &str) -> Result<bool>;
    /// Fails with [`StoreError::Conflict`] when the project has a workspace of that name.
    async fn insert_workspace(&mut self, workspace: &Workspace) -> Result<()>;
    /// Replaces the title, description and `updated_at`.
    async fn update_workspace(&mut self, workspace: &Workspace) -> Result<()>;
    async fn workspace_by_id(&mut self, id: &str) -> Result<Option<Workspace>>;
    /// A project's workspaces: Production first, then by creation and ID.
    async fn workspaces_of(&mut self, project_id: &str) -> Result<Vec<Workspace>>;
    /// Fails with a database error while an integration remains in it.
    async fn delete_workspace(&mut self, id: &str) -> Result<bool>;
    /// The integrations in a workspace, ordered by creation then ID.
    async fn integrations_of_workspace(&mut self, workspace_id: &str) -> Result<Vec<Integration>>;
}

#[async_trait]
pub trait IntegrationStore: AsDb {
    /// Fails with [`StoreError::Conflict`] when the client ID or technical account is taken.
    async fn insert_integration(&mut self, integration: &Integration) -> Result<()>;
    /// Replaces every mutable field (not the ID, client ID, type, owner, creator or `created_at`);
    /// does nothing when there is no such integration.
    async fn update_integration(&mut self, integration: &Integration) -> Result<()>;
    /// Changes the type (and `updated_at`): a Service Account migrated to Server-to-Server.
    async fn set_integration_type(&mut self, integration: &Integration) -> Result<()>;
    async fn integration_by_id(&mut self, id: &str) -> Result<Option<Integration>>;
    async fn integration_by_client_id(&mut self, client_id: &ClientId) -> Result<Option<Integration>>;
    /// All integrations, ordered by creation then ID.
    async fn list_integrations(&mut self) -> Result<Vec<Integration>>;
    /// Deletes the integration and, by cascade, its secrets, certificates and subscriptions.
    async fn delete_integration(&mut self, id: &str) -> Result<bool>;

    async fn insert_secret(&mut self, secret: &StoredSecret) -> Result<()>;
    /// Marks a secret revoked; returns whether an active secret was revoked.
    async fn revoke_secret(&mut self, integration_id: &str, secret_id: &str, at: Timestamp) -> Result<bool>;
    /// All of an integration's secrets, revoked ones included, oldest first (`created_at`, then ID).
    async fn secrets_of(&mut self, integration_id: &str) -> Result<Vec<StoredSecret>>;

    /// Fails with [`StoreError::Conflict`] when the fingerprint is already on this integration.
    async fn insert_certificate(&mut self, cert: &StoredCertificate) -> Result<()>;
    async fn revoke_certificate(&mut self, integration_id: &str, cert_id: &str, at: Timestamp) -> Result<bool>;
    /// All of an integration's certificates, revoked ones included, oldest first (`created_at`, then ID).
    async fn certificates_of(&mut self, integration_id: &str) -> Result<Vec<StoredCertificate>>;

    /// Subscribes, or replaces the scopes of an existing subscription (keeping `created_at`).
    /// Fails with [`StoreError::MissingReference`] when the service is not in the catalog.
    async fn upsert_subscription(&mut self, sub: &Subscription) -> Result<()>;
    async fn delete_subscription(&mut self, integration_id: &str, service: &ServiceCode) -> Result<bool>;
    /// An integration's subscriptions, ordered by service code (byte order).
    async fn subscriptions_of(&mut self, integration_id: &str) -> Result<Vec<Subscription>>;
}

use gatehouse_domain::token::grant::Consent;

/// What people approved on the consent screen, per account × integration. Granting and
/// withdrawing consent are changes a person made: write them in a `Tx` with an audit entry.
#[async_trait]
pub trait ConsentStore: AsDb {
    async fn consent(&mut self, account_id: &str, integration_id: &str) -> Result<Option<Consent>>;
    /// Inserts or replaces the consent of `consent.account_id` to `consent.integration_id`.
    async fn upsert_consent(&mut self, consent: &Consent) -> Result<()>;
    /// Withdraws a consent; `false` if there was none.
    async fn delete_consent(&mut self, account_id: &str, integration_id: &str) -> Result<bool>;
    /// Every consent of an account, most recently updated first.
    async fn consents_of_account(&mut self, account_id: &str) -> Result<Vec<Consent>>;
}

/// A one-time link token (bootstrap, email verification, invitation, password reset), stored by digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeToken {
    pub digest: String,
    pub purpose: String,
    pub account_id: Option<String>,
    pub org_id: Option<String>,
    pub payload: serde_json::Value,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

#[async_trait]
pub trait OneTimeTokenStore: AsDb {
    async fn insert_one_time_token(&mut self, token: &OneTimeToken) -> Result<()>;
    /// Marks the token used and returns it, if it exists, is unused, has `purpose` and has not
    /// expired at `now`. Single use is atomic: of two concurrent callers only one gets it.
    async fn consume_one_time_token(
        &mut self,
        digest: &str,
        purpose: &str,
        now: Timestamp,
    ) -> Result<Option<OneTimeToken>>;
    /// Looks at a token without using it (to render the form it opens).
    async fn peek_one_time_token(
        &mut self,
        digest: &str,
        purpose: &str,
        now: Timestamp,
    ) -> Result<Option<OneTimeToken>>;
    /// Deletes the tokens with this purpose that were used or expired by `now` (for purposes
    /// whose payload should not outlive its one use); returns how many.
    async fn purge_one_time_tokens(&mut self, purpose: &str, now: Timestamp) -> Result<u64>;
    /// Revokes every unused token with this purpose (e.g. a new bootstrap link replaces the old).
    async fn revoke_one_time_tokens(&mut self, purpose: &str, now: Timestamp) -> Result<u64>;
    /// Revokes the account's unused tokens with this purpose (a new password-reset link replaces
    /// the old ones); returns how many.
    async fn revoke_account_tokens(&mut self, account_id: &str, purpose: &str, now: Timestamp) -> Result<u64>;
    /// The organization's unused, unexpired tokens with this purpose (pending invitations),
    /// oldest first (then by digest).
    async fn org_tokens(&mut self, org_id: &str, purpose: &str, now: Timestamp) -> Result<Vec<OneTimeToken>>;
    /// Revokes one of the organization's unused tokens (cancels an invitation); returns whether
    /// there was such a token.
    async fn revoke_org_token(&mut self, org_id: &str, digest: &str, purpose: &str, now: Timestamp) -> Result<bool>;
}

#[async_trait]
pub trait AuditStore: AsDb {
    /// Appends an entry. In a [`crate::Tx`] this is what allows it to commit.
    async fn append_audit(&mut self, entry: &AuditEntry) -> Result<i64>;
    /// The newest entries first, optionally only those of one organization, at most `limit`.
    async fn recent_audit(&mut self, org_id: Option<&str>, limit: i64) -> Result<Vec<AuditRecord>>;
    /// The entries matching every filter of `query`, newest first, at most `query.limit`.
    async fn search_audit(&mut self, query: &AuditQuery) -> Result<Vec<AuditRecord>>;
}

/// The webhook deliveries waiting, as the operator's status page shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryBacklog {
    /// Deliveries not yet delivered nor given up on.
    pub pending: i64,
    /// Of those, the ones due now (their next attempt is not in the future).
    pub due: i64,
    /// When the oldest due delivery fell due.
    pub oldest_due_at: Option<Timestamp>,
    /// Attempts since the instant asked about that succeeded, and that failed.
    pub succeeded: i64,
    pub failed: i64,
}

/// A migration the database has applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub description: String,
}

/// What the operator's status page reads of the database itself.
#[async_trait]
pub trait OpsStore: AsDb {
    /// The deliveries waiting at `now`, and the attempts made since `since`.
    async fn dispatcher_backlog(&mut self, now: Timestamp, since: Timestamp) -> Result<DeliveryBacklog>;
    /// How many event registrations are in each status (`active`, `unstable`, …), by status.
    async fn registrations_by_status(&mut self) -> Result<Vec<(String, i64)>>;
    /// The migrations applied to the database, in version order.
    async fn applied_migrations(&mut self) -> Result<Vec<AppliedMigration>>;
}

use gatehouse_domain::token::records::{
    AuthorizationCodeRecord, ClientGrantsRevoked, CodeConsumption, KeySchedule, RefreshRotation, RefreshTokenRecord,
    StoredSigningKey,
};

/// Token-signing keys (see `gatehouse_domain::token::rotation` for the schedule they follow).
#[async_trait]
pub trait SigningKeyStore: AsDb {
    /// Inserts a key unless a live key of the same algorithm (one not yet expired at the new key's
    /// `created_at`) already activates at the same instant: nodes that race to create the same
    /// successor create one. Each algorithm has its own schedule.
    /// Returns whether this key was inserted.
    async fn insert_signing_key(&mut self, key: &StoredSigningKey) -> Result<bool>;
    /// Every key, expired ones included, ordered by activation then key ID.
    async fn list_signing_keys(&mut self) -> Result<Vec<StoredSigningKey>>;
    /// Replaces a key's schedule (to withdraw a compromised key early); returns whether it exists.
    async fn mark_signing_key(&mut self, kid: &str, schedule: &KeySchedule) -> Result<bool>;
    /// Deletes keys that expired before `now`; returns how many.
    async fn purge_signing_keys(&mut self, now: Timestamp) -> Result<u64>;
}

/// Issued-token bookkeeping: the access-token deny-list, assertion replay detection, refresh
/// tokens and authorization codes. Every check-and-change here is a single conditional statement,
/// so it is atomic on both backends even on a plain connection; none of it is audited (use
/// `Tx::commit_unaudited` when grouping calls in a transaction).
#[async_trait]
pub trait TokenStore: AsDb {
    /// Puts an access token's `jti` on the deny-list until `expires_at` (RFC 7009). Idempotent.
    async fn revoke_access_token(
        &mut self,
        jti: &str,
        client_id: &str,
        revoked_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()>;
    async fn is_access_token_revoked(&mut self, jti: &str) -> Result<bool>;
    /// Deny-list entries revoked at or after `since` that are still unexpired at `now`, as
    /// `(jti, expires_at)`: what an in-memory copy of the deny-list needs to catch up.
    async fn revoked_access_tokens_since(
        &mut self,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<(String, Timestamp)>>;
    /// Drops deny-list entries whose tokens have expired by `now`.
    async fn purge_revoked_access_tokens(&mut self, now: Timestamp) -> Result<u64>;

    /// Records an assertion's replay key until `expires_at`, if it is not already recorded (an
    /// entry that expired by `now` is replaced). Returns whether this was its first use; of two
    /// concurrent callers with the same key only one gets `true`.
    async fn record_assertion_jti(
        &mut self,
        key: &str,
        client_id: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool>;
    async fn purge_used_assertions(&mut self, now: Timestamp) -> Result<u64>;

    async fn insert_refresh_token(&mut self, token: &RefreshTokenRecord) -> Result<()>;
    async fn refresh_token_by_digest(&mut self, digest: &str) -> Result<Option<RefreshTokenRecord>>;
    /// Rotates the refresh token `digest` presented by `client_id`: if it is current (not
    /// rotated, revoked or expired at `now`), marks it rotated and stores `new_digest` in the same
    /// family with the same account, scope and auth time, expiring at `new_expires_at`. If it was
    /// already rotated, that is reuse: the whole family is revoked. Call it in a `Tx` so the new
    /// token is stored together with the rotation.
    async fn rotate_refresh_token(
        &mut self,
        digest: &str,
        client_id: &str,
        new_digest: &str,
        new_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<RefreshRotation>;
    /// Revokes every unrevoked refresh token `client_id` holds for `account_id` (consent
    /// withdrawn); returns the families they belonged to.
    async fn revoke_refresh_tokens_of(
        &mut self,
        account_id: &str,
        client_id: &str,
        now: Timestamp,
    ) -> Result<Vec<String>>;
    /// Revokes every unrevoked refresh token of the account, for every client (the account was
    /// disabled); returns how many.
    async fn revoke_all_refresh_tokens_of(&mut self, account_id: &str, now: Timestamp) -> Result<u64>;
    /// Revokes every token of a family; returns how many were still unrevoked.
    async fn revoke_refresh_family(&mut self, family_id: &str, now: Timestamp) -> Result<u64>;
    /// Ends every grant `client_id` holds (its integration was disabled or deleted): revokes its
    /// current refresh tokens (rotated and expired ones already fail) and deletes its unused
    /// authorization codes, so neither works again when the integration is enabled again or its
    /// client ID reused. Returns how many of each.
    async fn revoke_client_grants(&mut self, client_id: &str, now: Timestamp) -> Result<ClientGrantsRevoked>;
    /// Deletes refresh tokens that expired before `now`.
    async fn purge_refresh_tokens(&mut self, now: Timestamp) -> Result<u64>;

    async fn insert_authorization_code(&mut self, code: &AuthorizationCodeRecord) -> Result<()>;
    /// Consumes a code once. The first call marks it consumed and records the access token `jti`
    /// and refresh family (if any) that the caller is about to issue from it, in the same
    /// statement, so a second use always finds them to revoke. Later calls get
    /// `AlreadyConsumed` with those values.
    async fn consume_authorization_code(
        &mut self,
        code_digest: &str,
        now: Timestamp,
        issued_jti: &str,
        issued_family_id: Option<&str>,
    ) -> Result<CodeConsumption>;
    /// Deletes codes that expired before `now`.
    async fn purge_authorization_codes(&mut self, now: Timestamp) -> Result<u64>;
}

use gatehouse_domain::identity::session::Session;

/// Browser sessions, keyed by the digest of the cookie value (see
/// `gatehouse_domain::identity::session`). Sessions are bookkeeping of a sign-in that the audit
/// log records separately, so these calls need no audit entry of their own.
#[async_trait]
pub trait SessionStore: AsDb {
    async fn insert_session(&mut self, session: &Session) -> Result<()>;
    async fn session_by_digest(&mut self, id_digest: &str) -> Result<Option<Session>>;
    /// The session and its account in one statement: the lookup behind every signed-in request.
    async fn session_with_account(&mut self, id_digest: &str) -> Result<Option<(Session, Account)>>;
    /// Records a request at `last_seen_at`; returns whether the session exists.
    async fn touch_session(&mut self, id_digest: &str, last_seen_at: Timestamp) -> Result<bool>;
    /// Ends one session; returns whether it existed.
    async fn delete_session(&mut self, id_digest: &str) -> Result<bool>;
    /// Ends one of the account's sessions (the sessions page names them by digest); returns
    /// whether the account had it.
    async fn delete_session_of_account(&mut self, account_id: &str, id_digest: &str) -> Result<bool>;
    /// Ends every session of the account except `keep` (the caller's own, when given); returns
    /// how many ended.
    async fn delete_sessions_of_account(&mut self, account_id: &str, keep: Option<&str>) -> Result<u64>;
    /// The account's sessions, most recently used first (then by digest).
    async fn sessions_of_account(&mut self, account_id: &str) -> Result<Vec<Session>>;
    /// Deletes sessions past their absolute end at `now` or idle for `idle_timeout` seconds.
    async fn purge_sessions(&mut self, now: Timestamp, idle_timeout: i64) -> Result<u64>;
}

/// Failed sign-in attempts per key, shared by every node (see
/// `gatehouse_domain::identity::throttle`). The counts are bookkeeping; the audit log records the
/// attempts themselves.
#[async_trait]
pub trait ThrottleStore: AsDb {
    /// The stored count for `key` of `kind` — `(failures, last_failure)` — held until the
    /// transaction ends, so that nodes deciding about the same key take turns. Call it in a `Tx`.
    async fn lock_throttle(&mut self, kind: &str, key: &str) -> Result<Option<(u32, Timestamp)>>;
    /// The stored count for `key` of `kind`, without holding it.
    async fn throttle(&mut self, kind: &str, key: &str) -> Result<Option<(u32, Timestamp)>>;
    /// Stores the count for `key` of `kind`.
    async fn set_throttle(&mut self, kind: &str, key: &str, failures: u32, last_failure: Timestamp) -> Result<()>;
    /// Takes one failure off `key` of `kind` (an attempt counted in advance that succeeded).
    async fn forgive_throttle(&mut self, kind: &str, key: &str) -> Result<()>;
    /// Forgets `key` of `kind` (a success).
    async fn clear_throttle(&mut self, kind: &str, key: &str) -> Result<()>;
    /// Deletes counts whose last failure is before `before`; returns how many.
    async fn purge_throttles(&mut self, before: Timestamp) -> Result<u64>;
}

/// The kind of a stored second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MfaKind {
    Totp,
    RecoveryCode,
    Passkey,
}

impl MfaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery_code",
            Self::Passkey => "passkey",
        }
    }

    pub fn parse(s: &str) -> std::result::Result<Self, StoreError> {
        match s {
            "totp" => Ok(Self::Totp),
            "recovery_code" => Ok(Self::RecoveryCode),
            "passkey" => Ok(Self::Passkey),
            other => Err(StoreError::Corrupt(format!("unknown second-factor kind {other:?}"))),
        }
    }
}

/// A stored second factor. For TOTP, `secret` is the seed sealed with the master key and
/// `last_used_at` is the start of the last accepted time step (so a code works once); for a
/// recovery code, `secret` is the SHA-256 digest (hex, as bytes) of the code and `last_used_at`
/// is when it was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaFactor {
    pub id: String,
    pub account_id: String,
    pub kind: MfaKind,
    pub label: String,
    pub secret: Option<Vec<u8>>,
    pub data: serde_json::Value,
    pub last_used_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait MfaStore: AsDb {
    async fn insert_mfa_factor(&mut self, factor: &MfaFactor) -> Result<()>;
    /// The account's factors, recovery codes included, oldest first (then by ID).
    async fn mfa_factors_of(&mut self, account_id: &str) -> Result<Vec<MfaFactor>>;
    /// Deletes the account's factors of `kind` (all kinds when `None`); returns how many.
    async fn delete_mfa_factors(&mut self, account_id: &str, kind: Option<MfaKind>) -> Result<u64>;
    /// Records that a TOTP code of the step starting at `step_start` was accepted, if no code of
    /// that or a later step was accepted before. Returns whether it was recorded: of two
    /// concurrent uses of the same code, only one gets `true`.
    async fn record_totp_step(&mut self, factor_id: &str, step_start: Timestamp) -> Result<bool>;
    /// Uses the account's unused recovery code with this digest, once. Returns whether it was
    /// unused (and is now used).
    async fn use_recovery_code(&mut self, account_id: &str, digest: &str, now: Timestamp) -> Result<bool>;
}

use gatehouse_domain::events::{
    health::Window,
    model::{Attempt, DeliveryMethod, EventType, Provider, Registration, RegistrationStatus, SealedSecrets},
    own::NewEvent,
};

/// What publishing an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Stored at `position` with one delivery row per receiving registration.
    New { position: i64, deliveries: u64 },
    /// The same `source` + `id` was published within the deduplication window (at `position`);
    /// nothing was stored.
    Duplicate { position: i64 },
}

impl Published {
    pub fn position(self) -> i64 {
        match self {
            Self::New { position, .. } | Self::Duplicate { position } => position,
        }
    }
}

/// A delivery a worker claimed, with everything needed to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub event_position: i64,
    /// Attempts made before this one.
    pub attempts: i64,
    pub cause: String,
    pub event_code: String,
    pub provider_id: String,
    /// The CloudEvent as published (JSON text).
    pub payload: String,
    pub registration_id: String,
    /// The registration's status when the delivery was claimed.
    pub registration_status: RegistrationStatus,
    pub delivery_method: DeliveryMethod,
    pub webhook_url: Option<String>,
    /// Client ID of the registration's integration (the recipient).
    pub client_id: String,
    pub secrets: Option<SealedSecrets>,
}

/// The result of one attempt, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    pub delivery_id: i64,
    pub registration_id: String,
    pub event_position: i64,
    pub attempted_at: Timestamp,
    pub status_code: Option<u16>,
    pub success: bool,
    pub latency_ms: i64,
    pub response_body: String,
    pub error: Option<String>,
    pub cause: String,
    /// The request as sent and the response's headers, as kept for debugging
    /// (`gatehouse_domain::events::debug`: bounded, credentials masked).
    pub request_headers: Vec<(String, String)>,
    pub request_body: String,
    pub response_headers: Vec<(String, String)>,
    /// What happens next: `None` when delivered or given up; else when to try again.
    pub next_attempt_at: Option<Timestamp>,
    /// The state after this attempt (`delivered`, `pending`, `failed`).
    pub state_after: gatehouse_domain::events::model::DeliveryState,
}

/// Which of a registration's attempts to list: all, or only successes or failures, of one event
/// type or of all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptFilter {
    pub success: Option<bool>,
    pub event_code: Option<String>,
}

/// What waits to be delivered to a registration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Deliveries pending (due now or scheduled for a retry).
    pub pending: i64,
    /// When the next of them is due.
    pub next_attempt_at: Option<Timestamp>,
}

/// One entry of a registration's journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub position: i64,
    /// The CloudEvent as published (JSON text).
    pub payload: String,
    pub created_at: Timestamp,
}

/// A delivery-signing key as stored (private half sealed with the master key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDeliveryKey {
    pub id: String,
    pub private_key_enc: Vec<u8>,
    pub public_pem: String,
    pub created_at: Timestamp,
}

/// Event providers, event types, registrations, the outbox/journal and webhook deliveries.
///
/// Publishing ([`EventStore::publish_event`]) belongs in the caller's [`crate::Tx`]: the event and
/// its delivery rows commit with the change that caused them, or not at all. Dispatch bookkeeping
/// (claims, attempts) needs no audit entry (`commit_unaudited`).
#[async_trait]
pub trait EventStore: AsDb {
    /// Fails with [`StoreError::Conflict`] when the ID is taken.
    async fn insert_provider(&mut self, provider: &Provider) -> Result<()>;
    /// Replaces the label, description, docs URL and `updated_at`; returns whether it exists.
    async fn update_provider(&mut self, provider: &Provider) -> Result<bool>;
    /// Deletes the provider with its event types and subscriptions to them.
    async fn delete_provider(&mut self, id: &str) -> Result<bool>;
    async fn provider_by_id(&mut self, id: &str) -> Result<Option<Provider>>;
    /// Providers visible within `scope` (an organization ID or `account:<id>`): those everyone
    /// sees plus the scope's own; ordered by label then ID. `None`: every provider.
    async fn list_providers(&mut self, scope: Option<&str>) -> Result<Vec<Provider>>;

    /// Fails with [`StoreError::Conflict`] when the provider already has this event code, and
    /// [`StoreError::MissingReference`] when the provider does not exist.
    async fn insert_event_type(&mut self, event_type: &EventType) -> Result<()>;
    /// Replaces the label, description and sample; returns whether it exists.
    async fn update_event_type(&mut self, event_type: &EventType) -> Result<bool>;
    async fn delete_event_type(&mut self, provider_id: &str, event_code: &str) -> Result<bool>;
    async fn delete_event_types_of(&mut self, provider_id: &str) -> Result<u64>;
    async fn event_type(&mut self, provider_id: &str, event_code: &str) -> Result<Option<EventType>>;
    /// A provider's event types, ordered by code.
    async fn event_types_of(&mut self, provider_id: &str) -> Result<Vec<EventType>>;

    /// Stores a registration with its events of interest and sealed secrets.
    async fn insert_registration(&mut self, registration: &Registration, secrets: &SealedSecrets) -> Result<()>;
    /// Replaces every mutable field and the events of interest; returns whether it exists.
    async fn update_registration(&mut self, registration: &Registration) -> Result<bool>;
    /// Changes only the status (with its reason and `unstable_since`); when the registration
    /// stops receiving pushes, its pending deliveries become `skipped`. Returns whether it exists.
    async fn set_registration_status(
        &mut self,
        id: &str,
        status: RegistrationStatus,
        reason: Option<&str>,
        unstable_since: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool>;
    /// Deletes it with its deliveries and attempts.
    async fn delete_registration(&mut self, id: &str) -> Result<bool>;
    async fn registration_by_id(&mut self, id: &str) -> Result<Option<Registration>>;
    /// An integration's registrations, oldest first.
    async fn registrations_of_integration(&mut self, integration_id: &str) -> Result<Vec<Registration>>;
    /// Inside a transaction: holds the integration's row until commit, so two transactions that
    /// count its registrations before adding one take turns (PostgreSQL `FOR UPDATE`; SQLite's
    /// write transactions take turns already). Returns whether the integration exists.
    async fn lock_integration_registrations(&mut self, integration_id: &str) -> Result<bool>;
    /// Every registration of the integrations of an organization, oldest first.
    async fn registrations_of_org(&mut self, org_id: &str) -> Result<Vec<Registration>>;
    async fn registration_secrets(&mut self, id: &str) -> Result<Option<SealedSecrets>>;
    async fn set_registration_secrets(&mut self, id: &str, secrets: &SealedSecrets, now: Timestamp) -> Result<bool>;

    /// Stores the event and one delivery per registration that subscribes to its type and may
    /// receive it (its audience), unless the same `source` + `id` was published less than
    /// `dedup_window` seconds ago. Deliveries start `pending` (due at `now`) for registrations
    /// that receive pushes, `journal` for journal-only ones, `skipped` for the rest. Call it in a
    /// `Tx`; on PostgreSQL it serializes publishers until commit so positions follow commit order.
    async fn publish_event(&mut self, event: &NewEvent, now: Timestamp, dedup_window: i64) -> Result<Published>;

    /// Claims up to `limit` due deliveries (pending, due by `now`, lease free) of registrations
    /// that receive pushes, except those of `exclude`, holding them until `lease_until`. On
    /// PostgreSQL, rows other workers are claiming are skipped (`FOR UPDATE SKIP LOCKED`).
    async fn claim_deliveries(
        &mut self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
        exclude: &[String],
    ) -> Result<Vec<ClaimedDelivery>>;
    /// Gives claimed deliveries back without an attempt.
    async fn release_deliveries(&mut self, ids: &[i64]) -> Result<()>;
    /// Clears every lease (a single-process deployment starting up: no other worker exists).
    async fn release_all_leases(&mut self) -> Result<u64>;
    /// Records an attempt and moves its delivery to the outcome's state.
    async fn record_attempt(&mut self, outcome: &AttemptOutcome) -> Result<()>;
    /// Records many attempts at once: the same effect as [`EventStore::record_attempt`] for each,
    /// in a few statements (one insert for every attempt, one update per delivered status code).
    async fn record_attempts(&mut self, outcomes: &[AttemptOutcome]) -> Result<()>;
    /// Attempts and failures of a registration since `since`.
    async fn health_window(&mut self, registration_id: &str, since: Timestamp) -> Result<Window>;

    /// Queues one event again for one registration (due at `now`); returns whether the
    /// registration's journal has that event.
    async fn resend_delivery(&mut self, registration_id: &str, position: i64, now: Timestamp) -> Result<bool>;
    /// Queues again every failed or skipped delivery of events published since `since`.
    async fn recover_failed(&mut self, registration_id: &str, since: Timestamp, now: Timestamp) -> Result<u64>;
    /// A registration's attempts that `filter` admits, newest first, older than `before_id` when
    /// given.
    async fn attempts_of_registration(
        &mut self,
        registration_id: &str,
        before_id: Option<i64>,
        limit: i64,
        filter: &AttemptFilter,
    ) -> Result<Vec<Attempt>>;
    /// One attempt of a registration.
    async fn attempt_of_registration(&mut self, registration_id: &str, attempt_id: i64) -> Result<Option<Attempt>>;
    /// The deliveries waiting for a registration, and when the next is due.
    async fn delivery_backlog(&mut self, registration_id: &str) -> Result<Backlog>;
    /// The attempts at delivering one event to one registration, oldest first.
    async fn attempts_of_event(&mut self, registration_id: &str, position: i64) -> Result<Vec<Attempt>>;
    /// The state of one event's delivery to one registration.
    async fn delivery_state(
        &mut self,
        registration_id: &str,
        position: i64,
    ) -> Result<Option<(gatehouse_domain::events::model::DeliveryState, i64)>>;

    /// A registration's journal after `after` up to `upto` (a horizon from
    /// [`EventStore::journal_horizon`]), oldest first, at most `limit` entries.
    async fn journal_after(
        &mut self,
        registration_id: &str,
        after: i64,
        upto: i64,
        limit: i64,
    ) -> Result<Vec<JournalEntry>>;
    /// The position just before the first journal entry published at or after `at`.
    async fn journal_position_before(&mut self, registration_id: &str, at: Timestamp) -> Result<i64>;
    /// The journal horizon: every event at or below it has committed or will never appear, so a
    /// reader that has read up to it can never miss one (0 when nothing was ever published). It
    /// never goes backwards. On PostgreSQL it may wait a moment for publishers in flight, and
    /// fails with [`StoreError::Busy`] when one stays open for seconds.
    async fn journal_horizon(&mut self) -> Result<i64>;
    /// The lowest position still stored (0 when there is none); older ones are past retention.
    async fn first_event_position(&mut self) -> Result<i64>;
    /// When the event at `position` was published, if it is still stored.
    async fn event_published_at(&mut self, position: i64) -> Result<Option<Timestamp>>;
    /// Deletes events published before `before` (with their deliveries and attempts), except the
    /// newest event, and expired deduplication records; returns how many events went.
    async fn purge_events(&mut self, before: Timestamp, now: Timestamp) -> Result<u64>;

    async fn insert_delivery_key(&mut self, key: &StoredDeliveryKey) -> Result<()>;
    /// Every stored delivery-signing key, oldest first.
    async fn list_delivery_keys(&mut self) -> Result<Vec<StoredDeliveryKey>>;
    async fn delete_delivery_keys_before(&mut self, created_before: Timestamp) -> Result<u64>;
}

use gatehouse_domain::console::cutoff::TokenCutoff;

/// The developer console's queries and bookkeeping beyond [`IntegrationStore`]: integrations by
/// owner, subscriptions by service, token cutoffs (see `gatehouse_domain::console::cutoff`) and
/// the certificate expiry notices already sent.
#[async_trait]
pub trait ConsoleStore: AsDb {
    /// A person's personal integrations, ordered by creation then ID.
    async fn integrations_of_account(&mut self, account_id: &str) -> Result<Vec<Integration>>;
    /// An organization's integrations, ordered by creation then ID.
    async fn integrations_of_org(&mut self, org_id: &str) -> Result<Vec<Integration>>;
    /// Every subscription to the service, ordered by integration ID (byte order).
    async fn subscriptions_of_service(&mut self, code: &ServiceCode) -> Result<Vec<Subscription>>;

    /// Records a cutoff; an existing one for the same client and scope keeps the later instant.
    async fn record_token_cutoff(&mut self, cutoff: &TokenCutoff) -> Result<()>;
    /// The client's cutoffs, every-scope ones first, then by scope.
    async fn token_cutoffs_of(&mut self, client_id: &str) -> Result<Vec<TokenCutoff>>;
    /// Forgets cutoffs recorded before `before` (no token they concern is still live); returns how many.
    async fn purge_token_cutoffs(&mut self, before: Timestamp) -> Result<u64>;

    /// Active certificates that expire after `after` and at or before `until`, by expiry then ID.
    async fn certificates_expiring(&mut self, after: Timestamp, until: Timestamp) -> Result<Vec<StoredCertificate>>;
    /// The expiry notices (days before expiry) already sent for a certificate, in ascending order.
    async fn certificate_notices(&mut self, certificate_id: &str) -> Result<Vec<i64>>;
    /// Records a notice unless it was already recorded; returns whether this call recorded it
    /// (of two nodes checking at once, only one sends the notice).
    async fn record_certificate_notice(&mut self, certificate_id: &str, days: i64, at: Timestamp) -> Result<bool>;
}

/// A private key generated in the console, sealed with the master key, waiting for its one download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPrivateKey {
    pub digest: String,
    pub integration_id: String,
    pub certificate_id: String,
    pub sealed: Vec<u8>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Generated private keys between their creation and their one download.
#[async_trait]
pub trait PendingKeyStore: AsDb {
    async fn insert_pending_key(&mut self, key: &PendingPrivateKey) -> Result<()>;
    /// Removes and returns the integration's pending key with this digest if it has not expired at
    /// `now`. Atomic: of two concurrent downloads only one gets the key.
    async fn take_pending_key(
        &mut self,
        digest: &str,
        integration_id: &str,
        now: Timestamp,
    ) -> Result<Option<PendingPrivateKey>>;
    /// Whether the integration's key with this digest still waits for its download at `now`.
    async fn pending_key_waits(&mut self, digest: &str, integration_id: &str, now: Timestamp) -> Result<bool>;
    /// Deletes keys that expired at or before `now`; returns how many.
    async fn purge_pending_keys(&mut self, now: Timestamp) -> Result<u64>;
}

/// A registered passkey. `passkey` is `webauthn-rs`'s `Passkey` as JSON text (public key,
/// signature counter, backup flags); `credential_id` is its credential ID as unpadded base64url,
/// unique across all accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    pub id: String,
    pub account_id: String,
    pub credential_id: String,
    pub name: String,
    pub passkey: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A started passkey ceremony: the state `webauthn-rs` needs to finish it (JSON text), keyed by
/// the digest of a random value the browser holds. `kind` is a
/// `gatehouse_domain::identity::passkey::CeremonyKind` and `binding` names who started it
/// (a session or a pending sign-in); finishing requires both to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyCeremony {
    pub id_digest: String,
    pub kind: String,
    pub binding: String,
    pub state: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Passkeys and their ceremonies. Adding, renaming and removing a passkey are changes a person
/// made (write them in a `Tx` with an audit entry); recording a use and ceremony bookkeeping are
/// not. Every check-and-change is one conditional statement, so it holds when requests race.
#[async_trait]
pub trait PasskeyStore: AsDb {
    /// Fails with [`StoreError::Conflict`] when the credential ID is registered already (to any
    /// account) or the ID is taken.
    async fn insert_passkey(&mut self, passkey: &StoredPasskey) -> Result<()>;
    /// The account's passkeys, oldest first (then by ID).
    async fn passkeys_of(&mut self, account_id: &str) -> Result<Vec<StoredPasskey>>;
    async fn passkey_by_credential_id(&mut self, credential_id: &str) -> Result<Option<StoredPasskey>>;
    /// Renames one of the account's passkeys; returns whether the account has it.
    async fn rename_passkey(&mut self, account_id: &str, id: &str, name: &str) -> Result<bool>;
    /// Removes one of the account's passkeys; returns whether the account had it.
    async fn delete_passkey(&mut self, account_id: &str, id: &str) -> Result<bool>;
    /// Records a use: replaces the stored passkey JSON with `updated` and sets `last_used_at`,
    /// only if it still is `previous` (compare-and-set). Returns whether it was recorded: of two
    /// concurrent uses of the same signature counter value, only one gets `true`, and a passkey
    /// removed meanwhile gets `false`.
    async fn record_passkey_use(&mut self, id: &str, previous: &str, updated: &str, now: Timestamp) -> Result<bool>;

    async fn insert_passkey_ceremony(&mut self, ceremony: &PasskeyCeremony) -> Result<()>;
    /// Removes and returns the ceremony with this digest if its kind and binding match and it has
    /// not expired at `now`. Single use: of two concurrent callers only one gets it.
    async fn take_passkey_ceremony(
        &mut self,
        id_digest: &str,
        kind: &str,
        binding: &str,
        now: Timestamp,
    ) -> Result<Option<PasskeyCeremony>>;
    /// Deletes ceremonies that expired at or before `now`; returns how many.
    async fn purge_passkey_ceremonies(&mut self, now: Timestamp) -> Result<u64>;
}

/// Gateway calls counted for one integration, service, UTC day and outcome (`allowed` or the code
/// of a refusal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageCount {
    pub integration_id: String,
    pub service_code: String,
    pub day: i64,
    pub outcome: String,
    pub requests: i64,
}

/// The gateway's usage counters. Adding counts is bookkeeping (commit it unaudited, and it does not
/// bump the catalog generation).
#[async_trait]
pub trait GatewayStore: AsDb {
    /// Adds each count to the stored one; counts of an integration or service deleted meanwhile
    /// are dropped.
    async fn add_usage(&mut self, counts: &[UsageCount]) -> Result<()>;
    /// An integration's counts from `since_day` on, by day, service and outcome.
    async fn usage_of(&mut self, integration_id: &str, since_day: i64) -> Result<Vec<UsageCount>>;
    /// Allowed calls of one integration to one service from `first_day` to `last_day` (inclusive),
    /// as every node has added them.
    async fn allowed_between(
        &mut self,
        integration_id: &str,
        service_code: &str,
        first_day: i64,
        last_day: i64,
    ) -> Result<i64>;
    /// Deletes counts of days before `before_day`; returns how many rows went.
    async fn purge_usage(&mut self, before_day: i64) -> Result<u64>;
    /// Takes up to `lease` calls from the budget of `cap` calls that one integration has on one
    /// service during the Unix second `second`, shared by every node; returns how many it got
    /// (zero when the second's budget is spent). Atomic: the nodes together never get more than
    /// `cap` in one second.
    async fn take_rate_lease(
        &mut self,
        integration_id: &str,
        service_code: &str,
        second: i64,
        cap: u32,
        lease: u32,
    ) -> Result<u32>;
    /// Deletes the per-second budgets of seconds before `before_second`.
    async fn purge_rate_windows(&mut self, before_second: i64) -> Result<u64>;
}

use gatehouse_domain::identity::email_domain::DomainClaim;

/// Email domains organizations claim (`org_domains`).
#[async_trait]
pub trait DomainStore: AsDb {
    /// Records a new claim; fails with [`StoreError::Conflict`] when the organization has claimed
    /// this domain already.
    async fn insert_domain_claim(&mut self, claim: &DomainClaim) -> Result<()>;
    /// Marks the claim verified; fails with [`StoreError::Conflict`] when another organization
    /// holds the domain verified. Returns whether there was such a claim.
    async fn mark_domain_verified(&mut self, claim: &DomainClaim) -> Result<bool>;
    /// Returns whether there was such a claim.
    async fn delete_domain_claim(&mut self, org_id: &str, domain: &str) -> Result<bool>;
    async fn domain_claim(&mut self, org_id: &str, domain: &str) -> Result<Option<DomainClaim>>;
    /// The organization's claims, by domain.
    async fn domain_claims_of_org(&mut self, org_id: &str) -> Result<Vec<DomainClaim>>;
    /// Every organization's claims, by organization then domain (for `gatehouse export`).
    async fn list_domain_claims(&mut self) -> Result<Vec<DomainClaim>>;
}

/// Counters of outgoing mail per key in fixed windows (`mail_quota`), shared by every node.
#[async_trait]
pub trait MailQuotaStore: AsDb {
    /// Counts one message for `key` in the window starting at `window_start` and returns how many
    /// that window holds now, this one included. One statement, so concurrent callers on any
    /// node each get a distinct count.
    async fn count_mail(&mut self, key: &str, window_start: Timestamp) -> Result<i64>;
    /// Deletes the windows that started before `before`; returns how many.
    async fn purge_mail_quota(&mut self, before: Timestamp) -> Result<u64>;
}

/// When credentials were last used (`last_used_at` of integrations and client secrets).
/// Recording is bookkeeping: commit it unaudited.
#[async_trait]
pub trait LastUsedStore: AsDb {
    /// Sets the last use of each integration and client secret (by ID) to the given time, unless
    /// a later one is stored already; IDs that no longer exist are skipped.
    async fn record_last_used(
        &mut self,
        integrations: &[(String, Timestamp)],
        secrets: &[(String, Timestamp)],
    ) -> Result<()>;
    /// The last use of each of these integrations that has been used (the others are absent).
    async fn integrations_last_used(&mut self, ids: &[String]) -> Result<std::collections::HashMap<String, Timestamp>>;
}
