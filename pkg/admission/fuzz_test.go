package admission_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/yaml"

	"github.com/meshguard/meshguard/pkg/config"
)

// FuzzHandle feeds arbitrary objects to the handler as CREATE, UPDATE and
// DELETE of each reviewed kind. Whatever arrives, the answer is a decision or
// a clear error; a panic (which the handler turns into a 500 so the webhook
// survives) is a bug.
func FuzzHandle(f *testing.F) {
	for _, dir := range []string{"../rules/peerauthentication/testdata", "../rules/destinationrule/testdata", "../rules/virtualservice/testdata"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*", "*.yaml"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				continue
			}
			for _, doc := range strings.Split(string(data), "\n---\n") {
				if js, err := yaml.YAMLToJSON([]byte(doc)); err == nil && json.Valid(js) {
					f.Add(js, uint8(0))
				}
			}
		}
	}
	f.Add([]byte(`{"spec":{"http":[{"route":[{"destination":{}}]}]}}`), uint8(1))
	h := newHandler(config.Default())
	kinds := [][2]string{{"PeerAuthentication", "security.istio.io"}, {"DestinationRule", "networking.istio.io"}, {"VirtualService", "networking.istio.io"}}
	ops := []admissionv1.Operation{admissionv1.Create, admissionv1.Update, admissionv1.Delete}
	f.Fuzz(func(t *testing.T, object []byte, which uint8) {
		k, op := kinds[int(which)%len(kinds)], ops[int(which/3)%len(ops)]
		// Sent as the API server would, about the object it carries (when
		// it names a reviewed kind), so that evaluation is fuzzed and not
		// only the refusal of mismatched requests.
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		ns := "legacy"
		if json.Unmarshal(object, &head) == nil {
			for _, kk := range kinds {
				if kk[0] == head.Kind {
					k = kk
				}
			}
			if head.Metadata.Namespace != "" {
				ns = head.Metadata.Namespace
			}
		}
		req := request(op, k[0], k[1], ns, string(object))
		if op == admissionv1.Update {
			req.OldObject = req.Object
		}
		resp := h.Handle(context.Background(), req)
		if resp.Result != nil && resp.Result.Code == http.StatusInternalServerError && strings.Contains(resp.Result.Message, "internal error") &&
			!strings.Contains(resp.Result.Message, "not synced") {
			t.Fatalf("internal error (a recovered panic?) for %s %s: %s", op, k[0], resp.Result.Message)
		}
	})
}
