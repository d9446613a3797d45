package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
)

func init() {
	register(&command{
		name:    "correlate",
		summary: "who else has this value: the objects holding an observable value",
		usage:   "--org ORG [--limit N] VALUE...",
		help: `Lists, for each VALUE (an address, domain, URL, e-mail address, hash, file
name...), the objects of every partner that hold it, as far as the sharing
rule lets the organisation ORG see: SCO values and hashes, and values inside
indicator patterns, normalised so that EVIL.example. and evil.example meet.
One JSON object a line:

  {"value": "evil.example", "kind": "domain", "warning": "...",
   "common": true, "count": 10000, "objects": [{"id": ..., "type": ...}]}

"warning" names the warning list of known-benign or reserved values the
value is on; "common" says the value is held by at least "count" object
versions, past which it is no longer indexed. Exit 0 when answered; 1 when
the store cannot answer; 2 for a usage error.`,
		run: runCorrelate,
	})
}

func runCorrelate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["correlate"])
	data := dataFlag(fs)
	org := fs.String("org", "", "the organisation asking, by name (required): only what it may see is listed")
	limit := fs.Int("limit", 0, "most objects listed per value (default 1000)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *org == "" || len(pos) == 0 {
		return usageError("give --org ORG and at least one VALUE")
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	viewer, err := orgViewer(ctx, db, *org)
	if err != nil {
		return err
	}
	cs, ok := db.(cyberpact.CorrelationStore)
	if !ok {
		return cyberpact.Errorf(cyberpact.ENOTIMPLEMENTED, "this store does not keep correlations")
	}
	enc := json.NewEncoder(e.stdout)
	for _, v := range pos {
		cands := match.ObservableKeys(v)
		if len(cands) == 0 {
			return usageError("an empty VALUE")
		}
		keys := make([]string, len(cands))
		for i, c := range cands {
			keys[i] = c.Key
		}
		c, err := cs.Correlate(ctx, keys, viewer, *limit)
		if err != nil {
			return err
		}
		out := map[string]any{"value": c.Value, "kind": c.Kind}
		if c.Kind == "" {
			out["value"], out["kind"] = cands[0].Key, cands[0].Kind.String()
		}
		if k, ok := match.ParseKind(out["kind"].(string)); ok {
			if w := match.DefaultWarnings().Value(k, out["value"].(string)); w != "" {
				out["warning"] = w
			}
		}
		if c.Common {
			out["common"], out["count"] = true, c.Count
		}
		objs := []map[string]any{}
		for _, o := range c.Objects {
			var n struct{ Name, Value string }
			json.Unmarshal(o.Raw, &n)
			item := map[string]any{"id": o.ID, "type": o.Type, "tlp": o.Release.TLP.String()}
			if name := n.Name + n.Value; name != "" {
				item["name"] = name
			}
			if o.Release.Producer != 0 {
				if p, err := db.OrgByID(ctx, o.Release.Producer); err == nil {
					item["producer"] = p.Name
				}
			}
			objs = append(objs, item)
		}
		out["objects"] = objs
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	return nil
}

// optionalViewer is orgViewer for an --org flag that may be empty: nil, the
// hub operator's own view of the whole store, when it is.
func optionalViewer(ctx context.Context, db store, name string) (*cyberpact.Viewer, error) {
	if name == "" {
		return nil, nil
	}
	return orgViewer(ctx, db, name)
}

// orgViewer returns the sharing-rule viewer of the organisation named
// name: what its members may see.
func orgViewer(ctx context.Context, db store, name string) (*cyberpact.Viewer, error) {
	o, err := db.OrgByName(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("--org %s: %w", name, err)
	}
	groups, err := db.GroupsOf(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	v := cyberpact.OrgViewer(o, groups)
	return &v, nil
}
