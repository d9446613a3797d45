package http

import "sync/atomic"

// ReadAheadCount is how many TAXII pages read ahead had outcome (served,
// changed, dropped, evicted, expired).
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

// SetReadAhead turns the TAXII read-ahead on or off (it is on when the
// store can prove a read unchanged), for benchmarks that compare both.
func SetReadAhead(s *Server, on bool) {
	if ra := s.readAhead(); ra != nil {
		ra.off.Store(!on)
	}
}
