package console

import (
	"net/http"
	"net/url"
	"strings"
)

// simulatorMethods are suggested in the method field; any upper-case token
// may be typed (the API checks it).
var simulatorMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// explanation is the API's explain answer (README "Why was I denied?").
type explanation struct {
	Rule *struct {
		Rule   string `json:"rule"`
		Source string `json:"source"`
	} `json:"rule"`
	Requirement *struct {
		Kind          string `json:"kind"`
		Permission    string `json:"permission"`
		Restrict      string `json:"restrict"`
		RestrictValue string `json:"restrict_value"`
	} `json:"requirement"`
	Roles       []string         `json:"roles"`
	Permissions []provenanceView `json:"permissions"`
	Decision    struct {
		Allowed bool   `json:"allowed"`
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Reason  string `json:"reason"`
		Detail  string `json:"detail"`
	} `json:"decision"`
}

type simulatorData struct {
	Workspace workspaceView
	Methods   []string
	// The request as typed.
	Method, Path, User string
	// Result is the API's explanation, nil before a request is simulated
	// or when the API refused to explain.
	Result     *explanation
	Subject    string // whom it was explained for
	FieldError map[string]string
}

// UserPath is the explained subject as one path segment.
func (d simulatorData) UserPath() string { return url.PathEscape(d.Subject) }

// simulator is the route simulator: method, path and member in, the
// gateway's decision out, as POST /v1/workspaces/{ws}/explain computes it
// from the store against the gateway's live rule table. A GET form: it
// changes nothing, and a simulation can be linked to.
func (c *Console) simulator(w http.ResponseWriter, r *http.Request, s *session) {
	ref := r.PathValue("ws")
	q := r.URL.Query()
	d := simulatorData{Methods: simulatorMethods, Method: strings.TrimSpace(q.Get("method")),
		Path: strings.TrimSpace(q.Get("path")), User: strings.TrimSpace(q.Get("user"))}
	if err := c.call(r, s, "GET", wsPath(ref), nil, &d.Workspace); err != nil {
		c.render(w, r, "simulator", statusOf(err), page{Title: "Route simulator", Session: s, Error: err.Error()})
		return
	}
	if d.Method == "" {
		d.Method = http.MethodGet
	}
	p := page{Title: "Route simulator", Session: s, Data: d}
	if _, asked := q["path"]; !asked {
		if d.Path == "" {
			d.Path = "/w/" + d.Workspace.Slug + "/"
		}
		p.Data = d
		c.render(w, r, "simulator", http.StatusOK, p)
		return
	}
	// An empty user is the caller: the API's default, named on the page.
	d.Subject = d.User
	if d.Subject == "" {
		d.Subject = s.subject
	}
	var ex explanation
	err := c.call(r, s, "POST", wsPath(ref)+"/explain", map[string]string{"method": d.Method, "path": d.Path, "user": d.User}, &ex)
	if err != nil {
		if pr, ok := err.(*apiProblem); ok && (pr.Field == "method" || pr.Field == "path" || pr.Field == "user") {
			d.FieldError = map[string]string{pr.Field: pr.Error()}
		} else {
			p.Error = err.Error()
		}
		p.Data = d
		c.render(w, r, "simulator", statusOf(err), p)
		return
	}
	d.Result = &ex
	p.Data = d
	c.render(w, r, "simulator", http.StatusOK, p)
}

func (c *Console) routeSimulator(m *http.ServeMux) {
	m.HandleFunc("GET /w/{ws}/simulator", c.signedIn(c.simulator))
}
