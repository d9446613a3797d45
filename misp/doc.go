// Package misp converts MISP events (MISP's JSON: {"Event": {...}}, the
// bare event, lists of either, search responses) to STIX 2.1 objects and
// back, following the mapping that MISP's own misp-stix library documents,
// so that an event converted either way reads as MISP users expect.
//
// Decode reads MISP JSON, Encode writes it; ToSTIX converts one event,
// FromSTIX converts STIX objects back to events. In brief (MAPPING.md has
// the full table, which Mapping returns and a test keeps in step):
//
//   - An attribute whose type has a STIX observable form becomes an
//     indicator whose pattern compares the value's parts when to_ids is
//     set, observed-data with the cyber observables otherwise; rule types
//     (yara, snort, suricata, sigma) indicators with that pattern_type;
//     campaign-name, vulnerability and threat-actor the domain object
//     they name. The labels misp:type, misp:category and misp:to_ids, the
//     kill chain phase misp-category and the description (the comment)
//     carry the rest, as in misp-stix.
//   - An object of a template with an observable form becomes an
//     indicator (when any attribute has to_ids) or observed-data; a
//     template that describes a domain object (vulnerability,
//     attack-pattern, course-of-action, identities, geolocation, yara...)
//     becomes that object. Each attribute's relation, type, uuid, category
//     and the like are kept in x_misp_attributes, with the path of its
//     value in the pattern or observables.
//   - Galaxy clusters become attack-pattern (with the ATT&CK external_id),
//     course-of-action, intrusion-set, malware, tool, threat-actor or
//     vulnerability objects, the event's referred to by the report, an
//     attribute's by a relationship from its indicator or observed-data.
//   - Tags become labels, tlp: tags TLP marking references. Sightings
//     become sightings (false positives opinions), event reports and
//     analyst notes notes, analyst opinions opinions, object references
//     relationships, and the event a report referring to all of it.
//   - The distribution and sharing group are kept on the report and
//     returned as an Audience hint for the caller to map onto its own
//     audiences.
//
// Whatever STIX has no place for is kept in x_misp_* custom properties,
// and whatever would not make valid STIX (a malformed hash, a port with no
// address, a template this package does not know) becomes an
// x-misp-attribute or x-misp-object custom object holding every field:
// nothing is dropped. Every object ToSTIX returns passes stix.Validate.
//
// The package is pure: no I/O beyond the io.Reader and io.Writer it is
// handed.
package misp
