-- Gatehouse schema, PostgreSQL dialect. Keep in step with migrations/sqlite (same versions and names).
-- Instants are Unix seconds (BIGINT); lists and documents are JSON text.

CREATE TABLE accounts (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    account_type    TEXT NOT NULL CHECK (account_type IN ('personal', 'enterprise')),
    display_name    TEXT NOT NULL DEFAULT '',
    given_name      TEXT NOT NULL DEFAULT '',
    family_name     TEXT NOT NULL DEFAULT '',
    country         TEXT NOT NULL DEFAULT '',
    email_verified  BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash   TEXT,
    operator        BOOLEAN NOT NULL DEFAULT FALSE,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE organizations (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    require_mfa  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE memberships (
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'member')),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, account_id)
);
CREATE INDEX memberships_account ON memberships(account_id);

-- Second factors: TOTP secrets (encrypted), recovery codes (digests), passkeys.
CREATE TABLE mfa_factors (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('totp', 'recovery_code', 'passkey')),
    label         TEXT NOT NULL DEFAULT '',
    secret        BYTEA,
    data          TEXT NOT NULL DEFAULT '{}',
    last_used_at  BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX mfa_factors_account ON mfa_factors(account_id);

-- Browser sessions; the cookie holds a random value whose digest is the key.
CREATE TABLE sessions (
    id_digest     TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    auth_methods  TEXT NOT NULL DEFAULT '[]',
    auth_time     BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    ip            TEXT,
    user_agent    TEXT
);
CREATE INDEX sessions_account ON sessions(account_id);

-- One-time links: bootstrap, email verification, invitations, password resets.
CREATE TABLE one_time_tokens (
    digest      TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL,
    account_id  TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    org_id      TEXT REFERENCES organizations(id) ON DELETE CASCADE,
    payload     TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE TABLE services (
    code           TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    allowed_types  TEXT NOT NULL,
    scopes         TEXT NOT NULL DEFAULT '[]',
    acts_for       TEXT NOT NULL CHECK (acts_for IN ('user', 'organization')),
    upstream_url   TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE integrations (
    id                       TEXT PRIMARY KEY,
    client_id                TEXT NOT NULL UNIQUE,
    name                     TEXT NOT NULL,
    description              TEXT NOT NULL DEFAULT '',
    integration_type         TEXT NOT NULL CHECK (integration_type IN ('oauth', 'service_account', 'api_key')),
    platform                 TEXT CHECK (platform IN ('web', 'spa', 'native')),
    owner_account_id         TEXT REFERENCES accounts(id) ON DELETE RESTRICT,
    org_id                   TEXT REFERENCES organizations(id) ON DELETE RESTRICT,
    created_by               TEXT REFERENCES accounts(id) ON DELETE SET NULL,
    redirect_uri             TEXT,
    redirect_patterns        TEXT NOT NULL DEFAULT '[]',
    technical_account_id     TEXT UNIQUE,
    technical_account_email  TEXT UNIQUE,
    status                   TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at               BIGINT NOT NULL,
    updated_at               BIGINT NOT NULL,
    CHECK ((owner_account_id IS NULL) <> (org_id IS NULL))
);
CREATE INDEX integrations_org ON integrations(org_id);
CREATE INDEX integrations_owner ON integrations(owner_account_id);

CREATE TABLE client_secrets (
    id              TEXT PRIMARY KEY,
    integration_id  TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    digest          TEXT NOT NULL,
    hint            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX client_secrets_integration ON client_secrets(integration_id);

CREATE TABLE certificates (
    id              TEXT PRIMARY KEY,
    integration_id  TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    fingerprint     TEXT NOT NULL,
    pem             TEXT NOT NULL,
    not_before      BIGINT NOT NULL,
    not_after       BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT,
    UNIQUE (integration_id, fingerprint)
);

CREATE TABLE subscriptions (
    integration_id  TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    service_code    TEXT NOT NULL REFERENCES services(code) ON DELETE RESTRICT,
    scopes          TEXT NOT NULL DEFAULT '[]',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (integration_id, service_code)
);

-- Remembered consent per account and integration.
CREATE TABLE consents (
    account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    integration_id  TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    scopes          TEXT NOT NULL DEFAULT '[]',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, integration_id)
);

-- Token-signing keys; the private half is encrypted with the master key.
CREATE TABLE signing_keys (
    kid               TEXT PRIMARY KEY,
    alg               TEXT NOT NULL,
    private_key_enc   BYTEA NOT NULL,
    public_jwk        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    activates_at      BIGINT NOT NULL,
    retires_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL
);

CREATE TABLE authorization_codes (
    code_digest            TEXT PRIMARY KEY,
    client_id              TEXT NOT NULL,
    account_id             TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    redirect_uri           TEXT NOT NULL,
    scope                  TEXT NOT NULL,
    code_challenge         TEXT,
    code_challenge_method  TEXT,
    nonce                  TEXT,
    auth_time              BIGINT NOT NULL,
    created_at             BIGINT NOT NULL,
    expires_at             BIGINT NOT NULL,
    consumed_at            BIGINT,
    -- Tokens issued from this code, so a second use can revoke them.
    issued_family_id       TEXT,
    issued_jti             TEXT
);

CREATE TABLE refresh_tokens (
    digest       TEXT PRIMARY KEY,
    family_id    TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    account_id   TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    scope        TEXT NOT NULL,
    auth_time    BIGINT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    rotated_at   BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

-- Access tokens are JWTs; revoking one puts its jti here until it would have expired.
CREATE TABLE revoked_tokens (
    jti         TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    revoked_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- Service-account assertion jti values seen, for replay protection.
CREATE TABLE used_assertions (
    jti         TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE event_providers (
    id                    TEXT PRIMARY KEY,
    label                 TEXT NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    docs_url              TEXT,
    service_code          TEXT REFERENCES services(code) ON DELETE CASCADE,
    owner_integration_id  TEXT REFERENCES integrations(id) ON DELETE CASCADE,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);

CREATE TABLE event_types (
    provider_id  TEXT NOT NULL REFERENCES event_providers(id) ON DELETE CASCADE,
    event_code   TEXT NOT NULL,
    label        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    sample       TEXT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (provider_id, event_code)
);

CREATE TABLE event_registrations (
    id                TEXT PRIMARY KEY,
    integration_id    TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    delivery_method   TEXT NOT NULL CHECK (delivery_method IN ('webhook', 'webhook_batch', 'journal')),
    webhook_url       TEXT,
    status            TEXT NOT NULL CHECK (status IN ('unverified', 'active', 'unstable', 'disabled')),
    secret_enc        BYTEA,
    previous_secret_enc BYTEA,
    previous_secret_expires_at BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

CREATE TABLE registration_event_types (
    registration_id  TEXT NOT NULL REFERENCES event_registrations(id) ON DELETE CASCADE,
    provider_id      TEXT NOT NULL REFERENCES event_providers(id) ON DELETE CASCADE,
    event_code       TEXT NOT NULL,
    PRIMARY KEY (registration_id, provider_id, event_code)
);

-- The outbox and journal: every published event, in commit order.
CREATE TABLE events (
    position      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            TEXT NOT NULL,
    source        TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    provider_id   TEXT NOT NULL,
    org_id        TEXT,
    payload       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (source, id)
);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    event_position   BIGINT NOT NULL REFERENCES events(position) ON DELETE CASCADE,
    registration_id  TEXT NOT NULL REFERENCES event_registrations(id) ON DELETE CASCADE,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);

CREATE TABLE delivery_attempts (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id    TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    attempted_at   BIGINT NOT NULL,
    status_code    BIGINT,
    latency_ms     BIGINT NOT NULL,
    response_body  TEXT NOT NULL DEFAULT '',
    error          TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id);

-- Append-only: no code path updates or deletes rows here.
CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    org_id      TEXT,
    ip          TEXT,
    user_agent  TEXT,
    details     TEXT NOT NULL DEFAULT 'null'
);
CREATE INDEX audit_log_org ON audit_log(org_id, id);

-- Bumped by every write that cached data depends on; nodes poll it to invalidate caches.
CREATE TABLE cache_generations (
    name        TEXT PRIMARY KEY,
    generation  BIGINT NOT NULL
);
INSERT INTO cache_generations (name, generation) VALUES ('catalog', 0);
