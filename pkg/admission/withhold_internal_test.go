package admission

import (
	"context"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"

	"github.com/meshguard/meshguard/pkg/state"
)

// An authorizer may decide on any part of the user (a scope in extra, an
// impersonated UID): cached answers never carry over to another user who
// differs only there.
func TestAccessAnswersAreKeptPerWholeUser(t *testing.T) {
	asked := 0
	h := &Handler{Authorize: func(_ context.Context, user authenticationv1.UserInfo, _ state.ObjectRef) (bool, error) {
		asked++
		return len(user.Extra["scopes"]) == 0, nil
	}}
	ref := state.ObjectRef{Kind: "Secret", Namespace: "istio-system", Name: "ca"}
	plain := authenticationv1.UserInfo{Username: "alice", Groups: []string{"dev"}}
	scoped := plain
	scoped.Extra = map[string]authenticationv1.ExtraValue{"scopes": {"read-only"}}
	for i, c := range []struct {
		user authenticationv1.UserInfo
		want bool
	}{{plain, true}, {scoped, false}, {plain, true}, {scoped, false}} {
		got, err := h.mayGet(context.Background(), c.user, ref)
		if err != nil || got != c.want {
			t.Errorf("check %d: mayGet = %v, %v; want %v", i, got, err, c.want)
		}
	}
	if asked != 2 {
		t.Errorf("asked the authorizer %d times, want 2 (once per user, then cached)", asked)
	}
}
