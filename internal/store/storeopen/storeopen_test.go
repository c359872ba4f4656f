package storeopen

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

const password = "s3cr3t-pw"

func TestDescribeRedactsPasswords(t *testing.T) {
	for in, want := range map[string]string{
		"./data/gatehouse.db":                                          "./data/gatehouse.db",
		"/var/lib/gatehouse.db":                                        "/var/lib/gatehouse.db",
		"postgres://gh@db:5432/gatehouse":                              "postgres://gh@db:5432/gatehouse",
		"postgres://gh:" + password + "@db:5432/gatehouse":             "postgres://gh:xxxxx@db:5432/gatehouse",
		"postgresql://gh:" + password + "@db/gatehouse?x=1":            "postgresql://gh:xxxxx@db/gatehouse?x=1",
		"postgres://db/gatehouse?password=" + password:                 "postgres://db/gatehouse?password=xxxxx",
		"postgres://db/gatehouse?sslmode=require&PassWord=" + password: "postgres://db/gatehouse?PassWord=xxxxx&sslmode=require",
		"postgres://gh:" + password + "@db:bad-port/gatehouse":         "postgres://(a URL that does not parse; not shown, it may hold a password)",
	} {
		got := Describe(in)
		if got != want {
			t.Errorf("Describe(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, password) {
			t.Errorf("Describe(%q) = %q: the password shows", in, got)
		}
	}
}

func TestClassify(t *testing.T) {
	for in, want := range map[string]Kind{
		"gatehouse.db":      Bolt,
		"./a://b":           Bolt, // not a scheme: starts with '.'
		"/srv/x.db":         Bolt,
		"postgres://db/x":   Postgres,
		"postgresql://db/x": Postgres,
		"POSTGRES://db/x":   Postgres,
	} {
		got, err := Classify(in)
		if err != nil || got != want {
			t.Errorf("Classify(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"mysql://u:" + password + "@x/db", "file:///tmp/x.db", "sqlite://x", "", "postgres:db/x", "PostgreSQL:/db"} {
		_, err := Classify(in)
		if err == nil {
			t.Errorf("Classify(%q): no error, want a refusal", in)
			continue
		}
		if !strings.Contains(err.Error(), Accepted) {
			t.Errorf("Classify(%q): %v, want it to name the accepted forms", in, err)
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("Classify(%q): %v: the password shows", in, err)
		}
	}
}

// Another scheme is refused, not created as a file named "mysql:".
func TestOpenRefusesOtherSchemes(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, in := range []string{"mysql://x", "file://gatehouse.db"} {
		if s, err := Open(context.Background(), in, Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q) opened a store", in)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Open of refused URLs left %v behind", entries)
	}
}

func TestOpenPostgresReachesTheOpenerRedacted(t *testing.T) {
	for _, u := range []string{
		// Port 1 on loopback: nothing listens, so the opener's connect fails.
		"postgres://gh:" + password + "@127.0.0.1:1/gatehouse?connect_timeout=5",
		"postgresql://127.0.0.1:1/gatehouse?connect_timeout=5&password=" + password,
	} {
		_, err := Open(context.Background(), u, Options{ReadOnly: true})
		if err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
			t.Fatalf("Open(%s): %v, want the PostgreSQL opener's connect error", Describe(u), err)
		}
		if strings.Contains(err.Error(), password) || !strings.Contains(err.Error(), "xxxxx") {
			t.Errorf("Open: %q, want the URL named with its password redacted", err)
		}
	}
	_, err := Open(context.Background(), "postgres://gh:"+password+"@db:bad-port/x", Options{})
	if err == nil || strings.Contains(err.Error(), "connect") || strings.Contains(err.Error(), password) {
		t.Errorf("Open of an unparseable URL: %v, want a parse error without the password", err)
	}
}

// A driver error that echoes the connection string loses the password but
// keeps its identity.
func TestRedactError(t *testing.T) {
	inner := errors.New("connect to postgres://gh:" + password + "@db failed, password=" + password)
	err := redactError(inner, secrets("postgres://gh:"+password+"@db/x"))
	if strings.Contains(err.Error(), password) {
		t.Errorf("redacted error %q still holds the password", err)
	}
	if !errors.Is(err, inner) {
		t.Error("redacted error lost its cause")
	}
}

func TestOpenBolt(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "g.db")
	if _, err := Open(ctx, path, Options{MustExist: true}); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("MustExist on a missing file: %v", err)
	}
	if _, err := Open(ctx, path, Options{ReadOnly: true}); err == nil {
		t.Fatal("ReadOnly on a missing file opened something")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a refused open created %s", path)
	}
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx store.Tx) error {
		return tx.PutUser(store.User{ID: "alice"})
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	st, err := ro.Stats(ctx)
	if err != nil || st.Users != 1 {
		t.Fatalf("stats after reopen: %+v %v", st, err)
	}
	if err := ro.Update(ctx, func(tx store.Tx) error { return tx.PutUser(store.User{ID: "bob"}) }); err == nil {
		t.Error("a read-only open accepted a write")
	}
}
