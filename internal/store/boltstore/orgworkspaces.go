package boltstore

import (
	"fmt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// The workspace side of organizations: PutWorkspace's checks of the
// organization fields, the three indexes it keeps (org_ws, project_ws,
// local_ws), OrgWorkspaces and LocalWorkspace. PurgeWorkspace clears the
// indexes through moveWorkspaceIndexes(w, store.Workspace{}).

// checkWorkspaceOrg checks w's organization fields against the other
// records (store.OrgTx doc), before PutWorkspace writes anything.
func (t *tx) checkWorkspaceOrg(w store.Workspace) error {
	if err := store.CheckWorkspaceScope(w); err != nil {
		return fmt.Errorf("boltstore: %w", err)
	}
	if w.OrganizationID != "" {
		if err := checkKey("workspace organization id", w.OrganizationID); err != nil {
			return err
		}
		if t.orgsB().Get(t.scratch1(w.OrganizationID)) == nil {
			return notFound("organization", w.OrganizationID)
		}
	}
	if w.ProjectID != "" {
		if err := checkKey("workspace project id", w.ProjectID); err != nil {
			return err
		}
		v := t.projectsB().Get(t.scratch1(w.ProjectID))
		if v == nil {
			return notFound("project", w.ProjectID)
		}
		var p store.Project
		if err := decodeJSON(v, &p, bucketProjects, t.key); err != nil {
			return err
		}
		if p.OrganizationID != w.OrganizationID {
			return fmt.Errorf("boltstore: workspace %s: project %s belongs to organization %s, not %s: %w",
				quote(w.ID), quote(w.ProjectID), quote(p.OrganizationID), quote(w.OrganizationID), store.ErrInvalid)
		}
	}
	if w.Scope == store.ScopeLocal {
		if err := checkKey("local workspace owner id", w.OwnerID); err != nil {
			return err
		}
		if other := t.localWSB().Get(t.scratch1(w.OwnerID)); other != nil && string(other) != w.ID {
			return fmt.Errorf("boltstore: user %s already has local workspace %s: %w", quote(w.OwnerID), quote(string(other)), store.ErrInvalid)
		}
	}
	return nil
}

// moveWorkspaceIndexes moves the index entries of a workspace from what
// old says to what w says (the zero Workspace: none, for a new workspace
// or a purge). Entries that stay are not rewritten.
func (t *tx) moveWorkspaceIndexes(old, w store.Workspace) error {
	id := w.ID
	if id == "" {
		id = old.ID
	}
	if old.OrganizationID != w.OrganizationID {
		if old.OrganizationID != "" {
			if err := t.orgWSB().Delete(t.scratch2(old.OrganizationID, id)); err != nil {
				return err
			}
		}
		if w.OrganizationID != "" {
			if err := t.orgWSB().Put(key2(w.OrganizationID, id), []byte{}); err != nil {
				return err
			}
		}
	}
	if old.ProjectID != w.ProjectID {
		if old.ProjectID != "" {
			if err := t.projectWSB().Delete(t.scratch2(old.ProjectID, id)); err != nil {
				return err
			}
		}
		if w.ProjectID != "" {
			if err := t.projectWSB().Put(key2(w.ProjectID, id), []byte{}); err != nil {
				return err
			}
		}
	}
	oldOwner, newOwner := localOwner(old), localOwner(w)
	if oldOwner != newOwner {
		if oldOwner != "" {
			// Only if the entry is really ours.
			if cur := t.localWSB().Get(t.scratch1(oldOwner)); cur != nil && string(cur) == id {
				if err := t.localWSB().Delete(t.key); err != nil {
					return err
				}
			}
		}
		if newOwner != "" {
			if err := t.localWSB().Put([]byte(newOwner), []byte(id)); err != nil {
				return err
			}
		}
	}
	return nil
}

// localOwner is the user a workspace is the local workspace of, or "".
func localOwner(w store.Workspace) string {
	if w.Scope != store.ScopeLocal {
		return ""
	}
	return w.OwnerID
}

func (t *tx) OrgWorkspaces(orgID, projectID, cursor string, limit int) ([]store.Workspace, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	if !validKey(orgID) || (projectID != "" && !validKey(projectID)) {
		return []store.Workspace{}, "", nil
	}
	if projectID == "" {
		return indexedList(t, t.orgWSB(), t.workspacesB(), bucketWorkspaces, "org_ws", prefix1(orgID), nil, cursor, limit, decodeWorkspace)
	}
	// A project's workspaces, if the project is one of orgID's: a
	// project never moves between organizations, nor do its workspaces
	// leave its organization while they name it.
	v := t.projectsB().Get(t.scratch1(projectID))
	if v == nil {
		return []store.Workspace{}, "", nil
	}
	var p store.Project
	if err := decodeJSON(v, &p, bucketProjects, t.key); err != nil {
		return nil, "", err
	}
	if p.OrganizationID != orgID {
		return []store.Workspace{}, "", nil
	}
	return indexedList(t, t.projectWSB(), t.workspacesB(), bucketWorkspaces, "project_ws", prefix1(projectID), nil, cursor, limit, decodeWorkspace)
}

func (t *tx) LocalWorkspace(userID string) (store.Workspace, error) {
	var w store.Workspace
	if err := t.readable(); err != nil {
		return w, err
	}
	if !validKey(userID) {
		return w, notFound("local workspace of user", userID)
	}
	id := t.localWSB().Get(t.scratch1(userID))
	if id == nil {
		return w, notFound("local workspace of user", userID)
	}
	v := t.workspacesB().Get(id)
	if v == nil {
		return w, corruptIndex("local_ws", []byte(userID))
	}
	err := decodeWorkspace(v, &w, bucketWorkspaces, id)
	return w, err
}
