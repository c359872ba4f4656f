package console

import (
	"net/http"
	"net/url"
	"slices"
	"time"
)

// The organization screens (spec §11, §12): the list with the create
// form, and one organization's page (settings, plan, danger zone). Like
// every screen they only call the API as the signed-in user: whether a
// form is offered is a hint from the caller's own permissions there, and
// the API decides.

// orgsPageSize is how many organizations one page of the list shows.
const orgsPageSize = 50

// orgView is an organization as the API answers it.
type orgView struct {
	ID          string     `json:"id"`
	Slug        string     `json:"slug"`
	Name        string     `json:"name"`
	Plan        *planView  `json:"plan"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DeletedAt   *time.Time `json:"deleted_at"`
	Roles       []string   `json:"roles"`
	Permissions []string   `json:"permissions"`
}

// Holds reports whether the caller holds perm in the organization
// (organization.admin implies every organization permission). Only for
// what the screens offer: the API checks every write.
func (o orgView) Holds(perm string) bool {
	return slices.Contains(o.Permissions, perm) || slices.Contains(o.Permissions, "organization.admin")
}

func orgPath(ref string) string { return "/v1/orgs/" + url.PathEscape(ref) }

// orgURL is the console's address of an organization screen.
func orgURL(slug, screen string) string {
	u := "/o/" + url.PathEscape(slug)
	if screen != "" {
		u += "/" + screen
	}
	return u
}

type orgsData struct {
	Orgs       []orgView
	NextCursor string
	Form       orgView // what was typed into the create form, after a refusal
	FieldError map[string]string
	Deleted    string // the slug of an organization just deleted
}

// orgs lists the caller's organizations (all live ones for a global
// admin), with the create form.
func (c *Console) orgs(w http.ResponseWriter, r *http.Request, s *session) {
	c.orgsPage(w, r, s, orgsData{}, nil)
}

func (c *Console) orgsPage(w http.ResponseWriter, r *http.Request, s *session, d orgsData, refusal error) {
	q := url.Values{"limit": {itoa(orgsPageSize)}}
	if cur := r.URL.Query().Get("cursor"); cur != "" && r.Method == http.MethodGet {
		q.Set("cursor", cur)
	}
	var list struct {
		Items      []orgView `json:"items"`
		NextCursor string    `json:"next_cursor"`
	}
	p := page{Title: "Organizations", Session: s}
	if err := c.call(r, s, "GET", "/v1/orgs?"+q.Encode(), nil, &list); err != nil {
		p.Error = err.Error()
		c.render(w, r, "orgs", statusOf(err), p)
		return
	}
	d.Orgs, d.NextCursor = list.Items, list.NextCursor
	if r.Method == http.MethodGet {
		d.Deleted = r.URL.Query().Get("deleted")
	}
	status := http.StatusOK
	if refusal != nil {
		status = statusOf(refusal)
		d.FieldError, p.Error = fieldErrors(refusal, "name", "slug")
	}
	p.Data = d
	c.render(w, r, "orgs", status, p)
}

// createOrg is POST /v1/orgs {name, slug}; the caller becomes its owner.
func (c *Console) createOrg(w http.ResponseWriter, r *http.Request, s *session) {
	typed := orgView{Name: r.PostFormValue("name"), Slug: r.PostFormValue("slug")}
	body := map[string]string{"name": typed.Name}
	if typed.Slug != "" {
		body["slug"] = typed.Slug
	}
	var created orgView
	if err := c.call(r, s, "POST", "/v1/orgs", body, &created); err != nil {
		c.orgsPage(w, r, s, orgsData{Form: typed}, err)
		return
	}
	c.redirect(w, r, orgURL(created.Slug, "")+"?created=1")
}

type orgData struct {
	Org     orgView
	Form    orgView // the settings form: as stored, or as typed after a refusal
	Plans   []planView
	Default string
	// MayChangePlan offers the plan form: a global admin or a holder of
	// organization.billing (the API decides).
	MayChangePlan bool
	FieldError    map[string]string
	Notice        string
}

// org is one organization's page.
func (c *Console) org(w http.ResponseWriter, r *http.Request, s *session) {
	notice := ""
	switch {
	case r.URL.Query().Get("created") == "1":
		notice = "Organization created: you are its owner."
	case r.URL.Query().Get("saved") == "1":
		notice = "Saved."
	case r.URL.Query().Get("plan") == "1":
		notice = "Plan changed."
	}
	c.orgPage(w, r, s, nil, nil, notice)
}

// orgPage renders the organization page over typed (after a refusal, with
// the API's problem in refusal).
func (c *Console) orgPage(w http.ResponseWriter, r *http.Request, s *session, typed *orgView, refusal error, notice string) {
	ref := r.PathValue("org")
	d := orgData{Notice: notice, FieldError: map[string]string{}}
	p := page{Title: "Organization", Session: s}
	fail := func(err error) {
		p.Error = err.Error()
		c.render(w, r, "org", statusOf(err), p)
	}
	if err := c.call(r, s, "GET", orgPath(ref), nil, &d.Org); err != nil {
		fail(err)
		return
	}
	pl, err := c.plans(r, s)
	if err != nil {
		fail(err)
		return
	}
	var me meView
	if err := c.call(r, s, "GET", "/v1/me", nil, &me); err != nil {
		fail(err)
		return
	}
	d.Plans, d.Default = pl.Plans, pl.Default
	d.MayChangePlan = len(pl.Plans) > 0 && (me.GlobalAdmin || d.Org.Holds("organization.billing"))
	d.Form = d.Org
	if typed != nil {
		d.Form = *typed
	}
	p.Title = d.Org.Name
	status := http.StatusOK
	if refusal != nil {
		status = statusOf(refusal)
		d.FieldError, p.Error = fieldErrors(refusal, "name", "slug", "plan", "confirm")
	}
	p.Data = d
	c.render(w, r, "org", status, p)
}

// saveOrg is PATCH /v1/orgs/{org} {name, slug} (organization.settings).
func (c *Console) saveOrg(w http.ResponseWriter, r *http.Request, s *session) {
	typed := orgView{Name: r.PostFormValue("name"), Slug: r.PostFormValue("slug")}
	var saved orgView
	if err := c.call(r, s, "PATCH", orgPath(r.PathValue("org")), map[string]string{"name": typed.Name, "slug": typed.Slug}, &saved); err != nil {
		c.orgPage(w, r, s, &typed, err, "")
		return
	}
	c.redirect(w, r, orgURL(saved.Slug, "")+"?saved=1")
}

// setOrgPlan is PUT /v1/orgs/{org}/plan {plan} (a global admin or
// organization.billing).
func (c *Console) setOrgPlan(w http.ResponseWriter, r *http.Request, s *session) {
	ref := r.PathValue("org")
	if err := c.call(r, s, "PUT", orgPath(ref)+"/plan", map[string]string{"plan": r.PostFormValue("plan")}, nil); err != nil {
		c.orgPage(w, r, s, nil, planFieldError(err), "")
		return
	}
	c.redirect(w, r, orgURL(ref, "")+"?plan=1")
}

// planFieldError shows any refusal of a plan change by the plan form.
func planFieldError(err error) error {
	if p, ok := err.(*apiProblem); ok && p.Field == "" {
		q := *p
		q.Field = "plan"
		return &q
	}
	return err
}

// deleteOrg is the danger zone: DELETE /v1/orgs/{org} (organization.admin),
// a soft delete that hides the organization's workspaces at once.
func (c *Console) deleteOrg(w http.ResponseWriter, r *http.Request, s *session) {
	ref := r.PathValue("org")
	var o orgView
	if err := c.call(r, s, "GET", orgPath(ref), nil, &o); err != nil {
		c.orgPage(w, r, s, nil, err, "")
		return
	}
	if r.PostFormValue("confirm") != o.Slug {
		c.orgPage(w, r, s, nil, &apiProblem{Status: http.StatusBadRequest, Detail: "Type the organization's slug to confirm.", Field: "confirm"}, "")
		return
	}
	if err := c.call(r, s, "DELETE", orgPath(o.ID), nil, nil); err != nil {
		c.orgPage(w, r, s, nil, err, "")
		return
	}
	c.redirect(w, r, "/orgs?deleted="+url.QueryEscape(o.Slug))
}

func (c *Console) routeOrgs(m *http.ServeMux) {
	m.HandleFunc("GET /orgs", c.signedIn(c.orgs))
	m.HandleFunc("POST /orgs", c.signedIn(c.createOrg))
	m.HandleFunc("GET /o/{org}", c.signedIn(c.org))
	m.HandleFunc("POST /o/{org}/settings", c.signedIn(c.saveOrg))
	m.HandleFunc("POST /o/{org}/plan", c.signedIn(c.setOrgPlan))
	m.HandleFunc("POST /o/{org}/delete", c.signedIn(c.deleteOrg))
}
