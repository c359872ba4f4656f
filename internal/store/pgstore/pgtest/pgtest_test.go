package pgtest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// TestServer: two databases are distinct and usable, the server runs with
// fsync on, and Restart brings it back with the data kept.
func TestServer(t *testing.T) {
	ctx := context.Background()
	a, b := NewDatabase(t), NewDatabase(t)
	if a == b {
		t.Fatalf("NewDatabase returned %s twice", a)
	}
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	var fsync string
	if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil || fsync != "on" {
		t.Errorf("fsync = %q, %v; want on", fsync, err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	Restart(t)
	conn, err = pgx.Connect(ctx, a)
	if err != nil {
		t.Fatalf("connecting after Restart: %v", err)
	}
	defer conn.Close(ctx)
	var x int
	if err := conn.QueryRow(ctx, "SELECT x FROM kept").Scan(&x); err != nil || x != 42 {
		t.Errorf("after Restart: %d, %v; want 42", x, err)
	}
	if fi, err := os.Stat(Shared(t).dir); err != nil || !fi.IsDir() {
		t.Errorf("server directory: %v", err)
	}
}

// TestStartFails: without PostgreSQL's binaries the start fails with an
// error that says so (NewDatabase turns it into a test failure, never a
// skip), and leaves no directory behind.
func TestStartFails(t *testing.T) {
	t.Setenv("GATEHOUSE_PG_BIN", t.TempDir())
	before, _ := os.ReadDir(os.TempDir())
	s, err := start()
	if err == nil {
		s.shutdown()
		t.Fatal("start succeeded without binaries")
	}
	if !strings.Contains(err.Error(), "initdb") {
		t.Errorf("start error %q does not name initdb", err)
	}
	after, _ := os.ReadDir(os.TempDir())
	if len(after) > len(before) {
		t.Errorf("a failed start left %d entries in %s", len(after)-len(before), os.TempDir())
	}
}
