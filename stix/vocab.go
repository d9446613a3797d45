package stix

// This file holds the fixed tables of the STIX 2.1 specification that
// Validate looks values up in: the object types of each category, the
// suggested values of the open vocabularies (section 10) and the members of
// the closed enumerations. They are built once at package initialisation so
// that validating an object costs map lookups and no allocation.

// vocab is a set of strings.
type vocab map[string]struct{}

func newVocab(words ...string) vocab {
	v := make(vocab, len(words))
	for _, w := range words {
		v[w] = struct{}{}
	}
	return v
}

func (v vocab) has(s string) bool {
	_, ok := v[s]
	return ok
}

// Object categories.
const (
	catCustom = iota // a custom object type, neither SCO nor one of the spec's
	catSDO
	catSRO
	catSCO
	catMarking
	catLanguage
	catExtDef
	catBundle
)

// categoryOf maps every object type the 2.1 specification defines to its
// category.
var categoryOf = map[string]int{
	"attack-pattern":   catSDO,
	"campaign":         catSDO,
	"course-of-action": catSDO,
	"grouping":         catSDO,
	"identity":         catSDO,
	"incident":         catSDO,
	"indicator":        catSDO,
	"infrastructure":   catSDO,
	"intrusion-set":    catSDO,
	"location":         catSDO,
	"malware":          catSDO,
	"malware-analysis": catSDO,
	"note":             catSDO,
	"observed-data":    catSDO,
	"opinion":          catSDO,
	"report":           catSDO,
	"threat-actor":     catSDO,
	"tool":             catSDO,
	"vulnerability":    catSDO,

	"relationship": catSRO,
	"sighting":     catSRO,

	"artifact":             catSCO,
	"autonomous-system":    catSCO,
	"directory":            catSCO,
	"domain-name":          catSCO,
	"email-addr":           catSCO,
	"email-message":        catSCO,
	"file":                 catSCO,
	"ipv4-addr":            catSCO,
	"ipv6-addr":            catSCO,
	"mac-addr":             catSCO,
	"mutex":                catSCO,
	"network-traffic":      catSCO,
	"process":              catSCO,
	"software":             catSCO,
	"url":                  catSCO,
	"user-account":         catSCO,
	"windows-registry-key": catSCO,
	"x509-certificate":     catSCO,

	"marking-definition":   catMarking,
	"language-content":     catLanguage,
	"extension-definition": catExtDef,
	"bundle":               catBundle,
}

// Open vocabularies of section 10. A value outside one gives a warning.
var (
	vocabAccountType = newVocab("facebook", "ldap", "nis", "openid", "radius", "skype", "tacacs", "twitter",
		"unix", "windows-local", "windows-domain")
	vocabAttackMotivation = newVocab("accidental", "coercion", "dominance", "ideology", "notoriety",
		"organizational-gain", "personal-gain", "personal-satisfaction", "revenge", "unpredictable")
	vocabAttackResourceLevel = newVocab("individual", "club", "contest", "team", "organization", "government")
	vocabGroupingContext     = newVocab("suspicious-activity", "malware-analysis", "unspecified")
	vocabHashAlgorithm       = newVocab("MD5", "SHA-1", "SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SSDEEP", "TLSH")
	vocabIdentityClass       = newVocab("individual", "group", "system", "organization", "class", "unknown")
	vocabImplementationLang  = newVocab("applescript", "bash", "c", "c++", "c#", "go", "java", "javascript", "lua",
		"objective-c", "perl", "php", "powershell", "python", "ruby", "scala", "swift", "typescript",
		"visual-basic", "x86-32", "x86-64")
	vocabIndicatorType = newVocab("anomalous-activity", "anonymization", "benign", "compromised",
		"malicious-activity", "attribution", "unknown")
	vocabIndustrySector = newVocab("agriculture", "aerospace", "automotive", "chemical", "commercial",
		"communications", "construction", "defense", "education", "energy", "entertainment",
		"financial-services", "government", "emergency-services", "government-local", "government-national",
		"government-public-services", "government-regional", "healthcare", "hospitality-leisure",
		"infrastructure", "dams", "nuclear", "water", "insurance", "manufacturing", "mining", "non-profit",
		"pharmaceuticals", "retail", "technology", "telecommunications", "transportation", "utilities")
	vocabInfrastructureType = newVocab("amplification", "anonymization", "botnet", "command-and-control",
		"control-system", "exfiltration", "firewall", "hosting-malware", "hosting-target-lists", "phishing",
		"reconnaissance", "routers-switches", "staging", "workstation", "unknown")
	vocabMalwareResult       = newVocab("malicious", "suspicious", "benign", "unknown")
	vocabMalwareCapabilities = newVocab("accesses-remote-machines", "anti-debugging", "anti-disassembly",
		"anti-emulation", "anti-memory-forensics", "anti-sandbox", "anti-vm", "captures-input-peripherals",
		"captures-output-peripherals", "captures-system-state-data", "cleans-traces-of-infection",
		"commits-fraud", "communicates-with-c2", "compromises-data-availability",
		"compromises-data-integrity", "compromises-system-availability", "controls-local-machine",
		"degrades-security-software", "degrades-system-updates", "determines-c2-server", "emails-spam",
		"escalates-privileges", "evades-av", "exfiltrates-data", "fingerprints-host", "hides-artifacts",
		"hides-executing-code", "infects-files", "infects-remote-machines", "installs-other-components",
		"persists-after-system-reboot", "prevents-artifact-access", "prevents-artifact-deletion",
		"probes-network-environment", "self-modifies", "steals-authentication-credentials",
		"violates-system-operational-integrity")
	vocabMalwareType = newVocab("adware", "backdoor", "bot", "bootkit", "ddos", "downloader", "dropper",
		"exploit-kit", "keylogger", "ransomware", "remote-access-trojan", "resource-exploitation",
		"rogue-security-software", "rootkit", "screen-capture", "spyware", "trojan", "unknown", "virus",
		"webshell", "wiper", "worm")
	vocabPatternType           = newVocab("stix", "pcre", "sigma", "snort", "suricata", "yara")
	vocabProcessorArchitecture = newVocab("alpha", "arm", "ia-64", "mips", "powerpc", "sparc", "x86", "x86-64")
	vocabRegion                = newVocab("africa", "eastern-africa", "middle-africa", "northern-africa",
		"southern-africa", "western-africa", "americas", "caribbean", "central-america",
		"latin-america-caribbean", "northern-america", "south-america", "asia", "central-asia",
		"eastern-asia", "southern-asia", "south-eastern-asia", "western-asia", "europe", "eastern-europe",
		"northern-europe", "southern-europe", "western-europe", "middle-east", "oceania", "antarctica",
		"australia-new-zealand", "melanesia", "micronesia", "polynesia")
	vocabReportType = newVocab("attack-pattern", "campaign", "identity", "indicator", "intrusion-set",
		"malware", "observed-data", "threat-actor", "threat-report", "tool", "vulnerability")
	vocabThreatActorType = newVocab("activist", "competitor", "crime-syndicate", "criminal", "hacker",
		"insider-accidental", "insider-disgruntled", "nation-state", "sensationalist", "spy", "terrorist",
		"unknown")
	vocabThreatActorRole = newVocab("agent", "director", "independent", "infrastructure-architect",
		"infrastructure-operator", "malware-author", "sponsor")
	vocabThreatActorSophistication = newVocab("none", "minimal", "intermediate", "advanced", "expert",
		"innovator", "strategic")
	vocabToolType = newVocab("denial-of-service", "exploitation", "information-gathering", "network-capture",
		"credential-exploitation", "remote-access", "vulnerability-scanning", "unknown")
	vocabPEBinaryType      = newVocab("dll", "exe", "sys")
	vocabMarkingDefinition = newVocab("statement", "tlp")
)

// Closed enumerations: a value outside one is an error.
var (
	enumEncryptionAlgorithm = newVocab("AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated")
	enumExtensionType       = newVocab("new-sdo", "new-sco", "new-sro", "property-extension",
		"toplevel-property-extension")
	enumSocketAddressFamily = newVocab("AF_UNSPEC", "AF_INET", "AF_IPX", "AF_APPLETALK", "AF_NETBIOS",
		"AF_INET6", "AF_IRDA", "AF_BTH")
	enumSocketType       = newVocab("SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET")
	enumOpinion          = newVocab("strongly-disagree", "disagree", "neutral", "agree", "strongly-agree")
	enumIntegrityLevel   = newVocab("low", "medium", "high", "system")
	enumRegistryDatatype = newVocab("REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD",
		"REG_DWORD_BIG_ENDIAN", "REG_DWORD_LITTLE_ENDIAN", "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST",
		"REG_FULL_RESOURCE_DESCRIPTION", "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD", "REG_INVALID_TYPE")
	enumServiceStart = newVocab("SERVICE_AUTO_START", "SERVICE_BOOT_START", "SERVICE_DEMAND_START",
		"SERVICE_DISABLED", "SERVICE_SYSTEM_ALERT")
	enumServiceType = newVocab("SERVICE_KERNEL_DRIVER", "SERVICE_FILE_SYSTEM_DRIVER",
		"SERVICE_WIN32_OWN_PROCESS", "SERVICE_WIN32_SHARE_PROCESS")
	enumServiceStatus = newVocab("SERVICE_CONTINUE_PENDING", "SERVICE_PAUSE_PENDING", "SERVICE_PAUSED",
		"SERVICE_RUNNING", "SERVICE_START_PENDING", "SERVICE_STOP_PENDING", "SERVICE_STOPPED")
	enumTLP = newVocab("white", "green", "amber", "red")
)

// reservedNames are the property names section 3.8 reserves: they MUST NOT
// appear in 2.1 content.
var reservedNames = newVocab("severity", "username", "phone_number", "action")

// predefinedExtensions lists, per SCO type, the names of the extensions the
// specification defines for it (section 6).
var predefinedExtensions = map[string]vocab{
	"file":            newVocab("archive-ext", "ntfs-ext", "pdf-ext", "raster-image-ext", "windows-pebinary-ext"),
	"network-traffic": newVocab("http-request-ext", "icmp-ext", "socket-ext", "tcp-ext"),
	"process":         newVocab("windows-process-ext", "windows-service-ext"),
	"user-account":    newVocab("unix-account-ext"),
}

// hashLength is the number of hexadecimal digits of the fixed-length hash
// algorithms of hash-algorithm-ov.
var hashLength = map[string]int{
	"MD5":      32,
	"SHA-1":    40,
	"SHA-256":  64,
	"SHA-512":  128,
	"SHA3-256": 64,
	"SHA3-512": 128,
}

// The TLP marking definitions. Section 7.2.1.4 of STIX 2.1 fixes the four
// TLP 1.0 objects; the OASIS TLP 2.0 extension
// (github.com/oasis-open/cti-stix-common-objects,
// extension-definition-specifications/tlp-2.0) fixes the five TLP 2.0 ones.
// An object using one of these ids must be exactly the published object.
const tlp2Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

var tlpDefinitions = map[string]map[string]any{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": tlp1("white", "TLP:WHITE", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": tlp1("green", "TLP:GREEN", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"),
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": tlp1("amber", "TLP:AMBER", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"),
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": tlp1("red", "TLP:RED", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),

	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": tlp2("clear", "TLP:CLEAR", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"),
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": tlp2("green", "TLP:GREEN", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"),
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": tlp2("amber", "TLP:AMBER", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"),
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": tlp2("amber+strict", "TLP:AMBER+STRICT", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"),
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": tlp2("red", "TLP:RED", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"),
}

func tlp1(level, name, id string) map[string]any {
	return map[string]any{
		"type":            "marking-definition",
		"spec_version":    "2.1",
		"id":              id,
		"created":         "2017-01-20T00:00:00.000Z",
		"definition_type": "tlp",
		"name":            name,
		"definition":      map[string]any{"tlp": level},
	}
}

func tlp2(level, name, id string) map[string]any {
	return map[string]any{
		"type":         "marking-definition",
		"spec_version": "2.1",
		"id":           id,
		"created":      "2022-10-01T00:00:00.000Z",
		"name":         name,
		"extensions": map[string]any{
			tlp2Extension: map[string]any{
				"extension_type": "property-extension",
				"tlp_2_0":        level,
			},
		},
	}
}

// TLPDefinition returns the published marking-definition object with the
// given id, when id is one of the TLP 1.0 or TLP 2.0 marking definitions.
// The map is a fresh copy the caller may keep.
func TLPDefinition(id string) (map[string]any, bool) {
	d, ok := tlpDefinitions[id]
	if !ok {
		return nil, false
	}
	return deepCopyJSON(d).(map[string]any), true
}

func deepCopyJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = deepCopyJSON(x)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = deepCopyJSON(x)
		}
		return l
	}
	return v
}
