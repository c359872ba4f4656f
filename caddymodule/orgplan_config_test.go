package caddymodule

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/gatehouse-authz/gatehouse/internal/model"
)

// orgPlanPrefix starts every config of these tests: body lines start at
// line orgPlanFirstLine.
const orgPlanPrefix = "{\n\tgatehouse {\n\t\tjwt {\n\t\t\thmac_secret 0123456789abcdef0123456789abcdef\n\t\t}\n"

const orgPlanFirstLine = 6

// specOrgPlan is spec §11's configuration, over the spec's catalog.
const specOrgPlan = `		permission contact.manage implies contact.read
		permission contact.read
		permission message.read
		permission message.send implies message.read
		permission campaign.run
		role owner  "Owner"  workspace.admin
		role member "Member" message.read
		org_role owner  "Owner"  organization.admin
		org_role member "Member"
		project_role developer "Developer" workspace_roles member
		project_role admin     "Project admin" workspace_roles owner
		plan free "Free" {
			permissions contact.* message.* workspace.*
		}
		plan pro "Pro" {
			permissions *
			features member_overrides resource_restrictions custom_roles api_keys
		}
		default_plan free
		local_workspaces on
`

// adaptGatehouse adapts a gatehouse global option holding body and checks
// it as Provision would (offlineApp), opening nothing.
func adaptGatehouse(body string) (*App, error) {
	cfg := orgPlanPrefix + body + "\t}\n}\n"
	raw, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		return nil, err
	}
	app, _, err := offlineApp(raw)
	return app, err
}

// The spec's example configures the model: roles, project roles, plans,
// the default plan and local workspaces survive the JSON of the adapted
// config.
func TestOrgPlanCaddyfile(t *testing.T) {
	app, err := adaptGatehouse(specOrgPlan)
	if err != nil {
		t.Fatal(err)
	}
	m := app.Model()
	free, _ := m.Plan("free")
	if m.DefaultPlan() != free || !m.LocalWorkspaces() || len(m.Plans()) != 2 {
		t.Fatalf("plans %v default %v local %v", m.Plans(), m.DefaultPlan(), m.LocalWorkspaces())
	}
	if got := m.CheapestPlanFor("campaign.run"); got != "pro" {
		t.Errorf("campaign.run needs %q", got)
	}
	pro, _ := m.Plan("pro")
	if !slices.Equal(pro.Features(), model.Features()) || free.Has(model.FeatureMemberOverrides) {
		t.Errorf("features: pro %v", pro.Features())
	}
	if got := m.ProjectWorkspaceRoles([]string{"admin"}); !slices.Equal(got, []string{"owner"}) {
		t.Errorf("project admin maps to %v", got)
	}
	if r, ok := m.OrgRole("owner"); !ok || r.Name != "Owner" || !m.OrgPermissions([]string{"owner"}).Has(0) {
		t.Errorf("org owner %+v", r)
	}
}

// A config without the new options adapts to the JSON it adapted to
// before (none of the new keys) and has no plan.
func TestNoOrgPlanConfigAddsNothing(t *testing.T) {
	cfg := orgPlanPrefix + "\t\tpermission message.read\n\t}\n}\n"
	raw, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Apps map[string]map[string]json.RawMessage `json:"apps"`
	}
	if err := json.Unmarshal(raw, &parsed); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"org_roles", "project_roles", "plans", "default_plan", "default_plan_source", "local_workspaces"} {
		if _, ok := parsed.Apps["gatehouse"][key]; ok {
			t.Errorf("the adapted config has %s", key)
		}
	}
	app, _, err := offlineApp(raw)
	if err != nil {
		t.Fatal(err)
	}
	if app.Model().DefaultPlan() != nil || app.Model().LocalWorkspaces() {
		t.Error("a config without plans has a plan")
	}
}

// Every mistake in the new syntax stops the load and names its line.
func TestOrgPlanConfigErrorsNameTheLine(t *testing.T) {
	cases := []struct {
		name, from, to, want string
	}{
		{"project role naming an unknown workspace role", "workspace_roles member", "workspace_roles membr",
			"Caddyfile:{{line}}: project_role developer: workspace_roles membr: no such system role"},
		{"project role without its roles", `project_role developer "Developer" workspace_roles member`, `project_role developer "Developer" workspace_roles`,
			"Caddyfile:{{line}}"},
		{"plan naming an unknown permission", `plan free "Free" {`, `plan free "Free" {` + "\n\t\t\tpermissions campaign.rn",
			`Caddyfile:{{line}}: plan free: permissions: unknown permission "campaign.rn"`}, // the plan's line
		{"unknown feature", "features member_overrides", "features member_overides",
			`plan pro: unknown feature "member_overides" (features: member_overrides, resource_restrictions, custom_roles, api_keys); did you mean member_overrides?, at Caddyfile:{{line}}`},
		{"unknown plan option", "features member_overrides", "feature member_overrides", "Caddyfile:{{line}}"},
		{"default plan that does not exist", "default_plan free", "default_plan fre", "Caddyfile:{{line}}: default_plan fre: no such plan"},
		{"default plan twice", "default_plan free", "default_plan free\n\t\tdefault_plan pro", "default_plan is set twice"},
		{"duplicate org role", `org_role member "Member"`, `org_role owner "Member"`, "Caddyfile:{{line}}: org_role owner is declared twice"},
		{"duplicate project role", `project_role admin     "Project admin"`, `project_role developer     "Project admin"`, "Caddyfile:{{line}}: project_role developer is declared twice"},
		{"duplicate plan", `plan pro "Pro" {`, `plan free "Pro" {`, "Caddyfile:{{line}}: plan free is declared twice"},
		{"org role naming a workspace permission", `org_role member "Member"`, `org_role member "Member" message.read`,
			"Caddyfile:{{line}}: org_role member: message.read is not an organization permission"},
		{"workspace role naming an organization permission", `role member "Member" message.read`, `role member "Member" organization.admin`,
			"Caddyfile:{{line}}: role member: organization.admin is an organization permission"},
		{"local_workspaces neither on nor off", "local_workspaces on", "local_workspaces yes", `local_workspaces "yes": use on or off`},
		{"plan without a name", `plan pro "Pro" {`, `plan pro {`, "Caddyfile:{{line}}"},
	}
	for _, c := range cases {
		body := strings.Replace(specOrgPlan, c.from, c.to, 1)
		if body == specOrgPlan {
			t.Fatalf("%s: setup: %q not found", c.name, c.from)
		}
		line := orgPlanFirstLine + strings.Count(body[:strings.Index(body, c.to)], "\n")
		want := strings.ReplaceAll(c.want, "{{line}}", fmt.Sprint(line))
		_, err := adaptGatehouse(body)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v\nwant it to contain %q", c.name, err, want)
		}
	}
}

// FuzzOrgPlanCaddyfile: any text in the gatehouse block, around the new
// options, never panics the adapter or the model, and every error names a
// Caddyfile line.
func FuzzOrgPlanCaddyfile(f *testing.F) {
	f.Add(specOrgPlan)
	f.Add("plan a \"A\" {\n\t\t\tpermissions *\n\t\t}\n\t\tdefault_plan a\n")
	f.Add("org_role o \"O\" organization.*\n\t\tproject_role p \"P\" workspace_roles owner member\n")
	f.Add("plan x \"X\" {\n\t\t\tfeatures api_keys api_keys\n\t\t}\n")
	f.Add("permission organization.audit implies organization.billing\n\t\torg_role a \"A\" organization.audit\n")
	f.Fuzz(func(t *testing.T, body string) {
		// Options whose errors are about the whole config rather than a
		// line are left out: this target is about the new syntax.
		for _, word := range []string{"creator_role", "global_admins", "workspace_creation", "store", "jwt", "import", "{env.", "{$"} {
			if strings.Contains(body, word) {
				return
			}
		}
		if !staysInBlock(body) {
			return
		}
		_, err := adaptGatehouse(body)
		// The creator role's check is about the roles as a whole (the
		// default, owner, has no line of its own).
		if err != nil && !strings.Contains(err.Error(), "Caddyfile:") && !strings.Contains(err.Error(), "creator_role") {
			t.Fatalf("error without a line: %v\nconfig:\n%s", err, body)
		}
	})
}

// staysInBlock reports whether body keeps to the gatehouse block: its
// braces are whole tokens and balanced, and it has no quoting that could
// hide one. Text that closes the block early is parsed as site blocks by
// Caddy, whose errors are not this syntax's.
func staysInBlock(body string) bool {
	if strings.ContainsAny(body, "`\\") || strings.Contains(body, "<<") {
		return false
	}
	depth := 0
	for _, tok := range strings.Fields(body) {
		switch {
		case tok == "{":
			depth++
		case tok == "}":
			depth--
			if depth < 0 {
				return false
			}
		case strings.ContainsAny(tok, "{}"):
			return false
		}
	}
	return depth == 0
}
