package gateway

import (
	"sync"
	"time"
)

// batcher takes values on the request path without ever blocking and hands
// them, deduplicated by key (the latest value wins), to write in batches
// from one goroutine: bookkeeping writes (users seen, API keys used) cost a
// request a channel send, and the store one fsync per batch.
type batcher[V any] struct {
	queue chan V
	key   func(V) string
	write func(map[string]V)
	stop  chan struct{}
	done  sync.WaitGroup
	once  sync.Once
}

const (
	batchQueueLen = 4096
	batchMax      = 256
	batchDelay    = 200 * time.Millisecond
)

func newBatcher[V any](key func(V) string, write func(map[string]V)) *batcher[V] {
	b := &batcher[V]{
		queue: make(chan V, batchQueueLen),
		key:   key,
		write: write,
		stop:  make(chan struct{}),
	}
	b.done.Add(1)
	go b.run()
	return b
}

// offer queues v. It reports false, dropping v, when the queue is full.
func (b *batcher[V]) offer(v V) bool {
	select {
	case b.queue <- v:
		return true
	default:
		return false
	}
}

// close writes what is queued and stops the goroutine.
func (b *batcher[V]) close() {
	b.once.Do(func() {
		close(b.stop)
		b.done.Wait()
	})
}

func (b *batcher[V]) run() {
	defer b.done.Done()
	batch := make(map[string]V, batchMax)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case v := <-b.queue:
			if len(batch) == 0 {
				timer.Reset(batchDelay)
			}
			batch[b.key(v)] = v
			if len(batch) < batchMax {
				continue
			}
		case <-timer.C:
		case <-b.stop:
			b.drain(batch)
			b.flush(batch)
			return
		}
		b.flush(batch)
		timer.Stop()
	}
}

func (b *batcher[V]) drain(batch map[string]V) {
	for {
		select {
		case v := <-b.queue:
			batch[b.key(v)] = v
		default:
			return
		}
	}
}

func (b *batcher[V]) flush(batch map[string]V) {
	if len(batch) > 0 {
		b.write(batch)
		clear(batch)
	}
}
