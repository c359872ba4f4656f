package boltstore

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// fastCase runs one fast decoder on data and checks the differential
// property against json.Unmarshal: when the fast path accepts the input,
// json.Unmarshal accepts it too and yields the same value. It also checks
// that the public decode function (fast path + fallback) always agrees with
// json.Unmarshal. It reports whether the fast path was taken.
func fastCase[T any](t *testing.T, data []byte, fast func([]byte, *T) bool, decode func([]byte, *T, []byte, []byte) error) bool {
	t.Helper()
	var ref T
	refErr := json.Unmarshal(data, &ref)

	var got T
	ok := fast(data, &got)
	if ok {
		if refErr != nil {
			t.Fatalf("fast path accepted %q, json.Unmarshal says %v", data, refErr)
		}
		if !reflect.DeepEqual(got, ref) {
			t.Fatalf("fast path on %q:\n got %#v\nwant %#v", data, got, ref)
		}
	}
	var dec T
	err := decode(data, &dec, []byte("bucket"), []byte("key"))
	if (err != nil) != (refErr != nil) {
		t.Fatalf("decode(%q) error %v, json.Unmarshal error %v", data, err, refErr)
	}
	if err == nil && !reflect.DeepEqual(dec, ref) {
		t.Fatalf("decode(%q):\n got %#v\nwant %#v", data, dec, ref)
	}
	return ok
}

func checkAll(t *testing.T, data []byte) {
	t.Helper()
	fastCase(t, data, fastUser, decodeUser)
	fastCase(t, data, fastWorkspace, decodeWorkspace)
	fastCase(t, data, fastMember, decodeMember)
	fastCase(t, data, fastRole, decodeRole)
	fastCase(t, data, fastOrganization, decodeOrganization)
	fastCase(t, data, fastOrgMember, decodeOrgMember)
	fastCase(t, data, fastProjectMember, decodeProjectMember)
}

// Random model values: plain ones must take the fast path; values with
// characters json.Marshal escapes fall back; all decode exactly like
// json.Unmarshal.
func TestFastDecodeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	plain := "abcdefghijklmnopqrstuvwxyz0123456789-_.:*é日本"
	nasty := plain + "\"\\<>&\x00\x01\n\u2028\xff"
	str := func(alphabet string) string {
		r := []rune(alphabet)
		if alphabet == nasty {
			// Keep the raw bytes (invalid UTF-8 included).
			b := make([]byte, rng.IntN(12))
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			return string(b)
		}
		b := make([]rune, rng.IntN(12))
		for i := range b {
			b[i] = r[rng.IntN(len(r))]
		}
		return string(b)
	}
	list := func(alphabet string) []string {
		switch rng.IntN(4) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		l := make([]string, 1+rng.IntN(4))
		for i := range l {
			l[i] = str(alphabet)
		}
		return l
	}
	zones := []*time.Location{time.UTC, time.FixedZone("", 2*3600), time.FixedZone("X", -7*3600-1800), time.Local}
	tm := func() time.Time {
		return time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))])
	}
	fastHits := 0
	for i := 0; i < 1200; i++ {
		alphabet := plain
		if i%3 == 2 {
			alphabet = nasty
		}
		u := store.User{ID: str(alphabet), Email: str(alphabet), FirstSeen: tm(), LastSeen: tm()}
		w := store.Workspace{ID: str(alphabet), Slug: str(alphabet), Name: str(alphabet), Description: str(alphabet), CreatedAt: tm(), UpdatedAt: tm()}
		if rng.IntN(2) == 0 {
			d := tm()
			w.DeletedAt = &d
		}
		if rng.IntN(2) == 0 {
			w.OrganizationID, w.ProjectID, w.Scope, w.Plan, w.OwnerID = str(alphabet), str(alphabet), store.Scope(str(alphabet)), str(alphabet), str(alphabet)
		}
		o := store.Organization{ID: str(alphabet), Slug: str(alphabet), Name: str(alphabet), Plan: str(alphabet), CreatedAt: tm(), UpdatedAt: tm()}
		if rng.IntN(2) == 0 {
			d := tm()
			o.DeletedAt = &d
		}
		om := store.OrgMember{OrganizationID: str(alphabet), UserID: str(alphabet), Roles: list(alphabet), JoinedAt: tm(), UpdatedAt: tm()}
		pm := store.ProjectMember{ProjectID: str(alphabet), OrganizationID: str(alphabet), UserID: str(alphabet), Roles: list(alphabet), JoinedAt: tm(), UpdatedAt: tm()}
		m := store.Membership{WorkspaceID: str(alphabet), UserID: str(alphabet), Roles: list(alphabet), Grants: list(alphabet), Denies: list(alphabet), JoinedAt: tm(), UpdatedAt: tm()}
		switch rng.IntN(3) {
		case 0:
		case 1:
			m.Restrictions = map[string][]string{}
		case 2:
			m.Restrictions = map[string][]string{str(alphabet): list(alphabet), str(alphabet) + "x": list(alphabet)}
		}
		r := store.Role{WorkspaceID: str(alphabet), Slug: str(alphabet), Name: str(alphabet), Description: str(alphabet), Permissions: list(alphabet), CreatedAt: tm(), UpdatedAt: tm()}

		hit := true
		for _, v := range []any{u, w, m, r, o, om, pm} {
			data, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			checkAll(t, data)
			switch v.(type) {
			case store.User:
				hit = fastCase(t, data, fastUser, decodeUser) && hit
			case store.Workspace:
				hit = fastCase(t, data, fastWorkspace, decodeWorkspace) && hit
			case store.Membership:
				hit = fastCase(t, data, fastMember, decodeMember) && hit
			case store.Role:
				hit = fastCase(t, data, fastRole, decodeRole) && hit
			case store.Organization:
				hit = fastCase(t, data, fastOrganization, decodeOrganization) && hit
			case store.OrgMember:
				hit = fastCase(t, data, fastOrgMember, decodeOrgMember) && hit
			case store.ProjectMember:
				hit = fastCase(t, data, fastProjectMember, decodeProjectMember) && hit
			}
		}
		if alphabet == plain {
			if !hit {
				t.Fatalf("plain records missed the fast path: %+v %+v %+v %+v %+v %+v %+v", u, w, m, r, o, om, pm)
			}
			fastHits++
		}
	}
	if fastHits < 700 {
		t.Errorf("only %d fast decodes", fastHits)
	}
}

var fastDecodeSeeds = []string{
	`{"id":"u1","email":"a@b.c","first_seen":"2025-01-02T03:04:05.000006Z","last_seen":"2025-01-02T03:04:05Z"}`,
	`{"id":"w1","slug":"acme","name":"Acme","created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05+02:00","deleted_at":"2025-01-02T03:04:05Z"}`,
	`{"id":"w1","slug":"acme","name":"Acme","created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z","deleted_at":null}`,
	`{"workspace_id":"w1","user_id":"u1","roles":["owner","agent"],"grants":["a.*"],"denies":[],"restrictions":{"instance":["i1","i2"],"chat":null},"joined_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}`,
	`{"workspace_id":"w1","user_id":"u1","roles":null,"restrictions":{},"joined_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}`,
	`{"workspace_id":"w1","slug":"agent","name":"Agent","permissions":["message.read"],"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}`,
	`{"id":"w1","slug":"acme","name":"Acme","created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z","organization_id":"o1","project_id":"p1","scope":"project","plan":"pro","owner_id":"u1"}`,
	`{"id":"o1","slug":"acme","name":"Acme","plan":"pro","created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z","deleted_at":"2025-01-02T03:04:05Z"}`,
	`{"organization_id":"o1","user_id":"u1","roles":["owner"],"joined_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}`,
	`{"project_id":"p1","organization_id":"o1","user_id":"u1","roles":["developer"],"joined_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}`,
	// Outside the fast subset: each must fall back and agree with json.
	` { "id" : "w1" , "slug" : "s" } `,
	`{"id":"w1","id":"w2"}`,
	`{"ID":"w1"}`,
	`{"Slug":"x"}`,
	`{"id":"w\u0031"}`,
	`{"id":"a\"b"}`,
	`{"name":"\xff"}`,
	`{"id":"w1"} x`,
	`{"id":"w1",}`,
	`{"id":1}`,
	`{"id":null}`,
	`{"created_at":null}`,
	`{"created_at":"2025-13-02T03:04:05Z"}`,
	`{"created_at":"2025-01-02 03:04:05Z"}`,
	`{"roles":["a",1]}`,
	`{"roles":["a","b",]}`,
	`{"restrictions":{"a":["x"],"a":["y"]}}`,
	`{"restrictions":{"a":"x"}}`,
	`{"unknown":"x"}`,
	`{}`,
	`[]`,
	`null`,
	``,
	`{`,
}

func TestFastDecodeEdgeCases(t *testing.T) {
	for _, s := range fastDecodeSeeds {
		checkAll(t, []byte(s))
	}
	// The canonical shapes take the fast path.
	for i, s := range fastDecodeSeeds[:10] {
		var u store.User
		var w store.Workspace
		var m store.Membership
		var r store.Role
		var o store.Organization
		var om store.OrgMember
		var pm store.ProjectMember
		if !fastUser([]byte(s), &u) && !fastWorkspace([]byte(s), &w) && !fastMember([]byte(s), &m) && !fastRole([]byte(s), &r) &&
			!fastOrganization([]byte(s), &o) && !fastOrgMember([]byte(s), &om) && !fastProjectMember([]byte(s), &pm) {
			t.Errorf("seed %d missed the fast path: %s", i, s)
		}
	}
}

func FuzzFastDecode(f *testing.F) {
	for _, s := range fastDecodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAll(t, data)
	})
}

// Decoded strings are copies: they survive changes to the source bytes.
func TestFastDecodeCopies(t *testing.T) {
	src := []byte(fastDecodeSeeds[3])
	var m store.Membership
	if !fastMember(src, &m) {
		t.Fatal("fast path missed")
	}
	want := strings.Clone(m.Roles[0])
	for i := range src {
		src[i] = 'X'
	}
	if m.Roles[0] != want || m.UserID != "u1" {
		t.Errorf("decoded strings alias the source: %+v", m)
	}
}
