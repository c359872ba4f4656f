package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/problem"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// OrgAccess is what the gateway caches about one user in one
// organization (README "Organization rules"): membership, organization
// roles and the organization permissions they grant, and the upstream
// header values precomputed from them. Immutable once built: cached
// values are shared by concurrent requests.
type OrgAccess struct {
	// Member is false when the organization is unknown, deleted, or the
	// user is not a member of it; everything else is then empty.
	Member         bool
	OrganizationID string
	Slug           string
	Roles          []string
	// Permissions are the organization permissions (organization
	// catalog) the roles grant, closed under implications.
	Permissions authz.Set
	rolesHeader string
}

// notOrgMember is every negative organization answer: unknown, deleted
// and not-a-member are one value, so they cannot be told apart.
var notOrgMember = &OrgAccess{}

// orgFillPrefix keeps the organization fills apart from the workspace
// fills in the engine's singleflight group (refs hold no control bytes).
const orgFillPrefix = "\x01org\x00"

// OrgAccess returns what principal p may do in the organization named by
// ref (id or slug), from the cache when it can. An API key is
// workspace-scoped and never stands in an organization. An error means
// the store failed, was too slow, or ctx ended: fail closed.
func (e *Engine) OrgAccess(ctx context.Context, p authn.Principal, ref string) (*OrgAccess, error) {
	if p.KeyID != "" || !plausibleRef(ref) {
		return notOrgMember, nil
	}
	if e.live.Stale() {
		return nil, e.staleErr()
	}
	if a, ok := e.orgs.Get(p.Subject, ref); ok {
		e.observeCache(true)
		return a, nil
	}
	e.observeCache(false)
	return e.orgAccessMiss(ctx, p.Subject, ref)
}

// orgAccessMiss is OrgAccess's store read, apart so that what its closure
// captures never costs the cached path an allocation.
func (e *Engine) orgAccessMiss(ctx context.Context, user, ref string) (*OrgAccess, error) {
	v, err := e.fill(ctx, orgFillPrefix+user+"\x00"+ref, func(ctx context.Context) (any, error) {
		return e.loadOrgAccess(ctx, user, ref)
	})
	if err != nil {
		return nil, err
	}
	return v.(*OrgAccess), nil
}

// loadOrgAccess reads the organization and the membership in one
// transaction and fills the cache.
//
// The stamp guards the entry with the epoch only: every organization and
// organization-member change (store.ChangeOrganization, ChangeOrgMember)
// flushes the whole cache today (permcache Versions.Apply has no stripe
// for them), which also covers a slug edit, a soft delete and a restore.
// The stamp is taken before the read, so a fill racing a change is dead
// on arrival. TestOrgAccessFollowsChanges pins this down.
func (e *Engine) loadOrgAccess(ctx context.Context, user, ref string) (*OrgAccess, error) {
	stamp := e.versions.IDStamp()
	var access *OrgAccess
	err := e.store.View(ctx, func(tx store.Tx) error {
		var err error
		access, err = e.readOrgAccess(tx, user, ref)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading organization membership: %w", err)
	}
	e.orgs.Set(user, ref, stamp, access)
	return access, nil
}

// readOrgAccess compiles user's standing in the organization ref names.
// Ids hold an underscore after their prefix; slugs never do, so the
// shape of ref says which index to read.
func (e *Engine) readOrgAccess(tx store.Tx, user, ref string) (*OrgAccess, error) {
	var org store.Organization
	var err error
	if strings.Contains(ref, "_") {
		org, err = tx.Organization(ref)
	} else {
		org, err = tx.OrganizationBySlug(ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return notOrgMember, nil
	}
	if err != nil {
		return nil, err
	}
	if org.Deleted() {
		// Members included: a deleted organization answers to everyone
		// as an unknown one does.
		return notOrgMember, nil
	}
	m, err := tx.OrgMember(org.ID, user)
	if errors.Is(err, store.ErrNotFound) {
		return notOrgMember, nil
	}
	if err != nil {
		return nil, err
	}
	return &OrgAccess{
		Member:         true,
		OrganizationID: org.ID,
		Slug:           org.Slug,
		Roles:          slices.Clone(m.Roles),
		Permissions:    e.model.OrgPermissions(m.Roles),
		rolesHeader:    strings.Join(m.Roles, ","),
	}, nil
}

// authorizeOrganization decides an org_member or organization permission
// rule.
func (p *Policy) authorizeOrganization(r *http.Request, ph Placeholders, rule *Rule, d *Decision) {
	ref, ok := p.org.read(r, ph, &d.Params)
	if !ok {
		d.deny(problem.New(http.StatusBadRequest, problem.CodeInvalidRequest,
			"the organization is named more than once ("+p.org.source.From+" "+p.org.source.Name+")").WithReason(problem.ReasonInvalidRequest))
		return
	}
	access, err := p.engine.OrgAccess(r.Context(), d.Principal, ref)
	if err != nil {
		d.Err = err
		d.deny(unavailable("the membership store is unavailable"))
		return
	}
	if pr := AuthorizeOrg(rule, access); pr != nil {
		d.deny(pr)
		return
	}
	d.Org = access
	d.Allowed = true
}

// AuthorizeOrg is the organization half of the decision, shared by the
// gateway and explain: nil to allow, else the denial. It allocates only
// to deny.
func AuthorizeOrg(rule *Rule, access *OrgAccess) *problem.Problem {
	if !access.Member {
		return orgDenial()
	}
	if rule.Kind == RequireOrgPermission && !access.Permissions.Has(rule.permID) {
		pr := problem.New(http.StatusForbidden, problem.CodeForbidden,
			"you need the "+rule.Permission+" permission in organization "+access.Slug)
		pr.RequiredPermission = rule.Permission
		return pr.WithReason(problem.ReasonMissingPermission)
	}
	return nil
}

// orgDenial is the 404 of a caller without standing in an organization.
// Unknown, deleted and not-a-member answer alike, byte for byte: the
// body does not even echo the reference, so nothing in it depends on
// which of the three it was.
func orgDenial() *problem.Problem {
	return problem.New(http.StatusNotFound, problem.CodeOrganizationNotFound,
		"no such organization, or you are not a member of it").WithReason(problem.ReasonNotOrgMember)
}
