-- Events: the outbox and journal, deliveries with leases, attempts, deduplication and the
-- delivery-signing keys; Gatehouse's own provider and event types. Keep in step with
-- migrations/postgres (same versions and names).
--
-- The first schema's events, deliveries and delivery_attempts tables were never written to; they
-- are replaced by the shapes below.

DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE events;

-- Who may see a custom provider: the owning integration's organization, or account:<id> for a
-- personal integration. NULL: everyone (Gatehouse itself, services of the catalog).
ALTER TABLE event_providers ADD COLUMN owner_scope TEXT;
ALTER TABLE event_providers ADD COLUMN instance_id TEXT;
CREATE INDEX event_providers_owner ON event_providers(owner_integration_id);
CREATE INDEX event_providers_scope ON event_providers(owner_scope);

ALTER TABLE event_registrations ADD COLUMN unstable_since INTEGER;
ALTER TABLE event_registrations ADD COLUMN status_reason TEXT;
CREATE INDEX event_registrations_integration ON event_registrations(integration_id);
CREATE INDEX registration_event_types_type ON registration_event_types(provider_id, event_code);

-- The outbox and journal: every published event, positions in commit order (publishers
-- serialize on PostgreSQL, and SQLite has one writer).
CREATE TABLE events (
    position     INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL,
    source       TEXT NOT NULL,
    event_code   TEXT NOT NULL,
    provider_id  TEXT NOT NULL,
    -- '*', 'org:<id>' or 'account:<id>': whose registrations receive it.
    audience     TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX events_created ON events(created_at);

-- source + id of recent publications: a repeat within the window is accepted, not delivered again.
CREATE TABLE event_dedup (
    source      TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    position    INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (source, event_id)
);
CREATE INDEX event_dedup_expiry ON event_dedup(expires_at);

-- One row per event and registration: the registration's journal, and its push state.
CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    event_position   INTEGER NOT NULL REFERENCES events(position) ON DELETE CASCADE,
    registration_id  TEXT NOT NULL REFERENCES event_registrations(id) ON DELETE CASCADE,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'journal', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    -- A worker holds the delivery until then; an expired lease makes it claimable again.
    lease_until      INTEGER,
    last_status      INTEGER,
    -- What queued the next attempt: scheduled, resend or recover.
    cause            TEXT NOT NULL DEFAULT 'scheduled',
    updated_at       INTEGER NOT NULL,
    UNIQUE (registration_id, event_position)
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_event ON deliveries(event_position);

CREATE TABLE delivery_attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id      INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    registration_id  TEXT NOT NULL,
    event_position   INTEGER NOT NULL,
    attempted_at     INTEGER NOT NULL,
    status_code      INTEGER,
    success          BOOLEAN NOT NULL,
    latency_ms       INTEGER NOT NULL,
    response_body    TEXT NOT NULL DEFAULT '',
    error            TEXT,
    cause            TEXT NOT NULL
);
CREATE INDEX delivery_attempts_registration ON delivery_attempts(registration_id, attempted_at);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id);

-- RSA keys that sign deliveries (x-adobe-digital-signature-1/-2); the private half is sealed
-- with the master key.
CREATE TABLE event_signing_keys (
    id               TEXT PRIMARY KEY,
    private_key_enc  BLOB NOT NULL,
    public_pem       TEXT NOT NULL,
    created_at       INTEGER NOT NULL
);

-- Gatehouse publishes events about itself as this provider.
INSERT INTO event_providers (id, label, description, docs_url, service_code, owner_integration_id, owner_scope,
                             instance_id, created_at, updated_at)
VALUES ('8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21', 'Gatehouse',
        'Changes to organizations, integrations and their credentials, and failed sign-ins.', NULL, NULL, NULL, NULL,
        NULL, 0, 0);

INSERT INTO event_types (provider_id, event_code, label, description, created_at) VALUES
    ('8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21', 'gatehouse.integration.created', 'Integration created', 'An integration of the organization was created.', 0),
    ('8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21', 'gatehouse.integration.updated', 'Integration updated', 'An integration''s settings changed.', 0),
    ('8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21', 'gatehouse.integration.deleted', 'Integration deleted', 'An integration was deleted.', 0),
    ('8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21', 'gatehouse.credential.rotated', 'Credential rotated', 'A client secret or certificate of an integration was added or revoked.', 0),
    ('8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21', 'gatehouse.certificate.expiring', 'Certificate expiring', 'A service account certificate expires soon.', 0),
    ('8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21', 'gatehouse.subscription.changed', 'Subscription changed', 'An integration subscribed to a service, or its scopes changed.', 0),
    ('8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21', 'gatehouse.signin.failed', 'Sign-in failed', 'A member''s sign-in failed.', 0),
    ('8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21', 'gatehouse.member.added', 'Member added', 'Someone joined the organization, or their role changed.', 0),
    ('8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21', 'gatehouse.member.removed', 'Member removed', 'Someone left the organization.', 0),
    ('8c2f1d54-6a0b-4d2e-9f3a-7b1e0c9d4a21', 'gatehouse.registration.disabled', 'Event registration disabled', 'An event registration was disabled because its endpoint kept failing.', 0);
