package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// TestRemoveStale: the directory of a test binary that died without
// stopping its server is removed by the next start; a live one's is kept.
func TestRemoveStale(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(os.TempDir(), fmt.Sprintf("%s%d-x", dirPrefix, dead.Process.Pid))
	live := filepath.Join(os.TempDir(), fmt.Sprintf("%s%d-x", dirPrefix, os.Getppid()))
	for _, d := range []string{stale, live} {
		if err := os.MkdirAll(filepath.Join(d, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	defer os.RemoveAll(live)
	defer os.RemoveAll(stale)
	removeStale()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the dead binary's directory is still there (%v)", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a live process's directory was removed: %v", err)
	}
}
