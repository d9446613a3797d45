package privacy

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Postal addresses in free text. Every form needs a street with its house
// number, a PO box, or a postcode of a known shape, so that a count before
// a place ("3 banks in London"), an IP address, a port, a version, a date
// or a CVE is never one:
//
//   - English: a house number (221B, 14, 10-12), one to four capitalised
//     words and a street type (Street, Road, Avenue, Lane, Way, St, Rd,
//     Ave...), with an optional direction (NW) and unit (Suite 400);
//   - German, Dutch and Nordic: a word ending in a street suffix (-straße,
//     -str., -weg, -gasse, -platz, -allee, -straat, -laan, -gracht, -vej,
//     -gatan...) or such a word after a capitalised one (Berliner Straße),
//     then the house number;
//   - French: a house number and rue, avenue, boulevard, place, quai,
//     chemin... and capitalised words (streetParticles de, la, du... between);
//     Italian, Spanish and Portuguese: Via, Piazza, Calle, Rua... and
//     capitalised words, then the house number;
//   - a PO box (PO Box 1234, P.O. Box, Postfach, Apartado);
//   - a UK postcode after a town (Leeds LS1 4AP), with the address parts
//     before it (a building, a street without number, Flat 3).
//
// What follows a street joins it: a flat or unit before it (Flat 3,), a
// postcode and town (, 10115 Berlin; , 75002 Paris; , 1012 AB
// Amsterdam), a town and UK postcode (, London NW1 6XE), a town, US state
// and ZIP (, Washington, DC 20500). A town alone does not: the street is
// what identifies a home.

const (
	capWord = `\p{Lu}[\p{L}'’.\-]*`
	// ukPostcode is an outward code (SW1A, NW1, M1, LS18) and an inward
	// one (2AA).
	ukPostcode      = `(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[A-Z]{2}`
	usStates        = `(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR)`
	town            = `\p{Lu}[\p{L}'\-]+(?:[ \-](?:upon|on|am|an|der|sur|le|la|de)?[ \-]?\p{Lu}[\p{L}'\-]+){0,2}`
	streetParticles = `(?:(?:de|du|des|la|le|les|del|della|delle|dei|di|da|do|dos|das|y|e|l'|d')\s?)*`
	unit            = `(?:Flat|Apartment|Apt\.|Unit|Suite|Ste\.|Room|Floor)\s\d{1,4}[A-Za-z]?`
)

var (
	englishStreet = regexp.MustCompile(`\d{1,5}[A-Za-z]?(?:[\-–]\d{1,5}[A-Za-z]?)?\s(?:(?:` + capWord + `|\d{1,3}(?:st|nd|rd|th))\s){1,4}` +
		`(?:Street|Road|Avenue|Lane|Drive|Boulevard|Way|Close|Court|Place|Square|Terrace|Crescent|Gardens|Grove|Hill|` +
		`Parkway|Highway|Row|Mews|Walk|Parade|Circle|Trail|Plaza|Broadway|St|Rd|Ave|Ln|Dr|Blvd|Ct|Pl|Sq|Hwy|Pkwy|Ter)\b\.?` +
		`(?:\s(?:NW|NE|SW|SE|N|S|E|W)\b)?(?:,?\s` + unit + `)?`)
	germanStreet = regexp.MustCompile(`(?:` + capWord + `\s)?(?:\p{Lu}[\p{L}\-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|damm|` +
		`straat|laan|gracht|plein|kade|vej|gade|gatan|vägen|veien|gata)|Straße|Strasse|Weg|Platz|Allee|Gasse)\s\d{1,3}[a-z]?(?:[\-–]\d{1,3}[a-z]?)?\b`)
	frenchStreet = regexp.MustCompile(`\d{1,4}(?:\s?(?:bis|ter))?,?\s(?i:rue|avenue|av\.|boulevard|bd|place|allée|chemin|quai|impasse|cours|route)\s` +
		streetParticles + capWord + `(?:\s` + streetParticles + capWord + `){0,3}`)
	latinStreet = regexp.MustCompile(`(?:Via|Viale|Piazza|Piazzale|Corso|Calle|Avenida|Rua|Paseo|Plaza|Carrer|Travessa|Largo)\s` +
		streetParticles + capWord + `(?:\s` + streetParticles + capWord + `){0,3},?\s\d{1,4}[A-Za-z]?\b`)
	poBox = regexp.MustCompile(`(?:P\.\s?O\.\s?Box|PO\sBox|POB|Post\sOffice\sBox|Postfach|Apartado(?:\sde\sCorreos)?|Boîte\spostale)\s\d{1,6}\b`)
	// ukAnchor is a town and a UK postcode; the parts before it are read
	// backwards (ukPart).
	ukAnchor = regexp.MustCompile(town + `,?\s` + ukPostcode + `\b`)
	ukPart   = regexp.MustCompile(`^(?:` + unit + `|(?:` + capWord + `\s){1,3}(?:Street|Road|Avenue|Lane|Drive|Close|Court|Place|Square|` +
		`Terrace|Crescent|Gardens|Grove|Hill|Row|Mews|Walk|Parade|House|Cottage|Farm|Lodge|Mansions|Building|Buildings|Tower|Hall)|` +
		englishStreet.String() + `)$`)
	// tails extend an address found: a postcode and town, a town and a UK
	// postcode, a town with a US state and ZIP.
	tails = []*regexp.Regexp{
		regexp.MustCompile(`^,?\s(?:\d{5}|\d{4}-\d{3}|\d{4}(?:\s[A-Z]{2})?|[A-Z]-\d{4,5})\s` + town + `\b`),
		regexp.MustCompile(`^,?\s(?:` + town + `,?\s)?` + ukPostcode + `\b`),
		regexp.MustCompile(`^,\s` + town + `,?\s` + usStates + `\s\d{5}(?:-\d{4})?\b`),
	}
	driveMakers = words(`google shared network hard usb flash external cloud one team virtual`)
	unitBefore  = regexp.MustCompile(unit + `,?\s$`)
)

// The forms are matched anchored, each only where it can start: a
// house number (englishStreet, frenchStreet) or a capitalised word (the
// others), which keeps the detector about as fast as the rest of
// FindText; unanchored, the street-suffix forms cost ten times more.
var (
	englishAt = anchored(englishStreet)
	germanAt  = anchored(germanStreet)
	frenchAt  = anchored(frenchStreet)
	latinAt   = anchored(latinStreet)
	poBoxAt   = anchored(poBox)
	ukAt      = anchored(ukAnchor)
)

func anchored(re *regexp.Regexp) *regexp.Regexp {
	return regexp.MustCompile(`^(?:` + re.String() + `)`)
}

// wordStarts returns the offsets in text where a number (digits) and where
// a capitalised word (upper) begin.
func wordStarts(text string) (digits, upper []int) {
	prev := ' '
	for i, r := range text {
		if !unicode.IsLetter(prev) && !unicode.IsDigit(prev) {
			switch {
			case '0' <= r && r <= '9':
				digits = append(digits, i)
			case unicode.IsUpper(r):
				upper = append(upper, i)
			}
		}
		prev = r
	}
	return digits, upper
}

var unitWords = []string{"Flat", "Apartment", "Apt.", "Unit", "Suite", "Ste.", "Room", "Floor"}

var germanSuffixes = []string{"stra", "str.", "weg", "gasse", "platz", "allee", "damm", "laan", "gracht", "plein", "kade", "vej", "gade", "gat", "väg", "veien"}

// inwardCode reports whether text holds a digit and two capitals that no
// letter or digit follows: the inward part of a UK postcode.
func inwardCode(text string) bool {
	for i := 0; i+2 < len(text); i++ {
		if text[i] >= '0' && text[i] <= '9' && 'A' <= text[i+1] && text[i+1] <= 'Z' && 'A' <= text[i+2] && text[i+2] <= 'Z' && rightAlone(text, i+3) {
			return true
		}
	}
	return false
}

// window returns at most 200 bytes of text from i (on a rune boundary):
// no address is longer, and an anchored match given the whole rest of a
// long text costs time in proportion to the rest (the regexp package's
// backtracker clears a bitmap of its length), which over every start
// would be quadratic.
func window(text string, i int) string {
	j := i + 200
	if j >= len(text) {
		return text[i:]
	}
	for j > i && !utf8.RuneStart(text[j]) {
		j--
	}
	return text[i:j]
}

// matchesAt returns the matches of re, anchored, at each of starts that is
// not inside an earlier match.
func matchesAt(re *regexp.Regexp, text string, starts []int) [][]int {
	var out [][]int
	end := 0
	for _, s := range starts {
		if s < end {
			continue
		}
		if m := re.FindStringIndex(window(text, s)); m != nil {
			out = append(out, []int{s, s + m[1]})
			end = s + m[1]
		}
	}
	return out
}

// findAddresses finds postal addresses in text: each form above, joined
// with what leads or follows it, the overlapping merged.
func findAddresses(text string) []Finding {
	type span struct{ start, end int }
	var spans []span
	digits, upper := wordStarts(text)
	add := func(re *regexp.Regexp, starts []int, leftNumber bool) {
		for _, m := range matchesAt(re, text, starts) {
			start, end := m[0], m[1]
			if leftNumber && !leftAlone(text, start) {
				continue
			}
			// A number glued on the right (10.0.0.5) is no house number.
			if end < len(text) {
				if r, _ := utf8.DecodeRuneInString(text[end:]); unicode.IsLetter(r) || unicode.IsDigit(r) {
					continue
				}
			}
			// Google Drive, a hard drive, a network drive: products.
			if f := strings.Fields(text[start:end]); len(f) >= 3 && driveMakers[strings.ToLower(f[len(f)-2])] && f[len(f)-1] == "Drive" {
				continue
			}
			// St and Dr before a capitalised word are Saint and Doctor.
			if v := text[start:end]; strings.HasSuffix(v, " St") || strings.HasSuffix(v, " Dr") {
				rest := text[end:]
				if len(rest) > 1 && rest[0] == ' ' && unicode.IsUpper(rune(rest[1])) {
					continue
				}
			}
			spans = append(spans, span{start, end})
		}
	}
	// Cheap tests first: a house number stands alone and is followed by a
	// space or a comma (not a dot, colon or dash: no IP address, time,
	// date or version); a suffix of German and Dutch streets is in the
	// text; a UK postcode's inward part (a digit, two capitals) is.
	houses := digits[:0:0]
	for _, i := range digits {
		j := i
		for j < len(text) && text[j] >= '0' && text[j] <= '9' {
			j++
		}
		if j < len(text) && ('A' <= text[j] && text[j] <= 'Z' || 'a' <= text[j] && text[j] <= 'z') {
			j++
		}
		if j < len(text) && (text[j] == ' ' || text[j] == ',' || text[j] == '-' || strings.HasPrefix(text[j:], "–")) && leftAlone(text, i) {
			houses = append(houses, i)
		}
	}
	add(englishAt, houses, true)
	add(frenchAt, houses, true)
	// A German or Dutch street starts at a capitalised word that, or
	// the next, holds a street suffix.
	var streets []int
	for _, i := range upper {
		w := window(text, i)
		if k := strings.IndexByte(w, ' '); k >= 0 {
			if l := strings.IndexByte(w[k+1:], ' '); l >= 0 {
				w = w[:k+1+l]
			}
		}
		w = strings.ToLower(w)
		if slices.ContainsFunc(germanSuffixes, func(x string) bool { return strings.Contains(w, x) }) {
			streets = append(streets, i)
		}
	}
	add(germanAt, streets, false)
	add(latinAt, upper, false)
	add(poBoxAt, upper, false)
	if !inwardCode(text) {
		upper = nil
	}
	for _, m := range matchesAt(ukAt, text, upper) {
		start, end := m[0], m[1]
		if !standsAlone(text, start, end) {
			continue
		}
		// Read back over ", part" while the part is an address's, four
		// at most (a flat, a building, a street, a village).
		for range 4 {
			before := text[:start]
			if !strings.HasSuffix(before, ", ") {
				break
			}
			i := strings.LastIndexAny(before[:len(before)-2], ",.;:\n(")
			part := strings.TrimSpace(before[i+1 : len(before)-2])
			if !ukPart.MatchString(part) {
				break
			}
			start = strings.LastIndex(before, part)
		}
		spans = append(spans, span{start, end})
	}
	for i := range spans {
		s := &spans[i]
		for extended := true; extended; {
			extended = false
			for _, t := range tails {
				if m := t.FindStringIndex(window(text, s.end)); m != nil && rightAlone(text, s.end+m[1]) {
					s.end += m[1]
					extended = true
					break
				}
			}
		}
		from := max(0, s.start-40)
		for from > 0 && !utf8.RuneStart(text[from]) {
			from--
		}
		if !slices.ContainsFunc(unitWords, func(u string) bool { return strings.Contains(text[from:s.start], u) }) {
			continue
		}
		if m := unitBefore.FindStringIndex(text[from:s.start]); m != nil && leftAlone(text, from+m[0]) {
			s.start = from + m[0]
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var out []Finding
	for _, s := range spans {
		if n := len(out); n > 0 && s.start <= out[n-1].End {
			if s.end > out[n-1].End {
				out[n-1].End = s.end
				out[n-1].Value = text[out[n-1].Start:s.end]
			}
			continue
		}
		out = append(out, Finding{Kind: Address, Value: text[s.start:s.end], Start: s.start, End: s.end})
	}
	return out
}

// leftAlone reports whether what starts at i is not glued on its left to
// a letter, a digit or the punctuation of identifiers, versions and
// addresses (standsAlone's left half).
func leftAlone(text string, i int) bool { return standsAlone(text[:i], i, i) }

// rightAlone reports whether what ends at i is not glued on its right to
// a letter or digit.
func rightAlone(text string, i int) bool {
	r, _ := utf8.DecodeRuneInString(text[i:])
	return i == len(text) || !unicode.IsLetter(r) && !unicode.IsDigit(r)
}
