package admin

import (
	"io"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Audit action and target of a backup download.
const (
	actionBackup = "store.backup"
	targetStore  = "store"
)

// backupTimeFormat stamps the downloaded file's name (UTC, no colons, so
// that the name is valid on every file system).
const backupTimeFormat = "20060102T150405Z"

// GET /v1/admin/backup: a global admin downloads a consistent hot backup
// of the store, a bbolt file that `caddy run` (or boltstore.Open) accepts
// as it is.
//
// The download is audited before any byte of it is sent, and refused (503)
// if the audit event cannot be written: a copy of every tenant's data and
// of the gateway's private key never leaves unrecorded. The event belongs
// to no workspace (store.GlobalAuditWorkspace); a workspace's own audit
// list does not show it, `gatehouse store export` does, and so does the
// backup itself, since the event is committed before the copy is taken.
func (a *API) getBackup(c *call) error {
	if err := c.requireGlobalAdmin(); err != nil {
		return err
	}
	now := a.now().UTC()
	name := "gatehouse-" + now.Format(backupTimeFormat) + ".db"
	err := c.update(func(tx store.Tx) error {
		return c.audit(tx, store.GlobalAuditWorkspace, actionBackup, targetStore, map[string]string{"file": name})
	})
	if err != nil {
		return err
	}
	var sent int64
	started := false
	err = a.store.Backup(c.r.Context(), func(size int64, r io.Reader) error {
		h := c.w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		c.w.WriteHeader(http.StatusOK)
		started = true
		var err error
		sent, err = io.Copy(c.w, r)
		return err
	})
	if err != nil {
		if !started {
			return err
		}
		// The status line is gone: all that is left is to cut the
		// response short (the client sees fewer bytes than
		// Content-Length) and to log why.
		a.logger.Warn("store backup download interrupted",
			zap.String("actor", c.user()), zap.String("file", name), zap.Int64("bytes_sent", sent), zap.Error(err))
		return nil
	}
	a.logger.Info("store backup downloaded",
		zap.String("actor", c.user()), zap.String("file", name), zap.Int64("bytes", sent))
	return nil
}
