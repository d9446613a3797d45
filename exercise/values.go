package exercise

import (
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/cyberpact/cyberpact/internal/gen"
)

// Every value the generators write comes from the ranges reserved for
// documentation, split by role so that benign and malicious values never
// meet:
//
//	192.0.2.0/24     (RFC 5737) participants' internal hosts
//	198.51.100.0/24  (RFC 5737) benign outside services
//	203.0.113.0/24   (RFC 5737) the simulated adversary
//	2001:db8::/32    (RFC 3849) IPv6 of all three, by the third group
//	*.test           participants' own names (<participant>.test)
//	*.example        outside names; the adversary's carry a hex tag
const (
	internalNet = "192.0.2."
	benignNet   = "198.51.100."
	hostileNet  = "203.0.113."
)

// rng returns a generator seeded from the exercise seed and labels, so
// that each part of an exercise draws from its own stream and adding a
// step does not change what the others produce.
func rng(seed uint64, labels ...string) *rand.Rand {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	for _, l := range labels {
		h.Write([]byte(l))
		h.Write([]byte{0})
	}
	s := h.Sum64()
	return rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, s))
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func benignIP(r *rand.Rand) string  { return benignNet + strconv.Itoa(1+r.IntN(254)) }
func hostileIP(r *rand.Rand) string { return hostileNet + strconv.Itoa(1+r.IntN(254)) }

var (
	hostileWords = []string{"secure-update", "cdn-sync", "login-verify", "docs-share", "invoice-portal", "telemetry-api", "auth-gateway", "cloud-drive", "msft-patch", "helpdesk-ticket"}
	lureWords    = []string{"invoice", "payment-advice", "board-minutes", "sanctions-update", "audit-request", "settlement-report", "grid-maintenance", "press-embargo"}
	firstNames   = []string{"a.moreau", "j.okafor", "l.schmidt", "m.rossi", "s.novak", "k.tanaka", "e.lindqvist", "p.haddad", "r.silva", "t.nguyen"}
	benignSites  = []string{"news.example", "weather.example", "office-suite.example", "partner-portal.example", "market-data.example", "standards-body.example", "software-vendor.example", "payroll-service.example"}
	benignProcs  = []string{"outlook.exe", "chrome.exe", "excel.exe", "teams.exe", "explorer.exe", "svchost.exe", "powershell.exe", "msedge.exe"}
)

// hostileDomain returns an adversary domain: a lure word and a hex tag
// under .example, never one of the benign names.
func hostileDomain(r *rand.Rand) string {
	return pick(r, hostileWords) + "-" + gen.Hex(r, 3) + ".example"
}

// orgDomain is a participant's own domain.
func orgDomain(participant string) string { return participant + ".test" }

// host returns a participant host name and its address.
func host(r *rand.Rand, participant, role string) (string, string) {
	n := 1 + r.IntN(90)
	return role + "-" + strconv.Itoa(n) + "." + orgDomain(participant), internalNet + strconv.Itoa(10+n)
}

func user(r *rand.Rand) string { return pick(r, firstNames) }

func sha256hex(r *rand.Rand) string { return gen.Hex(r, 32) }

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
