-- The API gateway: how a service hands the caller's identity to its upstream ('signed': a JWT
-- Gatehouse signs; 'token': the caller's access token), the default limits of every subscribed
-- integration, and per subscription the limits that override them (NULL: the service's default).
ALTER TABLE services ADD COLUMN gateway_identity TEXT NOT NULL DEFAULT 'signed'
    CHECK (gateway_identity IN ('signed', 'token'));
ALTER TABLE services ADD COLUMN rate_per_second BIGINT;
ALTER TABLE services ADD COLUMN rate_burst BIGINT;
ALTER TABLE services ADD COLUMN daily_quota BIGINT;
ALTER TABLE subscriptions ADD COLUMN rate_per_second BIGINT;
ALTER TABLE subscriptions ADD COLUMN rate_burst BIGINT;
ALTER TABLE subscriptions ADD COLUMN daily_quota BIGINT;

-- Gateway calls per integration, service and UTC day (days since the epoch), by outcome: 'allowed'
-- or the code of the refusal. Each node adds what it counted every few seconds.
CREATE TABLE gateway_usage (
    integration_id  TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
    service_code    TEXT NOT NULL REFERENCES services(code) ON DELETE CASCADE,
    day             BIGINT NOT NULL,
    outcome         TEXT NOT NULL,
    requests        BIGINT NOT NULL,
    PRIMARY KEY (integration_id, service_code, day, outcome)
);
