// Package serviceentry holds the rules that judge ServiceEntry writes
// (MG601).
package serviceentry

import (
	"fmt"
	"strings"

	"github.com/meshguard/meshguard/pkg/paths"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// All returns the ServiceEntry rules.
func All() []rules.Rule { return []rules.Rule{entryBreaksRoutes{}} }

// entryBreaksRoutes (MG601) explains the paths a ServiceEntry write breaks:
// the routes that send to a host it registers. Deleting the entry, or
// dropping a host or a port from it, leaves those routes without a cluster
// (istiod builds clusters for the hosts and ports its registries hold); a
// new resolution, endpoint list or workloadSelector can leave them without
// a Ready endpoint, or with endpoints that refuse what the clients send.
// The existing rules explain the same causes in a route's terms (MG302,
// MG303, MG304); this one says them in the entry's, where the write is.
// A host nobody routes to is not judged: a direct caller the state does
// not show is never invented.
type entryBreaksRoutes struct{}

func (entryBreaksRoutes) ID() string { return "MG601" }

func (entryBreaksRoutes) Kind() string { return rules.KindServiceEntry }

func (entryBreaksRoutes) Reads() []state.Kind { return nil }

func (entryBreaksRoutes) WriteKinds() []string { return []string{rules.KindServiceEntry} }

// causes are the failures a ServiceEntry write can bring, in report order.
var causes = []paths.Cause{paths.NoHost, paths.NoPort, paths.NoSubset, paths.NoReady, paths.MTLSToPlain, paths.PlainToStrict}

func (r entryBreaksRoutes) Check(in *rules.Input) []rules.Finding {
	var fs []rules.PathFailure
	for _, c := range causes {
		fs = append(fs, in.Failures(c)...)
	}
	deleted := in.Change.New == nil
	var out []rules.Finding
	for _, g := range rules.GroupFailures(fs, func(f rules.PathFailure) string { return field(f.Failure, deleted) + "|" + f.Failure.Host }) {
		action, held := g.Verdict()
		f := g.Failures[0].Failure
		fld, _, _ := strings.Cut(g.Key, "|")
		routes, plural := g.RouteText()
		verb := "sends"
		if plural {
			verb = "send"
		}
		msg := fmt.Sprintf("%s: %s %s %s there, so %d%% of that route's traffic fails with 503 — %s",
			causeText(f, deleted), routes, verb, g.ClientText(), g.MaxShare(), fix(f.Cause))
		if action == rules.Warn && !held {
			msg = "nothing reached that host before, so nothing breaks yet: " + msg
		}
		out = append(out, rules.Finding{Rule: r.ID(), Action: action, Preexisting: held, Field: fld, Key: g.Key,
			Subjects: g.Clients(), Message: msg})
	}
	return out
}

// field is the part of the entry a failure comes from.
func field(f paths.Failure, deleted bool) string {
	switch {
	case deleted:
		return "spec"
	case f.Cause == paths.NoHost:
		return "spec.hosts"
	case f.Cause == paths.NoPort:
		return "spec.ports"
	case f.Entry != nil && f.Entry.WorkloadSelector != nil:
		return "spec.workloadSelector"
	}
	return "spec.endpoints"
}

// causeText says what the entry leaves the routed destination with.
func causeText(f paths.Failure, deleted bool) string {
	dest := f.Host
	if f.Dest.Subset != "" {
		dest = "subset " + f.Dest.Subset + " of " + f.Host
	}
	switch f.Cause {
	case paths.NoHost:
		if deleted {
			return "without this entry " + f.Host + " is registered by nothing (no Service or ServiceEntry: Envoy has no cluster for it)"
		}
		return "after this change " + f.Host + " is registered by nothing (no Service or ServiceEntry: Envoy has no cluster for it)"
	case paths.NoPort:
		return fmt.Sprintf("%s port %d is no port of %s (no cluster for it)", dest, f.Port, f.Backend())
	case paths.NoSubset:
		return dest + " is defined by no DestinationRule those clients see"
	case paths.NoReady:
		if f.Live == 0 {
			return dest + " has no endpoint left"
		}
		text, _ := f.NoReady()
		return dest + " has " + text
	case paths.MTLSToPlain:
		return fmt.Sprintf("the endpoints of %s cannot terminate the Istio mTLS clients send (%s)", dest, strings.Join(f.Pods, ", "))
	default:
		return fmt.Sprintf("the endpoints of %s enforce STRICT against the plaintext clients send (%s)", dest, strings.Join(f.Pods, ", "))
	}
}

func fix(c paths.Cause) string {
	switch c {
	case paths.NoHost, paths.NoPort:
		return "move those routes elsewhere first, then change or delete the entry"
	case paths.NoReady:
		return "keep an endpoint that serves them, or move those routes elsewhere first"
	}
	return "keep endpoints those clients can reach, or change what the clients send first"
}
