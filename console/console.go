// Package console is the Gatehouse admin console (spec §12): server-rendered
// pages over the management API. It holds no authorization rule: every read
// and write is a request to the API handler, in process, carrying the
// signed-in user's bearer token, so the API's checks and audit apply and the
// console can never allow what the API refuses.
package console

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Options configures a Console.
type Options struct {
	// API is the management API handler (paths /v1/...). Required.
	API http.Handler
	// DevLogin, when set, enables the demo login form: it returns a bearer
	// token for the subject and email typed in. Anyone reaching the form
	// can sign in as anyone: demo only.
	DevLogin func(subject, email string) (token string, expires time.Time, err error)
	// OIDC, when set, enables the OpenID Connect login. At least one of
	// DevLogin and OIDC is required; both may be set.
	OIDC *OIDC
	// Secure forces the Secure flag on the console's cookies. Without it
	// they are Secure unless the request came over plain HTTP to
	// loopback (see secureCookie).
	Secure bool
	// SessionTTL caps how long a session lives (default 1h); it never
	// outlives the token it holds.
	SessionTTL time.Duration
	// MountPrefix returns the path prefix the console is served under
	// (e.g. "/console"), for links; nil means "".
	MountPrefix func(*http.Request) string
	// Logger receives the console's log lines; nil means none.
	Logger *zap.Logger
}

// Console serves the admin console.
type Console struct {
	opts     Options
	pages    map[string]*template.Template
	mux      *http.ServeMux
	sessions *sessionStore
	oidc     *oidcLogin // nil without Options.OIDC
}

// New builds a console.
func New(o Options) (*Console, error) {
	if o.API == nil {
		return nil, errors.New("console: no management API handler")
	}
	if o.DevLogin == nil && o.OIDC == nil {
		return nil, errors.New("console: no login method configured (dev_login or oidc)")
	}
	if o.OIDC != nil {
		if err := o.OIDC.Check(); err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = time.Hour
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.MountPrefix == nil {
		o.MountPrefix = func(*http.Request) string { return "" }
	}
	c := &Console{opts: o, sessions: newSessionStore(), pages: map[string]*template.Template{}}
	if o.OIDC != nil {
		c.oidc = newOIDCLogin(*o.OIDC)
	}
	if err := c.parsePages(); err != nil {
		return nil, err
	}
	assets, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, err
	}
	m := http.NewServeMux()
	m.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	// Each screen registers its own routes (one file per screen).
	for _, register := range []func(*http.ServeMux){
		c.routeLogin,
		c.routeWorkspaces,
		c.routeMembers,
		c.routeAPIKeys,
		c.routeAudit,
		c.routeEffective,
		c.routeSimulator,
		c.routeRestore,
		c.routeMemberEdit,
		c.routeRoles,
		c.routeInvites,
		c.routeOrgs,
		c.routeOrgMembers,
		c.routeProjects,
		c.routeOrgWorkspaces,
		c.routeOrgRestore,
	} {
		register(m)
	}
	c.mux = m
	return c, nil
}

var funcs = template.FuncMap{
	// wsnav is what the "wsnav" template needs: where the console is
	// mounted, the workspace's slug and the screen being shown.
	"wsnav": func(base, slug, current string) wsNav { return wsNav{base, slug, current} },
	// orgnav is the same for the organization screens ("orgnav").
	"orgnav": func(base, slug, current string) wsNav { return wsNav{base, slug, current} },
	// has reports whether list holds s (a role checkbox's state).
	"has": slices.Contains[[]string],
}

// wsNav feeds the workspace screens' navigation (layout.html "wsnav").
type wsNav struct{ Base, Slug, Current string }

// parsePages parses every page template (templates/*.html but the layout)
// together with the layout; a page's name is its file name without .html.
func (c *Console) parsePages() error {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	for _, file := range names {
		name := strings.TrimSuffix(path.Base(file), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", file)
		if err != nil {
			return err
		}
		c.pages[name] = t
	}
	return nil
}

// ServeHTTP serves the console. Every answer forbids framing, caching and
// any request to another origin.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

// base is where the console is mounted, for links and redirects.
func (c *Console) base(r *http.Request) string { return c.opts.MountPrefix(r) }

// page is what every template gets.
type page struct {
	Base    string
	Title   string
	Session *session
	CSRF    string
	Error   string // a problem without a field, shown on top
	Data    any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, name string, status int, p page) {
	p.Base = c.base(r)
	if p.Session != nil {
		p.CSRF = p.Session.csrf
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.pages[name].Execute(w, p); err != nil {
		c.opts.Logger.Error("console: rendering", zap.String("page", name), zap.Error(err))
	}
}

func (c *Console) redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, c.base(r)+path, http.StatusSeeOther)
}
