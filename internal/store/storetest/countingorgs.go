package storetest

import "github.com/gatehouse-authz/gatehouse/internal/store"

// The store.OrgTx methods of countingTx (counting.go).

func (t countingTx) Organization(id string) (store.Organization, error) {
	t.calls.add("Organization")
	return t.tx.Organization(id)
}

func (t countingTx) OrganizationBySlug(slug string) (store.Organization, error) {
	t.calls.add("OrganizationBySlug")
	return t.tx.OrganizationBySlug(slug)
}

func (t countingTx) PutOrganization(o store.Organization) error {
	t.calls.add("PutOrganization")
	return t.tx.PutOrganization(o)
}

func (t countingTx) Organizations(cursor string, limit int) ([]store.Organization, string, error) {
	t.calls.add("Organizations")
	return t.tx.Organizations(cursor, limit)
}

func (t countingTx) OrganizationsByID(ids []string) (map[string]store.Organization, error) {
	t.calls.add("OrganizationsByID")
	return t.tx.OrganizationsByID(ids)
}

func (t countingTx) OrgMember(orgID, userID string) (store.OrgMember, error) {
	t.calls.add("OrgMember")
	return t.tx.OrgMember(orgID, userID)
}

func (t countingTx) PutOrgMember(m store.OrgMember) error {
	t.calls.add("PutOrgMember")
	return t.tx.PutOrgMember(m)
}

func (t countingTx) DeleteOrgMember(orgID, userID string) error {
	t.calls.add("DeleteOrgMember")
	return t.tx.DeleteOrgMember(orgID, userID)
}

func (t countingTx) OrgMembers(orgID, cursor string, limit int) ([]store.OrgMember, string, error) {
	t.calls.add("OrgMembers")
	return t.tx.OrgMembers(orgID, cursor, limit)
}

func (t countingTx) UserOrgMemberships(userID, cursor string, limit int) ([]store.OrgMember, string, error) {
	t.calls.add("UserOrgMemberships")
	return t.tx.UserOrgMemberships(userID, cursor, limit)
}

func (t countingTx) Project(id string) (store.Project, error) {
	t.calls.add("Project")
	return t.tx.Project(id)
}

func (t countingTx) ProjectBySlug(orgID, slug string) (store.Project, error) {
	t.calls.add("ProjectBySlug")
	return t.tx.ProjectBySlug(orgID, slug)
}

func (t countingTx) PutProject(p store.Project) error {
	t.calls.add("PutProject")
	return t.tx.PutProject(p)
}

func (t countingTx) DeleteProject(id string) error {
	t.calls.add("DeleteProject")
	return t.tx.DeleteProject(id)
}

func (t countingTx) Projects(orgID, cursor string, limit int) ([]store.Project, string, error) {
	t.calls.add("Projects")
	return t.tx.Projects(orgID, cursor, limit)
}

func (t countingTx) ProjectMember(projectID, userID string) (store.ProjectMember, error) {
	t.calls.add("ProjectMember")
	return t.tx.ProjectMember(projectID, userID)
}

func (t countingTx) PutProjectMember(m store.ProjectMember) error {
	t.calls.add("PutProjectMember")
	return t.tx.PutProjectMember(m)
}

func (t countingTx) DeleteProjectMember(projectID, userID string) error {
	t.calls.add("DeleteProjectMember")
	return t.tx.DeleteProjectMember(projectID, userID)
}

func (t countingTx) ProjectMembers(projectID, cursor string, limit int) ([]store.ProjectMember, string, error) {
	t.calls.add("ProjectMembers")
	return t.tx.ProjectMembers(projectID, cursor, limit)
}

func (t countingTx) UserProjectMemberships(userID, cursor string, limit int) ([]store.ProjectMember, string, error) {
	t.calls.add("UserProjectMemberships")
	return t.tx.UserProjectMemberships(userID, cursor, limit)
}

func (t countingTx) OrgWorkspaces(orgID, projectID, cursor string, limit int) ([]store.Workspace, string, error) {
	t.calls.add("OrgWorkspaces")
	return t.tx.OrgWorkspaces(orgID, projectID, cursor, limit)
}

func (t countingTx) LocalWorkspace(userID string) (store.Workspace, error) {
	t.calls.add("LocalWorkspace")
	return t.tx.LocalWorkspace(userID)
}
