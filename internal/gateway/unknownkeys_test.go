package gateway_test

import (
	"encoding/base32"
	"encoding/binary"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/apikey"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// countingObserver counts cache lookups.
type countingObserver struct{ hits, misses atomic.Int64 }

func (o *countingObserver) CacheLookup(hit bool) {
	if hit {
		o.hits.Add(1)
	} else {
		o.misses.Add(1)
	}
}

var keyBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// bogusKey returns a well-formed API key whose id (derived from n) nobody
// issued.
func bogusKey(n uint64, secret string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[8:], n)
	b[0] = 0xb0 // unlike any id the fixture generates by chance
	return apikey.Prefix + apikey.IDPrefix + keyBase32.EncodeToString(b[:]) + "_" + secret
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// Issue 10 item 5: a client without credentials that sends ever new
// well-formed key ids cannot make the gateway remember more than a fixed
// number of them, and does not push members out of the access cache.
func TestUnknownKeyIDsAreBoundedInMemory(t *testing.T) {
	const flood = 100_000
	f := newFixture(t)
	obs := &countingObserver{}
	// Default cache sizes. A generous store deadline: 100,000 misses on a
	// loaded machine must not turn into 503s, which would prove nothing
	// about memory.
	f.engine = f.newEngineWith(func(o *gateway.Options) { o.Observer = obs; o.StoreTimeout = time.Minute })
	p := f.policy(gateway.DefaultWorkspaceSource)
	alice := f.token("alice")
	check(t, "alice before", decide(p, request("GET", "/w/acme/messages", alice)), want{})
	f.engine.WaitCaches()

	key, _, _ := apikey.Generate()
	secret := key[len(key)-apikey.SecretLen:]
	before := heapInUse()
	r := request("GET", "/w/acme/messages", "")
	for i := range uint64(flood) {
		r.Header.Set("Authorization", "Bearer "+bogusKey(i, secret))
		d := new(gateway.Decision)
		p.Decide(r, nil, d)
		if d.Allowed || d.Problem.Status != 401 {
			t.Fatalf("bogus key %d: allowed %v, problem %+v", i, d.Allowed, d.Problem)
		}
	}
	f.engine.WaitCaches()
	after := heapInUse()
	runtime.KeepAlive(p)

	// 100,000 entries at ~0.8 kB would be ~80 MB; the bound is a few
	// thousand ids of ~150 bytes each. 8 MB leaves room for GC noise.
	const bound = 8 << 20
	if after > before && after-before > bound {
		t.Errorf("heap grew by %.1f MB over %d unknown key ids, want < %d MB", float64(after-before)/(1<<20), flood, bound>>20)
	}
	if n, capacity := gateway.UnknownKeyEntries(f.engine); n > capacity || capacity > 100_000 {
		t.Errorf("%d unknown ids remembered in %d slots", n, capacity)
	} else if n == 0 {
		t.Errorf("no unknown id remembered: repeated unknown ids would each cost a store read")
	}

	// The member cache still serves alice: a hit, no store read.
	hits, misses := obs.hits.Load(), obs.misses.Load()
	check(t, "alice after", decide(p, request("GET", "/w/acme/messages", alice)), want{})
	if obs.hits.Load() != hits+1 || obs.misses.Load() != misses {
		t.Errorf("alice after the flood: %d hits, %d misses, want one hit", obs.hits.Load()-hits, obs.misses.Load()-misses)
	}
}

// A repeated unknown id costs what a cached known one costs (a cache hit,
// a SHA-256 and a compare), and creating a key with a remembered id
// forgets it at once.
func TestUnknownKeyIDIsRememberedUntilTheKeyExists(t *testing.T) {
	f := newFixture(t)
	obs := &countingObserver{}
	f.engine = f.newEngineWith(func(o *gateway.Options) { o.Observer = obs; o.MaxUnknownKeys = 16 })
	p := f.policy(gateway.DefaultWorkspaceSource)
	key, id, hash := apikey.Generate()

	check(t, "not issued yet", decide(p, request("GET", "/w/acme/messages", key)), want{401, "invalid_token", ""})
	hits := obs.hits.Load()
	check(t, "not issued yet, again", decide(p, request("GET", "/w/acme/messages", key)), want{401, "invalid_token", ""})
	if obs.hits.Load() != hits+1 {
		t.Errorf("a repeated unknown id was not answered from the cache")
	}
	if n, capacity := gateway.UnknownKeyEntries(f.engine); n != 1 || capacity != 16 {
		t.Errorf("%d unknown ids in %d slots, want 1 in 16", n, capacity)
	}

	f.update(func(tx store.Tx) error {
		return tx.PutAPIKey(store.APIKey{ID: id, WorkspaceID: f.acme.ID, Name: "late", Permissions: []string{"message.read"},
			SecretHash: hash, CreatedBy: "alice", CreatedAt: f.acme.CreatedAt})
	})
	check(t, "issued", decide(p, request("GET", "/w/acme/messages", key)), want{})
	if n, _ := gateway.UnknownKeyEntries(f.engine); n != 0 {
		t.Errorf("%d unknown ids remembered after the key was created", n)
	}
}
