-- Gatehouse store schema, version 1.
--
-- Every record is its model struct's JSON (the same encoding boltstore
-- keeps, so times keep their nanoseconds and a record reads back exactly
-- as written) in a `data json` column; the columns beside it are its keys
-- and the indexed fields. Keys are text COLLATE "C": byte order, so that
-- lists and cursors order exactly as boltstore's do, whatever the
-- database's collation. `json`, not `jsonb`: jsonb refuses \u0000, which a
-- name may hold.

CREATE TABLE meta (
	only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	-- store.Store.ID: random, written once by the first Open.
	store_id  text NOT NULL,
	-- store.Store.Revision: the last statement of every committing Update
	-- raises it (UPDATE ... RETURNING), so the row lock orders commits and
	-- revisions are gapless and in commit order.
	revision  bigint NOT NULL DEFAULT 0
);

CREATE TABLE users (
	id    text COLLATE "C" PRIMARY KEY,
	data  json NOT NULL
);

CREATE TABLE workspaces (
	id       text COLLATE "C" PRIMARY KEY,
	-- Deleted workspaces keep their slug (as in boltstore).
	slug     text COLLATE "C" NOT NULL UNIQUE,
	data     json NOT NULL
);

CREATE TABLE memberships (
	workspace_id  text COLLATE "C" NOT NULL,
	user_id       text COLLATE "C" NOT NULL,
	data          json NOT NULL,
	PRIMARY KEY (workspace_id, user_id)
);
-- UserMemberships: a user's memberships by workspace id.
CREATE INDEX memberships_user ON memberships (user_id, workspace_id);

CREATE TABLE roles (
	workspace_id  text COLLATE "C" NOT NULL,
	slug          text COLLATE "C" NOT NULL,
	data          json NOT NULL,
	PRIMARY KEY (workspace_id, slug)
);

CREATE TABLE invites (
	id            text COLLATE "C" PRIMARY KEY,
	workspace_id  text COLLATE "C" NOT NULL,
	email         text COLLATE "C" NOT NULL,
	token_hash    text COLLATE "C" NOT NULL UNIQUE,
	data          json NOT NULL
);
CREATE INDEX invites_workspace ON invites (workspace_id, id);
CREATE INDEX invites_email ON invites (email, id);

CREATE TABLE api_keys (
	id            text COLLATE "C" PRIMARY KEY,
	workspace_id  text COLLATE "C" NOT NULL,
	data          json NOT NULL
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, id);

-- Audit events outlive their workspace (a purged workspace's tombstone):
-- no reference to workspaces. action, actor and at narrow FindAudit in
-- SQL; at has microseconds only, so the exact filter runs on data.
CREATE TABLE audit_events (
	workspace_id  text COLLATE "C" NOT NULL,
	id            text COLLATE "C" NOT NULL,
	action        text NOT NULL,
	actor         text NOT NULL,
	at            timestamptz NOT NULL,
	data          json NOT NULL,
	PRIMARY KEY (workspace_id, id)
);

CREATE TABLE signing_keys (
	id    text COLLATE "C" PRIMARY KEY,
	data  json NOT NULL
);

-- The change feed: one row per committed Update, written in the
-- committing transaction.
CREATE TABLE changes (
	revision      bigint PRIMARY KEY,
	changes       jsonb NOT NULL,
	committed_at  timestamptz NOT NULL DEFAULT now()
);
