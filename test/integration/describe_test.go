package integration

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A direct POST to the webhook whose request does not describe the object it
// carries (the request says VirtualService, the object is a mesh-wide STRICT
// PeerAuthentication; a DELETE without oldObject) is refused as a bad
// request naming the mismatch: neither allowed nor judged.
func TestDirectReviewsMustDescribeTheirObject(t *testing.T) {
	wio := &testEnv.WebhookInstallOptions
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: apiServerTLS()}}
	url := fmt.Sprintf("https://%s:%d/validate", wio.LocalServingHost, wio.LocalServingPort)
	strict := `{"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication","metadata":{"name":"default","namespace":"istio-system"},"spec":{"mtls":{"mode":"STRICT"}}}`
	deleteWithout := reviewBody(t, "del", "networking.istio.io", "VirtualService", "istio-system", "default", "null")
	deleteWithout = bytes.Replace(deleteWithout, []byte(`"operation":"CREATE"`), []byte(`"operation":"DELETE"`), 1)
	for _, c2 := range []struct {
		what, want string
		body       []byte
	}{
		{"a VirtualService review carrying a PeerAuthentication",
			"request.kind is networking.istio.io/v1 VirtualService but request.object is security.istio.io/v1 PeerAuthentication",
			reviewBody(t, "kind", "networking.istio.io", "VirtualService", "istio-system", "default", strict)},
		{"a DELETE without oldObject", "the DELETE carries no request.oldObject", deleteWithout},
	} {
		resp, err := c.Post(url, "application/json", bytes.NewReader(c2.body))
		uid, allowed, msg, err := answer(resp, err)
		if allowed || err == nil || !strings.Contains(err.Error(), "code 400") || !strings.Contains(msg, c2.want) {
			t.Errorf("%s: uid %q allowed=%v %q (%v), want refused with 400 saying %q", c2.what, uid, allowed, msg, err, c2.want)
		}
	}
}
