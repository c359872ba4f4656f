package gateway

// WaitCaches blocks until buffered cache fills are applied, so a test can
// measure a warm decision.
func (e *Engine) WaitCaches() {
	e.cache.Wait()
	e.keys.Wait()
}
