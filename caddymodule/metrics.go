package caddymodule

import (
	"errors"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
)

// Collectors are created once per process and registered into each
// config's registry: Caddy builds a new registry per config load, while
// the counters must keep counting across reloads. No label carries a user
// or workspace id (unbounded cardinality).
var (
	decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gatehouse",
		Name:      "decisions_total",
		Help:      "Gateway decisions by outcome (allowed, denied), rule requirement and problem code.",
	}, []string{"outcome", "requirement", "code"})

	decisionSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "gatehouse",
		Name:      "decision_duration_seconds",
		Help:      "Time spent deciding one request, token verification included.",
		Buckets:   []float64{1e-7, 2.5e-7, 5e-7, 1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2},
	})

	cacheLookups = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gatehouse",
		Name:      "cache_lookups_total",
		Help:      "Access cache lookups by result (hit, miss).",
	}, []string{"result"})

	jwksRefreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gatehouse",
		Name:      "jwks_refreshes_total",
		Help:      "JWK set URL refreshes by result (success, failure).",
	}, []string{"result"})

	cacheHits   = cacheLookups.WithLabelValues("hit")
	cacheMisses = cacheLookups.WithLabelValues("miss")

	// allowedByKind avoids a label lookup per allowed request.
	allowedByKind = func() (c [gateway.NumRequirements]prometheus.Counter) {
		for k := range c {
			c[k] = decisions.WithLabelValues("allowed", gateway.Requirement(k).String(), "")
		}
		return c
	}()
)

// registerMetrics adds the collectors to the config's registry.
func registerMetrics(ctx caddy.Context) {
	registry := ctx.GetMetricsRegistry()
	if registry == nil {
		return
	}
	for _, c := range []prometheus.Collector{decisions, decisionSeconds, cacheLookups, jwksRefreshes, storeMetrics} {
		var already prometheus.AlreadyRegisteredError
		if err := registry.Register(c); err != nil && !errors.As(err, &already) {
			caddy.Log().Warn("registering gatehouse metrics", zap.Error(err))
		}
	}
}

// observeDecision records one decision.
func observeDecision(d *gateway.Decision, elapsed time.Duration) {
	decisionSeconds.Observe(elapsed.Seconds())
	switch {
	case d.Allowed:
		allowedByKind[d.Rule.Kind].Inc()
	case d.Rule != nil:
		decisions.WithLabelValues("denied", d.Rule.Kind.String(), d.Problem.Code).Inc()
	default:
		decisions.WithLabelValues("denied", "none", d.Problem.Code).Inc()
	}
}

// metricsObserver feeds the engine's cache counters to Prometheus.
type metricsObserver struct{}

func (metricsObserver) CacheLookup(hit bool) {
	if hit {
		cacheHits.Inc()
	} else {
		cacheMisses.Inc()
	}
}
