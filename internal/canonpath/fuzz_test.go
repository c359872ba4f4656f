package canonpath

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"/", "/a/b/", "/a/../b", "//", "/a%2Fb", "/%252F", "/%61", "/a;b",
		`/a\b`, "/a%", "/a%zz", "/caf%C3%A9", "/a/.", "/%2e%2e/", "", "x", "// ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if plain, _ := checkPlain(p); plain && p != "" && p[0] == '/' {
			if u := (&url.URL{Path: p}); u.EscapedPath() != p {
				t.Fatalf("checkPlain(%q) took it as plain, but its escaped form is %q", p, u.EscapedPath())
			}
		}
		err := Check(p)
		if err != nil {
			if e, ok := err.(*Error); !ok || len(e.Path) > maxEcho || e.Reason == "" {
				t.Fatalf("Check(%q) = %#v: want a *Error echoing at most %d bytes", p, err, maxEcho)
			}
			return
		}
		decoded, derr := url.PathUnescape(p)
		if derr != nil {
			t.Fatalf("Check(%q) accepted a path url.PathUnescape rejects: %v", p, derr)
		}
		raw := strings.Split(p, "/")
		segs := strings.Split(decoded, "/")
		if len(raw) != len(segs) {
			t.Fatalf("Check(%q) accepted a path whose decoding %q has other segments", p, decoded)
		}
		// segs[0] is the empty string before the leading "/"; a
		// single trailing "/" leaves one empty last segment.
		if segs[0] != "" {
			t.Fatalf("Check(%q) accepted a path not starting with /", p)
		}
		body := segs[1:]
		if len(body) > 1 && body[len(body)-1] == "" {
			body = body[:len(body)-1]
		}
		for _, s := range body {
			if s == "" && decoded != "/" || s == "." || s == ".." {
				t.Fatalf("Check(%q) accepted a path decoding to %q, with segment %q", p, decoded, s)
			}
			if strings.ContainsAny(s, "\\;\x00") {
				t.Fatalf("Check(%q) accepted a path decoding to %q", p, decoded)
			}
		}
		// Every escape left is one a normalizer would keep: not an
		// unreserved character, nor a byte that changes the segments.
		for i := 0; i < len(p); i++ {
			if p[i] != '%' {
				continue
			}
			b, err := strconv.ParseUint(p[i+1:i+3], 16, 8)
			if err != nil {
				t.Fatalf("Check(%q) accepted the escape %q", p, p[i:i+3])
			}
			if c := byte(b); c < 0x20 || c == 0x7f || strings.IndexByte("/\\.-_~", c) >= 0 ||
				'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
				t.Fatalf("Check(%q) accepted the escape %q", p, p[i:i+3])
			}
		}
	})
}

// FuzzCheckPlain: on a plain path, checkPlain agrees with Check; on any
// other it declines.
func FuzzCheckPlain(f *testing.F) {
	for _, s := range []string{"/", "/a/b/", "/a/../b", "//", "/a/.", "/..", "/a//", "/a b", "", "x", "/a%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		plain, err := checkPlain(p)
		if !plain {
			if isPlain(p) {
				t.Fatalf("checkPlain(%q) declined a plain path", p)
			}
			return
		}
		if want := Check(p); (err == nil) != (want == nil) || err != nil && err.Error() != want.Error() {
			t.Fatalf("checkPlain(%q) = %v, Check = %v", p, err, want)
		}
	})
}

// isPlain is the fuzz oracle: only letters, digits, "-", ".", "_", "~", "/".
func isPlain(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~/", c) >= 0) {
			return false
		}
	}
	return true
}
