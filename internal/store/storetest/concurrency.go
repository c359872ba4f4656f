package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// pair opens a store and a second Store value on the same database (see
// the package doc); without Backend.Second both are the same value.
func pair(t *testing.T, b Backend) [2]store.Store {
	s := b.Open(t)
	if b.Second == nil {
		t.Log("Backend.Second is nil: all writers share one Store value")
		return [2]store.Store{s, s}
	}
	return [2]store.Store{s, b.Second(t, s)}
}

// testConcurrency: read-modify-write Updates from many goroutines on two
// Store values lose no update and apply fn's effect once, Views alongside
// never see the data go back, and the last-admin invariant checked inside
// Update holds however demotions interleave; concurrent Views never see a
// state that breaks it.
func testConcurrency(t *testing.T, b Backend) {
	t.Run("NoLostUpdate", func(t *testing.T) { testNoLostUpdate(t, b) })
	t.Run("LastAdmin", func(t *testing.T) { testLastAdmin(t, b) })
}

func testNoLostUpdate(t *testing.T, b Backend) {
	ss := pair(t, b)
	rec := newRecorder(ss[0])
	w := seedWorkspace(t, ss[0], "ws_a", "a")
	w.Description = "0"
	update(t, ss[0], func(tx store.Tx) error {
		if err := tx.PutWorkspace(w); err != nil {
			return err
		}
		return tx.PutMember(member("ws_a", "alice", "admin"))
	})
	rec.take(t)
	const writers, rounds = 8, 8 // per Store value
	// Readers on both values alongside: a committed state never goes
	// back (the counter only grows, for each reader).
	lasts := [2]int{-1, -1}
	stopReaders := readAlong(t, ss, func(v int, tx store.Tx) error {
		_, n, err := counter(tx)
		if err != nil {
			return err
		}
		if n < lasts[v] {
			return fmt.Errorf("the counter went back from %d to %d", lasts[v], n)
		}
		lasts[v] = n
		return nil
	})
	var wg sync.WaitGroup
	for v, s := range ss {
		for g := range writers {
			wg.Go(func() {
				for i := range rounds {
					err := s.Update(t.Context(), func(tx store.Tx) error {
						// Both records are read, changed and written in
						// one transaction: a counter in the workspace's
						// description, a role appended to the membership.
						w, n, err := counter(tx)
						if err != nil {
							return err
						}
						w.Description = strconv.Itoa(n + 1)
						if err := tx.PutWorkspace(w); err != nil {
							return err
						}
						m, err := tx.Member("ws_a", "alice")
						if err != nil {
							return err
						}
						m.Roles = append(m.Roles, fmt.Sprintf("r-%d-%d-%d", v, g, i))
						return tx.PutMember(m)
					})
					if err != nil {
						t.Errorf("Update: %v", err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	stopReaders()
	const total = 2 * writers * rounds
	view(t, ss[1], func(tx store.Tx) error {
		w, err := tx.Workspace("ws_a")
		noErr(t, "Workspace", err)
		equal(t, "the counter after concurrent increments", w.Description, strconv.Itoa(total))
		m, err := tx.Member("ws_a", "alice")
		noErr(t, "Member", err)
		if len(m.Roles) != total+1 {
			t.Errorf("membership has %d roles after %d concurrent appends, want %d", len(m.Roles), total, total+1)
		}
		slices.Sort(m.Roles)
		if len(slices.Compact(m.Roles)) != len(m.Roles) {
			t.Error("a role was appended twice: fn's effect was applied more than once")
		}
		return nil
	})
	// Every commit of both values is in the feed, gaplessly (read checks
	// the gaps), each with its member change.
	calls := rec.take(t)
	if n := countOf(calls, "member ws_a alice"); n != total {
		t.Errorf("the feed after %d concurrent updates holds %d member changes", total, n)
	}
}

func countOf(xs []string, x string) int {
	n := 0
	for _, e := range xs {
		if e == x {
			n++
		}
	}
	return n
}

// counter reads ws_a and the counter its description holds.
func counter(tx store.Tx) (store.Workspace, int, error) {
	w, err := tx.Workspace("ws_a")
	if err != nil {
		return w, 0, err
	}
	n, err := strconv.Atoi(w.Description)
	return w, n, err
}

var errLastAdmin = errors.New("storetest: the last admin cannot be demoted")

// demote removes "admin" from userID's roles unless no other member of
// the workspace would hold it: the last-admin rule, written with plain
// store calls inside one Update the way a caller of the contract does.
func demote(s store.Store, t testing.TB, wsID, userID string) error {
	return s.Update(t.Context(), func(tx store.Tx) error {
		ms, _, err := tx.Members(wsID, "", 0)
		if err != nil {
			return err
		}
		admins := 0
		for _, m := range ms {
			if slices.Contains(m.Roles, "admin") {
				admins++
			}
		}
		m, err := tx.Member(wsID, userID)
		if err != nil {
			return err
		}
		if !slices.Contains(m.Roles, "admin") {
			return nil
		}
		if admins < 2 {
			return errLastAdmin
		}
		m.Roles = slices.DeleteFunc(m.Roles, func(r string) bool { return r == "admin" })
		return tx.PutMember(m)
	})
}

func countAdmins(t testing.TB, tx store.Tx, wsID string) int {
	ms, _, err := tx.Members(wsID, "", 0)
	noErr(t, "Members", err)
	n := 0
	for _, m := range ms {
		if slices.Contains(m.Roles, "admin") {
			n++
		}
	}
	return n
}

func testLastAdmin(t *testing.T, b Backend) {
	ss := pair(t, b)
	seedWorkspace(t, ss[0], "ws_a", "a")
	const admins, rounds = 4, 6
	users := make([]string, admins)
	for i := range users {
		users[i] = fmt.Sprintf("u%d", i)
	}
	// Readers on both values: no committed state has zero admins.
	stopReaders := readAlong(t, ss, func(_ int, tx store.Tx) error {
		if ms, _, _ := tx.Members("ws_a", "", 0); len(ms) > 0 && countAdmins(t, tx, "ws_a") == 0 {
			return errors.New("a View saw no admin left")
		}
		return nil
	})
	for round := range rounds {
		update(t, ss[0], func(tx store.Tx) error {
			for _, u := range users {
				if err := tx.PutMember(member("ws_a", u, "admin", "viewer")); err != nil {
					return err
				}
			}
			return nil
		})
		// Every admin is demoted at once, half of them through each
		// value: exactly one must be refused.
		var wg sync.WaitGroup
		var ok, refused atomic.Int32
		for i, u := range users {
			wg.Go(func() {
				switch err := demote(ss[i%2], t, "ws_a", u); {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, errLastAdmin):
					refused.Add(1)
				default:
					t.Errorf("demote %s: %v", u, err)
				}
			})
		}
		wg.Wait()
		view(t, ss[round%2], func(tx store.Tx) error {
			if n := countAdmins(t, tx, "ws_a"); n != 1 {
				t.Errorf("round %d: %d admins left after concurrent demotions, want 1", round, n)
			}
			return nil
		})
		if ok.Load() != admins-1 || refused.Load() != 1 {
			t.Errorf("round %d: %d demotions succeeded and %d were refused, want %d and 1", round, ok.Load(), refused.Load(), admins-1)
		}
	}
	stopReaders()
}

// readAlong runs one reader goroutine per Store value, each calling check
// in a View (with its value's index) until the returned stop is called;
// stop waits for them. An error of check fails t.
func readAlong(t *testing.T, ss [2]store.Store, check func(v int, tx store.Tx) error) (stop func()) {
	var done atomic.Bool
	var readers sync.WaitGroup
	for v, s := range ss {
		readers.Go(func() {
			for !done.Load() {
				if err := s.View(t.Context(), func(tx store.Tx) error { return check(v, tx) }); err != nil {
					t.Errorf("View: %v", err)
					return
				}
			}
		})
	}
	return func() { done.Store(true); readers.Wait() }
}
