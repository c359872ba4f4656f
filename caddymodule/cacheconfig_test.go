package caddymodule

import (
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// The cache block sizes the set of unknown API key ids apart from the
// access cache, and refuses a size that is not positive.
func TestCacheBlockMaxUnknownKeys(t *testing.T) {
	adapt := func(opt string) (string, error) {
		cfg := "{\n\tadmin off\n\tgatehouse {\n\t\tjwt {\n\t\t\tjwks_file ./jwks.json\n\t\t}\n\t\tcache {\n\t\t\tmax_entries 1000\n\t\t\t" + opt + "\n\t\t}\n\t}\n}\n"
		raw, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(cfg), map[string]any{"filename": "Caddyfile"})
		return string(raw), err
	}
	raw, err := adapt("max_unknown_keys 512")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(raw, `"cache":{"max_entries":1000,"max_unknown_keys":512}`) {
		t.Errorf("adapted config %s", raw)
	}
	for _, bad := range []string{"max_unknown_keys 0", "max_unknown_keys -1", "max_unknown_keys", "max_unknown_keys many"} {
		if _, err := adapt(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}
