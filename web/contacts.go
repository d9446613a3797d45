package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cyberpact/cyberpact"
)

// Escalation contacts on the organisation page: an org admin lists, adds
// and removes the contacts its organisation is escalated to when it has
// not acknowledged a crisis in time (crisis mode, alert.Desk), as the API's
// /api/v1/crisis-contacts does. A webhook contact's signing secret is shown
// once, when it is made, as an API key is. A contact of another
// organisation is not found, as if it did not exist.

func (h *Handler) registerContacts() {
	h.post("POST /org/contacts", signedIn, h.orgAddContact)
	h.post("POST /org/contacts/{id}/remove", signedIn, h.orgRemoveContact)
}

type orgContact struct {
	ID                    int64
	Level                 int
	Name, Channel, Target string
	Created               string
}

// contactsOf lists the organisation's contacts for its page, secrets left
// out; none where the hub keeps no crises.
func (h *Handler) contactsOf(r *http.Request, org int64) ([]orgContact, error) {
	if h.Crises == nil {
		return nil, nil
	}
	cs, err := h.Crises.Store.CrisisContacts(r.Context(), org)
	if err != nil {
		return nil, err
	}
	out := make([]orgContact, 0, len(cs))
	for _, c := range cs {
		out = append(out, orgContact{ID: c.ID, Level: c.Level, Name: c.Name, Channel: string(c.Channel), Target: c.Target, Created: fmtTime(c.Created)})
	}
	return out, nil
}

func (h *Handler) orgAddContact(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := orgAdmin(c); err != nil {
		return err
	}
	d, err := h.desk()
	if err != nil {
		return err
	}
	p := c.st.Principal
	ct := &cyberpact.CrisisContact{Org: p.Org.ID, Name: strings.TrimSpace(r.PostFormValue("name")),
		Channel: cyberpact.ChannelKind(r.PostFormValue("channel")), Target: strings.TrimSpace(r.PostFormValue("target"))}
	level, err := strconv.Atoi(r.PostFormValue("level"))
	switch {
	case err != nil:
		err = cyberpact.Errorf(cyberpact.EINVALID, "level %q is not a number from 1 to 20", r.PostFormValue("level"))
	case ct.Channel != cyberpact.ChannelWebhook && ct.Channel != cyberpact.ChannelEmail:
		err = cyberpact.Errorf(cyberpact.EINVALID, "channel %q is not webhook or email", ct.Channel)
	default:
		ct.Level = level
		if ct.Channel == cyberpact.ChannelWebhook {
			ct.Secret = cyberpact.NewWebhookSecret()
		}
		err = d.Store.AddCrisisContact(r.Context(), ct, p.User.Name)
	}
	return h.orgDone(w, r, c, err, func(pg *orgPage) {
		pg.Done = "Added escalation contact " + describeContact(ct) + "."
		pg.NewSecret = ct.Secret
	})
}

func (h *Handler) orgRemoveContact(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := orgAdmin(c); err != nil {
		return err
	}
	d, err := h.desk()
	if err != nil {
		return err
	}
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no contact %q", raw)
	}
	p := c.st.Principal
	err = d.Store.RemoveCrisisContact(r.Context(), p.Org.ID, id, p.User.Name)
	if err != nil {
		return err
	}
	return h.orgDone(w, r, c, nil, func(pg *orgPage) { pg.Done = "Removed escalation contact " + raw + "." })
}

// describeContact names a contact in a notice: its level, channel and
// name or target.
func describeContact(c *cyberpact.CrisisContact) string {
	who := c.Name
	if who == "" {
		who = c.Target
	}
	return "level " + strconv.Itoa(c.Level) + " by " + string(c.Channel) + ": " + who
}
