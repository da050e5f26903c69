package state

import (
	"fmt"
	"time"
)

// ObjectRef identifies an object of one of the kinds meshguard reads.
type ObjectRef struct {
	Group     string
	Kind      string
	Namespace string
	Name      string
	Created   time.Time
}

func (r ObjectRef) String() string {
	return fmt.Sprintf("%s %s/%s", r.Kind, r.Namespace, r.Name)
}

// ReviewKind names the object's kind among the reviewed kinds: its Kind,
// except for the Gateway API's Gateway (KindKubeGateway), whose Kind
// Istio's Gateway shares.
func (r ObjectRef) ReviewKind() string {
	if r.Group == GroupGatewayAPI && r.Kind == "Gateway" {
		return KindKubeGateway
	}
	return r.Kind
}

func fieldf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
