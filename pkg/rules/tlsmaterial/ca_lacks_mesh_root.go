package tlsmaterial

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/trust"
)

// caLacksMeshRoot (MG402) denies a CA bundle for an in-mesh or fleet host that
// holds neither the mesh root nor a configured fleet anchor: every handshake
// fails with CERTIFICATE_VERIFY_FAILED (the regional-CA outage).
type caLacksMeshRoot struct{ tlsRule }

func (caLacksMeshRoot) ID() string { return "MG402" }

func (caLacksMeshRoot) Reads() []state.Kind {
	return []state.Kind{state.NamespaceKind, state.PodKind, state.ServiceKind, state.ServiceEntryKind, state.VirtualServiceKind, state.GatewayKind, state.SecretKind, state.ConfigMapKind}
}

func (r caLacksMeshRoot) Check(in *rules.Input) []rules.Finding {
	var out []rules.Finding
	for _, st := range settings(in) {
		if !verifies(st.TLS.Mode) || st.Material == nil || len(st.Material.CA) == 0 || !inMesh(in) {
			continue
		}
		view := in.Change.Trust
		root := view.MeshRoot(in.DR.Namespace, in.Config.RootNamespace)
		if root != nil && root.Problem != "" {
			root = nil // unusable: MG403 reports it
		}
		if root == nil && len(view.Anchors) == 0 {
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: st.Field, Key: st.Field + ":unjudged",
				Message: fmt.Sprintf("cannot check the CA bundle of %s: no %s ConfigMap and no fleet anchors", st.Material.Source, trust.MeshRootConfigMap)})
			continue
		}
		var anchors []trust.Cert
		if root != nil {
			anchors = append(anchors, root.Certs...)
		}
		anchors = append(anchors, view.Anchors...)
		trusted := false
		for _, a := range anchors {
			trusted = trusted || trust.Contains(st.Material.CA, a)
		}
		if trusted {
			continue
		}
		lacks := "the configured fleet anchors"
		if root != nil {
			lacks = fmt.Sprintf("the mesh root %s (from %s)", subjects(root.Certs), root.Source)
		}
		reveals := st.materialRefs()
		if root != nil {
			reveals = append(reveals, rootRef(root)...)
		}
		out = append(out, rules.Finding{
			Rule: r.ID(), Action: rules.Deny, Field: st.Field + ".credentialName", Key: st.Field, Reveals: reveals,
			Message: fmt.Sprintf("the CA bundle of %s holds only %s and lacks %s: every handshake with %s fails with CERTIFICATE_VERIFY_FAILED — add the mesh root to the bundle (ca.crt)",
				st.Material.Source, subjects(st.Material.CA), lacks, in.DR.Host),
		})
	}
	return out
}
