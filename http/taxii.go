package http

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	"github.com/cyberpact/cyberpact"
)

// The TAXII 2.1 server lives under /taxii2/ with one API root, api1. Its
// resources are in one file each: taxii.go (discovery, API root, content
// negotiation), taxii_collections.go, taxii_objects.go (objects, one
// object, versions), taxii_manifest.go and taxii_status.go.

// TAXII media types.
const (
	taxiiMedia = "application/taxii+json;version=2.1"
	stixMedia  = "application/stix+json;version=2.1"
	taxiiRoot  = "/taxii2/"
	apiRoot    = "/taxii2/api1/"
)

func (s *Server) registerTAXII() {
	s.handle("GET /taxii2/{$}", s.taxii(s.taxiiDiscovery))
	s.handle("GET /taxii2/api1/{$}", s.taxii(s.taxiiAPIRoot))
	s.handle("GET /taxii2/api1/collections/{$}", s.taxii(s.taxiiCollections))
	s.handle("GET /taxii2/api1/collections/{collection}/{$}", s.taxii(s.taxiiCollection))
	s.handle("GET /taxii2/api1/collections/{collection}/objects/{$}", s.taxii(s.taxiiGetObjects))
	s.handle("POST /taxii2/api1/collections/{collection}/objects/{$}", s.taxii(s.taxiiPostObjects))
	s.handle("GET /taxii2/api1/collections/{collection}/objects/{object}/{$}", s.taxii(s.taxiiGetObject))
	s.handle("DELETE /taxii2/api1/collections/{collection}/objects/{object}/{$}", s.taxii(s.taxiiDeleteObject))
	s.handle("GET /taxii2/api1/collections/{collection}/objects/{object}/versions/{$}", s.taxii(s.taxiiVersions))
	s.handle("GET /taxii2/api1/collections/{collection}/manifest/{$}", s.taxii(s.taxiiManifest))
	s.handle("GET /taxii2/api1/status/{status}/{$}", s.taxii(s.taxiiStatus))
	// Everything else under /taxii2/ is a TAXII error too: 405 for a known
	// resource asked with the wrong method, 404 otherwise.
	s.handle("/taxii2/", s.noRoute("/taxii2/", "TAXII resource"))
}

// isTAXII reports whether r is for the TAXII server, whose answers (errors
// included) are TAXII resources.
func isTAXII(r *http.Request) bool {
	return r.URL.Path == "/taxii2" || strings.HasPrefix(r.URL.Path, taxiiRoot)
}

// taxii wraps a TAXII handler: content negotiation (406 for an Accept that
// names no TAXII 2.1 media type), then authentication, optional so that
// anonymous callers reach the public collection when it is enabled.
func (s *Server) taxii(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	inner := s.maybeAuthed(h)
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := acceptTAXII(r.Header.Values("Accept")); err != nil {
			return err
		}
		return inner(w, r)
	}
}

// caller returns r's principal; without one it is EUNAUTHORIZED unless
// anonymous callers are served (the public collection) and anon is true.
func (s *Server) caller(r *http.Request, anon bool) (*cyberpact.Principal, error) {
	p := principalOf(r)
	if p == nil && !(anon && s.Public) {
		return nil, cyberpact.Errorf(cyberpact.EUNAUTHORIZED, "authentication required: send an API key as HTTP Basic (user name and key) or as \"Authorization: Bearer KEY\"")
	}
	return p, nil
}

// acceptTAXII checks an Accept header against TAXII 2.1 (section 1.6.8):
// application/taxii+json with version 2.1 or no version, or a wildcard
// range that covers it. No header at all is taken as acceptance.
func acceptTAXII(values []string) error {
	if len(values) == 0 {
		return nil
	}
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			if q := params["q"]; q == "0" || q == "0.0" || q == "0.00" || q == "0.000" {
				continue
			}
			switch mt {
			case "*/*", "application/*":
				return nil
			case "application/taxii+json":
				if ver, ok := params["version"]; !ok || ver == "2.1" {
					return nil
				}
			}
		}
	}
	return &statusError{status: http.StatusNotAcceptable, code: "not_acceptable",
		msg: "the Accept header names no media type this server answers with: use " + taxiiMedia}
}

// contentTypeTAXII checks a POST's Content-Type: TAXII 2.1 envelopes only.
func contentTypeTAXII(v string) error {
	mt, params, err := mime.ParseMediaType(v)
	if err == nil && mt == "application/taxii+json" && params["version"] == "2.1" {
		return nil
	}
	if v == "" {
		v = "none"
	}
	return &statusError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
		msg: "Content-Type " + v + " is not supported: send a TAXII envelope as " + taxiiMedia}
}

// writeTAXII answers with a TAXII resource.
func writeTAXII(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", taxiiMedia)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// discovery is the TAXII discovery resource.
type discovery struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Default     string   `json:"default,omitempty"`
	APIRoots    []string `json:"api_roots"`
}

// apiRootInfo is the TAXII API root resource.
type apiRootInfo struct {
	Title            string   `json:"title"`
	Description      string   `json:"description,omitempty"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
}

func (s *Server) title() string {
	if s.TAXIITitle != "" {
		return s.TAXIITitle
	}
	return "cyberpact"
}

func (s *Server) taxiiDiscovery(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.caller(r, true); err != nil {
		return err
	}
	root := absoluteURL(r, apiRoot)
	return writeTAXII(w, http.StatusOK, discovery{
		Title:       s.title(),
		Description: "Threat intelligence shared by the partnership's member organisations.",
		Default:     root,
		APIRoots:    []string{root},
	})
}

// absoluteURL turns a path on this server into the absolute URL the client
// reached it by (the Host it asked for; https behind TLS or a proxy that
// says so), since TAXII clients follow discovery's API roots as given.
func absoluteURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

func (s *Server) taxiiAPIRoot(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.caller(r, true); err != nil {
		return err
	}
	return writeTAXII(w, http.StatusOK, apiRootInfo{
		Title:            s.title(),
		Description:      "One collection per sharing group, one for all members, one private per organisation.",
		Versions:         []string{taxiiMedia},
		MaxContentLength: s.bodyLimit(r),
	})
}
