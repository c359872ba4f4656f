// Spec §10 across three real gateway processes: revocation within
// 100 ms everywhere, consistency tokens honoured on the first try, the
// listener's connection killed, the database restarted, a replica paused
// past max_staleness. Each failed before the Live's follower heard the
// NOTIFY of a store opened at Start (sharedStore.Subscribe forwards
// them now) and before the replica side (fail closed, read-through) was
// built.

package main

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

// Replica behaviour under spec §10 (consistency tokens, fail closed when
// stale) across three real gateway processes.

// A request carrying the write's Gatehouse-Revision token as
// Gatehouse-Consistency is refused on the first try on every replica,
// however far behind the replica's feed is.
func TestClusterConsistencyTokenFirstTry(t *testing.T) {
	c := newCluster(t, 3)
	const n = 30
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("t%d", i)
	}
	seedMembers(t, c.pg(), []string{"member"}, users...)
	for _, u := range users {
		for _, r := range c.replicas {
			if _, ok := c.waitStatus(r, u, http.StatusOK, 5*time.Second); !ok {
				t.Fatalf("%s: member %s never allowed", r.name, u)
			}
		}
	}
	for i, u := range users {
		writer := c.replicas[i%3]
		a := c.deleteMember(writer, "alice", u)
		if a.status/100 != 2 || a.revision == "" {
			t.Fatalf("DELETE %s on %s: %d, Gatehouse-Revision %q: %s", u, writer.name, a.status, a.revision, a.body)
		}
		// Every replica at once, right after the 2xx: the first answer
		// counts.
		var wg sync.WaitGroup
		got := make([]answer, 3)
		for j, r := range c.replicas {
			wg.Add(1)
			go func() { defer wg.Done(); got[j] = c.read(r, u, "Gatehouse-Consistency", a.revision) }()
		}
		wg.Wait()
		for j, g := range got {
			if !matches(g.status, statusRevoked) {
				t.Errorf("revoke %d (written on %s): %s answered %d %s to the write's token", i, writer.name, c.replicas[j].name, g.status, g.body)
			}
		}
	}
}

// A database restart: past max_staleness every member or permission rule
// answers 503 unavailable with Retry-After, never a stale 200; a public
// rule keeps working; once the database is back the replicas recover by
// themselves.
func TestClusterDatabaseRestartFailsClosed(t *testing.T) {
	c := newCluster(t, 3)
	seedMembers(t, c.pg(), []string{"member"}, "m1")
	for _, r := range c.replicas {
		if _, ok := c.waitStatus(r, "m1", http.StatusOK, 5*time.Second); !ok {
			t.Fatalf("%s: m1 never allowed", r.name)
		}
	}
	pgtest.StopServer(t)
	restarted := false
	t.Cleanup(func() {
		// The server is shared by the tests after this one.
		if !restarted {
			pgtest.Restart(t)
		}
	})
	stopped := time.Now()
	// A grace for the real-clock check: max_staleness plus scheduling on
	// a loaded 2-core machine.
	grace := clusterMaxStaleness + 300*time.Millisecond
	var got503 int
	for time.Since(stopped) < grace+2*time.Second {
		for _, r := range c.replicas {
			a := c.read(r, "m1")
			late := time.Since(stopped) > grace
			switch {
			case late && a.status == http.StatusOK:
				t.Fatalf("%s: 200 %v after the database stopped (max_staleness %v)", r.name, time.Since(stopped), clusterMaxStaleness)
			case late && a.status != http.StatusServiceUnavailable:
				t.Fatalf("%s: %d %s during the outage, want 503", r.name, a.status, a.body)
			case a.status == http.StatusServiceUnavailable:
				if a.retryAfter == "" {
					t.Fatalf("%s: 503 without Retry-After", r.name)
				}
				got503++
			}
			if p := c.do(r, "GET", "/healthz", "", nil); p.status != http.StatusOK {
				t.Errorf("%s: the public rule answered %d during the outage", r.name, p.status)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got503 == 0 {
		t.Fatal("no 503 during the outage")
	}
	pgtest.Restart(t)
	restarted = true
	for _, r := range c.replicas {
		if _, ok := c.waitStatus(r, "m1", http.StatusOK, 15*time.Second); !ok {
			t.Fatalf("%s did not recover after the database came back:\n%s", r.name, c.logs())
		}
	}
	// And a change after the restart still propagates.
	if a := c.deleteMember(c.replicas[0], "alice", "m1"); a.status/100 != 2 {
		t.Fatalf("DELETE after restart: %d %s", a.status, a.body)
	}
	for _, r := range c.replicas {
		if _, ok := c.waitStatus(r, "m1", statusRevoked, 5*time.Second); !ok {
			t.Errorf("%s: revoke after the restart not seen", r.name)
		}
	}
}

// A replica paused with SIGSTOP for longer than max_staleness, while a
// member is revoked on another replica, answers correctly on its first
// request after SIGCONT: never the stale 200.
func TestClusterPausedReplicaNeverServesStale(t *testing.T) {
	c := newCluster(t, 3)
	seedMembers(t, c.pg(), []string{"member"}, "p1", "p2")
	paused := c.replicas[2]
	for _, u := range []string{"p1", "p2"} {
		if _, ok := c.waitStatus(paused, u, http.StatusOK, 5*time.Second); !ok {
			t.Fatalf("%s never allowed", u)
		}
	}
	pid := paused.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	})
	if a := c.deleteMember(c.replicas[0], "alice", "p1"); a.status/100 != 2 {
		t.Fatalf("DELETE: %d %s", a.status, a.body)
	}
	time.Sleep(2 * clusterMaxStaleness)
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed = true
	first := c.read(paused, "p1")
	if !matches(first.status, statusRevoked) && first.status != http.StatusServiceUnavailable {
		t.Fatalf("first request after SIGCONT for the revoked member: %d %s", first.status, first.body)
	}
	if _, ok := c.waitStatus(paused, "p1", statusRevoked, 5*time.Second); !ok {
		t.Errorf("the resumed replica never refused the revoked member")
	}
	if _, ok := c.waitStatus(paused, "p2", http.StatusOK, 5*time.Second); !ok {
		t.Errorf("the resumed replica never recovered for a current member")
	}
	t.Logf("first answer after SIGCONT: %d", first.status)
}

// A revoke on replica 1 is refused by replicas 2 and 3 within 100 ms,
// p99 over 200 revokes.
func TestClusterRevokePropagation(t *testing.T) {
	c := newCluster(t, 3)
	lat := measureRevokes(t, c, "u", 200)
	p50, p99, mx := percentiles(lat)
	t.Logf("revoke propagation over %d revokes (replica 1 -> slower of replicas 2, 3): p50 %v p99 %v max %v", len(lat), p50, p99, mx)
	if p99 > propagationLimit {
		t.Errorf("p99 propagation %v > %v (p50 %v, max %v)", p99, propagationLimit, p50, mx)
	}
}

// Killing the listeners' backend connections (pg_terminate_backend) over
// and over during a stream of revokes loses none: every revoke is refused
// on every replica, and within max_staleness of its 2xx.
func TestClusterListenerKilledLosesNothing(t *testing.T) {
	c := newCluster(t, 3)
	var killed atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(40 * time.Millisecond):
				killed.Add(int64(pgtest.TerminateListeners(t, c.dbURL)))
			}
		}
	}()
	const n = 60
	r1 := c.replicas[0]
	var worst time.Duration
	for i := range n {
		user := fmt.Sprintf("k%d", i)
		seedMembers(t, c.pg(), []string{"member"}, user)
		for _, r := range c.replicas[1:] {
			if _, ok := c.waitStatus(r, user, http.StatusOK, 5*time.Second); !ok {
				t.Fatalf("%s: member %s never allowed:\n%s", r.name, user, c.logs())
			}
		}
		if a := c.deleteMember(r1, "alice", user); a.status != http.StatusNoContent && a.status != http.StatusOK {
			t.Fatalf("DELETE member %s: %d %s", user, a.status, a.body)
		}
		// Refused: 403, or 503 while a replica cannot confirm it is
		// current. Never 200.
		for _, r := range c.replicas[1:] {
			start := time.Now()
			for {
				st := c.read(r, user).status
				if matches(st, statusRevoked) || st == http.StatusServiceUnavailable {
					break
				}
				if time.Since(start) > 5*time.Second {
					t.Fatalf("%s still allows revoked %s after 5s:\n%s", r.name, user, c.logs())
				}
				time.Sleep(time.Millisecond)
			}
			worst = max(worst, time.Since(start))
		}
	}
	close(stop)
	<-done
	if killed.Load() < 3 {
		t.Fatalf("only %d listener connections terminated: the test did not exercise reconnects", killed.Load())
	}
	if worst > clusterMaxStaleness {
		t.Errorf("a revoke took %v to be refused, more than max_staleness %v", worst, clusterMaxStaleness)
	}
	// Nothing lost: once the listeners are left alone, every revoke is a
	// plain refusal (never 503) everywhere.
	for i := range n {
		user := fmt.Sprintf("k%d", i)
		for _, r := range c.replicas {
			if _, ok := c.waitStatus(r, user, statusRevoked, 5*time.Second); !ok {
				t.Errorf("%s: revoked %s not refused", r.name, user)
			}
		}
	}
	t.Logf("%d listener connections terminated during %d revokes; slowest refusal %v", killed.Load(), n, worst)
}
