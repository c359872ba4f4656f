package admin_test

import (
	"testing"

	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

// TestMain stops the PostgreSQL server of the tests that run on one
// (pgtest), if any started.
func TestMain(m *testing.M) { pgtest.Main(m) }
