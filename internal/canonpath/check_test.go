package canonpath

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestCheckAccepts(t *testing.T) {
	for _, p := range []string{
		"/",
		"/a",
		"/a/",
		"/w/acme/messages",
		"/w/acme/messages/",
		"/a/b.c/d..e/...",   // dots inside segments are fine
		"/.well-known/jwks", // so is a leading dot
		"/a%20b",            // space
		"/caf%C3%A9",        // UTF-8, either case of hex
		"/caf%c3%a9",
		"/q%3Fx%23y", // "?" and "#"
		"/100%25",    // an encoded "%"
		"/%252F",     // decodes to the text "%2F", not a slash
		"/%252e%252E",
		"/a:b@c!$&'()*+,=",
		"/%2B%21%40%3A", // reserved characters may be encoded
		"/~user/-_",
		"/%7B%7D%22%3C%3E%5E%60%7C", // other printable ASCII
		"/%80%FF",                   // high bytes
	} {
		if err := Check(p); err != nil {
			t.Errorf("Check(%q) = %v, want nil", p, err)
		}
	}
}

func TestCheckRejects(t *testing.T) {
	tests := []struct {
		path string
		want string // the whole message
	}{
		{"", `path "" does not start with "/"`},
		{"a/b", `path "a/b" does not start with "/"`},
		{"*", `path "*" does not start with "/"`},
		{"/a/../b", `path "/a/../b" has a ".." segment`},
		{"/..", `path "/.." has a ".." segment`},
		{"/a/..", `path "/a/.." has a ".." segment`},
		{"/a/../", `path "/a/../" has a ".." segment`},
		{"/./a", `path "/./a" has a "." segment`},
		{"/a/.", `path "/a/." has a "." segment`},
		{"/a/./", `path "/a/./" has a "." segment`},
		{"//", `path "//" has an empty segment ("//")`},
		{"//a", `path "//a" has an empty segment ("//")`},
		{"/a//b", `path "/a//b" has an empty segment ("//")`},
		{"/a//", `path "/a//" has an empty segment ("//")`},
		{`/a\b`, `path "/a\\b" contains a backslash`},
		{`/a/..\b`, `path "/a/..\\b" contains a backslash`},
		{"/a\x00", `path "/a\x00" contains a control character (byte 0x00)`},
		{"/a\nb", `path "/a\nb" contains a control character (byte 0x0a)`},
		{"/a\x1f", "contains a control character (byte 0x1f)"},
		{"/a\x7f", "contains a control character (byte 0x7f)"},
		{"/caf\xc3\xa9", `path "/café" contains a non-ASCII byte (0xc3): percent-encode it`},
		{"/admin;x=y", `path "/admin;x=y" contains ";": path parameters are not allowed`},
		{"/public;/../admin", `contains ";"`},
		{"/admin%3Bx=y", `path "/admin%3Bx=y" has an encoded ";" (%3B): path parameters are not allowed`},
		{"/admin%3b", `has an encoded ";" (%3b)`},
		{"/a%", `path "/a%" has an invalid percent-escape "%": use % and two hex digits`},
		{"/a%4", `path "/a%4" has an invalid percent-escape "%4": use % and two hex digits`},
		{"/a%zz", `path "/a%zz" has an invalid percent-escape "%zz": use % and two hex digits`},
		{"/a%4g/", `has an invalid percent-escape "%4g"`},
		{"/a%%41", `has an invalid percent-escape "%%4"`},
		{"/a%2Fb", `path "/a%2Fb" has an encoded "/" (%2F)`},
		{"/a%2fb", `path "/a%2fb" has an encoded "/" (%2f)`},
		{"/a%5Cb", `path "/a%5Cb" has an encoded backslash (%5C)`},
		{"/a%5cb", "has an encoded backslash (%5c)"},
		{"/%2E%2E/admin", `path "/%2E%2E/admin" has an encoded "." (%2E)`},
		{"/a/%2e", `has an encoded "." (%2e)`},
		{"/a.%2ejson", `has an encoded "." (%2e)`},
		{"/a%00", `path "/a%00" has an encoded NUL (%00)`},
		{"/a%0A", `path "/a%0A" has an encoded control character (%0A)`},
		{"/a%7f", "has an encoded control character (%7f)"},
		{"/%61dmin", `path "/%61dmin" spells 'a' as %61: write it unescaped`},
		{"/%41", `spells 'A' as %41`},
		{"/v%31", `spells '1' as %31`},
		{"/%2D%5F%7E", `spells '-' as %2D`},
		{"/%5F", `spells '_' as %5F`},
		{"/%7e", `spells '~' as %7e`},
	}
	for _, tt := range tests {
		err := Check(tt.path)
		if err == nil {
			t.Errorf("Check(%q) = nil, want %q", tt.path, tt.want)
			continue
		}
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("Check(%q) error is %T, want *Error", tt.path, err)
		}
		msg := err.Error()
		// A want starting with "path " is the whole message.
		exact := strings.HasPrefix(tt.want, "path ")
		if exact && msg != tt.want || !exact && !strings.Contains(msg, tt.want) {
			t.Errorf("Check(%q) = %q, want %q", tt.path, msg, tt.want)
		}
	}
}

func TestErrorOffsetPointsAtTheProblem(t *testing.T) {
	tests := map[string]int{
		"/a/../b": 3,
		"/a//b":   3,
		"/ab;c":   3,
		"/ab%2F":  3,
		"x":       0,
	}
	for path, want := range tests {
		var ce *Error
		if !errors.As(Check(path), &ce) || ce.Offset != want {
			t.Errorf("Check(%q): offset %+v, want %d", path, ce, want)
		}
	}
}

func TestErrorEchoesAtMost64Bytes(t *testing.T) {
	long := "/" + strings.Repeat("a", 200) + "/.."
	err := Check(long)
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Check(long) = %v", err)
	}
	if len(ce.Path) != 64 || ce.Path != long[:64] {
		t.Errorf("Path = %q (%d bytes), want the first 64 bytes", ce.Path, len(ce.Path))
	}
	want := `path "` + long[:64] + `"... has a ".." segment`
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
	if ce.Offset != len(long)-2 {
		t.Errorf("Offset = %d, want %d", ce.Offset, len(long)-2)
	}
}

func TestCheckDoesNotAllocate(t *testing.T) {
	path := "/w/acme/instances/i%20one/chats/caf%C3%A9/"
	allocs := testing.AllocsPerRun(100, func() {
		if err := Check(path); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Check allocates %v times per run, want 0", allocs)
	}
}

// TestCheckAgreesWithNetURL checks that what a Go server hands the gateway
// (URL.EscapedPath of a parsed request target) and what Check accepts fit:
// every accepted path decodes, and keeps its segments once decoded.
func TestCheckAgreesWithNetURL(t *testing.T) {
	for _, target := range []string{"/a/b", "/a%20b/", "/caf%C3%A9", "/x%3Fy", "/%7Euser"} {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			t.Fatal(err)
		}
		err = Check(u.EscapedPath())
		if target == "/%7Euser" {
			// Go keeps the client's spelling, so the needless escape
			// reaches Check and is refused.
			if err == nil {
				t.Errorf("Check(%q) accepted a needlessly escaped '~'", u.EscapedPath())
			}
			continue
		}
		if err != nil {
			t.Errorf("Check(%q from %q) = %v", u.EscapedPath(), target, err)
		}
	}
}

// What checkPlain judges must be what net/url would have handed Check: a
// path it takes as plain is its own escaped form.
func TestCheckPlainAgreesWithEscapedPath(t *testing.T) {
	for _, p := range []string{"/w/acme/messages", "/a.b/c~d_e-f/", "/", "/a b", "/a;b", "/é", "/a%2Fb", "/*", "/a+b", "/a:b@c"} {
		u := &url.URL{Path: p}
		if plain, _ := checkPlain(p); plain && u.EscapedPath() != p {
			t.Errorf("checkPlain(%q) took it as plain, but EscapedPath is %q", p, u.EscapedPath())
		}
	}
	for p, want := range map[string]bool{"/w/ws_abc/messages.json": true, "/a b": false, "/a;b": false} {
		if plain, _ := checkPlain(p); plain != want {
			t.Errorf("checkPlain(%q): plain %v, want %v", p, plain, want)
		}
	}
}
