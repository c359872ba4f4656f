package console

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"go.uber.org/zap"
	"golang.org/x/oauth2"
)

// oidcStart begins a sign-in: a new state, nonce and PKCE verifier, kept
// on the server (see flowStore) under the id in a 10-minute cookie, and a
// redirect to the provider's authorization endpoint. It is a GET link,
// not a form: the console's CSP (form-action 'self') would stop a form
// submission from being redirected to the provider.
func (c *Console) oidcStart(w http.ResponseWriter, r *http.Request) {
	p, err := c.oidc.discover(r.Context())
	if err != nil {
		c.opts.Logger.Warn("console: oidc discovery failed; the next login tries again", zap.Error(err))
		c.renderLogin(w, r, http.StatusServiceUnavailable,
			"The identity provider is unreachable ("+c.oidc.issuerHost()+"): try again in a moment. If it persists, check the console's oidc issuer.")
		return
	}
	f := &flow{state: randomToken(), nonce: randomToken(), verifier: oauth2.GenerateVerifier(), redirectURL: c.callbackURL(r)}
	id := c.oidc.flows.add(f)
	http.SetCookie(w, &http.Cookie{
		Name: flowCookie, Value: id, Path: c.base(r) + "/oidc/", MaxAge: int(flowTTL / time.Second),
		HttpOnly: true, Secure: c.secureCookie(r), SameSite: http.SameSiteLaxMode, // Lax: the provider's redirect back is a top-level GET
	})
	cfg := p.oauth
	cfg.RedirectURL = f.redirectURL
	http.Redirect(w, r, cfg.AuthCodeURL(f.state, oauth2.S256ChallengeOption(f.verifier), oidc.Nonce(f.nonce)), http.StatusSeeOther)
}

// loginFailure is a refused callback: what the page says and a short
// reason for the log (never a token, code or verifier).
type loginFailure struct {
	status int
	msg    string
	reason string
}

func (e *loginFailure) Error() string { return e.reason }

func refuse(status int, reason, msg string) *loginFailure {
	return &loginFailure{status: status, msg: msg, reason: reason}
}

// oidcCallback finishes a sign-in. Every failure ends on the login page
// with what went wrong and creates no session.
func (c *Console) oidcCallback(w http.ResponseWriter, r *http.Request) {
	// The flow serves this one callback, whatever happens next.
	var f *flow
	if ck, err := r.Cookie(flowCookie); err == nil {
		f = c.oidc.flows.take(ck.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: c.base(r) + "/oidc/", MaxAge: -1,
		HttpOnly: true, Secure: c.secureCookie(r), SameSite: http.SameSiteLaxMode})
	s, err := c.finishLogin(r, f)
	if err != nil {
		var lf *loginFailure
		if !errors.As(err, &lf) {
			lf = refuse(http.StatusBadGateway, "internal", "Could not sign in.")
			c.opts.Logger.Error("console: oidc sign-in", zap.Error(err))
		}
		c.opts.Logger.Warn("console: oidc sign-in refused", zap.String("reason", lf.reason))
		c.renderLogin(w, r, lf.status, lf.msg)
		return
	}
	c.setSessionCookie(w, r, s)
	c.opts.Logger.Info("console: signed in (oidc)", zap.String("subject", s.subject), zap.Time("expires", s.expires))
	c.redirect(w, r, "/")
}

func (c *Console) finishLogin(r *http.Request, f *flow) (*session, error) {
	again := " Sign in again."
	if f == nil {
		return nil, refuse(http.StatusBadRequest, "no_flow",
			"This sign-in was not started in this browser, took longer than 10 minutes, or was already used."+again)
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.state)) != 1 {
		return nil, refuse(http.StatusBadRequest, "state_mismatch",
			"The identity provider's answer does not belong to the sign-in this browser started (state mismatch)."+again)
	}
	if e := q.Get("error"); e != "" {
		msg := "The identity provider refused the sign-in: " + e
		if d := q.Get("error_description"); d != "" {
			msg += " (" + d + ")"
		}
		return nil, refuse(http.StatusUnauthorized, "provider_error", msg+".")
	}
	code := q.Get("code")
	if code == "" {
		return nil, refuse(http.StatusBadRequest, "no_code", "The identity provider sent no authorization code."+again)
	}
	p := c.oidc.discovered()
	if p == nil { // the flow was started after a discovery; this cannot happen
		return nil, refuse(http.StatusBadGateway, "no_provider", "The identity provider is unreachable."+again)
	}
	ctx, cancel := context.WithTimeout(r.Context(), c.oidc.cfg.DiscoveryTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.oidc.client)
	cfg := p.oauth
	cfg.RedirectURL = f.redirectURL
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) { // its Body is the provider's; keep it out of logs and pages
			return nil, refuse(http.StatusBadGateway, "exchange_refused:"+re.ErrorCode,
				"The identity provider did not accept the authorization code ("+orUnknown(re.ErrorCode)+")."+again)
		}
		return nil, refuse(http.StatusBadGateway, "exchange_failed", "The identity provider is unreachable (the code exchange failed)."+again)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, refuse(http.StatusBadGateway, "no_id_token", "The identity provider returned no ID token: is the openid scope allowed for this client?")
	}
	idt, err := p.verifier.Verify(ctx, rawID)
	if err != nil {
		var exp *oidc.TokenExpiredError
		if errors.As(err, &exp) {
			return nil, refuse(http.StatusUnauthorized, "id_token_expired", "The identity provider's ID token has expired: check the clocks of this server and the provider."+again)
		}
		// go-oidc's messages name the check (issuer, audience, signature)
		// and the values involved, never the token.
		return nil, refuse(http.StatusUnauthorized, "id_token_invalid", "The identity provider's ID token is not valid: "+err.Error()+".")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.nonce)) != 1 {
		return nil, refuse(http.StatusUnauthorized, "nonce_mismatch", "The ID token was not issued for this sign-in (nonce mismatch)."+again)
	}
	bearer, expires := rawID, idt.Expiry
	if c.oidc.cfg.Bearer == BearerAccessToken {
		if tok.AccessToken == "" {
			return nil, refuse(http.StatusBadGateway, "no_access_token", "The identity provider returned no access token; set `bearer id_token` if the API should be given the ID token.")
		}
		if idt.AccessTokenHash != "" {
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				return nil, refuse(http.StatusUnauthorized, "at_hash_mismatch", "The access token does not belong to the ID token (at_hash mismatch)."+again)
			}
		}
		bearer, expires = tok.AccessToken, tok.Expiry
	}
	if limit := time.Now().Add(c.opts.SessionTTL); expires.IsZero() || expires.After(limit) {
		expires = limit
	}
	// The API, not the console, decides who this is: GET /v1/me with the
	// token, through the API's own jwt verification.
	probe := &session{token: bearer}
	var me meView
	if err := c.call(r, probe, "GET", "/v1/me", nil, &me); err != nil {
		detail := err.Error()
		var pr *apiProblem
		if errors.As(err, &pr) && (pr.Status == http.StatusUnauthorized || pr.Status == http.StatusForbidden) {
			return nil, refuse(http.StatusUnauthorized, "api_refused_token",
				"The management API did not accept the identity provider's token: "+detail+". "+c.trustHint(bearer))
		}
		return nil, refuse(http.StatusBadGateway, "api_failed", "The management API could not be asked who you are: "+detail)
	}
	if me.ID == "" {
		return nil, refuse(http.StatusBadGateway, "api_no_user", "The management API named no user for the identity provider's token.")
	}
	s := &session{subject: me.ID, token: bearer, idToken: rawID, expires: expires}
	return c.sessions.add(s), nil
}

// trustHint says what the API's jwt block must trust for the token the
// console presents. The token's iss and aud are read without checking the
// signature: for this message only, never to decide anything.
func (c *Console) trustHint(bearer string) string {
	iss, aud := c.oidc.cfg.Issuer, "the token's audience"
	if c.oidc.cfg.Bearer == BearerIDToken {
		aud = c.oidc.cfg.ClientID
	}
	if parts := strings.Split(bearer, "."); len(parts) == 3 {
		var claims struct {
			Iss string          `json:"iss"`
			Aud json.RawMessage `json:"aud"`
		}
		if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil && json.Unmarshal(b, &claims) == nil {
			if claims.Iss != "" {
				iss = claims.Iss
			}
			var one string
			var many []string
			if json.Unmarshal(claims.Aud, &one) == nil && one != "" {
				aud = one
			} else if json.Unmarshal(claims.Aud, &many) == nil && len(many) > 0 {
				aud = strings.Join(many, ", ")
			}
		}
	}
	return fmt.Sprintf("Configure the gatehouse jwt block to trust issuer %s and audience %s (jwks_url: the provider's JWK set).", iss, aud)
}

func orUnknown(s string) string {
	if s == "" {
		return "no error code"
	}
	return s
}

// origin is the scheme and host the browser used: http only for a
// plain-HTTP loopback request, https otherwise (behind a TLS proxy, too).
func origin(r *http.Request) string {
	scheme := "https"
	if plainLoopback(r) {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

// callbackURL is the redirect_uri: OIDC.RedirectURL, or derived from the
// request.
func (c *Console) callbackURL(r *http.Request) string {
	if u := c.oidc.cfg.RedirectURL; u != "" {
		return u
	}
	return origin(r) + c.base(r) + "/oidc/callback"
}

// loginURL is where the provider's logout sends the browser back.
func (c *Console) loginURL(r *http.Request) string {
	if u := c.oidc.cfg.RedirectURL; u != "" {
		return strings.TrimSuffix(u, "/oidc/callback") + "/login"
	}
	return origin(r) + c.base(r) + "/login"
}

// providerLogout continues the sign-out at the provider's
// end_session_endpoint. It is a page that moves on by itself (meta
// refresh, and a link) rather than a redirect: the logout form's
// submission may not be redirected to another origin under the console's
// CSP (form-action 'self').
func (c *Console) providerLogout(w http.ResponseWriter, r *http.Request, p *provider, s *session) {
	u, err := url.Parse(p.endSession)
	if err != nil {
		c.redirect(w, r, "/login")
		return
	}
	q := u.Query()
	q.Set("id_token_hint", s.idToken)
	q.Set("post_logout_redirect_uri", c.loginURL(r))
	q.Set("client_id", c.oidc.cfg.ClientID)
	u.RawQuery = q.Encode()
	c.render(w, r, "oidc_signout", http.StatusOK, page{Title: "Signing out", Data: struct{ URL, Host string }{u.String(), u.Host}})
}
