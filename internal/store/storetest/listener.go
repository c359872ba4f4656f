package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testListener: which ChangeListener calls each write causes (at least;
// see the package doc), that they come after the commit and before Update
// returns, none from inside fn, and none for TouchAPIKey.
func testListener(t *testing.T, b Backend) {
	rec := &recorder{}
	s := b.Open(t, rec)
	w := ws("ws_a", "acme")
	for _, c := range []struct {
		name  string
		write func(tx store.Tx) error
		want  []string // nil: no call at all
	}{
		{"create a workspace", func(tx store.Tx) error { return tx.PutWorkspace(w) }, []string{"ws ws_a true"}},
		{"rename a workspace", func(tx store.Tx) error { w.Name = "Acme Inc"; return tx.PutWorkspace(w) }, []string{"ws ws_a false"}},
		{"change the slug", func(tx store.Tx) error { w.Slug = "acme-inc"; return tx.PutWorkspace(w) }, []string{"ws ws_a true"}},
		{"delete a workspace", func(tx store.Tx) error { w.DeletedAt = tp(t0); return tx.PutWorkspace(w) }, []string{"ws ws_a true"}},
		{"restore a workspace", func(tx store.Tx) error { w.DeletedAt = nil; return tx.PutWorkspace(w) }, []string{"ws ws_a true"}},
		{"put a role", func(tx store.Tx) error { return tx.PutRole(role("ws_a", "r", "x:read")) }, []string{"ws ws_a false"}},
		{"delete a role", func(tx store.Tx) error { return tx.DeleteRole("ws_a", "r") }, []string{"ws ws_a false"}},
		{"put a member", func(tx store.Tx) error { return tx.PutMember(member("ws_a", "alice", "admin")) }, []string{"member ws_a alice"}},
		{"replace a member", func(tx store.Tx) error { return tx.PutMember(member("ws_a", "alice", "viewer")) }, []string{"member ws_a alice"}},
		{"delete a member", func(tx store.Tx) error { return tx.DeleteMember("ws_a", "alice") }, []string{"member ws_a alice"}},
		{"put an API key", func(tx store.Tx) error { return tx.PutAPIKey(apiKey("k1", "ws_a")) }, []string{"apikey ws_a k1"}},
		{"revoke an API key", func(tx store.Tx) error {
			k := apiKey("k1", "ws_a")
			k.RevokedAt = tp(t0)
			return tx.PutAPIKey(k)
		}, []string{"apikey ws_a k1"}},
		{"touch an API key", func(tx store.Tx) error { return tx.TouchAPIKey("k1", t0.Add(time.Hour)) }, nil},
		{"several writes in one Update", func(tx store.Tx) error {
			for _, err := range []error{
				tx.PutMember(member("ws_a", "bob", "viewer")),
				tx.PutMember(member("ws_a", "carol", "viewer")),
				tx.PutRole(role("ws_a", "r2", "x:read")),
				tx.PutAPIKey(apiKey("k2", "ws_a")),
			} {
				if err != nil {
					return err
				}
			}
			return nil
		}, []string{"member ws_a bob", "member ws_a carol", "ws ws_a false", "apikey ws_a k2"}},
	} {
		err := s.Update(t.Context(), func(tx store.Tx) error {
			if err := c.write(tx); err != nil {
				return err
			}
			// Nothing is told before the commit: a cache refilled
			// meanwhile would keep the old data under the new version.
			rec.wantCalls(t, c.name+", inside fn")
			return nil
		})
		noErr(t, c.name, err)
		// ... and everything before Update returns.
		rec.wantCalls(t, c.name, c.want...)
	}
}

// visibility is a listener that, when told about a member, reads that
// membership in a new View: the contract calls the listener after the
// commit, so the change must already be visible to new readers (what
// makes a cache filled after the call correct).
type visibility struct {
	s     store.Store
	found chan bool
}

func (v *visibility) WorkspaceChanged(string, bool) {}
func (v *visibility) APIKeyChanged(string, string)  {}
func (v *visibility) MemberChanged(wsID, userID string) {
	err := v.s.View(context.Background(), func(tx store.Tx) error {
		_, err := tx.Member(wsID, userID)
		return err
	})
	v.found <- err == nil
}

// testListenerSeesCommit: a View from inside the listener call sees the
// committed write.
func testListenerSeesCommit(t *testing.T, b Backend) {
	v := &visibility{found: make(chan bool, 1)}
	v.s = b.Open(t, v)
	seedWorkspace(t, v.s, "ws_a", "a")
	update(t, v.s, func(tx store.Tx) error { return tx.PutMember(member("ws_a", "alice", "admin")) })
	select {
	case ok := <-v.found:
		if !ok {
			t.Error("a View inside the listener call did not see the committed membership")
		}
	default:
		t.Error("Update returned before the listener heard of the member")
	}
}
