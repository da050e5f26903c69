package admission

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshguard/meshguard/pkg/config"
)

// BodyReadTimeout bounds how long a client may take to send its request
// body: the API server sends a review at once, and its webhook timeout is at
// most 30 s. (controller-runtime's server sets no read timeout of its own.)
const BodyReadTimeout = 10 * time.Second

var rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "meshguard_admission_rejected_total",
	Help: "Requests refused before review, by reason (busy, too_large).",
}, []string{"reason"})

// Limit bounds what the webhook holds at once: at most l.InFlight reviews are
// decoded and judged together, and l.Queue more wait with their bodies read
// (bounded by l.RequestBytes each); any beyond are refused at once with 429,
// before their body is read, so memory does not grow with the load. Bodies
// are read before waiting because the API server multiplexes reviews over one
// HTTP/2 connection: a queued stream left unread would hold the connection's
// flow-control window and stall the reviews in flight. A body over
// l.RequestBytes is refused (413), and one that trickles in is cut off after
// BodyReadTimeout.
func Limit(next http.Handler, l config.Limits) http.Handler {
	// Queue 0 is a real choice (no waiting); an unset in-flight limit or body
	// cap is not.
	queue := l.Queue
	l = l.WithDefaults()
	l.Queue = queue
	slots := make(chan struct{}, l.InFlight)
	waiting := make(chan struct{}, l.InFlight+l.Queue)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), reviewTimeout(r))
		defer cancel()
		r = r.WithContext(ctx)
		select {
		case waiting <- struct{}{}:
			defer func() { <-waiting }()
		default:
			rejected.WithLabelValues("busy").Inc()
			w.Header().Set("Retry-After", "1")
			http.Error(w, "meshguard is at its limit of "+strconv.Itoa(l.InFlight+l.Queue)+" reviews in flight; retry", http.StatusTooManyRequests)
			return
		}
		if r.ContentLength > l.RequestBytes {
			tooLarge(w, r.ContentLength, l.RequestBytes)
			return
		}
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(BodyReadTimeout))
		body, err := io.ReadAll(io.LimitReader(r.Body, l.RequestBytes+1))
		_ = r.Body.Close()
		switch {
		case err != nil:
			http.Error(w, "reading the request body: "+err.Error(), http.StatusBadRequest)
			return
		case int64(len(body)) > l.RequestBytes:
			tooLarge(w, int64(len(body)), l.RequestBytes)
			return
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		case <-ctx.Done():
			// The caller gave up while queued (or its timeout passed): it
			// reads no answer, but the stream still gets a real status.
			http.Error(w, "review abandoned while queued: "+context.Cause(ctx).Error(), http.StatusServiceUnavailable)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

// MaxReviewTimeout is the longest a review runs: the API server's longest
// webhook timeout.
const MaxReviewTimeout = 30 * time.Second

// reviewTimeout is how long the caller waits for this review: the API server
// says so in the URL (`?timeout=5s`, its webhook's timeoutSeconds); past it
// nobody reads the answer. It also bounds how long a stopping server drains.
func reviewTimeout(r *http.Request) time.Duration {
	if d, err := time.ParseDuration(r.URL.Query().Get("timeout")); err == nil && d > 0 && d < MaxReviewTimeout {
		return d
	}
	return MaxReviewTimeout
}

func tooLarge(w http.ResponseWriter, size, limit int64) {
	rejected.WithLabelValues("too_large").Inc()
	http.Error(w, "request body of "+strconv.FormatInt(size, 10)+" bytes or more is over meshguard's limit of "+
		strconv.FormatInt(limit, 10)+" (limits.requestBytes)", http.StatusRequestEntityTooLarge)
}
