package tlsmaterial

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// caFileReplacesRoot (MG405) warns when a caCertificates file path replaces
// the mesh trust root for an in-mesh host: meshguard cannot read the file, and
// a file without the mesh root breaks every handshake.
type caFileReplacesRoot struct{ tlsRule }

func (caFileReplacesRoot) ID() string { return "MG405" }

func (caFileReplacesRoot) Reads() []state.Kind {
	return []state.Kind{state.ServiceKind, state.ServiceEntryKind}
}

func (r caFileReplacesRoot) Check(in *rules.Input) []rules.Finding {
	if in.DR == nil {
		return nil
	}
	res := in.Routing.Hosts.Resolve(in.State, in.DR.Host, in.DR.Namespace)
	if !res.InCluster() && !in.Change.Trust.IsFleetHost(res.FQDN) {
		return nil
	}
	var out []rules.Finding
	for _, t := range mesh.TLSSettings(in.DR) {
		if t.TLS.CACertificates != "" && t.TLS.Mode != "ISTIO_MUTUAL" {
			out = append(out, rules.Finding{Rule: r.ID(), Action: rules.Warn, Field: t.Field + ".caCertificates", Key: t.Field,
				Message: fmt.Sprintf("caCertificates %s replaces the mesh root for in-mesh host %s; make sure the file holds it", t.TLS.CACertificates, in.DR.Host)})
		}
	}
	return out
}
