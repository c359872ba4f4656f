package admin

import "github.com/gatehouse-authz/gatehouse/internal/route"

// endpoint is one method and path of the API.
type endpoint struct {
	method string
	path   string
	// public endpoints need no token (the published keys and the API
	// description).
	public bool
	// query lists the query parameters the endpoint reads; any other is a
	// 400, like an unknown body field.
	query  []string
	handle func(*call) error
}

// Query parameters of list endpoints.
var (
	pageQuery      = []string{"limit", "cursor"}
	workspaceQuery = []string{"limit", "cursor", "deleted"}
	memberQuery    = []string{"limit", "cursor", "email"}
	auditQuery     = []string{"limit", "cursor", "action", "actor", "since", "until"}
)

// endpoints lists the API (README "Management API"). Paths are relative to the mount point.
func (a *API) endpointList() []endpoint {
	return []endpoint{
		{method: "GET", path: "/v1/jwks.json", public: true, handle: a.getJWKS},
		{method: "GET", path: "/v1/openapi.json", public: true, handle: a.getOpenAPI},

		{method: "GET", path: "/v1/me", handle: a.getMe},
		{method: "GET", path: "/v1/permissions", handle: a.getPermissions},

		{method: "GET", path: "/v1/workspaces", query: workspaceQuery, handle: a.listWorkspaces},
		{method: "POST", path: "/v1/workspaces", handle: a.createWorkspace},
		{method: "GET", path: "/v1/workspaces/{ws}", handle: a.getWorkspace},
		{method: "PATCH", path: "/v1/workspaces/{ws}", handle: a.updateWorkspace},
		{method: "DELETE", path: "/v1/workspaces/{ws}", handle: a.deleteWorkspace},
		{method: "POST", path: "/v1/workspaces/{ws}/restore", handle: a.restoreWorkspace},
		{method: "POST", path: "/v1/workspaces/{ws}/purge", handle: a.purgeWorkspace},

		{method: "GET", path: "/v1/workspaces/{ws}/me", handle: a.getWorkspaceMe},
		{method: "POST", path: "/v1/workspaces/{ws}/check", handle: a.check},
		{method: "POST", path: "/v1/workspaces/{ws}/explain", handle: a.explain},

		{method: "GET", path: "/v1/workspaces/{ws}/members", query: memberQuery, handle: a.listMembers},
		{method: "GET", path: "/v1/workspaces/{ws}/members/{user}", handle: a.getMember},
		{method: "PUT", path: "/v1/workspaces/{ws}/members/{user}", handle: a.putMember},
		{method: "DELETE", path: "/v1/workspaces/{ws}/members/{user}", handle: a.deleteMember},
		{method: "GET", path: "/v1/workspaces/{ws}/members/{user}/effective", query: pageQuery, handle: a.getEffective},

		{method: "GET", path: "/v1/workspaces/{ws}/roles", query: pageQuery, handle: a.listRoles},
		{method: "POST", path: "/v1/workspaces/{ws}/roles", handle: a.createRole},
		{method: "GET", path: "/v1/workspaces/{ws}/roles/{role}", handle: a.getRole},
		{method: "PATCH", path: "/v1/workspaces/{ws}/roles/{role}", handle: a.updateRole},
		{method: "DELETE", path: "/v1/workspaces/{ws}/roles/{role}", handle: a.deleteRole},

		{method: "GET", path: "/v1/workspaces/{ws}/invites", query: pageQuery, handle: a.listInvites},
		{method: "POST", path: "/v1/workspaces/{ws}/invites", handle: a.createInvite},
		{method: "GET", path: "/v1/workspaces/{ws}/invites/{id}", handle: a.getInvite},
		{method: "DELETE", path: "/v1/workspaces/{ws}/invites/{id}", handle: a.revokeInvite},
		{method: "GET", path: "/v1/invites", handle: a.listMyInvites},
		{method: "POST", path: "/v1/invites/accept", handle: a.acceptInvite},

		{method: "GET", path: "/v1/workspaces/{ws}/api-keys", query: pageQuery, handle: a.listAPIKeys},
		{method: "POST", path: "/v1/workspaces/{ws}/api-keys", handle: a.createAPIKey},
		{method: "GET", path: "/v1/workspaces/{ws}/api-keys/{id}", handle: a.getAPIKey},
		{method: "DELETE", path: "/v1/workspaces/{ws}/api-keys/{id}", handle: a.revokeAPIKey},

		{method: "GET", path: "/v1/workspaces/{ws}/audit", query: auditQuery, handle: a.listAudit},

		// Organizations (README "Organizations API").
		{method: "GET", path: "/v1/orgs", query: pageQuery, handle: a.listOrgs},
		{method: "POST", path: "/v1/orgs", handle: a.createOrg},
		{method: "GET", path: "/v1/orgs/{org}", handle: a.getOrg},
		{method: "PATCH", path: "/v1/orgs/{org}", handle: a.updateOrg},
		{method: "DELETE", path: "/v1/orgs/{org}", handle: a.deleteOrg},
		{method: "POST", path: "/v1/orgs/{org}/restore", handle: a.restoreOrg},
		{method: "PUT", path: "/v1/orgs/{org}/plan", handle: a.putOrgPlan},
		{method: "GET", path: "/v1/orgs/{org}/members", query: pageQuery, handle: a.listOrgMembers},
		{method: "GET", path: "/v1/orgs/{org}/members/{user}", handle: a.getOrgMember},
		{method: "PUT", path: "/v1/orgs/{org}/members/{user}", handle: a.putOrgMember},
		{method: "DELETE", path: "/v1/orgs/{org}/members/{user}", handle: a.deleteOrgMember},
		{method: "GET", path: "/v1/orgs/{org}/audit", query: auditQuery, handle: a.listOrgAudit},
		{method: "GET", path: "/v1/admin/orgs", query: pageQuery, handle: a.listAllOrgs},

		{method: "GET", path: "/v1/admin/workspaces", query: pageQuery, handle: a.listAllWorkspaces},
		{method: "GET", path: "/v1/admin/backup", handle: a.getBackup},

		// Projects, project members and an organization's workspaces
		// (README "Projects").
		{method: "GET", path: "/v1/orgs/{org}/projects", query: pageQuery, handle: a.listProjects},
		{method: "POST", path: "/v1/orgs/{org}/projects", handle: a.createProject},
		{method: "GET", path: "/v1/orgs/{org}/projects/{project}", handle: a.getProject},
		{method: "PATCH", path: "/v1/orgs/{org}/projects/{project}", handle: a.updateProject},
		{method: "DELETE", path: "/v1/orgs/{org}/projects/{project}", handle: a.deleteProject},
		{method: "GET", path: "/v1/orgs/{org}/projects/{project}/members", query: pageQuery, handle: a.listProjectMembers},
		{method: "GET", path: "/v1/orgs/{org}/projects/{project}/members/{user}", handle: a.getProjectMember},
		{method: "PUT", path: "/v1/orgs/{org}/projects/{project}/members/{user}", handle: a.putProjectMember},
		{method: "DELETE", path: "/v1/orgs/{org}/projects/{project}/members/{user}", handle: a.deleteProjectMember},
		{method: "GET", path: "/v1/orgs/{org}/workspaces", query: orgWorkspaceQuery, handle: a.listOrgWorkspaces},
	}
}

// buildRoutes compiles the endpoint list into a route table.
func (a *API) buildRoutes() error {
	a.endpoints = a.endpointList()
	rules := make([]route.Rule, len(a.endpoints))
	for i, ep := range a.endpoints {
		rules[i] = route.Rule{Methods: []string{ep.method}, Path: ep.path}
	}
	table, err := route.Compile(rules)
	if err != nil {
		return err
	}
	a.table = table
	return nil
}

// Routes returns "METHOD /path" for every endpoint (for docs and tests).
func (a *API) Routes() []string {
	out := make([]string, len(a.endpoints))
	for i, ep := range a.endpoints {
		out[i] = ep.method + " " + ep.path
	}
	return out
}
