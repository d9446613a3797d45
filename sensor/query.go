package sensor

import (
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
)

// QueryParams names the export filters as the command line (with "-" for
// "_") and the feed URL take them, each a comma-separated list where it
// says so:
//
//	kind             value kinds (ip, cidr, domain, url, email, md5, sha1, sha256, sha512, hash), list
//	label            indicator labels, list
//	tlp              TLP levels, list
//	min_score        the least decay score, 0 to 100
//	include_invalid  true to keep indicators outside their validity
//	at               the time to judge validity and decay at (RFC 3339)
//	zone             the RPZ zone's origin
var QueryParams = []string{"kind", "label", "tlp", "min_score", "include_invalid", "at", "zone"}

// ParseOptions reads the filters of QueryParams through get (which returns
// "" for one not given). Returns EINVALID naming the parameter and value
// for anything it cannot read.
func ParseOptions(get func(name string) string) (Options, error) {
	var opt Options
	for _, k := range list(get("kind")) {
		ks, err := ParseKind(k)
		if err != nil {
			return opt, cyberpact.Errorf(cyberpact.EINVALID, "kind: %s", cyberpact.ErrorMessage(err))
		}
		opt.Kinds = append(opt.Kinds, ks...)
	}
	opt.Labels = list(get("label"))
	for _, l := range list(get("tlp")) {
		t, err := cyberpact.ParseTLP(l)
		if err != nil {
			return opt, cyberpact.Errorf(cyberpact.EINVALID, "tlp: %s", cyberpact.ErrorMessage(err))
		}
		opt.TLPs = append(opt.TLPs, t)
	}
	if s := get("min_score"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 100 {
			return opt, cyberpact.Errorf(cyberpact.EINVALID, "min_score %q is not a number from 0 to 100", s)
		}
		opt.MinScore = n
	}
	if s := get("include_invalid"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return opt, cyberpact.Errorf(cyberpact.EINVALID, "include_invalid %q is not true or false", s)
		}
		opt.IncludeInvalid = b
	}
	if s := get("at"); s != "" {
		t, err := stix.ParseTime(s)
		if err != nil {
			if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
				return opt, cyberpact.Errorf(cyberpact.EINVALID, "at %q is not an RFC 3339 time such as 2026-01-31T00:00:00Z", s)
			}
		}
		opt.Now = t
	}
	if z := get("zone"); z != "" {
		plain := strings.TrimSuffix(strings.ToLower(z), ".")
		if n, ok := zoneName(plain); !ok || n != plain {
			return opt, cyberpact.Errorf(cyberpact.EINVALID, "zone %q is not a DNS name", z)
		}
		opt.Zone = z
	}
	return opt, nil
}

func list(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
