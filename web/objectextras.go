package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
	"github.com/cyberpact/cyberpact/stix"
)

// holderRow is one value the object holds and the other objects, among
// those the user may see, that hold it too.
type holderRow struct {
	Kind, Value string
	Warning     string
	Common      bool
	Count       int64
	Others      []objectRow
	Producers   []string // their producers' names, without repeats
}

// maxCorrelated caps the values of one object looked up, and the others
// listed for each.
const (
	maxCorrelatedValues = 20
	maxCorrelatedOthers = 20
)

// whoElse answers "who else has this" for the object o: for each
// observable value it holds (its SCO values, its pattern's comparisons),
// the other objects the user may see that hold it, through the store's
// correlation read with the user's viewer. It returns the rows and the
// objects shown, for the page's release.
func (h *Handler) whoElse(ctx context.Context, c *call, o *cyberpact.Object) ([]holderRow, []*cyberpact.Object, error) {
	cs, ok := h.Store.(cyberpact.CorrelationStore)
	if !ok {
		return nil, nil, nil
	}
	so, err := stix.Parse(o.Raw)
	if err != nil {
		return nil, nil, nil // stored objects parse; a page without this section otherwise
	}
	var rows []holderRow
	var shown []*cyberpact.Object
	seen := map[string]bool{}
	names := map[int64]string{}
	for _, ob := range so.Stored().Observables {
		key, kind, ok := match.ObservableKey(ob.Kind, ob.Value)
		if !ok || seen[key] {
			continue
		}
		seen[key] = true
		if len(seen) > maxCorrelatedValues {
			break
		}
		res, err := cs.Correlate(ctx, []string{key}, c.viewer(), maxCorrelatedOthers+1)
		if err != nil {
			return nil, nil, err
		}
		row := holderRow{Kind: kind.String(), Value: key, Common: res.Common, Count: res.Count, Warning: match.DefaultWarnings().Value(kind, key)}
		for _, other := range res.Objects {
			if other.ID == o.ID || len(row.Others) == maxCorrelatedOthers {
				continue
			}
			row.Others = append(row.Others, rowOf(other))
			shown = append(shown, other)
			name, ok := names[other.Release.Producer]
			if !ok {
				name = "the hub"
				if other.Release.Producer != 0 {
					org, err := h.Store.OrgByID(ctx, other.Release.Producer)
					switch {
					case err == nil:
						name = org.Name
					case cyberpact.ErrorCode(err) == cyberpact.ENOTFOUND:
						name = fmt.Sprintf("organisation %d", other.Release.Producer)
					default:
						return nil, nil, err
					}
				}
				names[other.Release.Producer] = name
			}
			if !slices.Contains(row.Producers, name) {
				row.Producers = append(row.Producers, name)
			}
		}
		if len(row.Others) > 0 {
			rows = append(rows, row)
		}
	}
	return rows, shown, nil
}

// releaseTrail is the audit trail of an object's releases, for its
// producer only: nil for anyone else.
func (h *Handler) releaseTrail(r *http.Request, c *call, o *cyberpact.Object) ([]auditRow, error) {
	p := c.principal()
	if o.Release.Producer == 0 || o.Release.Producer != p.Org.ID {
		return nil, nil
	}
	ctx := r.Context()
	es, err := h.Store.AuditEntries(ctx, cyberpact.AuditFilter{Object: o.ID, Action: cyberpact.AuditRelease, Limit: 100})
	if err != nil {
		return nil, err
	}
	out := []auditRow{}
	names := map[int64]string{}
	for _, e := range es {
		n, ok := names[e.Recipient]
		if !ok {
			n = fmt.Sprintf("organisation %d", e.Recipient)
			if org, err := h.Store.OrgByID(ctx, e.Recipient); err == nil {
				n = org.Name
			} else if cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
				return nil, err
			}
			names[e.Recipient] = n
		}
		out = append(out, auditRow{Time: fmtTime(e.Time), Actor: e.Actor, Recipient: n, Via: e.Via})
	}
	return out, nil
}
