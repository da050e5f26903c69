package admission

import (
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

// Limit bounds what the webhook holds at once: at most l.InFlight requests
// are read and reviewed together and l.Queue more wait for a slot while their
// request lasts; any beyond are refused at once with 429, before their body
// is read, so memory does not grow with the load. A body over l.RequestBytes
// is refused (413), and a body that trickles in is cut off after
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
		select {
		case waiting <- struct{}{}:
			defer func() { <-waiting }()
		default:
			rejected.WithLabelValues("busy").Inc()
			w.Header().Set("Retry-After", "1")
			http.Error(w, "meshguard is at its limit of "+strconv.Itoa(l.InFlight+l.Queue)+" reviews in flight; retry", http.StatusTooManyRequests)
			return
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		case <-r.Context().Done():
			return // the caller gave up while queued
		}
		if r.ContentLength > l.RequestBytes {
			rejected.WithLabelValues("too_large").Inc()
			http.Error(w, "request body of "+strconv.FormatInt(r.ContentLength, 10)+" bytes is over meshguard's limit of "+
				strconv.FormatInt(l.RequestBytes, 10)+" (limits.requestBytes)", http.StatusRequestEntityTooLarge)
			return
		}
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(BodyReadTimeout))
		r.Body = http.MaxBytesReader(w, r.Body, l.RequestBytes)
		next.ServeHTTP(w, r)
	})
}
