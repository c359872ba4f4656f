package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"sync"
	"time"
)

// sessionCookie names the console's session cookie. Its value is a random
// id; the token it maps to stays on the server.
const sessionCookie = "gatehouse_console"

// maxSessions bounds the sessions held in memory; past it, the oldest
// session is signed out to make room.
const maxSessions = 10000

// session is one signed-in user. Sessions live in memory: a restart signs
// everyone out, which fails closed.
type session struct {
	id      string
	subject string
	token   string // the bearer token every API call carries; never logged
	idToken string // the OIDC ID token, for the provider's logout (id_token_hint); never logged
	csrf    string
	created time.Time
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
	max  int
}

func newSessionStore() *sessionStore {
	return &sessionStore{byID: map[string]*session{}, max: maxSessions}
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (st *sessionStore) create(subject, token string, expires time.Time) *session {
	return st.add(&session{subject: subject, token: token, expires: expires})
}

// add stores s with a new random id and CSRF token; expired sessions are
// dropped as we go and, when the store is full, the oldest one.
func (st *sessionStore) add(s *session) *session {
	now := time.Now()
	s.id, s.csrf, s.created = randomToken(), randomToken(), now
	st.mu.Lock()
	defer st.mu.Unlock()
	evictExpiredOrOldest(st.byID, st.max, now, func(s *session) (time.Time, time.Time) { return s.created, s.expires })
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
		Expires: s.expires, HttpOnly: true, Secure: c.secureCookie(r), SameSite: http.SameSiteLaxMode,
	})
}

func (c *Console) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: c.base(r) + "/", MaxAge: -1,
		HttpOnly: true, Secure: c.secureCookie(r), SameSite: http.SameSiteLaxMode,
	})
}

// secureCookie reports whether the console's cookies get the Secure flag:
// always, unless the request came over plain HTTP to a loopback address
// under a loopback host name (a local demo or test; behind a TLS proxy on
// the same machine the Host is the public one, so the cookie is Secure),
// and always when Options.Secure is set or OIDC's redirect_url names a
// non-loopback host.
func (c *Console) secureCookie(r *http.Request) bool {
	if c.opts.Secure || (c.opts.OIDC != nil && c.opts.OIDC.secureRedirect()) {
		return true
	}
	return !plainLoopback(r)
}

// plainLoopback reports whether r came over plain HTTP, on a loopback
// connection, for a loopback host.
func plainLoopback(r *http.Request) bool {
	if r.TLS != nil {
		return false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if !isLoopbackHost(host) {
		return false
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	lh, _, err := net.SplitHostPort(local.String())
	return err == nil && isLoopbackHost(lh)
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
