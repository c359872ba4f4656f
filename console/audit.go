package console

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// auditPageSize is how many events one page of the audit screen shows.
const auditPageSize = 25

// auditActions are the actions the API and the CLI record,
// offered as suggestions in the action filter; any other text is still
// sent, and the API decides.
var auditActions = []string{
	"api_key.create", "api_key.revoke",
	"invite.accept", "invite.create", "invite.revoke",
	"member.delete", "member.put",
	"role.create", "role.delete", "role.update",
	"store.import",
	"workspace.create", "workspace.delete", "workspace.purge", "workspace.restore", "workspace.update",
}

// auditEventView is one event as the API lists it, with its summary laid
// out for reading.
type auditEventView struct {
	ID      string          `json:"id"`
	Actor   string          `json:"actor"`
	Action  string          `json:"action"`
	Target  string          `json:"target"`
	Time    time.Time       `json:"time"`
	Summary json.RawMessage `json:"summary"`

	// Diff holds the fields whose before and after differ (a creation
	// has only after, a deletion only before); Unchanged counts the
	// fields both sides have alike, which the screen leaves out.
	Diff      []auditField
	Unchanged int
	// Only is "before" or "after" when the summary has just that side (a
	// deletion or a creation): the screen shows one column of values.
	Only string
	// Details are the summary's other keys (e.g. the slug of a deleted
	// workspace).
	Details []auditField
}

// auditField is one line of an event's summary.
type auditField struct {
	Name, Before, After string
}

// TargetUser is the user id of a "user:<id>" target, for a link to that
// member's effective permissions.
func (e auditEventView) TargetUser() string {
	u, ok := strings.CutPrefix(e.Target, "user:")
	if !ok {
		return ""
	}
	return u
}

// TargetUserPath is TargetUser as one path segment.
func (e auditEventView) TargetUserPath() string { return url.PathEscape(e.TargetUser()) }

type auditData struct {
	Workspace  workspaceView
	Events     []auditEventView
	Action     string // the filters as typed
	Actor      string
	Actions    []string
	NextCursor string
	Paged      bool // not the first page (a link back to the newest)
	FieldError map[string]string
}

// NextQuery is the query string of the next page: the same filters, the
// API's cursor.
func (d auditData) NextQuery() template.URL {
	return d.filterQuery(d.NextCursor)
}

// filterQuery is already encoded (url.Values.Encode): template.URL keeps
// html/template from escaping its = and & a second time.
func (d auditData) filterQuery(cursor string) template.URL {
	q := url.Values{}
	if d.Action != "" {
		q.Set("action", d.Action)
	}
	if d.Actor != "" {
		q.Set("actor", d.Actor)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return template.URL(q.Encode())
}

// audit is the audit log (GET /v1/workspaces/{ws}/audit): newest first,
// one API page at a time, filtered by action and actor as the API filters
// (exact match). Who may read it is the API's business (workspace.admin).
func (c *Console) audit(w http.ResponseWriter, r *http.Request, s *session) {
	ref := r.PathValue("ws")
	q := r.URL.Query()
	d := auditData{Action: strings.TrimSpace(q.Get("action")), Actor: strings.TrimSpace(q.Get("actor")),
		Actions: auditActions, Paged: q.Get("cursor") != ""}
	if err := c.call(r, s, "GET", wsPath(ref), nil, &d.Workspace); err != nil {
		c.render(w, r, "audit", statusOf(err), page{Title: "Audit log", Session: s, Error: err.Error()})
		return
	}
	api := url.Values{"limit": {itoa(auditPageSize)}}
	for name, v := range map[string]string{"action": d.Action, "actor": d.Actor, "cursor": q.Get("cursor")} {
		if v != "" {
			api.Set(name, v)
		}
	}
	var list struct {
		Items      []auditEventView `json:"items"`
		NextCursor string           `json:"next_cursor"`
	}
	if err := c.call(r, s, "GET", wsPath(ref)+"/audit?"+api.Encode(), nil, &list); err != nil {
		p := page{Title: "Audit log", Session: s, Data: d}
		if pr, ok := err.(*apiProblem); ok && (pr.Field == "action" || pr.Field == "actor") {
			d.FieldError = map[string]string{pr.Field: pr.Error()}
			p.Data = d
		} else {
			p.Error = err.Error()
		}
		c.render(w, r, "audit", statusOf(err), p)
		return
	}
	for i := range list.Items {
		list.Items[i].layOut()
	}
	d.Events, d.NextCursor = list.Items, list.NextCursor
	c.render(w, r, "audit", http.StatusOK, page{Title: "Audit log", Session: s, Data: d})
}

// layOut reads the summary: the fields of its "before" and "after"
// objects side by side (changed ones only), any other key as a detail.
func (e *auditEventView) layOut() {
	var top map[string]json.RawMessage
	if len(e.Summary) == 0 || string(e.Summary) == "null" {
		return
	}
	if json.Unmarshal(e.Summary, &top) != nil {
		e.Details = []auditField{{Name: "summary", After: compactJSON(e.Summary)}}
		return
	}
	before, hasBefore := objectFields(top["before"])
	after, hasAfter := objectFields(top["after"])
	switch {
	case hasBefore && !hasAfter:
		e.Only = "before"
	case hasAfter && !hasBefore:
		e.Only = "after"
	}
	if hasBefore || hasAfter {
		names := map[string]bool{}
		for k := range before {
			names[k] = true
		}
		for k := range after {
			names[k] = true
		}
		for _, k := range sortedKeys(names) {
			b, inB := before[k]
			a, inA := after[k]
			if inB && inA && b == a {
				e.Unchanged++
				continue
			}
			e.Diff = append(e.Diff, auditField{Name: k, Before: b, After: a})
		}
	}
	others := map[string]bool{}
	for k := range top {
		if (k == "before" && hasBefore) || (k == "after" && hasAfter) {
			continue
		}
		others[k] = true
	}
	for _, k := range sortedKeys(others) {
		e.Details = append(e.Details, auditField{Name: k, After: displayValue(top[k])})
	}
}

// objectFields reads a JSON object into field → display value; ok is false
// when raw is absent or not an object.
func objectFields(raw json.RawMessage) (map[string]string, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, false
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = displayValue(v)
	}
	return out, true
}

// displayValue shows a JSON value compactly: a string as itself, a list of
// strings comma-separated, an empty list or object as "(none)", anything
// else as compact JSON.
func displayValue(raw json.RawMessage) string {
	if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
		return "(none)" // json.Unmarshal would read null as "" below
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		if len(list) == 0 {
			return "(none)"
		}
		return strings.Join(list, ", ")
	}
	if c := compactJSON(raw); c != "{}" && c != "[]" && c != "null" {
		return c
	}
	return "(none)"
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (c *Console) routeAudit(m *http.ServeMux) {
	m.HandleFunc("GET /w/{ws}/audit", c.signedIn(c.audit))
}

// FilterQueryFirst is the query string of the first page with the same
// filters.
func (d auditData) FilterQueryFirst() template.URL { return d.filterQuery("") }
