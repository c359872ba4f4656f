package boltstore

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// ---- audit
//
// Events live under wsID \x00 eventID. Event ids come from the sequence of
// the audit bucket (bbolt NextSequence: store-wide, transactional — a
// rolled-back append gives its number back) formatted as auditIDWidth
// decimal digits, so that key order is append order. Audit events carry no
// access decision: no change notification.

// auditIDWidth is the number of digits of an event id: enough for any
// uint64.
const auditIDWidth = 20

func formatAuditID(seq uint64) string {
	return fmt.Sprintf("%0*d", auditIDWidth, seq)
}

// parseAuditID returns the sequence number of an event id, or false if id
// is not in the fixed-width form formatAuditID produces.
func parseAuditID(id string) (uint64, bool) {
	if len(id) != auditIDWidth {
		return 0, false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(id, 10, 64)
	return n, err == nil
}

func (t *tx) AppendAudit(ev store.AuditEvent) (store.AuditEvent, error) {
	if err := t.writableErr(); err != nil {
		return ev, err
	}
	// The workspace need not exist: events outlive what they describe.
	if err := checkKey("audit event workspace id", ev.WorkspaceID); err != nil {
		return ev, err
	}
	b := t.auditB()
	if ev.ID == "" {
		if b.Sequence() == math.MaxUint64 {
			// NextSequence would wrap to 0: a new id would sort before
			// every old one.
			return ev, fmt.Errorf("boltstore: the audit event sequence is exhausted")
		}
		seq, err := b.NextSequence()
		if err != nil {
			return ev, err
		}
		ev.ID = formatAuditID(seq)
	} else {
		// An imported event keeps its id; the sequence moves past it so
		// later appends sort after it and never collide with it.
		seq, ok := parseAuditID(ev.ID)
		if !ok {
			return ev, fmt.Errorf("boltstore: audit event id %s is not %d decimal digits (an id this store assigned): %w", quote(ev.ID), auditIDWidth, store.ErrInvalid)
		}
		if b.Get(t.scratch2(ev.WorkspaceID, ev.ID)) != nil {
			return ev, fmt.Errorf("boltstore: audit event %s of workspace %s already exists: %w", quote(ev.ID), quote(ev.WorkspaceID), store.ErrInvalid)
		}
		if seq > b.Sequence() {
			if err := b.SetSequence(seq); err != nil {
				return ev, err
			}
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
