package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testBackup: Backup hands fn exactly size bytes; fn's error comes back as
// is; fn can write to the store (no transaction is held while it runs); a write after Backup returns is not in the copy; where the backend
// can open a copy (Backend.OpenBackup), it holds the store's data. A
// cancelled context fails.
func testBackup(t *testing.T, b Backend) {
	s := b.Open(t)
	seedFull(t, s)
	want := export(t, s)
	var data []byte
	err := s.Backup(t.Context(), func(size int64, r io.Reader) error {
		var err error
		data, err = io.ReadAll(r)
		if err == nil && int64(len(data)) != size {
			t.Errorf("Backup: read %d bytes, size said %d", len(data), size)
		}
		return err
	})
	noErr(t, "Backup", err)
	if len(data) == 0 {
		t.Fatal("Backup handed over no bytes")
	}
	seedWorkspace(t, s, "ws_after", "after")

	// No transaction is held while fn runs: a write from inside fn
	// finishes (under a deadline, so a backend that blocks fails rather
	// than hangs).
	err = s.Backup(t.Context(), func(int64, io.Reader) error {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		return s.Update(ctx, func(tx store.Tx) error { return tx.PutWorkspace(ws("ws_during", "during")) })
	})
	noErr(t, "an Update from inside Backup's fn", err)

	errFn := errors.New("client went away")
	err = s.Backup(t.Context(), func(int64, io.Reader) error { return errFn })
	if err != errFn {
		t.Errorf("Backup returned %v, want fn's error as is", err)
	}
	ctx, cancel := contextCancelled(t)
	defer cancel()
	err = s.Backup(ctx, func(int64, io.Reader) error { t.Error("Backup ran fn under a cancelled context"); return nil })
	if err == nil {
		t.Error("Backup with a cancelled context succeeded")
	}

	if b.OpenBackup == nil {
		t.Log("Backend.OpenBackup is nil: the copy's content is not checked")
		return
	}
	cp := b.OpenBackup(t, bytes.Clone(data))
	equal(t, "the backup's content", export(t, cp), want)
}
