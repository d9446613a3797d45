package cyberpact

import (
	"context"
	"hash/crc32"
)

// Every stored body is kept with its checksum, so that a body damaged on
// disk (a flipped bit, a changed letter) is found when it is read instead
// of being served, exported or federated as it is. Versions stored before
// checksums were kept have none and are not checked.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// BodySum is the checksum kept beside a stored body: its CRC-32C.
func BodySum(body []byte) int64 { return int64(crc32.Checksum(body, castagnoli)) }

// CheckBody returns nil when body matches its stored checksum sum (nil:
// none kept), else the EINTERNAL error naming the damaged version, which
// every read of it returns.
func CheckBody(id, version string, body []byte, sum *int64) error {
	if sum == nil || BodySum(body) == *sum {
		return nil
	}
	return Errorf(EINTERNAL, "object %s version %s is damaged in the store (its body does not match its checksum); 'cyberpact check' lists damaged versions and 'cyberpact repair --from FILE' restores them from a good copy", id, orNone(version))
}

func orNone(version string) string {
	if version == "" {
		return "(none)"
	}
	return version
}

// DamagedVersion is a stored version whose body does not match its
// checksum.
type DamagedVersion struct {
	Seq      int64  `json:"seq"`
	ID       string `json:"id"`
	Modified string `json:"modified"`
}

// BodyChecker finds and repairs damaged bodies; both stores keep one.
type BodyChecker interface {
	// DamagedBodies returns every stored version whose body does not
	// match its checksum, in Seq order.
	DamagedBodies(ctx context.Context) ([]DamagedVersion, error)
	// RepairBodies restores, from good copies, the damaged versions they
	// match: the same id and version, and a body whose checksum is the
	// one kept for the damaged version (so that what is restored is
	// exactly what was stored). It returns the versions it restored.
	RepairBodies(ctx context.Context, good []*Object) ([]DamagedVersion, error)
}
