package caddymodule

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
)

// TestDecisionIDInLogAndUpstream: a denial answers with Gatehouse-Decision-Id
// and a reason, its log line names the same id; an allowed request reaches
// the upstream with a fresh X-Gatehouse-Decision-Id, never the client's.
func TestDecisionIDInLogAndUpstream(t *testing.T) {
	s := startGateway(t)
	r := s.do("GET", "/w/acme/messages", s.token("bob"))
	if r.StatusCode != 404 {
		t.Fatalf("status %d: %s", r.StatusCode, r.body)
	}
	id := r.Header.Get(gateway.HeaderDecisionID)
	if len(id) != gateway.DecisionIDLen {
		t.Fatalf("denial decision id %q", id)
	}
	if !strings.Contains(string(r.body), `"reason":"not_member"`) {
		t.Errorf("body without reason: %s", r.body)
	}
	found := false
	for _, line := range strings.Split(readFile(t, filepath.Join(s.dir, "caddy.log")), "\n") {
		var entry struct {
			Msg        string `json:"msg"`
			DecisionID string `json:"decision_id"`
			Reason     string `json:"reason"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "request denied" && entry.DecisionID == id {
			found = entry.Reason == "not_member"
		}
	}
	if !found {
		t.Errorf("no denial log line with decision_id %s and reason not_member", id)
	}

	r = s.do("GET", "/w/acme/instances/i1/chats", s.token("olga"), "X-Gatehouse-Decision-Id", "spoofed-id-of-24-bytes!!")
	if r.StatusCode != 200 {
		t.Fatalf("status %d: %s", r.StatusCode, r.body)
	}
	got, _ := s.upstream.received()
	if v := got.Values(gateway.HeaderUpstreamDecisionID); len(v) != 1 || len(v[0]) != gateway.DecisionIDLen || v[0] == id || strings.Contains(v[0], "spoofed") {
		t.Errorf("upstream decision id %q", v)
	}
}
