package main

import (
	"bufio"
	"bytes"
	"context"
	"io"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/misp"
	"github.com/cyberpact/cyberpact/stix"
)

// sniffSize is how much of an input is looked at to tell MISP JSON from a
// STIX bundle: the first keys are enough.
const sniffSize = 16 << 10

// detectMISP says whether the input is MISP JSON for --format (stix, misp,
// or else auto, which looks at the first keys), returning a reader that
// still yields all of it.
func detectMISP(in io.Reader, format string) (io.Reader, bool, error) {
	switch format {
	case "stix":
		return in, false, nil
	case "misp":
		return in, true, nil
	}
	br := bufio.NewReaderSize(in, sniffSize)
	prefix, _ := br.Peek(sniffSize)
	return br, misp.Sniff(prefix), nil
}

// mispInput reads MISP JSON events and returns them as one STIX bundle to
// import. When no audience was chosen (opts.Audience is zero), the events'
// distribution chooses it: your organisation only keeps them with the
// producer (which --org must name), a sharing group with the hub group of
// the same name, the community levels the default release; events that
// disagree need an explicit --audience.
func mispInput(ctx context.Context, accounts cyberpact.AccountService, in io.Reader, opts cyberpact.ImportOptions) (io.Reader, cyberpact.ImportOptions, int, error) {
	events, err := misp.Decode(in)
	if err != nil {
		return nil, opts, 0, cyberpact.Errorf(cyberpact.EINVALID, "%s", err)
	}
	var buf bytes.Buffer
	hints, err := misp.WriteBundle(&buf, events)
	if err != nil {
		return nil, opts, 0, cyberpact.Errorf(cyberpact.EINVALID, "%s", err)
	}
	if opts.Audience.Kind != 0 {
		return &buf, opts, len(events), nil
	}
	h, ok := misp.CommonAudience(hints)
	if !ok {
		return nil, opts, 0, cyberpact.Errorf(cyberpact.EINVALID, "the MISP events have different distributions; choose one release for all with --audience")
	}
	switch h.Kind() {
	case cyberpact.AudienceOrg:
		if opts.Producer == 0 {
			return nil, opts, 0, cyberpact.Errorf(cyberpact.EINVALID, "the MISP events are for their organisation only (%s): give --org, the organisation they stay with, or --audience", h)
		}
		opts.Audience = cyberpact.Audience{Kind: cyberpact.AudienceOrg}
	case cyberpact.AudienceGroup:
		if h.SharingGroup == nil || h.SharingGroup.Name == "" {
			return nil, opts, 0, cyberpact.Errorf(cyberpact.EINVALID, "the MISP events are for a sharing group that is not named (%s): choose --audience", h)
		}
		g, err := accounts.GroupByName(ctx, h.SharingGroup.Name)
		if err != nil {
			if cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
				return nil, opts, 0, err
			}
			return nil, opts, 0, cyberpact.Errorf(cyberpact.EINVALID, "the MISP events are for sharing group %q, which the hub does not have: create the group or choose --audience", h.SharingGroup.Name)
		}
		opts.Audience = cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g.ID}
	}
	return &buf, opts, len(events), nil
}

// exportMISP writes the objects f selects as MISP JSON events: one per
// report (or grouping) with what it refers to, and one more for the
// objects no report refers to.
func exportMISP(ctx context.Context, db cyberpact.ObjectStore, f cyberpact.ObjectFilter, w io.Writer) error {
	var objs []*stix.Object
	err := db.EachObject(ctx, f, func(o *cyberpact.Object) error {
		p, err := stix.Parse(o.Raw)
		if err != nil {
			return cyberpact.Errorf(cyberpact.EINTERNAL, "stored object %s: %v", o.ID, err)
		}
		objs = append(objs, p)
		return nil
	})
	if err != nil {
		return err
	}
	events, err := misp.FromSTIX(objs)
	if err != nil {
		return err
	}
	if events == nil {
		events = []*misp.Event{}
	}
	return misp.Encode(w, events)
}

// releaseName names an import's audience for its summary line.
func releaseName(a cyberpact.Audience) string {
	if a.Kind == 0 {
		return "all members (TLP:RED to the producer alone)"
	}
	return a.String()
}
