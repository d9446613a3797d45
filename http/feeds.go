package http

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
	"github.com/cyberpact/cyberpact/sensor"
)

// registerFeeds adds the sensor feeds: what a SIEM, IDS, firewall or
// resolver polls. Each needs an API key and reads as the caller's Viewer.
func (s *Server) registerFeeds() {
	s.handle("GET /api/v1/feeds/{format}", s.authed(s.feed))
}

// feed serves GET /api/v1/feeds/{format}: the indicators the caller may
// see in one of sensor.Formats, or with format "navigator" an ATT&CK
// Navigator layer (parameter "of": an intrusion-set, threat-actor,
// campaign or report; without it, the techniques sighted). The filters
// are sensor.QueryParams,
// plus audience (all, org or group:NAME: only objects released to it) and
// max_tlp (the most restricted level served, amber+strict unless the
// caller asks for red, which adds the TLP:RED versions the sharing rule
// lets its organisation see: those released to it or to one of its
// groups). The ETag covers the feed's entries, not its dated header, and
// If-None-Match with it answers 304 without a body. What is served is
// audited as a release before the body is sent.
func (s *Server) feed(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p := principalOf(r)
	format := r.PathValue("format")
	if format != "navigator" && sensor.Formats[format] == nil {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no feed format %q (navigator, %s)", format, strings.Join(sensor.FormatNames(), ", "))
	}
	q := r.URL.Query()
	opt, err := sensor.ParseOptions(q.Get)
	if err != nil {
		return err
	}
	f := cyberpact.ObjectFilter{Viewer: viewerOf(r), MaxTLP: cyberpact.TLPAmberStrict}
	if format != "navigator" {
		// Sensor formats act on what they carry: PAP:RED never goes there.
		f.MaxPAP = cyberpact.PAPAmber
	}
	if v := q.Get("max_tlp"); v != "" {
		if f.MaxTLP, err = cyberpact.ParseTLP(v); err != nil {
			return cyberpact.Errorf(cyberpact.EINVALID, "max_tlp: %s", cyberpact.ErrorMessage(err))
		}
	}
	if v := q.Get("audience"); v != "" {
		au, err := s.parseAudience(ctx, p, v)
		if err != nil {
			return err
		}
		f.Audience = &au
	}
	tmp, err := os.CreateTemp("", "cyberpact-feed-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	var released []*cyberpact.Object
	var digest [sha256.Size]byte
	ctype := "application/json"
	if format == "navigator" {
		l, err := sensor.BuildLayer(ctx, s.Store, f, sensor.LayerSpec{Of: q.Get("of")})
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := sensor.WriteLayer(&b, l); err != nil {
			return err
		}
		digest = sha256.Sum256(b.Bytes())
		if _, err := tmp.Write(b.Bytes()); err != nil {
			return err
		}
		released = l.Sources
	} else {
		f.Types, f.ExcludeRevoked = []string{"indicator"}, true
		if opt.LastSighted, err = match.LastSightings(ctx, s.Store, f); err != nil {
			return err
		}
		opt.LinkBase = "/api/v1/objects/"
		opt.Released = func(o *cyberpact.Object) {
			released = append(released, &cyberpact.Object{Seq: o.Seq, ID: o.ID, Modified: o.Modified, Release: o.Release})
		}
		st, err := sensor.Export(tmp, format, func(fn func(*cyberpact.Object) error) error { return s.Store.EachObject(ctx, f, fn) }, opt)
		if err != nil {
			return err
		}
		digest = st.Digest
		ctype = sensor.Formats[format].ContentType
	}
	etag := `"` + hex.EncodeToString(digest[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Vary", "Authorization")
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if err := s.auditRelease(r, p, "feed", f.Viewer, released); err != nil {
		return err
	}
	h.Set("Content-Type", ctype)
	http.ServeContent(w, r, "", time.Time{}, tmp)
	return nil
}

// etagMatch reports whether an If-None-Match header names etag (weakly, as
// RFC 9110 compares for If-None-Match) or is "*".
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
