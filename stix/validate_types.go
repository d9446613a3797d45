package stix

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// This file describes every object type of STIX 2.1: its properties (with
// the common properties of its category merged in) and the rules that
// involve more than one property.

type props map[string]*prop

// Common properties of each category (section 3.2).
var (
	commonSDO = props{
		"defanged": {kind: kNotApplicable},

		"type":                {kind: kType, required: true},
		"spec_version":        {kind: kSpecVersion, required: true},
		"id":                  {kind: kID, required: true},
		"created":             {kind: kTimestampMS, required: true},
		"modified":            {kind: kTimestampMS, required: true},
		"created_by_ref":      ref(refIdentity),
		"revoked":             boolean(),
		"labels":              strList(),
		"confidence":          intRange(0, 100),
		"lang":                {kind: kLang},
		"external_references": {kind: kExtRefs},
		"object_marking_refs": refs(refMarking),
		"granular_markings":   {kind: kGranular},
		"extensions":          {kind: kExtensions},
	}
	commonSCO = props{
		"type":                {kind: kType, required: true},
		"spec_version":        {kind: kSpecVersion},
		"id":                  {kind: kID, required: true},
		"object_marking_refs": refs(refMarking),
		"granular_markings":   {kind: kGranular},
		"defanged":            boolean(),
		"extensions":          {kind: kExtensions},
	}
	commonMarking = props{
		"defanged": {kind: kNotApplicable},

		"type":                {kind: kType, required: true},
		"spec_version":        {kind: kSpecVersion, required: true},
		"id":                  {kind: kID, required: true},
		"created":             {kind: kTimestampMS, required: true},
		"created_by_ref":      ref(refIdentity),
		"external_references": {kind: kExtRefs},
		"object_marking_refs": refs(refMarking),
		"granular_markings":   {kind: kGranular},
		"extensions":          {kind: kExtensions},
	}
	commonLanguage = props{
		"defanged": {kind: kNotApplicable},

		"type":                {kind: kType, required: true},
		"spec_version":        {kind: kSpecVersion, required: true},
		"id":                  {kind: kID, required: true},
		"created":             {kind: kTimestampMS, required: true},
		"modified":            {kind: kTimestampMS, required: true},
		"created_by_ref":      ref(refIdentity),
		"revoked":             boolean(),
		"labels":              strList(),
		"confidence":          intRange(0, 100),
		"external_references": {kind: kExtRefs},
		"object_marking_refs": refs(refMarking),
		"granular_markings":   {kind: kGranular},
		"extensions":          {kind: kExtensions},
	}
	commonExtDef = props{
		"defanged": {kind: kNotApplicable},

		"type":                {kind: kType, required: true},
		"spec_version":        {kind: kSpecVersion, required: true},
		"id":                  {kind: kID, required: true},
		"created":             {kind: kTimestampMS, required: true},
		"modified":            {kind: kTimestampMS, required: true},
		"created_by_ref":      ref(refIdentity).req(),
		"revoked":             boolean(),
		"labels":              strList(),
		"external_references": {kind: kExtRefs},
		"object_marking_refs": refs(refMarking),
		"granular_markings":   {kind: kGranular},
	}
)

func merge(common, own props) props {
	out := make(props, len(common)+len(own))
	for k, v := range common {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

func sdo(name string, own props, check func(*checker, map[string]any, *path)) *objSpec {
	return &objSpec{name: name, props: merge(commonSDO, own), check: check}
}

func sco(name string, own props, check func(*checker, map[string]any, *path)) *objSpec {
	return &objSpec{name: name, props: merge(commonSCO, own), check: check}
}

var (
	killChain = &prop{kind: kKillChain}
	aliases   = strList()
)

// Structured values.
var (
	externalRefSpec = &objSpec{name: "external-reference", props: props{
		"source_name": str().req(),
		"description": str(),
		"url":         str(),
		"hashes":      {kind: kHashesStrict},
		"external_id": str(),
	}}
	granularSpec = &objSpec{name: "granular-marking", props: props{
		"lang":        {kind: kLang},
		"marking_ref": ref(refMarking),
		"selectors":   strList().req(),
	}}
	mimePartSpec = &objSpec{name: "mime-part-type", props: props{
		"body":                str(),
		"body_raw_ref":        ref(to("artifact", "file")),
		"content_type":        str(),
		"content_disposition": str(),
	}, check: func(c *checker, m map[string]any, p *path) {
		if has(m, "body", "body_raw_ref") {
			c.errf(p, "body and body_raw_ref must not both be present")
		} else if !hasAny(m, "body", "body_raw_ref") {
			c.errf(p, "one of body and body_raw_ref must be present")
		}
	}}
	registryValueSpec = &objSpec{name: "windows-registry-value-type", props: props{
		"name":      str(),
		"data":      str(),
		"data_type": enum("windows-registry-datatype-enum", enumRegistryDatatype),
	}}
	alternateDataStreamSpec = &objSpec{name: "alternate-data-stream-type", props: props{
		"name":   str().req(),
		"hashes": hashes(),
		"size":   intRange(0, maxInt),
	}}
	peSectionSpec = &objSpec{name: "windows-pe-section-type", props: props{
		"name":    str().req(),
		"size":    intRange(0, maxInt),
		"entropy": number(-math64, math64),
		"hashes":  hashes(),
	}}
	peOptionalHeaderSpec = &objSpec{name: "windows-pe-optional-header-type", props: props{
		"magic_hex":                  hex(),
		"major_linker_version":       integer(),
		"minor_linker_version":       integer(),
		"size_of_code":               intRange(0, maxInt),
		"size_of_initialized_data":   intRange(0, maxInt),
		"size_of_uninitialized_data": intRange(0, maxInt),
		"address_of_entry_point":     integer(),
		"base_of_code":               integer(),
		"base_of_data":               integer(),
		"image_base":                 integer(),
		"section_alignment":          integer(),
		"file_alignment":             integer(),
		"major_os_version":           integer(),
		"minor_os_version":           integer(),
		"major_image_version":        integer(),
		"minor_image_version":        integer(),
		"major_subsystem_version":    integer(),
		"minor_subsystem_version":    integer(),
		"win32_version_value_hex":    hex(),
		"size_of_image":              intRange(0, maxInt),
		"size_of_headers":            intRange(0, maxInt),
		"checksum_hex":               hex(),
		"subsystem_hex":              hex(),
		"dll_characteristics_hex":    hex(),
		"size_of_stack_reserve":      intRange(0, maxInt),
		"size_of_stack_commit":       intRange(0, maxInt),
		"size_of_heap_reserve":       intRange(0, maxInt),
		"size_of_heap_commit":        intRange(0, maxInt),
		"loader_flags_hex":           hex(),
		"number_of_rva_and_sizes":    integer(),
		"hashes":                     hashes(),
	}}
	x509ExtensionsSpec = &objSpec{name: "x509-v3-extensions-type", props: props{
		"basic_constraints":                   str(),
		"name_constraints":                    str(),
		"policy_constraints":                  str(),
		"key_usage":                           str(),
		"extended_key_usage":                  str(),
		"subject_key_identifier":              str(),
		"authority_key_identifier":            str(),
		"subject_alternative_name":            str(),
		"issuer_alternative_name":             str(),
		"subject_directory_attributes":        str(),
		"crl_distribution_points":             str(),
		"inhibit_any_policy":                  str(),
		"private_key_usage_period_not_before": ts(),
		"private_key_usage_period_not_after":  ts(),
		"certificate_policies":                str(),
		"policy_mappings":                     str(),
	}}
)

const math64 = 1.7976931348623157e308

// extensionSpecs describes the predefined SCO extensions (section 6).
var extensionSpecs = map[string]*objSpec{
	"archive-ext": {name: "archive-ext", props: props{
		"contains_refs": refs(to("file", "directory")).req(),
		"comment":       str(),
	}},
	"ntfs-ext": {name: "ntfs-ext", props: props{
		"sid":                    str(),
		"alternate_data_streams": objects(alternateDataStreamSpec),
	}},
	"pdf-ext": {name: "pdf-ext", props: props{
		"version":            str(),
		"is_optimized":       boolean(),
		"document_info_dict": dict(),
		"pdfid0":             str(),
		"pdfid1":             str(),
	}},
	"raster-image-ext": {name: "raster-image-ext", props: props{
		"image_height":   integer(),
		"image_width":    integer(),
		"bits_per_pixel": integer(),
		"exif_tags":      dict(),
	}},
	"windows-pebinary-ext": {name: "windows-pebinary-ext", props: props{
		"pe_type":                     ov("windows-pebinary-type-ov", vocabPEBinaryType).req(),
		"imphash":                     str(),
		"machine_hex":                 hex(),
		"number_of_sections":          intRange(0, maxInt),
		"time_date_stamp":             ts(),
		"pointer_to_symbol_table_hex": hex(),
		"number_of_symbols":           intRange(0, maxInt),
		"size_of_optional_header":     intRange(0, maxInt),
		"characteristics_hex":         hex(),
		"file_header_hashes":          hashes(),
		"optional_header":             object(peOptionalHeaderSpec),
		"sections":                    objects(peSectionSpec),
	}},
	"http-request-ext": {name: "http-request-ext", props: props{
		"request_method":        str().req(),
		"request_value":         str().req(),
		"request_version":       str(),
		"request_header":        dict(),
		"message_body_length":   intRange(0, maxInt),
		"message_body_data_ref": ref(to("artifact")),
	}},
	"icmp-ext": {name: "icmp-ext", props: props{
		"icmp_type_hex": hex().req(),
		"icmp_code_hex": hex().req(),
	}},
	"socket-ext": {name: "socket-ext", props: props{
		"address_family":    enum("network-socket-address-family-enum", enumSocketAddressFamily).req(),
		"is_blocking":       boolean(),
		"is_listening":      boolean(),
		"options":           dict(),
		"socket_type":       enum("network-socket-type-enum", enumSocketType),
		"socket_descriptor": intRange(0, maxInt),
		"socket_handle":     integer(),
	}, check: func(c *checker, m map[string]any, p *path) {
		if opts, ok := m["options"].(map[string]any); ok {
			op := c.node(p, "options", 0)
			mark := c.n
			for k, v := range opts {
				c.n = mark
				kp := c.node(op, k, 0)
				if len(k) < 3 || (k[:3] != "SO_" && k[:3] != "ICM" && k[:3] != "IP_" && k[:3] != "MCA") {
					c.warnf(kp, "socket option names should start with SO_, ICMP_, IP_ or MCAST_")
				}
				if _, ok := intValue(v); !ok {
					c.errf(kp, "socket option values must be integers")
				}
			}
		}
	}},
	"tcp-ext": {name: "tcp-ext", props: props{
		"src_flags_hex": hex(),
		"dst_flags_hex": hex(),
	}},
	"windows-process-ext": {name: "windows-process-ext", props: props{
		"aslr_enabled":    boolean(),
		"dep_enabled":     boolean(),
		"priority":        str(),
		"owner_sid":       str(),
		"window_title":    str(),
		"startup_info":    dict(),
		"integrity_level": enum("windows-integrity-level-enum", enumIntegrityLevel),
	}},
	"windows-service-ext": {name: "windows-service-ext", props: props{
		"service_name":     str(),
		"descriptions":     strList(),
		"display_name":     str(),
		"group_name":       str(),
		"start_type":       enum("windows-service-start-enum", enumServiceStart),
		"service_dll_refs": refs(to("file")),
		"service_type":     enum("windows-service-enum", enumServiceType),
		"service_status":   enum("windows-service-status-enum", enumServiceStatus),
	}},
	"unix-account-ext": {name: "unix-account-ext", props: props{
		"gid":      integer(),
		"groups":   strList(),
		"home_dir": str(),
		"shell":    str(),
	}},
}

// typeSpecs describes every object type of the specification.
var typeSpecs map[string]*objSpec

// Specs for custom object types: the common properties are required, any
// other property is accepted.
var (
	customSpec    = &objSpec{name: "custom object", props: commonSDO}
	customSCOSpec = &objSpec{name: "custom observable", props: commonSCO}
)

func init() {
	typeSpecs = map[string]*objSpec{
		// SDOs (section 4).
		"attack-pattern": sdo("attack-pattern", props{
			"name":              str().req(),
			"description":       str(),
			"aliases":           aliases,
			"kill_chain_phases": killChain,
		}, nil),
		"campaign": sdo("campaign", props{
			"name":        str().req(),
			"description": str(),
			"aliases":     aliases,
			"first_seen":  ts(),
			"last_seen":   ts(),
			"objective":   str(),
		}, seenOrder),
		"course-of-action": sdo("course-of-action", props{
			"name":        str().req(),
			"description": str(),
		}, nil),
		"grouping": sdo("grouping", props{
			"name":        str(),
			"description": str(),
			"context":     ov("grouping-context-ov", vocabGroupingContext).req(),
			"object_refs": refs(refAny).req(),
		}, nil),
		"identity": sdo("identity", props{
			"name":                str().req(),
			"description":         str(),
			"roles":               strList(),
			"identity_class":      ov("identity-class-ov", vocabIdentityClass),
			"sectors":             ovList("industry-sector-ov", vocabIndustrySector),
			"contact_information": str(),
		}, nil),
		"incident": sdo("incident", props{
			"name":              str().req(),
			"description":       str(),
			"kill_chain_phases": killChain,
		}, nil),
		"indicator": sdo("indicator", props{
			"name":              str(),
			"description":       str(),
			"indicator_types":   ovList("indicator-type-ov", vocabIndicatorType),
			"pattern":           str().req(),
			"pattern_type":      ov("pattern-type-ov", vocabPatternType).req(),
			"pattern_version":   str(),
			"valid_from":        ts().req(),
			"valid_until":       ts(),
			"kill_chain_phases": killChain,
		}, func(c *checker, m map[string]any, p *path) {
			c.ordered(m, p, "valid_from", "valid_until", true)
		}),
		"infrastructure": sdo("infrastructure", props{
			"name":                 str().req(),
			"description":          str(),
			"infrastructure_types": ovList("infrastructure-type-ov", vocabInfrastructureType),
			"aliases":              aliases,
			"kill_chain_phases":    killChain,
			"first_seen":           ts(),
			"last_seen":            ts(),
		}, seenOrder),
		"intrusion-set": sdo("intrusion-set", props{
			"name":                  str().req(),
			"description":           str(),
			"aliases":               aliases,
			"first_seen":            ts(),
			"last_seen":             ts(),
			"goals":                 strList(),
			"resource_level":        ov("attack-resource-level-ov", vocabAttackResourceLevel),
			"primary_motivation":    ov("attack-motivation-ov", vocabAttackMotivation),
			"secondary_motivations": ovList("attack-motivation-ov", vocabAttackMotivation),
		}, seenOrder),
		"location": sdo("location", props{
			"name":                str(),
			"description":         str(),
			"latitude":            number(-90, 90),
			"longitude":           number(-180, 180),
			"precision":           number(0, math64),
			"region":              ov("region-ov", vocabRegion),
			"country":             str(),
			"administrative_area": str(),
			"city":                str(),
			"street_address":      str(),
			"postal_code":         str(),
		}, checkLocation),
		"malware": sdo("malware", props{
			"name":                        str(),
			"description":                 str(),
			"malware_types":               ovList("malware-type-ov", vocabMalwareType),
			"is_family":                   boolean().req(),
			"aliases":                     aliases,
			"kill_chain_phases":           killChain,
			"first_seen":                  ts(),
			"last_seen":                   ts(),
			"operating_system_refs":       refs(refSoftware),
			"architecture_execution_envs": ovList("processor-architecture-ov", vocabProcessorArchitecture),
			"implementation_languages":    ovList("implementation-language-ov", vocabImplementationLang),
			"capabilities":                ovList("malware-capabilities-ov", vocabMalwareCapabilities),
			"sample_refs":                 refs(to("file", "artifact")),
		}, func(c *checker, m map[string]any, p *path) {
			seenOrder(c, m, p)
			if m["is_family"] == true && !has(m, "name") {
				c.errf(&path{parent: p, name: "name"}, "a malware family (is_family true) must have a name")
			}
		}),
		"malware-analysis": sdo("malware-analysis", props{
			"product":                     str().req(),
			"version":                     str(),
			"host_vm_ref":                 ref(refSoftware),
			"operating_system_ref":        ref(refSoftware),
			"installed_software_refs":     refs(refSoftware),
			"configuration_version":       str(),
			"modules":                     strList(),
			"analysis_engine_version":     str(),
			"analysis_definition_version": str(),
			"submitted":                   ts(),
			"analysis_started":            ts(),
			"analysis_ended":              ts(),
			"result_name":                 str(),
			"result":                      ov("malware-result-ov", vocabMalwareResult),
			"analysis_sco_refs":           refs(refSCO),
			"sample_ref":                  ref(to("file", "network-traffic", "artifact")),
		}, func(c *checker, m map[string]any, p *path) {
			if !hasAny(m, "result", "analysis_sco_refs") {
				c.errf(p, "one of result and analysis_sco_refs must be present")
			}
			c.ordered(m, p, "analysis_started", "analysis_ended", false)
		}),
		"note": sdo("note", props{
			"abstract":    str(),
			"content":     str().req(),
			"authors":     strList(),
			"object_refs": refs(refAny).req(),
		}, nil),
		"observed-data": sdo("observed-data", props{
			"first_observed":  ts().req(),
			"last_observed":   ts().req(),
			"number_observed": intRange(1, 999999999).req(),
			"objects":         {kind: kAny},
			"object_refs":     refs(refSCOorSRO),
		}, checkObservedData),
		"opinion": sdo("opinion", props{
			"explanation": str(),
			"authors":     strList(),
			"opinion":     enum("opinion-enum", enumOpinion).req(),
			"object_refs": refs(refAny).req(),
		}, nil),
		"report": sdo("report", props{
			"name":         str().req(),
			"description":  str(),
			"report_types": ovList("report-type-ov", vocabReportType),
			"published":    ts().req(),
			"object_refs":  refs(refAny).req(),
		}, nil),
		"threat-actor": sdo("threat-actor", props{
			"name":                  str().req(),
			"description":           str(),
			"threat_actor_types":    ovList("threat-actor-type-ov", vocabThreatActorType),
			"aliases":               aliases,
			"first_seen":            ts(),
			"last_seen":             ts(),
			"roles":                 ovList("threat-actor-role-ov", vocabThreatActorRole),
			"goals":                 strList(),
			"sophistication":        ov("threat-actor-sophistication-ov", vocabThreatActorSophistication),
			"resource_level":        ov("attack-resource-level-ov", vocabAttackResourceLevel),
			"primary_motivation":    ov("attack-motivation-ov", vocabAttackMotivation),
			"secondary_motivations": ovList("attack-motivation-ov", vocabAttackMotivation),
			"personal_motivations":  ovList("attack-motivation-ov", vocabAttackMotivation),
		}, seenOrder),
		"tool": sdo("tool", props{
			"name":              str().req(),
			"description":       str(),
			"tool_types":        ovList("tool-type-ov", vocabToolType),
			"aliases":           aliases,
			"kill_chain_phases": killChain,
			"tool_version":      str(),
		}, nil),
		"vulnerability": sdo("vulnerability", props{
			"name":        str().req(),
			"description": str(),
		}, nil),

		// SROs (section 5).
		"relationship": sdo("relationship", props{
			"relationship_type": str().req(),
			"description":       str(),
			"source_ref":        ref(refSDOorSCO).req(),
			"target_ref":        ref(refSDOorSCO).req(),
			"start_time":        ts(),
			"stop_time":         ts(),
		}, func(c *checker, m map[string]any, p *path) {
			if rt, ok := m["relationship_type"].(string); ok && !isRelationshipType(rt) {
				c.errf(&path{parent: p, name: "relationship_type"}, "%q must only contain a-z, 0-9 and hyphen", rt)
			}
			c.ordered(m, p, "start_time", "stop_time", true)
		}),
		"sighting": sdo("sighting", props{
			"description":        str(),
			"first_seen":         ts(),
			"last_seen":          ts(),
			"count":              intRange(0, 999999999),
			"sighting_of_ref":    ref(refSDO).req(),
			"observed_data_refs": refs(to("observed-data")),
			"where_sighted_refs": refs(to("identity", "location")),
			"summary":            boolean(),
		}, seenOrder),

		// SCOs (section 6).
		"artifact": sco("artifact", props{
			"mime_type":            str(),
			"payload_bin":          binary(),
			"url":                  str(),
			"hashes":               hashes(),
			"encryption_algorithm": enum("encryption-algorithm-enum", enumEncryptionAlgorithm),
			"decryption_key":       str(),
		}, func(c *checker, m map[string]any, p *path) {
			if has(m, "payload_bin", "url") {
				c.errf(&path{parent: p, name: "url"}, "payload_bin and url must not both be present")
			}
			if has(m, "url") && !has(m, "hashes") {
				c.errf(&path{parent: p, name: "hashes"}, "hashes must be present when url is")
			}
			if has(m, "decryption_key") && !has(m, "encryption_algorithm") {
				c.errf(&path{parent: p, name: "decryption_key"}, "decryption_key must not be present without encryption_algorithm")
			}
		}),
		"autonomous-system": sco("autonomous-system", props{
			"number": integer().req(),
			"name":   str(),
			"rir":    str(),
		}, nil),
		"directory": sco("directory", props{
			"path":          str().req(),
			"path_enc":      str(),
			"ctime":         ts(),
			"mtime":         ts(),
			"atime":         ts(),
			"contains_refs": refs(to("file", "directory")),
		}, nil),
		"domain-name": sco("domain-name", props{
			"value":            str().req(),
			"resolves_to_refs": refs(to("ipv4-addr", "ipv6-addr", "domain-name")),
		}, nil),
		"email-addr": sco("email-addr", props{
			"value":          str().req(),
			"display_name":   str(),
			"belongs_to_ref": ref(to("user-account")),
		}, nil),
		"email-message": sco("email-message", props{
			"is_multipart":             boolean().req(),
			"date":                     ts(),
			"content_type":             str(),
			"from_ref":                 ref(refEmailAddr),
			"sender_ref":               ref(refEmailAddr),
			"to_refs":                  refs(refEmailAddr),
			"cc_refs":                  refs(refEmailAddr),
			"bcc_refs":                 refs(refEmailAddr),
			"message_id":               str(),
			"subject":                  str(),
			"received_lines":           strList(),
			"additional_header_fields": dict(),
			"body":                     str(),
			"body_multipart":           objects(mimePartSpec),
			"raw_email_ref":            ref(to("artifact")),
		}, func(c *checker, m map[string]any, p *path) {
			if h, ok := m["additional_header_fields"].(map[string]any); ok {
				for k, v := range h {
					if l, ok := v.([]any); !ok || len(l) == 0 {
						c.warnf(&path{parent: &path{parent: p, name: "additional_header_fields"}, name: k}, "header values should be lists of strings")
					}
				}
			}
			switch m["is_multipart"] {
			case true:
				if has(m, "body") {
					c.errf(&path{parent: p, name: "body"}, "body must not be present when is_multipart is true")
				}
			case false:
				if has(m, "body_multipart") {
					c.errf(&path{parent: p, name: "body_multipart"}, "body_multipart must not be present when is_multipart is false")
				}
			}
		}),
		"file": sco("file", props{
			"hashes":               hashes(),
			"size":                 intRange(0, maxInt),
			"name":                 str(),
			"name_enc":             str(),
			"magic_number_hex":     hex(),
			"mime_type":            str(),
			"ctime":                ts(),
			"mtime":                ts(),
			"atime":                ts(),
			"parent_directory_ref": ref(to("directory")),
			"contains_refs":        refs(refSCO),
			"content_ref":          ref(to("artifact")),
		}, func(c *checker, m map[string]any, p *path) {
			if !hasAny(m, "hashes", "name") {
				c.errf(p, "a file must have at least one of hashes and name")
			}
		}),
		"ipv4-addr": sco("ipv4-addr", props{
			"value":            str().req(),
			"resolves_to_refs": refs(to("mac-addr")),
			"belongs_to_refs":  refs(to("autonomous-system")),
		}, func(c *checker, m map[string]any, p *path) { checkIPValue(c, m, p, true) }),
		"ipv6-addr": sco("ipv6-addr", props{
			"value":            str().req(),
			"resolves_to_refs": refs(to("mac-addr")),
			"belongs_to_refs":  refs(to("autonomous-system")),
		}, func(c *checker, m map[string]any, p *path) { checkIPValue(c, m, p, false) }),
		"mac-addr": sco("mac-addr", props{
			"value": str().req(),
		}, func(c *checker, m map[string]any, p *path) {
			if v, ok := m["value"].(string); ok && !isMAC(v) {
				c.errf(&path{parent: p, name: "value"}, "%q is not a colon-delimited, lowercase MAC-48 address", v)
			}
		}),
		"mutex": sco("mutex", props{
			"name": str().req(),
		}, nil),
		"network-traffic": sco("network-traffic", props{
			"start":               ts(),
			"end":                 ts(),
			"is_active":           boolean(),
			"src_ref":             ref(to("ipv4-addr", "ipv6-addr", "mac-addr", "domain-name")),
			"dst_ref":             ref(to("ipv4-addr", "ipv6-addr", "mac-addr", "domain-name")),
			"src_port":            intRange(0, 65535),
			"dst_port":            intRange(0, 65535),
			"protocols":           strList().req(),
			"src_byte_count":      intRange(0, maxInt),
			"dst_byte_count":      intRange(0, maxInt),
			"src_packets":         intRange(0, maxInt),
			"dst_packets":         intRange(0, maxInt),
			"ipfix":               dict(),
			"src_payload_ref":     ref(to("artifact")),
			"dst_payload_ref":     ref(to("artifact")),
			"encapsulates_refs":   refs(to("network-traffic")),
			"encapsulated_by_ref": ref(to("network-traffic")),
		}, checkNetworkTraffic),
		"process": sco("process", props{
			"is_hidden":              boolean(),
			"pid":                    integer(),
			"created_time":           ts(),
			"cwd":                    str(),
			"command_line":           str(),
			"environment_variables":  dict(),
			"opened_connection_refs": refs(to("network-traffic")),
			"creator_user_ref":       ref(to("user-account")),
			"image_ref":              ref(to("file")),
			"parent_ref":             ref(to("process")),
			"child_refs":             refs(to("process")),
		}, atLeastOneProperty),
		"software": sco("software", props{
			"name":      str().req(),
			"cpe":       str(),
			"swid":      str(),
			"languages": strList(),
			"vendor":    str(),
			"version":   str(),
		}, func(c *checker, m map[string]any, p *path) {
			if s, ok := m["cpe"].(string); ok && !strings.HasPrefix(s, "cpe:2.3:") {
				c.warnf(&path{parent: p, name: "cpe"}, "cpe should be a CPE 2.3 name (cpe:2.3:...), not %q", s)
			}
		}),
		"url": sco("url", props{
			"value": str().req(),
		}, nil),
		"user-account": sco("user-account", props{
			"user_id":                 str(),
			"credential":              str(),
			"account_login":           str(),
			"account_type":            ov("account-type-ov", vocabAccountType),
			"display_name":            str(),
			"is_service_account":      boolean(),
			"is_privileged":           boolean(),
			"can_escalate_privs":      boolean(),
			"is_disabled":             boolean(),
			"account_created":         ts(),
			"account_expires":         ts(),
			"credential_last_changed": ts(),
			"account_first_login":     ts(),
			"account_last_login":      ts(),
		}, atLeastOneProperty),
		"windows-registry-key": sco("windows-registry-key", props{
			"key":               str(),
			"values":            objects(registryValueSpec),
			"modified_time":     ts(),
			"creator_user_ref":  ref(to("user-account")),
			"number_of_subkeys": intRange(0, maxInt),
		}, atLeastOneProperty),
		"x509-certificate": sco("x509-certificate", props{
			"is_self_signed":               boolean(),
			"hashes":                       hashes(),
			"version":                      str(),
			"serial_number":                str(),
			"signature_algorithm":          str(),
			"issuer":                       str(),
			"validity_not_before":          ts(),
			"validity_not_after":           ts(),
			"subject":                      str(),
			"subject_public_key_algorithm": str(),
			"subject_public_key_modulus":   str(),
			"subject_public_key_exponent":  integer(),
			"x509_v3_extensions":           object(x509ExtensionsSpec),
		}, func(c *checker, m map[string]any, p *path) {
			atLeastOneProperty(c, m, p)
			c.ordered(m, p, "validity_not_before", "validity_not_after", false)
		}),

		// Meta objects (section 7).
		"marking-definition": {name: "marking-definition", props: merge(commonMarking, props{
			"name":            str(),
			"definition_type": ov("marking definition types", vocabMarkingDefinition),
			"definition":      {kind: kAny},
		}), check: checkMarking},
		"language-content": {name: "language-content", props: merge(commonLanguage, props{
			"object_ref":      ref(refAny).req(),
			"object_modified": ts(),
			"contents":        {kind: kAny, required: true},
		}), check: checkLanguageContent},
		"extension-definition": {name: "extension-definition", props: merge(commonExtDef, props{
			"name":                 str().req(),
			"description":          str(),
			"schema":               str().req(),
			"version":              str().req(),
			"extension_types":      {kind: kEnumList, required: true, vocab: enumExtensionType, vocabName: "extension-type-enum"},
			"extension_properties": strList(),
		}), check: checkExtensionDefinition},
	}
	finishSpecs()
}

// finishSpecs fills in the required lists of every spec reachable from the
// tables.
func finishSpecs() {
	done := map[*objSpec]bool{}
	var walk func(s *objSpec)
	walk = func(s *objSpec) {
		if s == nil || done[s] {
			return
		}
		done[s] = true
		s.required = s.required[:0]
		for name, p := range s.props {
			if p.required {
				s.required = append(s.required, name)
			}
			walk(p.sub)
		}
		sort.Strings(s.required)
	}
	for _, s := range typeSpecs {
		walk(s)
	}
	for _, s := range extensionSpecs {
		walk(s)
	}
	for _, s := range []*objSpec{customSpec, customSCOSpec, externalRefSpec, granularSpec} {
		walk(s)
	}
}

// seenOrder checks first_seen <= last_seen.
func seenOrder(c *checker, m map[string]any, p *path) {
	c.ordered(m, p, "first_seen", "last_seen", false)
}

// checkLocation applies section 4.10: one of region, country or latitude
// with longitude; latitude and longitude together; precision only with
// them.
func checkLocation(c *checker, m map[string]any, p *path) {
	lat, lon := has(m, "latitude"), has(m, "longitude")
	if lat != lon {
		c.errf(p, "latitude and longitude must be present together")
	}
	if has(m, "precision") && !(lat && lon) {
		c.errf(&path{parent: p, name: "precision"}, "precision must not be present without latitude and longitude")
	}
	if !hasAny(m, "region", "country") && !(lat && lon) {
		c.errf(p, "one of region, country, or latitude and longitude must be present")
	}
	if s, ok := m["country"].(string); ok && !(len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z') {
		c.warnf(&path{parent: p, name: "country"}, "country should be an ISO 3166-1 alpha-2 code, not %q", s)
	}
}

// checkObservedData applies section 4.14: exactly one of objects and
// object_refs, observation times in order, and the deprecated container's
// shape.
func checkObservedData(c *checker, m map[string]any, p *path) {
	c.ordered(m, p, "first_observed", "last_observed", false)
	objs, hasObjs := m["objects"]
	_, hasRefs := m["object_refs"]
	switch {
	case hasObjs && hasRefs:
		c.errf(&path{parent: p, name: "objects"}, "objects must not be present when object_refs is")
		return
	case !hasObjs && !hasRefs:
		c.errf(&path{parent: p, name: "object_refs"}, "one of object_refs and objects must be present")
		return
	case !hasObjs:
		if l, ok := m["object_refs"].([]any); ok && len(l) > 0 {
			for _, r := range l {
				if s, ok := r.(string); ok {
					if i := strings.Index(s, "--"); i > 0 {
						if cat := categoryOf[s[:i]]; cat == catSCO || cat == catCustom {
							return
						}
					}
				}
			}
			c.errf(&path{parent: p, name: "object_refs"}, "object_refs must contain at least one SCO reference")
		}
		return
	}
	op := c.node(p, "objects", 0)
	c.warnf(op, "objects (the observable container) is deprecated; use object_refs")
	om, ok := objs.(map[string]any)
	if !ok {
		c.errf(op, "must be a dictionary of cyber observables, not %s", jsonKind(objs))
		return
	}
	if len(om) == 0 {
		c.errf(op, "must contain at least one object")
	}
	mark := c.n
	for k, v := range om {
		c.n = mark
		kp := c.node(op, k, 0)
		e, ok := v.(map[string]any)
		if !ok {
			c.errf(kp, "must be a cyber observable object, not %s", jsonKind(v))
			continue
		}
		if t, ok := e["type"].(string); !ok {
			c.errf(&path{parent: kp, name: "type"}, "required property is missing or not a string")
		} else if msg := typeNameProblem(t); msg != "" {
			c.errf(&path{parent: kp, name: "type"}, "%s", msg)
		}
		// References inside the container are local: they name other
		// keys of the same container (section 2.13).
		for name, rv := range e {
			switch {
			case strings.HasSuffix(name, "_ref"):
				if r, ok := rv.(string); ok && om[r] == nil {
					c.errf(&path{parent: kp, name: name}, "%q is not a key of this observable container", r)
				}
			case strings.HasSuffix(name, "_refs"):
				if l, ok := rv.([]any); ok {
					for i, item := range l {
						if r, ok := item.(string); ok && om[r] == nil {
							c.errf(&path{parent: &path{parent: kp, name: name}, index: i}, "%q is not a key of this observable container", r)
						}
					}
				}
			}
		}
	}
}

// checkNetworkTraffic applies section 6.12.
func checkNetworkTraffic(c *checker, m map[string]any, p *path) {
	if !hasAny(m, "src_ref", "dst_ref") {
		c.errf(p, "at least one of src_ref and dst_ref must be present")
	}
	if m["is_active"] == true && has(m, "end") {
		c.errf(&path{parent: p, name: "end"}, "end must not be present when is_active is true")
	}
	c.ordered(m, p, "start", "end", false)
	if ipfix, ok := m["ipfix"].(map[string]any); ok {
		for k, v := range ipfix {
			if _, isStr := v.(string); !isStr {
				if _, isInt := intValue(v); !isInt {
					c.errf(&path{parent: &path{parent: p, name: "ipfix"}, name: k}, "IPFIX values must be integers or strings, not %s", jsonKind(v))
				}
			}
		}
	}
	if l, ok := m["protocols"].([]any); ok {
		pp := c.node(p, "protocols", 0)
		mark := c.n
		for i, v := range l {
			c.n = mark
			if s, ok := v.(string); ok && !isVocabForm(s) {
				ip := c.node(pp, "", i)
				c.warnf(ip, "protocol names should be lowercase IANA service names, not %q", s)
			}
		}
	}
}

// checkIPValue warns when an address object's value is not an address or
// CIDR block of its family.
func checkIPValue(c *checker, m map[string]any, p *path, v4 bool) {
	s, ok := m["value"].(string)
	if !ok {
		return
	}
	var a netip.Addr
	var err error
	if strings.IndexByte(s, '/') >= 0 {
		var pfx netip.Prefix
		pfx, err = netip.ParsePrefix(s)
		a = pfx.Addr()
	} else {
		a, err = netip.ParseAddr(s)
	}
	if err != nil || a.Is4() != v4 || a.Zone() != "" {
		family := "IPv6"
		if v4 {
			family = "IPv4"
		}
		c.warnf(&path{parent: p, name: "value"}, "%q is not an %s address or CIDR block", s, family)
	}
}

// atLeastOneProperty applies the rule of process, user-account,
// windows-registry-key and x509-certificate that an object has a property
// beyond the common ones.
func atLeastOneProperty(c *checker, m map[string]any, p *path) {
	for k := range m {
		if _, common := commonSCO[k]; !common {
			return
		}
	}
	c.errf(p, "must have at least one property besides the common properties")
}

// checkMarking applies section 7.2: definition_type and definition
// together (one of them or extensions), the statement and TLP definitions,
// and the fixed content of the published TLP marking definitions.
func checkMarking(c *checker, m map[string]any, p *path) {
	dt, hasDT := m["definition_type"]
	def, hasDef := m["definition"]
	if hasDT != hasDef {
		c.errf(p, "definition_type and definition must be present together")
	}
	if !hasDT && !hasDef && !has(m, "extensions") {
		c.errf(p, "a marking definition must have definition_type and definition, or extensions")
	}
	dp := c.node(p, "definition", 0)
	if hasDef {
		dm, ok := def.(map[string]any)
		if !ok {
			c.errf(dp, "must be an object, not %s", jsonKind(def))
		} else {
			switch dt {
			case "statement":
				sp := c.node(dp, "statement", 0)
				if s, ok := dm["statement"]; !ok {
					c.errf(sp, "required property is missing")
				} else {
					c.str(s, sp)
				}
			case "tlp":
				tp := c.node(dp, "tlp", 0)
				if s, ok := dm["tlp"]; !ok {
					c.errf(tp, "required property is missing")
				} else if s, ok := c.str(s, tp); ok && !enumTLP.has(s) {
					c.errf(tp, "%q is not a TLP level (white, green, amber, red)", s)
				}
			}
		}
	}
	id, _ := m["id"].(string)
	if refs, ok := m["object_marking_refs"].([]any); ok {
		for i, r := range refs {
			if r == id {
				c.errf(&path{parent: &path{parent: p, name: "object_marking_refs"}, index: i}, "a marking definition must not mark itself")
			}
		}
	}
	if gms, ok := m["granular_markings"].([]any); ok {
		for i, g := range gms {
			if gm, ok := g.(map[string]any); ok && gm["marking_ref"] == id {
				c.errf(&path{parent: &path{parent: &path{parent: p, name: "granular_markings"}, index: i}, name: "marking_ref"}, "a marking definition must not mark itself")
			}
		}
	}
	if want, ok := tlpDefinitions[id]; ok {
		for _, diff := range diffJSON(want, m, "") {
			c.errf(&path{parent: p, name: diff.path}, "the published TLP marking definition %s %s", id, diff.msg)
		}
	} else if dt == "tlp" {
		c.errf(&path{parent: p, name: "id"}, "TLP marking definitions must be the published ones; %s is not one of their ids", id)
	}
}

type jsonDiff struct{ path, msg string }

// diffJSON compares a published object with a received one, both decoded.
func diffJSON(want, got any, at string) []jsonDiff {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []jsonDiff{{at, "has an object here"}}
		}
		var out []jsonDiff
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				out = append(out, jsonDiff{join(at, k), "has this property"})
				continue
			}
			out = append(out, diffJSON(wv, gv, join(at, k))...)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				out = append(out, jsonDiff{join(at, k), "has no such property"})
			}
		}
		return out
	case string:
		if g, ok := got.(string); !ok || g != w {
			return []jsonDiff{{at, "has the value " + strconv.Quote(w) + " here"}}
		}
	}
	return nil
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// checkLanguageContent applies section 7.1: contents maps language tags to
// dictionaries of translated properties.
func checkLanguageContent(c *checker, m map[string]any, p *path) {
	v, ok := m["contents"]
	if !ok {
		return
	}
	cp := c.node(p, "contents", 0)
	cm, ok := v.(map[string]any)
	if !ok {
		c.errf(cp, "must be a dictionary, not %s", jsonKind(v))
		return
	}
	if len(cm) == 0 {
		c.errf(cp, "must contain at least one language")
	}
	mark := c.n
	for lang, tv := range cm {
		c.n = mark
		lp := c.node(cp, lang, 0)
		if !isLangTag(lang) {
			c.errf(lp, "%q is not an RFC 5646 language tag", lang)
		}
		if _, ok := tv.(map[string]any); !ok {
			c.errf(lp, "must be a dictionary of translated properties, not %s", jsonKind(tv))
		}
	}
}

// checkExtensionDefinition applies section 7.3.
func checkExtensionDefinition(c *checker, m map[string]any, p *path) {
	types, _ := m["extension_types"].([]any)
	top := false
	for _, t := range types {
		if t == "toplevel-property-extension" {
			top = true
		}
	}
	if has(m, "extension_properties") && !top {
		c.errf(&path{parent: p, name: "extension_properties"}, "extension_properties must only be used with a toplevel-property-extension")
	}
	if v, ok := m["version"].(string); ok && !isSemver(v) {
		c.warnf(&path{parent: p, name: "version"}, "version should follow semantic versioning, not %q", v)
	}
}

// isSemver checks MAJOR.MINOR.PATCH with optional suffixes.
func isSemver(v string) bool {
	parts := 0
	n := 0
	for i := 0; i < len(v); i++ {
		ch := v[i]
		switch {
		case ch >= '0' && ch <= '9':
			n++
		case ch == '.' && parts < 2:
			if n == 0 {
				return false
			}
			parts++
			n = 0
		case (ch == '-' || ch == '+') && parts == 2 && n > 0:
			return true
		default:
			return false
		}
	}
	return parts == 2 && n > 0
}

// isRelationshipType checks the form section 5.1 requires.
func isRelationshipType(s string) bool {
	if len(s) < 1 || len(s) > 250 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
			return false
		}
	}
	return true
}

// isMAC checks a colon-delimited, lowercase MAC-48 address with leading
// zeros (section 6.10).
func isMAC(s string) bool {
	if len(s) != 17 {
		return false
	}
	for i := 0; i < 17; i++ {
		ch := s[i]
		if i%3 == 2 {
			if ch != ':' {
				return false
			}
			continue
		}
		if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f') {
			return false
		}
	}
	return true
}
