package caddymodule

import (
	"errors"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
)

// JWTConfig configures how bearer JWTs are verified. At least one key
// source (JWKSFile, JWKSURL, HMACSecret) is required; several may be
// combined.
type JWTConfig struct {
	// JWKSFile is the path of a JWK set with the public keys tokens are
	// signed with. Loaded at provision (each config reload re-reads it).
	JWKSFile string `json:"jwks_file,omitempty"`

	// JWKSURL is an identity provider's JWK set URL. It is fetched in the
	// background and refreshed every JWKSRefresh; a token naming an
	// unknown key id triggers an early, rate-limited refresh. Until the
	// first fetch succeeds, tokens it would verify are answered 503.
	JWKSURL string `json:"jwks_url,omitempty"`

	// JWKSRefresh is the refresh interval of JWKSURL. Default: 15m.
	JWKSRefresh caddy.Duration `json:"jwks_refresh,omitempty"`

	// HMACSecret is a shared secret for HS256/384/512 tokens, at least 32
	// bytes. Placeholders such as {env.GATEHOUSE_HMAC} are resolved at
	// provision, so the secret need not be written in the config.
	HMACSecret string `json:"hmac_secret,omitempty"`

	// Issuer, when set, must equal the token's iss claim.
	Issuer string `json:"issuer,omitempty"`

	// Audience, when set, must be one of the token's aud values.
	Audience string `json:"audience,omitempty"`

	// UserClaim names the claim holding the user id. Default: "sub".
	UserClaim string `json:"user_claim,omitempty"`

	// EmailClaim names the claim holding the email. Default: "email".
	EmailClaim string `json:"email_claim,omitempty"`

	// Leeway is the clock skew tolerated on exp, nbf and iat. Default: 0.
	Leeway caddy.Duration `json:"leeway,omitempty"`

	// TokenCacheSize bounds the verified-token cache (entries). Default:
	// 65536; -1 disables the cache.
	TokenCacheSize int `json:"token_cache_size,omitempty"`
}

func (c *JWTConfig) newVerifier(ctx caddy.Context, logger *zap.Logger) (*authn.Verifier, error) {
	secret := ""
	if c.HMACSecret != "" {
		secret = caddy.NewReplacer().ReplaceKnown(c.HMACSecret, "")
		if secret == "" {
			return nil, errors.New("gatehouse: jwt hmac_secret is empty after resolving placeholders: is the environment variable set?")
		}
	}
	cfg := authn.Config{
		JWKSFile:        c.JWKSFile,
		JWKSURL:         c.JWKSURL,
		RefreshInterval: time.Duration(c.JWKSRefresh),
		Issuer:          c.Issuer,
		Audience:        c.Audience,
		UserClaim:       c.UserClaim,
		EmailClaim:      c.EmailClaim,
		Leeway:          time.Duration(c.Leeway),
		CacheSize:       c.TokenCacheSize,
		OnRefresh:       jwksRefreshObserver(logger, c.JWKSURL),
	}
	if secret != "" {
		cfg.HMACSecret = []byte(secret)
	}
	v, err := authn.NewVerifier(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("gatehouse: jwt: %w", err)
	}
	return v, nil
}

// jwksRefreshObserver counts refreshes and logs failures (the URL, never a
// key).
func jwksRefreshObserver(logger *zap.Logger, url string) func(error) {
	return func(err error) {
		if err != nil {
			jwksRefreshes.WithLabelValues("failure").Inc()
			logger.Warn("refreshing JWK set failed; keeping the last good set", zap.String("jwks_url", url), zap.Error(err))
			return
		}
		jwksRefreshes.WithLabelValues("success").Inc()
	}
}
