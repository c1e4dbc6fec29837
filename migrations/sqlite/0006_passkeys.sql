-- Passkeys (WebAuthn credentials) and the server-side state of passkey ceremonies.
-- Keep in step with migrations/postgres (same versions and names).

-- One row per registered credential. `passkey` is webauthn-rs's Passkey as JSON: the public
-- key, the signature counter and the backup flags; it is rewritten after each use.
CREATE TABLE passkeys (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    credential_id  TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    passkey        TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER
);
CREATE INDEX passkeys_account ON passkeys(account_id);

-- A started ceremony: the challenge state webauthn-rs must get back to finish it, keyed by the
-- digest of a random value the browser holds, bound to the session or pending sign-in that
-- started it, used once (deleted when taken) and short-lived.
CREATE TABLE passkey_ceremonies (
    id_digest   TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('registration', 'second_factor', 'passwordless')),
    binding     TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX passkey_ceremonies_expiry ON passkey_ceremonies(expires_at);
