package admin_test

import (
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// escalation checks a 403 escalation naming a permission the caller
// lacks (want, when given, exactly).
func (r *resp) escalation(callerHolds []string, want string) *resp {
	r.t.Helper()
	r.problem(http.StatusForbidden, "escalation")
	got, _ := r.body["required_permission"].(string)
	if got == "" || slices.Contains(callerHolds, got) || (want != "" && got != want) {
		r.t.Fatalf("%s: required_permission %q (want %q, not one of %v); body: %s", r.req, got, want, callerHolds, r.raw)
	}
	if r.body["workspace"] == nil {
		r.t.Fatalf("%s: no workspace member: %s", r.req, r.raw)
	}
	return r
}

// No escalation (README "Management API"): a member may hand out, and change members
// holding, only what they hold themselves.
func TestNoEscalation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.createRole("alice", ws, "manager", "workspace.members", "workspace.roles", "contact.read", "message.*")
	h.createRole("alice", ws, "campaigner", "campaign.run")
	h.knownTo("alice", "mallory", "bob", "carol", "dave", "nina")
	h.putMember("alice", ws, "mallory", map[string]any{"roles": []string{"manager"}})
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"member"}})
	h.putMember("alice", ws, "dave", map[string]any{"roles": []string{"operator"}})
	mallory := h.token("mallory")
	holds := []string{"contact.read", "message.read", "message.send", "workspace.members", "workspace.roles"}
	var me struct{ Permissions []string }
	h.do("GET", "/v1/workspaces/acme/me", mallory, nil).want(http.StatusOK).decode(&me)
	wantStrings(t, "mallory's permissions", me.Permissions, holds)

	for _, tc := range []struct {
		name, method, path string
		body               any
		missing            string // the one permission named, "" when several are missing
	}{
		{"assign owner", "PUT", "/members/bob", map[string]any{"roles": []string{"owner"}}, ""},
		{"add a member as owner", "PUT", "/members/carol", map[string]any{"roles": []string{"owner"}}, ""},
		{"add owner to own roles", "PUT", "/members/mallory", map[string]any{"roles": []string{"manager", "owner"}}, ""},
		{"grant a wider pattern", "PUT", "/members/bob", map[string]any{"roles": []string{"member"}, "grants": []string{"contact.*"}}, "contact.manage"},
		{"grant everything", "PUT", "/members/bob", map[string]any{"roles": []string{"member"}, "grants": []string{"*"}}, ""},
		{"grant an unheld permission", "PUT", "/members/bob", map[string]any{"roles": []string{"member"}, "grants": []string{"workspace.settings"}}, "workspace.settings"},
		{"assign a custom role held by nobody", "PUT", "/members/bob", map[string]any{"roles": []string{"campaigner"}}, ""},
		{"assign operator to oneself", "PUT", "/members/mallory", map[string]any{"roles": []string{"manager", "operator"}}, "campaign.read"},
		{"create a wider role", "POST", "/roles", map[string]any{"slug": "exporter", "name": "Exporter", "permissions": []string{"contact.manage"}}, "contact.manage"},
		{"create a role with a wider pattern", "POST", "/roles", map[string]any{"slug": "contacts", "name": "Contacts", "permissions": []string{"contact.*"}}, "contact.manage"},
		{"widen own role", "PATCH", "/roles/manager", map[string]any{"permissions": []string{"workspace.members", "workspace.roles", "contact.read", "message.*", "campaign.read"}}, "campaign.read"},
		{"rename a role granting more", "PATCH", "/roles/campaigner", map[string]any{"name": "Renamed"}, ""},
		{"narrow a role granting more", "PATCH", "/roles/campaigner", map[string]any{"permissions": []string{}}, ""},
		{"delete a role granting more", "DELETE", "/roles/campaigner", nil, ""},
		{"invite as operator", "POST", "/invites", map[string]any{"email": "x@example.com", "roles": []string{"operator"}}, "campaign.read"},
		{"invite as owner", "POST", "/invites", map[string]any{"email": "x@example.com", "roles": []string{"owner"}}, ""},
		{"demote a member holding more", "PUT", "/members/dave", map[string]any{"roles": []string{"member"}}, "campaign.read"},
		{"remove a member holding more", "DELETE", "/members/dave", nil, "campaign.read"},
		{"demote the owner", "PUT", "/members/alice", map[string]any{"roles": []string{"member"}}, ""},
		{"remove the owner", "DELETE", "/members/alice", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.in(t)
			h.refused(ws.ID, func() *resp {
				return h.do(tc.method, "/v1/workspaces/acme"+tc.path, mallory, tc.body).escalation(holds, tc.missing)
			})
		})
	}
	if h.access("dave", "acme").Roles[0] != "operator" || !h.access("alice", "acme").Member {
		t.Fatal("a refused change reached the gateway")
	}

	// Within what she holds, all of it works.
	h.putMember("mallory", ws, "bob", map[string]any{"roles": []string{"member"}, "grants": []string{"contact.read", "message.*"}})
	h.do("PUT", "/v1/workspaces/acme/members/carol", mallory, map[string]any{"roles": []string{"member"}, "restrictions": map[string][]string{"instance": {"i1"}}}).want(http.StatusCreated)
	h.do("POST", "/v1/workspaces/acme/roles", mallory, map[string]any{"slug": "reader", "name": "Reader", "permissions": []string{"contact.read", "message.*"}}).want(http.StatusCreated)
	h.do("PATCH", "/v1/workspaces/acme/roles/reader", mallory, map[string]any{"permissions": []string{"contact.read"}}).want(http.StatusOK)
	h.do("POST", "/v1/workspaces/acme/invites", mallory, map[string]any{"email": "x@example.com", "roles": []string{"reader", "member"}}).want(http.StatusCreated)
	h.do("POST", "/v1/workspaces/acme/invites", mallory, map[string]any{"email": "y@example.com", "roles": []string{"manager"}}).want(http.StatusCreated)
	h.do("POST", "/v1/workspaces/acme/roles", mallory, map[string]any{"slug": "tmp", "name": "Tmp", "permissions": []string{"message.read"}}).want(http.StatusCreated)
	h.do("DELETE", "/v1/workspaces/acme/roles/tmp", mallory, nil).want(http.StatusNoContent)
	// A member holding exactly what she holds can be changed and removed.
	h.do("PUT", "/v1/workspaces/acme/members/carol", mallory, map[string]any{"roles": []string{"manager"}}).want(http.StatusOK)
	h.do("PUT", "/v1/workspaces/acme/members/carol", mallory, map[string]any{"roles": []string{"member"}}).want(http.StatusOK)
	h.do("DELETE", "/v1/workspaces/acme/members/bob", mallory, nil).want(http.StatusNoContent)
	h.do("DELETE", "/v1/workspaces/acme/members/mallory", mallory, nil).want(http.StatusNoContent)

	// Denies count: a member denied message.send cannot hand it out.
	h.putMember("alice", ws, "nina", map[string]any{"roles": []string{"operator"}, "grants": []string{"workspace.members"}, "denies": []string{"message.send"}})
	h.refused(ws.ID, func() *resp {
		return h.do("PUT", "/v1/workspaces/acme/members/bob", h.token("nina"), map[string]any{"roles": []string{"operator"}}).
			escalation([]string{"campaign.read", "contact.read", "message.read", "workspace.members"}, "message.send")
	})
	h.do("PUT", "/v1/workspaces/acme/members/bob", h.token("nina"), map[string]any{"roles": []string{"operator"}, "denies": []string{"message.send"}}).
		escalation(nil, "message.send") // the grant is checked before denies
}

// adminHolders lists the members of a workspace holding workspace.admin,
// as the store now stands.
func (h *harness) adminHolders(workspaceID string) []string {
	h.t.Helper()
	var out []string
	h.view(func(tx store.Tx) error {
		ws, err := tx.Workspace(workspaceID)
		if err != nil {
			return err
		}
		ms, _, err := tx.Members(workspaceID, "", 0)
		if err != nil {
			return err
		}
		for _, m := range ms {
			a, err := h.engine.Model().MemberAccess(tx, ws, m)
			if err != nil {
				return err
			}
			if h.engine.Catalog().HasName(a.Permissions, "workspace.admin") {
				out = append(out, m.UserID)
			}
		}
		return nil
	})
	return out
}

// Last admin (README "Management API"): a workspace always keeps a member holding
// workspace.admin.
func TestLastAdmin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.knownTo("alice", "bob", "mallory")
	h.createRole("alice", ws, "manager", "workspace.members", "message.read")
	h.putMember("alice", ws, "mallory", map[string]any{"roles": []string{"manager"}})
	alice := h.token("alice")

	for _, tc := range []struct {
		name, method string
		body         any
	}{
		{"demote", "PUT", map[string]any{"roles": []string{"member"}}},
		{"demote to everything else", "PUT", map[string]any{"roles": []string{"operator", "manager"}, "grants": []string{"workspace.settings", "workspace.roles", "campaign.*", "contact.*"}}},
		{"deny admin", "PUT", map[string]any{"roles": []string{"owner"}, "denies": []string{"workspace.admin"}}},
		{"deny everything", "PUT", map[string]any{"roles": []string{"owner"}, "denies": []string{"*"}}},
		{"leave", "DELETE", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.in(t)
			h.refused(ws.ID, func() *resp {
				return h.do(tc.method, "/v1/workspaces/acme/members/alice", alice, tc.body).problem(http.StatusConflict, "last_admin")
			})
		})
	}
	// Only an admin outranks the sole admin, so nobody else can remove them.
	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme/members/alice", h.token("mallory"), nil).escalation(nil, "")
	})
	// Changes that keep admin pass.
	h.putMember("alice", ws, "alice", map[string]any{"roles": []string{"owner"}, "grants": []string{"message.read"}})
	h.putMember("alice", ws, "alice", map[string]any{"roles": []string{"owner"}})

	// The only source of workspace.admin is a custom role.
	h.createRole("alice", ws, "boss", "workspace.admin")
	h.putMember("alice", ws, "alice", map[string]any{"roles": []string{"boss"}})
	wantStrings(t, "admins", h.adminHolders(ws.ID), []string{"alice"})
	for _, perms := range [][]string{{"workspace.settings"}, {}, {"campaign.*", "contact.*", "message.*", "workspace.members", "workspace.roles", "workspace.settings", "workspace.api_keys"}} {
		h.refused(ws.ID, func() *resp {
			return h.do("PATCH", "/v1/workspaces/acme/roles/boss", alice, map[string]any{"permissions": perms}).problem(http.StatusConflict, "last_admin")
		})
	}
	h.do("PATCH", "/v1/workspaces/acme/roles/boss", alice, map[string]any{"name": "Big boss"}).want(http.StatusOK)
	h.do("PATCH", "/v1/workspaces/acme/roles/boss", alice, map[string]any{"permissions": []string{"*"}}).want(http.StatusOK)
	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme/roles/boss", alice, nil).problem(http.StatusConflict, "role_in_use")
	})

	// With a second admin, the role may drop admin, and one admin may leave.
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"owner"}})
	h.do("PATCH", "/v1/workspaces/acme/roles/boss", alice, map[string]any{"permissions": []string{"workspace.admin"}}).want(http.StatusOK)
	wantStrings(t, "admins", h.adminHolders(ws.ID), []string{"alice", "bob"})
	h.do("PATCH", "/v1/workspaces/acme/roles/boss", alice, map[string]any{"permissions": []string{"message.read"}}).want(http.StatusOK)
	wantStrings(t, "admins", h.adminHolders(ws.ID), []string{"bob"})
	// bob is now the last one.
	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme/members/bob", h.token("bob"), nil).problem(http.StatusConflict, "last_admin")
	})
	h.putMember("bob", ws, "alice", map[string]any{"roles": []string{"owner"}})
	h.do("DELETE", "/v1/workspaces/acme/members/bob", h.token("bob"), nil).want(http.StatusNoContent)
	wantStrings(t, "admins", h.adminHolders(ws.ID), []string{"alice"})
	h.refused(ws.ID, func() *resp {
		return h.do("DELETE", "/v1/workspaces/acme/members/alice", alice, nil).problem(http.StatusConflict, "last_admin")
	})
	// An admin may remove another admin.
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"owner"}})
	h.do("DELETE", "/v1/workspaces/acme/members/alice", h.token("bob"), nil).want(http.StatusNoContent)
	wantStrings(t, "admins", h.adminHolders(ws.ID), []string{"bob"})
}

// Two owners demote and remove themselves and each other in parallel,
// round after round: the check runs in the write transaction, so the
// workspace never loses its last admin.
func TestLastAdminConcurrent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.knownTo("alice", "bob")
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"owner"}})
	tokens := map[string]string{"alice": h.token("alice"), "bob": h.token("bob")}
	other := map[string]string{"alice": "bob", "bob": "alice"}

	type req struct{ who, method, target string }
	var reqs []req
	for _, who := range []string{"alice", "bob"} {
		reqs = append(reqs,
			req{who, "PUT", who},           // demote oneself
			req{who, "PUT", who},           // again
			req{who, "DELETE", who},        // leave
			req{who, "PUT", other[who]},    // demote the other
			req{who, "DELETE", other[who]}, // remove the other
		)
	}
	lastAdmin := 0
	acknowledged := 2 // the creation and bob's membership
	const rounds = 25
	for round := range rounds {
		// Both owners again.
		admins := h.adminHolders(ws.ID)
		if len(admins) == 0 {
			t.Fatalf("round %d: no admin left", round)
		}
		h.putMember(admins[0], ws, other[admins[0]], map[string]any{"roles": []string{"owner"}})
		acknowledged++
		wantStrings(t, "admins before the round", h.adminHolders(ws.ID), []string{"alice", "bob"})

		start := make(chan struct{})
		statuses := make([]int, len(reqs))
		codes := make([]string, len(reqs))
		var wg sync.WaitGroup
		for i, rq := range reqs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				var body any
				if rq.method == "PUT" {
					body = map[string]any{"roles": []string{"member"}}
				}
				r, err := h.send(rq.method, "/v1/workspaces/"+ws.ID+"/members/"+rq.target, tokens[rq.who], body, nil)
				if err != nil {
					t.Error(err)
					return
				}
				statuses[i] = r.status
				if code, ok := r.body["code"].(string); ok {
					codes[i] = code
				}
			}()
		}
		close(start)
		wg.Wait()

		rq := func(i int) req { return reqs[i] }
		admins = h.adminHolders(ws.ID)
		if len(admins) != 1 {
			t.Fatalf("round %d: admins %v after %v %v", round, admins, statuses, codes)
		}
		for i, st := range statuses {
			if st/100 == 2 {
				acknowledged++
			}
			switch {
			case st == http.StatusOK || st == http.StatusNoContent:
			case st == http.StatusCreated && rq(i).method == "PUT" && rq(i).target != rq(i).who: // re-added after a removal
			case st == http.StatusConflict && codes[i] == "last_admin":
				lastAdmin++
			case st == http.StatusForbidden && (codes[i] == "forbidden" || codes[i] == "escalation"):
			case st == http.StatusNotFound && (codes[i] == "workspace_not_found" || codes[i] == "member_not_found"):
			default:
				t.Fatalf("round %d: %+v answered %d %s", round, reqs[i], st, codes[i])
			}
		}
	}
	if lastAdmin < rounds {
		t.Errorf("%d last_admin refusals in %d rounds: the last admin's own demotion is always refused", lastAdmin, rounds)
	}
	// The audit log holds exactly the changes that were answered 2xx.
	if n := len(h.state(ws.ID).Audit); n != acknowledged {
		t.Errorf("%d audit events, %d acknowledged changes", n, acknowledged)
	}
}

// Every kind of refused mutation leaves the store as it was: no partial
// change, no audit event.
func TestRefusedMutationsLeaveNoTrace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.createRole("alice", ws, "support", "contact.read")
	h.knownTo("alice", "bob", "olga")
	h.putMember("alice", ws, "bob", map[string]any{"roles": []string{"support"}})
	h.putMember("alice", ws, "olga", map[string]any{"roles": []string{"operator"}})
	inv := h.invite("alice", ws, "carol@example.com", []string{"support"}, 0)
	alice, olga := h.token("alice"), h.token("olga")
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		status                    int
	}{
		{"rename without settings", "PATCH", "", olga, map[string]any{"name": "X"}, 403},
		{"delete without admin", "DELETE", "", olga, nil, 403},
		{"restore a live workspace", "POST", "/restore", h.token("root"), nil, 409},
		{"put without members", "PUT", "/members/bob", olga, map[string]any{"roles": []string{"member"}}, 403},
		{"put with an unknown role", "PUT", "/members/bob", alice, map[string]any{"roles": []string{"member", "nope"}}, 400},
		{"put an unknown user", "PUT", "/members/ghost", alice, map[string]any{"roles": []string{"member"}}, 404},
		{"sole owner demotes herself", "PUT", "/members/alice", alice, map[string]any{"roles": []string{"member"}}, 409},
		{"remove without members", "DELETE", "/members/bob", olga, nil, 403},
		{"remove a non-member", "DELETE", "/members/ghost", alice, nil, 404},
		{"create an existing role", "POST", "/roles", alice, map[string]any{"slug": "support", "name": "S", "permissions": []string{}}, 409},
		{"create a role without roles", "POST", "/roles", olga, map[string]any{"slug": "x", "name": "X", "permissions": []string{}}, 403},
		{"edit a system role", "PATCH", "/roles/owner", alice, map[string]any{"name": "X"}, 403},
		{"edit with a bad pattern", "PATCH", "/roles/support", alice, map[string]any{"permissions": []string{"contact.read", "x.*"}}, 400},
		{"delete a held role", "DELETE", "/roles/support", alice, nil, 409},
		{"delete a system role", "DELETE", "/roles/member", alice, nil, 403},
		{"invite without members", "POST", "/invites", olga, map[string]any{"email": "x@example.com", "roles": []string{"member"}}, 403},
		{"invite with a bad role", "POST", "/invites", alice, map[string]any{"email": "x@example.com", "roles": []string{"member", "nope"}}, 400},
		{"revoke without members", "DELETE", "/invites/" + inv.ID, olga, nil, 403},
		{"accept with the wrong email", "ACCEPT", "", olga, map[string]any{"token": inv.Token}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.in(t)
			r := h.refused(ws.ID, func() *resp {
				if tc.method == "ACCEPT" {
					return h.do("POST", "/v1/invites/accept", tc.token, tc.body)
				}
				return h.do(tc.method, "/v1/workspaces/acme"+tc.path, tc.token, tc.body)
			})
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
		})
	}
}
