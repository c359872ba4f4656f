package authn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// fetchTimeout bounds one fetch even with an HTTPClient without timeout:
// a stuck fetch would stall every later refresh.
const fetchTimeout = 30 * time.Second

// fetchKeys downloads and filters the JWK set at url. Errors describe what
// went wrong without echoing the response body.
func fetchKeys(ctx context.Context, client *http.Client, url string) ([]*verificationKey, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching JWK set: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching JWK set: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching JWK set: unexpected HTTP status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading JWK set: %w", err)
	}
	if len(body) > maxJWKSSize {
		return nil, fmt.Errorf("JWK set is larger than %d bytes", maxJWKSSize)
	}
	// A provider may publish key types we do not know: skip them rather
	// than lose the whole set.
	set, err := jwk.Parse(body, jwk.WithIgnoreParseError(true))
	if err != nil {
		return nil, fmt.Errorf("JWK set is not valid: %w", err)
	}
	keys := usableKeys(set)
	if len(keys) == 0 {
		// Keeping the last good set beats installing an empty one: an
		// empty answer is far more likely a provider hiccup than the
		// retirement of every key.
		return nil, errors.New("JWK set has no usable signature key (" + usableKeyRules + ")")
	}
	return keys, nil
}
