package route

import (
	"testing"
)

type benchPath struct {
	method, path string
	want         Status
}

// benchTable is a realistic table of 200 rules: 20 workspace resources
// with list/create/read/update/delete, three actions and a history each,
// plus literals and wildcards around them.
func benchTable(t testing.TB) (*Table, []benchPath) {
	resources := []string{"messages", "contacts", "campaigns", "chats", "instances",
		"reports", "templates", "webhooks", "tags", "invoices", "automations", "files",
		"segments", "lists", "forms", "pages", "domains", "senders", "channels", "tickets"}
	var rs []Rule
	add := func(methods, path string) { rs = append(rs, rule(methods+" "+path)) }
	for _, r := range resources {
		base := "/w/{workspace}/" + r
		add("GET,HEAD", base)
		add("POST", base)
		add("GET,HEAD", base+"/{id}")
		add("PATCH,PUT", base+"/{id}")
		add("DELETE", base+"/{id}")
		add("POST", base+"/{id}/archive")
		add("POST", base+"/{id}/restore")
		add("POST", base+"/{id}/duplicate")
		add("GET", base+"/{id}/history")
	}
	for _, s := range []string{
		"GET /", "GET /healthz", "GET /me", "GET /metrics", "GET /static/*",
		"GET /w/{workspace}", "PATCH /w/{workspace}", "GET /w/{workspace}/*",
		"GET /billing-admin/*", "* /w/{workspace}/campaigns/{id}/run",
		"GET /w/{workspace}/files/{id}/raw/*", "GET /w/{workspace}/search",
		"POST /w/{workspace}/search", "GET /w/{workspace}/export/{format}",
		"GET /w/{workspace}/instances/{instance}/chats",
		"GET /w/{workspace}/instances/{instance}/chats/{chat}",
		"POST /w/{workspace}/instances/{instance}/chats/{chat}/messages",
		"GET /v1/jwks.json", "GET /docs/*", "* /webhooks/{provider}",
	} {
		rs = append(rs, rule(s))
	}
	if len(rs) != 200 {
		t.Fatalf("bench table has %d rules, want 200", len(rs))
	}
	table := mustCompile(t, rs)
	paths := []benchPath{
		{"GET", "/w/acme/messages", Matched},
		{"POST", "/w/acme/messages", Matched},
		{"GET", "/w/acme/contacts/c_9f8e7d", Matched},
		{"DELETE", "/w/acme/tickets/123", Matched},
		{"POST", "/w/acme/campaigns/42/run", Matched},
		{"POST", "/w/acme/automations/42/duplicate", Matched},
		{"GET", "/w/acme/instances/i1/chats/c2", Matched},
		{"GET", "/w/acme/files/f1/raw/a/b/c.png", Matched},
		{"GET", "/w/acme/unknown/x/y", Matched},
		{"GET", "/healthz", Matched},
		{"GET", "/static/css/app.css", Matched},
		{"DELETE", "/w/acme/messages", MethodNotAllowed},
		{"GET", "/nope/x", NotFound},
	}
	return table, paths
}

func BenchmarkMatch200(b *testing.B) {
	table, paths := benchTable(b)
	var p Params
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		bp := paths[i%len(paths)]
		i++
		if res := table.Match(bp.method, bp.path, &p); res.Status != bp.want {
			b.Fatalf("%s %s: %v", bp.method, bp.path, res.Status)
		}
	}
}

// BenchmarkMatch200Typical matches the most common shape: a resource by id.
func BenchmarkMatch200Typical(b *testing.B) {
	table, _ := benchTable(b)
	var p Params
	b.ReportAllocs()
	for b.Loop() {
		if res := table.Match("GET", "/w/acme/contacts/c_9f8e7d", &p); res.Status != Matched {
			b.Fatal(res.Status)
		}
	}
}

// BenchmarkValidRequestMethod: the per-request method check the gateway
// added in front of the match.
func BenchmarkValidRequestMethod(b *testing.B) {
	ok := true
	for b.Loop() {
		ok = ValidRequestMethod("GET") && ok
	}
	if !ok {
		b.Fatal("GET refused")
	}
}
