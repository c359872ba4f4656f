package gateway_test

import (
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
)

// staticAuth stands in for JWT verification, so the benchmark measures
// the decision itself (README "Performance targets": rule match + permission check, no JWT).
// Its principal is marked cached, as a repeated token's would be.
type staticAuth struct{ p authn.Principal }

func (s staticAuth) Verify(string) (authn.Principal, error) { return s.p, nil }

func benchDecide(b *testing.B, p *gateway.Policy, target, token string) {
	r := httptest.NewRequest("GET", target, nil)
	r.Header.Set("Authorization", "Bearer "+token)
	var d gateway.Decision
	p.Decide(r, nil, &d) // warm the cache
	if !d.Allowed {
		b.Fatalf("not allowed: %+v", d.Problem)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d = gateway.Decision{}
		p.Decide(r, nil, &d)
	}
	if !d.Allowed {
		b.Fatal("denied during the run")
	}
}

// BenchmarkDecideCachedMember: a member's request decided from the cache.
func BenchmarkDecideCachedMember(b *testing.B) {
	f := newFixture(b)
	f.engine = f.newEngine(staticAuth{authn.Principal{Subject: "olga", Email: "olga@example.com", Cached: true}})
	p := f.policy(gateway.DefaultWorkspaceSource)
	b.Run("slug", func(b *testing.B) { benchDecide(b, p, "/w/acme/messages", "t") })
	b.Run("id", func(b *testing.B) { benchDecide(b, p, "/w/"+f.acme.ID+"/messages", "t") })
	b.Run("restricted", func(b *testing.B) { benchDecide(b, p, "/w/acme/instances/i1/chats", "t") })
}

// BenchmarkDecideCachedMemberPlan: the same under plans (acme on pro):
// the plan was applied when the cache was filled, so a cached decision
// costs what it costs without plans.
func BenchmarkDecideCachedMemberPlan(b *testing.B) {
	f := newFixture(b)
	f.engine = f.newEngineWith(func(o *gateway.Options) {
		o.Authenticator = staticAuth{authn.Principal{Subject: "olga", Email: "olga@example.com", Cached: true}}
		o.Model = newModel(b, planTestConfig())
	})
	f.setWorkspacePlan(&f.acme, "pro")
	p := f.policy(gateway.DefaultWorkspaceSource)
	b.Run("slug", func(b *testing.B) { benchDecide(b, p, "/w/acme/messages", "t") })
	b.Run("id", func(b *testing.B) { benchDecide(b, p, "/w/"+f.acme.ID+"/messages", "t") })
	b.Run("restricted", func(b *testing.B) { benchDecide(b, p, "/w/acme/instances/i1/chats", "t") })
}

// BenchmarkDecideRepeatedJWT: the same, with a real EdDSA token verified
// once and then served by the verified-token cache.
func BenchmarkDecideRepeatedJWT(b *testing.B) {
	f := newFixture(b)
	p := f.policy(gateway.DefaultWorkspaceSource)
	benchDecide(b, p, "/w/acme/messages", f.token("olga"))
}

func BenchmarkDecideParallel(b *testing.B) {
	f := newFixture(b)
	p := f.policy(gateway.DefaultWorkspaceSource)
	token := f.token("olga")
	r0 := httptest.NewRequest("GET", "/w/acme/messages", nil)
	r0.Header.Set("Authorization", "Bearer "+token)
	var d gateway.Decision
	p.Decide(r0, nil, &d)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/w/acme/messages", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		for pb.Next() {
			var d gateway.Decision
			p.Decide(r, nil, &d)
			if !d.Allowed {
				b.Error("denied")
				return
			}
		}
	})
}

// BenchmarkDecideAPIKey: the same request with an API key, next to the
// JWT path: cached credential, one SHA-256, a constant-time compare.
func BenchmarkDecideAPIKey(b *testing.B) {
	f := newFixture(b)
	p := f.policy(gateway.DefaultWorkspaceSource)
	key, _ := f.putKey(f.acme, []string{"message.read"}, nil)
	benchDecide(b, p, "/w/acme/messages", key)
}

// BenchmarkDecideAPIKeyPlan: the same under plans (acme on pro, which
// has api_keys): the plan's verdict on keys is cached with the credential.
func BenchmarkDecideAPIKeyPlan(b *testing.B) {
	f := newFixture(b)
	f.engine = f.newEngineWith(func(o *gateway.Options) { o.Model = newModel(b, planTestConfig()) })
	f.setWorkspacePlan(&f.acme, "pro")
	p := f.policy(gateway.DefaultWorkspaceSource)
	key, _ := f.putKey(f.acme, []string{"message.read"}, nil)
	benchDecide(b, p, "/w/acme/messages", key)
}
