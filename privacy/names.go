package privacy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Personal names in free text. A name is one to three capitalised words
// after an honorific (Dr Sarah Mitchell, Mr Okafor), or two or three
// capitalised words that are not common capitalised words of threat
// reports (stopWords) and either begin with a common given name
// (givenNames) or stand within five words before, or three after, a word
// about people or contact (nameCues: contact, employee, CFO, victim...).

var honorifics = words(`mr mr. mrs mrs. ms ms. miss mx dr dr. prof prof. professor sir dame lord lady herr frau mme mme. madame monsieur`)

var nameCues = words(`contact contacted contacts employee employees staff ceo cfo cto ciso coo cio director manager analyst engineer officer
	assistant secretary colleague colleagues user victim victims targeted target emailed called named spokesperson head chief
	administrator owner reported reporter reached journalist researcher dissident activist lawyer doctor nurse patient student
	intern accountant clerk payroll executive president minister ambassador spouse wife husband son daughter person individual
	customer client dear attn attention regards signed mailbox account belongs impersonated impersonating interviewed
	whistleblower suspect`)

// stopWords are capitalised words common in threat reports that are not
// personal names: sentence openers, organisations, products, places,
// months, threat-actor naming schemes, ATT&CK tactic and technique words.
var stopWords = words(strings.ToLower(`The A An This That These Those It Its We Our Us They Their He She His Her In On At Of For From
	With By To And Or But If When Where After Before During While As All Any Some No Not New Please Note See Also Then Once Upon
	According Contact Dear Regards Best Kind Thanks Hello Hi Team Ltd Inc Corp Corporation Group Bank Ministry Department Office
	Council Agency Service Services University Hospital Police Government National Cyber Security Centre Center Threat
	Intelligence Incident Response Operation Operations Campaign Malware Ransomware Trojan Backdoor Loader Stealer Windows
	Microsoft Outlook Exchange Google Chrome Apple Linux Cisco Fortinet Ivanti Citrix VMware Oracle Adobe Zoom Teams Slack Azure
	AWS Amazon Cloud Active Directory PowerShell Cobalt Strike Mimikatz Emotet Qakbot TrickBot Lazarus Sandworm APT Fancy Cozy
	Bear Kitten Panda Spider Chollima Typhoon Blizzard Sleet Tempest Sandstorm Hail Storm Dust Midnight Volt Charming Wizard
	Scattered Atlas Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August
	September October November December Europe Asia America Africa North South East West Central United Kingdom States Russia
	China Iran Korea Ukraine Israel Japan Germany France Britain London Paris Berlin Washington Moscow Beijing Tokyo Tehran
	Pyongyang Kyiv Server Client Update Remote Desktop Protocol Initial Access Execution Persistence Privilege Escalation Defense
	Defence Evasion Credential Credentials Discovery Lateral Movement Collection Command Control Exfiltration Impact
	Spearphishing Phishing Attachment Link Valid Accounts Scheduled Task Process Injection Scripting Interpreter Ingress Tool
	Transfer Data Encrypted Application Layer User Users Domain Controller Admin Administrator Read Report Indicator Indicators
	Compromise Summary Details Analysis Executive Key Findings Recommendations Appendix Table Figure Version Release Patch Zero
	Day Critical High Medium Low Red Amber Green Clear White TLP Sharing Partner Partners Member Members Hub Joint Cell Finance
	Energy Health Transport Telecom Black Basta Lock Bit Conti Royal Play Akira Rhysida Hive Clop Alpha Vice Society Medusa Silent
	Librarian Phosphorus Mercury Nobelium Strontium Zinc Hafnium Gold Silver Iron Steel Dragon Tiger Lion Eagle Falcon Wolf Fox
	Chief Officer Director Manager Head Financial Technology Information Systems Network Networks Internet Web Mail Email E-mail
	Portal Login Account Password Reset Invoice Payment Urgent Action Required Dropbox OneDrive SharePoint Word Excel Acrobat
	Reader Java Python Ruby Rust Go Golang Docker Kubernetes Jenkins GitHub GitLab Atlassian Confluence Jira Okta Duo Palo Alto
	Check Point Fortigate Pulse Secure Big IP Sophos Kaspersky Symantec Mandiant CrowdStrike Recorded Future Proofpoint Unit
	Talos Secureworks Dragos Claroty Trend Micro Defender Sentinel Splunk Elastic Suricata Snort Zeek YARA Sigma STIX TAXII MISP
	OpenCTI Tor Onion Signal Telegram WhatsApp Discord Twitter Facebook LinkedIn Instagram Viber Skype Meta Street Road Avenue
	Lane Square Building Floor Suite House Park Court Hall Bridge Station Airport Port Harbour Harbor Ocean Sea River Mountain
	Island Islands Bay Valley Saint St Mount Fort New York San Francisco Los Angeles Hong Kong Tel Aviv Abu Dhabi Saudi Arabia
	Emirates Netherlands Belgium Poland Sweden Norway Finland Denmark Estonia Latvia Lithuania Romania Bulgaria Greece Turkey
	Italy Spain Portugal Ireland Scotland Wales England Canada Australia Zealand India Pakistan Brazil Mexico Argentina Chile
	Nigeria Egypt Kenya Vietnam Thailand Singapore Malaysia Indonesia Philippines Taiwan Syria Iraq Lebanon Jordan Qatar Kuwait
	Bahrain Oman Yemen Libya Algeria Morocco Tunisia Serbia Belarus Georgia Armenia Azerbaijan Kazakhstan Uzbekistan`))

// givenNames are common given names across the partners' languages: a
// capitalised pair that starts with one is a name without any cue.
var givenNames = words(strings.ToLower(`James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew
	Anthony Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald Edward Jason Jeffrey Ryan Jacob Gary
	Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel Gregory Alexander Frank Patrick Raymond Jack Dennis
	Jerry Tyler Aaron Henry Adam Peter Nathan Douglas Zachary Kyle Noah Ethan Jeremy Christian Keith Roger Terry Sean Austin Carl
	Harold Arthur Lawrence Jesse Dylan Bryan Joe Jordan Billy Bruce Albert Willie Gabriel Logan Alan Juan Wayne Roy Ralph Randy
	Eugene Vincent Russell Louis Philip Bobby Johnny Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen
	Lisa Nancy Betty Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah Stephanie Rebecca
	Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma Nicole Helen Samantha Katherine Christine Debra
	Rachel Carolyn Janet Catherine Maria Heather Diane Ruth Julie Olivia Joyce Virginia Victoria Kelly Lauren Christina Joan
	Evelyn Judith Megan Andrea Cheryl Hannah Jacqueline Martha Gloria Teresa Ann Sara Madison Frances Kathryn Janice Jean
	Abigail Alice Julia Judy Sophia Grace Denise Amber Doris Marilyn Danielle Beverly Isabella Theresa Diana Natalie Brittany
	Charlotte Marie Kayla Alexis Lori Jane Oliver Harry Charlie Alfie Freddie Archie Leo Oscar Isla Ava Mia Poppy Amelia Lily
	Sophie Chloe Ella Hans Klaus Jurgen Wolfgang Stefan Andreas Markus Anke Ursula Petra Sabine Pierre Jean Jacques Francois
	Nicolas Camille Sylvie Isabelle Nathalie Giovanni Giuseppe Marco Luca Francesca Giulia Alessandro Javier Carlos Miguel
	Alejandro Sofia Lucia Carmen Pedro Joao Ana Mohammed Muhammad Ahmed Ali Omar Hassan Hussein Fatima Aisha Layla Yusuf Ibrahim
	Mustafa Khalid Tariq Rania Noor Hiroshi Takashi Yuki Haruto Sakura Akira Kenji Yui Wei Li Ming Jing Hui Jun Min Ji Seo Hyun
	Raj Rahul Priya Anjali Amit Sanjay Deepak Arjun Vikram Neha Ivan Dmitri Sergei Olga Natalia Tatiana Oleksandr Olena Andrii
	Piotr Katarzyna Agnieszka Tomasz Jan Lars Erik Ingrid Astrid Sven Nils Aoife Siobhan Ciaran Niamh Declan Chidi Ngozi Emeka
	Kwame Amara Thabo Zanele Lindiwe Oluwaseun Adebayo Chinonso Rhys Gareth Dafydd Cerys Eilidh Callum Hamish Fiona Morag`))

type token struct {
	word       string
	start, end int
}

// tokens splits text into words of letters (with inner hyphens and
// apostrophes) and punctuation marks that end a name run.
func tokens(text string) []token {
	var out []token
	i := 0
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsLetter(r) {
			if strings.ContainsRune(".,;:!?()\"\n@/", r) {
				out = append(out, token{word: string(r), start: i, end: i + n})
			}
			i += n
			continue
		}
		j := i + n
		for j < len(text) {
			r, n := utf8.DecodeRuneInString(text[j:])
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				j += n
				continue
			}
			if (r == '-' || r == '\'' || r == '’') && j+n < len(text) {
				if r2, _ := utf8.DecodeRuneInString(text[j+n:]); unicode.IsLetter(r2) {
					j += n
					continue
				}
			}
			break
		}
		w := text[i:j]
		// A possessive is the name's: Tanaka's.
		for _, s := range []string{"'s", "’s"} {
			if strings.HasSuffix(w, s) && len(w) > len(s)+1 {
				w = w[:len(w)-len(s)]
			}
		}
		out = append(out, token{word: w, start: i, end: i + len(w)})
		i = j
	}
	return out
}

// nameWord reports whether w looks like one word of a personal name:
// capitalised, the rest in lower case (inner capitals after a hyphen or
// apostrophe, or Mc/Mac, allowed), at least two letters.
func nameWord(w string) bool {
	if l := strings.ToLower(w); stopWords[l] || nameCues[l] || honorifics[l] {
		return false
	}
	rs := []rune(w)
	if len(rs) < 2 || !unicode.IsUpper(rs[0]) {
		return false
	}
	for i := 1; i < len(rs); i++ {
		r := rs[i]
		switch {
		case unicode.IsLower(r):
		case unicode.IsUpper(r) && (rs[i-1] == '-' || rs[i-1] == '\'' || rs[i-1] == '’' || string(rs[:i]) == "Mc" || string(rs[:i]) == "Mac"):
		case r == '-' || r == '\'' || r == '’':
		default:
			return false
		}
	}
	return true
}

// particles may stand inside a name: Ludwig van Beethoven, Ana de Souza.
var particles = words(`van von de der den da di du del la le bin ibn al el`)

func findNames(text string) []Finding {
	ts := tokens(text)
	var out []Finding
	for i := 0; i < len(ts); i++ {
		// A run of name words (particles inside), at most four tokens.
		j := i
		for j < len(ts) && j-i < 4 && (nameWord(ts[j].word) || j > i && particles[ts[j].word] && j+1 < len(ts) && nameWord(ts[j+1].word)) {
			j++
		}
		if j == i {
			continue
		}
		n := j - i
		hon := i > 0 && honorifics[strings.ToLower(ts[i-1].word)] ||
			i > 1 && ts[i-1].word == "." && honorifics[strings.ToLower(ts[i-2].word)]
		if j < len(ts) && nameWord(ts[j].word) {
			// Five capitalised words or more: a title or an organisation.
			for j < len(ts) && nameWord(ts[j].word) {
				j++
			}
			i = j
			continue
		}
		switch {
		case hon && n <= 3:
		case n >= 2 && n <= 3 && (givenNames[strings.ToLower(ts[i].word)] || cueNear(ts, i, j)):
		default:
			i = j - 1
			continue
		}
		out = append(out, Finding{Kind: Name, Value: text[ts[i].start:ts[j-1].end], Start: ts[i].start, End: ts[j-1].end})
		i = j - 1
	}
	return out
}

// cueNear reports whether a word about people comes within five words
// before ts[i:j] or three after it, not past the end of a sentence.
func cueNear(ts []token, i, j int) bool {
	for k, seen := i-1, 0; k >= 0 && seen < 5; k-- {
		w := strings.ToLower(ts[k].word)
		if w == "." || w == "!" || w == "?" || w == "\n" {
			break
		}
		if nameCues[w] || honorifics[w] {
			return true
		}
		if len(w) > 1 {
			seen++
		}
	}
	for k, seen := j, 0; k < len(ts) && seen < 3; k++ {
		w := strings.ToLower(ts[k].word)
		if w == "." || w == "!" || w == "?" || w == "\n" {
			break
		}
		if nameCues[w] {
			return true
		}
		if len(w) > 1 {
			seen++
		}
	}
	return false
}
