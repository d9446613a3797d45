package alert_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/incident"
	"github.com/google/go-cmp/cmp"
)

// TestIncidentAlertsKeepToTheRule works a joint incident of the cell and
// a TLP:RED note on it: a subscriber of the cell is told of every object
// of it, and one outside the cell, subscribed to everything, of none, by
// webhook or by mail.
func TestIncidentAlertsKeepToTheRule(t *testing.T) {
	engines(t, func(t *testing.T, h *hub) {
		ctx := context.Background()
		mb := newMailbox(t)
		ukHook, frHook := newReceiver(t), newReceiver(t)
		h.subscribe(t, &cyberpact.Subscription{Org: h.uk.ID, Event: cyberpact.EventObject, Channel: cyberpact.ChannelWebhook, Target: ukHook.URL, Secret: secret})
		h.subscribe(t, &cyberpact.Subscription{Org: h.fr.ID, Event: cyberpact.EventObject, Channel: cyberpact.ChannelWebhook, Target: frHook.URL, Secret: secret})
		h.subscribe(t, &cyberpact.Subscription{Org: h.fr.ID, Event: cyberpact.EventObject, Channel: cyberpact.ChannelEmail, Target: "cert@anssi.test"})

		svc := &incident.Service{Store: h.db, Audit: h.db.(cyberpact.AuditLog)}
		us := incident.Caller{Viewer: cyberpact.Viewer{Org: h.us.ID, Groups: []int64{h.cell.ID}}, OrgName: h.us.Name, CanWrite: true,
			Actor: cyberpact.Actor{Name: "ann@us-cert.test", Org: h.us.ID, Via: "test"}}
		cs, err := svc.Create(ctx, us, incident.NewIncident{Name: "Grid intrusion", Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: h.cell.ID}})
		if err != nil {
			t.Fatal(err)
		}
		task, err := svc.AddTask(ctx, us, cs.ID, incident.NewTask{Title: "Reverse the loader", Assignee: "bo@ncsc.test", AssigneeOrg: "NCSC"})
		if err != nil {
			t.Fatal(err)
		}
		red, err := svc.AddNote(ctx, us, cs.ID, incident.NewNote{Content: "the source is a liaison officer", TLP: cyberpact.TLPRed})
		if err != nil {
			t.Fatal(err)
		}
		// An object of all members, so that FR's subscriptions are shown
		// to work.
		h.importAs(t, h.us, cyberpact.Audience{Kind: cyberpact.AudienceAll}, malware(9))
		run(t, dispatcher(h, mb))

		mal := "malware--00000000-0000-4000-8000-000000000009"
		want := []string{cs.ID, mal, red.ID, task.ID}
		if diff := cmp.Diff(want, ukHook.ids(t)); diff != "" {
			t.Errorf("UK, in the cell (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{mal}, frHook.ids(t)); diff != "" {
			t.Errorf("FR, outside the cell (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string][]string{"cert@anssi.test": {mal}}, mb.sent(t)); diff != "" {
			t.Errorf("FR's mail (-want +got):\n%s", diff)
		}
	})
}

// TestAssignedAndRequestEvents subscribes a London analyst to the tasks
// assigned to her and her organisation to the requests addressed to it:
// each is told of exactly those, and of nothing its organisation may not
// see; the organisation that asked is not told of its own request, nor is
// one outside the incident's group.
func TestAssignedAndRequestEvents(t *testing.T) {
	engines(t, func(t *testing.T, h *hub) {
		ctx := context.Background()
		mb := newMailbox(t)
		bo := &cyberpact.User{Name: "bo@ncsc.test", Org: h.uk.ID, Role: cyberpact.RoleAnalyst}
		if err := h.db.CreateUser(ctx, bo, "cli"); err != nil {
			t.Fatal(err)
		}
		boTasks, ukTasks, ukRequests, usRequests, frRequests := newReceiver(t), newReceiver(t), newReceiver(t), newReceiver(t), newReceiver(t)
		for _, s := range []*cyberpact.Subscription{
			{Org: h.uk.ID, User: bo.ID, Event: cyberpact.EventAssigned, Channel: cyberpact.ChannelWebhook, Target: boTasks.URL, Secret: secret},
			{Org: h.uk.ID, Event: cyberpact.EventAssigned, Channel: cyberpact.ChannelWebhook, Target: ukTasks.URL, Secret: secret},
			{Org: h.uk.ID, Event: cyberpact.EventRequest, Channel: cyberpact.ChannelWebhook, Target: ukRequests.URL, Secret: secret},
			{Org: h.us.ID, Event: cyberpact.EventRequest, Channel: cyberpact.ChannelWebhook, Target: usRequests.URL, Secret: secret},
			{Org: h.fr.ID, Event: cyberpact.EventRequest, Channel: cyberpact.ChannelWebhook, Target: frRequests.URL, Secret: secret},
			{Org: h.uk.ID, User: bo.ID, Event: cyberpact.EventAssigned, Channel: cyberpact.ChannelEmail, Target: "bo@ncsc.test"},
		} {
			h.subscribe(t, s)
		}
		svc := &incident.Service{Store: h.db, Audit: h.db.(cyberpact.AuditLog)}
		us := incident.Caller{Viewer: cyberpact.Viewer{Org: h.us.ID, Groups: []int64{h.cell.ID}}, OrgName: h.us.Name, CanWrite: true,
			Actor: cyberpact.Actor{Name: "ann@us-cert.test", Org: h.us.ID, Via: "test"}}
		cell := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: h.cell.ID}
		cs, err := svc.Create(ctx, us, incident.NewIncident{Name: "Grid intrusion", Audience: cell})
		if err != nil {
			t.Fatal(err)
		}
		hers, err := svc.AddTask(ctx, us, cs.ID, incident.NewTask{Title: "Reverse the loader", Assignee: bo.Name, AssigneeOrg: h.uk.Name})
		if err != nil {
			t.Fatal(err)
		}
		other, err := svc.AddTask(ctx, us, cs.ID, incident.NewTask{Title: "Brief the minister", Assignee: "someone@ncsc.test", AssigneeOrg: h.uk.Name})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddTask(ctx, us, cs.ID, incident.NewTask{Title: "Patch the relays", Assignee: "ann@us-cert.test", AssigneeOrg: h.us.Name}); err != nil {
			t.Fatal(err)
		}
		toUK, err := svc.RequestAssistance(ctx, us, cs.ID, incident.NewRFA{Kind: "takedown", To: []string{h.uk.Name}, Description: "take down c2.example"})
		if err != nil {
			t.Fatal(err)
		}
		toAll, err := svc.RequestAssistance(ctx, us, cs.ID, incident.NewRFA{Kind: "analysis", Description: "who has seen this loader?"})
		if err != nil {
			t.Fatal(err)
		}
		// A request of all members addressed to FR is FR's to hear of.
		open, err := svc.Create(ctx, us, incident.NewIncident{Name: "Phishing", Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPGreen})
		if err != nil {
			t.Fatal(err)
		}
		toFR, err := svc.RequestAssistance(ctx, us, open.ID, incident.NewRFA{Kind: "indicators", To: []string{h.fr.Name}, Description: "share the kit's hashes"})
		if err != nil {
			t.Fatal(err)
		}
		run(t, dispatcher(h, mb))
		sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
		for _, c := range []struct {
			name string
			r    *receiver
			want []string
		}{
			{"TheAnalystsOwnTasks", boTasks, []string{hers.ID}},
			{"TheOrganisationsTasks", ukTasks, sorted(hers.ID, other.ID)},
			{"RequestsToTheOrganisationOrToEveryone", ukRequests, sorted(toUK.ID, toAll.ID)},
			{"NotItsOwnRequests", usRequests, nil},
			{"OutsideTheGroupOnlyWhatItSees", frRequests, []string{toFR.ID}},
		} {
			t.Run(c.name, func(t *testing.T) {
				if diff := cmp.Diff(c.want, c.r.ids(t)); diff != "" {
					t.Errorf("deliveries (-want +got):\n%s", diff)
				}
			})
		}
		if diff := cmp.Diff(map[string][]string{"bo@ncsc.test": {hers.ID}}, mb.sent(t)); diff != "" {
			t.Errorf("mails (-want +got):\n%s", diff)
		}
	})
}

// TestNoAlertOfAContributionItsIncidentDoesNotShow: FR, outside the cell,
// posts through the store a task naming the cell's incident, assigned to
// a UK analyst and released to all members, and a request addressed to
// the UK. The incident's page does not show them (their producer may not
// see the incident), so nobody is told of them either; the same task and
// request by the US, in the cell, are told.
func TestNoAlertOfAContributionItsIncidentDoesNotShow(t *testing.T) {
	engines(t, func(t *testing.T, h *hub) {
		ctx := context.Background()
		bo := &cyberpact.User{Name: "bo@ncsc.test", Org: h.uk.ID, Role: cyberpact.RoleAnalyst}
		if err := h.db.CreateUser(ctx, bo, "cli"); err != nil {
			t.Fatal(err)
		}
		tasks, requests := newReceiver(t), newReceiver(t)
		h.subscribe(t, &cyberpact.Subscription{Org: h.uk.ID, User: bo.ID, Event: cyberpact.EventAssigned, Channel: cyberpact.ChannelWebhook, Target: tasks.URL, Secret: secret})
		h.subscribe(t, &cyberpact.Subscription{Org: h.uk.ID, Event: cyberpact.EventRequest, Channel: cyberpact.ChannelWebhook, Target: requests.URL, Secret: secret})
		svc := &incident.Service{Store: h.db, Audit: h.db.(cyberpact.AuditLog)}
		us := incident.Caller{Viewer: cyberpact.Viewer{Org: h.us.ID, Groups: []int64{h.cell.ID}}, OrgName: h.us.Name, CanWrite: true,
			Actor: cyberpact.Actor{Name: "ann@us-cert.test", Org: h.us.ID, Via: "test"}}
		cs, err := svc.Create(ctx, us, incident.NewIncident{Name: "Grid intrusion", Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: h.cell.ID}})
		if err != nil {
			t.Fatal(err)
		}
		task := func(n int) string {
			return fmt.Sprintf(`{"type":"x-cyberpact-task","spec_version":"2.1","id":"x-cyberpact-task--00000000-0000-4000-8000-%012d","created":"2026-01-02T00:00:00.000Z","modified":"2026-01-02T00:00:00.000Z","incident_ref":"%s","name":"Wipe the relays","status":"open","assignee":"bo@ncsc.test","assignee_org":"%s","object_marking_refs":["%s"]}`, n, cs.ID, h.uk.Name, tlpGreen)
		}
		request := func(n int) string {
			return fmt.Sprintf(`{"type":"x-cyberpact-rfa","spec_version":"2.1","id":"x-cyberpact-rfa--00000000-0000-4000-8000-%012d","created":"2026-01-02T00:00:00.000Z","modified":"2026-01-02T00:00:00.000Z","incident_ref":"%s","kind":"takedown","status":"open","addressed_to":["%s"],"description":"take it down","object_marking_refs":["%s"]}`, n, cs.ID, h.uk.Name, tlpGreen)
		}
		all := cyberpact.Audience{Kind: cyberpact.AudienceAll}
		h.importAs(t, h.fr, all, task(1), request(2))
		h.importAs(t, h.us, all, task(3), request(4))
		run(t, dispatcher(h, nil))
		if diff := cmp.Diff([]string{"x-cyberpact-task--00000000-0000-4000-8000-000000000003"}, tasks.ids(t)); diff != "" {
			t.Errorf("bo's tasks (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"x-cyberpact-rfa--00000000-0000-4000-8000-000000000004"}, requests.ids(t)); diff != "" {
			t.Errorf("UK's requests (-want +got):\n%s", diff)
		}
	})
}
