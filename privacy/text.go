package privacy

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FindText returns the personal data the detectors d find in free text,
// in the order it appears; findings never overlap (an address wins over
// a name or number inside it).
func FindText(text string, d Detectors) []Finding {
	var out []Finding
	if d[Email] {
		out = append(out, findEmails(text)...)
	}
	if d[Phone] {
		out = append(out, findPhones(text)...)
	}
	if d[Address] {
		out = append(out, findAddresses(text)...)
	}
	if d[Name] {
		out = append(out, findNames(text)...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	kept := out[:0]
	end := -1
	for _, f := range out {
		if f.Start < end {
			continue
		}
		kept = append(kept, f)
		end = f.End
	}
	return kept
}

var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)

// Words that, as the nearest cue before an address in its sentence, say
// the address is the attacker's (the sender of a lure, a registrant, a
// drop box) or a person's (a recipient, an employee, a contact).
var (
	attackerCues = words(`from sender senders sent spoofed spoofing spoof registrant registered attacker attackers actor actors
		adversary adversaries operator operators c2 malicious phishing reply-to impersonating impersonated exfiltrated exfiltration
		drop uploaded controlled attacker-controlled actor-controlled lure lures indicator pattern`)
	personCues = words(`to recipient recipients targeted target targets victim victims employee employees user users mailbox inbox
		account accounts contact contacted reach reached cc bcc owner staff compromised of at colleague customer customers member members
		reporter reported`)
)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// findEmails finds e-mail addresses, except those the words before them in
// their sentence present as the attacker's: the nearest cue word (at most
// eight words back, not past a sentence end) decides; an address with no
// cue is personal data. "to" right after an exfiltration word (sent to,
// forwarded to, uploaded to) is the attacker's drop box.
func findEmails(text string) []Finding {
	if !strings.Contains(text, "@") {
		return nil
	}
	var out []Finding
	for _, m := range emailRE.FindAllStringIndex(text, -1) {
		start, end := m[0], m[1]
		if attackerAddress(text[:start]) {
			continue
		}
		out = append(out, Finding{Kind: Email, Value: text[start:end], Start: start, End: end})
	}
	return out
}

func attackerAddress(before string) bool {
	ws := lastWords(before, 8)
	for i := len(ws) - 1; i >= 0; i-- {
		w := ws[i]
		switch {
		case w == "to" && i > 0 && (ws[i-1] == "exfiltrated" || ws[i-1] == "forwarded" || ws[i-1] == "uploaded" || ws[i-1] == "data"):
			return true
		case personCues[w]:
			return false
		case attackerCues[w]:
			return true
		}
	}
	return false
}

// lastWords returns up to n lower-case words at the end of s, not past the
// end of the sentence before them.
func lastWords(s string, n int) []string {
	if i := strings.LastIndexAny(s, "\n!?;"); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.LastIndex(s, ". "); i >= 0 {
		s = s[i+2:]
	}
	ws := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-'
	})
	if len(ws) > n {
		ws = ws[len(ws)-n:]
	}
	return ws
}

// phoneRE finds candidates: a run that starts with +, ( or a digit, ends
// with a digit and holds only digits and the separators of written
// numbers (space, -, ., parentheses).
var phoneRE = regexp.MustCompile(`[+(]?\d[\d ().\-]{4,22}\d`)

var (
	dateLike  = regexp.MustCompile(`^(\d{4}[.\-]\d{1,2}[.\-]\d{1,2}|\d{1,2}[.\-]\d{1,2}[.\-]\d{2,4})$`)
	ipLike    = regexp.MustCompile(`^\d{1,3}(\.\d{1,3}){3}$`)
	nanp      = regexp.MustCompile(`^(1[ .\-])?(\(\d{3}\) ?|\d{3}[ .\-])\d{3}[ .\-]\d{4}$`)
	phoneCues = words(`tel telephone phone phones mobile mob cell call called calling fax ring rang whatsapp sms signal telegram hotline helpdesk dial dialled dialed contact`)
)

// findPhones finds telephone numbers: E.164 with or without separators
// (+44 20 7946 0958, +14155550123); North American numbers written
// (415) 555-0123, 415-555-0123 or 415.555.0123; national numbers that
// start with a trunk 0 (or the international 00) and are written in
// groups of at most 8 digits (020 7946 0958, 07700-900-123, (030) 1234
// 5678, 030 12345678); and any run of 9 to 15 digits in groups of at
// most 5 when a word about telephones comes just before it. Not a number
// glued to letters or to -, /, : or . (hashes, CVEs, ATT&CK ids, versions,
// IP addresses), nor a date.
func findPhones(text string) []Finding {
	var out []Finding
	for _, m := range phoneRE.FindAllStringIndex(text, -1) {
		start, end := m[0], m[1]
		c := text[start:end]
		// A parenthesis opened inside and not closed, or closed and not
		// opened, is prose around the number.
		if strings.HasSuffix(c, ")") {
			continue
		}
		if strings.Count(c, "(") != strings.Count(c, ")") {
			if c[0] == '(' {
				start++
			}
			c = text[start:end]
			if strings.ContainsAny(c, "()") {
				continue
			}
		}
		if !standsAlone(text, start, end) || dateLike.MatchString(c) || ipLike.MatchString(c) {
			continue
		}
		digits := 0
		for _, r := range c {
			if '0' <= r && r <= '9' {
				digits++
			}
		}
		if digits < 7 || digits > 15 {
			continue
		}
		groups := strings.FieldsFunc(c, func(r rune) bool { return r < '0' || r > '9' })
		grouped := len(groups) > 1
		cue := false
		for _, w := range lastWords(text[:start], 4) {
			if phoneCues[w] {
				cue = true
			}
		}
		ok := false
		switch {
		case c[0] == '+':
			ok = c[1] != '0' && digits >= 8 && (!strings.Contains(c, ".") || cue)
		case nanp.MatchString(c):
			ok = true
		case grouped && (c[0] == '0' || strings.HasPrefix(c, "(0")) && digits >= 9 && (digits <= 12 || strings.HasPrefix(c, "00")) &&
			!strings.Contains(c, ".") && smallGroups(groups, 8):
			ok = true
		case cue && digits >= 9 && smallGroups(groups, 5):
			ok = true
		}
		if ok {
			out = append(out, Finding{Kind: Phone, Value: text[start:end], Start: start, End: end})
		}
	}
	return out
}

// smallGroups reports whether digits are written in the groups of a phone
// number: none longer than max digits, unless it is one run of 9 to 11.
func smallGroups(groups []string, max int) bool {
	if len(groups) == 1 {
		return len(groups[0]) >= 9 && len(groups[0]) <= 11
	}
	for _, g := range groups {
		if len(g) > max {
			return false
		}
	}
	return true
}

// standsAlone reports whether text[start:end] is not glued to letters,
// digits or to the punctuation of identifiers, versions and addresses.
func standsAlone(text string, start, end int) bool {
	if start > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:start])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_/:.#=\\", r) {
			return false
		}
	}
	if end < len(text) {
		r, _ := utf8.DecodeRuneInString(text[end:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_/:%=\\", r) {
			return false
		}
		if r == '.' && end+1 < len(text) && text[end+1] >= '0' && text[end+1] <= '9' {
			return false
		}
	}
	return true
}
