package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/storeopen"
)

func init() {
	caddy.RegisterModule(PostgresStore{})
}

// Defaults of the PostgreSQL backend (README "Several gateways on
// PostgreSQL").
const (
	defaultMaxStaleness    = time.Second
	defaultConsistencyWait = 50 * time.Millisecond
)

// PostgresStore is the PostgreSQL backend, `gatehouse.stores.postgres`:
// any number of gateway processes share one database. In a Caddyfile:
//
//	store postgres {env.GATEHOUSE_DATABASE_URL} {
//		max_staleness    1s
//		consistency_wait 50ms
//	}
type PostgresStore struct {
	// URL of the database, postgres://user:password@host:5432/db?sslmode=...
	// (postgresql:// too). Placeholders such as {env.GATEHOUSE_DATABASE_URL}
	// are resolved when the config loads: prefer one to a password
	// written into the config, which Caddy's admin API serves. The
	// password is never logged: logs and errors show it as xxxxx.
	URL string `json:"url,omitempty"`

	// MaxStaleness: a gateway whose last confirmed catch-up with the
	// database's change feed is older than this (listener down, database
	// unreachable, process paused) answers member and permission rules
	// with 503 `unavailable`, never with an allow from a cache that may be
	// stale. Default: 1s.
	MaxStaleness caddy.Duration `json:"max_staleness,omitempty"`

	// ConsistencyWait: how long a request carrying a Gatehouse-Consistency
	// token newer than the gateway's caches waits for the change feed
	// before it reads through to the database. Default: 50ms.
	ConsistencyWait caddy.Duration `json:"consistency_wait,omitempty"`

	url string // URL with its placeholders resolved
}

// CaddyModule returns the Caddy module information.
func (PostgresStore) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  storeNamespace + ".postgres",
		New: func() caddy.Module { return new(PostgresStore) },
	}
}

// Provision resolves the URL's placeholders and sets the defaults.
func (p *PostgresStore) Provision(caddy.Context) error {
	p.url = caddy.NewReplacer().ReplaceKnown(p.URL, "")
	if p.MaxStaleness == 0 {
		p.MaxStaleness = caddy.Duration(defaultMaxStaleness)
	}
	if p.ConsistencyWait == 0 {
		p.ConsistencyWait = caddy.Duration(defaultConsistencyWait)
	}
	return nil
}

// Validate checks the URL and the durations, without connecting.
func (p *PostgresStore) Validate() error {
	if p.url == "" {
		if p.URL != "" {
			return fmt.Errorf("store postgres %s: the URL is empty once its placeholders are resolved (is the environment variable set?)", p.URL)
		}
		return errors.New("store postgres: a url is required: store postgres <postgres://user:password@host:5432/database>")
	}
	if kind, err := storeopen.Classify(p.url); err != nil || kind != storeopen.Postgres {
		return fmt.Errorf("store postgres %s: not a PostgreSQL URL: expected postgres://user:password@host:5432/database (a bbolt file is `store bolt <path>`)", p.Describe())
	}
	if _, err := storeopen.ParsePostgresURL(p.url); err != nil {
		return err
	}
	for name, d := range map[string]caddy.Duration{"max_staleness": p.MaxStaleness, "consistency_wait": p.ConsistencyWait} {
		if d < 0 {
			return fmt.Errorf("store postgres: %s %s: must be positive", name, time.Duration(d))
		}
	}
	return nil
}

// PoolKey implements StoreBackend: the URL as given (resolved). It holds
// the password: the pool never logs it.
func (p *PostgresStore) PoolKey() string { return p.url }

// Describe implements StoreBackend: the URL, its password redacted.
func (p *PostgresStore) Describe() string {
	if p.url == "" {
		return p.URL
	}
	return storeopen.Describe(p.url)
}

// options implements tunedBackend.
func (p *PostgresStore) options() string {
	return fmt.Sprintf("max_staleness=%s consistency_wait=%s", time.Duration(p.MaxStaleness), time.Duration(p.ConsistencyWait))
}

// OpenEarly implements StoreBackend: never at Provision. Opening migrates
// the schema, and `caddy validate` must have no side effects.
func (p *PostgresStore) OpenEarly(context.Context, StoreEnv) (store.Store, error) {
	return nil, nil
}

// Open implements StoreBackend.
func (p *PostgresStore) Open(ctx context.Context, env StoreEnv) (store.Store, error) {
	return storeopen.Open(ctx, p.url, storeopen.Options{})
}

// feedOptions implements feedBackend: the staleness bound and the
// consistency wait are the change-feed consumer's, not the store's.
func (p *PostgresStore) feedOptions() (maxStaleness, consistencyWait time.Duration) {
	return time.Duration(p.MaxStaleness), time.Duration(p.ConsistencyWait)
}

// redactedURL is for a caddyfile error: never echo a literal password.
func redactedURL(s string) string {
	if strings.Contains(s, "://") {
		return storeopen.Describe(s)
	}
	return s
}

// Interface guards
var (
	_ StoreBackend      = (*PostgresStore)(nil)
	_ caddy.Provisioner = (*PostgresStore)(nil)
	_ caddy.Validator   = (*PostgresStore)(nil)
	_ tunedBackend      = (*PostgresStore)(nil)
	_ feedBackend       = (*PostgresStore)(nil)
)
