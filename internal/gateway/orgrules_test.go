package gateway_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// orgRules are organization rules next to a workspace rule, with the
// organization read from the path parameter {org}.
var orgRules = []gateway.RuleSpec{
	{Methods: []string{"GET"}, Path: "/o/{org}", Require: "org_member"},
	{Methods: []string{"GET"}, Path: "/o/{org}/billing", Require: "organization.billing"},
	{Methods: []string{"GET"}, Path: "/o/{org}/workspaces", Require: "organization.workspaces"},
	{Methods: []string{"GET"}, Path: "/w/{workspace}/messages", Require: "message.read"},
}

// orgSources reads the organization from {org}.
var orgSources = gateway.Sources{Organization: gateway.WorkspaceSource{From: gateway.FromParam, Name: "org"}}

// newOrgRulesFixture is the org fixture with organization members: in
// org_a (slug alpha) oscar is an owner (organization.admin), bill a
// biller (organization.billing), mia a plain member and dev, the project
// developer, is no org member at all; in org_b (beta) alice is a member.
func newOrgRulesFixture(t *testing.T) (*orgFixture, *gateway.Policy) {
	t.Helper()
	f := newOrgFixture(t)
	cfg := testConfig()
	cfg.ProjectRoles = []model.ProjectRole{{Slug: "developer", Name: "Developer", WorkspaceRoles: []string{"member"}}}
	cfg.OrgRoles = []model.OrgRole{
		{Slug: "owner", Name: "Owner", Permissions: []string{model.PermOrgAdmin}},
		{Slug: "biller", Name: "Biller", Permissions: []string{model.PermOrgBilling}},
		{Slug: "member", Name: "Member"},
	}
	f.engine = f.newEngineWith(func(o *gateway.Options) { o.Model = newModel(t, cfg) })
	now := time.Now().UTC()
	f.update(func(tx store.Tx) error {
		for _, m := range []store.OrgMember{
			{OrganizationID: "org_a", UserID: "oscar", Roles: []string{"owner"}},
			{OrganizationID: "org_a", UserID: "bill", Roles: []string{"biller", "member"}},
			{OrganizationID: "org_a", UserID: "mia", Roles: []string{"member"}},
			{OrganizationID: "org_b", UserID: "alice", Roles: []string{"member"}},
		} {
			m.JoinedAt, m.UpdatedAt = now, now
			must(t, tx.PutOrgMember(m))
		}
		return nil
	})
	p, err := f.engine.NewPolicyWith(orgRules, orgSources)
	if err != nil {
		t.Fatal(err)
	}
	return f, p
}

func TestOrgRulesAllowAndDeny(t *testing.T) {
	f, p := newOrgRulesFixture(t)
	notFound := want{404, "organization_not_found", ""}
	cases := []struct {
		path, user string
		want
	}{
		{"/o/alpha", "oscar", want{}},
		{"/o/org_a", "oscar", want{}},
		{"/o/alpha", "mia", want{}},
		{"/o/alpha/billing", "oscar", want{}}, // organization.admin implies organization.*
		{"/o/alpha/billing", "bill", want{}},
		{"/o/alpha/billing", "mia", want{403, "forbidden", "organization.billing"}},
		{"/o/alpha/workspaces", "bill", want{403, "forbidden", "organization.workspaces"}},
		{"/o/alpha/workspaces", "oscar", want{}},
		// not a member, unknown, another organization's member, a global
		// admin (who stands in no organization by that alone)
		{"/o/alpha", "dev", notFound},
		{"/o/nope", "oscar", notFound},
		{"/o/org_nope", "oscar", notFound},
		{"/o/beta", "oscar", notFound},
		{"/o/beta", "alice", want{}},
		{"/o/alpha", "root", notFound},
		{"/o/alpha/billing", "dev", notFound},
		{"/o/NOT~A~SLUG", "oscar", notFound},
	}
	for _, c := range cases {
		d := f.decideAs(p, "GET", c.path, c.user)
		check(t, c.user+" GET "+c.path, d, c.want)
		if !d.Allowed && d.Problem.Code == "organization_not_found" && d.Problem.Reason != "not_org_member" {
			t.Errorf("%s %s: reason %q, want not_org_member", c.user, c.path, d.Problem.Reason)
		}
		if !d.Allowed && d.Problem.Code == "forbidden" && d.Problem.Reason != "missing_permission" {
			t.Errorf("%s %s: reason %q, want missing_permission", c.user, c.path, d.Problem.Reason)
		}
	}
	// Without credentials: 401, as for any non-public rule.
	if d := decide(p, request("GET", "/o/alpha", "")); d.Allowed || d.Problem.Status != 401 {
		t.Errorf("no token: %+v", d.Problem)
	}
}

// The 404 of an unknown, a deleted and a not-member organization are
// byte-identical, for a member of the deleted organization too.
func TestOrgNotFoundIsByteIdentical(t *testing.T) {
	f, p := newOrgRulesFixture(t)
	gone := f.orgB
	now := time.Now().UTC()
	gone.DeletedAt = &now
	f.update(func(tx store.Tx) error { return tx.PutOrganization(gone) })
	body := func(path, user string) string {
		w := httptest.NewRecorder()
		d := f.decideAs(p, "GET", path, user)
		if d.Allowed {
			t.Fatalf("%s %s allowed", user, path)
		}
		d.ID = 0 // the decision id is per request, in a header
		gateway.WriteDenial(w, d.Problem)
		return fmt.Sprint(w.Code) + w.Body.String()
	}
	unknown := body("/o/nope", "alice")
	for _, c := range [][2]string{{"/o/beta", "alice"}, {"/o/alpha", "alice"}, {"/o/beta", "oscar"}} {
		if got := body(c[0], c[1]); got != unknown {
			t.Errorf("%s %s:\n%s\nwant the unknown organization's\n%s", c[1], c[0], got, unknown)
		}
	}
}

func TestOrgRuleForwardsOrganizationHeaders(t *testing.T) {
	f, p := newOrgRulesFixture(t)
	r := request("GET", "/o/alpha/billing", f.token("bill"))
	r.Header.Set("X-Gatehouse-Organization", "org_b") // spoofed: scrubbed
	p.Scrub(r, false)
	d := decide(p, r)
	if !d.Allowed {
		t.Fatalf("denied: %+v", d.Problem)
	}
	h := http.Header{}
	d.SetIdentityHeaders(h)
	for name, want := range map[string]string{
		"X-Gatehouse-Organization":      "org_a",
		"X-Gatehouse-Organization-Slug": "alpha",
		"X-Gatehouse-Roles":             "biller,member",
		"X-Gatehouse-Permission":        "organization.billing",
		"X-Gatehouse-User":              "bill",
		"X-Gatehouse-Email":             "bill@example.com",
		"X-Gatehouse-Workspace":         "",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// A workspace rule in a workspace of an organization carries the
	// organization id (and no organization slug); one outside carries none.
	d = f.decideAs(p, "GET", "/w/web1/messages", "dev")
	h = http.Header{}
	d.SetIdentityHeaders(h)
	if !d.Allowed || h.Get("X-Gatehouse-Organization") != "org_a" || h.Get("X-Gatehouse-Workspace-Slug") != "web1" {
		t.Errorf("workspace of org_a: allowed=%v headers %v", d.Allowed, h)
	}
	d = f.decideAs(p, "GET", "/w/acme/messages", "alice")
	h = http.Header{}
	d.SetIdentityHeaders(h)
	if !d.Allowed || h.Get("X-Gatehouse-Organization") != "" {
		t.Errorf("workspace outside any organization: allowed=%v headers %v", d.Allowed, h)
	}
}

// A cached organization decision follows every change: roles, removal,
// soft delete, restore, slug edit — through the Live (at once) and
// through another writer on the same database (within the feed's lag).
func TestOrgAccessFollowsChanges(t *testing.T) {
	f, p := newOrgRulesFixture(t)
	now := time.Now().UTC()
	expect := func(name, path, user string, w want) {
		t.Helper()
		check(t, name, f.decideAs(p, "GET", path, user), w)
	}
	expect("mia cached", "/o/alpha/billing", "mia", want{403, "forbidden", "organization.billing"})
	f.update(func(tx store.Tx) error {
		return tx.PutOrgMember(store.OrgMember{OrganizationID: "org_a", UserID: "mia", Roles: []string{"biller"}, JoinedAt: now, UpdatedAt: now})
	})
	expect("mia made biller", "/o/alpha/billing", "mia", want{})
	f.update(func(tx store.Tx) error { return tx.DeleteOrgMember("org_a", "mia") })
	expect("mia removed", "/o/alpha", "mia", want{404, "organization_not_found", ""})

	alpha := store.Organization{ID: "org_a", Slug: "alpha", Name: "Alpha", CreatedAt: now, UpdatedAt: now}
	expect("oscar cached", "/o/alpha", "oscar", want{})
	deleted := alpha
	deleted.DeletedAt = &now
	f.update(func(tx store.Tx) error { return tx.PutOrganization(deleted) })
	expect("org deleted", "/o/alpha", "oscar", want{404, "organization_not_found", ""})
	expect("org deleted, by id", "/o/org_a", "oscar", want{404, "organization_not_found", ""})
	f.update(func(tx store.Tx) error { return tx.PutOrganization(alpha) })
	expect("org restored", "/o/alpha", "oscar", want{})

	renamed := alpha
	renamed.Slug = "alpha2"
	f.update(func(tx store.Tx) error { return tx.PutOrganization(renamed) })
	expect("old slug", "/o/alpha", "oscar", want{404, "organization_not_found", ""})
	expect("new slug", "/o/alpha2", "oscar", want{})

	// Another writer (the raw bbolt store under the Live): the follower
	// applies its commit within the poll interval.
	expect("bill cached", "/o/alpha2/billing", "bill", want{})
	if err := f.raw.Update(t0(), func(tx store.Tx) error { return tx.DeleteOrgMember("org_a", "bill") }); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		d := f.decideAs(p, "GET", "/o/alpha2/billing", "bill")
		if !d.Allowed && d.Problem.Code == "organization_not_found" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a removal by another writer was not seen within 5 s: allowed=%v", d.Allowed)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOrgRuleAPIKeyStandsNowhere(t *testing.T) {
	f, p := newOrgRulesFixture(t)
	key, _ := f.putKey(f.web1, []string{"message.read"}, nil)
	d := decide(p, request("GET", "/o/alpha", key))
	check(t, "api key on an org rule", d, want{404, "organization_not_found", ""})
}

// The organization named twice (header source: two values, or a folded
// spelling) is refused, not guessed.
func TestOrgRefAmbiguous(t *testing.T) {
	f, _ := newOrgRulesFixture(t)
	p, err := f.engine.NewPolicyWith([]gateway.RuleSpec{{Methods: []string{"GET"}, Path: "/org", Require: "org_member"}},
		gateway.Sources{Organization: gateway.WorkspaceSource{From: gateway.FromHeader, Name: "x-org"}})
	if err != nil {
		t.Fatal(err)
	}
	r := request("GET", "/org", f.token("oscar"))
	r.Header.Set("X-Org", "alpha")
	check(t, "header", decide(p, r), want{})
	r.Header.Add("X-Org", "beta")
	check(t, "two values", decide(p, r), want{400, "invalid_request", ""})
	r = request("GET", "/org", f.token("oscar"))
	r.Header.Set("X-Org", "alpha")
	r.Header["X_org"] = []string{"beta"}
	check(t, "folded spelling", decide(p, r), want{400, "invalid_request", ""})
	q, err := f.engine.NewPolicyWith([]gateway.RuleSpec{{Methods: []string{"GET"}, Path: "/org", Require: "organization.billing"}},
		gateway.Sources{Organization: gateway.WorkspaceSource{From: gateway.FromQuery, Name: "org"}})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "query", decide(q, request("GET", "/org?org=alpha", f.token("bill"))), want{})
	check(t, "query twice", decide(q, request("GET", "/org?org=alpha&org=beta", f.token("bill"))), want{400, "invalid_request", ""})
}

func TestOrgRuleConfigErrors(t *testing.T) {
	f, _ := newOrgRulesFixture(t)
	rule := func(path, require string) []gateway.RuleSpec {
		return []gateway.RuleSpec{{Methods: []string{"GET"}, Path: path, Require: require, Source: "Caddyfile:7"}}
	}
	cases := []struct {
		name    string
		rules   []gateway.RuleSpec
		sources gateway.Sources
		want    []string
	}{
		{"no organization source", rule("/o/{org}", "organization.billing"), gateway.Sources{},
			[]string{"Caddyfile:7", "organization param org"}},
		{"org_member without source", rule("/o/{org}", "org_member"), gateway.Sources{},
			[]string{"Caddyfile:7", "organization param org"}},
		{"no {org} segment", rule("/o/x", "org_member"), orgSources,
			[]string{"Caddyfile:7", "no {org} segment"}},
		{"misspelt", rule("/o/{org}", "organization.biling"), orgSources,
			[]string{"Caddyfile:7", `unknown organization permission "organization.biling"`, "organization.billing"}},
		{"restrict", []gateway.RuleSpec{{Methods: []string{"GET"}, Path: "/o/{org}/i/{i}", Require: "org_member", RestrictType: "instance", RestrictParam: "i"}}, orgSources,
			[]string{"restrict only applies"}},
		{"keyword typo", rule("/o/{org}", "org_membr"), orgSources,
			[]string{"org_member"}},
		{"bad source", rule("/o/{org}", "org_member"), gateway.Sources{Organization: gateway.WorkspaceSource{From: "cookie", Name: "o"}},
			[]string{"organization source", "unknown workspace source"}},
	}
	for _, c := range cases {
		_, err := f.engine.NewPolicyWith(c.rules, c.sources)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
	}
	// A workspace rule keeps using the workspace source, whatever the
	// organization source says.
	if _, err := f.engine.NewPolicyWith(rule("/w/{workspace}/messages", "message.read"), orgSources); err != nil {
		t.Errorf("workspace rule with an organization source: %v", err)
	}
	if _, err := f.engine.NewPolicyWith(rule("/o/{org}/messages", "message.read"), orgSources); err == nil ||
		!strings.Contains(err.Error(), "{workspace}") {
		t.Errorf("workspace permission on an organization path: %v, want the workspace source's error", err)
	}
}

// A cached organization decision allocates nothing (README
// "Performance targets": no new work on a cache hit).
func TestOrgRuleCachedDecisionAllocatesNothing(t *testing.T) {
	f, _ := newOrgRulesFixture(t)
	f.engine = f.newEngineWith(func(o *gateway.Options) {
		cfg := testConfig()
		cfg.OrgRoles = []model.OrgRole{{Slug: "biller", Permissions: []string{model.PermOrgBilling}}}
		o.Model = newModel(t, cfg)
		o.Authenticator = staticAuth{authn.Principal{Subject: "bill", Email: "bill@example.com", Cached: true}}
	})
	p, err := f.engine.NewPolicyWith(orgRules, orgSources)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/o/alpha/billing", nil)
	r.Header.Set("Authorization", "Bearer t")
	var d gateway.Decision
	p.Decide(r, nil, &d)
	if !d.Allowed {
		t.Fatalf("not allowed: %+v", d.Problem)
	}
	allocs := testing.AllocsPerRun(200, func() {
		d = gateway.Decision{}
		p.Decide(r, nil, &d)
	})
	if allocs != 0 || !d.Allowed {
		t.Errorf("cached organization decision: %v allocs (allowed %v), want 0", allocs, d.Allowed)
	}
}

// BenchmarkDecideCachedOrgRule: an organization permission rule decided
// from the cache, next to BenchmarkDecideCachedMember.
func BenchmarkDecideCachedOrgRule(b *testing.B) {
	f := newFixture(b)
	now := time.Now().UTC()
	f.update(func(tx store.Tx) error {
		must(b, tx.PutOrganization(store.Organization{ID: "org_a", Slug: "alpha", Name: "Alpha", CreatedAt: now, UpdatedAt: now}))
		return tx.PutOrgMember(store.OrgMember{OrganizationID: "org_a", UserID: "bill", Roles: []string{"owner"}, JoinedAt: now, UpdatedAt: now})
	})
	f.engine = f.newEngine(staticAuth{authn.Principal{Subject: "bill", Email: "bill@example.com", Cached: true}})
	p, err := f.engine.NewPolicyWith(orgRules, orgSources)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("slug", func(b *testing.B) { benchDecide(b, p, "/o/alpha/billing", "t") })
	b.Run("id", func(b *testing.B) { benchDecide(b, p, "/o/org_a/billing", "t") })
}
