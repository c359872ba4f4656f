// Package admin is Gatehouse's management REST API (spec §6) as plain
// net/http handlers. It knows nothing of Caddy: caddymodule mounts it with
// the gatehouse_api directive.
package admin

import (
	"net/http"
	"strconv"

	"github.com/gatehouse-authz/gatehouse/internal/problem"
)

// Options configure the API.
type Options struct {
	// JWKS is the public JWK set of the gateway's assertion keys (JSON).
	JWKS []byte
}

// API serves the management API.
type API struct {
	mux  *http.ServeMux
	jwks []byte
}

// New returns the management API. Until the workspace endpoints land, it
// serves the gateway's public keys and answers 501 to everything else.
func New(opts Options) *API {
	a := &API{mux: http.NewServeMux(), jwks: opts.JWKS}
	a.mux.HandleFunc("GET /v1/jwks.json", a.getJWKS)
	a.mux.HandleFunc("/", notImplemented)
	return a
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// getJWKS publishes the public keys upstreams verify X-Gatehouse-Assertion
// with. They are public: no authentication.
func (a *API) getJWKS(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Content-Length", strconv.Itoa(len(a.jwks)))
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(a.jwks)
}

func notImplemented(w http.ResponseWriter, _ *http.Request) {
	problem.Write(w, problem.New(http.StatusNotImplemented, problem.CodeNotImplemented,
		"the management API is not implemented yet"))
}
