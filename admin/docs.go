package admin

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openAPI describes this API (OpenAPI 3.1). A test checks that it lists
// exactly the endpoints served and the fields each request accepts.
//
//go:embed openapi.json
var openAPI []byte

// GET /v1/openapi.json
func (a *API) getOpenAPI(c *call) error {
	return c.raw("application/json", openAPI)
}

// GET /v1/jwks.json: the public keys upstreams verify X-Gatehouse-Assertion
// with. They are public: no authentication.
func (a *API) getJWKS(c *call) error {
	if a.jwksSource != nil {
		jwks, err := a.jwksSource()
		if err != nil {
			return err
		}
		return c.raw("application/jwk-set+json", jwks)
	}
	return c.raw("application/jwk-set+json", a.jwks)
}

// raw answers a public document, cacheable for five minutes.
func (c *call) raw(contentType string, body []byte) error {
	h := c.w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "public, max-age=300")
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(body)
	return nil
}
