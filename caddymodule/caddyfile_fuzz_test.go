package caddymodule

import (
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/changefeed"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// refuseTokens verifies nothing: the fuzz target decides requests
// without credentials only.
type refuseTokens struct{}

func (refuseTokens) Verify(string) (authn.Principal, error) {
	return authn.Principal{}, errors.New("no tokens here")
}

// fuzzEngine is a real engine over a bbolt file, with the spec's
// organization roles.
func fuzzEngine(f *testing.F) *gateway.Engine {
	m, err := model.New(model.Config{
		Permissions: []model.Permission{{Name: "message.read"}},
		Roles:       []model.SystemRole{{Slug: "owner", Name: "Owner", Permissions: []string{"workspace.admin"}}},
		OrgRoles:    model.DefaultOrgRoles(),
	})
	if err != nil {
		f.Fatal(err)
	}
	raw, err := boltstore.Open(filepath.Join(f.TempDir(), "gatehouse.db"), boltstore.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { raw.Close() })
	live, err := changefeed.New(raw, changefeed.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { live.Close() })
	e, err := gateway.NewEngine(gateway.Options{Model: m, Live: live, Authenticator: refuseTokens{}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(e.Close)
	return e
}

// FuzzHandlerCaddyfile feeds the gatehouse directive's block, organization
// subdirective and rules included, through the parser and the rule
// compiler: nothing panics, an accepted organization source is complete,
// an organization rule compiles only with an organization source, and a
// compiled table decides a request without credentials as a denial or a
// public allow.
func FuzzHandlerCaddyfile(f *testing.F) {
	for _, seed := range []string{
		"gatehouse {\n\torganization param org\n\trule GET /o/{org} org_member\n\trule PUT /o/{org}/plan organization.billing\n}",
		"gatehouse {\n\tworkspace header X-Workspace\n\torganization header X-Org\n\trule GET /o organization.admin\n\trule GET /w message.read\n}",
		"gatehouse {\n\torganization query org\n\trule * /o/* organization.workspaces\n}",
		"gatehouse {\n\torganization placeholder {http.request.header.X-Org}\n\trule GET /x org_member\n}",
		"gatehouse {\n\trule GET /o/{org} org_member\n}",
		"gatehouse {\n\torganization param org\n\torganization param o\n}",
		"gatehouse {\n\torganization cookie org\n}",
		"gatehouse {\n\torganization\n}",
		"gatehouse {\n\torganization param org\n\trule GET /o/{org}/i/{i} org_member restrict instance {i}\n}",
		"gatehouse {\n\torganization param org\n\trule GET /healthz public\n\trule GET /o/{org} organization.nope\n}",
	} {
		f.Add(seed)
	}
	engine := fuzzEngine(f)
	f.Fuzz(func(t *testing.T, src string) {
		tokens, err := caddyfile.Tokenize([]byte(src), "Caddyfile")
		if err != nil {
			return
		}
		var h Handler
		if err := h.UnmarshalCaddyfile(caddyfile.NewDispenser(tokens)); err != nil {
			return
		}
		if o := h.Organization; o != nil && (o.From == "" || o.Name == "") {
			t.Fatalf("accepted an incomplete organization source %+v", o)
		}
		p, err := engine.NewPolicyWith(h.ruleSpecs(), h.sources())
		if err != nil {
			return
		}
		for _, r := range h.Rules {
			if (r.Require == gateway.KeywordOrgMember || model.IsOrgPermission(r.Require)) && h.Organization == nil {
				t.Fatalf("compiled organization rule %+v without an organization source", r)
			}
			path := strings.NewReplacer("{", "", "}", "", "*", "x").Replace(r.Path)
			if !strings.HasPrefix(path, "/") {
				continue
			}
			for _, method := range r.Methods {
				if method == "*" {
					method = "GET"
				}
				req, err := http.NewRequest(method, "http://gw"+path, nil)
				if err != nil {
					continue // a path no client could send
				}
				var d gateway.Decision
				p.Decide(req, nil, &d)
				if d.Allowed && (d.Rule == nil || d.Rule.Kind != gateway.RequirePublic) {
					t.Fatalf("%s %s allowed without credentials by %+v", method, path, d.Rule)
				}
			}
		}
	})
}
