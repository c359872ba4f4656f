package storetest

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Calls counts the Tx method calls made through a Counting store, by
// method name ("User", "Members", ...).
type Calls struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *Calls) add(method string) {
	c.mu.Lock()
	if c.n == nil {
		c.n = make(map[string]int)
	}
	c.n[method]++
	c.mu.Unlock()
}

// Get returns how many times method was called since the last Reset.
func (c *Calls) Get(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[method]
}

// Snapshot returns a copy of the counts.
func (c *Calls) Snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// Reset forgets the counts.
func (c *Calls) Reset() {
	c.mu.Lock()
	c.n = nil
	c.mu.Unlock()
}

// Counting returns s with every Tx of its View, Update and UpdateRev
// counting its method calls in the returned Calls: a test proves with it
// that a handler reads a page of records with set-based reads (UsersByID)
// rather than one call per record. Everything else is s's own.
func Counting(s store.Store) (store.Store, *Calls) {
	c := &Calls{}
	return &counting{Store: s, calls: c}, c
}

type counting struct {
	store.Store
	calls *Calls
}

func (s *counting) View(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.View(ctx, func(tx store.Tx) error { return fn(countingTx{tx, s.calls}) })
}

func (s *counting) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(countingTx{tx, s.calls}) })
}

func (s *counting) UpdateRev(ctx context.Context, fn func(store.Tx) error) (uint64, error) {
	return s.Store.UpdateRev(ctx, func(tx store.Tx) error { return fn(countingTx{tx, s.calls}) })
}

// countingTx counts each call, then makes it on tx.
type countingTx struct {
	tx    store.Tx
	calls *Calls
}

var _ store.Tx = countingTx{}

func (t countingTx) User(id string) (store.User, error) {
	t.calls.add("User")
	return t.tx.User(id)
}

func (t countingTx) PutUser(u store.User) error {
	t.calls.add("PutUser")
	return t.tx.PutUser(u)
}

func (t countingTx) TouchUser(id string, email string, at time.Time) error {
	t.calls.add("TouchUser")
	return t.tx.TouchUser(id, email, at)
}

func (t countingTx) UsersByID(ids []string) (map[string]store.User, error) {
	t.calls.add("UsersByID")
	return t.tx.UsersByID(ids)
}

func (t countingTx) Users(cursor string, limit int) (items []store.User, next string, err error) {
	t.calls.add("Users")
	return t.tx.Users(cursor, limit)
}

func (t countingTx) Workspace(id string) (store.Workspace, error) {
	t.calls.add("Workspace")
	return t.tx.Workspace(id)
}

func (t countingTx) WorkspaceBySlug(slug string) (store.Workspace, error) {
	t.calls.add("WorkspaceBySlug")
	return t.tx.WorkspaceBySlug(slug)
}

func (t countingTx) PutWorkspace(w store.Workspace) error {
	t.calls.add("PutWorkspace")
	return t.tx.PutWorkspace(w)
}

func (t countingTx) Workspaces(cursor string, limit int) (items []store.Workspace, next string, err error) {
	t.calls.add("Workspaces")
	return t.tx.Workspaces(cursor, limit)
}

func (t countingTx) WorkspacesByID(ids []string) (map[string]store.Workspace, error) {
	t.calls.add("WorkspacesByID")
	return t.tx.WorkspacesByID(ids)
}

func (t countingTx) Member(workspaceID string, userID string) (store.Membership, error) {
	t.calls.add("Member")
	return t.tx.Member(workspaceID, userID)
}

func (t countingTx) PutMember(m store.Membership) error {
	t.calls.add("PutMember")
	return t.tx.PutMember(m)
}

func (t countingTx) DeleteMember(workspaceID string, userID string) error {
	t.calls.add("DeleteMember")
	return t.tx.DeleteMember(workspaceID, userID)
}

func (t countingTx) Members(workspaceID string, cursor string, limit int) (items []store.Membership, next string, err error) {
	t.calls.add("Members")
	return t.tx.Members(workspaceID, cursor, limit)
}

func (t countingTx) UserMemberships(userID string, cursor string, limit int) (items []store.Membership, next string, err error) {
	t.calls.add("UserMemberships")
	return t.tx.UserMemberships(userID, cursor, limit)
}

func (t countingTx) Role(workspaceID string, slug string) (store.Role, error) {
	t.calls.add("Role")
	return t.tx.Role(workspaceID, slug)
}

func (t countingTx) PutRole(r store.Role) error {
	t.calls.add("PutRole")
	return t.tx.PutRole(r)
}

func (t countingTx) DeleteRole(workspaceID string, slug string) error {
	t.calls.add("DeleteRole")
	return t.tx.DeleteRole(workspaceID, slug)
}

func (t countingTx) Roles(workspaceID string) ([]store.Role, error) {
	t.calls.add("Roles")
	return t.tx.Roles(workspaceID)
}

func (t countingTx) Invite(id string) (store.Invite, error) {
	t.calls.add("Invite")
	return t.tx.Invite(id)
}

func (t countingTx) InviteByTokenHash(hash string) (store.Invite, error) {
	t.calls.add("InviteByTokenHash")
	return t.tx.InviteByTokenHash(hash)
}

func (t countingTx) PutInvite(inv store.Invite) error {
	t.calls.add("PutInvite")
	return t.tx.PutInvite(inv)
}

func (t countingTx) Invites(workspaceID string, cursor string, limit int) (items []store.Invite, next string, err error) {
	t.calls.add("Invites")
	return t.tx.Invites(workspaceID, cursor, limit)
}

func (t countingTx) InvitesForEmail(email string) ([]store.Invite, error) {
	t.calls.add("InvitesForEmail")
	return t.tx.InvitesForEmail(email)
}

func (t countingTx) APIKey(id string) (store.APIKey, error) {
	t.calls.add("APIKey")
	return t.tx.APIKey(id)
}

func (t countingTx) PutAPIKey(k store.APIKey) error {
	t.calls.add("PutAPIKey")
	return t.tx.PutAPIKey(k)
}

func (t countingTx) TouchAPIKey(id string, at time.Time) error {
	t.calls.add("TouchAPIKey")
	return t.tx.TouchAPIKey(id, at)
}

func (t countingTx) APIKeys(workspaceID string, cursor string, limit int) (items []store.APIKey, next string, err error) {
	t.calls.add("APIKeys")
	return t.tx.APIKeys(workspaceID, cursor, limit)
}

func (t countingTx) AppendAudit(ev store.AuditEvent) (store.AuditEvent, error) {
	t.calls.add("AppendAudit")
	return t.tx.AppendAudit(ev)
}

func (t countingTx) Audit(workspaceID string, cursor string, limit int) (items []store.AuditEvent, next string, err error) {
	t.calls.add("Audit")
	return t.tx.Audit(workspaceID, cursor, limit)
}

func (t countingTx) FindAudit(workspaceID string, f store.AuditFilter, cursor string, limit int) (items []store.AuditEvent, next string, err error) {
	t.calls.add("FindAudit")
	return t.tx.FindAudit(workspaceID, f, cursor, limit)
}

func (t countingTx) AuditWorkspaces(cursor string, limit int) (items []string, next string, err error) {
	t.calls.add("AuditWorkspaces")
	return t.tx.AuditWorkspaces(cursor, limit)
}

func (t countingTx) PurgeWorkspace(id string) (store.Purged, error) {
	t.calls.add("PurgeWorkspace")
	return t.tx.PurgeWorkspace(id)
}

func (t countingTx) SigningKeys() ([]store.SigningKey, error) {
	t.calls.add("SigningKeys")
	return t.tx.SigningKeys()
}

func (t countingTx) PutSigningKey(k store.SigningKey) error {
	t.calls.add("PutSigningKey")
	return t.tx.PutSigningKey(k)
}
