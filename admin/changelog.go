package admin

import (
	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Every change made through the API is logged once, after it committed:
// one line per audit event, naming the actor, the action, the target and
// the workspace (never a token, a secret or a summary, which may hold
// emails). The audit log is the record; the log line is what an operator
// greps and ships.

// recordingTx is the Tx a write handler gets: it remembers the audit
// events appended, so that each is logged once the transaction commits
// (and never for a rolled-back one).
type recordingTx struct {
	store.Tx
	events *[]store.AuditEvent
}

func (t recordingTx) AppendAudit(ev store.AuditEvent) (store.AuditEvent, error) {
	stored, err := t.Tx.AppendAudit(ev)
	if err == nil {
		*t.events = append(*t.events, stored)
	}
	return stored, err
}

// logChanges writes the line of each committed audit event.
func (a *API) logChanges(events []store.AuditEvent) {
	for _, ev := range events {
		a.logger.Info("management API change",
			zap.String("actor", ev.Actor),
			zap.String("action", ev.Action),
			zap.String("target", ev.Target),
			zap.String("workspace", ev.WorkspaceID),
			zap.String("event", ev.ID))
	}
}
