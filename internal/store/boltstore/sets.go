package boltstore

import (
	"go.etcd.io/bbolt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Set-based reads (store.Tx UsersByID, WorkspacesByID): one call for the
// records of a page, instead of one call per record. On bbolt each id is
// still one Get, but in one call, so a networked backend can make it one
// query.

func (t *tx) UsersByID(ids []string) (map[string]store.User, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	return byID(t, t.usersB(), bucketUsers, ids, decodeUser)
}

func (t *tx) WorkspacesByID(ids []string) (map[string]store.Workspace, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	return byID(t, t.workspacesB(), bucketWorkspaces, ids, decodeWorkspace)
}

// byID reads the records of ids from bucket b. An id that cannot be a key
// is absent, like a missing one (it comes from an index or a request).
func byID[T any](t *tx, b *bbolt.Bucket, bucket []byte, ids []string,
	decode func(v []byte, dst *T, bucket, key []byte) error) (map[string]T, error) {
	out := make(map[string]T, len(ids))
	for _, id := range ids {
		if _, seen := out[id]; seen || !validKey(id) {
			continue
		}
		k := t.scratch1(id)
		v := b.Get(k)
		if v == nil {
			continue
		}
		var item T
		if err := decode(v, &item, bucket, k); err != nil {
			return nil, err
		}
		out[id] = item
	}
	return out, nil
}
