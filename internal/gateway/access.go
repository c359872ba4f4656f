package gateway

import (
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Access is what the gateway caches about one user in one workspace: the
// model's compiled access (embedded by value, so a decision reads its
// fields with no further indirection) and the upstream header values
// precomputed from it, so that a decision is a few loads and a bit test.
// It is immutable once built: cached values are shared by concurrent
// requests.
type Access struct {
	model.Access

	// Precomputed upstream header values, so allowing a request does not
	// have to join strings.
	rolesHeader     string
	restrictHeaders []headerValue
	// deletedMember marks a non-Member answer for a member of a deleted
	// workspace: only they are told it was deleted.
	deletedMember bool
	// organizationID is the workspace's organization, "" for none:
	// forwarded as X-Gatehouse-Organization, flattened in at fill time so
	// that a cached decision reads no organization record.
	organizationID string
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

// withOrganization returns a with ws's organization set, for a member
// answer of a workspace that has one; shared answers (notMember, ...)
// are returned as they are. a is fresh or immutable, so it is copied,
// never changed.
func withOrganization(a *Access, ws store.Workspace) *Access {
	if a == nil || !a.Member || ws.OrganizationID == "" {
		return a
	}
	c := *a
	c.organizationID = ws.OrganizationID
	return &c
}

// newAccess wraps what the model compiled with its upstream headers.
func newAccess(ma *model.Access) *Access {
	a := &Access{Access: *ma, rolesHeader: strings.Join(ma.Roles, ",")}
	for _, typ := range model.SortedKeys(ma.Restrictions) {
		// An empty list restricts the member to no resource of the type,
		// but forwarded it would be an empty header, which an upstream
		// reads as absent: unrestricted. The member is denied instead
		// (model.Access.RestrictedToNothing, fail closed), and the header
		// is never built.
		if len(ma.Restrictions[typ]) == 0 {
			continue
		}
		a.restrictHeaders = append(a.restrictHeaders, headerValue{
			name:  RestrictHeaderName(typ),
			value: strings.Join(ma.Restrictions[typ], ","),
		})
	}
	return a
}
