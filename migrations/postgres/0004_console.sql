-- Developer console (PostgreSQL dialect): token cutoffs (a console change that ends a client's issued access
-- tokens — all of them, or those carrying one scope — records the instant; introspection consults
-- it), the certificate expiry notices already sent, and private keys generated in the console
-- waiting for their one download. Keep in step with migrations/sqlite (same versions and names).

-- No foreign key: the cutoffs of a deleted integration must outlive it. scope '' means every scope.
CREATE TABLE token_cutoffs (
    client_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    cutoff_at  BIGINT NOT NULL,
    PRIMARY KEY (client_id, scope)
);
CREATE INDEX token_cutoffs_at ON token_cutoffs(cutoff_at);

CREATE TABLE certificate_notices (
    certificate_id  TEXT NOT NULL REFERENCES certificates(id) ON DELETE CASCADE,
    days_before     BIGINT NOT NULL,
    sent_at         BIGINT NOT NULL,
    PRIMARY KEY (certificate_id, days_before)
);

-- A generated private key, sealed with the master key, until its one download (then deleted) or
-- expiry (then purged). Gatehouse keeps only the certificate.
CREATE TABLE pending_private_keys (
    digest          TEXT PRIMARY KEY,
    integration_id  TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    certificate_id  TEXT NOT NULL,
    sealed          BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX pending_private_keys_expiry ON pending_private_keys(expires_at);

CREATE INDEX certificates_expiry ON certificates(not_after);
CREATE INDEX subscriptions_service ON subscriptions(service_code);
CREATE INDEX integrations_created_by ON integrations(created_by);
