package caddymodule

import (
	"context"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// staleListMax caps the uses one warning lists; the count covers them all.
const staleListMax = 20

// stalePageSize is the page of the scan over workspaces, members and keys.
const stalePageSize = 500

// warnStalePermissions logs one warning naming the stored custom roles,
// member grants or denies and API keys whose patterns no longer match the
// catalog — after a reload that dropped a permission, say. They keep
// working for what still exists (an unknown pattern grants nothing), but
// the operator should know which records to fix. It runs in the background
// after Start: a large store must not delay a reload.
func (a *App) warnStalePermissions() {
	catalog, db, logger := a.catalog, a.shared, a.logger
	go func() {
		uses, missing, err := staleUses(db, catalog)
		if err != nil {
			logger.Debug("checking stored permissions against the catalog", zap.Error(err))
			return
		}
		if len(uses) == 0 {
			return
		}
		listed := uses
		if len(listed) > staleListMax {
			listed = listed[:staleListMax]
		}
		logger.Warn("stored roles, grants or API keys use permissions the catalog does not have: they grant nothing until the permissions are declared again or the records are fixed",
			zap.Strings("missing_permissions", missing),
			zap.Int("records", len(uses)),
			zap.Strings("uses", listed))
	}()
}

// staleUses scans the store. Each use reads
// "<workspace id> role|member|api_key <slug|user id|key id>: <patterns>".
func staleUses(db store.Store, catalog *authz.Catalog) (uses, missing []string, err error) {
	seen := map[string]bool{}
	check := func(ws, kind, id string, patterns ...[]string) {
		var bad []string
		for _, list := range patterns {
			for _, p := range list {
				if catalog.CheckPattern(p) != nil {
					bad = append(bad, p)
					if !seen[p] {
						seen[p] = true
						missing = append(missing, p)
					}
				}
			}
		}
		if len(bad) > 0 {
			uses = append(uses, ws+" "+kind+" "+id+": "+strings.Join(bad, ", "))
		}
	}
	err = db.View(context.Background(), func(tx store.Tx) error {
		// A backend may run fn again: only the last run counts.
		uses, missing = uses[:0], missing[:0]
		clear(seen)
		return eachPage(func(cursor string) (string, error) {
			wss, next, err := tx.Workspaces(cursor, stalePageSize)
			for _, ws := range wss {
				if err := staleInWorkspace(tx, ws.ID, check); err != nil {
					return "", err
				}
			}
			return next, err
		})
	})
	slices.Sort(missing)
	return uses, missing, err
}

func staleInWorkspace(tx store.Tx, ws string, check func(ws, kind, id string, patterns ...[]string)) error {
	roles, err := tx.Roles(ws)
	if err != nil {
		return err
	}
	for _, r := range roles {
		check(ws, "role", r.Slug, r.Permissions)
	}
	err = eachPage(func(cursor string) (string, error) {
		ms, next, err := tx.Members(ws, cursor, stalePageSize)
		for _, m := range ms {
			check(ws, "member", m.UserID, m.Grants, m.Denies)
		}
		return next, err
	})
	if err != nil {
		return err
	}
	return eachPage(func(cursor string) (string, error) {
		keys, next, err := tx.APIKeys(ws, cursor, stalePageSize)
		for _, k := range keys {
			if k.RevokedAt == nil {
				check(ws, "api_key", k.ID, k.Permissions)
			}
		}
		return next, err
	})
}

// eachPage calls page with "" and then each next cursor until it is "".
func eachPage(page func(cursor string) (next string, err error)) error {
	cursor := ""
	for {
		next, err := page(cursor)
		if err != nil || next == "" {
			return err
		}
		cursor = next
	}
}
