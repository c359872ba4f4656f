package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/gatehouse-authz/gatehouse/admin"
	"github.com/gatehouse-authz/gatehouse/internal/apikey"
	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/changefeed"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/signing"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/storetest"
)

// The harness serves the real management API over real HTTP on loopback:
// a bbolt file in a temp dir (wired to its caches by changefeed.New), a JWK set
// written by internal/signing, the real JWT verifier, the real engine, and
// tokens signed with the matching private key.
//
// The API gets the store through storetest.Retrying: every Update runs
// its fn twice, the first run rolled back, as a networked backend may
// (store "Transactions"). So every test of the API also proves that its
// handlers' closures are retry-safe. The engine takes the Live itself
// (its background writes have their own retry tests in internal/gateway).
// h.store is the Live without the retry: a test's direct writes play the
// concurrent writer. h.between sets what runs between the two runs of the
// API's following Updates.

// testPermissions is the spec's catalog, plus campaign.admin so that a
// chain of two implications (campaign.admin → campaign.run →
// campaign.read) shows the closure is transitive.
var testPermissions = []model.Permission{
	{Name: "message.read"},
	{Name: "message.send", Implies: []string{"message.read"}},
	{Name: "contact.manage", Implies: []string{"contact.read"}},
	{Name: "contact.read"},
	{Name: "campaign.read"},
	{Name: "campaign.run", Implies: []string{"campaign.read"}},
	{Name: "campaign.admin", Implies: []string{"campaign.run"}},
}

var testRoles = []model.SystemRole{
	{Slug: "owner", Name: "Owner", Description: "Everything in the workspace", Permissions: []string{authz.PermAdmin}},
	{Slug: "operator", Name: "Operator", Permissions: []string{"message.read", "message.send", "contact.read", "campaign.read"}},
	{Slug: "member", Name: "Member", Permissions: []string{"message.read"}},
}

// allPermissions is every catalog permission, sorted: what workspace.admin
// (implies *) grants.
var allPermissions = []string{
	"campaign.admin", "campaign.read", "campaign.run", "contact.manage", "contact.read",
	"message.read", "message.send",
	"workspace.admin", "workspace.api_keys", "workspace.members", "workspace.roles", "workspace.settings",
}

// Permissions of the system roles, sorted.
var (
	operatorPermissions = []string{"campaign.read", "contact.read", "message.read", "message.send"}
	memberPermissions   = []string{"message.read"}
)

// clock is the API's clock: real time plus an offset a test can move.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

type harness struct {
	t     testing.TB
	dir   string
	key   jwk.Key
	jwks  []byte
	store *changefeed.Live
	// retry holds the between function of the Retrying store (nil:
	// nothing); set it with h.between.
	retry  *atomic.Pointer[func()]
	engine *gateway.Engine
	api    *admin.API
	srv    *httptest.Server
	clock  *clock
}

// newHarness starts a server; opts adjust the admin options (the store,
// engine and clock are already set).
func newHarness(t testing.TB, opts ...func(*admin.Options)) *harness {
	t.Helper()
	return newHarnessModel(t, harnessConfig(), opts...)
}

// harnessConfig is the model configuration newHarness serves.
func harnessConfig() model.Config {
	return model.Config{Permissions: testPermissions, Roles: testRoles, GlobalAdmins: []string{"root"}}
}

// newHarnessModel is newHarness with the model configuration cfg (e.g.
// with project roles).
func newHarnessModel(t testing.TB, cfg model.Config, opts ...func(*admin.Options)) *harness {
	t.Helper()
	return newHarnessOn(t, cfg, func(dir string) store.Store {
		raw, err := boltstore.Open(filepath.Join(dir, "gatehouse.db"), boltstore.Options{})
		must(t, err)
		return raw
	}, opts...)
}

// newHarnessOn is newHarnessModel on the store open makes (given the
// harness's temp dir), e.g. a PostgreSQL one; the harness closes it.
func newHarnessOn(t testing.TB, cfg model.Config, open func(dir string) store.Store, opts ...func(*admin.Options)) *harness {
	t.Helper()
	dir := t.TempDir()
	must(t, signing.Generate(dir, false))
	key, err := signing.LoadSigningKey(filepath.Join(dir, signing.SigningKeyFile))
	must(t, err)
	jwks, err := os.ReadFile(filepath.Join(dir, signing.JWKSFile))
	must(t, err)
	raw := open(dir)
	t.Cleanup(func() { raw.Close() })
	// The API and the engine share one store wired to its caches, as in
	// the module; the tests' own writes go through it too.
	s, err := changefeed.New(raw, changefeed.Options{})
	must(t, err)
	t.Cleanup(func() { s.Close() })
	retry := new(atomic.Pointer[func()])
	retried := storetest.Retrying(s, func() {
		if f := retry.Load(); f != nil {
			(*f)()
		}
	})
	verifier, err := authn.NewVerifier(context.Background(), authn.Config{JWKSFile: filepath.Join(dir, signing.JWKSFile)})
	must(t, err)
	t.Cleanup(verifier.Close)
	m, err := model.New(cfg)
	must(t, err)
	clk := &clock{}
	engine, err := gateway.NewEngine(gateway.Options{
		Model:         m,
		Live:          s,
		Authenticator: verifier,
		Now:           clk.Now,
	})
	must(t, err)
	t.Cleanup(engine.Close)
	h := &harness{t: t, dir: dir, key: key, jwks: jwks, store: s, retry: retry, engine: engine, clock: clk}
	o := admin.Options{
		Store:             retried,
		Engine:            engine,
		WorkspaceCreation: admin.CreationAnyone,
		CreatorRole:       "owner",
		JWKS:              jwks,
		Now:               h.clock.Now,
	}
	for _, opt := range opts {
		opt(&o)
	}
	h.api, err = admin.New(o)
	must(t, err)
	h.srv = httptest.NewServer(h.api)
	t.Cleanup(h.srv.Close)
	return h
}

// between makes f run between the two runs of every following Update of
// the API (nil: nothing), typically a direct write to
// h.store playing a concurrent writer. f runs without a transaction open.
func (h *harness) between(f func()) {
	if f == nil {
		h.retry.Store(nil)
		return
	}
	h.retry.Store(&f)
}

// sighted waits (up to 5s) for the gateway's background write that records
// sub's first request (the seen recorder touches the user some 200ms
// later), so that a test counting revisions is not overtaken by it. The
// API records a new user at once (FirstSeen = LastSeen); the sighting
// moves LastSeen on.
func (h *harness) sighted(sub string) {
	h.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var u store.User
		err := h.store.View(context.Background(), func(tx store.Tx) (err error) { u, err = tx.User(sub); return err })
		if err == nil && u.LastSeen.After(u.FirstSeen) {
			return
		}
	}
}

// in returns the harness bound to a subtest's t.
func (h *harness) in(t testing.TB) *harness {
	c := *h
	c.t = t
	return &c
}

// token mints a token for sub with email sub@example.com.
func (h *harness) token(sub string) string {
	h.t.Helper()
	return h.tokenSpec(signing.TokenSpec{Subject: sub, Email: sub + "@example.com"})
}

// tokenEmail mints a token with another email and email_verified claim
// (nil: absent).
func (h *harness) tokenEmail(sub, email string, verified *bool) string {
	h.t.Helper()
	return h.tokenSpec(signing.TokenSpec{Subject: sub, Email: email, EmailVerified: verified})
}

func (h *harness) tokenSpec(spec signing.TokenSpec) string {
	h.t.Helper()
	tok, err := signing.Sign(h.key, spec)
	must(h.t, err)
	return tok
}

// known makes users known: each calls GET /v1/me once, which records them.
func (h *harness) known(subs ...string) {
	h.t.Helper()
	for _, sub := range subs {
		h.do("GET", "/v1/me", h.token(sub), nil).want(http.StatusOK)
	}
}

// knownTo makes users known (as known does) and lets actor add them
// directly: a caller may only PUT a user they already share a live
// workspace with (README "Adding members"), so this puts actor and users in
// a workspace of their own, written to the store directly ("directory of
// <actor>", role member; created once per actor).
func (h *harness) knownTo(actor string, users ...string) {
	h.t.Helper()
	h.known(append([]string{actor}, users...)...)
	h.shareWith(actor, users...)
}

// shareWith is knownTo without the requests: for users already known
// (with the emails a test gave them, which h.token would overwrite).
func (h *harness) shareWith(actor string, users ...string) {
	h.t.Helper()
	now := time.Now().UTC()
	must(h.t, h.store.Update(context.Background(), func(tx store.Tx) error {
		slug := "directory-of-" + actor
		ws, err := tx.WorkspaceBySlug(slug)
		if errors.Is(err, store.ErrNotFound) {
			ws, err = model.CreateWorkspace(tx, model.NewWorkspace{Name: "Directory of " + actor, Slug: slug,
				Owner: actor, OwnerRoles: []string{"member"}, Actor: model.ActorCLI}, now)
		}
		if err != nil {
			return err
		}
		for _, u := range users {
			if err := tx.PutMember(store.Membership{WorkspaceID: ws.ID, UserID: u, Roles: []string{"member"},
				JoinedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	}))
}

// forgetDirectory empties actor's directory workspace (see knownTo), for
// tests that count the workspaces their users belong to.
func (h *harness) forgetDirectory(actor string) {
	h.t.Helper()
	must(h.t, h.store.Update(context.Background(), func(tx store.Tx) error {
		ws, err := tx.WorkspaceBySlug("directory-of-" + actor)
		if err != nil {
			return err
		}
		ms, _, err := tx.Members(ws.ID, "", 0)
		for _, m := range ms {
			if err := tx.DeleteMember(ws.ID, m.UserID); err != nil {
				return err
			}
		}
		return err
	}))
}

// resp is an answer of the API.
type resp struct {
	t      testing.TB
	req    string
	status int
	header http.Header
	raw    []byte
	// body is the decoded JSON object, nil if the body is not one.
	body map[string]any
}

// send makes a request. body nil sends none; []byte and string are sent
// as they are; anything else as JSON. Without a Content-Type in headers,
// a body is sent as application/json.
func (h *harness) send(method, path, token string, body any, headers map[string]string) (*resp, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		return nil, err
	}
	return readResp(h.t, method+" "+path, res)
}

func readResp(t testing.TB, what string, res *http.Response) (*resp, error) {
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	r := &resp{t: t, req: what, status: res.StatusCode, header: res.Header, raw: raw}
	var obj map[string]any
	if json.Unmarshal(raw, &obj) == nil {
		r.body = obj
	}
	return r, nil
}

// do is send that fails the test on a transport error.
func (h *harness) do(method, path, token string, body any) *resp {
	h.t.Helper()
	r, err := h.send(method, path, token, body, nil)
	must(h.t, err)
	return r
}

func (h *harness) doWith(method, path, token string, body any, headers map[string]string) *resp {
	h.t.Helper()
	r, err := h.send(method, path, token, body, headers)
	must(h.t, err)
	return r
}

// want fails unless the status is status; it returns r for chaining.
func (r *resp) want(status int) *resp {
	r.t.Helper()
	if r.status != status {
		r.t.Fatalf("%s: status %d, want %d; body: %s", r.req, r.status, status, r.raw)
	}
	return r
}

// problem checks an RFC 9457 answer: status, media type, and the body's
// status, type and code.
func (r *resp) problem(status int, code string) *resp {
	r.t.Helper()
	r.want(status)
	if mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type")); mt != "application/problem+json" {
		r.t.Fatalf("%s: Content-Type %q, want application/problem+json", r.req, r.header.Get("Content-Type"))
	}
	if r.body == nil {
		r.t.Fatalf("%s: body is not a JSON object: %s", r.req, r.raw)
	}
	if got := r.body["code"]; got != code {
		r.t.Fatalf("%s: code %v, want %s; body: %s", r.req, got, code, r.raw)
	}
	if got := r.body["status"]; got != float64(status) {
		r.t.Fatalf("%s: body status %v, want %d", r.req, got, status)
	}
	if got := r.body["type"]; got != "urn:gatehouse:problem:"+code {
		r.t.Fatalf("%s: type %v", r.req, got)
	}
	if r.body["title"] != http.StatusText(status) {
		r.t.Fatalf("%s: title %v", r.req, r.body["title"])
	}
	return r
}

// invalid checks a 400 invalid_request naming field ("" when the body as a
// whole is at fault: then no field member at all).
func (r *resp) invalid(field string) *resp {
	r.t.Helper()
	r.problem(http.StatusBadRequest, "invalid_request")
	got, present := r.body["field"]
	if field == "" {
		if present {
			r.t.Fatalf("%s: field %v, want none; body: %s", r.req, got, r.raw)
		}
		return r
	}
	if got != field {
		r.t.Fatalf("%s: field %v, want %q; body: %s", r.req, got, field, r.raw)
	}
	return r
}

// forbidden checks a 403 forbidden naming the missing permission.
func (r *resp) forbidden(permission string) *resp {
	r.t.Helper()
	r.problem(http.StatusForbidden, "forbidden")
	if got := r.body["required_permission"]; got != permission {
		r.t.Fatalf("%s: required_permission %v, want %s", r.req, got, permission)
	}
	return r
}

// str returns a string member of the body.
func (r *resp) str(key string) string {
	r.t.Helper()
	s, ok := r.body[key].(string)
	if !ok {
		r.t.Fatalf("%s: member %q is %v, not a string; body: %s", r.req, key, r.body[key], r.raw)
	}
	return s
}

// decode decodes the body into v.
func (r *resp) decode(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.raw, v); err != nil {
		r.t.Fatalf("%s: decoding %s: %v", r.req, r.raw, err)
	}
}

// Shapes of answers.

type wsView struct {
	ID          string     `json:"id"`
	Slug        string     `json:"slug"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DeletedAt   *time.Time `json:"deleted_at"`
	Roles       []string   `json:"roles"`
}

type memberView struct {
	UserID       string              `json:"user_id"`
	Email        string              `json:"email"`
	Roles        []string            `json:"roles"`
	Grants       []string            `json:"grants"`
	Denies       []string            `json:"denies"`
	Restrictions map[string][]string `json:"restrictions"`
	Permissions  []string            `json:"permissions"`
	JoinedAt     time.Time           `json:"joined_at"`
	UpdatedAt    time.Time           `json:"updated_at"`
}

type roleView struct {
	Slug        string     `json:"slug"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Permissions []string   `json:"permissions"`
	System      bool       `json:"system"`
	CreatedAt   *time.Time `json:"created_at"`
}

type inviteView struct {
	ID            string     `json:"id"`
	WorkspaceID   string     `json:"workspace_id"`
	WorkspaceSlug string     `json:"workspace_slug"`
	WorkspaceName string     `json:"workspace_name"`
	Email         string     `json:"email"`
	Roles         []string   `json:"roles"`
	Status        string     `json:"status"`
	CreatedBy     string     `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	AcceptedBy    string     `json:"accepted_by"`
	AcceptedAt    *time.Time `json:"accepted_at"`
	RevokedAt     *time.Time `json:"revoked_at"`
	Token         string     `json:"token"`
}

type auditView struct {
	ID          string          `json:"id"`
	WorkspaceID string          `json:"workspace_id"`
	Actor       string          `json:"actor"`
	Action      string          `json:"action"`
	Target      string          `json:"target"`
	Time        time.Time       `json:"time"`
	Summary     json.RawMessage `json:"summary"`
}

type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// Fixtures made through the API.

// newWorkspace creates a workspace as owner (who becomes its owner).
func (h *harness) newWorkspace(owner, name string) wsView {
	h.t.Helper()
	var ws wsView
	h.do("POST", "/v1/workspaces", h.token(owner), map[string]any{"name": name}).want(http.StatusCreated).decode(&ws)
	return ws
}

// putMember sets user's membership as actor and expects 200 or 201.
func (h *harness) putMember(actor string, ws wsView, user string, body map[string]any) memberView {
	h.t.Helper()
	r := h.do("PUT", "/v1/workspaces/"+ws.Slug+"/members/"+user, h.token(actor), body)
	if r.status != http.StatusOK && r.status != http.StatusCreated {
		h.t.Fatalf("PUT member %s: status %d: %s", user, r.status, r.raw)
	}
	var m memberView
	r.decode(&m)
	return m
}

// createRole creates a custom role as actor.
func (h *harness) createRole(actor string, ws wsView, slug string, perms ...string) {
	h.t.Helper()
	if perms == nil {
		perms = []string{}
	}
	h.do("POST", "/v1/workspaces/"+ws.Slug+"/roles", h.token(actor),
		map[string]any{"slug": slug, "name": "Role " + slug, "permissions": perms}).want(http.StatusCreated)
}

// Direct store reads: what the API wrote, not what it says it wrote.

func (h *harness) view(fn func(tx store.Tx) error) {
	h.t.Helper()
	must(h.t, h.store.View(context.Background(), fn))
}

// wsState is everything the store holds about one workspace.
type wsState struct {
	Workspace store.Workspace
	Members   []store.Membership
	Roles     []store.Role
	Invites   []store.Invite
	APIKeys   []store.APIKey
	Audit     []store.AuditEvent
}

func (h *harness) state(workspaceID string) wsState {
	h.t.Helper()
	var s wsState
	h.view(func(tx store.Tx) error {
		var err error
		if s.Workspace, err = tx.Workspace(workspaceID); err != nil {
			return err
		}
		if s.Members, _, err = tx.Members(workspaceID, "", 0); err != nil {
			return err
		}
		if s.Roles, err = tx.Roles(workspaceID); err != nil {
			return err
		}
		if s.Invites, _, err = tx.Invites(workspaceID, "", 0); err != nil {
			return err
		}
		if s.APIKeys, _, err = tx.APIKeys(workspaceID, "", 0); err != nil {
			return err
		}
		// last_used_at is bookkeeping written in the background by the
		// key's authentication (TouchAPIKey), not a change a refusal could
		// make: a batch landing between two snapshots is not a trace.
		for i := range s.APIKeys {
			s.APIKeys[i].LastUsedAt = nil
		}
		s.Audit, _, err = tx.Audit(workspaceID, "", 0)
		return err
	})
	return s
}

// refused runs a request that must be refused and checks that the store
// holds exactly what it held before (no change, no audit event).
func (h *harness) refused(workspaceID string, request func() *resp) *resp {
	h.t.Helper()
	before := h.state(workspaceID)
	r := request()
	if r.status < 400 {
		h.t.Fatalf("%s: status %d, want a refusal; body: %s", r.req, r.status, r.raw)
	}
	after := h.state(workspaceID)
	if !reflect.DeepEqual(before, after) {
		h.t.Fatalf("%s was refused (%d) but the store changed:\nbefore: %+v\nafter:  %+v", r.req, r.status, before, after)
	}
	return r
}

// member reads a membership from the store; ok false when absent.
func (h *harness) member(workspaceID, user string) (m store.Membership, ok bool) {
	h.t.Helper()
	h.view(func(tx store.Tx) error {
		var err error
		m, err = tx.Member(workspaceID, user)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		ok = err == nil
		return err
	})
	return m, ok
}

// auditActions lists the workspace's audit actions, newest first.
func (h *harness) auditActions(workspaceID string) []string {
	h.t.Helper()
	var out []string
	for _, ev := range h.state(workspaceID).Audit {
		out = append(out, ev.Action)
	}
	return out
}

// access is what the gateway itself would decide for user (a user id or
// an API key's "apikey:<id>") in ref now.
func (h *harness) access(user, ref string) *gateway.Access {
	h.t.Helper()
	p := authn.Principal{Subject: user}
	if id, isKey := apikey.IDFromSubject(user); isKey {
		p.KeyID = id
	}
	a, err := h.engine.Access(context.Background(), p, ref)
	must(h.t, err)
	return a
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func wantStrings(t testing.TB, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func describe(v any) string { return fmt.Sprintf("%+v", v) }
