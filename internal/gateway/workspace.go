package gateway

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/route"
)

// workspaceRef extracts the workspace reference from where the handler is
// configured to read it. ok is false when the request names the workspace
// more than once: a gateway and an upstream that pick different copies would
// authorize one workspace and serve another (parameter pollution).
func (p *Policy) workspaceRef(r *http.Request, ph Placeholders, params *route.Params) (ref string, ok bool) {
	switch p.source.From {
	case FromParam:
		ref, _ = params.Get(p.source.Name)
		return ref, true
	case FromHeader:
		values := r.Header[p.source.Name]
		if len(values) > 1 {
			return "", false
		}
		if len(values) == 1 {
			ref = values[0]
		}
		return ref, true
	case FromQuery:
		return queryValue(r.URL.RawQuery, p.source.Name)
	case FromPlaceholder:
		if ph != nil {
			ref, _ = ph.GetString(p.source.Name)
		}
		return ref, true
	}
	return "", true
}

// queryValue finds key in a raw query string without building url.Values
// (no allocation unless something needs unescaping). Only '&' separates
// pairs, as in net/url since Go 1.17.
func queryValue(raw, key string) (value string, ok bool) {
	found := false
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(k, "%+") {
			unescaped, err := url.QueryUnescape(k)
			if err != nil {
				continue
			}
			k = unescaped
		}
		if k != key {
			continue
		}
		if found {
			return "", false
		}
		found, value = true, v
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
