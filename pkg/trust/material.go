package trust

import "fmt"

// Secret layouts Istio accepts for credentialName: the Kubernetes TLS layout
// and Istio's generic one. A "<name>-cacert" companion Secret may carry the CA.
var (
	certKeys = []string{"tls.crt", "cert"}
	keyKeys  = []string{"tls.key", "key"}
	caKeys   = []string{"ca.crt", "cacert"}
)

// CompanionSuffix names the Secret that may hold the CA for credentialName.
const CompanionSuffix = "-cacert"

// Material is the non-secret summary of a credential Secret.
type Material struct {
	// Source names where the material came from ("Secret shop/client-cert").
	Source string
	// Chain is the client certificate and its intermediates, leaf first.
	Chain []Cert
	// CA is the bundle the proxy verifies the server with.
	CA []Cert
	// HasKey says a private key was present; KeyMatches whether it belongs
	// to Chain[0]. The key itself is never kept.
	HasKey     bool
	KeyMatches bool
	// Problems are parse failures, naming the key and block.
	Problems []string
}

func first(data map[string][]byte, keys []string) (string, []byte) {
	for _, k := range keys {
		if v, ok := data[k]; ok && len(v) > 0 {
			return k, v
		}
	}
	return "", nil
}

// Inspect summarises a credential Secret's data. It reads the private key
// only to test that it matches the certificate; nothing derived from the key
// is returned. (A "-cacert" companion is inspected on its own and merged by
// View.Secret.)
func Inspect(source string, data map[string][]byte) *Material {
	m := &Material{Source: source}
	certKey, certPEM := first(data, certKeys)
	if certPEM != nil {
		chain, err := ParseBundle(certPEM)
		m.Chain = chain
		if err != nil {
			m.Problems = append(m.Problems, fmt.Sprintf("%s: %v", certKey, err))
		}
	}
	if _, keyPEM := first(data, keyKeys); keyPEM != nil {
		m.HasKey = true
		m.KeyMatches = certPEM != nil && keyMatches(certPEM, keyPEM)
	}
	caKey, caPEM := first(data, caKeys)
	if caPEM != nil {
		ca, err := ParseBundle(caPEM)
		m.CA = ca
		if err != nil {
			m.Problems = append(m.Problems, fmt.Sprintf("%s: %v", caKey, err))
		}
	}
	return m
}
