package authz

import (
	"iter"
	"math/bits"
)

// bitset is a mutable bitset indexed by PermID. It is only mutated while a
// Set is being built; a Set never exposes it.
type bitset []uint64

func newBits(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(id PermID) { b[id/64] |= 1 << (id % 64) }

func (b bitset) clear(id PermID) { b[id/64] &^= 1 << (id % 64) }

func (b bitset) has(id PermID) bool {
	w := uint64(id) / 64
	return w < uint64(len(b)) && b[w]&(1<<(id%64)) != 0
}

// or adds o to b; o must not be longer than b.
func (b bitset) or(o bitset) {
	for i, w := range o {
		b[i] |= w
	}
}

// andNot removes o from b.
func (b bitset) andNot(o bitset) {
	for i := range min(len(b), len(o)) {
		b[i] &^= o[i]
	}
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// ids yields the set IDs in increasing order.
func (b bitset) ids() iter.Seq[PermID] {
	return func(yield func(PermID) bool) {
		for i, w := range b {
			for w != 0 {
				id := PermID(i*64 + bits.TrailingZeros64(w))
				if !yield(id) {
					return
				}
				w &= w - 1
			}
		}
	}
}
