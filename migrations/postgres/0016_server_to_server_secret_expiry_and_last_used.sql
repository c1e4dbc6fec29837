-- OAuth Server-to-Server credentials, client secrets that expire, and when each credential was
-- last used. (The integration type 'server_to_server' itself is allowed by migration 0015.)
-- Keep in step with migrations/sqlite (same versions and names).

-- A Service Account (JWT) credential is replaced by an OAuth Server-to-Server one on the same
-- technical account and services, so every service that allows service_account now allows
-- server_to_server too. allowed_types is a JSON list that is never empty: the new type is appended
-- before its closing bracket.
UPDATE services
   SET allowed_types = substr(rtrim(allowed_types), 1, length(rtrim(allowed_types)) - 1) || ',"server_to_server"]'
 WHERE allowed_types LIKE '%"service_account"%'
   AND allowed_types NOT LIKE '%"server_to_server"%';

-- When a client secret stops authenticating (Unix seconds); NULL: never.
ALTER TABLE client_secrets ADD COLUMN expires_at BIGINT;

-- When a secret last authenticated a client, and when a credential (integration) was last used:
-- a token issued to it by any grant, its API key accepted by the gateway or /oauth/api-key-check.
-- Written at most once a minute per credential and node (gatehouse_core::tokens::last_used), so
-- precise to about a minute; NULL: never used since this migration.
ALTER TABLE client_secrets ADD COLUMN last_used_at BIGINT;
ALTER TABLE integrations ADD COLUMN last_used_at BIGINT;
