package boltstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// tx implements store.Tx on a *bbolt.Tx. It lives for one View or Update
// and, like the bbolt transaction under it, must be used by one goroutine
// at a time.
//
// Memory rules (bbolt): slices returned by Get and cursors point into the
// mmap (or into this transaction's dirty nodes) and are valid only until the
// transaction ends, so everything handed to the caller is decoded or copied
// first. A value passed to Put is retained by bbolt until commit, so it is
// always freshly allocated (never a reused encode buffer). bbolt 1.5 copies
// Put's key, but that is not part of its documented contract, so Put keys
// are fresh too; the scratch key buffer is used only for Get, Delete and
// Seek, which do not keep their argument.
type tx struct {
	btx      *bbolt.Tx
	writable bool
	done     bool
	ch       *changes // nil in View
	// doomed is the first failure of a write method (see doom.go): every
	// later call returns it, and Update commits nothing.
	doomed error

	// Bucket handles, opened on first use. A read-only bbolt transaction
	// does not cache them: each tx.Bucket call is a seek in the root plus an
	// allocation, so the hot lookup path opens each bucket at most once.
	users, workspaces, slugs, members, userWS, roles, keys *bbolt.Bucket
	invites, inviteWS, inviteTok, inviteMail, audit        *bbolt.Bucket
	apiKeys, apiKeyWS                                      *bbolt.Bucket
	org                                                    orgBuckets

	key    []byte // scratch key, backed by keyBuf until it outgrows it
	keyBuf [128]byte
}

var _ store.Tx = (*tx)(nil)

func newTx(btx *bbolt.Tx, writable bool, ch *changes) *tx {
	t := &tx{btx: btx, writable: writable, ch: ch}
	t.key = t.keyBuf[:0]
	return t
}

// finish marks the transaction as ended: any later call returns ErrTxDone
// instead of touching memory bbolt may have unmapped.
func (t *tx) finish() {
	t.done = true
	t.btx = nil
	t.users, t.workspaces, t.slugs, t.members, t.userWS, t.roles, t.keys = nil, nil, nil, nil, nil, nil, nil
	t.invites, t.inviteWS, t.inviteTok, t.inviteMail, t.audit = nil, nil, nil, nil, nil
	t.apiKeys, t.apiKeyWS = nil, nil
	t.org = orgBuckets{}
}

func (t *tx) bucket(p **bbolt.Bucket, name []byte) *bbolt.Bucket {
	if *p == nil {
		// Open guarantees every bucket exists.
		*p = t.btx.Bucket(name)
	}
	return *p
}

func (t *tx) usersB() *bbolt.Bucket      { return t.bucket(&t.users, bucketUsers) }
func (t *tx) workspacesB() *bbolt.Bucket { return t.bucket(&t.workspaces, bucketWorkspaces) }
func (t *tx) slugsB() *bbolt.Bucket      { return t.bucket(&t.slugs, bucketSlugs) }
func (t *tx) membersB() *bbolt.Bucket    { return t.bucket(&t.members, bucketMembers) }
func (t *tx) userWSB() *bbolt.Bucket     { return t.bucket(&t.userWS, bucketUserWS) }
func (t *tx) rolesB() *bbolt.Bucket      { return t.bucket(&t.roles, bucketRoles) }
func (t *tx) keysB() *bbolt.Bucket       { return t.bucket(&t.keys, bucketKeys) }
func (t *tx) invitesB() *bbolt.Bucket    { return t.bucket(&t.invites, bucketInvites) }
func (t *tx) inviteWSB() *bbolt.Bucket   { return t.bucket(&t.inviteWS, bucketInviteWS) }
func (t *tx) inviteTokB() *bbolt.Bucket  { return t.bucket(&t.inviteTok, bucketInviteTok) }
func (t *tx) inviteMailB() *bbolt.Bucket { return t.bucket(&t.inviteMail, bucketInviteMail) }
func (t *tx) apiKeysB() *bbolt.Bucket    { return t.bucket(&t.apiKeys, bucketAPIKeys) }
func (t *tx) apiKeyWSB() *bbolt.Bucket   { return t.bucket(&t.apiKeyWS, bucketAPIKeyWS) }
func (t *tx) auditB() *bbolt.Bucket      { return t.bucket(&t.audit, bucketAudit) }

func (t *tx) readable() error {
	if t.done {
		return ErrTxDone
	}
	return t.doomed
}

func (t *tx) writableErr() error {
	if t.done {
		return ErrTxDone
	}
	if t.doomed != nil {
		return t.doomed
	}
	if !t.writable {
		return ErrTxReadOnly
	}
	return nil
}

// scratch1 and scratch2 build a lookup key in the reusable buffer. The
// result is valid until the next scratch call.
func (t *tx) scratch1(a string) []byte {
	t.key = append(t.key[:0], a...)
	return t.key
}

func (t *tx) scratch2(a, b string) []byte {
	k := append(t.key[:0], a...)
	k = append(k, 0)
	k = append(k, b...)
	t.key = k
	return k
}

// key2 builds a fresh composite key, for Put.
func key2(a, b string) []byte {
	k := make([]byte, 0, len(a)+1+len(b))
	k = append(k, a...)
	k = append(k, 0)
	return append(k, b...)
}

// prefix1 builds a fresh "a\x00" scan prefix.
func prefix1(a string) []byte {
	k := make([]byte, 0, len(a)+1)
	return append(append(k, a...), 0)
}

// validKey reports whether s may be (part of) a key.
func validKey(s string) bool {
	return s != "" && len(s) <= MaxIDLen && strings.IndexByte(s, 0) < 0
}

// checkKey returns a store.ErrInvalid error describing why s is not a valid
// key part, or nil.
func checkKey(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("boltstore: %s is empty: %w", what, store.ErrInvalid)
	case len(s) > MaxIDLen:
		return fmt.Errorf("boltstore: %s is %d bytes long (max %d): %w", what, len(s), MaxIDLen, store.ErrInvalid)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("boltstore: %s %s contains a NUL byte: %w", what, quote(s), store.ErrInvalid)
	}
	return nil
}

// quote is store.QuoteID, short for the many error messages here.
func quote(s string) string { return store.QuoteID(s) }

func notFound(what, id string) error { return &notFoundError{what: what, id: id} }

func notFound2(what, ws, id string) error {
	return &notFoundError{what: what, id: id, parent: "workspace", parentID: ws}
}

// notFoundError is store.ErrNotFound with what was looked up, formatted
// only when the message is read. A cache miss looks for records that are
// usually absent (the custom role of a system role's slug, for each role
// a member holds), and formatting each answer would cost it more
// allocations than the read itself.
type notFoundError struct {
	what, id, parent, parentID string
}

func (e *notFoundError) Error() string {
	if e.parent == "" {
		return fmt.Sprintf("boltstore: %s %s: %v", e.what, quote(e.id), store.ErrNotFound)
	}
	return fmt.Sprintf("boltstore: %s %s in %s %s: %v", e.what, quote(e.id), e.parent, quote(e.parentID), store.ErrNotFound)
}

func (e *notFoundError) Unwrap() error { return store.ErrNotFound }

func corruptIndex(index string, key []byte) error {
	return fmt.Errorf("boltstore: index %s entry %q points to a missing record", index, key)
}

// ---- users

func (t *tx) User(id string) (store.User, error) {
	var u store.User
	if err := t.readable(); err != nil {
		return u, err
	}
	if !validKey(id) {
		return u, notFound("user", id)
	}
	k := t.scratch1(id)
	v := t.usersB().Get(k)
	if v == nil {
		return u, notFound("user", id)
	}
	err := decodeUser(v, &u, bucketUsers, k)
	return u, err
}

func (t *tx) PutUser(u store.User) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("user id", u.ID); err != nil {
		return err
	}
	data, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("boltstore: encoding user: %w", err)
	}
	// Users carry no access decision: no change notification.
	return t.usersB().Put([]byte(u.ID), data)
}

func (t *tx) Users(cursor string, limit int) ([]store.User, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	return records(scan, t.usersB(), bucketUsers, nil, cursor, limit, decodeUser)
}

// ---- workspaces

func (t *tx) Workspace(id string) (store.Workspace, error) {
	var w store.Workspace
	if err := t.readable(); err != nil {
		return w, err
	}
	if !validKey(id) {
		return w, notFound("workspace", id)
	}
	k := t.scratch1(id)
	v := t.workspacesB().Get(k)
	if v == nil {
		return w, notFound("workspace", id)
	}
	err := decodeWorkspace(v, &w, bucketWorkspaces, k)
	return w, err
}

func (t *tx) WorkspaceBySlug(slug string) (store.Workspace, error) {
	var w store.Workspace
	if err := t.readable(); err != nil {
		return w, err
	}
	if !validKey(slug) {
		return w, notFound("workspace slug", slug)
	}
	id := t.slugsB().Get(t.scratch1(slug))
	if id == nil {
		return w, notFound("workspace slug", slug)
	}
	// id points into the mmap and stays valid for this transaction: use it
	// as the key directly, no copy.
	v := t.workspacesB().Get(id)
	if v == nil {
		return w, corruptIndex("slugs", []byte(slug))
	}
	err := decodeWorkspace(v, &w, bucketWorkspaces, id)
	return w, err
}

func (t *tx) PutWorkspace(w store.Workspace) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("workspace id", w.ID); err != nil {
		return err
	}
	if err := checkKey("workspace slug", w.Slug); err != nil {
		return err
	}
	data, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("boltstore: encoding workspace: %w", err)
	}
	wsB, slugB := t.workspacesB(), t.slugsB()

	// Every check comes before the first write: a caller may handle an
	// error (e.g. retry another slug on ErrSlugTaken) and go on to commit,
	// so a failed Put must leave nothing behind.
	var old store.Workspace
	v := wsB.Get(t.scratch1(w.ID))
	existed := v != nil
	if existed {
		if err := decodeWorkspace(v, &old, bucketWorkspaces, t.key); err != nil {
			return err
		}
	}
	if err := t.checkWorkspaceOrg(w); err != nil {
		return err
	}
	owner := slugB.Get(t.scratch1(w.Slug))
	if owner != nil && string(owner) != w.ID {
		return fmt.Errorf("boltstore: slug %s: %w", quote(w.Slug), store.ErrSlugTaken)
	}
	mapped := owner != nil // the slug already maps to this workspace

	slugChanged := !existed || old.Slug != w.Slug
	t.ch.workspace(w.ID, slugChanged || old.Deleted() != w.Deleted())
	if err := t.moveWorkspaceIndexes(old, w); err != nil {
		return err
	}

	if existed && old.Slug != w.Slug {
		// Free the old slug, if it is really ours.
		if owner := slugB.Get(t.scratch1(old.Slug)); owner != nil && string(owner) == w.ID {
			if err := slugB.Delete(t.key); err != nil {
				return err
			}
		}
	}
	if !mapped {
		if err := slugB.Put([]byte(w.Slug), []byte(w.ID)); err != nil {
			return err
		}
	}
	return wsB.Put([]byte(w.ID), data)
}

func (t *tx) Workspaces(cursor string, limit int) ([]store.Workspace, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	return records(scan, t.workspacesB(), bucketWorkspaces, nil, cursor, limit, decodeWorkspace)
}

// ---- members

func (t *tx) Member(workspaceID, userID string) (store.Membership, error) {
	var m store.Membership
	if err := t.readable(); err != nil {
		return m, err
	}
	if !validKey(workspaceID) || !validKey(userID) {
		return m, notFound2("member", workspaceID, userID)
	}
	k := t.scratch2(workspaceID, userID)
	v := t.membersB().Get(k)
	if v == nil {
		return m, notFound2("member", workspaceID, userID)
	}
	err := decodeMember(v, &m, bucketMembers, k)
	return m, err
}

func (t *tx) PutMember(m store.Membership) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("membership workspace id", m.WorkspaceID); err != nil {
		return err
	}
	if err := checkKey("membership user id", m.UserID); err != nil {
		return err
	}
	if t.workspacesB().Get(t.scratch1(m.WorkspaceID)) == nil {
		return notFound("workspace", m.WorkspaceID)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("boltstore: encoding membership: %w", err)
	}
	t.ch.member(m.WorkspaceID, m.UserID)
	if err := t.membersB().Put(key2(m.WorkspaceID, m.UserID), data); err != nil {
		return err
	}
	return t.userWSB().Put(key2(m.UserID, m.WorkspaceID), []byte{})
}

func (t *tx) DeleteMember(workspaceID, userID string) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("membership workspace id", workspaceID); err != nil {
		return err
	}
	if err := checkKey("membership user id", userID); err != nil {
		return err
	}
	mB := t.membersB()
	k := t.scratch2(workspaceID, userID)
	if mB.Get(k) == nil {
		return notFound2("member", workspaceID, userID)
	}
	t.ch.member(workspaceID, userID)
	if err := mB.Delete(k); err != nil {
		return err
	}
	return t.userWSB().Delete(t.scratch2(userID, workspaceID))
}

func (t *tx) Members(workspaceID, cursor string, limit int) ([]store.Membership, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	if !validKey(workspaceID) {
		return []store.Membership{}, "", nil
	}
	return records(scan, t.membersB(), bucketMembers, prefix1(workspaceID), cursor, limit, decodeMember)
}

func (t *tx) UserMemberships(userID, cursor string, limit int) ([]store.Membership, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	items := make([]store.Membership, 0, listCap(limit))
	if !validKey(userID) {
		return items, "", nil
	}
	prefix := prefix1(userID)
	mB := t.membersB()
	next, err := scan(t.userWSB(), prefix, cursor, limit, func(k, _ []byte) error {
		wsID := k[len(prefix):]
		mk := append(append(append(t.key[:0], wsID...), 0), userID...)
		t.key = mk
		v := mB.Get(mk)
		if v == nil {
			return corruptIndex("user_ws", k)
		}
		var m store.Membership
		if err := decodeMember(v, &m, bucketMembers, mk); err != nil {
			return err
		}
		items = append(items, m)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return items, next, nil
}

// ---- roles

func (t *tx) Role(workspaceID, slug string) (store.Role, error) {
	var r store.Role
	if err := t.readable(); err != nil {
		return r, err
	}
	if !validKey(workspaceID) || !validKey(slug) {
		return r, notFound2("role", workspaceID, slug)
	}
	k := t.scratch2(workspaceID, slug)
	v := t.rolesB().Get(k)
	if v == nil {
		return r, notFound2("role", workspaceID, slug)
	}
	err := decodeRole(v, &r, bucketRoles, k)
	return r, err
}

func (t *tx) PutRole(r store.Role) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("role workspace id", r.WorkspaceID); err != nil {
		return err
	}
	if err := checkKey("role slug", r.Slug); err != nil {
		return err
	}
	if t.workspacesB().Get(t.scratch1(r.WorkspaceID)) == nil {
		return notFound("workspace", r.WorkspaceID)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("boltstore: encoding role: %w", err)
	}
	t.ch.workspace(r.WorkspaceID, false)
	return t.rolesB().Put(key2(r.WorkspaceID, r.Slug), data)
}

func (t *tx) DeleteRole(workspaceID, slug string) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("role workspace id", workspaceID); err != nil {
		return err
	}
	if err := checkKey("role slug", slug); err != nil {
		return err
	}
	rB := t.rolesB()
	k := t.scratch2(workspaceID, slug)
	if rB.Get(k) == nil {
		return notFound2("role", workspaceID, slug)
	}
	t.ch.workspace(workspaceID, false)
	return rB.Delete(k)
}

func (t *tx) Roles(workspaceID string) ([]store.Role, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	if !validKey(workspaceID) {
		return []store.Role{}, nil
	}
	items, _, err := records(scan, t.rolesB(), bucketRoles, prefix1(workspaceID), "", 0, decodeRole)
	return items, err
}

// ---- pagination

// listCap is the initial capacity of a page: the limit, bounded so that a
// huge limit does not allocate up front.
func listCap(limit int) int {
	if limit <= 0 || limit > 64 {
		return 16
	}
	return limit
}

// walkFunc visits a page of a bucket's records: scan or scanReverse.
type walkFunc func(b *bbolt.Bucket, prefix []byte, cursor string, limit int, fn func(k, v []byte) error) (string, error)

// records walks a page of b's records under prefix and decodes each into a
// T. It returns the page and the cursor of the next one ("" at the end).
func records[T any](walk walkFunc, b *bbolt.Bucket, bucket, prefix []byte, cursor string, limit int,
	decode func(v []byte, dst *T, bucket, key []byte) error) ([]T, string, error) {
	items := make([]T, 0, listCap(limit))
	next, err := walk(b, prefix, cursor, limit, func(k, v []byte) error {
		var item T
		if err := decode(v, &item, bucket, k); err != nil {
			return err
		}
		items = append(items, item)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return items, next, nil
}

// viaIndex returns a walkFunc over an index bucket whose keys are
// prefix + id: it scans the index (so pages and cursors are those of the
// index, i.e. ids) and hands fn the id and the record of recordsB it
// points to.
func viaIndex(recordsB *bbolt.Bucket, name string) walkFunc {
	return func(index *bbolt.Bucket, prefix []byte, cursor string, limit int, fn func(k, v []byte) error) (string, error) {
		return scan(index, prefix, cursor, limit, func(k, _ []byte) error {
			// The id points into the mmap and stays valid for this
			// transaction: use it as the key directly.
			id := k[len(prefix):]
			v := recordsB.Get(id)
			if v == nil {
				return corruptIndex(name, k)
			}
			return fn(id, v)
		})
	}
}

// scan calls fn for the records of b whose key starts with prefix and whose
// remainder sorts strictly after cursor, at most limit of them (limit <= 0:
// all). It returns the remainder of the last key passed to fn when another
// matching record follows, and "" when the page reached the end — also when
// the page is exactly full at the last record.
func scan(b *bbolt.Bucket, prefix []byte, cursor string, limit int, fn func(k, v []byte) error) (string, error) {
	seek := make([]byte, 0, len(prefix)+len(cursor))
	seek = append(append(seek, prefix...), cursor...)
	c := b.Cursor()
	k, v := c.Seek(seek)
	if cursor != "" && bytes.Equal(k, seek) {
		k, v = c.Next()
	}
	return walkPage(k, v, c.Next, prefix, limit, fn)
}

// walkPage calls fn for the record (k, v) and those advance steps to, while
// their keys start with prefix, at most limit of them (limit <= 0: all). It
// returns the remainder of the last key passed to fn when another matching
// record follows (the next page's cursor), else "".
func walkPage(k, v []byte, advance func() ([]byte, []byte), prefix []byte, limit int, fn func(k, v []byte) error) (string, error) {
	var (
		n    int
		last []byte
	)
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = advance() {
		if limit > 0 && n == limit {
			// A further record exists: the page's last key is the cursor.
			return string(last[len(prefix):]), nil
		}
		if err := fn(k, v); err != nil {
			return "", err
		}
		last = k
		n++
	}
	return "", nil
}

// ---- signing keys

func (t *tx) SigningKeys() ([]store.SigningKey, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	var keys []store.SigningKey
	err := t.keysB().ForEach(func(k, v []byte) error {
		var key store.SigningKey
		if err := json.Unmarshal(v, &key); err != nil {
			return fmt.Errorf("boltstore: decoding signing key %q: %w", k, err)
		}
		keys = append(keys, key)
		return nil
	})
	return keys, err
}

func (t *tx) PutSigningKey(k store.SigningKey) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("signing key id", k.ID); err != nil {
		return err
	}
	data, err := json.Marshal(k)
	if err != nil {
		return fmt.Errorf("boltstore: encoding signing key: %w", err)
	}
	// The assertion signer reads keys at provision; no cache to invalidate.
	return t.keysB().Put([]byte(k.ID), data)
}
