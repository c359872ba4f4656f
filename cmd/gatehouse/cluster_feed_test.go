package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

// Three gateway processes on one PostgreSQL (spec §10): what the change
// feed guarantees across real processes.

// propagationLimit is spec §10's bound: a change answered 2xx on one
// replica is seen by every other replica within 100 ms (p99).
const propagationLimit = 100 * time.Millisecond

// measureRevokes makes n members, warms their cached allow on replicas 2
// and 3, revokes each on replica 1, and measures, from the 2xx of the
// DELETE, how long until replicas 2 and 3 both refuse (polling at ~1 ms).
// It returns one duration per revoke (the slower replica's).
func measureRevokes(t testing.TB, c *cluster, prefix string, n int) []time.Duration {
	t.Helper()
	r1, r2, r3 := c.replicas[0], c.replicas[1], c.replicas[2]
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	seedMembers(t, c.pg(), []string{"member"}, users...)
	// Replicas 2 and 3 see the new members (the feed) and cache the allow.
	for _, user := range users {
		for _, r := range []*replica{r2, r3} {
			if _, ok := c.waitStatus(r, user, http.StatusOK, 5*time.Second); !ok {
				t.Fatalf("%s: member %s never allowed:\n%s", r.name, user, c.logs())
			}
		}
	}
	var lat []time.Duration
	for _, user := range users {
		if a := c.deleteMember(r1, "alice", user); a.status != http.StatusNoContent && a.status != http.StatusOK {
			t.Fatalf("DELETE member %s: %d %s", user, a.status, a.body)
		}
		var worst time.Duration
		for _, r := range []*replica{r2, r3} {
			d, ok := c.waitStatus(r, user, statusRevoked, 5*time.Second)
			if !ok {
				t.Fatalf("%s still does not refuse revoked %s after %v:\n%s", r.name, user, d, c.logs())
			}
			worst = max(worst, d)
		}
		lat = append(lat, worst)
	}
	return lat
}

// Two owners demoting each other at once on two replicas leave exactly
// one owner (spec §6's last admin, across replicas), 20 times over.
func TestClusterOwnersDemoteEachOther(t *testing.T) {
	c := newCluster(t, 3)
	r1, r2 := c.replicas[0], c.replicas[1]
	seedMembers(t, c.pg(), []string{"owner"}, "bob")
	s := c.pg()
	owners := func() []string {
		var out []string
		err := s.View(context.Background(), func(tx store.Tx) error {
			ws, err := tx.WorkspaceBySlug("acme")
			if err != nil {
				return err
			}
			ms, _, err := tx.Members(ws.ID, "", 1000)
			for _, m := range ms {
				for _, role := range m.Roles {
					if role == "owner" {
						out = append(out, m.UserID)
					}
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	wins := map[string]int{}
	for round := range 20 {
		var a, b answer
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Add(2)
		go func() { defer wg.Done(); <-start; a = c.putMember(r1, "alice", "bob", "member") }()
		go func() { defer wg.Done(); <-start; b = c.putMember(r2, "bob", "alice", "member") }()
		close(start)
		wg.Wait()
		got := owners()
		if len(got) != 1 {
			t.Fatalf("round %d: owners %v after alice->bob %d %s, bob->alice %d %s", round, got, a.status, a.body, b.status, b.body)
		}
		okA, okB := a.status == http.StatusOK, b.status == http.StatusOK
		if okA == okB {
			t.Fatalf("round %d: both or neither demotion succeeded: %d %s / %d %s", round, a.status, a.body, b.status, b.body)
		}
		// The survivor promotes the other again, on replica 3.
		survivor, other := got[0], "alice"
		if survivor == "alice" {
			other = "bob"
		}
		wins[survivor]++
		w := c.mustPutMember(c.replicas[2], survivor, other, "owner")
		_ = w
		// Both replicas must see the promotion before the next race: the
		// member list needs workspace.members, which only owners have.
		for _, r := range []*replica{r1, r2} {
			deadline := time.Now().Add(5 * time.Second)
			for c.do(r, "GET", "/gatehouse/v1/workspaces/acme/members", other, nil).status != http.StatusOK {
				if time.Now().After(deadline) {
					t.Fatalf("round %d: %s: re-promoted %s is not an owner there", round, r.name, other)
				}
				time.Sleep(2 * time.Millisecond)
			}
		}
	}
	t.Logf("exactly one owner after each of 20 races (survivors %v)", wins)
}

// kill -9 of a replica during a stream of acknowledged writes on it and
// on another replica loses none: each is read back through a surviving
// replica and from the database.
func TestClusterKill9LosesNoAcknowledgedWrite(t *testing.T) {
	c := newCluster(t, 3)
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	for w := range 4 {
		r := c.replicas[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := r.url("/gatehouse/v1/workspaces/acme/roles")
			for i := 0; ctx.Err() == nil; i++ {
				slug := fmt.Sprintf("r%d-%d", w, i)
				if createRole(ctx, base, c.token("alice"), slug) {
					mu.Lock()
					acked = append(acked, slug)
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)
	c.replicas[0].kill()
	time.Sleep(200 * time.Millisecond)
	cancel()
	wg.Wait()
	if len(acked) < 10 {
		t.Fatalf("only %d writes acknowledged:\n%s", len(acked), c.logs())
	}
	r3 := c.replicas[2]
	for _, slug := range acked {
		if a := c.do(r3, "GET", "/gatehouse/v1/workspaces/acme/roles/"+slug, "alice", nil); a.status != http.StatusOK {
			t.Errorf("acknowledged role %s: replica 3 answers %d %s", slug, a.status, a.body)
		}
	}
	err := c.pg().View(context.Background(), func(tx store.Tx) error {
		ws, err := tx.WorkspaceBySlug("acme")
		if err != nil {
			return err
		}
		for _, slug := range acked {
			if _, err := tx.Role(ws.ID, slug); err != nil {
				t.Errorf("acknowledged role %s lost: %v", slug, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d acknowledged writes on replicas 1 and 2, replica 1 killed -9: all present", len(acked))
}

// `gatehouse store export --store old.db | gatehouse store import --store
// postgres://...` gives the same decisions: a table of requests answered
// by a bbolt gateway and by a PostgreSQL gateway on the imported data.
func TestClusterExportImportSameDecisions(t *testing.T) {
	c := newClusterDir(t)
	dbPath := c.dir + "/old.db"
	c.bootstrap(dbPath)
	old, err := boltstore.Open(dbPath, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seedMembers(t, old, []string{"member"}, "bob", "erin", "dave")
	seedMembers(t, old, []string{"owner"}, "carol")
	old.Close()
	bolt := c.start("bolt", dbPath)
	if a := c.deleteMember(bolt, "alice", "erin"); a.status/100 != 2 {
		t.Fatalf("DELETE erin: %d %s", a.status, a.body)
	}
	if a := c.do(bolt, "POST", "/gatehouse/v1/workspaces/acme/roles", "alice",
		map[string]any{"slug": "sender", "name": "Sender", "permissions": []string{"message.send"}}); a.status != http.StatusCreated {
		t.Fatalf("create role: %d %s", a.status, a.body)
	}
	c.mustPutMember(bolt, "alice", "dave", "sender")
	if a := c.do(bolt, "POST", "/gatehouse/v1/workspaces", "zed", map[string]any{"name": "Other", "slug": "other"}); a.status != http.StatusCreated {
		t.Fatalf("create workspace: %d %s", a.status, a.body)
	}
	type req struct{ method, path, user string }
	var table []req
	for _, u := range []string{"", "alice", "bob", "carol", "dave", "erin", "zed", "nobody"} {
		for _, p := range []string{"/healthz", "/w/acme", "/w/acme/messages", "/w/other", "/w/other/messages", "/w/missing", "/nowhere"} {
			table = append(table, req{"GET", p, u})
		}
		table = append(table, req{"POST", "/w/acme/messages", u}, req{"POST", "/w/other/messages", u})
	}
	answers := func(r *replica) []int {
		out := make([]int, len(table))
		for i, q := range table {
			out[i] = c.do(r, q.method, q.path, q.user, nil).status
		}
		return out
	}
	want := answers(bolt)
	bolt.kill() // releases the bbolt file for export

	snapshot, stderr, ok := runTB(t, "store", "export", "--store", dbPath)
	if !ok {
		t.Fatalf("export: %s", stderr)
	}
	c.dbURL = pgtest.NewDatabase(t)
	if out, stderr, ok := runStdin(t, snapshot, "store", "import", "--store", c.dbURL); !ok {
		t.Fatalf("import: %s %s", out, stderr)
	}
	pg := c.start("pg", postgresStoreDirective)
	got := answers(pg)
	var b strings.Builder
	fmt.Fprintf(&b, "%-6s %-20s %-7s %5s %5s\n", "method", "path", "user", "bbolt", "pg")
	statuses := map[int]bool{}
	for i, q := range table {
		mark := ""
		if want[i] != got[i] {
			mark = "  <-- differs"
			t.Errorf("%s %s as %q: bbolt %d, postgres %d", q.method, q.path, q.user, want[i], got[i])
		}
		statuses[want[i]] = true
		fmt.Fprintf(&b, "%-6s %-20s %-7s %5d %5d%s\n", q.method, q.path, q.user, want[i], got[i], mark)
	}
	t.Logf("decisions, bbolt gateway vs PostgreSQL gateway after export | import:\n%s", b.String())
	for _, st := range []int{200, 401, statusRevoked} {
		if !statuses[st] && !(st == statusRevoked && (statuses[403] || statuses[404])) {
			t.Errorf("the table has no %d answer: it does not tell the backends apart", st)
		}
	}
}
