package gateway

import (
	"io"
	"net/http"
)

// guardTrailers keeps protected names out of r's trailers. A client can
// declare trailers (`Trailer: X-Gatehouse-User`) and send them after the
// body; reverse_proxy forwards every trailer it finds in r.Trailer once
// the body is read. Deleting the declared keys now is not enough: net/http
// merges every trailer field the client sends into r.Trailer when the body
// reaches EOF, declared or not (mergeSetHeader). So the body is wrapped,
// and the trailers are cleaned again inside the Read that returns EOF,
// before any reader of that Read (reverse_proxy copies r.Trailer right
// there) can see them. HTTP/2 fills declared trailers at the same point.
//
// Requests that cannot carry trailers (no body, or a body of known length
// over HTTP/1.1 without a declaration) are left alone: the common GET
// costs nothing.
func (p *Policy) guardTrailers(r *http.Request, keepOverrides bool) {
	p.scrubTrailer(r.Trailer, keepOverrides)
	if _, ok := r.Header["Trailer"]; ok {
		// net/http leaves the Trailer header in place on a request that
		// is not chunked; a handler after the gateway may read it.
		p.scrubTokens(r.Header, "Trailer", keepOverrides)
	}
	if r.Body == nil || r.Body == http.NoBody || r.Trailer == nil && r.ContentLength >= 0 {
		return
	}
	r.Body = &trailerGuard{ReadCloser: r.Body, r: r, p: p, keepOverrides: keepOverrides}
}

func (p *Policy) scrubTrailer(t http.Header, keepOverrides bool) {
	for name := range t {
		if p.protectedName(name, keepOverrides) {
			delete(t, name)
		}
	}
}

// trailerGuard cleans r.Trailer whenever a Read ends the body. It reads
// the field r.Trailer at that moment: net/http may have just created it.
type trailerGuard struct {
	io.ReadCloser
	r             *http.Request
	p             *Policy
	keepOverrides bool
}

func (g *trailerGuard) Read(b []byte) (int, error) {
	n, err := g.ReadCloser.Read(b)
	if err != nil {
		g.p.scrubTrailer(g.r.Trailer, g.keepOverrides)
	}
	return n, err
}
