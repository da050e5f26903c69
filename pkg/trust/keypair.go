package trust

import "crypto/tls"

// keyMatches reports whether keyPEM is the private key of the first
// certificate in certPEM. The parsed key goes out of scope on return; it is
// never logged, printed or stored.
func keyMatches(certPEM, keyPEM []byte) bool {
	_, err := tls.X509KeyPair(certPEM, keyPEM)
	return err == nil
}
