package admin_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestOrgMembersPut: organization.members adds and replaces members of
// known users it may see; unknown roles are 400 field roles with a
// did-you-mean; an unknown or unseen user is 404 user_not_found.
func TestOrgMembersPut(t *testing.T) {
	h := newOrgHarness(t)
	acme := h.postOrg("alice", "Acme")
	h.knownTo("alice", "bob")
	h.known("stranger")
	base := "/v1/orgs/" + acme.ID + "/members/"

	r := h.do("PUT", base+"bob", h.token("alice"), map[string]any{"roles": []string{"member"}}).want(http.StatusCreated)
	if loc := r.header.Get("Location"); loc != base+"bob" {
		t.Errorf("Location %q", loc)
	}
	var m orgMemberJSON
	r.decode(&m)
	if m.UserID != "bob" || m.Email != "bob@example.com" || len(m.Permissions) != 0 {
		t.Errorf("added %s", r.raw)
	}
	wantStrings(t, "bob's roles", m.Roles, []string{"member"})
	h.do("PUT", base+"bob", h.token("alice"), map[string]any{"roles": []string{"manager", "billing"}}).want(http.StatusOK).decode(&m)
	wantStrings(t, "bob's permissions", m.Permissions, []string{"organization.billing", "organization.members", "organization.settings"})
	wantStrings(t, "stored roles", h.orgRoles(acme.ID, "bob"), []string{"manager", "billing"})
	ev := h.orgState(acme.ID).Audit[0]
	if ev.Action != "org_member.put" || ev.Target != "user:bob" || !strings.Contains(string(ev.Summary), `"before":{"roles":["member"]}`) {
		t.Errorf("audit %+v %s", ev, ev.Summary)
	}

	bad := h.orgRefused(acme.ID, func() *resp {
		return h.do("PUT", base+"bob", h.token("alice"), map[string]any{"roles": []string{"ownr"}})
	}).invalid("roles")
	if d := bad.str("detail"); !strings.Contains(d, "did you mean owner?") || !strings.Contains(d, "owner, manager, billing, member") {
		t.Errorf("detail %q", d)
	}
	for _, body := range []any{map[string]any{"roles": []string{}}, map[string]any{}, map[string]any{"roles": []string{"member", "member"}}} {
		h.orgRefused(acme.ID, func() *resp { return h.do("PUT", base+"bob", h.token("alice"), body) }).invalid("roles")
	}
	// An unknown id and a user alice shares no workspace with: one answer.
	unknown := h.orgRefused(acme.ID, func() *resp {
		return h.do("PUT", base+"nobody", h.token("alice"), map[string]any{"roles": []string{"member"}})
	}).problem(http.StatusNotFound, "user_not_found")
	unseen := h.orgRefused(acme.ID, func() *resp {
		return h.do("PUT", base+"stranger", h.token("alice"), map[string]any{"roles": []string{"member"}})
	}).problem(http.StatusNotFound, "user_not_found")
	if string(unknown.raw) != string(unseen.raw) {
		t.Errorf("unknown %s, unseen %s", unknown.raw, unseen.raw)
	}
	// A global admin may add anyone known.
	h.do("PUT", base+"stranger", h.token("root"), map[string]any{"roles": []string{"member"}}).want(http.StatusCreated)
}

// TestOrgMembersNoEscalation (decision 3): assigning roles needs
// organization.members and every organization permission they give;
// changing or removing a member needs everything that member holds.
func TestOrgMembersNoEscalation(t *testing.T) { orgNoEscalationFlow(t, newOrgHarness(t)) }

func orgNoEscalationFlow(t *testing.T, h *harness) {
	acme := h.postOrg("alice", "Acme")
	h.knownTo("dave", "bob", "carol", "alice")
	h.putOrgMemberDirect(acme.ID, "dave", "manager")
	h.putOrgMemberDirect(acme.ID, "carol", "member")
	base := "/v1/orgs/" + acme.ID + "/members/"

	for _, roles := range [][]string{{"owner"}, {"billing"}, {"member", "billing"}} {
		r := h.orgRefused(acme.ID, func() *resp {
			return h.do("PUT", base+"bob", h.token("dave"), map[string]any{"roles": roles})
		}).problem(http.StatusForbidden, "escalation")
		if r.body["required_permission"] == nil {
			t.Errorf("%v: no required_permission in %s", roles, r.raw)
		}
	}
	// Dave may not demote or remove the owner, who holds more than he does.
	h.orgRefused(acme.ID, func() *resp {
		return h.do("PUT", base+"alice", h.token("dave"), map[string]any{"roles": []string{"member"}})
	}).problem(http.StatusForbidden, "escalation")
	h.orgRefused(acme.ID, func() *resp { return h.do("DELETE", base+"alice", h.token("dave"), nil) }).
		problem(http.StatusForbidden, "escalation")
	// Within his own permissions he may.
	h.do("PUT", base+"bob", h.token("dave"), map[string]any{"roles": []string{"manager"}}).want(http.StatusCreated)
	h.do("PUT", base+"carol", h.token("dave"), map[string]any{"roles": []string{"manager"}}).want(http.StatusOK)
	h.do("DELETE", base+"carol", h.token("dave"), nil).want(http.StatusNoContent)
	if roles := h.orgRoles(acme.ID, "carol"); roles != nil {
		t.Errorf("carol still has %v", roles)
	}
	// A member without organization.members changes nobody.
	h.putOrgMemberDirect(acme.ID, "carol", "member")
	h.orgRefused(acme.ID, func() *resp {
		return h.do("PUT", base+"bob", h.token("carol"), map[string]any{"roles": []string{"member"}})
	}).forbidden("organization.members")
	h.orgRefused(acme.ID, func() *resp { return h.do("DELETE", base+"bob", h.token("carol"), nil) }).
		forbidden("organization.members")
	// A non-member learns nothing.
	h.orgRefused(acme.ID, func() *resp {
		return h.do("PUT", base+"bob", h.token("eve"), map[string]any{"roles": []string{"member"}})
	}).problem(http.StatusNotFound, "organization_not_found")
}

// TestOrgMembersListAndGet: any member lists (paginated, with email and
// permissions) and reads one; non-members get 404.
func TestOrgMembersListAndGet(t *testing.T) {
	h := newOrgHarness(t)
	acme := h.postOrg("alice", "Acme")
	h.known("bob", "carol")
	h.putOrgMemberDirect(acme.ID, "bob", "billing")
	h.putOrgMemberDirect(acme.ID, "carol", "member")
	base := "/v1/orgs/" + acme.Slug + "/members"

	var got []orgMemberJSON
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		var pg page[orgMemberJSON]
		h.do("GET", base+"?limit=2"+cursor, h.token("carol"), nil).want(http.StatusOK).decode(&pg)
		got = append(got, pg.Items...)
		if pg.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + *pg.NextCursor
	}
	if len(got) != 3 || got[0].UserID != "alice" || got[1].UserID != "bob" || got[2].UserID != "carol" {
		t.Fatalf("members %+v", got)
	}
	wantStrings(t, "alice's permissions", got[0].Permissions, allOrgPermissions)
	wantStrings(t, "bob's permissions", got[1].Permissions, []string{"organization.billing"})
	if got[1].Email != "bob@example.com" {
		t.Errorf("bob's email %q", got[1].Email)
	}
	var one orgMemberJSON
	h.do("GET", base+"/bob", h.token("carol"), nil).want(http.StatusOK).decode(&one)
	wantStrings(t, "bob's roles", one.Roles, []string{"billing"})
	h.do("GET", base+"/nobody", h.token("carol"), nil).problem(http.StatusNotFound, "member_not_found")
	h.do("GET", base, h.token("eve"), nil).problem(http.StatusNotFound, "organization_not_found")
	h.do("GET", base+"/bob", h.token("eve"), nil).problem(http.StatusNotFound, "organization_not_found")
	h.do("GET", base, h.token("root"), nil).want(http.StatusOK)
	h.do("GET", base+"?limit=501", h.token("carol"), nil).invalid("limit")
}

// TestOrgLastAdmin (decision 4): an organization keeps a member holding
// organization.admin: its last owner can neither be demoted nor leave;
// once there is a second, either may.
func TestOrgLastAdmin(t *testing.T) { orgLastAdminFlow(t, newOrgHarness(t)) }

func orgLastAdminFlow(t *testing.T, h *harness) {
	acme := h.postOrg("alice", "Acme")
	h.knownTo("alice", "bob")
	base := "/v1/orgs/" + acme.ID + "/members/"
	h.orgRefused(acme.ID, func() *resp {
		return h.do("PUT", base+"alice", h.token("alice"), map[string]any{"roles": []string{"manager"}})
	}).problem(http.StatusConflict, "last_admin")
	h.orgRefused(acme.ID, func() *resp { return h.do("DELETE", base+"alice", h.token("alice"), nil) }).
		problem(http.StatusConflict, "last_admin")
	h.orgRefused(acme.ID, func() *resp { return h.do("DELETE", base+"alice", h.token("root"), nil) }).
		problem(http.StatusConflict, "last_admin")

	h.do("PUT", base+"bob", h.token("alice"), map[string]any{"roles": []string{"owner"}}).want(http.StatusCreated)
	h.do("PUT", base+"alice", h.token("alice"), map[string]any{"roles": []string{"member", "billing"}}).want(http.StatusOK)
	h.orgRefused(acme.ID, func() *resp { return h.do("DELETE", base+"bob", h.token("bob"), nil) }).
		problem(http.StatusConflict, "last_admin")
	// A member leaves by themself, with no permission needed.
	h.do("DELETE", base+"alice", h.token("alice"), nil).want(http.StatusNoContent)
	if roles := h.orgRoles(acme.ID, "alice"); roles != nil {
		t.Errorf("alice still has %v", roles)
	}
	if ev := h.orgState(acme.ID).Audit[0]; ev.Action != "org_member.delete" || ev.Actor != "alice" || ev.Target != "user:alice" {
		t.Errorf("audit %+v", ev)
	}
	h.do("GET", "/v1/orgs/"+acme.ID, h.token("alice"), nil).problem(http.StatusNotFound, "organization_not_found")
}

// TestOrgAdminsDemoteEachOtherAtOnce: two owners demote each other at the
// same moment; the store serializes the writes and the second sees the
// first, so exactly one succeeds and one owner remains.
func TestOrgAdminsDemoteEachOtherAtOnce(t *testing.T) { orgDemoteRaceFlow(t, newOrgHarness(t)) }

func orgDemoteRaceFlow(t *testing.T, h *harness) {
	acme := h.postOrg("alice", "Acme")
	h.knownTo("alice", "bob")
	base := "/v1/orgs/" + acme.ID + "/members/"
	tokens := map[string]string{"alice": h.token("alice"), "bob": h.token("bob")}
	for round := 0; round < 5; round++ {
		h.putOrgMemberDirect(acme.ID, "alice", "owner")
		h.putOrgMemberDirect(acme.ID, "bob", "owner")
		var (
			wg       sync.WaitGroup
			statuses = map[string]int{}
			mu       sync.Mutex
			start    = make(chan struct{})
		)
		for actor, target := range map[string]string{"alice": "bob", "bob": "alice"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r, err := h.send("PUT", base+target, tokens[actor], map[string]any{"roles": []string{"member"}}, nil)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				statuses[actor] = r.status
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		ok, refused := 0, 0
		for _, s := range statuses {
			switch s {
			case http.StatusOK:
				ok++
			case http.StatusConflict, http.StatusForbidden:
				// 409 last_admin, or 403 forbidden: the loser's write
				// ran second and found them demoted already.
				refused++
			}
		}
		owners := 0
		for _, u := range []string{"alice", "bob"} {
			if roles := h.orgRoles(acme.ID, u); len(roles) == 1 && roles[0] == "owner" {
				owners++
			}
		}
		if ok != 1 || refused != 1 || owners != 1 {
			t.Fatalf("round %d: statuses %v, %d owners remain; want one success, one refusal, one owner", round, statuses, owners)
		}
	}
}

// TestOrgAdminsLeaveAtOnce: the two owners leave at the same moment (no
// permission check stands in the way of leaving): the last-admin check
// runs in each write's own transaction, so exactly one leaves and the
// other gets 409 last_admin.
func TestOrgAdminsLeaveAtOnce(t *testing.T) { orgLeaveRaceFlow(t, newOrgHarness(t)) }

func orgLeaveRaceFlow(t *testing.T, h *harness) {
	acme := h.postOrg("alice", "Acme")
	h.known("bob")
	base := "/v1/orgs/" + acme.ID + "/members/"
	tokens := map[string]string{"alice": h.token("alice"), "bob": h.token("bob")}
	for round := 0; round < 5; round++ {
		h.putOrgMemberDirect(acme.ID, "alice", "owner")
		h.putOrgMemberDirect(acme.ID, "bob", "owner")
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			statuses = map[string]int{}
			start    = make(chan struct{})
		)
		for _, user := range []string{"alice", "bob"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r, err := h.send("DELETE", base+user, tokens[user], nil, nil)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				statuses[user] = r.status
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		left, kept := 0, 0
		for user, s := range statuses {
			switch {
			case s == http.StatusNoContent && h.orgRoles(acme.ID, user) == nil:
				left++
			case s == http.StatusConflict && h.orgRoles(acme.ID, user) != nil:
				kept++
			}
		}
		if left != 1 || kept != 1 {
			t.Fatalf("round %d: statuses %v; want one 204 (gone) and one 409 (still an owner)", round, statuses)
		}
	}
}
