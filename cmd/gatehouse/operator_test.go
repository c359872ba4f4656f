package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/signing"
)

// Help texts name the binary users run, not caddy.
func TestHelpSaysGatehouse(t *testing.T) {
	out, stderr, ok := run(t, "--help")
	if !ok {
		t.Fatalf("--help: %s", stderr)
	}
	for _, want := range []string{"gatehouse [command]", "'gatehouse run", "keygen", "token", "store"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "'caddy run'") {
		t.Errorf("--help tells to run caddy:\n%s", out)
	}
	if out, _, _ := run(t, "store", "bootstrap", "--help"); !strings.Contains(out, "gatehouse store bootstrap") {
		t.Errorf("store bootstrap --help:\n%s", out)
	}
}

const rolesCaddyfile = `{
	admin off
	gatehouse {
		store {{dir}}/unused.db
		jwt {
			jwks_file {{dir}}/jwks.json
		}
		permission message.read
		role owner "Owner" workspace.admin
		role agent "Agent" message.read
	}
}
`

// bootstrap checks --role: against --config when given, else only the
// default owner role is accepted; a refusal creates no store.
func TestBootstrapChecksRoles(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(rolesCaddyfile, "{{dir}}", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "gatehouse.db")
	bootstrap := func(args ...string) (string, bool) {
		_, stderr, ok := run(t, append([]string{"store", "bootstrap", "--store", db, "--workspace", "Acme", "--owner", "alice"}, args...)...)
		return logMsg(stderr), ok
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--role", "admin"}, "without --config only the default role owner"},
		{[]string{"--role", "admin", "--config", cfgPath}, "declares no such role (its roles: owner, agent)"},
		{[]string{"--role", "ownr", "--config", cfgPath}, "did you mean owner?"},
		{[]string{"--role", "agent", "--config", cfgPath}, "none of these roles grants workspace.admin"},
	} {
		stderr, ok := bootstrap(c.args...)
		if ok || !strings.Contains(stderr, c.want) {
			t.Errorf("bootstrap %v: ok=%v, want an error containing %q:\n%s", c.args, ok, c.want, stderr)
		}
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Fatalf("a refused bootstrap %v created the store (%v)", c.args, err)
		}
	}
	if stderr, ok := bootstrap("--role", "owner", "--role", "agent", "--config", cfgPath); !ok {
		t.Fatalf("bootstrap with declared roles: %s", stderr)
	}
	if stderr, ok := bootstrap("--slug", "acme2", "--if-empty"); !ok {
		t.Fatalf("bootstrap with the default role and no config: %s", stderr)
	}
}

// validate creates nothing for a store path that does not exist; the first
// run creates the store and logs its absolute path; validate next to the
// running server (which holds the store's lock) still works.
func TestValidateCreatesNothingAndRunLogsTheNewStore(t *testing.T) {
	dir := t.TempDir()
	if err := signing.Generate(dir, false); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cfg := strings.Replace(durabilityCaddyfile, "{{dir}}/gatehouse.db", "{{dir}}/typo/sub/gatehouse.db", 1)
	cfg = strings.NewReplacer("{{dir}}", dir, "{{port}}", fmt.Sprint(port)).Replace(cfg)
	cfgPath := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"XDG_DATA_HOME=" + dir, "XDG_CONFIG_HOME=" + dir}
	validate := func() {
		t.Helper()
		cmd := exec.Command(binary, "validate", "--config", cfgPath, "--adapter", "caddyfile")
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Valid configuration") {
			t.Fatalf("validate: %v\n%s", err, out)
		}
	}
	validate()
	if _, err := os.Stat(filepath.Join(dir, "typo")); !os.IsNotExist(err) {
		t.Fatalf("validate created %s (%v)", filepath.Join(dir, "typo"), err)
	}

	server := exec.Command(binary, "run", "--config", cfgPath, "--adapter", "caddyfile")
	server.Env = append(os.Environ(), env...)
	var logs syncBuffer
	server.Stdout, server.Stderr = &logs, &logs
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = server.Process.Kill(); _ = server.Wait() }()
	waitForPort(t, port, &logs)
	// Caddy may open the port before the gatehouse app has started: wait
	// for the creation line, then check the file.
	path := filepath.Join(dir, "typo", "sub", "gatehouse.db")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), `"path":"`+path+`"`) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "created a new Gatehouse store") || !strings.Contains(logs.String(), `"path":"`+path+`"`) {
		t.Fatalf("no creation line with the absolute path %s:\n%s", path, logs.String())
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("run did not create the store: %v", err)
	}
	validate() // the server holds the store
}

// syncBuffer is a bytes.Buffer the server process writes to while the test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
