package admin_test

import (
	"context"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// globalAudit is the store-wide audit stream (store.backup events).
func globalAudit(t *testing.T, s store.Store) []store.AuditEvent {
	t.Helper()
	var items []store.AuditEvent
	must(t, s.View(context.Background(), func(tx store.Tx) error {
		var err error
		items, _, err = tx.Audit(store.GlobalAuditWorkspace, "", 0)
		return err
	}))
	return items
}

func TestBackupRefusesAllButGlobalAdmins(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	key := h.createKey("alice", ws, "sync", "message.read")

	h.do("GET", "/v1/admin/backup", "", nil).problem(http.StatusUnauthorized, "unauthenticated")
	// A workspace owner is no global admin: the answer of every /v1/admin endpoint.
	h.do("GET", "/v1/admin/backup", h.token("alice"), nil).problem(http.StatusForbidden, "forbidden")
	h.do("GET", "/v1/admin/workspaces", h.token("alice"), nil).problem(http.StatusForbidden, "forbidden")
	h.do("GET", "/v1/admin/backup", key.Key, nil).problem(http.StatusForbidden, "api_key_not_allowed")
	h.do("POST", "/v1/admin/backup", h.token("root"), nil).problem(http.StatusMethodNotAllowed, "method_not_allowed")
	if got := globalAudit(t, h.store); len(got) != 0 {
		t.Errorf("refused backups were audited as taken: %+v", got)
	}
}

func TestBackupDownloadOpensAsTheStore(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.knownTo("alice", "bob", "carol")
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"operator"}, "restrictions": map[string][]string{"instance": {"i1"}}})
	h.createRole("alice", ws, "exporter", "contact.manage")
	key := h.createKey("alice", ws, "sync", "message.read")
	h.do("POST", "/v1/workspaces/acme/invites", h.token("alice"), map[string]any{"email": "dana@example.com", "roles": []string{"operator"}}).
		want(http.StatusCreated)

	// The download, read slowly: the headers first, then a write through
	// the API while the body is still unread, then the body.
	req, err := http.NewRequest("GET", h.srv.URL+"/v1/admin/backup", nil)
	must(t, err)
	req.Header.Set("Authorization", "Bearer "+h.token("root"))
	res, err := h.srv.Client().Do(req)
	must(t, err)
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("backup: status %d: %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	disp, params, err := mime.ParseMediaType(res.Header.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || !regexp.MustCompile(`^gatehouse-\d{8}T\d{6}Z\.db$`).MatchString(params["filename"]) {
		t.Errorf("Content-Disposition %q (%v)", res.Header.Get("Content-Disposition"), err)
	}
	size, err := strconv.ParseInt(res.Header.Get("Content-Length"), 10, 64)
	if err != nil || size <= 0 {
		t.Fatalf("Content-Length %q", res.Header.Get("Content-Length"))
	}

	// A write while the download is unread is neither blocked nor in it.
	written := make(chan *resp, 1)
	go func() {
		r, err := h.send("PUT", "/v1/workspaces/acme/members/carol", h.token("alice"), map[string]any{"roles": []string{"member"}}, nil)
		if err != nil {
			r = &resp{status: -1, raw: []byte(err.Error())}
		}
		written <- r
	}()
	select {
	case r := <-written:
		if r.status != http.StatusCreated {
			t.Errorf("write during the download: status %d: %s", r.status, r.raw)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a write was blocked by an unread backup download")
	}

	data, err := io.ReadAll(res.Body)
	must(t, err)
	if int64(len(data)) != size {
		t.Fatalf("body %d bytes, Content-Length %d", len(data), size)
	}
	file := filepath.Join(t.TempDir(), params["filename"])
	must(t, os.WriteFile(file, data, 0o600))

	copied, err := boltstore.Open(file, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("the downloaded backup does not open as a store: %v", err)
	}
	defer copied.Close()
	must(t, copied.View(context.Background(), func(tx store.Tx) error {
		w, err := tx.WorkspaceBySlug("acme")
		if err != nil || w.ID != ws.ID {
			t.Errorf("workspace acme in the backup: %+v %v", w, err)
		}
		m, err := tx.Member(ws.ID, "bob")
		if err != nil || len(m.Roles) != 1 || m.Roles[0] != "operator" || len(m.Restrictions["instance"]) != 1 {
			t.Errorf("bob's membership in the backup: %+v %v", m, err)
		}
		if _, err := tx.Member(ws.ID, "carol"); err == nil {
			t.Errorf("carol, added after the copy was taken, is in the backup")
		}
		if _, err := tx.Role(ws.ID, "exporter"); err != nil {
			t.Errorf("role exporter in the backup: %v", err)
		}
		if k, err := tx.APIKey(key.ID); err != nil || k.WorkspaceID != ws.ID {
			t.Errorf("API key in the backup: %+v %v", k, err)
		}
		if invs, err := tx.InvitesForEmail("dana@example.com"); err != nil || len(invs) != 1 {
			t.Errorf("invite in the backup: %+v %v", invs, err)
		}
		if evs, _, err := tx.Audit(ws.ID, "", 0); err != nil || len(evs) < 4 {
			t.Errorf("workspace audit in the backup: %d events, %v", len(evs), err)
		}
		// The backup records its own taking: the event is committed first.
		evs, _, err := tx.Audit(store.GlobalAuditWorkspace, "", 0)
		if err != nil || len(evs) != 1 || evs[0].Action != "store.backup" || evs[0].Actor != "root" {
			t.Errorf("store.backup event in the backup: %+v %v", evs, err)
		}
		return nil
	}))

	// The live store has the event too, with the file name, and no
	// workspace's audit list shows it.
	evs := globalAudit(t, h.store)
	if len(evs) != 1 || evs[0].Action != "store.backup" || evs[0].Actor != "root" || evs[0].Target != "store" ||
		string(evs[0].Summary) != `{"file":"`+params["filename"]+`"}` {
		t.Errorf("audit of the backup: %+v", evs)
	}
	for _, a := range h.auditActions(ws.ID) {
		if a == "store.backup" {
			t.Errorf("store.backup shows in workspace %s's audit", ws.Slug)
		}
	}
}
