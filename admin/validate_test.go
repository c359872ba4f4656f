package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// An empty restriction list is refused at the API (issue 10 item 12): it
// would restrict to nothing, yet reach the upstream as an empty header.
func TestEmptyRestrictionListIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	h.knownTo("alice", "bob")
	h.refused(ws.ID, func() *resp {
		return h.do("PUT", "/v1/workspaces/acme/members/bob", h.token("alice"),
			map[string]any{"roles": []string{"member"}, "restrictions": map[string][]string{"instance": {}}}).invalid("restrictions.instance")
	})
}

// Free-text fields refuse bidirectional controls and invisible characters
// (issue 10 item 12): a workspace, role or key name could otherwise look
// like another one.
func TestFreeTextRefusesBidiAndInvisibleCharacters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ws := h.newWorkspace("alice", "Acme")
	alice := h.token("alice")
	bad := []rune{0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C,
		0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x0007, 0x0085}
	for _, r := range bad {
		text := fmt.Sprintf("Ac%cme", r)
		t.Run(fmt.Sprintf("U+%04X", r), func(t *testing.T) {
			h := h.in(t)
			h.do("POST", "/v1/workspaces", alice, map[string]any{"name": text}).invalid("name")
			h.do("POST", "/v1/workspaces", alice, map[string]any{"name": "Fine", "description": text}).invalid("description")
			h.refused(ws.ID, func() *resp {
				return h.do("PATCH", "/v1/workspaces/acme", alice, map[string]any{"name": text}).invalid("name")
			})
			h.refused(ws.ID, func() *resp {
				return h.do("POST", "/v1/workspaces/acme/roles", alice, map[string]any{"slug": "r", "name": text, "permissions": []string{}}).invalid("name")
			})
			h.refused(ws.ID, func() *resp {
				return h.do("POST", "/v1/workspaces/acme/roles", alice, map[string]any{"slug": "r", "name": "R", "description": text, "permissions": []string{}}).invalid("description")
			})
			h.refused(ws.ID, func() *resp {
				return h.do("POST", "/v1/workspaces/acme/api-keys", alice, map[string]any{"name": text, "permissions": []string{"message.read"}}).invalid("name")
			})
		})
	}
	// The CLI's path (gatehouse store bootstrap) checks the same.
	err := h.store.Update(context.Background(), func(tx store.Tx) error {
		_, err := model.CreateWorkspace(tx, model.NewWorkspace{Name: "Acme\u202egnp.exe", Owner: "zed", OwnerRoles: []string{"owner"}, Actor: model.ActorCLI}, time.Now().UTC())
		return err
	})
	if err == nil {
		t.Fatal("CreateWorkspace accepted a name with a bidi override")
	}
	// Ordinary non-ASCII text is fine.
	h.do("POST", "/v1/workspaces", alice, map[string]any{"name": "Café Crème 日本 עברית"}).want(http.StatusCreated)
}
