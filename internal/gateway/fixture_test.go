package gateway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/changefeed"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/signing"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// fixture is a real engine: a bbolt file in a temp dir, a JWK set written
// by internal/signing, the real verifier, and seeded workspaces.
type fixture struct {
	t   testing.TB
	dir string
	key jwk.Key
	// store is the bbolt store wired to its caches: every write of a
	// test goes through it, as every write of the API does.
	store *changefeed.Live
	// raw is the bbolt store under it: a write there bypasses the Live,
	// like a write of another process on the same database.
	raw      *boltstore.Store
	engine   *gateway.Engine
	verifier *authn.Verifier
	acme     store.Workspace // members: alice (owner), olga, dave, eve
	globex   store.Workspace // members: bob (owner)
	gone     store.Workspace // soft-deleted; alice was its owner
}

var testPermissions = []model.Permission{
	{Name: "message.read"},
	{Name: "message.send", Implies: []string{"message.read"}},
	{Name: "contact.manage", Implies: []string{"contact.read"}},
	{Name: "contact.read"},
	{Name: "campaign.read"},
	{Name: "campaign.run", Implies: []string{"campaign.read"}},
}

var testRoles = []model.SystemRole{
	{Slug: "owner", Name: "Owner", Permissions: []string{authz.PermAdmin}},
	{Slug: "operator", Name: "Operator", Permissions: []string{"message.read", "message.send", "contact.read", "campaign.read"}},
	{Slug: "member", Name: "Member", Permissions: []string{"message.read"}},
}

// testRules is the README "Site directives" rules plus a contact export rule.
var testRules = []gateway.RuleSpec{
	{Methods: []string{"GET"}, Path: "/healthz", Require: "public"},
	{Methods: []string{"GET"}, Path: "/me", Require: "authenticated"},
	{Methods: []string{"GET"}, Path: "/w/{workspace}", Require: "member"},
	{Methods: []string{"GET"}, Path: "/w/{workspace}/messages", Require: "message.read"},
	{Methods: []string{"POST"}, Path: "/w/{workspace}/messages", Require: "message.send"},
	{Methods: []string{"GET"}, Path: "/w/{workspace}/instances/{instance}/chats", Require: "message.read", RestrictType: "instance", RestrictParam: "instance"},
	{Methods: []string{"*"}, Path: "/w/{workspace}/campaigns/{id}/run", Require: "campaign.run"},
	{Methods: []string{"GET"}, Path: "/w/{workspace}/contacts/export", Require: "contact.manage"},
	{Methods: []string{"GET"}, Path: "/billing-admin/*", Require: "global_admin"},
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	if err := signing.Generate(dir, false); err != nil {
		t.Fatal(err)
	}
	key, err := signing.LoadSigningKey(filepath.Join(dir, signing.SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := boltstore.Open(filepath.Join(dir, "gatehouse.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	s, err := changefeed.New(raw, changefeed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	verifier, err := authn.NewVerifier(context.Background(), authn.Config{JWKSFile: filepath.Join(dir, signing.JWKSFile)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(verifier.Close)
	f := &fixture{t: t, dir: dir, key: key, store: s, raw: raw, verifier: verifier}
	f.engine = f.newEngine(verifier)
	f.seed()
	return f
}

// liveOn wires s (a wrapper of f.store, say) to caches of its own, for an
// engine reading through s; closing it leaves s open.
func (f *fixture) liveOn(s store.Store) *changefeed.Live {
	f.t.Helper()
	l, err := changefeed.New(noClose{s}, changefeed.Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { l.Close() })
	return l
}

// noClose keeps a Live's Close from closing the store it wraps.
type noClose struct{ store.Store }

func (noClose) Close() error { return nil }

func (f *fixture) newEngine(a gateway.Authenticator) *gateway.Engine {
	f.t.Helper()
	return f.newEngineWith(func(o *gateway.Options) { o.Authenticator = a })
}

// testConfig is the fixture's model configuration.
func testConfig() model.Config {
	return model.Config{Permissions: testPermissions, Roles: testRoles, GlobalAdmins: []string{"root"}}
}

// newModel builds the model of cfg.
func newModel(t testing.TB, cfg model.Config) *model.Model {
	t.Helper()
	m, err := model.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newEngineWith returns an engine with the real verifier and the test
// model, changed by edit.
func (f *fixture) newEngineWith(edit func(*gateway.Options)) *gateway.Engine {
	f.t.Helper()
	opts := gateway.Options{
		Model:         newModel(f.t, testConfig()),
		Live:          f.store,
		Authenticator: f.verifier,
	}
	edit(&opts)
	e, err := gateway.NewEngine(opts)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(e.Close)
	return e
}

func (f *fixture) seed() {
	now := time.Now().UTC()
	f.acme = store.Workspace{ID: "ws_acme0000000000000000000000", Slug: "acme", Name: "Acme", CreatedAt: now, UpdatedAt: now}
	f.globex = store.Workspace{ID: "ws_globex000000000000000000000", Slug: "globex", Name: "Globex", CreatedAt: now, UpdatedAt: now}
	f.gone = store.Workspace{ID: "ws_gone0000000000000000000000", Slug: "gone", Name: "Gone", CreatedAt: now, UpdatedAt: now, DeletedAt: &now}
	f.update(func(tx store.Tx) error {
		for _, ws := range []store.Workspace{f.acme, f.globex, f.gone} {
			must(f.t, tx.PutWorkspace(ws))
		}
		must(f.t, tx.PutRole(store.Role{WorkspaceID: f.acme.ID, Slug: "exporter", Name: "Exporter", Permissions: []string{"contact.manage"}}))
		for _, m := range []store.Membership{
			{WorkspaceID: f.acme.ID, UserID: "alice", Roles: []string{"owner"}},
			{WorkspaceID: f.acme.ID, UserID: "olga", Roles: []string{"operator"}, Restrictions: map[string][]string{"instance": {"i1", "i2"}, "chat": {"assigned_only"}}},
			{WorkspaceID: f.acme.ID, UserID: "dave", Roles: []string{"operator"}, Denies: []string{"message.send"}},
			{WorkspaceID: f.acme.ID, UserID: "eve", Roles: []string{"member", "exporter"}, Grants: []string{"campaign.*"}},
			{WorkspaceID: f.globex.ID, UserID: "bob", Roles: []string{"owner"}},
			{WorkspaceID: f.gone.ID, UserID: "alice", Roles: []string{"owner"}},
		} {
			m.JoinedAt, m.UpdatedAt = now, now
			must(f.t, tx.PutMember(m))
		}
		return nil
	})
}

func (f *fixture) update(fn func(store.Tx) error) {
	f.t.Helper()
	if err := f.store.Update(context.Background(), fn); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) token(sub string) string {
	f.t.Helper()
	tok, err := signing.Sign(f.key, signing.TokenSpec{Subject: sub, Email: sub + "@example.com"})
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

func (f *fixture) policy(source gateway.WorkspaceSource, rules ...gateway.RuleSpec) *gateway.Policy {
	f.t.Helper()
	if rules == nil {
		rules = testRules
	}
	p, err := f.engine.NewPolicy(rules, source)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// request builds a request the way net/http's server would parse it.
func request(method, target, token string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

func t0() context.Context { return context.Background() }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
