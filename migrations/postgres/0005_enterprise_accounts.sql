-- Enterprise accounts belong to one organization, whose admins manage them (disable, re-enable, reset the
-- password or the second factors). NULL for personal accounts. Keep in step with the other dialect
-- (same versions and names).
ALTER TABLE accounts ADD COLUMN owner_org_id TEXT REFERENCES organizations(id) ON DELETE SET NULL;
CREATE INDEX accounts_owner_org ON accounts(owner_org_id);
