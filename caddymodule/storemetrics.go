package caddymodule

import (
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore"
)

// storeMetrics exports the change feed's state (spec §10) of the store the
// process serves from. The values are read at scrape time from the pooled
// store, so that they survive reloads like the store does. No label: a
// process serves one store (the latest one wired, should a reload switch
// databases while the old one is still draining).
var storeMetrics = &storeCollector{}

var (
	storeRevisionDesc = prometheus.NewDesc("gatehouse_store_revision",
		"The store revision this gateway's caches have applied.", nil, nil)
	storeLagDesc = prometheus.NewDesc("gatehouse_store_lag_seconds",
		"Seconds since the change feed was last read to its end (0 for bbolt, which is always current). Past max_staleness, store-backed rules answer 503.", nil, nil)
	storeListenerUpDesc = prometheus.NewDesc("gatehouse_store_listener_up",
		"1 when the PostgreSQL change listener (LISTEN) is connected, else 0. PostgreSQL only.", nil, nil)
	storeReconnectsDesc = prometheus.NewDesc("gatehouse_store_reconnects_total",
		"Connections of the PostgreSQL change listener lost (or never made) and retried. PostgreSQL only.", nil, nil)
	storeReadThroughDesc = prometheus.NewDesc("gatehouse_store_read_through_total",
		"Requests whose consistency token was ahead of this gateway and that read the change feed through to the database.", nil, nil)
)

// listenerStats is the PostgreSQL store's listener state.
type listenerStats interface {
	ListenerStats() pgstore.ListenerStats
}

type storeCollector struct {
	mu     sync.Mutex
	stores []*sharedStore // wired and not destructed, oldest first
}

func (c *storeCollector) add(s *sharedStore) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stores = append(c.stores, s)
}

func (c *storeCollector) remove(s *sharedStore) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stores = slices.DeleteFunc(c.stores, func(x *sharedStore) bool { return x == s })
}

func (c *storeCollector) current() *sharedStore {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.stores) == 0 {
		return nil
	}
	return c.stores[len(c.stores)-1]
}

// Describe implements prometheus.Collector.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{storeRevisionDesc, storeLagDesc, storeListenerUpDesc, storeReconnectsDesc, storeReadThroughDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.current()
	if s == nil || s.live == nil {
		return
	}
	live := s.live
	lag := 0.0
	if live.CanBeStale() {
		lag = max(0, time.Since(live.CaughtUpAt()).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(storeRevisionDesc, prometheus.GaugeValue, float64(live.Applied()))
	ch <- prometheus.MustNewConstMetric(storeLagDesc, prometheus.GaugeValue, lag)
	ch <- prometheus.MustNewConstMetric(storeReadThroughDesc, prometheus.CounterValue, float64(live.ReadThroughs()))
	if ls, ok := s.load().(listenerStats); ok {
		st := ls.ListenerStats()
		up := 0.0
		if st.Up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(storeListenerUpDesc, prometheus.GaugeValue, up)
		ch <- prometheus.MustNewConstMetric(storeReconnectsDesc, prometheus.CounterValue, float64(st.Reconnects))
	}
}
