package match

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cyberpact/cyberpact/pattern"
)

// Role says what part an address or e-mail address plays in an event.
// It is shorthand for the reference a field's Path follows: NewFields
// derives the Path from it when the Path is empty, and the Role from the
// Path otherwise.
type Role uint8

// The roles.
const (
	RoleNone Role = iota
	RoleSrc       // source or client address (network-traffic:src_ref); sender (email-message:from_ref)
	RoleDst       // destination or server address (network-traffic:dst_ref); recipient (email-message:to_refs)
)

// Field says where an event holds a value, what kind of value it is and
// which STIX property it stands for.
type Field struct {
	// Name is the field's name: a dotted Elastic Common Schema path for
	// JSON lines, a column name for Zeek and CSV.
	Name string
	Kind Kind
	// Path is the STIX object type and property path the value stands
	// for, in the canonical form of a pattern's object path, such as
	// "process:pid", "network-traffic:dst_ref.value",
	// "email-message:to_refs[*].value" or "file:hashes.'SHA-256'". It may
	// follow one reference of those refTargets lists (the referenced
	// object is then in the event's observation too) and end in [*] for a
	// list. Empty means the plain property of the Kind and Role
	// (ipv4-addr:value, domain-name:value, file:hashes.MD5...).
	Path string
	Role Role
}

// Fields is a set of fields to extract, by name.
type Fields struct {
	list   []Field
	byName map[string]int
	// keys maps every name to its field index, and every dotted prefix
	// of a name (so a JSON scanner knows which nested objects to walk
	// into) to prefixBit, possibly with a field index too: one lookup
	// per JSON key.
	keys map[string]int32
	// first and last have bit n of entry c set when a name or prefix n
	// bytes long (n < 64; 63 for longer) starts, or ends, with byte c: a
	// check cheaper than the map that turns away most keys of an event.
	first, last [256]uint64
	// slots is a small open-addressing copy of keys, cheaper to probe
	// than the map for the short keys of events.
	slots []fieldSlot
	// info holds, beside list, what each field's Path implies.
	info []fieldInfo
}

// fieldInfo is what a field's Path implies for matching.
type fieldInfo struct {
	// path is the canonical Path; key and alias are the paths of the
	// keys a KindOther value is looked up by ("type:property"), alias
	// being the property as held by the referenced object when the path
	// follows a reference ("" otherwise).
	path, key, alias string
	typ              string // the type the path starts at
	// ref is the first step when it is a reference (src_ref, to_refs,
	// parent_ref...), holder the type of the object it points to
	// (refTargets; "" for addresses, whose type is their value's), and
	// rest the steps after the reference (after the [*] of a list).
	ref    string
	list   bool // ref is a list of references
	holder string
	rest   []pattern.PathStep
	ptype  propType
	types  []string // the STIX types the field's values give rise to
	usable bool
}

// defaultPath returns the Path a field of kind k and role r stands for
// when it names none.
func defaultPath(k Kind, r Role) string {
	switch k {
	case KindIP, KindDomain:
		switch r {
		case RoleSrc:
			return "network-traffic:src_ref.value"
		case RoleDst:
			return "network-traffic:dst_ref.value"
		}
		if k == KindIP {
			return "ipv4-addr:value"
		}
		return "domain-name:value"
	case KindURL:
		return "url:value"
	case KindEmail:
		switch r {
		case RoleSrc:
			return "email-message:from_ref.value"
		case RoleDst:
			return "email-message:to_refs[*].value"
		}
		return "email-addr:value"
	case KindMD5, KindSHA1, KindSHA256, KindSHA512:
		return "file:hashes." + map[Kind]string{KindMD5: "MD5", KindSHA1: "'SHA-1'", KindSHA256: "'SHA-256'", KindSHA512: "'SHA-512'"}[k]
	}
	return ""
}

// newFieldInfo works out what fd's Path implies, deriving it (and the
// Role) where the field leaves it out.
func newFieldInfo(fd *Field) fieldInfo {
	var fi fieldInfo
	if fd.Kind == KindNone || fd.Kind == KindTime {
		return fi
	}
	if fd.Path == "" {
		fd.Path = defaultPath(fd.Kind, fd.Role)
	}
	if fd.Kind == KindHash && fd.Path == "" {
		fi.usable, fi.typ, fi.holder = true, "file", "file"
		fi.types = []string{"file"}
		return fi
	}
	op, err := parsePath(fd.Path)
	if err != nil {
		return fi
	}
	canon := op.String()
	fi.path, fi.typ = canon, op.Type
	steps := op.Steps
	first := steps[0].Key
	switch {
	case strings.HasSuffix(first, "_ref") && len(steps) > 1:
		fi.ref, fi.rest = first, steps[1:]
	case strings.HasSuffix(first, "_refs") && len(steps) > 2 && steps[1].Kind == pattern.StepAny:
		fi.ref, fi.list, fi.rest = first, true, steps[2:]
	default:
		fi.rest = steps
	}
	restPath := pattern.ObjectPath{Steps: fi.rest}.String()[1:]
	fi.key = canon
	switch fd.Kind {
	case KindIP, KindDomain, KindURL, KindEmail:
		// The value is an object of its own (an address, a domain name, a
		// URL, an e-mail address), referenced by the path's reference
		// if it has one.
		if restPath != "value" || (fi.ref == "" && len(steps) != 1) {
			return fi
		}
		if fi.ref != "" && fd.Role == RoleNone {
			switch {
			case fi.ref == "src_ref" || fi.ref == "from_ref" || fi.ref == "sender_ref":
				fd.Role = RoleSrc
			case fi.ref == "dst_ref" || fi.list:
				fd.Role = RoleDst
			}
		}
		switch fd.Kind {
		case KindIP:
			fi.types = []string{"ipv4-addr", "ipv6-addr"}
		case KindDomain:
			fi.types = []string{"ipv4-addr", "ipv6-addr", "domain-name"}
		case KindURL:
			fi.types = []string{"url"}
		case KindEmail:
			fi.types = []string{"email-addr"}
		}
		if fi.ref != "" {
			fi.types = append(fi.types, fi.typ)
		}
		fi.usable = true
		return fi
	}
	// Hashes and other properties: held by the object at the start of
	// the path, or by the one its reference points to.
	if fi.ref != "" {
		u, ok := refTargets[fi.typ+":"+fi.ref]
		if !ok || fi.list {
			return fi
		}
		fi.holder = u
		fi.alias = u + ":" + restPath
	} else {
		fi.holder = fi.typ
	}
	if strings.Contains(restPath, "_ref") || restPath == "type" || strings.Contains(strings.ReplaceAll(restPath, "[*]", ""), "[") {
		return fi
	}
	if fd.Kind != KindOther {
		if fi.rest[0].Key != "hashes" || len(fi.rest) != 2 {
			return fi
		}
	}
	fi.ptype = propertyType(fi.holder, restPath)
	fi.types = []string{fi.typ}
	if fi.holder != fi.typ {
		fi.types = append(fi.types, fi.holder)
	}
	fi.usable = true
	return fi
}

type fieldSlot struct {
	key string
	val int32
}

// slotHash is a cheap hash of a key for Fields.slots.
func slotHash(b []byte) uint32 {
	n := uint32(len(b))
	if n == 0 {
		return 0
	}
	return n*0x9e3779b1 ^ uint32(b[0])*0x85ebca6b ^ uint32(b[n-1])*0xc2b2ae35 ^ uint32(b[n/2])*0x27d4eb2f ^ uint32(b[n/3])*0x165667b1
}

// prefixBit marks a value of Fields.keys as a prefix of a name; the bits
// below it are a field index, or noField.
const (
	prefixBit = 1 << 30
	noField   = prefixBit - 1
)

// NewFields returns the set of fields fs.
func NewFields(fs []Field) *Fields {
	f := &Fields{byName: map[string]int{}, keys: map[string]int32{}}
	mark := func(k string) {
		if k == "" {
			return
		}
		n := min(len(k), 63)
		f.first[k[0]] |= 1 << n
		f.last[k[len(k)-1]] |= 1 << n
	}
	for _, fd := range fs {
		if _, dup := f.byName[fd.Name]; dup {
			continue
		}
		f.byName[fd.Name] = len(f.list)
		f.info = append(f.info, newFieldInfo(&fd))
		f.list = append(f.list, fd)
	}
	for name, i := range f.byName {
		f.keys[name] = int32(i)
		mark(name)
	}
	for name := range f.byName {
		for i := 0; i < len(name); i++ {
			if name[i] != '.' {
				continue
			}
			p := name[:i]
			v, ok := f.keys[p]
			if !ok {
				v = noField
			}
			f.keys[p] = v | prefixBit
			mark(p)
		}
	}
	size := 16
	for size < 4*len(f.keys) {
		size <<= 1
	}
	f.slots = make([]fieldSlot, size)
	for k, v := range f.keys {
		i := slotHash([]byte(k)) & uint32(size-1)
		for f.slots[i].key != "" {
			i = (i + 1) & uint32(size-1)
		}
		f.slots[i] = fieldSlot{k, v}
	}
	return f
}

// lookup returns the field index of a JSON key path (-1 for none) and
// whether objects under it hold fields.
func (f *Fields) lookup(path []byte) (int32, bool) {
	if len(path) == 0 {
		return -1, false
	}
	bit := uint64(1) << min(len(path), 63)
	if f.first[path[0]]&bit == 0 || f.last[path[len(path)-1]]&bit == 0 {
		return -1, false
	}
	mask := uint32(len(f.slots) - 1)
	var v int32
	for i := slotHash(path) & mask; ; i = (i + 1) & mask {
		sl := &f.slots[i]
		if sl.key == "" {
			return -1, false
		}
		if sl.key == string(path) {
			v = sl.val
			break
		}
	}
	idx := v &^ prefixBit
	if idx == noField {
		idx = -1
	}
	return idx, v&prefixBit != 0
}

// List returns the fields.
func (f *Fields) List() []Field { return f.list }

// ParseFields reads a field mapping written name=kind,name=kind: kind is
// one of ip, ipv4, ipv6, domain, url, email, md5, sha1, sha256, sha512,
// hash, time (the event's time), or a STIX path type:property such as
// process:pid, email-message:subject or network-traffic:dst_ref.value
// (written as in a pattern; see Field.Path). A kind may end in :src or
// :dst to give an address its role (src=ip:src).
func ParseFields(spec string) (*Fields, error) {
	var fs []Field
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, kind, ok := strings.Cut(part, "=")
		if !ok || name == "" || kind == "" {
			return nil, fmt.Errorf("field mapping %q: want name=kind", part)
		}
		fd := Field{Name: name}
		if k, r, ok := strings.Cut(kind, ":"); ok && (r == "src" || r == "dst") {
			kind = k
			fd.Role = map[string]Role{"src": RoleSrc, "dst": RoleDst}[r]
		}
		if k, ok := ParseKind(kind); ok {
			fd.Kind = k
		} else if t, p, ok := strings.Cut(kind, ":"); ok && t != "" && p != "" {
			canon, err := canonicalPath(kind)
			if err != nil {
				return nil, fmt.Errorf("field mapping %q: %q is not a STIX object path: %v", part, kind, err)
			}
			fd.Path = canon
			t, p, _ = strings.Cut(canon, ":")
			fd.Kind, _ = pathKind(t, p)
			if fd.Kind == KindOther {
				if _, _, ok := resolveRef(t, p); !ok {
					return nil, fmt.Errorf("field mapping %q: %q follows a reference an event cannot hold (known: %s)", part, kind, knownRefs())
				}
			}
		} else {
			return nil, fmt.Errorf("field mapping %q: unknown kind %q (want ip, domain, url, email, md5, sha1, sha256, sha512, hash, time or type:property)", part, kind)
		}
		fs = append(fs, fd)
	}
	if len(fs) == 0 {
		return nil, fmt.Errorf("field mapping %q names no fields", spec)
	}
	return NewFields(fs), nil
}

// canonicalPath returns STIX object path p (type:property...) in the form
// a pattern prints it.
func canonicalPath(p string) (string, error) {
	op, err := parsePath(p)
	if err != nil {
		return "", err
	}
	return op.String(), nil
}

// parsePath parses STIX object path p (type:property...).
func parsePath(p string) (pattern.ObjectPath, error) {
	pat, err := pattern.Parse("[" + p + " = 1]")
	if err != nil {
		return pattern.ObjectPath{}, err
	}
	br, ok := pat.Root.(*pattern.ObservationBracket)
	if !ok {
		return pattern.ObjectPath{}, fmt.Errorf("not a single object path")
	}
	c, ok := br.Expr.(*pattern.Comparison)
	if !ok {
		return pattern.ObjectPath{}, fmt.Errorf("not a single object path")
	}
	return c.Path, nil
}

// ECSFields returns the Elastic Common Schema fields read from JSON lines
// by default, with the STIX property each stands for: the ECS fields of
// network traffic, DNS, URLs and HTTP, e-mail, files and their hashes,
// processes, users, the Windows registry and X.509 certificates that a
// STIX pattern can name. README.md ("Detection") and the package
// documentation list the same table.
func ECSFields() *Fields {
	return NewFields(ecsFields())
}

func ecsFields() []Field {
	ip, dom, other := KindIP, KindDomain, KindOther
	fs := []Field{
		{Name: "@timestamp", Kind: KindTime},

		// Network traffic. Source and client are network-traffic's
		// src_ref, destination and server its dst_ref; an *.address may
		// hold an address or a domain name.
		{Name: "source.ip", Kind: ip, Path: "network-traffic:src_ref.value"},
		{Name: "destination.ip", Kind: ip, Path: "network-traffic:dst_ref.value"},
		{Name: "client.ip", Kind: ip, Path: "network-traffic:src_ref.value"},
		{Name: "server.ip", Kind: ip, Path: "network-traffic:dst_ref.value"},
		{Name: "source.address", Kind: dom, Path: "network-traffic:src_ref.value"},
		{Name: "destination.address", Kind: dom, Path: "network-traffic:dst_ref.value"},
		{Name: "client.address", Kind: dom, Path: "network-traffic:src_ref.value"},
		{Name: "server.address", Kind: dom, Path: "network-traffic:dst_ref.value"},
		{Name: "source.port", Kind: other, Path: "network-traffic:src_port"},
		{Name: "destination.port", Kind: other, Path: "network-traffic:dst_port"},
		{Name: "client.port", Kind: other, Path: "network-traffic:src_port"},
		{Name: "server.port", Kind: other, Path: "network-traffic:dst_port"},
		{Name: "source.bytes", Kind: other, Path: "network-traffic:src_byte_count"},
		{Name: "destination.bytes", Kind: other, Path: "network-traffic:dst_byte_count"},
		{Name: "source.packets", Kind: other, Path: "network-traffic:src_packets"},
		{Name: "destination.packets", Kind: other, Path: "network-traffic:dst_packets"},
		{Name: "network.transport", Kind: other, Path: "network-traffic:protocols[*]"},
		{Name: "network.protocol", Kind: other, Path: "network-traffic:protocols[*]"},
		{Name: "source.domain", Kind: dom, Path: "domain-name:value"},
		{Name: "destination.domain", Kind: dom, Path: "domain-name:value"},
		{Name: "client.domain", Kind: dom, Path: "domain-name:value"},
		{Name: "server.domain", Kind: dom, Path: "domain-name:value"},
		{Name: "source.mac", Kind: other, Path: "mac-addr:value"},
		{Name: "destination.mac", Kind: other, Path: "mac-addr:value"},
		{Name: "host.ip", Kind: ip, Path: "ipv4-addr:value"},
		{Name: "host.mac", Kind: other, Path: "mac-addr:value"},

		// DNS.
		{Name: "dns.question.name", Kind: dom, Path: "domain-name:value"},
		{Name: "dns.resolved_ip", Kind: ip, Path: "ipv4-addr:value"},

		// URLs and HTTP.
		{Name: "url.full", Kind: KindURL, Path: "url:value"},
		{Name: "url.original", Kind: KindURL, Path: "url:value"},
		{Name: "url.domain", Kind: dom, Path: "domain-name:value"},
		{Name: "http.request.method", Kind: other, Path: "network-traffic:extensions.'http-request-ext'.request_method"},
		{Name: "user_agent.original", Kind: other, Path: "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"},
		{Name: "tls.client.server_name", Kind: dom, Path: "domain-name:value"},
		{Name: "tls.server.ja3s", Kind: other, Path: "x-ja3:hash"},

		// E-mail.
		{Name: "email.from.address", Kind: KindEmail, Path: "email-message:from_ref.value"},
		{Name: "email.sender.address", Kind: KindEmail, Path: "email-message:sender_ref.value"},
		{Name: "email.to.address", Kind: KindEmail, Path: "email-message:to_refs[*].value"},
		{Name: "email.cc.address", Kind: KindEmail, Path: "email-message:cc_refs[*].value"},
		{Name: "email.bcc.address", Kind: KindEmail, Path: "email-message:bcc_refs[*].value"},
		{Name: "email.subject", Kind: other, Path: "email-message:subject"},
		{Name: "email.message_id", Kind: other, Path: "email-message:message_id"},
		{Name: "email.content_type", Kind: other, Path: "email-message:content_type"},
		{Name: "email.origination_timestamp", Kind: other, Path: "email-message:date"},
		{Name: "source.user.email", Kind: KindEmail, Path: "email-addr:value"},
		{Name: "user.email", Kind: KindEmail, Path: "email-addr:value"},

		// Files and their hashes.
		{Name: "file.name", Kind: other, Path: "file:name"},
		{Name: "file.size", Kind: other, Path: "file:size"},
		{Name: "file.mime_type", Kind: other, Path: "file:mime_type"},
		{Name: "file.directory", Kind: other, Path: "file:parent_directory_ref.path"},
		{Name: "file.created", Kind: other, Path: "file:ctime"},
		{Name: "file.mtime", Kind: other, Path: "file:mtime"},
		{Name: "file.accessed", Kind: other, Path: "file:atime"},
		{Name: "file.hash.md5", Kind: KindMD5, Path: "file:hashes.MD5"},
		{Name: "file.hash.sha1", Kind: KindSHA1, Path: "file:hashes.'SHA-1'"},
		{Name: "file.hash.sha256", Kind: KindSHA256, Path: "file:hashes.'SHA-256'"},
		{Name: "file.hash.sha512", Kind: KindSHA512, Path: "file:hashes.'SHA-512'"},
		{Name: "file.hash.ssdeep", Kind: other, Path: "file:hashes.SSDEEP"},
		{Name: "file.hash.tlsh", Kind: other, Path: "file:hashes.TLSH"},

		// Processes. process.name is STIX 2.0's process:name, still the
		// usual way patterns name a program; the hashes are those of the
		// process's image, a file.
		{Name: "process.pid", Kind: other, Path: "process:pid"},
		{Name: "process.name", Kind: other, Path: "process:name"},
		{Name: "process.command_line", Kind: other, Path: "process:command_line"},
		{Name: "process.working_directory", Kind: other, Path: "process:cwd"},
		{Name: "process.start", Kind: other, Path: "process:created_time"},
		{Name: "process.hash.md5", Kind: KindMD5, Path: "process:image_ref.hashes.MD5"},
		{Name: "process.hash.sha1", Kind: KindSHA1, Path: "process:image_ref.hashes.'SHA-1'"},
		{Name: "process.hash.sha256", Kind: KindSHA256, Path: "process:image_ref.hashes.'SHA-256'"},
		{Name: "process.hash.sha512", Kind: KindSHA512, Path: "process:image_ref.hashes.'SHA-512'"},
		{Name: "process.parent.pid", Kind: other, Path: "process:parent_ref.pid"},
		{Name: "process.parent.name", Kind: other, Path: "process:parent_ref.name"},
		{Name: "process.parent.command_line", Kind: other, Path: "process:parent_ref.command_line"},
		{Name: "process.user.id", Kind: other, Path: "process:creator_user_ref.user_id"},
		{Name: "process.user.name", Kind: other, Path: "process:creator_user_ref.account_login"},

		// Users.
		{Name: "user.id", Kind: other, Path: "user-account:user_id"},
		{Name: "user.name", Kind: other, Path: "user-account:account_login"},
		{Name: "user.full_name", Kind: other, Path: "user-account:display_name"},

		// The Windows registry: registry.key is the key as ECS writes it
		// (hive first when known), registry.path the key and value name.
		{Name: "registry.key", Kind: other, Path: "windows-registry-key:key"},
		{Name: "registry.path", Kind: other, Path: "windows-registry-key:key"},
		{Name: "registry.value", Kind: other, Path: "windows-registry-key:values[*].name"},
		{Name: "registry.data.strings", Kind: other, Path: "windows-registry-key:values[*].data"},
		{Name: "registry.data.type", Kind: other, Path: "windows-registry-key:values[*].data_type"},

		// The server certificate of a TLS session: tls.server.hash.* are
		// the certificate's hashes.
		{Name: "tls.server.hash.md5", Kind: other, Path: "x509-certificate:hashes.MD5"},
		{Name: "tls.server.hash.sha1", Kind: other, Path: "x509-certificate:hashes.'SHA-1'"},
		{Name: "tls.server.hash.sha256", Kind: other, Path: "x509-certificate:hashes.'SHA-256'"},
	}
	// X.509 certificates, top-level (x509.*) and as the server
	// certificate of a TLS session (tls.server.x509.*).
	for _, pre := range []string{"x509.", "tls.server.x509."} {
		fs = append(fs,
			Field{Name: pre + "serial_number", Kind: other, Path: "x509-certificate:serial_number"},
			Field{Name: pre + "issuer.distinguished_name", Kind: other, Path: "x509-certificate:issuer"},
			Field{Name: pre + "subject.distinguished_name", Kind: other, Path: "x509-certificate:subject"},
			Field{Name: pre + "not_before", Kind: other, Path: "x509-certificate:validity_not_before"},
			Field{Name: pre + "not_after", Kind: other, Path: "x509-certificate:validity_not_after"},
			Field{Name: pre + "version_number", Kind: other, Path: "x509-certificate:version"},
			Field{Name: pre + "signature_algorithm", Kind: other, Path: "x509-certificate:signature_algorithm"},
			Field{Name: pre + "public_key_algorithm", Kind: other, Path: "x509-certificate:subject_public_key_algorithm"},
			Field{Name: pre + "public_key_exponent", Kind: other, Path: "x509-certificate:subject_public_key_exponent"},
		)
	}
	return fs
}

// ZeekFields returns the Zeek log columns read by default, with the STIX
// property each stands for: conn, dns, http, ssl, x509, files, smtp,
// dhcp and notice logs. In http.log, host and uri are also joined into a
// URL. A column holding a comma-separated set gives each member.
func ZeekFields() *Fields {
	return NewFields(zeekFields())
}

func zeekFields() []Field {
	ip, dom, other := KindIP, KindDomain, KindOther
	return []Field{
		{Name: "ts", Kind: KindTime},
		// conn.log, and the connection columns of every log.
		{Name: "id.orig_h", Kind: ip, Path: "network-traffic:src_ref.value"},
		{Name: "id.resp_h", Kind: ip, Path: "network-traffic:dst_ref.value"},
		{Name: "id.orig_p", Kind: other, Path: "network-traffic:src_port"},
		{Name: "id.resp_p", Kind: other, Path: "network-traffic:dst_port"},
		{Name: "proto", Kind: other, Path: "network-traffic:protocols[*]"},
		{Name: "service", Kind: other, Path: "network-traffic:protocols[*]"},
		{Name: "orig_bytes", Kind: other, Path: "network-traffic:src_byte_count"},
		{Name: "resp_bytes", Kind: other, Path: "network-traffic:dst_byte_count"},
		{Name: "orig_pkts", Kind: other, Path: "network-traffic:src_packets"},
		{Name: "resp_pkts", Kind: other, Path: "network-traffic:dst_packets"},
		// notice.log.
		{Name: "src", Kind: ip, Path: "network-traffic:src_ref.value"},
		{Name: "dst", Kind: ip, Path: "network-traffic:dst_ref.value"},
		// dns.log: answers hold addresses and names.
		{Name: "query", Kind: dom, Path: "domain-name:value"},
		{Name: "answers", Kind: dom, Path: "domain-name:value"},
		// http.log.
		{Name: "host", Kind: dom, Path: "domain-name:value"},
		{Name: "method", Kind: other, Path: "network-traffic:extensions.'http-request-ext'.request_method"},
		{Name: "user_agent", Kind: other, Path: "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"},
		// The URL of http.log, joined from its host and uri columns.
		{Name: "host+uri", Kind: KindURL, Path: "url:value"},
		// ssl.log and x509.log.
		{Name: "server_name", Kind: dom, Path: "domain-name:value"},
		{Name: "certificate.serial", Kind: other, Path: "x509-certificate:serial_number"},
		{Name: "certificate.subject", Kind: other, Path: "x509-certificate:subject"},
		{Name: "certificate.issuer", Kind: other, Path: "x509-certificate:issuer"},
		{Name: "certificate.version", Kind: other, Path: "x509-certificate:version"},
		{Name: "certificate.sig_alg", Kind: other, Path: "x509-certificate:signature_algorithm"},
		{Name: "certificate.key_alg", Kind: other, Path: "x509-certificate:subject_public_key_algorithm"},
		{Name: "certificate.exponent", Kind: other, Path: "x509-certificate:subject_public_key_exponent"},
		{Name: "san.dns", Kind: dom, Path: "domain-name:value"},
		// files.log.
		{Name: "tx_hosts", Kind: ip, Path: "ipv4-addr:value"},
		{Name: "rx_hosts", Kind: ip, Path: "ipv4-addr:value"},
		{Name: "md5", Kind: KindMD5, Path: "file:hashes.MD5"},
		{Name: "sha1", Kind: KindSHA1, Path: "file:hashes.'SHA-1'"},
		{Name: "sha256", Kind: KindSHA256, Path: "file:hashes.'SHA-256'"},
		{Name: "filename", Kind: other, Path: "file:name"},
		{Name: "mime_type", Kind: other, Path: "file:mime_type"},
		{Name: "total_bytes", Kind: other, Path: "file:size"},
		// smtp.log: mailfrom is the envelope sender, the agent that sent
		// the message (sender_ref); from is the From header.
		{Name: "mailfrom", Kind: KindEmail, Path: "email-message:sender_ref.value"},
		{Name: "rcptto", Kind: KindEmail, Path: "email-message:to_refs[*].value"},
		{Name: "from", Kind: KindEmail, Path: "email-message:from_ref.value"},
		{Name: "to", Kind: KindEmail, Path: "email-message:to_refs[*].value"},
		{Name: "cc", Kind: KindEmail, Path: "email-message:cc_refs[*].value"},
		{Name: "subject", Kind: other, Path: "email-message:subject"},
		{Name: "msg_id", Kind: other, Path: "email-message:message_id"},
		// dhcp.log.
		{Name: "mac", Kind: other, Path: "mac-addr:value"},
	}
}

// CSVFields returns the column names read from CSV by default: the ECS
// names and common short ones.
func CSVFields() *Fields {
	extra := []Field{
		{Name: "src_ip", Kind: KindIP, Role: RoleSrc},
		{Name: "dst_ip", Kind: KindIP, Role: RoleDst},
		{Name: "src", Kind: KindIP, Role: RoleSrc},
		{Name: "dst", Kind: KindIP, Role: RoleDst},
		{Name: "src_port", Kind: KindOther, Path: "network-traffic:src_port"},
		{Name: "dst_port", Kind: KindOther, Path: "network-traffic:dst_port"},
		{Name: "ip", Kind: KindIP},
		{Name: "domain", Kind: KindDomain},
		{Name: "hostname", Kind: KindDomain},
		{Name: "query", Kind: KindDomain},
		{Name: "url", Kind: KindURL},
		{Name: "md5", Kind: KindMD5},
		{Name: "sha1", Kind: KindSHA1},
		{Name: "sha256", Kind: KindSHA256},
		{Name: "sha512", Kind: KindSHA512},
		{Name: "email", Kind: KindEmail},
		{Name: "sender", Kind: KindEmail, Role: RoleSrc},
		{Name: "recipient", Kind: KindEmail, Role: RoleDst},
		{Name: "subject", Kind: KindOther, Path: "email-message:subject"},
		{Name: "filename", Kind: KindOther, Path: "file:name"},
	}
	return NewFields(append(ecsFields(), extra...))
}

// refTargets lists the references a field's Path may follow, by the
// type holding them and their name, with the type of the object they
// point to. Addresses and e-mail addresses follow their own references
// (network-traffic:src_ref.value, email-message:to_refs[*].value...).
var refTargets = map[string]string{
	"file:parent_directory_ref":             "directory",
	"process:image_ref":                     "file",
	"process:parent_ref":                    "process",
	"process:creator_user_ref":              "user-account",
	"windows-registry-key:creator_user_ref": "user-account",
}

func knownRefs() string {
	var ks []string
	for k := range refTargets {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

// resolveRef splits path, a property path of type typ, at a leading
// reference refTargets knows: it returns the type the property is held
// by and its path there (typ and path themselves when there is no
// reference). ok is false when path follows any other reference.
func resolveRef(typ, path string) (holder, rest string, ok bool) {
	first, after, dotted := strings.Cut(path, ".")
	if dotted && strings.HasSuffix(first, "_ref") {
		u, known := refTargets[typ+":"+first]
		if !known || strings.Contains(after, "_ref") {
			return "", "", false
		}
		return u, after, true
	}
	if strings.Contains(path, "_ref") {
		return "", "", false
	}
	return typ, path, true
}

// propType is the JSON type of a STIX property's value.
type propType uint8

// The property types an event's text is read as.
const (
	propText propType = iota
	propInt
	propBool
)

// propTypes lists the STIX 2.1 cyber-observable properties that hold
// integers or booleans; every other property holds text.
var propTypes = map[string]propType{
	"network-traffic:src_port":                     propInt,
	"network-traffic:dst_port":                     propInt,
	"network-traffic:src_byte_count":               propInt,
	"network-traffic:dst_byte_count":               propInt,
	"network-traffic:src_packets":                  propInt,
	"network-traffic:dst_packets":                  propInt,
	"network-traffic:is_active":                    propBool,
	"file:size":                                    propInt,
	"artifact:size":                                propInt,
	"process:pid":                                  propInt,
	"process:is_hidden":                            propBool,
	"autonomous-system:number":                     propInt,
	"windows-registry-key:number_of_subkeys":       propInt,
	"email-message:is_multipart":                   propBool,
	"user-account:is_service_account":              propBool,
	"user-account:is_privileged":                   propBool,
	"user-account:can_escalate_privs":              propBool,
	"user-account:is_disabled":                     propBool,
	"x509-certificate:is_self_signed":              propBool,
	"x509-certificate:subject_public_key_exponent": propInt,
}

// propertyType returns the type of property path of STIX type typ.
func propertyType(typ, path string) propType {
	return propTypes[typ+":"+path]
}
