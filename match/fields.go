package match

import (
	"fmt"
	"strings"
)

// Role says what part an address or e-mail address plays in an event, so
// that patterns on network-traffic or email-message objects can be
// checked by the pattern engine.
type Role uint8

// The roles.
const (
	RoleNone Role = iota
	RoleSrc       // source or client address; sender
	RoleDst       // destination or server address; recipient
)

// Field says where an event holds a value and what kind of value it is.
type Field struct {
	// Name is the field's name: a dotted Elastic Common Schema path for
	// JSON lines, a column name for Zeek and CSV.
	Name string
	Kind Kind
	// Path is, for KindOther, the STIX object type and property the
	// value stands for, such as "process:name"; for ports
	// "network-traffic:src_port".
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
// hash, time (the event's time), or a STIX type:property such as process:name or
// network-traffic:dst_port. A kind may end in :src or :dst to give the
// address its role (src=ip:src).
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
			fd.Kind, fd.Path = KindOther, kind
		} else {
			return nil, fmt.Errorf("field mapping %q: unknown kind %q (want ip, domain, url, email, md5, sha1, sha256, sha512, hash or type:property)", part, kind)
		}
		fs = append(fs, fd)
	}
	if len(fs) == 0 {
		return nil, fmt.Errorf("field mapping %q names no fields", spec)
	}
	return NewFields(fs), nil
}

// ECSFields returns the Elastic Common Schema fields read from JSON lines
// by default.
func ECSFields() *Fields {
	return NewFields([]Field{
		{Name: "@timestamp", Kind: KindTime},
		{Name: "source.ip", Kind: KindIP, Role: RoleSrc},
		{Name: "destination.ip", Kind: KindIP, Role: RoleDst},
		{Name: "client.ip", Kind: KindIP, Role: RoleSrc},
		{Name: "server.ip", Kind: KindIP, Role: RoleDst},
		{Name: "host.ip", Kind: KindIP},
		{Name: "source.address", Kind: KindDomain, Role: RoleSrc},
		{Name: "destination.address", Kind: KindDomain, Role: RoleDst},
		{Name: "source.domain", Kind: KindDomain},
		{Name: "destination.domain", Kind: KindDomain},
		{Name: "client.domain", Kind: KindDomain},
		{Name: "server.domain", Kind: KindDomain},
		{Name: "dns.question.name", Kind: KindDomain},
		{Name: "url.domain", Kind: KindDomain},
		{Name: "tls.client.server_name", Kind: KindDomain},
		{Name: "url.full", Kind: KindURL},
		{Name: "url.original", Kind: KindURL},
		{Name: "file.hash.md5", Kind: KindMD5},
		{Name: "file.hash.sha1", Kind: KindSHA1},
		{Name: "file.hash.sha256", Kind: KindSHA256},
		{Name: "file.hash.sha512", Kind: KindSHA512},
		{Name: "process.hash.md5", Kind: KindMD5},
		{Name: "process.hash.sha1", Kind: KindSHA1},
		{Name: "process.hash.sha256", Kind: KindSHA256},
		{Name: "process.hash.sha512", Kind: KindSHA512},
		{Name: "email.from.address", Kind: KindEmail, Role: RoleSrc},
		{Name: "email.sender.address", Kind: KindEmail, Role: RoleSrc},
		{Name: "email.to.address", Kind: KindEmail, Role: RoleDst},
		{Name: "email.cc.address", Kind: KindEmail, Role: RoleDst},
		{Name: "source.user.email", Kind: KindEmail},
		{Name: "user.email", Kind: KindEmail},
		{Name: "file.name", Kind: KindOther, Path: "file:name"},
		{Name: "process.name", Kind: KindOther, Path: "process:name"},
		{Name: "process.command_line", Kind: KindOther, Path: "process:command_line"},
		{Name: "registry.key", Kind: KindOther, Path: "windows-registry-key:key"},
		{Name: "registry.path", Kind: KindOther, Path: "windows-registry-key:key"},
		{Name: "user.id", Kind: KindOther, Path: "user-account:user_id"},
		{Name: "user.name", Kind: KindOther, Path: "user-account:account_login"},
		{Name: "source.port", Kind: KindOther, Path: "network-traffic:src_port"},
		{Name: "destination.port", Kind: KindOther, Path: "network-traffic:dst_port"},
		{Name: "tls.server.ja3s", Kind: KindOther, Path: "x-ja3:hash"},
	})
}

// ZeekFields returns the Zeek log columns read by default (conn, dns,
// http, ssl, files, smtp, notice logs). In http.log, host and uri are
// also joined into a URL.
func ZeekFields() *Fields {
	return NewFields([]Field{
		{Name: "ts", Kind: KindTime},
		{Name: "id.orig_h", Kind: KindIP, Role: RoleSrc},
		{Name: "id.resp_h", Kind: KindIP, Role: RoleDst},
		{Name: "id.orig_p", Kind: KindOther, Path: "network-traffic:src_port"},
		{Name: "id.resp_p", Kind: KindOther, Path: "network-traffic:dst_port"},
		{Name: "tx_hosts", Kind: KindIP},
		{Name: "rx_hosts", Kind: KindIP},
		{Name: "src", Kind: KindIP, Role: RoleSrc},
		{Name: "dst", Kind: KindIP, Role: RoleDst},
		{Name: "query", Kind: KindDomain},
		{Name: "host", Kind: KindDomain},
		{Name: "server_name", Kind: KindDomain},
		{Name: "md5", Kind: KindMD5},
		{Name: "sha1", Kind: KindSHA1},
		{Name: "sha256", Kind: KindSHA256},
		{Name: "mailfrom", Kind: KindEmail, Role: RoleSrc},
		{Name: "rcptto", Kind: KindEmail, Role: RoleDst},
		{Name: "from", Kind: KindEmail, Role: RoleSrc},
		{Name: "to", Kind: KindEmail, Role: RoleDst},
		{Name: "filename", Kind: KindOther, Path: "file:name"},
		// The URL of http.log, joined from its host and uri columns.
		{Name: "host+uri", Kind: KindURL},
	})
}

// CSVFields returns the column names read from CSV by default: the ECS
// names and common short ones.
func CSVFields() *Fields {
	fs := ECSFields().list
	extra := []Field{
		{Name: "src_ip", Kind: KindIP, Role: RoleSrc},
		{Name: "dst_ip", Kind: KindIP, Role: RoleDst},
		{Name: "src", Kind: KindIP, Role: RoleSrc},
		{Name: "dst", Kind: KindIP, Role: RoleDst},
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
	}
	return NewFields(append(append([]Field(nil), fs...), extra...))
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
	"network-traffic:src_port":               propInt,
	"network-traffic:dst_port":               propInt,
	"network-traffic:src_byte_count":         propInt,
	"network-traffic:dst_byte_count":         propInt,
	"network-traffic:src_packets":            propInt,
	"network-traffic:dst_packets":            propInt,
	"network-traffic:is_active":              propBool,
	"file:size":                              propInt,
	"artifact:size":                          propInt,
	"process:pid":                            propInt,
	"process:is_hidden":                      propBool,
	"autonomous-system:number":               propInt,
	"windows-registry-key:number_of_subkeys": propInt,
	"email-message:is_multipart":             propBool,
	"user-account:is_service_account":        propBool,
	"user-account:is_privileged":             propBool,
	"user-account:can_escalate_privs":        propBool,
	"user-account:is_disabled":               propBool,
	"x509-certificate:is_self_signed":        propBool,
}

// propertyType returns the type of property path of STIX type typ.
func propertyType(typ, path string) propType {
	return propTypes[typ+":"+path]
}
