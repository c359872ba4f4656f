package gateway

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzQueryWorkspace checks queryValue against the ways other parsers
// read a query: whenever the gateway accepts a query and reads a
// workspace from it, no reader below finds a different workspace in it.
func FuzzQueryWorkspace(f *testing.F) {
	for _, seed := range []string{
		"ws=acme", "ws=acme&WS=globex", "ws=acme&ws[]=globex", "ws=acme&ws%00=globex",
		"ws=acme&+ws=globex", "ws=acme&ws.=globex", "ws=acme;ws=globex", "w%73=acme",
		"x=1;ws=globex&ws=acme", "ws=%61cme&ws%2500=x", "ws=acme&w%C5%BF=globex",
	} {
		f.Add(seed)
	}
	name := normalizeParamName("ws")
	f.Fuzz(func(t *testing.T, raw string) {
		v, ok := queryValue(raw, "ws", name)
		if !ok || !plausibleRef(v) {
			return // refused, or names no workspace the gateway would serve
		}
		for reader, read := range otherReaders {
			for _, other := range read(raw) {
				if other != v {
					t.Fatalf("query %q: the gateway reads workspace %q, the %s reader %q", raw, v, reader, other)
				}
			}
		}
	})
}

// otherReaders return the values they would read for the parameter "ws".
var otherReaders = map[string]func(raw string) []string{
	"net/url": func(raw string) []string {
		q, _ := url.ParseQuery(raw)
		return q["ws"]
	},
	"case-insensitive": func(raw string) []string {
		return pairsNamed(raw, "&", func(k string) bool { return strings.EqualFold(strictKey(k), "ws") })
	},
	"semicolon": func(raw string) []string {
		return pairsNamed(raw, "&;", func(k string) bool { return strictKey(k) == "ws" })
	},
	"php-like": func(raw string) []string {
		return pairsNamed(raw, "&", func(k string) bool {
			k = strings.TrimLeft(decodeLenient(k), " ")
			if i := strings.IndexAny(k, "[\x00"); i >= 0 {
				k = k[:i]
			}
			return strings.NewReplacer(" ", "_", ".", "_").Replace(k) == "ws"
		})
	},
}

// pairsNamed splits raw at any of seps and returns the decoded values of
// the pairs whose key is named.
func pairsNamed(raw, seps string, named func(key string) bool) []string {
	var out []string
	for _, pair := range strings.FieldsFunc(raw, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		k, v, _ := strings.Cut(pair, "=")
		if named(k) {
			out = append(out, decodeLenient(v))
		}
	}
	return out
}

func strictKey(k string) string {
	d, err := url.QueryUnescape(k)
	if err != nil {
		return ""
	}
	return d
}
