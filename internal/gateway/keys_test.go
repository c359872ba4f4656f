package gateway_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/apikey"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// putKey stores a new API key of workspace ws and returns the key text.
func (f *fixture) putKey(ws store.Workspace, perms []string, edit func(*store.APIKey)) (key string, rec store.APIKey) {
	f.t.Helper()
	key, id, hash := apikey.Generate()
	rec = store.APIKey{ID: id, WorkspaceID: ws.ID, Name: "test key", Permissions: perms, SecretHash: hash,
		CreatedBy: "alice", CreatedAt: time.Now().UTC()}
	if edit != nil {
		edit(&rec)
	}
	f.update(func(tx store.Tx) error { return tx.PutAPIKey(rec) })
	return key, rec
}

func (f *fixture) storedKey(id string) store.APIKey {
	f.t.Helper()
	var k store.APIKey
	if err := f.store.View(t0(), func(tx store.Tx) error {
		var err error
		k, err = tx.APIKey(id)
		return err
	}); err != nil {
		f.t.Fatal(err)
	}
	return k
}

func TestAPIKeyAtTheGateway(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	key, rec := f.putKey(f.acme, []string{"message.send", "campaign.*"}, nil)

	cases := []struct {
		method, path string
		want
	}{
		// its own patterns, with implications (message.send → message.read)
		{"GET", "/w/acme/messages", want{}},
		{"GET", "/w/" + f.acme.ID + "/messages", want{}},
		{"POST", "/w/acme/messages", want{}},
		{"POST", "/w/acme/campaigns/c1/run", want{}},
		{"GET", "/w/acme", want{}},
		{"GET", "/me", want{}},
		{"GET", "/healthz", want{}},
		// what its patterns do not cover
		{"GET", "/w/acme/contacts/export", want{403, "forbidden", "contact.manage"}},
		// another workspace, even one whose owner created the key: a stranger
		{"GET", "/w/globex/messages", want{404, "workspace_not_found", ""}},
		{"GET", "/w/gone/messages", want{404, "workspace_not_found", ""}},
		// a key is never a global admin
		{"GET", "/billing-admin/x", want{403, "forbidden", ""}},
	}
	for _, c := range cases {
		check(t, c.method+" "+c.path, decide(p, request(c.method, c.path, key)), c.want)
	}

	// The identity forwarded upstream: apikey:<id>, no email, no roles.
	d := decide(p, request("GET", "/w/acme/messages", key))
	h := http.Header{}
	d.SetIdentityHeaders(h)
	if h.Get(gateway.HeaderUser) != "apikey:"+rec.ID || h.Get(gateway.HeaderEmail) != "" ||
		h.Get(gateway.HeaderWorkspace) != f.acme.ID || h.Get(gateway.HeaderPermission) != "message.read" {
		t.Fatalf("headers %v", h)
	}
	if roles, ok := h[gateway.HeaderRoles]; !ok || len(roles) != 1 || roles[0] != "" {
		t.Fatalf("X-Gatehouse-Roles = %q, want present and empty", roles)
	}
}

func TestAPIKeyRefusals(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	key, rec := f.putKey(f.acme, []string{"message.read"}, nil)
	goneKey, _ := f.putKey(f.gone, []string{"message.read"}, nil)
	unknown, _, _ := apikey.Generate()
	wrongSecret := "ghk_" + rec.ID + "_" + unknown[len(unknown)-apikey.SecretLen:]

	cases := map[string]struct {
		token, reason string
	}{
		"unknown id":             {unknown, "unknown API key or wrong secret"},
		"known id, wrong secret": {wrongSecret, "unknown API key or wrong secret"},
		"truncated":              {key[:len(key)-1], "malformed API key: expected ghk_<id>_<secret>"},
		"upper-case":             {"GHK_" + key[4:], ""}, // not our prefix: a (bad) JWT
		"deleted workspace":      {goneKey, "the API key's workspace has been deleted"},
	}
	for name, c := range cases {
		d := decide(p, request("GET", "/w/acme/messages", c.token))
		check(t, name, d, want{401, "invalid_token", ""})
		if c.reason != "" && d.Problem.Detail != "invalid token: "+c.reason {
			t.Errorf("%s: detail %q, want %q", name, d.Problem.Detail, c.reason)
		}
	}
	// The right key still works after all that (no lockout, no poisoning).
	check(t, "good key", decide(p, request("GET", "/w/acme/messages", key)), want{})
}

func TestAPIKeyRevocationAndExpiryTakeEffectAtOnce(t *testing.T) {
	f := newFixture(t)
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	f.engine = f.newEngineWith(func(o *gateway.Options) {
		o.Now = func() time.Time { return time.Unix(0, now.Load()) }
	})
	p := f.policy(gateway.DefaultWorkspaceSource)
	key, rec := f.putKey(f.acme, []string{"message.read"}, nil)
	expiresAt := time.Unix(0, now.Load()).Add(time.Hour).UTC()
	expiring, _ := f.putKey(f.acme, []string{"message.read"}, func(k *store.APIKey) { k.ExpiresAt = &expiresAt })

	// Warm the caches, then revoke: the very next request fails.
	check(t, "before revoke", decide(p, request("GET", "/w/acme/messages", key)), want{})
	revoked := time.Now().UTC()
	rec.RevokedAt = &revoked
	f.update(func(tx store.Tx) error { return tx.PutAPIKey(rec) })
	d := decide(p, request("GET", "/w/acme/messages", key))
	check(t, "after revoke", d, want{401, "invalid_token", ""})
	if d.Problem.Detail != "invalid token: the API key has been revoked" {
		t.Errorf("detail %q", d.Problem.Detail)
	}

	check(t, "before expiry", decide(p, request("GET", "/w/acme/messages", expiring)), want{})
	now.Add(int64(time.Hour))
	d = decide(p, request("GET", "/w/acme/messages", expiring))
	check(t, "at expiry", d, want{401, "invalid_token", ""})
	if d.Problem.Detail != "invalid token: the API key has expired" {
		t.Errorf("detail %q", d.Problem.Detail)
	}
}

func TestAPIKeyFollowsWorkspaceDeleteAndRestore(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	key, _ := f.putKey(f.acme, []string{"message.read"}, nil)
	revokedKey, revoked := f.putKey(f.acme, []string{"message.read"}, nil)
	at := time.Now().UTC()
	revoked.RevokedAt = &at
	f.update(func(tx store.Tx) error { return tx.PutAPIKey(revoked) })

	check(t, "live", decide(p, request("GET", "/me", key)), want{})
	ws := f.acme
	ws.DeletedAt = &at
	f.update(func(tx store.Tx) error { return tx.PutWorkspace(ws) })
	// Disabled everywhere, even on routes that need no workspace.
	check(t, "deleted, /me", decide(p, request("GET", "/me", key)), want{401, "invalid_token", ""})
	check(t, "deleted, messages", decide(p, request("GET", "/w/acme/messages", key)), want{401, "invalid_token", ""})

	ws.DeletedAt = nil
	f.update(func(tx store.Tx) error { return tx.PutWorkspace(ws) })
	check(t, "restored", decide(p, request("GET", "/w/acme/messages", key)), want{})
	check(t, "restored, revoked key", decide(p, request("GET", "/w/acme/messages", revokedKey)), want{401, "invalid_token", ""})
}

func TestAPIKeyUseIsRecordedCoalesced(t *testing.T) {
	f := newFixture(t)
	var now atomic.Int64
	start := time.Now().Truncate(time.Second)
	now.Store(start.UnixNano())
	engine := f.newEngineWith(func(o *gateway.Options) {
		o.Now = func() time.Time { return time.Unix(0, now.Load()) }
	})
	f.engine = engine
	p := f.policy(gateway.DefaultWorkspaceSource)
	key, rec := f.putKey(f.acme, []string{"message.read"}, nil)

	for range 50 {
		check(t, "use", decide(p, request("GET", "/w/acme/messages", key)), want{})
		now.Add(int64(time.Second)) // 50 requests within a minute
	}
	engine.Close() // flushes what is queued
	got := f.storedKey(rec.ID).LastUsedAt
	if got == nil || !got.Equal(start) {
		t.Fatalf("last_used_at %v, want the first use %v (one write for the minute)", got, start)
	}

	// A minute later, a new engine (as after a reload) records again.
	engine2 := f.newEngineWith(func(o *gateway.Options) {
		o.Now = func() time.Time { return time.Unix(0, now.Load()) }
	})
	f.engine = engine2
	p = f.policy(gateway.DefaultWorkspaceSource)
	now.Store(start.Add(30 * time.Second).UnixNano())
	check(t, "use within the minute", decide(p, request("GET", "/w/acme/messages", key)), want{})
	now.Store(start.Add(2 * time.Minute).UnixNano())
	check(t, "use after the minute", decide(p, request("GET", "/w/acme/messages", key)), want{})
	engine2.Close()
	got = f.storedKey(rec.ID).LastUsedAt
	if got == nil || !got.Equal(start.Add(2*time.Minute)) {
		t.Fatalf("last_used_at %v, want %v", got, start.Add(2*time.Minute))
	}
}

// A JWT cannot pose as a key: its subject may not use the key namespace.
func TestJWTCannotImpersonateAnAPIKey(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	_, rec := f.putKey(f.acme, []string{"message.read"}, nil)
	check(t, "jwt with sub apikey:<id>", decide(p, request("GET", "/w/acme/messages", f.token(apikey.Subject(rec.ID)))),
		want{401, "invalid_token", ""})
}

// Listing a key in global_admins does not make it one.
func TestAPIKeyIsNeverAGlobalAdmin(t *testing.T) {
	f := newFixture(t)
	key, rec := f.putKey(f.acme, []string{"*"}, nil)
	f.engine = f.newEngineWith(func(o *gateway.Options) {
		cfg := testConfig()
		cfg.GlobalAdmins = []string{"root", apikey.Subject(rec.ID)}
		o.Model = newModel(t, cfg)
	})
	p := f.policy(gateway.DefaultWorkspaceSource)
	check(t, "listed key", decide(p, request("GET", "/billing-admin/x", key)), want{403, "forbidden", ""})
	check(t, "root", decide(p, request("GET", "/billing-admin/x", f.token("root"))), want{})
}

// A key minted by a restricted member carries the restriction (issue 10
// item 4): it is refused on another instance, like its creator, and the
// restriction reaches the upstream.
func TestAPIKeyCarriesItsRestrictions(t *testing.T) {
	f := newFixture(t)
	p := f.policy(gateway.DefaultWorkspaceSource)
	key, _ := f.putKey(f.acme, []string{"message.read"}, func(k *store.APIKey) {
		k.CreatedBy = "olga"
		k.Restrictions = map[string][]string{"instance": {"i1"}}
	})
	check(t, "own instance", decide(p, request("GET", "/w/acme/instances/i1/chats", key)), want{})
	check(t, "another instance", decide(p, request("GET", "/w/acme/instances/i2/chats", key)), want{403, "restricted", "message.read"})

	d := decide(p, request("GET", "/w/acme/instances/i1/chats", key))
	h := http.Header{}
	d.SetIdentityHeaders(h)
	if got := h.Get("X-Gatehouse-Restrict-Instance"); got != "i1" {
		t.Fatalf("X-Gatehouse-Restrict-Instance = %q, want i1", got)
	}
}
