package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/storeopen"
)

// storeNamespace is the Caddy module namespace of the store backends, the
// way caddy.storage is Caddy's own: the app's `store` field holds one of
// its modules, named by the inline key "backend".
const storeNamespace = "gatehouse.stores"

// StoreBackend is a module of the gatehouse.stores namespace: the config
// of one store backend. The app opens it through the store pool, so that
// a reload shares the open store with the config it replaces.
type StoreBackend interface {
	caddy.Module
	// PoolKey names the database the backend opens: configs whose keys
	// are equal share one open store. It may hold a secret (a database
	// URL's password): it is never logged; Describe is.
	PoolKey() string
	// Describe names the store for logs and errors, secrets redacted.
	Describe() string
	// OpenEarly opens the store at Provision when that has no side effect
	// and takes nothing another process may hold; (nil, nil) leaves the
	// open to Open, at App.Start. `caddy validate` runs Provision only:
	// it must work next to a running server and create nothing.
	OpenEarly(ctx context.Context, env StoreEnv) (store.Store, error)
	// Open opens the store, creating what is missing (App.Start).
	Open(ctx context.Context, env StoreEnv) (store.Store, error)
}

// StoreEnv is what the pool gives a backend's open methods.
type StoreEnv struct {
	// Logger is the app's logger.
	Logger *zap.Logger
}

// loadStoreBackend loads the module the app's `store` field names. The
// field also takes, for configs written before the backends were modules,
// a plain JSON string: a bbolt path (or, as for `--store`, a postgres://
// URL). No field at all is the bbolt default path.
func (a *App) loadStoreBackend(ctx caddy.Context) (StoreBackend, error) {
	raw, err := storeModuleJSON(a.StoreRaw)
	if err != nil {
		return nil, fmt.Errorf("gatehouse: store: %w", err)
	}
	a.StoreRaw = raw
	v, err := ctx.LoadModule(a, "StoreRaw")
	if err != nil {
		return nil, fmt.Errorf("gatehouse: store: %w", err)
	}
	backend, ok := v.(StoreBackend)
	if !ok {
		return nil, fmt.Errorf("gatehouse: store: module %T is not a store backend", v)
	}
	return backend, nil
}

// storeModuleJSON turns what the `store` field holds into a module object
// and checks that the backend it names exists, so that a typo gets the
// list of backends rather than Caddy's bare "unknown module".
func storeModuleJSON(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return json.RawMessage(`{"backend":"bolt"}`), nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return storeStringJSON(s)
	case raw[0] != '{':
		return nil, errors.New(`expected a backend object such as {"backend":"bolt","path":"./gatehouse.db"} or a bbolt path string`)
	}
	var named struct {
		Backend *string `json:"backend"`
	}
	if err := json.Unmarshal(raw, &named); err != nil {
		return nil, err
	}
	if named.Backend == nil {
		return nil, errors.New(`the store object names no backend: add "backend": "bolt" or "backend": "postgres"`)
	}
	if _, err := caddy.GetModule(storeNamespace + "." + *named.Backend); err != nil {
		return nil, fmt.Errorf("unknown store backend %q: use %s", *named.Backend, knownBackends())
	}
	return raw, nil
}

// storeStringJSON is the module object for a plain string, classified as
// the CLI's --store is.
func storeStringJSON(s string) (json.RawMessage, error) {
	if s == "" {
		return json.RawMessage(`{"backend":"bolt"}`), nil
	}
	kind, err := storeopen.Classify(s)
	if err != nil {
		return nil, err
	}
	if kind == storeopen.Postgres {
		return json.Marshal(map[string]string{"backend": "postgres", "url": s})
	}
	return json.Marshal(map[string]string{"backend": "bolt", "path": s})
}

// knownBackends lists the registered backends, e.g. `"bolt" or "postgres"`.
func knownBackends() string {
	var names []string
	for _, m := range caddy.GetModules(storeNamespace) {
		names = append(names, fmt.Sprintf("%q", m.ID.Name()))
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
