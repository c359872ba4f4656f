package console

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
)

// The catalog and the roles as the API declares them, for the screens that
// show permissions (the member permissions dialog, the role editor). The
// console decides nothing with them: it shows what the roles give by
// expanding their patterns with the catalog's own code (authz), fed with
// what GET /v1/permissions answers, and every change goes to the API,
// which checks it.

// roleView is a role as the API lists it (system or custom).
type roleView struct {
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
	System      bool     `json:"system"`
}

// catalogInfo is GET /v1/permissions, grouped by resource, with the
// catalog rebuilt for expanding patterns.
type catalogInfo struct {
	Groups  []permissionGroup
	Names   []string // every permission, sorted
	catalog *authz.Catalog
}

func (c *Console) catalogInfo(r *http.Request, s *session) (*catalogInfo, error) {
	var cat struct {
		Permissions []struct {
			Name    string   `json:"name"`
			Implies []string `json:"implies"`
		} `json:"permissions"`
	}
	if err := c.call(r, s, "GET", "/v1/permissions", nil, &cat); err != nil {
		return nil, err
	}
	decls := make([]authz.Declaration, 0, len(cat.Permissions))
	by := map[string][]string{}
	info := &catalogInfo{}
	for _, p := range cat.Permissions {
		decls = append(decls, authz.Declaration{Name: p.Name, Implies: p.Implies})
		res, _, _ := strings.Cut(p.Name, ".")
		by[res] = append(by[res], p.Name)
		info.Names = append(info.Names, p.Name)
	}
	catalog, err := authz.NewCatalog(decls)
	if err != nil {
		return nil, &apiProblem{Status: http.StatusBadGateway, Detail: "the API's permission catalog does not load: " + err.Error()}
	}
	info.catalog = catalog
	for res, ps := range by {
		sort.Strings(ps)
		info.Groups = append(info.Groups, permissionGroup{Resource: res, Permissions: ps})
	}
	sort.Slice(info.Groups, func(i, j int) bool { return info.Groups[i].Resource < info.Groups[j].Resource })
	sort.Strings(info.Names)
	return info, nil
}

// given reports which catalog permissions the patterns grant, closed under
// implications (what the engine computes before denies).
func (ci *catalogInfo) given(patterns []string) map[string]bool {
	set := ci.catalog.Expand(patterns)
	out := map[string]bool{}
	for _, n := range ci.Names {
		if ci.catalog.HasName(set, n) {
			out[n] = true
		}
	}
	return out
}

// allRoles reads every role of the workspace (system, then custom), page
// after page, for checkboxes.
func (c *Console) allRoles(r *http.Request, s *session, ref string) ([]roleView, error) {
	var all []roleView
	cursor := ""
	for range 100 { // at most 50,000 roles: a bound, not a limit anyone meets
		q := url.Values{"limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var list struct {
			Items      []roleView `json:"items"`
			NextCursor string     `json:"next_cursor"`
		}
		if err := c.call(r, s, "GET", wsPath(ref)+"/roles?"+q.Encode(), nil, &list); err != nil {
			return nil, err
		}
		all = append(all, list.Items...)
		if list.NextCursor == "" {
			break
		}
		cursor = list.NextCursor
	}
	return all, nil
}

// roleChoice is one role checkbox.
type roleChoice struct {
	roleView
	Checked bool
}

func roleChoices(roles []roleView, checked []string) []roleChoice {
	on := map[string]bool{}
	for _, r := range checked {
		on[r] = true
	}
	out := make([]roleChoice, len(roles))
	for i, r := range roles {
		out[i] = roleChoice{roleView: r, Checked: on[r.Slug]}
	}
	return out
}

// problemField is the field an API problem names, reduced to the form
// field the console shows it by: "roles[0]" is "roles",
// "restrictions.instance[2]" is "restrictions.instance".
func problemField(err error) string {
	p, ok := err.(*apiProblem)
	if !ok {
		return ""
	}
	f := p.Field
	if i := strings.IndexByte(f, '['); i >= 0 {
		f = f[:i]
	}
	return f
}

// fieldErrors puts a refusal by the field it names when that field is one
// of fields, else returns it for the top of the page.
func fieldErrors(err error, fields ...string) (byField map[string]string, top string) {
	byField = map[string]string{}
	f := problemField(err)
	for _, want := range fields {
		if f == want || strings.HasSuffix(want, ".*") && strings.HasPrefix(f, strings.TrimSuffix(want, "*")) {
			byField[f] = err.Error()
			return byField, ""
		}
	}
	return byField, err.Error()
}

// splitIDs reads a list typed as words separated by commas, spaces or
// new lines.
func splitIDs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}
