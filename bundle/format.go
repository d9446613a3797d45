// Package bundle writes and reads offline bundles: what a hub may send a
// peer that has no live connection to it (an air gap, a data diode, a
// courier), as one file, signed with the sender's Ed25519 key and chained
// by hash to the previous bundle from the same sender to the same
// recipient.
//
// A bundle file is two lines. The first, the payload, is one JSON object:
//
//	{"cyberpact_bundle":1,"sender":KEY,"recipient":KEY,"seq":N,"prev":HASH,
//	 "created":TIME,"count":N,"bundle":{"type":"bundle","id":...,"objects":[...]}}
//
// where the keys are the Ed25519 public keys of the two hubs in standard
// base64, seq counts the bundles from sender to recipient from 1, prev is
// the hash of bundle seq-1 ("" for the first) and "bundle" is a STIX 2.1
// bundle of the versions it carries. The second line is
// {"signature":SIG}, the sender's Ed25519 signature of the payload's
// bytes exactly as written. A bundle's hash is the lowercase hex SHA-256
// of those same bytes. Any byte changed anywhere fails either the parse or
// the signature.
package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/google/uuid"
)

// Format is the version of the file format written.
const Format = 1

// Header is what a bundle says about itself.
type Header struct {
	Format    int       `json:"cyberpact_bundle"`
	Sender    []byte    `json:"sender"`    // the sender's public key
	Recipient []byte    `json:"recipient"` // the recipient's public key
	Seq       int64     `json:"seq"`
	Prev      string    `json:"prev"`
	Created   time.Time `json:"created"`
	Count     int       `json:"count"` // the number of objects in the STIX bundle
}

// payload is the signed first line.
type payload struct {
	Header
	Bundle json.RawMessage `json:"bundle"`
}

type signature struct {
	Signature []byte `json:"signature"`
}

// Bundle is a bundle read from a file; Verify says whether it may be
// believed.
type Bundle struct {
	Header
	// STIX is the STIX 2.1 bundle of the versions carried.
	STIX []byte
	// Hash is the hex SHA-256 of the payload, what the next bundle's
	// Prev names.
	Hash string

	payload, sig []byte
}

// KeyString is a public key as bundles, `cyberpact bundle key` and
// `cyberpact bundle trust` write it: standard base64.
func KeyString(pub []byte) string { return base64.StdEncoding.EncodeToString(pub) }

// ParseKey reads a public key written by KeyString. Returns EINVALID when
// it is not 32 bytes of base64.
func ParseKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "bundle key %q is not an Ed25519 public key (%d bytes in standard base64)", s, ed25519.PublicKeySize)
	}
	return b, nil
}

// Hash returns the hash of a payload.
func hashOf(payload []byte) string {
	h := sha256.Sum256(payload)
	return hex.EncodeToString(h[:])
}

// Seal writes the bundle of objs (raw STIX objects) with header h, signed
// with priv; h.Sender is set to priv's public key, h.Format and h.Count
// from what is written. It returns the file's bytes and the bundle's hash.
func Seal(priv ed25519.PrivateKey, h Header, objs []json.RawMessage) ([]byte, string, error) {
	h.Format = Format
	h.Sender = priv.Public().(ed25519.PublicKey)
	h.Count = len(objs)
	h.Created = h.Created.UTC()
	if objs == nil {
		objs = []json.RawMessage{}
	}
	var sb bytes.Buffer
	sb.WriteString(`{"type":"bundle","id":"bundle--` + uuid.NewString() + `","objects":[`)
	for i, o := range objs {
		if i > 0 {
			sb.WriteByte(',')
		}
		if err := json.Compact(&sb, o); err != nil {
			return nil, "", fmt.Errorf("object #%d of the bundle is not JSON: %w", i, err)
		}
	}
	sb.WriteString(`]}`)
	p, err := json.Marshal(payload{Header: h, Bundle: sb.Bytes()})
	if err != nil {
		return nil, "", err
	}
	s, err := json.Marshal(signature{Signature: ed25519.Sign(priv, p)})
	if err != nil {
		return nil, "", err
	}
	out := make([]byte, 0, len(p)+len(s)+2)
	out = append(append(append(append(out, p...), '\n'), s...), '\n')
	return out, hashOf(p), nil
}

// Read parses a bundle file without believing it: the caller finds the key
// of the sender it names and calls Verify before anything else. Returns
// EINVALID, saying what is wrong, for a file that is not a bundle.
func Read(data []byte) (*Bundle, error) {
	bad := func(f string, a ...any) error {
		return cyberpact.Errorf(cyberpact.EINVALID, "not a well-formed cyberpact bundle: "+f, a...)
	}
	rest, ok := bytes.CutSuffix(data, []byte("\n"))
	if !ok {
		return nil, bad("it does not end with a line break (cut short?)")
	}
	i := bytes.LastIndexByte(rest, '\n')
	if i < 0 {
		return nil, bad("no signature line")
	}
	b := &Bundle{payload: rest[:i]}
	var s signature
	if err := json.Unmarshal(rest[i+1:], &s); err != nil || len(s.Signature) != ed25519.SignatureSize {
		return nil, bad("line 2 is not a signature of %d bytes", ed25519.SignatureSize)
	}
	// The line must be exactly as Seal writes it: base64 lets a changed
	// last character decode to the same bytes, and such a change is a
	// changed byte all the same.
	if canon, _ := json.Marshal(s); !bytes.Equal(canon, rest[i+1:]) {
		return nil, bad("line 2 is not the signature line as sealed (a changed byte?)")
	}
	b.sig = s.Signature
	var p payload
	if err := json.Unmarshal(b.payload, &p); err != nil {
		return nil, bad("line 1: %v", err)
	}
	switch {
	case p.Format != Format:
		return nil, bad("format %d, this hub reads format %d", p.Format, Format)
	case len(p.Sender) != ed25519.PublicKeySize:
		return nil, bad("the sender is not an Ed25519 public key")
	case len(p.Recipient) != ed25519.PublicKeySize:
		return nil, bad("the recipient is not an Ed25519 public key")
	case p.Seq < 1:
		return nil, bad("sequence number %d is not positive", p.Seq)
	case len(p.Bundle) == 0:
		return nil, bad("no STIX bundle")
	}
	b.Header, b.STIX, b.Hash = p.Header, p.Bundle, hashOf(b.payload)
	return b, nil
}

// Verify checks that the bundle was signed by the holder of pub, the key
// trusted for the sender it names, and has not changed since. Returns
// EINVALID saying so otherwise.
func (b *Bundle) Verify(pub ed25519.PublicKey) error {
	if !bytes.Equal(b.Sender, pub) {
		return cyberpact.Errorf(cyberpact.EINVALID, "bundle refused: it names sender %s, not the trusted key %s", KeyString(b.Sender), KeyString(pub))
	}
	if !ed25519.Verify(pub, b.payload, b.sig) {
		return cyberpact.Errorf(cyberpact.EINVALID, "bundle refused: the signature does not verify against the sender's key %s: the file was changed after sealing, or not sealed by that hub", KeyString(pub))
	}
	return nil
}

// Follows checks that b, verified, is the next bundle of its chain for a
// recipient whose own key is self and who last opened bundle opened with
// hash openedHash from this sender. Returns EINVALID for a bundle meant for
// another hub, and ECONFLICT for a replay (a bundle already opened), a gap
// (bundles missing before it) or a broken chain (its prev is not the hash
// of the last bundle opened).
func (b *Bundle) Follows(self []byte, opened int64, openedHash string) error {
	switch {
	case !bytes.Equal(b.Recipient, self):
		return cyberpact.Errorf(cyberpact.EINVALID, "bundle refused: it was sealed for the hub with key %s, not this one (%s)", KeyString(b.Recipient), KeyString(self))
	case b.Seq <= opened:
		return cyberpact.Errorf(cyberpact.ECONFLICT, "bundle refused: replay: bundle %d from this sender was already opened (the last opened is %d); nothing imported", b.Seq, opened)
	case b.Seq > opened+1:
		return cyberpact.Errorf(cyberpact.ECONFLICT, "bundle refused: gap: this is bundle %d but the next expected is %d (bundles %d to %d are missing; open them first)", b.Seq, opened+1, opened+1, b.Seq-1)
	case b.Prev != openedHash:
		return cyberpact.Errorf(cyberpact.ECONFLICT, "bundle refused: broken chain: bundle %d names previous hash %q but the last bundle opened from this sender has hash %q", b.Seq, b.Prev, openedHash)
	}
	return nil
}
