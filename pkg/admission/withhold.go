package admission

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/util/cache"

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

// maxAccessEntries bounds the cache (least recently used answers go first).
const maxAccessEntries = 4096

// accessCache remembers SubjectAccessReview answers briefly, keyed by the
// whole user (name, UID, groups and extra: the authorizer may decide on any
// of them) and the object.
type accessCache struct {
	once sync.Once
	lru  *cache.LRUExpireCache
}

func (c *accessCache) answers() *cache.LRUExpireCache {
	c.once.Do(func() { c.lru = cache.NewLRUExpireCache(maxAccessEntries) })
	return c.lru
}

func (c *accessCache) get(key string) (allowed, ok bool) {
	v, ok := c.answers().Get(key)
	if !ok {
		return false, false
	}
	return v.(bool), true
}

func (c *accessCache) put(key string, allowed bool) { c.answers().Add(key, allowed, accessTTL) }

// accessKey identifies a user and an object for the cache: every field of
// the user info, extra included, in a stable order.
func accessKey(user authenticationv1.UserInfo, ref state.ObjectRef) string {
	var b strings.Builder
	b.WriteString(user.Username)
	b.WriteByte(0)
	b.WriteString(user.UID)
	b.WriteByte(0)
	b.WriteString(strings.Join(user.Groups, "\x01"))
	for _, k := range slices.Sorted(maps.Keys(user.Extra)) {
		b.WriteByte(0)
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strings.Join(user.Extra[k], "\x01"))
	}
	b.WriteByte(0)
	b.WriteString(ref.Kind + "/" + ref.Namespace + "/" + ref.Name)
	return b.String()
}

// withhold returns the verdict as the requesting user may see it. A finding
// that discloses a Secret or ConfigMap the user may not get, in any
// namespace (its own included), says nothing of it, not even whether it
// exists: a finding that blocks (a deny, a deny that enforcement: warn or an
// earlier write made a warning) keeps its rule and field with a message
// that gives no details; a mere warning (a certificate expiring soon) is
// not shown at all, since only material that exists can draw one. Who the
// user is comes from the review, so it counts only when the caller is the
// API server (callerVerified): in any other review every such finding is
// withheld, whatever its userInfo claims, and nobody is asked about. The
// decision stands. v itself is left whole, for metrics and logs.
func (h *Handler) withhold(ctx context.Context, user authenticationv1.UserInfo, v engine.Verdict) (engine.Verdict, error) {
	if h.Authorize == nil {
		return v, nil
	}
	verified := callerVerified(ctx)
	shown := engine.Verdict{Results: make([]engine.Result, 0, len(v.Results))}
	for _, r := range v.Results {
		var hidden *state.ObjectRef
		message := rules.WithheldMessage
		switch {
		case len(r.Reveals) == 0:
		case !verified:
			hidden, message = &r.Reveals[0], rules.WithheldFromUnverifiedMessage
		default:
			var err error
			if hidden, err = h.hidden(ctx, user, r.Reveals); err != nil {
				return engine.Verdict{}, err
			}
		}
		switch {
		case hidden == nil:
		case r.Action == rules.Deny || r.WouldDeny || r.Preexisting:
			r.Message = message(*hidden)
		default:
			continue
		}
		shown.Results = append(shown.Results, r)
	}
	return shown, nil
}

// hidden is the first of refs the user may not get (nil: none).
func (h *Handler) hidden(ctx context.Context, user authenticationv1.UserInfo, refs []state.ObjectRef) (*state.ObjectRef, error) {
	for _, ref := range refs {
		ok, err := h.mayGet(ctx, user, ref)
		if err != nil {
			return nil, err
		}
		if !ok {
			return &ref, nil
		}
	}
	return nil, nil
}

func (h *Handler) mayGet(ctx context.Context, user authenticationv1.UserInfo, ref state.ObjectRef) (bool, error) {
	key := accessKey(user, ref)
	if allowed, ok := h.access.get(key); ok {
		return allowed, nil
	}
	allowed, err := h.Authorize(ctx, user, ref)
	if err != nil {
		return false, fmt.Errorf("asking whether %s may get %s %s/%s: %w", user.Username, ref.Kind, ref.Namespace, ref.Name, err)
	}
	h.access.put(key, allowed)
	return allowed, nil
}
