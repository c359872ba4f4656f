package console

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestAuditLayOut: a summary's before and after are shown field by field,
// changed ones only; other keys are details; a summary that is not an
// object is shown as it is.
func TestAuditLayOut(t *testing.T) {
	for _, tc := range []struct {
		summary   string
		diff      []auditField
		unchanged int
		details   []auditField
		only      string
	}{
		{summary: `{"before":{"name":"Acme","slug":"acme","roles":["a","b"]},"after":{"name":"Acme Inc","slug":"acme","roles":[]}}`,
			diff: []auditField{{"name", "Acme", "Acme Inc"}, {"roles", "a, b", "(none)"}}, unchanged: 1},
		{summary: `{"after":{"slug":"x","restrictions":{"instance":["i1"]}}}`,
			diff: []auditField{{"restrictions", "", `{"instance":["i1"]}`}, {"slug", "", "x"}}, only: "after"},
		{summary: `{"before":{"user_id":"bob"}}`, diff: []auditField{{"user_id", "bob", ""}}, only: "before"},
		{summary: `{"slug":"acme","count":3}`, details: []auditField{{"count", "", "3"}, {"slug", "", "acme"}}},
		{summary: `{"before":"not an object","after":null}`, details: []auditField{{"after", "", "(none)"}, {"before", "", "not an object"}}},
		{summary: `[1, 2]`, details: []auditField{{"summary", "", "[1,2]"}}},
		{summary: `null`},
	} {
		e := auditEventView{Summary: json.RawMessage(tc.summary)}
		e.layOut()
		if !reflect.DeepEqual(e.Diff, tc.diff) || e.Unchanged != tc.unchanged || e.Only != tc.only || !reflect.DeepEqual(e.Details, tc.details) {
			t.Errorf("%s: diff %v unchanged %d details %v; want %v %d %v", tc.summary, e.Diff, e.Unchanged, e.Details, tc.diff, tc.unchanged, tc.details)
		}
	}
}
