package gateway

import (
	"crypto/rand"
	"encoding/hex"
	randv2 "math/rand/v2"
)

// Decision id headers (README "Why was I denied?"): on every response the
// gateway writes itself, and on every request it lets through.
const (
	HeaderDecisionID         = "Gatehouse-Decision-Id"
	HeaderUpstreamDecisionID = "X-Gatehouse-Decision-Id"
)

// DecisionIDLen is the length of every decision id: an 8-hex-digit
// per-process prefix and 16 hex digits drawn at random per decision.
const DecisionIDLen = 24

// DecisionID names one decision. It is a number until it is shown, so
// deciding a request allocates nothing: String runs only where a header or
// a log line needs the text.
type DecisionID uint64

// processPrefix tells the decisions of two gateway processes apart
// (several replicas, restarts) in merged logs.
var processPrefix = func() [8]byte {
	var raw [4]byte
	if _, err := rand.Read(raw[:]); err != nil {
		panic("gateway: no randomness for the decision id prefix: " + err.Error())
	}
	var p [8]byte
	hex.Encode(p[:], raw[:])
	return p
}()

// newDecisionID draws an id. Random rather than a counter: ids seen by a
// client tell nothing about how many requests others made. math/rand/v2's
// global source is a per-thread ChaCha8: no lock, no allocation.
func newDecisionID() DecisionID {
	for {
		if v := randv2.Uint64(); v != 0 {
			return DecisionID(v) // 0 means "no decision"
		}
	}
}

// String returns the DecisionIDLen-byte text of id, "" for the zero id.
func (id DecisionID) String() string {
	if id == 0 {
		return ""
	}
	const digits = "0123456789abcdef"
	var b [DecisionIDLen]byte
	copy(b[:], processPrefix[:])
	v := uint64(id)
	for i := DecisionIDLen - 1; i >= len(processPrefix); i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b[:])
}
