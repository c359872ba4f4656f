package boltstore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// crashChildEnv selects the child mode of TestCrashDurability and names the
// store file the child writes to.
const crashChildEnv = "GATEHOUSE_BOLTSTORE_CRASH_CHILD"

// TestCrashDurability re-executes the test binary as a child process that
// performs acknowledged Updates as fast as it can, printing each
// acknowledged id after Update returned nil. The parent kills it with
// SIGKILL mid-stream, reopens the file and checks that every acknowledged
// write is there and the file is consistent.
//
// (SIGKILL loses the process, not the kernel's page cache: this proves that
// acknowledgement comes after the write reached the file and that bbolt's
// on-disk state is consistent at any instant. Surviving power loss rests on
// the fsync in every commit, which Update never disables.)
func TestCrashDurability(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	path := filepath.Join(t.TempDir(), "crash.db")

	for round := 0; round < 2; round++ {
		// Round 2 writes on top of the state round 1 left, so recovery
		// from a killed writer is exercised twice on the same file.
		acked := crashRound(t, path, round, 40+round*60)
		s, err := Open(path, Options{Timeout: 2 * time.Second})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		if err := s.db.View(func(tx *bbolt.Tx) error {
			for err := range tx.Check() {
				return err
			}
			return nil
		}); err != nil {
			t.Fatalf("round %d: consistency check: %v", round, err)
		}
		missing := 0
		view(t, s, func(tx store.Tx) error {
			for _, id := range acked {
				wsID, userID, _ := strings.Cut(id, "/")
				if _, err := tx.Member(wsID, userID); err != nil {
					missing++
					t.Errorf("round %d: acknowledged member %s lost: %v", round, id, err)
				}
			}
			return nil
		})
		checkIndexes(t, s)
		t.Logf("round %d: %d acknowledged writes, %d missing after SIGKILL", round, len(acked), missing)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// crashRound runs one child, kills it after at least minAcks
// acknowledgements, and returns every id the child acknowledged.
func crashRound(t *testing.T, path string, round, minAcks int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDurability$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path, fmt.Sprintf("GATEHOUSE_CRASH_ROUND=%d", round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	kill := func() {
		if !killed {
			killed = true
			_ = cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	defer kill()
	timer := time.AfterFunc(60*time.Second, kill) // never hang the suite
	defer timer.Stop()

	var acked []string
	lockChecked := false
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		id, ok := strings.CutPrefix(line, "ack ")
		if !ok {
			continue
		}
		acked = append(acked, id)
		if len(acked) == 5 && !lockChecked {
			// While the child holds the file, another process gets
			// ErrLocked, not a hang.
			lockChecked = true
			_, err := Open(path, Options{Timeout: 100 * time.Millisecond})
			if !errors.Is(err, ErrLocked) {
				t.Errorf("Open while another process holds the file: %v", err)
			}
		}
		if len(acked) == minAcks {
			kill() // mid-stream: the child is inside its next Update
		}
	}
	// Everything printed before the kill is in the pipe: read to EOF.
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited before being killed: %v\nstderr:\n%s", err, stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die of SIGKILL: %v\nstderr:\n%s", err, stderr.String())
	}
	if len(acked) < minAcks {
		t.Fatalf("only %d acknowledgements before the kill\nstderr:\n%s", len(acked), stderr.String())
	}
	return acked
}

// crashChild is the child process: Updates until killed.
func crashChild(path string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(3)
	}
	s, err := Open(path, Options{Timeout: 5 * time.Second})
	if err != nil {
		fail(err)
	}
	round := os.Getenv("GATEHOUSE_CRASH_ROUND")
	ctx := context.Background()
	for i := 0; i < 1_000_000; i++ {
		wsID := fmt.Sprintf("r%s-w%d", round, i/10)
		userID := fmt.Sprintf("u%d", i)
		err := s.Update(ctx, func(tx store.Tx) error {
			if i%10 == 0 {
				if err := tx.PutWorkspace(ws(wsID, wsID)); err != nil {
					return err
				}
			}
			m := member(wsID, userID, "owner")
			// Some bulk so that commits span several pages.
			m.Grants = []string{strings.Repeat("g", 200+i%3000)}
			return tx.PutMember(m)
		})
		if err != nil {
			fail(err)
		}
		// Unbuffered: one write(2) per acknowledgement.
		if _, err := fmt.Fprintf(os.Stdout, "ack %s/%s\n", wsID, userID); err != nil {
			fail(err)
		}
	}
	fail(errors.New("never killed"))
}
