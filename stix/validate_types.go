package stix

import (
	"maps"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// This file describes every object type of STIX 2.1: its properties (with
// the common properties of its category merged in) and the rules that
// involve more than one property.

type propSet map[string]*propSpec

// Common properties of each category (section 3.2).
var (
	commonSDO = propSet{
		"defanged": {kind: kNotApplicable},

		"type":                {kind: kType, required: true},
		"spec_version":        {kind: kSpecVersion, required: true},
		"id":                  {kind: kID, required: true},
		"created":             {kind: kTimestampMS, required: true},
		"modified":            {kind: kTimestampMS, required: true},
		"created_by_ref":      refProp(refIdentity),
		"revoked":             boolProp(),
		"labels":              strListProp(),
		"confidence":          intRangeProp(0, 100),
		"lang":                {kind: kLang},
		"external_references": {kind: kExtRefs},
		"object_marking_refs": refListProp(refMarking),
		"granular_markings":   {kind: kGranular},
		"extensions":          {kind: kExtensions},
	}
	commonSCO = propSet{
		"type":                {kind: kType, required: true},
		"spec_version":        {kind: kSpecVersion},
		"id":                  {kind: kID, required: true},
		"object_marking_refs": refListProp(refMarking),
		"granular_markings":   {kind: kGranular},
		"defanged":            boolProp(),
		"extensions":          {kind: kExtensions},
	}
	commonMarking = propSet{
		"defanged": {kind: kNotApplicable},

		"type":                {kind: kType, required: true},
		"spec_version":        {kind: kSpecVersion, required: true},
		"id":                  {kind: kID, required: true},
		"created":             {kind: kTimestampMS, required: true},
		"created_by_ref":      refProp(refIdentity),
		"external_references": {kind: kExtRefs},
		"object_marking_refs": refListProp(refMarking),
		"granular_markings":   {kind: kGranular},
		"extensions":          {kind: kExtensions},
	}
	commonLanguage = propSet{
		"defanged": {kind: kNotApplicable},

		"type":                {kind: kType, required: true},
		"spec_version":        {kind: kSpecVersion, required: true},
		"id":                  {kind: kID, required: true},
		"created":             {kind: kTimestampMS, required: true},
		"modified":            {kind: kTimestampMS, required: true},
		"created_by_ref":      refProp(refIdentity),
		"revoked":             boolProp(),
		"labels":              strListProp(),
		"confidence":          intRangeProp(0, 100),
		"external_references": {kind: kExtRefs},
		"object_marking_refs": refListProp(refMarking),
		"granular_markings":   {kind: kGranular},
		"extensions":          {kind: kExtensions},
	}
	commonExtDef = propSet{
		"defanged": {kind: kNotApplicable},

		"type":                {kind: kType, required: true},
		"spec_version":        {kind: kSpecVersion, required: true},
		"id":                  {kind: kID, required: true},
		"created":             {kind: kTimestampMS, required: true},
		"modified":            {kind: kTimestampMS, required: true},
		"created_by_ref":      refProp(refIdentity).req(),
		"revoked":             boolProp(),
		"labels":              strListProp(),
		"external_references": {kind: kExtRefs},
		"object_marking_refs": refListProp(refMarking),
		"granular_markings":   {kind: kGranular},
	}
)

func mergeProps(common, own propSet) propSet {
	out := make(propSet, len(common)+len(own))
	for k, v := range common {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

func sdoSpec(name string, own propSet, check func(*checker, map[string]any, *jsonPath)) *objSpec {
	return &objSpec{name: name, props: mergeProps(commonSDO, own), check: check}
}

func scoSpec(name string, own propSet, check func(*checker, map[string]any, *jsonPath)) *objSpec {
	return &objSpec{name: name, props: mergeProps(commonSCO, own), check: check}
}

var (
	killChainProp = &propSpec{kind: kKillChain}
	aliasesProp   = strListProp()
)

// Structured values.
var (
	externalRefSpec = &objSpec{name: "external-reference", props: propSet{
		"source_name": strProp().req(),
		"description": strProp(),
		"url":         strProp(),
		"hashes":      {kind: kHashesStrict},
		"external_id": strProp(),
	}}
	granularSpec = &objSpec{name: "granular-marking", props: propSet{
		"lang":        {kind: kLang},
		"marking_ref": refProp(refMarking),
		"selectors":   strListProp().req(),
	}}
	mimePartSpec = &objSpec{name: "mime-part-type", props: propSet{
		"body":                strProp(),
		"body_raw_ref":        refProp(refTo("artifact", "file")),
		"content_type":        strProp(),
		"content_disposition": strProp(),
	}, check: func(c *checker, m map[string]any, p *jsonPath) {
		if hasAll(m, "body", "body_raw_ref") {
			c.errf(p, "body and body_raw_ref must not both be present")
		} else if !hasAny(m, "body", "body_raw_ref") {
			c.errf(p, "one of body and body_raw_ref must be present")
		}
	}}
	registryValueSpec = &objSpec{name: "windows-registry-value-type", props: propSet{
		"name":      strProp(),
		"data":      strProp(),
		"data_type": enumProp("windows-registry-datatype-enum", enumRegistryDatatype),
	}}
	alternateDataStreamSpec = &objSpec{name: "alternate-data-stream-type", props: propSet{
		"name":   strProp().req(),
		"hashes": hashesProp(),
		"size":   intRangeProp(0, maxSTIXInt),
	}}
	peSectionSpec = &objSpec{name: "windows-pe-section-type", props: propSet{
		"name":    strProp().req(),
		"size":    intRangeProp(0, maxSTIXInt),
		"entropy": numberProp(-math.MaxFloat64, math.MaxFloat64),
		"hashes":  hashesProp(),
	}}
	peOptionalHeaderSpec = &objSpec{name: "windows-pe-optional-header-type", props: propSet{
		"magic_hex":                  hexProp(),
		"major_linker_version":       intProp(),
		"minor_linker_version":       intProp(),
		"size_of_code":               intRangeProp(0, maxSTIXInt),
		"size_of_initialized_data":   intRangeProp(0, maxSTIXInt),
		"size_of_uninitialized_data": intRangeProp(0, maxSTIXInt),
		"address_of_entry_point":     intProp(),
		"base_of_code":               intProp(),
		"base_of_data":               intProp(),
		"image_base":                 intProp(),
		"section_alignment":          intProp(),
		"file_alignment":             intProp(),
		"major_os_version":           intProp(),
		"minor_os_version":           intProp(),
		"major_image_version":        intProp(),
		"minor_image_version":        intProp(),
		"major_subsystem_version":    intProp(),
		"minor_subsystem_version":    intProp(),
		"win32_version_value_hex":    hexProp(),
		"size_of_image":              intRangeProp(0, maxSTIXInt),
		"size_of_headers":            intRangeProp(0, maxSTIXInt),
		"checksum_hex":               hexProp(),
		"subsystem_hex":              hexProp(),
		"dll_characteristics_hex":    hexProp(),
		"size_of_stack_reserve":      intRangeProp(0, maxSTIXInt),
		"size_of_stack_commit":       intRangeProp(0, maxSTIXInt),
		"size_of_heap_reserve":       intRangeProp(0, maxSTIXInt),
		"size_of_heap_commit":        intRangeProp(0, maxSTIXInt),
		"loader_flags_hex":           hexProp(),
		"number_of_rva_and_sizes":    intProp(),
		"hashes":                     hashesProp(),
	}}
	x509ExtensionsSpec = &objSpec{name: "x509-v3-extensions-type", props: propSet{
		"basic_constraints":                   strProp(),
		"name_constraints":                    strProp(),
		"policy_constraints":                  strProp(),
		"key_usage":                           strProp(),
		"extended_key_usage":                  strProp(),
		"subject_key_identifier":              strProp(),
		"authority_key_identifier":            strProp(),
		"subject_alternative_name":            strProp(),
		"issuer_alternative_name":             strProp(),
		"subject_directory_attributes":        strProp(),
		"crl_distribution_points":             strProp(),
		"inhibit_any_policy":                  strProp(),
		"private_key_usage_period_not_before": tsProp(),
		"private_key_usage_period_not_after":  tsProp(),
		"certificate_policies":                strProp(),
		"policy_mappings":                     strProp(),
	}}
)

// extensionSpecs describes the predefined SCO extensions (section 6).
var extensionSpecs = map[string]*objSpec{
	"archive-ext": {name: "archive-ext", props: propSet{
		"contains_refs": refListProp(refTo("file", "directory")).req(),
		"comment":       strProp(),
	}},
	"ntfs-ext": {name: "ntfs-ext", props: propSet{
		"sid":                    strProp(),
		"alternate_data_streams": objectListProp(alternateDataStreamSpec),
	}},
	"pdf-ext": {name: "pdf-ext", props: propSet{
		"version":            strProp(),
		"is_optimized":       boolProp(),
		"document_info_dict": dictProp(),
		"pdfid0":             strProp(),
		"pdfid1":             strProp(),
	}},
	"raster-image-ext": {name: "raster-image-ext", props: propSet{
		"image_height":   intProp(),
		"image_width":    intProp(),
		"bits_per_pixel": intProp(),
		"exif_tags":      dictProp(),
	}},
	"windows-pebinary-ext": {name: "windows-pebinary-ext", props: propSet{
		"pe_type":                     ovProp("windows-pebinary-type-ov", vocabPEBinaryType).req(),
		"imphash":                     strProp(),
		"machine_hex":                 hexProp(),
		"number_of_sections":          intRangeProp(0, maxSTIXInt),
		"time_date_stamp":             tsProp(),
		"pointer_to_symbol_table_hex": hexProp(),
		"number_of_symbols":           intRangeProp(0, maxSTIXInt),
		"size_of_optional_header":     intRangeProp(0, maxSTIXInt),
		"characteristics_hex":         hexProp(),
		"file_header_hashes":          hashesProp(),
		"optional_header":             objectProp(peOptionalHeaderSpec),
		"sections":                    objectListProp(peSectionSpec),
	}},
	"http-request-ext": {name: "http-request-ext", props: propSet{
		"request_method":        strProp().req(),
		"request_value":         strProp().req(),
		"request_version":       strProp(),
		"request_header":        dictProp(),
		"message_body_length":   intRangeProp(0, maxSTIXInt),
		"message_body_data_ref": refProp(refTo("artifact")),
	}},
	"icmp-ext": {name: "icmp-ext", props: propSet{
		"icmp_type_hex": hexProp().req(),
		"icmp_code_hex": hexProp().req(),
	}},
	"socket-ext": {name: "socket-ext", props: propSet{
		"address_family":    enumProp("network-socket-address-family-enum", enumSocketAddressFamily).req(),
		"is_blocking":       boolProp(),
		"is_listening":      boolProp(),
		"options":           dictProp(),
		"socket_type":       enumProp("network-socket-type-enum", enumSocketType),
		"socket_descriptor": intRangeProp(0, maxSTIXInt),
		"socket_handle":     intProp(),
	}, check: func(c *checker, m map[string]any, p *jsonPath) {
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
	"tcp-ext": {name: "tcp-ext", props: propSet{
		"src_flags_hex": hexProp(),
		"dst_flags_hex": hexProp(),
	}},
	"windows-process-ext": {name: "windows-process-ext", props: propSet{
		"aslr_enabled":    boolProp(),
		"dep_enabled":     boolProp(),
		"priority":        strProp(),
		"owner_sid":       strProp(),
		"window_title":    strProp(),
		"startup_info":    dictProp(),
		"integrity_level": enumProp("windows-integrity-level-enum", enumIntegrityLevel),
	}},
	"windows-service-ext": {name: "windows-service-ext", props: propSet{
		"service_name":     strProp(),
		"descriptions":     strListProp(),
		"display_name":     strProp(),
		"group_name":       strProp(),
		"start_type":       enumProp("windows-service-start-enum", enumServiceStart),
		"service_dll_refs": refListProp(refTo("file")),
		"service_type":     enumProp("windows-service-enum", enumServiceType),
		"service_status":   enumProp("windows-service-status-enum", enumServiceStatus),
	}},
	"unix-account-ext": {name: "unix-account-ext", props: propSet{
		"gid":      intProp(),
		"groups":   strListProp(),
		"home_dir": strProp(),
		"shell":    strProp(),
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
		"attack-pattern": sdoSpec("attack-pattern", propSet{
			"name":              strProp().req(),
			"description":       strProp(),
			"aliases":           aliasesProp,
			"kill_chain_phases": killChainProp,
		}, nil),
		"campaign": sdoSpec("campaign", propSet{
			"name":        strProp().req(),
			"description": strProp(),
			"aliases":     aliasesProp,
			"first_seen":  tsProp(),
			"last_seen":   tsProp(),
			"objective":   strProp(),
		}, seenOrder),
		"course-of-action": sdoSpec("course-of-action", propSet{
			"name":        strProp().req(),
			"description": strProp(),
		}, nil),
		"grouping": sdoSpec("grouping", propSet{
			"name":        strProp(),
			"description": strProp(),
			"context":     ovProp("grouping-context-ov", vocabGroupingContext).req(),
			"object_refs": refListProp(refAny).req(),
		}, nil),
		"identity": sdoSpec("identity", propSet{
			"name":                strProp().req(),
			"description":         strProp(),
			"roles":               strListProp(),
			"identity_class":      ovProp("identity-class-ov", vocabIdentityClass),
			"sectors":             ovListProp("industry-sector-ov", vocabIndustrySector),
			"contact_information": strProp(),
		}, nil),
		"incident": sdoSpec("incident", propSet{
			"name":              strProp().req(),
			"description":       strProp(),
			"kill_chain_phases": killChainProp,
		}, nil),
		"indicator": sdoSpec("indicator", propSet{
			"name":              strProp(),
			"description":       strProp(),
			"indicator_types":   ovListProp("indicator-type-ov", vocabIndicatorType),
			"pattern":           strProp().req(),
			"pattern_type":      ovProp("pattern-type-ov", vocabPatternType).req(),
			"pattern_version":   strProp(),
			"valid_from":        tsProp().req(),
			"valid_until":       tsProp(),
			"kill_chain_phases": killChainProp,
		}, func(c *checker, m map[string]any, p *jsonPath) {
			c.ordered(m, p, "valid_from", "valid_until", true)
			c.indicatorPattern(m, p)
		}),
		"infrastructure": sdoSpec("infrastructure", propSet{
			"name":                 strProp().req(),
			"description":          strProp(),
			"infrastructure_types": ovListProp("infrastructure-type-ov", vocabInfrastructureType),
			"aliases":              aliasesProp,
			"kill_chain_phases":    killChainProp,
			"first_seen":           tsProp(),
			"last_seen":            tsProp(),
		}, seenOrder),
		"intrusion-set": sdoSpec("intrusion-set", propSet{
			"name":                  strProp().req(),
			"description":           strProp(),
			"aliases":               aliasesProp,
			"first_seen":            tsProp(),
			"last_seen":             tsProp(),
			"goals":                 strListProp(),
			"resource_level":        ovProp("attack-resource-level-ov", vocabAttackResourceLevel),
			"primary_motivation":    ovProp("attack-motivation-ov", vocabAttackMotivation),
			"secondary_motivations": ovListProp("attack-motivation-ov", vocabAttackMotivation),
		}, seenOrder),
		"location": sdoSpec("location", propSet{
			"name":                strProp(),
			"description":         strProp(),
			"latitude":            numberProp(-90, 90),
			"longitude":           numberProp(-180, 180),
			"precision":           numberProp(0, math.MaxFloat64),
			"region":              ovProp("region-ov", vocabRegion),
			"country":             strProp(),
			"administrative_area": strProp(),
			"city":                strProp(),
			"street_address":      strProp(),
			"postal_code":         strProp(),
		}, checkLocation),
		"malware": sdoSpec("malware", propSet{
			"name":                        strProp(),
			"description":                 strProp(),
			"malware_types":               ovListProp("malware-type-ov", vocabMalwareType),
			"is_family":                   boolProp().req(),
			"aliases":                     aliasesProp,
			"kill_chain_phases":           killChainProp,
			"first_seen":                  tsProp(),
			"last_seen":                   tsProp(),
			"operating_system_refs":       refListProp(refSoftware),
			"architecture_execution_envs": ovListProp("processor-architecture-ov", vocabProcessorArchitecture),
			"implementation_languages":    ovListProp("implementation-language-ov", vocabImplementationLang),
			"capabilities":                ovListProp("malware-capabilities-ov", vocabMalwareCapabilities),
			"sample_refs":                 refListProp(refTo("file", "artifact")),
		}, func(c *checker, m map[string]any, p *jsonPath) {
			seenOrder(c, m, p)
			if m["is_family"] == true && !hasAll(m, "name") {
				c.errf(&jsonPath{parent: p, name: "name"}, "a malware family (is_family true) must have a name")
			}
		}),
		"malware-analysis": sdoSpec("malware-analysis", propSet{
			"product":                     strProp().req(),
			"version":                     strProp(),
			"host_vm_ref":                 refProp(refSoftware),
			"operating_system_ref":        refProp(refSoftware),
			"installed_software_refs":     refListProp(refSoftware),
			"configuration_version":       strProp(),
			"modules":                     strListProp(),
			"analysis_engine_version":     strProp(),
			"analysis_definition_version": strProp(),
			"submitted":                   tsProp(),
			"analysis_started":            tsProp(),
			"analysis_ended":              tsProp(),
			"result_name":                 strProp(),
			"result":                      ovProp("malware-result-ov", vocabMalwareResult),
			"analysis_sco_refs":           refListProp(refSCO),
			"sample_ref":                  refProp(refTo("file", "network-traffic", "artifact")),
		}, func(c *checker, m map[string]any, p *jsonPath) {
			if !hasAny(m, "result", "analysis_sco_refs") {
				c.errf(p, "one of result and analysis_sco_refs must be present")
			}
			c.ordered(m, p, "analysis_started", "analysis_ended", false)
		}),
		"note": sdoSpec("note", propSet{
			"abstract":    strProp(),
			"content":     strProp().req(),
			"authors":     strListProp(),
			"object_refs": refListProp(refAny).req(),
		}, nil),
		"observed-data": sdoSpec("observed-data", propSet{
			"first_observed":  tsProp().req(),
			"last_observed":   tsProp().req(),
			"number_observed": intRangeProp(1, 999999999).req(),
			"objects":         {kind: kAny},
			"object_refs":     refListProp(refSCOorSRO),
		}, checkObservedData),
		"opinion": sdoSpec("opinion", propSet{
			"explanation": strProp(),
			"authors":     strListProp(),
			"opinion":     enumProp("opinion-enum", enumOpinion).req(),
			"object_refs": refListProp(refAny).req(),
		}, nil),
		"report": sdoSpec("report", propSet{
			"name":         strProp().req(),
			"description":  strProp(),
			"report_types": ovListProp("report-type-ov", vocabReportType),
			"published":    tsProp().req(),
			"object_refs":  refListProp(refAny).req(),
		}, nil),
		"threat-actor": sdoSpec("threat-actor", propSet{
			"name":                  strProp().req(),
			"description":           strProp(),
			"threat_actor_types":    ovListProp("threat-actor-type-ov", vocabThreatActorType),
			"aliases":               aliasesProp,
			"first_seen":            tsProp(),
			"last_seen":             tsProp(),
			"roles":                 ovListProp("threat-actor-role-ov", vocabThreatActorRole),
			"goals":                 strListProp(),
			"sophistication":        ovProp("threat-actor-sophistication-ov", vocabThreatActorSophistication),
			"resource_level":        ovProp("attack-resource-level-ov", vocabAttackResourceLevel),
			"primary_motivation":    ovProp("attack-motivation-ov", vocabAttackMotivation),
			"secondary_motivations": ovListProp("attack-motivation-ov", vocabAttackMotivation),
			"personal_motivations":  ovListProp("attack-motivation-ov", vocabAttackMotivation),
		}, seenOrder),
		"tool": sdoSpec("tool", propSet{
			"name":              strProp().req(),
			"description":       strProp(),
			"tool_types":        ovListProp("tool-type-ov", vocabToolType),
			"aliases":           aliasesProp,
			"kill_chain_phases": killChainProp,
			"tool_version":      strProp(),
		}, nil),
		"vulnerability": sdoSpec("vulnerability", propSet{
			"name":        strProp().req(),
			"description": strProp(),
		}, nil),

		// SROs (section 5).
		"relationship": sdoSpec("relationship", propSet{
			"relationship_type": strProp().req(),
			"description":       strProp(),
			"source_ref":        refProp(refSDOorSCO).req(),
			"target_ref":        refProp(refSDOorSCO).req(),
			"start_time":        tsProp(),
			"stop_time":         tsProp(),
		}, func(c *checker, m map[string]any, p *jsonPath) {
			if rt, ok := m["relationship_type"].(string); ok && !isRelationshipType(rt) {
				c.errf(&jsonPath{parent: p, name: "relationship_type"}, "%q must only contain a-z, 0-9 and hyphen", rt)
			}
			c.ordered(m, p, "start_time", "stop_time", true)
		}),
		"sighting": sdoSpec("sighting", propSet{
			"description":        strProp(),
			"first_seen":         tsProp(),
			"last_seen":          tsProp(),
			"count":              intRangeProp(0, 999999999),
			"sighting_of_ref":    refProp(refSDO).req(),
			"observed_data_refs": refListProp(refTo("observed-data")),
			"where_sighted_refs": refListProp(refTo("identity", "location")),
			"summary":            boolProp(),
		}, seenOrder),

		// SCOs (section 6).
		"artifact": scoSpec("artifact", propSet{
			"mime_type":            strProp(),
			"payload_bin":          binaryProp(),
			"url":                  strProp(),
			"hashes":               hashesProp(),
			"encryption_algorithm": enumProp("encryption-algorithm-enum", enumEncryptionAlgorithm),
			"decryption_key":       strProp(),
		}, func(c *checker, m map[string]any, p *jsonPath) {
			if hasAll(m, "payload_bin", "url") {
				c.errf(&jsonPath{parent: p, name: "url"}, "payload_bin and url must not both be present")
			}
			if hasAll(m, "url") && !hasAll(m, "hashes") {
				c.errf(&jsonPath{parent: p, name: "hashes"}, "hashes must be present when url is")
			}
			if hasAll(m, "decryption_key") && !hasAll(m, "encryption_algorithm") {
				c.errf(&jsonPath{parent: p, name: "decryption_key"}, "decryption_key must not be present without encryption_algorithm")
			}
		}),
		"autonomous-system": scoSpec("autonomous-system", propSet{
			"number": intProp().req(),
			"name":   strProp(),
			"rir":    strProp(),
		}, nil),
		"directory": scoSpec("directory", propSet{
			"path":          strProp().req(),
			"path_enc":      strProp(),
			"ctime":         tsProp(),
			"mtime":         tsProp(),
			"atime":         tsProp(),
			"contains_refs": refListProp(refTo("file", "directory")),
		}, nil),
		"domain-name": scoSpec("domain-name", propSet{
			"value":            strProp().req(),
			"resolves_to_refs": refListProp(refTo("ipv4-addr", "ipv6-addr", "domain-name")),
		}, nil),
		"email-addr": scoSpec("email-addr", propSet{
			"value":          strProp().req(),
			"display_name":   strProp(),
			"belongs_to_ref": refProp(refTo("user-account")),
		}, nil),
		"email-message": scoSpec("email-message", propSet{
			"is_multipart":             boolProp().req(),
			"date":                     tsProp(),
			"content_type":             strProp(),
			"from_ref":                 refProp(refEmailAddr),
			"sender_ref":               refProp(refEmailAddr),
			"to_refs":                  refListProp(refEmailAddr),
			"cc_refs":                  refListProp(refEmailAddr),
			"bcc_refs":                 refListProp(refEmailAddr),
			"message_id":               strProp(),
			"subject":                  strProp(),
			"received_lines":           strListProp(),
			"additional_header_fields": dictProp(),
			"body":                     strProp(),
			"body_multipart":           objectListProp(mimePartSpec),
			"raw_email_ref":            refProp(refTo("artifact")),
		}, func(c *checker, m map[string]any, p *jsonPath) {
			if h, ok := m["additional_header_fields"].(map[string]any); ok {
				for k, v := range h {
					if l, ok := v.([]any); !ok || len(l) == 0 {
						c.warnf(&jsonPath{parent: &jsonPath{parent: p, name: "additional_header_fields"}, name: k}, "header values should be lists of strings")
					}
				}
			}
			switch m["is_multipart"] {
			case true:
				if hasAll(m, "body") {
					c.errf(&jsonPath{parent: p, name: "body"}, "body must not be present when is_multipart is true")
				}
			case false:
				if hasAll(m, "body_multipart") {
					c.errf(&jsonPath{parent: p, name: "body_multipart"}, "body_multipart must not be present when is_multipart is false")
				}
			}
		}),
		"file": scoSpec("file", propSet{
			"hashes":               hashesProp(),
			"size":                 intRangeProp(0, maxSTIXInt),
			"name":                 strProp(),
			"name_enc":             strProp(),
			"magic_number_hex":     hexProp(),
			"mime_type":            strProp(),
			"ctime":                tsProp(),
			"mtime":                tsProp(),
			"atime":                tsProp(),
			"parent_directory_ref": refProp(refTo("directory")),
			"contains_refs":        refListProp(refSCO),
			"content_ref":          refProp(refTo("artifact")),
		}, func(c *checker, m map[string]any, p *jsonPath) {
			if !hasAny(m, "hashes", "name") {
				c.errf(p, "a file must have at least one of hashes and name")
			}
		}),
		"ipv4-addr": scoSpec("ipv4-addr", propSet{
			"value":            strProp().req(),
			"resolves_to_refs": refListProp(refTo("mac-addr")),
			"belongs_to_refs":  refListProp(refTo("autonomous-system")),
		}, func(c *checker, m map[string]any, p *jsonPath) { checkIPValue(c, m, p, true) }),
		"ipv6-addr": scoSpec("ipv6-addr", propSet{
			"value":            strProp().req(),
			"resolves_to_refs": refListProp(refTo("mac-addr")),
			"belongs_to_refs":  refListProp(refTo("autonomous-system")),
		}, func(c *checker, m map[string]any, p *jsonPath) { checkIPValue(c, m, p, false) }),
		"mac-addr": scoSpec("mac-addr", propSet{
			"value": strProp().req(),
		}, func(c *checker, m map[string]any, p *jsonPath) {
			if v, ok := m["value"].(string); ok && !isMAC(v) {
				c.errf(&jsonPath{parent: p, name: "value"}, "%q is not a colon-delimited, lowercase MAC-48 address", v)
			}
		}),
		"mutex": scoSpec("mutex", propSet{
			"name": strProp().req(),
		}, nil),
		"network-traffic": scoSpec("network-traffic", propSet{
			"start":               tsProp(),
			"end":                 tsProp(),
			"is_active":           boolProp(),
			"src_ref":             refProp(refTo("ipv4-addr", "ipv6-addr", "mac-addr", "domain-name")),
			"dst_ref":             refProp(refTo("ipv4-addr", "ipv6-addr", "mac-addr", "domain-name")),
			"src_port":            intRangeProp(0, 65535),
			"dst_port":            intRangeProp(0, 65535),
			"protocols":           strListProp().req(),
			"src_byte_count":      intRangeProp(0, maxSTIXInt),
			"dst_byte_count":      intRangeProp(0, maxSTIXInt),
			"src_packets":         intRangeProp(0, maxSTIXInt),
			"dst_packets":         intRangeProp(0, maxSTIXInt),
			"ipfix":               dictProp(),
			"src_payload_ref":     refProp(refTo("artifact")),
			"dst_payload_ref":     refProp(refTo("artifact")),
			"encapsulates_refs":   refListProp(refTo("network-traffic")),
			"encapsulated_by_ref": refProp(refTo("network-traffic")),
		}, checkNetworkTraffic),
		"process": scoSpec("process", propSet{
			"is_hidden":              boolProp(),
			"pid":                    intProp(),
			"created_time":           tsProp(),
			"cwd":                    strProp(),
			"command_line":           strProp(),
			"environment_variables":  dictProp(),
			"opened_connection_refs": refListProp(refTo("network-traffic")),
			"creator_user_ref":       refProp(refTo("user-account")),
			"image_ref":              refProp(refTo("file")),
			"parent_ref":             refProp(refTo("process")),
			"child_refs":             refListProp(refTo("process")),
		}, atLeastOneProperty),
		"software": scoSpec("software", propSet{
			"name":      strProp().req(),
			"cpe":       strProp(),
			"swid":      strProp(),
			"languages": strListProp(),
			"vendor":    strProp(),
			"version":   strProp(),
		}, func(c *checker, m map[string]any, p *jsonPath) {
			if s, ok := m["cpe"].(string); ok && !strings.HasPrefix(s, "cpe:2.3:") {
				c.warnf(&jsonPath{parent: p, name: "cpe"}, "cpe should be a CPE 2.3 name (cpe:2.3:...), not %q", s)
			}
		}),
		"url": scoSpec("url", propSet{
			"value": strProp().req(),
		}, nil),
		"user-account": scoSpec("user-account", propSet{
			"user_id":                 strProp(),
			"credential":              strProp(),
			"account_login":           strProp(),
			"account_type":            ovProp("account-type-ov", vocabAccountType),
			"display_name":            strProp(),
			"is_service_account":      boolProp(),
			"is_privileged":           boolProp(),
			"can_escalate_privs":      boolProp(),
			"is_disabled":             boolProp(),
			"account_created":         tsProp(),
			"account_expires":         tsProp(),
			"credential_last_changed": tsProp(),
			"account_first_login":     tsProp(),
			"account_last_login":      tsProp(),
		}, atLeastOneProperty),
		"windows-registry-key": scoSpec("windows-registry-key", propSet{
			"key":               strProp(),
			"values":            objectListProp(registryValueSpec),
			"modified_time":     tsProp(),
			"creator_user_ref":  refProp(refTo("user-account")),
			"number_of_subkeys": intRangeProp(0, maxSTIXInt),
		}, atLeastOneProperty),
		"x509-certificate": scoSpec("x509-certificate", propSet{
			"is_self_signed":               boolProp(),
			"hashes":                       hashesProp(),
			"version":                      strProp(),
			"serial_number":                strProp(),
			"signature_algorithm":          strProp(),
			"issuer":                       strProp(),
			"validity_not_before":          tsProp(),
			"validity_not_after":           tsProp(),
			"subject":                      strProp(),
			"subject_public_key_algorithm": strProp(),
			"subject_public_key_modulus":   strProp(),
			"subject_public_key_exponent":  intProp(),
			"x509_v3_extensions":           objectProp(x509ExtensionsSpec),
		}, func(c *checker, m map[string]any, p *jsonPath) {
			atLeastOneProperty(c, m, p)
			c.ordered(m, p, "validity_not_before", "validity_not_after", false)
		}),

		// Meta objects (section 7).
		"marking-definition": {name: "marking-definition", props: mergeProps(commonMarking, propSet{
			"name":            strProp(),
			"definition_type": ovProp("marking definition types", vocabMarkingDefinition),
			"definition":      {kind: kAny},
		}), check: checkMarking},
		"language-content": {name: "language-content", props: mergeProps(commonLanguage, propSet{
			"object_ref":      refProp(refAny).req(),
			"object_modified": tsProp(),
			"contents":        {kind: kAny, required: true},
		}), check: checkLanguageContent},
		"extension-definition": {name: "extension-definition", props: mergeProps(commonExtDef, propSet{
			"name":                 strProp().req(),
			"description":          strProp(),
			"schema":               strProp().req(),
			"version":              strProp().req(),
			"extension_types":      {kind: kEnumList, required: true, vocab: enumExtensionType, vocabName: "extension-type-enum"},
			"extension_properties": strListProp(),
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
			internName(name)
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
	for name := range extensionSpecs {
		internName(name)
	}
	for name := range vocabHashAlgorithm {
		internName(name)
	}
	for _, name := range []string{"kill_chain_name", "phase_name", "extension_type"} {
		internName(name)
	}
}

// seenOrder checks first_seen <= last_seen.
func seenOrder(c *checker, m map[string]any, p *jsonPath) {
	c.ordered(m, p, "first_seen", "last_seen", false)
}

// checkLocation applies section 4.10: one of region, country or latitude
// with longitude; latitude and longitude together; precision only with
// them.
func checkLocation(c *checker, m map[string]any, p *jsonPath) {
	lat, lon := hasAll(m, "latitude"), hasAll(m, "longitude")
	if lat != lon {
		c.errf(p, "latitude and longitude must be present together")
	}
	if hasAll(m, "precision") && !(lat && lon) {
		c.errf(&jsonPath{parent: p, name: "precision"}, "precision must not be present without latitude and longitude")
	}
	if !hasAny(m, "region", "country") && !(lat && lon) {
		c.errf(p, "one of region, country, or latitude and longitude must be present")
	}
	if s, ok := m["country"].(string); ok && !(len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z') {
		c.warnf(&jsonPath{parent: p, name: "country"}, "country should be an ISO 3166-1 alpha-2 code, not %q", s)
	}
}

// checkObservedData applies section 4.14: exactly one of objects and
// object_refs, observation times in order, and the deprecated container's
// shape.
func checkObservedData(c *checker, m map[string]any, p *jsonPath) {
	c.ordered(m, p, "first_observed", "last_observed", false)
	objs, hasObjs := m["objects"]
	_, hasRefs := m["object_refs"]
	switch {
	case hasObjs && hasRefs:
		c.errf(&jsonPath{parent: p, name: "objects"}, "objects must not be present when object_refs is")
		return
	case !hasObjs && !hasRefs:
		c.errf(&jsonPath{parent: p, name: "object_refs"}, "one of object_refs and objects must be present")
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
			c.errf(&jsonPath{parent: p, name: "object_refs"}, "object_refs must contain at least one SCO reference")
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
			c.errf(&jsonPath{parent: kp, name: "type"}, "required property is missing or not a string")
		} else if msg := typeNameProblem(t); msg != "" {
			c.errf(&jsonPath{parent: kp, name: "type"}, "%s", msg)
		}
		// References inside the container are local: they name other
		// keys of the same container (section 2.13).
		for name, rv := range e {
			switch {
			case strings.HasSuffix(name, "_ref"):
				if r, ok := rv.(string); ok && om[r] == nil {
					c.errf(&jsonPath{parent: kp, name: name}, "%q is not a key of this observable container", r)
				}
			case strings.HasSuffix(name, "_refs"):
				if l, ok := rv.([]any); ok {
					for i, item := range l {
						if r, ok := item.(string); ok && om[r] == nil {
							c.errf(&jsonPath{parent: &jsonPath{parent: kp, name: name}, index: i}, "%q is not a key of this observable container", r)
						}
					}
				}
			}
		}
	}
}

// checkNetworkTraffic applies section 6.12.
func checkNetworkTraffic(c *checker, m map[string]any, p *jsonPath) {
	if !hasAny(m, "src_ref", "dst_ref") {
		c.errf(p, "at least one of src_ref and dst_ref must be present")
	}
	if m["is_active"] == true && hasAll(m, "end") {
		c.errf(&jsonPath{parent: p, name: "end"}, "end must not be present when is_active is true")
	}
	c.ordered(m, p, "start", "end", false)
	if ipfix, ok := m["ipfix"].(map[string]any); ok {
		for k, v := range ipfix {
			if _, isStr := v.(string); !isStr {
				if _, isInt := intValue(v); !isInt {
					c.errf(&jsonPath{parent: &jsonPath{parent: p, name: "ipfix"}, name: k}, "IPFIX values must be integers or strings, not %s", jsonKind(v))
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
func checkIPValue(c *checker, m map[string]any, p *jsonPath, v4 bool) {
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
		c.warnf(&jsonPath{parent: p, name: "value"}, "%q is not an %s address or CIDR block", s, family)
	}
}

// atLeastOneProperty applies the rule of process, user-account,
// windows-registry-key and x509-certificate that an object has a property
// beyond the common ones.
func atLeastOneProperty(c *checker, m map[string]any, p *jsonPath) {
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
func checkMarking(c *checker, m map[string]any, p *jsonPath) {
	dt, hasDT := m["definition_type"]
	def, hasDef := m["definition"]
	if hasDT != hasDef {
		c.errf(p, "definition_type and definition must be present together")
	}
	if !hasDT && !hasDef && !hasAll(m, "extensions") {
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
	cid := CanonicalID(id)
	if refListProp, ok := m["object_marking_refs"].([]any); ok {
		for i, r := range refListProp {
			if r, ok := r.(string); ok && CanonicalID(r) == cid {
				c.errf(&jsonPath{parent: &jsonPath{parent: p, name: "object_marking_refs"}, index: i}, "a marking definition must not mark itself")
			}
		}
	}
	if gms, ok := m["granular_markings"].([]any); ok {
		for i, g := range gms {
			gm, _ := g.(map[string]any)
			if r, ok := gm["marking_ref"].(string); ok && CanonicalID(r) == cid {
				c.errf(&jsonPath{parent: &jsonPath{parent: &jsonPath{parent: p, name: "granular_markings"}, index: i}, name: "marking_ref"}, "a marking definition must not mark itself")
			}
		}
	}
	if want, ok := tlpDefinitions[cid]; ok {
		// The id may be spelled in any case (TLPOf reads it so); all
		// else must be the published object.
		if id != cid {
			want = maps.Clone(want)
			want["id"] = id
		}
		for _, diff := range diffJSON(want, m, "") {
			c.errf(&jsonPath{parent: p, name: diff.jsonPath}, "the published TLP marking definition %s %s", id, diff.msg)
		}
	} else if s, _ := dt.(string); strings.EqualFold(s, "tlp") {
		c.errf(&jsonPath{parent: p, name: "id"}, "TLP marking definitions must be the published ones; %s is not one of their ids", id)
	} else if hasTLP2Extension(m) {
		// Objects marked with it would be read as unmarked here and as
		// TLP-marked by a recipient that reads the definition.
		c.errf(&jsonPath{parent: p, name: "id"}, "TLP 2.0 marking definitions must be the published ones; %s is not one of their ids", id)
	}
}

// hasTLP2Extension reports whether a marking definition uses the TLP 2.0
// extension, whose id may be written in any case.
func hasTLP2Extension(m map[string]any) bool {
	exts, _ := m["extensions"].(map[string]any)
	for k := range exts {
		if CanonicalID(k) == tlp2Extension {
			return true
		}
	}
	return false
}

type jsonDiff struct{ jsonPath, msg string }

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
				out = append(out, jsonDiff{joinPath(at, k), "has this property"})
				continue
			}
			out = append(out, diffJSON(wv, gv, joinPath(at, k))...)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				out = append(out, jsonDiff{joinPath(at, k), "has no such property"})
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

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// checkLanguageContent applies section 7.1: contents maps language tags to
// dictionaries of translated properties.
func checkLanguageContent(c *checker, m map[string]any, p *jsonPath) {
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
func checkExtensionDefinition(c *checker, m map[string]any, p *jsonPath) {
	types, _ := m["extension_types"].([]any)
	top := false
	for _, t := range types {
		if t == "toplevel-property-extension" {
			top = true
		}
	}
	if hasAll(m, "extension_properties") && !top {
		c.errf(&jsonPath{parent: p, name: "extension_properties"}, "extension_properties must only be used with a toplevel-property-extension")
	}
	if v, ok := m["version"].(string); ok && !isSemver(v) {
		c.warnf(&jsonPath{parent: p, name: "version"}, "version should follow semantic versioning, not %q", v)
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
