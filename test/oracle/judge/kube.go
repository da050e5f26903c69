package judge

// The Kubernetes writes meshguard reviews (issue 25): Services and
// Namespaces are steps, judged like any other write where istiod can judge
// them.

// kubeReviewed reports whether a core kind is a reviewed write: a Service
// (its host, ports, targetPorts and selector are istiod's registry and
// endpoints: BuildWorld hands them over, and the generated config follows)
// or a Namespace (see kubeUnjudged).
func kubeReviewed(gk string) bool { return gk == "/Service" || gk == "/Namespace" }

// kubeUnjudged says why istiod cannot judge a write here ("" when it can).
// A Namespace's labels decide the sidecar injection of pods created later
// (the injector's namespaceSelector), which no path of the running pods
// shows, and its ambient enrolment, which the harness does not model: not
// judged.
func kubeUnjudged(o Object) string {
	if o.GroupVersionKind().Group == "" && o.GetKind() == "Namespace" {
		return "Namespace " + o.GetName() + "/labels decide injection of pods created later (and ambient enrolment, not modelled)"
	}
	return ""
}

// portMoved finds, for a path new after a write, the path of the same client
// to the same host on another port before it: a Service (or entry) port
// renumbered or added. A call that failed there already (a route to a subset
// no rule defines) and fails as much on the new port is not broken by the
// write; comparing it only with the hosts other paths reached would count
// the route's old fault as new.
func portMoved(before map[string]Path, a Path) (Path, bool) {
	for _, k := range sortedKeys(before) {
		b := before[k]
		if b.ClientKind == a.ClientKind && b.ClientNamespace == a.ClientNamespace && b.Client == a.Client && b.Host == a.Host && b.Port != a.Port {
			return b, true
		}
	}
	return Path{}, false
}
