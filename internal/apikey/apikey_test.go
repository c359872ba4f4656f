package apikey

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestGenerateParseRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		key, id, hash := Generate()
		if len(key) != Len || !strings.HasPrefix(key, "ghk_"+id+"_") {
			t.Fatalf("key %q does not have the form ghk_<id>_<secret>", key)
		}
		gotID, secret, ok := Parse(key)
		if !ok || gotID != id {
			t.Fatalf("Parse(%q) = %q, %v", key, gotID, ok)
		}
		want := sha256.Sum256([]byte(secret))
		if hash != hex.EncodeToString(want[:]) {
			t.Fatalf("hash %q is not the SHA-256 of the secret", hash)
		}
		if len(secret)*5 < 256 {
			t.Fatalf("secret %q carries fewer than 256 bits", secret)
		}
		if seen[id] || seen[secret] {
			t.Fatal("Generate repeated itself")
		}
		seen[id], seen[secret] = true, true
	}
}

func TestParseRefusesMalformedKeys(t *testing.T) {
	key, _, _ := Generate()
	cases := map[string]string{
		"empty":           "",
		"prefix only":     "ghk_",
		"truncated":       key[:len(key)-1],
		"extended":        key + "a",
		"upper-case":      strings.ToUpper(key),
		"wrong prefix":    "ghx_" + key[4:],
		"no separator":    key[:4+IDLen] + "a" + key[4+IDLen+1:],
		"moved separator": key[:4+IDLen-1] + "_a" + key[4+IDLen+1:],
		"bad character":   key[:len(key)-1] + "=",
		"digit 1":         key[:len(key)-1] + "1",
		"jwt":             "eyJhbGciOiJFZERTQSJ9.e30.sig",
		// The form before ids were prefixed: ghk_<26>_<secret>.
		"unprefixed id":   "ghk_" + key[4+len(IDPrefix):],
		"wrong id prefix": "ghk_kex_" + key[4+len(IDPrefix):],
		"upper id prefix": "ghk_KEY_" + key[4+len(IDPrefix):],
	}
	for name, k := range cases {
		if _, _, ok := Parse(k); ok {
			t.Errorf("%s: Parse(%q) accepted it", name, k)
		}
	}
}

func TestSubjectRoundTrip(t *testing.T) {
	_, id, _ := Generate()
	s := Subject(id)
	if s != "apikey:"+id {
		t.Fatalf("Subject = %q", s)
	}
	if got, ok := IDFromSubject(s); !ok || got != id {
		t.Fatalf("IDFromSubject(%q) = %q, %v", s, got, ok)
	}
	if _, ok := IDFromSubject("alice"); ok {
		t.Fatal("a user subject read as a key")
	}
	if !ValidID(id) || ValidID(id[1:]) || ValidID(strings.ToUpper(id)) || ValidID(id[len(IDPrefix):]) || ValidID("kex_"+id[len(IDPrefix):]) {
		t.Fatal("ValidID is wrong")
	}
	if !strings.HasPrefix(id, "key_") || len(id) != len("key_")+26 {
		t.Fatalf("id %q is not key_ and 26 characters", id)
	}
}

func TestParseAndSumDoNotAllocate(t *testing.T) {
	key, _, _ := Generate()
	n := testing.AllocsPerRun(100, func() {
		_, secret, _ := Parse(key)
		_ = Sum(secret)
	})
	if n != 0 {
		t.Fatalf("%v allocations per Parse+Sum", n)
	}
}

func FuzzParse(f *testing.F) {
	key, _, _ := Generate()
	f.Add(key)
	f.Add("ghk_")
	f.Add("ghk_" + strings.Repeat("a", IDLen) + "_" + strings.Repeat("_", SecretLen))
	f.Add("ghk_" + IDPrefix + strings.Repeat("a", IDLen-len(IDPrefix)) + "_" + strings.Repeat("b", SecretLen))
	f.Add("ghk_" + strings.Repeat("a", 26) + "_" + strings.Repeat("b", SecretLen))
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, ok := Parse(s)
		if !ok {
			return
		}
		// Whatever Parse accepts is exactly a key: it reassembles to the
		// input and its parts are well-formed.
		if Prefix+id+"_"+secret != s || !ValidID(id) || len(secret) != SecretLen || strings.Contains(secret, "_") {
			t.Fatalf("Parse(%q) accepted a malformed key: id %q secret %q", s, id, secret)
		}
	})
}
