package match_test

import (
	"bytes"
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/cyberpact/cyberpact/match"
)

// ind returns the JSON of an indicator; extra is more properties.
func ind(n int, pattern string, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	p := strings.ReplaceAll(pattern, `\`, `\\`)
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","pattern":"%s","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"%s}`, n, p, extra)
}

func id(n int) string { return fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", n) }

func raws(objs ...string) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		for _, o := range objs {
			if !yield([]byte(o), nil) {
				return
			}
		}
	}
}

func build(t *testing.T, objs ...string) *match.Index {
	t.Helper()
	ix, err := match.Build(raws(objs...), match.BuildOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// hitsOf runs events (JSON lines) through ix and returns, per line, the
// sorted indicator ids that hit.
func hitsOf(t *testing.T, ix *match.Index, events string, opt match.StreamOptions) map[int][]string {
	t.Helper()
	alerts, _ := runStream(t, ix, []byte(events), opt)
	got := map[int][]string{}
	for _, a := range alerts {
		got[a.Line] = append(got[a.Line], a.Indicators...)
	}
	for _, v := range got {
		sort.Strings(v)
	}
	return got
}

func TestIndexDecides(t *testing.T) {
	ix := build(t,
		ind(1, "[ipv4-addr:value = '198.51.100.7']", ""),
		ind(2, "[ipv4-addr:value ISSUBSET '203.0.113.0/24']", ""),
		ind(3, "[ipv6-addr:value = '2001:db8::/48']", ""),
		ind(4, "[domain-name:value = 'Evil.Example']", ""),
		ind(5, "[file:hashes.'SHA-256' = 'AB"+strings.Repeat("0", 62)+"']", ""),
		ind(6, "[file:hashes.MD5 = '"+strings.Repeat("c", 32)+"' OR file:hashes.'SHA-1' = '"+strings.Repeat("d", 40)+"']", ""),
		ind(7, "[process:name = 'mimikatz.exe']", ""),
		ind(8, "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Run\\\\evil']", ""),
		ind(9, "[url:value = 'http://evil.example/a']", ""),
		ind(10, "[email-addr:value = 'ceo@evil.example']", ""),
		ind(11, "[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')] OR [domain-name:value = 'other.test']", ""),
		ind(12, "[network-traffic:dst_port = 4444]", ""),
		ind(13, "[ipv4-addr:value = '198.51.100.7']", `"revoked":true`),
		ind(14, "[ipv4-addr:value = '198.51.100.7']", `"valid_until":"2026-02-01T00:00:00Z"`),
		ind(15, "[ipv4-addr:value = '198.51.100.7']", `"valid_from":"2027-01-01T00:00:00Z"`),
		ind(16, "[user-account:user_id = '1001']", ""),
	)
	if st := ix.Stats(); st.Revoked != 2 || st.Complex != 0 {
		t.Errorf("stats %+v: want 2 revoked or expired, 0 complex", st)
	}
	for _, tc := range []struct {
		name       string
		event      string
		subdomains bool
		want       []string
	}{
		{"ExactIPv4", `{"destination":{"ip":"198.51.100.7"}}`, false, []string{id(1)}},
		{"CIDRSubset", `{"source.ip":"203.0.113.200"}`, false, []string{id(2)}},
		{"CIDRBoundaryOutside", `{"source.ip":"203.0.114.0"}`, false, nil},
		{"IPv6CIDRWithEquals", `{"client":{"ip":"2001:db8:0:ffff::1"}}`, false, []string{id(3)}},
		{"DomainCaseAndTrailingDot", `{"dns":{"question":{"name":"EVIL.example."}}}`, false, []string{id(4)}},
		{"SubdomainOffNoHit", `{"dns":{"question":{"name":"www.evil.example"}}}`, false, nil},
		{"SubdomainOn", `{"dns":{"question":{"name":"www.evil.example"}}}`, true, []string{id(4)}},
		{"SuffixIsNotSubdomain", `{"dns":{"question":{"name":"notevil.example"}}}`, true, nil},
		{"HashUpperInIndicatorLowerInEvent", `{"file":{"hash":{"sha256":"ab` + strings.Repeat("0", 62) + `"}}}`, false, []string{id(5)}},
		{"HashAlternatives", `{"file.hash.sha1":"` + strings.Repeat("D", 40) + `"}`, false, []string{id(6)}},
		{"ProcessName", `{"process":{"name":"mimikatz.exe"}}`, false, []string{id(7)}},
		{"RegistryKeyEscaped", `{"registry":{"key":"HKEY_LOCAL_MACHINE\\Run\\evil"}}`, false, []string{id(8)}},
		{"URLNormalised", `{"url":{"original":"HTTP://EVIL.example:80/a#x"}}`, false, []string{id(9)}},
		{"URLPathCaseMatters", `{"url":{"full":"http://evil.example/A"}}`, false, nil},
		{"EmailInArray", `{"email":{"to":{"address":["x@y.test","CEO@evil.example"]}}}`, false, []string{id(10)}},
		{"InListAndObservationOr", `{"destination.ip":"192.0.2.2"}`, false, []string{id(11)}},
		{"ObservationOrOtherSide", `{"url.domain":"other.test"}`, false, []string{id(11)}},
		{"PortAsNumber", `{"destination":{"port":4444}}`, false, []string{id(12)}},
		{"UserID", `{"user":{"id":"1001"}}`, false, []string{id(16)}},
		{"DomainFieldHoldingAnIP", `{"destination":{"domain":"198.51.100.7"}}`, false, []string{id(1)}},
		{"NothingKnown", `{"source":{"ip":"10.1.2.3"},"dns":{"question":{"name":"benign.example"}}}`, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hitsOf(t, ix, tc.event+"\n", match.StreamOptions{Subdomains: tc.subdomains})
			if !slices.Equal(got[1], tc.want) {
				t.Errorf("hits %v, want %v", got[1], tc.want)
			}
		})
	}
}

func TestComplexPatternsGoToThePatternEngine(t *testing.T) {
	ix := build(t,
		ind(1, "[network-traffic:dst_ref.value = '192.0.2.9' AND network-traffic:dst_port = 443]", ""),
		ind(2, "[domain-name:value = 'a.test'] AND [domain-name:value = 'b.test']", ""),
		ind(3, "[url:value LIKE 'http://x.test/%']", ""),
		ind(4, "[domain-name:value = 'c.test'] FOLLOWEDBY [ipv4-addr:value = '192.0.2.50']", ""),
		ind(5, "[process:name = 'evil.exe' AND process:command_line MATCHES '-enc .*']", ""),
	)
	if st := ix.Stats(); st.Complex != 5 {
		t.Fatalf("stats %+v: want 5 complex", st)
	}
	events := strings.Join([]string{
		`{"destination":{"ip":"192.0.2.9","port":443}}`,                 // 1: hit 1
		`{"destination":{"ip":"192.0.2.9","port":80}}`,                  // 2: wrong port
		`{"source":{"ip":"192.0.2.9"},"destination":{"port":443}}`,      // 3: wrong direction
		`{"dns.question.name":"a.test"}`,                                // 4: half of 2
		`{"dns.question.name":"b.test"}`,                                // 5: completes 2
		`{"url":{"full":"http://x.test/abc"}}`,                          // 6: hit 3, found by type
		`{"url":{"full":"http://y.test/abc"}}`,                          // 7: no
		`{"dns.question.name":"c.test"}`,                                // 8: half of 4
		`{"destination.ip":"192.0.2.50"}`,                               // 9: completes 4
		`{"process":{"name":"evil.exe","command_line":"ps -enc AAAA"}}`, // 10: hit 5
		`{"process":{"name":"evil.exe","command_line":"ps"}}`,           // 11: no
	}, "\n") + "\n"
	for _, workers := range []int{1, 2} {
		got := hitsOf(t, ix, events, match.StreamOptions{Workers: workers})
		want := map[int][]string{1: {id(1)}, 5: {id(2)}, 6: {id(3)}, 9: {id(4)}, 10: {id(5)}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("workers %d: hits %v, want %v", workers, got, want)
		}
	}
}

func TestPatchWhileMatching(t *testing.T) {
	ix := build(t,
		ind(1, "[ipv4-addr:value = '198.51.100.1']", ""),
		ind(2, "[ipv4-addr:value = '198.51.100.2']", ""),
	)
	m := match.NewMatcher(ix)
	// Revoke 1, update 2 to a new value, add 3.
	upd := strings.Replace(ind(2, "[ipv4-addr:value = '198.51.100.22']", ""), `"modified":"2026-01-01T00:00:00Z"`, `"modified":"2026-02-01T00:00:00Z"`, 1)
	rev := strings.Replace(ind(1, "[ipv4-addr:value = '198.51.100.1']", `"revoked":true`), `"modified":"2026-01-01T00:00:00Z"`, `"modified":"2026-02-01T00:00:00Z"`, 1)
	events := `{"source.ip":"198.51.100.1"}
{"source.ip":"198.51.100.2"}
{"source.ip":"198.51.100.22"}
{"source.ip":"198.51.100.3"}
`
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Matching goes on over whichever index is current.
		for range 50 {
			runStream(t, m.Load(), []byte(events), match.StreamOptions{})
		}
	}()
	if err := m.Patch(raws(upd, rev, ind(3, "[ipv4-addr:value = '198.51.100.3']", "")), match.BuildOptions{Now: testNow}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	want := map[int][]string{3: {id(2)}, 4: {id(3)}}
	if got := hitsOf(t, m.Load(), events, match.StreamOptions{}); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after patch: hits %v, want %v", got, want)
	}
	if got := hitsOf(t, ix, events, match.StreamOptions{}); len(got) != 2 {
		t.Errorf("the old index changed: hits %v", got)
	}
	if n := m.Load().Len(); n != 2 {
		t.Errorf("patched index has %d indicators, want 2", n)
	}
	// Many patches fold into a compacted index with the same answers.
	cur := m.Load()
	for i := range 12 {
		var err error
		cur, err = cur.Patch(raws(ind(100+i, fmt.Sprintf("[ipv4-addr:value = '192.0.2.%d']", i+1), "")), match.BuildOptions{Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
	}
	want = map[int][]string{1: {id(105)}, 3: {id(2)}}
	if got := hitsOf(t, cur, "{\"source.ip\":\"192.0.2.6\"}\n{\"source.ip\":\"198.51.100.1\"}\n{\"source.ip\":\"198.51.100.22\"}\n", match.StreamOptions{}); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after 12 patches: hits %v, want %v", got, want)
	}
	if n := cur.Len(); n != 14 {
		t.Errorf("after 12 patches: %d indicators, want 14", n)
	}
}

func TestWarnings(t *testing.T) {
	w := match.DefaultWarnings()
	for _, tc := range []struct {
		kind match.Kind
		v    string
		want string
	}{
		{match.KindIP, "10.1.2.3", "rfc1918-private"},
		{match.KindIP, "192.168.0.1", "rfc1918-private"},
		{match.KindIP, "127.0.0.1", "loopback"},
		{match.KindIP, "169.254.1.1", "link-local"},
		{match.KindIP, "198.51.100.7", "rfc5737-documentation"},
		{match.KindIP, "2001:db8::1", "rfc3849-documentation"},
		{match.KindIP, "224.0.0.251", "multicast"},
		{match.KindIP, "8.8.8.8", "public-resolver"},
		{match.KindIP, "1.1.1.1", "public-resolver"},
		{match.KindIP, "9.9.9.9", "public-resolver"},
		{match.KindIP, "81.2.69.142", ""},
		{match.KindDomain, "www.google.com", "popular-domain"},
		{match.KindDomain, "microsoft.com", "popular-domain"},
		{match.KindDomain, "example.com", "rfc2606-reserved"},
		{match.KindDomain, "evil.example", "rfc2606-reserved"},
		{match.KindDomain, "x.test", "rfc2606-reserved"},
		{match.KindDomain, "evil-google.com", ""},
		{match.KindURL, "http://user@8.8.8.8:8080/x", "public-resolver"},
		{match.KindURL, "http://[2001:db8::1]/", "rfc3849-documentation"},
		{match.KindEmail, "a@evil.test", "rfc2606-reserved"},
	} {
		if got := w.Value(tc.kind, tc.v); got != tc.want {
			t.Errorf("warning for %s %q = %q, want %q", tc.kind, tc.v, got, tc.want)
		}
	}
	if w.IP(netip.MustParseAddr("203.0.113.1")) != "rfc5737-documentation" {
		t.Error("203.0.113.1 not flagged")
	}
}

func TestWarninglistedFlaggedOrSkipped(t *testing.T) {
	ix := build(t, ind(1, "[ipv4-addr:value = '8.8.8.8']", ""), ind(2, "[ipv4-addr:value = '81.2.69.142']", ""))
	events := "{\"destination.ip\":\"8.8.8.8\"}\n{\"destination.ip\":\"81.2.69.142\"}\n"
	alerts, _ := runStream(t, ix, []byte(events), match.StreamOptions{})
	if len(alerts) != 2 || alerts[0].Warning != "public-resolver" || alerts[1].Warning != "" {
		t.Errorf("by default warning-listed values are flagged, not dropped: %+v", alerts)
	}
	alerts, _ = runStream(t, ix, []byte(events), match.StreamOptions{SkipWarninglisted: true})
	if len(alerts) != 1 || alerts[0].Line != 2 {
		t.Errorf("with SkipWarninglisted: %+v, want only line 2", alerts)
	}
}

func TestBrokenIndicatorsCountedNotFatal(t *testing.T) {
	bundle := `{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[` +
		ind(1, "[ipv4-addr:value = '198.51.100.1'", "") + "," + // unclosed bracket
		ind(2, "[ipv4-addr:value = '198.51.100.2']", "") + "," +
		`{"type":"indicator","id":"indicator--x","pattern":"rule x {}","pattern_type":"yara"},` +
		`{"type":"malware","id":"malware--00000000-0000-4000-8000-000000000001","name":"x","is_family":false}]}`
	ix, err := match.Build(match.BundleIndicators(bytes.NewReader([]byte(bundle))), match.BuildOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	st := ix.Stats()
	if st.Indicators != 1 || st.Errors != 1 || st.Skipped != 1 || len(st.FirstErrors) != 1 || !strings.Contains(st.FirstErrors[0].Error(), id(1)) {
		t.Errorf("stats %+v: want 1 indexed, 1 broken naming %s, 1 skipped (the YARA one; BundleIndicators passes over the malware)", st, id(1))
	}
}

func TestCorrelationUsesEventTimes(t *testing.T) {
	ix := build(t, ind(1, "([domain-name:value = 'c.test'] FOLLOWEDBY [ipv4-addr:value = '192.0.2.50']) WITHIN 60 SECONDS", ""))
	ev := func(ts, field, v string) string {
		return `{"@timestamp":"` + ts + `","` + field + `":"` + v + `"}`
	}
	events := strings.Join([]string{
		ev("2026-05-01T10:00:00Z", "dns.question.name", "c.test"),
		ev("2026-05-01T10:10:00Z", "destination.ip", "192.0.2.50"), // 10 minutes later: too late
		ev("2026-05-01T11:00:00Z", "dns.question.name", "c.test"),
		ev("2026-05-01T11:00:30Z", "destination.ip", "192.0.2.50"), // 30 s later: hit
		ev("2026-05-01T12:00:30Z", "destination.ip", "192.0.2.50"),
		ev("2026-05-01T12:00:00Z", "dns.question.name", "c.test"),  // read later, happened earlier: hit
		ev("2026-05-01T13:00:00Z", "destination.ip", "192.0.2.50"), // the domain came before, but 1 hour before
	}, "\n") + "\n"
	got := hitsOf(t, ix, events, match.StreamOptions{})
	want := map[int][]string{4: {id(1)}, 6: {id(1)}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("hits %v, want %v", got, want)
	}
	zeek := "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tquery\n" +
		"1777629600.0\t10.0.0.1\t192.0.2.1\tc.test\n" +
		"1777629610.5\t10.0.0.1\t192.0.2.50\t-\n"
	alerts, _ := runStream(t, ix, []byte(zeek), match.StreamOptions{Format: match.Zeek})
	if len(alerts) != 1 || alerts[0].Line != 4 {
		t.Errorf("Zeek ts: alerts %+v, want one on line 4", alerts)
	}
}
