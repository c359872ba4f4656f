package authn

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Defaults applied by NewVerifier to zero fields of Config.
const (
	DefaultRefreshInterval    = 15 * time.Minute
	DefaultMinRefreshInterval = 30 * time.Second
	DefaultCacheSize          = 65536
	DefaultHTTPTimeout        = 10 * time.Second
	DefaultUserClaim          = "sub"
	DefaultEmailClaim         = "email"
)

// MinHMACSecretLen is the shortest HMAC secret accepted, in bytes: a
// shorter one can be brute-forced from a single token.
const MinHMACSecretLen = 32

// Config configures a Verifier. At least one key source (JWKSFile,
// JWKSURL, HMACSecret) is required; several may be combined. Error
// messages name options by their Caddyfile names (jwks_file, ...), since
// that is what a user changes.
type Config struct {
	// JWKSFile is the path of a JWK set of public keys, read once by
	// NewVerifier.
	JWKSFile string

	// JWKSURL is the https URL of a JWK set (plain http only on a
	// loopback host). It is fetched in the background: NewVerifier never
	// waits for it.
	JWKSURL string

	// RefreshInterval is how often JWKSURL is refreshed. Default 15m.
	RefreshInterval time.Duration

	// MinRefreshInterval is the minimum spacing of the refreshes that
	// tokens with an unknown kid trigger. Default 30s.
	MinRefreshInterval time.Duration

	// HMACSecret is the shared secret of HS256/384/512 tokens, at least
	// MinHMACSecretLen bytes. NewVerifier copies it.
	HMACSecret []byte

	// Issuer, when set, must equal the token's iss.
	Issuer string

	// Audience, when set, must be one of the token's aud values.
	Audience string

	// UserClaim names the claim holding the subject. Default "sub".
	UserClaim string

	// EmailClaim names the claim holding the email. Default "email".
	EmailClaim string

	// Leeway is the clock skew tolerated on exp, nbf and iat.
	Leeway time.Duration

	// HTTPClient fetches JWKSURL. Default: a client with a 10s timeout
	// that refuses redirects to URLs JWKSURL itself could not be.
	HTTPClient *http.Client

	// CacheSize bounds the verified-token cache, in entries. Default
	// 65536; negative disables the cache.
	CacheSize int

	// OnRefresh, if set, is called from the refresher goroutine after
	// every attempt to fetch JWKSURL (but one cut short by Close), with
	// its error (nil on success), for metrics and logs. The error never
	// holds key material or the response body.
	OnRefresh func(err error)

	// Now is the clock, for tests. Default time.Now.
	Now func() time.Time
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = DefaultRefreshInterval
	}
	if c.MinRefreshInterval <= 0 {
		c.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if c.UserClaim == "" {
		c.UserClaim = DefaultUserClaim
	}
	if c.EmailClaim == "" {
		c.EmailClaim = DefaultEmailClaim
	}
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout, CheckRedirect: checkJWKSRedirect}
	}
	return c
}

// check reports the first configuration error, phrased as what to change.
func (c *Config) check() error {
	if c.JWKSFile == "" && c.JWKSURL == "" && len(c.HMACSecret) == 0 {
		return errors.New("no key source configured: set jwks_file, jwks_url or hmac_secret")
	}
	if n := len(c.HMACSecret); n > 0 && n < MinHMACSecretLen {
		return fmt.Errorf("hmac_secret is %d bytes; at least %d are required (for example the output of `openssl rand -base64 48`)", n, MinHMACSecretLen)
	}
	if c.JWKSURL != "" {
		if err := checkJWKSURL(c.JWKSURL); err != nil {
			return err
		}
	}
	if c.Leeway < 0 {
		return fmt.Errorf("leeway is %s; it must not be negative", c.Leeway)
	}
	return nil
}

// checkJWKSURL accepts https URLs, and http ones on a loopback host only:
// keys fetched in clear text over a network could be replaced by anyone
// on the path.
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("jwks_url is not a valid URL: %w", err)
	}
	if !allowedJWKSURL(u) {
		return fmt.Errorf("jwks_url %s: use an https URL (plain http is accepted only for a loopback host such as 127.0.0.1 or localhost)", u.Redacted())
	}
	return nil
}

func allowedJWKSURL(u *url.URL) bool {
	switch {
	case u.Host == "":
		return false
	case u.Scheme == "https":
		return true
	case u.Scheme == "http":
		return isLoopback(u.Hostname())
	}
	return false
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// checkJWKSRedirect keeps redirects to the rules of checkJWKSURL, so an
// https JWK set cannot be downgraded to http by a redirect.
func checkJWKSRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if !allowedJWKSURL(req.URL) {
		return errors.New("refusing a redirect to a URL that is neither https nor loopback http")
	}
	return nil
}
