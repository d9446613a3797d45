package web

import (
	"crypto/rand"
	"fmt"
	"net/http"
)

// maxExport caps the objects of one exported result: a bundle holds the
// first maxExport of a larger one (the explorer says to narrow it).
const maxExport = 10000

// exportSearch answers GET /search/export with the explorer's query and
// filters as a STIX 2.1 bundle of every object of the result (its latest
// version the user may see), read page by page as the user and each page
// released and audited as the explorer's pages are. A bad query is an
// error page (400), not an empty bundle.
func (h *Handler) exportSearch(w http.ResponseWriter, r *http.Request, c *call) error {
	_, f, err := h.searchQuery(r, c)
	if err != nil {
		return err
	}
	f.Limit = 1000
	ctx := r.Context()
	var uuid [16]byte
	rand.Read(uuid[:])
	uuid[6] = uuid[6]&0x0f | 0x40
	uuid[8] = uuid[8]&0x3f | 0x80
	id := fmt.Sprintf("bundle--%x-%x-%x-%x-%x", uuid[0:4], uuid[4:6], uuid[6:8], uuid[8:10], uuid[10:16])
	// The first page is read before anything is written, so that a
	// failure is still an error page.
	page, err := h.Store.FindObjects(ctx, f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/stix+json;version=2.1")
	w.Header().Set("Content-Disposition", `attachment; filename="cyberpact-search.json"`)
	fmt.Fprintf(w, `{"type":"bundle","id":"%s","objects":[`, id)
	n := 0
	for {
		if err := h.auditRelease(r, c, page.Objects); err != nil {
			h.Logger.Error("export: audit failed, bundle cut short", "err", err)
			return nil // the bundle stays unterminated: no client takes it for whole
		}
		for _, o := range page.Objects {
			if n > 0 {
				w.Write([]byte(","))
			}
			w.Write(o.Raw)
			n++
		}
		if !page.More || n >= maxExport {
			break
		}
		f.After = page.Next
		if page, err = h.Store.FindObjects(ctx, f); err != nil {
			h.Logger.Error("export: reading failed, bundle cut short", "err", err)
			return nil
		}
		if n+len(page.Objects) > maxExport {
			page.Objects = page.Objects[:maxExport-n]
		}
	}
	w.Write([]byte("]}\n"))
	return nil
}
