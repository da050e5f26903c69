// Package tlsmaterial holds the rules that judge the trust material a
// DestinationRule's TLS settings reference (MG401–MG406): the credentialName
// Secret, its CA bundle against the mesh root and fleet anchors, validity and
// the certificate/key pair. They read summaries gathered before evaluation
// (rules.Change.Trust); key material never reaches them.
package tlsmaterial

import (
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
)

// All returns the trust rules.
func All() []rules.Rule {
	return []rules.Rule{missingCredential{}, caLacksMeshRoot{}, badMaterial{}, skipVerify{}, caFileReplacesRoot{}, expiresSoon{}}
}

type tlsRule struct{}

func (tlsRule) Kind() string { return rules.KindDestinationRule }

// setting is one TLS block with its material, as the proxies that use it see it.
type setting struct {
	mesh.TLSSetting
	// Material found for credentialName, and the Secret namespaces searched.
	Material   *trust.Material
	Namespaces []string
	Missing    []string // namespaces where the Secret does not exist
	// MaterialNS is the namespace Material was read in.
	MaterialNS string
}

// settings lists the TLS blocks of the reviewed rule with their material.
// Without a trust view nothing can be judged and nothing is returned.
func settings(in *rules.Input) []setting {
	dr, view := in.DR, in.Change.Trust
	if dr == nil || view == nil {
		return nil
	}
	var out []setting
	for _, t := range mesh.TLSSettings(dr) {
		st := setting{TLSSetting: t}
		if name := t.TLS.CredentialName; name != "" && !view.SecretsUnknown {
			st.Namespaces = in.Routing.CredentialNamespaces(in.State, dr)
			for _, ns := range st.Namespaces {
				if m, ok := view.Secret(ns, name); ok {
					if st.Material == nil {
						st.Material, st.MaterialNS = m, ns
					}
				} else {
					st.Missing = append(st.Missing, ns)
				}
			}
		}
		out = append(out, st)
	}
	return out
}

// secretRefs are the credential Secret and its "-cacert" companion in ns.
func secretRefs(ns, name string) []state.ObjectRef {
	return []state.ObjectRef{{Kind: "Secret", Namespace: ns, Name: name}, {Kind: "Secret", Namespace: ns, Name: name + trust.CompanionSuffix}}
}

// materialRefs are what a finding about st's material discloses.
func (st setting) materialRefs() []state.ObjectRef {
	return secretRefs(st.MaterialNS, st.TLS.CredentialName)
}

// rootRef is the ConfigMap a mesh root was read from ("ConfigMap ns/name").
func rootRef(root *trust.Root) []state.ObjectRef {
	rest, ok := strings.CutPrefix(root.Source, "ConfigMap ")
	ns, name, found := strings.Cut(rest, "/")
	if !ok || !found {
		return nil
	}
	return []state.ObjectRef{{Kind: "ConfigMap", Namespace: ns, Name: name}}
}

// verifies reports whether the block originates TLS that verifies the server
// with a CA (SIMPLE or MUTUAL; ISTIO_MUTUAL uses the mesh's own certificates).
func verifies(mode string) bool {
	return mode == "SIMPLE" || mode == "MUTUAL"
}

// inMesh reports whether the rule's host presents the mesh's certificates: a
// configured fleet host, or a Service whose live pods all run a proxy (with
// none running yet, one in a namespace enrolled in the mesh). A Service whose
// pods have no proxy presents its own certificate (the egress gateway mTLS
// origination task's nginx), so its CA bundle need not hold the mesh root.
func inMesh(in *rules.Input) bool {
	res := in.Routing.Hosts.Resolve(in.State, in.DR.Host, in.DR.Namespace)
	if in.Change.Trust.IsFleetHost(res.FQDN) {
		return true
	}
	if res.Service == nil || len(res.Service.Selector) == 0 {
		return false
	}
	live, meshed := 0, 0
	in.State.ForEachServicePod(res.Service.Namespace, res.Service.Name, func(p *state.Pod) bool {
		if !p.Finished() {
			live++
			if mesh.InMesh(p, in.State.Namespace(p.Namespace)) {
				meshed++
			}
		}
		return true
	})
	if live == 0 {
		return mesh.InjectionEnabled(in.State, in.State.Namespace(res.Service.Namespace))
	}
	return meshed == live
}

func subjects(certs []trust.Cert) string {
	var s []string
	for _, c := range certs {
		s = append(s, c.Subject)
	}
	return strings.Join(s, "; ")
}
