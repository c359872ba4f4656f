package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/signing"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

const durabilityCaddyfile = `{
	admin off
	auto_https off
	persist_config off
	gatehouse {
		store {{dir}}/gatehouse.db
		jwt {
			jwks_file {{dir}}/jwks.json
		}
		permission message.read
		role owner "Owner" workspace.admin
	}
}
http://127.0.0.1:{{port}} {
	bind 127.0.0.1
	handle_path /gatehouse/* {
		gatehouse_api
	}
}
`

// Every write the API acknowledged survives kill -9 of the server right
// after (README "Management API": a 2xx means it is durable): a real process, killed mid-stream.
func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	dir := t.TempDir()
	if err := signing.Generate(dir, false); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "gatehouse.db")
	if _, stderr, ok := run(t, "store", "bootstrap", "--store", dbPath, "--workspace", "Acme", "--slug", "acme", "--owner", "alice"); !ok {
		t.Fatalf("bootstrap: %s", stderr)
	}
	port := freePort(t)
	cfg := strings.NewReplacer("{{dir}}", dir, "{{port}}", fmt.Sprint(port)).Replace(durabilityCaddyfile)
	cfgPath := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	server := exec.Command(binary, "run", "--config", cfgPath, "--adapter", "caddyfile")
	server.Env = append(os.Environ(), "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	var logs bytes.Buffer
	server.Stdout, server.Stderr = &logs, &logs
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer server.Process.Kill()
	waitForPort(t, port, &logs)

	key, err := signing.LoadSigningKey(filepath.Join(dir, signing.SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	token, err := signing.Sign(key, signing.TokenSpec{Subject: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d/gatehouse/v1/workspaces/acme/roles", port)

	// Writers create roles as fast as the API acknowledges them; the
	// server is killed while they are at it.
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				slug := fmt.Sprintf("r%d-%d", w, i)
				if createRole(ctx, base, token, slug) {
					mu.Lock()
					acked = append(acked, slug)
					mu.Unlock()
				}
			}
		}()
	}
	// Kill once a fair number were acknowledged (not after a fixed time:
	// a loaded machine may take long to answer the first ones), while the
	// writers are still at it.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := server.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = server.Wait()
	cancel()
	wg.Wait()
	if len(acked) < 5 {
		t.Fatalf("only %d writes acknowledged before the kill; server log:\n%s", len(acked), logs.String())
	}

	s, err := boltstore.Open(dbPath, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(context.Background(), func(tx store.Tx) error {
		ws, err := tx.WorkspaceBySlug("acme")
		if err != nil {
			return err
		}
		for _, slug := range acked {
			if _, err := tx.Role(ws.ID, slug); err != nil {
				t.Errorf("acknowledged role %s lost: %v", slug, err)
			}
		}
		events, _, err := tx.Audit(ws.ID, "", 0)
		audited := map[string]bool{}
		for _, ev := range events {
			audited[ev.Target] = true
		}
		for _, slug := range acked {
			if !audited["role:"+slug] {
				t.Errorf("acknowledged role %s has no audit event", slug)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d acknowledged writes, all present after kill -9", len(acked))
}

// createRole reports whether the API acknowledged (201) the creation.
func createRole(ctx context.Context, url, token, slug string) bool {
	body, _ := json.Marshal(map[string]any{"slug": slug, "name": slug, "permissions": []string{"message.read"}})
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusCreated
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitForPort(t *testing.T, port int, logs fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server did not come up on port %d:\n%s", port, logs.String())
}
