package store

import (
	"fmt"
	"slices"
)

// SnapshotVersion is the format version of Snapshot.
const SnapshotVersion = 1

// Snapshot is every record of a store, for `gatehouse store export` and
// `import`. It is built and restored through Tx alone, so it works for any
// backend.
//
// It holds the gateway's private signing keys: treat a snapshot as a secret.
// (API keys hold only the hashes of their secrets.)
//
// APIKeys was added within version 1: a snapshot without it (nil) simply
// has no API keys. So were Organizations, OrgMembers, Projects and
// ProjectMembers: a snapshot written before them has none, and its
// workspaces are private and outside any organization.
type Snapshot struct {
	Version        int             `json:"version"`
	Users          []User          `json:"users"`
	Organizations  []Organization  `json:"organizations"`
	OrgMembers     []OrgMember     `json:"org_members"`
	Projects       []Project       `json:"projects"`
	ProjectMembers []ProjectMember `json:"project_members"`
	Workspaces     []Workspace     `json:"workspaces"`
	Memberships    []Membership    `json:"memberships"`
	Roles          []Role          `json:"roles"`
	Invites        []Invite        `json:"invites"`
	APIKeys        []APIKey        `json:"api_keys"`
	Audit          []AuditEvent    `json:"audit"`
	SigningKeys    []SigningKey    `json:"signing_keys"`
}

// Export reads every record into a Snapshot (Version = SnapshotVersion).
// Order: users by id, organizations by id, then per organization its
// members (by user id) and projects (by id), per project its members,
// workspaces by id, then per workspace its memberships,
// roles, invites and API keys (by id), then the audit events per
// workspace id (each workspace's oldest first, the store-wide events under
// GlobalAuditWorkspace among them), signing keys by id.
//
// Every list is non-nil, so that it encodes as a JSON array. Audit events
// are exported per workspace that has any (AuditWorkspaces), ordered by
// workspace id: also the tombstone of a purged workspace, which outlives
// the workspace.
func Export(tx Tx) (Snapshot, error) {
	s := Snapshot{
		Version:        SnapshotVersion,
		Users:          []User{},
		Organizations:  []Organization{},
		OrgMembers:     []OrgMember{},
		Projects:       []Project{},
		ProjectMembers: []ProjectMember{},
		Workspaces:     []Workspace{},
		Memberships:    []Membership{},
		Roles:          []Role{},
		Invites:        []Invite{},
		APIKeys:        []APIKey{},
		Audit:          []AuditEvent{},
		SigningKeys:    []SigningKey{},
	}
	var err error
	if s.Users, err = all(s.Users, func(c string) ([]User, string, error) { return tx.Users(c, exportPage) }); err != nil {
		return s, fmt.Errorf("exporting users: %w", err)
	}
	if err := exportOrgs(tx, &s); err != nil {
		return s, err
	}
	if s.Workspaces, err = all(s.Workspaces, func(c string) ([]Workspace, string, error) { return tx.Workspaces(c, exportPage) }); err != nil {
		return s, fmt.Errorf("exporting workspaces: %w", err)
	}
	for _, w := range s.Workspaces {
		if s.Memberships, err = all(s.Memberships, func(c string) ([]Membership, string, error) { return tx.Members(w.ID, c, exportPage) }); err != nil {
			return s, fmt.Errorf("exporting the members of workspace %q: %w", w.ID, err)
		}
		roles, err := tx.Roles(w.ID)
		if err != nil {
			return s, fmt.Errorf("exporting the roles of workspace %q: %w", w.ID, err)
		}
		s.Roles = append(s.Roles, roles...)
		if s.Invites, err = all(s.Invites, func(c string) ([]Invite, string, error) { return tx.Invites(w.ID, c, exportPage) }); err != nil {
			return s, fmt.Errorf("exporting the invites of workspace %q: %w", w.ID, err)
		}
		if s.APIKeys, err = all(s.APIKeys, func(c string) ([]APIKey, string, error) { return tx.APIKeys(w.ID, c, exportPage) }); err != nil {
			return s, fmt.Errorf("exporting the API keys of workspace %q: %w", w.ID, err)
		}
	}
	logs, err := all(nil, func(c string) ([]string, string, error) { return tx.AuditWorkspaces(c, exportPage) })
	if err != nil {
		return s, fmt.Errorf("exporting the audit events: %w", err)
	}
	for _, id := range logs {
		// Audit lists newest first; the snapshot holds them oldest first,
		// the order in which Import appends them.
		events, err := all(nil, func(c string) ([]AuditEvent, string, error) { return tx.Audit(id, c, exportPage) })
		if err != nil {
			return s, fmt.Errorf("exporting the audit events of workspace %q: %w", id, err)
		}
		slices.Reverse(events)
		s.Audit = append(s.Audit, events...)
	}
	keys, err := tx.SigningKeys()
	if err != nil {
		return s, fmt.Errorf("exporting signing keys: %w", err)
	}
	s.SigningKeys = append(s.SigningKeys, keys...)
	return s, nil
}

// exportOrgs reads the organizations, their members and projects, and
// the projects' members into s.
func exportOrgs(tx Tx, s *Snapshot) error {
	var err error
	if s.Organizations, err = all(s.Organizations, func(c string) ([]Organization, string, error) { return tx.Organizations(c, exportPage) }); err != nil {
		return fmt.Errorf("exporting organizations: %w", err)
	}
	for _, o := range s.Organizations {
		if s.OrgMembers, err = all(s.OrgMembers, func(c string) ([]OrgMember, string, error) { return tx.OrgMembers(o.ID, c, exportPage) }); err != nil {
			return fmt.Errorf("exporting the members of organization %q: %w", o.ID, err)
		}
		first := len(s.Projects)
		if s.Projects, err = all(s.Projects, func(c string) ([]Project, string, error) { return tx.Projects(o.ID, c, exportPage) }); err != nil {
			return fmt.Errorf("exporting the projects of organization %q: %w", o.ID, err)
		}
		for _, p := range s.Projects[first:] {
			if s.ProjectMembers, err = all(s.ProjectMembers, func(c string) ([]ProjectMember, string, error) { return tx.ProjectMembers(p.ID, c, exportPage) }); err != nil {
				return fmt.Errorf("exporting the members of project %q: %w", p.ID, err)
			}
		}
	}
	return nil
}

// exportPage is the page size Export reads with: big pages, but bounded so
// that a backend never has to build one huge list at once.
const exportPage = 1000

// all appends every page of a list to dst.
func all[T any](dst []T, page func(cursor string) ([]T, string, error)) ([]T, error) {
	cursor := ""
	for {
		items, next, err := page(cursor)
		if err != nil {
			return dst, err
		}
		dst = append(dst, items...)
		if next == "" {
			return dst, nil
		}
		cursor = next
	}
}

// Check validates a snapshot without a store: the version, that every
// membership, role, invite and API key names a workspace of the snapshot,
// every organization member and project an organization of it, every
// project member a project of it, every workspace's organization and
// project are in it, and that no record appears twice. Its error names the first bad record.
//
// Audit events need no workspace of the snapshot: the tombstone of a
// purged workspace outlives it. Their ids are unique per workspace.
func (s *Snapshot) Check() error {
	if s.Version != SnapshotVersion {
		return fmt.Errorf("snapshot version %d: this Gatehouse reads version %d", s.Version, SnapshotVersion)
	}
	if _, err := checkList(s.Users, nil, "users", func(u User) (string, string) { return "", u.ID },
		func(u User) string { return fmt.Sprintf("id %q", u.ID) }); err != nil {
		return err
	}
	orgs, err := checkList(s.Organizations, nil, "organizations", func(o Organization) (string, string) { return "", o.ID },
		func(o Organization) string { return fmt.Sprintf("id %q", o.ID) })
	if err != nil {
		return err
	}
	knownOrg := func(id string) error {
		if _, ok := orgs[id]; !ok {
			return fmt.Errorf("organization %q is not in the snapshot", id)
		}
		return nil
	}
	if _, err := checkList(s.OrgMembers, knownOrg, "org_members", func(m OrgMember) (string, string) { return m.OrganizationID, m.OrganizationID + "\x00" + m.UserID },
		func(m OrgMember) string { return fmt.Sprintf("organization %q, user %q", m.OrganizationID, m.UserID) }); err != nil {
		return err
	}
	projects, err := checkList(s.Projects, knownOrg, "projects", func(p Project) (string, string) { return p.OrganizationID, p.ID },
		func(p Project) string { return fmt.Sprintf("id %q, organization %q", p.ID, p.OrganizationID) })
	if err != nil {
		return err
	}
	knownProject := func(id string) error {
		if _, ok := projects[id]; !ok {
			return fmt.Errorf("project %q is not in the snapshot", id)
		}
		return nil
	}
	if _, err := checkList(s.ProjectMembers, knownProject, "project_members", func(m ProjectMember) (string, string) { return m.ProjectID, m.ProjectID + "\x00" + m.UserID },
		func(m ProjectMember) string { return fmt.Sprintf("project %q, user %q", m.ProjectID, m.UserID) }); err != nil {
		return err
	}
	// A workspace names an organization and a project of the snapshot, or
	// none.
	knownParents := func(w Workspace) error {
		if w.OrganizationID != "" {
			if err := knownOrg(w.OrganizationID); err != nil {
				return err
			}
		}
		if w.ProjectID != "" {
			return knownProject(w.ProjectID)
		}
		return nil
	}
	for i, w := range s.Workspaces {
		if err := knownParents(w); err != nil {
			return fmt.Errorf("workspaces[%d] (id %q): %w", i, w.ID, err)
		}
	}
	workspaces, err := checkList(s.Workspaces, nil, "workspaces", func(w Workspace) (string, string) { return "", w.ID },
		func(w Workspace) string { return fmt.Sprintf("id %q", w.ID) })
	if err != nil {
		return err
	}
	known := func(id string) error {
		if _, ok := workspaces[id]; !ok {
			return fmt.Errorf("workspace %q is not in the snapshot", id)
		}
		return nil
	}
	if _, err := checkList(s.Memberships, known, "memberships", func(m Membership) (string, string) { return m.WorkspaceID, m.WorkspaceID + "\x00" + m.UserID },
		func(m Membership) string { return fmt.Sprintf("workspace %q, user %q", m.WorkspaceID, m.UserID) }); err != nil {
		return err
	}
	if _, err := checkList(s.Roles, known, "roles", func(r Role) (string, string) { return r.WorkspaceID, r.WorkspaceID + "\x00" + r.Slug },
		func(r Role) string { return fmt.Sprintf("workspace %q, slug %q", r.WorkspaceID, r.Slug) }); err != nil {
		return err
	}
	if _, err := checkList(s.Invites, known, "invites", func(inv Invite) (string, string) { return inv.WorkspaceID, inv.ID },
		func(inv Invite) string { return fmt.Sprintf("id %q, workspace %q", inv.ID, inv.WorkspaceID) }); err != nil {
		return err
	}
	if _, err := checkList(s.APIKeys, known, "api_keys", func(k APIKey) (string, string) { return k.WorkspaceID, k.ID },
		func(k APIKey) string { return fmt.Sprintf("id %q, workspace %q", k.ID, k.WorkspaceID) }); err != nil {
		return err
	}
	// An event without an id gets one on import: only given ids must be
	// unique. Events need no workspace of the snapshot (a purged
	// workspace's tombstone, the store-wide GlobalAuditWorkspace events).
	if _, err := checkList(s.Audit, nil, "audit", func(ev AuditEvent) (string, string) { return ev.WorkspaceID, auditKey(ev) },
		func(ev AuditEvent) string { return fmt.Sprintf("id %q, workspace %q", ev.ID, ev.WorkspaceID) }); err != nil {
		return err
	}
	_, err = checkList(s.SigningKeys, nil, "signing_keys", func(k SigningKey) (string, string) { return "", k.ID },
		func(k SigningKey) string { return fmt.Sprintf("id %q", k.ID) })
	return err
}

// checkList checks the records of one list: each names a workspace known
// to known (when known is not nil), and no non-empty key appears twice.
// ids returns a record's workspace id and key; label describes it, for an
// error only. checkList returns the set of keys.
func checkList[T any](list []T, known func(workspaceID string) error, name string,
	ids func(T) (workspaceID, key string), label func(T) string) (map[string]struct{}, error) {
	seen := make(map[string]struct{}, len(list))
	for i, r := range list {
		workspaceID, key := ids(r)
		var err error
		if known != nil {
			err = known(workspaceID)
		}
		if err == nil && key != "" {
			err = unique(seen, key)
		}
		if err != nil {
			return nil, fmt.Errorf("%s[%d] (%s): %w", name, i, label(r), err)
		}
	}
	return seen, nil
}

// auditKey is an event's key for uniqueness: ids are per workspace. An
// event without an id has none (it gets one on import).
func auditKey(ev AuditEvent) string {
	if ev.ID == "" {
		return ""
	}
	return ev.WorkspaceID + "\x00" + ev.ID
}

func unique(seen map[string]struct{}, key string) error {
	if _, dup := seen[key]; dup {
		return fmt.Errorf("appears twice in the snapshot")
	}
	seen[key] = struct{}{}
	return nil
}

// Import writes a snapshot into tx. The caller ensures the store is empty.
// It checks the snapshot first (see Check) and returns an error naming the
// first bad record; the caller then rolls the transaction back.
//
// Audit events keep their ids (later appends follow the greatest id of
// their workspace); an event without an id gets a new one.
func Import(tx Tx, s Snapshot) error {
	if err := s.Check(); err != nil {
		return err
	}
	for i, u := range s.Users {
		if err := tx.PutUser(u); err != nil {
			return fmt.Errorf("users[%d] (id %q): %w", i, u.ID, err)
		}
	}
	// Organizations and projects before the workspaces that name them.
	for i, o := range s.Organizations {
		if err := tx.PutOrganization(o); err != nil {
			return fmt.Errorf("organizations[%d] (id %q, slug %q): %w", i, o.ID, o.Slug, err)
		}
	}
	for i, m := range s.OrgMembers {
		if err := tx.PutOrgMember(m); err != nil {
			return fmt.Errorf("org_members[%d] (organization %q, user %q): %w", i, m.OrganizationID, m.UserID, err)
		}
	}
	for i, p := range s.Projects {
		if err := tx.PutProject(p); err != nil {
			return fmt.Errorf("projects[%d] (id %q, organization %q): %w", i, p.ID, p.OrganizationID, err)
		}
	}
	for i, m := range s.ProjectMembers {
		if err := tx.PutProjectMember(m); err != nil {
			return fmt.Errorf("project_members[%d] (project %q, user %q): %w", i, m.ProjectID, m.UserID, err)
		}
	}
	for i, w := range s.Workspaces {
		if err := tx.PutWorkspace(w); err != nil {
			return fmt.Errorf("workspaces[%d] (id %q, slug %q): %w", i, w.ID, w.Slug, err)
		}
	}
	for i, m := range s.Memberships {
		if err := tx.PutMember(m); err != nil {
			return fmt.Errorf("memberships[%d] (workspace %q, user %q): %w", i, m.WorkspaceID, m.UserID, err)
		}
	}
	for i, r := range s.Roles {
		if err := tx.PutRole(r); err != nil {
			return fmt.Errorf("roles[%d] (workspace %q, slug %q): %w", i, r.WorkspaceID, r.Slug, err)
		}
	}
	for i, inv := range s.Invites {
		if err := tx.PutInvite(inv); err != nil {
			return fmt.Errorf("invites[%d] (id %q, workspace %q): %w", i, inv.ID, inv.WorkspaceID, err)
		}
	}
	for i, k := range s.APIKeys {
		if err := tx.PutAPIKey(k); err != nil {
			return fmt.Errorf("api_keys[%d] (id %q, workspace %q): %w", i, k.ID, k.WorkspaceID, err)
		}
	}
	for i, ev := range s.Audit {
		if _, err := tx.AppendAudit(ev); err != nil {
			return fmt.Errorf("audit[%d] (id %q, workspace %q): %w", i, ev.ID, ev.WorkspaceID, err)
		}
	}
	for i, k := range s.SigningKeys {
		if err := tx.PutSigningKey(k); err != nil {
			return fmt.Errorf("signing_keys[%d] (id %q): %w", i, k.ID, err)
		}
	}
	return nil
}
