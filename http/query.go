package http

import (
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/cyberpact/cyberpact"
)

// listParams are the query parameters of the REST API's list filters
// (filterFromQuery).
var listParams = []string{"type", "label", "spec_version", "q", "modified_since", "modified_until", "added_after",
	"all_versions", "exclude_revoked", "limit", "cursor"}

// taxiiParams are the TAXII 2.1 URL filters this server supports
// (taxiiFilter).
var taxiiParams = []string{"match[id]", "match[type]", "match[version]", "match[spec_version]", "added_after", "limit", "next"}

// checkQuery refuses (EINVALID, so 400) a request whose query names a
// parameter its route does not take, naming it and the ones it does: a
// mistyped filter (?typo=indicator) would otherwise be ignored and the
// answer hold everything. It depends on the parameters' names alone,
// never on what is stored. With taxii, match[FIELD] filters on other
// fields are let through, to be ignored as TAXII 2.1 (section 3.5) has
// servers do with filters they do not support.
func checkQuery(r *http.Request, taxii bool, allowed ...string) error {
	var unknown []string
	for name := range r.URL.Query() {
		if slices.Contains(allowed, name) || taxii && strings.HasPrefix(name, "match[") && strings.HasSuffix(name, "]") {
			continue
		}
		unknown = append(unknown, name)
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	takes := "no query parameters"
	if len(allowed) > 0 {
		takes = "only " + strings.Join(allowed, ", ")
	}
	what := "unknown query parameter " + quoteAll(unknown)
	if len(unknown) > 1 {
		what = "unknown query parameters " + quoteAll(unknown)
	}
	return cyberpact.Errorf(cyberpact.EINVALID, "%s: %s %s takes %s", what, r.Method, r.URL.Path, takes)
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = `"` + n + `"`
	}
	return strings.Join(q, ", ")
}
