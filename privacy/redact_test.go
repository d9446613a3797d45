package privacy_test

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact/privacy"
)

func pseudonymizer(t *testing.T, key string) *privacy.Pseudonymizer {
	t.Helper()
	p, err := privacy.NewPseudonymizer([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPseudonymsStableAcrossHubsOfOnePartnership: two hubs with the same
// partnership key give a value the same pseudonym (whatever its case or
// spacing), a hub with another key another one, and the pseudonym shows
// nothing of the value.
func TestPseudonymsStableAcrossHubsOfOnePartnership(t *testing.T) {
	a := pseudonymizer(t, "partnership key of the alliance")
	b := pseudonymizer(t, "partnership key of the alliance")
	other := pseudonymizer(t, "another partnership's own key..")
	for _, tc := range []struct {
		kind   privacy.Kind
		v1, v2 string
	}{
		{privacy.Email, "Jane.Doe@Acme-Energy.com", "jane.doe@acme-energy.com"},
		{privacy.Phone, "+44 20 7946 0958", "+44-20-7946-0958"},
		{privacy.Name, "Jane  Doe", "jane doe"},
		{privacy.Account, "JDOE", "jdoe"},
		{privacy.Address, "221B Baker Street, London NW1 6XE", "221b baker street london  nw1 6xe"},
	} {
		p := a.Pseudonym(tc.kind, tc.v1)
		if q := b.Pseudonym(tc.kind, tc.v2); p != q {
			t.Errorf("%s: %q on hub A is %s, %q on hub B %s", tc.kind, tc.v1, p, tc.v2, q)
		}
		if q := other.Pseudonym(tc.kind, tc.v1); p == q {
			t.Errorf("%s: another partnership's key gives the same pseudonym %s", tc.kind, p)
		}
		if !strings.HasPrefix(p, "pd:"+string(tc.kind)+":") || !privacy.IsPseudonym(p) {
			t.Errorf("%s: pseudonym %q has not the form pd:KIND:HEX", tc.kind, p)
		}
	}
	if _, err := privacy.NewPseudonymizer([]byte("short")); err == nil {
		t.Error("a 5-byte key was accepted")
	}
}

// TestRedactLeavesNoValue redacts every labelled object of the corpus as
// one import and checks that no labelled value remains anywhere in the
// encoded result, that every reference to an e-mail address or user
// account agrees with the id that object itself got, that the
// attacker's addresses stay in the clear and that each pseudonym maps
// back to its value for unmasking.
func TestRedactLeavesNoValue(t *testing.T) {
	p := pseudonymizer(t, "partnership key of the alliance")
	f, err := os.Open("testdata/objects.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var c privacy.Context
	ids := map[string]string{} // original id -> new id, from every object
	var out []string
	values := map[string]string{}
	for sc.Scan() {
		var item struct {
			Object map[string]any
			Expect []struct{ Kind, Path, Value string }
		}
		if err := json.Unmarshal(sc.Bytes(), &item); err != nil {
			t.Fatal(err)
		}
		c.Learn(item.Object)
		r := p.Redact(item.Object, privacy.All(), &c)
		for o, n := range r.IDs {
			if prev, ok := ids[o]; ok && prev != n {
				t.Errorf("%s rewritten to %s and %s", o, prev, n)
			}
			ids[o] = n
		}
		for ps, v := range r.Values {
			values[ps] = v
		}
		b, _ := json.Marshal(item.Object)
		for _, e := range item.Expect {
			if strings.Contains(string(b), e.Value) {
				t.Errorf("redacted object still holds %s %q: %s", e.Kind, e.Value, b)
			}
		}
		out = append(out, string(b))
	}
	all := strings.Join(out, "\n")
	for o := range ids {
		if strings.Contains(all, o) {
			t.Errorf("the original id %s is still referred to", o)
		}
	}
	for _, kept := range []string{"billing@secure-docs-portal.com", "recruiter.jobs@careers-globalcorp.com", "185.220.101.45", "T1566.001"} {
		if !strings.Contains(all, kept) {
			t.Errorf("%s, the attacker's or no personal data, was redacted", kept)
		}
	}
	if strings.Contains(all, "Summer2024!") || strings.Contains(all, `"credential"`) {
		t.Error("a user account's credential survived")
	}
	ps := p.Pseudonym(privacy.Email, "m.brennan@northbank-finance.co.uk")
	if !strings.Contains(all, ps) || values[ps] != "m.brennan@northbank-finance.co.uk" {
		t.Errorf("pseudonym %s: in output %v, unmasks to %q", ps, strings.Contains(all, ps), values[ps])
	}
	// The same import on another hub of the partnership gives the same ids.
	q := pseudonymizer(t, "partnership key of the alliance")
	for o, n := range ids {
		if q.RefID(o) != n {
			t.Errorf("%s: another hub with the key makes %s, not %s", o, q.RefID(o), n)
		}
	}
}

// TestDetectorsFollowPolicy: a detector that is off finds nothing, and
// ParseDetectors reads the policy's list, refusing an unknown name.
func TestDetectorsFollowPolicy(t *testing.T) {
	text := "Please contact Jane Doe at jane.doe@acme-energy.com or +44 20 7946 0958."
	d, err := privacy.ParseDetectors("phone")
	if err != nil {
		t.Fatal(err)
	}
	got := privacy.FindText(text, d)
	if len(got) != 1 || got[0].Kind != privacy.Phone {
		t.Errorf("phone only: %+v", got)
	}
	home := "The lure quoted 12 rue de la Paix, 75002 Paris, and +44 20 7946 0958."
	if got := privacy.FindText(home, privacy.Detectors{privacy.Address: true}); len(got) != 1 || got[0].Value != "12 rue de la Paix, 75002 Paris" {
		t.Errorf("address only: %+v", got)
	}
	if got := privacy.FindText(home, d); len(got) != 1 || got[0].Kind != privacy.Phone {
		t.Errorf("phone only, with an address: %+v", got)
	}
	if got := privacy.FindText(text, privacy.Detectors{}); len(got) != 0 {
		t.Errorf("no detector: %+v", got)
	}
	if _, err := privacy.ParseDetectors("email,passport"); err == nil || !strings.Contains(err.Error(), `"passport"`) {
		t.Errorf("unknown detector: %v", err)
	}
	if d, _ := privacy.ParseDetectors("all"); d.String() != "email,account,phone,name,individual,address" {
		t.Errorf("all: %s", d)
	}
}

// TestRedactedIDsAreNotRewrittenTwice: an id RefID made is a UUIDv8 that
// STIX accepts, and redacting an object that already holds one (as when
// it comes back from a peer of the partnership) leaves it as it is.
func TestRedactedIDsAreNotRewrittenTwice(t *testing.T) {
	p := pseudonymizer(t, "partnership key of the alliance")
	id := p.RefID("email-addr--2e1b8fac-3d8f-5b4f-9a22-1d1c1b1a0902")
	if !privacy.Redacted(id) || privacy.Redacted("email-addr--2e1b8fac-3d8f-5b4f-9a22-1d1c1b1a0902") {
		t.Fatalf("Redacted(%s) false or the original counts as redacted", id)
	}
	props := map[string]any{"type": "email-addr", "id": id, "value": "pd:email:0123456789abcdef0123456789abcdef"}
	r := p.Redact(props, privacy.All(), nil)
	if r.Changed() || props["id"] != id {
		t.Errorf("redacting again changed it: %+v, id %v", r, props["id"])
	}
}

// BenchmarkFindText runs every detector over one sentence of report
// prose holding a name, an address and a phone number among attacker
// infrastructure.
func BenchmarkFindText(b *testing.B) {
	text := "Victim Laurent Dubois (l.dubois@northbank.example) called the SOC on +44 20 7946 0958 after Cobalt Strike beacons reached 198.51.100.7 from hxxp://secure-docs-portal[.]com, exploiting CVE-2023-34362 on 2023-05-27."
	for b.Loop() {
		if len(privacy.FindText(text, privacy.All())) != 3 {
			b.Fatal("not 3 findings")
		}
	}
}

// BenchmarkFindTextAddresses runs the detectors over 2 KB of report prose
// dense with postal addresses (two in every 200 bytes, among capitalised
// words, IP addresses and numbers), with the address detector and, as the
// baseline of the same run, without it.
func BenchmarkFindTextAddresses(b *testing.B) {
	text := strings.Repeat("The Norwegian energy firm saw Cobalt Strike beacons reach 198.51.100.7 on port 443 from 12 Windows hosts; the victim's address 221B Baker Street, London NW1 6XE and Hauptstraße 5, 10115 Berlin leaked. ", 10)
	without := privacy.All()
	delete(without, privacy.Address)
	for _, c := range []struct {
		name string
		d    privacy.Detectors
		n    int
	}{{"all", privacy.All(), 20}, {"without-address", without, 0}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				n := 0
				for _, f := range privacy.FindText(text, c.d) {
					if f.Kind == privacy.Address {
						n++
					}
				}
				if n != c.n {
					b.Fatalf("%d addresses, want %d", n, c.n)
				}
			}
		})
	}
}
