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

// Ranked search. FindObjects with a Text returns its page in rank order,
// not Seq order: first the versions one of whose external ids
// (external_references[].external_id, compared without regard to ASCII
// case) is the whole search text, then those whose name is, then the rest;
// within each, revoked versions after the others, then by relevance;
// equal ranks in Seq order. A version's rank is a function of
// its own content and the search text alone, never of other versions (no
// corpus statistics such as bm25's document frequencies and average length,
// which would count versions the caller may not see), so a rank says
// nothing about what the caller cannot see, and it never changes while the
// version is stored: paging by (rank, Seq) is stable.
//
// A rank key packs the tier, revocation and relevance into one number,
// smaller first: (tier*2 + revoked)*RankScores + (RankScores-1-score),
// score in [0, RankScores).
// The cursor of a ranked page (ObjectPage.Next, ObjectFilter.After) packs
// the rank key of the page's last version above its Seq (RankCursor).
const (
	RankTierExternalID = 0 // an external id is the search text
	RankTierName       = 1 // the name is the search text
	RankTierOther      = 2 // any other match, by relevance

	// RankScores is how many relevance scores a store tells apart.
	RankScores = 1024

	rankSeqBits = 50 // Seqs below 2^50; rank keys below 2^13
)

// RankCursor is the cursor after the version with rank key key and Seq seq.
func RankCursor(key, seq int64) int64 { return key<<rankSeqBits | seq }

// SplitRankCursor returns the rank key and Seq of a ranked page's cursor;
// 0 (the first page) is rank key 0, Seq 0, before every version.
func SplitRankCursor(c int64) (key, seq int64) {
	return c >> rankSeqBits, c & (1<<rankSeqBits - 1)
}

// ExactSearch is the text a version's external id or name must equal for
// the first two tiers of a ranked search of terms: the terms' texts joined
// by single spaces, lower-cased (ASCII), so that T1059, t1059 and
// "Command and Scripting Interpreter" each find themselves. It is "" when a
// term is a prefix: a prefix search has no exact match.
func ExactSearch(terms []SearchTerm) string {
	parts := make([]string, 0, len(terms))
	for _, t := range terms {
		if t.Prefix {
			return ""
		}
		parts = append(parts, strings.Join(strings.Fields(t.Text), " "))
	}
	return asciiLower(strings.Join(parts, " "))
}

// asciiLower lower-cases the ASCII letters of s, as both stores' SQL
// lower() does at the least (SQLite folds nothing else).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
