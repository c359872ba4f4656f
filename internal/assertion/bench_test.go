package assertion

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

func benchSigner(b *testing.B) *Signer {
	s, err := boltstore.Open(filepath.Join(b.TempDir(), "g.db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	signer, err := LoadOrCreate(context.Background(), s, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return signer
}

// The assertion of a request whose identity was signed less than Reuse
// ago: what nearly every request with `assertion on` costs.
func BenchmarkAssertionReused(b *testing.B) {
	signer := benchSigner(b)
	now := time.Now()
	if _, err := signer.Sign(olgaFacts, now); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := signer.Sign(olgaFacts, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A fresh signature: once per identity every Reuse.
func BenchmarkAssertionSigned(b *testing.B) {
	signer := benchSigner(b)
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// A new second each time, so the table never answers.
		if _, err := signer.Sign(olgaFacts, now.Add(time.Duration(i)*Lifetime)); err != nil {
			b.Fatal(err)
		}
	}
}
