package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/apikey"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

const (
	minKeyTTL = time.Minute
	maxKeyTTL = 10 * 365 * 24 * time.Hour
)

// API key statuses in responses (derived, like an invite's "expired").
const (
	keyActive  = "active"
	keyExpired = "expired"
	keyRevoked = "revoked"
)

// apiKeyView is an API key in responses: never the secret's hash; the key
// itself only in the answer to its creation.
type apiKeyView struct {
	ID          string   `json:"id"`
	WorkspaceID string   `json:"workspace_id"`
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
	// Restrictions are the creator's, carried by the key (README "Management API").
	Restrictions map[string][]string `json:"restrictions,omitempty"`
	Status       string              `json:"status"`
	CreatedBy    string              `json:"created_by"`
	CreatedAt    time.Time           `json:"created_at"`
	ExpiresAt    *time.Time          `json:"expires_at"`
	LastUsedAt   *time.Time          `json:"last_used_at"`
	RevokedAt    *time.Time          `json:"revoked_at,omitempty"`
	// Key is set once, in the answer to the creation.
	Key string `json:"key,omitempty"`
}

func newAPIKeyView(k store.APIKey, now time.Time) apiKeyView {
	return apiKeyView{ID: k.ID, WorkspaceID: k.WorkspaceID, Name: k.Name, Permissions: nonNil(k.Permissions),
		Restrictions: k.Restrictions, Status: keyStatus(k, now), CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt,
		LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

func keyStatus(k store.APIKey, now time.Time) string {
	switch {
	case k.RevokedAt != nil:
		return keyRevoked
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return keyExpired
	}
	return keyActive
}

type createAPIKeyRequest struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
	// ExpiresIn is the lifetime in seconds; absent = no expiry.
	ExpiresIn *int64 `json:"expires_in"`
}

func (a *API) validateCreateAPIKey(r *createAPIKeyRequest) (ttl time.Duration, err error) {
	if err := checkText("name", r.Name, model.MaxNameLen, true); err != nil {
		return 0, err
	}
	if len(r.Permissions) == 0 {
		return 0, invalid("permissions", "permissions must list at least one permission pattern")
	}
	if err := a.checkPatterns("permissions", r.Permissions); err != nil {
		return 0, err
	}
	if r.ExpiresIn == nil {
		return 0, nil
	}
	return lifetime("expires_in", *r.ExpiresIn, minKeyTTL, maxKeyTTL, "10 years")
}

// POST /v1/workspaces/{ws}/api-keys
func (a *API) createAPIKey(c *call) error {
	var req createAPIKeyRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	ttl, err := a.validateCreateAPIKey(&req)
	if err != nil {
		return err
	}
	key, id, hash := apikey.Generate()
	var view apiKeyView
	err = c.update(func(tx store.Tx) error {
		st, err := c.standingWith(tx, a.builtinIDs.apiKeys)
		if err != nil {
			return err
		}
		if err := a.requireFeature(st, model.FeatureAPIKeys); err != nil {
			return err
		}
		if err := a.noEscalation(st, a.catalog.Expand(req.Permissions), "create this API key"); err != nil {
			return err
		}
		now := a.now().UTC()
		// The key carries its creator's restrictions, and the gateway
		// enforces them like a member's: a key never reaches a resource
		// its creator cannot.
		k := store.APIKey{ID: id, WorkspaceID: st.ws.ID, Name: req.Name, Permissions: req.Permissions,
			Restrictions: cloneRestrictions(st.restrictions()),
			SecretHash:   hash, CreatedBy: c.user(), CreatedAt: now}
		if ttl > 0 {
			exp := now.Add(ttl)
			k.ExpiresAt = &exp
		}
		if err := tx.PutAPIKey(k); err != nil {
			return err
		}
		view = newAPIKeyView(k, now)
		return c.audit(tx, st.ws.ID, "api_key.create", "api_key:"+k.ID,
			map[string]any{"name": k.Name, "permissions": k.Permissions, "restrictions": k.Restrictions, "expires_at": k.ExpiresAt})
	})
	if err != nil {
		return err
	}
	view.Key = key
	return c.created("/v1/workspaces/"+view.WorkspaceID+"/api-keys/"+view.ID, view)
}

// GET /v1/workspaces/{ws}/api-keys/{id}: one key (the Location of its
// creation), never its secret.
func (a *API) getAPIKey(c *call) error {
	var view apiKeyView
	err := c.view(func(tx store.Tx) error {
		st, err := c.standingWith(tx, a.builtinIDs.apiKeys)
		if err != nil {
			return err
		}
		k, err := a.workspaceKey(tx, st, c.param("id"))
		if err != nil {
			return err
		}
		view = newAPIKeyView(k, a.now())
		return nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, view)
}

// workspaceKey returns an API key of the workspace, or 404
// api_key_not_found (also for another workspace's key: a caller cannot
// tell them apart).
func (a *API) workspaceKey(tx store.Tx, st *standing, id string) (store.APIKey, error) {
	k, err := tx.APIKey(id)
	if errors.Is(err, store.ErrNotFound) || err == nil && k.WorkspaceID != st.ws.ID {
		return k, notFound(codeAPIKeyNotFound, "no API key "+quote(id)+" in this workspace")
	}
	return k, err
}

// GET /v1/workspaces/{ws}/api-keys
func (a *API) listAPIKeys(c *call) error {
	pg, err := c.page()
	if err != nil {
		return err
	}
	items := []apiKeyView{}
	var next string
	err = c.view(func(tx store.Tx) error {
		items = items[:0] // a backend may run fn again: only the last run counts
		st, err := c.standingWith(tx, a.builtinIDs.apiKeys)
		if err != nil {
			return err
		}
		keys, n, err := tx.APIKeys(st.ws.ID, pg.cursor, pg.limit)
		next = n
		now := a.now()
		for _, k := range keys {
			items = append(items, newAPIKeyView(k, now))
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, newList(items, next))
}

// DELETE /v1/workspaces/{ws}/api-keys/{id}: revoke. The store's change
// notification makes the key's very next gateway request fail.
func (a *API) revokeAPIKey(c *call) error {
	id := c.param("id")
	err := c.update(func(tx store.Tx) error {
		st, err := c.standingWith(tx, a.builtinIDs.apiKeys)
		if err != nil {
			return err
		}
		k, err := a.workspaceKey(tx, st, id)
		if err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return gone(codeAPIKeyRevoked, "the API key was already revoked")
		}
		now := a.now().UTC()
		k.RevokedAt = &now
		if err := tx.PutAPIKey(k); err != nil {
			return err
		}
		return c.audit(tx, st.ws.ID, "api_key.revoke", "api_key:"+k.ID, map[string]any{"name": k.Name})
	})
	if err != nil {
		return err
	}
	return c.noContent()
}
