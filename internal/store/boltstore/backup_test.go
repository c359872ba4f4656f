package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// backupTo runs Backup and writes the copy to a file, returning its path.
func backupTo(t *testing.T, s *Store, during func()) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "backup.db")
	err := s.Backup(context.Background(), func(size int64, r io.Reader) error {
		if during != nil {
			during()
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if int64(len(data)) != size {
			t.Errorf("read %d bytes, Backup announced %d", len(data), size)
		}
		return os.WriteFile(out, data, 0o600)
	})
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	return out
}

func TestBackupIsAConsistentStore(t *testing.T) {
	src, path := openT(t, Options{})
	fullStore(t, src)
	want := export(t, src)

	// A write while the copy is being read is not in it: the copy is the
	// store as of one transaction.
	out := backupTo(t, src, func() {
		update(t, src, func(tx store.Tx) error {
			return tx.PutUser(store.User{ID: "late", FirstSeen: t0, LastSeen: t0})
		})
	})

	// No spool file is left next to the store.
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(path) {
			t.Errorf("left behind in the store directory: %s", e.Name())
		}
	}

	// The copy opens as a store and holds exactly what src held.
	copied, err := Open(out, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("opening the backup: %v", err)
	}
	defer copied.Close()
	if got := export(t, copied); !reflect.DeepEqual(got, want) {
		t.Errorf("backup differs from the store it copied:\n got %+v\nwant %+v", got, want)
	}
	view(t, copied, func(tx store.Tx) error {
		if _, err := tx.User("late"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a write made after the copy is in it: %v", err)
		}
		return nil
	})
}

// A consumer that does not read (a stalled download) must not hold up
// writers. bbolt's writer needs the mmap lock, which every read
// transaction holds, to grow the file: a backup streamed from inside a
// View would block every growing write until the download ends.
func TestBackupDoesNotBlockWriters(t *testing.T) {
	s, _ := openT(t, Options{})
	fullStore(t, s)

	release := make(chan struct{})
	started := make(chan struct{})
	backupDone := make(chan error, 1)
	go func() {
		backupDone <- s.Backup(context.Background(), func(size int64, r io.Reader) error {
			close(started)
			<-release // the client stalls
			_, err := io.Copy(io.Discard, r)
			return err
		})
	}()
	select {
	case <-started:
	case err := <-backupDone:
		t.Fatalf("Backup returned before handing over the copy: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Backup never handed over the copy")
	}

	// 8 MiB in one transaction: the file (a few pages now) must grow and
	// be remapped several times.
	writeDone := make(chan error, 1)
	go func() {
		big := strings.Repeat("x", 64<<10)
		writeDone <- s.Update(context.Background(), func(tx store.Tx) error {
			for i := 0; i < 128; i++ {
				if err := tx.PutUser(store.User{ID: fmt.Sprintf("big%03d", i), Email: big}); err != nil {
					return err
				}
			}
			return nil
		})
	}()
	select {
	case err := <-writeDone:
		if err != nil {
			t.Errorf("write during the backup: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("a write that grows the store was blocked by a stalled backup download")
		close(release)
		<-writeDone
		<-backupDone
		return
	}
	close(release)
	if err := <-backupDone; err != nil {
		t.Errorf("Backup: %v", err)
	}
}

func TestBackupErrors(t *testing.T) {
	s, _ := openT(t, Options{})
	fullStore(t, s)

	// fn's error comes back as is.
	mine := errors.New("client went away")
	if err := s.Backup(context.Background(), func(int64, io.Reader) error { return mine }); err != mine {
		t.Errorf("Backup returned %v, want fn's error", err)
	}
	// A cancelled request copies nothing and never calls fn.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	if err := s.Backup(ctx, func(int64, io.Reader) error { called = true; return nil }); !errors.Is(err, context.Canceled) || called {
		t.Errorf("cancelled Backup: %v, fn called %v", err, called)
	}
	// A closed store.
	_ = s.Close()
	if err := s.Backup(context.Background(), func(int64, io.Reader) error { called = true; return nil }); !errors.Is(err, ErrClosed) || called {
		t.Errorf("Backup of a closed store: %v, fn called %v", err, called)
	}
}

// Store-wide audit events (store.backup) belong to no workspace; export and
// import carry them anyway.
func TestGlobalAuditEventsSurviveExportAndImport(t *testing.T) {
	src, _ := openT(t, Options{})
	fullStore(t, src)
	update(t, src, func(tx store.Tx) error {
		_, err := tx.AppendAudit(store.AuditEvent{WorkspaceID: store.GlobalAuditWorkspace, Actor: "root", Action: "store.backup", Target: "store", Time: t0})
		return err
	})
	snap := export(t, src)
	var found bool
	for _, ev := range snap.Audit {
		found = found || (ev.WorkspaceID == store.GlobalAuditWorkspace && ev.Action == "store.backup" && ev.Actor == "root")
	}
	if !found {
		t.Fatalf("export lacks the store-wide event: %+v", snap.Audit)
	}
	data1, back := jsonRoundTrip(t, snap)
	dst, _ := openT(t, Options{})
	update(t, dst, func(tx store.Tx) error { return store.Import(tx, back) })
	data2, _ := jsonRoundTrip(t, export(t, dst))
	if !bytes.Equal(data1, data2) {
		t.Errorf("snapshot differs after export → import → export:\n%s\n----\n%s", data1, data2)
	}
}
