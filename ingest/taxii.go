package ingest

import (
	"context"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/taxii"
)

// taxiiPage is how many objects a TAXII source is asked for at once.
const taxiiPage = 1000

// runTAXII reads a TAXII 2.1 collection page by page (every version)
// from where the last run ended: its added_after is the server's
// X-TAXII-Date-Added-Last of the last page committed (SourceState.Cursor),
// moved after each page's import.
func (r *Runner) runTAXII(ctx context.Context, src *cyberpact.Source, st *cyberpact.SourceState, res *Result) error {
	c := &taxii.Client{HTTP: r.HTTP, User: src.User, Key: src.Key, UserAgent: "cyberpact-feeds", MaxResponseBytes: r.maxBody()}
	f := taxii.Filter{AddedAfter: st.Cursor, Limit: taxiiPage, Versions: []string{"all"}}
	for {
		env, err := c.Objects(ctx, src.URL, src.Collection, f)
		if err != nil {
			return err
		}
		ir, err := r.importObjects(ctx, src, env.Objects, "TAXII collection "+src.Collection)
		res.add(ir, "collection "+src.Collection)
		if err != nil {
			return err
		}
		if env.DateAddedLast != "" {
			st.Cursor = env.DateAddedLast
		}
		switch {
		case !env.More:
			return nil
		case env.Next != "":
			f.Next = env.Next
		case env.DateAddedLast != "" && env.DateAddedLast != f.AddedAfter:
			f.AddedAfter = env.DateAddedLast // a server that pages by date alone
		default:
			return nil
		}
	}
}
