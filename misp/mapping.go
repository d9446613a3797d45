package misp

import (
	"sort"
	"strings"
)

// field is where one value (or one part of a composite value) goes in
// STIX: a cyber-observable type and a property path as a STIX pattern
// writes it, such as file + hashes.'SHA-256' or network-traffic +
// src_ref.value.
type field struct {
	obj  string
	path string
}

// String writes the field as a pattern does: object-type:path.
func (f field) String() string { return f.obj + ":" + f.path }

func fld(s string) field {
	i := strings.IndexByte(s, ':')
	return field{obj: s[:i], path: s[i+1:]}
}

// hashTypes maps MISP hash attribute types to the STIX hash algorithm
// names (hash-algorithm-ov where it has one, MISP's own name in capitals
// otherwise, as misp-stix writes them). sha512/224 and sha512/256 keep
// their own names (SHA-512-224, SHA-512-256: STIX hash names allow no
// slash) rather than misp-stix's SHA-224 and SHA-256, which would make
// them indistinguishable from sha224 and sha256.
var hashTypes = map[string]string{
	"md5": "MD5", "sha1": "SHA-1", "sha224": "SHA-224", "sha256": "SHA-256",
	"sha384": "SHA-384", "sha512": "SHA-512", "sha512/224": "SHA-512-224",
	"sha512/256": "SHA-512-256", "sha3-224": "SHA3-224", "sha3-256": "SHA3-256",
	"sha3-384": "SHA3-384", "sha3-512": "SHA3-512", "ssdeep": "SSDEEP", "tlsh": "TLSH",
	"imphash": "IMPHASH", "authentihash": "AUTHENTIHASH", "pehash": "PEHASH",
	"vhash": "VHASH", "telfhash": "TELFHASH", "impfuzzy": "IMPFUZZY",
}

// attributeFields maps each MISP attribute type that has a STIX
// observable form to the fields its value fills, one per |-separated part.
// An attribute of one of these types becomes an indicator whose pattern
// compares each field with its part when to_ids is set, and observed-data
// with the cyber observables otherwise. When the observables would not be
// valid STIX (a port alone is not a valid network-traffic), the attribute
// becomes an x-misp-attribute custom object instead.
var attributeFields = map[string][]field{
	"AS":                      {fld("autonomous-system:number")},
	"attachment":              {fld("file:name")},
	"malware-sample":          {fld("file:name"), fld("file:hashes.MD5")},
	"domain":                  {fld("domain-name:value")},
	"hostname":                {fld("domain-name:value")},
	"domain|ip":               {fld("domain-name:value"), fld("domain-name:resolves_to_refs[*].value")},
	"hostname|port":           {fld("network-traffic:dst_ref.value"), fld("network-traffic:dst_port")},
	"email":                   {fld("email-addr:value")},
	"email-src":               {fld("email-message:from_ref.value")},
	"email-dst":               {fld("email-message:to_refs[*].value")},
	"email-attachment":        {fld("email-message:body_multipart[*].body_raw_ref.name")},
	"email-body":              {fld("email-message:body")},
	"email-header":            {fld("email-message:received_lines[*]")},
	"email-message-id":        {fld("email-message:message_id")},
	"email-reply-to":          {fld("email-message:additional_header_fields.'Reply-To'")},
	"email-subject":           {fld("email-message:subject")},
	"email-x-mailer":          {fld("email-message:additional_header_fields.'X-Mailer'")},
	"email-src-display-name":  {fld("email-message:from_ref.display_name")},
	"filename":                {fld("file:name")},
	"github-username":         {fld("user-account:account_login")},
	"ip-src":                  {fld("network-traffic:src_ref.value")},
	"ip-dst":                  {fld("network-traffic:dst_ref.value")},
	"ip-src|port":             {fld("network-traffic:src_ref.value"), fld("network-traffic:src_port")},
	"ip-dst|port":             {fld("network-traffic:dst_ref.value"), fld("network-traffic:dst_port")},
	"link":                    {fld("url:value")},
	"uri":                     {fld("url:value")},
	"url":                     {fld("url:value")},
	"mac-address":             {fld("mac-addr:value")},
	"mutex":                   {fld("mutex:name")},
	"regkey":                  {fld("windows-registry-key:key")},
	"regkey|value":            {fld("windows-registry-key:key"), fld("windows-registry-key:values[*].data")},
	"x509-fingerprint-md5":    {fld("x509-certificate:hashes.MD5")},
	"x509-fingerprint-sha1":   {fld("x509-certificate:hashes.'SHA-1'")},
	"x509-fingerprint-sha256": {fld("x509-certificate:hashes.'SHA-256'")},
	"size-in-bytes":           {fld("file:size")},
	"port":                    {fld("network-traffic:dst_port")},
	"http-method":             {fld("network-traffic:extensions.'http-request-ext'.request_method")},
	"user-agent":              {fld("network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'")},
	"mime-type":               {fld("file:mime_type")},
	"cpe":                     {fld("software:cpe")},
	"email-dst-display-name":  {fld("email-message:to_refs[*].display_name")},
}

func init() {
	for t, alg := range hashTypes {
		hf := field{obj: "file", path: "hashes." + quoteKey(alg)}
		attributeFields[t] = []field{hf}
		attributeFields["filename|"+t] = []field{fld("file:name"), hf}
		// misp-stix writes SHA224 and the like in observables.
		algs := []string{strings.ReplaceAll(alg, "-", "")}
		switch t {
		case "sha512/224":
			algs = append(algs, "SHA-224", "SHA224")
		case "sha512/256":
			algs = append(algs, "SHA-256", "SHA256")
		}
		for _, a := range algs {
			if a == alg {
				continue
			}
			hf := field{obj: "file", path: "hashes." + quoteKey(a)}
			altFields[t] = append(altFields[t], []field{hf})
			altFields["filename|"+t] = append(altFields["filename|"+t], []field{fld("file:name"), hf})
		}
	}
}

// altFields are other places misp-stix puts an attribute type's value,
// which FromSTIX also reads (it writes attributeFields' alone).
var altFields = map[string][][]field{
	"email-header":   {{fld("email-message:received_lines")}},
	"email-reply-to": {{fld("email-message:additional_header_fields.reply_to")}},
	"email-x-mailer": {{fld("email-message:additional_header_fields.x_mailer")}},
	"hostname|port":  {{fld("domain-name:value"), fld("network-traffic:dst_port")}},
	"regkey|value":   {{fld("windows-registry-key:key"), fld("windows-registry-key:values.data")}},
}

// patternOnly are the attribute types whose value alone makes no valid
// cyber observable (a port without an address, a file known only by its
// size, an e-mail address known only by its display name): with to_ids
// they become indicators, without it x-misp-attribute custom objects.
var patternOnly = map[string]bool{
	"port": true, "http-method": true, "user-agent": true, "size-in-bytes": true, "mime-type": true,
	"cpe": true, "email-src-display-name": true, "email-dst-display-name": true,
}

// ruleTypes are the attribute types whose value is itself a detection rule:
// they become indicators with the value as pattern and the pattern_type
// given here, whatever to_ids says.
var ruleTypes = map[string]string{
	"yara": "yara", "snort": "snort", "suricata": "suricata", "sigma": "sigma",
}

// sdoTypes are the attribute types that become a STIX domain object named
// by the value.
var sdoTypes = map[string]string{
	"campaign-name": "campaign",
	"vulnerability": "vulnerability",
	"threat-actor":  "threat-actor",
}

// intProps are the observable properties whose values are integers.
var intProps = map[string]bool{
	"number": true, "size": true, "src_port": true, "dst_port": true, "pid": true,
	"subject_public_key_exponent": true, "number_of_subkeys": true, "src_byte_count": true,
	"dst_byte_count": true, "src_packets": true, "dst_packets": true,
	"number_of_sections": true, "address_of_entry_point": true, "gid": true,
}

// floatProps are the observable properties whose values are numbers with
// a fraction; timeProps those that are timestamps.
var floatProps = map[string]bool{"entropy": true}
var timeProps = map[string]bool{
	"time_date_stamp": true, "credential_last_changed": true, "validity_not_before": true,
	"validity_not_after": true, "ctime": true, "mtime": true, "atime": true, "modified_time": true,
	"start": true, "end": true,
}

// refTargets gives the type of the observable a *_ref or *_refs property
// points to; src_ref, dst_ref and resolves_to_refs depend on the value.
var refTargets = map[string]string{
	"from_ref": "email-addr", "sender_ref": "email-addr", "to_refs": "email-addr",
	"cc_refs": "email-addr", "bcc_refs": "email-addr", "body_raw_ref": "file",
	"image_ref": "file", "parent_directory_ref": "directory", "content_ref": "artifact",
	"parent_ref": "process", "child_refs": "process", "creator_user_ref": "user-account",
	"opened_connection_refs": "network-traffic", "raw_email_ref": "artifact",
	"contains_refs": "file",
}

// template says how the attributes of one MISP object template map onto
// cyber observables: main is the observable type the object describes,
// fields the relations with a STIX property. A relation not listed becomes
// a custom property x_misp_<relation> of main.
type template struct {
	main   string
	fields map[string]field
	// accountType, for the account templates, is the account_type their
	// user-account gets (as misp-stix writes it; not a MISP attribute).
	accountType string
}

// account is a template of a user account of a service.
func account(service string, pairs ...string) template {
	t := tmpl("user-account", pairs...)
	t.accountType = service
	return t
}

func tmpl(main string, pairs ...string) template {
	t := template{main: main, fields: map[string]field{}}
	for i := 0; i+1 < len(pairs); i += 2 {
		f := pairs[i+1]
		if !strings.Contains(f, ":") {
			f = main + ":" + f
		}
		t.fields[pairs[i]] = fld(f)
	}
	return t
}

// templates are the MISP object templates with an observable form. An
// object whose to_ids is set on any attribute becomes an indicator whose
// pattern compares every attribute's field; otherwise observed-data with
// the observables. When the observables would not be valid STIX, the
// object becomes an x-misp-object custom object.
var templates = map[string]template{
	"file": tmpl("file", "filename", "name", "md5", "hashes.MD5", "sha1", "hashes.'SHA-1'",
		"sha256", "hashes.'SHA-256'", "sha512", "hashes.'SHA-512'", "sha224", "hashes.'SHA-224'",
		"sha384", "hashes.'SHA-384'", "ssdeep", "hashes.SSDEEP", "tlsh", "hashes.TLSH",
		"imphash", "hashes.IMPHASH", "size-in-bytes", "size", "mimetype", "mime_type",
		"path", "parent_directory_ref.path", "creation-time", "ctime", "modification-time", "mtime",
		"access-time", "atime"),
	"hashlookup": tmpl("file", "FileName", "name", "MD5", "hashes.MD5", "SHA-1", "hashes.'SHA-1'",
		"SHA-256", "hashes.'SHA-256'", "SHA-512", "hashes.'SHA-512'", "SSDEEP", "hashes.SSDEEP",
		"TLSH", "hashes.TLSH", "FileSize", "size"),
	"image": tmpl("file", "filename", "name"),
	"domain-ip": tmpl("domain-name", "domain", "value", "hostname", "value",
		"ip", "resolves_to_refs[*].value"),
	"ip-port": tmpl("network-traffic", "ip-dst", "dst_ref.value", "ip", "dst_ref.value",
		"ip-src", "src_ref.value", "dst-port", "dst_port", "src-port", "src_port", "first-seen", "start", "last-seen", "end"),
	"network-connection": tmpl("network-traffic", "ip-src", "src_ref.value", "ip-dst", "dst_ref.value",
		"hostname-src", "src_ref.value", "hostname-dst", "dst_ref.value",
		"src-port", "src_port", "dst-port", "dst_port", "layer3-protocol", "protocols[*]",
		"layer4-protocol", "protocols[*]", "layer7-protocol", "protocols[*]"),
	"network-socket": tmpl("network-traffic", "ip-src", "src_ref.value", "ip-dst", "dst_ref.value",
		"hostname-src", "src_ref.value", "hostname-dst", "dst_ref.value",
		"src-port", "src_port", "dst-port", "dst_port", "protocol", "protocols[*]"),
	"netflow": tmpl("network-traffic", "ip-src", "src_ref.value", "ip-dst", "dst_ref.value",
		"src-port", "src_port", "dst-port", "dst_port", "protocol", "protocols[*]", "first-packet-seen", "start"),
	"url": tmpl("url", "url", "value"),
	"email": tmpl("email-message", "from", "from_ref.value", "to", "to_refs[*].value",
		"cc", "cc_refs[*].value", "bcc", "bcc_refs[*].value", "subject", "subject",
		"message-id", "message_id", "reply-to", "additional_header_fields.'Reply-To'",
		"x-mailer", "additional_header_fields.'X-Mailer'", "email-body", "body",
		"attachment", "body_multipart[*].body_raw_ref.name", "received-header-ip", "received_lines[*]"),
	"registry-key": tmpl("windows-registry-key", "key", "key", "last-modified", "modified_time", "name", "values[*].name",
		"data", "values[*].data", "data-type", "values[*].data_type"),
	"registry-key-value": tmpl("windows-registry-key", "name", "values[*].name",
		"data", "values[*].data", "data-type", "values[*].data_type"),
	"mutex": tmpl("mutex", "name", "name"),
	"x509": tmpl("x509-certificate", "x509-fingerprint-md5", "hashes.MD5",
		"x509-fingerprint-sha1", "hashes.'SHA-1'", "x509-fingerprint-sha256", "hashes.'SHA-256'",
		"serial-number", "serial_number", "issuer", "issuer", "subject", "subject",
		"version", "version", "signature_algorithm", "signature_algorithm",
		"pubkey-info-algorithm", "subject_public_key_algorithm",
		"pubkey-info-modulus", "subject_public_key_modulus",
		"pubkey-info-exponent", "subject_public_key_exponent",
		"validity-not-before", "validity_not_before", "validity-not-after", "validity_not_after"),
	"asn": tmpl("autonomous-system", "asn", "number", "description", "name"),
	"user-account": tmpl("user-account", "username", "account_login", "user-id", "user_id",
		"display-name", "display_name", "account-type", "account_type", "password", "credential",
		"group-id", "extensions.'unix-account-ext'.gid", "group", "extensions.'unix-account-ext'.groups[*]",
		"home_dir", "extensions.'unix-account-ext'.home_dir", "shell", "extensions.'unix-account-ext'.shell",
		"password_last_changed", "credential_last_changed"),
	"credential":  tmpl("user-account", "username", "user_id", "password", "credential"),
	"github-user": account("github", "username", "account_login", "id", "user_id", "user-fullname", "display_name"),
	"gitlab-user": account("gitlab", "username", "account_login", "id", "user_id", "name", "display_name"),
	"directory": tmpl("directory", "path", "path", "path-encoding", "path_enc", "creation-time", "ctime",
		"modification-time", "mtime", "access-time", "atime"),
	"artifact":         tmpl("artifact", "url", "url", "mime_type", "mime_type", "md5", "hashes.MD5", "sha1", "hashes.'SHA-1'", "sha256", "hashes.'SHA-256'"),
	"process":          tmpl("process", "pid", "pid", "command-line", "command_line", "image", "image_ref.name", "parent-pid", "parent_ref.pid", "parent-command-line", "parent_ref.command_line", "parent-image", "parent_ref.image_ref.name", "child-pid", "child_refs[*].pid"),
	"facebook-account": account("facebook", "account-id", "user_id", "account-name", "account_login"),
	"reddit-account":   account("reddit", "account-id", "user_id", "account-name", "account_login"),
	"parler-account":   account("parler", "account-id", "user_id", "account-name", "account_login"),
	"telegram-account": account("telegram", "id", "user_id", "username", "account_login"),
	"lnk": tmpl("file", "filename", "name", "md5", "hashes.MD5", "sha1", "hashes.'SHA-1'", "sha256", "hashes.'SHA-256'",
		"size-in-bytes", "size", "lnk-creation-time", "ctime", "lnk-modification-time", "mtime", "lnk-access-time", "atime"),
	"android-app":     tmpl("software", "name", "name"),
	"cpe-asset":       tmpl("software", "cpe", "cpe", "product", "name", "vendor", "vendor", "version", "version"),
	"twitter-account": account("twitter", "name", "account_login", "id", "user_id", "displayed-name", "display_name"),
}

// peExt is the path of the Windows PE binary extension of a file.
const peExt = "extensions.'windows-pebinary-ext'."

// memberTemplates are the templates of the objects misp-stix folds into
// another's observable: the pe object a file includes and the pe-section
// objects that pe includes, into the file's Windows PE binary extension;
// the registry-key-value objects a registry-key contains, into its values.
// Their relations without a STIX property become custom properties of the
// extension, the section or the value.
var memberTemplates = map[string]template{
	"pe": tmpl("file", "type", peExt+"pe_type", "imphash", peExt+"imphash",
		"number-sections", peExt+"number_of_sections", "entrypoint-address", peExt+"optional_header.address_of_entry_point",
		"compilation-timestamp", peExt+"time_date_stamp"),
	"pe-section": tmpl("file", "name", peExt+"sections[*].name", "size-in-bytes", peExt+"sections[*].size",
		"entropy", peExt+"sections[*].entropy", "md5", peExt+"sections[*].hashes.MD5",
		"sha1", peExt+"sections[*].hashes.'SHA-1'", "sha256", peExt+"sections[*].hashes.'SHA-256'",
		"sha512", peExt+"sections[*].hashes.'SHA-512'", "ssdeep", peExt+"sections[*].hashes.SSDEEP"),
}

// memberCustom is where a member template's custom properties go.
var memberCustom = map[string]string{"pe": peExt, "pe-section": peExt + "sections[*].", "registry-key-value": "values[*]."}

// memberDesc says what each member template becomes, for the table.
var memberDesc = map[string]string{
	"pe":                 "the Windows PE binary extension of the file object that includes it",
	"pe-section":         "a section of that extension, through the pe that includes it",
	"registry-key-value": "a value of the registry-key object that contains it",
}

func init() {
	memberTemplates["registry-key-value"] = templates["registry-key-value"]
}

// sdoTemplates are the object templates that describe a STIX domain
// object rather than observables; every attribute is also kept in
// x_misp_attributes.
var sdoTemplates = map[string]string{
	"vulnerability": "vulnerability", "attack-pattern": "attack-pattern",
	"course-of-action": "course-of-action", "identity": "identity", "organization": "identity",
	"person": "identity", "employee": "identity", "news-agency": "identity", "legal-entity": "identity",
	"geolocation": "location", "yara": "indicator", "sigma": "indicator", "suricata": "indicator",
	"snort": "indicator", "intrusion-set": "intrusion-set", "threat-actor": "threat-actor",
	"nova-rule": "indicator", "wazuh-rule": "indicator", "owasp-crs-rule": "indicator",
	"script": "malware or tool",
}

// galaxyTypes maps MISP galaxy types to the STIX type their clusters
// become; galaxies not listed become x-misp-galaxy-cluster objects.
var galaxyTypes = map[string]string{
	"mitre-attack-pattern": "attack-pattern", "mitre-enterprise-attack-attack-pattern": "attack-pattern",
	"mitre-mobile-attack-attack-pattern": "attack-pattern", "mitre-pre-attack-attack-pattern": "attack-pattern",
	"mitre-ics-techniques": "attack-pattern", "cmtmf-attack-pattern": "attack-pattern",
	"mitre-course-of-action": "course-of-action", "mitre-enterprise-attack-course-of-action": "course-of-action",
	"mitre-mobile-attack-course-of-action": "course-of-action",
	"mitre-intrusion-set":                  "intrusion-set", "mitre-enterprise-attack-intrusion-set": "intrusion-set",
	"mitre-mobile-attack-intrusion-set": "intrusion-set", "mitre-pre-attack-intrusion-set": "intrusion-set",
	"android": "malware", "backdoor": "malware", "banker": "malware", "cryptominers": "malware",
	"malpedia": "malware", "mitre-enterprise-attack-malware": "malware", "mitre-ics-software": "malware",
	"mitre-malware": "malware", "mitre-mobile-attack-malware": "malware", "ransomware": "malware",
	"stealer":             "malware",
	"360net-threat-actor": "threat-actor", "microsoft-activity-group": "threat-actor",
	"mitre-ics-groups": "threat-actor", "threat-actor": "threat-actor",
	"botnet": "tool", "exploit-kit": "tool", "mitre-enterprise-attack-tool": "tool",
	"mitre-mobile-attack-tool": "tool", "mitre-tool": "tool", "rat": "tool", "tds": "tool", "tool": "tool",
	"branded-vulnerability":   "vulnerability",
	"stix-2.1-attack-pattern": "attack-pattern", "stix-2.1-campaign": "campaign",
	"stix-2.1-course-of-action": "course-of-action", "stix-2.1-intrusion-set": "intrusion-set",
	"stix-2.1-malware": "malware", "stix-2.1-threat-actor": "threat-actor", "stix-2.1-tool": "tool",
	"stix-2.1-vulnerability": "vulnerability",
}

// defaultGalaxy is the galaxy a STIX object of each type becomes when it
// carries no misp:galaxy-type label (STIX from elsewhere).
var defaultGalaxy = map[string]string{
	"attack-pattern": "mitre-attack-pattern", "course-of-action": "mitre-course-of-action",
	"intrusion-set": "mitre-intrusion-set", "malware": "mitre-malware", "tool": "mitre-tool",
	"threat-actor": "threat-actor", "campaign": "stix-2.1-campaign",
}

// MappingRow is one line of the mapping table: a MISP attribute type,
// object template or galaxy type and what it becomes in STIX.
type MappingRow struct {
	Kind  string // "attribute", "object" or "galaxy"
	Name  string // the MISP type, template or galaxy type
	STIX  string // what it becomes
	Paths string // the STIX pattern paths its value fills, where there are any
}

// Mapping returns the table of every attribute type, object template and
// galaxy type this package maps, sorted by kind and name. Attribute types
// and templates not in it become x-misp-attribute and x-misp-object custom
// objects that keep every field.
func Mapping() []MappingRow {
	var rows []MappingRow
	for t, fs := range attributeFields {
		paths := make([]string, len(fs))
		for i, f := range fs {
			paths[i] = f.String()
		}
		st := "indicator (to_ids) or observed-data with " + obsTypes(fs)
		if patternOnly[t] {
			st = "indicator (to_ids) or x-misp-attribute"
		}
		rows = append(rows, MappingRow{"attribute", t, st, strings.Join(paths, " | ")})
	}
	for t, pt := range ruleTypes {
		rows = append(rows, MappingRow{"attribute", t, "indicator with pattern_type " + pt, ""})
	}
	for t, st := range sdoTypes {
		rows = append(rows, MappingRow{"attribute", t, st, "name"})
	}
	for name, t := range templates {
		var fs []field
		var paths []string
		for rel, f := range t.fields {
			fs = append(fs, f)
			paths = append(paths, rel+"="+f.String())
		}
		sort.Strings(paths)
		rows = append(rows, MappingRow{"object", name,
			"indicator (any to_ids) or observed-data with " + obsTypes(append(fs, field{obj: t.main})), strings.Join(paths, ", ")})
	}
	for name, t := range memberTemplates {
		var paths []string
		for rel, f := range t.fields {
			paths = append(paths, rel+"="+f.String())
		}
		sort.Strings(paths)
		alone := "x-misp-object"
		if _, ok := templates[name]; ok {
			alone = "as its own template"
		}
		rows = append(rows, MappingRow{"object", name + " (in a group)", memberDesc[name] + " (alone: " + alone + ")", strings.Join(paths, ", ")})
	}
	for name, st := range sdoTemplates {
		rows = append(rows, MappingRow{"object", name, st, ""})
	}
	for g, st := range galaxyTypes {
		rows = append(rows, MappingRow{"galaxy", g, st, ""})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Kind != rows[j].Kind {
			return rows[i].Kind < rows[j].Kind
		}
		return rows[i].Name < rows[j].Name
	})
	return rows
}

func obsTypes(fs []field) string {
	seen := map[string]bool{}
	var out []string
	for _, f := range fs {
		if f.obj != "" && !seen[f.obj] {
			seen[f.obj] = true
			out = append(out, f.obj)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
