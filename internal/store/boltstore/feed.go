package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// The change log (store.Store.Changes): bucket "changes", key the 8-byte
// big-endian revision, value the compact JSON of that revision's
// store.Commit. Every committed Update writes its entry in its own
// transaction, so the log is gapless and in commit order, and prunes the
// entries that fell out of Options.ChangeRetention. The bucket is not in
// allBuckets: a store written before the feed opens (also read-only)
// without it, and the first write creates it; until then, and for any
// since below the oldest entry, Changes reports truncation.

// bucketChanges holds the change log.
var bucketChanges = []byte("changes")

// DefaultChangeRetention is the number of commits the log keeps when
// Options.ChangeRetention is zero.
const DefaultChangeRetention = 10_000

// defaultChangesLimit is Changes' page size for limit <= 0.
const defaultChangesLimit = 1000

func revKey(rev uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, rev)
	return k
}

// appendCommit writes cm to the log inside btx and prunes it to the
// latest retention entries.
func appendCommit(btx *bbolt.Tx, cm store.Commit, retention int) error {
	b, err := btx.CreateBucketIfNotExists(bucketChanges)
	if err != nil {
		return err
	}
	v, err := json.Marshal(cm)
	if err != nil {
		return err
	}
	if err := b.Put(revKey(cm.Revision), v); err != nil {
		return err
	}
	if cm.Revision <= uint64(retention) {
		return nil
	}
	// Keep revisions > cm.Revision-retention. Normally this deletes one
	// entry; after a lowered retention, the backlog in one go.
	floor := cm.Revision - uint64(retention)
	c := b.Cursor()
	for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= floor; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// Changes implements store.Store.
func (s *Store) Changes(ctx context.Context, since uint64, limit int) ([]store.Commit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if limit <= 0 {
		limit = defaultChangesLimit
	}
	var out []store.Commit
	err := s.db.View(func(btx *bbolt.Tx) error {
		latest := readRevision(btx.Bucket(bucketMeta))
		if since >= latest {
			return nil
		}
		b := btx.Bucket(bucketChanges)
		oldest := latest + 1 // no entry at all: nothing after since is retained
		var c *bbolt.Cursor
		if b != nil {
			c = b.Cursor()
			if k, _ := c.First(); k != nil {
				oldest = binary.BigEndian.Uint64(k)
			}
		}
		if oldest > since+1 {
			return &store.ChangesTruncatedError{Since: since, Oldest: oldest}
		}
		want := since + 1
		for k, v := c.Seek(revKey(want)); k != nil && len(out) < limit; k, v = c.Next() {
			var cm store.Commit
			if err := json.Unmarshal(v, &cm); err != nil {
				return fmt.Errorf("store: corrupt change log entry %x: %w", k, err)
			}
			if got := binary.BigEndian.Uint64(k); got != want || cm.Revision != want {
				return fmt.Errorf("store: corrupt change log: revision %d where %d was due", got, want)
			}
			out = append(out, cm)
			want++
		}
		return nil
	})
	if err != nil {
		return nil, s.mapErr(err)
	}
	return out, nil
}

// subscribers are the wake-up channels of Subscribe. They are per Store
// value: bbolt has no way to hear of another process's commit, so a
// consumer of a shared file relies on polling Changes for those.
type subscribers struct {
	mu   sync.Mutex
	next int
	subs map[int]chan struct{}
}

// Subscribe implements store.Store.
func (s *Store) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.subs.mu.Lock()
	if s.subs.subs == nil {
		s.subs.subs = make(map[int]chan struct{})
	}
	id := s.subs.next
	s.subs.next++
	s.subs.subs[id] = ch
	s.subs.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.subs.mu.Lock()
			delete(s.subs.subs, id)
			s.subs.mu.Unlock()
		})
	}
}

// wake tells every subscriber, without blocking, that a commit happened.
func (s *Store) wake() {
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	for _, ch := range s.subs.subs {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is pending already: merged
		}
	}
}
