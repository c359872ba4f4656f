package boltstore

import "github.com/gatehouse-authz/gatehouse/internal/store"

// changes collects what a write transaction changed, deduplicated and in
// first-change order, for the transaction's store.Commit in the change log
// (see feed.go). A nil *changes records nothing (a read transaction).
type changes struct {
	workspaces []workspaceChange
	wsIndex    map[string]int
	members    []memberKey
	memberSeen map[memberKey]struct{}
	apiKeys    []apiKeyKey
	apiKeySeen map[apiKeyKey]struct{}
	// org holds the organization-level changes (orgchanges.go).
	org store.OrgChanges
}

type workspaceChange struct {
	id           string
	slugsChanged bool
}

type memberKey struct{ workspaceID, userID string }

type apiKeyKey struct{ workspaceID, keyID string }

func (c *changes) empty() bool {
	return c == nil || (len(c.workspaces) == 0 && len(c.members) == 0 && len(c.apiKeys) == 0 && c.org.Len() == 0)
}

// workspace records a change of the workspace record or of one of its
// roles; slugsChanged is OR-ed over the transaction.
func (c *changes) workspace(id string, slugsChanged bool) {
	if c == nil {
		return
	}
	if i, ok := c.wsIndex[id]; ok {
		c.workspaces[i].slugsChanged = c.workspaces[i].slugsChanged || slugsChanged
		return
	}
	if c.wsIndex == nil {
		c.wsIndex = make(map[string]int)
	}
	c.wsIndex[id] = len(c.workspaces)
	c.workspaces = append(c.workspaces, workspaceChange{id, slugsChanged})
}

// member records a change of the membership of userID in workspaceID.
func (c *changes) member(workspaceID, userID string) {
	if c == nil {
		return
	}
	k := memberKey{workspaceID, userID}
	if _, ok := c.memberSeen[k]; ok {
		return
	}
	if c.memberSeen == nil {
		c.memberSeen = make(map[memberKey]struct{})
	}
	c.memberSeen[k] = struct{}{}
	c.members = append(c.members, k)
}

// apiKey records a change of API key keyID of workspaceID.
func (c *changes) apiKey(workspaceID, keyID string) {
	if c == nil {
		return
	}
	k := apiKeyKey{workspaceID, keyID}
	if _, ok := c.apiKeySeen[k]; ok {
		return
	}
	if c.apiKeySeen == nil {
		c.apiKeySeen = make(map[apiKeyKey]struct{})
	}
	c.apiKeySeen[k] = struct{}{}
	c.apiKeys = append(c.apiKeys, k)
}

// commit returns the store.Commit of revision rev: workspaces first, then
// members, then API keys, then the organization-level kinds, each in the
// order they were first changed.
func (c *changes) commit(rev uint64) store.Commit {
	cm := store.Commit{Revision: rev}
	if c.empty() {
		return cm
	}
	cm.Changes = make([]store.Change, 0, len(c.workspaces)+len(c.members)+len(c.apiKeys)+c.org.Len())
	for _, w := range c.workspaces {
		cm.Changes = append(cm.Changes, store.Change{Kind: store.ChangeWorkspace, WorkspaceID: w.id, Slugs: w.slugsChanged})
	}
	for _, m := range c.members {
		cm.Changes = append(cm.Changes, store.Change{Kind: store.ChangeMember, WorkspaceID: m.workspaceID, UserID: m.userID})
	}
	for _, k := range c.apiKeys {
		cm.Changes = append(cm.Changes, store.Change{Kind: store.ChangeAPIKey, WorkspaceID: k.workspaceID, KeyID: k.keyID})
	}
	cm.Changes = c.org.AppendTo(cm.Changes)
	return cm
}

// orgs is where the organization-level changes go; nil (recording
// nothing) in a read transaction.
func (c *changes) orgs() *store.OrgChanges {
	if c == nil {
		return nil
	}
	return &c.org
}
