package gateway

import (
	"slices"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Access is what the gateway knows about one user in one workspace,
// compiled once per cache fill so that a decision is a few loads and a bit
// test. It is immutable once built: cached values are shared by concurrent
// requests.
type Access struct {
	// Member is false when the workspace is unknown, deleted, or the user
	// is not a member; everything else is then empty.
	Member      bool
	WorkspaceID string
	Slug        string
	Roles       []string
	Permissions authz.Set
	// Restrictions as stored: resource type → allowed ids.
	Restrictions map[string][]string

	// Precomputed upstream header values, so allowing a request does not
	// have to join strings.
	rolesHeader     string
	restrictHeaders []headerValue
	// restrictedToNothing is the first restriction type whose list is
	// empty, "" when there is none (see compileAccess).
	restrictedToNothing string
	// granted is Permissions before the member's denies: a permission in
	// granted but not in Permissions was removed by a deny (reason
	// denied_by_member_deny).
	granted authz.Set
	// deletedMember marks a non-Member answer for a member of a deleted
	// workspace: only they are told it was deleted.
	deletedMember bool
}

type headerValue struct {
	name  string // canonical header key
	value string
}

// notMember is shared by every negative answer but a deleted workspace's
// to one of its members.
var notMember = &Access{}

// deletedForMember is that answer.
var deletedForMember = &Access{deletedMember: true}

// restrictHeaderPrefix starts the header forwarding one restriction type.
const restrictHeaderPrefix = "X-Gatehouse-Restrict-"

// compileAccess turns the stored records into an Access. rolePatterns maps
// a role slug to its patterns; roles it does not know grant nothing (a
// custom role deleted under a stale membership, or a system role removed
// from config) — failing towards less access.
func compileAccess(c *authz.Catalog, ws store.Workspace, m store.Membership, rolePatterns func(slug string) []string) *Access {
	var grants []string
	for _, role := range m.Roles {
		grants = append(grants, rolePatterns(role)...)
	}
	grants = append(grants, m.Grants...)
	a := &Access{
		Member:       true,
		WorkspaceID:  ws.ID,
		Slug:         ws.Slug,
		Roles:        slices.Clone(m.Roles),
		Permissions:  c.Effective(grants, m.Denies),
		Restrictions: m.Restrictions,
		rolesHeader:  strings.Join(m.Roles, ","),
	}
	a.granted = a.Permissions
	if len(m.Denies) > 0 {
		a.granted = c.Expand(grants)
	}
	for _, typ := range sortedKeys(m.Restrictions) {
		// An empty list restricts the member to no resource of the type,
		// but forwarded it would be an empty header, which an upstream
		// reads as absent: unrestricted. The member is denied instead
		// (fail closed), and the header is never built.
		if len(m.Restrictions[typ]) == 0 {
			if a.restrictedToNothing == "" {
				a.restrictedToNothing = typ
			}
			continue
		}
		a.restrictHeaders = append(a.restrictHeaders, headerValue{
			name:  RestrictHeaderName(typ),
			value: strings.Join(m.Restrictions[typ], ","),
		})
	}
	return a
}

// Allows reports whether the member may touch resource id of type typ: an
// unrestricted type allows everything.
func (a *Access) Allows(typ, id string) bool {
	ids, restricted := a.Restrictions[typ]
	return !restricted || slices.Contains(ids, id)
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
