// Package gen makes seeded random meshes and writes for differential tests:
// namespaces injected or not, pods with and without sidecars, Ready or not,
// with owners; single- and multi-port Services, LoadBalancer ones;
// DestinationRules with exportTo, wildcard hosts, subsets, TLS modes and
// workload selectors; VirtualServices with weights, subsets, ports or none,
// gateways and exportTo; PeerAuthentications at mesh, namespace, workload
// and port level; Sidecars (the root default, namespace defaults, narrowed
// and selector ones, REGISTRY_ONLY or not); GAMMA HTTPRoutes with weighted
// backendRefs, some to missing Services or ports; and one CREATE, UPDATE or
// DELETE of a reviewed object.
package gen

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/meshguard/meshguard/test/oracle/judge"
)

// Case is one generated state and write.
type Case struct {
	State  []judge.Object
	Change judge.Object
	// Old is the object the write replaces or deletes (nil on CREATE).
	Old    *judge.Object
	Delete bool
	// Op is CREATE, UPDATE or DELETE.
	Op string
	// Features names what the case exercises, for coverage counts.
	Features []string
}

type svcInfo struct {
	ns, name string
	ports    []port
	versions []string
}

type port struct {
	name         string
	port, target int
}

type builder struct {
	r        *rand.Rand
	objs     []map[string]any
	nss      []string
	injected map[string]string // enabled, none, disabled
	svcs     []svcInfo
	gateway  bool
	features map[string]bool
	names    int
}

func (b *builder) chance(p float64) bool { return b.r.Float64() < p }

func (b *builder) pick(xs ...string) string { return xs[b.r.IntN(len(xs))] }

func (b *builder) feature(f string) { b.features[f] = true }

// add appends o, renaming it if its kind, namespace and name are taken.
func (b *builder) add(o map[string]any) {
	md := o["metadata"].(map[string]any)
	base := md["name"].(string)
	for i := 2; b.taken(o); i++ {
		md["name"] = fmt.Sprintf("%s-%d", base, i)
	}
	b.objs = append(b.objs, o)
}

func (b *builder) taken(o map[string]any) bool {
	for _, x := range b.objs {
		if sameObject(x, o) {
			return true
		}
	}
	return false
}

// Generate makes one case from r.
func Generate(r *rand.Rand) Case {
	b := &builder{r: r, injected: map[string]string{}, features: map[string]bool{}}
	b.mesh()
	reviewed := b.config()
	c := b.write(reviewed)
	for f := range b.features {
		c.Features = append(c.Features, f)
	}
	sort.Strings(c.Features)
	return c
}

func obj(apiVersion, kind, ns, name string) map[string]any {
	md := map[string]any{"name": name}
	if ns != "" {
		md["namespace"] = ns
	}
	return map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": md}
}

func labelsOf(o map[string]any) map[string]any {
	md := o["metadata"].(map[string]any)
	l, _ := md["labels"].(map[string]any)
	if l == nil {
		l = map[string]any{}
		md["labels"] = l
	}
	return l
}

func annotationsOf(o map[string]any) map[string]any {
	md := o["metadata"].(map[string]any)
	a, _ := md["annotations"].(map[string]any)
	if a == nil {
		a = map[string]any{}
		md["annotations"] = a
	}
	return a
}

func (b *builder) mesh() {
	b.add(obj("v1", "Namespace", "", "istio-system"))
	if b.chance(0.5) {
		b.gateway = true
		b.feature("client:gateway")
		gw := b.pod("istio-system", "istio-ingressgateway", map[string]any{"istio": "ingressgateway", "app": "istio-ingressgateway"}, true, true, 8080)
		_ = gw
		g := obj("networking.istio.io/v1", "Gateway", "istio-system", "public-gw")
		g["spec"] = map[string]any{"selector": map[string]any{"istio": "ingressgateway"},
			"servers": []any{map[string]any{"port": map[string]any{"number": int64(80), "name": "http", "protocol": "HTTP"}, "hosts": []any{"*"}}}}
		b.add(g)
	}
	n := 2 + b.r.IntN(2)
	for i := 0; i < n; i++ {
		ns := string(rune('a' + i))
		b.nss = append(b.nss, ns)
		o := obj("v1", "Namespace", "", ns)
		mode := "none"
		switch x := b.r.Float64(); {
		case x < 0.6:
			mode = "enabled"
			labelsOf(o)["istio-injection"] = "enabled"
		case x < 0.7:
			mode = "disabled"
			labelsOf(o)["istio-injection"] = "disabled"
		}
		b.injected[ns] = mode
		b.feature("namespace:" + mode)
		b.add(o)
		for s := 0; s < 1+b.r.IntN(2); s++ {
			b.service(ns, fmt.Sprintf("s%d", s))
		}
		if b.chance(0.6) {
			b.pod(ns, "client", map[string]any{"app": "client-" + ns}, b.sidecar(ns), true)
		}
	}
}

func (b *builder) sidecar(ns string) bool {
	if b.injected[ns] == "enabled" {
		return b.chance(0.85)
	}
	return b.chance(0.05)
}

func (b *builder) service(ns, name string) {
	s := svcInfo{ns: ns, name: name}
	switch x := b.r.Float64(); {
	case x < 0.6:
		s.ports = []port{{"http", 80, 8080}}
	case x < 0.85:
		s.ports = []port{{"http", 80, 8080}, {b.pick("grpc", "tcp-db"), 9000, 9000}}
		b.feature("service:multi-port")
	default:
		s.ports = []port{{"tcp", 5000, 5000}}
		b.feature("service:tcp")
	}
	o := obj("v1", "Service", ns, name)
	var ps []any
	for _, p := range s.ports {
		ps = append(ps, map[string]any{"name": p.name, "port": int64(p.port), "targetPort": int64(p.target)})
	}
	spec := map[string]any{"selector": map[string]any{"app": name}, "ports": ps}
	if b.chance(0.1) {
		spec["type"] = b.pick("LoadBalancer", "NodePort")
		b.feature("client:external")
	}
	o["spec"] = spec
	b.add(o)
	s.versions = []string{"v1"}
	if b.chance(0.5) {
		s.versions = append(s.versions, "v2")
	}
	for _, v := range s.versions {
		for i := 0; i < 1+b.r.IntN(2); i++ {
			var targets []int
			for _, p := range s.ports {
				targets = append(targets, p.target)
			}
			ready := b.chance(0.85)
			b.pod(ns, name+"-"+v, map[string]any{"app": name, "version": v}, b.sidecar(ns), ready, targets...)
		}
	}
	b.svcs = append(b.svcs, s)
}

func (b *builder) pod(ns, base string, labels map[string]any, sidecar, ready bool, ports ...int) map[string]any {
	b.names++
	name := fmt.Sprintf("%s-%d", base, b.names)
	o := obj("v1", "Pod", ns, name)
	for k, v := range labels {
		labelsOf(o)[k] = v
	}
	o["metadata"].(map[string]any)["ownerReferences"] = []any{map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet",
		"name": base + "-rs", "uid": fmt.Sprintf("u%d", b.names), "controller": true}}
	var cps []any
	for _, p := range ports {
		cps = append(cps, map[string]any{"containerPort": int64(p)})
	}
	containers := []any{map[string]any{"name": "app", "ports": cps}}
	if sidecar {
		containers = append(containers, map[string]any{"name": "istio-proxy"})
		annotationsOf(o)["sidecar.istio.io/status"] = "{}"
		b.feature("pod:sidecar")
		if len(ports) > 0 && b.chance(0.05) {
			annotationsOf(o)["traffic.sidecar.istio.io/excludeInboundPorts"] = fmt.Sprint(ports[0])
			b.feature("pod:excluded-inbound-port")
		}
	} else {
		b.feature("pod:no-sidecar")
		if b.chance(0.15) {
			annotationsOf(o)["sidecar.istio.io/inject"] = "false"
			b.feature("pod:deliberate-outsider")
		}
	}
	o["spec"] = map[string]any{"containers": containers}
	status := map[string]any{"phase": "Running", "conditions": []any{map[string]any{"type": "Ready", "status": "True"}}}
	if !ready {
		b.feature("pod:not-ready")
		status = map[string]any{"phase": b.pick("Running", "Pending"), "conditions": []any{map[string]any{"type": "Ready", "status": "False"}}}
	}
	o["status"] = status
	b.add(o)
	return o
}

// config adds Istio configuration and returns the reviewed objects.
func (b *builder) config() []map[string]any {
	var reviewed []map[string]any
	add := func(o map[string]any) {
		if o != nil {
			b.add(o)
			reviewed = append(reviewed, o)
		}
	}
	if b.chance(0.3) {
		add(b.meshPA("default"))
	}
	for _, ns := range b.nss {
		if b.chance(0.3) {
			add(b.namespacePA(ns, "default"))
		}
	}
	if b.chance(0.15) {
		add(b.workloadPA(fmt.Sprintf("wl-%d", b.r.IntN(100))))
	}
	for _, s := range b.svcs {
		if b.chance(0.5) {
			add(b.destinationRule(s, s.name))
		}
		if b.chance(0.4) {
			add(b.virtualService(s, s.name))
		}
	}
	if b.chance(0.05) {
		add(b.wildcardDR("mesh-mtls"))
	}
	if b.chance(0.15) {
		add(b.rootSidecar("default"))
	}
	for _, ns := range b.nss {
		if b.chance(0.15) {
			add(b.namespaceSidecar(ns, "default", false))
		}
	}
	for _, s := range b.svcs {
		if b.chance(0.2) {
			add(b.httpRoute(s, s.name+"-route"))
		}
	}
	return reviewed
}

// outbound sets a Sidecar's outboundTrafficPolicy: REGISTRY_ONLY (calls to
// hosts it does not import blackholed), ALLOW_ANY, or none (the mesh
// config's, ALLOW_ANY by default).
func (b *builder) outbound(spec map[string]any) {
	switch x := b.r.Float64(); {
	case x < 0.45:
		b.feature("sidecar:registry-only")
		spec["outboundTrafficPolicy"] = map[string]any{"mode": "REGISTRY_ONLY"}
	case x < 0.6:
		spec["outboundTrafficPolicy"] = map[string]any{"mode": "ALLOW_ANY"}
	}
}

// rootSidecar is the root namespace's default Sidecar (istio's reference
// page: "./*" and "istio-system/*"), sometimes REGISTRY_ONLY.
func (b *builder) rootSidecar(name string) map[string]any {
	b.feature("sidecar:root")
	o := obj("networking.istio.io/v1", "Sidecar", "istio-system", name)
	spec := map[string]any{"egress": []any{map[string]any{"hosts": []any{"./*", "istio-system/*"}}}}
	b.outbound(spec)
	o["spec"] = spec
	b.feature("kind:Sidecar")
	return o
}

// namespaceSidecar is a namespace's Sidecar (with a workloadSelector for
// its client pods when selector is set): the namespace default, or narrowed
// to some namespaces and exact hosts.
func (b *builder) namespaceSidecar(ns, name string, selector bool) map[string]any {
	o := obj("networking.istio.io/v1", "Sidecar", ns, name)
	hosts := []any{"istio-system/*"}
	if b.chance(0.4) {
		b.feature("sidecar:namespace-default")
		hosts = append(hosts, "./*")
	} else {
		b.feature("sidecar:narrowed")
		if b.chance(0.5) {
			hosts = append(hosts, "./*")
		}
		for _, other := range b.nss {
			if other != ns && b.chance(0.4) {
				hosts = append(hosts, other+"/*")
			}
		}
		for _, s := range b.svcs {
			if b.chance(0.25) {
				hosts = append(hosts, s.ns+"/"+s.name+"."+s.ns+".svc.cluster.local")
			}
		}
	}
	spec := map[string]any{"egress": []any{map[string]any{"hosts": hosts}}}
	if selector {
		b.feature("sidecar:selector")
		spec["workloadSelector"] = map[string]any{"labels": map[string]any{"app": "client-" + ns}}
	}
	b.outbound(spec)
	o["spec"] = spec
	b.feature("kind:Sidecar")
	return o
}

// httpRoute is a GAMMA HTTPRoute (parentRef the Service s) splitting by
// weight between backendRefs: Services of the namespace, sometimes on a
// port they lack or naming a Service that does not exist. One in five is a
// consumer route, in another namespace (it applies to that namespace's
// clients only).
func (b *builder) httpRoute(s svcInfo, name string) map[string]any {
	ns := b.namespaceFor(s, "httproute:consumer")
	o := obj("gateway.networking.k8s.io/v1", "HTTPRoute", ns, name)
	parent := map[string]any{"group": "", "kind": "Service", "name": s.name, "namespace": s.ns}
	if b.chance(0.5) {
		parent["port"] = int64(s.ports[0].port)
	}
	backend := func(weight int) map[string]any {
		ref := map[string]any{"name": s.name, "port": int64(s.ports[0].port)}
		var peers []svcInfo
		for _, x := range b.svcs {
			if x.ns == ns {
				peers = append(peers, x)
			}
		}
		switch x := b.r.Float64(); {
		case x < 0.12:
			b.feature("httproute:missing-backend")
			ref["name"] = "missing"
		case x < 0.18:
			b.feature("httproute:port-missing")
			ref["port"] = int64(7777)
		case len(peers) > 0:
			p := peers[b.r.IntN(len(peers))]
			ref["name"], ref["port"] = p.name, int64(p.ports[0].port)
		}
		if ns != s.ns && ref["name"] == s.name {
			ref["namespace"] = s.ns // without a ReferenceGrant: not permitted
			b.feature("httproute:cross-namespace-backend")
		}
		if weight >= 0 {
			ref["weight"] = int64(weight)
		}
		return ref
	}
	var refs []any
	if b.chance(0.4) {
		refs = []any{backend(-1)}
	} else {
		b.feature("httproute:weights")
		w := []int{90, 50, 100, 0}[b.r.IntN(4)]
		refs = []any{backend(w), backend(100 - w)}
	}
	o["spec"] = map[string]any{"parentRefs": []any{parent}, "rules": []any{map[string]any{"backendRefs": refs}}}
	b.feature("kind:HTTPRoute")
	return o
}

func (b *builder) mode() string { return b.pick("STRICT", "STRICT", "PERMISSIVE", "DISABLE", "UNSET") }

func (b *builder) meshPA(name string) map[string]any {
	b.feature("pa:mesh")
	o := obj("security.istio.io/v1", "PeerAuthentication", "istio-system", name)
	o["spec"] = map[string]any{"mtls": map[string]any{"mode": b.pick("STRICT", "STRICT", "PERMISSIVE")}}
	return o
}

func (b *builder) namespacePA(ns, name string) map[string]any {
	b.feature("pa:namespace")
	o := obj("security.istio.io/v1", "PeerAuthentication", ns, name)
	o["spec"] = map[string]any{"mtls": map[string]any{"mode": b.mode()}}
	return o
}

func (b *builder) workloadPA(name string) map[string]any {
	b.feature("pa:workload")
	s := b.svcs[b.r.IntN(len(b.svcs))]
	o := obj("security.istio.io/v1", "PeerAuthentication", s.ns, name)
	spec := map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": s.name}},
		"mtls": map[string]any{"mode": b.pick("STRICT", "PERMISSIVE")}}
	if b.chance(0.4) {
		b.feature("pa:port-level")
		spec["portLevelMtls"] = map[string]any{fmt.Sprint(s.ports[0].target): map[string]any{"mode": b.pick("PERMISSIVE", "STRICT", "DISABLE")}}
	}
	o["spec"] = spec
	return o
}

func (b *builder) host(s svcInfo, ns string) string {
	if ns == s.ns && b.chance(0.6) {
		return s.name
	}
	return s.name + "." + s.ns + ".svc.cluster.local"
}

func (b *builder) tls() map[string]any {
	switch x := b.r.Float64(); {
	case x < 0.6:
		return nil
	case x < 0.8:
		b.feature("dr:istio-mutual")
		return map[string]any{"mode": "ISTIO_MUTUAL"}
	default:
		b.feature("dr:disable")
		return map[string]any{"mode": "DISABLE"}
	}
}

func (b *builder) exportTo(feature string) []any {
	switch x := b.r.Float64(); {
	case x < 0.7:
		return nil
	case x < 0.9:
		b.feature(feature + ":export-dot")
		return []any{"."}
	default:
		return []any{"*"}
	}
}

// namespaceFor places an object about s: mostly s's namespace, one in five
// times any namespace (feature names the move).
func (b *builder) namespaceFor(s svcInfo, feature string) string {
	ns := s.ns
	if b.chance(0.2) {
		ns = b.nss[b.r.IntN(len(b.nss))]
		if ns != s.ns && feature != "" {
			b.feature(feature)
		}
	}
	return ns
}

func (b *builder) destinationRule(s svcInfo, name string) map[string]any {
	ns := b.namespaceFor(s, "dr:client-namespace")
	o := obj("networking.istio.io/v1", "DestinationRule", ns, name)
	spec := map[string]any{"host": b.host(s, ns)}
	var subsets []any
	for _, v := range []string{"v1", "v2", "v3"} {
		if (v == "v3" && b.chance(0.1)) || (v != "v3" && b.chance(0.85)) {
			subsets = append(subsets, map[string]any{"name": v, "labels": map[string]any{"version": v}})
		}
	}
	if len(subsets) > 0 {
		spec["subsets"] = subsets
	}
	if t := b.tls(); t != nil {
		spec["trafficPolicy"] = map[string]any{"tls": t}
	}
	if e := b.exportTo("dr"); e != nil {
		spec["exportTo"] = e
	}
	if b.chance(0.05) {
		b.feature("dr:workload-selector")
		spec["workloadSelector"] = map[string]any{"matchLabels": map[string]any{"app": "client-" + ns}}
		delete(spec, "exportTo") // Istio refuses exportTo beyond the namespace with a selector
	}
	o["spec"] = spec
	b.feature("kind:DestinationRule")
	return o
}

func (b *builder) wildcardDR(name string) map[string]any {
	b.feature("dr:wildcard")
	o := obj("networking.istio.io/v1", "DestinationRule", "istio-system", name)
	o["spec"] = map[string]any{"host": "*.local", "trafficPolicy": map[string]any{"tls": map[string]any{"mode": b.pick("ISTIO_MUTUAL", "DISABLE")}}}
	return o
}

func (b *builder) virtualService(s svcInfo, name string) map[string]any {
	ns := b.namespaceFor(s, "")
	o := obj("networking.istio.io/v1", "VirtualService", ns, name)
	spec := map[string]any{}
	host := b.host(s, ns)
	dest := func(subset string, weight int) map[string]any {
		d := map[string]any{"host": host}
		if subset != "" {
			d["subset"] = subset
		}
		if len(s.ports) > 1 && b.chance(0.5) {
			d["port"] = map[string]any{"number": int64(s.ports[b.r.IntN(len(s.ports))].port)}
		} else if b.chance(0.1) {
			b.feature("vs:port-missing")
			d["port"] = map[string]any{"number": int64(7777)}
		}
		out := map[string]any{"destination": d}
		if weight >= 0 {
			out["weight"] = int64(weight)
		}
		return out
	}
	var route []any
	switch x := b.r.Float64(); {
	case x < 0.3:
		route = []any{dest("", -1)}
	case x < 0.6:
		route = []any{dest(b.pick("v1", "v2", "v3"), -1)}
		b.feature("vs:subset")
	default:
		w := []int{90, 50, 100, 0}[b.r.IntN(4)]
		route = []any{dest("v1", w), dest(b.pick("v2", "v3"), 100-w)}
		b.feature("vs:weights")
	}
	gateways := b.gateway && b.chance(0.4)
	if gateways {
		b.feature("vs:gateway")
		spec["hosts"] = []any{s.name + "." + s.ns + ".example.com"}
		spec["gateways"] = []any{"istio-system/public-gw"}
		if b.chance(0.3) {
			spec["hosts"] = []any{s.name + "." + s.ns + ".example.com", host}
			spec["gateways"] = []any{"istio-system/public-gw", "mesh"}
		}
	} else {
		spec["hosts"] = []any{host}
	}
	if len(s.ports) > 1 || s.ports[0].name != "http" {
		// TCP ports take tcp routes; an http route list on them is not used.
		if s.ports[0].name != "http" {
			spec["tcp"] = []any{map[string]any{"route": route}}
		} else {
			spec["http"] = []any{map[string]any{"route": route}}
		}
	} else {
		spec["http"] = []any{map[string]any{"route": route}}
	}
	if e := b.exportTo("vs"); e != nil {
		spec["exportTo"] = e
	}
	o["spec"] = spec
	b.feature("kind:VirtualService")
	return o
}

func (b *builder) write(reviewed []map[string]any) Case {
	c := Case{}
	op := "CREATE"
	switch x := b.r.Float64(); {
	case x < 0.35 && len(reviewed) > 0:
		op = "UPDATE"
	case x < 0.6 && len(reviewed) > 0:
		op = "DELETE"
	}
	var change map[string]any
	var old map[string]any
	if op == "CREATE" {
		change = b.fresh("new", "")
		md := change["metadata"].(map[string]any)
		for i := 2; b.taken(change); i++ {
			md["name"] = fmt.Sprintf("new-%d", i)
		}
	} else {
		old = reviewed[b.r.IntN(len(reviewed))]
		md := old["metadata"].(map[string]any)
		if op == "DELETE" {
			change = old
		} else {
			change = b.fresh(md["name"].(string), old["kind"].(string))
			// An update keeps the object's place, even if the fresh spec was
			// aimed at another namespace.
			change["metadata"].(map[string]any)["namespace"] = md["namespace"]
		}
	}
	c.Op = op
	c.Delete = op == "DELETE"
	b.feature("op:" + op)
	b.feature("write:" + change["kind"].(string))
	for _, o := range b.objs {
		c.State = append(c.State, judge.Object{Unstructured: &unstructured.Unstructured{Object: o}, Source: "state"})
		if old != nil && sameObject(o, old) {
			cp := c.State[len(c.State)-1]
			c.Old = &cp
		}
	}
	c.Change = judge.Object{Unstructured: &unstructured.Unstructured{Object: change}, Source: "change"}
	return c
}

func sameObject(a, b map[string]any) bool {
	am, bm := a["metadata"].(map[string]any), b["metadata"].(map[string]any)
	return a["kind"] == b["kind"] && am["name"] == bm["name"] && am["namespace"] == bm["namespace"]
}

// fresh makes a new reviewed object called name (of kind, if set).
func (b *builder) fresh(name, kind string) map[string]any {
	if kind == "" {
		kind = b.pick("PeerAuthentication", "DestinationRule", "VirtualService", "Sidecar", "HTTPRoute")
	}
	s := b.svcs[b.r.IntN(len(b.svcs))]
	switch kind {
	case "Sidecar":
		switch x := b.r.Float64(); {
		case x < 0.2:
			return b.rootSidecar(name)
		case x < 0.7:
			return b.namespaceSidecar(b.nss[b.r.IntN(len(b.nss))], name, false)
		default:
			return b.namespaceSidecar(b.nss[b.r.IntN(len(b.nss))], name, true)
		}
	case "HTTPRoute":
		return b.httpRoute(s, name)
	case "PeerAuthentication":
		switch x := b.r.Float64(); {
		case x < 0.35:
			return b.meshPA(name)
		case x < 0.75:
			return b.namespacePA(b.nss[b.r.IntN(len(b.nss))], name)
		default:
			return b.workloadPA(name)
		}
	case "DestinationRule":
		if b.chance(0.05) {
			return b.wildcardDR(name)
		}
		return b.destinationRule(s, name)
	default:
		return b.virtualService(s, name)
	}
}
