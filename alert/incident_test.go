package alert_test

import (
	"context"
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
