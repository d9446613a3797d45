package gen

import "strings"

// Technique is one MITRE ATT&CK Enterprise technique or sub-technique.
type Technique struct {
	ID    string // T1566.001
	Name  string // the technique's name as ATT&CK v18 gives it
	Phase string // its first kill-chain phase (tactic short name)
}

// URL returns the technique's page on attack.mitre.org.
func (t Technique) URL() string {
	return "https://attack.mitre.org/techniques/" + strings.ReplaceAll(t.ID, ".", "/")
}

// Techniques are the ATT&CK techniques generated attack patterns refer to,
// with their names and tactics as ATT&CK Enterprise v18.1 publishes them.
var Techniques = []Technique{
	{"T1566.001", "Spearphishing Attachment", "initial-access"},
	{"T1566.002", "Spearphishing Link", "initial-access"},
	{"T1190", "Exploit Public-Facing Application", "initial-access"},
	{"T1133", "External Remote Services", "initial-access"},
	{"T1078", "Valid Accounts", "initial-access"},
	{"T1199", "Trusted Relationship", "initial-access"},
	{"T1195.002", "Compromise Software Supply Chain", "initial-access"},
	{"T1059.001", "PowerShell", "execution"},
	{"T1059.003", "Windows Command Shell", "execution"},
	{"T1204.002", "Malicious File", "execution"},
	{"T1053.005", "Scheduled Task", "persistence"},
	{"T1547.001", "Registry Run Keys / Startup Folder", "persistence"},
	{"T1505.003", "Web Shell", "persistence"},
	{"T1098", "Account Manipulation", "persistence"},
	{"T1055", "Process Injection", "privilege-escalation"},
	{"T1027", "Obfuscated Files or Information", "defense-evasion"},
	{"T1562.001", "Disable or Modify Tools", "defense-evasion"},
	{"T1070.004", "File Deletion", "defense-evasion"},
	{"T1036.005", "Match Legitimate Resource Name or Location", "defense-evasion"},
	{"T1003.001", "LSASS Memory", "credential-access"},
	{"T1110.003", "Password Spraying", "credential-access"},
	{"T1046", "Network Service Discovery", "discovery"},
	{"T1018", "Remote System Discovery", "discovery"},
	{"T1021.001", "Remote Desktop Protocol", "lateral-movement"},
	{"T1560.001", "Archive via Utility", "collection"},
	{"T1071.001", "Web Protocols", "command-and-control"},
	{"T1071.004", "DNS", "command-and-control"},
	{"T1105", "Ingress Tool Transfer", "command-and-control"},
	{"T1572", "Protocol Tunneling", "command-and-control"},
	{"T1090.003", "Multi-hop Proxy", "command-and-control"},
	{"T1041", "Exfiltration Over C2 Channel", "exfiltration"},
	{"T1567.002", "Exfiltration to Cloud Storage", "exfiltration"},
	{"T1486", "Data Encrypted for Impact", "impact"},
	{"T1490", "Inhibit System Recovery", "impact"},
	{"T1583.001", "Domains", "resource-development"},
	{"T1595.002", "Vulnerability Scanning", "reconnaissance"},
}
