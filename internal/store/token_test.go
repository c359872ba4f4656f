package store_test

import (
	"errors"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

func TestTokenRoundTrip(t *testing.T) {
	for _, rev := range []uint64{0, 1, 42, 1<<64 - 1} {
		tok := store.FormatToken("abc234", rev)
		id, got, err := store.ParseToken(tok)
		if err != nil || id != "abc234" || got != rev {
			t.Errorf("ParseToken(%q) = %q, %d, %v", tok, id, got, err)
		}
	}
}

func TestParseTokenIsStrict(t *testing.T) {
	for _, tok := range []string{
		"", "r1.", "r1.abc", "r1.abc.", "r1..5", "r2.abc.5", "R1.abc.5", "abc.5",
		"r1.abc.05", "r1.abc.+5", "r1.abc.-5", "r1.abc.5 ", " r1.abc.5", "r1.ABC.5",
		"r1.ab-c.5", "r1.abc.5.6", "r1.abc.18446744073709551616", "r1.abc.1e3",
		"r1.abc.５", "r1." + string(make([]byte, 65)) + ".1",
	} {
		if _, _, err := store.ParseToken(tok); !errors.Is(err, store.ErrTokenMalformed) {
			t.Errorf("ParseToken(%q) = %v, want ErrTokenMalformed", tok, err)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	f.Add("r1.abc.5")
	f.Add("r1.abc.05")
	f.Add("r1..")
	f.Fuzz(func(t *testing.T, tok string) {
		id, rev, err := store.ParseToken(tok)
		if err != nil {
			if !errors.Is(err, store.ErrTokenMalformed) {
				t.Fatalf("ParseToken(%q): unexpected error %v", tok, err)
			}
			return
		}
		// Strict means canonical: what parses formats back to itself.
		if back := store.FormatToken(id, rev); back != tok {
			t.Fatalf("ParseToken(%q) = %q, %d; formats back as %q", tok, id, rev, back)
		}
	})
}
