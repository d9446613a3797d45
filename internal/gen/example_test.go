package gen_test

import (
	"bytes"
	"fmt"

	"github.com/cyberpact/cyberpact/internal/gen"
)

// A bundle of ten objects opens with the TLP 2.0 marking definitions and
// the partner identities.
func ExampleWrite() {
	var buf bytes.Buffer
	if err := gen.Write(&buf, 10, 1); err != nil {
		panic(err)
	}
	fmt.Println(bytes.Count(buf.Bytes(), []byte(`"type":"marking-definition"`)), bytes.Count(buf.Bytes(), []byte(`"type":"identity"`)))
	// Output: 5 5
}
