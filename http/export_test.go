package http

import "sync/atomic"

// ReadAheadCount is how many TAXII pages read ahead had outcome (served,
// changed, dropped, expired).
func ReadAheadCount(s *Server, outcome string) int {
	ra := s.readAhead()
	if ra == nil {
		return 0
	}
	n, ok := ra.counts.Load(outcome)
	if !ok {
		return 0
	}
	return int(n.(*atomic.Int64).Load())
}

// WaitReadAhead waits until no page is being read ahead.
func WaitReadAhead(s *Server) {
	if ra := s.readAhead(); ra != nil {
		ra.wg.Wait()
	}
}
