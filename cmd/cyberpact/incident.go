package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/incident"
)

// who is the flag pair every incident subcommand takes: the organisation
// it acts as and, optionally, its user.
const incidentWho = "--org NAME [--user NAME] [--data DIR]"

var incidentSubs = []*subcommand{
	{
		name:  "list",
		usage: incidentWho + " [--json]",
		help:  "Lists the incidents the organisation may see, with open tasks, tasks assigned to --user and requests waiting for it.",
		run:   runIncidentList,
	},
	{
		name: "create",
		usage: "NAME " + incidentWho + " [--severity low|medium|high|critical] [--status S] [--sectors S,...]\n" +
			"    [--functions F,...] [--partners ORG,...] [--link ID,...] [--audience all|org|group:NAME] [--tlp LEVEL] [--description TEXT]",
		help: `Opens a joint incident as the organisation (a STIX incident with the OASIS
incident core extension), shared like any object: to --audience (all members
by default) at --tlp (amber by default). Prints its id.`,
		run: runIncidentCreate,
	},
	{
		name:  "show",
		usage: "ID " + incidentWho + " [--json]",
		help:  "Shows an incident as the organisation may see it: tasks, requests, who works on what, the timeline.",
		run:   runIncidentShow,
	},
	{
		name:  "edit",
		usage: "ID --based-on VERSION " + incidentWho + " [--status S] [--severity S] [--description TEXT]",
		help: `Edits an incident: only the organisation that opened it may, based on the
version 'show' gives it; an edit based on any other version is refused
(exit 1) naming the current one.`,
		run: runIncidentEdit,
	},
	{
		name:  "task",
		usage: "INCIDENT TITLE " + incidentWho + " [--assignee USER] [--assignee-org ORG] [--due TIME] [--description TEXT]",
		help:  "Adds a task to an incident. Prints its id and version.",
		run:   runIncidentTask,
	},
	{
		name:  "update",
		usage: "INCIDENT TASK --based-on VERSION " + incidentWho + " [--status S] [--comment TEXT] [--assignee USER]",
		help: `Updates a task, based on the version shown by 'show': an edit based on any
other version is refused (exit 1) naming the current one. Another
organisation than the task's changes its status and comments on it; the
task's own organisation may also reassign it.`,
		run: runIncidentUpdate,
	},
	{
		name:  "note",
		usage: "INCIDENT TEXT " + incidentWho + " [--kind note|event|decision] [--title T] [--task TASK] [--audience A] [--tlp LEVEL]",
		help:  "Adds a note, event or decision to an incident's timeline, shared like the incident unless --audience or --tlp say otherwise.",
		run:   runIncidentNote,
	},
	{
		name:  "request",
		usage: "INCIDENT --kind analysis|takedown|indicators|forensics|other --description TEXT " + incidentWho + " [--to ORG,...] [--due TIME]",
		help:  "Asks partners (--to, by organisation name; everyone on the incident without it) for assistance. Prints the request's id.",
		run:   runIncidentRequest,
	},
	{
		name:  "respond",
		usage: "INCIDENT REQUEST accept|decline " + incidentWho + " [--comment TEXT]",
		help:  "Accepts or declines a request for assistance addressed to the organisation.",
		run:   runIncidentRespond,
	},
}

func init() {
	registerGroup("incident", "work joint incidents: tasks, notes, timeline and requests for assistance",
		"Joint incidents are STIX objects under the sharing rule, federated with peers like any object;\n"+
			"every change is an object of the organisation that makes it (see 'go doc ./incident').\n", incidentSubs)
}

// incidentFlags are the flags every incident subcommand takes.
type incidentFlags struct {
	data, org, user *string
}

func newIncidentFlags(fs *flag.FlagSet) incidentFlags {
	return incidentFlags{data: dataFlag(fs), org: fs.String("org", "", "the organisation acting (required)"),
		user: fs.String("user", "", "the user of --org acting (default: cli)")}
}

// open opens the store and returns the service and the caller.
func (f incidentFlags) open(ctx context.Context, e *env, existing bool) (store, *incident.Service, incident.Caller, error) {
	var c incident.Caller
	if *f.org == "" {
		return nil, nil, c, usageError("--org is required: the organisation acting")
	}
	db, err := e.openStoreFor(ctx, *f.data, existing)
	if err != nil {
		return nil, nil, c, err
	}
	v, err := orgViewer(ctx, db, *f.org)
	if err != nil {
		db.Close()
		return nil, nil, c, err
	}
	c = incident.Caller{Viewer: *v, OrgName: *f.org, CanWrite: true, Actor: cyberpact.Actor{Name: cliActor, Org: v.Org, Via: "cli"}}
	if *f.user != "" {
		u, err := db.UserByName(ctx, *f.user)
		if err != nil {
			db.Close()
			return nil, nil, c, err
		}
		if u.Org != v.Org {
			db.Close()
			return nil, nil, c, usageError("--user %s is not in organisation %s", *f.user, *f.org)
		}
		c.Actor.Name, c.CanWrite = u.Name, u.Role.CanWrite()
	}
	return db, &incident.Service{Store: db, Audit: db}, c, nil
}

// incidentRelease reads --audience and --tlp.
func incidentRelease(ctx context.Context, db store, c incident.Caller, audience, tlp string) (cyberpact.Audience, cyberpact.TLP, error) {
	var aud cyberpact.Audience
	var level cyberpact.TLP
	switch {
	case audience == "":
	case audience == "all":
		aud = cyberpact.Audience{Kind: cyberpact.AudienceAll}
	case audience == "org":
		aud = cyberpact.Audience{Kind: cyberpact.AudienceOrg}
	case strings.HasPrefix(audience, "group:"):
		g, err := db.GroupByName(ctx, strings.TrimPrefix(audience, "group:"))
		if err != nil || !c.Viewer.InGroup(g.ID) {
			return aud, level, usageError("--audience %s: %s is in no sharing group of that name", audience, c.OrgName)
		}
		aud = cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g.ID}
	default:
		return aud, level, usageError("--audience %q is not all, org or group:NAME", audience)
	}
	if tlp != "" {
		var err error
		if level, err = cyberpact.ParseTLP(tlp); err != nil {
			return aud, level, usageError("--tlp: %s", cyberpact.ErrorMessage(err))
		}
	}
	return aud, level, nil
}

func runIncidentList(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	f := newIncidentFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	db, svc, who, err := f.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer db.Close()
	list, _, err := svc.List(ctx, who)
	if err != nil {
		return err
	}
	if *asJSON {
		if list == nil {
			list = []*incident.Summary{}
		}
		return printJSON(e, list)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tSEVERITY\tTLP\tOPEN TASKS\tASSIGNED TO YOU\tREQUESTS TO YOU")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n", s.ID, s.Name, s.Status, s.Severity, s.TLP, s.OpenTasks, s.AssignedToCaller, s.RFAsToCaller)
	}
	return tw.Flush()
}

func runIncidentCreate(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	f := newIncidentFlags(fs)
	severity := fs.String("severity", "", "low, medium (default), high or critical")
	status := fs.String("status", "", "new, open (default), contained, resolved or closed")
	sectors := fs.String("sectors", "", "affected sectors, comma separated")
	functions := fs.String("functions", "", "critical-infrastructure functions affected, comma separated")
	partners := fs.String("partners", "", "partners involved, comma separated")
	links := fs.String("link", "", "ids of objects linked to the incident, comma separated")
	desc := fs.String("description", "", "what happened")
	audience := fs.String("audience", "", "all (default), org or group:NAME")
	tlp := fs.String("tlp", "", "the TLP level (default amber)")
	pos, err := positional(fs, args, 1, "the incident's NAME")
	if err != nil {
		return err
	}
	db, svc, who, err := f.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer db.Close()
	aud, level, err := incidentRelease(ctx, db, who, *audience, *tlp)
	if err != nil {
		return err
	}
	cs, err := svc.Create(ctx, who, incident.NewIncident{Name: pos[0], Description: *desc, Status: *status, Severity: *severity,
		Sectors: splitList(*sectors), Functions: splitList(*functions), Partners: splitList(*partners), Linked: splitList(*links),
		Audience: aud, TLP: level})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, cs.ID)
	return nil
}

func runIncidentShow(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	f := newIncidentFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := positional(fs, args, 1, "the incident's ID")
	if err != nil {
		return err
	}
	db, svc, who, err := f.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer db.Close()
	cs, err := svc.Get(ctx, who, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, cs)
	}
	w := e.stdout
	fmt.Fprintf(w, "%s\n%s\nstatus %s, severity %s, TLP:%s, audience %s, version %s\n", cs.ID, cs.Name, cs.Status, cs.Severity, strings.ToUpper(cs.TLP), cs.Audience, cs.Version)
	if len(cs.Sectors)+len(cs.Functions)+len(cs.Partners) > 0 {
		fmt.Fprintf(w, "sectors: %s; functions: %s; partners: %s\n", strings.Join(cs.Sectors, ", "), strings.Join(cs.Functions, ", "), strings.Join(cs.Partners, ", "))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nTASK\tTITLE\tASSIGNEE\tSTATUS\tDUE\tVERSION")
	for _, t := range cs.Tasks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Title, t.Assignee, t.Status, t.Due, t.Version)
	}
	tw.Flush()
	if len(cs.RFAs) > 0 {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "\nREQUEST\tKIND\tTO\tSTATUS\tBY")
		for _, q := range cs.RFAs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", q.ID, q.Kind, strings.Join(q.To, ","), q.Status, q.By)
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\nWho works on what:")
	for _, x := range cs.Working {
		fmt.Fprintf(w, "  %s: %s\n", x.Who, x.What)
	}
	fmt.Fprintln(w, "\nTimeline:")
	for _, x := range cs.Timeline {
		fmt.Fprintf(w, "  %s  %-11s %s: %s\n", x.At, x.Kind, x.By, x.What)
	}
	return nil
}

func runIncidentTask(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	f := newIncidentFlags(fs)
	assignee := fs.String("assignee", "", "the user the task is assigned to, e.g. analyst@ncsc.example")
	assigneeOrg := fs.String("assignee-org", "", "the assignee's organisation")
	due := fs.String("due", "", "when it is due, RFC 3339")
	desc := fs.String("description", "", "what is to be done")
	pos, err := positional(fs, args, 2, "the INCIDENT and the task's TITLE")
	if err != nil {
		return err
	}
	db, svc, who, err := f.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := svc.AddTask(ctx, who, pos[0], incident.NewTask{Title: pos[1], Assignee: *assignee, AssigneeOrg: *assigneeOrg, Due: *due, Description: *desc})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s version %s\n", t.ID, t.Version)
	return nil
}

func runIncidentUpdate(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	f := newIncidentFlags(fs)
	basedOn := fs.String("based-on", "", "the task's version the edit starts from (required)")
	comment := fs.String("comment", "", "a comment")
	var status, assignee optionalString
	fs.Var(&status, "status", strings.Join(incident.TaskStatuses, ", "))
	fs.Var(&assignee, "assignee", "reassign the task (its organisation only)")
	pos, err := positional(fs, args, 2, "the INCIDENT and the TASK")
	if err != nil {
		return err
	}
	if *basedOn == "" {
		return usageError("--based-on is required: the version 'cyberpact incident show' gives the task")
	}
	db, svc, who, err := f.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := svc.UpdateTask(ctx, who, pos[0], pos[1], incident.TaskEdit{BasedOn: *basedOn, Status: status.p, Assignee: assignee.p, Comment: *comment})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s %s version %s\n", t.ID, t.Status, t.Version)
	return nil
}

// optionalString is a flag that may be left out, unlike one given empty.
type optionalString struct{ p *string }

func (o *optionalString) String() string {
	if o.p == nil {
		return ""
	}
	return *o.p
}

func (o *optionalString) Set(s string) error { o.p = &s; return nil }

func runIncidentNote(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	f := newIncidentFlags(fs)
	kind := fs.String("kind", "note", "note, event or decision")
	title := fs.String("title", "", "a title")
	task := fs.String("task", "", "the task of the incident it is about")
	audience := fs.String("audience", "", "all, org or group:NAME (default: the incident's)")
	tlp := fs.String("tlp", "", "the TLP level (default: the incident's)")
	pos, err := positional(fs, args, 2, "the INCIDENT and the note's TEXT")
	if err != nil {
		return err
	}
	db, svc, who, err := f.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer db.Close()
	aud, level, err := incidentRelease(ctx, db, who, *audience, *tlp)
	if err != nil {
		return err
	}
	n, err := svc.AddNote(ctx, who, pos[0], incident.NewNote{Kind: *kind, Title: *title, Content: pos[1], Task: *task, Audience: aud, TLP: level})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, n.ID)
	return nil
}

func runIncidentRequest(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	f := newIncidentFlags(fs)
	kind := fs.String("kind", "", strings.Join(incident.RFAKinds, ", "))
	desc := fs.String("description", "", "what help is asked for")
	to := fs.String("to", "", "the organisations asked, comma separated (default: everyone on the incident)")
	due := fs.String("due", "", "when it is needed by, RFC 3339")
	pos, err := positional(fs, args, 1, "the INCIDENT")
	if err != nil {
		return err
	}
	db, svc, who, err := f.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer db.Close()
	q, err := svc.RequestAssistance(ctx, who, pos[0], incident.NewRFA{Kind: *kind, Description: *desc, To: splitList(*to), Due: *due})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, q.ID)
	return nil
}

func runIncidentRespond(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	f := newIncidentFlags(fs)
	comment := fs.String("comment", "", "a comment")
	pos, err := positional(fs, args, 3, "the INCIDENT, the REQUEST and accept or decline")
	if err != nil {
		return err
	}
	if pos[2] != "accept" && pos[2] != "decline" {
		return usageError("%q is not accept or decline", pos[2])
	}
	db, svc, who, err := f.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer db.Close()
	q, err := svc.Respond(ctx, who, pos[0], pos[1], pos[2], *comment)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s %s\n", q.ID, q.Status)
	return nil
}

func runIncidentEdit(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	f := newIncidentFlags(fs)
	basedOn := fs.String("based-on", "", "the incident's version the edit starts from (required)")
	var status, severity, desc optionalString
	fs.Var(&status, "status", strings.Join(incident.Statuses, ", "))
	fs.Var(&severity, "severity", strings.Join(incident.Severities, ", "))
	fs.Var(&desc, "description", "what happened")
	pos, err := positional(fs, args, 1, "the incident's ID")
	if err != nil {
		return err
	}
	if *basedOn == "" {
		return usageError("--based-on is required: the version 'cyberpact incident show' gives the incident")
	}
	db, svc, who, err := f.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer db.Close()
	cs, err := svc.Update(ctx, who, pos[0], incident.IncidentEdit{BasedOn: *basedOn, Status: status.p, Severity: severity.p, Description: desc.p})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s %s version %s\n", cs.ID, cs.Status, cs.Version)
	return nil
}
