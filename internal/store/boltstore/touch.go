package boltstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// TouchUser implements store.Tx: a sighting changes LastSeen (forward
// only) and a non-empty email, nothing else, so it never undoes a
// concurrent write of the other fields. Users carry no access decision:
// no change is recorded.
func (t *tx) TouchUser(id, email string, at time.Time) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("user id", id); err != nil {
		return err
	}
	b := t.usersB()
	k := t.scratch1(id)
	var u store.User
	if v := b.Get(k); v == nil {
		u = store.User{ID: id, Email: email, FirstSeen: at, LastSeen: at}
	} else {
		if err := decodeUser(v, &u, bucketUsers, k); err != nil {
			return err
		}
		changed := false
		if at.After(u.LastSeen) {
			u.LastSeen, changed = at, true
		}
		if email != "" && email != u.Email {
			u.Email, changed = email, true
		}
		if !changed {
			return nil // nothing to write
		}
	}
	data, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("boltstore: encoding user: %w", err)
	}
	return b.Put([]byte(id), data)
}
