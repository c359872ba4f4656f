package boltstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// ---- audit
//
// Events live under wsID \x00 eventID. An event id is "ev_" and 16 hex
// digits of a sequence of its workspace alone: the next id of a workspace
// follows the greatest one it holds (found with one seek, no counter to
// keep), so key order is append order, and ids reveal nothing about
// other workspaces (a store-wide sequence would tell a tenant how many
// events others made between two of its own). A rolled-back append gives
// its number back. Audit events carry no access decision: no change
// notification.
//
// Stores written before per-workspace ids hold 20-digit decimal ids (a
// store-wide sequence). They are kept, imported as they are, and sort
// before every "ev_" id, so newest first still holds.

// nextAuditID is the id after the greatest one workspaceID holds.
func (t *tx) nextAuditID(b *bbolt.Bucket, workspaceID string) (string, error) {
	prefix := prefix1(workspaceID)
	var last string
	_, err := scanReverse(b, prefix, "", 1, func(k, _ []byte) error {
		last = string(k[len(prefix):])
		return nil
	})
	if err != nil {
		return "", err
	}
	if last == "" || store.IsLegacyAuditID(last) {
		return store.FormatAuditID(1), nil
	}
	seq, ok := store.ParseAuditID(last)
	switch {
	case !ok:
		return "", fmt.Errorf("boltstore: audit event %s of workspace %s has an id this store cannot continue from", quote(last), quote(workspaceID))
	case seq == math.MaxUint64:
		// The next id would wrap and sort before every old one.
		return "", fmt.Errorf("boltstore: the audit event sequence of workspace %s is exhausted", quote(workspaceID))
	}
	return store.FormatAuditID(seq + 1), nil
}

func (t *tx) AppendAudit(ev store.AuditEvent) (store.AuditEvent, error) {
	if err := t.writableErr(); err != nil {
		return ev, err
	}
	// The workspace need not exist: events outlive what they describe
	// (the tombstone of a purged workspace, for one).
	if err := checkKey("audit event workspace id", ev.WorkspaceID); err != nil {
		return ev, err
	}
	b := t.auditB()
	if ev.ID == "" {
		id, err := t.nextAuditID(b, ev.WorkspaceID)
		if err != nil {
			return ev, err
		}
		ev.ID = id
	} else {
		// An imported event keeps its id; later appends follow the
		// greatest id, so they sort after it and never collide with it.
		if _, ok := store.ParseAuditID(ev.ID); !ok && !store.IsLegacyAuditID(ev.ID) {
			return ev, fmt.Errorf("boltstore: audit event id %s is not %s (an id this store assigned): %w", quote(ev.ID), store.AuditIDForm, store.ErrInvalid)
		}
		if b.Get(t.scratch2(ev.WorkspaceID, ev.ID)) != nil {
			return ev, fmt.Errorf("boltstore: audit event %s of workspace %s already exists: %w", quote(ev.ID), quote(ev.WorkspaceID), store.ErrInvalid)
		}
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return ev, fmt.Errorf("boltstore: encoding audit event: %w", err)
	}
	if err := b.Put(key2(ev.WorkspaceID, ev.ID), data); err != nil {
		return ev, err
	}
	return ev, nil
}

// errPageFull stops a filtered walk at the first match past a full page.
var errPageFull = errors.New("page full")

func (t *tx) FindAudit(workspaceID string, f store.AuditFilter, cursor string, limit int) ([]store.AuditEvent, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	items := make([]store.AuditEvent, 0, listCap(limit))
	if !validKey(workspaceID) {
		return items, "", nil
	}
	prefix := prefix1(workspaceID)
	var last string
	_, err := scanReverse(t.auditB(), prefix, cursor, 0, func(k, v []byte) error {
		var ev store.AuditEvent
		if err := decodeJSON(v, &ev, bucketAudit, k); err != nil {
			return err
		}
		if !f.Match(ev) {
			return nil
		}
		if limit > 0 && len(items) == limit {
			// Another match follows: the page's last key is the cursor.
			return errPageFull
		}
		items = append(items, ev)
		last = string(k[len(prefix):])
		return nil
	})
	switch {
	case errors.Is(err, errPageFull):
		return items, last, nil
	case err != nil:
		return nil, "", err
	}
	return items, "", nil
}

func (t *tx) AuditWorkspaces(cursor string, limit int) ([]string, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	items := make([]string, 0, listCap(limit))
	c := t.auditB().Cursor()
	var k []byte
	if cursor == "" {
		k, _ = c.First()
	} else {
		// Past every key of the cursor's workspace: its id, then \x01.
		k, _ = c.Seek(append([]byte(cursor), 1))
	}
	for k != nil {
		sep := bytes.IndexByte(k, 0)
		if sep < 0 {
			return nil, "", fmt.Errorf("boltstore: audit key %q has no workspace separator", k)
		}
		if limit > 0 && len(items) == limit {
			return items, items[len(items)-1], nil
		}
		ws := string(k[:sep])
		items = append(items, ws)
		k, _ = c.Seek(append([]byte(ws), 1))
	}
	return items, "", nil
}

func (t *tx) Audit(workspaceID, cursor string, limit int) ([]store.AuditEvent, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	if !validKey(workspaceID) {
		return []store.AuditEvent{}, "", nil
	}
	return records(scanReverse, t.auditB(), bucketAudit, prefix1(workspaceID), cursor, limit, decodeJSON[store.AuditEvent])
}

// scanReverse is scan backwards: it calls fn for the records of b whose key
// starts with prefix (which must end in the \x00 separator) and whose
// remainder sorts strictly BEFORE cursor ("" = from the end), last key
// first, at most limit of them (limit <= 0: all). It returns the remainder
// of the last key passed to fn when another matching record follows, and ""
// when the page reached the start.
func scanReverse(b *bbolt.Bucket, prefix []byte, cursor string, limit int, fn func(k, v []byte) error) (string, error) {
	c := b.Cursor()
	// Nothing under the prefix: done. Checked first because bbolt's
	// Cursor.Last never returns on a bucket whose keys were all deleted
	// earlier in the same write transaction (a purge, then its tombstone):
	// it keeps stepping back over the emptied pages.
	if k, _ := c.Seek(prefix); k == nil || !bytes.HasPrefix(k, prefix) {
		return "", nil
	}
	var seek []byte
	if cursor != "" {
		seek = append(append(make([]byte, 0, len(prefix)+len(cursor)), prefix...), cursor...)
	} else {
		// The first key after the prefix range: the separator + 1.
		seek = append([]byte(nil), prefix...)
		seek[len(seek)-1]++
	}
	// Seek lands on the first key >= seek; the one before it is the
	// greatest key < seek.
	k, v := c.Seek(seek)
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	return walkPage(k, v, c.Prev, prefix, limit, fn)
}
