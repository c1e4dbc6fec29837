-- User grants of the token service: how the person authenticated (RFC 8176 `amr` values,
-- space-separated) travels from the authorization code to the refresh tokens, so ID tokens can
-- say it; and revoking a person's consent finds that person's refresh tokens for a client.
-- Keep in step with the other dialect (same versions and names).

ALTER TABLE authorization_codes ADD COLUMN amr TEXT;
ALTER TABLE refresh_tokens ADD COLUMN amr TEXT;
CREATE INDEX refresh_tokens_account_client ON refresh_tokens(account_id, client_id);
CREATE INDEX consents_integration ON consents(integration_id);
