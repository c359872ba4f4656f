-- Gatehouse store schema, version 2: organizations, projects, their
-- members, and the organization fields of workspaces (spec §11). The rules
-- of store.OrgTx are constraints here too, so that a write that slipped
-- past a check in Go still cannot break them: slugs unique (organizations
-- among themselves, projects within their organization), members only of
-- an existing organization or project, a workspace's project of its own
-- organization, one local workspace per user. Records stay JSON in `data`
-- as in version 1; the columns are the keys and indexed fields.

CREATE TABLE organizations (
	id    text COLLATE "C" PRIMARY KEY,
	-- Deleted organizations keep their slug (soft delete only: an
	-- organization row is never removed).
	slug  text COLLATE "C" NOT NULL UNIQUE,
	data  json NOT NULL
);

CREATE TABLE org_members (
	organization_id  text COLLATE "C" NOT NULL REFERENCES organizations (id),
	user_id          text COLLATE "C" NOT NULL,
	data             json NOT NULL,
	PRIMARY KEY (organization_id, user_id)
);
-- UserOrgMemberships: a user's organizations by id.
CREATE INDEX org_members_user ON org_members (user_id, organization_id);

CREATE TABLE projects (
	id               text COLLATE "C" PRIMARY KEY,
	organization_id  text COLLATE "C" NOT NULL REFERENCES organizations (id),
	slug             text COLLATE "C" NOT NULL,
	data             json NOT NULL,
	UNIQUE (organization_id, slug),
	-- The target of the (organization, project) foreign keys below, and
	-- Projects: an organization's projects by id.
	UNIQUE (organization_id, id)
);

CREATE TABLE project_members (
	project_id       text COLLATE "C" NOT NULL,
	organization_id  text COLLATE "C" NOT NULL,
	user_id          text COLLATE "C" NOT NULL,
	data             json NOT NULL,
	PRIMARY KEY (project_id, user_id),
	-- DeleteProject removes its members; the member's organization is
	-- the project's.
	FOREIGN KEY (organization_id, project_id) REFERENCES projects (organization_id, id) ON DELETE CASCADE
);
-- UserProjectMemberships: a user's projects by id.
CREATE INDEX project_members_user ON project_members (user_id, project_id);

-- Workspaces of version 1 get NULLs: private, outside any organization.
ALTER TABLE workspaces
	ADD COLUMN organization_id  text COLLATE "C" REFERENCES organizations (id),
	ADD COLUMN project_id       text COLLATE "C",
	-- NULL = private ('' and 'private' are stored as NULL).
	ADD COLUMN scope            text COLLATE "C" CHECK (scope IN ('project', 'local')),
	-- Set for scope 'local' only.
	ADD COLUMN owner_id         text COLLATE "C",
	ADD CHECK (project_id IS NULL OR organization_id IS NOT NULL),
	ADD CHECK ((scope IS NOT DISTINCT FROM 'local') = (owner_id IS NOT NULL)),
	ADD CHECK (scope IS DISTINCT FROM 'local' OR organization_id IS NULL),
	ADD CHECK (scope IS DISTINCT FROM 'project' OR project_id IS NOT NULL),
	-- A project of the workspace's own organization; a project with
	-- workspaces cannot be deleted (RESTRICT).
	ADD FOREIGN KEY (organization_id, project_id) REFERENCES projects (organization_id, id);

-- OrgWorkspaces: an organization's workspaces by id, and a project's.
CREATE INDEX workspaces_org ON workspaces (organization_id, id) WHERE organization_id IS NOT NULL;
-- (Also what the foreign key to projects needs to check a project's
-- deletion.)
CREATE INDEX workspaces_project ON workspaces (organization_id, project_id, id) WHERE project_id IS NOT NULL;
-- LocalWorkspace: one local workspace per user.
CREATE UNIQUE INDEX workspaces_local_owner ON workspaces (owner_id) WHERE scope = 'local';
