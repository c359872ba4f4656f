package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultStoreTimeout bounds a store read on the request path when
// Options.StoreTimeout is 0.
const DefaultStoreTimeout = 2 * time.Second

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
// is answered within the bound all the same.
func (e *Engine) fill(ctx context.Context, key string, load func(context.Context) (any, error)) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, e.storeTimeout)
	defer cancel()
	fillCtx := context.WithoutCancel(ctx)
	ch := e.fills.DoChan(key, func() (v any, err error) {
		// DoChan runs this on its own goroutine, where a panic would
		// take the process down: turn it into the caller's error.
		defer func() {
			if r := recover(); r != nil {
				v, err = nil, fmt.Errorf("store read panicked: %v", r)
			}
		}()
		fctx, cancel := context.WithTimeout(fillCtx, e.storeTimeout)
		defer cancel()
		v, err = load(fctx)
		if err != nil && errors.Is(err, context.DeadlineExceeded) {
			err = e.timeoutErr(err)
		}
		return v, err
	})
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// The read this caller waited on is as late as the caller
			// (it started no later than its wait): requests arriving
			// from now on start a read of their own instead of joining
			// one that is about to fail. Those already waiting keep it.
			e.fills.Forget(key)
			return nil, e.timeoutErr(ctx.Err())
		}
		return nil, fmt.Errorf("the request ended while waiting for the store: %w", ctx.Err())
	}
}

func (e *Engine) timeoutErr(err error) error {
	return fmt.Errorf("the store did not answer within %s (store_timeout): %w", e.storeTimeout, err)
}
