// Package storeopen opens a Gatehouse store from the one string a user
// writes for it: a bbolt file path or a PostgreSQL URL. The CLI's --store
// and the Caddy config both come through here, so both accept the same
// spellings and both name a store the same, redacted, way.
package storeopen

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// Options says how to open a store. The bbolt fields are ignored for a
// PostgreSQL URL and the PostgreSQL fields for a path.
type Options struct {
	// ReadOnly opens the store for reading only (`gatehouse store stats`,
	// `export`). bbolt: a read-only open, which several processes may
	// share; the file must exist.
	ReadOnly bool
	// MustExist refuses to create a store that is not there yet. bbolt:
	// a missing file is an error naming it instead of a new empty file.
	MustExist bool
	// Timeout bounds the wait for the store: bbolt the file lock another
	// process holds (0: boltstore's default), so a store held by a
	// running server fails fast instead of hanging.
	Timeout time.Duration
	// Staleness and the consistency wait are not store options: they
	// belong to the change-feed consumer (changefeed.Options), which the
	// Caddy module configures from `store postgres { ... }`.
}

// Kind is the backend a --store value names.
type Kind uint8

const (
	// Bolt: a bbolt file path.
	Bolt Kind = iota + 1
	// Postgres: a postgres:// or postgresql:// URL.
	Postgres
)

// Accepted is the wording every error about a store value uses.
const Accepted = "a bbolt file path or a postgres:// (postgresql://) URL"

// Classify says which backend pathOrURL names. Anything of the form
// scheme://... is a URL: postgres and postgresql go to PostgreSQL, any
// other scheme is refused (a mysql:// or file:// URL is a mistake, not a
// file name to create); everything else is a bbolt path.
func Classify(pathOrURL string) (Kind, error) {
	scheme, ok := urlScheme(pathOrURL)
	if !ok {
		if pathOrURL == "" {
			return 0, errors.New("no store given: expected " + Accepted)
		}
		// postgres:host/db is a mistyped URL, not a file to create.
		if lower := strings.ToLower(pathOrURL); strings.HasPrefix(lower, "postgres:") || strings.HasPrefix(lower, "postgresql:") {
			return 0, errors.New("store " + Describe(pathOrURL) + ": a PostgreSQL URL starts with postgres:// (expected " + Accepted + ")")
		}
		return Bolt, nil
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		return Postgres, nil
	}
	return 0, fmt.Errorf("store %s: unsupported URL scheme %q: expected %s", Describe(pathOrURL), scheme, Accepted)
}

// urlScheme returns the scheme of a "scheme://..." string (RFC 3986
// scheme characters). A path such as ./a://b or C:\x has none.
func urlScheme(s string) (string, bool) {
	i := strings.Index(s, "://")
	if i <= 0 {
		return "", false
	}
	scheme := s[:i]
	for j, c := range scheme {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case j > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return "", false
		}
	}
	return scheme, true
}

// Open opens the store pathOrURL names (see Classify). Every error names
// the store by Describe, and a PostgreSQL password that a lower layer put
// into an error message is replaced before the error leaves.
func Open(ctx context.Context, pathOrURL string, opts Options) (store.Store, error) {
	kind, err := Classify(pathOrURL)
	if err != nil {
		return nil, err
	}
	if kind == Postgres {
		if _, err := ParsePostgresURL(pathOrURL); err != nil {
			return nil, err
		}
		s, err := openPostgres(ctx, pathOrURL, opts)
		if err != nil {
			return nil, redactError(fmt.Errorf("store %s: %w", Describe(pathOrURL), err), secrets(pathOrURL))
		}
		return s, nil
	}
	if opts.MustExist || opts.ReadOnly {
		if err := mustExist(pathOrURL); err != nil {
			return nil, err
		}
	}
	s, err := boltstore.Open(pathOrURL, boltstore.Options{Timeout: opts.Timeout, ReadOnly: opts.ReadOnly})
	if err != nil {
		return nil, err // boltstore names the path
	}
	return s, nil
}
