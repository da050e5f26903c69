// Package certs keeps the webhook's serving certificate valid without
// cert-manager: it issues a certificate for the webhook Service from a fresh,
// short-lived CA, stores it in one Secret, writes it to the cert directory
// (controller-runtime's certwatcher reloads it) and puts the CA in the
// webhook configuration's caBundle. The CA's private key is discarded as soon
// as the certificate is signed; the bundle keeps the previous CA until the
// certificates it signed have expired, so rotation never breaks a handshake.
package certs

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Keys of the serving certificate Secret (the kubernetes.io/tls layout plus the CA).
const (
	KeyCert = "tls.crt"
	KeyKey  = "tls.key"
	KeyCA   = "ca.crt"
)

// Rotator keeps one serving certificate valid.
type Rotator struct {
	// Client reads and writes directly (no cache: meshguard watches no Secrets).
	Client client.Client
	// Namespace and SecretName locate the Secret; ServiceName names the Service
	// the certificate is for; WebhookConfig is the ValidatingWebhookConfiguration
	// whose caBundle is kept in step.
	Namespace, SecretName, ServiceName, WebhookConfig string
	// CertDir receives tls.crt and tls.key.
	CertDir string
	// Validity of issued certificates; renewal starts when a third is left.
	Validity time.Duration
	Log      logr.Logger
	Now      func() time.Time
}

func (r *Rotator) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Rotator) validity() time.Duration {
	if r.Validity == 0 {
		return 90 * 24 * time.Hour
	}
	return r.Validity
}

// Ensure makes the Secret, the caBundle and the files hold a valid
// certificate, in that order: the API server must trust a CA before any
// replica serves a certificate it signed. With mayIssue false it only syncs
// what the Secret holds (a replica that is not the leader); when the Secret
// is missing it keeps what it serves and waits for the leader to issue.
func (r *Rotator) Ensure(ctx context.Context, mayIssue bool) error {
	sec := &corev1.Secret{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: r.SecretName}, sec)
	switch {
	case apierrors.IsNotFound(err):
		sec = nil
	case err != nil:
		return fmt.Errorf("reading Secret %s/%s: %w", r.Namespace, r.SecretName, err)
	}
	if sec == nil && !mayIssue {
		return nil
	}
	if sec == nil || (mayIssue && r.needsRenewal(sec)) {
		if sec, err = r.issue(ctx, sec); err != nil {
			return err
		}
	}
	if err := r.patchCABundle(ctx, sec.Data[KeyCA]); err != nil {
		return err
	}
	if r.HasFiles() && !r.settled(sec) {
		// The API server picks up a caBundle change through its own watch;
		// keep serving the pair it already trusts until the new CA has had
		// ServeGrace to arrive. The next pass switches.
		return nil
	}
	return r.writeFiles(sec)
}

// ServeGrace is how long after a certificate is issued replicas keep
// serving the previous one (when they have one): the time the API server
// takes to see the caBundle that trusts the new CA.
const ServeGrace = 3 * time.Second

// issuedAt annotates the Secret with when its certificate was issued.
const issuedAt = "meshguard.io/issued-at"

// settled reports whether the Secret's certificate was issued at least
// ServeGrace ago (a Secret without the annotation is old).
func (r *Rotator) settled(sec *corev1.Secret) bool {
	at, err := time.Parse(time.RFC3339Nano, sec.Annotations[issuedAt])
	return err != nil || !r.now().Before(at.Add(ServeGrace))
}

// needsRenewal reports whether the stored certificate is missing, unreadable,
// for other names, or within the last third of its life.
func (r *Rotator) needsRenewal(sec *corev1.Secret) bool {
	block, _ := pem.Decode(sec.Data[KeyCert])
	if block == nil || len(sec.Data[KeyKey]) == 0 || len(sec.Data[KeyCA]) == 0 {
		return true
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || cert.VerifyHostname(r.dnsNames()[0]) != nil {
		return true
	}
	life := cert.NotAfter.Sub(cert.NotBefore)
	return r.now().After(cert.NotAfter.Add(-life / 3))
}

// HasFiles reports whether CertDir already holds a serving pair.
func (r *Rotator) HasFiles() bool { return HasPair(r.CertDir) }

// HasPair reports whether dir holds a non-empty tls.crt and tls.key.
func HasPair(dir string) bool {
	for _, k := range []string{KeyCert, KeyKey} {
		if info, err := os.Stat(filepath.Join(dir, k)); err != nil || info.Size() == 0 {
			return false
		}
	}
	return true
}

func (r *Rotator) dnsNames() []string {
	svc := r.ServiceName + "." + r.Namespace + ".svc"
	return []string{svc, svc + ".cluster.local", r.ServiceName, r.ServiceName + "." + r.Namespace}
}

// issue creates a fresh CA, signs a serving certificate, drops the CA key and
// stores the result, keeping the previous CA in the bundle while it is valid.
func (r *Rotator) issue(ctx context.Context, old *corev1.Secret) (*corev1.Secret, error) {
	now := r.now()
	caPEM, certPEM, keyPEM, err := issueServing(r.dnsNames(), now, r.validity())
	if err != nil {
		return nil, err
	}
	bundle := caPEM
	if old != nil {
		bundle = append(bundle, stillValid(old.Data[KeyCA], now)...)
	}
	data := map[string][]byte{KeyCert: certPEM, KeyKey: keyPEM, KeyCA: bundle}
	stamp := map[string]string{issuedAt: now.UTC().Format(time.RFC3339Nano)}
	if old == nil {
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: r.Namespace, Name: r.SecretName, Annotations: stamp,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "meshguard"}}, Type: corev1.SecretTypeTLS, Data: data}
		if err := r.Client.Create(ctx, sec); err != nil {
			if apierrors.IsAlreadyExists(err) { // another replica won; use its certificate
				return r.reread(ctx)
			}
			return nil, fmt.Errorf("creating Secret %s/%s: %w", r.Namespace, r.SecretName, err)
		}
		r.Log.Info("Issued serving certificate", "secret", r.SecretName, "notAfter", now.Add(r.validity()))
		return sec, nil
	}
	old.Data = data
	if old.Annotations == nil {
		old.Annotations = map[string]string{}
	}
	old.Annotations[issuedAt] = stamp[issuedAt]
	if err := r.Client.Update(ctx, old); err != nil {
		if apierrors.IsConflict(err) {
			return r.reread(ctx)
		}
		return nil, fmt.Errorf("updating Secret %s/%s: %w", r.Namespace, r.SecretName, err)
	}
	r.Log.Info("Renewed serving certificate", "secret", r.SecretName, "notAfter", now.Add(r.validity()))
	return old, nil
}

func (r *Rotator) reread(ctx context.Context) (*corev1.Secret, error) {
	sec := &corev1.Secret{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: r.SecretName}, sec); err != nil {
		return nil, fmt.Errorf("reading Secret %s/%s: %w", r.Namespace, r.SecretName, err)
	}
	return sec, nil
}

// writeFiles puts tls.crt and tls.key in CertDir when they changed, each
// through a rename so that the certwatcher never reads half a file.
func (r *Rotator) writeFiles(sec *corev1.Secret) error {
	if err := os.MkdirAll(r.CertDir, 0o700); err != nil {
		return err
	}
	for _, k := range []string{KeyKey, KeyCert} {
		path := filepath.Join(r.CertDir, k)
		if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, sec.Data[k]) {
			continue
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, sec.Data[k], 0o600); err != nil {
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	return nil
}

// patchCABundle sets the caBundle of every webhook of WebhookConfig to the
// Secret's CAs plus the CAs the webhook already trusts that are still valid:
// a replica may still serve a certificate from the previous CA (the Secret
// was deleted and re-created, or a follower has not reloaded yet), and the
// API server must keep accepting it until it expires.
func (r *Rotator) patchCABundle(ctx context.Context, bundle []byte) error {
	if r.WebhookConfig == "" {
		return nil
	}
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: r.WebhookConfig}, vwc); err != nil {
		return fmt.Errorf("reading ValidatingWebhookConfiguration %s: %w", r.WebhookConfig, err)
	}
	changed := false
	for i := range vwc.Webhooks {
		merged := mergeBundles(bundle, vwc.Webhooks[i].ClientConfig.CABundle, r.now())
		if !bytes.Equal(vwc.Webhooks[i].ClientConfig.CABundle, merged) {
			vwc.Webhooks[i].ClientConfig.CABundle = merged
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if err := r.Client.Update(ctx, vwc); err != nil {
		return fmt.Errorf("updating the caBundle of %s: %w", r.WebhookConfig, err)
	}
	return nil
}

// FollowInterval is how often a replica re-reads the Secret (one GET), so
// that it serves a renewed pair within seconds of the leader writing it.
const FollowInterval = 5 * time.Second

// Run keeps the certificate valid until ctx ends: right away, then every
// FollowInterval (or interval, if shorter), it syncs the caBundle and files
// with the Secret; the leader also issues when the Secret is missing or due
// for renewal. elected, when not nil, closes once this replica leads; until
// then it only follows, and it acts at once when elected.
func (r *Rotator) Run(ctx context.Context, interval time.Duration, elected <-chan struct{}) error {
	t := time.NewTicker(min(interval, FollowInterval))
	defer t.Stop()
	leader := elected == nil
	for {
		if err := r.Ensure(ctx, leader); err != nil {
			r.Log.Error(err, "Certificate rotation failed; retrying")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-elected:
			leader, elected = true, nil
		}
	}
}

// maxBundle bounds how many CAs a caBundle carries.
const maxBundle = 4

// mergeBundles returns primary followed by the still valid certificates of
// extra that primary lacks, at most maxBundle in all.
func mergeBundles(primary, extra []byte, now time.Time) []byte {
	out := append([]byte(nil), primary...)
	seen := map[string]bool{}
	n := 0
	for rest := primary; ; n++ {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		seen[string(block.Bytes)] = true
	}
	for rest := extra; n < maxBundle; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil && now.Before(c.NotAfter) && !seen[string(block.Bytes)] {
			seen[string(block.Bytes)] = true
			out = append(out, pem.EncodeToMemory(block)...)
			n++
		}
	}
	return out
}

// stillValid keeps the CERTIFICATE blocks of bundle that have not expired
// (only the newest previous CA is carried, so the bundle stays small).
func stillValid(bundle []byte, now time.Time) []byte {
	for rest := bundle; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return nil
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil && now.Before(c.NotAfter) {
			return pem.EncodeToMemory(block)
		}
	}
}

func issueServing(dnsNames []string, now time.Time, validity time.Duration) (caPEM, certPEM, keyPEM []byte, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	serial := func() *big.Int { n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120)); return n }
	// A subject of its own for every CA: verifiers that look a CA up by
	// subject (OpenSSL) must not confuse the current one with the previous.
	caTmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: fmt.Sprintf("meshguard webhook CA %s %x", now.UTC().Format(time.DateOnly), serial().Uint64())},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validity), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	// Sign with the parsed CA, which carries the SubjectKeyId Go generated:
	// the leaf then names it as its AuthorityKeyId, so a verifier holding two
	// CAs during an overlap picks the right one.
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: dnsNames[0]}, DNSNames: dnsNames,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(validity), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}
