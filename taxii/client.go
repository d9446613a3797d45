// Package taxii is a TAXII 2.1 client: discovery, API roots, collections,
// objects (with match filters, added_after, limit and next paging), the
// manifest, versions, adding objects (an envelope POSTed, its status polled
// until complete) and deleting them. It speaks to any conformant server,
// this project's own and others', over the standard library's net/http,
// and is what federation uses to reach peer hubs.
package taxii

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Media types of TAXII 2.1 (section 1.6.8).
const (
	MediaTAXII = "application/taxii+json;version=2.1"
	MediaSTIX  = "application/stix+json;version=2.1"
)

// Defaults of a Client.
const (
	DefaultTimeout          = time.Minute
	DefaultMaxResponseBytes = 512 << 20
	DefaultStatusPoll       = 200 * time.Millisecond
)

// Client is a TAXII 2.1 client. Its zero value works without credentials;
// set User and Key for HTTP Basic, or Key alone for a Bearer token. A
// Client is safe for concurrent use once configured.
type Client struct {
	// HTTP is the client requests go through; nil means one with Timeout.
	HTTP *http.Client
	// Timeout bounds each request, its body included, when HTTP is nil;
	// zero means DefaultTimeout.
	Timeout time.Duration
	// User and Key authenticate: Basic with both, Bearer with Key alone.
	User string
	Key  string
	// UserAgent is sent with every request; empty means "cyberpact-taxii".
	UserAgent string
	// MaxResponseBytes caps a response body; zero means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// StatusPoll is the wait between reads of a pending status after a
	// POST; zero means DefaultStatusPoll.
	StatusPoll time.Duration
}

// Error is a request that failed: the server's answer, with its TAXII
// error message when it sent one, or a transport failure (StatusCode 0).
type Error struct {
	Method     string
	URL        string
	StatusCode int // 0 when no answer came
	// Title, Description, ErrorID and ErrorCode are the server's TAXII
	// error message (section 3.6.1), when it sent one.
	Title       string
	Description string
	ErrorID     string
	ErrorCode   string
	Err         error // the transport or decoding failure, if any
}

// Error says which request failed, how, and what the server said.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "TAXII %s %s", e.Method, e.URL)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.Title != "" {
		b.WriteString(": " + e.Title)
	}
	if e.Description != "" && e.Description != e.Title {
		b.WriteString(": " + e.Description)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying failure.
func (e *Error) Unwrap() error { return e.Err }

// StatusCode returns the HTTP status of a failed request's answer, 0 when
// err is not an *Error or no answer came.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// Discovery is the server's discovery resource (section 4.1).
type Discovery struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Contact     string   `json:"contact,omitempty"`
	Default     string   `json:"default,omitempty"`
	APIRoots    []string `json:"api_roots,omitempty"`
}

// APIRoot is an API root resource (section 4.2).
type APIRoot struct {
	Title            string   `json:"title"`
	Description      string   `json:"description,omitempty"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
}

// Collection is a collection resource (section 5.2).
type Collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types,omitempty"`
}

// Filter is what a read of objects, a manifest or versions asks for: the
// URL parameters of section 3.4. Zero fields are not sent.
type Filter struct {
	AddedAfter   string   // a TAXII timestamp: versions added strictly after
	Limit        int      // the most the server should return
	Next         string   // the server's token for the following page
	IDs          []string // match[id]
	Types        []string // match[type]
	Versions     []string // match[version]: first, last, all or timestamps
	SpecVersions []string // match[spec_version]
}

func (f Filter) query() url.Values {
	q := url.Values{}
	if f.AddedAfter != "" {
		q.Set("added_after", f.AddedAfter)
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Next != "" {
		q.Set("next", f.Next)
	}
	set := func(name string, vs []string) {
		if len(vs) > 0 {
			q.Set(name, strings.Join(vs, ","))
		}
	}
	set("match[id]", f.IDs)
	set("match[type]", f.Types)
	set("match[version]", f.Versions)
	set("match[spec_version]", f.SpecVersions)
	return q
}

// Page is what every paged read has: whether there is more, the token for
// it, and the X-TAXII-Date-Added-First and -Last headers (section 3.3.1).
type Page struct {
	More           bool   `json:"more"`
	Next           string `json:"next,omitempty"`
	DateAddedFirst string `json:"-"`
	DateAddedLast  string `json:"-"`
}

// Envelope is one page of objects (section 3.7): each object's JSON as the
// server sent it.
type Envelope struct {
	Page
	Objects []json.RawMessage `json:"objects,omitempty"`
}

// ManifestEntry describes one version without its content (section 5.3).
type ManifestEntry struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type,omitempty"`
}

// Manifest is one page of a manifest.
type Manifest struct {
	Page
	Objects []ManifestEntry `json:"objects,omitempty"`
}

// Versions is one page of an object's versions (section 5.8).
type Versions struct {
	Page
	Versions []string `json:"versions,omitempty"`
}

// Status is the status of a POST of objects (section 4.3).
type Status struct {
	ID               string         `json:"id"`
	Status           string         `json:"status"` // "complete" or "pending"
	RequestTimestamp string         `json:"request_timestamp,omitempty"`
	Total            int            `json:"total_count"`
	Success          int            `json:"success_count"`
	Failure          int            `json:"failure_count"`
	Pending          int            `json:"pending_count"`
	Successes        []StatusDetail `json:"successes,omitempty"`
	Failures         []StatusDetail `json:"failures,omitempty"`
	Pendings         []StatusDetail `json:"pendings,omitempty"`
}

// StatusDetail names one object of a status and, for a failure, why.
type StatusDetail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// Discover reads the discovery resource at url, e.g.
// https://hub.example/taxii2/.
func (c *Client) Discover(ctx context.Context, url string) (*Discovery, error) {
	var d Discovery
	_, err := c.get(ctx, dir(url), nil, &d)
	return &d, err
}

// APIRoot reads the API root at root, e.g. https://hub.example/taxii2/api1/.
func (c *Client) APIRoot(ctx context.Context, root string) (*APIRoot, error) {
	var a APIRoot
	_, err := c.get(ctx, dir(root), nil, &a)
	return &a, err
}

// Collections lists the collections of an API root the caller may see.
func (c *Client) Collections(ctx context.Context, root string) ([]Collection, error) {
	var out struct {
		Collections []Collection `json:"collections"`
	}
	_, err := c.get(ctx, dir(root)+"collections/", nil, &out)
	return out.Collections, err
}

// Collection reads one collection.
func (c *Client) Collection(ctx context.Context, root, id string) (*Collection, error) {
	var col Collection
	_, err := c.get(ctx, collectionURL(root, id), nil, &col)
	return &col, err
}

// Objects reads one page of a collection's objects.
func (c *Client) Objects(ctx context.Context, root, collection string, f Filter) (*Envelope, error) {
	var e Envelope
	h, err := c.get(ctx, collectionURL(root, collection)+"objects/", f.query(), &e)
	e.Page.dates(h)
	return &e, err
}

// Object reads one page of the versions of one object (by default its
// latest; Filter.Versions for others).
func (c *Client) Object(ctx context.Context, root, collection, id string, f Filter) (*Envelope, error) {
	var e Envelope
	h, err := c.get(ctx, collectionURL(root, collection)+"objects/"+url.PathEscape(id)+"/", f.query(), &e)
	e.Page.dates(h)
	return &e, err
}

// Manifest reads one page of a collection's manifest.
func (c *Client) Manifest(ctx context.Context, root, collection string, f Filter) (*Manifest, error) {
	var m Manifest
	h, err := c.get(ctx, collectionURL(root, collection)+"manifest/", f.query(), &m)
	m.Page.dates(h)
	return &m, err
}

// Versions reads one page of the versions of an object.
func (c *Client) Versions(ctx context.Context, root, collection, id string, f Filter) (*Versions, error) {
	var v Versions
	h, err := c.get(ctx, collectionURL(root, collection)+"objects/"+url.PathEscape(id)+"/versions/", f.query(), &v)
	v.Page.dates(h)
	return &v, err
}

// DeleteObject deletes the versions of an object that versions selects
// (match[version]; none sent means the server's default, all versions).
func (c *Client) DeleteObject(ctx context.Context, root, collection, id string, versions ...string) error {
	q := Filter{Versions: versions}.query()
	_, err := c.do(ctx, http.MethodDelete, collectionURL(root, collection)+"objects/"+url.PathEscape(id)+"/", q, nil, nil)
	return err
}

// Status reads the status of an earlier POST.
func (c *Client) Status(ctx context.Context, root, id string) (*Status, error) {
	var s Status
	_, err := c.get(ctx, dir(root)+"status/"+url.PathEscape(id)+"/", nil, &s)
	return &s, err
}

// AddObjects POSTs objects as one envelope to a collection and, while the
// server's status is pending, reads it again until it is complete or ctx
// ends. It returns the last status read.
func (c *Client) AddObjects(ctx context.Context, root, collection string, objects []json.RawMessage) (*Status, error) {
	var body bytes.Buffer
	body.Grow(64 + len(objects)*512)
	body.WriteString(`{"objects":[`)
	for i, o := range objects {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(o)
	}
	body.WriteString("]}")
	var s Status
	if _, err := c.do(ctx, http.MethodPost, collectionURL(root, collection)+"objects/", nil, body.Bytes(), &s); err != nil {
		return nil, err
	}
	poll := c.StatusPoll
	if poll <= 0 {
		poll = DefaultStatusPoll
	}
	for s.Status == "pending" {
		if s.ID == "" {
			return &s, &Error{Method: http.MethodPost, URL: collectionURL(root, collection) + "objects/", Err: errors.New("the server answered a pending status without an id")}
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return &s, ctx.Err()
		case <-t.C:
		}
		next, err := c.Status(ctx, root, s.ID)
		if err != nil {
			return &s, err
		}
		s = *next
	}
	return &s, nil
}

// dir returns u with a trailing slash: TAXII resources are directories.
func dir(u string) string {
	if strings.HasSuffix(u, "/") {
		return u
	}
	return u + "/"
}

func collectionURL(root, id string) string {
	return dir(root) + "collections/" + url.PathEscape(id) + "/"
}

func (p *Page) dates(h http.Header) {
	if h == nil {
		return
	}
	p.DateAddedFirst = h.Get("X-TAXII-Date-Added-First")
	p.DateAddedLast = h.Get("X-TAXII-Date-Added-Last")
}

func (c *Client) get(ctx context.Context, u string, q url.Values, out any) (http.Header, error) {
	return c.do(ctx, http.MethodGet, u, q, nil, out)
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	t := c.Timeout
	if t <= 0 {
		t = DefaultTimeout
	}
	return &http.Client{Timeout: t}
}

// do sends one request and decodes a TAXII answer into out (when not nil).
// Any status but 2xx is an *Error with the server's TAXII error message.
func (c *Client) do(ctx context.Context, method, u string, q url.Values, body []byte, out any) (http.Header, error) {
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	fail := func(status int, err error) *Error {
		return &Error{Method: method, URL: u, StatusCode: status, Err: err}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fail(0, err)
	}
	req.Header.Set("Accept", MediaTAXII)
	if body != nil {
		req.Header.Set("Content-Type", MediaTAXII)
	}
	ua := c.UserAgent
	if ua == "" {
		ua = "cyberpact-taxii"
	}
	req.Header.Set("User-Agent", ua)
	switch {
	case c.User != "":
		req.SetBasicAuth(c.User, c.Key)
	case c.Key != "":
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fail(0, err)
	}
	defer resp.Body.Close()
	limit := c.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return resp.Header, fail(resp.StatusCode, fmt.Errorf("reading the answer: %w", err))
	}
	if int64(len(data)) > limit {
		return resp.Header, fail(resp.StatusCode, fmt.Errorf("the answer is larger than %d bytes", limit))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := fail(resp.StatusCode, nil)
		var msg struct {
			Title       string `json:"title"`
			Description string `json:"description"`
			ErrorID     string `json:"error_id"`
			ErrorCode   string `json:"error_code"`
		}
		if json.Unmarshal(data, &msg) == nil {
			e.Title, e.Description, e.ErrorID, e.ErrorCode = msg.Title, msg.Description, msg.ErrorID, msg.ErrorCode
		}
		return resp.Header, e
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 && method == http.MethodDelete {
		return resp.Header, nil
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/taxii+json" && mt != "application/json" && mt != "application/stix+json") {
			return resp.Header, fail(resp.StatusCode, fmt.Errorf("the answer is %s, not a TAXII resource (is the URL a TAXII API root?)", ct))
		}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.Header, fail(resp.StatusCode, fmt.Errorf("the answer is not a TAXII resource: %w", err))
	}
	return resp.Header, nil
}
