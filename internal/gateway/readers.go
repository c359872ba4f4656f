package gateway

import (
	"sync/atomic"
	"time"
)

// readerIdle is how long a reader goroutine waits for the next store read
// before it exits.
const readerIdle = 10 * time.Second

// maxIdleReaders bounds the readers kept waiting: after a burst of
// concurrent misses, the readers beyond it exit as soon as they finish,
// rather than each keeping its grown stack for readerIdle.
const maxIdleReaders = 64

// readers runs cache-miss store reads on goroutines that outlive one read.
//
// A miss must not read on the request's own goroutine: a read that hangs
// (bbolt waiting on a remap or a page the disk does not return, a network
// backend that does not answer) would hold the request past the store
// timeout, where it must get its 503. Starting a goroutine per miss did
// that, but cost more than the reads themselves: each new goroutine grows
// its stack through bbolt's and the decoders' frames again, and waking a
// thread for it is a futex round trip (the miss benchmark: 54 µs with a
// goroutine per read, 31 µs read inline). A reader that is already
// running, with its stack grown, takes the next read over an unbuffered
// channel instead; a new one starts only when every reader is busy, so a
// hung store costs one goroutine per stuck read, as before, and a burst
// of misses never waits for a free reader.
type readers struct {
	// next hands a read to an idle reader: unbuffered, so a send succeeds
	// only when one is waiting for it.
	next chan func()
	// idle counts the readers waiting on next.
	idle atomic.Int32
}

func newReaders() *readers { return &readers{next: make(chan func())} }

// run runs read on an idle reader, or a new one when none is idle.
func (rs *readers) run(read func()) {
	select {
	case rs.next <- read:
	default:
		go rs.serve(read)
	}
}

// serve runs read, then the reads handed to it, until it has been idle for
// readerIdle or maxIdleReaders others are idle already.
func (rs *readers) serve(read func()) {
	idle := time.NewTimer(readerIdle)
	defer idle.Stop()
	for {
		read()
		if rs.idle.Add(1) > maxIdleReaders {
			rs.idle.Add(-1)
			return
		}
		idle.Reset(readerIdle)
		select {
		case read = <-rs.next:
			rs.idle.Add(-1)
		case <-idle.C:
			rs.idle.Add(-1)
			return
		}
	}
}
