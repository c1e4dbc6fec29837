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
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    CHECK ((owner_account_id IS NULL) <> (org_id IS NULL))
);
CREATE UNIQUE INDEX projects_org_name ON projects(org_id, name) WHERE org_id IS NOT NULL;
CREATE UNIQUE INDEX projects_account_name ON projects(owner_account_id, name) WHERE owner_account_id IS NOT NULL;

CREATE TABLE workspaces (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

INSERT INTO projects (id, name, title, description, owner_account_id, org_id, created_by, created_at, updated_at)
SELECT id, 'p' || replace(id, '-', ''), name, description, owner_account_id, org_id, created_by, created_at, created_at
FROM integrations;

-- A random version-4 UUID per workspace, drawn once per row.
CREATE TEMP TABLE migrated_workspaces AS
SELECT id AS integration_id, lower(hex(randomblob(16))) AS h, created_at FROM integrations;

INSERT INTO workspaces (id, project_id, name, title, created_at, updated_at)
SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-a' || substr(h, 18, 3) || '-'
       || substr(h, 21, 12),
       integration_id, 'Production', 'Production', created_at, created_at
FROM migrated_workspaces;
DROP TABLE migrated_workspaces;

ALTER TABLE integrations ADD COLUMN workspace_id TEXT REFERENCES workspaces(id) ON DELETE RESTRICT;
UPDATE integrations SET workspace_id = (SELECT w.id FROM workspaces w WHERE w.project_id = integrations.id);
-- SQLite adds a referencing column only as nullable; these keep it set, as NOT NULL would.
CREATE TRIGGER integrations_workspace_required_on_insert BEFORE INSERT ON integrations
WHEN NEW.workspace_id IS NULL
BEGIN
    SELECT RAISE(ABORT, 'NOT NULL constraint failed: integrations.workspace_id');
END;
CREATE TRIGGER integrations_workspace_required_on_update BEFORE UPDATE OF workspace_id ON integrations
WHEN NEW.workspace_id IS NULL
BEGIN
    SELECT RAISE(ABORT, 'NOT NULL constraint failed: integrations.workspace_id');
END;

-- The wider type check, by SQLite's documented procedure for loosening a CHECK constraint in place
-- (no stored row changes, so the table need not be rebuilt; a rebuild would cascade deletes into
-- every table that refers to integrations, since migrations run with foreign keys on).
PRAGMA writable_schema = ON;
UPDATE sqlite_master
SET sql = replace(sql, 'CHECK (integration_type IN (''oauth'', ''service_account'', ''api_key''))',
                       'CHECK (integration_type IN (''oauth'', ''service_account'', ''server_to_server'', ''api_key''))')
WHERE type = 'table' AND name = 'integrations';
PRAGMA writable_schema = OFF;

CREATE INDEX integrations_workspace ON integrations(workspace_id);
CREATE INDEX projects_org ON projects(org_id);
CREATE INDEX projects_owner ON projects(owner_account_id);
