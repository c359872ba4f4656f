package console_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// TestConsoleEveryPageSendsCSP requests every screen (signed in, signed
// out, a refusal, an asset, an unknown path) and requires the CSP of spec
// §12 on each answer, and no reference to another origin in any page the
// console rendered.
func TestConsoleEveryPageSendsCSP(t *testing.T) {
	h := newHarness(t)
	h.seedAcme(store.Membership{UserID: "olga", Roles: []string{"operator"}})
	alice, olga := h.login("alice"), h.login("olga")
	external := regexp.MustCompile(`(?i)\b(src|href|action)\s*=\s*"(https?:)?//`)
	for _, tc := range []struct {
		path string
		ck   *http.Cookie
	}{
		{"/login", nil}, {"/", nil}, {"/w/acme/audit", nil},
		{"/", alice}, {"/w/acme/settings", alice}, {"/w/acme/members", alice}, {"/w/acme/api-keys", alice},
		{"/w/acme/audit", alice}, {"/w/acme/audit?action=member.put&actor=alice", alice},
		{"/w/acme/members/olga/effective", alice}, {"/w/acme/effective?user=olga", alice},
		{"/w/acme/simulator", alice}, {"/w/acme/simulator?method=GET&path=/w/acme/messages&user=olga", alice},
		{"/admin/workspaces", alice}, {"/w/acme/audit", olga}, {"/w/nope/audit", alice},
		{"/assets/console.css", nil}, {"/no/such/page", alice},
	} {
		w := h.get(tc.path, tc.ck)
		if csp := w.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'") {
			t.Errorf("GET %s (%d): CSP %q", tc.path, w.Code, csp)
		}
		if m := external.FindString(w.Body.String()); m != "" {
			t.Errorf("GET %s: the page refers to another origin: %q", tc.path, m)
		}
	}
}

// TestConsoleSessionTokenNeverPinsOldData: a write made through the console
// leaves its Gatehouse-Revision in the session, and every later API call
// of that session carries it as Gatehouse-Consistency (the next screen is
// at least that fresh); a change made elsewhere afterwards (another admin,
// straight to the API) still shows on the next load, because the token
// asks for "at least", never "exactly". A refused read shows the API's
// detail.
func TestConsoleSessionTokenNeverPinsOldData(t *testing.T) {
	h := newHarness(t)
	h.seedAcme(store.Membership{UserID: "carol", Roles: []string{"owner"}}, store.Membership{UserID: "olga", Roles: []string{"operator"}})
	ck := h.login("alice")

	// Before any write the session sends no token.
	if w := h.get("/w/acme/audit", ck); w.Code != 200 {
		t.Fatalf("audit: %d %s", w.Code, w.Body)
	}
	for _, tok := range h.calls() {
		if tok != "" {
			t.Fatalf("a session that wrote nothing sent consistency %q", tok)
		}
	}

	// A write through the console: its revision token is kept.
	page := h.get("/w/acme/settings", ck).Body.String()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatal("no CSRF token on the settings page")
	}
	w := h.post("/w/acme/settings", ck, "csrf", csrf[1], "name", "Acme Console", "slug", "acme", "description", "")
	if w.Code != http.StatusSeeOther {
		t.Fatalf("save settings: %d %s", w.Code, w.Body)
	}
	// The write's token, as the API issues it for the same change.
	own := h.apiCall("PATCH", "/v1/workspaces/acme", "alice", `{"name":"Acme Console"}`).Header().Get(gateway.HeaderRevisionToken)
	if own == "" {
		t.Fatal("the API issued no revision token for a write")
	}

	before := len(h.calls())
	if w := h.get("/w/acme/audit", ck); w.Code != 200 || !strings.Contains(w.Body.String(), "workspace.update") {
		t.Fatalf("audit after the write: %d", w.Code)
	}
	after := h.calls()[before:]
	if len(after) == 0 {
		t.Fatal("the audit screen made no API call")
	}
	sent := after[0]
	for _, tok := range after {
		if tok == "" || tok != sent {
			t.Fatalf("after a write the screen's calls carried %q, want the write's token on each", after)
		}
	}

	// Another admin changes things straight through the API.
	if w := h.apiCall("PUT", "/v1/workspaces/acme/members/olga", "carol", `{"roles":["owner"]}`); w.Code != 200 {
		t.Fatalf("carol's PUT: %d %s", w.Code, w.Body)
	}
	body := h.get("/w/acme/audit?actor=carol", ck).Body.String()
	if !strings.Contains(body, `data-actor="carol"`) || !strings.Contains(body, `data-action="member.put"`) {
		t.Fatalf("the audit log does not show carol's change made after the session's write:\n%s", body)
	}
	if eff := h.get("/w/acme/members/olga/effective", ck).Body.String(); !strings.Contains(eff, `data-permission="workspace.admin"`) {
		t.Fatal("olga's effective permissions are stale after carol made her an owner")
	}

	// A refused read: olga's role changed back by carol; she sees the API's 403 detail.
	if w := h.apiCall("PUT", "/v1/workspaces/acme/members/olga", "carol", `{"roles":["operator"]}`); w.Code != 200 {
		t.Fatalf("carol's PUT: %d %s", w.Code, w.Body)
	}
	raw := h.apiCall("GET", "/v1/workspaces/acme/audit", "olga", "")
	var pr struct{ Detail string }
	if raw.Code != 403 || json.Unmarshal(raw.Body.Bytes(), &pr) != nil || pr.Detail == "" {
		t.Fatalf("API audit as operator: %d %s", raw.Code, raw.Body)
	}
	w = h.get("/w/acme/audit", h.login("olga"))
	if w.Code != 403 || !strings.Contains(w.Body.String(), `id="page-error">`+htmlEscape(pr.Detail)+`<`) {
		t.Fatalf("console audit as operator: %d, want the API's detail %q:\n%s", w.Code, pr.Detail, w.Body)
	}
}

// BenchmarkMembersPage10k renders the members screen of a 10,000-member
// workspace: the console and the real API handler on a real bbolt store,
// server time only (issue 16: ≤ 50 ms). first is the first page; last is
// the last page, reached by the API's cursor (paging costs the page, not
// the members before it).
func BenchmarkMembersPage10k(b *testing.B) {
	h := newHarness(b)
	h.seedAcme()
	now := time.Now().UTC()
	h.seed(func(tx store.Tx) error {
		ws, err := tx.WorkspaceBySlug("acme")
		if err != nil {
			return err
		}
		for i := range 10_000 {
			id := fmt.Sprintf("user%05d", i)
			if err := tx.PutUser(store.User{ID: id, Email: id + "@example.com", FirstSeen: now, LastSeen: now}); err != nil {
				return err
			}
			if err := tx.PutMember(store.Membership{WorkspaceID: ws.ID, UserID: id, Roles: []string{"operator"},
				Denies: []string{"contact.read"}, Restrictions: map[string][]string{"instance": {"i1", "i2"}},
				JoinedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	ck := h.login("alice")
	// The cursor of the last page (the members after the first 9,990).
	cursor := ""
	for seen := 0; seen < 9_990; {
		limit := min(500, 9_990-seen)
		path := fmt.Sprintf("/v1/workspaces/acme/members?limit=%d", limit)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var list struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor string            `json:"next_cursor"`
		}
		w := h.apiCall("GET", path, "alice", "")
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &list) != nil || list.NextCursor == "" {
			b.Fatalf("paging the API: %d %s", w.Code, w.Body)
		}
		seen, cursor = seen+len(list.Items), list.NextCursor
	}
	for _, bc := range []struct {
		name, path string
		rows       int
	}{
		{"first", "/w/acme/members", 25},
		{"last", "/w/acme/members?cursor=" + cursor, 11}, // 10,001 members with alice
	} {
		b.Run(bc.name, func(b *testing.B) {
			if w := h.get(bc.path, ck); w.Code != 200 || strings.Count(w.Body.String(), "data-user=") != bc.rows {
				b.Fatalf("members page: %d, %d rows, want %d", w.Code, strings.Count(w.Body.String(), "data-user="), bc.rows)
			}
			b.ReportAllocs()
			for b.Loop() {
				if w := h.get(bc.path, ck); w.Code != 200 {
					b.Fatalf("members page: %d", w.Code)
				}
			}
		})
	}
}
