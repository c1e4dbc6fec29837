-- The algorithm an OAuth integration registered for its ID tokens (OpenID Connect Registration
-- `id_token_signed_response_alg`); NULL signs them with the configured algorithm.
ALTER TABLE integrations ADD COLUMN id_token_signed_response_alg TEXT
    CHECK (id_token_signed_response_alg IN ('RS256', 'ES256'));
-- Whether an integration may introspect tokens issued to other clients (a resource server);
-- only an operator grants it. Without it, an integration introspects its own tokens only.
ALTER TABLE integrations ADD COLUMN may_introspect BOOLEAN NOT NULL DEFAULT FALSE;
-- Whether the authorization request sent redirect_uri: the token request must then repeat it
-- (RFC 6749 §4.1.3).
ALTER TABLE authorization_codes ADD COLUMN redirect_uri_sent BOOLEAN NOT NULL DEFAULT FALSE;
