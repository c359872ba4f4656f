package model_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

func (f *fixture) ensureLocal(user string) (store.Workspace, bool) {
	f.t.Helper()
	var ws store.Workspace
	var created bool
	f.update(func(tx store.Tx) error {
		var err error
		ws, created, err = f.model.EnsureLocalWorkspace(tx, user, user+"@example.com", time.Now().UTC())
		return err
	})
	return ws, created
}

func TestEnsureLocalWorkspaceCreatesOnce(t *testing.T) {
	f := newFixture(t)
	ws, created := f.ensureLocal("zoe")
	if !created {
		t.Fatal("first call: not created")
	}
	if ws.Scope != store.ScopeLocal || ws.OwnerID != "zoe" || ws.Name != model.LocalWorkspaceName || ws.OrganizationID != "" {
		t.Errorf("local workspace %+v", ws)
	}
	if ws.Slug != model.LocalSlug("zoe", 0) || !strings.HasPrefix(ws.Slug, "u-") || ident.ValidateSlug(ws.Slug) != nil || !ident.IsWorkspaceID(ws.ID) {
		t.Errorf("slug %q id %q", ws.Slug, ws.ID)
	}
	again, created := f.ensureLocal("zoe")
	if created || again.ID != ws.ID {
		t.Errorf("second call: created=%v id %s, want the first %s", created, again.ID, ws.ID)
	}
	f.view(func(tx store.Tx) error {
		m, err := tx.Member(ws.ID, "zoe")
		must(t, err)
		if len(m.Roles) != 1 || m.Roles[0] != f.model.CreatorRole() {
			t.Errorf("owner's roles %v, want [%s]", m.Roles, f.model.CreatorRole())
		}
		u, err := tx.User("zoe")
		must(t, err)
		if u.Email != "zoe@example.com" {
			t.Errorf("user %+v", u)
		}
		evs, _, err := tx.Audit(ws.ID, "", 0)
		must(t, err)
		if len(evs) != 1 || evs[0].Action != "workspace.create" || evs[0].Actor != "zoe" {
			t.Errorf("audit %+v", evs)
		}
		a, found, err := f.model.Standing(tx, ws, "zoe")
		must(t, err)
		if !found || !f.model.HoldsAdmin(a.Permissions) {
			t.Errorf("owner's standing found=%v", found)
		}
		return nil
	})
	// Another user gets another one.
	other, created := f.ensureLocal("zed")
	if !created || other.ID == ws.ID || other.Slug == ws.Slug {
		t.Errorf("zed's: %+v", other)
	}
}

// A slug someone already holds (squatting the derived form) moves the
// local workspace to the next candidate.
func TestEnsureLocalWorkspaceSkipsTakenSlug(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UTC()
	f.update(func(tx store.Tx) error {
		return tx.PutWorkspace(store.Workspace{ID: ident.NewWorkspaceID(), Slug: model.LocalSlug("zoe", 0), Name: "squat", CreatedAt: now, UpdatedAt: now})
	})
	ws, created := f.ensureLocal("zoe")
	if !created || ws.Slug != model.LocalSlug("zoe", 1) {
		t.Errorf("slug %q, want %q", ws.Slug, model.LocalSlug("zoe", 1))
	}
	if a, b := model.LocalSlug("zoe", 0), model.LocalSlug("zoe", 1); !strings.HasPrefix(b, a) || len(b) != len(a)+4 {
		t.Errorf("candidates %q, %q", a, b)
	}
	if s := model.LocalSlug("zoe", 40); ident.ValidateSlug(s) != nil || s == model.LocalSlug("zoe", 41) {
		t.Errorf("random fallback %q", s)
	}
}

// Concurrent first requests (read-then-create in one Update each) make
// exactly one local workspace.
func TestEnsureLocalWorkspaceConcurrent(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	ids := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := f.store.Update(context.Background(), func(tx store.Tx) error {
				ws, _, err := f.model.EnsureLocalWorkspace(tx, "zoe", "", time.Now().UTC())
				ids <- ws.ID
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(ids)
	first := ""
	for id := range ids {
		if first == "" {
			first = id
		}
		if id != first {
			t.Errorf("two local workspaces: %s and %s", first, id)
		}
	}
	f.view(func(tx store.Tx) error {
		all, _, err := tx.Workspaces("", 0)
		must(t, err)
		n := 0
		for _, w := range all {
			if w.Scope == store.ScopeLocal {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d local workspaces, want 1", n)
		}
		return nil
	})
}

// A deleted local workspace is returned, not replaced.
func TestEnsureLocalWorkspaceKeepsDeleted(t *testing.T) {
	f := newFixture(t)
	ws, _ := f.ensureLocal("zoe")
	now := time.Now().UTC()
	ws.DeletedAt = &now
	f.update(func(tx store.Tx) error { return tx.PutWorkspace(ws) })
	got, created := f.ensureLocal("zoe")
	if created || got.ID != ws.ID || !got.Deleted() {
		t.Errorf("after delete: created=%v %+v", created, got)
	}
}
