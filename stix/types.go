package stix

// Kind is the category of a STIX object type.
type Kind int

const (
	KindCustom Kind = iota // a type the specification does not define
	KindSDO                // STIX Domain Object
	KindSRO                // STIX Relationship Object
	KindSCO                // STIX Cyber-observable Object
	KindMeta               // marking-definition, language-content, extension-definition
	KindBundle             // the bundle itself
)

var kinds = map[string]Kind{
	"attack-pattern": KindSDO, "campaign": KindSDO, "course-of-action": KindSDO, "grouping": KindSDO,
	"identity": KindSDO, "incident": KindSDO, "indicator": KindSDO, "infrastructure": KindSDO,
	"intrusion-set": KindSDO, "location": KindSDO, "malware": KindSDO, "malware-analysis": KindSDO,
	"note": KindSDO, "observed-data": KindSDO, "opinion": KindSDO, "report": KindSDO,
	"threat-actor": KindSDO, "tool": KindSDO, "vulnerability": KindSDO,

	"relationship": KindSRO, "sighting": KindSRO,

	"artifact": KindSCO, "autonomous-system": KindSCO, "directory": KindSCO, "domain-name": KindSCO,
	"email-addr": KindSCO, "email-message": KindSCO, "file": KindSCO, "ipv4-addr": KindSCO,
	"ipv6-addr": KindSCO, "mac-addr": KindSCO, "mutex": KindSCO, "network-traffic": KindSCO,
	"process": KindSCO, "software": KindSCO, "url": KindSCO, "user-account": KindSCO,
	"windows-registry-key": KindSCO, "x509-certificate": KindSCO,

	"marking-definition": KindMeta, "language-content": KindMeta, "extension-definition": KindMeta,

	"bundle": KindBundle,
}

// KindOf returns the category of a STIX object type; KindCustom for any
// type the specification does not define.
func KindOf(typ string) Kind { return kinds[typ] }
