// Package trust inspects TLS material: PEM bundles, certificate chains,
// validity and certificate/key pairs. It reduces material to Summaries that
// hold no secret: private keys are read only inside Inspect and never kept,
// logged or returned.
package trust

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"time"
)

// Cert is what rules may know about a certificate.
type Cert struct {
	Subject   string
	Issuer    string
	NotBefore time.Time
	NotAfter  time.Time
	IsCA      bool
	// KeyID fingerprints the public key (SHA-256 of the SubjectPublicKeyInfo),
	// so that a root re-issued with the same key still counts as the same root.
	KeyID string
	// RawSubject and RawIssuer let chains be followed without the full certificate.
	RawSubject []byte
	RawIssuer  []byte
	raw        *x509.Certificate
}

// SameAuthority reports whether two certificates are one CA: same subject and key.
func (c Cert) SameAuthority(o Cert) bool {
	return c.KeyID == o.KeyID && bytes.Equal(c.RawSubject, o.RawSubject)
}

func newCert(x *x509.Certificate) Cert {
	sum := sha256.Sum256(x.RawSubjectPublicKeyInfo)
	return Cert{
		Subject: x.Subject.String(), Issuer: x.Issuer.String(), NotBefore: x.NotBefore, NotAfter: x.NotAfter,
		IsCA: x.IsCA, KeyID: hex.EncodeToString(sum[:]), RawSubject: x.RawSubject, RawIssuer: x.RawIssuer, raw: x,
	}
}

// ParseBundle parses every CERTIFICATE block of a PEM bundle. Errors name the
// broken block (1-based) so that a bad bundle can be fixed.
func ParseBundle(data []byte) ([]Cert, error) {
	var out []Cert
	rest := bytes.TrimSpace(data)
	for n := 1; len(rest) > 0; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return out, fmt.Errorf("block %d: not PEM", n)
		}
		rest = bytes.TrimSpace(rest)
		if block.Type != "CERTIFICATE" {
			return out, fmt.Errorf("block %d: %s where a CERTIFICATE was expected", n, block.Type)
		}
		x, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return out, fmt.Errorf("block %d: %v", n, err)
		}
		out = append(out, newCert(x))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no certificate")
	}
	return out, nil
}

// Contains reports whether bundle holds the authority anchor.
func Contains(bundle []Cert, anchor Cert) bool {
	for _, c := range bundle {
		if c.SameAuthority(anchor) {
			return true
		}
	}
	return false
}

// Validity problems of one certificate at a given time.
const ExpiryWarning = 30 * 24 * time.Hour

// Validity describes a certificate's validity at now: "" when valid.
func Validity(c Cert, now time.Time) string {
	switch {
	case now.After(c.NotAfter):
		return fmt.Sprintf("certificate %q expired on %s", c.Subject, c.NotAfter.UTC().Format(time.DateOnly))
	case now.Before(c.NotBefore):
		return fmt.Sprintf("certificate %q is not valid before %s", c.Subject, c.NotBefore.UTC().Format(time.RFC3339))
	}
	return ""
}

// ExpiresSoon reports whether c expires within ExpiryWarning of now.
func ExpiresSoon(c Cert, now time.Time) bool {
	return now.Before(c.NotAfter) && c.NotAfter.Sub(now) < ExpiryWarning
}

// Verify checks that leaf chains to one of roots through intermediates at now.
func Verify(chain []Cert, roots []Cert, now time.Time) error {
	if len(chain) == 0 {
		return fmt.Errorf("no certificate")
	}
	pool, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r.raw)
	}
	for _, c := range chain[1:] {
		inter.AddCert(c.raw)
	}
	_, err := chain[0].raw.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err
}
