package cli

import (
	"context"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// bootstrap creates nw's workspace (with its owner and audit event) in one
// Update of s. With ifEmpty it creates nothing, and reports created
// false, when the store already has a live workspace: checked inside the
// same transaction, so that two bootstraps racing on an empty store (or
// a retried run, store "Transactions") never make two workspaces.
// Everything it returns is assigned on every run of the closure.
func bootstrap(ctx context.Context, s store.Store, nw model.NewWorkspace, ifEmpty bool, now time.Time) (ws store.Workspace, created bool, err error) {
	err = s.Update(ctx, func(tx store.Tx) error {
		ws, created = store.Workspace{}, false
		if ifEmpty {
			live, err := hasLiveWorkspace(tx)
			if err != nil || live {
				return err
			}
		}
		var err error
		if ws, err = model.CreateWorkspace(tx, nw, now); err != nil {
			return err
		}
		created = true
		return nil
	})
	return ws, created && err == nil, err
}

// hasLiveWorkspace reports whether the store holds a workspace that is not
// soft-deleted (what `store stats` counts as workspaces).
func hasLiveWorkspace(tx store.Tx) (bool, error) {
	cursor := ""
	for {
		items, next, err := tx.Workspaces(cursor, 500)
		if err != nil {
			return false, err
		}
		for _, w := range items {
			if !w.Deleted() {
				return true, nil
			}
		}
		if next == "" {
			return false, nil
		}
		cursor = next
	}
}
