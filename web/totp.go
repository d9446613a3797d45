package web

import (
	"crypto/rand"
	"fmt"
	"html/template"
	"image/color"
	"net/http"
	"strconv"
	"strings"

	"github.com/boombuler/barcode/qr"
	"github.com/cyberpact/cyberpact"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// The second factor is TOTP (RFC 6238: 30-second steps, 6 digits,
// SHA-1, as every authenticator app reads them), enrolled from the
// account page: the hub makes a secret and shows it as a QR code (an
// inline SVG drawn here from the QR matrix, so no image is fetched) and
// as text; the user confirms it with a current code, and gets ten
// single-use recovery codes, shown once and kept only as SHA-256 hashes.
// Until it is confirmed nothing is stored: the secret travels in the
// enrolment form, protected like every form by its CSRF token.

// RecoveryCodes is how many recovery codes an enrolment makes.
const RecoveryCodes = 10

func (h *Handler) registerTOTP() {
	h.get("GET /account/totp", enrol, h.enrolForm)
	h.post("POST /account/totp", enrol, h.enrol)
	h.post("POST /account/totp/remove", signedIn, h.removeTOTP)
	h.post("POST /orgs/{id}/require-totp", signedIn, h.requireTOTP)
}

type enrolPage struct {
	Secret   string
	QR       template.HTML
	Required bool
	Enrolled bool
	Error    string
	Recovery []string // shown once, after enrolment
}

func (h *Handler) enrolForm(w http.ResponseWriter, r *http.Request, c *call) error {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "cyberpact", AccountName: c.st.Principal.User.Name})
	if err != nil {
		return err
	}
	return h.showEnrol(w, r, c, http.StatusOK, key.Secret(), "")
}

func (h *Handler) showEnrol(w http.ResponseWriter, r *http.Request, c *call, status int, secret, msg string) error {
	key, err := otp.NewKeyFromURL(otpURL(c.st.Principal.User.Name, secret))
	if err != nil {
		return err
	}
	svg, err := qrSVG(key.URL())
	if err != nil {
		return err
	}
	h.render(w, r, status, "enrol", c, enrolPage{Secret: secret, QR: svg, Required: h.mustEnrol(c.st), Enrolled: c.st.TOTP, Error: msg})
	return nil
}

// otpURL is the otpauth URL of a secret, as authenticator apps read it.
func otpURL(user, secret string) string {
	return "otpauth://totp/cyberpact:" + strings.ReplaceAll(user, " ", "%20") + "?algorithm=SHA1&digits=6&issuer=cyberpact&period=30&secret=" + secret
}

// enrol confirms a secret with a current code and stores it with new
// recovery codes, which the page shows once.
func (h *Handler) enrol(w http.ResponseWriter, r *http.Request, c *call) error {
	secret := strings.TrimSpace(r.PostFormValue("secret"))
	code := strings.ReplaceAll(strings.TrimSpace(r.PostFormValue("code")), " ", "")
	if len(secret) < 16 || strings.Trim(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		return cyberpact.Errorf(cyberpact.EINVALID, "the form's secret is not a base32 TOTP secret: reload the page to start again")
	}
	step, valid := validTOTP(code, secret, h.now())
	if !valid {
		return h.showEnrol(w, r, c, http.StatusBadRequest, secret, "That code is not right: enter the 6 digits your app shows now.")
	}
	codes := make([]string, RecoveryCodes)
	hashes := make([][32]byte, RecoveryCodes)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = recoveryHash(codes[i])
	}
	p := c.st.Principal
	if err := h.Store.SetTOTP(r.Context(), p.User.ID, secret, hashes, p.User.Name); err != nil {
		return err
	}
	// The code that confirmed the secret does not sign in as well.
	if _, err := h.Store.UseTOTPStep(r.Context(), p.User.ID, step); err != nil {
		return err
	}
	c.st.TOTP = true
	h.render(w, r, http.StatusOK, "enrol", c, enrolPage{Enrolled: true, Recovery: codes})
	return nil
}

// newRecoveryCode returns ten random base32 characters as XXXXX-XXXXX
// (50 bits).
func newRecoveryCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:5]) + "-" + string(b[5:])
}

// removeTOTP removes the user's second factor, unless it is required.
func (h *Handler) removeTOTP(w http.ResponseWriter, r *http.Request, c *call) error {
	if h.RequireTOTP || c.st.OrgRequiresTOTP {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "a second factor is required of your organisation's users: it cannot be removed")
	}
	p := c.st.Principal
	if err := h.Store.SetTOTP(r.Context(), p.User.ID, "", nil, p.User.Name); err != nil {
		return err
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}

// requireTOTP sets whether an organisation requires a second factor: its
// own org admins may, and hub admins for any organisation.
func (h *Handler) requireTOTP(w http.ResponseWriter, r *http.Request, c *call) error {
	org, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no organisation %q", r.PathValue("id"))
	}
	p := c.st.Principal
	switch {
	case p.User.Role == cyberpact.RoleAdmin:
	case p.User.Role == cyberpact.RoleOrgAdmin && p.Org.ID == org:
	default:
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "only the organisation's admins and hub admins may require a second factor")
	}
	require := r.PostFormValue("require") == "on"
	if err := h.Store.SetOrgRequiresTOTP(r.Context(), org, require, p.User.Name); err != nil {
		return err
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}

// qrSVG draws text as a QR code (error correction M) in SVG: one path of
// the dark modules, with the four-module quiet zone.
func qrSVG(text string) (template.HTML, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return "", err
	}
	b := code.Bounds()
	n := b.Dx()
	var path strings.Builder
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if g := color.GrayModel.Convert(code.At(b.Min.X+x, b.Min.Y+y)).(color.Gray); g.Y < 128 {
				fmt.Fprintf(&path, "M%d %dh1v1h-1z", x+4, y+4)
			}
		}
	}
	size := n + 8
	return template.HTML(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="QR code of the second factor's secret" shape-rendering="crispEdges"><rect width="%d" height="%d" fill="#fff"/><path d="%s" fill="#000"/></svg>`,
		size, size, size*5, size*5, size, size, path.String())), nil
}
