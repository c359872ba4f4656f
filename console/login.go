package console

import (
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
)

// loginData is what the login page offers.
type loginData struct {
	OIDC       bool
	IssuerHost string
	Dev        bool
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.renderLogin(w, r, http.StatusOK, "")
}

// renderLogin shows the login page, with msg on top when non-empty.
func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	d := loginData{Dev: c.opts.DevLogin != nil}
	if c.oidc != nil {
		d.OIDC, d.IssuerHost = true, c.oidc.issuerHost()
	}
	c.render(w, r, "login", status, page{Title: "Sign in", Error: msg, Data: d})
}

// devLogin signs in as whoever is typed in (demo only: Options.DevLogin).
func (c *Console) devLogin(w http.ResponseWriter, r *http.Request) {
	if c.opts.DevLogin == nil {
		c.renderLogin(w, r, http.StatusNotFound, "The development login is not enabled.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	sub := strings.TrimSpace(r.PostFormValue("subject"))
	email := strings.TrimSpace(r.PostFormValue("email"))
	if sub == "" {
		c.renderLogin(w, r, http.StatusBadRequest, "Enter a user id (subject).")
		return
	}
	tok, exp, err := c.opts.DevLogin(sub, email)
	if err != nil {
		c.opts.Logger.Error("console: dev login", zap.Error(err))
		c.renderLogin(w, r, http.StatusInternalServerError, "Could not sign in.")
		return
	}
	if limit := time.Now().Add(c.opts.SessionTTL); exp.IsZero() || exp.After(limit) {
		exp = limit
	}
	s := c.sessions.create(sub, tok, exp)
	c.setSessionCookie(w, r, s)
	c.opts.Logger.Info("console: signed in (dev_login)", zap.String("subject", sub))
	c.redirect(w, r, "/")
}

// logout ends the console session (POST with the CSRF token, through
// signedIn). An OIDC session whose provider offers end_session_endpoint
// continues to the provider's logout, which sends the browser back to the
// console's login page.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) {
	c.sessions.drop(s.id)
	c.clearSessionCookie(w, r)
	c.opts.Logger.Info("console: signed out", zap.String("subject", s.subject))
	if c.oidc != nil && s.idToken != "" {
		if p := c.oidc.discovered(); p != nil && p.endSession != "" {
			c.providerLogout(w, r, p, s)
			return
		}
	}
	c.redirect(w, r, "/login")
}

func (c *Console) routeLogin(m *http.ServeMux) {
	m.HandleFunc("GET /login", c.loginPage)
	m.HandleFunc("POST /login", c.devLogin)
	m.HandleFunc("POST /logout", c.signedIn(c.logout))
	if c.oidc != nil {
		m.HandleFunc("GET /oidc/start", c.oidcStart)
		m.HandleFunc("GET /oidc/callback", c.oidcCallback)
	}
}
