package gateway_test

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
)

// Every query key that some framework reads as the workspace parameter
// counts as naming the workspace: a second one, or one that is not the
// exact name, is 400 invalid_request, since the upstream might serve the
// other tenant.
func TestDecideWorkspaceNamedTwiceInTheQuery(t *testing.T) {
	f := newFixture(t)
	rules := []gateway.RuleSpec{{Methods: []string{"GET"}, Path: "/messages", Require: "message.read"}}
	p := f.policy(gateway.WorkspaceSource{From: "query", Name: "ws"}, rules...)
	alice := f.token("alice")
	for _, q := range []string{
		"ws=acme&WS=globex",
		"ws=acme&Ws=globex",
		"ws=acme&+ws=globex",
		"ws=acme&ws+=globex",
		"ws=acme&%20ws=globex",
		"ws=acme&ws%20=globex",
		"ws=acme&ws%09=globex",
		"ws=acme&ws[]=globex",
		"ws=acme&ws%5B%5D=globex",
		"ws=acme&ws[0]=globex",
		"ws=acme&ws[x]=globex",
		"ws=acme&ws%00=globex",
		"ws=acme&ws%00junk=globex",
		"ws=acme&ws.=globex",
		"ws=acme&ws.x=globex",
		"ws=acme&w.s=globex",
		"ws=acme&w_s=globex",
		"ws=acme&w-s=globex",
		"ws=acme&w%C5%BF=globex",     // ſ folds to s
		"ws=acme&w%E2%80%8Bs=globex", // zero-width space
		"ws=acme&ws%2500=globex",     // decoded twice
		"ws=acme&w%73=globex",
		"ws=acme&ws",
		"ws=acme;ws=globex",
		"x=1;ws=globex&ws=acme",
		"ws=acme&ws=acme",
		"WS=acme", // only a look-alike
		"ws[]=acme",
		"ws%00=acme",
	} {
		check(t, q, decide(p, request("GET", "/messages?"+q, alice)), want{400, "invalid_request", ""})
	}
	for _, q := range []string{
		"ws=acme",
		"w%73=acme",
		"ws=acme&wsx=1&xws=2&w=3&s=4",
		"ws=acme&workspace=globex",
		"ws=%61cme",
		"x=1&ws=acme",
	} {
		check(t, q, decide(p, request("GET", "/messages?"+q, alice)), want{})
	}
	// A value cut short by ';' names no workspace: the gateway reads what
	// net/url reads ("acme;x=1"), which is no workspace.
	check(t, "ws=acme;x=1", decide(p, request("GET", "/messages?ws=acme;x=1", alice)), want{404, "workspace_not_found", ""})
}

// A header that frameworks fold into the workspace header's name is a
// second copy of it.
func TestDecideWorkspaceHeaderLookalikes(t *testing.T) {
	f := newFixture(t)
	rules := []gateway.RuleSpec{{Methods: []string{"GET"}, Path: "/messages", Require: "message.read"}}
	p := f.policy(gateway.WorkspaceSource{From: "header", Name: "X-Workspace-ID"}, rules...)
	alice := f.token("alice")
	for _, other := range []string{"X-Workspace_ID", "X_Workspace_Id", "x_workspace-id"} {
		r := request("GET", "/messages", alice)
		r.Header.Set("X-Workspace-ID", "acme")
		r.Header[other] = []string{"globex"}
		check(t, other, decide(p, r), want{400, "invalid_request", ""})
		// Alone, too: the gateway would read no workspace, the upstream one.
		r = request("GET", "/messages", alice)
		r.Header[other] = []string{"acme"}
		check(t, other+" alone", decide(p, r), want{400, "invalid_request", ""})
	}
	r := request("GET", "/messages", alice)
	r.Header.Set("X-Workspace-ID", "acme")
	r.Header.Set("X-Workspace-IDs", "globex")
	check(t, "another name", decide(p, r), want{})
}

// A placeholder source that reads the query or a header gets the same
// check: Caddy's placeholder reads the first copy, an upstream may read
// the last.
func TestDecideWorkspacePlaceholderNamedTwice(t *testing.T) {
	f := newFixture(t)
	rules := []gateway.RuleSpec{{Methods: []string{"GET"}, Path: "/messages", Require: "message.read"}}
	alice := f.token("alice")
	byQuery := f.policy(gateway.WorkspaceSource{From: "placeholder", Name: "{http.request.uri.query.ws}"}, rules...)
	d := new(gateway.Decision)
	byQuery.Decide(request("GET", "/messages?ws=acme&WS=globex", alice), placeholders{"http.request.uri.query.ws": "acme"}, d)
	check(t, "query placeholder, twice", d, want{400, "invalid_request", ""})
	d = new(gateway.Decision)
	byQuery.Decide(request("GET", "/messages?ws=acme", alice), placeholders{"http.request.uri.query.ws": "acme"}, d)
	check(t, "query placeholder, once", d, want{})

	byHeader := f.policy(gateway.WorkspaceSource{From: "placeholder", Name: "{http.request.header.X-Workspace-ID}"}, rules...)
	r := request("GET", "/messages", alice)
	r.Header["X-Workspace-Id"] = []string{"acme", "globex"}
	d = new(gateway.Decision)
	byHeader.Decide(r, placeholders{"http.request.header.X-Workspace-ID": "acme"}, d)
	check(t, "header placeholder, twice", d, want{400, "invalid_request", ""})
}
