package permcache

import (
	"fmt"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

func TestUnknownHoldsAtMostItsSize(t *testing.T) {
	v := NewVersions()
	u := NewUnknown(v, 64)
	for i := range 10_000 {
		id := fmt.Sprintf("id-%d", i)
		u.Add(id, v.WithKey(v.IDStamp(), id))
	}
	if n := u.Len(); n == 0 || n > 64 || u.Cap() != 64 {
		t.Fatalf("%d ids in %d slots", n, u.Cap())
	}
	if !u.Contains("id-9999") {
		t.Error("the latest id is not remembered")
	}
	if NewUnknown(v, 0).Cap() != DefaultMaxUnknown {
		t.Error("default size")
	}
}

func TestUnknownForgetsAnIDWhenItsRecordIsWritten(t *testing.T) {
	v := NewVersions()
	u := NewUnknown(v, 8)
	u.Add("k1", v.WithKey(v.IDStamp(), "k1"))
	if !u.Contains("k1") || u.Contains("k2") {
		t.Fatal("contains")
	}
	v.Apply(store.Change{Kind: store.ChangeAPIKey, WorkspaceID: "ws", KeyID: "k1"})
	if u.Contains("k1") {
		t.Error("k1 still unknown after its key was written")
	}
	// A fill that read the store before the write is dead on arrival.
	stale := v.WithKey(v.IDStamp(), "k2")
	v.Apply(store.Change{Kind: store.ChangeAPIKey, WorkspaceID: "ws", KeyID: "k2"})
	u.Add("k2", stale)
	if u.Contains("k2") {
		t.Error("a stale fill was remembered")
	}
}

func TestUnknownContainsDoesNotAllocate(t *testing.T) {
	v := NewVersions()
	u := NewUnknown(v, 8)
	u.Add("k1", v.WithKey(v.IDStamp(), "k1"))
	if n := testing.AllocsPerRun(100, func() { u.Contains("k1") }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
