package gatehouse_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// checkMain is what `xcaddy build --with github.com/gatehouse-authz/gatehouse`
// generates: Caddy's main, its standard modules and the module root, and
// nothing else of Gatehouse.
const checkMain = `package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/gatehouse-authz/gatehouse"
)

func main() {
	caddycmd.Main()
}
`

// A Caddy built the way xcaddy builds plugins — a separate module whose
// main imports only Caddy's standard modules and this module root, with the
// root replaced by this clone — has every Gatehouse module and command.
// It builds offline, from the module cache, with this repository's go.sum.
func TestXcaddyStyleBuild(t *testing.T) {
	repo, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The requirements are this module's, as `go get` of the module root
	// would leave them; the module path and the replace make it another
	// module that depends on Gatehouse.
	ours, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goMod := strings.Replace(string(ours), "module github.com/gatehouse-authz/gatehouse\n", "module caddy\n", 1) +
		"\nrequire github.com/gatehouse-authz/gatehouse v0.0.0\n" +
		"\nreplace github.com/gatehouse-authz/gatehouse => " + repo + "\n"
	if !strings.HasPrefix(goMod, "module caddy\n") {
		t.Fatalf("go.mod does not start with the module line:\n%s", ours)
	}
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"go.mod": []byte(goMod), "go.sum": sum, "main.go": []byte(checkMain)} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "caddy")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	// -mod=mod lets go add Caddy's requirement (taken from Gatehouse's
	// go.mod) as xcaddy's `go get` would; GOPROXY=off keeps it offline.
	build.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOPROXY=off", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building a Caddy with only the module root imported: %v\n%s", err, out)
	}

	caddy := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("caddy %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	modules := strings.Fields(caddy("list-modules"))
	for _, want := range []string{"gatehouse", "http.handlers.gatehouse", "http.handlers.gatehouse_api", "gatehouse.stores.bolt", "gatehouse.stores.postgres"} {
		if !contains(modules, want) {
			t.Errorf("list-modules has no %s", want)
		}
	}
	for _, name := range []string{"keygen", "token", "store"} {
		if help := caddy(name, "--help"); !strings.Contains(help, "Usage:") {
			t.Errorf("%s --help: %s", name, help)
		}
	}

	// The commands work, not only exist.
	keys := filepath.Join(dir, "keys")
	caddy("keygen", "--dir", keys)
	if tok := strings.TrimSpace(caddy("token", "--key", filepath.Join(keys, "signing.jwk"), "--sub", "alice")); strings.Count(tok, ".") != 2 {
		t.Errorf("token printed %q, not a JWT", tok)
	}
	db := filepath.Join(dir, "gatehouse.db")
	caddy("store", "bootstrap", "--store", db, "--workspace", "Acme", "--owner", "alice")
	if stats := caddy("store", "stats", "--store", db); !strings.Contains(stats, `"workspaces": 1`) {
		t.Errorf("store stats: %s", stats)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
