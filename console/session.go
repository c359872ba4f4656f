package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// sessionCookie names the console's session cookie. Its value is a random
// id; the token it maps to stays on the server.
const sessionCookie = "gatehouse_console"

// session is one signed-in user. Sessions live in memory: a restart signs
// everyone out, which fails closed.
type session struct {
	id      string
	subject string
	token   string // the bearer token every API call carries; never logged
	csrf    string
	expires time.Time

	mu sync.Mutex
	// consistency is the Gatehouse-Revision of the session's last write,
	// sent as Gatehouse-Consistency on every later read so the next
	// screen is never older than the change just made.
	consistency string
}

func (s *session) Subject() string { return s.subject }

func (s *session) lastRevision() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.consistency
}

func (s *session) sawRevision(tok string) {
	if tok == "" {
		return
	}
	s.mu.Lock()
	s.consistency = tok
	s.mu.Unlock()
}

type sessionStore struct {
	mu   sync.Mutex
	byID map[string]*session
}

func newSessionStore() *sessionStore { return &sessionStore{byID: map[string]*session{}} }

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (st *sessionStore) create(subject, token string, expires time.Time) *session {
	s := &session{id: randomToken(), subject: subject, token: token, csrf: randomToken(), expires: expires}
	st.mu.Lock()
	defer st.mu.Unlock()
	now := time.Now()
	for id, old := range st.byID { // drop expired ones as we go
		if now.After(old.expires) {
			delete(st.byID, id)
		}
	}
	st.byID[s.id] = s
	return s
}

func (st *sessionStore) get(id string) *session {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.byID[id]
	if s == nil {
		return nil
	}
	if time.Now().After(s.expires) {
		delete(st.byID, id)
		return nil
	}
	return s
}

func (st *sessionStore) drop(id string) {
	st.mu.Lock()
	delete(st.byID, id)
	st.mu.Unlock()
}

func (c *Console) setSessionCookie(w http.ResponseWriter, r *http.Request, s *session) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: s.id, Path: c.base(r) + "/",
		Expires: s.expires, HttpOnly: true, Secure: c.opts.Secure, SameSite: http.SameSiteLaxMode,
	})
}

func (c *Console) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: c.base(r) + "/", MaxAge: -1,
		HttpOnly: true, Secure: c.opts.Secure, SameSite: http.SameSiteLaxMode,
	})
}

type sessionHandler func(w http.ResponseWriter, r *http.Request, s *session)

// signedIn runs h with the request's session, or sends the browser to the
// login page. A POST must carry the session's CSRF token in the form field
// "csrf" (session-bound): a cross-site form cannot read it.
func (c *Console) signedIn(h sessionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var s *session
		if ck, err := r.Cookie(sessionCookie); err == nil {
			s = c.sessions.get(ck.Value)
		}
		if s == nil {
			if r.Method != http.MethodGet {
				http.Error(w, "not signed in", http.StatusUnauthorized)
				return
			}
			c.redirect(w, r, "/login")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			got := r.PostFormValue("csrf")
			if subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) != 1 {
				http.Error(w, "invalid or missing CSRF token: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		h(w, r, s)
	}
}
