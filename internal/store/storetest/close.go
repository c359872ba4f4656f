package storetest

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// testClose: Close is safe to call more than once, and a closed store
// refuses View, Update and Stats (with an error: which one is the
// backend's).
func testClose(t *testing.T, b Backend) {
	s := b.Open(t)
	seedWorkspace(t, s, "ws_a", "a")
	noErr(t, "Close", s.Close())
	noErr(t, "Close again", s.Close())
	ran := false
	if err := s.View(t.Context(), func(store.Tx) error { ran = true; return nil }); err == nil {
		t.Error("View on a closed store succeeded")
	}
	if err := s.Update(t.Context(), func(store.Tx) error { ran = true; return nil }); err == nil {
		t.Error("Update on a closed store succeeded")
	}
	if _, err := s.Stats(t.Context()); err == nil {
		t.Error("Stats on a closed store succeeded")
	}
	if ran {
		t.Error("fn ran on a closed store")
	}
}
