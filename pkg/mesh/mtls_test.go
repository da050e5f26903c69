package mesh_test

import (
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/state"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func pa(ns, name string, age int, mode state.MTLSMode, sel map[string]string, ports map[uint32]state.MTLSMode) *state.PeerAuthentication {
	return &state.PeerAuthentication{Namespace: ns, Name: name, Created: t0.Add(time.Duration(age) * time.Hour), Mode: mode, Selector: sel, PortModes: ports}
}

func TestWorkloadMode(t *testing.T) {
	web := map[string]string{"app": "web"}
	const (
		strict, permissive, disable, unset = state.ModeStrict, state.ModePermissive, state.ModeDisable, state.ModeUnset
	)
	cases := []struct {
		name     string
		root     string
		policies []*state.PeerAuthentication
		port     uint32
		want     state.MTLSMode
		source   string // name of the deciding policy, "" for Istio's default
	}{
		{name: "nothing at all means PERMISSIVE", want: permissive},
		{name: "the mesh-wide policy applies to every namespace",
			policies: []*state.PeerAuthentication{pa("istio-system", "default", 0, strict, nil, nil)}, want: strict, source: "default"},
		{name: "the namespace policy overrides the mesh",
			policies: []*state.PeerAuthentication{pa("istio-system", "default", 0, strict, nil, nil), pa("shop", "ns", 0, permissive, nil, nil)},
			want:     permissive, source: "ns"},
		{name: "a namespace policy with UNSET inherits the mesh",
			policies: []*state.PeerAuthentication{pa("istio-system", "default", 0, strict, nil, nil), pa("shop", "ns", 0, unset, nil, nil)},
			want:     strict, source: "default"},
		{name: "the workload policy overrides the namespace",
			policies: []*state.PeerAuthentication{pa("shop", "ns", 0, strict, nil, nil), pa("shop", "web", 0, disable, web, nil)},
			want:     disable, source: "web"},
		{name: "port-level mode wins on its port",
			policies: []*state.PeerAuthentication{pa("shop", "web", 0, strict, web, map[uint32]state.MTLSMode{8080: permissive})},
			port:     8080, want: permissive, source: "web"},
		{name: "port-level mode does not apply to other ports",
			policies: []*state.PeerAuthentication{pa("shop", "web", 0, strict, web, map[uint32]state.MTLSMode{8080: permissive})},
			port:     9090, want: strict, source: "web"},
		{name: "port-level UNSET inherits the workload mode",
			policies: []*state.PeerAuthentication{pa("shop", "web", 0, strict, web, map[uint32]state.MTLSMode{8080: unset})},
			port:     8080, want: strict, source: "web"},
		{name: "a workload policy with UNSET inherits the namespace",
			policies: []*state.PeerAuthentication{pa("shop", "ns", 0, strict, nil, nil), pa("shop", "web", 0, unset, web, nil)},
			want:     strict, source: "ns"},
		{name: "among namespace policies the oldest wins",
			policies: []*state.PeerAuthentication{pa("shop", "newer", 2, strict, nil, nil), pa("shop", "older", 1, disable, nil, nil)},
			want:     disable, source: "older"},
		{name: "equal ages are broken by name",
			policies: []*state.PeerAuthentication{pa("shop", "b", 1, strict, nil, nil), pa("shop", "a", 1, disable, nil, nil)},
			want:     disable, source: "a"},
		{name: "a selector policy in the root namespace is ignored",
			policies: []*state.PeerAuthentication{pa("istio-system", "sel", 0, strict, web, nil)}, want: permissive},
		{name: "a policy for other labels does not apply",
			policies: []*state.PeerAuthentication{pa("shop", "db", 0, strict, map[string]string{"app": "db"}, nil)}, want: permissive},
		{name: "the root namespace is configurable",
			root:     "mesh-config",
			policies: []*state.PeerAuthentication{pa("istio-system", "default", 0, strict, nil, nil), pa("mesh-config", "default", 0, disable, nil, nil)},
			want:     disable, source: "default"},
		{name: "another namespace's policy does not apply",
			policies: []*state.PeerAuthentication{pa("legacy", "ns", 0, strict, nil, nil)}, want: permissive},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := state.NewStore(mesh.Classify)
			for _, p := range c.policies {
				store.SetPeerAuthentication(p)
			}
			_ = store.View(func(s state.Snapshot) error {
				got := mesh.Policies{RootNamespace: c.root}.WorkloadMode(s, "shop", web, c.port)
				if got.Mode != c.want {
					t.Errorf("mode = %s, want %s", got.Mode, c.want)
				}
				src := ""
				if got.Source != nil {
					src = got.Source.Name
				}
				if src != c.source {
					t.Errorf("decided by %q, want %q", src, c.source)
				}
				return nil
			})
		})
	}
}

func TestInMesh(t *testing.T) {
	ambientNS := &state.Namespace{Name: "a", Labels: map[string]string{"istio.io/dataplane-mode": "ambient"}}
	plainNS := &state.Namespace{Name: "p"}
	cases := []struct {
		name string
		pod  state.Pod
		ns   *state.Namespace
		want bool
	}{
		{"an injected sidecar is in the mesh", state.Pod{Sidecar: true}, plainNS, true},
		{"a pod the CNI redirected is in the mesh", state.Pod{AmbientRedirected: true}, plainNS, true},
		{"an ambient namespace predicts enrolment", state.Pod{}, ambientNS, true},
		{"dataplane-mode=none opts out of ambient", state.Pod{DataplaneNone: true}, ambientNS, false},
		{"a plain pod in a plain namespace is outside", state.Pod{}, plainNS, false},
		{"a pod of an unknown namespace is outside", state.Pod{}, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := mesh.InMesh(&c.pod, c.ns); got != c.want {
				t.Errorf("InMesh = %v, want %v", got, c.want)
			}
		})
	}
}

func TestIsServer(t *testing.T) {
	ports := []state.NamedPort{{Port: 8080}}
	cases := []struct {
		name     string
		pod      state.Pod
		selected bool
		want     bool
	}{
		{"a running pod with a container port is a server", state.Pod{Phase: "Running", Ports: ports}, false, true},
		{"a pod a Service selects is a server", state.Pod{Phase: "Running"}, true, true},
		{"a pod with neither is no server", state.Pod{Phase: "Running"}, false, false},
		{"a finished Job pod is no server", state.Pod{Phase: "Succeeded", Ports: ports}, true, false},
		{"a failed pod is no server", state.Pod{Phase: "Failed", Ports: ports}, true, false},
		{"a hostNetwork agent is no server", state.Pod{Phase: "Running", HostNetwork: true, Ports: ports}, true, false},
		{"a pending pod will serve", state.Pod{Phase: "Pending", Ports: ports}, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := mesh.IsServer(&c.pod, c.selected); got != c.want {
				t.Errorf("IsServer = %v, want %v", got, c.want)
			}
		})
	}
}
