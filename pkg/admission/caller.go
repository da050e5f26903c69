package admission

import (
	"context"
	"net/http"
)

type verifiedCallerKey struct{}

// WithCaller is the webhook's WithContextFunc: it records whether the
// request's caller presented a client certificate the server verified (one
// the CAs of serve --client-ca-file signed: the API server's). Only such a
// review is trusted for its userInfo; anyone who reaches the port can write
// any userInfo into a review of their own (system:masters, or a Secret's
// namespace).
func WithCaller(ctx context.Context, r *http.Request) context.Context {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return context.WithValue(ctx, verifiedCallerKey{}, true)
	}
	return ctx
}

// callerVerified reports whether the review whose context this is came
// from a caller with a verified client certificate (see WithCaller).
func callerVerified(ctx context.Context) bool {
	v, _ := ctx.Value(verifiedCallerKey{}).(bool)
	return v
}
