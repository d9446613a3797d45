package http_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
)

// clientFrom returns an HTTP client whose connections leave from the
// loopback address ip (any 127.0.0.0/8 address reaches a server bound to
// 127.0.0.1), so that a test can be two clients at two addresses.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// TestLoginLimiterCannotLockOutVictim fails logins under a user's name
// from other addresses past the limit: the name is refused (429) at those
// addresses in any case, the addresses may still try other names, and the
// real user, at its own address, still logs in with its key.
func TestLoginLimiterCannotLockOutVictim(t *testing.T) {
	db := openDB(t)
	victim := mkMember(t, db, mkOrg(t, db, "Org V"), "victim", cyberpact.RoleAnalyst)
	const limit = 4
	_, base := serve(t, db, func(s *cphttp.Server) { s.LoginFailures = limit })
	real := clientFrom(t, "127.0.0.1")
	login := func(c *http.Client, user, key string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/api/v1/stats", nil)
		req.SetBasicAuth(user, key)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("CaseVariantsCountAsOneName", func(t *testing.T) {
		attacker := clientFrom(t, "127.0.0.2")
		for i := range limit {
			name := "victim"
			if i%2 == 1 {
				name = "VICTIM"
			}
			if st := login(attacker, name, "cpk_wrong"); st != 401 {
				t.Fatalf("failure %d under %s: status %d, want 401", i+1, name, st)
			}
		}
		for _, name := range []string{"victim", "VICTIM", "Victim"} {
			if st := login(attacker, name, "cpk_wrong"); st != 429 {
				t.Errorf("attempt as %s after %d failures under the name: %d, want 429", name, limit, st)
			}
		}
		// The address itself is not yet at its limit: another name is
		// answered, not refused.
		if st := login(attacker, "someone", "cpk_wrong"); st != 401 {
			t.Errorf("another name from the same address: %d, want 401", st)
		}
	})
	t.Run("VictimElsewhereLogsIn", func(t *testing.T) {
		attacker := clientFrom(t, "127.0.0.3")
		for range 2 * limit {
			login(attacker, "victim", "cpk_wrong")
		}
		if st := login(attacker, "victim", victim.key); st != 429 {
			t.Errorf("the right key from the attacker's address during its lockout: %d, want 429", st)
		}
		for _, name := range []string{"victim", "VICTIM"} {
			if st := login(real, name, victim.key); st != 200 {
				t.Errorf("the real user as %s from its own address: %d, want 200", name, st)
			}
		}
	})
	t.Run("AddressAloneIsLimited", func(t *testing.T) {
		// Trying many names from one address runs into the address's own
		// limit, three times the per-name one.
		attacker := clientFrom(t, "127.0.0.4")
		refused := 0
		for i := range 3*limit + 1 {
			if login(attacker, fmt.Sprintf("someone%d", i), "cpk_wrong") == 429 {
				refused = i + 1
				break
			}
		}
		if refused != 3*limit+1 {
			t.Fatalf("the address was first refused at attempt %d, want %d", refused, 3*limit+1)
		}
		if st := login(real, "victim", victim.key); st != 200 {
			t.Errorf("the real user while another address is blocked: %d, want 200", st)
		}
	})
}
