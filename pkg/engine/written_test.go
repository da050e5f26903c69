package engine

import (
	"testing"

	"github.com/meshguard/meshguard/pkg/state"
)

// Every kind the table of kinds marks reviewed has one definition of how its
// write changes the state and the paths, and nothing else has one.
func TestEveryReviewedKindIsWritten(t *testing.T) {
	reviewed := map[string]bool{}
	for _, k := range state.ReviewedKinds() {
		reviewed[k] = true
		if _, ok := writtenKinds[k]; !ok {
			t.Errorf("%s is reviewed but has no writtenKinds entry", k)
		}
	}
	for k := range writtenKinds {
		if !reviewed[k] {
			t.Errorf("writtenKinds defines %s, which state.Kinds does not mark reviewed", k)
		}
	}
}
