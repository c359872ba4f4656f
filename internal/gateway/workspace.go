package gateway

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/route"
)

// refReader reads a reference (a workspace's or an organization's id or
// slug) from where a handler is configured to find it: a path parameter,
// a header, the query or a Caddy placeholder.
type refReader struct {
	source WorkspaceSource
	// queryKey and queryName are the query key of a "query" source, or
	// of a placeholder source that reads the query, and its normalized
	// form; headerKey the header a "header" source, or a placeholder
	// source, reads.
	queryKey  string
	queryName paramName
	headerKey string
}

// newRefReader prepares a reader for a normalized source.
func newRefReader(source WorkspaceSource) refReader {
	rr := refReader{source: source}
	switch source.From {
	case FromQuery:
		rr.queryKey = source.Name
	case FromHeader:
		rr.headerKey = source.Name
	case FromPlaceholder:
		// A placeholder that reads the query or a header reads the first
		// copy: the request is checked for a second one as for the
		// query and header sources.
		for _, prefix := range []string{"http.request.uri.query.", "query."} {
			if key, ok := strings.CutPrefix(source.Name, prefix); ok && key != "" {
				rr.queryKey = key
			}
		}
		for _, prefix := range []string{"http.request.header.", "header."} {
			if key, ok := strings.CutPrefix(source.Name, prefix); ok && key != "" {
				rr.headerKey = textproto.CanonicalMIMEHeaderKey(key)
			}
		}
	}
	if rr.queryKey != "" {
		rr.queryName = normalizeParamName(rr.queryKey)
	}
	return rr
}

// workspaceRef extracts the workspace reference of r.
func (p *Policy) workspaceRef(r *http.Request, ph Placeholders, params *route.Params) (ref string, ok bool) {
	return p.ws.read(r, ph, params)
}

// read extracts the reference from where the source says. ok is false
// when the request names it more than once, in any spelling an upstream
// might read as the same name: a gateway and an upstream that pick
// different copies would authorize one workspace (or organization) and
// serve another (parameter pollution).
func (rr *refReader) read(r *http.Request, ph Placeholders, params *route.Params) (ref string, ok bool) {
	switch rr.source.From {
	case FromParam:
		ref, _ = params.Get(rr.source.Name)
		return ref, true
	case FromHeader:
		return workspaceHeader(r.Header, rr.source.Name)
	case FromQuery:
		return queryValue(r.URL.RawQuery, rr.queryKey, rr.queryName)
	case FromPlaceholder:
		if rr.queryKey != "" {
			if _, ok := queryValue(r.URL.RawQuery, rr.queryKey, rr.queryName); !ok {
				return "", false
			}
		}
		if rr.headerKey != "" {
			if _, ok := workspaceHeader(r.Header, rr.headerKey); !ok {
				return "", false
			}
		}
		if ph != nil {
			ref, _ = ph.GetString(rr.source.Name)
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
