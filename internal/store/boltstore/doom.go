package boltstore

import (
	"errors"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// The failed-statement rule (store package doc, "Transactions"): an error
// other than ErrNotFound from a write method dooms the transaction. bbolt
// itself would happily commit the writes made before and after a failed
// Put, but PostgreSQL aborts a transaction at its first failed statement;
// enforcing PostgreSQL's rule here keeps code that works on bbolt working
// on every backend (a caller cannot "handle" a failed write and commit).
//
// updateTx is the Tx an Update hands to fn: tx with every write method
// recording its first failure in tx.doomed, which readable and writableErr
// then return to every later call. It holds one pointer, so boxing it in
// a store.Tx does not allocate.
type updateTx struct{ *tx }

var _ store.Tx = updateTx{}

// doom remembers err as the transaction's failure unless it is nil,
// ErrNotFound (the backend checked before writing: nothing happened), or
// the transaction is already doomed (the first failure is the one
// reported).
func (u updateTx) doom(err error) error {
	if err != nil && u.doomed == nil && !errors.Is(err, store.ErrNotFound) && !u.done {
		u.doomed = err
	}
	return err
}

func (u updateTx) PutUser(x store.User) error { return u.doom(u.tx.PutUser(x)) }

func (u updateTx) TouchUser(id, email string, at time.Time) error {
	return u.doom(u.tx.TouchUser(id, email, at))
}

func (u updateTx) PutWorkspace(w store.Workspace) error { return u.doom(u.tx.PutWorkspace(w)) }

func (u updateTx) PutMember(m store.Membership) error { return u.doom(u.tx.PutMember(m)) }

func (u updateTx) DeleteMember(workspaceID, userID string) error {
	return u.doom(u.tx.DeleteMember(workspaceID, userID))
}

func (u updateTx) PutRole(r store.Role) error { return u.doom(u.tx.PutRole(r)) }

func (u updateTx) DeleteRole(workspaceID, slug string) error {
	return u.doom(u.tx.DeleteRole(workspaceID, slug))
}

func (u updateTx) PutInvite(inv store.Invite) error { return u.doom(u.tx.PutInvite(inv)) }

func (u updateTx) PutAPIKey(k store.APIKey) error { return u.doom(u.tx.PutAPIKey(k)) }

func (u updateTx) TouchAPIKey(id string, at time.Time) error {
	return u.doom(u.tx.TouchAPIKey(id, at))
}

func (u updateTx) AppendAudit(ev store.AuditEvent) (store.AuditEvent, error) {
	stored, err := u.tx.AppendAudit(ev)
	return stored, u.doom(err)
}

func (u updateTx) PurgeWorkspace(id string) (store.Purged, error) {
	p, err := u.tx.PurgeWorkspace(id)
	return p, u.doom(err)
}

func (u updateTx) PutSigningKey(k store.SigningKey) error { return u.doom(u.tx.PutSigningKey(k)) }

func (u updateTx) PutOrganization(o store.Organization) error { return u.doom(u.tx.PutOrganization(o)) }

func (u updateTx) PutOrgMember(m store.OrgMember) error { return u.doom(u.tx.PutOrgMember(m)) }

func (u updateTx) DeleteOrgMember(orgID, userID string) error {
	return u.doom(u.tx.DeleteOrgMember(orgID, userID))
}

func (u updateTx) PutProject(p store.Project) error { return u.doom(u.tx.PutProject(p)) }

func (u updateTx) DeleteProject(id string) error { return u.doom(u.tx.DeleteProject(id)) }

func (u updateTx) PutProjectMember(m store.ProjectMember) error {
	return u.doom(u.tx.PutProjectMember(m))
}

func (u updateTx) DeleteProjectMember(projectID, userID string) error {
	return u.doom(u.tx.DeleteProjectMember(projectID, userID))
}
