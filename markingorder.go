package cyberpact

import (
	"io"
	"strings"
)

// MarkingLookahead is how many bytes of objects an import reads ahead, at
// most, looking for the marking definitions that an object before them
// refers to (Terms.Ordered). MITRE's ATT&CK and CAPEC bundles, for one,
// carry their statement marking after thousands of objects that refer to
// it (5.3 MB of them in Enterprise ATT&CK 18.1); what is held is bounded
// so that an import's memory stays bounded whatever its input.
const MarkingLookahead = 16 << 20

// Ordered returns next with the marking definitions an object refers to
// moved before it when they come later in the input, so that Mark knows
// them when it meets the object: when an object refers to a marking
// definition Mark does not know yet (neither in Markings nor in Refused),
// Ordered reads ahead until every marking definition the objects read
// ahead refer to has been met, the input ends, or MarkingLookahead bytes
// of objects are held, then yields the marking definitions it read
// (refused ones included, as the rejections of next) before the other
// objects, each group in input order. Nothing else changes order, and an
// object whose marking definition was not found is refused by Mark as
// referring to an unknown one.
func (t *Terms) Ordered(next ObjectSource) ObjectSource {
	type item struct {
		o   *Object
		err error
	}
	var out []item
	pos, ended := 0, false
	// needs adds to need the marking definitions o refers to that are
	// neither known to t nor found ahead.
	needs := func(o *Object, need, found map[string]bool) {
		for _, id := range o.MarkingRefs {
			t.need(strings.ToLower(id), need, found)
		}
		for _, id := range o.GranularMarkingRefs {
			t.need(strings.ToLower(id), need, found)
		}
	}
	return func() (*Object, error) {
		if pos < len(out) {
			it := out[pos]
			out[pos], pos = item{}, pos+1
			ended = it.err == io.EOF
			return it.o, it.err
		}
		if ended {
			return nil, io.EOF
		}
		o, err := next()
		if err != nil {
			ended = err == io.EOF
			return o, err
		}
		if t.knowsAll(o) {
			return o, nil
		}
		need, found := map[string]bool{}, map[string]bool{}
		needs(o, need, found)
		defs, rest := []item{}, []item{{o, nil}}
		size := len(o.Raw)
		for len(need) > 0 && size < MarkingLookahead {
			o, err := next()
			if err != nil {
				rs, ok := RejectionsOf(err)
				if !ok {
					rest = append(rest, item{o, err}) // the end of the input, or an error that ends the import
					break
				}
				def := false
				for _, r := range rs {
					if IsMarkingDefinition(r.ID) {
						k := strings.ToLower(r.ID)
						found[k], def = true, true
						delete(need, k)
					}
				}
				if def {
					defs = append(defs, item{nil, err})
				} else {
					rest = append(rest, item{nil, err})
				}
				continue
			}
			size += len(o.Raw)
			if o.Type == "marking-definition" {
				k := strings.ToLower(o.ID)
				found[k] = true
				delete(need, k)
				defs = append(defs, item{o, nil})
			} else {
				rest = append(rest, item{o, nil})
			}
			needs(o, need, found)
		}
		out, pos = append(defs, rest...), 1
		it := out[0]
		out[0] = item{}
		ended = it.err == io.EOF
		return it.o, it.err
	}
}

// need adds id to need unless t knows it or it was found ahead.
func (t *Terms) need(id string, need, found map[string]bool) {
	if !t.knows(id) && !found[id] {
		need[id] = true
	}
}

// knows reports whether Mark has an answer for a reference to the marking
// definition of canonical id: accepted or refused.
func (t *Terms) knows(id string) bool {
	if _, ok := t.Markings[id]; ok {
		return true
	}
	_, ok := t.Refused[id]
	return ok
}

// knowsAll reports whether t knows every marking definition o refers to.
func (t *Terms) knowsAll(o *Object) bool {
	for _, ids := range [2][]string{o.MarkingRefs, o.GranularMarkingRefs} {
		for _, id := range ids {
			if !t.knows(strings.ToLower(id)) {
				return false
			}
		}
	}
	return true
}
