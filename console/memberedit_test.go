package console

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// TestMemberFormRoundTrip: the dialog's form for a stored membership
// saves back exactly that membership (patterns that are not one catalog
// name kept), "all" leaves a type out, and "specific" with no id is sent
// as an empty list for the API to refuse, never turned into "all".
func TestMemberFormRoundTrip(t *testing.T) {
	names := []string{"contact.read", "message.read", "message.send"}
	m := memberView{Roles: []string{"operator"}, Grants: []string{"contact.read", "message.*"}, Denies: []string{"message.send"},
		Restrictions: map[string][]string{"instance": {"i1", "i2"}, "chat": {"assigned_only"}}}
	f := formFromMember(m, names)
	want := map[string]any{"roles": []string{"operator"}, "grants": []string{"contact.read", "message.*"},
		"denies": []string{"message.send"}, "restrictions": map[string][]string{"instance": {"i1", "i2"}, "chat": {"assigned_only"}}}
	if got := f.request(names); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %v\nwant %v", got, want)
	}

	post := func(form url.Values) map[string]any {
		r, _ := http.NewRequest("POST", "/", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		return formFromRequest(r, names).request(names)
	}
	got := post(url.Values{"role": {"operator"}, "o.message.send": {"deny"}, "o.message.read": {"allow"}, "o.contact.read": {""},
		"o.bogus": {"allow"}, // not in the catalog: ignored
		"rtype":   {"instance", "chat"}, "ra.instance": {"all"}, "ri.instance": {"i1"}, "ra.chat": {"specific"}, "ri.chat": {""},
		"new_type": {"region"}, "new_ids": {"eu, us\nap"}})
	want = map[string]any{"roles": []string{"operator"}, "grants": []string{"message.read"}, "denies": []string{"message.send"},
		"restrictions": map[string][]string{"chat": {}, "region": {"eu", "us", "ap"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("form:\n got %v\nwant %v", got, want)
	}
	if got := post(url.Values{}); !reflect.DeepEqual(got["roles"], []string{}) {
		t.Fatalf("no role ticked is sent as %v, want an empty list (the API refuses it)", got["roles"])
	}
}

func TestFieldErrors(t *testing.T) {
	p := &apiProblem{Status: 400, Detail: "bad id", Field: "restrictions.instance[0]"}
	by, top := fieldErrors(p, "roles", "restrictions.*")
	if top != "" || by["restrictions.instance"] != "bad id" {
		t.Fatalf("by %v top %q", by, top)
	}
	by, top = fieldErrors(&apiProblem{Status: 403, Detail: "escalation"}, "roles")
	if top != "escalation" || len(by) != 0 {
		t.Fatalf("a problem without a field: by %v top %q", by, top)
	}
	if _, top := fieldErrors(&apiProblem{Status: 400, Detail: "x", Field: "rolesx"}, "roles"); top != "x" {
		t.Fatal("a field that only starts like one shown is put on top")
	}
}
