package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/pattern"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/uuid"
)

// Publishing: an indicator from a form, or a STIX bundle uploaded or
// pasted, as the signed-in user's organisation, to the audience and at
// the TLP level picked, each said in words. Both go through the one
// admission step every front end uses (cyberpact.AuditedImport, with
// sightings released as what they sight), so the store's validation and
// the sharing rule's refusals apply as for the API; a refusal is shown at
// its field, or for a bundle at its object and line, and nothing is
// stored.

func (h *Handler) registerPublish() {
	h.get("GET /publish", signedIn, h.publishForm)
	h.post("POST /publish/indicator", signedIn, h.publishIndicator)
	h.post("POST /publish/bundle", signedIn, h.publishBundle)
}

// tlpMarkings are the TLP 2.0 marking definitions a published object
// carries.
var tlpMarkings = map[cyberpact.TLP]string{
	cyberpact.TLPClear:       "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	cyberpact.TLPGreen:       "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	cyberpact.TLPAmber:       "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	cyberpact.TLPAmberStrict: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	cyberpact.TLPRed:         "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

type option struct {
	Value, Label string
	Selected     bool
}

type publishPage struct {
	Audiences []option
	TLPs      []option
	Name      string
	Desc      string
	Pattern   string
	Bundle    string
	Errors    map[string]string // by field: name, pattern, audience, tlp, bundle
	Problems  []string          // a bundle's rejections, each with where
	Done      string
	DoneID    string
}

// audienceOptions lists the audiences the user may publish to, in words.
func (h *Handler) audienceOptions(ctx context.Context, c *call, picked string) ([]option, error) {
	p := c.st.Principal
	opts := []option{{Value: "org", Label: "Only my organisation, " + p.Org.Name}}
	if len(p.Groups) > 0 {
		gs, err := h.Store.Groups(ctx)
		if err != nil {
			return nil, err
		}
		orgs, err := h.Store.Orgs(ctx)
		if err != nil {
			return nil, err
		}
		names := map[int64]string{}
		for _, o := range orgs {
			names[o.ID] = o.Name
		}
		for _, g := range gs {
			if !slices.Contains(p.Groups, g.ID) {
				continue
			}
			members := make([]string, len(g.Orgs))
			for i, o := range g.Orgs {
				members[i] = names[o]
			}
			opts = append(opts, option{Value: "group:" + strconv.FormatInt(g.ID, 10),
				Label: "The sharing group " + g.Name + ": " + strings.Join(members, ", ")})
		}
	}
	opts = append(opts, option{Value: "all", Label: "Every member organisation (not for TLP:RED)"})
	for i := range opts {
		opts[i].Selected = opts[i].Value == picked
	}
	return opts, nil
}

var tlpWords = []option{
	{Value: "clear", Label: "TLP:CLEAR: may be shared without limit"},
	{Value: "green", Label: "TLP:GREEN: the audience and its community"},
	{Value: "amber", Label: "TLP:AMBER: the audience's organisations and their clients, need to know"},
	{Value: "amber+strict", Label: "TLP:AMBER+STRICT: the audience's organisations only"},
	{Value: "red", Label: "TLP:RED: the people who receive it, no further"},
}

func tlpOptions(picked string) []option {
	out := slices.Clone(tlpWords)
	for i := range out {
		out[i].Selected = out[i].Value == picked
	}
	return out
}

func (h *Handler) publishPage(r *http.Request, c *call, aud, tlp string) (publishPage, error) {
	if aud == "" {
		aud = "all"
	}
	if tlp == "" {
		tlp = "amber"
	}
	auds, err := h.audienceOptions(r.Context(), c, aud)
	return publishPage{Audiences: auds, TLPs: tlpOptions(tlp), Errors: map[string]string{}}, err
}

func (h *Handler) publishForm(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := mayWrite(c); err != nil {
		return err
	}
	pg, err := h.publishPage(r, c, "", "")
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "publish", c, pg)
	return nil
}

func mayWrite(c *call) error {
	if r := c.st.Principal.User.Role; !r.CanWrite() {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "role %s may read but not publish", r)
	}
	return nil
}

// release reads the audience and TLP picked, noting problems in errs.
func release(c *call, aud, tlp string, errs map[string]string) cyberpact.ImportOptions {
	p := c.st.Principal
	opts := cyberpact.ImportOptions{Producer: p.Org.ID}
	switch {
	case aud == "org":
		opts.Audience = cyberpact.Audience{Kind: cyberpact.AudienceOrg}
	case aud == "all":
		opts.Audience = cyberpact.Audience{Kind: cyberpact.AudienceAll}
	case strings.HasPrefix(aud, "group:"):
		g, err := strconv.ParseInt(strings.TrimPrefix(aud, "group:"), 10, 64)
		if err != nil || !slices.Contains(p.Groups, g) {
			errs["audience"] = "Your organisation is in no such sharing group."
		}
		opts.Audience = cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g}
	default:
		errs["audience"] = "Pick who receives it."
	}
	t, err := cyberpact.ParseTLP(tlp)
	if err != nil {
		errs["tlp"] = "Pick a TLP level."
	}
	opts.DefaultTLP = t
	if why := cyberpact.RefuseRelease(cyberpact.Release{Producer: p.Org.ID, Audience: opts.Audience, TLP: t}); why != "" && errs["audience"] == "" {
		errs["audience"] = why + "."
	}
	return opts
}

// publish imports raw (a bundle) with opts through the admission step,
// returning the rejections, each said with where.
//
// With the form's "anonymous" box ticked the objects are published
// anonymously (cyberpact.AnonymousImport): the hub stands as producer.
func (h *Handler) publish(r *http.Request, c *call, raw []byte, opts cyberpact.ImportOptions) (*cyberpact.ImportResult, []string, error) {
	p := c.st.Principal
	opts.ReleaseFor = cyberpact.SightingReleases(r.Context(), h.Store, p.Viewer())
	dec := stix.NewDecoder(bytes.NewReader(raw))
	defer dec.Close()
	who := cyberpact.Actor{Name: p.User.Name, Org: p.Org.ID, Via: "web"}
	var res *cyberpact.ImportResult
	var err error
	if anon, ok := h.Store.(cyberpact.AnonymityStore); ok && r.PostFormValue("anonymous") != "" {
		var hub string
		if hub, err = anon.HubIdentity(r.Context()); err != nil {
			return nil, nil, err
		}
		res, err = cyberpact.AnonymousImport(r.Context(), h.Store, h.Store, who, stix.Anonymise(dec.Next, hub), opts, "")
	} else {
		res, err = cyberpact.AuditedImport(r.Context(), h.Store, h.Store, who, dec.Next, opts, "")
	}
	if err != nil {
		if cyberpact.ErrorCode(err) == cyberpact.EINVALID {
			return nil, []string{cyberpact.ErrorMessage(err)}, nil
		}
		return nil, nil, err
	}
	var problems []string
	for _, rj := range res.Rejected {
		where := ""
		if rj.Line > 0 {
			where = fmt.Sprintf("line %d: ", rj.Line)
		}
		problems = append(problems, where+rj.Error())
	}
	return res, problems, nil
}

func (h *Handler) publishIndicator(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := mayWrite(c); err != nil {
		return err
	}
	aud, tlp := r.PostFormValue("audience"), r.PostFormValue("tlp")
	pg, err := h.publishPage(r, c, aud, tlp)
	if err != nil {
		return err
	}
	pg.Name, pg.Desc, pg.Pattern = strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("description")), strings.TrimSpace(r.PostFormValue("pattern"))
	opts := release(c, aud, tlp, pg.Errors)
	if pg.Name == "" {
		pg.Errors["name"] = "Give the indicator a name."
	}
	if pg.Pattern == "" {
		pg.Errors["pattern"] = "Give a STIX pattern, such as [ipv4-addr:value = '198.51.100.7']."
	} else if err := pattern.Validate(pg.Pattern, "2.1"); err != nil {
		pg.Errors["pattern"] = err.Error()
	}
	if len(pg.Errors) == 0 {
		now := stix.FormatTime(h.now())
		id := "indicator--" + uuid.NewString()
		obj := map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": now, "modified": now,
			"name": pg.Name, "pattern": pg.Pattern, "pattern_type": "stix", "valid_from": now,
			"object_marking_refs": []string{tlpMarkings[opts.DefaultTLP]}}
		if pg.Desc != "" {
			obj["description"] = pg.Desc
		}
		raw, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": []any{obj}})
		res, problems, err := h.publish(r, c, raw, opts)
		if err != nil {
			return err
		}
		if len(problems) > 0 || res == nil || !res.Committed {
			pg.Problems = problems
		} else {
			http.Redirect(w, r, "/objects/"+id, http.StatusSeeOther)
			return nil
		}
	}
	h.render(w, r, http.StatusBadRequest, "publish", c, pg)
	return nil
}

// maxUpload is the largest bundle the form takes.
const maxUpload = 32 << 20

func (h *Handler) publishBundle(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := mayWrite(c); err != nil {
		return err
	}
	aud, tlp := r.PostFormValue("audience"), r.PostFormValue("tlp")
	pg, err := h.publishPage(r, c, aud, tlp)
	if err != nil {
		return err
	}
	opts := release(c, aud, tlp, pg.Errors)
	raw := []byte(r.PostFormValue("bundle"))
	if f, _, err := r.FormFile("file"); err == nil {
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
		if err != nil {
			return err
		}
		if len(b) > maxUpload {
			return cyberpact.Errorf(cyberpact.ETOOLARGE, "the bundle is larger than %d bytes: use the API or cyberpact import", maxUpload)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			raw = b
		}
	}
	pg.Bundle = string(raw)
	if len(bytes.TrimSpace(raw)) == 0 {
		pg.Errors["bundle"] = "Paste a STIX bundle or choose a file."
	}
	status := http.StatusBadRequest
	if len(pg.Errors) == 0 {
		res, problems, err := h.publish(r, c, raw, opts)
		if err != nil {
			return err
		}
		pg.Problems = problems
		if len(problems) == 0 && res != nil && res.Committed {
			status, pg.Bundle = http.StatusOK, ""
			pg.Done = fmt.Sprintf("Published: %d object versions added, %d already here.", res.Added, res.Present)
		}
	}
	if len(pg.Bundle) > 64<<10 {
		pg.Bundle = "" // not echoed back when large
	}
	h.render(w, r, status, "publish", c, pg)
	return nil
}
