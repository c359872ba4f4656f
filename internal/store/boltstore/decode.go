package boltstore

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Fast decoding of the records on the gateway's cache-miss path.
//
// Records are written with encoding/json, and encoding/json remains the
// reference for reading them: the decoders below only handle the plain
// shape that json.Marshal produces for the model types — known keys spelled
// exactly, each at most once; strings without escapes or control bytes and
// with valid UTF-8; string arrays and a map of string arrays; RFC 3339
// timestamps; null for pointers, slices and maps — and return false on
// anything else, in which case the caller decodes with json.Unmarshal. So a
// fast decode either yields exactly what json.Unmarshal would, or does not
// happen (FuzzFastDecode checks this differential property).
//
// Why bother: on the 2-core target machine json.Unmarshal costs 4–8 µs per
// record, twice the cost of the bbolt lookups of a whole access check. The
// fast path also makes one string allocation per record: every string field
// is a substring of one copy of the record.

// decodeUser, decodeWorkspace, decodeMember and decodeRole decode a stored
// record into dst (which must be the zero value), fast path first.
func decodeUser(v []byte, dst *store.User, bucket, key []byte) error {
	if fastUser(v, dst) {
		return nil
	}
	*dst = store.User{}
	return unmarshal(v, dst, bucket, key)
}

func decodeWorkspace(v []byte, dst *store.Workspace, bucket, key []byte) error {
	if fastWorkspace(v, dst) {
		return nil
	}
	*dst = store.Workspace{}
	return unmarshal(v, dst, bucket, key)
}

func decodeMember(v []byte, dst *store.Membership, bucket, key []byte) error {
	if fastMember(v, dst) {
		return nil
	}
	*dst = store.Membership{}
	return unmarshal(v, dst, bucket, key)
}

func decodeRole(v []byte, dst *store.Role, bucket, key []byte) error {
	if fastRole(v, dst) {
		return nil
	}
	*dst = store.Role{}
	return unmarshal(v, dst, bucket, key)
}

// unmarshal is the reference decoder.
func unmarshal(v []byte, dst any, bucket, key []byte) error {
	if err := json.Unmarshal(v, dst); err != nil {
		return &corruptError{bucket: string(bucket), key: string(key), err: err}
	}
	return nil
}

type corruptError struct {
	bucket, key string
	err         error
}

func (e *corruptError) Error() string {
	return "boltstore: corrupt record " + e.bucket + "/" + quote(e.key) + ": " + e.err.Error()
}

func (e *corruptError) Unwrap() error { return e.err }

func fastUser(v []byte, u *store.User) bool {
	d := newDecoder(v)
	return d.fields(func(key string) (bit uint16, ok bool) {
		switch key {
		case "id":
			bit = 1 << 0
			u.ID, ok = d.str()
		case "email":
			bit = 1 << 1
			u.Email, ok = d.str()
		case "first_seen":
			bit = 1 << 2
			ok = d.time(&u.FirstSeen)
		case "last_seen":
			bit = 1 << 3
			ok = d.time(&u.LastSeen)
		}
		return bit, ok
	})
}

func fastWorkspace(v []byte, w *store.Workspace) bool {
	d := newDecoder(v)
	return d.fields(func(key string) (bit uint16, ok bool) {
		switch key {
		case "id":
			bit = 1 << 0
			w.ID, ok = d.str()
		case "slug":
			bit = 1 << 1
			w.Slug, ok = d.str()
		case "name":
			bit = 1 << 2
			w.Name, ok = d.str()
		case "description":
			bit = 1 << 3
			w.Description, ok = d.str()
		case "created_at":
			bit = 1 << 4
			ok = d.time(&w.CreatedAt)
		case "updated_at":
			bit = 1 << 5
			ok = d.time(&w.UpdatedAt)
		case "deleted_at":
			bit = 1 << 6
			w.DeletedAt, ok = d.timePtr()
		case "organization_id":
			bit = 1 << 7
			w.OrganizationID, ok = d.str()
		case "project_id":
			bit = 1 << 8
			w.ProjectID, ok = d.str()
		case "scope":
			bit = 1 << 9
			var sc string
			sc, ok = d.str()
			w.Scope = store.Scope(sc)
		case "plan":
			bit = 1 << 10
			w.Plan, ok = d.str()
		case "owner_id":
			bit = 1 << 11
			w.OwnerID, ok = d.str()
		}
		return bit, ok
	})
}

func fastMember(v []byte, m *store.Membership) bool {
	d := newDecoder(v)
	return d.fields(func(key string) (bit uint16, ok bool) {
		switch key {
		case "workspace_id":
			bit = 1 << 0
			m.WorkspaceID, ok = d.str()
		case "user_id":
			bit = 1 << 1
			m.UserID, ok = d.str()
		case "roles":
			bit = 1 << 2
			m.Roles, ok = d.strList()
		case "grants":
			bit = 1 << 3
			m.Grants, ok = d.strList()
		case "denies":
			bit = 1 << 4
			m.Denies, ok = d.strList()
		case "restrictions":
			bit = 1 << 5
			m.Restrictions, ok = d.strListMap()
		case "joined_at":
			bit = 1 << 6
			ok = d.time(&m.JoinedAt)
		case "updated_at":
			bit = 1 << 7
			ok = d.time(&m.UpdatedAt)
		}
		return bit, ok
	})
}

func fastRole(v []byte, r *store.Role) bool {
	d := newDecoder(v)
	return d.fields(func(key string) (bit uint16, ok bool) {
		switch key {
		case "workspace_id":
			bit = 1 << 0
			r.WorkspaceID, ok = d.str()
		case "slug":
			bit = 1 << 1
			r.Slug, ok = d.str()
		case "name":
			bit = 1 << 2
			r.Name, ok = d.str()
		case "description":
			bit = 1 << 3
			r.Description, ok = d.str()
		case "permissions":
			bit = 1 << 4
			r.Permissions, ok = d.strList()
		case "created_at":
			bit = 1 << 5
			ok = d.time(&r.CreatedAt)
		case "updated_at":
			bit = 1 << 6
			ok = d.time(&r.UpdatedAt)
		}
		return bit, ok
	})
}

// decoder reads the plain JSON subset described above. Every method
// returns false when the input leaves that subset.
type decoder struct {
	b []byte // the record (only valid during the transaction)
	s string // one copy of it: decoded strings are substrings
	i int
}

func newDecoder(v []byte) decoder {
	return decoder{b: v, s: string(v)}
}

func (d *decoder) skipSpace() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// eat consumes c (after optional white space) if it comes next.
func (d *decoder) eat(c byte) bool {
	d.skipSpace()
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// null consumes a null literal if it comes next.
func (d *decoder) null() bool {
	d.skipSpace()
	if len(d.s)-d.i >= 4 && d.s[d.i:d.i+4] == "null" {
		d.i += 4
		return true
	}
	return false
}

// object reads an object whose values field consumes, then the end of the
// input. field is called with the key and the decoder positioned before the
// value; an unknown key must return false.
func (d *decoder) object(field func(key string) bool) bool {
	if !d.eat('{') {
		return false
	}
	if !d.eat('}') {
		for {
			key, ok := d.str()
			if !ok || !d.eat(':') || !field(key) {
				return false
			}
			if d.eat(',') {
				continue
			}
			if d.eat('}') {
				break
			}
			return false
		}
	}
	d.skipSpace()
	return d.i == len(d.s)
}

// fields is object for a record whose known keys may each appear once:
// field returns the key's bit (0 for an unknown key, which then fails
// with ok false) and whether its value decoded. A repeated key fails the
// decode, so the slow path (encoding/json) sees the record as it is.
func (d *decoder) fields(field func(key string) (bit uint16, ok bool)) bool {
	var seen uint16
	return d.object(func(key string) bool {
		bit, ok := field(key)
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return ok
	})
}

// str reads a string without escapes.
func (d *decoder) str() (string, bool) {
	if !d.eat('"') {
		return "", false
	}
	start := d.i
	ascii := true
	for ; d.i < len(d.s); d.i++ {
		c := d.s[d.i]
		switch {
		case c == '"':
			s := d.s[start:d.i]
			d.i++
			if !ascii && !utf8.ValidString(s) {
				return "", false // json.Unmarshal would substitute U+FFFD
			}
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// strList reads null (nil) or an array of strings ([] is empty, not nil).
func (d *decoder) strList() ([]string, bool) {
	if d.null() {
		return nil, true
	}
	if !d.eat('[') {
		return nil, false
	}
	list := make([]string, 0, 4)
	if d.eat(']') {
		return list, true
	}
	for {
		s, ok := d.str()
		if !ok {
			return nil, false
		}
		list = append(list, s)
		if d.eat(',') {
			continue
		}
		return list, d.eat(']')
	}
}

// strListMap reads null (nil) or an object of string arrays.
func (d *decoder) strListMap() (map[string][]string, bool) {
	if d.null() {
		return nil, true
	}
	if !d.eat('{') {
		return nil, false
	}
	m := make(map[string][]string)
	if d.eat('}') {
		return m, true
	}
	for {
		k, ok := d.str()
		if !ok || !d.eat(':') {
			return nil, false
		}
		if _, dup := m[k]; dup {
			return nil, false // json.Unmarshal's merge rules: not worth copying
		}
		if m[k], ok = d.strList(); !ok {
			return nil, false
		}
		if d.eat(',') {
			continue
		}
		return m, d.eat('}')
	}
}

// time reads a timestamp exactly as time.Time.UnmarshalJSON does (strict
// RFC 3339), but not null (which UnmarshalJSON ignores).
func (d *decoder) time(t *time.Time) bool {
	d.skipSpace()
	start := d.i
	if _, ok := d.str(); !ok {
		return false
	}
	// The quoted literal, as json.Unmarshal hands it to UnmarshalJSON (str
	// made sure it has no escapes); the bytes are not retained.
	return t.UnmarshalJSON(d.b[start:d.i]) == nil
}

func (d *decoder) timePtr() (*time.Time, bool) {
	if d.null() {
		return nil, true
	}
	t := new(time.Time)
	if !d.time(t) {
		return nil, false
	}
	return t, true
}

// decodeJSON is unmarshal typed for records, for kinds without a fast
// decoder.
func decodeJSON[T any](v []byte, dst *T, bucket, key []byte) error {
	return unmarshal(v, dst, bucket, key)
}
