package sensor_test

import (
	"fmt"
	"net/netip"
	"strings"
)

// This file is a parser of Zeek Intelligence Framework files, written
// from Zeek's documentation of the framework (Intel::Item, Intel::Type,
// Intel::MetaData) and of the input framework's ASCII reader: a "#fields"
// line naming tab-separated columns, then one item a line; "-" is an
// unset field; indicator and indicator_type are required, meta.source is
// required (Intel::MetaData's source has no default).

// intelItem is one line of an intel file.
type intelItem struct {
	Indicator, Type string
	Meta            map[string]string // by field name without "meta.", unset fields absent
}

var intelTypes = map[string]bool{
	"Intel::ADDR": true, "Intel::SUBNET": true, "Intel::URL": true, "Intel::SOFTWARE": true, "Intel::EMAIL": true,
	"Intel::DOMAIN": true, "Intel::USER_NAME": true, "Intel::CERT_HASH": true, "Intel::PUBKEY_HASH": true,
	"Intel::FILE_HASH": true, "Intel::FILE_NAME": true,
}

var intelMeta = map[string]bool{"meta.source": true, "meta.desc": true, "meta.url": true}

func parseIntel(data string) ([]intelItem, error) {
	lines := strings.Split(data, "\n")
	if lines[len(lines)-1] != "" {
		return nil, fmt.Errorf("last line not ended by a newline")
	}
	lines = lines[:len(lines)-1]
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "#fields\t") {
		return nil, fmt.Errorf("first line is not a #fields header")
	}
	fields := strings.Split(lines[0], "\t")[1:]
	col := map[string]int{}
	for i, f := range fields {
		if f != "indicator" && f != "indicator_type" && !intelMeta[f] {
			return nil, fmt.Errorf("header field %q is not a field of Intel::Item", f)
		}
		if _, dup := col[f]; dup {
			return nil, fmt.Errorf("header field %q twice", f)
		}
		col[f] = i
	}
	for _, need := range []string{"indicator", "indicator_type", "meta.source"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("header lacks %s", need)
		}
	}
	var out []intelItem
	for n, line := range lines[1:] {
		where := fmt.Sprintf("line %d", n+2)
		if strings.HasPrefix(line, "#") {
			continue
		}
		vals := strings.Split(line, "\t")
		if len(vals) != len(fields) {
			return nil, fmt.Errorf("%s: %d fields, header has %d", where, len(vals), len(fields))
		}
		it := intelItem{Meta: map[string]string{}}
		for f, i := range col {
			v := vals[i]
			switch {
			case v == "":
				return nil, fmt.Errorf("%s: field %s empty (unset is \"-\")", where, f)
			case strings.ContainsRune(v, '\r'):
				return nil, fmt.Errorf("%s: field %s holds a carriage return", where, f)
			}
			switch f {
			case "indicator":
				it.Indicator = v
			case "indicator_type":
				it.Type = v
			default:
				if v != "-" {
					it.Meta[strings.TrimPrefix(f, "meta.")] = v
				}
			}
		}
		if it.Indicator == "-" {
			return nil, fmt.Errorf("%s: indicator unset", where)
		}
		if it.Meta["source"] == "" {
			return nil, fmt.Errorf("%s: meta.source unset", where)
		}
		if !intelTypes[it.Type] {
			return nil, fmt.Errorf("%s: %q is not an Intel::Type", where, it.Type)
		}
		switch it.Type {
		case "Intel::ADDR":
			if _, err := netip.ParseAddr(it.Indicator); err != nil {
				return nil, fmt.Errorf("%s: ADDR %q: %v", where, it.Indicator, err)
			}
		case "Intel::SUBNET":
			if _, err := netip.ParsePrefix(it.Indicator); err != nil {
				return nil, fmt.Errorf("%s: SUBNET %q: %v", where, it.Indicator, err)
			}
		case "Intel::URL":
			if strings.Contains(it.Indicator, "://") {
				return nil, fmt.Errorf("%s: URL %q has a scheme; Zeek's URLs have none", where, it.Indicator)
			}
		case "Intel::FILE_HASH":
			for _, c := range it.Indicator {
				if !strings.ContainsRune("0123456789abcdef", c) {
					return nil, fmt.Errorf("%s: FILE_HASH %q is not lower-case hex", where, it.Indicator)
				}
			}
		}
		out = append(out, it)
	}
	return out, nil
}
