-- A service's own gateway path prefix ('/stock/v2'), besides /services/{code}; unique when set.
ALTER TABLE services ADD COLUMN gateway_path TEXT;
CREATE UNIQUE INDEX services_gateway_path ON services (gateway_path) WHERE gateway_path IS NOT NULL;

-- Monthly quotas (requests per UTC calendar month) beside the daily ones: the service's default,
-- and a subscription's own (NULL: the service's).
ALTER TABLE services ADD COLUMN monthly_quota BIGINT;
ALTER TABLE subscriptions ADD COLUMN monthly_quota BIGINT;

-- API keys restricted to web origins: a JSON list of domains ('example.com', '*.example.com');
-- '[]' allows calls from anywhere.
ALTER TABLE integrations ADD COLUMN allowed_domains TEXT NOT NULL DEFAULT '[]';

-- The per-second rate shared by every node: calls the nodes took from one integration's budget on
-- one service during one second (Unix time), leased in chunks. Rows older than a minute are purged.
CREATE TABLE gateway_rate_windows (
    integration_id  TEXT NOT NULL,
    service_code    TEXT NOT NULL,
    second          BIGINT NOT NULL,
    taken           BIGINT NOT NULL,
    last_lease      BIGINT NOT NULL,
    PRIMARY KEY (integration_id, service_code, second)
);
