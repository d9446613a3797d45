// Package match compiles STIX indicators into indexes for line-rate
// matching of telemetry: exact-value hash tables for addresses, domains,
// URLs, e-mail addresses, file hashes and other equality tests, a prefix
// table for CIDR ranges, and the pattern engine (package pattern) for the
// patterns an index cannot decide alone, run only on events that pass one
// of their atoms.
//
// An Index is immutable; a Matcher holds the current one behind an atomic
// pointer, so indicators can be added, updated and revoked while matching
// goes on. Indicators come in as raw JSON from any iterator (a bundle
// file, a store), so the source is the caller's choice.
//
// Events are read line by line from JSON lines (Elastic Common Schema field
// names, nested or dotted), Zeek TSV logs or CSV with a header, by Stream,
// which extracts only the configured fields with a small hand-written
// scanner and spreads the work over the cores while keeping output in input
// order.
//
// # Events as observations
//
// Each field of a field map (Fields) stands for one STIX property, named
// by its path as a pattern writes it (Field.Path). An event is the
// observation its fields imply: addresses, domain names, URLs and e-mail
// addresses are objects of their own (ipv4-addr or ipv6-addr by the
// address, whatever the path's type says), referenced from the one
// network-traffic or email-message object when the path follows src_ref,
// dst_ref, from_ref, sender_ref, to_refs, cc_refs or bcc_refs; every other
// property is set on the one object of its type, or on the object one of
// the references file:parent_directory_ref, process:image_ref,
// process:parent_ref or process:creator_user_ref points to, which is then
// in the observation as an object of its own type too. Integer properties
// (ports, counts, pid, size) and booleans are typed as STIX types them, not
// by how the text looks. An indicator fires on an event exactly when the
// pattern engine matches its pattern against that observation (with the
// last 32 events before it that could take part, for patterns joining
// observations; an indicator first fires on the event after which the
// engine first matches the events so far); values are compared
// in normal form (addresses, lower-case domains and e-mail addresses,
// normalised URLs, lower-case hashes; the observation holds the event's
// values in that form too), and a CIDR written with = matches the
// addresses in it. TestDifferential and FuzzDifferential hold match to
// the engine over generated patterns and events.
//
// The default maps, ECSFields for JSON lines and ZeekFields for Zeek logs
// (CSVFields takes the ECS names and a few short ones), cover network
// traffic, DNS, URLs and HTTP, e-mail, files and their hashes, processes,
// users, the Windows registry and X.509 certificates:
//
//	the event's time (FOLLOWEDBY, WITHIN, START, STOP)
//	    ECS:  @timestamp
//	    Zeek: ts
//	network-traffic:src_ref.value
//	    ECS:  source.ip, client.ip, source.address, client.address
//	    Zeek: id.orig_h, src
//	network-traffic:dst_ref.value
//	    ECS:  destination.ip, server.ip, destination.address, server.address
//	    Zeek: id.resp_h, dst
//	network-traffic:src_port
//	    ECS:  source.port, client.port
//	    Zeek: id.orig_p
//	network-traffic:dst_port
//	    ECS:  destination.port, server.port
//	    Zeek: id.resp_p
//	network-traffic:src_byte_count
//	    ECS:  source.bytes
//	    Zeek: orig_bytes
//	network-traffic:dst_byte_count
//	    ECS:  destination.bytes
//	    Zeek: resp_bytes
//	network-traffic:src_packets
//	    ECS:  source.packets
//	    Zeek: orig_pkts
//	network-traffic:dst_packets
//	    ECS:  destination.packets
//	    Zeek: resp_pkts
//	network-traffic:protocols[*]
//	    ECS:  network.transport, network.protocol
//	    Zeek: proto, service
//	domain-name:value
//	    ECS:  source.domain, destination.domain, client.domain, server.domain, dns.question.name, url.domain, tls.client.server_name
//	    Zeek: query, answers, host, server_name, san.dns
//	mac-addr:value
//	    ECS:  source.mac, destination.mac, host.mac
//	    Zeek: mac
//	ipv4-addr:value
//	    ECS:  host.ip, dns.resolved_ip
//	    Zeek: tx_hosts, rx_hosts
//	url:value
//	    ECS:  url.full, url.original
//	    Zeek: host+uri
//	network-traffic:extensions.'http-request-ext'.request_method
//	    ECS:  http.request.method
//	    Zeek: method
//	network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'
//	    ECS:  user_agent.original
//	    Zeek: user_agent
//	x-ja3:hash
//	    ECS:  tls.server.ja3s
//	email-message:from_ref.value
//	    ECS:  email.from.address
//	    Zeek: from
//	email-message:sender_ref.value
//	    ECS:  email.sender.address
//	    Zeek: mailfrom
//	email-message:to_refs[*].value
//	    ECS:  email.to.address
//	    Zeek: rcptto, to
//	email-message:cc_refs[*].value
//	    ECS:  email.cc.address
//	    Zeek: cc
//	email-message:bcc_refs[*].value
//	    ECS:  email.bcc.address
//	email-message:subject
//	    ECS:  email.subject
//	    Zeek: subject
//	email-message:message_id
//	    ECS:  email.message_id
//	    Zeek: msg_id
//	email-message:content_type
//	    ECS:  email.content_type
//	email-message:date
//	    ECS:  email.origination_timestamp
//	email-addr:value
//	    ECS:  source.user.email, user.email
//	file:name
//	    ECS:  file.name
//	    Zeek: filename
//	file:size
//	    ECS:  file.size
//	    Zeek: total_bytes
//	file:mime_type
//	    ECS:  file.mime_type
//	    Zeek: mime_type
//	file:parent_directory_ref.path
//	    ECS:  file.directory
//	file:ctime
//	    ECS:  file.created
//	file:mtime
//	    ECS:  file.mtime
//	file:atime
//	    ECS:  file.accessed
//	file:hashes.MD5
//	    ECS:  file.hash.md5
//	    Zeek: md5
//	file:hashes.'SHA-1'
//	    ECS:  file.hash.sha1
//	    Zeek: sha1
//	file:hashes.'SHA-256'
//	    ECS:  file.hash.sha256
//	    Zeek: sha256
//	file:hashes.'SHA-512'
//	    ECS:  file.hash.sha512
//	file:hashes.SSDEEP
//	    ECS:  file.hash.ssdeep
//	file:hashes.TLSH
//	    ECS:  file.hash.tlsh
//	process:pid
//	    ECS:  process.pid
//	process:name
//	    ECS:  process.name
//	process:command_line
//	    ECS:  process.command_line
//	process:cwd
//	    ECS:  process.working_directory
//	process:created_time
//	    ECS:  process.start
//	process:image_ref.hashes.MD5
//	    ECS:  process.hash.md5
//	process:image_ref.hashes.'SHA-1'
//	    ECS:  process.hash.sha1
//	process:image_ref.hashes.'SHA-256'
//	    ECS:  process.hash.sha256
//	process:image_ref.hashes.'SHA-512'
//	    ECS:  process.hash.sha512
//	process:parent_ref.pid
//	    ECS:  process.parent.pid
//	process:parent_ref.name
//	    ECS:  process.parent.name
//	process:parent_ref.command_line
//	    ECS:  process.parent.command_line
//	process:creator_user_ref.user_id
//	    ECS:  process.user.id
//	process:creator_user_ref.account_login
//	    ECS:  process.user.name
//	user-account:user_id
//	    ECS:  user.id
//	user-account:account_login
//	    ECS:  user.name
//	user-account:display_name
//	    ECS:  user.full_name
//	windows-registry-key:key
//	    ECS:  registry.key, registry.path
//	windows-registry-key:values[*].name
//	    ECS:  registry.value
//	windows-registry-key:values[*].data
//	    ECS:  registry.data.strings
//	windows-registry-key:values[*].data_type
//	    ECS:  registry.data.type
//	x509-certificate:hashes.MD5
//	    ECS:  tls.server.hash.md5
//	x509-certificate:hashes.'SHA-1'
//	    ECS:  tls.server.hash.sha1
//	x509-certificate:hashes.'SHA-256'
//	    ECS:  tls.server.hash.sha256
//	x509-certificate:serial_number
//	    ECS:  x509.serial_number, tls.server.x509.serial_number
//	    Zeek: certificate.serial
//	x509-certificate:issuer
//	    ECS:  x509.issuer.distinguished_name, tls.server.x509.issuer.distinguished_name
//	    Zeek: certificate.issuer
//	x509-certificate:subject
//	    ECS:  x509.subject.distinguished_name, tls.server.x509.subject.distinguished_name
//	    Zeek: certificate.subject
//	x509-certificate:validity_not_before
//	    ECS:  x509.not_before, tls.server.x509.not_before
//	x509-certificate:validity_not_after
//	    ECS:  x509.not_after, tls.server.x509.not_after
//	x509-certificate:version
//	    ECS:  x509.version_number, tls.server.x509.version_number
//	    Zeek: certificate.version
//	x509-certificate:signature_algorithm
//	    ECS:  x509.signature_algorithm, tls.server.x509.signature_algorithm
//	    Zeek: certificate.sig_alg
//	x509-certificate:subject_public_key_algorithm
//	    ECS:  x509.public_key_algorithm, tls.server.x509.public_key_algorithm
//	    Zeek: certificate.key_alg
//	x509-certificate:subject_public_key_exponent
//	    ECS:  x509.public_key_exponent, tls.server.x509.public_key_exponent
//	    Zeek: certificate.exponent
//
// A value of a field not in the map is not read; ParseFields builds another
// map (name=kind or name=type:property).
//
// The package is pure: no I/O beyond the readers and writers it is handed.
package match
