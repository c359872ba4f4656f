package caddymodule

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

const riskyCaddyfile = `{
	admin off
	auto_https off
	persist_config off
	log default {
		output file {{dir}}/caddy.log
		format json
		level INFO
	}
	gatehouse {
		store {{dir}}/gatehouse.db
		jwt {
			jwks_file {{dir}}/jwks.json
		}
		permission message.read
		PERMISSIONS
	}
}
http://127.0.0.1:{{port}} {
	bind 127.0.0.1
	respond "ok"
}
`

// warnings returns the WARN lines of caddy.log, decoded.
func (s *server) warnings() []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(readFile(s.t, filepath.Join(s.dir, "caddy.log")), "\n") {
		var entry map[string]any
		if json.Unmarshal([]byte(line), &entry) == nil && entry["level"] == "warn" {
			out = append(out, entry)
		}
	}
	return out
}

// Implications that form a cycle are loaded (the closure is well defined)
// but reported, with the permissions of the cycle.
func TestImplicationCycleIsWarned(t *testing.T) {
	s := newServer(t)
	s.load(strings.Replace(riskyCaddyfile, "PERMISSIONS",
		"permission contact.read implies contact.manage\n\t\tpermission contact.manage implies contact.read", 1))
	for _, w := range s.warnings() {
		if strings.Contains(w["msg"].(string), "cycle") {
			if got, _ := json.Marshal(w["permissions"]); string(got) != `["contact.manage","contact.read"]` {
				t.Errorf("cycle warning names %s", got)
			}
			return
		}
	}
	t.Fatalf("no cycle warning in %v", s.warnings())
}

// A reload that drops permissions still used by stored custom roles,
// member grants and API keys logs which records use them.
func TestDroppedPermissionStillStoredIsWarned(t *testing.T) {
	s := newServer(t)
	now := time.Now().UTC()
	seed(t, s.storePath(), func(tx store.Tx) error {
		if err := tx.PutWorkspace(store.Workspace{ID: acmeID, Slug: "acme", Name: "Acme", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		if err := tx.PutRole(store.Role{WorkspaceID: acmeID, Slug: "auditor", Name: "Auditor", Permissions: []string{"campaign.read", "message.read"}, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		if err := tx.PutMember(store.Membership{WorkspaceID: acmeID, UserID: "bob", Roles: []string{"auditor"}, Grants: []string{"campaign.run"}}); err != nil {
			return err
		}
		return tx.PutAPIKey(store.APIKey{ID: "k1", WorkspaceID: acmeID, Name: "sync", Permissions: []string{"campaign.*"}, SecretHash: strings.Repeat("0", 64), CreatedBy: "alice", CreatedAt: now})
	})
	s.load(strings.Replace(riskyCaddyfile, "PERMISSIONS", "permission campaign.read\n\t\tpermission campaign.run implies campaign.read", 1))
	if w := staleWarning(s); w != nil {
		t.Fatalf("a warning while every stored permission is declared: %v", w)
	}
	s.load(strings.Replace(riskyCaddyfile, "PERMISSIONS", "", 1)) // campaign.* dropped
	var w map[string]any
	for deadline := time.Now().Add(5 * time.Second); w == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		w = staleWarning(s)
	}
	if w == nil {
		t.Fatal("no warning after a reload dropped permissions still stored")
	}
	uses, _ := json.Marshal(w["uses"])
	missing, _ := json.Marshal(w["missing_permissions"])
	for _, want := range []string{
		acmeID + " role auditor: campaign.read",
		acmeID + " member bob: campaign.run",
		acmeID + " api_key k1: campaign.*",
	} {
		if !strings.Contains(string(uses), want) {
			t.Errorf("uses %s lack %q", uses, want)
		}
	}
	if string(missing) != `["campaign.*","campaign.read","campaign.run"]` {
		t.Errorf("missing_permissions %s", missing)
	}
}

func staleWarning(s *server) map[string]any {
	for _, w := range s.warnings() {
		if strings.Contains(w["msg"].(string), "catalog does not have") {
			return w
		}
	}
	return nil
}
