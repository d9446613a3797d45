package alert

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"

	"github.com/cyberpact/cyberpact"
	gomail "github.com/wneessen/go-mail"
)

// MailTLS is how the connection to the mail server is protected.
type MailTLS string

const (
	MailStartTLS MailTLS = "starttls" // STARTTLS, required (the default)
	MailTLSWrap  MailTLS = "tls"      // TLS from the first byte (port 465)
	MailNoTLS    MailTLS = "none"     // plain text: for a server on loopback only
)

// Mailer sends notifications as mail over SMTP.
type Mailer struct {
	Addr     string // host:port of the SMTP server
	From     string
	User     string // with Password, authenticates (PLAIN); empty: none
	Password string
	TLS      MailTLS
	// TLSConfig, when set, replaces the default (the server's name
	// checked against the system's roots).
	TLSConfig *tls.Config
}

// Send mails msg to s.Target. The idempotency key is the mail's
// Message-ID (and an X-Cyberpact-Idempotency-Key header), so a repeat is
// recognisable.
func (m *Mailer) Send(ctx context.Context, s *cyberpact.Subscription, msg *Message) error {
	what := "New " + msg.Type
	switch msg.Event {
	case cyberpact.EventSighting:
		what = "Sighting of your organisation's object"
	case cyberpact.EventAssigned:
		what = "Incident task assigned to you"
	case cyberpact.EventRequest:
		what = "Request for assistance to your organisation"
	}
	return m.Mail(ctx, s.Target, msg.Key, string(msg.Event), fmt.Sprintf("[cyberpact] %s: %s", what, msg.ObjectID),
		fmt.Sprintf("Subscription %d: %s %s\n\n%s\n", s.ID, msg.Event, msg.ObjectID, msg.Object))
}

// Mail sends one plain-text mail to to, with key as its Message-ID and
// X-Cyberpact-Idempotency-Key and event as its X-Cyberpact-Event.
func (m *Mailer) Mail(ctx context.Context, to, key, event, subject, body string) error {
	host, port, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return fmt.Errorf("mail server %q: %w", m.Addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("mail server %q: bad port", m.Addr)
	}
	opts := []gomail.Option{gomail.WithPort(p)}
	switch m.TLS {
	case MailNoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case MailTLSWrap:
		opts = append(opts, gomail.WithSSL())
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if m.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(m.TLSConfig))
	}
	if m.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(m.User), gomail.WithPassword(m.Password))
	}
	c, err := gomail.NewClient(host, opts...)
	if err != nil {
		return err
	}
	mail := gomail.NewMsg()
	if err := mail.From(m.From); err != nil {
		return fmt.Errorf("mail sender %q: %w", m.From, err)
	}
	if err := mail.To(to); err != nil {
		return fmt.Errorf("mail recipient %q: %w", to, err)
	}
	mail.Subject(subject)
	mail.SetMessageIDWithValue(key + "@cyberpact")
	mail.SetGenHeader("X-Cyberpact-Idempotency-Key", key)
	mail.SetGenHeader("X-Cyberpact-Event", event)
	mail.SetBodyString(gomail.TypeTextPlain, body)
	return c.DialAndSendWithContext(ctx, mail)
}
