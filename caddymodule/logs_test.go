package caddymodule

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/signing"
)

// A denied request's log line says why its token was refused, and never
// contains the token.
func TestDenialLogSaysWhyTheTokenWasRefused(t *testing.T) {
	s := startGateway(t)
	other := t.TempDir()
	if err := signing.Generate(other, false); err != nil {
		t.Fatal(err)
	}
	otherKey, err := signing.LoadSigningKey(filepath.Join(other, signing.SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	expired, err := signing.Sign(s.key, signing.TokenSpec{Subject: "olga", TTL: -time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	unknownKey, err := signing.Sign(otherKey, signing.TokenSpec{Subject: "olga"})
	if err != nil {
		t.Fatal(err)
	}
	good := s.token("olga")
	badSig := good[:strings.LastIndexByte(good, '.')+1] + strings.Repeat("A", len(good)-strings.LastIndexByte(good, '.')-1)
	cases := map[string]string{
		"token expired":     expired,
		"unknown key id":    unknownKey,
		"signature invalid": badSig,
		"malformed token":   "not-a-jwt-at-all",
	}
	for reason, tok := range cases {
		if r := s.do("GET", "/w/acme/messages", tok); r.StatusCode != 401 {
			t.Fatalf("%s: %d %s", reason, r.StatusCode, r.body)
		}
	}

	logs := readFile(t, filepath.Join(s.dir, "caddy.log"))
	got := map[string]bool{}
	for _, line := range strings.Split(logs, "\n") {
		var entry struct {
			Msg        string `json:"msg"`
			TokenError string `json:"token_error"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "request denied" && entry.TokenError != "" {
			got[entry.TokenError] = true
		}
	}
	for reason, tok := range cases {
		if !got[reason] {
			t.Errorf("no denial line with token_error %q; have %v", reason, got)
		}
		// The signature part is the secret-bearing tail of a JWT; a
		// malformed token is checked whole.
		secret := tok[strings.LastIndexByte(tok, '.')+1:]
		for _, name := range []string{"caddy.log", "access.log"} {
			if strings.Contains(readFile(t, filepath.Join(s.dir, name)), secret) {
				t.Errorf("%s contains the %s token", name, reason)
			}
		}
	}
}

// The management API sets {http.auth.user.id}: the access log names the
// caller, and nobody for an invalid token.
func TestAPIAccessLogNamesTheCaller(t *testing.T) {
	s := startGateway(t)
	if r := s.do("GET", "/gatehouse/v1/workspaces/acme", s.token("alice")); r.StatusCode != 200 {
		t.Fatalf("get workspace: %d %s", r.StatusCode, r.body)
	}
	if r := s.do("GET", "/gatehouse/v1/workspaces/acme", "not-a-jwt"); r.StatusCode != 401 {
		t.Fatalf("invalid token: %d %s", r.StatusCode, r.body)
	}
	var users []string
	for _, line := range strings.Split(readFile(t, filepath.Join(s.dir, "access.log")), "\n") {
		var entry struct {
			Request struct {
				URI string `json:"uri"`
			} `json:"request"`
			UserID string `json:"user_id"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && strings.HasPrefix(entry.Request.URI, "/gatehouse/") {
			users = append(users, entry.UserID)
		}
	}
	if len(users) != 2 || users[0] != "alice" || users[1] != "" {
		t.Fatalf("API access log user ids %q, want [alice \"\"]", users)
	}
}
