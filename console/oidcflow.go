package console

import (
	"sync"
	"time"
)

// A sign-in in progress (between /oidc/start and /oidc/callback) is kept
// on the server, keyed by a random id that the browser holds in an
// HttpOnly cookie. Why server-side rather than a sealed cookie: the
// PKCE verifier and the nonce never leave the server, not even
// encrypted; "single use" is exact (the callback takes the flow out of
// the store, so a replayed callback finds nothing) with no key to manage;
// and sessions are in memory already, so a restart that forgets pending
// sign-ins costs nothing more. The cookie binds the flow to the browser
// that started it (a callback URL pasted into another browser fails).
const (
	flowCookie = "gatehouse_console_oidc"
	flowTTL    = 10 * time.Minute
	// maxFlows bounds the memory unauthenticated clients can make the
	// console hold; past it the oldest pending sign-in is dropped.
	maxFlows = 10000
)

// flow is one pending sign-in. Its verifier and nonce are never logged.
type flow struct {
	state, nonce, verifier string
	redirectURL            string // the redirect_uri sent, needed again at the exchange
	created, expires       time.Time
}

type flowStore struct {
	mu   sync.Mutex
	byID map[string]*flow
	max  int
}

func newFlowStore() *flowStore { return &flowStore{byID: map[string]*flow{}, max: maxFlows} }

// add stores f under a new random id and returns the id.
func (st *flowStore) add(f *flow) string {
	id := randomToken()
	now := time.Now()
	f.created, f.expires = now, now.Add(flowTTL)
	st.mu.Lock()
	defer st.mu.Unlock()
	evictExpiredOrOldest(st.byID, st.max, now, func(f *flow) (time.Time, time.Time) { return f.created, f.expires })
	st.byID[id] = f
	return id
}

// take removes and returns the flow (nil when unknown or expired): a
// flow serves one callback at most.
func (st *flowStore) take(id string) *flow {
	st.mu.Lock()
	defer st.mu.Unlock()
	f := st.byID[id]
	delete(st.byID, id)
	if f == nil || time.Now().After(f.expires) {
		return nil
	}
	return f
}

func (st *flowStore) len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.byID)
}
