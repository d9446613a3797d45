package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/demo"
	"github.com/cyberpact/cyberpact/incident"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/uuid"
)

// demoGroups are the sharing groups of the demonstration partnership, by
// the countries and sectors of their members (see demo.Partners).
var demoGroups = []struct {
	name    string
	members func(p *demo.Partner) bool
}{
	{"US-UK Joint Cyber Cell", func(p *demo.Partner) bool { return isGov(p) && (p.Country == "US" || p.Country == "GB") }},
	{"US-Japan Defence Data Sharing", func(p *demo.Partner) bool {
		return p.Country == "US" && isGov(p) || p.Country == "JP" && hasSector(p, "defense")
	}},
	{"UK Cyber Security Information Sharing Partnership", func(p *demo.Partner) bool { return p.Country == "GB" }},
	{"Financial Sector Exercise Group", func(p *demo.Partner) bool { return hasSector(p, "financial-services") }},
	{"Grid Operators Circle", func(p *demo.Partner) bool { return hasSector(p, "energy") }},
}

func isGov(p *demo.Partner) bool { return hasSector(p, "government") }

func hasSector(p *demo.Partner, s string) bool {
	for _, x := range p.Sectors {
		if x == s {
			return true
		}
	}
	return false
}

// orgSector maps the demo's STIX industry sectors onto the hub's fixed list.
func orgSector(p *demo.Partner) string {
	for _, s := range p.Sectors {
		switch s {
		case "defense":
			return "defence"
		case "financial-services":
			return "finance"
		case "utilities", "energy":
			return "energy"
		case "government":
			return "government"
		}
	}
	return "other"
}

// seedDemo fills an empty data directory with the demonstration
// partnership: an organisation per partner (and one for the hub), the
// sharing groups, a user with an API key per organisation (printed once),
// and the partners' intelligence, each object released by the partner that
// created it to the audience its TLP level allows (all members up to AMBER;
// the partner's first group for AMBER+STRICT and RED), each import
// recorded in the audit log as a write by "demo". A data directory that
// already holds anything is left alone.
func seedDemo(ctx context.Context, e *env, db store, now time.Time) error {
	stats, err := db.Stats(ctx, nil)
	if err != nil {
		return err
	}
	orgs, err := db.Orgs(ctx)
	if err != nil {
		return err
	}
	if len(stats) > 0 || len(orgs) > 0 {
		fmt.Fprintln(e.stdout, "demo: the data directory already holds data; not seeding")
		return nil
	}
	const actor = "demo"
	orgOf := map[string]*cyberpact.Org{} // by identity id
	type account struct {
		user, key string
		org       *cyberpact.Org
		groups    []string
	}
	var accounts []account
	for _, p := range append([]*demo.Partner{demo.Hub}, demo.Partners...) {
		o := &cyberpact.Org{Name: p.Name, Nation: p.Country, Sector: orgSector(p)}
		if p == demo.Hub {
			o.Nation = "GB"
		}
		if err := db.CreateOrg(ctx, o, actor); err != nil {
			return fmt.Errorf("demo organisation %s: %w", p.Name, err)
		}
		orgOf[p.ID] = o
	}
	groupOf := map[int64]*cyberpact.Group{} // an org's first group
	groupNames := map[int64][]string{}
	for _, g := range demoGroups {
		grp := &cyberpact.Group{Name: g.name}
		for _, p := range demo.Partners {
			if g.members(p) {
				grp.Orgs = append(grp.Orgs, orgOf[p.ID].ID)
			}
		}
		if err := db.CreateGroup(ctx, grp, actor); err != nil {
			return fmt.Errorf("demo group %s: %w", g.name, err)
		}
		for _, id := range grp.Orgs {
			if groupOf[id] == nil {
				groupOf[id] = grp
			}
			groupNames[id] = append(groupNames[id], g.name)
		}
	}
	for _, p := range append([]*demo.Partner{demo.Hub}, demo.Partners...) {
		o := orgOf[p.ID]
		role := cyberpact.RoleAnalyst
		name := "analyst@" + strings.SplitN(p.Contact, "@", 2)[1]
		if p == demo.Hub {
			role, name = cyberpact.RoleAdmin, "admin@"+strings.SplitN(p.Contact, "@", 2)[1]
		}
		u := &cyberpact.User{Name: name, Org: o.ID, Role: role}
		if err := db.CreateUser(ctx, u, actor); err != nil {
			return fmt.Errorf("demo user %s: %w", name, err)
		}
		key, _, err := db.CreateKey(ctx, u.ID, time.Time{}, actor)
		if err != nil {
			return err
		}
		accounts = append(accounts, account{user: name, key: key, org: o, groups: groupNames[o.ID]})
	}

	bundle, err := demo.Bundle(1, now)
	if err != nil {
		return err
	}
	// Split the objects by release: producer and audience.
	type release struct {
		producer int64
		audience cyberpact.Audience
	}
	var order []release
	slices := map[release][]json.RawMessage{}
	r := stix.NewReader(bytes.NewReader(bundle))
	for {
		it, err := r.Next()
		if err != nil {
			break
		}
		var head struct {
			CreatedBy string   `json:"created_by_ref"`
			Markings  []string `json:"object_marking_refs"`
		}
		if err := json.Unmarshal(it.Raw, &head); err != nil {
			return err
		}
		o := orgOf[head.CreatedBy]
		if o == nil {
			o = orgOf[demo.Hub.ID]
		}
		rel := release{producer: o.ID, audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}}
		if tlp := stix.TLPOf(head.Markings); tlp >= cyberpact.TLPAmberStrict {
			if g := groupOf[o.ID]; g != nil {
				rel.audience = cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g.ID}
			} else {
				rel.audience = cyberpact.Audience{Kind: cyberpact.AudienceOrg}
			}
		}
		if _, ok := slices[rel]; !ok {
			order = append(order, rel)
		}
		slices[rel] = append(slices[rel], it.Raw)
	}
	added := 0
	for _, rel := range order {
		part, err := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": slices[rel]})
		if err != nil {
			return err
		}
		dec := stix.NewDecoder(bytes.NewReader(part))
		who := cyberpact.Actor{Name: actor, Org: rel.producer, Via: "demo"}
		res, err := cyberpact.AuditedImport(ctx, db, db, who, dec.Next, cyberpact.ImportOptions{Producer: rel.producer, Audience: rel.audience}, "demonstration seed")
		dec.Close()
		if err != nil {
			return err
		}
		if len(res.Rejected) > 0 {
			return fmt.Errorf("demo data was refused (a bug): %v", cyberpact.Rejections(res.Rejected))
		}
		added += res.Added
	}
	userOf := map[int64]string{}
	for _, a := range accounts {
		userOf[a.org.ID] = a.user
	}
	n, err := seedDemoIncident(ctx, db, orgOf, userOf, now)
	if err != nil {
		return err
	}
	added += n
	fmt.Fprintf(e.stdout, "demo: seeded %d organisations, %d sharing groups and %d objects of a demonstration partnership\n", len(orgOf), len(demoGroups), added)
	fmt.Fprintln(e.stdout, "demo: users and their API keys (shown only now; use as 'Authorization: Bearer KEY', or HTTP Basic with the user name):")
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, a := range accounts {
		fmt.Fprintf(tw, "  %s\t%s\t%s (%s)\t%s\n", a.user, a.key, a.org.Name, a.org.Nation, strings.Join(a.groups, ", "))
	}
	return tw.Flush()
}

// seedDemoIncident opens the demonstration's joint incident, through the
// incident service as its analysts would: the US agency opens it for the
// US-UK Joint Cyber Cell (TLP:AMBER), assigns a task to the UK centre's
// analyst, notes a decision, and asks the UK centre for analysis, each
// write recorded in the audit log as the seed's ("demo"), as the rest of
// the seed is. It returns the number of objects stored.
func seedDemoIncident(ctx context.Context, db store, orgOf map[string]*cyberpact.Org, userOf map[int64]string, now time.Time) (int, error) {
	var us, uk *cyberpact.Org
	for _, p := range demo.Partners {
		if isGov(p) && p.Country == "US" && us == nil {
			us = orgOf[p.ID]
		}
		if isGov(p) && p.Country == "GB" && uk == nil {
			uk = orgOf[p.ID]
		}
	}
	cell, err := db.GroupByName(ctx, demoGroups[0].name)
	if err != nil || us == nil || uk == nil {
		return 0, fmt.Errorf("demo incident: the joint cell and its partners: %v", err)
	}
	v, err := orgViewer(ctx, db, us.Name)
	if err != nil {
		return 0, err
	}
	who := incident.Caller{Viewer: *v, OrgName: us.Name, CanWrite: true, Actor: cyberpact.Actor{Name: "demo", Org: us.ID, Via: "demo"}}
	svc := &incident.Service{Store: db, Audit: db, Now: func() time.Time { return now }}
	aud := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: cell.ID}
	cs, err := svc.Create(ctx, who, incident.NewIncident{Name: "Intrusion at a transatlantic settlement provider",
		Description: "Credential phishing against payment operations staff, followed by a loader beaconing to a VPS; both partners see the same infrastructure.",
		Status:      "open", Severity: "high", Sectors: []string{"financial-services"}, Functions: []string{"payment settlement"},
		Partners: []string{us.Name, uk.Name}, Audience: aud, TLP: cyberpact.TLPAmber})
	if err != nil {
		return 0, fmt.Errorf("demo incident: %w", err)
	}
	if _, err := svc.AddTask(ctx, who, cs.ID, incident.NewTask{Title: "Trace the loader's VPS in UK hosting",
		Description: "Identify the hosting provider and request preservation.", Assignee: userOf[uk.ID], AssigneeOrg: uk.Name,
		Due: now.Add(48 * time.Hour).UTC().Format(time.RFC3339)}); err != nil {
		return 0, fmt.Errorf("demo incident task: %w", err)
	}
	if _, err := svc.AddNote(ctx, who, cs.ID, incident.NewNote{Kind: "decision", Title: "Block at the border",
		Content: "Both partners block the loader's infrastructure at their borders for 30 days.", Audience: aud, TLP: cyberpact.TLPAmber}); err != nil {
		return 0, fmt.Errorf("demo incident note: %w", err)
	}
	if _, err := svc.RequestAssistance(ctx, who, cs.ID, incident.NewRFA{Kind: "analysis", To: []string{uk.Name},
		Description: "Reverse the loader sample your sensors captured and share its configuration."}); err != nil {
		return 0, fmt.Errorf("demo incident request: %w", err)
	}
	return 4, nil
}
