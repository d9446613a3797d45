package http

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"strconv"

	"github.com/cyberpact/cyberpact"
)

// Paging cursors (the REST API's next and cursor, TAXII's next) and the
// live stream's event ids (id:, Last-Event-ID, after) are positions in the
// hub's added sequence. That sequence counts every organisation's writes,
// hidden ones included, so its numbers never leave the hub: each position
// goes out sealed, as one AES block over the Seq and a tag of the caller's
// organisation, base64url without padding (22 characters). A caller cannot
// read a Seq out of a cursor, compare two cursors' distance, make one up,
// or use one handed to another organisation: any of those answers 400.
// The same organisation gets the same cursor for the same position, so a
// page asked twice pages on the same way.
//
// The key comes from Server.CursorSecret. Every process serving one store
// must share it for a cursor of one to be taken by another, and it must
// outlive a restart for streams to resume across one (serve derives it
// from the hub's key file; see cmd/cyberpact).

// cursorCodec seals and opens cursors.
type cursorCodec struct {
	block cipher.Block // AES-256
	tags  []byte       // HMAC key of the organisation tags
}

// newCursorCodec derives the codec's two keys from secret.
func newCursorCodec(secret []byte) *cursorCodec {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(derive("cyberpact cursor cipher"))
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	return &cursorCodec{block: block, tags: derive("cyberpact cursor viewer tag")}
}

// randomSecret returns a fresh cursor secret.
func randomSecret() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

// tag is the 8 bytes that bind a cursor to the organisation of p (or to
// anonymous callers of the public collection, when p is nil).
func (c *cursorCodec) tag(p *cyberpact.Principal) []byte {
	m := hmac.New(sha256.New, c.tags)
	if p == nil {
		m.Write([]byte("anonymous"))
	} else {
		m.Write([]byte("org:" + strconv.FormatInt(p.Org.ID, 10)))
	}
	return m.Sum(nil)[:8]
}

// seal returns the cursor of position seq for p's organisation.
func (c *cursorCodec) seal(p *cyberpact.Principal, seq int64) string {
	return c.sealer(p)(seq)
}

// sealer returns seal for p's organisation, its tag computed once: for
// the stream, which seals every event.
func (c *cursorCodec) sealer(p *cyberpact.Principal) func(seq int64) string {
	tag := c.tag(p)
	return func(seq int64) string {
		var b [aes.BlockSize]byte
		binary.BigEndian.PutUint64(b[:8], uint64(seq))
		copy(b[8:], tag)
		c.block.Encrypt(b[:], b[:])
		return base64.RawURLEncoding.EncodeToString(b[:])
	}
}

// open returns the position of a cursor sealed for p's organisation; ok is
// false for anything else: not a cursor, altered, or another's.
func (c *cursorCodec) open(p *cyberpact.Principal, cursor string) (seq int64, ok bool) {
	if len(cursor) != base64.RawURLEncoding.EncodedLen(aes.BlockSize) {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) != aes.BlockSize {
		return 0, false
	}
	c.block.Decrypt(b, b)
	if subtle.ConstantTimeCompare(b[8:], c.tag(p)) != 1 {
		return 0, false
	}
	seq = int64(binary.BigEndian.Uint64(b[:8]))
	return seq, seq >= 0
}

// badCursor is the error of a cursor open refused; param names where it
// came from (query parameter cursor, next, Last-Event-ID...).
func badCursor(param, cursor string) error {
	if len(cursor) > 40 {
		cursor = cursor[:40] + "..."
	}
	return cyberpact.Errorf(cyberpact.EINVALID, "%s %q is not a cursor this hub handed to your organisation: pass the next (or event id) it gave you unchanged", param, cursor)
}

// cursorOf reads the cursor value of param for p: its position, or
// EINVALID.
func (s *Server) cursorOf(p *cyberpact.Principal, param, v string) (int64, error) {
	seq, ok := s.cursors().open(p, v)
	if !ok {
		return 0, badCursor(param, v)
	}
	return seq, nil
}

// cursors returns the server's codec, made from CursorSecret on first use.
func (s *Server) cursors() *cursorCodec {
	s.cursorOnce.Do(func() {
		secret := s.CursorSecret
		if len(secret) == 0 {
			secret = randomSecret()
		}
		s.codec = newCursorCodec(secret)
	})
	return s.codec
}

// SealCursor returns the cursor of position seq for p's organisation, as
// the API hands them out: for the web interface's paging.
func (s *Server) SealCursor(p *cyberpact.Principal, seq int64) string {
	return s.cursors().seal(p, seq)
}

// OpenCursor returns the position of a cursor handed to p's organisation;
// EINVALID, naming param, for any other text.
func (s *Server) OpenCursor(p *cyberpact.Principal, param, v string) (int64, error) {
	return s.cursorOf(p, param, v)
}
