package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/ident"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Invites (README "Management API"). Sending the email is the embedding application's job:
// the API returns the token once, and stores only its SHA-256.

const (
	// InviteTokenPrefix starts every invite token, so a leaked one is
	// recognizable (and scannable) as a Gatehouse invite.
	InviteTokenPrefix  = "ghi_"
	defaultInviteTTL   = 7 * 24 * time.Hour
	maxInviteTTL       = 90 * 24 * time.Hour
	minInviteTTL       = time.Minute
	invitePrefixID     = "inv_"
	inviteStatusExpire = "expired"
)

// inviteView is an invite in responses: never the token or its hash.
type inviteView struct {
	ID            string   `json:"id"`
	WorkspaceID   string   `json:"workspace_id"`
	WorkspaceSlug string   `json:"workspace_slug,omitempty"`
	WorkspaceName string   `json:"workspace_name,omitempty"`
	Email         string   `json:"email"`
	Roles         []string `json:"roles"`
	// Restrictions the invitee gets: the creator's own (README "Management API").
	Restrictions map[string][]string `json:"restrictions,omitempty"`
	Status       string              `json:"status"`
	CreatedBy    string              `json:"created_by"`
	CreatedAt    time.Time           `json:"created_at"`
	ExpiresAt    time.Time           `json:"expires_at"`
	AcceptedBy   string              `json:"accepted_by,omitempty"`
	AcceptedAt   *time.Time          `json:"accepted_at,omitempty"`
	RevokedAt    *time.Time          `json:"revoked_at,omitempty"`
	// Token is set once, in the answer to the creation.
	Token string `json:"token,omitempty"`
}

// inviteStatus derives the status: a pending invite past its expiry is
// expired.
func inviteStatus(inv store.Invite, now time.Time) string {
	if inv.Status == store.InvitePending && !now.Before(inv.ExpiresAt) {
		return inviteStatusExpire
	}
	return inv.Status
}

func newInviteView(inv store.Invite, now time.Time) inviteView {
	return inviteView{ID: inv.ID, WorkspaceID: inv.WorkspaceID, Email: inv.Email, Roles: nonNil(inv.Roles),
		Restrictions: inv.Restrictions, Status: inviteStatus(inv, now), CreatedBy: inv.CreatedBy, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt,
		AcceptedBy: inv.AcceptedBy, AcceptedAt: inv.AcceptedAt, RevokedAt: inv.RevokedAt}
}

// newInviteToken returns a token with 256 random bits and its stored hash.
func newInviteToken() (token, hash string) {
	var b [32]byte
	// crypto/rand.Read never returns an error: since Go 1.24 it crashes
	// the program irrecoverably instead, so there is nothing to handle.
	_, _ = rand.Read(b[:])
	token = InviteTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

type createInviteRequest struct {
	Email string   `json:"email"`
	Roles []string `json:"roles"`
	// ExpiresIn is the lifetime in seconds; default 7 days.
	ExpiresIn *int64 `json:"expires_in"`
}

func (r *createInviteRequest) ttl() (time.Duration, error) {
	if r.ExpiresIn == nil {
		return defaultInviteTTL, nil
	}
	return lifetime("expires_in", *r.ExpiresIn, minInviteTTL, maxInviteTTL, "90 days")
}

// POST /v1/workspaces/{ws}/invites
func (a *API) createInvite(c *call) error {
	var req createInviteRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	email, err := normalizeEmail("email", req.Email)
	if err != nil {
		return err
	}
	ttl, err := req.ttl()
	if err != nil {
		return err
	}
	token, hash := newInviteToken()
	var view inviteView
	err = c.update(func(tx store.Tx) error {
		st, err := c.standingWith(tx, a.builtinIDs.members)
		if err != nil {
			return err
		}
		if err := a.checkRoles(tx, st.ws.ID, "roles", req.Roles, true); err != nil {
			return err
		}
		granted, err := a.grantable(tx, st.ws.ID, req.Roles, nil)
		if err != nil {
			return err
		}
		if err := a.noEscalation(st, granted, "invite with these roles"); err != nil {
			return err
		}
		now := a.now().UTC()
		// The invite carries its creator's restrictions: it can never bring
		// in a second identity with wider access than the creator's.
		inv := store.Invite{ID: ident.New(invitePrefixID), WorkspaceID: st.ws.ID, Email: email, Roles: req.Roles,
			Restrictions: cloneRestrictions(st.restrictions()),
			TokenHash:    hash, Status: store.InvitePending, CreatedBy: c.user(), CreatedAt: now, ExpiresAt: now.Add(ttl)}
		if err := tx.PutInvite(inv); err != nil {
			return err
		}
		view = newInviteView(inv, now)
		view.WorkspaceSlug, view.WorkspaceName = st.ws.Slug, st.ws.Name
		return c.audit(tx, st.ws.ID, "invite.create", "invite:"+inv.ID,
			map[string]any{"email": email, "roles": req.Roles, "restrictions": inv.Restrictions, "expires_at": inv.ExpiresAt})
	})
	if err != nil {
		return err
	}
	view.Token = token
	return c.created("/v1/workspaces/"+view.WorkspaceID+"/invites/"+view.ID, view)
}

// GET /v1/workspaces/{ws}/invites
func (a *API) listInvites(c *call) error {
	pg, err := c.page()
	if err != nil {
		return err
	}
	var (
		items []inviteView
		next  string
	)
	err = c.view(func(tx store.Tx) error {
		items = items[:0] // a backend may run fn again: only the last run counts
		st, err := c.standingWith(tx, a.builtinIDs.members)
		if err != nil {
			return err
		}
		invs, n, err := tx.Invites(st.ws.ID, pg.cursor, pg.limit)
		next = n
		now := a.now()
		for _, inv := range invs {
			items = append(items, newInviteView(inv, now))
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}

// GET /v1/workspaces/{ws}/invites/{id}: one invite (the Location of its
// creation), never its token.
func (a *API) getInvite(c *call) error {
	var view inviteView
	err := c.view(func(tx store.Tx) error {
		st, err := c.standingWith(tx, a.builtinIDs.members)
		if err != nil {
			return err
		}
		inv, err := workspaceInvite(tx, st, c.param("id"))
		view = newInviteView(inv, a.now())
		return err
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, view)
}

// DELETE /v1/workspaces/{ws}/invites/{id}: revoke a pending invite.
func (a *API) revokeInvite(c *call) error {
	err := c.update(func(tx store.Tx) error {
		st, err := c.standingWith(tx, a.builtinIDs.members)
		if err != nil {
			return err
		}
		inv, err := workspaceInvite(tx, st, c.param("id"))
		if err != nil {
			return err
		}
		switch inv.Status {
		case store.InviteAccepted:
			return conflict(codeInviteAccepted, "the invite was already accepted: remove the member instead")
		case store.InviteRevoked:
			return gone(codeInviteRevoked, "the invite was already revoked")
		}
		now := a.now().UTC()
		inv.Status, inv.RevokedAt = store.InviteRevoked, &now
		if err := tx.PutInvite(inv); err != nil {
			return err
		}
		return c.audit(tx, st.ws.ID, "invite.revoke", "invite:"+inv.ID, map[string]any{"email": inv.Email})
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

// GET /v1/invites: pending invites addressed to the caller's email. A
// token whose email_verified is false sees none: the address is unproven.
func (a *API) listMyInvites(c *call) error {
	items := []inviteView{}
	email := ident.LowerASCII(c.principal.Email)
	if email == "" || c.principal.EmailVerified == authn.False {
		return c.respond(http.StatusOK, newList(items, ""))
	}
	err := c.view(func(tx store.Tx) error {
		items = items[:0] // a backend may run fn again: only the last run counts
		invs, err := tx.InvitesForEmail(email)
		if err != nil {
			return err
		}
		now := a.now()
		var wsIDs []string
		for _, inv := range invs {
			wsIDs = append(wsIDs, inv.WorkspaceID)
		}
		wss, err := tx.WorkspacesByID(wsIDs)
		if err != nil {
			return err
		}
		for _, inv := range invs {
			if inviteStatus(inv, now) != store.InvitePending {
				continue
			}
			ws, ok := wss[inv.WorkspaceID]
			if !ok {
				return fmt.Errorf("invite %s of workspace %s, which does not exist: %w", inv.ID, inv.WorkspaceID, store.ErrNotFound)
			}
			if ws.Deleted() {
				continue
			}
			v := newInviteView(inv, now)
			v.WorkspaceSlug, v.WorkspaceName = ws.Slug, ws.Name
			items = append(items, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, ""))
}

type acceptInviteRequest struct {
	Token string `json:"token"`
}

// POST /v1/invites/accept: the caller, proven to own the invited email,
// becomes a member with the invite's roles.
func (a *API) acceptInvite(c *call) error {
	var req acceptInviteRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if !strings.HasPrefix(req.Token, InviteTokenPrefix) || len(req.Token) > 128 {
		return invalid("token", "token is not an invite token")
	}
	var (
		view   memberView
		ws     store.Workspace
		wsView workspaceView
	)
	err := c.update(func(tx store.Tx) error {
		inv, err := tx.InviteByTokenHash(hashToken(req.Token))
		if errors.Is(err, store.ErrNotFound) {
			return notFound(codeInviteNotFound, "no invite has this token")
		}
		if err != nil {
			return err
		}
		now := a.now().UTC()
		if err := a.acceptable(inv, now, c.principal); err != nil {
			return err
		}
		// Deleted, or in a deleted organization: gone for the invitee too.
		if ws, err = c.liveWorkspace(tx, inv.WorkspaceID); err != nil {
			return err
		}
		if _, err := tx.Member(ws.ID, c.user()); err == nil {
			return conflict(codeAlreadyMember, "you are already a member of workspace "+ws.Slug)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		roles, err := a.liveRoles(tx, ws.ID, inv.Roles)
		if err != nil {
			return err
		}
		if err := a.creatorAuthority(tx, ws, inv, roles); err != nil {
			return err
		}
		if err := model.EnsureUser(tx, c.user(), c.principal.Email, now); err != nil {
			return err
		}
		m := store.Membership{WorkspaceID: ws.ID, UserID: c.user(), Roles: roles,
			Restrictions: cloneRestrictions(inv.Restrictions), JoinedAt: now, UpdatedAt: now}
		if err := tx.PutMember(m); err != nil {
			return err
		}
		inv.Status, inv.AcceptedBy, inv.AcceptedAt = store.InviteAccepted, c.user(), &now
		if err := tx.PutInvite(inv); err != nil {
			return err
		}
		view = newMemberView(m, c.principal.Email)
		if wsView, err = a.workspaceView(tx, ws, m.Roles, nil); err != nil {
			return err
		}
		return c.audit(tx, ws.ID, "invite.accept", "invite:"+inv.ID, map[string]any{"user": c.user(), "roles": m.Roles, "restrictions": m.Restrictions})
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, map[string]any{"workspace": wsView, "member": view})
}

// acceptable checks an invite's state and that the caller owns its email.
func (a *API) acceptable(inv store.Invite, now time.Time, p authn.Principal) error {
	switch inviteStatus(inv, now) {
	case store.InviteRevoked:
		return gone(codeInviteRevoked, "the invite was revoked")
	case inviteStatusExpire:
		return gone(codeInviteExpired, "the invite expired at "+inv.ExpiresAt.Format(time.RFC3339)+": ask for a new one")
	case store.InviteAccepted:
		return conflict(codeInviteAccepted, "the invite was already accepted")
	}
	// ASCII case folding only: Unicode folding would let "ſam@" (long s)
	// or a Kelvin sign accept an invite addressed to "sam@" or "k@".
	if p.Email == "" || ident.LowerASCII(p.Email) != inv.Email {
		return forbidden(codeEmailMismatch, "the invite is addressed to another email than your token's")
	}
	if p.EmailVerified == authn.False {
		return forbidden(codeEmailNotVerified, "your token says your email is not verified: verify it with your identity provider first")
	}
	return nil
}

// liveRoles drops roles that no longer exist (a system role removed from
// the configuration since the invite was made). A custom role can never be
// created later under such a slug while the invite is pending (409
// role_slug_in_use), so what is dropped stays dropped. A store failure is
// an error (503), never "the role does not exist".
func (a *API) liveRoles(tx store.Tx, workspaceID string, roles []string) ([]string, error) {
	live := make([]string, 0, len(roles))
	for _, slug := range roles {
		_, found, err := a.model.RolePatterns(tx, workspaceID, slug)
		if err != nil {
			return nil, err
		}
		if found {
			live = append(live, slug)
		}
	}
	return live, nil
}

// creatorAuthority checks an invite against its creator's permissions as
// they are now, not as they were when the invite was made: the creator must
// still be a member holding workspace.members, everything the invite's
// roles grant, and restrictions no narrower than the invite's. Otherwise
// 403 invite_creator_lacks_authority, and the invite stays pending (it
// works again if the creator regains the authority).
func (a *API) creatorAuthority(tx store.Tx, ws store.Workspace, inv store.Invite, roles []string) error {
	refuse := func(why string) error {
		return forbidden(codeInviteCreatorLacksAuthority, "the invite can no longer be accepted: "+why+
			"; ask a workspace admin for a new invite")
	}
	// The creator is judged by their standing as the API judges every
	// caller (project roles and plan included: userStanding).
	st, found, err := a.userStanding(tx, ws, inv.CreatedBy)
	if err != nil {
		return err
	}
	if !found {
		return refuse("whoever made it is no longer a member of the workspace")
	}
	if !st.access.Permissions.Has(a.builtinIDs.members) {
		return refuse("whoever made it no longer holds workspace.members")
	}
	granted, err := a.grantable(tx, ws.ID, roles, nil)
	if err != nil {
		return err
	}
	if a.noEscalation(st, granted, "") != nil {
		return refuse("whoever made it no longer holds everything its roles grant")
	}
	if _, ok := restrictionsWithin(inv.Restrictions, st.restrictions()); !ok {
		return refuse("whoever made it is now restricted more narrowly than the invite")
	}
	return nil
}

// roleHolder names someone holding role in the workspace (a member or a
// pending invite), or "" when nobody does.
func roleHolder(tx store.Tx, workspaceID, role string, now time.Time) (string, error) {
	cursor := ""
	for {
		ms, next, err := tx.Members(workspaceID, cursor, maxLimit)
		if err != nil {
			return "", err
		}
		for _, m := range ms {
			if slices.Contains(m.Roles, role) {
				return "member " + m.UserID, nil
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	cursor = ""
	for {
		invs, next, err := tx.Invites(workspaceID, cursor, maxLimit)
		if err != nil {
			return "", err
		}
		for _, inv := range invs {
			if inviteStatus(inv, now) == store.InvitePending && slices.Contains(inv.Roles, role) {
				return "a pending invite for " + inv.Email, nil
			}
		}
		if next == "" {
			return "", nil
		}
		cursor = next
	}
}

// workspaceInvite returns the invite id of the caller's workspace: one of
// another workspace is as unknown as a missing one (no IDOR).
func workspaceInvite(tx store.Tx, st *standing, id string) (store.Invite, error) {
	inv, err := tx.Invite(id)
	if errors.Is(err, store.ErrNotFound) || err == nil && inv.WorkspaceID != st.ws.ID {
		return inv, notFound(codeInviteNotFound, "no invite "+quote(id)+" in this workspace")
	}
	return inv, err
}
