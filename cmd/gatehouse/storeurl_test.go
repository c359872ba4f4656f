package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// dbPassword is the password of the URLs below: it must never be printed.
const dbPassword = "pw-9f3c1e"

// postgresOpenerError is in what the PostgreSQL opener answers for the
// closed loopback port of the URLs below.
const postgresOpenerError = "connect"

// Every `gatehouse store` subcommand takes --store as a postgres:// URL
// and reaches the PostgreSQL opener, naming the URL with its password
// redacted; a path keeps working as before; another URL scheme is refused
// with the accepted forms, and is not created as a file.
func TestStoreCommandsTakeAPostgresURL(t *testing.T) {
	src := bootstrapped(t)
	snapshot, stderr, ok := run(t, "store", "export", "--store", src)
	if !ok {
		t.Fatalf("export --store <path>: %s", stderr)
	}
	url := "postgres://gatehouse:" + dbPassword + "@127.0.0.1:1/gatehouse?sslmode=disable"
	for _, args := range [][]string{
		{"bootstrap", "--workspace", "Acme", "--owner", "alice"},
		{"bootstrap", "--workspace", "Acme", "--owner", "alice", "--if-empty"},
		{"stats"},
		{"export"},
		{"import"},
	} {
		name := strings.Join(args, " ")
		full := append([]string{"store", args[0], "--store", url}, args[1:]...)
		out, stderr, ok := runStdin(t, snapshot, full...)
		if ok {
			t.Errorf("store %s --store <url>: succeeded: %s", name, out)
			continue
		}
		msg := logMsg(stderr)
		if !strings.Contains(msg, postgresOpenerError) {
			t.Errorf("store %s --store <url>: %s, want the PostgreSQL opener's error", name, msg)
		}
		if !strings.Contains(msg, "postgres://gatehouse:xxxxx@127.0.0.1:1/gatehouse") {
			t.Errorf("store %s --store <url>: %s, want the URL named with its password redacted", name, msg)
		}
		if strings.Contains(out+stderr, dbPassword) {
			t.Errorf("store %s --store <url> printed the database password:\n%s%s", name, out, stderr)
		}
	}

	// The path form, through the same opener: import into a new file,
	// then stats on it.
	dst := filepath.Join(t.TempDir(), "dst.db")
	if out, stderr, ok := runStdin(t, snapshot, "store", "import", "--store", dst); !ok || !strings.Contains(out, "into "+dst) {
		t.Fatalf("import --store <path>: %s %s", out, stderr)
	}
	if out, stderr, ok := run(t, "store", "stats", "--store", dst); !ok || !strings.Contains(out, `"workspaces": 1`) {
		t.Fatalf("stats --store <path>: %s %s", out, stderr)
	}

	// Other schemes: a usage error (exit 2) naming both accepted forms,
	// and no file named after the URL in the working directory.
	dir := t.TempDir()
	for _, bad := range []string{"mysql://u:" + dbPassword + "@db/x", "file://gatehouse.db"} {
		for _, sub := range [][]string{{"stats"}, {"export"}, {"import"}, {"bootstrap", "--workspace", "W", "--owner", "o"}} {
			cmd := exec.Command(binary, append([]string{"store", sub[0], "--store", bad}, sub[1:]...)...)
			cmd.Dir = dir
			cmd.Stdin = strings.NewReader(snapshot)
			out, err := cmd.CombinedOutput()
			exit, _ := err.(*exec.ExitError)
			if exit == nil || exit.ExitCode() != 2 {
				t.Errorf("store %s --store %s: %v, want exit status 2\n%s", sub[0], bad, err, out)
			}
			if !strings.Contains(string(out), "a bbolt file path or a postgres:// (postgresql://) URL") {
				t.Errorf("store %s --store %s: %s, want the accepted forms named", sub[0], bad, out)
			}
			if strings.Contains(string(out), dbPassword) {
				t.Errorf("store %s --store %s printed the password: %s", sub[0], bad, out)
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused URLs left %v in the working directory", entries)
	}

	// The help of every subcommand says what --store takes.
	for _, sub := range []string{"bootstrap", "stats", "export", "import"} {
		out, stderr, _ := run(t, "store", sub, "--help")
		if !strings.Contains(out+stderr, "path or postgres:// URL") {
			t.Errorf("store %s --help does not say --store takes a path or postgres:// URL:\n%s%s", sub, out, stderr)
		}
	}
}
