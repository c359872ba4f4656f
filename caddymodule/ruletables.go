package caddymodule

import (
	"slices"
	"sync"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
)

// ruleTables are the live compiled rule tables of the config's gatehouse
// handlers, for the API's explain endpoint: a handler registers its
// table on Provision and removes it on Cleanup, so explain always answers
// against what the gateway serves right now.
type ruleTables struct {
	mu   sync.Mutex
	list []*gateway.Policy
}

func (t *ruleTables) add(p *gateway.Policy) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.list = append(t.list, p)
}

func (t *ruleTables) remove(p *gateway.Policy) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.list = slices.DeleteFunc(t.list, func(q *gateway.Policy) bool { return q == p })
}

// all returns the tables in provisioning order (the Caddyfile's order).
func (t *ruleTables) all() []*gateway.Policy {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.list)
}
