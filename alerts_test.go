package cyberpact

import (
	"encoding/json"
	"testing"
)

// TestSubscriptionMatches checks each filter field alone, and that
// sighting subscriptions take only sightings of the organisation's own
// objects.
func TestSubscriptionMatches(t *testing.T) {
	ind := &Object{Type: "indicator", Release: Release{Producer: 7, TLP: TLPAmber},
		Raw: json.RawMessage(`{"type":"indicator","labels":["apt"],"pattern":"[ipv4-addr:value = '198.51.100.7']"}`)}
	file := &Object{Type: "file", Release: Release{Producer: 8, TLP: TLPGreen},
		Raw: json.RawMessage(`{"type":"file","hashes":{"SHA-256":"ABCD"}}`)}
	sight := &Object{Type: "sighting", Release: Release{Producer: 9}, Raw: json.RawMessage(`{"type":"sighting"}`)}
	obj := func(f AlertFilter) *Subscription { return &Subscription{Org: 1, Event: EventObject, Filter: f} }
	for _, c := range []struct {
		name    string
		s       *Subscription
		o       *Object
		sighted int64
		want    bool
	}{
		{"EmptyFilterTakesAll", obj(AlertFilter{}), file, 0, true},
		{"Type", obj(AlertFilter{Types: []string{"indicator"}}), ind, 0, true},
		{"OtherType", obj(AlertFilter{Types: []string{"indicator"}}), file, 0, false},
		{"Label", obj(AlertFilter{Labels: []string{"apt", "x"}}), ind, 0, true},
		{"NoLabel", obj(AlertFilter{Labels: []string{"x"}}), ind, 0, false},
		{"TLP", obj(AlertFilter{TLPs: []TLP{TLPAmber}}), ind, 0, true},
		{"OtherTLP", obj(AlertFilter{TLPs: []TLP{TLPRed}}), ind, 0, false},
		{"Producer", obj(AlertFilter{Producers: []int64{7}}), ind, 0, true},
		{"OtherProducer", obj(AlertFilter{Producers: []int64{8}}), ind, 0, false},
		{"PatternValue", obj(AlertFilter{Values: []string{"198.51.100.7"}}), ind, 0, true},
		{"PatternValuePrefixIsNot", obj(AlertFilter{Values: []string{"198.51.100.70"}}), ind, 0, false},
		{"HashAnyCase", obj(AlertFilter{Values: []string{"abcd"}}), file, 0, true},
		{"FieldsAreANDed", obj(AlertFilter{Types: []string{"indicator"}, TLPs: []TLP{TLPGreen}}), ind, 0, false},
		{"SightingOfMine", &Subscription{Org: 1, Event: EventSighting}, sight, 1, true},
		{"SightingOfAnothers", &Subscription{Org: 1, Event: EventSighting}, sight, 2, false},
		{"SightingSubscriptionTakesNoObject", &Subscription{Org: 1, Event: EventSighting}, ind, 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.s.Matches(c.o, c.sighted); got != c.want {
				t.Errorf("Matches = %v, want %v", got, c.want)
			}
		})
	}
}

// TestSubscriptionCheckRefuses names what is wrong in each bad subscription.
func TestSubscriptionCheckRefuses(t *testing.T) {
	ok := Subscription{Org: 1, Event: EventObject, Channel: ChannelWebhook, Target: "https://soc.example/hook", Secret: "0123456789abcdef"}
	if err := ok.Check(); err != nil {
		t.Fatalf("a good subscription refused: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(s *Subscription)
	}{
		{"UnknownEvent", func(s *Subscription) { s.Event = "news" }},
		{"NoOrg", func(s *Subscription) { s.Org = 0 }},
		{"UnknownChannel", func(s *Subscription) { s.Channel = "pager" }},
		{"NotHTTP", func(s *Subscription) { s.Target = "ftp://soc.example/" }},
		{"ShortSecret", func(s *Subscription) { s.Secret = "short" }},
		{"BadAddress", func(s *Subscription) { s.Channel, s.Target = ChannelEmail, "SOC <soc@example.org>" }},
		{"SightingWithFilter", func(s *Subscription) { s.Event, s.Filter.Types = EventSighting, []string{"indicator"} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := ok
			c.edit(&s)
			if err := s.Check(); ErrorCode(err) != EINVALID {
				t.Errorf("Check = %v, want EINVALID", err)
			}
		})
	}
}
