package console_test

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/admin"
	"github.com/gatehouse-authz/gatehouse/console"
	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/changefeed"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/signing"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// The harness serves the console over the real management API (admin.New)
// on a real bbolt file in a temp dir, with the real JWT verifier and engine:
// what caddymodule wires together, without Caddy. The API is wrapped only to
// record the consistency token each of the console's calls carries.

var harnessPermissions = []model.Permission{
	{Name: "message.read"},
	{Name: "message.send", Implies: []string{"message.read"}},
	{Name: "contact.manage", Implies: []string{"contact.read"}},
	{Name: "contact.read"},
}

var harnessRoles = []model.SystemRole{
	{Slug: "owner", Name: "Owner", Permissions: []string{authz.PermAdmin}},
	{Slug: "operator", Name: "Operator", Permissions: []string{"message.read", "message.send", "contact.read"}},
}

type harness struct {
	t       testing.TB
	token   func(sub string) string // a signed JWT for sub
	store   *changefeed.Live
	api     http.Handler
	console *console.Console

	mu sync.Mutex
	// consistency is the Gatehouse-Consistency of every API call the
	// console made, in order.
	consistency []string
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessConfig(t, model.Config{Permissions: harnessPermissions, Roles: harnessRoles, GlobalAdmins: []string{"root"}})
}

// newHarnessConfig is newHarness over the model config cfg.
func newHarnessConfig(t testing.TB, cfg model.Config) *harness {
	t.Helper()
	dir := t.TempDir()
	must(t, signing.Generate(dir, false))
	key, err := signing.LoadSigningKey(filepath.Join(dir, signing.SigningKeyFile))
	must(t, err)
	raw, err := boltstore.Open(filepath.Join(dir, "gatehouse.db"), boltstore.Options{})
	must(t, err)
	t.Cleanup(func() { raw.Close() })
	live, err := changefeed.New(raw, changefeed.Options{})
	must(t, err)
	t.Cleanup(func() { live.Close() })
	verifier, err := authn.NewVerifier(context.Background(), authn.Config{JWKSFile: filepath.Join(dir, signing.JWKSFile)})
	must(t, err)
	t.Cleanup(verifier.Close)
	m, err := model.New(cfg)
	must(t, err)
	engine, err := gateway.NewEngine(gateway.Options{Model: m, Live: live, Authenticator: verifier})
	must(t, err)
	t.Cleanup(engine.Close)
	api, err := admin.New(admin.Options{Store: live, Engine: engine, WorkspaceCreation: admin.CreationAnyone, CreatorRole: "owner"})
	must(t, err)
	h := &harness{t: t, store: live}
	h.api = api
	sign := func(sub, email string) (string, time.Time, error) {
		tok, err := signing.Sign(key, signing.TokenSpec{Subject: sub, Email: email, TTL: time.Hour})
		return tok, time.Now().Add(time.Hour), err
	}
	h.token = func(sub string) string {
		tok, _, err := sign(sub, sub+"@example.com")
		must(t, err)
		return tok
	}
	recorded := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.consistency = append(h.consistency, r.Header.Get(gateway.HeaderConsistency))
		h.mu.Unlock()
		api.ServeHTTP(w, r)
	})
	h.console, err = console.New(console.Options{API: recorded, DevLogin: sign})
	must(t, err)
	return h
}

// seed writes records directly into the store (another writer).
func (h *harness) seed(fn func(tx store.Tx) error) {
	h.t.Helper()
	must(h.t, h.store.Update(context.Background(), fn))
}

// login signs sub in through the dev login form and returns the session
// cookie.
func (h *harness) login(sub string) *http.Cookie {
	h.t.Helper()
	r := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"subject": {sub}, "email": {sub + "@example.com"}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.console.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther {
		h.t.Fatalf("login %s: %d %s", sub, w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == "gatehouse_console" {
			return c
		}
	}
	h.t.Fatal("no session cookie")
	return nil
}

// get serves one console GET with the session cookie (nil: signed out).
func (h *harness) get(path string, ck *http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	if ck != nil {
		r.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	h.console.ServeHTTP(w, r)
	return w
}

// apiCall sends one request to the API directly (another session, another admin).
func (h *harness) apiCall(method, path, sub, body string) *httptest.ResponseRecorder {
	h.t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+h.token(sub))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.api.ServeHTTP(w, r)
	return w
}

func (h *harness) calls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.consistency...)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seedAcme creates workspace acme owned by alice (as the CLI would) and
// returns it.
func (h *harness) seedAcme(members ...store.Membership) store.Workspace {
	h.t.Helper()
	var ws store.Workspace
	now := time.Now().UTC()
	h.seed(func(tx store.Tx) error {
		var err error
		ws, err = model.CreateWorkspace(tx, model.NewWorkspace{Name: "Acme", Slug: "acme", Owner: "alice",
			OwnerEmail: "alice@example.com", OwnerRoles: []string{"owner"}, Actor: model.ActorCLI}, now)
		if err != nil {
			return err
		}
		for _, m := range members {
			m.WorkspaceID, m.JoinedAt, m.UpdatedAt = ws.ID, now, now
			if err := tx.PutUser(store.User{ID: m.UserID, Email: m.UserID + "@example.com", FirstSeen: now, LastSeen: now}); err != nil {
				return err
			}
			if err := tx.PutMember(m); err != nil {
				return err
			}
		}
		return nil
	})
	return ws
}

// post serves one console form POST with the session cookie; kv are
// field, value pairs.
func (h *harness) post(path string, ck *http.Cookie, kv ...string) *httptest.ResponseRecorder {
	form := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Add(kv[i], kv[i+1])
	}
	r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(ck)
	w := httptest.NewRecorder()
	h.console.ServeHTTP(w, r)
	return w
}

// htmlEscape is what html/template makes of s in element text.
func htmlEscape(s string) string { return template.HTMLEscapeString(s) }
