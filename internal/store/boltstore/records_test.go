package boltstore

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// ---- CRUD

func TestWorkspaceCRUD(t *testing.T) {
	s, _ := openT(t, Options{})
	w := ws("w1", "acme")
	w.Description = "the acme workspace"
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(w) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Workspace("w1")
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("Workspace = %+v, %v", got, err)
		}
		got, err = tx.WorkspaceBySlug("acme")
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("WorkspaceBySlug = %+v, %v", got, err)
		}
		if _, err := tx.Workspace("w2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing id: %v", err)
		}
		if _, err := tx.WorkspaceBySlug("nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing slug: %v", err)
		}
		// The id is not a slug and vice versa.
		if _, err := tx.WorkspaceBySlug("w1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("id as slug: %v", err)
		}
		if _, err := tx.Workspace("acme"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("slug as id: %v", err)
		}
		return nil
	})

	// Replace; soft delete: still readable by id and slug.
	w.Name = "Acme Corp"
	del := t0.Add(time.Minute)
	w.DeletedAt = &del
	update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(w) })
	view(t, s, func(tx store.Tx) error {
		got, err := tx.WorkspaceBySlug("acme")
		if err != nil || !got.Deleted() || got.Name != "Acme Corp" || !got.DeletedAt.Equal(del) {
			t.Errorf("deleted workspace by slug = %+v, %v", got, err)
		}
		got, err = tx.Workspace("w1")
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("deleted workspace by id = %+v, %v", got, err)
		}
		return nil
	})
	checkIndexes(t, s)
}

func TestSlugIndex(t *testing.T) {
	s, _ := openT(t, Options{})
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutWorkspace(ws("a", "alpha")); err != nil {
			return err
		}
		return tx.PutWorkspace(ws("b", "beta"))
	})

	t.Run("taken", func(t *testing.T) {
		// The conflict is reported, leaves nothing behind, and dooms its
		// transaction (doom.go).
		refused(t, s, func(tx store.Tx) error {
			if err := tx.PutWorkspace(ws("c", "alpha")); !errors.Is(err, store.ErrSlugTaken) {
				t.Errorf("new workspace with a taken slug: %v", err)
			}
			return nil
		})
		refused(t, s, func(tx store.Tx) error {
			if err := tx.PutWorkspace(ws("b", "alpha")); !errors.Is(err, store.ErrSlugTaken) {
				t.Errorf("rename onto a taken slug: %v", err)
			}
			return nil
		})
		update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("c", "gamma")) })
		view(t, s, func(tx store.Tx) error {
			for slug, id := range map[string]string{"alpha": "a", "beta": "b", "gamma": "c"} {
				if w, err := tx.WorkspaceBySlug(slug); err != nil || w.ID != id {
					t.Errorf("slug %s → %+v, %v; want %s", slug, w, err, id)
				}
			}
			return nil
		})
		checkIndexes(t, s)
	})

	t.Run("rename frees the old slug", func(t *testing.T) {
		update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("a", "alpha2")) })
		view(t, s, func(tx store.Tx) error {
			if _, err := tx.WorkspaceBySlug("alpha"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("old slug still resolves: %v", err)
			}
			if w, err := tx.WorkspaceBySlug("alpha2"); err != nil || w.ID != "a" {
				t.Errorf("new slug: %+v %v", w, err)
			}
			return nil
		})
		// Somebody else may take the freed slug.
		update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(ws("d", "alpha")) })
		checkIndexes(t, s)
	})

	t.Run("swap in one transaction", func(t *testing.T) {
		update(t, s, func(tx store.Tx) error {
			for _, w := range []store.Workspace{ws("a", "tmp"), ws("d", "alpha2"), ws("a", "alpha")} {
				if err := tx.PutWorkspace(w); err != nil {
					return err
				}
			}
			return nil
		})
		view(t, s, func(tx store.Tx) error {
			if w, _ := tx.WorkspaceBySlug("alpha"); w.ID != "a" {
				t.Errorf("alpha → %q", w.ID)
			}
			if w, _ := tx.WorkspaceBySlug("alpha2"); w.ID != "d" {
				t.Errorf("alpha2 → %q", w.ID)
			}
			if _, err := tx.WorkspaceBySlug("tmp"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("tmp: %v", err)
			}
			return nil
		})
		checkIndexes(t, s)
	})

	t.Run("deleted workspace keeps its slug", func(t *testing.T) {
		w := ws("b", "beta")
		del := t0
		w.DeletedAt = &del
		update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(w) })
		refused(t, s, func(tx store.Tx) error {
			if err := tx.PutWorkspace(ws("e", "beta")); !errors.Is(err, store.ErrSlugTaken) {
				t.Errorf("taking a deleted workspace's slug: %v", err)
			}
			return nil
		})
		// Restore: same slug, still its own.
		w.DeletedAt = nil
		update(t, s, func(tx store.Tx) error { return tx.PutWorkspace(w) })
		view(t, s, func(tx store.Tx) error {
			if got, err := tx.WorkspaceBySlug("beta"); err != nil || got.ID != "b" || got.Deleted() {
				t.Errorf("restored: %+v %v", got, err)
			}
			return nil
		})
		checkIndexes(t, s)
	})
}

func TestMemberCRUDAndUserIndex(t *testing.T) {
	s, _ := openT(t, Options{})
	update(t, s, func(tx store.Tx) error {
		for _, id := range []string{"w1", "w2", "w10"} {
			if err := tx.PutWorkspace(ws(id, "slug-"+id)); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutMember(member("nope", "u1", "owner")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("member of a missing workspace: %v", err)
		}
		return nil
	})
	m := member("w1", "u1", "owner", "custom")
	m.Grants = []string{"message.send"}
	m.Denies = []string{"contact.read"}
	m.Restrictions = map[string][]string{"instance": {"i1", "i2"}}
	update(t, s, func(tx store.Tx) error {
		for _, x := range []store.Membership{m, member("w10", "u1", "viewer"), member("w1", "u2", "viewer"), member("w2", "u2")} {
			if err := tx.PutMember(x); err != nil {
				return err
			}
		}
		return nil
	})
	checkIndexes(t, s)
	var kept store.Membership
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Member("w1", "u1")
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("Member = %+v, %v; want %+v", got, err, m)
		}
		kept = got
		if _, err := tx.Member("w2", "u1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing member: %v", err)
		}
		items, next, err := tx.UserMemberships("u1", "", 0)
		if err != nil || next != "" || len(items) != 2 || items[0].WorkspaceID != "w1" || items[1].WorkspaceID != "w10" {
			t.Errorf("UserMemberships(u1) = %+v %q %v", items, next, err)
		}
		items, _, _ = tx.Members("w1", "", 0)
		if len(items) != 2 || items[0].UserID != "u1" || items[1].UserID != "u2" {
			t.Errorf("Members(w1) = %+v", items)
		}
		return nil
	})
	// Returned records are copies: usable after the transaction, and
	// changing them changes nothing stored.
	kept.Roles[0] = "hacked"
	kept.Restrictions["instance"][0] = "hacked"
	kept.Restrictions["new"] = nil
	view(t, s, func(tx store.Tx) error {
		got, _ := tx.Member("w1", "u1")
		if !reflect.DeepEqual(got, m) {
			t.Errorf("stored member changed through a returned copy: %+v", got)
		}
		return nil
	})

	// Replace: still one index entry, new content.
	m2 := member("w1", "u1", "viewer")
	update(t, s, func(tx store.Tx) error { return tx.PutMember(m2) })
	checkIndexes(t, s)
	view(t, s, func(tx store.Tx) error {
		got, _ := tx.Member("w1", "u1")
		if !reflect.DeepEqual(got, m2) {
			t.Errorf("replaced member = %+v", got)
		}
		items, _, _ := tx.UserMemberships("u1", "", 0)
		if len(items) != 2 || !reflect.DeepEqual(items[0], m2) {
			t.Errorf("UserMemberships after replace = %+v", items)
		}
		return nil
	})

	// Delete.
	update(t, s, func(tx store.Tx) error { return tx.DeleteMember("w1", "u1") })
	checkIndexes(t, s)
	view(t, s, func(tx store.Tx) error {
		if _, err := tx.Member("w1", "u1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted member: %v", err)
		}
		items, _, _ := tx.UserMemberships("u1", "", 0)
		if len(items) != 1 || items[0].WorkspaceID != "w10" {
			t.Errorf("UserMemberships after delete = %+v", items)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteMember("w1", "u1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleting a missing member: %v", err)
		}
		return nil
	})
	// Empty lists are empty, not nil (they become JSON arrays).
	view(t, s, func(tx store.Tx) error {
		items, next, err := tx.UserMemberships("nobody", "", 10)
		if err != nil || items == nil || len(items) != 0 || next != "" {
			t.Errorf("UserMemberships(nobody) = %#v %q %v", items, next, err)
		}
		items, next, err = tx.Members("w-none", "", 10)
		if err != nil || items == nil || len(items) != 0 || next != "" {
			t.Errorf("Members(w-none) = %#v %q %v", items, next, err)
		}
		return nil
	})
}

func TestRoleCRUD(t *testing.T) {
	s, _ := openT(t, Options{})
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutWorkspace(ws("w1", "one")); err != nil {
			return err
		}
		return tx.PutWorkspace(ws("w10", "ten"))
	})
	role := func(wsID, slug string, perms ...string) store.Role {
		return store.Role{WorkspaceID: wsID, Slug: slug, Name: strings.ToUpper(slug), Permissions: perms, CreatedAt: t0, UpdatedAt: t0}
	}
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutRole(role("nope", "r")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("role of a missing workspace: %v", err)
		}
		for _, r := range []store.Role{role("w1", "support", "contact.read"), role("w1", "agent", "message.*"), role("w10", "other", "x")} {
			if err := tx.PutRole(r); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		got, err := tx.Role("w1", "agent")
		if err != nil || !reflect.DeepEqual(got, role("w1", "agent", "message.*")) {
			t.Errorf("Role = %+v %v", got, err)
		}
		if _, err := tx.Role("w1", "other"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another workspace's role: %v", err)
		}
		roles, err := tx.Roles("w1")
		if err != nil || len(roles) != 2 || roles[0].Slug != "agent" || roles[1].Slug != "support" {
			t.Errorf("Roles(w1) = %+v %v", roles, err)
		}
		if roles, _ := tx.Roles("w2"); roles == nil || len(roles) != 0 {
			t.Errorf("Roles(w2) = %#v", roles)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.PutRole(role("w1", "agent", "message.read")) })
	update(t, s, func(tx store.Tx) error { return tx.DeleteRole("w1", "support") })
	view(t, s, func(tx store.Tx) error {
		roles, _ := tx.Roles("w1")
		if len(roles) != 1 || !reflect.DeepEqual(roles[0].Permissions, []string{"message.read"}) {
			t.Errorf("Roles(w1) after replace+delete = %+v", roles)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteRole("w1", "support"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleting a missing role: %v", err)
		}
		return nil
	})
	checkIndexes(t, s)
}
