package manifest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/state/manifest"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadFilesAsKubectlPrintsThem(t *testing.T) {
	p := write(t, "state.yaml", `# comments and empty documents are fine
---
apiVersion: v1
kind: List
metadata: {resourceVersion: ""}
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-1
    namespace: shop
    creationTimestamp: "2026-01-01T00:00:00Z"
    managedFields: [{manager: kubectl, operation: Apply}]
    annotations: {sidecar.istio.io/status: "{}"}
  spec: {containers: [{name: web, image: web, ports: [{containerPort: 8080, protocol: TCP}]}]}
  status: {phase: Running, conditions: [{type: Ready, status: "True"}]}
- apiVersion: security.istio.io/v1
  kind: PeerAuthentication
  metadata: {name: strict, namespace: shop}
  spec: {mtls: {mode: STRICT}, portLevelMtls: {"8080": {mode: PERMISSIVE}}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}
`)
	docs, err := manifest.ReadFiles([]string{filepath.Dir(p)})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 {
		t.Fatalf("got %d documents, want 3", len(docs))
	}
	pod := docs[0].Object.Pod
	if pod == nil || !pod.Sidecar || !pod.Ready || pod.Ports[0].Port != 8080 {
		t.Errorf("pod = %+v", pod)
	}
	pa := docs[1].Object.PA
	if pa == nil || pa.Mode != state.ModeStrict || pa.PortModes[8080] != state.ModePermissive {
		t.Errorf("policy = %+v", pa)
	}
	if svc := docs[2].Object.Service; svc == nil || svc.Namespace != "default" || svc.Ports[0].TargetPortName != "http" {
		t.Errorf("a Service without namespace goes to default, with its named target port: %+v", svc)
	}
	if !strings.Contains(docs[1].Source, "document 1, item 2") {
		t.Errorf("source = %q", docs[1].Source)
	}
}

func TestReadFilesNamesWhatIsWrong(t *testing.T) {
	cases := []struct {
		name, content, want string
	}{
		{"YAML that does not parse", "kind: Pod\nmetadata: {name: [\n", "document 1: YAML does not parse"},
		{"an object without kind", "apiVersion: v1\nmetadata: {name: x}\n", "document 1: kind: missing"},
		{"an object without name", "apiVersion: v1\nkind: Pod\nmetadata: {}\n", "metadata.name: missing"},
		{"a typo in an Istio spec", "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: x}\nspec: {mtls: {mdoe: STRICT}}\n", `document 2: PeerAuthentication default/x: spec: unknown field "mdoe"`},
		{"an unknown mode", "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: x}\nspec: {mtls: {mode: STRCT}}\n", `STRCT`},
		{"a version that is not served", "apiVersion: security.istio.io/v1alpha1\nkind: PeerAuthentication\nmetadata: {name: x}\n", "is not served"},
		{"a bad list item", "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n- {apiVersion: v1, kind: Pod}\n", "item 2: metadata.name: missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := write(t, "bad.yaml", c.content)
			_, err := manifest.ReadFiles([]string{p})
			var ie *manifest.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an InputError", err)
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %q, want the file and %q", err, c.want)
			}
		})
	}
	if _, err := manifest.ReadFiles([]string{"/does/not/exist.yaml"}); err == nil {
		t.Error("a missing file is an error")
	}
}

// Istio's CRDs accept Kubernetes-style durations ("500ms"); a decoder that
// only takes protobuf's "0.5s" form would reject valid objects.
func TestDurationsAsIstioAcceptsThem(t *testing.T) {
	p := write(t, "vs.yaml", `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: shop}
spec: {hosts: [r], http: [{route: [{destination: {host: r}}], timeout: 2s, retries: {attempts: 2, perTryTimeout: 500ms}}]}
`)
	docs, err := manifest.ReadFiles([]string{p})
	if err != nil {
		t.Fatal(err)
	}
	rt := docs[0].Object.VS.HTTP[0]
	if rt.Timeout.String() != "2s" || rt.Retries.PerTryTimeout.String() != "500ms" {
		t.Errorf("timeout %s, perTryTimeout %s", rt.Timeout, rt.Retries.PerTryTimeout)
	}
}

// An empty or broken root-cert.pem is a problem of the rules that use it
// (MG403), not bad input: `check` must keep judging every other write.
func TestUnusableMeshRootIsStateNotBadInput(t *testing.T) {
	for name, data := range map[string]string{"empty": `""`, "garbage": `"not a certificate"`} {
		t.Run(name, func(t *testing.T) {
			p := write(t, "root.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio-ca-root-cert, namespace: istio-system}\ndata: {root-cert.pem: "+data+"}\n")
			docs, err := manifest.ReadFiles([]string{p})
			if err != nil {
				t.Fatalf("err = %v, want the ConfigMap read", err)
			}
			if len(docs) != 1 || docs[0].Object.Root == nil || docs[0].Object.Root.Problem == "" || len(docs[0].Object.Root.Certs) != 0 {
				t.Fatalf("want a root with a problem and no certificates, got %+v", docs[0].Object.Root)
			}
		})
	}
}

// Only regular files are read: a FIFO would block forever, /dev/zero never
// ends. Both are bad input naming the path; so is a file over the cap.
func TestReadFilesRefusesSpecialAndOversizedFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	zero := filepath.Join(dir, "zero.yaml")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	big := write(t, "big.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
	cases := []struct {
		name  string
		paths []string
		opts  manifest.ReadOptions
		want  string
	}{
		{"a FIFO named on the command line", []string{fifo}, manifest.ReadOptions{}, "not a regular file (a FIFO)"},
		{"a FIFO inside a directory", []string{dir}, manifest.ReadOptions{}, "not a regular file"},
		{"a symlink to a device", []string{zero}, manifest.ReadOptions{}, "not a regular file (a device)"},
		{"a file over the cap", []string{big}, manifest.ReadOptions{MaxFileBytes: 10}, "over the 10-byte limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := manifest.ReadFilesContext(context.Background(), c.paths, c.opts); done <- err }()
			select {
			case err := <-done:
				var ie *manifest.InputError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("err = %v, want an InputError with %q", err, c.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("ReadFiles blocked on a special file")
			}
		})
	}
}

// Every document knows the line of its kind, for findings that point at the source.
func TestDocumentsKnowTheirLine(t *testing.T) {
	p := write(t, "lines.yaml", `# a comment
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: b}
- {apiVersion: v1, kind: Namespace, metadata: {name: c}}
---
metadata: {name: d}
apiVersion: v1
kind: Namespace
`)
	docs, err := manifest.ReadFiles([]string{p})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"a": 3, "b": 11, "c": 13, "d": 17}
	for _, d := range docs {
		if d.File != p || d.Line != want[d.Object.Ref.Name] {
			t.Errorf("%s: %s:%d, want line %d", d.Object.Ref.Name, d.File, d.Line, want[d.Object.Ref.Name])
		}
	}
}
