package integration

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// reviewBody is an AdmissionReview of a dry-run CREATE of obj (JSON), with
// the request's kind taken from the object.
func reviewBody(t *testing.T, uid, group, kind, ns, name, obj string) []byte {
	t.Helper()
	body, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: types.UID(uid), Kind: metav1.GroupVersionKind{Group: group, Version: "v1", Kind: kind},
			Resource:  metav1.GroupVersionResource{Group: group, Version: "v1", Resource: strings.ToLower(kind) + "s"},
			Namespace: ns, Name: name, Operation: admissionv1.Create, DryRun: ptr.To(true),
			Object: runtime.RawExtension{Raw: []byte(obj)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// answer reads an AdmissionReview answer: the uid it answers and its verdict.
func answer(resp *http.Response, err error) (uid string, allowed bool, message string, _ error) {
	if err != nil {
		return "", false, "", err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", false, "", fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, out)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(out, &review); err != nil || review.Response == nil {
		return "", false, "", fmt.Errorf("not an AdmissionReview answer (%v): %.200q", err, out)
	}
	r := review.Response
	if r.Result != nil {
		message = r.Result.Message
		if r.Result.Code >= 400 && r.Result.Code != http.StatusForbidden {
			return string(r.UID), r.Allowed, message, fmt.Errorf("an error answer, code %d: %s", r.Result.Code, message)
		}
	}
	return string(r.UID), r.Allowed, message, nil
}

// A replica stopped by SIGTERM (a rollout, a node drain) while reviews are in
// flight over HTTP/2, the API server's protocol: readiness fails at once, the
// port stops accepting connections, every review already received is answered
// with its verdict, and only then does the process exit, with status 0.
// Each review is held half-sent: the server has started reading its body
// (it asked for the rest with 100 Continue) when the signal arrives.
func TestSIGTERMAnswersEveryReviewInFlight(t *testing.T) {
	wio := &testEnv.WebhookInstallOptions
	r := startReplica(t, meshguardBinary(t), "draining", "--kubeconfig", kubeconfig, "--cert-dir", wio.LocalServingCertDir,
		"--audit-interval", "0", "--drain-timeout", "30s")
	eventually(t, "the replica is ready", r.ready)

	const inFlight = 12
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(wio.LocalServingCAData)
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, ServerName: wio.LocalServingHost, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
		// The body is sent only once the server's handler asks for it.
		ExpectContinueTimeout: time.Hour,
	}}
	url := fmt.Sprintf("https://127.0.0.1:%d/validate?timeout=30s", r.port)
	type result struct {
		uid, want string
		got       string
		allowed   bool
		err       error
	}
	results := make(chan result, inFlight)
	started := make(chan struct{}, inFlight)
	rests := make([]func(), inFlight)
	for i := 0; i < inFlight; i++ {
		uid := fmt.Sprintf("drain-%d", i)
		// Half the reviews are denied (a retry storm), half allowed.
		want, body := "", reviewBody(t, uid, "security.istio.io", "PeerAuthentication", "drain", "p",
			`{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"p","namespace":"drain"},"spec":{"mtls":{"mode":"PERMISSIVE"}}}`)
		if i%2 == 1 {
			want, body = "[MG306]", reviewBody(t, uid, "networking.istio.io", "VirtualService", "drain", "storm",
				`{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"storm","namespace":"drain"},"spec":{"hosts":["a"],"http":[{"retries":{"attempts":50},"route":[{"destination":{"host":"a"}}]}]}}`)
		}
		pr, pw := io.Pipe()
		half := len(body) / 2
		req, err := http.NewRequest(http.MethodPost, url, pr)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Expect", "100-continue")
		var once sync.Once
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			Got100Continue: func() { once.Do(func() { started <- struct{}{} }) },
		}))
		go func() { _, _ = pw.Write(body[:half]) }()
		rests[i] = func() { _, _ = pw.Write(body[half:]); _ = pw.Close() }
		go func() {
			resp, err := client.Do(req)
			if err != nil {
				_ = pr.CloseWithError(err)
			}
			got, allowed, msg, err := answer(resp, err)
			results <- result{uid: uid, want: want, got: got + " " + msg, allowed: allowed, err: err}
		}()
	}
	for i := 0; i < inFlight; i++ {
		select {
		case <-started:
		case <-time.After(time.Minute):
			t.Fatalf("only %d of %d reviews reached the handler", i, inFlight)
		}
	}

	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, "readiness fails after SIGTERM", func() error {
		if err := r.ready(); err == nil {
			return errors.New("still ready")
		}
		return nil
	})
	eventually(t, "the port refuses new connections", func() error {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), 2*time.Second)
		if err != nil {
			return nil
		}
		c.Close()
		return errors.New("a new connection was accepted")
	})
	if !r.running() {
		t.Fatalf("the replica exited (%v) with %d reviews unanswered", r.cmd.ProcessState, inFlight)
	}
	for _, rest := range rests {
		rest()
	}
	for i := 0; i < inFlight; i++ {
		res := <-results
		switch {
		case res.err != nil:
			t.Errorf("review %s: %v", res.uid, res.err)
		case !strings.HasPrefix(res.got, res.uid+" "):
			t.Errorf("review %s answered as %q", res.uid, res.got)
		case res.want == "" && !res.allowed:
			t.Errorf("review %s denied: %s", res.uid, res.got)
		case res.want != "" && (res.allowed || !strings.Contains(res.got, res.want)):
			t.Errorf("review %s: want a denial with %s, got allowed=%v %s", res.uid, res.want, res.allowed, res.got)
		}
	}
	select {
	case <-r.exited:
	case <-time.After(time.Minute):
		t.Fatal("the replica did not exit after answering every review")
	}
	if code := r.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}
