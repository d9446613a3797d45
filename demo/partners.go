package demo

import (
	"math/rand/v2"

	"github.com/cyberpact/cyberpact/internal/gen"
)

// Partner is one member organisation of the demonstration partnership. The
// names are invented: none is a real organisation or its trademark.
type Partner struct {
	ID          string // identity--..., the same for every seed
	Name        string
	Country     string // ISO 3166-1 alpha-2
	Sectors     []string
	Description string
	Contact     string
	// Marking is the TLP 2.0 marking the partner puts on its sightings:
	// defence and intelligence members share theirs more narrowly.
	Marking string
}

// Partners are the members of the demonstration partnership, governments
// and companies of three continents. Their identity ids do not depend on
// the seed, so a demo database and a test can name them.
var Partners = []*Partner{
	{Name: "Federal Cyber Defense Coordination Agency", Country: "US", Sectors: []string{"government"},
		Description: "US national agency coordinating the defence of federal networks and critical infrastructure; convenes the partnership's analytic exchange.",
		Contact:     "exchange@fcdca.example", Marking: gen.TLPAmber},
	{Name: "UK National Cyber Resilience Centre", Country: "GB", Sectors: []string{"government"},
		Description: "The United Kingdom's technical authority for cyber incidents; publishes advisories and operates the national sensor network.",
		Contact:     "partners@ncrc-uk.example", Marking: gen.TLPAmber},
	{Name: "Japan Defence Ministry Cyber Response Team", Country: "JP", Sectors: []string{"defense", "government"},
		Description: "Computer security incident response team of Japan's defence ministry, responsible for the ministry's and the self-defence forces' networks.",
		Contact:     "csirt@jdm-cyber.example", Marking: gen.TLPRed},
	{Name: "Thamesgate Clearing Bank", Country: "GB", Sectors: []string{"financial-services"},
		Description: "UK clearing and settlement bank; runs its own security operations centre and shares detections from its payment gateways.",
		Contact:     "soc@thamesgate-bank.example", Marking: gen.TLPAmberStrict},
	{Name: "Atlantic Securities Exchange", Country: "US", Sectors: []string{"financial-services"},
		Description: "Equities and derivatives exchange; shares indicators seen against member-firm connectivity and market data services.",
		Contact:     "cti@atlantic-exchange.example", Marking: gen.TLPAmber},
	{Name: "Midland Interconnect Grid Operator", Country: "GB", Sectors: []string{"utilities", "energy"},
		Description: "Electricity transmission system operator; monitors its control centres and substation networks.",
		Contact:     "security@midland-grid.example", Marking: gen.TLPAmberStrict},
	{Name: "Kanto Power Transmission", Country: "JP", Sectors: []string{"utilities", "energy"},
		Description: "Regional transmission operator; shares operational-technology detections with the partnership.",
		Contact:     "psirt@kanto-power.example", Marking: gen.TLPAmber},
	{Name: "Hanseatic Payments Network", Country: "DE", Sectors: []string{"financial-services"},
		Description: "Card and instant-payment processor serving banks across northern Europe.",
		Contact:     "cert@hanseatic-pay.example", Marking: gen.TLPGreen},
	{Name: "Federal Office for Information Assurance", Country: "DE", Sectors: []string{"government"},
		Description: "German federal office for information security; coordinates the partnership's European reporting.",
		Contact:     "cti@bfia.example", Marking: gen.TLPAmber},
}

// Hub is the identity of the partnership's hub itself, the author of the
// shared reference objects (attack patterns, the report's synthesis).
var Hub = &Partner{Name: "CyberPact Hub", Country: "", Sectors: []string{"government"},
	Description: "The partnership's threat-intelligence hub; curates shared reference data and joint reports.",
	Contact:     "hub-ops@cyberpact.example", Marking: gen.TLPGreen}

func init() {
	// Fixed ids: drawn from a generator with a constant seed.
	r := rand.New(rand.NewPCG(0xc7be7ac7, 0x1d))
	Hub.ID = "identity--" + gen.UUID4(r)
	for _, p := range Partners {
		p.ID = "identity--" + gen.UUID4(r)
	}
}
