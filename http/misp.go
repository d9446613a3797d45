package http

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/misp"
)

// mispSniff is how much of a posted body is looked at to tell MISP JSON
// from a STIX bundle.
const mispSniff = 16 << 10

// bundleBody returns the STIX bundle a POST /api/v1/bundles carries: the
// body itself, or, for MISP JSON (a Content-Type naming misp, or a body
// whose first keys are MISP's: "Event", "response", a bare event), the
// events converted to STIX. For MISP JSON without an audience parameter
// the events' distribution chooses the audience: organisation only the
// caller's organisation, a sharing group the caller's group of that name,
// the community levels all members; events that disagree need the
// parameter.
func (s *Server) bundleBody(r *http.Request, p *cyberpact.Principal, opts *cyberpact.ImportOptions) (io.Reader, error) {
	br := bufio.NewReaderSize(r.Body, mispSniff)
	prefix, _ := br.Peek(mispSniff)
	if !strings.Contains(strings.ToLower(r.Header.Get("Content-Type")), "misp") && !misp.Sniff(prefix) {
		return br, nil
	}
	events, err := misp.Decode(br)
	if err != nil {
		if tooLarge(err) {
			return nil, err
		}
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "%s", err)
	}
	var buf bytes.Buffer
	hints, err := misp.WriteBundle(&buf, events)
	if err != nil {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "%s", err)
	}
	if r.URL.Query().Get("audience") != "" {
		return &buf, nil
	}
	h, ok := misp.CommonAudience(hints)
	if !ok {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "the MISP events have different distributions: choose one audience for all with the audience parameter")
	}
	switch h.Kind() {
	case cyberpact.AudienceOrg:
		opts.Audience = cyberpact.Audience{Kind: cyberpact.AudienceOrg}
	case cyberpact.AudienceGroup:
		name := ""
		if h.SharingGroup != nil {
			name = h.SharingGroup.Name
		}
		aud, err := s.parseAudience(r.Context(), p, "group:"+name)
		if err != nil {
			return nil, cyberpact.Errorf(cyberpact.EINVALID, "the MISP events are for sharing group %q, which is not one of your organisation's groups: give the audience parameter", name)
		}
		opts.Audience = aud
	}
	return &buf, nil
}

// tooLarge reports whether err is the body limit's.
func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
