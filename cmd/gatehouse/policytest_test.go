package main

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The shipped example test file passes against Caddyfile.example: `make
// test` runs it through the built command.
func TestGatehouseTestExample(t *testing.T) {
	junit := filepath.Join(t.TempDir(), "report.xml")
	out, stderr, ok := run(t, "test", "../../examples/gatehouse-test.yaml", "--config", "../../Caddyfile.example", "--junit", junit)
	if !ok {
		t.Fatalf("gatehouse test failed:\n%s\n%s", out, stderr)
	}
	if !strings.Contains(out, "0 failed") {
		t.Errorf("summary: %s", out)
	}
	var report struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	raw, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(raw, &report); err != nil || len(report.Suites) != 1 || report.Suites[0].Tests < 20 || report.Suites[0].Failures != 0 {
		t.Fatalf("junit report %+v (%v): %s", report, err, raw)
	}
}

// A wrong expectation fails with exit status 1, naming the rule that
// matched and what was missing; a bad file exits 2 with file:line.
func TestGatehouseTestFailures(t *testing.T) {
	dir := t.TempDir()
	wrong := filepath.Join(dir, "wrong.yaml")
	must(t, os.WriteFile(wrong, []byte(`workspaces:
  - slug: acme
    members:
      - user: olga
        roles: [operator]
requests:
  - {method: GET, path: /w/acme/messages, user: olga, expect: {status: 200}}
  - {method: GET, path: /w/acme/contacts/export, user: olga, expect: {status: 200}}
`), 0o644))
	junit := filepath.Join(dir, "report.xml")
	out, stderr, ok := runStatus(t, 1, "test", wrong, "--config", "../../Caddyfile.example", "--junit", junit)
	if ok {
		t.Fatalf("passed: %s", out)
	}
	for _, want := range []string{wrong + ":8: GET /w/acme/contacts/export as olga: got 403 forbidden/missing_permission, want 200",
		"matched rule: * /w/{workspace}/contacts/export contact.manage (../../Caddyfile.example:86)", "missing: contact.manage"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if raw, _ := os.ReadFile(junit); !strings.Contains(string(raw), `failures="1"`) {
		t.Errorf("junit: %s", raw)
	}

	bad := filepath.Join(dir, "bad.yaml")
	must(t, os.WriteFile(bad, []byte("requests:\n  - method: GET\n    path: /healthz\n    expct: {status: 200}\n"), 0o644))
	_, stderr, _ = runStatus(t, 2, "test", bad, "--config", "../../Caddyfile.example")
	if !strings.Contains(stderr, bad+":4:") {
		t.Errorf("bad file error without file:line: %s", stderr)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// runStatus runs the binary and checks its exit status.
func runStatus(t *testing.T, want int, args ...string) (stdout, stderr string, ok bool) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if exit, isExit := err.(*exec.ExitError); isExit {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != want {
		t.Errorf("gatehouse %s: exit status %d, want %d\n%s", strings.Join(args, " "), code, want, errOut.String())
	}
	return out.String(), errOut.String(), code == 0
}
