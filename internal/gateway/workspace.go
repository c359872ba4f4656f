package gateway

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/route"
)

// workspaceRef extracts the workspace reference from where the handler is
// configured to read it. ok is false when the request names the workspace
// more than once, in any spelling an upstream might read as the same
// name: a gateway and an upstream that pick different copies would
// authorize one workspace and serve another (parameter pollution).
func (p *Policy) workspaceRef(r *http.Request, ph Placeholders, params *route.Params) (ref string, ok bool) {
	switch p.source.From {
	case FromParam:
		ref, _ = params.Get(p.source.Name)
		return ref, true
	case FromHeader:
		return workspaceHeader(r.Header, p.source.Name)
	case FromQuery:
		return queryValue(r.URL.RawQuery, p.queryKey, p.queryName)
	case FromPlaceholder:
		if p.queryKey != "" {
			if _, ok := queryValue(r.URL.RawQuery, p.queryKey, p.queryName); !ok {
				return "", false
			}
		}
		if p.headerKey != "" {
			if _, ok := workspaceHeader(r.Header, p.headerKey); !ok {
				return "", false
			}
		}
		if ph != nil {
			ref, _ = ph.GetString(p.source.Name)
		}
		return ref, true
	}
	return "", true
}

// workspaceHeader reads the canonical header name. Two values, or another
// header that frameworks fold into the same name (X-Workspace_ID, read
// as X-Workspace-Id by CGI-style servers), make the request ambiguous.
func workspaceHeader(h http.Header, name string) (value string, ok bool) {
	values := h[name]
	if len(values) > 1 {
		return "", false
	}
	for other := range h {
		if other != name && foldedEqual(other, name) {
			return "", false
		}
	}
	if len(values) == 1 {
		value = values[0]
	}
	return value, true
}

// queryValue finds key in a raw query string without building url.Values
// (no allocation unless something needs unescaping). The value is the one
// net/url would give: pairs are separated by '&' only, as since Go 1.17.
//
// ok is false when the query is ambiguous: more than one key matches the
// normalized name n (see paramName), or a key matches it without being
// exactly key once decoded. For that check, ';' separates pairs too, as
// older parsers (Python before 3.9.2, some servlet containers) read it.
func queryValue(raw, key string, n paramName) (value string, ok bool) {
	matches, exact := 0, false
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		for rest := pair; ; {
			sub, more, found := strings.Cut(rest, ";")
			k, _, _ := strings.Cut(sub, "=")
			if exactKey := isKey(k, key); exactKey || n.matches(k) {
				if !exactKey {
					return "", false
				}
				matches++
				exact = true
				if !strings.Contains(pair, ";") {
					// net/url's value runs to the next '&'; a pair with a
					// ';' in it is one net/url drops, so it names no
					// workspace (a request without one is denied), while
					// its keys still count against a second naming.
					_, value, _ = strings.Cut(pair, "=")
				}
			}
			if !found {
				break
			}
			rest = more
		}
	}
	if matches > 1 {
		return "", false
	}
	if !exact {
		return "", true
	}
	if strings.ContainsAny(value, "%+") {
		unescaped, err := url.QueryUnescape(value)
		if err != nil {
			return "", true // an undecodable value names no workspace
		}
		value = unescaped
	}
	return value, true
}

// isKey reports whether the raw query key k is exactly key once decoded.
func isKey(k, key string) bool {
	if strings.ContainsAny(k, "%+") {
		unescaped, err := url.QueryUnescape(k)
		if err != nil {
			return false
		}
		k = unescaped
	}
	return k == key
}
