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
	// DefaultStatusWait bounds how long AddObjects reads a status that
	// stays pending.
	DefaultStatusWait = 2 * time.Minute
	// DefaultMaxRetryWait is the longest Retry-After a Client waits out
	// by itself before sending a request again; a longer one is returned
	// as an *Error with RetryAfter set.
	DefaultMaxRetryWait = time.Minute
	// maxRetries is how many times one request is sent again after a 429
	// or 503 with Retry-After.
	maxRetries = 3
)

// ErrStatusPending is the error of AddObjects when the server's status
// stayed pending for longer than the Client's StatusWait: the objects it
// does not list as successes are not known to be stored there.
var ErrStatusPending = errors.New("the status stayed pending")

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
	// StatusWait bounds the reading of a pending status after a POST; zero
	// means DefaultStatusWait. AddObjects then returns the last status
	// read with ErrStatusPending.
	StatusWait time.Duration
	// MaxRetryWait is the longest Retry-After (of a 429 or 503 answer) the
	// Client waits out before sending the request again, at most three
	// times; zero means DefaultMaxRetryWait, negative never waits. A
	// longer wait, or one past ctx's deadline, ends the request with an
	// *Error whose RetryAfter says when the server may be asked again.
	MaxRetryWait time.Duration
	// Sleep waits d or until ctx ends; nil means a timer. Tests replace
	// it to see the waits asked for without spending them.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Requests never follow a redirect off the origin (scheme, host and port)
// of the URL they were sent to, nor from https to http: the answer is an
// *Error whose Err is a *RedirectError, and neither the credentials nor a
// POSTed body ever reach the other origin.

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
	// RetryAfter is when the server, answering 429 or 503 with a
	// Retry-After header, said it may be asked again; zero otherwise.
	RetryAfter time.Time
}

// RedirectError is a redirect the Client refused to follow.
type RedirectError struct {
	From, To  string // the URL redirected and the redirect's target
	Downgrade bool   // from https to http
}

func (e *RedirectError) Error() string {
	why := "off the peer's origin " + origin(mustParse(e.From))
	if e.Downgrade {
		why = "a downgrade from https to http"
	}
	return fmt.Sprintf("refused the redirect to %s (%s): neither credentials nor objects were sent there", redact(e.To), why)
}

func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		return &url.URL{}
	}
	return u
}

// redact drops the query of a URL for messages: it may carry a token.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "an unreadable URL"
	}
	u.RawQuery, u.User = "", nil
	return u.String()
}

// origin is the scheme, host and port of u, the port spelled out.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// checkRedirect refuses a redirect off the first request's origin or from
// https to http. Go would otherwise send the Authorization header to any
// port of the same host and a 307's body to wherever it points.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	down := strings.EqualFold(via[len(via)-1].URL.Scheme, "https") && !strings.EqualFold(req.URL.Scheme, "https")
	if down || origin(req.URL) != origin(first) {
		return &RedirectError{From: via[len(via)-1].URL.String(), To: req.URL.String(), Downgrade: down}
	}
	return nil
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
	if !e.RetryAfter.IsZero() {
		b.WriteString(": the server asks to be tried again after " + e.RetryAfter.UTC().Format(time.RFC3339))
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
	wait := c.StatusWait
	if wait <= 0 {
		wait = DefaultStatusWait
	}
	var waited time.Duration
	for polls := 0; s.Status == "pending"; polls++ {
		if s.ID == "" {
			return &s, &Error{Method: http.MethodPost, URL: collectionURL(root, collection) + "objects/", Err: errors.New("the server answered a pending status without an id")}
		}
		if waited >= wait {
			return &s, &Error{Method: http.MethodGet, URL: dir(root) + "status/" + url.PathEscape(s.ID) + "/",
				Err: fmt.Errorf("%w after %d reads over %s (%d of %d objects pending)", ErrStatusPending, polls, waited, s.Pending, s.Total)}
		}
		if err := c.sleep(ctx, poll); err != nil {
			return &s, err
		}
		waited += poll
		next, err := c.Status(ctx, root, s.ID)
		if err != nil {
			return &s, err
		}
		s = *next
	}
	return &s, nil
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// Body is the answer to a read of objects taken as a stream: the caller
// reads Body (an envelope) and closes it.
type Body struct {
	io.ReadCloser
	Header http.Header
}

// StreamObjects reads one page of a collection's objects without holding
// it: the caller reads the envelope from the answer's body (with
// stix.NewEnvelopeReader, say) and closes it. Errors are as for Objects.
func (c *Client) StreamObjects(ctx context.Context, root, collection string, f Filter) (*Body, error) {
	return c.stream(ctx, collectionURL(root, collection)+"objects/", f.query())
}

// StreamObject is Object taken as a stream, as StreamObjects.
func (c *Client) StreamObject(ctx context.Context, root, collection, id string, f Filter) (*Body, error) {
	return c.stream(ctx, collectionURL(root, collection)+"objects/"+url.PathEscape(id)+"/", f.query())
}

func (c *Client) stream(ctx context.Context, u string, q url.Values) (*Body, error) {
	resp, err := c.send(ctx, http.MethodGet, u, q, nil)
	if err != nil {
		return nil, err
	}
	if err := checkType(resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return &Body{ReadCloser: resp.Body, Header: resp.Header}, nil
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
	resp, err := c.send(ctx, method, u, q, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	fail := func(err error) *Error {
		return &Error{Method: method, URL: resp.Request.URL.String(), StatusCode: resp.StatusCode, Err: err}
	}
	limit := c.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return resp.Header, fail(fmt.Errorf("reading the answer: %w", err))
	}
	if int64(len(data)) > limit {
		return resp.Header, fail(fmt.Errorf("the answer is larger than %d bytes", limit))
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 && method == http.MethodDelete {
		return resp.Header, nil
	}
	if err := checkType(resp); err != nil {
		return resp.Header, err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.Header, fail(fmt.Errorf("the answer is not a TAXII resource: %w", err))
	}
	return resp.Header, nil
}

// checkType refuses a 2xx answer that is not a TAXII or STIX resource.
func checkType(resp *http.Response) error {
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/taxii+json" && mt != "application/json" && mt != "application/stix+json") {
		return &Error{Method: resp.Request.Method, URL: resp.Request.URL.String(), StatusCode: resp.StatusCode,
			Err: fmt.Errorf("the answer is %s, not a TAXII resource (is the URL a TAXII API root?)", ct)}
	}
	return nil
}

// send sends one request, refusing redirects off its origin, and waits out
// a 429 or 503 answer's Retry-After (see MaxRetryWait) before sending it
// again. It returns a 2xx answer, whose body the caller closes, or an
// *Error.
func (c *Client) send(ctx context.Context, method, u string, q url.Values, body []byte) (*http.Response, error) {
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	fail := func(status int, err error) *Error {
		return &Error{Method: method, URL: u, StatusCode: status, Err: err}
	}
	hc := *c.httpClient()
	hc.CheckRedirect = checkRedirect
	maxWait := c.MaxRetryWait
	if maxWait == 0 {
		maxWait = DefaultMaxRetryWait
	}
	for attempt := 0; ; attempt++ {
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
		resp, err := hc.Do(req)
		if err != nil {
			var re *RedirectError
			if errors.As(err, &re) {
				err = re // without url.Error's repetition of the URL
			}
			return nil, fail(0, err)
		}
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return resp, nil
		}
		e := fail(resp.StatusCode, nil)
		e.URL = resp.Request.URL.String()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		var msg struct {
			Title       string `json:"title"`
			Description string `json:"description"`
			ErrorID     string `json:"error_id"`
			ErrorCode   string `json:"error_code"`
		}
		if json.Unmarshal(data, &msg) == nil {
			e.Title, e.Description, e.ErrorID, e.ErrorCode = msg.Title, msg.Description, msg.ErrorID, msg.ErrorCode
		}
		if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
			return nil, e
		}
		now := time.Now()
		d, ok := retryAfter(resp.Header.Get("Retry-After"), now)
		if !ok {
			return nil, e
		}
		e.RetryAfter = now.Add(d)
		if attempt >= maxRetries || maxWait < 0 || d > maxWait {
			return nil, e
		}
		if dl, has := ctx.Deadline(); has && now.Add(d).After(dl) {
			return nil, e
		}
		if err := c.sleep(ctx, d); err != nil {
			return nil, e
		}
	}
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP-date
// (RFC 9110, section 10.2.3). A date in the past is no wait.
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(365*24*time.Hour/time.Second) {
			n = int64(365 * 24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
