// Package permcache caches compiled access decisions per (user, workspace)
// and guarantees that the cache never serves a decision older than the last
// committed write.
//
// The scheme (README "Store and cache"): every cache entry carries a Stamp — the values of
// the version counters that guard it, read BEFORE the store read that
// produced the entry. The counters are bumped by Apply, for every Change
// of the store's change feed (store.Store.Changes), by the feed's consumer
// (internal/changefeed), which applies each commit after it is visible to
// readers and, for a write of this process, before the write returns. An entry is valid only while its stamp still equals
// the current counters, and until its own expiry (lifetime.go). So:
//
//   - a fill that read the store before a commit carries a stamp from before
//     that commit's bump: it is dead on arrival, however late it lands
//     (no stale resurrection);
//   - a fill that read its stamp after the bump also read the store after
//     the commit, so it holds the new data;
//   - for a write through this process's changefeed.Live, the bump happens
//     before the writer's Update returns, so the request after an
//     acknowledged write always misses and reloads; a write of another
//     process is applied within the feed's lag.
//
// Counters are striped: a change bumps one counter chosen by hashing its
// target, so a change in one workspace invalidates only the entries that
// share its stripe, and the read side is a handful of atomic loads.
package permcache

import (
	"hash/maphash"
	"sync/atomic"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

const (
	workspaceStripes = 1 << 12
	memberStripes    = 1 << 16
	keyStripes       = 1 << 12
)

// Versions holds the invalidation counters. The zero value is not ready;
// use NewVersions.
type Versions struct {
	seed  maphash.Seed
	clock *atomic.Uint32 // the coarse clock entries expire on
	epoch atomic.Uint64  // bumped by ExpireAll: every entry dies
	slugs atomic.Uint64  // any change of the slug → workspace mapping
	// applied counts the Changes applied; Apply raises it before it bumps
	// anything else (see Mark).
	applied   atomic.Uint64
	workspace [workspaceStripes]atomic.Uint64
	member    [memberStripes]atomic.Uint64
	key       [keyStripes]atomic.Uint64
}

// NewVersions returns a fresh set of counters.
func NewVersions() *Versions {
	return &Versions{seed: maphash.MakeSeed(), clock: startCoarseClock()}
}

// Stamp is a snapshot of the counters guarding one cache entry.
type Stamp struct {
	epoch        uint64
	expires      uint32 // on the coarse clock
	slugs        uint64
	workspace    uint64
	member       uint64
	wsStripe     uint32
	memberStripe uint32
	key          uint64
	keyStripe    uint32
	hasSlug      bool
	hasTarget    bool
	hasKey       bool
}

// SlugStamp starts a stamp for an entry that resolves a slug: call it before
// reading the slug mapping from the store.
func (v *Versions) SlugStamp() Stamp {
	return Stamp{epoch: v.epoch.Load(), expires: v.expiry(), slugs: v.slugs.Load(), hasSlug: true}
}

// IDStamp starts a stamp for an entry addressed by workspace id.
func (v *Versions) IDStamp() Stamp { return Stamp{epoch: v.epoch.Load(), expires: v.expiry()} }

// KeyStamp starts a stamp for an entry about API key keyID whose workspace
// is not known yet: call it before reading the key from the store. It
// guards the slug counter too, which every workspace creation, slug edit,
// deletion and restore bumps, so an entry that says whether the key's
// workspace is deleted cannot outlive a delete or restore.
func (v *Versions) KeyStamp(keyID string) Stamp {
	return v.WithKey(v.SlugStamp(), keyID)
}

// WithKey adds the counter of API key keyID to s: the entry dies when the
// key changes (revocation).
func (v *Versions) WithKey(s Stamp, keyID string) Stamp {
	s.keyStripe = v.keyStripe(keyID)
	s.key = v.key[s.keyStripe].Load()
	s.hasKey = true
	return s
}

// Target completes a stamp with the counters of (workspaceID, userID): call
// it after the workspace id is known and before reading the workspace and
// membership from the store.
func (v *Versions) Target(s Stamp, workspaceID, userID string) Stamp {
	s.wsStripe = v.workspaceStripe(workspaceID)
	s.memberStripe = v.memberStripe(workspaceID, userID)
	s.workspace = v.workspace[s.wsStripe].Load()
	s.member = v.member[s.memberStripe].Load()
	s.hasTarget = true
	return s
}

// Valid reports whether no guarded counter moved since the stamp was taken
// and the stamp's own lifetime has not run out.
func (v *Versions) Valid(s Stamp) bool {
	if v.epoch.Load() != s.epoch || v.clock.Load() >= s.expires {
		return false
	}
	if s.hasSlug && v.slugs.Load() != s.slugs {
		return false
	}
	if s.hasKey && v.key[s.keyStripe].Load() != s.key {
		return false
	}
	if s.hasTarget {
		return v.workspace[s.wsStripe].Load() == s.workspace &&
			v.member[s.memberStripe].Load() == s.member
	}
	return true
}

// Mark is a point in the sequence of applied Changes, for a fill that can
// only read its target's counters once its store read has begun: a slug
// fill learns the workspace id from the snapshot it reads everything else
// from. Counters read after the snapshot began may already hold the bump
// of a commit the snapshot does not see, which would make a stale entry
// look fresh. Take a Mark before the read, read the counters (Target)
// once the id is known (inside the read or after it), and cache only if
// Unchanged(mark) after that: Apply raises the count before any counter,
// so a counter bump that was read is a Change the mark sees, and when
// none was applied in between the counters are those of before the
// snapshot, as the scheme requires.
type Mark uint64

// Mark returns the current point in the sequence of applied Changes.
func (v *Versions) Mark() Mark { return Mark(v.applied.Load()) }

// Unchanged reports whether no Change was applied since m was taken.
func (v *Versions) Unchanged(m Mark) bool { return Mark(v.applied.Load()) == m }

// ExpireAll invalidates every entry. The feed's consumer calls it when it
// cannot know what changed: the change log no longer holds the commits it
// has not applied (truncation), or reading the feed after a write failed.
func (v *Versions) ExpireAll() { v.epoch.Add(1) }

// Apply bumps the counters a Change of the store's feed guards: the
// workspace's (and the slug mapping's, for Slugs), the membership's, or
// the API key's. A kind this build does not know flushes everything:
// failing safe costs only cache misses.
func (v *Versions) Apply(c store.Change) {
	v.applied.Add(1) // first: see Mark
	switch c.Kind {
	case store.ChangeWorkspace:
		v.workspace[v.workspaceStripe(c.WorkspaceID)].Add(1)
		if c.Slugs {
			v.slugs.Add(1)
		}
	case store.ChangeMember:
		v.member[v.memberStripe(c.WorkspaceID, c.UserID)].Add(1)
	case store.ChangeAPIKey:
		v.key[v.keyStripe(c.KeyID)].Add(1)
	default:
		v.ExpireAll()
	}
}

func (v *Versions) keyStripe(keyID string) uint32 {
	return uint32(maphash.String(v.seed, keyID) % keyStripes)
}

func (v *Versions) workspaceStripe(workspaceID string) uint32 {
	return uint32(maphash.String(v.seed, workspaceID) % workspaceStripes)
}

func (v *Versions) memberStripe(workspaceID, userID string) uint32 {
	h := maphash.String(v.seed, workspaceID)*0x9E3779B97F4A7C15 ^ maphash.String(v.seed, userID)
	return uint32(h % memberStripes)
}
