-- Email domains organizations claim, and the counters that limit outgoing mail.
-- Keep in step with migrations/postgres (same versions and names).

-- An organization creates enterprise accounts only in a domain it has verified: by a TXT record
-- `_gatehouse.<domain>` carrying `gatehouse-verification=<token>`, or by an operator's approval.
-- Several organizations may claim a domain; only one may hold it verified.
CREATE TABLE org_domains (
    org_id       TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    domain       TEXT NOT NULL,
    token        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    verified_at  INTEGER,
    verified_by  TEXT CHECK (verified_by IN ('dns', 'operator')),
    PRIMARY KEY (org_id, domain)
);
CREATE UNIQUE INDEX org_domains_verified ON org_domains(domain) WHERE verified_at IS NOT NULL;

-- Messages sent per key (`to:<address>`, `ip:<client address>`) in fixed windows. In the database
-- rather than in memory so that a limit holds across the nodes sharing it.
CREATE TABLE mail_quota (
    key           TEXT NOT NULL,
    window_start  INTEGER NOT NULL,
    sent          INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX mail_quota_window ON mail_quota(window_start);
