package gateway

// WaitCaches blocks until buffered cache fills are applied, so a test can
// measure a warm decision.
func (e *Engine) WaitCaches() {
	e.cache.Wait()
	e.keys.Wait()
}

// UnknownKeyEntries returns how many unknown API key ids e remembers, and
// the most it ever remembers.
func UnknownKeyEntries(e *Engine) (n, capacity int) {
	return e.unknownKeys.Len(), e.unknownKeys.Cap()
}
