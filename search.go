package cyberpact

import "strings"

// SearchTerm is one term of a full-text query: words that must appear in
// this order (one word, or a "quoted phrase", or a word with punctuation
// inside such as T1059.001 or 198.51.100.7, which stores search as the
// sequence of its parts), the last a prefix when the term ends in *.
type SearchTerm struct {
	Text   string // the term without quotes and without the trailing *
	Prefix bool
}

// ParseSearch splits a user's search text into terms, all of which must
// match. Returns EINVALID for an unclosed quote or a text without any word.
// Each store turns the terms into its own query language.
func ParseSearch(text string) ([]SearchTerm, error) {
	var terms []SearchTerm
	rest := strings.TrimSpace(text)
	for rest != "" {
		var term string
		if rest[0] == '"' {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return nil, Errorf(EINVALID, "search text %q has an unclosed quote", text)
			}
			term, rest = rest[1:end+1], rest[end+2:]
		} else {
			end := strings.IndexAny(rest, " \t\n")
			if end < 0 {
				end = len(rest)
			}
			term, rest = rest[:end], rest[end:]
		}
		rest = strings.TrimSpace(rest)
		prefix := strings.HasSuffix(term, "*")
		term = strings.TrimRight(term, "*")
		if strings.IndexFunc(term, IsWordRune) < 0 {
			continue
		}
		terms = append(terms, SearchTerm{Text: term, Prefix: prefix})
	}
	if len(terms) == 0 {
		return nil, Errorf(EINVALID, "search text %q has no words to search for", text)
	}
	return terms, nil
}

// IsWordRune reports whether r belongs to a searchable word: ASCII letters
// and digits, and every non-ASCII character (the stores' tokenizers treat
// the rest of ASCII as separators).
func IsWordRune(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127
}

// Page limits shared by the stores: the page size when none is asked for,
// and the largest page served.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 10000
)

// PageLimit returns the page size to use for a requested limit.
func PageLimit(limit int) int {
	if limit <= 0 {
		return DefaultPageLimit
	}
	return min(limit, MaxPageLimit)
}

// NewPage cuts a page of limit objects from objs, which a store read with
// one more than the limit so that it knows whether more follow.
func NewPage(objs []*Object, limit int) *ObjectPage {
	p := &ObjectPage{Objects: objs}
	if len(objs) > limit {
		p.Objects, p.More = objs[:limit], true
	}
	if n := len(p.Objects); n > 0 {
		p.Next = p.Objects[n-1].Seq
	}
	return p
}

// ReleaseOf is how an imported version whose own markings give level tlp
// (TLPUnknown when it has none) is shared: the import's producer and
// audience, and its own level or else the import's default (TLP:AMBER when
// none is set). The zero Audience means all members, except that TLP:RED
// versions stay with the producer alone.
func (opts ImportOptions) ReleaseOf(tlp TLP) Release {
	r := Release{Producer: opts.Producer, Audience: opts.Audience, TLP: tlp}
	if r.TLP == TLPUnknown {
		r.TLP = opts.DefaultTLP
		if r.TLP == TLPUnknown {
			r.TLP = TLPAmber
		}
	}
	if r.Audience.Kind == 0 {
		r.Audience = Audience{Kind: AudienceAll}
		if r.TLP == TLPRed {
			r.Audience = Audience{Kind: AudienceOrg}
		}
	}
	return r
}
