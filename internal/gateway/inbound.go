package gateway

import (
	"net/http"
	"net/textproto"
	"strings"
)

// overrideHeaders make some upstream frameworks serve another method or
// path than the one the gateway matched (Rails, Laravel, Symfony, Spring's
// HiddenHttpMethodFilter, IIS URL Rewrite, ...). Lower case, '-' form.
var overrideHeaders = [...]string{
	"x-http-method-override",
	"x-http-method",
	"x-method-override",
	"x-original-url",
	"x-rewrite-url",
}

// Scrub applies README "What a client cannot change" to r, before anything else, on every
// request, allowed or not: what the client sends can never remove, replace
// or add to what the gateway tells the upstream.
//
//   - Headers that read as X-Gatehouse-* (any case, '_' for '-') are
//     deleted, and so are the method and URL override headers unless
//     keepOverrides is set.
//   - Tokens of the Connection header that name such a header, or the
//     header the workspace is read from, are removed: reverse_proxy deletes
//     the headers Connection names (hop-by-hop) after the gateway has set
//     its own, so a client could otherwise delete them.
//   - The same names are removed from the request's trailers, now and
//     when the body has been read (see guardTrailers).
func (p *Policy) Scrub(r *http.Request, keepOverrides bool) {
	h := r.Header
	for name := range h {
		if isIdentityHeader(name) || !keepOverrides && isOverrideHeader(name) {
			delete(h, name)
		}
	}
	if _, ok := h["Connection"]; ok {
		p.scrubTokens(h, "Connection", keepOverrides)
	}
	p.guardTrailers(r, keepOverrides)
}

// protectedName reports whether a client may not name header name in a
// Connection token or send it as a trailer.
func (p *Policy) protectedName(name string, keepOverrides bool) bool {
	return isIdentityHeader(name) ||
		!keepOverrides && isOverrideHeader(name) ||
		p.ws.headerKey != "" && foldedEqual(name, p.ws.headerKey) ||
		p.org != nil && p.org.headerKey != "" && foldedEqual(name, p.org.headerKey)
}

// scrubTokens removes the protected names from the comma-separated
// header key (Connection or Trailer), split and trimmed exactly as
// reverse_proxy splits them (removeConnectionHeaders). A header left with
// no token is deleted.
func (p *Policy) scrubTokens(h http.Header, key string, keepOverrides bool) {
	values := h[key]
	kept := values[:0:0]
	changed := false
	for _, v := range values {
		var out []string
		for tok := range strings.SplitSeq(v, ",") {
			if t := textproto.TrimString(tok); t != "" && p.protectedName(t, keepOverrides) {
				changed = true
				continue
			}
			out = append(out, tok)
		}
		if len(out) > 0 {
			kept = append(kept, strings.Join(out, ","))
		}
	}
	switch {
	case !changed:
	case len(kept) == 0:
		delete(h, key)
	default:
		h[key] = kept
	}
}

func isOverrideHeader(name string) bool {
	// All of them start with "x-" and are 13 to 22 bytes long.
	if len(name) < 13 || len(name) > 22 || name[0]|0x20 != 'x' {
		return false
	}
	for _, o := range overrideHeaders {
		if foldedEqual(name, o) {
			return true
		}
	}
	return false
}

// foldedEqual compares header names as upstream frameworks may: ASCII
// case-insensitively, with '_' read as '-'.
func foldedEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if foldHeaderByte(a[i]) != foldHeaderByte(b[i]) {
			return false
		}
	}
	return true
}

func foldHeaderByte(c byte) byte {
	switch {
	case c == '_':
		return '-'
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	}
	return c
}
