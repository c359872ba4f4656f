package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultStoreTimeout bounds a store read on the request path when
// Options.StoreTimeout is 0.
const DefaultStoreTimeout = 2 * time.Second

// fills coalesces concurrent cache misses for the same key into one store
// read (singleflight's Do, with the read on a reader goroutine and each
// caller's wait bounded: see Engine.fill).
type fills struct {
	mu      sync.Mutex
	pending map[string]*fillCall
	readers *readers
}

// fillCall is one shared read; done is closed once val and err are set.
type fillCall struct {
	done chan struct{}
	val  any
	err  error
}

func newFills() *fills {
	return &fills{pending: make(map[string]*fillCall), readers: newReaders()}
}

// join returns the read in flight for key, or a new one that the caller
// (leader) must start.
func (f *fills) join(key string) (c *fillCall, leader bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.pending[key]; ok {
		return c, false
	}
	c = &fillCall{done: make(chan struct{})}
	f.pending[key] = c
	return c, true
}

// finish publishes c's result and lets the next miss for key start a read
// of its own.
func (f *fills) finish(key string, c *fillCall) {
	f.forget(key, c)
	close(c.done)
}

// forget makes misses for key from now on start a new read instead of
// joining c; those already waiting on c keep it.
func (f *fills) forget(key string, c *fillCall) {
	f.mu.Lock()
	if f.pending[key] == c {
		delete(f.pending, key)
	}
	f.mu.Unlock()
}

// fill runs load once for every concurrent caller with the same key (a
// cache miss coalesced in e.fills) and waits for its result for at most
// the store timeout, under the caller's own context.
//
// The shared read must not die with the caller that happened to start it:
// the others wait on it, and a client hanging up would otherwise fail
// their fills. So load runs under a context that keeps the first caller's
// values but not its cancellation, with a deadline of its own (the store
// timeout): it never outlives the bound whoever waits. Each caller, in
// turn, stops waiting as soon as its own context ends (its client went
// away, or the timeout passed): it gets an error, which the decision turns
// into a 503, never an allow. The wait does not rely on the store honouring
// ctx (bbolt checks it only before a transaction), so a store that hangs
// is answered within the bound all the same: load runs on a reader
// goroutine, never the caller's (see readers).
func (e *Engine) fill(ctx context.Context, key string, load func(context.Context) (any, error)) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, e.storeTimeout)
	defer cancel()
	c, leader := e.fills.join(key)
	if leader {
		fillCtx := context.WithoutCancel(ctx)
		e.fills.readers.run(func() { e.runFill(fillCtx, key, c, load) })
	}
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// The read this caller waited on is as late as the caller
			// (it started no later than its wait): requests arriving
			// from now on start a read of their own instead of joining
			// one that is about to fail. Those already waiting keep it.
			e.fills.forget(key, c)
			return nil, e.timeoutErr(ctx.Err())
		}
		return nil, fmt.Errorf("the request ended while waiting for the store: %w", ctx.Err())
	}
}

// runFill is the shared read of c, on a reader goroutine.
func (e *Engine) runFill(fillCtx context.Context, key string, c *fillCall, load func(context.Context) (any, error)) {
	defer e.fills.finish(key, c)
	// A panic on a reader would take the process down: turn it into the
	// callers' error.
	defer func() {
		if r := recover(); r != nil {
			c.val, c.err = nil, fmt.Errorf("store read panicked: %v", r)
		}
	}()
	fctx, cancel := context.WithTimeout(fillCtx, e.storeTimeout)
	defer cancel()
	c.val, c.err = load(fctx)
	if c.err != nil && errors.Is(c.err, context.DeadlineExceeded) {
		c.err = e.timeoutErr(c.err)
	}
}

func (e *Engine) timeoutErr(err error) error {
	return fmt.Errorf("the store did not answer within %s (store_timeout): %w", e.storeTimeout, err)
}
