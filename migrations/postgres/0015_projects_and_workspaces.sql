-- Projects and workspaces. A project (owned, like an integration, by an organization or a
-- personal account) holds workspaces — "Production" first, then any others such as "Stage" — and
-- every integration (credential) lives in one workspace.
--
-- Every existing integration becomes a project of its own, with the same ID (so event paths that
-- named the integration as their project keep working) and one "Production" workspace holding it.
-- Integrations also accept the `server_to_server` type.

CREATE TABLE projects (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    title             TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    owner_account_id  TEXT REFERENCES accounts(id) ON DELETE RESTRICT,
    org_id            TEXT REFERENCES organizations(id) ON DELETE RESTRICT,
    created_by        TEXT REFERENCES accounts(id) ON DELETE SET NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    CHECK ((owner_account_id IS NULL) <> (org_id IS NULL))
);
CREATE UNIQUE INDEX projects_org_name ON projects(org_id, name) WHERE org_id IS NOT NULL;
CREATE UNIQUE INDEX projects_account_name ON projects(owner_account_id, name) WHERE owner_account_id IS NOT NULL;
CREATE INDEX projects_org ON projects(org_id);
CREATE INDEX projects_owner ON projects(owner_account_id);

CREATE TABLE workspaces (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (project_id, name)
);

INSERT INTO projects (id, name, title, description, owner_account_id, org_id, created_by, created_at, updated_at)
SELECT id, 'p' || replace(id, '-', ''), name, description, owner_account_id, org_id, created_by, created_at, created_at
FROM integrations;

INSERT INTO workspaces (id, project_id, name, title, created_at, updated_at)
SELECT gen_random_uuid()::text, id, 'Production', 'Production', created_at, created_at
FROM integrations;

ALTER TABLE integrations ADD COLUMN workspace_id TEXT REFERENCES workspaces(id) ON DELETE RESTRICT;
UPDATE integrations i SET workspace_id = w.id FROM workspaces w WHERE w.project_id = i.id;
ALTER TABLE integrations ALTER COLUMN workspace_id SET NOT NULL;
CREATE INDEX integrations_workspace ON integrations(workspace_id);

ALTER TABLE integrations DROP CONSTRAINT integrations_integration_type_check;
ALTER TABLE integrations ADD CONSTRAINT integrations_integration_type_check
    CHECK (integration_type IN ('oauth', 'service_account', 'server_to_server', 'api_key'));
