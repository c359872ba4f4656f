package cli

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatehouse-authz/gatehouse/caddymodule"
	"github.com/gatehouse-authz/gatehouse/internal/apikey"
	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/changefeed"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// userTokenPrefix marks the stand-in bearer token of a fixture user: the
// suite runs offline, so no JWT is signed or verified; the decision after
// authentication is the gateway's own.
const userTokenPrefix = "gatehouse-test-user:"

// fixtureAuth "verifies" the stand-in tokens of fixture users.
type fixtureAuth struct{}

func (fixtureAuth) Verify(token string) (authn.Principal, error) {
	sub, ok := strings.CutPrefix(token, userTokenPrefix)
	if !ok || sub == "" {
		return authn.Principal{}, &authn.TokenError{Reason: "not a gatehouse test token"}
	}
	return authn.Principal{Subject: sub, Cached: true}, nil
}

// caseResult is the outcome of one request of a suite.
type caseResult struct {
	name    string
	failure string // "" when it passed
}

// runSuite decides every request of s against the config's rule tables,
// on a fresh store in a temporary directory seeded with the suite's
// fixtures, through gateway.Policy.Decide: the gateway's own evaluator.
func runSuite(file string, s *suite, cfg *caddymodule.OfflineConfig) ([]caseResult, error) {
	dir, err := os.MkdirTemp("", "gatehouse-test")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	raw, err := boltstore.Open(filepath.Join(dir, "gatehouse.db"), boltstore.Options{})
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	live, err := changefeed.New(raw, changefeed.Options{})
	if err != nil {
		return nil, err
	}
	defer live.Close()
	engine, err := gateway.NewEngine(gateway.Options{Model: cfg.Model, Live: live, Authenticator: fixtureAuth{}})
	if err != nil {
		return nil, err
	}
	defer engine.Close()
	policies := make([]*gateway.Policy, len(cfg.Tables))
	for i, t := range cfg.Tables {
		if policies[i], err = engine.NewPolicyWith(t.Rules, gateway.Sources{Workspace: t.Workspace, Organization: t.Organization}); err != nil {
			return nil, err
		}
	}
	keys, err := seedSuite(live, s)
	if err != nil {
		return nil, badFile(file, 0, "fixtures: %v", err)
	}
	results := make([]caseResult, 0, len(s.Requests))
	for _, req := range s.Requests {
		results = append(results, runCase(file, req, policies, keys))
	}
	return results, nil
}

// seedSuite writes the fixtures; it returns each API key's token by name.
func seedSuite(st store.Store, s *suite) (map[string]string, error) {
	now := time.Now().UTC()
	past := now.Add(-time.Hour)
	keys := map[string]string{}
	err := st.Update(context.Background(), func(tx store.Tx) error {
		for _, w := range s.Workspaces {
			ws := store.Workspace{ID: ident.NewWorkspaceID(), Slug: w.Slug, Name: w.Slug, CreatedAt: now, UpdatedAt: now}
			if w.Deleted {
				ws.DeletedAt = &now
			}
			if err := tx.PutWorkspace(ws); err != nil {
				return fmt.Errorf("workspace %s: %w", w.Slug, err)
			}
			for _, r := range w.Roles {
				if err := tx.PutRole(store.Role{WorkspaceID: ws.ID, Slug: r.Slug, Name: r.Slug, Permissions: r.Permissions, CreatedAt: now, UpdatedAt: now}); err != nil {
					return fmt.Errorf("workspace %s, role %s: %w", w.Slug, r.Slug, err)
				}
			}
			for _, m := range w.Members {
				if err := tx.PutMember(store.Membership{WorkspaceID: ws.ID, UserID: m.User, Roles: m.Roles, Grants: m.Grants,
					Denies: m.Denies, Restrictions: m.Restrictions, JoinedAt: now, UpdatedAt: now}); err != nil {
					return fmt.Errorf("workspace %s, member %s: %w", w.Slug, m.User, err)
				}
			}
			for _, k := range w.APIKeys {
				token, id, hash := apikey.Generate()
				rec := store.APIKey{ID: id, WorkspaceID: ws.ID, Name: k.Name, Permissions: k.Permissions,
					Restrictions: k.Restrictions, SecretHash: hash, CreatedBy: "gatehouse-test", CreatedAt: now}
				if k.Revoked {
					rec.RevokedAt = &now
				}
				if k.Expired {
					rec.ExpiresAt = &past
				}
				if err := tx.PutAPIKey(rec); err != nil {
					return fmt.Errorf("workspace %s, API key %s: %w", w.Slug, k.Name, err)
				}
				keys[k.Name] = token
			}
		}
		return nil
	})
	return keys, err
}

// runCase decides one request and compares it with what it expects.
func runCase(file string, req suiteRequest, policies []*gateway.Policy, keys map[string]string) caseResult {
	who := "anonymous"
	switch {
	case req.User != "":
		who = req.User
	case req.APIKey != "":
		who = "API key " + req.APIKey
	}
	res := caseResult{name: req.Name}
	if res.name == "" {
		res.name = req.Method + " " + req.Path + " as " + who
	}
	where := fmt.Sprintf("%s:%d: %s %s as %s", file, req.line, req.Method, req.Path, who)
	r, err := http.NewRequest(req.Method, "http://gatehouse.test"+req.Path, nil)
	if err != nil {
		res.failure = where + ": not a request: " + err.Error()
		return res
	}
	r.RequestURI = req.Path
	switch {
	case req.User != "":
		r.Header.Set("Authorization", "Bearer "+userTokenPrefix+req.User)
	case req.APIKey != "":
		r.Header.Set("Authorization", "Bearer "+keys[req.APIKey])
	}
	policy := policies[0]
	for _, p := range policies {
		if p.Matches(r.URL.Path) {
			policy = p
			break
		}
	}
	var d gateway.Decision
	policy.Decide(r, nil, &d)
	status, code, reason, detail := http.StatusOK, "", "", ""
	if !d.Allowed {
		status, code, reason, detail = d.Problem.Status, d.Problem.Code, d.Problem.Reason, d.Problem.Detail
	}
	e := req.Expect
	if status == e.Status && (e.Code == "" || e.Code == code) && (e.Reason == "" || e.Reason == reason) {
		return res
	}
	got := fmt.Sprint(status)
	if code != "" {
		got += " " + code + "/" + reason
	} else {
		got += " (allowed)"
	}
	want := fmt.Sprint(e.Status)
	if e.Code != "" || e.Reason != "" {
		want += " " + e.Code + "/" + e.Reason
	}
	msg := where + ": got " + got + ", want " + want
	if d.Rule != nil {
		msg += "\n    matched rule: " + d.Rule.Text
		if d.Rule.Source != "" {
			msg += " (" + d.Rule.Source + ")"
		}
	} else {
		msg += "\n    matched rule: none"
	}
	if detail != "" {
		msg += "\n    why: " + detail
	}
	if d.Problem != nil && d.Problem.RequiredPermission != "" {
		msg += "\n    missing: " + d.Problem.RequiredPermission
	}
	res.failure = msg
	return res
}
