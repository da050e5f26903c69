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

func fieldf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
