package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// runStdin is run with stdin.
func runStdin(t *testing.T, stdin string, args ...string) (stdout, stderr string, ok bool) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	return wait(t, cmd, 30*time.Second)
}

// wait runs cmd and fails the test when it takes longer than limit.
func wait(t *testing.T, cmd *exec.Cmd, limit time.Duration) (stdout, stderr string, ok bool) {
	t.Helper()
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), errOut.String(), err == nil
	case <-time.After(limit):
		cmd.Process.Kill()
		t.Fatalf("gatehouse %s: hung", strings.Join(cmd.Args[1:], " "))
		return
	}
}

// logMsg returns the messages of the JSON log lines Caddy writes an error
// as (other lines as they are), so that tests can look for quoted text.
func logMsg(stderr string) string {
	var b strings.Builder
	for _, line := range strings.Split(stderr, "\n") {
		var entry struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg != "" {
			line = entry.Msg
		}
		b.WriteString(line)
		b.WriteString("\n")
	}
	return b.String()
}

// bootstrapped returns a store file made by `store bootstrap`, plus one
// record of every other kind.
func bootstrapped(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "src.db")
	if out, stderr, ok := run(t, "store", "bootstrap", "--store", path, "--workspace", "Acme Corp", "--owner", "alice", "--email", "alice@example.com"); !ok {
		t.Fatalf("bootstrap: %s %s", out, stderr)
	}
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC().Truncate(time.Millisecond)
	err = s.Update(context.Background(), func(tx store.Tx) error {
		w, err := tx.WorkspaceBySlug("acme-corp")
		if err != nil {
			return err
		}
		if err := tx.PutUser(store.User{ID: "bob", Email: "bob@example.com", FirstSeen: now, LastSeen: now}); err != nil {
			return err
		}
		m := store.Membership{WorkspaceID: w.ID, UserID: "bob", Roles: []string{"agent"}, Grants: []string{"message.send"},
			Denies: []string{"contact.delete"}, Restrictions: map[string][]string{"instance": {"i1"}}, JoinedAt: now, UpdatedAt: now}
		if err := tx.PutMember(m); err != nil {
			return err
		}
		if err := tx.PutRole(store.Role{WorkspaceID: w.ID, Slug: "agent", Name: "Agent", Permissions: []string{"message.*"}, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		inv := store.Invite{ID: "inv1", WorkspaceID: w.ID, Email: "carol@example.com", Roles: []string{"agent"}, TokenHash: "ab12",
			Status: store.InvitePending, CreatedBy: "alice", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := tx.PutInvite(inv); err != nil {
			return err
		}
		used := now.Add(time.Minute)
		if err := tx.PutAPIKey(store.APIKey{ID: "abcdefghijklmnopqrstuvwxyz", WorkspaceID: w.ID, Name: "CRM", Permissions: []string{"message.read"},
			SecretHash: "cd34", CreatedBy: "alice", CreatedAt: now, LastUsedAt: &used}); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(store.AuditEvent{WorkspaceID: w.ID, Actor: "alice", Action: "member.put", Target: "user:bob", Time: now,
			Summary: json.RawMessage(`{"after":{"roles":["agent"]}}`)}); err != nil {
			return err
		}
		return tx.PutSigningKey(store.SigningKey{ID: "gk1", JWK: json.RawMessage(`{"kty":"OKP","crv":"Ed25519","x":"x","d":"d","kid":"gk1"}`), CreatedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStoreExportImport(t *testing.T) {
	src := bootstrapped(t)
	exported, stderr, ok := run(t, "store", "export", "--store", src)
	if !ok {
		t.Fatalf("export: %s", stderr)
	}
	var snap store.Snapshot
	dec := json.NewDecoder(strings.NewReader(exported))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&snap); err != nil {
		t.Fatalf("export output: %v\n%s", err, exported)
	}
	if snap.Version != store.SnapshotVersion || len(snap.Users) != 2 || len(snap.Workspaces) != 1 || len(snap.Memberships) != 2 ||
		len(snap.Roles) != 1 || len(snap.Invites) != 1 || len(snap.APIKeys) != 1 || len(snap.Audit) == 0 || len(snap.SigningKeys) != 1 {
		t.Errorf("snapshot %+v", snap)
	}
	if snap.Workspaces[0].Slug != "acme-corp" || snap.Memberships[0].UserID != "alice" || snap.Memberships[0].Roles[0] != "owner" {
		t.Errorf("bootstrapped records: %+v %+v", snap.Workspaces, snap.Memberships)
	}
	if !strings.Contains(exported, "\n  \"users\": [") {
		t.Errorf("export is not indented:\n%s", exported)
	}

	// Into a new file (and directory): the same snapshot comes back out.
	dst := filepath.Join(t.TempDir(), "new", "dst.db")
	if _, stderr, ok := runStdin(t, exported, "store", "import", "--store", dst); !ok {
		t.Fatalf("import: %s", stderr)
	}
	again, stderr, ok := run(t, "store", "export", "--store", dst)
	if !ok {
		t.Fatalf("export of the imported store: %s", stderr)
	}
	if withoutImportEvents(t, again) != exported {
		t.Errorf("export → import → export differs (beyond the import's own audit events):\n%s\n----\n%s", exported, again)
	}
	if out, _, _ := run(t, "store", "stats", "--store", dst); !strings.Contains(out, `"invites": 1`) || !strings.Contains(out, `"api_keys": 1`) {
		t.Errorf("stats of the imported store: %s", out)
	}

	// A store with records is refused, and left as it was.
	for _, target := range []string{src, dst} {
		if _, stderr, ok := runStdin(t, exported, "store", "import", "--store", target); ok || !strings.Contains(stderr, "import needs an empty store") || !strings.Contains(stderr, "new file") {
			t.Errorf("import into a non-empty store: ok=%v %s", ok, stderr)
		}
	}
	if after, _, _ := run(t, "store", "export", "--store", dst); after != again {
		t.Errorf("a refused import changed the store")
	}

	// A store holding only a signing key (a server ran on it) is not
	// empty either.
	keyOnly := filepath.Join(t.TempDir(), "key.db")
	s, err := boltstore.Open(keyOnly, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutSigningKey(store.SigningKey{ID: "k", JWK: json.RawMessage(`{}`)})
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, stderr, ok := runStdin(t, exported, "store", "import", "--store", keyOnly); ok || !strings.Contains(stderr, "import needs an empty store") || !strings.Contains(stderr, "signing key") {
		t.Errorf("import into a store with a signing key: ok=%v %s", ok, stderr)
	}

	// Nor is one holding only an organization (it belongs to no
	// workspace and names no user).
	orgOnly := filepath.Join(t.TempDir(), "org.db")
	s, err = boltstore.Open(orgOnly, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutOrganization(store.Organization{ID: "org_a", Slug: "acme"})
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, stderr, ok := runStdin(t, exported, "store", "import", "--store", orgOnly); ok || !strings.Contains(stderr, "import needs an empty store") || !strings.Contains(stderr, "organization") {
		t.Errorf("import into a store with an organization: ok=%v %s", ok, stderr)
	}

	// An existing empty store is fine.
	emptyPath := filepath.Join(t.TempDir(), "empty.db")
	s, err = boltstore.Open(emptyPath, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, stderr, ok := runStdin(t, exported, "store", "import", "--store", emptyPath); !ok {
		t.Errorf("import into an existing empty store: %s", stderr)
	}
}

func TestStoreImportRefusesBadInput(t *testing.T) {
	src := bootstrapped(t)
	exported, stderr, ok := run(t, "store", "export", "--store", src)
	if !ok {
		t.Fatalf("export: %s", stderr)
	}
	withUnknown := strings.Replace(exported, `"version": 1,`, `"version": 1, "extra": true,`, 1)
	nestedUnknown := strings.Replace(exported, `"slug": "acme-corp",`, `"slug": "acme-corp", "owner": "x",`, 1)
	var snap store.Snapshot
	if err := json.Unmarshal([]byte(exported), &snap); err != nil {
		t.Fatal(err)
	}
	snap.Memberships[0].WorkspaceID = "elsewhere"
	badRef, _ := json.Marshal(snap)

	for _, c := range []struct {
		name, input string
		wants       []string
	}{
		{"empty", "", []string{"no snapshot on stdin"}},
		{"not JSON", "hello", []string{"not valid", "line 1", "gatehouse store export"}},
		{"truncated", exported[:len(exported)/2], []string{"not valid", "truncated"}},
		{"syntax error on a later line", strings.Replace(exported, `"users": [`, `"users": [,`, 1), []string{"not valid", "line 3"}},
		{"unknown field", withUnknown, []string{"not valid", `unknown field "extra"`}},
		{"unknown nested field", nestedUnknown, []string{"not valid", `unknown field "owner"`}},
		{"wrong type", `{"version": "1"}`, []string{"not valid", "version"}},
		{"two documents", exported + exported, []string{"not valid", "after the snapshot"}},
		{"wrong version", `{"version": 7}`, []string{"snapshot version 7", "version 1"}},
		{"unknown workspace", string(badRef), []string{"memberships[0]", `"elsewhere"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "dst.db")
			_, stderr, ok := runStdin(t, c.input, "store", "import", "--store", dst)
			if ok {
				t.Fatal("imported")
			}
			stderr = logMsg(stderr)
			for _, w := range c.wants {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not contain %q", stderr, w)
				}
			}
			if _, err := os.Stat(dst); !os.IsNotExist(err) {
				t.Errorf("a refused import left the file %s: %v", dst, err)
			}
		})
	}

	// Over the size cap: refused without reading it all into a store.
	if testing.Short() {
		return
	}
	// The 256 MiB go in from a file, not through a pipe the test copies
	// into, and get a longer limit: on a loaded CI machine moving them
	// takes longer than the other cases' 30 s.
	dir := t.TempDir()
	hugeFile := filepath.Join(dir, "huge.json")
	if err := os.WriteFile(hugeFile, []byte(`{"version": 1, "users": [`+strings.Repeat(" ", 256<<20)+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	stdin, err := os.Open(hugeFile)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	dst := filepath.Join(dir, "dst.db")
	cmd := exec.Command(binary, "store", "import", "--store", dst)
	cmd.Stdin = stdin
	if _, stderr, ok := wait(t, cmd, 2*time.Minute); ok || !strings.Contains(stderr, "larger than 256 MiB") {
		t.Errorf("huge snapshot: ok=%v %.300s", ok, stderr)
	}
}

func TestStoreExportImportLocked(t *testing.T) {
	src := bootstrapped(t)
	exported, stderr, ok := run(t, "store", "export", "--store", src)
	if !ok {
		t.Fatalf("export: %s", stderr)
	}
	held := filepath.Join(t.TempDir(), "held.db")
	s, err := boltstore.Open(held, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hs, err := boltstore.Open(src, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()

	start := time.Now()
	for _, c := range []struct {
		stdin string
		args  []string
	}{
		{"", []string{"store", "export", "--store", src}},
		{exported, []string{"store", "import", "--store", held}},
	} {
		out, stderr, ok := runStdin(t, c.stdin, c.args...)
		if ok || !strings.Contains(stderr, "locked by another process") {
			t.Errorf("%v on a held store: ok=%v %s", c.args, ok, stderr)
		}
		if bytes.Contains([]byte(out), []byte("{")) {
			t.Errorf("%v printed a partial snapshot: %s", c.args, out)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("held-store errors took %v", d)
	}

	if _, stderr, ok := run(t, "store", "export", "--store", filepath.Join(t.TempDir(), "missing.db")); ok || !strings.Contains(stderr, "no such file") {
		t.Errorf("export of a missing file: ok=%v %s", ok, stderr)
	}
	if _, stderr, ok := run(t, "store", "export"); ok || !strings.Contains(stderr, "--store") {
		t.Errorf("export without --store: ok=%v %s", ok, stderr)
	}
	if _, stderr, ok := runStdin(t, exported, "store", "import"); ok || !strings.Contains(stderr, "--store") {
		t.Errorf("import without --store: ok=%v %s", ok, stderr)
	}
}

func TestStoreExportHelpWarnsAboutTheKey(t *testing.T) {
	out, stderr, _ := run(t, "store", "export", "--help")
	if !strings.Contains(out+stderr, "PRIVATE signing key") {
		t.Errorf("export --help does not warn about the private key:\n%s%s", out, stderr)
	}
}

// withoutImportEvents re-encodes an export without the store.import audit
// events the import itself appended, checking there is one per workspace.
func withoutImportEvents(t *testing.T, exported string) string {
	t.Helper()
	var snap store.Snapshot
	if err := json.Unmarshal([]byte(exported), &snap); err != nil {
		t.Fatal(err)
	}
	kept := snap.Audit[:0]
	imported := map[string]int{}
	for _, ev := range snap.Audit {
		if ev.Action == "store.import" && ev.Actor == "cli" {
			imported[ev.WorkspaceID]++
			continue
		}
		kept = append(kept, ev)
	}
	snap.Audit = kept
	for _, ws := range snap.Workspaces {
		if imported[ws.ID] != 1 {
			t.Errorf("workspace %s has %d store.import events, want 1", ws.ID, imported[ws.ID])
		}
	}
	out, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out) + "\n"
}
