package stix

import (
	"encoding/json"
	"testing"
)

// Identifiers for the test objects (UUIDv4s).
const (
	u1 = "a9d2710f-6a83-41d0-ae9f-e51883d8fd2f"
	u2 = "7fd719f5-ef9b-4820-a6af-479bb338a11c"
	u3 = "99393905-d244-4aef-9509-5b99178fc290"
	u4 = "29801cca-49ca-4289-a917-5e42ae145d8f"
	u5 = "34b359b2-3573-401c-8c89-b1654201eff8"
)

// sdoCommon is the common part of the valid test SDOs and SROs.
const sdoCommon = `"spec_version":"2.1","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z"`

// bases holds one valid object of every type the rule tests use.
var baseObjects = map[string]string{
	"attack-pattern":   `{"type":"attack-pattern","id":"attack-pattern--` + u1 + `",` + sdoCommon + `,"name":"Spear Phishing"}`,
	"campaign":         `{"type":"campaign","id":"campaign--` + u1 + `",` + sdoCommon + `,"name":"Green Group Attacks"}`,
	"course-of-action": `{"type":"course-of-action","id":"course-of-action--` + u1 + `",` + sdoCommon + `,"name":"Add TCP port 80 Filter Rule"}`,
	"grouping":         `{"type":"grouping","id":"grouping--` + u1 + `",` + sdoCommon + `,"context":"suspicious-activity","object_refs":["indicator--` + u2 + `"]}`,
	"identity":         `{"type":"identity","id":"identity--` + u1 + `",` + sdoCommon + `,"name":"ACME","identity_class":"organization"}`,
	"incident":         `{"type":"incident","id":"incident--` + u1 + `",` + sdoCommon + `,"name":"Breach"}`,
	"indicator": `{"type":"indicator","id":"indicator--` + u1 + `",` + sdoCommon + `,"indicator_types":["malicious-activity"],` +
		`"pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}`,
	"infrastructure":   `{"type":"infrastructure","id":"infrastructure--` + u1 + `",` + sdoCommon + `,"name":"Poison Ivy C2"}`,
	"intrusion-set":    `{"type":"intrusion-set","id":"intrusion-set--` + u1 + `",` + sdoCommon + `,"name":"Bobcat Breakin"}`,
	"location":         `{"type":"location","id":"location--` + u1 + `",` + sdoCommon + `,"region":"south-eastern-asia"}`,
	"malware":          `{"type":"malware","id":"malware--` + u1 + `",` + sdoCommon + `,"name":"Cryptolocker","is_family":true}`,
	"malware-analysis": `{"type":"malware-analysis","id":"malware-analysis--` + u1 + `",` + sdoCommon + `,"product":"av-vendor","result":"malicious"}`,
	"note":             `{"type":"note","id":"note--` + u1 + `",` + sdoCommon + `,"content":"Seen before.","object_refs":["campaign--` + u2 + `"]}`,
	"observed-data": `{"type":"observed-data","id":"observed-data--` + u1 + `",` + sdoCommon + `,"first_observed":"2015-12-21T19:00:00Z",` +
		`"last_observed":"2015-12-21T19:00:00Z","number_observed":50,"object_refs":["ipv4-addr--` + u2 + `"]}`,
	"opinion":       `{"type":"opinion","id":"opinion--` + u1 + `",` + sdoCommon + `,"opinion":"agree","object_refs":["report--` + u2 + `"]}`,
	"report":        `{"type":"report","id":"report--` + u1 + `",` + sdoCommon + `,"name":"The Black Vine Group","published":"2016-01-20T17:00:00.000Z","object_refs":["indicator--` + u2 + `"]}`,
	"threat-actor":  `{"type":"threat-actor","id":"threat-actor--` + u1 + `",` + sdoCommon + `,"name":"Evil Org"}`,
	"tool":          `{"type":"tool","id":"tool--` + u1 + `",` + sdoCommon + `,"name":"VNC"}`,
	"vulnerability": `{"type":"vulnerability","id":"vulnerability--` + u1 + `",` + sdoCommon + `,"name":"CVE-2016-1234"}`,
	"relationship": `{"type":"relationship","id":"relationship--` + u1 + `",` + sdoCommon + `,"relationship_type":"indicates",` +
		`"source_ref":"indicator--` + u2 + `","target_ref":"malware--` + u3 + `"}`,
	"sighting":             `{"type":"sighting","id":"sighting--` + u1 + `",` + sdoCommon + `,"sighting_of_ref":"indicator--` + u2 + `"}`,
	"artifact":             `{"type":"artifact","spec_version":"2.1","id":"artifact--` + u1 + `","mime_type":"image/jpeg","payload_bin":"iVBORw0KGgoAAAANSUhEUgAAADI="}`,
	"autonomous-system":    `{"type":"autonomous-system","id":"autonomous-system--` + u1 + `","number":15139}`,
	"directory":            `{"type":"directory","id":"directory--` + u1 + `","path":"C:\\Windows\\System32"}`,
	"domain-name":          `{"type":"domain-name","id":"domain-name--` + u1 + `","value":"example.com"}`,
	"email-addr":           `{"type":"email-addr","id":"email-addr--` + u1 + `","value":"john@example.com"}`,
	"email-message":        `{"type":"email-message","id":"email-message--` + u1 + `","is_multipart":false,"body":"Hello"}`,
	"file":                 `{"type":"file","id":"file--` + u1 + `","name":"foo.dll"}`,
	"ipv4-addr":            `{"type":"ipv4-addr","id":"ipv4-addr--` + u1 + `","value":"198.51.100.3"}`,
	"ipv6-addr":            `{"type":"ipv6-addr","id":"ipv6-addr--` + u1 + `","value":"2001:0db8::1"}`,
	"mac-addr":             `{"type":"mac-addr","id":"mac-addr--` + u1 + `","value":"d2:fb:49:24:37:18"}`,
	"mutex":                `{"type":"mutex","id":"mutex--` + u1 + `","name":"__CLEANSWEEP__"}`,
	"network-traffic":      `{"type":"network-traffic","id":"network-traffic--` + u1 + `","src_ref":"ipv4-addr--` + u2 + `","protocols":["ipv4","tcp"]}`,
	"process":              `{"type":"process","id":"process--` + u1 + `","pid":1221}`,
	"software":             `{"type":"software","id":"software--` + u1 + `","name":"Word"}`,
	"url":                  `{"type":"url","id":"url--` + u1 + `","value":"https://example.com/research/index.html"}`,
	"user-account":         `{"type":"user-account","id":"user-account--` + u1 + `","user_id":"1001"}`,
	"windows-registry-key": `{"type":"windows-registry-key","id":"windows-registry-key--` + u1 + `","key":"hkey_local_machine\\system"}`,
	"x509-certificate":     `{"type":"x509-certificate","id":"x509-certificate--` + u1 + `","serial_number":"36:f7:d4:32:f4:ab:70:ea"}`,
	"marking-definition": `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--` + u1 + `","created":"2016-08-01T00:00:00.000Z",` +
		`"definition_type":"statement","definition":{"statement":"Copyright 2016, Example Corp"}}`,
	"language-content": `{"type":"language-content","id":"language-content--` + u1 + `",` + sdoCommon + `,"object_ref":"campaign--` + u2 + `",` +
		`"contents":{"de":{"name":"Bank Angriff"}}}`,
	"extension-definition": `{"type":"extension-definition","id":"extension-definition--` + u1 + `",` + sdoCommon + `,"created_by_ref":"identity--` + u2 + `",` +
		`"name":"Extension Foo","schema":"https://www.example.com/schema-foo-1/v1/","version":"1.2.1","extension_types":["property-extension"]}`,
	"tlp-amber": `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",` +
		`"created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:AMBER","definition":{"tlp":"amber"}}`,
	"tlp2-clear": `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",` +
		`"created":"2022-10-01T00:00:00.000Z","name":"TLP:CLEAR","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":` +
		`{"extension_type":"property-extension","tlp_2_0":"clear"}}}`,
	"x-custom": `{"type":"x-custom","id":"x-custom--` + u1 + `",` + sdoCommon + `,"x_anything":[1,2]}`,
}

// delProp marks a property for removal in an edit list.
type deletion struct{}

var delProp = deletion{}

// buildObject returns the base object of type typ with edits applied: pairs of
// property name and value, delProp removing the property.
func buildObject(t *testing.T, typ string, edits ...any) []byte {
	t.Helper()
	src, ok := baseObjects[typ]
	if !ok {
		t.Fatalf("no base object for %s", typ)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(src), &m); err != nil {
		t.Fatalf("base %s: %v", typ, err)
	}
	for i := 0; i+1 < len(edits); i += 2 {
		name := edits[i].(string)
		if edits[i+1] == delProp {
			delete(m, name)
			continue
		}
		m[name] = edits[i+1]
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawJSON parses a JSON literal into a value for an edit.
func rawJSON(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic(err)
	}
	return v
}

func validateRaw(t *testing.T, b []byte) []Problem {
	t.Helper()
	o, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return Validate(o)
}

// ruleCase is one validation rule: an object that follows it (good edits)
// and one that breaks it (bad edits), and where the problem is reported.
type ruleCase struct {
	ok, bad   string // sub-test names
	typ       string
	good, brk []any
	path      string
	warning   bool
}

func TestValidateRules(t *testing.T) {
	cases := []ruleCase{
		// Identifiers and common properties.
		{"IDWithOwnTypeAccepted", "IDWithOtherTypeRejected", "indicator", nil, []any{"id", "malware--" + u1}, "id", false},
		{"IDWithUUIDAccepted", "IDWithoutUUIDRejected", "indicator", nil, []any{"id", "indicator--1234"}, "id", false},
		{"IDWithRFC4122VariantAccepted", "IDWithNCSVariantRejected", "indicator", nil, []any{"id", "indicator--a9d2710f-6a83-41d0-0e9f-e51883d8fd2f"}, "id", false},
		{"IDPresentAccepted", "IDMissingRejected", "indicator", nil, []any{"id", delProp}, "id", false},
		{"TypeNameValidAccepted", "TypeNameUppercaseRejected", "x-custom", nil, []any{"type", "X-Custom"}, "type", false},
		{"SDOUUIDv4Accepted", "SDOUUIDv1Warned", "indicator", nil, []any{"id", "indicator--a9d2710f-6a83-11d0-ae9f-e51883d8fd2f"}, "id", true},
		{"SpecVersion21Accepted", "SpecVersion20Rejected", "indicator", nil, []any{"spec_version", "2.0"}, "spec_version", false},
		{"SpecVersionPresentAccepted", "SpecVersionMissingRejected", "campaign", nil, []any{"spec_version", delProp}, "spec_version", false},
		{"CreatedPresentAccepted", "CreatedMissingRejected", "campaign", nil, []any{"created", delProp}, "created", false},
		{"ModifiedPresentAccepted", "ModifiedMissingRejected", "campaign", nil, []any{"modified", delProp}, "modified", false},
		{"CreatedMillisecondsAccepted", "CreatedSecondsRejected", "campaign", []any{"created", "2016-04-06T20:03:48.123456Z", "modified", "2016-04-06T20:03:48.123456Z"}, []any{"created", "2016-04-06T20:03:48Z", "modified", "2016-04-06T20:03:48.000Z"}, "created", false},
		{"TimestampValidAccepted", "TimestampWithOffsetRejected", "campaign", nil, []any{"modified", "2016-04-06T20:03:48.000+01:00"}, "modified", false},
		{"ModifiedAfterCreatedAccepted", "ModifiedBeforeCreatedRejected", "campaign", []any{"modified", "2017-01-01T00:00:00.000Z"}, []any{"modified", "2016-01-01T00:00:00.000Z"}, "modified", false},
		{"CreatedByIdentityAccepted", "CreatedByMalwareRejected", "campaign", []any{"created_by_ref", "identity--" + u2}, []any{"created_by_ref", "malware--" + u2}, "created_by_ref", false},
		{"RevokedBooleanAccepted", "RevokedStringRejected", "campaign", []any{"revoked", true}, []any{"revoked", "yes"}, "revoked", false},
		{"LabelsListAccepted", "LabelsEmptyRejected", "campaign", []any{"labels", []any{"a"}}, []any{"labels", []any{}}, "labels", false},
		{"LabelsOfStringsAccepted", "LabelsOfNumbersRejected", "campaign", []any{"labels", []any{"a"}}, []any{"labels", []any{1}}, "labels[0]", false},
		{"Confidence100Accepted", "Confidence101Rejected", "campaign", []any{"confidence", 100}, []any{"confidence", 101}, "confidence", false},
		{"ConfidenceIntegerAccepted", "ConfidenceFractionRejected", "campaign", []any{"confidence", 0}, []any{"confidence", 5.5}, "confidence", false},
		{"LangTagAccepted", "LangTagMalformedRejected", "campaign", []any{"lang", "en-US"}, []any{"lang", "en_US!"}, "lang", false},
		{"ObjectMarkingRefsToMarkingAccepted", "ObjectMarkingRefsToIdentityRejected", "campaign", []any{"object_marking_refs", []any{"marking-definition--" + u2}}, []any{"object_marking_refs", []any{"identity--" + u2}}, "object_marking_refs[0]", false},
		{"CustomPropertyNameAccepted", "CustomPropertyNameUppercaseRejected", "campaign", []any{"x_acme_score", 5}, []any{"x_Acme_Score", 5}, "x_Acme_Score", false},
		{"CustomPropertyThreeCharsAccepted", "CustomPropertyTwoCharsRejected", "campaign", []any{"abc", 5}, []any{"ab", 5}, "ab", false},
		{"UnreservedNameAccepted", "ReservedNameRejected", "campaign", []any{"severity_x", "high"}, []any{"severity", "high"}, "severity", false},
		{"CustomRefIdentifierAccepted", "CustomRefNotIdentifierWarned", "campaign", []any{"x_acme_ref", "identity--" + u2}, []any{"x_acme_ref", "acme"}, "x_acme_ref", true},

		{"CustomPropertyStartingWithLetterAccepted", "CustomPropertyStartingWithUnderscoreRejected", "campaign", []any{"x_acme", 1}, []any{"_acme", 1}, "_acme", false},
		{"TypeNameStartingWithLetterAccepted", "TypeNameStartingWithDigitRejected", "x-custom", nil, []any{"type", "1x-custom", "id", "1x-custom--" + u1}, "type", false},
		{"SDOWithoutDefangedAccepted", "SDODefangedRejected", "campaign", nil, []any{"defanged", true}, "defanged", false},
		{"EncodingWithBaseAccepted", "EncodingWithoutBaseRejected", "file", []any{"name_enc", "windows-1252"}, []any{"hashes", rawJSON(`{"MD5":"3773a88f65a5e780c8dff9cdc3a056f3"}`), "name", delProp, "name_enc", "windows-1252"}, "name_enc", false},
		{"DictionaryWithEntriesAccepted", "DictionaryEmptyRejected", "network-traffic", []any{"ipfix", rawJSON(`{"minimumIpTotalLength":32}`)}, []any{"ipfix", rawJSON(`{}`)}, "ipfix", false},
		{"DictionaryKeyPlainAccepted", "DictionaryKeyWithSpaceRejected", "network-traffic", []any{"ipfix", rawJSON(`{"octet-Delta_Count":1}`)}, []any{"ipfix", rawJSON(`{"octet count":1}`)}, "ipfix.octet count", false},

		// External references.
		{"ExternalReferenceWithSourceNameAccepted", "ExternalReferenceWithoutSourceNameRejected", "campaign",
			[]any{"external_references", rawJSON(`[{"source_name":"a","url":"https://x"}]`)},
			[]any{"external_references", rawJSON(`[{"source_name":"a","url":"https://x"},{"url":"https://y"}]`)}, "external_references[1].source_name", false},
		{"ExternalReferenceWithDetailAccepted", "ExternalReferenceOnlySourceNameRejected", "campaign",
			[]any{"external_references", rawJSON(`[{"source_name":"a","external_id":"1"}]`)},
			[]any{"external_references", rawJSON(`[{"source_name":"a"}]`)}, "external_references[0]", false},
		{"CAPECIDFormAccepted", "CAPECIDMalformedRejected", "attack-pattern",
			[]any{"external_references", rawJSON(`[{"source_name":"capec","external_id":"CAPEC-163"}]`)},
			[]any{"external_references", rawJSON(`[{"source_name":"capec","external_id":"163"}]`)}, "external_references[0].external_id", false},
		{"CVEIDFormAccepted", "CVEIDMalformedRejected", "vulnerability",
			[]any{"external_references", rawJSON(`[{"source_name":"cve","external_id":"CVE-2016-1234"}]`)},
			[]any{"external_references", rawJSON(`[{"source_name":"cve","external_id":"CVE-16-1"}]`)}, "external_references[0].external_id", false},
		{"ExternalReferenceHashAccepted", "ExternalReferenceBadSHA256Rejected", "campaign",
			[]any{"external_references", rawJSON(`[{"source_name":"a","url":"u","hashes":{"SHA-256":"6db12788c37247f2316052e142f42f4b259d6561751e5f401a1ae2a6df9c674b"}}]`)},
			[]any{"external_references", rawJSON(`[{"source_name":"a","url":"u","hashes":{"SHA-256":"6db1"}}]`)}, "external_references[0].hashes.SHA-256", false},
		{"ExternalReferenceHashFromVocabularyAccepted", "ExternalReferenceCustomHashRejected", "campaign",
			[]any{"external_references", rawJSON(`[{"source_name":"a","url":"u","hashes":{"SSDEEP":"3:a:b"}}]`)},
			[]any{"external_references", rawJSON(`[{"source_name":"a","url":"u","hashes":{"x_foo":"aaaa"}}]`)}, "external_references[0].hashes.x_foo", false},
		{"HashAlgorithmFromVocabularyAccepted", "HashAlgorithmUnknownWarned", "file",
			[]any{"hashes", rawJSON(`{"MD5":"3773a88f65a5e780c8dff9cdc3a056f3"}`)},
			[]any{"hashes", rawJSON(`{"md5sum":"3773a88f65a5e780c8dff9cdc3a056f3"}`)}, "hashes.md5sum", true},
		{"HashKeyLongEnoughAccepted", "HashKeyTooShortRejected", "file",
			[]any{"hashes", rawJSON(`{"xyz":"abc"}`)}, []any{"hashes", rawJSON(`{"x":"abc"}`)}, "hashes.x", false},

		// Granular markings.
		{"GranularMarkingWithMarkingRefAccepted", "GranularMarkingWithLangAndMarkingRefRejected", "campaign",
			[]any{"granular_markings", rawJSON(`[{"marking_ref":"marking-definition--` + u2 + `","selectors":["name"]}]`)},
			[]any{"granular_markings", rawJSON(`[{"marking_ref":"marking-definition--` + u2 + `","lang":"en","selectors":["name"]}]`)}, "granular_markings[0]", false},
		{"GranularMarkingWithLangAccepted", "GranularMarkingWithNeitherRejected", "campaign",
			[]any{"granular_markings", rawJSON(`[{"lang":"en","selectors":["name"]}]`)},
			[]any{"granular_markings", rawJSON(`[{"selectors":["name"]}]`)}, "granular_markings[0]", false},
		{"GranularSelectorsPresentAccepted", "GranularSelectorsEmptyRejected", "campaign",
			[]any{"granular_markings", rawJSON(`[{"lang":"en","selectors":["name"]}]`)},
			[]any{"granular_markings", rawJSON(`[{"lang":"en","selectors":[]}]`)}, "granular_markings[0].selectors", false},
		{"GranularSelectorResolvingAccepted", "GranularSelectorDanglingRejected", "campaign",
			[]any{"labels", []any{"a", "b"}, "granular_markings", rawJSON(`[{"lang":"en","selectors":["labels.[1]"]}]`)},
			[]any{"labels", []any{"a", "b"}, "granular_markings", rawJSON(`[{"lang":"en","selectors":["labels.[2]"]}]`)}, "granular_markings[0].selectors[0]", false},

		// Kill chain phases.
		{"KillChainPhaseCompleteAccepted", "KillChainPhaseWithoutPhaseNameRejected", "attack-pattern",
			[]any{"kill_chain_phases", rawJSON(`[{"kill_chain_name":"lockheed-martin-cyber-kill-chain","phase_name":"reconnaissance"}]`)},
			[]any{"kill_chain_phases", rawJSON(`[{"kill_chain_name":"lockheed-martin-cyber-kill-chain"}]`)}, "kill_chain_phases[0].phase_name", false},
		{"KillChainNameLowercaseAccepted", "KillChainNameWithSpacesWarned", "attack-pattern",
			[]any{"kill_chain_phases", rawJSON(`[{"kill_chain_name":"mitre-attack","phase_name":"execution"}]`)},
			[]any{"kill_chain_phases", rawJSON(`[{"kill_chain_name":"Mitre Attack","phase_name":"execution"}]`)}, "kill_chain_phases[0].kill_chain_name", true},

		// Extensions.
		{"ExtensionDefinitionKeyAccepted", "ExtensionKeyArbitraryRejected", "campaign",
			[]any{"extensions", rawJSON(`{"extension-definition--` + u2 + `":{"extension_type":"property-extension","rank":5}}`)},
			[]any{"extensions", rawJSON(`{"foo":{"rank":5}}`)}, "extensions.foo", false},
		{"ExtensionTypeFromEnumAccepted", "ExtensionTypeUnknownRejected", "campaign",
			[]any{"extensions", rawJSON(`{"extension-definition--` + u2 + `":{"extension_type":"new-sdo"}}`)},
			[]any{"extensions", rawJSON(`{"extension-definition--` + u2 + `":{"extension_type":"new-thing"}}`)}, "extensions.extension-definition--" + u2 + ".extension_type", false},
		{"PredefinedExtensionOnItsTypeAccepted", "PredefinedExtensionOnOtherTypeRejected", "file",
			[]any{"extensions", rawJSON(`{"ntfs-ext":{"sid":"1234567"}}`)},
			[]any{"extensions", rawJSON(`{"tcp-ext":{"src_flags_hex":"00000002"}}`)}, "extensions.tcp-ext", false},
		{"PredefinedExtensionRequiredPresentAccepted", "PredefinedExtensionRequiredMissingRejected", "file",
			[]any{"extensions", rawJSON(`{"archive-ext":{"contains_refs":["file--` + u2 + `"]}}`)},
			[]any{"extensions", rawJSON(`{"archive-ext":{"comment":"zip"}}`)}, "extensions.archive-ext.contains_refs", false},
		{"SocketAddressFamilyFromEnumAccepted", "SocketAddressFamilyUnknownRejected", "network-traffic",
			[]any{"extensions", rawJSON(`{"socket-ext":{"address_family":"AF_INET"}}`)},
			[]any{"extensions", rawJSON(`{"socket-ext":{"address_family":"AF_FOO"}}`)}, "extensions.socket-ext.address_family", false},
		{"HexPropertyAccepted", "HexPropertyOddLengthRejected", "network-traffic",
			[]any{"extensions", rawJSON(`{"tcp-ext":{"src_flags_hex":"0002"}}`)},
			[]any{"extensions", rawJSON(`{"tcp-ext":{"src_flags_hex":"002"}}`)}, "extensions.tcp-ext.src_flags_hex", false},
		{"HexLowercaseAccepted", "HexUppercaseRejected", "network-traffic",
			[]any{"extensions", rawJSON(`{"tcp-ext":{"src_flags_hex":"00ab"}}`)},
			[]any{"extensions", rawJSON(`{"tcp-ext":{"src_flags_hex":"00AB"}}`)}, "extensions.tcp-ext.src_flags_hex", false},
		{"ExtensionTypePresentAccepted", "ExtensionTypeMissingRejected", "campaign",
			[]any{"extensions", rawJSON(`{"extension-definition--` + u2 + `":{"extension_type":"property-extension","rank":5}}`)},
			[]any{"extensions", rawJSON(`{"extension-definition--` + u2 + `":{"rank":5}}`)}, "extensions.extension-definition--" + u2 + ".extension_type", false},
		{"DeprecatedCustomExtensionWarnedOnly", "DeprecatedCustomExtensionWarned", "file",
			nil, []any{"extensions", rawJSON(`{"x-acme-ext":{"rank":5}}`)}, "extensions.x-acme-ext", true},

		// Type-specific rules.
		{"AttackPatternNamedAccepted", "AttackPatternWithoutNameRejected", "attack-pattern", nil, []any{"name", delProp}, "name", false},
		{"CampaignSeenInOrderAccepted", "CampaignLastSeenBeforeFirstSeenRejected", "campaign",
			[]any{"first_seen", "2016-01-01T00:00:00Z", "last_seen", "2016-01-01T00:00:00Z"},
			[]any{"first_seen", "2016-01-02T00:00:00Z", "last_seen", "2016-01-01T00:00:00Z"}, "last_seen", false},
		{"GroupingContextAccepted", "GroupingWithoutContextRejected", "grouping", nil, []any{"context", delProp}, "context", false},
		{"GroupingObjectRefsAccepted", "GroupingEmptyObjectRefsRejected", "grouping", nil, []any{"object_refs", []any{}}, "object_refs", false},
		{"IdentityClassFromVocabularyAccepted", "IdentityClassUnknownWarned", "identity", nil, []any{"identity_class", "corporation"}, "identity_class", true},
		{"IdentityWithoutClassAccepted", "IdentityWithoutNameRejected", "identity", []any{"identity_class", delProp}, []any{"name", delProp}, "name", false},
		{"IndicatorPatternAccepted", "IndicatorWithoutPatternRejected", "indicator", nil, []any{"pattern", delProp}, "pattern", false},
		{"IndicatorValidSTIXPatternAccepted", "IndicatorBadSTIXPatternRejected", "indicator", nil, []any{"pattern", "[ipv4-addr:value = '198.51.100.1'"}, "pattern", false},
		{"IndicatorOtherLanguageNotParsed", "IndicatorBadSTIX20PatternRejected", "indicator", []any{"pattern_type", "sigma", "pattern", "title: x"}, []any{"pattern_version", "2.0", "pattern", "[file:name = 'a'] START '2016' STOP"}, "pattern", false},
		{"IndicatorPatternTypeAccepted", "IndicatorWithoutPatternTypeRejected", "indicator", nil, []any{"pattern_type", delProp}, "pattern_type", false},
		{"IndicatorCustomPatternTypeWarnedOnly", "IndicatorPatternTypeOutsideVocabularyWarned", "indicator", nil, []any{"pattern_type", "kql"}, "pattern_type", true},
		{"IndicatorValidUntilAfterValidFromAccepted", "IndicatorValidUntilEqualValidFromRejected", "indicator",
			[]any{"valid_until", "2016-01-01T00:00:00.001Z"}, []any{"valid_until", "2016-01-01T00:00:00Z"}, "valid_until", false},
		{"IndicatorTypeFromVocabularyAccepted", "IndicatorTypeUnknownWarned", "indicator", nil, []any{"indicator_types", []any{"evil"}}, "indicator_types[0]", true},
		{"InfrastructureSeenInOrderAccepted", "InfrastructureLastSeenBeforeFirstSeenRejected", "infrastructure",
			[]any{"first_seen", "2016-01-01T00:00:00Z"}, []any{"first_seen", "2016-01-02T00:00:00Z", "last_seen", "2016-01-01T00:00:00Z"}, "last_seen", false},
		{"LocationWithRegionAccepted", "LocationWithNothingRejected", "location", nil, []any{"region", delProp}, "", false},
		{"LocationWithCoordinatesAccepted", "LocationWithLatitudeOnlyRejected", "location",
			[]any{"region", delProp, "latitude", 48.8566, "longitude", 2.3522}, []any{"region", delProp, "latitude", 48.8566}, "", false},
		{"LocationLatitudeInRangeAccepted", "LocationLatitudeOutOfRangeRejected", "location",
			[]any{"latitude", -90, "longitude", 180}, []any{"latitude", 91, "longitude", 0}, "latitude", false},
		{"LocationPrecisionWithCoordinatesAccepted", "LocationPrecisionWithoutCoordinatesRejected", "location",
			[]any{"latitude", 1, "longitude", 2, "precision", 100}, []any{"precision", 100}, "precision", false},
		{"MalwareIsFamilyAccepted", "MalwareWithoutIsFamilyRejected", "malware", nil, []any{"is_family", delProp}, "is_family", false},
		{"MalwareSampleWithoutNameAccepted", "MalwareFamilyWithoutNameRejected", "malware", []any{"is_family", false, "name", delProp}, []any{"name", delProp}, "name", false},
		{"MalwareSampleRefsToFileAccepted", "MalwareSampleRefsToURLRejected", "malware",
			[]any{"sample_refs", []any{"file--" + u2}}, []any{"sample_refs", []any{"url--" + u2}}, "sample_refs[0]", false},
		{"MalwareOSRefsToSoftwareAccepted", "MalwareOSRefsToToolRejected", "malware",
			[]any{"operating_system_refs", []any{"software--" + u2}}, []any{"operating_system_refs", []any{"tool--" + u2}}, "operating_system_refs[0]", false},
		{"MalwareAnalysisWithResultAccepted", "MalwareAnalysisWithoutResultOrSCOsRejected", "malware-analysis", nil, []any{"result", delProp}, "", false},
		{"MalwareAnalysisSCORefsAccepted", "MalwareAnalysisSCORefsToSDORejected", "malware-analysis",
			[]any{"analysis_sco_refs", []any{"file--" + u2}}, []any{"analysis_sco_refs", []any{"malware--" + u2}}, "analysis_sco_refs[0]", false},
		{"NoteContentAccepted", "NoteWithoutContentRejected", "note", nil, []any{"content", delProp}, "content", false},
		{"ObservedDataCountInRangeAccepted", "ObservedDataCountZeroRejected", "observed-data", []any{"number_observed", 999999999}, []any{"number_observed", 0}, "number_observed", false},
		{"ObservedDataCountBelowLimitAccepted", "ObservedDataCountAboveLimitRejected", "observed-data", nil, []any{"number_observed", 1000000000}, "number_observed", false},
		{"ObservedDataInOrderAccepted", "ObservedDataLastBeforeFirstRejected", "observed-data", nil, []any{"last_observed", "2015-12-21T18:00:00Z"}, "last_observed", false},
		{"ObservedDataObjectRefsAccepted", "ObservedDataObjectsAndObjectRefsRejected", "observed-data",
			nil, []any{"objects", rawJSON(`{"0":{"type":"ipv4-addr","value":"1.2.3.4"}}`)}, "objects", false},
		{"ObservedDataDeprecatedObjectsWarnedOnly", "ObservedDataDeprecatedObjectsWarned", "observed-data",
			nil, []any{"object_refs", delProp, "objects", rawJSON(`{"0":{"type":"ipv4-addr","value":"1.2.3.4"}}`)}, "objects", true},
		{"ObservedDataLocalRefResolvingAccepted", "ObservedDataLocalRefDanglingRejected", "observed-data",
			[]any{"object_refs", delProp, "objects", rawJSON(`{"0":{"type":"ipv4-addr","value":"1.2.3.4"},"1":{"type":"network-traffic","dst_ref":"0","protocols":["tcp"]}}`)},
			[]any{"object_refs", delProp, "objects", rawJSON(`{"0":{"type":"ipv4-addr","value":"1.2.3.4"},"1":{"type":"network-traffic","dst_ref":"2","protocols":["tcp"]}}`)}, "objects.1.dst_ref", false},
		{"ObservedDataWithObjectRefsAccepted", "ObservedDataWithNeitherRejected", "observed-data", nil, []any{"object_refs", delProp}, "object_refs", false},
		{"ObservedDataRefsToSCOAccepted", "ObservedDataRefsToSDORejected", "observed-data", nil, []any{"object_refs", []any{"malware--" + u2}}, "object_refs[0]", false},
		{"ObservedDataWithSCOAndSROAccepted", "ObservedDataOnlySROsRejected", "observed-data",
			[]any{"object_refs", []any{"relationship--" + u3, "ipv4-addr--" + u2}}, []any{"object_refs", []any{"relationship--" + u3}}, "object_refs", false},
		{"OpinionFromEnumAccepted", "OpinionOutsideEnumRejected", "opinion", []any{"opinion", "strongly-disagree"}, []any{"opinion", "maybe"}, "opinion", false},
		{"ReportPublishedAccepted", "ReportWithoutPublishedRejected", "report", nil, []any{"published", delProp}, "published", false},
		{"ReportObjectRefsAccepted", "ReportWithoutObjectRefsRejected", "report", nil, []any{"object_refs", delProp}, "object_refs", false},
		{"ThreatActorSophisticationAccepted", "ThreatActorSophisticationUnknownWarned", "threat-actor", []any{"sophistication", "expert"}, []any{"sophistication", "1337"}, "sophistication", true},
		{"ToolNamedAccepted", "ToolWithoutNameRejected", "tool", nil, []any{"name", delProp}, "name", false},
		{"VulnerabilityNamedAccepted", "VulnerabilityWithoutNameRejected", "vulnerability", nil, []any{"name", delProp}, "name", false},
		{"CampaignNamedAccepted", "CampaignWithoutNameRejected", "campaign", nil, []any{"name", delProp}, "name", false},
		{"CourseOfActionNamedAccepted", "CourseOfActionWithoutNameRejected", "course-of-action", nil, []any{"name", delProp}, "name", false},
		{"IncidentNamedAccepted", "IncidentWithoutNameRejected", "incident", nil, []any{"name", delProp}, "name", false},
		{"IntrusionSetMotivationAccepted", "IntrusionSetMotivationNotStringRejected", "intrusion-set", []any{"primary_motivation", "ideology"}, []any{"primary_motivation", 3}, "primary_motivation", false},

		// SROs.
		{"RelationshipTypeFormAccepted", "RelationshipTypeWithSpaceRejected", "relationship", []any{"relationship_type", "x-custom-rel"}, []any{"relationship_type", "is related"}, "relationship_type", false},
		{"RelationshipBetweenSDOsAccepted", "RelationshipToRelationshipRejected", "relationship", nil, []any{"target_ref", "relationship--" + u4}, "target_ref", false},
		{"RelationshipToSCOAccepted", "RelationshipFromMarkingRejected", "relationship", []any{"target_ref", "ipv4-addr--" + u4}, []any{"source_ref", "marking-definition--" + u4}, "source_ref", false},
		{"RelationshipStopAfterStartAccepted", "RelationshipStopEqualsStartRejected", "relationship",
			[]any{"start_time", "2016-01-01T00:00:00Z", "stop_time", "2016-01-02T00:00:00Z"},
			[]any{"start_time", "2016-01-01T00:00:00Z", "stop_time", "2016-01-01T00:00:00Z"}, "stop_time", false},
		{"SightingOfSDOAccepted", "SightingOfSCORejected", "sighting", nil, []any{"sighting_of_ref", "ipv4-addr--" + u4}, "sighting_of_ref", false},
		{"SightingCountInRangeAccepted", "SightingCountNegativeRejected", "sighting", []any{"count", 0}, []any{"count", -1}, "count", false},
		{"SightingCountBelowLimitAccepted", "SightingCountAboveLimitRejected", "sighting", []any{"count", 999999999}, []any{"count", 1000000000}, "count", false},
		{"SightingWhereSightedIdentityAccepted", "SightingWhereSightedMalwareRejected", "sighting",
			[]any{"where_sighted_refs", []any{"identity--" + u4, "location--" + u5}}, []any{"where_sighted_refs", []any{"malware--" + u4}}, "where_sighted_refs[0]", false},
		{"SightingObservedDataRefsAccepted", "SightingObservedDataRefsToIndicatorRejected", "sighting",
			[]any{"observed_data_refs", []any{"observed-data--" + u4}}, []any{"observed_data_refs", []any{"indicator--" + u4}}, "observed_data_refs[0]", false},
		{"SightingSeenInOrderAccepted", "SightingLastSeenBeforeFirstSeenRejected", "sighting",
			[]any{"first_seen", "2016-01-01T00:00:00Z"}, []any{"first_seen", "2016-01-02T00:00:00Z", "last_seen", "2016-01-01T00:00:00Z"}, "last_seen", false},

		// SCOs.
		{"ArtifactPayloadAccepted", "ArtifactPayloadAndURLRejected", "artifact", nil, []any{"url", "https://x", "hashes", rawJSON(`{"MD5":"3773a88f65a5e780c8dff9cdc3a056f3"}`)}, "url", false},
		{"ArtifactURLWithHashesAccepted", "ArtifactURLWithoutHashesRejected", "artifact",
			[]any{"payload_bin", delProp, "url", "https://x", "hashes", rawJSON(`{"MD5":"3773a88f65a5e780c8dff9cdc3a056f3"}`)}, []any{"payload_bin", delProp, "url", "https://x"}, "hashes", false},
		{"ArtifactBase64Accepted", "ArtifactPayloadNotBase64Rejected", "artifact", nil, []any{"payload_bin", "not base64!"}, "payload_bin", false},
		{"ArtifactEncryptionFromEnumAccepted", "ArtifactEncryptionUnknownRejected", "artifact",
			[]any{"encryption_algorithm", "AES-256-GCM", "decryption_key", "k"}, []any{"encryption_algorithm", "ROT13"}, "encryption_algorithm", false},
		{"ArtifactKeyWithAlgorithmAccepted", "ArtifactKeyWithoutAlgorithmRejected", "artifact",
			[]any{"encryption_algorithm", "mime-type-indicated", "decryption_key", "k"}, []any{"decryption_key", "k"}, "decryption_key", false},
		{"AutonomousSystemNumberAccepted", "AutonomousSystemNumberStringRejected", "autonomous-system", nil, []any{"number", "15139"}, "number", false},
		{"DirectoryPathAccepted", "DirectoryWithoutPathRejected", "directory", nil, []any{"path", delProp}, "path", false},
		{"DomainResolvesToIPAccepted", "DomainResolvesToURLRejected", "domain-name",
			[]any{"resolves_to_refs", []any{"ipv4-addr--" + u2}}, []any{"resolves_to_refs", []any{"url--" + u2}}, "resolves_to_refs[0]", false},
		{"EmailAddrValueAccepted", "EmailAddrWithoutValueRejected", "email-addr", nil, []any{"value", delProp}, "value", false},
		{"EmailSinglePartWithBodyAccepted", "EmailSinglePartWithMultipartBodyRejected", "email-message",
			nil, []any{"body", delProp, "body_multipart", rawJSON(`[{"body":"x"}]`)}, "body_multipart", false},
		{"EmailMultipartAccepted", "EmailMultipartWithBodyRejected", "email-message",
			[]any{"is_multipart", true, "body", delProp, "body_multipart", rawJSON(`[{"body":"x","content_type":"text/plain"}]`)}, []any{"is_multipart", true}, "body", false},
		{"EmailMIMEPartWithBodyAccepted", "EmailMIMEPartWithoutBodyRejected", "email-message",
			[]any{"is_multipart", true, "body", delProp, "body_multipart", rawJSON(`[{"body_raw_ref":"artifact--` + u2 + `"}]`)},
			[]any{"is_multipart", true, "body", delProp, "body_multipart", rawJSON(`[{"content_type":"text/plain"}]`)}, "body_multipart[0]", false},
		{"EmailFromEmailAddrAccepted", "EmailFromURLRejected", "email-message",
			[]any{"from_ref", "email-addr--" + u2}, []any{"from_ref", "url--" + u2}, "from_ref", false},
		{"FileWithNameAccepted", "FileWithoutNameOrHashesRejected", "file", nil, []any{"name", delProp, "size", 5}, "", false},
		{"FileSizeNonNegativeAccepted", "FileSizeNegativeRejected", "file", []any{"size", 0}, []any{"size", -1}, "size", false},
		{"FileParentDirectoryAccepted", "FileParentNotDirectoryRejected", "file",
			[]any{"parent_directory_ref", "directory--" + u2}, []any{"parent_directory_ref", "file--" + u2}, "parent_directory_ref", false},
		{"IPv4ResolvesToMACAccepted", "IPv4ResolvesToDomainRejected", "ipv4-addr",
			[]any{"resolves_to_refs", []any{"mac-addr--" + u2}}, []any{"resolves_to_refs", []any{"domain-name--" + u2}}, "resolves_to_refs[0]", false},
		{"IPv4CIDRAccepted", "IPv4MalformedWarned", "ipv4-addr", []any{"value", "198.51.100.0/24"}, []any{"value", "198.51.100.300"}, "value", true},
		{"IPv6AddressAccepted", "IPv6GivenIPv4Warned", "ipv6-addr", []any{"value", "2001:db8::/32"}, []any{"value", "198.51.100.3"}, "value", true},
		{"SoftwareCPE23Accepted", "SoftwareCPE22Warned", "software", []any{"cpe", "cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*"}, []any{"cpe", "cpe:/a:microsoft:word:2000"}, "cpe", true},
		{"NetworkTrafficIPFIXIntegerAccepted", "NetworkTrafficIPFIXObjectRejected", "network-traffic",
			[]any{"ipfix", rawJSON(`{"minimumIpTotalLength":32,"name":"x"}`)}, []any{"ipfix", rawJSON(`{"minimumIpTotalLength":{"a":1}}`)}, "ipfix.minimumIpTotalLength", false},
		{"EmailHeaderListAccepted", "EmailHeaderStringWarned", "email-message",
			[]any{"additional_header_fields", rawJSON(`{"Reply-To":["a@example.com"]}`)}, []any{"additional_header_fields", rawJSON(`{"Reply-To":"a@example.com"}`)}, "additional_header_fields.Reply-To", true},
		{"MACLowercaseAccepted", "MACUppercaseRejected", "mac-addr", nil, []any{"value", "D2:FB:49:24:37:18"}, "value", false},
		{"MutexNameAccepted", "MutexWithoutNameRejected", "mutex", nil, []any{"name", delProp}, "name", false},
		{"NetworkTrafficProtocolsAccepted", "NetworkTrafficWithoutProtocolsRejected", "network-traffic", nil, []any{"protocols", delProp}, "protocols", false},
		{"NetworkTrafficWithSourceAccepted", "NetworkTrafficWithoutEndpointsRejected", "network-traffic", nil, []any{"src_ref", delProp}, "", false},
		{"NetworkTrafficPortInRangeAccepted", "NetworkTrafficPortOutOfRangeRejected", "network-traffic", []any{"dst_port", 65535}, []any{"dst_port", 65536}, "dst_port", false},
		{"NetworkTrafficEndAfterStartAccepted", "NetworkTrafficEndBeforeStartRejected", "network-traffic",
			[]any{"start", "2016-01-01T00:00:00Z", "end", "2016-01-01T00:00:01Z"}, []any{"start", "2016-01-01T00:00:01Z", "end", "2016-01-01T00:00:00Z"}, "end", false},
		{"NetworkTrafficActiveWithoutEndAccepted", "NetworkTrafficActiveWithEndRejected", "network-traffic",
			[]any{"is_active", true}, []any{"is_active", true, "end", "2016-01-01T00:00:00Z"}, "end", false},
		{"NetworkTrafficLowercaseProtocolAccepted", "NetworkTrafficUppercaseProtocolWarned", "network-traffic", nil, []any{"protocols", []any{"TCP"}}, "protocols[0]", true},
		{"ProcessWithPropertyAccepted", "ProcessWithoutPropertiesRejected", "process", nil, []any{"pid", delProp}, "", false},
		{"ProcessImageFileAccepted", "ProcessImageNotFileRejected", "process", []any{"image_ref", "file--" + u2}, []any{"image_ref", "process--" + u2}, "image_ref", false},
		{"SoftwareNamedAccepted", "SoftwareWithoutNameRejected", "software", nil, []any{"name", delProp}, "name", false},
		{"URLValueAccepted", "URLValueNotStringRejected", "url", nil, []any{"value", 5}, "value", false},
		{"UserAccountTypeFromVocabularyAccepted", "UserAccountTypeUnknownWarned", "user-account", []any{"account_type", "unix"}, []any{"account_type", "mainframe"}, "account_type", true},
		{"UserAccountWithPropertyAccepted", "UserAccountWithoutPropertiesRejected", "user-account", nil, []any{"user_id", delProp}, "", false},
		{"RegistryValueTypeFromEnumAccepted", "RegistryValueTypeUnknownRejected", "windows-registry-key",
			[]any{"values", rawJSON(`[{"name":"Foo","data":"qwerty","data_type":"REG_SZ"}]`)},
			[]any{"values", rawJSON(`[{"name":"Foo","data":"qwerty","data_type":"REG_STRING"}]`)}, "values[0].data_type", false},
		{"RegistryKeyWithPropertyAccepted", "RegistryKeyWithoutPropertiesRejected", "windows-registry-key", nil, []any{"key", delProp}, "", false},
		{"X509WithPropertyAccepted", "X509WithoutPropertiesRejected", "x509-certificate", nil, []any{"serial_number", delProp}, "", false},
		{"SCODefangedBooleanAccepted", "SCODefangedStringRejected", "url", []any{"defanged", true}, []any{"defanged", "true"}, "defanged", false},
		{"SCOSpecVersionAbsentAccepted", "SCOSpecVersionWrongRejected", "url", nil, []any{"spec_version", "2.2"}, "spec_version", false},

		// Meta objects.
		{"StatementMarkingAccepted", "StatementMarkingWithoutStatementRejected", "marking-definition", nil, []any{"definition", rawJSON(`{}`)}, "definition.statement", false},
		{"MarkingWithDefinitionAccepted", "MarkingWithoutDefinitionRejected", "marking-definition", nil, []any{"definition", delProp}, "", false},
		{"MarkingCreatedAccepted", "MarkingWithoutCreatedRejected", "marking-definition", nil, []any{"created", delProp}, "created", false},
		{"MarkingExtensionAccepted", "MarkingWithNeitherDefinitionNorExtensionRejected", "marking-definition",
			[]any{"definition", delProp, "definition_type", delProp, "extensions", rawJSON(`{"extension-definition--` + u2 + `":{"extension_type":"property-extension","level":"x"}}`)},
			[]any{"definition", delProp, "definition_type", delProp}, "", false},
		{"UnpublishedStatementAccepted", "UnpublishedTLPRejected", "marking-definition", nil,
			[]any{"definition_type", "tlp", "definition", rawJSON(`{"tlp":"green"}`)}, "id", false},
		{"LanguageContentTagAccepted", "LanguageContentBadTagRejected", "language-content", nil, []any{"contents", rawJSON(`{"de_DE!":{"name":"x"}}`)}, "contents.de_DE!", false},
		{"LanguageContentObjectRefAccepted", "LanguageContentWithoutObjectRefRejected", "language-content", nil, []any{"object_ref", delProp}, "object_ref", false},
		{"ExtensionDefinitionCreatorAccepted", "ExtensionDefinitionWithoutCreatorRejected", "extension-definition", nil, []any{"created_by_ref", delProp}, "created_by_ref", false},
		{"ExtensionDefinitionTypeFromEnumAccepted", "ExtensionDefinitionTypeUnknownRejected", "extension-definition", nil, []any{"extension_types", []any{"new-thing"}}, "extension_types[0]", false},
		{"ExtensionPropertiesWithToplevelAccepted", "ExtensionPropertiesWithoutToplevelRejected", "extension-definition",
			[]any{"extension_types", []any{"toplevel-property-extension"}, "extension_properties", []any{"rank"}}, []any{"extension_properties", []any{"rank"}}, "extension_properties", false},
		{"ExtensionDefinitionSemverAccepted", "ExtensionDefinitionVersionNotSemverWarned", "extension-definition", nil, []any{"version", "one"}, "version", true},

		{"TLPPublishedContentAccepted", "TLPAlteredLevelRejected", "tlp-amber", nil, []any{"definition", rawJSON(`{"tlp":"red"}`)}, "definition.tlp", false},
		{"TLPWithoutExtraPropertiesAccepted", "TLPWithExtraPropertyRejected", "tlp-amber", nil, []any{"created_by_ref", "identity--" + u2}, "created_by_ref", false},
		{"TLPPublishedNameAccepted", "TLPRenamedRejected", "tlp-amber", nil, []any{"name", "amber"}, "name", false},
		{"TLP2PublishedContentAccepted", "TLP2AlteredLevelRejected", "tlp2-clear", nil,
			[]any{"extensions", rawJSON(`{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"green"}}`)},
			"extensions.extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d.tlp_2_0", false},
		{"MarkingMarkedByOtherAccepted", "MarkingMarkingItselfRejected", "marking-definition",
			[]any{"object_marking_refs", []any{"marking-definition--" + u2}}, []any{"object_marking_refs", []any{"marking-definition--" + u1}}, "object_marking_refs[0]", false},

		// Custom objects.
		{"CustomObjectWithCommonPropertiesAccepted", "CustomObjectWithoutCreatedRejected", "x-custom", nil, []any{"created", delProp}, "created", false},
		{"CustomObjectOwnTypeIDAccepted", "CustomObjectForeignTypeIDRejected", "x-custom", nil, []any{"id", "x-other--" + u1}, "id", false},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		for _, name := range []string{tc.ok, tc.bad} {
			if seen[name] {
				t.Fatalf("duplicate case name %s", name)
			}
			seen[name] = true
		}
		t.Run(tc.ok, func(t *testing.T) {
			b := buildObject(t, tc.typ, tc.good...)
			for _, p := range validateRaw(t, b) {
				if !p.Warning || (tc.warning && p.Path == tc.path) {
					t.Errorf("unexpected problem %v in %s", p, b)
				}
			}
		})
		t.Run(tc.bad, func(t *testing.T) {
			b := buildObject(t, tc.typ, tc.brk...)
			ps := validateRaw(t, b)
			for _, p := range ps {
				if p.Path == tc.path && p.Warning == tc.warning {
					var head struct{ ID string }
					if err := json.Unmarshal(b, &head); err != nil || p.ObjectID != head.ID {
						t.Errorf("problem names object %q, not the object's id %q", p.ObjectID, head.ID)
					}
					return
				}
			}
			valueKind := "an error"
			if tc.warning {
				valueKind = "a warning"
			}
			t.Errorf("want %s at %q in %s, got %v", valueKind, tc.path, b, ps)
			if !tc.warning && len(Errors(ps)) == 0 {
				t.Errorf("the object is not rejected")
			}
		})
	}
}
