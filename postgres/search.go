package postgres

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlstore"
)

// Full-text search is a tsvector column on objects with a GIN index. The
// words are cut and lower-cased here, in Go, not by a PostgreSQL text
// search configuration: a word is a run of letters and digits, as in the
// SQLite store's unicode61 tokenizer, and the tsvector is written as a
// literal (each word with its positions) and read with a plain cast, so the
// server's parser, which keeps "198.51.100.7" or "CAPEC-66" whole and
// depends on its locale, plays no part. Queries are cut the same way (see
// tsQuery), so a search matches exactly what the SQLite store matches,
// except that diacritics are not folded ("é" does not match "e").
//
// Each field of cyberpact.SearchText is written at positions one apart
// from the next field's, so a phrase never matches across two fields.

// maxLexeme is the longest word PostgreSQL keeps in a tsvector (bytes);
// longer words are left out of the index.
const maxLexeme = 2046

// maxPos is the highest position a tsvector records; later words share it.
const maxPos = 16383

// maxPositions is how many positions a tsvector keeps of one word.
const maxPositions = 256

// isWordRune reports whether r is part of a word: a letter or a digit.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// words returns the lower-cased words of s.
func words(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) }) {
		out = append(out, strings.ToLower(w))
	}
	return out
}

// tsVector returns the tsvector literal of an object version's search
// text: 'word':1A,7C 'other':2D ... Each position carries the weight of
// its field for ts_rank (see searchRank): the name A, external ids and
// aliases B, the description C, pattern and values D.
func tsVector(t *cyberpact.SearchText) string {
	type at struct {
		pos    int
		weight byte
	}
	pos := map[string][]at{}
	p := 0
	for _, field := range [...]struct {
		text   string
		weight byte
	}{{t.Name, 'A'}, {t.Description, 'C'}, {t.Aliases, 'B'}, {t.ExternalIDs, 'B'}, {t.Pattern, 'D'}, {t.Values, 'D'}} {
		for _, w := range words(field.text) {
			p++
			if len(w) > maxLexeme {
				continue
			}
			ps := pos[w]
			if x := min(p, maxPos); len(ps) == 0 || (ps[len(ps)-1].pos != x && len(ps) < maxPositions) {
				pos[w] = append(ps, at{x, field.weight})
			}
		}
		p++ // a gap, so phrases do not run from one field into the next
	}
	ws := make([]string, 0, len(pos))
	for w := range pos {
		ws = append(ws, w)
	}
	sort.Strings(ws)
	var b strings.Builder
	for i, w := range ws {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('\'')
		b.WriteString(w) // words hold no quote or backslash
		b.WriteString("':")
		for j, x := range pos[w] {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(x.pos))
			if x.weight != 'D' {
				b.WriteByte(x.weight) // D is the default, left unwritten
			}
		}
	}
	return b.String()
}

// searchRank is the rank key of the objects row o among the matches of
// text (see Ranked search in search.go): its tier from its stored JSON,
// and as relevance ts_rank over its own words, weighted by field (see
// tsVector), in thousandths. ts_rank reads the row's tsvector and the
// query alone, no statistics of other rows, so the order of what a caller
// sees tells nothing of what it does not.
func searchRank(a *sqlstore.Args, text string) (string, error) {
	q, err := tsQuery(text)
	if err != nil {
		return "", err
	}
	const fold = `'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'`
	// The JSON is read only for rows whose external ids and aliases (B)
	// or name (A) hold every word of the text: for the others the tier
	// is the last without it.
	inIDs, err := tsQueryIn(text, "B")
	if err != nil {
		return "", err
	}
	inName, err := tsQueryIn(text, "A")
	if err != nil {
		return "", err
	}
	tier, err := sqlstore.Tier(a, text, func(x string) string {
		return `(CASE WHEN o.search @@ ` + a.Add(inIDs) + `::tsquery THEN EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(convert_from(o.body, 'UTF8')::jsonb -> 'external_references') = 'array'
			THEN convert_from(o.body, 'UTF8')::jsonb -> 'external_references' ELSE '[]'::jsonb END) r
			WHERE translate(r ->> 'external_id', ` + fold + `) = ` + x + `) ELSE false END)`
	}, func() string {
		return `(CASE WHEN o.search @@ ` + a.Add(inName) + `::tsquery THEN translate(convert_from(o.body, 'UTF8')::jsonb ->> 'name', ` + fold + `) END)`
	})
	if err != nil {
		return "", err
	}
	score := fmt.Sprintf(`LEAST(%d, GREATEST(0, round(ts_rank(o.search, %s::tsquery) * 1000)))::bigint`, cyberpact.RankScores-1, a.Add(q))
	return sqlstore.RankKey(tier, score), nil
}

// tsQuery turns a user's search text into a tsquery, as the SQLite store's
// query: every word or "quoted phrase" must appear; a word ending in * is a
// prefix. A word with punctuation inside (T1059.001, CAPEC-66,
// 198.51.100.7) is the phrase of its parts. Returns EINVALID for an
// unclosed quote or a text without words.
func tsQuery(text string) (string, error) { return tsQueryIn(text, "") }

// tsQueryIn is tsQuery with every word restricted to the fields of the
// given weights (see tsVector), all fields when weights is "".
func tsQueryIn(text, weights string) (string, error) {
	terms, err := cyberpact.ParseSearch(text)
	if err != nil {
		return "", err
	}
	var qs []string
	for _, t := range terms {
		ws := words(t.Text)
		if len(ws) == 0 {
			continue
		}
		parts := make([]string, len(ws))
		for i, w := range ws {
			parts[i] = "'" + w + "'"
			if weights != "" {
				parts[i] += ":" + weights
			}
		}
		if t.Prefix {
			if weights != "" {
				parts[len(parts)-1] = strings.TrimSuffix(parts[len(parts)-1], weights) + "*" + weights
			} else {
				parts[len(parts)-1] += ":*"
			}
		}
		qs = append(qs, "("+strings.Join(parts, " <-> ")+")")
	}
	if len(qs) == 0 {
		return "", cyberpact.Errorf(cyberpact.EINVALID, "search text %q has no words to search for", text)
	}
	return strings.Join(qs, " & "), nil
}
