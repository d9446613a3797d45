// Package sensor turns stored STIX indicators into what security sensors
// load: Suricata and Snort rules, Zeek Intelligence Framework files, CSV,
// plain blocklists per type, DNS RPZ zones; and builds ATT&CK Navigator
// layers from the store's techniques. It is pure: exporters read a stream
// of stored objects (a Source) and write to an io.Writer; which objects the
// stream holds (the sharing rule, audience, TLP ceiling) is the caller's
// store filter, and what this package filters on top (value kind, label,
// TLP, validity, revocation, decay score) is in Options.
//
// Only indicators whose STIX pattern is a disjunction of equality tests
// (= and IN, joined by OR, without NOT or qualifiers) are exported: each
// of their values alone is a match of the indicator, so a sensor that
// matches the value is right to alert. Other patterns (AND, FOLLOWEDBY,
// ranges, MATCHES) would be broadened by exporting their values alone, and
// are counted in Stats.Skipped instead.
//
// A domain whose first label is "*" is taken as its subdomains, the
// convention of many feeds (a name with a "*" label cannot be queried):
// a wildcard owner in RPZ, a match of the subdomains alone in Suricata,
// and left out where the format cannot say it (Snort's DNS wire content,
// Zeek's exact DOMAIN intel); blocklists and CSV carry it as written.
package sensor
