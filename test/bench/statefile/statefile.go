// Package statefile writes a whole-cluster state export of a given size, in
// the shapes `kubectl get -A` prints (YAML documents, a YAML List, a JSON
// List), for the benchmarks of `meshguard check` and the comparison with
// istioctl (hack/bench-vs-istioctl.sh): per namespace a Namespace, meshed
// pods as the API server returns them, a Service, a DestinationRule with two
// subsets and a VirtualService.
package statefile

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// Formats Write can produce.
const (
	YAMLDocuments = "yaml"      // one object per `---` document
	YAMLList      = "yaml-list" // kubectl get -o yaml
	JSONList      = "json"      // kubectl get -o json
	// YAMLWrapped is a List whose pods carry a long, spaced annotation:
	// emitters with a line width (PyYAML's safe_dump, yq, ruamel, and the
	// go-yaml behind sigs.k8s.io/yaml, all at 80) continue it on the next
	// lines.
	YAMLWrapped = "yaml-wrapped"
	// YAMLFlow is YAML as people write it by hand and some generators emit
	// it: a comment, then each object as one flow mapping with plain keys.
	YAMLFlow = "yaml-flow"
)

// plainKey matches a JSON object key that YAML can write unquoted.
var plainKey = regexp.MustCompile(`"([A-Za-z][A-Za-z0-9_./-]*)":`)

// note is the long annotation YAMLWrapped gives pods (as a change-cause or a
// description might read).
const note = "rolled out by the payments pipeline after the canary analysis passed; see the release notes for the migration steps and the owners to page"

// Shape sizes the export.
type Shape struct {
	Namespaces   int
	PodsPerNS    int
	ServicesPerN int // Services (each with a DestinationRule and VirtualService) per namespace; 0 means 1
}

// Objects is how many objects Write emits.
func (s Shape) Objects() int { return 2 + s.Namespaces*(1+s.PodsPerNS+3*s.services()) }

func (s Shape) services() int { return max(s.ServicesPerN, 1) }

var created = metav1.NewTime(time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC))

const sidecarStatus = `{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["istio-envoy","istio-data","istio-token"],"revision":"default"}`

func pod(ns string, svc string, i int) *corev1.Pod {
	// Two Deployments per Service (v1, v2); their pods share the ReplicaSet's
	// pod-template-hash, as they do in a cluster.
	version := fmt.Sprintf("v%d", 1+i%2)
	hash := fmt.Sprintf("%08x", uint32(len(ns)*7919+len(svc)*104729+i%2)^crc(ns+svc))[:8]
	name := fmt.Sprintf("%s-%s-%s", svc, hash, suffix(i))
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name, UID: types.UID(fmt.Sprintf("8d3c1a6e-5b2f-4e7a-9c10-%012d", i)),
			ResourceVersion: fmt.Sprint(200000 + i), CreationTimestamp: created,
			Labels: map[string]string{"app": svc, "version": version, "pod-template-hash": hash,
				"security.istio.io/tlsMode": "istio"},
			Annotations: map[string]string{"sidecar.istio.io/status": sidecarStatus},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: svc + "-" + hash,
				UID: "0b7e4c2d-1111-4a2b-8c3d-5e6f7a8b9c0d", Controller: ptr.To(true)}},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{
				{Name: "app", Image: "registry.example/" + svc + ":1.4.2", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: "TCP"}}},
				{Name: "istio-proxy", Image: "docker.io/istio/proxyv2:1.27.1"},
			},
			NodeName: fmt.Sprintf("node-%03d", i%50),
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.%d.%d.%d", i/65536%256, i/256%256, i%256),
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
}

// crc is a small string hash (FNV-1a) for stable generated names.
func crc(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// suffix is the random-looking 5-character pod name suffix of pod i.
func suffix(i int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	for n := range b {
		b[n] = alphabet[i%len(alphabet)]
		i /= len(alphabet)
	}
	return string(b)
}

func unstr(y string) map[string]any {
	u := map[string]any{}
	if err := yaml.Unmarshal([]byte(y), &u); err != nil {
		panic(err)
	}
	return u
}

// each calls fn for every object of the export, in order.
func (s Shape) each(fn func(obj any) error) error {
	if err := fn(&corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: "istio-system", CreationTimestamp: created}}); err != nil {
		return err
	}
	if err := fn(unstr(`{apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: istio-system, creationTimestamp: "2026-11-02T09:30:00Z"}, spec: {mtls: {mode: PERMISSIVE}}}`)); err != nil {
		return err
	}
	for n := 0; n < s.Namespaces; n++ {
		ns := fmt.Sprintf("team-%04d", n)
		if err := fn(&corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: ns, CreationTimestamp: created,
				Labels: map[string]string{"istio-injection": "enabled", "kubernetes.io/metadata.name": ns}}}); err != nil {
			return err
		}
		for k := 0; k < s.services(); k++ {
			svc := fmt.Sprintf("svc-%d", k)
			if err := fn(&corev1.Service{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: svc, CreationTimestamp: created},
				Spec: corev1.ServiceSpec{Selector: map[string]string{"app": svc}, ClusterIP: fmt.Sprintf("10.96.%d.%d", n/256, n%256),
					Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: "TCP", TargetPort: intstr.FromInt32(8080)}}}}); err != nil {
				return err
			}
			meta := fmt.Sprintf(`metadata: {name: %s, namespace: %s, creationTimestamp: "2026-11-02T09:30:00Z"}`, svc, ns)
			if err := fn(unstr(`{apiVersion: networking.istio.io/v1, kind: DestinationRule, ` + meta + `,
  spec: {host: ` + svc + `, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 5, maxEjectionPercent: 50}},
    subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]}}`)); err != nil {
				return err
			}
			if err := fn(unstr(`{apiVersion: networking.istio.io/v1, kind: VirtualService, ` + meta + `,
  spec: {hosts: [` + svc + `], http: [{route: [{destination: {host: ` + svc + `, subset: v1}, weight: 90}, {destination: {host: ` + svc + `, subset: v2}, weight: 10}], retries: {attempts: 2}}]}}`)); err != nil {
				return err
			}
		}
		for i := 0; i < s.PodsPerNS; i++ {
			if err := fn(pod(ns, fmt.Sprintf("svc-%d", i%s.services()), n*s.PodsPerNS+i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Write writes the export in format.
func Write(w io.Writer, s Shape, format string) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var err error
	switch format {
	case YAMLDocuments:
		err = s.each(func(obj any) error {
			b, err := yaml.Marshal(obj)
			if err != nil {
				return err
			}
			_, _ = bw.WriteString("---\n")
			_, err = bw.Write(b)
			return err
		})
	case YAMLList:
		// As kubectl prints it: apiVersion, items, kind, metadata.
		_, _ = bw.WriteString("apiVersion: v1\nitems:\n")
		err = s.each(func(obj any) error {
			b, err := yaml.Marshal([]any{obj})
			if err != nil {
				return err
			}
			_, err = bw.Write(b)
			return err
		})
		_, _ = bw.WriteString("kind: List\nmetadata:\n  resourceVersion: \"\"\n")
	case YAMLWrapped:
		_, _ = bw.WriteString("apiVersion: v1\nitems:\n")
		err = s.each(func(obj any) error {
			if p, ok := obj.(*corev1.Pod); ok {
				c := *p
				c.Annotations = map[string]string{"sidecar.istio.io/status": sidecarStatus, "kubernetes.io/change-cause": note}
				obj = &c
			}
			b, err := yaml.Marshal([]any{obj})
			if err != nil {
				return err
			}
			_, err = bw.Write(b)
			return err
		})
		_, _ = bw.WriteString("kind: List\nmetadata:\n  resourceVersion: ''\n")
	case YAMLFlow:
		err = s.each(func(obj any) error {
			b, err := json.Marshal(obj)
			if err != nil {
				return err
			}
			_, _ = bw.WriteString("---\n# generated; do not edit\n")
			_, _ = bw.Write(plainKey.ReplaceAll(b, []byte("$1: ")))
			return bw.WriteByte('\n')
		})
	case JSONList:
		_, _ = bw.WriteString("{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n")
		first := true
		err = s.each(func(obj any) error {
			if !first {
				_, _ = bw.WriteString(",\n")
			}
			first = false
			b, err := json.MarshalIndent(obj, "        ", "    ")
			if err != nil {
				return err
			}
			_, _ = bw.WriteString("        ")
			_, err = bw.Write(b)
			return err
		})
		_, _ = bw.WriteString("\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n")
	default:
		return fmt.Errorf("format %q: want %s, %s, %s, %s or %s", format, YAMLDocuments, YAMLList, YAMLWrapped, YAMLFlow, JSONList)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// Change is the reviewed change of the benchmark: mesh-wide STRICT.
const Change = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: STRICT
`
