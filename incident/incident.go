// Package incident is joint incident response on the hub: incidents,
// their tasks, timeline, notes and requests for assistance (RFAs), worked
// on together by partners on one hub or on several federated hubs.
//
// Everything is a STIX 2.1 object, stored, versioned, shared and
// federated like any other, under the one sharing rule (cyberpact.MaySee,
// audiences, TLP): there is no table of incidents and no side door.
//
//   - An incident is a STIX `incident` with the OASIS incident core
//     extension (CoreExtension: investigation_status, determination,
//     criticality) and its case data as custom properties
//     (x_cyberpact_status, x_cyberpact_severity, x_cyberpact_sectors,
//     x_cyberpact_functions, x_cyberpact_partners, x_cyberpact_linked_refs
//     for the intelligence linked to it).
//   - A task is an x-cyberpact-task (incident_ref, name, assignee,
//     assignee_org, status, due); an update of it by an organisation that
//     does not own it is an x-cyberpact-task-update (task_ref, status,
//     comment).
//   - Notes, events and decisions of the timeline are STIX `note` objects
//     whose object_refs name the incident (x_cyberpact_kind: note, event or
//     decision).
//   - A request for assistance is an x-cyberpact-rfa (incident_ref, addressed_to,
//     kind, description); the answer to it an x-cyberpact-rfa-response
//     (rfa_ref, decision accepted or declined).
//
// Every contribution carries incident_ref (notes: object_refs), the author
// (user and organisation names, which mean the same on every hub) and is
// released, unless the caller says otherwise, like the incident as the
// caller's hub holds it: the same audience and TLP. A TLP:RED note shared
// with a group therefore stays with that group on every path, and never
// leaves its hub (cyberpact.MayForward).
//
// # Ownership and the merge rule
//
// Nobody writes a version of an object another organisation produced
// (cyberpact.Admit). The organisation that created a task edits it by
// adding versions of it; any other organisation that may see the task
// (an assignee in a partner organisation, on this hub or another) adds
// task-update objects of its own that name it. A task's state is derived
// from both, merged by version:
//
//  1. Its contributions are every version of the task and every update of
//     it the reader may see. Each has a version: its modified timestamp.
//  2. They are ordered by version, then by object id (then by nothing
//     else: the order is the same on every hub that holds the same
//     contributions).
//  3. The state is the first version's fields, then each contribution's
//     changes applied in that order: an update sets the status it names;
//     a later version of the task sets the fields it lists as changed
//     (changed_fields), and leaves the rest of its snapshot unapplied, so
//     that the state its author saw never overwrites a concurrent update.
//     The task's version is that of the last contribution.
//  4. Every edit names the version it was based on (based_on). An edit
//     based on anything but the task's current version, as the hub that
//     receives it sees it, is refused (ECONFLICT, 409) naming the current
//     version: nothing is silently overwritten. Two edits made at the same
//     time on two hubs, each based on the version its hub had, are both
//     accepted there and both arrive by federation: both stay in the
//     task's history, the one ordered second is marked concurrent (its
//     based_on is not the version before it) and the state is the one
//     rule 3 gives, the same on both hubs.
//
// An incident itself is edited only by its producer, with new versions of
// it, under the same based_on rule.
package incident

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/uuid"
)

// The object types and the extension of joint incidents.
const (
	TypeIncident    = "incident"
	TypeNote        = "note"
	TypeTask        = cyberpact.IncidentTaskType
	TypeTaskUpdate  = "x-cyberpact-task-update"
	TypeRFA         = cyberpact.IncidentRFAType
	TypeRFAResponse = "x-cyberpact-rfa-response"
	// CoreExtension is the OASIS incident core extension's definition.
	CoreExtension = "extension-definition--ef765651-680c-498d-9894-99799f2fa126"
)

// contributionTypes are the types that belong to an incident.
var contributionTypes = []string{TypeNote, TypeTask, TypeTaskUpdate, TypeRFA, TypeRFAResponse}

// The vocabularies of case data.
var (
	Statuses     = []string{"new", "open", "contained", "resolved", "closed"}
	Severities   = []string{"low", "medium", "high", "critical"}
	TaskStatuses = []string{"open", "in-progress", "blocked", "done", "cancelled"}
	RFAKinds     = []string{"analysis", "takedown", "indicators", "forensics", "other"}
	NoteKinds    = []string{"note", "event", "decision"}
)

// Caller is who reads or writes: a user of a member organisation, with
// the viewer the sharing rule reads as and the actor the audit log
// records.
type Caller struct {
	Viewer   cyberpact.Viewer
	Actor    cyberpact.Actor // Name is the user's name, Org its organisation
	OrgName  string
	CanWrite bool
}

// Service works on incidents over a store. The store decides what each
// caller sees; every write goes through cyberpact.AuditedImport.
type Service struct {
	Store cyberpact.ObjectStore
	Audit cyberpact.AuditLog
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Summary is one incident as a list shows it.
type Summary struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Status    string   `json:"status"`
	Severity  string   `json:"severity"`
	TLP       string   `json:"tlp"`
	Partners  []string `json:"partners,omitempty"`
	Modified  string   `json:"modified"`
	OpenTasks int      `json:"open_tasks"`
	// AssignedToCaller counts the open tasks assigned to the caller.
	AssignedToCaller int `json:"assigned_to_you"`
	// RFAsToCaller counts the pending requests addressed to the caller's
	// organisation.
	RFAsToCaller int `json:"requests_to_you"`
}

// Case is an incident with everything the caller may see of it.
type Case struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Status      string   `json:"status"`
	Severity    string   `json:"severity"`
	Sectors     []string `json:"sectors,omitempty"`
	Functions   []string `json:"functions,omitempty"`
	Partners    []string `json:"partners,omitempty"`
	Author      string   `json:"author,omitempty"`
	AuthorOrg   string   `json:"author_org,omitempty"`
	TLP         string   `json:"tlp"`
	Audience    string   `json:"audience"`
	// Yours says that the caller's organisation produced the incident
	// (and may edit it).
	Yours    bool     `json:"yours"`
	Created  string   `json:"created"`
	Version  string   `json:"version"`
	Linked   []Linked `json:"linked,omitempty"`
	Tasks    []*Task  `json:"tasks"`
	Notes    []*Note  `json:"notes"`
	RFAs     []*RFA   `json:"requests"`
	Timeline []Entry  `json:"timeline"`
	// Working says who works on what: each open task's assignee and each
	// accepted request's responder.
	Working []Work `json:"working"`

	// Objects are the stored versions the case was read from, for the
	// audit of their release.
	Objects []*cyberpact.Object `json:"-"`
	release cyberpact.Release
}

// Linked is one object linked to an incident that the caller may see.
type Linked struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
}

// Task is a task's merged state (see the package comment).
type Task struct {
	ID          string `json:"id"`
	Incident    string `json:"incident"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Assignee    string `json:"assignee,omitempty"`
	AssigneeOrg string `json:"assignee_org,omitempty"`
	Status      string `json:"status"`
	Due         string `json:"due,omitempty"`
	Author      string `json:"author,omitempty"`
	AuthorOrg   string `json:"author_org,omitempty"`
	Version     string `json:"version"`
	// Yours says that the caller's organisation created the task.
	Yours   bool   `json:"yours"`
	History []Edit `json:"history"`
}

// Edit is one contribution to a task, in merge order.
type Edit struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Version    string            `json:"version"`
	BasedOn    string            `json:"based_on,omitempty"`
	By         string            `json:"by"`
	Changes    map[string]string `json:"changes,omitempty"`
	Comment    string            `json:"comment,omitempty"`
	Concurrent bool              `json:"concurrent,omitempty"`
}

// Note is a note, event or decision of an incident's timeline.
type Note struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Title   string `json:"title,omitempty"`
	Content string `json:"content"`
	Task    string `json:"task,omitempty"`
	By      string `json:"by"`
	TLP     string `json:"tlp"`
	At      string `json:"at"`
}

// RFA is a request for assistance and its answers.
type RFA struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	To          []string   `json:"addressed_to,omitempty"`
	Description string     `json:"description"`
	Due         string     `json:"due,omitempty"`
	By          string     `json:"by"`
	ByOrg       string     `json:"by_org,omitempty"`
	At          string     `json:"at"`
	Status      string     `json:"status"` // pending, accepted or declined: the latest answer
	Responses   []Response `json:"responses,omitempty"`
	// ForCaller says that the request is addressed to the caller's
	// organisation (or to everyone who sees it) and it may answer.
	ForCaller bool `json:"for_you"`
}

// Response is one answer to a request.
type Response struct {
	ID       string `json:"id"`
	Decision string `json:"decision"`
	Comment  string `json:"comment,omitempty"`
	By       string `json:"by"`
	ByOrg    string `json:"by_org,omitempty"`
	At       string `json:"at"`
}

// Entry is one line of the timeline.
type Entry struct {
	At   string `json:"at"`
	Kind string `json:"kind"` // incident, task, task-update, note, event, decision, request, response
	By   string `json:"by"`
	What string `json:"what"`
	Ref  string `json:"ref"`
}

// Work is one line of who works on what.
type Work struct {
	Who  string `json:"who"`
	Org  string `json:"org,omitempty"`
	What string `json:"what"`
	Ref  string `json:"ref"`
}

// raw is the union of the properties read from incident objects.
type raw struct {
	Type        string                     `json:"type"`
	ID          string                     `json:"id"`
	Created     string                     `json:"created"`
	Modified    string                     `json:"modified"`
	Name        string                     `json:"name"`
	Description string                     `json:"description"`
	Abstract    string                     `json:"abstract"`
	Content     string                     `json:"content"`
	ObjectRefs  []string                   `json:"object_refs"`
	Extensions  map[string]json.RawMessage `json:"extensions"`

	Status    *string   `json:"x_cyberpact_status"`
	Severity  *string   `json:"x_cyberpact_severity"`
	Sectors   *[]string `json:"x_cyberpact_sectors"`
	Functions *[]string `json:"x_cyberpact_functions"`
	Partners  *[]string `json:"x_cyberpact_partners"`
	Links     *[]string `json:"x_cyberpact_linked_refs"`
	Kind      string    `json:"x_cyberpact_kind"`
	XAuthor   string    `json:"x_cyberpact_author"`
	XAuthOrg  string    `json:"x_cyberpact_author_org"`

	IncidentRef string    `json:"incident_ref"`
	TaskRef     string    `json:"task_ref"`
	RFARef      string    `json:"rfa_ref"`
	BasedOn     string    `json:"based_on"`
	Author      string    `json:"author"`
	AuthorOrg   string    `json:"author_org"`
	TaskStatus  *string   `json:"status"`
	Assignee    *string   `json:"assignee"`
	AssigneeOrg *string   `json:"assignee_org"`
	Due         *string   `json:"due"`
	Comment     string    `json:"comment"`
	To          []string  `json:"addressed_to"`
	RFAKind     string    `json:"kind"`
	Decision    string    `json:"decision"`
	Changed     *[]string `json:"changed_fields"`

	obj *cyberpact.Object
}

func parse(o *cyberpact.Object) (*raw, error) {
	var r raw
	if err := json.Unmarshal(o.Raw, &r); err != nil {
		return nil, &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "reading " + o.ID, Err: err}
	}
	r.obj = o
	return &r, nil
}

// version is a stored object's version as the incident API names it.
func (r *raw) version() string { return normVersion(r.Modified) }

// normVersion writes a timestamp the one way versions are compared.
func normVersion(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return stix.FormatTime(t)
}

func (r *raw) by() string {
	a, o := r.Author, r.AuthorOrg
	if a == "" {
		a, o = r.XAuthor, r.XAuthOrg
	}
	if o != "" {
		return a + " (" + o + ")"
	}
	return a
}

// List returns the incidents the caller may see, newest first, with the
// counts of what waits for the caller, and the objects it read (for the
// audit of their release).
func (s *Service) List(ctx context.Context, c Caller) ([]*Summary, []*cyberpact.Object, error) {
	var incs []*raw
	err := s.Store.EachObject(ctx, cyberpact.ObjectFilter{Types: []string{TypeIncident}, Viewer: &c.Viewer}, func(o *cyberpact.Object) error {
		r, err := parse(o)
		if err == nil {
			incs = append(incs, r)
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	byID := map[string]*Summary{}
	var out []*Summary
	var objs []*cyberpact.Object
	for _, r := range incs {
		sm := &Summary{ID: r.ID, Name: r.Name, Status: deref(r.Status, "open"), Severity: deref(r.Severity, "medium"),
			TLP: r.obj.Release.TLP.String(), Modified: r.version()}
		if r.Partners != nil {
			sm.Partners = *r.Partners
		}
		byID[r.ID] = sm
		out = append(out, sm)
		objs = append(objs, r.obj)
	}
	if len(out) > 0 {
		incRels := map[string][]cyberpact.Release{}
		for _, r := range incs {
			incRels[r.ID] = append(incRels[r.ID], r.obj.Release)
		}
		contribs, err := s.contributions(ctx, c, incRels)
		if err != nil {
			return nil, nil, err
		}
		for id, cs := range contribs {
			sm := byID[id]
			if sm == nil {
				continue
			}
			tasks, rfas := mergeTasks(c, id, cs), rfasOf(c, cs)
			for _, t := range tasks {
				if open(t.Status) {
					sm.OpenTasks++
					if t.Assignee == c.Actor.Name {
						sm.AssignedToCaller++
					}
				}
			}
			for _, q := range rfas {
				if q.ForCaller && q.Status == "pending" {
					sm.RFAsToCaller++
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b *Summary) int {
		return cmp.Or(cmp.Compare(b.Modified, a.Modified), cmp.Compare(a.ID, b.ID))
	})
	return out, objs, nil
}

func open(status string) bool { return status != "done" && status != "cancelled" }

func deref(p *string, def string) string {
	if p == nil || *p == "" {
		return def
	}
	return *p
}

// contributions reads every contribution the caller may see, by the
// incident it belongs to, of the incidents of incs (each with the
// releases of its versions the caller sees), kept by the rule of attach.
func (s *Service) contributions(ctx context.Context, c Caller, incs map[string][]cyberpact.Release) (map[string][]*raw, error) {
	out := map[string][]*raw{}
	f := cyberpact.ObjectFilter{Types: contributionTypes, Viewer: &c.Viewer, Versions: []string{"all"}}
	err := s.Store.EachObject(ctx, f, func(o *cyberpact.Object) error {
		r, err := parse(o)
		if err != nil {
			return err
		}
		inc := r.incident()
		if _, ok := incs[inc]; !ok {
			return nil
		}
		out[inc] = append(out[inc], r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ps := s.producers()
	ps.exercise = c.Viewer.Exercise
	for id, list := range out {
		if out[id], err = ps.attach(ctx, incs[id], list); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// incident is the incident contribution r belongs to: its incident_ref,
// or for a note the first incident among its object_refs; "" for none.
func (r *raw) incident() string {
	if r.Type != TypeNote {
		return r.IncidentRef
	}
	for _, ref := range r.ObjectRefs {
		if strings.HasPrefix(ref, TypeIncident+"--") {
			return ref
		}
	}
	return ""
}

// Attached reports whether contribution o (a task, request, note or
// update) belongs to an incident viewer v sees, by the rule the incident's
// page keeps (attach): its producer, or the organisation that published it
// anonymously, may see that incident. The alert dispatcher asks it before
// telling anyone of a task assigned or a request addressed to them, so
// that what the page leaves out, such as a task an outsider posted naming
// an incident it cannot see, is not notified either.
func (s *Service) Attached(ctx context.Context, v cyberpact.Viewer, o *cyberpact.Object) (bool, error) {
	r, err := parse(o)
	if err != nil {
		return false, nil // not a contribution that reads: nothing to attach
	}
	inc := r.incident()
	if inc == "" {
		return false, nil
	}
	var rels []cyberpact.Release
	f := cyberpact.ObjectFilter{IDs: []string{inc}, Types: []string{TypeIncident}, Viewer: &v, Versions: []string{"all"}}
	if err := s.Store.EachObject(ctx, f, func(i *cyberpact.Object) error { rels = append(rels, i.Release); return nil }); err != nil {
		return false, err
	}
	if len(rels) == 0 {
		return false, nil
	}
	ps := s.producers()
	ps.exercise = v.Exercise
	return ps.sees(ctx, r, rels)
}

// producerInfo is what the incident service reads of the organisations
// that produced contributions; the hub's stores offer it.
type producerInfo interface {
	OrgByID(ctx context.Context, id int64) (*cyberpact.Org, error)
	OrgByName(ctx context.Context, name string) (*cyberpact.Org, error)
	GroupsOf(ctx context.Context, org int64) ([]int64, error)
}

// peerLister lists the federation peers, each with the organisation that
// stands for it.
type peerLister interface {
	Peers(ctx context.Context) ([]*cyberpact.Peer, error)
}

// anonymousSubmitters says which organisation published a holding
// anonymously (its producer is then the hub, 0); the hub's stores offer
// it where anonymous publication is kept.
type anonymousSubmitters interface {
	AnonymousSubmitter(ctx context.Context, holding int64) (int64, error)
}

// producers reads, once per request, what each producer of a
// contribution may see and what it is called.
type producers struct {
	info    producerInfo // nil: the store offers none, and only the hub itself is known
	peers   peerLister
	anon    anonymousSubmitters
	viewers map[int64]*cyberpact.Viewer
	names   map[int64]string
	byName  map[string]int64
	peerOrg map[int64]bool
	// exercise is the caller's exercise, 0 outside one: inside, the
	// producers are read as participants of the same exercise.
	exercise int64
}

func (s *Service) producers() *producers {
	ps := &producers{viewers: map[int64]*cyberpact.Viewer{}, names: map[int64]string{}, byName: map[string]int64{}}
	ps.info, _ = s.Store.(producerInfo)
	ps.peers, _ = s.Store.(peerLister)
	ps.anon, _ = s.Store.(anonymousSubmitters)
	return ps
}

// viewer is what organisation org may see now: its groups, nation,
// sector and clearances (nil when the store cannot say: it sees nothing
// of others').
func (ps *producers) viewer(ctx context.Context, org int64) (*cyberpact.Viewer, error) {
	if v, ok := ps.viewers[org]; ok {
		return v, nil
	}
	v := &cyberpact.Viewer{Org: org}
	if org != 0 && ps.info != nil {
		o, err := ps.info.OrgByID(ctx, org)
		if err != nil && cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
			return nil, err
		}
		if err == nil {
			groups, err := ps.info.GroupsOf(ctx, org)
			if err != nil {
				return nil, err
			}
			ov := cyberpact.OrgViewer(o, groups)
			v = &ov
			ps.names[org] = o.Name
		}
	}
	v.Exercise = ps.exercise
	ps.viewers[org] = v
	return v, nil
}

// who is the organisation that wrote r: its producer, or for one the
// hub stands as producer of, the organisation that published it
// anonymously (anonymous true).
func (ps *producers) who(ctx context.Context, r *raw) (org int64, anonymous bool, err error) {
	p := r.obj.Release.Producer
	if p != 0 || ps.anon == nil {
		return p, false, nil
	}
	sub, err := ps.anon.AnonymousSubmitter(ctx, r.obj.Holding)
	if err != nil && cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		return 0, false, err
	}
	return sub, sub != 0, nil
}

// sees reports whether the organisation that wrote r may see a version
// released as one of rels (cyberpact.ProducerSees, the rule for the ends
// of edges).
func (ps *producers) sees(ctx context.Context, r *raw, rels []cyberpact.Release) (bool, error) {
	org, _, err := ps.who(ctx, r)
	if err != nil {
		return false, err
	}
	v, err := ps.viewer(ctx, org)
	if err != nil {
		return false, err
	}
	for _, rel := range rels {
		if cyberpact.ProducerSees(*v, rel) {
			return true, nil
		}
	}
	return false, nil
}

// orgName is the name of the organisation that wrote r as r gives it,
// unless that is the name of another organisation of this hub than its
// producer: a member never signs with another member's name, and then
// the hub's name of the producer stands. A name the hub does not hold is
// taken as given (a partner on a federated hub, which its hub vouched
// for), and so is any name of a producer that stands for a registered
// federation peer, or of the hub itself.
func (ps *producers) orgName(ctx context.Context, r *raw) (string, error) {
	p := r.obj.Release.Producer
	given := cmp.Or(r.AuthorOrg, r.XAuthOrg)
	if _, anonymous, err := ps.who(ctx, r); err != nil {
		return "", err
	} else if anonymous {
		return "anonymous", nil // signed by no member, the submitter's own name included
	}
	if p == 0 || ps.info == nil {
		return given, nil
	}
	if ps.peerOrg == nil {
		ps.peerOrg = map[int64]bool{}
		if ps.peers != nil {
			peers, err := ps.peers.Peers(ctx)
			if err != nil {
				return "", err
			}
			for _, peer := range peers {
				ps.peerOrg[peer.Org] = true
			}
		}
	}
	if ps.peerOrg[p] {
		return given, nil
	}
	if _, err := ps.viewer(ctx, p); err != nil {
		return "", err
	}
	own, ok := ps.names[p]
	if !ok || given == own {
		return given, nil
	}
	if given == "" {
		return own, nil
	}
	id, ok := ps.byName[given]
	if !ok {
		o, err := ps.info.OrgByName(ctx, given)
		switch {
		case err == nil:
			id = o.ID
		case cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND:
			return "", err
		}
		ps.byName[given] = id
	}
	if id != 0 && id != p {
		return own, nil
	}
	return given, nil
}

// own writes into r the name of the organisation that wrote it, so that
// no member signs its contribution with another's name.
func (ps *producers) own(ctx context.Context, r *raw) error {
	if _, anonymous, err := ps.who(ctx, r); err != nil {
		return err
	} else if anonymous {
		// Published anonymously: signed by no one, whatever names it
		// carries.
		r.Author, r.XAuthor, r.AuthorOrg, r.XAuthOrg = "anonymous", "anonymous", "", ""
		return nil
	}
	n, err := ps.orgName(ctx, r)
	if err != nil {
		return err
	}
	r.AuthorOrg, r.XAuthOrg = n, n
	return nil
}

// attach keeps the contributions of list that belong to an incident
// whose versions the caller sees are released as incRels, by the rule for
// the ends of edges (cyberpact.EndVisible): a contribution counts only
// when its producer may see the incident, a task update only when it may
// see the task it updates, and an answer to a request only when it may
// see the request, is another organisation than the one that asked and
// is one the request is addressed to. So an organisation that may not
// see an incident cannot add to it what its partners are shown, nor a
// requester answer its own request. Each kept contribution is signed
// with its producer's name (own).
func (ps *producers) attach(ctx context.Context, incRels []cyberpact.Release, list []*raw) ([]*raw, error) {
	var kept []*raw
	for _, r := range list {
		ok, err := ps.sees(ctx, r, incRels)
		if err != nil {
			return nil, err
		}
		if ok {
			if err := ps.own(ctx, r); err != nil {
				return nil, err
			}
			kept = append(kept, r)
		}
	}
	releases := func(typ, id string) []cyberpact.Release {
		var out []cyberpact.Release
		for _, r := range kept {
			if r.Type == typ && r.ID == id {
				out = append(out, r.obj.Release)
			}
		}
		return out
	}
	var out []*raw
	for _, r := range kept {
		switch r.Type {
		case TypeTaskUpdate:
			ok, err := ps.sees(ctx, r, releases(TypeTask, r.TaskRef))
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		case TypeRFAResponse:
			ok, err := ps.sees(ctx, r, releases(TypeRFA, r.RFARef))
			if err != nil {
				return nil, err
			}
			if ok {
				if ok, err = ps.answers(ctx, r, kept); err != nil {
					return nil, err
				}
			}
			if !ok {
				continue
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// answers reports whether answer a comes from an organisation the request
// it names is addressed to (in its latest version among list), other than
// the one that asked.
func (ps *producers) answers(ctx context.Context, a *raw, list []*raw) (bool, error) {
	var q *raw
	for _, r := range list {
		if r.Type == TypeRFA && r.ID == a.RFARef && (q == nil || mergeOrder(q, r) < 0) {
			q = r
		}
	}
	if q == nil {
		return false, nil
	}
	asker, _, err := ps.who(ctx, q)
	if err != nil {
		return false, err
	}
	answerer, _, err := ps.who(ctx, a)
	if err != nil || asker == answerer {
		return false, err
	}
	return len(q.To) == 0 || slices.Contains(q.To, a.AuthorOrg), nil
}

// Get returns the incident id as the caller may see it. Returns ENOTFOUND
// when it is not an incident the caller may see.
func (s *Service) Get(ctx context.Context, c Caller, id string) (*Case, error) {
	inc, err := s.incident(ctx, c, id)
	if err != nil {
		return nil, err
	}
	ps := s.producers()
	if err := ps.own(ctx, inc); err != nil {
		return nil, err
	}
	cs := &Case{ID: inc.ID, Name: inc.Name, Description: inc.Description, Status: deref(inc.Status, "open"),
		Severity: deref(inc.Severity, "medium"), Author: inc.XAuthor, AuthorOrg: inc.XAuthOrg,
		TLP: inc.obj.Release.TLP.String(), Audience: inc.obj.Release.Audience.String(),
		Yours: inc.obj.Release.Producer == c.Actor.Org, Version: inc.version(), release: inc.obj.Release,
		Objects: []*cyberpact.Object{inc.obj}, Tasks: []*Task{}, Notes: []*Note{}, RFAs: []*RFA{}, Working: []Work{}}
	for _, p := range []struct {
		src *[]string
		dst *[]string
	}{{inc.Sectors, &cs.Sectors}, {inc.Functions, &cs.Functions}, {inc.Partners, &cs.Partners}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	versions, err := s.Store.FindObjects(ctx, cyberpact.ObjectFilter{IDs: []string{id}, Viewer: &c.Viewer, Versions: []string{"all"}, Limit: 10000})
	if err != nil {
		return nil, err
	}
	for _, o := range versions.Objects {
		r, err := parse(o)
		if err != nil {
			return nil, err
		}
		if err := ps.own(ctx, r); err != nil {
			return nil, err
		}
		cs.Created = normVersion(r.Created)
		what := "opened the incident: " + r.Name
		if r.version() != normVersion(r.Created) {
			what = fmt.Sprintf("updated the incident: status %s, severity %s", deref(r.Status, "open"), deref(r.Severity, "medium"))
		}
		cs.Timeline = append(cs.Timeline, Entry{At: r.version(), Kind: "incident", By: r.by(), What: what, Ref: r.ID})
		if o.Seq != inc.obj.Seq {
			cs.Objects = append(cs.Objects, o)
		}
	}
	if inc.Links != nil {
		for _, ref := range *inc.Links {
			o, err := s.Store.FindObjects(ctx, cyberpact.ObjectFilter{IDs: []string{ref}, Viewer: &c.Viewer, Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(o.Objects) == 0 {
				continue // not (or no longer) for this caller's eyes
			}
			l := Linked{ID: ref, Type: o.Objects[0].Type}
			var n struct{ Name string }
			json.Unmarshal(o.Objects[0].Raw, &n)
			l.Name = n.Name
			cs.Linked = append(cs.Linked, l)
			cs.Objects = append(cs.Objects, o.Objects[0])
		}
	}
	rels := map[string][]cyberpact.Release{}
	for _, o := range versions.Objects {
		rels[id] = append(rels[id], o.Release)
	}
	contribs, err := s.contributions(ctx, c, rels)
	if err != nil {
		return nil, err
	}
	list := contribs[id]
	for _, r := range list {
		cs.Objects = append(cs.Objects, r.obj)
	}
	cs.Tasks = mergeTasks(c, id, list)
	cs.RFAs = rfasOf(c, list)
	for _, r := range list {
		if r.Type != TypeNote {
			continue
		}
		n := &Note{ID: r.ID, Kind: cmp.Or(r.Kind, "note"), Title: r.Abstract, Content: r.Content, By: r.by(),
			TLP: r.obj.Release.TLP.String(), At: r.version()}
		for _, ref := range r.ObjectRefs {
			if strings.HasPrefix(ref, TypeTask+"--") {
				n.Task = ref
			}
		}
		cs.Notes = append(cs.Notes, n)
		cs.Timeline = append(cs.Timeline, Entry{At: n.At, Kind: n.Kind, By: n.By, What: cmp.Or(n.Title, n.Content), Ref: n.ID})
	}
	slices.SortFunc(cs.Notes, func(a, b *Note) int { return cmp.Or(cmp.Compare(a.At, b.At), cmp.Compare(a.ID, b.ID)) })
	for _, t := range cs.Tasks {
		for i, e := range t.History {
			what := "created the task " + t.Title
			kind := "task"
			if i > 0 {
				kind = "task-update"
				what = "updated the task " + t.Title + describe(e)
			}
			cs.Timeline = append(cs.Timeline, Entry{At: e.Version, Kind: kind, By: e.By, What: what, Ref: e.ID})
		}
		if open(t.Status) && t.Assignee != "" {
			cs.Working = append(cs.Working, Work{Who: t.Assignee, Org: t.AssigneeOrg, What: "task: " + t.Title + " (" + t.Status + ")", Ref: t.ID})
		}
	}
	for _, q := range cs.RFAs {
		cs.Timeline = append(cs.Timeline, Entry{At: q.At, Kind: "request", By: q.By, What: "asked " + toWords(q.To) + " for " + q.Kind + ": " + q.Description, Ref: q.ID})
		for _, a := range q.Responses {
			cs.Timeline = append(cs.Timeline, Entry{At: a.At, Kind: "response", By: a.By, What: a.Decision + " the request for " + q.Kind, Ref: a.ID})
			if a.Decision == "accepted" {
				who := strings.TrimSuffix(a.By, " ("+a.ByOrg+")")
				cs.Working = append(cs.Working, Work{Who: who, Org: a.ByOrg, What: "request: " + q.Kind + ": " + q.Description, Ref: q.ID})
			}
		}
	}
	slices.SortStableFunc(cs.Timeline, func(a, b Entry) int { return cmp.Or(cmp.Compare(a.At, b.At), cmp.Compare(a.Ref, b.Ref)) })
	return cs, nil
}

func toWords(to []string) string {
	if len(to) == 0 {
		return "everyone on the incident"
	}
	return strings.Join(to, ", ")
}

func describe(e Edit) string {
	var parts []string
	for _, k := range []string{"status", "assignee", "title", "due"} {
		if v, ok := e.Changes[k]; ok {
			parts = append(parts, k+" "+v)
		}
	}
	s := ""
	if len(parts) > 0 {
		s = ": " + strings.Join(parts, ", ")
	}
	if e.Comment != "" {
		s += " (" + e.Comment + ")"
	}
	if e.Concurrent {
		s += " [concurrent edit, merged by version]"
	}
	return s
}

// incident returns the latest version of the incident id the caller may
// see. Returns ENOTFOUND.
func (s *Service) incident(ctx context.Context, c Caller, id string) (*raw, error) {
	notFound := cyberpact.Errorf(cyberpact.ENOTFOUND, "no incident %s", id)
	if !strings.HasPrefix(id, TypeIncident+"--") {
		return nil, notFound
	}
	page, err := s.Store.FindObjects(ctx, cyberpact.ObjectFilter{IDs: []string{id}, Viewer: &c.Viewer, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(page.Objects) == 0 {
		return nil, notFound
	}
	return parse(page.Objects[0])
}

// mergeTasks derives each task of incident from its contributions by the
// merge rule of the package comment.
func mergeTasks(c Caller, incident string, list []*raw) []*Task {
	byTask := map[string][]*raw{}
	for _, r := range list {
		switch r.Type {
		case TypeTask:
			byTask[r.ID] = append(byTask[r.ID], r)
		case TypeTaskUpdate:
			byTask[r.TaskRef] = append(byTask[r.TaskRef], r)
		}
	}
	var out []*Task
	for id, cs := range byTask {
		if t := merge(c, id, cs); t != nil {
			t.Incident = incident
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *Task) int {
		return cmp.Or(cmp.Compare(a.History[0].Version, b.History[0].Version), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// mergeOrder orders contributions by version, then id.
func mergeOrder(a, b *raw) int {
	return cmp.Or(cmp.Compare(a.version(), b.version()), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Type, b.Type))
}

// merge derives one task's state from its contributions: nil when the
// caller may see updates of it but no version of the task itself.
func merge(c Caller, id string, cs []*raw) *Task {
	slices.SortFunc(cs, mergeOrder)
	first := slices.IndexFunc(cs, func(r *raw) bool { return r.Type == TypeTask })
	if first < 0 {
		return nil
	}
	base := cs[first]
	t := &Task{ID: id, Title: base.Name, Description: base.Description, Status: "open", Author: base.Author, AuthorOrg: base.AuthorOrg,
		Yours: base.obj.Release.Producer == c.Actor.Org, History: []Edit{}}
	prev := ""
	for _, r := range cs[first:] {
		e := Edit{ID: r.ID, Type: r.Type, Version: r.version(), BasedOn: normVersion(r.BasedOn), By: r.by(), Comment: r.Comment, Changes: map[string]string{}}
		if prev != "" && e.BasedOn != prev {
			e.Concurrent = true
		}
		set := func(field string, p *string, dst *string) {
			if p != nil && *p != *dst {
				*dst = *p
				e.Changes[field] = *p
			}
		}
		// A later version of the task applies only the fields it says it
		// changes (changed_fields; all when it does not say), so that the
		// rest of its snapshot, the merged state its author saw, never
		// overwrites a concurrent update.
		changes := func(f string) bool {
			return len(t.History) == 0 || r.Type == TypeTaskUpdate || r.Changed == nil || slices.Contains(*r.Changed, f)
		}
		if r.Type == TypeTask {
			name, desc := r.Name, r.Description
			for _, f := range []struct {
				name string
				p    *string
				dst  *string
			}{{"title", &name, &t.Title}, {"description", &desc, &t.Description}, {"assignee", r.Assignee, &t.Assignee},
				{"assignee_org", r.AssigneeOrg, &t.AssigneeOrg}, {"due", r.Due, &t.Due}} {
				if changes(f.name) {
					set(f.name, f.p, f.dst)
				}
			}
		}
		if changes("status") {
			set("status", r.TaskStatus, &t.Status)
		}
		if len(t.History) == 0 {
			e.Changes = nil
			e.BasedOn = ""
		}
		t.History = append(t.History, e)
		prev = e.Version
	}
	t.Version = prev
	return t
}

// rfasOf reads the requests for assistance among list and their answers.
func rfasOf(c Caller, list []*raw) []*RFA {
	var out []*RFA
	byID := map[string]*RFA{}
	latest := map[string]*raw{}
	for _, r := range list {
		if r.Type != TypeRFA {
			continue
		}
		// The latest version the caller sees of each request.
		if l := latest[r.ID]; l == nil || mergeOrder(l, r) < 0 {
			latest[r.ID] = r
		}
	}
	for id, r := range latest {
		q := &RFA{ID: id, Kind: r.RFAKind, To: r.To, Description: r.Description, Due: deref(r.Due, ""), By: r.by(), ByOrg: r.AuthorOrg,
			At: normVersion(r.Created), Status: "pending"}
		q.ForCaller = r.obj.Release.Producer != c.Actor.Org && (len(q.To) == 0 || slices.Contains(q.To, c.OrgName))
		byID[id] = q
		out = append(out, q)
	}
	var answers []*raw
	for _, r := range list {
		if r.Type == TypeRFAResponse && byID[r.RFARef] != nil {
			answers = append(answers, r)
		}
	}
	slices.SortFunc(answers, mergeOrder)
	for _, a := range answers {
		q := byID[a.RFARef]
		q.Responses = append(q.Responses, Response{ID: a.ID, Decision: a.Decision, Comment: a.Comment, By: a.by(), ByOrg: a.AuthorOrg, At: a.version()})
		q.Status = a.Decision
	}
	slices.SortFunc(out, func(a, b *RFA) int { return cmp.Or(cmp.Compare(a.At, b.At), cmp.Compare(a.ID, b.ID)) })
	return out
}

// --- writes ------------------------------------------------------------

// NewIncident is what creating an incident takes.
type NewIncident struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Status      string   `json:"status,omitempty"`
	Severity    string   `json:"severity,omitempty"`
	Sectors     []string `json:"sectors,omitempty"`
	Functions   []string `json:"functions,omitempty"`
	Partners    []string `json:"partners,omitempty"`
	Linked      []string `json:"linked,omitempty"`
	// Audience and TLP release the incident: "org", "all" or a sharing
	// group the caller's organisation is in ("group:ID"), resolved by the
	// front end; TLP defaults to amber.
	Audience cyberpact.Audience `json:"-"`
	TLP      cyberpact.TLP      `json:"-"`
}

// IncidentEdit changes an incident: the fields given, based on version
// BasedOn.
type IncidentEdit struct {
	BasedOn     string    `json:"based_on"`
	Name        *string   `json:"name,omitempty"`
	Description *string   `json:"description,omitempty"`
	Status      *string   `json:"status,omitempty"`
	Severity    *string   `json:"severity,omitempty"`
	Sectors     *[]string `json:"sectors,omitempty"`
	Functions   *[]string `json:"functions,omitempty"`
	Partners    *[]string `json:"partners,omitempty"`
	Linked      *[]string `json:"linked,omitempty"`
}

func oneOf(field, v string, vocab []string) error {
	if !slices.Contains(vocab, v) {
		return cyberpact.Errorf(cyberpact.EINVALID, "%s %q is not one of %s", field, v, strings.Join(vocab, ", "))
	}
	return nil
}

// criticality maps a severity onto the core extension's 0 to 100.
var criticality = map[string]int{"low": 25, "medium": 50, "high": 75, "critical": 100}

// investigation maps a status onto the core extension's
// investigation_status.
func investigation(status string) string {
	switch status {
	case "new":
		return "new"
	case "closed", "resolved":
		return "closed"
	}
	return "open"
}

func (s *Service) mayWrite(c Caller) error {
	if !c.CanWrite || c.Actor.Org == 0 {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "only a member organisation's analysts (not readers) work on incidents")
	}
	return nil
}

// isIdentifier reports whether s is a STIX identifier: type--UUID.
func isIdentifier(s string) bool {
	typ, u, ok := strings.Cut(s, "--")
	if !ok || typ == "" {
		return false
	}
	_, err := uuid.Parse(u)
	return err == nil && len(u) == 36
}

// checkLinks refuses a link to anything the caller may not see, as to an
// object nobody holds.
func (s *Service) checkLinks(ctx context.Context, c Caller, refs []string) error {
	for i, ref := range refs {
		if !isIdentifier(ref) {
			return cyberpact.Errorf(cyberpact.EINVALID, "linked[%d]: %q is not a STIX identifier", i, ref)
		}
		p, err := s.Store.FindObjects(ctx, cyberpact.ObjectFilter{IDs: []string{ref}, Viewer: &c.Viewer, Limit: 1})
		if err != nil {
			return err
		}
		if len(p.Objects) == 0 {
			return cyberpact.Errorf(cyberpact.EINVALID, "linked[%d]: no object %s that you may see", i, ref)
		}
	}
	return nil
}

// Create adds an incident produced by the caller's organisation and
// returns it. Returns EINVALID for bad case data, EFORBIDDEN for a reader.
func (s *Service) Create(ctx context.Context, c Caller, in NewIncident) (*Case, error) {
	if err := s.mayWrite(c); err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "name: an incident needs a name")
	}
	in.Status, in.Severity = cmp.Or(in.Status, "open"), cmp.Or(in.Severity, "medium")
	if err := oneOf("status", in.Status, Statuses); err != nil {
		return nil, err
	}
	if err := oneOf("severity", in.Severity, Severities); err != nil {
		return nil, err
	}
	if err := s.checkLinks(ctx, c, in.Linked); err != nil {
		return nil, err
	}
	now := stix.FormatTime(s.now())
	id := TypeIncident + "--" + uuid.NewString()
	o := map[string]any{"type": TypeIncident, "spec_version": "2.1", "id": id, "created": now, "modified": now, "name": in.Name,
		"x_cyberpact_status": in.Status, "x_cyberpact_severity": in.Severity,
		"x_cyberpact_author": c.Actor.Name, "x_cyberpact_author_org": c.OrgName}
	setIncident(o, in.Description, in.Status, in.Severity, in.Sectors, in.Functions, in.Partners, in.Linked)
	if err := s.write(ctx, c, in.Audience, cmp.Or(in.TLP, cyberpact.TLPAmber), nil, "incident "+id, o); err != nil {
		return nil, err
	}
	return s.Get(ctx, c, id)
}

// setIncident writes the case data into an incident object.
func setIncident(o map[string]any, desc, status, severity string, sectors, functions, partners, linked []string) {
	o["description"] = desc
	if desc == "" {
		delete(o, "description")
	}
	o["x_cyberpact_status"], o["x_cyberpact_severity"] = status, severity
	o["extensions"] = map[string]any{CoreExtension: map[string]any{"extension_type": "property-extension",
		"investigation_status": investigation(status), "determination": "suspected", "criticality": criticality[severity]}}
	for k, v := range map[string][]string{"x_cyberpact_sectors": sectors, "x_cyberpact_functions": functions,
		"x_cyberpact_partners": partners, "x_cyberpact_linked_refs": linked} {
		if len(v) > 0 {
			o[k] = v
		} else {
			delete(o, k)
		}
	}
}

// stale refuses an edit not based on the current version.
func stale(what, id, current, basedOn string) error {
	if basedOn == "" {
		return cyberpact.Errorf(cyberpact.EINVALID, "based_on: name the version of %s %s your edit starts from (now %s)", what, id, current)
	}
	if normVersion(basedOn) != current {
		return cyberpact.Errorf(cyberpact.ECONFLICT, "%s %s has changed: it is at version %s and your edit was based on %s; read it again and make your edit on the current version", what, id, current, basedOn)
	}
	return nil
}

// next returns the version of an edit made now on top of current: now,
// or just after current when the clock has not passed it.
func (s *Service) next(current string) string {
	now := s.now().UTC()
	if t, err := time.Parse(time.RFC3339Nano, current); err == nil && !now.After(t) {
		now = t.Add(time.Millisecond)
	}
	return stix.FormatTime(now.Truncate(time.Millisecond))
}

// Update edits an incident: only its producer may, with a new version.
// Returns ENOTFOUND, EFORBIDDEN for another organisation, ECONFLICT for a
// stale edit, EINVALID for bad case data.
func (s *Service) Update(ctx context.Context, c Caller, id string, e IncidentEdit) (*Case, error) {
	inc, err := s.incident(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayWrite(c); err != nil {
		return nil, err
	}
	if inc.obj.Release.Producer != c.Actor.Org {
		return nil, cyberpact.Errorf(cyberpact.EFORBIDDEN, "only %s, which opened incident %s, edits it: add a note, a task update or a request instead", cmp.Or(inc.XAuthOrg, "its producer"), id)
	}
	if err := stale("incident", id, inc.version(), e.BasedOn); err != nil {
		return nil, err
	}
	var o map[string]any
	if err := json.Unmarshal(inc.obj.Raw, &o); err != nil {
		return nil, err
	}
	status, severity := deref(inc.Status, "open"), deref(inc.Severity, "medium")
	desc := inc.Description
	list := func(p *[]string) []string {
		if p == nil {
			return nil
		}
		return *p
	}
	sectors, functions, partners, linked := list(inc.Sectors), list(inc.Functions), list(inc.Partners), list(inc.Links)
	if e.Name != nil {
		if strings.TrimSpace(*e.Name) == "" {
			return nil, cyberpact.Errorf(cyberpact.EINVALID, "name: an incident needs a name")
		}
		o["name"] = strings.TrimSpace(*e.Name)
	}
	for _, f := range []struct {
		p   *string
		dst *string
	}{{e.Description, &desc}, {e.Status, &status}, {e.Severity, &severity}} {
		if f.p != nil {
			*f.dst = *f.p
		}
	}
	for _, f := range []struct {
		p   *[]string
		dst *[]string
	}{{e.Sectors, &sectors}, {e.Functions, &functions}, {e.Partners, &partners}, {e.Linked, &linked}} {
		if f.p != nil {
			*f.dst = *f.p
		}
	}
	if err := oneOf("status", status, Statuses); err != nil {
		return nil, err
	}
	if err := oneOf("severity", severity, Severities); err != nil {
		return nil, err
	}
	if e.Linked != nil {
		if err := s.checkLinks(ctx, c, linked); err != nil {
			return nil, err
		}
	}
	setIncident(o, desc, status, severity, sectors, functions, partners, linked)
	o["modified"] = s.next(inc.version())
	o["x_cyberpact_author"], o["x_cyberpact_author_org"] = c.Actor.Name, c.OrgName
	if err := s.write(ctx, c, inc.obj.Release.Audience, inc.obj.Release.TLP, markingsOf(inc.obj), "incident "+id, o); err != nil {
		return nil, err
	}
	return s.Get(ctx, c, id)
}

// NewTask is what adding a task takes.
type NewTask struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Assignee    string `json:"assignee,omitempty"`     // a user name, e.g. analyst@ncsc.example
	AssigneeOrg string `json:"assignee_org,omitempty"` // the assignee's organisation, by name
	Due         string `json:"due,omitempty"`          // RFC 3339
}

// TaskEdit changes a task, based on version BasedOn. The task's owner may
// change every field; another organisation its status, with a comment.
type TaskEdit struct {
	BasedOn     string  `json:"based_on"`
	Status      *string `json:"status,omitempty"`
	Comment     string  `json:"comment,omitempty"`
	Title       *string `json:"title,omitempty"`
	Description *string `json:"description,omitempty"`
	Assignee    *string `json:"assignee,omitempty"`
	AssigneeOrg *string `json:"assignee_org,omitempty"`
	Due         *string `json:"due,omitempty"`
}

func checkDue(due string) (string, error) {
	if due == "" {
		return "", nil
	}
	t, err := time.Parse(time.RFC3339Nano, due)
	if err != nil {
		return "", cyberpact.Errorf(cyberpact.EINVALID, "due: %q is not an RFC 3339 time such as 2026-12-08T12:00:00Z", due)
	}
	return stix.FormatTime(t), nil
}

// AddTask adds a task to the incident and returns it. Returns ENOTFOUND,
// EINVALID, EFORBIDDEN for a reader.
func (s *Service) AddTask(ctx context.Context, c Caller, incident string, in NewTask) (*Task, error) {
	inc, err := s.incident(ctx, c, incident)
	if err != nil {
		return nil, err
	}
	if err := s.mayWrite(c); err != nil {
		return nil, err
	}
	if in.Title = strings.TrimSpace(in.Title); in.Title == "" {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "title: a task needs a title")
	}
	due, err := checkDue(in.Due)
	if err != nil {
		return nil, err
	}
	now := stix.FormatTime(s.now())
	id := TypeTask + "--" + uuid.NewString()
	o := map[string]any{"type": TypeTask, "spec_version": "2.1", "id": id, "created": now, "modified": now, "incident_ref": incident,
		"name": in.Title, "status": "open", "author": c.Actor.Name, "author_org": c.OrgName}
	for k, v := range map[string]string{"description": in.Description, "assignee": in.Assignee, "assignee_org": in.AssigneeOrg, "due": due} {
		if v != "" {
			o[k] = v
		}
	}
	if err := s.write(ctx, c, inc.obj.Release.Audience, inc.obj.Release.TLP, markingsOf(inc.obj), "task "+id+" of "+incident, o); err != nil {
		return nil, err
	}
	return s.Task(ctx, c, incident, id)
}

// Task returns one task of an incident, merged. Returns ENOTFOUND.
func (s *Service) Task(ctx context.Context, c Caller, incident, id string) (*Task, error) {
	t, _, err := s.task(ctx, c, incident, id)
	return t, err
}

func (s *Service) task(ctx context.Context, c Caller, incident, id string) (*Task, *raw, error) {
	inc, err := s.incident(ctx, c, incident)
	if err != nil {
		return nil, nil, err
	}
	versions, err := s.Store.FindObjects(ctx, cyberpact.ObjectFilter{IDs: []string{incident}, Viewer: &c.Viewer, Versions: []string{"all"}, Limit: 10000})
	if err != nil {
		return nil, nil, err
	}
	rels := map[string][]cyberpact.Release{incident: {inc.obj.Release}}
	for _, o := range versions.Objects {
		rels[incident] = append(rels[incident], o.Release)
	}
	contribs, err := s.contributions(ctx, c, rels)
	if err != nil {
		return nil, nil, err
	}
	var mine []*raw
	var latest *raw
	for _, r := range contribs[incident] {
		if r.ID == id && r.Type == TypeTask || r.Type == TypeTaskUpdate && r.TaskRef == id {
			mine = append(mine, r)
			if r.Type == TypeTask && (latest == nil || mergeOrder(latest, r) < 0) {
				latest = r
			}
		}
	}
	t := merge(c, id, mine)
	if t == nil {
		return nil, nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no task %s in incident %s", id, incident)
	}
	t.Incident = inc.ID
	return t, latest, nil
}

// UpdateTask edits a task and returns it merged: a new version of it when
// the caller's organisation owns it, else a task-update of the caller's
// own. Returns ENOTFOUND, ECONFLICT for an edit based on another version
// than the current one, EFORBIDDEN when another organisation changes more
// than the status, EINVALID.
func (s *Service) UpdateTask(ctx context.Context, c Caller, incident, id string, e TaskEdit) (*Task, error) {
	t, latest, err := s.task(ctx, c, incident, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayWrite(c); err != nil {
		return nil, err
	}
	if err := stale("task", id, t.Version, e.BasedOn); err != nil {
		return nil, err
	}
	if e.Status != nil {
		if err := oneOf("status", *e.Status, TaskStatuses); err != nil {
			return nil, err
		}
	}
	if e.Status == nil && e.Title == nil && e.Description == nil && e.Assignee == nil && e.AssigneeOrg == nil && e.Due == nil && strings.TrimSpace(e.Comment) == "" {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "the edit changes nothing: give a status, a comment or (the task's owner) other fields")
	}
	version := s.next(t.Version)
	var o map[string]any
	if latest.obj.Release.Producer == c.Actor.Org {
		if err := json.Unmarshal(latest.obj.Raw, &o); err != nil {
			return nil, err
		}
		delete(o, "comment")
		o["modified"], o["based_on"], o["author"], o["author_org"] = version, t.Version, c.Actor.Name, c.OrgName
		// The owner's version carries the merged state, so that it
		// stands alone.
		o["name"], o["status"] = t.Title, t.Status
		for k, v := range map[string]string{"description": t.Description, "assignee": t.Assignee, "assignee_org": t.AssigneeOrg, "due": t.Due} {
			if v != "" {
				o[k] = v
			} else {
				delete(o, k)
			}
		}
		if e.Title != nil {
			if strings.TrimSpace(*e.Title) == "" {
				return nil, cyberpact.Errorf(cyberpact.EINVALID, "title: a task needs a title")
			}
			o["name"] = strings.TrimSpace(*e.Title)
		}
		if e.Due != nil {
			due, err := checkDue(*e.Due)
			if err != nil {
				return nil, err
			}
			o["due"] = due
		}
		for k, p := range map[string]*string{"status": e.Status, "description": e.Description, "assignee": e.Assignee, "assignee_org": e.AssigneeOrg} {
			if p != nil {
				o[k] = *p
			}
		}
		for _, k := range []string{"description", "assignee", "assignee_org", "due"} {
			if o[k] == "" {
				delete(o, k)
			}
		}
		changed := []string{}
		for _, f := range []struct {
			name string
			set  bool
		}{{"title", e.Title != nil}, {"description", e.Description != nil}, {"assignee", e.Assignee != nil},
			{"assignee_org", e.AssigneeOrg != nil}, {"due", e.Due != nil}, {"status", e.Status != nil}} {
			if f.set {
				changed = append(changed, f.name)
			}
		}
		o["changed_fields"] = changed
	} else {
		if e.Title != nil || e.Description != nil || e.Assignee != nil || e.AssigneeOrg != nil || e.Due != nil {
			return nil, cyberpact.Errorf(cyberpact.EFORBIDDEN, "only %s, which made task %s, changes its title, description, assignee or due time: you may change its status and comment on it", cmp.Or(t.AuthorOrg, "its owner"), id)
		}
		o = map[string]any{"type": TypeTaskUpdate, "spec_version": "2.1", "id": TypeTaskUpdate + "--" + uuid.NewString(),
			"created": version, "modified": version, "incident_ref": incident, "task_ref": id, "based_on": t.Version,
			"author": c.Actor.Name, "author_org": c.OrgName}
		if e.Status != nil {
			o["status"] = *e.Status
		}
	}
	if cm := strings.TrimSpace(e.Comment); cm != "" {
		o["comment"] = cm
	}
	inc, err := s.incident(ctx, c, incident)
	if err != nil {
		return nil, err
	}
	rel := inc.obj.Release
	if err := s.write(ctx, c, rel.Audience, rel.TLP, markingsOf(inc.obj, latest.obj), "task "+id+" of "+incident, o); err != nil {
		return nil, err
	}
	return s.Task(ctx, c, incident, id)
}

// NewNote is a note, event or decision for the timeline. Audience and TLP,
// when set, release it otherwise than the incident, never wider (a
// TLP:RED note for one sharing group; see within).
type NewNote struct {
	Kind     string             `json:"kind,omitempty"` // note (default), event, decision
	Title    string             `json:"title,omitempty"`
	Content  string             `json:"content"`
	Task     string             `json:"task,omitempty"` // a task of the incident it is about
	Audience cyberpact.Audience `json:"-"`
	TLP      cyberpact.TLP      `json:"-"`
}

// AddNote adds a note to the incident's timeline and returns it. Returns
// ENOTFOUND, EINVALID, EFORBIDDEN for a reader.
func (s *Service) AddNote(ctx context.Context, c Caller, incident string, in NewNote) (*Note, error) {
	inc, err := s.incident(ctx, c, incident)
	if err != nil {
		return nil, err
	}
	if err := s.mayWrite(c); err != nil {
		return nil, err
	}
	in.Kind = cmp.Or(in.Kind, "note")
	if err := oneOf("kind", in.Kind, NoteKinds); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Content) == "" {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "content: a note needs content")
	}
	refs := []string{incident}
	if in.Task != "" {
		if _, err := s.Task(ctx, c, incident, in.Task); err != nil {
			return nil, cyberpact.Errorf(cyberpact.EINVALID, "task: no task %s in incident %s", in.Task, incident)
		}
		refs = append(refs, in.Task)
	}
	aud, tlp := inc.obj.Release.Audience, inc.obj.Release.TLP
	if in.Audience.Kind != 0 {
		aud = in.Audience
	}
	if in.TLP != cyberpact.TLPUnknown {
		tlp = in.TLP
	}
	if why := cyberpact.RefuseRelease(cyberpact.Release{Producer: c.Actor.Org, Audience: aud, TLP: tlp}); why != "" {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "%s", why)
	}
	if !within(aud, tlp, inc.obj.Release) {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "audience and tlp: a note is released no wider than its incident (audience %s, TLP:%s): "+
			"the incident's audience, your organisation's or, for an incident of all members, one of your groups', at its TLP or above",
			inc.obj.Release.Audience, strings.ToUpper(inc.obj.Release.TLP.String()))
	}
	now := stix.FormatTime(s.now())
	id := TypeNote + "--" + uuid.NewString()
	o := map[string]any{"type": TypeNote, "spec_version": "2.1", "id": id, "created": now, "modified": now,
		"content": in.Content, "object_refs": refs, "authors": []string{c.Actor.Name}, "x_cyberpact_kind": in.Kind,
		"x_cyberpact_author": c.Actor.Name, "x_cyberpact_author_org": c.OrgName}
	if in.Title != "" {
		o["abstract"] = in.Title
	}
	if err := s.write(ctx, c, aud, tlp, markingsOf(inc.obj), "note on "+incident, o); err != nil {
		return nil, err
	}
	return &Note{ID: id, Kind: in.Kind, Title: in.Title, Content: in.Content, Task: in.Task, By: c.Actor.Name + " (" + c.OrgName + ")", TLP: tlp.String(), At: now}, nil
}

// within reports whether a note released to aud at tlp reaches no one the
// incident, released as inc, does not reach, and leaves the hub by
// federation only where the incident may (MayForward): a note names its
// incident, and tells whoever reads it what it says of the incident.
func within(aud cyberpact.Audience, tlp cyberpact.TLP, inc cyberpact.Release) bool {
	if tlp < inc.TLP {
		return false
	}
	switch aud.Kind {
	case cyberpact.AudienceOrg:
		return true
	case cyberpact.AudienceGroup:
		return aud == inc.Audience || inc.Audience.Kind == cyberpact.AudienceAll
	case cyberpact.AudienceAll:
		return inc.Audience.Kind == cyberpact.AudienceAll
	}
	return aud == inc.Audience
}

// NewRFA is a request for assistance.
type NewRFA struct {
	Kind        string   `json:"kind"`
	To          []string `json:"addressed_to,omitempty"` // organisations by name; empty: everyone who sees the incident
	Description string   `json:"description"`
	Due         string   `json:"due,omitempty"`
}

// RequestAssistance adds a request for assistance to the incident.
// Returns ENOTFOUND, EINVALID, EFORBIDDEN for a reader.
func (s *Service) RequestAssistance(ctx context.Context, c Caller, incident string, in NewRFA) (*RFA, error) {
	inc, err := s.incident(ctx, c, incident)
	if err != nil {
		return nil, err
	}
	if err := s.mayWrite(c); err != nil {
		return nil, err
	}
	if err := oneOf("kind", in.Kind, RFAKinds); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Description) == "" {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "description: say what help is asked for")
	}
	due, err := checkDue(in.Due)
	if err != nil {
		return nil, err
	}
	now := stix.FormatTime(s.now())
	id := TypeRFA + "--" + uuid.NewString()
	o := map[string]any{"type": TypeRFA, "spec_version": "2.1", "id": id, "created": now, "modified": now, "incident_ref": incident,
		"kind": in.Kind, "description": in.Description, "author": c.Actor.Name, "author_org": c.OrgName}
	if len(in.To) > 0 {
		o["addressed_to"] = in.To
	}
	if due != "" {
		o["due"] = due
	}
	if err := s.write(ctx, c, inc.obj.Release.Audience, inc.obj.Release.TLP, markingsOf(inc.obj), "request "+id+" on "+incident, o); err != nil {
		return nil, err
	}
	cs, err := s.Get(ctx, c, incident)
	if err != nil {
		return nil, err
	}
	for _, q := range cs.RFAs {
		if q.ID == id {
			return q, nil
		}
	}
	return nil, cyberpact.Errorf(cyberpact.EINTERNAL, "request %s not found after it was stored", id)
}

// Respond accepts or declines a request for assistance. Only an
// organisation it is addressed to (any that sees it, when it names none)
// answers, never the one that asked. Returns ENOTFOUND, EFORBIDDEN,
// EINVALID.
func (s *Service) Respond(ctx context.Context, c Caller, incident, rfa, decision, comment string) (*RFA, error) {
	cs, err := s.Get(ctx, c, incident)
	if err != nil {
		return nil, err
	}
	var q *RFA
	for _, x := range cs.RFAs {
		if x.ID == rfa {
			q = x
		}
	}
	if q == nil {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no request %s in incident %s", rfa, incident)
	}
	if err := s.mayWrite(c); err != nil {
		return nil, err
	}
	switch decision {
	case "accept", "accepted":
		decision = "accepted"
	case "decline", "declined":
		decision = "declined"
	default:
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "decision %q is not accept or decline", decision)
	}
	if !q.ForCaller {
		return nil, cyberpact.Errorf(cyberpact.EFORBIDDEN, "request %s is addressed to %s, not to your organisation", rfa, toWords(q.To))
	}
	now := stix.FormatTime(s.now())
	o := map[string]any{"type": TypeRFAResponse, "spec_version": "2.1", "id": TypeRFAResponse + "--" + uuid.NewString(),
		"created": now, "modified": now, "incident_ref": incident, "rfa_ref": rfa, "decision": decision,
		"author": c.Actor.Name, "author_org": c.OrgName}
	if cm := strings.TrimSpace(comment); cm != "" {
		o["comment"] = cm
	}
	if err := s.write(ctx, c, cs.release.Audience, cs.release.TLP, markingsOf(cs.Objects[0]), "answer to "+rfa, o); err != nil {
		return nil, err
	}
	if cs, err = s.Get(ctx, c, incident); err != nil {
		return nil, err
	}
	for _, x := range cs.RFAs {
		if x.ID == rfa {
			return x, nil
		}
	}
	return nil, cyberpact.Errorf(cyberpact.EINTERNAL, "request %s not found after it was answered", rfa)
}

// markingsOf returns the marking definitions other than TLP's that mark
// the versions objs (object_marking_refs and granular markings), each
// once: a contribution to an incident carries the incident's, so that its
// releasability and marking-set levels keep it from whoever may not see
// the incident.
func markingsOf(objs ...*cyberpact.Object) []string {
	var out []string
	for _, o := range objs {
		var m struct {
			Refs     []string `json:"object_marking_refs"`
			Granular []struct {
				Ref string `json:"marking_ref"`
			} `json:"granular_markings"`
		}
		json.Unmarshal(o.Raw, &m)
		for _, g := range m.Granular {
			m.Refs = append(m.Refs, g.Ref)
		}
		for _, ref := range m.Refs {
			if ref != "" && stix.TLPOf([]string{ref}) == cyberpact.TLPUnknown && !slices.Contains(out, ref) {
				out = append(out, ref)
			}
		}
	}
	return out
}

// write imports objs as the caller's organisation's, released to aud at
// tlp (written into them as their TLP 2.0 marking) and marked with the
// marking definitions marks, through the one audited admission step. A
// refusal is EINVALID with its reasons.
func (s *Service) write(ctx context.Context, c Caller, aud cyberpact.Audience, tlp cyberpact.TLP, marks []string, about string, objs ...map[string]any) error {
	if aud.Kind == cyberpact.AudienceGroup && !c.Viewer.InGroup(aud.Group) {
		return cyberpact.Errorf(cyberpact.EINVALID, "audience: your organisation is not in that sharing group")
	}
	if aud.Kind == 0 {
		aud = cyberpact.Audience{Kind: cyberpact.AudienceAll}
	}
	if why := cyberpact.RefuseRelease(cyberpact.Release{Producer: c.Actor.Org, Audience: aud, TLP: tlp}); why != "" {
		return cyberpact.Errorf(cyberpact.EINVALID, "%s", why)
	}
	list := make([]any, len(objs))
	for i, o := range objs {
		o["object_marking_refs"] = append([]string{stix.TLPMarking(tlp)}, marks...)
		delete(o, "granular_markings")
		list[i] = o
	}
	body, err := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": list})
	if err != nil {
		return err
	}
	dec := stix.NewDecoder(bytes.NewReader(body))
	defer dec.Close()
	opts := cyberpact.ImportOptions{Producer: c.Actor.Org, Audience: aud, DefaultTLP: tlp}
	res, err := cyberpact.AuditedImport(ctx, s.Store, s.Audit, c.Actor, dec.Next, opts, about)
	if err != nil {
		return err
	}
	if len(res.Rejected) > 0 || !res.Committed {
		return cyberpact.Errorf(cyberpact.EINVALID, "refused: %s", cyberpact.Rejections(res.Rejected).Error())
	}
	return nil
}
