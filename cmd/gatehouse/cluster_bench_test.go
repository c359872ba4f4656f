package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Benchmarks of three gateway processes on one PostgreSQL (issue 13 item
// 7; `make bench`, figures in bench/results/cluster.md).

// BenchmarkClusterAdminWrites: admin writes (role creations, each one
// serializable transaction, a change-log row and a NOTIFY) per second with
// 8 writers spread over 3 replicas.
func BenchmarkClusterAdminWrites(b *testing.B) {
	c := newCluster(b, 3)
	const writers = 8
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		r := c.replicas[w%3]
		base := r.url("/gatehouse/v1/workspaces/acme/roles")
		tok := c.token("alice")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if !createRole(context.Background(), base, tok, fmt.Sprintf("b%d-%d", w, i)) {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d of %d writes failed:\n%s", failed.Load(), b.N, c.logs())
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
}

// BenchmarkClusterRevokePropagation: from the 2xx of a member DELETE on
// replica 1 until replicas 2 and 3 both refuse (polled at ~1 ms), over 200
// revokes per iteration; reports p50, p99 and max in ms.
func BenchmarkClusterRevokePropagation(b *testing.B) {
	c := newCluster(b, 3)
	b.ResetTimer()
	var all []time.Duration
	for i := range b.N {
		all = append(all, measureRevokes(b, c, fmt.Sprintf("b%d-", i), 200)...)
	}
	b.StopTimer()
	p50, p99, mx := percentiles(all)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	b.ReportMetric(ms(mx), "max-ms")
	b.ReportMetric(0, "ns/op")
}
