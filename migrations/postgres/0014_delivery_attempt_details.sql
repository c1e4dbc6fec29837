-- What each delivery attempt sent and received, for debugging a webhook from the console: the
-- request's headers (signatures included) and body, and the response's headers. Headers are JSON
-- arrays of [name, value] with credentials masked; bodies are kept up to a bound (see
-- gatehouse_domain::events::debug). Attempts recorded before this migration have none.
-- Keep in step with migrations/sqlite (same versions and names).
ALTER TABLE delivery_attempts ADD COLUMN request_headers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE delivery_attempts ADD COLUMN request_body TEXT NOT NULL DEFAULT '';
ALTER TABLE delivery_attempts ADD COLUMN response_headers TEXT NOT NULL DEFAULT '[]';
