package sensor

import (
	"bufio"
	"crypto/sha256"
	"hash"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
)

// Source streams stored object versions to fn, in the store's order, and
// returns fn's error or its own. A store's EachObject bound to a filter is
// one: func(fn) error { return db.EachObject(ctx, f, fn) }. Objects other
// than indicators are ignored.
type Source func(fn func(*cyberpact.Object) error) error

// Options filter and shape an export. The zero value exports every valid,
// unrevoked indicator of the format's kinds as of now.
type Options struct {
	// Now is the time validity and decay are judged at; zero means
	// time.Now().
	Now time.Time
	// Kinds, when set, keeps only values of these kinds (of those the
	// format carries).
	Kinds []Kind
	// Labels, when set, keeps only indicators with one of these labels.
	Labels []string
	// TLPs, when set, keeps only indicators released at one of these
	// levels.
	TLPs []cyberpact.TLP
	// IncludeInvalid keeps indicators outside their validity window
	// (before valid_from, or at or after valid_until); by default they
	// are left out. Revoked indicators are always left out.
	IncludeInvalid bool
	// MinScore, when above zero, keeps only indicators whose decay score
	// at Now is at least MinScore (see match.Decay.Score).
	MinScore int
	// Decay is the decay the score is computed with; the zero value means
	// match.DefaultDecay.
	Decay match.Decay
	// LastSighted gives, per indicator id, when it was last sighted, which
	// restores its score (see match.LastSightings).
	LastSighted map[string]time.Time

	// Source names the producer in formats that carry one (Zeek's
	// meta.source); empty means "cyberpact".
	Source string
	// LinkBase, when set, is prefixed to an indicator's id to link to it
	// (Zeek's meta.url), e.g. https://hub.example/api/v1/objects/.
	LinkBase string
	// Zone is the RPZ zone's origin; empty means "rpz.cyberpact.invalid.".
	Zone string
	// Serial is the RPZ zone's SOA serial; zero means Now in seconds
	// since 1970, modulo 2^32.
	Serial uint32

	// Released, when set, is called with each stored indicator version of
	// which at least one value was written, after its values: what the
	// export released, for the audit log. The object must not be kept
	// beyond the call.
	Released func(o *cyberpact.Object)
}

// Stats counts what an export read and wrote.
type Stats struct {
	Indicators int            // indicator versions read
	Exported   int            // indicators with at least one value written
	Values     int            // values written (lines, rules or records)
	Skipped    map[string]int // indicators or values left out, by reason
	// Digest is a SHA-256 over the format, the options that shape its
	// text (Source, LinkBase, Zone) and every entry written, but not the
	// header and footer, which name the export's time (a rule file's
	// comment, a zone's serial). Two exports with the same digest carry
	// the same indicators the same way: a feed's ETag.
	Digest [sha256.Size]byte
}

// hashWriter passes writes on to w and, while on, hashes them.
type hashWriter struct {
	w  io.Writer
	h  hash.Hash
	on bool
}

func (hw *hashWriter) Write(p []byte) (int, error) {
	if hw.on {
		hw.h.Write(p)
	}
	return hw.w.Write(p)
}

func (s *Stats) skip(reason string) {
	if s.Skipped == nil {
		s.Skipped = map[string]int{}
	}
	s.Skipped[reason]++
}

// Format is one output format.
type Format struct {
	Name        string // as given to --format and in the feed URL
	Description string
	ContentType string
	Kinds       []Kind // the kinds of values it carries
	new         func(w *bufio.Writer, opt *Options) formatter
}

// formatter writes one format: a header, one entry per value, a footer.
type formatter interface {
	begin() error
	// entry writes v of ind; a non-empty reason means v was left out.
	entry(ind *Indicator, v Value) (reason string, err error)
	// flush writes out what entry buffered, before the digest is taken.
	flush() error
	end() error
}

var addrKinds = []Kind{KindIP, KindCIDR}
var hashKinds = []Kind{KindMD5, KindSHA1, KindSHA256, KindSHA512}
var allKinds = []Kind{KindIP, KindCIDR, KindDomain, KindURL, KindEmail, KindMD5, KindSHA1, KindSHA256, KindSHA512}

// Formats lists the indicator export formats by name. (ATT&CK Navigator
// layers are built from the store's graph instead: see BuildLayer.)
var Formats = map[string]*Format{
	"suricata": {Name: "suricata", Description: "Suricata rules (addresses, ranges, domains, URLs)", ContentType: "text/plain; charset=utf-8",
		Kinds: []Kind{KindIP, KindCIDR, KindDomain, KindURL}, new: newSuricata},
	"snort": {Name: "snort", Description: "Snort 2.9 rules (addresses, ranges, domains, URLs)", ContentType: "text/plain; charset=utf-8",
		Kinds: []Kind{KindIP, KindCIDR, KindDomain, KindURL}, new: newSnort},
	"zeek": {Name: "zeek", Description: "Zeek Intelligence Framework file", ContentType: "text/tab-separated-values; charset=utf-8",
		Kinds: allKinds, new: newZeek},
	"csv": {Name: "csv", Description: "CSV, one value a row", ContentType: "text/csv; charset=utf-8", Kinds: allKinds, new: newCSV},
	"blocklist-ip": {Name: "blocklist-ip", Description: "IP addresses, one a line", ContentType: "text/plain; charset=utf-8",
		Kinds: []Kind{KindIP}, new: newBlocklist},
	"blocklist-cidr": {Name: "blocklist-cidr", Description: "address ranges (single addresses as /32 or /128), one a line", ContentType: "text/plain; charset=utf-8",
		Kinds: addrKinds, new: newCIDRList},
	"blocklist-domain": {Name: "blocklist-domain", Description: "domain names, one a line", ContentType: "text/plain; charset=utf-8",
		Kinds: []Kind{KindDomain}, new: newBlocklist},
	"blocklist-url": {Name: "blocklist-url", Description: "URLs, one a line", ContentType: "text/plain; charset=utf-8",
		Kinds: []Kind{KindURL}, new: newBlocklist},
	"blocklist-hash": {Name: "blocklist-hash", Description: "file hashes (MD5, SHA-1, SHA-256, SHA-512), one a line", ContentType: "text/plain; charset=utf-8",
		Kinds: hashKinds, new: newBlocklist},
	"blocklist-email": {Name: "blocklist-email", Description: "e-mail addresses, one a line", ContentType: "text/plain; charset=utf-8",
		Kinds: []Kind{KindEmail}, new: newBlocklist},
	"rpz": {Name: "rpz", Description: "DNS response policy zone (domains, and addresses as rpz-ip triggers)", ContentType: "text/dns; charset=utf-8",
		Kinds: []Kind{KindDomain, KindIP, KindCIDR}, new: newRPZ},
}

// FormatNames returns the names of Formats, sorted.
func FormatNames() []string {
	var out []string
	for n := range Formats {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Export writes the indicators src yields in format name to w, leaving out
// those opt filters out, and returns what it did. Returns EINVALID for an
// unknown format; an error from src or w ends the export.
func Export(w io.Writer, name string, src Source, opt Options) (*Stats, error) {
	f := Formats[name]
	if f == nil {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "unknown export format %q (one of %s)", name, strings.Join(FormatNames(), ", "))
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	opt.Now = opt.Now.UTC()
	if opt.Decay.HalfLife == nil && opt.Decay.Default == 0 {
		opt.Decay = match.DefaultDecay
	}
	if opt.Source == "" {
		opt.Source = "cyberpact"
	}
	kinds := f.Kinds
	if len(opt.Kinds) > 0 {
		kinds = nil
		for _, k := range f.Kinds {
			if slices.Contains(opt.Kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	hw := &hashWriter{w: w, h: sha256.New()}
	for _, s := range []string{f.Name, opt.Source, opt.LinkBase, opt.Zone} {
		hw.h.Write([]byte(s))
		hw.h.Write([]byte{0})
	}
	bw := bufio.NewWriterSize(hw, 64<<10)
	out := f.new(bw, &opt)
	st := &Stats{}
	if err := out.begin(); err != nil {
		return st, err
	}
	if err := bw.Flush(); err != nil {
		return st, err
	}
	hw.on = true
	err := src(func(o *cyberpact.Object) error {
		if o.Type != "indicator" {
			return nil
		}
		st.Indicators++
		ind, err := ReadIndicator(o)
		if err != nil {
			return err
		}
		if reason := opt.keep(ind); reason != "" {
			st.skip(reason)
			return nil
		}
		wrote := false
		for _, v := range ind.Values {
			if !slices.Contains(kinds, v.Kind) {
				st.skip("value of kind " + v.Kind.String() + " not exported")
				continue
			}
			reason, err := out.entry(ind, v)
			if err != nil {
				return err
			}
			if reason != "" {
				st.skip(reason)
				continue
			}
			st.Values++
			wrote = true
		}
		if ind.Dropped > 0 {
			if st.Skipped == nil {
				st.Skipped = map[string]int{}
			}
			st.Skipped["value of an unsupported path or not valid for its kind"] += ind.Dropped
		}
		if wrote {
			st.Exported++
			if opt.Released != nil {
				opt.Released(o)
			}
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	if err := out.flush(); err != nil {
		return st, err
	}
	if err := bw.Flush(); err != nil {
		return st, err
	}
	hw.on = false
	copy(st.Digest[:], hw.h.Sum(nil))
	if err := out.end(); err != nil {
		return st, err
	}
	return st, bw.Flush()
}

// keep says why ind is left out, or "" to export it; it sets ind.Score.
func (opt *Options) keep(ind *Indicator) string {
	switch {
	case ind.Revoked:
		return "revoked"
	case ind.Values == nil:
		return ind.Unexportable
	case len(opt.TLPs) > 0 && !slices.Contains(opt.TLPs, ind.TLP):
		return "TLP not selected"
	case len(opt.Labels) > 0 && !anyLabel(ind.Labels, opt.Labels):
		return "label not selected"
	case !opt.IncludeInvalid && !ind.ValidFrom.IsZero() && opt.Now.Before(ind.ValidFrom):
		return "not yet valid"
	case !opt.IncludeInvalid && !ind.ValidUntil.IsZero() && !opt.Now.Before(ind.ValidUntil):
		return "expired"
	}
	var last time.Time
	if opt.LastSighted != nil {
		last = opt.LastSighted[ind.ID]
	}
	ind.Score = opt.Decay.Score(ind.Values[0].Kind.matchKind(), ind.Confidence, ind.ValidFrom, ind.Modified, ind.ValidUntil, last, opt.Now)
	if opt.MinScore > 0 && ind.Score < opt.MinScore {
		return "decay score below the minimum"
	}
	return ""
}

func anyLabel(have, want []string) bool {
	for _, l := range have {
		if slices.Contains(want, l) {
			return true
		}
	}
	return false
}

// errWriter is what formatters share: the buffered output.
type errWriter struct{ w *bufio.Writer }

func (e errWriter) line(parts ...string) error {
	for _, p := range parts {
		e.w.WriteString(p)
	}
	return e.w.WriteByte('\n')
}
