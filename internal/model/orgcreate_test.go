package model_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// TestCreateOrganization: an organization gets an org_ id, a slug derived
// from its name (with a suffix once the plain one is taken, even by a
// deleted organization), no stored plan, its creator as a member with the
// given roles, and its create event under its own id; an explicit taken
// slug is store.ErrSlugTaken and bad names are field errors.
func TestCreateOrganization(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UTC()
	no := model.NewOrganization{Name: "Blue Sky", Owner: "zoe", OwnerEmail: "zoe@example.com", OwnerRoles: []string{"owner"}, Actor: "zoe"}
	var first, second store.Organization
	f.update(func(tx store.Tx) error {
		var err error
		if first, err = model.CreateOrganization(tx, no, now); err != nil {
			return err
		}
		first.DeletedAt = &now
		if err := tx.PutOrganization(first); err != nil {
			return err
		}
		second, err = model.CreateOrganization(tx, no, now)
		return err
	})
	if !strings.HasPrefix(first.ID, "org_") || first.Slug != "blue-sky" || !strings.HasPrefix(second.Slug, "blue-sky-") || first.Plan != "" {
		t.Fatalf("created %+v and %+v", first, second)
	}
	f.view(func(tx store.Tx) error {
		m, err := tx.OrgMember(second.ID, "zoe")
		must(t, err)
		if !slices.Equal(m.Roles, []string{"owner"}) {
			t.Errorf("member %+v", m)
		}
		u, err := tx.User("zoe")
		must(t, err)
		if u.Email != "zoe@example.com" {
			t.Errorf("user %+v", u)
		}
		evs, _, err := tx.Audit(second.ID, "", 0)
		must(t, err)
		if len(evs) != 1 || evs[0].Action != "organization.create" || evs[0].Actor != "zoe" {
			t.Errorf("audit %+v", evs)
		}
		taken, err := model.OrgSlugTaken(tx, "blue-sky", second.ID)
		must(t, err)
		if !taken {
			t.Error("a deleted organization's slug reads as free")
		}
		return nil
	})
	for _, c := range []struct {
		no   model.NewOrganization
		want func(error) bool
	}{
		{model.NewOrganization{Name: "X", Slug: "blue-sky", Owner: "zed"}, func(err error) bool { return errors.Is(err, store.ErrSlugTaken) }},
		{model.NewOrganization{Name: "Acme\u202egnp", Owner: "zed"}, func(err error) bool {
			var fe *model.FieldError
			return errors.As(err, &fe) && fe.Field == "name"
		}},
	} {
		err := f.store.Update(t.Context(), func(tx store.Tx) error {
			_, err := model.CreateOrganization(tx, c.no, now)
			return err
		})
		if !c.want(err) {
			t.Errorf("%+v: %v", c.no, err)
		}
	}
}
