package store

// OrgChanges collects the organization-level Changes of one write
// transaction for a backend, deduplicated, in the order Commit documents:
// organizations, then org members, then projects, then project members,
// each in first-change order. Both backends use it, so they cannot drift.
// The zero value is ready; a nil *OrgChanges records nothing.
type OrgChanges struct {
	kinds [4][]Change
	seen  map[Change]struct{}
}

// Organization records a change of organization orgID's record.
func (c *OrgChanges) Organization(orgID string) {
	c.add(0, Change{Kind: ChangeOrganization, OrganizationID: orgID})
}

// OrgMember records a change of userID's membership of orgID.
func (c *OrgChanges) OrgMember(orgID, userID string) {
	c.add(1, Change{Kind: ChangeOrgMember, OrganizationID: orgID, UserID: userID})
}

// Project records a change (or the deletion) of project projectID of orgID.
func (c *OrgChanges) Project(orgID, projectID string) {
	c.add(2, Change{Kind: ChangeProject, OrganizationID: orgID, ProjectID: projectID})
}

// ProjectMember records a change of userID's membership of projectID (of
// orgID).
func (c *OrgChanges) ProjectMember(orgID, projectID, userID string) {
	c.add(3, Change{Kind: ChangeProjectMember, OrganizationID: orgID, ProjectID: projectID, UserID: userID})
}

func (c *OrgChanges) add(i int, ch Change) {
	if c == nil {
		return
	}
	if _, dup := c.seen[ch]; dup {
		return
	}
	if c.seen == nil {
		c.seen = make(map[Change]struct{})
	}
	c.seen[ch] = struct{}{}
	c.kinds[i] = append(c.kinds[i], ch)
}

// Len is the number of changes recorded.
func (c *OrgChanges) Len() int {
	if c == nil {
		return 0
	}
	return len(c.seen)
}

// AppendTo appends the changes, in their order, to dst.
func (c *OrgChanges) AppendTo(dst []Change) []Change {
	if c == nil {
		return dst
	}
	for _, list := range c.kinds {
		dst = append(dst, list...)
	}
	return dst
}
