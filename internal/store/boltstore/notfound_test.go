package boltstore

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// The not-found errors read as they always did, and are store.ErrNotFound.
func TestNotFoundErrorsReadAsBefore(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{notFound("workspace", "ws_1"), fmt.Sprintf("boltstore: workspace %q: %v", "ws_1", store.ErrNotFound)},
		{notFound2("role", "ws_1", "agent"), fmt.Sprintf("boltstore: role %q in workspace %q: %v", "agent", "ws_1", store.ErrNotFound)},
		{notFoundIn("member", "u1", "project", "p1"), fmt.Sprintf("boltstore: member %q in project %q: %v", "u1", "p1", store.ErrNotFound)},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("message %q, want %q", got, c.want)
		}
		if !errors.Is(c.err, store.ErrNotFound) {
			t.Errorf("%v is not store.ErrNotFound", c.err)
		}
	}
}
