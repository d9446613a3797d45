package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/alert"
	"github.com/cyberpact/cyberpact/federation"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/ingest"
	"github.com/cyberpact/cyberpact/internal/peerkey"
	"github.com/cyberpact/cyberpact/web"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "run the hub: web interface, REST API, TAXII, health and metrics over HTTP",
		usage:   "[--data DIR] [--addr :8080] [--metrics-addr ADDR] [--demo] [--public] [--max-body BYTES] [--sync-interval 30s] [--sync-max-pages N] [--sync-max-objects N] [--sync-run-time 10m] [--sync-status-wait 2m] [--sync-max-object-size BYTES] [--sync-max-page-bytes BYTES] [--feed-check 30s] [--partnership-key-file FILE] [--k-anonymity 3] [--purge-interval 1h] [--alerts=false] [--webhook-allow ADDR,PREFIX...] [--alert-lease 2m] [--crisis-escalate-after 15m] [--public-url URL] [--smtp-addr HOST:PORT --smtp-from ADDR [--smtp-user U] [--smtp-tls starttls|tls|none]] [--exercise-interval 1s] [--log-format text|json] [--require-totp] [--secure-cookies] [--oidc-issuer URL --oidc-client-id ID ...]",
		help: `Runs the hub until interrupted (SIGINT or SIGTERM end it gracefully: requests
in flight finish). Every route but /healthz needs an API key ('cyberpact user
create' prints one): "Authorization: Bearer KEY", or HTTP Basic with the user
name and the key as password. Serves:

  /                                           the web interface, for people: sign in
                                              with a password ('cyberpact user
                                              password') and a second factor, or
                                              through an OpenID Connect provider
  GET  /healthz                               liveness
  GET  /metrics                               Prometheus metrics, hub-wide (nothing
                                              per organisation): admins' keys only;
                                              --metrics-addr serves them without a
                                              key on an address of their own
  GET  /api/v1/objects                        list (type, label, q, modified_since,
                                              modified_until, added_after, all_versions,
                                              exclude_revoked, limit, cursor)
  GET  /api/v1/objects/{id}[/versions]        the latest version; every version
  GET  /api/v1/objects/{id}/relationships     direction=in|out|both
  POST /api/v1/bundles                        import a STIX bundle (audience=all|org|
                                              group:NAME, tlp=LEVEL, partial=true)
  GET  /api/v1/stats                          counts per type
  GET  /api/v1/stream                         new objects as Server-Sent Events
                                              (Last-Event-ID resumes; after=0 from
                                              the start)
  POST /api/v1/match                          match a batch of events (JSON lines)
  GET  /api/v1/correlate?value=V              who else holds an observable value
  GET  /api/v1/exercises[/{id}[/...]]         joint exercises: status, scores,
                                              telemetry.jsonl, sightings, reports
  GET  /api/v1/misp/manifest.json, hashes.csv, UUID.json
                                              the hub as a MISP feed of what the key
                                              may see (MISP sends "Authorization: KEY")
  GET  /api/v1/sources[/{name}]               the external feeds (see 'cyberpact
                                              feed') and their status: admins all,
                                              others their organisation's
  /api/v1/subscriptions[/{id}]                alerts: POST to subscribe (webhook or
                                              mail), GET to list or see delivery
                                              status, DELETE to remove (see
                                              'cyberpact subscription')
  /api/v1/crises[/{id}[/ack|/end]]            crisis mode on an incident: declare,
                                              status at a glance, acknowledge, end;
                                              /api/v1/crisis-contacts[/{id}] the
                                              organisation's escalation contacts
                                              (see 'cyberpact crisis')
  /taxii2/                                    TAXII 2.1: discovery, the api1 root, a
                                              collection per audience (all members,
                                              each sharing group, each organisation's
                                              own, and with --public TLP:CLEAR for
                                              anyone), objects, manifest, versions,
                                              status

Every read applies the sharing rule: an object the caller's organisation may
not see does not exist for it. Paging cursors and stream event ids are
opaque, sealed for the caller's organisation under a secret derived from the
hub's key file (beside the embedded store's database; on PostgreSQL
CYBERPACT_PEER_KEY_FILE, which every serve process must share, or cursors
work only on the process that gave them). An open stream ends when its key
is revoked or expires, and follows its organisation's groups as they change.

--addr is the address to listen on, HOST:PORT: ":8080" (the default) is
every interface of the machine, "127.0.0.1:8080" this machine only, and
port 0 picks a free port. --addr and --metrics-addr are bound before the
data directory is opened: an address that is taken fails the command
before anything is written.

The alert dispatcher (unless --alerts=false) delivers subscriptions'
notifications and crisis alerts, and escalates a crisis partner that has not
acknowledged within the crisis's delay (--crisis-escalate-after for a crisis
declared without one) to its next contacts; --public-url puts single-use
acknowledgement links in crisis mail. A process killed mid-delivery leaves
what it held to the others, or to itself restarted, after --alert-lease.

--sync-interval runs every peer (see 'cyberpact peer') on a schedule, each in
its own goroutine: a peer whose run is still going when its turn comes is
left to finish, and one that answered 429 or 503 with a Retry-After longer
than a run waits is left alone until then, so a slow or endless peer never
delays the others. Each run is bounded by the --sync-max-* flags, as
'cyberpact sync' describes for its --max-* flags.

With --demo, an empty data directory is first seeded with a generated
partnership (organisations, sharing groups, users whose API keys are
printed, and their intelligence; all values from documentation ranges).
Since the keys it prints include an admin's, --demo listens on
127.0.0.1:8080 unless --addr says otherwise.

The web interface keeps its sessions in the store (several serve processes
on one PostgreSQL share them): they end after --session-idle without use,
--session-max-age after sign-in, at once when the user is disabled or its
organisation leaves a sharing group it had at sign-in. --require-totp
requires a second factor of every user (an organisation's admins can
require it of their own users). --secure-cookies marks cookies Secure when
a proxy in front ends TLS. Single sign-on: --oidc-issuer, --oidc-client-id,
the client secret in CYBERPACT_OIDC_CLIENT_SECRET (or --oidc-client-secret,
which other users of the machine can see), --oidc-redirect-url (the hub's
external URL and /login/oidc/callback; default from --addr), and the claims
that name the user, its organisation and the role of a new user.`,
		run: runServe,
	})
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["serve"])
	data := dataFlag(fs)
	addr := fs.String("addr", ":8080", "address to listen on, HOST:PORT (with --demo the default is "+demoAddr+")")
	metricsAddr := fs.String("metrics-addr", "", "also serve /metrics, without a key, on this address (e.g. 127.0.0.1:9090, for a Prometheus scraper); the hub address serves them to admins only")
	withDemo := fs.Bool("demo", false, "seed an empty data directory with a demonstration partnership")
	maxBody := fs.Int64("max-body", cphttp.DefaultMaxBodyBytes, "largest accepted request body, in bytes")
	taxiiMaxBody := fs.Int64("taxii-max-body", 0, "largest accepted TAXII request body, in bytes (default --max-body)")
	public := fs.Bool("public", false, "serve a public TAXII collection: TLP:CLEAR objects, readable without credentials")
	loginFailures := fs.Int("login-failures", 0, "failed logins allowed per minute under one user name (any case) from one client address before 429, three times as many per address (default 10)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	exerciseInterval := fs.Duration("exercise-interval", time.Second, "advance running exercises (see 'cyberpact exercise start') this often; 0 never")
	syncInterval := fs.Duration("sync-interval", 0, "synchronise with every peer (see 'cyberpact peer') this often, e.g. 30s; 0 never")
	syncLimits := syncLimitFlags(fs, "sync-")
	alerts := fs.Bool("alerts", true, "deliver subscriptions' notifications (see 'cyberpact subscription')")
	webhookAllow := fs.String("webhook-allow", "", "alerts by webhook: addresses or prefixes otherwise refused (loopback, link-local) that webhook targets may reach, e.g. 127.0.0.1 for a receiver on this host")
	smtpAddr := fs.String("smtp-addr", "", "alerts by mail: the SMTP server, HOST:PORT (without it, mail notifications wait in the outbox)")
	smtpFrom := fs.String("smtp-from", "", "alerts by mail: the sender address")
	smtpUser := fs.String("smtp-user", "", "alerts by mail: the SMTP user (the password from $CYBERPACT_SMTP_PASSWORD)")
	smtpTLS := fs.String("smtp-tls", "starttls", "alerts by mail: starttls (required), tls (from the first byte, port 465) or none (a server on loopback only)")
	alertLease := fs.Duration("alert-lease", 2*time.Minute, "alerts: how long a notification a serve process took for delivery is kept from the others; one killed mid-delivery leaves what it held to be taken again after this")
	crisisAfter := fs.Duration("crisis-escalate-after", alert.DefaultEscalateAfter, "crisis mode: escalate a partner that has not acknowledged a crisis this long after its last alert, for crises declared without a delay of their own")
	publicURL := fs.String("public-url", "", "the hub's address as its users reach it (e.g. https://hub.example.org): crisis mail carries acknowledgement links to it")
	partnershipKey := fs.String("partnership-key-file", "", "personal data: set the partnership key pseudonyms are made with from this file at start (see 'cyberpact privacy key')")
	kAnon := fs.Int("k-anonymity", cyberpact.DefaultKAnonymity, "sightings shared as counts: a sector's count shows from this many reporting organisations on")
	purgeInterval := fs.Duration("purge-interval", time.Hour, "purge what the retention rules expire (see 'cyberpact retention') this often; 0 never")
	feedCheck := fs.Duration("feed-check", 30*time.Second, "run the external feeds that are due (see 'cyberpact feed') checking this often; 0 never")
	requireTOTP := fs.Bool("require-totp", false, "web interface: require a second factor (TOTP) of every user")
	secureCookies := fs.Bool("secure-cookies", false, "web interface: mark cookies Secure on plain HTTP too, behind a proxy that ends TLS")
	sessionIdle := fs.Duration("session-idle", web.DefaultIdleTimeout, "web interface: end a session after this long without a request")
	sessionMaxAge := fs.Duration("session-max-age", web.DefaultMaxAge, "web interface: end a session this long after sign-in")
	oidcIssuer := fs.String("oidc-issuer", "", "single sign-on: the OpenID Connect provider's issuer URL")
	oidcClientID := fs.String("oidc-client-id", "", "single sign-on: the hub's client id at the provider")
	oidcClientSecret := fs.String("oidc-client-secret", "", "single sign-on: the client secret (default $CYBERPACT_OIDC_CLIENT_SECRET)")
	oidcRedirect := fs.String("oidc-redirect-url", "", "single sign-on: the hub's external URL and /login/oidc/callback (default http://ADDR/login/oidc/callback)")
	oidcUserClaim := fs.String("oidc-user-claim", "preferred_username", "single sign-on: the ID token claim that is the user's name")
	oidcOrgClaim := fs.String("oidc-org-claim", "org", "single sign-on: the claim that names the user's organisation (a string or a list)")
	oidcRoleClaim := fs.String("oidc-role-claim", "role", "single sign-on: the claim that gives a new user's role (analyst, reader or org-admin)")
	oidcDefaultRole := fs.String("oidc-default-role", "analyst", "single sign-on: the role of a new user whose token has no role claim")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	limits, err := syncLimits()
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	if *alertLease < time.Second {
		return usageError("--alert-lease %s is shorter than a second", *alertLease)
	}
	if *crisisAfter < time.Minute || *crisisAfter > 7*24*time.Hour {
		return usageError("--crisis-escalate-after %s is not between 1 minute and 7 days", *crisisAfter)
	}
	var logger *slog.Logger
	switch *logFormat {
	case "text":
		logger = slog.New(slog.NewTextHandler(e.stderr, nil))
	case "json":
		logger = slog.New(slog.NewJSONHandler(e.stderr, nil))
	default:
		return usageError("--log-format must be text or json, not %q", *logFormat)
	}
	if *withDemo && !flagGiven(fs, "addr") {
		*addr = demoAddr
	}
	// Bind both addresses before the data directory is touched: a taken
	// port fails with nothing written, and the same command runs again
	// once it is free.
	ln, err := listenOn(e, *addr, "--addr", *data)
	if err != nil {
		return err
	}
	defer ln.Close() // after Serve, which closes it too: harmless
	var mln net.Listener
	if *metricsAddr != "" {
		if mln, err = listenOn(e, *metricsAddr, "--metrics-addr", *data); err != nil {
			return err
		}
		defer mln.Close()
	}
	db, err := e.openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	if *partnershipKey != "" {
		key, err := os.ReadFile(*partnershipKey)
		if err != nil {
			return fmt.Errorf("--partnership-key-file: %w", err)
		}
		if err := db.SetPartnershipKey(ctx, key, cliActor); err != nil {
			return fmt.Errorf("--partnership-key-file %s: %s", *partnershipKey, cyberpact.ErrorMessage(err))
		}
	}
	if *withDemo {
		if err := seedDemo(ctx, e, db, time.Now().UTC()); err != nil {
			return err
		}
	}
	srv := cphttp.NewServer(db, logger)
	srv.MaxBodyBytes = *maxBody
	srv.TAXIIMaxBodyBytes = *taxiiMaxBody
	srv.Public = *public
	srv.LoginFailures = *loginFailures
	if *kAnon < 1 {
		return usageError("--k-anonymity must be at least 1, not %d", *kAnon)
	}
	srv.KAnonymity = *kAnon
	secret, err := e.cursorSecret(*data)
	if err != nil {
		return err
	}
	if secret == nil {
		logger.Warn("no hub key file (CYBERPACT_PEER_KEY_FILE): paging cursors and stream event ids work only on this process and until it stops")
	}
	srv.CursorSecret = secret
	if srv.Crises != nil {
		srv.Crises.EscalateAfter = *crisisAfter
	}
	ui := web.New(db, srv, logger)
	ui.RequireTOTP, ui.SecureCookies = *requireTOTP, *secureCookies
	ui.IdleTimeout, ui.MaxAge = *sessionIdle, *sessionMaxAge
	if *oidcIssuer != "" || *oidcClientID != "" {
		cs := *oidcClientSecret
		if cs == "" {
			cs = e.getenv("CYBERPACT_OIDC_CLIENT_SECRET")
		}
		if *oidcIssuer == "" || *oidcClientID == "" || cs == "" {
			return usageError("single sign-on needs --oidc-issuer, --oidc-client-id and the client secret (CYBERPACT_OIDC_CLIENT_SECRET)")
		}
		role := cyberpact.Role(*oidcDefaultRole)
		if role != cyberpact.RoleAnalyst && role != cyberpact.RoleReader && role != cyberpact.RoleOrgAdmin {
			return usageError("--oidc-default-role must be analyst, reader or org-admin, not %q", *oidcDefaultRole)
		}
		redirect := *oidcRedirect
		if redirect == "" {
			redirect = "http://" + displayAddr(ln.Addr().String()) + "/login/oidc/callback"
		}
		ui.OIDC = &web.OIDC{Issuer: *oidcIssuer, ClientID: *oidcClientID, ClientSecret: cs, RedirectURL: redirect,
			UserClaim: *oidcUserClaim, OrgClaim: *oidcOrgClaim, RoleClaim: *oidcRoleClaim, DefaultRole: role}
	}
	srv.Mount(ui, ui.Routes()...)
	srv.UseListeners(ln, mln)
	if mln != nil {
		fmt.Fprintf(e.stdout, "cyberpact metrics on http://%s/metrics\n", displayAddr(srv.MetricsAddr()))
	}
	logger.Info("cyberpact serving", "addr", srv.Addr(), "data", e.dataDir(*data))
	if w, ok := db.(interface{ WarmStats(context.Context) error }); ok {
		// The counts of Stats are built once per store, here rather than
		// in the first request that asks; it stops before the store
		// closes.
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := w.WarmStats(wctx); err != nil && wctx.Err() == nil {
				logger.Warn("counting the store for stats", "err", err)
			}
		}()
		defer func() { stop(); <-done }()
	}
	if *syncInterval > 0 {
		peers, ok := db.(cyberpact.PeerStore)
		if !ok {
			return cyberpact.Errorf(cyberpact.ENOTIMPLEMENTED, "--sync-interval: federation peers are kept only by the embedded store so far")
		}
		// The peers run until serving ends, and stop before the store
		// closes.
		sctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			(&federation.Syncer{Store: db, Peers: peers, Audit: db, Logger: logger, Limits: limits}).Run(sctx, *syncInterval)
		}()
		defer func() { stop(); <-done }()
	}
	if *purgeInterval > 0 {
		// Retention purges run until serving ends, and stop before the
		// store closes; several serve processes purging at once delete
		// each version once (the store's delete is a transaction).
		pctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			purgeLoop(pctx, db, *purgeInterval, logger)
		}()
		defer func() { stop(); <-done }()
	}
	if *feedCheck > 0 {
		// The feed sources run until serving ends, each on its own (a
		// broken one never holds up the others), and stop before the
		// store closes.
		r, err := ingest.New(db, logger)
		if err != nil {
			return err
		}
		fctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			r.Loop(fctx, *feedCheck)
		}()
		defer func() { stop(); <-done }()
	}
	if as, ok := db.(alert.Store); ok && *alerts {
		allow, err := alert.ParseAllow(*webhookAllow)
		if err != nil {
			return usageError("--webhook-allow: %v", err)
		}
		d := &alert.Dispatcher{Store: as, Webhook: &alert.Webhook{Allow: allow}, Log: logger, Metrics: alert.NewMetrics(srv.Registerer(), as), URL: *publicURL, Lease: *alertLease}
		if *smtpAddr != "" {
			tlsMode := alert.MailTLS(*smtpTLS)
			if tlsMode != alert.MailStartTLS && tlsMode != alert.MailTLSWrap && tlsMode != alert.MailNoTLS {
				return usageError("--smtp-tls must be starttls, tls or none, not %q", *smtpTLS)
			}
			if *smtpFrom == "" {
				return usageError("--smtp-addr needs --smtp-from, the sender address")
			}
			d.Mail = &alert.Mailer{Addr: *smtpAddr, From: *smtpFrom, User: *smtpUser, Password: e.getenv("CYBERPACT_SMTP_PASSWORD"), TLS: tlsMode}
		}
		// Every serve process delivers; claims in the outbox keep two
		// from taking the same notification at once.
		actx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			d.Run(actx)
		}()
		defer func() { stop(); <-done }()
	}
	if srv.Exercise != nil && *exerciseInterval > 0 {
		// Every serve process advances the exercises; the store's
		// versioned saves keep them from releasing anything twice.
		xctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			driveExercises(xctx, srv.Exercise, *exerciseInterval, logger)
		}()
		defer func() { stop(); <-done }()
	}
	fmt.Fprintf(e.stdout, "cyberpact hub listening on http://%s (data in %s)\n", displayAddr(srv.Addr()), e.dataDir(*data))
	return srv.Serve(ctx)
}

// demoAddr is where serve --demo listens unless --addr says otherwise:
// loopback only, since the demonstration prints an admin's key.
const demoAddr = "127.0.0.1:8080"

// flagGiven reports whether the flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// listenOn binds addr for serve. A failure names the address, the flag
// that chose it and the reason (a port in use, a host that is not this
// machine's), and says that the data directory was left as it was.
func listenOn(e *env, addr, flagName, dataFlag string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	reason := err.Error()
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		reason = op.Err.Error()
	}
	return nil, cyberpact.Errorf(cyberpact.EINVALID, "cannot listen on %s (%s): %s; nothing was written to %s. Stop what holds the address, or choose another with %s",
		addr, flagName, reason, e.dataDir(dataFlag), flagName)
}

// cursorSecret returns the secret the hub's paging cursors and live-stream
// event ids are sealed under, derived from the hub's key file (the one
// that also seals peers' keys): the embedded store's beside its database,
// made on first use; on PostgreSQL the file CYBERPACT_PEER_KEY_FILE names,
// which every serve process shares. Cursors then outlive restarts and work
// on every process. Nil on PostgreSQL without the file.
func (e *env) cursorSecret(dataFlag string) ([]byte, error) {
	file := filepath.Join(e.dataDir(dataFlag), "cyberpact-peers.key")
	if e.storeURL(dataFlag) != "" {
		if file = e.getenv("CYBERPACT_PEER_KEY_FILE"); file == "" {
			return nil, nil
		}
	}
	key, err := peerkey.ReadOrMake(file)
	if err != nil {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "the hub key file, which paging cursors are sealed under: %s", err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("cyberpact paging cursors"))
	return m.Sum(nil), nil
}

// displayAddr turns a listen address such as [::]:8080 into one a browser
// can open.
func displayAddr(a string) string {
	if len(a) > 0 && a[0] == ':' {
		return "localhost" + a
	}
	if len(a) > 5 && a[:5] == "[::]:" {
		return "localhost:" + a[5:]
	}
	if len(a) > 8 && a[:8] == "0.0.0.0:" {
		return "localhost:" + a[8:]
	}
	return a
}
