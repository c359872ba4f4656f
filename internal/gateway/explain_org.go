package gateway

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/route"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// SourceOrgRole is the provenance kind of an organization permission
// given by an organization role (explain of an organization rule).
const SourceOrgRole = "org_role"

// explainOrg explains an organization rule (org_member or an
// organization permission) as the gateway decides it (AuthorizeOrg),
// reading the organization and the membership from tx, never from a
// cache. A header, query or placeholder source the path does not carry is
// explained as naming the explained workspace's organization. An API key
// stands in no organization.
func (p *Policy) explainOrg(tx store.Tx, ex *Explanation, rule *Rule, in ExplainInput, u *url.URL, params *route.Params) error {
	r := &http.Request{Method: in.Method, URL: u, Header: http.Header{}}
	ref, ok := p.org.read(r, nil, params)
	if !ok {
		ex.deny(problem.New(http.StatusBadRequest, problem.CodeInvalidRequest, "the organization is named more than once").WithReason(problem.ReasonInvalidRequest))
		return nil
	}
	if ref == "" {
		ref = in.Workspace.OrganizationID
	}
	access := notOrgMember
	if in.KeyID == "" && plausibleRef(ref) {
		var err error
		if access, err = p.engine.readOrgAccess(tx, in.Subject, ref); err != nil {
			return err
		}
	}
	if access.Member {
		ex.Roles = slices.Clone(access.Roles)
		if rule.Kind == RequireOrgPermission {
			ex.Permissions = append(ex.Permissions, p.engine.orgProvenance(rule, access))
		}
	}
	if pr := AuthorizeOrg(rule, access); pr != nil {
		ex.deny(pr)
		return nil
	}
	ex.allow()
	return nil
}

// orgProvenance says which organization roles give rule's organization
// permission, and through which of their patterns.
func (e *Engine) orgProvenance(rule *Rule, access *OrgAccess) Provenance {
	pv := Provenance{Permission: rule.Permission, Effective: access.Permissions.Has(rule.permID), From: []Source{}, RemovedBy: []Source{}}
	catalog := e.model.OrgCatalog()
	for _, slug := range access.Roles {
		role, ok := e.model.OrgRole(slug)
		if !ok {
			continue
		}
		for _, pattern := range role.Permissions {
			if !catalog.Expand([]string{pattern}).Has(rule.permID) {
				continue
			}
			src := Source{Kind: SourceOrgRole, Name: slug, Pattern: pattern}
			if pattern != rule.Permission {
				src.Via = pattern
			}
			pv.From = append(pv.From, src)
		}
	}
	return pv
}
