package pgstore

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Reconnect backoff of the listener: short, because a notification missed
// while disconnected only costs latency until the next wake-up, and a
// wake-up comes with every reconnect.
const (
	listenBackoffMin = 20 * time.Millisecond
	listenBackoffMax = time.Second
)

// Subscribe implements the contract's Store.Subscribe: the channel
// (capacity 1, sent without blocking) receives a value after each commit
// of this value, after each notification of any process's commit, and
// after the listener (re)connects, since notifications sent while it was
// disconnected are lost. A wake-up is a hint: read Changes.
func (s *Store) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.subsMu.Lock()
	s.subs[ch] = struct{}{}
	s.subsMu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.subsMu.Lock()
			delete(s.subs, ch)
			s.subsMu.Unlock()
		})
	}
}

// wake sends to every subscriber without blocking.
func (s *Store) wake() {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// ListenerStats are the listener's counters, for metrics.
type ListenerStats struct {
	// Up: the listener is connected and listening.
	Up bool
	// Reconnects counts the connections lost (or never made) and retried.
	Reconnects uint64
}

// ListenerStats returns the listener's counters.
func (s *Store) ListenerStats() ListenerStats {
	return ListenerStats{Up: s.listener.up.Load(), Reconnects: s.listener.reconnects.Load()}
}

// listener is the one connection per Store that LISTENs: its own
// pgx.Conn, never from the pool (a pooled connection is reset and reused)
// and never in a transaction (a listener in a transaction hears nothing
// until it ends). It needs a session connection: behind PgBouncer in
// transaction mode LISTEN does not work (README).
type listener struct {
	s          *Store
	cfg        *pgx.ConnConfig
	cancel     context.CancelFunc
	done       chan struct{}
	up         atomic.Bool
	reconnects atomic.Uint64
}

func startListener(s *Store, cfg *pgx.ConnConfig) *listener {
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{s: s, cfg: cfg, cancel: cancel, done: make(chan struct{})}
	go l.loop(ctx)
	return l
}

func (l *listener) stop() {
	l.cancel()
	<-l.done
}

func (l *listener) loop(ctx context.Context) {
	defer close(l.done)
	wait := listenBackoffMin
	for ctx.Err() == nil {
		if l.session(ctx) {
			wait = listenBackoffMin // it was up: retry at once-ish
		}
		if ctx.Err() != nil {
			return
		}
		l.reconnects.Add(1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, listenBackoffMax)
	}
}

// session connects, LISTENs, wakes the subscribers (anything may have
// been missed before), and then wakes them on every notification until
// the connection fails or ctx ends. It reports whether it got to listen.
func (l *listener) session(ctx context.Context) bool {
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(connectCtx, l.cfg)
	cancel()
	if err != nil {
		return false
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{notifyChannel}.Sanitize()); err != nil {
		return false
	}
	// Wake first, then report up: whoever waits for Up has had the
	// reconnect's wake-up already.
	l.s.wake()
	l.up.Store(true)
	defer l.up.Store(false)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true
		}
		// The payload is the committed revision: this value has seen it.
		if rev, err := strconv.ParseUint(n.Payload, 10, 64); err == nil {
			l.s.seeRevision(rev)
		}
		l.s.wake()
	}
}
