package gen

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// serviceWrite makes a Service write (issue 25): one of the mesh's Services
// deleted, or updated with a port renumbered, its targetPort moved (to a
// name its pods do not declare, or another number), its selector moved onto
// one version's pods or onto none, or a port removed. The generated meshes
// hold no ServiceEntry, so a CREATE would take no host and is not made.
func (b *builder) serviceWrite() Case {
	s := b.svcs[b.r.IntN(len(b.svcs))]
	var old map[string]any
	for _, o := range b.objs {
		if o["kind"] == "Service" && sameObject(o, obj("v1", "Service", s.ns, s.name)) {
			old = o
		}
	}
	if b.chance(0.25) {
		b.feature("service-write:delete")
		return b.caseOf("DELETE", old, old)
	}
	change := runtime.DeepCopyJSON(old)
	spec := change["spec"].(map[string]any)
	ports := spec["ports"].([]any)
	first := ports[0].(map[string]any)
	switch x := b.r.Float64(); {
	case x < 0.2:
		first["port"] = first["port"].(int64) + 1
		b.feature("service-write:port-renumbered")
	case x < 0.4:
		first["targetPort"] = "web"
		b.feature("service-write:target-port-undeclared-name")
	case x < 0.55:
		first["targetPort"] = first["targetPort"].(int64) + 1
		b.feature("service-write:target-port-number")
	case x < 0.8:
		spec["selector"] = map[string]any{"app": s.name, "version": b.pick(append(s.versions, "v3")...)}
		b.feature("service-write:selector")
	case len(ports) > 1:
		spec["ports"] = ports[:1]
		b.feature("service-write:port-removed")
	default:
		spec["selector"] = map[string]any{"app": s.name + "-moved"}
		b.feature("service-write:selector-none")
	}
	return b.caseOf("UPDATE", change, old)
}
