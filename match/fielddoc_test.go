package match

import (
	"os"
	"strings"
	"testing"
)

// fieldMapDoc returns the table of the default field maps as doc.go
// prints it: each STIX path in the order the ECS map (then the Zeek map)
// first names it, with the ECS fields and Zeek columns that stand for it.
func fieldMapDoc() string {
	var order []string
	ecs, zeek := map[string][]string{}, map[string][]string{}
	for i, fs := range []*Fields{ECSFields(), ZeekFields()} {
		for _, f := range fs.List() {
			p := f.Path
			if f.Kind == KindTime {
				p = "the event's time (FOLLOWEDBY, WITHIN, START, STOP)"
			}
			if _, seen := ecs[p]; !seen {
				if _, seen := zeek[p]; !seen {
					order = append(order, p)
				}
			}
			if i == 0 {
				ecs[p] = append(ecs[p], f.Name)
			} else {
				zeek[p] = append(zeek[p], f.Name)
			}
		}
	}
	var b strings.Builder
	for _, p := range order {
		b.WriteString("//\t" + p + "\n")
		if len(ecs[p]) > 0 {
			b.WriteString("//\t    ECS:  " + strings.Join(ecs[p], ", ") + "\n")
		}
		if len(zeek[p]) > 0 {
			b.WriteString("//\t    Zeek: " + strings.Join(zeek[p], ", ") + "\n")
		}
	}
	return b.String()
}

// TestFieldMapDocumented checks that the package documentation lists the
// default field maps exactly as ECSFields and ZeekFields hold them. Run
// with CYBERPACT_WRITE_FIELD_DOC=1 to print the table to paste.
func TestFieldMapDocumented(t *testing.T) {
	want := fieldMapDoc()
	if os.Getenv("CYBERPACT_WRITE_FIELD_DOC") != "" {
		t.Logf("\n%s", want)
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), want) {
		t.Errorf("doc.go does not list the default field maps as they are; want the table:\n%s", want)
	}
}
