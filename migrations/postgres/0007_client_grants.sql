-- Disabling or deleting an integration revokes its client's refresh tokens and deletes its unused
-- authorization codes (TokenStore::revoke_client_grants); these indexes find them by client ID.
-- Keep in step with the other dialect (same versions and names).

CREATE INDEX refresh_tokens_client ON refresh_tokens(client_id);
CREATE INDEX authorization_codes_client ON authorization_codes(client_id);
