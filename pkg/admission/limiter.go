package admission

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"github.com/meshguard/meshguard/pkg/config"
)

// BodyReadTimeout bounds how long a client may take to send its request
// body, before the body takes any place in the limiter: the API server
// writes a review in one go, and the chart's whole webhook timeout is 5 s.
const BodyReadTimeout = 5 * time.Second

// MaxReviewTimeout is the longest a review runs: the API server's longest
// webhook timeout.
const MaxReviewTimeout = 30 * time.Second

var rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "meshguard_admission_rejected_total",
	Help: "Requests refused before review, by reason (busy, too_large, slow_body).",
}, []string{"reason"})

var (
	errBusy     = errors.New("busy")
	errTooLarge = errors.New("too large")
)

// Limit bounds what the webhook holds at once. A request body is read and
// size-checked first (over l.RequestBytes: 413), under its own deadline
// (BodyReadTimeout: 408 past it), and holds nothing but the memory it
// has sent so far: a client trickling its body ties up no review's place,
// so slow clients cannot starve the API server's reviews. Memory is
// budgeted in bytes. A review once read holds its body plus an estimate of
// its decoded form (decodedBytes) until it is answered, queued or judged,
// from l.MemoryBytes; one that would go over it is refused at once (429
// with Retry-After), and one alone may take all of it, so any body within
// RequestBytes can be judged. Bodies still arriving hold the bytes they
// have sent from a budget of their own, a quarter as large (at least one
// body of RequestBytes), so that many half-sent bodies can never leave the
// reviews already read without room: the first review read is always
// judged. Then at most l.InFlight reviews are decoded and judged together
// and l.Queue more wait, their bodies read; any beyond are refused (429). A
// review waiting on the API server gives its place up meanwhile
// (whileWaiting). Each review ends with its caller's timeout (?timeout=).
// Bodies are read before waiting because the API server multiplexes
// reviews over one HTTP/2 connection: a queued stream left unread would
// hold the connection's flow-control window and stall the reviews in
// flight.
func Limit(next http.Handler, l config.Limits) http.Handler {
	// Queue 0 is a real choice (no waiting); an unset in-flight limit or body
	// cap is not.
	queue := l.Queue
	l = l.WithDefaults()
	l.Queue = queue
	slots := make(chan struct{}, l.InFlight)
	costly := make(chan struct{}, max(1, l.InFlight/2))
	waiting := make(chan struct{}, l.InFlight+l.Queue)
	// Each budget has room for one body of RequestBytes, and the byte that
	// tells it ends.
	budget := max(l.MemoryBytes, l.RequestBytes+1)
	held := semaphore.NewWeighted(budget)
	arriving := semaphore.NewWeighted(max(l.MemoryBytes/4, l.RequestBytes+1))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), arrivedKey{}, time.Now()), reviewTimeout(r))
		defer cancel()
		r = r.WithContext(ctx)
		if r.ContentLength > l.RequestBytes {
			tooLarge(w, r.ContentLength, l.RequestBytes)
			return
		}
		deadline := time.Now().Add(BodyReadTimeout)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		_ = http.NewResponseController(w).SetReadDeadline(deadline)
		body, read, err := readBody(r.Body, r.ContentLength, l.RequestBytes, arriving)
		_ = r.Body.Close()
		arriving.Release(read)
		var timeout net.Error
		switch {
		case errors.Is(err, errBusy):
			busy(w, memoryLimit)
			return
		case errors.Is(err, errTooLarge):
			tooLarge(w, l.RequestBytes+1, l.RequestBytes)
			return
		case errors.As(err, &timeout) && timeout.Timeout():
			rejected.WithLabelValues("slow_body").Inc()
			http.Error(w, "the request body did not arrive within "+BodyReadTimeout.String(), http.StatusRequestTimeout)
			return
		case err != nil:
			http.Error(w, "reading the request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		// The body and its decoded form are held from here, queued or
		// judged: reserve them now, while refusing costs nothing.
		hold := min(int64(len(body))+decodedBytes(body), budget)
		if !held.TryAcquire(hold) {
			busy(w, memoryLimit)
			return
		}
		defer held.Release(hold)
		p := &place{waiting: waiting, slots: slots, costly: costly}
		defer p.leave()
		if !p.queue() {
			busy(w, strconv.Itoa(l.InFlight+l.Queue)+" reviews in flight")
			return
		}
		if !p.judge(ctx) {
			// The caller gave up while queued (or its timeout passed): it
			// reads no answer, but the stream still gets a real status.
			http.Error(w, "review abandoned while queued: "+context.Cause(ctx).Error(), http.StatusServiceUnavailable)
			return
		}
		r = r.WithContext(context.WithValue(ctx, placeKey{}, p))
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

// place is a review's place in the limiter: one of the InFlight+Queue
// reviews admitted, and while it is judged one of the InFlight slots. Only
// the review's own goroutine uses it.
type place struct {
	waiting, slots chan struct{}
	// costly are the slots costly reviews may hold at once (see asCostly),
	// shared by all places.
	costly         chan struct{}
	queued, judged bool
}

type placeKey struct{}

func (p *place) queue() bool {
	select {
	case p.waiting <- struct{}{}:
		p.queued = true
	default:
	}
	return p.queued
}

func (p *place) judge(ctx context.Context) bool {
	select {
	case p.slots <- struct{}{}:
		p.judged = true
	case <-ctx.Done():
	}
	return p.judged
}

func (p *place) leave() {
	if p.judged {
		<-p.slots
		p.judged = false
	}
	if p.queued {
		<-p.waiting
		p.queued = false
	}
}

// whileWaiting runs wait, a read from the API server, without the review's
// place in the limiter: a review waiting on the network holds neither a slot
// nor a place in the queue, so others are admitted and judged meanwhile (a
// burst of writes that each confirm a missing Service). Then the review
// takes a slot again, waiting for one if need be but never refused: it was
// admitted already. Outside the limiter, wait just runs.
func whileWaiting(ctx context.Context, wait func() error) error {
	p, _ := ctx.Value(placeKey{}).(*place)
	if p == nil || !p.judged {
		return wait()
	}
	p.leave()
	err := wait()
	if !p.judge(ctx) && err == nil {
		err = fmt.Errorf("review abandoned while waiting to be judged again: %w", context.Cause(ctx))
	}
	return err
}

// CostlyShare sets which objects are costly: those costing more than this
// share of limits.cost (a tenth: 10000 by default, about 5 ms of review).
const CostlyShare = 10

// asCostly takes, for the review of a costly object, one of the in-flight
// slots costly reviews may hold at once: half of them, at least one. While
// none is free the review waits without its place (as in whileWaiting), so
// small writes are still judged while costly ones queue. release gives the
// slot back; an error means the review was abandoned while waiting. Outside
// the limiter there is nothing to take.
func asCostly(ctx context.Context) (release func(), err error) {
	p, _ := ctx.Value(placeKey{}).(*place)
	if p == nil || !p.judged {
		return func() {}, nil
	}
	release = func() { <-p.costly }
	select {
	case p.costly <- struct{}{}:
		return release, nil
	default:
	}
	costlyWaiting.Inc()
	defer costlyWaiting.Dec()
	taken := false
	err = whileWaiting(ctx, func() error {
		select {
		case p.costly <- struct{}{}:
			taken = true
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	if err != nil {
		if taken {
			release()
		}
		return nil, err
	}
	return release, nil
}

var costlyWaiting = prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "meshguard_admission_costly_waiting",
	Help: "Reviews of costly objects (over a tenth of limits.cost) waiting for a slot they may hold, their places given up.",
})

// memoryLimit names the memory budget in a 429.
const memoryLimit = "bytes of reviews in memory (limits.memoryBytes)"

// What a review holds beyond its body while it is decoded and judged,
// fitted to its peak live heap (BenchmarkReviewMemory: 2 MB of long routes
// peak near 14 MB, 1.1 MB of port settings near 14 MB): the copies the
// AdmissionReview decoder and Istio's JSON decoder make of the object (the
// review read again, its raw object, the raw parts jsonpb keeps while it
// descends: about four times its bytes), the decoded values, about 128
// bytes each whatever their text (a key and value, or an element: counted
// by their ':' and ','), and the review's own structures and response.
const (
	decodedCopies   = 4
	bytesPerValue   = 128
	decodedOverhead = 256 << 10
)

// decodedBytes estimates the memory a review of body holds while it is
// decoded and judged, beyond the body itself.
func decodedBytes(body []byte) int64 {
	values := bytes.Count(body, []byte{':'}) + bytes.Count(body, []byte{','})
	return decodedCopies*int64(len(body)) + bytesPerValue*int64(values) + decodedOverhead
}

// readBody reads a body of at most limit bytes, taking the memory it holds
// from budget as it grows (starting small, so a body that trickles in holds
// little); held is what to release once the review is done, also on error.
// contentLength, when known (>= 0), caps the buffer.
func readBody(body io.Reader, contentLength, limit int64, budget *semaphore.Weighted) (data []byte, held int64, err error) {
	const first = 4 << 10
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return nil, held, errTooLarge
			}
			// One byte over the limit (or the announced length) tells a
			// body that goes on from one that ends there.
			size := min(max(first, 2*int64(cap(buf))), limit+1)
			if contentLength >= 0 {
				size = min(size, contentLength+1)
			}
			if !budget.TryAcquire(size - held) {
				return nil, held, errBusy
			}
			held = size
			grown := make([]byte, len(buf), size)
			copy(grown, buf)
			buf = grown
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF:
			if int64(len(buf)) > limit {
				return nil, held, errTooLarge
			}
			return buf, held, nil
		case err != nil:
			return nil, held, err
		}
	}
}

type arrivedKey struct{}

// ArrivedAt is when the review whose context this is reached the webhook
// (zero outside a review): anything read from the API server since then
// reflects every write its caller made before sending it, so reads issued
// since may be shared with other reviews.
func ArrivedAt(ctx context.Context) time.Time {
	t, _ := ctx.Value(arrivedKey{}).(time.Time)
	return t
}

// reviewTimeout is how long the caller waits for this review: the API server
// says so in the URL (`?timeout=5s`, its webhook's timeoutSeconds); past it
// nobody reads the answer. It also bounds how long a stopping server drains.
func reviewTimeout(r *http.Request) time.Duration {
	if d, err := time.ParseDuration(r.URL.Query().Get("timeout")); err == nil && d > 0 && d < MaxReviewTimeout {
		return d
	}
	return MaxReviewTimeout
}

func busy(w http.ResponseWriter, what string) {
	rejected.WithLabelValues("busy").Inc()
	w.Header().Set("Retry-After", "1")
	http.Error(w, "meshguard is at its limit of "+what+"; retry", http.StatusTooManyRequests)
}

func tooLarge(w http.ResponseWriter, size, limit int64) {
	rejected.WithLabelValues("too_large").Inc()
	http.Error(w, "request body of "+strconv.FormatInt(size, 10)+" bytes or more is over meshguard's limit of "+
		strconv.FormatInt(limit, 10)+" (limits.requestBytes)", http.StatusRequestEntityTooLarge)
}
