package postgres

import (
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cyberpact/cyberpact"
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
// text: 'word':1,7 'other':2 ...
func tsVector(t *cyberpact.SearchText) string {
	pos := map[string][]int{}
	p := 0
	for _, field := range [...]string{t.Name, t.Description, t.Aliases, t.ExternalIDs, t.Pattern, t.Values} {
		for _, w := range words(field) {
			p++
			if len(w) > maxLexeme {
				continue
			}
			ps := pos[w]
			if at := min(p, maxPos); len(ps) == 0 || (ps[len(ps)-1] != at && len(ps) < maxPositions) {
				pos[w] = append(ps, at)
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
		for j, at := range pos[w] {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(at))
		}
	}
	return b.String()
}

// tsQuery turns a user's search text into a tsquery, as the SQLite store's
// query: every word or "quoted phrase" must appear; a word ending in * is a
// prefix. A word with punctuation inside (T1059.001, CAPEC-66,
// 198.51.100.7) is the phrase of its parts. Returns EINVALID for an
// unclosed quote or a text without words.
func tsQuery(text string) (string, error) {
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
		}
		if t.Prefix {
			parts[len(parts)-1] += ":*"
		}
		qs = append(qs, "("+strings.Join(parts, " <-> ")+")")
	}
	if len(qs) == 0 {
		return "", cyberpact.Errorf(cyberpact.EINVALID, "search text %q has no words to search for", text)
	}
	return strings.Join(qs, " & "), nil
}
