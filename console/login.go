package console

import (
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"
)

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, "login", http.StatusOK, page{Title: "Sign in"})
}

// devLogin signs in as whoever is typed in (demo only: Options.DevLogin).
func (c *Console) devLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	sub := strings.TrimSpace(r.PostFormValue("subject"))
	email := strings.TrimSpace(r.PostFormValue("email"))
	if sub == "" {
		c.render(w, r, "login", http.StatusBadRequest, page{Title: "Sign in", Error: "Enter a user id (subject)."})
		return
	}
	tok, exp, err := c.opts.DevLogin(sub, email)
	if err != nil {
		c.opts.Logger.Error("console: dev login", zap.Error(err))
		c.render(w, r, "login", http.StatusInternalServerError, page{Title: "Sign in", Error: "Could not sign in."})
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

func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) {
	c.sessions.drop(s.id)
	c.clearSessionCookie(w, r)
	c.redirect(w, r, "/login")
}

func (c *Console) routeLogin(m *http.ServeMux) {
	m.HandleFunc("GET /login", c.loginPage)
	m.HandleFunc("POST /login", c.devLogin)
	m.HandleFunc("POST /logout", c.signedIn(c.logout))
}
