package peerauthentication

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// strictWithoutSidecar (MG101) keeps Istio's migration rule: mesh-wide STRICT
// only once every namespace it governs is fully covered; namespace-wide STRICT
// (the namespace's own, or the mesh's reaching it) only once the namespace is
// fully covered, if a meshed server there would enforce it at all.
type strictWithoutSidecar struct{ paRule }

func (strictWithoutSidecar) ID() string { return "MG101" }

func (r strictWithoutSidecar) Check(in *rules.Input) []rules.Finding {
	level, ok := scope(in)
	if !ok {
		return nil
	}
	switch level {
	case mesh.LevelMesh:
		return r.meshWide(in)
	case mesh.LevelNamespace:
		return r.namespaceWide(in, in.Change.Ref.Namespace)
	default:
		return nil // workload policies need no coverage of their neighbours (MG102)
	}
}

func (r strictWithoutSidecar) meshWide(in *rules.Input) []rules.Finding {
	meshEff := in.Policies.MeshMode(in.State)
	if meshEff.Mode != state.ModeStrict {
		return nil
	}
	var namespaces, pods []string
	total := 0
	// Only namespaces with an unmeshed server can fail; the store keeps them.
	for _, ns := range in.State.NamespacesWithUnmeshedServers() {
		if !governedByMeshStrict(in, ns, meshEff) {
			continue
		}
		namespaces = append(namespaces, ns)
		total += in.State.Coverage(ns).UnmeshedServers
		for _, p := range in.State.UnmeshedServers(ns, examples-len(pods)) {
			pods = append(pods, p.Ref())
		}
	}
	if total == 0 {
		return nil
	}
	return []rules.Finding{{
		Rule: r.ID(), Action: rules.Deny, Field: modeField(in.PA), Key: "mesh", Subjects: namespaces,
		Message: fmt.Sprintf("mesh-wide STRICT would reject plaintext for %s outside the mesh in %s (%s): %s — keep the mesh-wide policy PERMISSIVE until they are injected, or give those namespaces a PERMISSIVE PeerAuthentication",
			plural(total, "server pod", "server pods"), plural(len(namespaces), "namespace", "namespaces"),
			list(namespaces[:min(len(namespaces), examples)], len(namespaces)), list(pods, total)),
	}}
}

func (r strictWithoutSidecar) namespaceWide(in *rules.Input, ns string) []rules.Finding {
	if in.Config.Excluded(ns) {
		return nil
	}
	eff := in.Policies.NamespaceMode(in.State, ns)
	cov := in.State.Coverage(ns)
	// STRICT over a namespace with no proxy at all enforces nothing.
	if eff.Mode != state.ModeStrict || cov.UnmeshedServers == 0 || cov.MeshedServers == 0 {
		return nil
	}
	var pods []string
	for _, p := range in.State.UnmeshedServers(ns, examples) {
		pods = append(pods, strings.TrimPrefix(p.Ref(), ns+"/"))
	}
	what := "STRICT"
	if in.Change.Operation == rules.Delete || (eff.Source != nil && eff.Source.Namespace != ns) {
		what = fmt.Sprintf("the mesh-wide STRICT of %s/%s now reaching %s", eff.Source.Namespace, eff.Source.Name, ns)
	}
	return []rules.Finding{{
		Rule: r.ID(), Action: rules.Deny, Field: modeField(in.PA), Key: ns, Subjects: []string{ns},
		Message: fmt.Sprintf("%s would reject plaintext for %s without a sidecar in %s: %s — keep PERMISSIVE in %s until they are injected",
			what, plural(cov.UnmeshedServers, "pod", "pods"), ns, list(pods, cov.UnmeshedServers), ns),
	}}
}
