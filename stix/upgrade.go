package stix

import (
	"fmt"
)

// IsSTIX20 reports whether props is a STIX 2.0 object: an SDO, SRO,
// marking-definition or custom object (one with a created timestamp) that
// lacks spec_version, or one whose spec_version is "2.0". Cyber observables
// alone are never taken for 2.0, since spec_version is optional on them in
// 2.1; language-content and extension-definition do not exist in 2.0.
func IsSTIX20(props map[string]any) bool {
	if sv, has := props["spec_version"]; has {
		return sv == "2.0"
	}
	t, _ := props["type"].(string)
	switch categoryOf[t] {
	case catSDO, catSRO, catMarking:
		return true
	case catCustom:
		_, created := props["created"]
		return t != "" && created
	}
	return false
}

// typesProperty maps the types whose 2.0 labels were their type vocabulary
// to the 2.1 property that took that role.
var typesProperty = map[string]string{
	"indicator":    "indicator_types",
	"malware":      "malware_types",
	"tool":         "tool_types",
	"threat-actor": "threat_actor_types",
	"report":       "report_types",
}

// Upgrade20 converts a STIX 2.0 object to 2.1 in place. It makes exactly
// these changes:
//
//   - spec_version is set to "2.1".
//   - On indicator, malware, tool, threat-actor and report, labels (in 2.0
//     the required type vocabulary: indicator-label-ov, malware-label-ov...)
//     moves to indicator_types, malware_types, tool_types,
//     threat_actor_types or report_types, unless that property is already
//     present (then labels stays as it is). Values equal to the object's own
//     type name (ATT&CK's "malware" and "tool") say nothing and are dropped;
//     labels is removed, and the *_types property is left out when no value
//     remains. This follows MITRE's own 2.1 re-publication of ATT&CK.
//   - malware without is_family gets is_family true (2.0 malware objects
//     described families as often as samples; ATT&CK's are families).
//   - indicator without pattern_type gets pattern_type "stix", the only
//     pattern language of 2.0.
//   - created and modified with less than millisecond precision are padded
//     to milliseconds ("2017-05-31T21:30:19Z" becomes
//     "2017-05-31T21:30:19.000Z"); the instant is unchanged.
//   - A marking-definition with one of the four TLP ids gets the name the
//     2.1 specification gives it ("TLP:WHITE"...), so that it equals the
//     published 2.1 object.
//   - In hashes dictionaries (external references, the observables of
//     observed-data) the 2.0 algorithm name "ssdeep" becomes "SSDEEP".
//     External references, whose hashes 2.1 limits to hash-algorithm-ov,
//     lose the hashes of the 2.0-only algorithms (MD6, RIPEMD-160, SHA-224,
//     SHA-384, SHA3-224, SHA3-384, WHIRLPOOL), and hashes altogether when
//     none remains.
//   - Inside observed-data's objects (kept: the container is deprecated but
//     valid in 2.1), the 2.0 property names that 2.1 renamed are renamed:
//     file and directory created/modified/accessed become ctime/mtime/atime,
//     windows-registry-key modified becomes modified_time, and process
//     binary_ref becomes image_ref.
//
// Everything else is kept as it is: identity without identity_class is
// valid 2.1, and custom properties and custom object types carry over. It
// returns an error, changing nothing, when props has no type or is not a
// 2.0 object.
func Upgrade20(props map[string]any) error {
	t, ok := props["type"].(string)
	if !ok || t == "" {
		return fmt.Errorf("the object has no type")
	}
	if sv, has := props["spec_version"]; has && sv != "2.0" {
		return fmt.Errorf("the object has spec_version %v, not 2.0", sv)
	}
	props["spec_version"] = "2.1"
	for _, name := range [2]string{"created", "modified"} {
		if s, ok := props[name].(string); ok {
			props[name] = padMillis(s)
		}
	}
	if tp, ok := typesProperty[t]; ok {
		if _, has := props[tp]; !has {
			if labels, ok := props["labels"].([]any); ok {
				var kept []any
				for _, l := range labels {
					if l != t {
						kept = append(kept, l)
					}
				}
				delete(props, "labels")
				if len(kept) > 0 {
					props[tp] = kept
				}
			}
		}
	}
	switch t {
	case "malware":
		if _, has := props["is_family"]; !has {
			props["is_family"] = true
		}
	case "indicator":
		if _, has := props["pattern_type"]; !has {
			props["pattern_type"] = "stix"
		}
	case "marking-definition":
		id, _ := props["id"].(string)
		if def, ok := tlpDefinitions[id]; ok {
			if _, has := props["name"]; !has {
				if _, tlp1 := def["definition_type"]; tlp1 {
					props["name"] = def["name"]
				}
			}
		}
	case "observed-data":
		if objs, ok := props["objects"].(map[string]any); ok {
			for _, v := range objs {
				if o, ok := v.(map[string]any); ok {
					upgradeObservable20(o)
				}
			}
		}
	}
	if refs, ok := props["external_references"].([]any); ok {
		for _, r := range refs {
			m, ok := r.(map[string]any)
			if !ok {
				continue
			}
			renameSSDEEP(m["hashes"])
			if h, ok := m["hashes"].(map[string]any); ok {
				for k := range h {
					if !vocabHashAlgorithm.has(k) {
						delete(h, k)
					}
				}
				if len(h) == 0 {
					delete(m, "hashes")
				}
			}
		}
	}
	return nil
}

// padMillis pads a well-formed timestamp with fewer than three fractional
// digits to milliseconds; anything else is returned unchanged.
func padMillis(s string) string {
	if _, err := ParseTime(s); err != nil {
		return s
	}
	switch TimePrecision(s) {
	case 0:
		return s[:len(s)-1] + ".000Z"
	case 1:
		return s[:len(s)-1] + "00Z"
	case 2:
		return s[:len(s)-1] + "0Z"
	}
	return s
}

// upgradeObservable20 renames, in one object of a 2.0 observable container,
// the properties 2.1 renamed.
func upgradeObservable20(o map[string]any) {
	rename := func(from, to string) {
		if v, ok := o[from]; ok {
			if _, taken := o[to]; !taken {
				o[to] = v
				delete(o, from)
			}
		}
	}
	switch o["type"] {
	case "file", "directory":
		rename("created", "ctime")
		rename("modified", "mtime")
		rename("accessed", "atime")
	case "windows-registry-key":
		rename("modified", "modified_time")
	case "process":
		rename("binary_ref", "image_ref")
	}
	renameSSDEEP(o["hashes"])
	if exts, ok := o["extensions"].(map[string]any); ok {
		if ntfs, ok := exts["ntfs-ext"].(map[string]any); ok {
			if ads, ok := ntfs["alternate_data_streams"].([]any); ok {
				for _, s := range ads {
					if m, ok := s.(map[string]any); ok {
						renameSSDEEP(m["hashes"])
					}
				}
			}
		}
	}
}

func renameSSDEEP(h any) {
	m, ok := h.(map[string]any)
	if !ok {
		return
	}
	if v, ok := m["ssdeep"]; ok {
		if _, taken := m["SSDEEP"]; !taken {
			m["SSDEEP"] = v
			delete(m, "ssdeep")
		}
	}
}
