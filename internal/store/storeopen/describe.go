package storeopen

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// redacted replaces every secret in a store description.
const redacted = "xxxxx"

// secretParams are the URL query parameters libpq reads secrets from:
// postgres://host/db?password=... is as valid as postgres://u:p@host/db.
var secretParams = []string{"password", "sslpassword"}

// Describe returns pathOrURL as it is safe to print: a path as it is, a
// URL with its password (in the user info or a password query parameter)
// replaced by xxxxx. A URL that does not parse is not printed at all,
// since where its password starts is unknown. Every error and log line
// that names a store uses it.
func Describe(pathOrURL string) string {
	scheme, ok := urlScheme(pathOrURL)
	if !ok {
		return pathOrURL
	}
	u, err := url.Parse(pathOrURL)
	if err != nil {
		return scheme + "://(a URL that does not parse; not shown, it may hold a password)"
	}
	q := u.Query()
	changed := false
	for _, p := range secretParams {
		for k := range q {
			if strings.EqualFold(k, p) {
				q[k] = []string{redacted}
				changed = true
			}
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// ParsePostgresURL parses a postgres:// or postgresql:// URL. Its error
// never contains the URL: url.Parse's does, password included.
func ParsePostgresURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("store %s: not a valid URL: %v (expected postgres://user:password@host:5432/database)", Describe(raw), err)
	}
	switch strings.ToLower(u.Scheme) {
	case "postgres", "postgresql":
	default:
		return nil, fmt.Errorf("store %s: not a PostgreSQL URL: expected postgres:// or postgresql://", Describe(raw))
	}
	if u.Opaque != "" {
		return nil, fmt.Errorf("store %s: not a valid URL: expected postgres://user:password@host:5432/database", Describe(raw))
	}
	return u, nil
}

// secrets lists the passwords a URL carries, to scrub them from errors.
func secrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	if p, ok := u.User.Password(); ok && p != "" {
		out = append(out, p, url.QueryEscape(p), url.PathEscape(p))
	}
	for k, vs := range u.Query() {
		for _, p := range secretParams {
			if strings.EqualFold(k, p) {
				for _, v := range vs {
					if v != "" {
						out = append(out, v, url.QueryEscape(v))
					}
				}
			}
		}
	}
	return out
}

// redactError hides secrets in err's message while keeping err for
// errors.Is and errors.As. A driver that echoes a connection string into
// an error must not carry the password into a log or a problem detail.
func redactError(err error, secrets []string) error {
	if err == nil || len(secrets) == 0 {
		return err
	}
	return &redactedError{err: err, secrets: secrets}
}

type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string {
	msg := e.err.Error()
	for _, s := range e.secrets {
		msg = strings.ReplaceAll(msg, s, redacted)
	}
	return msg
}

func (e *redactedError) Unwrap() error { return e.err }
