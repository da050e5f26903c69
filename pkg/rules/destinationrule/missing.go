package destinationrule

import "github.com/meshguard/meshguard/pkg/state"

// missingService names a Service whose absence a finding relies on, so that
// the webhook can confirm it with a direct read before acting on it.
func missingService(ns, name string) []state.ObjectRef {
	if name == "" {
		return nil
	}
	return []state.ObjectRef{{Kind: "Service", Namespace: ns, Name: name}}
}
