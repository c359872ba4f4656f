package caddymodule

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// doJSON sends body as JSON.
func (s *server) doJSON(method, path, token string, body any) *response {
	s.t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		s.t.Fatal(err)
	}
	req, err := http.NewRequest(method, s.url(path), bytes.NewReader(raw))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{Response: resp, body: b}
}

func (s *server) mustStatus(r *response, want int, what string) {
	s.t.Helper()
	if r.StatusCode != want {
		s.t.Fatalf("%s: %d, want %d: %s", what, r.StatusCode, want, r.body)
	}
}

// Every route the OpenAPI document lists is served through Caddy, at the
// mount point: routing answers it (an endpoint's own 4xx is fine, the
// router's 404 not_found or 405 is not).
func TestEveryDocumentedRouteIsServed(t *testing.T) {
	s := startGateway(t)
	r := s.do("GET", "/gatehouse/v1/openapi.json", "")
	s.mustStatus(r, 200, "openapi.json")
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	alice := s.token("alice")
	// Parameters name nothing that exists, so no request changes anything.
	fill := strings.NewReplacer("{ws}", "no-such-ws", "{user}", "nobody", "{role}", "norole", "{id}", "inv_none")
	n := 0
	for path, ops := range doc.Paths {
		for method := range ops {
			n++
			r := s.doJSON(strings.ToUpper(method), "/gatehouse"+fill.Replace(path), alice, map[string]any{})
			if r.StatusCode == 405 || r.StatusCode == 404 && strings.Contains(string(r.body), `"code":"not_found"`) {
				t.Errorf("%s %s is documented but not routed: %d %s", method, path, r.StatusCode, r.body)
			}
		}
	}
	if n < 25 {
		t.Fatalf("only %d operations documented", n)
	}
}

// A change answered 2xx by the API is seen by the very next gateway
// request (README "Management API": the gateway's very next request sees it), also under concurrent load.
func TestAPIChangesReachTheGatewayAtOnce(t *testing.T) {
	s := startGateway(t)
	alice, olga := s.token("alice"), s.token("olga")
	s.mustStatus(s.do("GET", "/gatehouse/v1/me", olga), 200, "olga known")

	var revoked atomic.Bool
	var stale, allowed atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				after := revoked.Load()
				r := s.do("POST", "/w/acme/messages", olga)
				if r.StatusCode == 200 {
					allowed.Add(1)
					if after {
						stale.Add(1)
					}
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	r := s.doJSON("PUT", "/gatehouse/v1/workspaces/acme/members/olga", alice,
		map[string]any{"roles": []string{"operator"}, "denies": []string{"message.send"}})
	revoked.Store(true)
	time.Sleep(150 * time.Millisecond)
	close(stop)
	wg.Wait()
	s.mustStatus(r, 200, "revoke message.send")
	if allowed.Load() == 0 {
		t.Fatal("no request was allowed before the revoke: the test proves nothing")
	}
	if n := stale.Load(); n > 0 {
		t.Fatalf("%d gateway requests started after the revoke's 2xx were still allowed", n)
	}

	// Removal: the next request no longer sees a member.
	s.mustStatus(s.do("GET", "/w/acme/messages", olga), 200, "olga reads")
	s.mustStatus(s.doJSON("DELETE", "/gatehouse/v1/workspaces/acme/members/olga", alice, nil), 204, "remove olga")
	s.mustStatus(s.do("GET", "/w/acme/messages", olga), 404, "olga after removal")

	// Soft delete: gone at once, by slug and by id, and back after restore.
	s.mustStatus(s.do("GET", "/w/acme/messages", alice), 200, "alice reads")
	s.mustStatus(s.do("GET", "/w/"+acmeID+"/messages", alice), 200, "alice reads by id")
	s.mustStatus(s.doJSON("DELETE", "/gatehouse/v1/workspaces/acme", alice, nil), 204, "delete acme")
	s.mustStatus(s.do("GET", "/w/acme/messages", alice), 404, "after delete, by slug")
	s.mustStatus(s.do("GET", "/w/"+acmeID+"/messages", alice), 404, "after delete, by id")
	s.mustStatus(s.doJSON("POST", "/gatehouse/v1/workspaces/acme/restore", s.token("root"), nil), 200, "restore")
	s.mustStatus(s.do("GET", "/w/acme/messages", alice), 200, "after restore")

	// A slug change: the old slug is gone, the new one works, at once.
	s.mustStatus(s.doJSON("PATCH", "/gatehouse/v1/workspaces/acme", alice, map[string]any{"slug": "acme-corp"}), 200, "rename")
	s.mustStatus(s.do("GET", "/w/acme/messages", alice), 404, "old slug")
	s.mustStatus(s.do("GET", "/w/acme-corp/messages", alice), 200, "new slug")
}
