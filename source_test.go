package cyberpact_test

import (
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// TestParseColumnMap reads column maps and names what is wrong in a bad
// one.
func TestParseColumnMap(t *testing.T) {
	m, err := cyberpact.ParseColumnMap(" value=3, type=1,name=2,description=4,labels=5 ,header")
	if err != nil || m != (cyberpact.ColumnMap{Value: 3, Type: 1, Name: 2, Description: 4, Labels: 5, Header: true}) {
		t.Errorf("ParseColumnMap: %+v, %v", m, err)
	}
	for in, says := range map[string]string{
		"":                 "no column map",
		"type=1":           "no value=N",
		"value=0":          `"value=0"`,
		"value=x":          `"value=x"`,
		"value=1,colour=2": `"colour"`,
		"value=1,head":     `"head"`,
		"value=1.5":        `"value=1.5"`,
	} {
		_, err := cyberpact.ParseColumnMap(in)
		if cyberpact.ErrorCode(err) != cyberpact.EINVALID || !strings.Contains(err.Error(), says) {
			t.Errorf("ParseColumnMap(%q): %v, want EINVALID saying %s", in, err, says)
		}
	}
}
