package model_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const modulePath = "github.com/gatehouse-authz/gatehouse/"

// ourDeps lists the packages of this module that pkg depends on,
// transitively (go list -deps), without pkg itself.
func ourDeps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", modulePath+pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	var ours []string
	for _, p := range strings.Fields(string(out)) {
		if p != modulePath+pkg && strings.HasPrefix(p, modulePath) {
			ours = append(ours, strings.TrimPrefix(p, modulePath))
		}
	}
	slices.Sort(ours)
	return ours
}

// The model sits below the gateway, the management API, the console and
// the CLI: it must not depend on any of them (nor on Caddy, HTTP
// authentication or the caches), only on the permission algebra, the
// store contract and the leaf package of ids and slugs; and those depend
// on nothing of ours.
func TestModelDependsOnlyOnAuthzAndStore(t *testing.T) {
	allowed := []string{"internal/authz", "internal/ident", "internal/store"}
	if got := ourDeps(t, "internal/model"); !isSubset(got, allowed) {
		t.Errorf("internal/model depends on %v; allowed: %v", got, allowed)
	}
	for _, leaf := range allowed {
		if got := ourDeps(t, leaf); len(got) != 0 {
			t.Errorf("%s depends on %v; it must depend on nothing of ours", leaf, got)
		}
	}
}

func isSubset(got, allowed []string) bool {
	for _, p := range got {
		if !slices.Contains(allowed, p) {
			return false
		}
	}
	return true
}
