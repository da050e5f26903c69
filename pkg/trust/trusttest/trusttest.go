// Package trusttest makes certificates for tests: roots, intermediates and
// leaves with chosen validity, as PEM.
package trusttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"time"
)

// CA is a certificate authority that can issue certificates.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	PEM  []byte
}

var serial int64 = 1

func issue(tmpl *x509.Certificate, parent *CA) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// NewRoot returns a self-signed root CA valid for ten years from now.
func NewRoot(cn string) *CA {
	now := time.Now()
	cert, key, p := issue(&x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: []string{"meshguard tests"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, nil)
	return &CA{Cert: cert, Key: key, PEM: p}
}

// Intermediate issues an intermediate CA under ca.
func (ca *CA) Intermediate(cn string) *CA {
	now := time.Now()
	cert, key, p := issue(&x509.Certificate{Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, ca)
	return &CA{Cert: cert, Key: key, PEM: p}
}

// Leaf issues a client certificate valid from notBefore to notAfter and
// returns its certificate and private key as PEM.
func (ca *CA) Leaf(cn string, notBefore, notAfter time.Time) (certPEM, keyPEM []byte) {
	_, key, p := issue(&x509.Certificate{Subject: pkix.Name{CommonName: cn}, NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca)
	return p, KeyPEM(key)
}

// ServingLeaf issues a server certificate for the given names and
// addresses, valid for a year, and returns it and its private key as PEM.
func (ca *CA) ServingLeaf(cn string, dnsNames []string, ips []net.IP) (certPEM, keyPEM []byte) {
	now := time.Now()
	_, key, p := issue(&x509.Certificate{Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.AddDate(1, 0, 0), DNSNames: dnsNames, IPAddresses: ips,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca)
	return p, KeyPEM(key)
}

// KeyPEM encodes an EC private key as PEM.
func KeyPEM(key *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

// ValidLeaf issues a leaf valid for a year.
func (ca *CA) ValidLeaf(cn string) (certPEM, keyPEM []byte) {
	now := time.Now()
	return ca.Leaf(cn, now.Add(-time.Hour), now.AddDate(1, 0, 0))
}
