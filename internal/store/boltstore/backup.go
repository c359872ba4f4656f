package boltstore

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.etcd.io/bbolt"
)

// backupPattern names the spool files of Backup, next to the store file.
const backupPattern = ".gatehouse-backup-*.tmp"

// Backup implements store.Store: a hot backup, the store file as of one
// read transaction (bbolt's tx.WriteTo), which Open accepts as a store.
//
// Why the copy is spooled to a temporary file first, instead of being
// written straight to the caller: a bbolt read transaction holds the lock
// that the writer needs to remap the file when it grows. Streaming to a
// slow or stalled network client inside the View would block every write
// that grows the file for as long as the download lasts. Copying to local
// disk takes about as long as reading the file; the transaction ends
// there, and fn then reads the spool at whatever pace it likes.
//
// The spool lives in the store's directory (created 0700 by Open, and
// usually the only place sized for a second copy of the store; /tmp may
// be a small tmpfs), with mode 0600, and is unlinked as soon as it is
// created where the OS allows it, so that no copy of the store (which
// holds the gateway's private key) outlives the call, even after a crash.
func (s *Store) Backup(ctx context.Context, fn func(size int64, r io.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return ErrClosed
	}
	spool, err := os.CreateTemp(filepath.Dir(s.path), backupPattern)
	if err != nil {
		return fmt.Errorf("store %s: creating the backup spool file: %w", s.path, err)
	}
	// Unix lets an open file be unlinked; elsewhere remove it after Close.
	unlinked := os.Remove(spool.Name()) == nil
	defer func() {
		_ = spool.Close()
		if !unlinked {
			_ = os.Remove(spool.Name())
		}
	}()

	var size int64
	err = s.db.View(func(tx *bbolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := tx.WriteTo(spool)
		if err != nil {
			return err
		}
		if n != tx.Size() {
			return fmt.Errorf("wrote %d bytes of a %d-byte database", n, tx.Size())
		}
		size = n
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("store %s: backup: %w", s.path, s.mapErr(err))
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("store %s: backup: rewinding the spool file: %w", s.path, err)
	}
	return fn(size, io.LimitReader(spool, size))
}
