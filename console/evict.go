package console

import "time"

// evictExpiredOrOldest drops the expired entries of m and, when it still
// holds max or more, the oldest ones, leaving room for one more. The
// caller holds m's lock. Linear, but only over a bounded map and only
// when an entry is added (a login), never on a page view.
func evictExpiredOrOldest[V any](m map[string]V, max int, now time.Time, times func(V) (created, expires time.Time)) {
	for id, v := range m {
		if _, exp := times(v); now.After(exp) {
			delete(m, id)
		}
	}
	for len(m) >= max {
		oldest, first := "", time.Time{}
		for id, v := range m {
			if c, _ := times(v); oldest == "" || c.Before(first) {
				oldest, first = id, c
			}
		}
		delete(m, oldest)
	}
}
