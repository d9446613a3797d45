package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/httpstatus"
)

// The organisation page: for org admins and hub admins, the users of
// their own organisation and their API keys. They add users, make keys
// (shown once), revoke keys and disable or enable users. Every change
// goes through the account service, which records it in the audit log
// with the signed-in user as actor. A user or key of another organisation
// is not found, as if it did not exist.

func (h *Handler) registerOrg() {
	h.get("GET /org", signedIn, h.orgPage)
	h.post("POST /org/users", signedIn, h.orgCreateUser)
	h.post("POST /org/users/{name}/keys", signedIn, h.orgCreateKey)
	h.post("POST /org/users/{name}/disable", signedIn, h.orgDisable)
	h.post("POST /org/users/{name}/enable", signedIn, h.orgDisable)
	h.post("POST /org/keys/{id}/revoke", signedIn, h.orgRevokeKey)
}

type orgPage struct {
	Org    string
	Nation string // the organisation's, which releasability markings are checked against
	Sector string
	Users  []orgUser
	Roles  []string
	Error  string
	NewKey string // a key just made, shown this once
	KeyFor string
	Done   string
	// Contacts are the organisation's escalation contacts in crisis mode
	// (contacts.go); Crises says whether the hub keeps crises at all.
	Contacts  []orgContact
	Crises    bool
	Channels  []string
	NewSecret string // a webhook contact's signing secret just made, shown this once
}

type orgUser struct {
	Name, Role, Created string
	Disabled            bool
	Keys                []orgKey
}

type orgKey struct {
	ID                                 int64
	Prefix, Created, Expires, LastUsed string
	Active                             bool
}

// orgAdmin refuses a user who is not an org admin or hub admin.
func orgAdmin(c *call) error {
	switch c.st.Principal.User.Role {
	case cyberpact.RoleAdmin, cyberpact.RoleOrgAdmin:
		return nil
	}
	return cyberpact.Errorf(cyberpact.EFORBIDDEN, "only the organisation's admins manage its users and keys")
}

// rolesFor are the roles a user may give: hub admins any, org admins
// all but admin.
func rolesFor(r cyberpact.Role) []string {
	out := []string{string(cyberpact.RoleAnalyst), string(cyberpact.RoleReader), string(cyberpact.RoleOrgAdmin), string(cyberpact.RoleSync)}
	if r == cyberpact.RoleAdmin {
		out = append(out, string(cyberpact.RoleAdmin))
	}
	return out
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 MST")
}

func (h *Handler) orgView(r *http.Request, c *call) (orgPage, error) {
	ctx := r.Context()
	p := c.st.Principal
	pg := orgPage{Org: p.Org.Name, Nation: p.Org.Nation, Sector: p.Org.Sector, Roles: rolesFor(p.User.Role)}
	users, err := h.Store.Users(ctx, p.Org.ID)
	if err != nil {
		return pg, err
	}
	if pg.Contacts, err = h.contactsOf(r, p.Org.ID); err != nil {
		return pg, err
	}
	pg.Crises, pg.Channels = h.Crises != nil, []string{string(cyberpact.ChannelEmail), string(cyberpact.ChannelWebhook)}
	now := h.now()
	for _, u := range users {
		cred, err := h.Store.Credentials(ctx, u.Name)
		if err != nil {
			return pg, err
		}
		ou := orgUser{Name: u.Name, Role: string(u.Role), Created: fmtTime(u.Created), Disabled: cred.Disabled}
		keys, err := h.Store.Keys(ctx, u.ID)
		if err != nil {
			return pg, err
		}
		for _, k := range keys {
			ou.Keys = append(ou.Keys, orgKey{ID: k.ID, Prefix: k.Prefix, Created: fmtTime(k.Created), Expires: fmtTime(k.Expires),
				LastUsed: fmtTime(k.LastUsed), Active: k.Active(now)})
		}
		pg.Users = append(pg.Users, ou)
	}
	return pg, nil
}

func (h *Handler) orgPage(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := orgAdmin(c); err != nil {
		return err
	}
	pg, err := h.orgView(r, c)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "org", c, pg)
	return nil
}

// orgUserNamed returns the user of that name in the signed-in user's
// organisation; ENOTFOUND for any other.
func (h *Handler) orgUserNamed(r *http.Request, c *call, name string) (*cyberpact.User, error) {
	u, err := h.Store.UserByName(r.Context(), name)
	if err == nil && u.Org != c.st.Principal.Org.ID {
		err = cyberpact.Errorf(cyberpact.ENOTFOUND, "no user named %q", name)
	}
	return u, err
}

// orgDone renders the page after a change, with an error of the input
// shown at the top of the page (400) rather than on a page of its own.
func (h *Handler) orgDone(w http.ResponseWriter, r *http.Request, c *call, change error, done func(*orgPage)) error {
	status := http.StatusOK
	code := cyberpact.ErrorCode(change)
	if change != nil && code != cyberpact.EINVALID && code != cyberpact.ECONFLICT {
		return change
	}
	pg, err := h.orgView(r, c)
	if err != nil {
		return err
	}
	if change != nil {
		pg.Error, status = cyberpact.ErrorMessage(change), httpstatus.Of(code)
	} else {
		done(&pg)
	}
	h.render(w, r, status, "org", c, pg)
	return nil
}

func (h *Handler) orgCreateUser(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := orgAdmin(c); err != nil {
		return err
	}
	p := c.st.Principal
	name, role := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("role")
	var err error
	if !slices.Contains(rolesFor(p.User.Role), role) {
		err = cyberpact.Errorf(cyberpact.EINVALID, "role %q is not one you may give: %s", role, strings.Join(rolesFor(p.User.Role), ", "))
	} else {
		err = h.Store.CreateUser(r.Context(), &cyberpact.User{Name: name, Org: p.Org.ID, Role: cyberpact.Role(role)}, p.User.Name)
	}
	return h.orgDone(w, r, c, err, func(pg *orgPage) { pg.Done = "Added user " + name + "." })
}

func (h *Handler) orgCreateKey(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := orgAdmin(c); err != nil {
		return err
	}
	u, err := h.orgUserNamed(r, c, r.PathValue("name"))
	if err != nil {
		return err
	}
	var expires time.Time
	if v := r.PostFormValue("expires"); v != "" {
		d, perr := time.Parse("2006-01-02", v)
		if perr != nil {
			return h.orgDone(w, r, c, cyberpact.Errorf(cyberpact.EINVALID, "expiry %q is not a date such as 2027-01-31", v), nil)
		}
		expires = d
	}
	key, _, err := h.Store.CreateKey(r.Context(), u.ID, expires, c.st.Principal.User.Name)
	return h.orgDone(w, r, c, err, func(pg *orgPage) { pg.NewKey, pg.KeyFor = key, u.Name })
}

func (h *Handler) orgDisable(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := orgAdmin(c); err != nil {
		return err
	}
	u, err := h.orgUserNamed(r, c, r.PathValue("name"))
	if err != nil {
		return err
	}
	disable := strings.HasSuffix(r.URL.Path, "/disable")
	if disable && u.ID == c.st.Principal.User.ID {
		return h.orgDone(w, r, c, cyberpact.Errorf(cyberpact.EINVALID, "you cannot disable yourself"), nil)
	}
	err = h.Store.SetDisabled(r.Context(), u.ID, disable, c.st.Principal.User.Name)
	return h.orgDone(w, r, c, err, func(pg *orgPage) {
		pg.Done = "Enabled " + u.Name + "."
		if disable {
			pg.Done = "Disabled " + u.Name + ": its sessions have ended and its keys no longer work."
		}
	})
}

func (h *Handler) orgRevokeKey(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := orgAdmin(c); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no key %q", r.PathValue("id"))
	}
	// The key must be one of a user of the organisation.
	users, err := h.Store.Users(r.Context(), c.st.Principal.Org.ID)
	if err != nil {
		return err
	}
	found := false
	for _, u := range users {
		keys, err := h.Store.Keys(r.Context(), u.ID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			found = found || k.ID == id
		}
	}
	if !found {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no key %d", id)
	}
	err = h.Store.RevokeKey(r.Context(), id, c.st.Principal.User.Name)
	return h.orgDone(w, r, c, err, func(pg *orgPage) { pg.Done = "Revoked key " + strconv.FormatInt(id, 10) + "." })
}
