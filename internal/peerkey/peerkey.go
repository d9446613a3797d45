// Package peerkey seals the keys a hub holds for its federation peers:
// AES-256-GCM under a 32-byte key of the hub's own, kept in a file (mode
// 0600, made on first use), each sealed key bound to its peer's name. Both
// stores use it, so a peer key sealed by one opens the same way in the
// other. A copy of the database alone does not give the credentials away.
package peerkey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ReadOrMake returns the key in the file name, making the file with a
// random key when there is none (several processes may race to make it:
// the first one wins and the others read its key).
func ReadOrMake(name string) ([]byte, error) {
	key, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("making the peer key file: %w", err)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return ReadOrMake(name) // made meanwhile by another process
		}
		if err != nil {
			return nil, fmt.Errorf("making the peer key file: %w", err)
		}
		_, err = f.Write(key)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("writing the peer key file %s: %w", name, err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the peer key file: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("the peer key file %s holds %d bytes, not 32", name, len(key))
	}
	return key, nil
}

// NewAEAD returns the cipher that seals with key.
func NewAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("reading the peer key file: %w", err)
	}
	return cipher.NewGCM(block)
}

// Seal encrypts a peer's key, bound to the peer's name.
func Seal(aead cipher.AEAD, name, key string) ([]byte, error) {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(key)+aead.Overhead())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, fmt.Errorf("sealing the peer key: %w", err)
	}
	return aead.Seal(nonce, nonce, []byte(key), []byte(strings.ToLower(name))), nil
}

// Open decrypts what Seal made for the peer name.
func Open(aead cipher.AEAD, name string, sealed []byte) (string, error) {
	n := aead.NonceSize()
	if len(sealed) < n {
		return "", fmt.Errorf("opening the key of peer %s: sealed key too short", name)
	}
	key, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(strings.ToLower(name)))
	if err != nil {
		return "", fmt.Errorf("opening the key of peer %s: %w (was the peer key file replaced?)", name, err)
	}
	return string(key), nil
}
