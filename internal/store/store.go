// Package store defines Gatehouse's persistent data model and the storage
// interface every backend implements. The gateway and the management API
// depend only on this package; the embedded bbolt backend lives in
// internal/store/boltstore.
//
// All reads and writes go through transactions (Store.View, Store.Update) so
// that callers can check an invariant and act on it atomically, e.g. "remove
// this member unless they are the last admin" is one Update.
//
// # Transactions
//
// Writes are serializable: every Update behaves as if the committed ones
// ran one after the other. Update's fn MAY RUN MORE THAN ONCE: a networked
// backend retries it, each time in a fresh transaction, when the database
// reports a serialization failure or a deadlock. fn must therefore have no
// effect outside its transaction except assigning outer variables that it
// recomputes on every run (no appending to an outer slice, no counters, no
// ids made in one run and used after another, no side effects such as
// logging a change before it commits). bbolt runs fn once.
//
// A failed statement: ErrNotFound from any method leaves the transaction
// usable (a backend checks existence before it writes), so fn may look a
// record up and create it when missing. Any other error from a WRITE
// method dooms the transaction: every later call returns that error, and
// Update returns it and commits nothing, whatever fn returns (an error of
// fn's own that wraps it may be returned instead: errors.Is holds either
// way). A caller that wants to handle a conflict (a taken slug, say)
// checks for it with a read first instead of provoking it: a 409 made
// from a provoked ErrSlugTaken would be replaced by the ErrSlugTaken.
// (PostgreSQL aborts a transaction at a failed statement; every backend
// enforces the same rule so that code written against one behaves alike
// on the other.)
//
// Touch writes (TouchUser, TouchAPIKey) change only their own fields, so
// a sighting or a key use recorded concurrently with an edit can never
// undo it (an email change, a revoke), and they record no change that
// would invalidate a decision cache.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Errors returned by Store and Tx implementations. Callers test them with
// errors.Is; implementations may wrap them with more detail.
var (
	// ErrNotFound: the requested record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrSlugTaken: another workspace (organization, project of the same
	// organization) already uses the slug.
	ErrSlugTaken = errors.New("slug already taken")
	// ErrInvalid: the record violates a storage-level constraint (empty
	// id, a key containing a NUL byte, ...). It is a programming error in
	// the caller, who must validate input before writing.
	ErrInvalid = errors.New("invalid record")
)

// User is a principal seen by Gatehouse, identified by its JWT subject.
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Workspace is the tenant unit. DeletedAt is set when soft-deleted.
type Workspace struct {
	ID          string     `json:"id"`
	Slug        string     `json:"slug"`
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DeletedAt   *time.Time `json:"deleted_at,omitempty"`
	// OrganizationID is the owning organization; "" = none (every
	// workspace written before organizations existed).
	OrganizationID string `json:"organization_id,omitempty"`
	// ProjectID is the workspace's project inside OrganizationID; "" =
	// none. A project id never appears without OrganizationID.
	ProjectID string `json:"project_id,omitempty"`
	// Scope says who reaches the workspace (spec §11); "" reads as
	// ScopePrivate (EffectiveScope), so old records are private.
	Scope Scope `json:"scope,omitempty"`
	// Plan is the plan slug of a workspace OUTSIDE any organization; ""
	// = the configured default_plan. A workspace of an organization has
	// its organization's plan, and this field is not consulted.
	Plan string `json:"plan,omitempty"`
	// OwnerID is, for ScopeLocal, the user whose personal workspace it is
	// (LocalWorkspace finds it); other scopes do not index it.
	OwnerID string `json:"owner_id,omitempty"`
}

// Deleted reports whether the workspace is soft-deleted.
func (w Workspace) Deleted() bool { return w.DeletedAt != nil }

// EffectiveScope is w.Scope with "" read as ScopePrivate.
func (w Workspace) EffectiveScope() Scope {
	if w.Scope == "" {
		return ScopePrivate
	}
	return w.Scope
}

// Scope is a workspace's scope (spec §11, "Workspace scope").
type Scope string

const (
	// ScopePrivate: only the workspace's explicit members reach it (the
	// behaviour before organizations; "" means the same).
	ScopePrivate Scope = "private"
	// ScopeProject: every member of the workspace's project gets, in it,
	// the workspace roles its project role maps to.
	ScopeProject Scope = "project"
	// ScopeLocal: the personal default workspace of OwnerID, never in an
	// organization.
	ScopeLocal Scope = "local"
)

// Valid reports whether s is a known scope ("" included, as private).
func (s Scope) Valid() bool {
	switch s {
	case "", ScopePrivate, ScopeProject, ScopeLocal:
		return true
	}
	return false
}

// CheckWorkspaceScope checks the rules of w's organization fields that
// need no other record, for PutWorkspace of every backend (so both refuse
// alike): a known Scope; no ProjectID without OrganizationID; a
// ScopeProject workspace has a project (its members come from it); a
// ScopeLocal one has an OwnerID and no organization (a local workspace is
// never in an organization's lists). The error wraps ErrInvalid.
func CheckWorkspaceScope(w Workspace) error {
	switch {
	case !w.Scope.Valid():
		return fmt.Errorf("workspace %s: unknown scope %s: %w", QuoteID(w.ID), QuoteID(string(w.Scope)), ErrInvalid)
	case w.ProjectID != "" && w.OrganizationID == "":
		return fmt.Errorf("workspace %s: a project without an organization: %w", QuoteID(w.ID), ErrInvalid)
	case w.Scope == ScopeProject && w.ProjectID == "":
		return fmt.Errorf("workspace %s: scope project without a project: %w", QuoteID(w.ID), ErrInvalid)
	case w.Scope == ScopeLocal && w.OwnerID == "":
		return fmt.Errorf("workspace %s: scope local without an owner: %w", QuoteID(w.ID), ErrInvalid)
	case w.Scope == ScopeLocal && w.OrganizationID != "":
		return fmt.Errorf("workspace %s: a local workspace cannot belong to an organization: %w", QuoteID(w.ID), ErrInvalid)
	}
	return nil
}

// Organization is a tenant that owns workspaces, optionally grouped in
// projects (spec §11). DeletedAt is set when soft-deleted; a deleted
// organization keeps its slug.
type Organization struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
	// Plan is the plan slug; "" = the configured default_plan.
	Plan      string     `json:"plan,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
}

// Deleted reports whether the organization is soft-deleted.
func (o Organization) Deleted() bool { return o.DeletedAt != nil }

// OrgMember places a user in an organization.
type OrgMember struct {
	OrganizationID string `json:"organization_id"`
	UserID         string `json:"user_id"`
	// Roles are organization role slugs (config: org_role).
	Roles     []string  `json:"roles"`
	JoinedAt  time.Time `json:"joined_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Project groups workspaces of one organization. Its slug is unique
// within the organization.
type Project struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Slug           string    `json:"slug"`
	Name           string    `json:"name"`
	Description    string    `json:"description,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// ProjectMember places a user in a project. OrganizationID is the
// project's organization (PutProjectMember refuses another).
type ProjectMember struct {
	ProjectID      string `json:"project_id"`
	OrganizationID string `json:"organization_id"`
	UserID         string `json:"user_id"`
	// Roles are project role slugs (config: project_role), each mapping
	// to workspace roles in the project's ScopeProject workspaces.
	Roles     []string  `json:"roles"`
	JoinedAt  time.Time `json:"joined_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Membership places a user in a workspace.
type Membership struct {
	WorkspaceID string `json:"workspace_id"`
	UserID      string `json:"user_id"`
	// Roles are role slugs: system roles (from config) or custom roles of
	// the workspace.
	Roles []string `json:"roles"`
	// Grants are extra permission patterns on top of the roles.
	Grants []string `json:"grants,omitempty"`
	// Denies are permission patterns removed from the effective set even
	// when a role or grant includes them.
	Denies []string `json:"denies,omitempty"`
	// Restrictions limit the member to listed resources per type, e.g.
	// {"instance": ["i1", "i2"]}.
	Restrictions map[string][]string `json:"restrictions,omitempty"`
	JoinedAt     time.Time           `json:"joined_at"`
	UpdatedAt    time.Time           `json:"updated_at"`
}

// Role is a custom role of one workspace. System roles come from config and
// are never stored.
type Role struct {
	WorkspaceID string    `json:"workspace_id"`
	Slug        string    `json:"slug"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Permissions []string  `json:"permissions"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// SigningKey is a private key of the gateway itself, used to sign the
// X-Gatehouse-Assertion JWT. It never leaves the store except as its
// public half.
type SigningKey struct {
	// ID is the key id (kid).
	ID string `json:"id"`
	// JWK is the private key as a JSON Web Key.
	JWK       json.RawMessage `json:"jwk"`
	CreatedAt time.Time       `json:"created_at"`
}

// Invite statuses. An invite past its ExpiresAt that is still pending is
// "expired"; that state is derived from the clock, never stored.
const (
	InvitePending  = "pending"
	InviteAccepted = "accepted"
	InviteRevoked  = "revoked"
)

// Invite offers membership of a workspace to whoever proves they own
// Email. Only a hash of its secret token is stored.
type Invite struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	// Email is the invitee's email, stored lower-case: invites match
	// emails case-insensitively.
	Email string `json:"email"`
	// Roles the invitee gets on acceptance.
	Roles []string `json:"roles"`
	// Restrictions the invitee gets on acceptance: the creator's own when
	// the invite was made, so an invite never grants wider access than its
	// creator holds (README "Management API", no escalation).
	Restrictions map[string][]string `json:"restrictions,omitempty"`
	// TokenHash is the hex SHA-256 of the secret token.
	TokenHash  string     `json:"token_hash"`
	Status     string     `json:"status"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	AcceptedBy string     `json:"accepted_by,omitempty"`
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// APIKey is a workspace-scoped machine credential (README "API keys"). The secret
// is never stored: only SecretHash.
type APIKey struct {
	// ID is the public part of the key (ghk_<id>_<secret>).
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	Name        string `json:"name"`
	// Permissions are the key's own patterns, evaluated with implications
	// at every use.
	Permissions []string `json:"permissions"`
	// Restrictions limit the key like a member's restrictions limit the
	// member: a key carries its creator's restrictions, so it can never
	// reach what its creator cannot.
	Restrictions map[string][]string `json:"restrictions,omitempty"`
	// SecretHash is the hex SHA-256 of the secret part of the key.
	SecretHash string    `json:"secret_hash"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	// ExpiresAt is nil for a key that does not expire.
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// AuditEvent records one change made through the API or the CLI.
type AuditEvent struct {
	// ID orders the events of one workspace: AppendAudit assigns it from
	// a sequence of that workspace alone, and ids sort (as strings) in
	// append order, so an id tells nothing about other workspaces'
	// activity. Ids are unique within a workspace, not across them.
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	// Actor is who made the change: a user id, or "cli".
	Actor string `json:"actor"`
	// Action names the change, e.g. "member.put", "workspace.delete".
	Action string `json:"action"`
	// Target is what changed, e.g. "user:bob", "role:exporter".
	Target string    `json:"target"`
	Time   time.Time `json:"time"`
	// Summary describes the change (before/after), as JSON.
	Summary json.RawMessage `json:"summary,omitempty"`
}

// AuditFilter selects audit events. A zero field does not filter.
type AuditFilter struct {
	// Action is an exact action, e.g. "member.put".
	Action string
	// Actor is an exact actor: a user id, or "cli".
	Actor string
	// Since keeps events at or after it; Until keeps events before it.
	Since, Until time.Time
}

// Match reports whether ev passes the filter.
func (f AuditFilter) Match(ev AuditEvent) bool {
	return (f.Action == "" || ev.Action == f.Action) &&
		(f.Actor == "" || ev.Actor == f.Actor) &&
		(f.Since.IsZero() || !ev.Time.Before(f.Since)) &&
		(f.Until.IsZero() || ev.Time.Before(f.Until))
}

// Purged counts what PurgeWorkspace removed.
type Purged struct {
	Members     int `json:"members"`
	Roles       int `json:"roles"`
	Invites     int `json:"invites"`
	APIKeys     int `json:"api_keys"`
	AuditEvents int `json:"audit_events"`
}

// GlobalAuditWorkspace is the WorkspaceID of audit events about the whole
// store rather than one workspace (store.backup). It can never be a
// workspace id (those start with "ws_"), so no workspace's audit list shows
// these events; Export and Import carry them like any other.
const GlobalAuditWorkspace = "_global"

// Stats counts the records in a store.
type Stats struct {
	Users             int `json:"users"`
	Workspaces        int `json:"workspaces"`
	DeletedWorkspaces int `json:"deleted_workspaces"`
	Memberships       int `json:"memberships"`
	Roles             int `json:"roles"`
	Invites           int `json:"invites"`
	APIKeys           int `json:"api_keys"`
	AuditEvents       int `json:"audit_events"`
	SigningKeys       int `json:"signing_keys"`
	// Organizations counts organizations, soft-deleted ones included.
	Organizations  int `json:"organizations"`
	OrgMembers     int `json:"org_members"`
	Projects       int `json:"projects"`
	ProjectMembers int `json:"project_members"`
	// SizeBytes is the backend's own measure of its storage: bbolt the
	// file size, PostgreSQL the database size.
	SizeBytes int64 `json:"size_bytes"`
}

// Store is a transactional Gatehouse store.
type Store interface {
	// View runs fn in a read-only transaction. The Tx must not be used
	// after fn returns; write methods return an error. Like Update's, fn
	// may run more than once (a networked backend retries a read-only
	// transaction that failed to serialize), so the same rule holds: no
	// effect outside the transaction but outer variables it recomputes
	// on every run.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction and commits it durably
	// before returning nil. If fn returns an error, or a write method
	// doomed the transaction, nothing is written (see "Transactions" in
	// the package doc). Writes are serializable, and fn may run more than
	// once: it must have no effect outside its transaction except
	// assigning outer variables it recomputes on every run.
	Update(ctx context.Context, fn func(Tx) error) error
	// UpdateRev is Update that also returns the revision the commit
	// made (see Revision); 0 with the error when nothing was committed.
	// Update is UpdateRev with the revision dropped, so a caller that
	// does not hand out consistency tokens keeps the short form.
	UpdateRev(ctx context.Context, fn func(Tx) error) (uint64, error)
	// Revision is the revision of the latest committed Update: it starts
	// at 0 for a new store and grows by exactly 1 with every committed
	// Update (a rolled-back one or a View leaves it unchanged). It is
	// durable (written in the committing transaction, so in commit
	// order) and cheap to call (no I/O, no lock). It is what this Store
	// value has committed or seen at open: another value on the same
	// database (another process) may be ahead of it.
	Revision() uint64
	// ID identifies the database: random, created once when the store is
	// created and never changed. A store filled by Import is a different
	// database with its own ID, so a consistency token of the old one is
	// refused rather than silently misread.
	ID() string
	// Stats counts the records.
	Stats(ctx context.Context) (Stats, error)
	// Backup takes a consistent copy of the whole store, in a format the
	// backend restores from (bbolt a database file; PostgreSQL the
	// portable snapshot, Export's format, that `gatehouse store import`
	// reads), and hands it to fn as size bytes to read from r. The copy
	// is complete before fn runs and no transaction is held while fn
	// runs, so a slow fn (a
	// client downloading over the network) never holds up writers. r is
	// valid only until fn returns. Backup returns fn's error as is.
	Backup(ctx context.Context, fn func(size int64, r io.Reader) error) error
	// Changes returns the committed Updates with revision > since, oldest first, at most
	// limit of them (limit <= 0: a backend default, at least 1). Revisions are gapless:
	// the i-th commit returned has revision since+1+i. Fewer than limit means the end of
	// the log as of the read; since >= the latest revision gives an empty list. Changes
	// reads the database, so it sees the commits of every Store value and process on it.
	// A since older than the retained log gives a *ChangesTruncatedError (the consumer
	// flushes its caches and continues from Oldest-1).
	//
	// Every committed Update gets the next revision and exactly one Commit in
	// the log, written in the committing transaction (possibly with no
	// Changes); the log keeps at least the latest N commits (a backend
	// option, default 10,000) and later writes prune older ones.
	Changes(ctx context.Context, since uint64, limit int) ([]Commit, error)
	// Subscribe returns a channel that receives a value (capacity 1, sent without
	// blocking) after each commit the backend hears of: its own and, for a networked
	// backend, other processes' (LISTEN/NOTIFY). A wake-up is only a hint: the subscriber
	// reads Changes from its own cursor, so a lost or merged wake-up delays a change but
	// never loses it (consumers poll as well). cancel releases the channel.
	Subscribe() (wake <-chan struct{}, cancel func())
	// Close releases the store. It is safe to call more than once.
	Close() error
}

// Tx is a transaction. Records returned by a Tx are copies: they stay valid
// after the transaction ends and may be modified freely by the caller.
//
// ErrNotFound from any method leaves the transaction usable; any other
// error from a write method dooms it (see "Transactions" in the package
// doc).
//
// List methods page by key: they return at most limit records whose key
// sorts strictly after the given cursor ("" = from the start), plus the
// cursor for the next page ("" when there is none); Audit, newest first,
// pages the other way. limit <= 0 means no limit.
type Tx interface {
	// User returns a user by id, or ErrNotFound.
	User(id string) (User, error)
	// PutUser creates or replaces a user.
	PutUser(u User) error
	// TouchUser records that user id was seen at `at`: a missing user is
	// created with FirstSeen = LastSeen = at and Email = email; an
	// existing one gets LastSeen = at when at is later, and Email = email
	// when email is not empty. No other field changes. Like TouchAPIKey
	// it records no change a decision cache would hear of.
	TouchUser(id, email string, at time.Time) error
	// UsersByID returns the users among ids that exist, keyed by id; a
	// missing id is absent from the map, not an error. Duplicates in ids
	// are allowed. It replaces a User call per id in a loop.
	UsersByID(ids []string) (map[string]User, error)
	// Users lists all users ordered by id.
	Users(cursor string, limit int) (items []User, next string, err error)

	// Workspace returns a workspace by id (deleted ones too), or ErrNotFound.
	Workspace(id string) (Workspace, error)
	// WorkspaceBySlug returns a workspace by slug (deleted ones too), or ErrNotFound.
	WorkspaceBySlug(slug string) (Workspace, error)
	// PutWorkspace creates or replaces a workspace and keeps the slug index
	// consistent: a changed slug frees the old one. ErrSlugTaken if another
	// workspace holds the slug. It checks the organization fields and keeps
	// their indexes (see OrgTx): ErrInvalid, or ErrNotFound for a missing
	// organization or project.
	PutWorkspace(w Workspace) error
	// Workspaces lists all workspaces (deleted ones too) ordered by id.
	Workspaces(cursor string, limit int) (items []Workspace, next string, err error)
	// WorkspacesByID is UsersByID for workspaces (deleted ones included).
	WorkspacesByID(ids []string) (map[string]Workspace, error)

	// Member returns a membership, or ErrNotFound.
	Member(workspaceID, userID string) (Membership, error)
	// PutMember creates or replaces a membership and its user → workspace
	// index entry. The workspace must exist (ErrNotFound otherwise).
	PutMember(m Membership) error
	// DeleteMember removes a membership and its index entry, or ErrNotFound.
	DeleteMember(workspaceID, userID string) error
	// Members lists a workspace's memberships ordered by user id; the
	// cursor is a user id.
	Members(workspaceID, cursor string, limit int) (items []Membership, next string, err error)
	// UserMemberships lists a user's memberships ordered by workspace id;
	// the cursor is a workspace id.
	UserMemberships(userID, cursor string, limit int) (items []Membership, next string, err error)

	// Role returns a custom role, or ErrNotFound.
	Role(workspaceID, slug string) (Role, error)
	// PutRole creates or replaces a custom role. The workspace must exist.
	PutRole(r Role) error
	// DeleteRole removes a custom role, or ErrNotFound.
	DeleteRole(workspaceID, slug string) error
	// Roles lists a workspace's custom roles ordered by slug.
	Roles(workspaceID string) ([]Role, error)

	// Invite returns an invite by id, or ErrNotFound.
	Invite(id string) (Invite, error)
	// InviteByTokenHash returns the invite whose TokenHash is hash, or
	// ErrNotFound.
	InviteByTokenHash(hash string) (Invite, error)
	// PutInvite creates or replaces an invite and keeps its token-hash and
	// email indexes consistent. The workspace must exist (ErrNotFound).
	// ErrInvalid if another invite has the same token hash, or the email
	// is not lower-case (it could never be found by InvitesForEmail).
	PutInvite(inv Invite) error
	// Invites lists a workspace's invites (all statuses) ordered by id.
	Invites(workspaceID, cursor string, limit int) (items []Invite, next string, err error)
	// InvitesForEmail lists the invites addressed to email (lower-case),
	// all statuses, ordered by id.
	InvitesForEmail(email string) ([]Invite, error)

	// APIKey returns an API key by id, or ErrNotFound.
	APIKey(id string) (APIKey, error)
	// PutAPIKey creates or replaces an API key. The workspace must exist
	// (ErrNotFound). The commit records a ChangeAPIKey.
	PutAPIKey(k APIKey) error
	// TouchAPIKey sets the key's LastUsedAt to at when that is later than
	// the stored value: only that field, only forward, so it never undoes
	// a concurrent revoke (RevokedAt and the rest stay as stored). It
	// changes no access decision and records no Change (so recording use
	// never invalidates a cache). ErrNotFound if the key does not exist.
	TouchAPIKey(id string, at time.Time) error
	// APIKeys lists a workspace's API keys (revoked ones too) ordered by id.
	APIKeys(workspaceID, cursor string, limit int) (items []APIKey, next string, err error)

	// AppendAudit stores an event of ev.WorkspaceID. An empty ev.ID gets
	// the next id of the workspace's sequence (after its greatest id); a
	// given ID (import) is kept: ErrInvalid if the workspace already has
	// it or the backend could not have assigned it. It returns the stored
	// event.
	AppendAudit(ev AuditEvent) (AuditEvent, error)
	// Audit lists a workspace's events newest first; the cursor is an
	// event id, and the page holds events older than it.
	Audit(workspaceID, cursor string, limit int) (items []AuditEvent, next string, err error)
	// FindAudit is Audit restricted to the events f matches: a page holds
	// up to limit matching events, and next is "" when no further event
	// matches.
	FindAudit(workspaceID string, f AuditFilter, cursor string, limit int) (items []AuditEvent, next string, err error)
	// AuditWorkspaces lists the ids of the workspaces that have audit
	// events, ordered by id: also purged workspaces, whose tombstone event
	// outlives them.
	AuditWorkspaces(cursor string, limit int) (items []string, next string, err error)

	// PurgeWorkspace removes a workspace for good: its memberships (users
	// stay, with their other memberships), custom roles, invites, API
	// keys and audit events, the record itself, and its slug, which is
	// free again, and its OrgWorkspaces and LocalWorkspace index entries.
	// ErrNotFound if there is no such workspace. The commit
	// records ChangeWorkspace(id, Slugs), a ChangeMember for every member
	// and a ChangeAPIKey for every key. The caller appends the tombstone event
	// in the same transaction.
	PurgeWorkspace(id string) (Purged, error)

	// SigningKeys lists the gateway's own signing keys ordered by id.
	SigningKeys() ([]SigningKey, error)
	// PutSigningKey creates or replaces a signing key.
	PutSigningKey(k SigningKey) error

	OrgTx
}

// OrgTx is the part of Tx about organizations, projects and workspace
// scopes (spec §11). Conventions as for workspaces: ErrNotFound for a
// missing record (and for a malformed key on read), ErrSlugTaken,
// ErrInvalid, list cursors are the next key (an id), lists are ordered by
// id, and a failed write other than ErrNotFound dooms the transaction.
//
// The workspace side lives in PutWorkspace: it checks CheckWorkspaceScope
// (ErrInvalid), that OrganizationID names an organization (ErrNotFound),
// that ProjectID names a project (ErrNotFound) of that organization
// (ErrInvalid for a project of another one), and that a ScopeLocal
// workspace's OwnerID has no OTHER local workspace (ErrInvalid); and it
// keeps the OrgWorkspaces and LocalWorkspace indexes. PurgeWorkspace
// clears both.
type OrgTx interface {
	// Organization returns an organization by id (deleted ones too), or
	// ErrNotFound.
	Organization(id string) (Organization, error)
	// OrganizationBySlug returns an organization by slug (deleted ones
	// too), or ErrNotFound. Organization slugs are their own namespace:
	// an organization and a workspace may share one.
	OrganizationBySlug(slug string) (Organization, error)
	// PutOrganization creates or replaces an organization and keeps the
	// slug index (a changed slug frees the old one; a deleted
	// organization keeps its slug). ErrSlugTaken if another organization
	// holds the slug. The commit records a ChangeOrganization.
	PutOrganization(o Organization) error
	// Organizations lists all organizations (deleted ones too) ordered by
	// id.
	Organizations(cursor string, limit int) (items []Organization, next string, err error)
	// OrganizationsByID is UsersByID for organizations (deleted ones
	// included).
	OrganizationsByID(ids []string) (map[string]Organization, error)

	// OrgMember returns a user's membership of an organization, or
	// ErrNotFound.
	OrgMember(orgID, userID string) (OrgMember, error)
	// PutOrgMember creates or replaces an organization membership and its
	// user → organization index entry. The organization must exist
	// (ErrNotFound). The commit records a ChangeOrgMember.
	PutOrgMember(m OrgMember) error
	// DeleteOrgMember removes an organization membership and its index
	// entry, or ErrNotFound. The commit records a ChangeOrgMember.
	DeleteOrgMember(orgID, userID string) error
	// OrgMembers lists an organization's members ordered by user id; the
	// cursor is a user id.
	OrgMembers(orgID, cursor string, limit int) (items []OrgMember, next string, err error)
	// UserOrgMemberships lists a user's organization memberships ordered
	// by organization id; the cursor is an organization id.
	UserOrgMemberships(userID, cursor string, limit int) (items []OrgMember, next string, err error)

	// Project returns a project by id, or ErrNotFound.
	Project(id string) (Project, error)
	// ProjectBySlug returns the project of orgID with the slug, or
	// ErrNotFound.
	ProjectBySlug(orgID, slug string) (Project, error)
	// PutProject creates or replaces a project. Its organization must
	// exist (ErrNotFound); ErrInvalid if an existing project would move
	// to another organization (its workspaces and members name the old
	// one); ErrSlugTaken if another project of the organization holds the
	// slug. The commit records a ChangeProject.
	PutProject(p Project) error
	// DeleteProject removes a project and its project members, or
	// ErrNotFound. It does not touch workspaces: the caller refuses to
	// delete a project that still has workspaces, and the store refuses
	// too (ErrInvalid), so that no workspace names a missing project.
	// The commit records a ChangeProject and a ChangeProjectMember per
	// member removed.
	DeleteProject(id string) error
	// Projects lists an organization's projects ordered by id.
	Projects(orgID, cursor string, limit int) (items []Project, next string, err error)

	// ProjectMember returns a user's membership of a project, or
	// ErrNotFound.
	ProjectMember(projectID, userID string) (ProjectMember, error)
	// PutProjectMember creates or replaces a project membership and its
	// user → project index entry. The project must exist (ErrNotFound),
	// and m.OrganizationID must be its organization (ErrInvalid). The
	// commit records a ChangeProjectMember.
	PutProjectMember(m ProjectMember) error
	// DeleteProjectMember removes a project membership and its index
	// entry, or ErrNotFound. The commit records a ChangeProjectMember.
	DeleteProjectMember(projectID, userID string) error
	// ProjectMembers lists a project's members ordered by user id; the
	// cursor is a user id.
	ProjectMembers(projectID, cursor string, limit int) (items []ProjectMember, next string, err error)
	// UserProjectMemberships lists a user's project memberships ordered
	// by project id; the cursor is a project id.
	UserProjectMemberships(userID, cursor string, limit int) (items []ProjectMember, next string, err error)

	// OrgWorkspaces lists the workspaces of organization orgID (deleted
	// ones included) ordered by id: all of them for projectID "", else
	// only those of that project. The cursor is a workspace id.
	OrgWorkspaces(orgID, projectID, cursor string, limit int) (items []Workspace, next string, err error)
	// LocalWorkspace returns userID's ScopeLocal workspace (deleted or
	// not), or ErrNotFound.
	LocalWorkspace(userID string) (Workspace, error)
}

// ChangeKind says what a Change is about.
type ChangeKind uint8

const (
	// ChangeWorkspace: the workspace record (name, slug, deletion, purge) or one of its
	// custom roles changed.
	ChangeWorkspace ChangeKind = 1
	// ChangeMember: the membership of UserID in WorkspaceID was created, replaced or removed.
	ChangeMember ChangeKind = 2
	// ChangeAPIKey: API key KeyID of WorkspaceID was created or replaced (revoked, for one).
	ChangeAPIKey ChangeKind = 3
	// ChangeOrganization: the record of organization OrganizationID (plan, slug,
	// deletion, restore) was created or replaced.
	ChangeOrganization ChangeKind = 4
	// ChangeOrgMember: the membership of UserID in organization OrganizationID was
	// created, replaced or removed.
	ChangeOrgMember ChangeKind = 5
	// ChangeProject: project ProjectID of organization OrganizationID was created,
	// replaced or deleted.
	ChangeProject ChangeKind = 6
	// ChangeProjectMember: the membership of UserID in project ProjectID (of
	// organization OrganizationID) was created, replaced or removed.
	ChangeProjectMember ChangeKind = 7
)

// Change is one change, made by a commit, that can alter an access decision.
type Change struct {
	Kind        ChangeKind `json:"kind"`
	WorkspaceID string     `json:"workspace_id"`
	UserID      string     `json:"user_id,omitempty"` // ChangeMember
	KeyID       string     `json:"key_id,omitempty"`  // ChangeAPIKey
	// OrganizationID: ChangeOrganization, ChangeOrgMember, ChangeProject,
	// ChangeProjectMember.
	OrganizationID string `json:"organization_id,omitempty"`
	// ProjectID: ChangeProject, ChangeProjectMember.
	ProjectID string `json:"project_id,omitempty"`
	// Slugs (ChangeWorkspace): the slug → workspace mapping changed (create, slug
	// edit, delete, restore, purge).
	Slugs bool `json:"slugs,omitempty"`
}

// Commit is what one committed Update changed.
type Commit struct {
	Revision uint64 `json:"revision"`
	// Changes are deduplicated (a workspace's Slugs OR-ed over the commit), workspaces
	// first, then members, then API keys, then organizations, org members, projects
	// and project members, each in first-change order. Empty for a commit that
	// changed nothing a decision depends on (users, invites, audit, signing keys,
	// touch writes). A workspace's organization, project, scope or plan change is a
	// ChangeWorkspace.
	Changes []Change `json:"changes,omitempty"`
}

// ErrChangesTruncated: the change log no longer holds the commits after the requested
// revision (retention). errors.As gives a *ChangesTruncatedError.
var ErrChangesTruncated = errors.New("the change log no longer holds the requested revisions")

// ChangesTruncatedError is the error Changes returns for a since older
// than the retained log.
type ChangesTruncatedError struct {
	// Since is the revision the caller asked to read after.
	Since uint64
	// Oldest is the revision of the oldest retained commit: the caller
	// flushes its caches and continues from Oldest-1.
	Oldest uint64
}

// Error implements error.
func (e *ChangesTruncatedError) Error() string {
	return fmt.Sprintf("%v: asked for the commits after revision %d, the oldest retained is %d", ErrChangesTruncated, e.Since, e.Oldest)
}

// Is reports whether target is ErrChangesTruncated.
func (e *ChangesTruncatedError) Is(target error) bool { return target == ErrChangesTruncated }
