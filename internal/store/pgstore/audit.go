package pgstore

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// ---- audit
//
// Events live under (workspace_id, id); ids are boltstore's: "ev_" and 16
// hex digits of a sequence of the workspace alone, the next one after the
// greatest id the workspace holds (so id order is append order and an id
// tells nothing of other workspaces), or the 20-digit decimal ids of
// older stores, kept as imported (they sort before every "ev_" id). Two
// concurrent appends to one workspace read the same greatest id:
// SERIALIZABLE fails one of them, whose retry takes the next id. Audit
// events carry no access decision: no store.Change.

// auditScanBatch is the batch of events FindAudit reads per query.
const auditScanBatch = 256

// filterText is what the action and actor columns hold: text the column
// can store (no NUL, valid UTF-8). They only narrow FindAudit's query; the
// exact filter runs on the decoded event, so a lossy form is harmless.
func filterText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func (t *tx) AppendAudit(ev store.AuditEvent) (store.AuditEvent, error) {
	if err := t.writableErr(); err != nil {
		return ev, err
	}
	// The workspace need not exist: events outlive what they describe.
	if err := checkKey("audit event workspace id", ev.WorkspaceID); err != nil {
		return ev, t.fail(err)
	}
	if ev.ID == "" {
		var last string
		err := t.ptx.QueryRow(t.ctx, `SELECT id FROM audit_events WHERE workspace_id = $1 ORDER BY id DESC LIMIT 1`, ev.WorkspaceID).Scan(&last)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return ev, t.dbErr("reading the last audit id", err)
		}
		if last == "" || store.IsLegacyAuditID(last) {
			ev.ID = store.FormatAuditID(1)
		} else {
			seq, ok := store.ParseAuditID(last)
			switch {
			case !ok:
				return ev, t.fail(fmt.Errorf("pgstore: audit event %s of workspace %s has an id this store cannot continue from", quote(last), quote(ev.WorkspaceID)))
			case seq == math.MaxUint64:
				return ev, t.fail(fmt.Errorf("pgstore: the audit event sequence of workspace %s is exhausted", quote(ev.WorkspaceID)))
			}
			ev.ID = store.FormatAuditID(seq + 1)
		}
	} else {
		if _, ok := store.ParseAuditID(ev.ID); !ok && !store.IsLegacyAuditID(ev.ID) {
			return ev, t.fail(fmt.Errorf("pgstore: audit event id %s is not %s (an id this store assigned): %w", quote(ev.ID), store.AuditIDForm, store.ErrInvalid))
		}
		dup, err := t.exists("the audit event", `SELECT EXISTS (SELECT 1 FROM audit_events WHERE workspace_id = $1 AND id = $2)`, ev.WorkspaceID, ev.ID)
		if err != nil {
			return ev, err
		}
		if dup {
			return ev, t.fail(fmt.Errorf("pgstore: audit event %s of workspace %s already exists: %w", quote(ev.ID), quote(ev.WorkspaceID), store.ErrInvalid))
		}
	}
	data, err := t.encode("audit event", ev)
	if err != nil {
		return ev, err
	}
	err = t.exec("writing audit event", `INSERT INTO audit_events (workspace_id, id, action, actor, at, data) VALUES ($1, $2, $3, $4, $5, $6)`,
		ev.WorkspaceID, ev.ID, filterText(ev.Action), filterText(ev.Actor), ev.Time, data)
	return ev, err
}

func (t *tx) Audit(workspaceID, cursor string, limit int) ([]store.AuditEvent, string, error) {
	if !validKey(workspaceID) {
		if err := t.readable(); err != nil {
			return nil, "", err
		}
		return []store.AuditEvent{}, "", nil
	}
	return page[store.AuditEvent](t, "audit events", limit, `SELECT id, data FROM audit_events
		WHERE workspace_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3`, workspaceID, cursor)
}

// FindAudit implements store.Tx. The query narrows by action, actor and
// time (at has microseconds, so its bounds are widened to whole
// microseconds); the exact AuditFilter.Match runs on each decoded event.
// It reads in batches until the page is full and one more match exists,
// or the events run out.
func (t *tx) FindAudit(workspaceID string, f store.AuditFilter, cursor string, limit int) ([]store.AuditEvent, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	items := make([]store.AuditEvent, 0, listCap(limit))
	if !validKey(workspaceID) {
		return items, "", nil
	}
	var since, until any // NULL: no bound
	if !f.Since.IsZero() {
		since = f.Since.Truncate(time.Microsecond)
	}
	if !f.Until.IsZero() {
		until = f.Until.Truncate(time.Microsecond).Add(time.Microsecond)
	}
	last := cursor
	for {
		batch, next, err := page[store.AuditEvent](t, "audit events", auditScanBatch, `SELECT id, data FROM audit_events
			WHERE workspace_id = $1 AND ($2 = '' OR id < $2)
				AND ($3 = '' OR action = $3) AND ($4 = '' OR actor = $4)
				AND ($5::timestamptz IS NULL OR at >= $5) AND ($6::timestamptz IS NULL OR at < $6)
			ORDER BY id DESC LIMIT $7`, workspaceID, last, filterText(f.Action), filterText(f.Actor), since, until)
		if err != nil {
			return nil, "", err
		}
		for _, ev := range batch {
			if !f.Match(ev) {
				continue
			}
			if limit > 0 && len(items) == limit {
				// Another match follows: the page's last id is the cursor.
				return items, items[len(items)-1].ID, nil
			}
			items = append(items, ev)
		}
		if next == "" {
			return items, "", nil
		}
		last = next
	}
}

func (t *tx) AuditWorkspaces(cursor string, limit int) ([]string, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	var lim any
	if limit > 0 {
		lim = limit + 1
	}
	rows, err := t.ptx.Query(t.ctx, `SELECT DISTINCT workspace_id FROM audit_events WHERE workspace_id > $1 ORDER BY workspace_id LIMIT $2`, cursor, lim)
	if err != nil {
		return nil, "", t.dbErr("listing audit workspaces", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, "", t.dbErr("listing audit workspaces", err)
	}
	if items == nil {
		items = []string{}
	}
	if limit > 0 && len(items) > limit {
		return items[:limit], items[limit-1], nil
	}
	return items, "", nil
}
