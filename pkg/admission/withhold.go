package admission

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"

	"github.com/meshguard/meshguard/pkg/engine"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/state"
)

// Authorizer answers whether user may get the object ref names (the webhook
// asks the API server with a SubjectAccessReview).
type Authorizer func(ctx context.Context, user authenticationv1.UserInfo, ref state.ObjectRef) (bool, error)

// accessTTL is how long an answer is reused: long enough that a burst of
// reviews by one user costs one SubjectAccessReview, short enough that a
// revoked permission stops disclosing soon.
const accessTTL = 30 * time.Second

// maxAccessEntries bounds the cache; it is cleared when full.
const maxAccessEntries = 4096

type accessEntry struct {
	allowed bool
	expires time.Time
}

// accessCache remembers SubjectAccessReview answers briefly.
type accessCache struct {
	mu      sync.Mutex
	entries map[string]accessEntry
}

func (c *accessCache) get(key string, now time.Time) (bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || now.After(e.expires) {
		return false, false
	}
	return e.allowed, true
}

func (c *accessCache) put(key string, allowed bool, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxAccessEntries {
		c.entries = map[string]accessEntry{}
	}
	c.entries[key] = accessEntry{allowed: allowed, expires: now.Add(accessTTL)}
}

// withhold rewrites, in place, every finding that discloses a Secret or
// ConfigMap outside the request's namespace which the requesting user may not
// get: the decision stands (it still denies or warns), the details (existence
// in that namespace, subjects, expiry, key match) are not given.
func (h *Handler) withhold(ctx context.Context, ns string, user authenticationv1.UserInfo, v *engine.Verdict) error {
	if h.Authorize == nil {
		return nil
	}
	for i := range v.Results {
		r := &v.Results[i]
		for _, ref := range r.Reveals {
			if ref.Namespace == ns {
				continue
			}
			ok, err := h.mayGet(ctx, user, ref)
			if err != nil {
				return err
			}
			if !ok {
				r.Message = rules.WithheldMessage(ref)
				break
			}
		}
	}
	return nil
}

func (h *Handler) mayGet(ctx context.Context, user authenticationv1.UserInfo, ref state.ObjectRef) (bool, error) {
	key := user.Username + "\x00" + user.UID + "\x00" + strings.Join(user.Groups, ",") + "\x00" + ref.Kind + "/" + ref.Namespace + "/" + ref.Name
	now := time.Now()
	if allowed, ok := h.access.get(key, now); ok {
		return allowed, nil
	}
	allowed, err := h.Authorize(ctx, user, ref)
	if err != nil {
		return false, fmt.Errorf("asking whether %s may get %s %s/%s: %w", user.Username, ref.Kind, ref.Namespace, ref.Name, err)
	}
	h.access.put(key, allowed, now)
	return allowed, nil
}
