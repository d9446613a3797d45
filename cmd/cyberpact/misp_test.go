package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact/misp"
)

// mispEvent reads one of the shared MISP events, skipping the test when
// they are absent.
func mispEvent(t *testing.T, name string) (string, *misp.Event) {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "data", "misp", "events", name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("no shared MISP events (%v)", err)
	}
	evs, err := misp.DecodeJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	return path, evs[0]
}

func typeValues(evs []*misp.Event) []string {
	var out []string
	for _, ev := range evs {
		for _, a := range ev.Attributes {
			out = append(out, a.Type+"="+a.Value)
		}
		for _, o := range ev.Objects {
			for _, a := range o.Attributes {
				out = append(out, o.Name+"."+a.ObjectRelation+":"+a.Type+"="+a.Value)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestImportExportMISP imports MISP events (detected, and with --format
// misp) into a real store and exports them back as MISP JSON with every
// attribute's type and value.
func TestImportExportMISP(t *testing.T) {
	for _, name := range []string{"event_with_url_attributes.json", "event_with_file_and_pe_objects.json", "event_with_threat_actor_galaxy.json"} {
		t.Run(name, func(t *testing.T) {
			path, ev := mispEvent(t, name)
			dir := t.TempDir()
			r := mustRun(t, "import", "--data", dir, path)
			if !strings.Contains(r.stdout, "from 1 MISP events") {
				t.Errorf("summary %q does not say the file was MISP", r.stdout)
			}
			out := mustRun(t, "export", "--data", dir, "--format", "misp")
			back, err := misp.Decode(strings.NewReader(out.stdout))
			if err != nil {
				t.Fatalf("export is not MISP JSON: %v\n%s", err, out.stdout)
			}
			if len(back) != 1 || back[0].UUID != ev.UUID || back[0].Info != ev.Info {
				t.Fatalf("exported %d events, want the one imported", len(back))
			}
			want, got := typeValues([]*misp.Event{ev}), typeValues(back)
			if strings.Join(want, "\n") != strings.Join(got, "\n") {
				t.Errorf("attributes back:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if len(ev.Galaxies) > 0 && (len(back[0].Galaxies) != len(ev.Galaxies) || back[0].Galaxies[0].Clusters[0].Value != ev.Galaxies[0].Clusters[0].Value) {
				t.Errorf("galaxies back %+v, want %+v", back[0].Galaxies, ev.Galaxies)
			}
		})
	}
	t.Run("ForcedFormat", func(t *testing.T) {
		path, _ := mispEvent(t, "event_with_url_attributes.json")
		dir := t.TempDir()
		mustRun(t, "import", "--data", dir, "--format", "misp", path)
		if r := cli(t, "import", "--data", dir, "--format", "stix", path); r.code == 0 {
			t.Errorf("MISP JSON imported as a STIX bundle: %s", r.stdout)
		}
		if r := cli(t, "import", "--data", dir, "--format", "csv", path); r.code != 2 || !strings.Contains(r.stderr, "--format") {
			t.Errorf("bad --format: exit %d, %s", r.code, r.stderr)
		}
	})
}

// TestImportMISPDistribution checks that an event's distribution chooses
// its release when --audience is not given.
func TestImportMISPDistribution(t *testing.T) {
	_, ev := mispEvent(t, "event_with_url_attributes.json")
	write := func(t *testing.T, dist string, sg *misp.SharingGroup) string {
		ev.Distribution, ev.SharingGroup = dist, sg
		var buf bytes.Buffer
		if err := misp.Encode(&buf, []*misp.Event{ev}); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "event.json")
		if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	dir := t.TempDir()
	mustRun(t, "org", "create", "Bank A", "--nation", "LU", "--sector", "finance", "--data", dir)
	mustRun(t, "org", "create", "Bank B", "--nation", "FR", "--sector", "finance", "--data", dir)
	mustRun(t, "group", "create", "Banks", "--orgs", "Bank A,Bank B", "--data", dir)

	t.Run("OrgOnlyNeedsOrg", func(t *testing.T) {
		// The file is refused (exit 1), the others of the command go on.
		_, other := mispEvent(t, "event_with_asn_object.json")
		// The shared events share their uuid: this one is another event.
		other.Distribution, other.Timestamp, other.UUID = "3", "1603640000", "5e0a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b"
		var buf bytes.Buffer
		if err := misp.Encode(&buf, []*misp.Event{other}); err != nil {
			t.Fatal(err)
		}
		good := filepath.Join(t.TempDir(), "good.json")
		if err := os.WriteFile(good, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		r := cli(t, "import", "--data", dir, write(t, "0", nil), good)
		if r.code != 1 || !strings.Contains(r.stderr, "--org") || !strings.Contains(r.stdout, "good.json: added") {
			t.Errorf("organisation-only event imported without --org: exit %d, %s / %s", r.code, r.stdout, r.stderr)
		}
		r = mustRun(t, "import", "--data", dir, "--org", "Bank A", write(t, "0", nil))
		if !strings.Contains(r.stdout, "released to org") {
			t.Errorf("summary %q", r.stdout)
		}
	})
	t.Run("SharingGroup", func(t *testing.T) {
		r := cli(t, "import", "--data", dir, "--org", "Bank A", write(t, "4", &misp.SharingGroup{Name: "Insurers"}))
		if r.code == 0 || !strings.Contains(r.stderr, "Insurers") {
			t.Errorf("unknown sharing group: exit %d, %s", r.code, r.stderr)
		}
		// The same event again under another timestamp, so that it is new.
		ev.Timestamp = "1603642999"
		r = mustRun(t, "import", "--data", dir, "--org", "Bank A", write(t, "4", &misp.SharingGroup{Name: "Banks"}))
		if !strings.Contains(r.stdout, "released to group:") {
			t.Errorf("summary %q", r.stdout)
		}
	})
}
