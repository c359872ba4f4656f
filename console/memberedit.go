package console

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The member permissions dialog (spec §12), a page per member: roles,
// per-permission overrides grouped by resource (role default / allow /
// deny), and resource access per restriction type ("all" or "specific"
// ids). It saves with one PUT /v1/workspaces/{ws}/members/{user}, which
// replaces roles, grants, denies and restrictions together; the API
// checks it (no escalation, last admin, valid names).

// Override states of one permission in the dialog.
const (
	overrideDefault = "" // what the member's roles give
	overrideAllow   = "allow"
	overrideDeny    = "deny"
)

// memberForm is the dialog's state: the member as stored, or what was
// typed after a refusal.
type memberForm struct {
	Roles []string
	// Override maps a catalog permission to overrideAllow (a grant of that
	// name) or overrideDeny (a deny of that name).
	Override map[string]string
	// OtherGrants and OtherDenies are the member's patterns that are not one
	// catalog name ("message.*"), one a line, so saving keeps them.
	OtherGrants, OtherDenies string
	Restrictions             []restrictionRow
	NewType, NewIDs          string
}

// restrictionRow is resource access for one restriction type.
type restrictionRow struct {
	Type     string
	Specific bool
	IDs      string
	Error    string // the API's detail for this type
}

// permRow is one permission's line in the dialog.
type permRow struct {
	Name      string
	State     string
	RoleGives bool // the member's roles grant it (before overrides)
	Effective bool // the member holds it now (the API's effective set)
}

type permRows struct {
	Resource string
	Rows     []permRow
}

type memberEditData struct {
	Workspace  workspaceView
	Member     memberView
	Roles      []roleChoice
	Groups     []permRows
	Form       memberForm
	KnownTypes []string
	NewError   string
	FieldError map[string]string
	Saved      bool
	// Gates disables the overrides and resource access the workspace's
	// plan lacks.
	Gates gates
}

// formFromMember is the dialog's state for a stored membership.
func formFromMember(m memberView, names []string) memberForm {
	f := memberForm{Roles: m.Roles, Override: map[string]string{}}
	var otherG, otherD []string
	for _, g := range m.Grants {
		if slices.Contains(names, g) {
			f.Override[g] = overrideAllow
		} else {
			otherG = append(otherG, g)
		}
	}
	for _, d := range m.Denies {
		if slices.Contains(names, d) {
			f.Override[d] = overrideDeny // a deny wins over a grant of the same name
		} else {
			otherD = append(otherD, d)
		}
	}
	f.OtherGrants, f.OtherDenies = strings.Join(otherG, "\n"), strings.Join(otherD, "\n")
	for _, typ := range slices.Sorted(maps.Keys(m.Restrictions)) {
		f.Restrictions = append(f.Restrictions, restrictionRow{Type: typ, Specific: true, IDs: strings.Join(m.Restrictions[typ], ", ")})
	}
	return f
}

// formFromRequest reads the dialog's form; names is the catalog.
func formFromRequest(r *http.Request, names []string) memberForm {
	f := memberForm{Roles: r.PostForm["role"], Override: map[string]string{},
		OtherGrants: r.PostFormValue("other_grants"), OtherDenies: r.PostFormValue("other_denies"),
		NewType: strings.TrimSpace(r.PostFormValue("new_type")), NewIDs: r.PostFormValue("new_ids")}
	for _, n := range names {
		switch v := r.PostFormValue("o." + n); v {
		case overrideAllow, overrideDeny:
			f.Override[n] = v
		}
	}
	for _, typ := range r.PostForm["rtype"] {
		f.Restrictions = append(f.Restrictions, restrictionRow{Type: typ,
			Specific: r.PostFormValue("ra."+typ) == "specific", IDs: r.PostFormValue("ri." + typ)})
	}
	return f
}

// request is the PUT body the form stands for. "All" leaves a type out
// (unrestricted); "specific" lists the ids typed, even none, so the API
// refuses an empty list rather than the console lifting the restriction.
func (f memberForm) request(names []string) map[string]any {
	grants, denies := []string{}, []string{}
	for _, n := range names {
		switch f.Override[n] {
		case overrideAllow:
			grants = append(grants, n)
		case overrideDeny:
			denies = append(denies, n)
		}
	}
	grants = append(grants, splitIDs(f.OtherGrants)...)
	denies = append(denies, splitIDs(f.OtherDenies)...)
	restrictions := map[string][]string{}
	for _, row := range f.Restrictions {
		if row.Specific {
			restrictions[row.Type] = append([]string{}, splitIDs(row.IDs)...)
		}
	}
	if f.NewType != "" {
		restrictions[f.NewType] = append(restrictions[f.NewType], splitIDs(f.NewIDs)...)
	}
	roles := f.Roles
	if roles == nil {
		roles = []string{}
	}
	return map[string]any{"roles": roles, "grants": grants, "denies": denies, "restrictions": restrictions}
}

func memberPath(ref, user string) string { return wsPath(ref) + "/members/" + url.PathEscape(user) }

// memberEdit shows the dialog for one member.
func (c *Console) memberEdit(w http.ResponseWriter, r *http.Request, s *session) {
	c.memberEditPage(w, r, s, nil, nil)
}

// memberEditPage renders the dialog over typed (after a refusal, with the
// API's problem in refusal).
func (c *Console) memberEditPage(w http.ResponseWriter, r *http.Request, s *session, typed *memberForm, refusal error) {
	ref, user := r.PathValue("ws"), r.PathValue("user")
	var d memberEditData
	title := "Member " + user
	fail := func(err error) {
		c.render(w, r, "member", statusOf(err), page{Title: title, Session: s, Error: err.Error()})
	}
	if err := c.call(r, s, "GET", wsPath(ref), nil, &d.Workspace); err != nil {
		fail(err)
		return
	}
	if err := c.call(r, s, "GET", memberPath(ref, user), nil, &d.Member); err != nil {
		fail(err)
		return
	}
	cat, err := c.catalogInfo(r, s)
	if err != nil {
		fail(err)
		return
	}
	roles, err := c.allRoles(r, s, ref)
	if err != nil {
		fail(err)
		return
	}
	var mine struct {
		Restrictions map[string][]string `json:"restrictions"`
	}
	if err := c.call(r, s, "GET", wsPath(ref)+"/me", nil, &mine); err != nil {
		fail(err)
		return
	}
	if d.Gates, err = c.workspaceGates(r, s, d.Workspace); err != nil {
		fail(err)
		return
	}
	d.Form = formFromMember(d.Member, cat.Names)
	if typed != nil {
		d.Form = *typed
	}
	d.Roles = roleChoices(roles, d.Form.Roles)

	// What the stored roles give, from their patterns and the catalog.
	var rolePatterns []string
	for _, role := range roles {
		if slices.Contains(d.Member.Roles, role.Slug) {
			rolePatterns = append(rolePatterns, role.Permissions...)
		}
	}
	given := cat.given(rolePatterns)
	for _, g := range cat.Groups {
		rows := permRows{Resource: g.Resource}
		for _, n := range g.Permissions {
			rows.Rows = append(rows.Rows, permRow{Name: n, State: d.Form.Override[n], RoleGives: given[n],
				Effective: slices.Contains(d.Member.Permissions, n)})
		}
		d.Groups = append(d.Groups, rows)
	}
	known := map[string]bool{}
	for typ := range d.Member.Restrictions {
		known[typ] = true
	}
	for typ := range mine.Restrictions {
		known[typ] = true
	}
	d.KnownTypes = slices.Sorted(maps.Keys(known))
	if r.Method == http.MethodGet {
		d.Saved = r.URL.Query().Get("saved") == "1"
	}
	p := page{Title: title, Session: s}
	status := http.StatusOK
	if refusal != nil {
		status = statusOf(refusal)
		d.FieldError, p.Error = fieldErrors(refusal, "roles", "grants", "denies", "restrictions.*")
		if feature, detail, ok := planRefusal(refusal); ok {
			d.FieldError, p.Error = map[string]string{}, ""
			switch feature {
			case featureMemberOverrides:
				d.FieldError["grants"] = detail
			case featureResourceRestrictions:
				d.FieldError["access"] = detail
			default:
				p.Error = detail
			}
		}
		for i := range d.Form.Restrictions {
			if msg, ok := d.FieldError["restrictions."+d.Form.Restrictions[i].Type]; ok {
				d.Form.Restrictions[i].Error = msg
			}
		}
		if msg, ok := d.FieldError["restrictions."+d.Form.NewType]; ok && d.Form.NewType != "" {
			d.NewError = msg
		}
		if f := problemField(refusal); f == "restrictions" {
			d.NewError = refusal.Error() // a problem with the set of types (too many)
			p.Error = ""
		}
	}
	p.Data = d
	c.render(w, r, "member", status, p)
}

// saveMember is PUT /v1/workspaces/{ws}/members/{user} with the dialog's
// roles, overrides and restrictions.
func (c *Console) saveMember(w http.ResponseWriter, r *http.Request, s *session) {
	ref, user := r.PathValue("ws"), r.PathValue("user")
	cat, err := c.catalogInfo(r, s)
	if err != nil {
		c.render(w, r, "member", statusOf(err), page{Title: "Member " + user, Session: s, Error: err.Error()})
		return
	}
	f := formFromRequest(r, cat.Names)
	// PUT adds a membership that does not exist: a dialog opened before the
	// member was removed must not bring them back, and one opened before
	// another change must not silently undo it. (The API still decides
	// whether the change is allowed.)
	var now memberView
	if err := c.call(r, s, "GET", memberPath(ref, user), nil, &now); err != nil {
		c.render(w, r, "member", statusOf(err), page{Title: "Member " + user, Session: s, Error: err.Error()})
		return
	}
	if seen := r.PostFormValue("updated_at"); seen != now.UpdatedAt.Format(time.RFC3339Nano) {
		c.memberEditPage(w, r, s, nil, &apiProblem{Status: http.StatusConflict,
			Detail: "this member was changed since the page was loaded: the page now shows the current settings; make your change again"})
		return
	}
	if err := c.call(r, s, "PUT", memberPath(ref, user), f.request(cat.Names), nil); err != nil {
		c.memberEditPage(w, r, s, &f, err)
		return
	}
	c.redirect(w, r, "/w/"+url.PathEscape(ref)+"/members/"+url.PathEscape(user)+"?saved=1")
}

func (c *Console) routeMemberEdit(m *http.ServeMux) {
	m.HandleFunc("GET /w/{ws}/members/{user}", c.signedIn(c.memberEdit))
	m.HandleFunc("POST /w/{ws}/members/{user}/save", c.signedIn(c.saveMember))
}
