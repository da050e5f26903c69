package paths

import (
	"fmt"

	"github.com/meshguard/meshguard/pkg/mesh"
	"github.com/meshguard/meshguard/pkg/state"
)

// Hop is one destination of one route of a path as the model judged it,
// working or not: what `meshguard paths` shows. The embedded Failure holds
// the destination's facts (host, port, subset, rule lookup, TLS sent,
// endpoints); its Cause is 0 and its Share 0 when the traffic arrives.
type Hop struct {
	// Route is the route's key (as in Path.Routes).
	Route string
	// Weight is the percent of the route's traffic sent to the destination.
	Weight int
	Failure
}

// Works reports whether the traffic sent to the hop arrives.
func (h Hop) Works() bool { return h.Cause == 0 }

// What a Ready endpoint accepts on the port (Failure.Accepts keys).
const (
	// AcceptsPlaintext: no proxy terminates traffic on the port (no
	// sidecar, or the port is left out of interception).
	AcceptsPlaintext = "plaintext"
	// AcceptsGateway: a gateway's listeners, which PeerAuthentication does
	// not govern.
	AcceptsGateway = "gateway"
	// Otherwise the key is the effective PeerAuthentication mode of the
	// proxy (sidecar or ztunnel) on the port: STRICT, PERMISSIVE, DISABLE.
)

func hopOf(route string, share float64, f Failure, frac float64) Hop {
	if frac == 0 {
		f.Share = 0
	} else {
		f.Share = max(1, int(100*share*frac+0.5))
	}
	return Hop{Route: route, Weight: int(100*share + 0.5), Failure: f}
}

// accept counts what one Ready endpoint accepts on its target port (pod
// nil: an address no pod holds, a server outside the mesh).
func (t *tally) accept(pod *state.Pod, target uint32) {
	if t.accepts == nil {
		t.accepts = map[string]int{}
	}
	t.accepts[t.m.accepted(t.s, pod, target)]++
}

func (m Model) accepted(s state.Snapshot, pod *state.Pod, target uint32) string {
	switch {
	case pod == nil:
		return AcceptsPlaintext
	case pod.Router:
		return AcceptsGateway
	}
	meshed := pod.Sidecar || mesh.Ambient(pod, s.Namespace(pod.Namespace))
	if !meshed || (pod.Sidecar && !pod.InboundIntercepted(target)) {
		return AcceptsPlaintext
	}
	return string(m.Policies.WorkloadMode(s, pod.Namespace, pod.Labels, target).Mode)
}

// Key identifies the failing destination across before and after, as Diff
// matches them: a face marks the hops of a Change.New by it.
func (f Failure) Key() string {
	k := f.key()
	origin := ""
	if k.routed {
		origin = k.originNS + "/" + k.origin
	}
	return fmt.Sprintf("%s|%s|%s|%s|%d", origin, k.field, k.host, k.subset, k.port)
}
