package gateway_test

import (
	"slices"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
)

// Explain decides an organization rule as the gateway does, with the
// organization roles and the provenance of the organization permission.
func TestExplainOrgRules(t *testing.T) {
	f, p := newOrgRulesFixture(t)
	key, rec := f.putKey(f.web1, []string{"message.read"}, nil)
	_ = key
	cases := []struct {
		path, user, keyID string
		roles             []string
	}{
		{"/o/alpha/billing", "bill", "", []string{"biller", "member"}},
		{"/o/alpha/billing", "oscar", "", []string{"owner"}},
		{"/o/alpha/billing", "mia", "", []string{"member"}},
		{"/o/alpha", "mia", "", []string{"member"}},
		{"/o/alpha", "dev", "", []string{}},
		{"/o/nope", "oscar", "", []string{}},
		{"/o/alpha", "", rec.ID, []string{}},
	}
	for _, c := range cases {
		ex := f.explainIn(p, f.web1, "GET", c.path, c.user, c.keyID)
		var d *gateway.Decision
		if c.keyID != "" {
			d = decide(p, request("GET", c.path, key))
		} else {
			d = f.decideAs(p, "GET", c.path, c.user)
		}
		if got, want := explainOutcome(ex), decisionOutcome(d); got != want {
			t.Errorf("%s %s: explain %+v, gateway %+v", c.user, c.path, got, want)
		}
		if !slices.Equal(ex.Roles, c.roles) {
			t.Errorf("%s %s: roles %v, want %v", c.user, c.path, ex.Roles, c.roles)
		}
	}
	ex := f.explainIn(p, f.web1, "GET", "/o/alpha/billing", "oscar", "")
	if len(ex.Permissions) != 1 || !ex.Permissions[0].Effective || len(ex.Permissions[0].From) != 1 {
		t.Fatalf("oscar's provenance: %+v", ex.Permissions)
	}
	if src := ex.Permissions[0].From[0]; src.Kind != gateway.SourceOrgRole || src.Name != "owner" || src.Pattern != "organization.admin" || src.Via != "organization.admin" {
		t.Errorf("oscar's source: %+v", src)
	}
	if ex.Requirement == nil || ex.Requirement.Kind != "organization_permission" || ex.Requirement.Permission != "organization.billing" {
		t.Errorf("requirement %+v", ex.Requirement)
	}
	ex = f.explainIn(p, f.web1, "GET", "/o/alpha/billing", "mia", "")
	if len(ex.Permissions) != 1 || ex.Permissions[0].Effective || len(ex.Permissions[0].From) != 0 || ex.Decision.Reason != "missing_permission" {
		t.Errorf("mia's: %+v %+v", ex.Permissions, ex.Decision)
	}
}
