package gateway

import (
	"fmt"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
)

// compileOrgPermission compiles a rule requiring an organization
// permission (organization.*): it must be in the organization catalog,
// which is apart from the workspace catalog (an organization permission
// grants nothing inside a workspace, and the reverse).
func (e *Engine) compileOrgPermission(r *Rule, name string) error {
	catalog := e.model.OrgCatalog()
	id, ok := catalog.ID(name)
	if !ok {
		if err := authz.ValidateName(name); err != nil {
			return err
		}
		var names []string
		for _, d := range catalog.Declarations() {
			names = append(names, d.Name)
		}
		msg := fmt.Sprintf("unknown organization permission %q", name)
		if hint := authz.DidYouMean(name, names); hint != "" {
			msg += ": " + hint
		}
		return fmt.Errorf("%s (the organization permissions are %s; declare another with \"permission %s\" in the gatehouse global option)", msg, strings.Join(names, ", "), name)
	}
	r.Kind, r.Permission, r.permID = RequireOrgPermission, name, id
	return nil
}

// checkOrgRule checks what an organization rule needs from its handler:
// an organization source, and, for a path parameter source, that the
// path captures it. Restrictions are per workspace member, so an
// organization rule cannot carry one.
func checkOrgRule(spec RuleSpec, org *refReader) error {
	if org == nil {
		return fmt.Errorf("requirement %q is decided in an organization, but this gatehouse handler names none: add `organization param org` (or header, query, placeholder) to it and an {org} segment to the path", spec.Require)
	}
	if org.source.From == FromParam && !hasParam(spec.Path, org.source.Name) {
		return fmt.Errorf("requirement %q needs an organization, but the path has no {%s} segment (the handler reads the organization from param %s)", spec.Require, org.source.Name, org.source.Name)
	}
	if spec.RestrictType != "" || spec.RestrictParam != "" {
		return fmt.Errorf("restrict only applies to member or workspace permission rules, not to %s", spec.Require)
	}
	return nil
}
