package web

import (
	"net/http"

	"github.com/cyberpact/cyberpact"
)

// The feeds page: the external sources the hub ingests on a schedule
// (cyberpact.Source) and where each stands, under the API's rule
// (cyberpact.MaySeeSource): hub admins see every source, anyone else those
// its own organisation produces. Keys are never shown.

func (h *Handler) registerSources() {
	h.get("GET /sources", signedIn, h.sources)
}

type sourceRow struct {
	Name, Kind, URL, Audience, Interval string
	LastRun, LastSuccess, Next          string
	Failing                             bool
	Failures                            int
	Runs                                int64
	LastError                           string
	LastAdded, LastPresent, LastRefused int
	Added, Present, Refused             int64
	Rejections                          []string
}

func (h *Handler) sources(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	var rows []sourceRow
	if ss, ok := h.Store.(cyberpact.SourceStore); ok {
		srcs, err := ss.Sources(ctx)
		if err != nil {
			return err
		}
		for _, src := range srcs {
			if !cyberpact.MaySeeSource(c.principal(), src) {
				continue
			}
			st, err := cyberpact.StatusOfSource(ctx, ss, src)
			if err != nil {
				return err
			}
			next := "due now"
			if !st.Next.IsZero() {
				next = fmtTime(st.Next)
			}
			s := st.State
			rows = append(rows, sourceRow{Name: src.Name, Kind: string(src.Kind), URL: src.URL, Audience: src.Audience.String(), Interval: src.Interval.String(),
				LastRun: fmtTime(s.LastRun), LastSuccess: fmtTime(s.LastSuccess), Next: next,
				Failing: s.Failures > 0, Failures: s.Failures, Runs: s.Runs, LastError: s.LastError,
				LastAdded: s.LastAdded, LastPresent: s.LastPresent, LastRefused: s.LastRejected,
				Added: s.Added, Present: s.Present, Refused: s.Rejected, Rejections: s.Rejections})
		}
	}
	h.render(w, r, http.StatusOK, "sources", c, struct{ Sources []sourceRow }{rows})
	return nil
}
