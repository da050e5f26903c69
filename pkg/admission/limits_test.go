package admission_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	mgadmission "github.com/meshguard/meshguard/pkg/admission"
	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/rules"
	"github.com/meshguard/meshguard/pkg/rules/registry"
	"github.com/meshguard/meshguard/pkg/state"
)

func ptrTo[T any](v T) *T { return &v }

func TestLimitRefusesWhatItCannotHold(t *testing.T) {
	post := func(ctx context.Context) *http.Request {
		return httptest.NewRequest(http.MethodPost, "/validate", strings.NewReader("{}")).WithContext(ctx)
	}
	// blocking serves until release closes, and says when a review started.
	blocking := func() (http.Handler, chan struct{}, chan struct{}) {
		entered, release := make(chan struct{}, 4), make(chan struct{})
		return http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			entered <- struct{}{}
			<-release
		}), entered, release
	}
	t.Run("beyond in-flight and queue, a request fails at once with 429", func(t *testing.T) {
		next, entered, release := blocking()
		defer close(release)
		h := mgadmission.Limit(next, config.Limits{InFlight: 1, Queue: 0})
		go h.ServeHTTP(httptest.NewRecorder(), post(context.Background()))
		<-entered
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, post(context.Background()))
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
			t.Errorf("code %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
		}
	})
	t.Run("a queued request runs once a slot frees", func(t *testing.T) {
		next, entered, release := blocking()
		h := mgadmission.Limit(next, config.Limits{InFlight: 1, Queue: 1})
		codes := make(chan int, 2)
		for i := 0; i < 2; i++ {
			go func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, post(context.Background()))
				codes <- rec.Code
			}()
		}
		<-entered
		close(release) // the first finishes; the second then runs
		for i := 0; i < 2; i++ {
			if c := <-codes; c != http.StatusOK {
				t.Errorf("an admitted request got %d", c)
			}
		}
	})
	t.Run("a queued request whose caller gave up is dropped", func(t *testing.T) {
		next, entered, release := blocking()
		defer close(release)
		h := mgadmission.Limit(next, config.Limits{InFlight: 1, Queue: 1})
		go h.ServeHTTP(httptest.NewRecorder(), post(context.Background()))
		<-entered
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		rec := httptest.NewRecorder()
		go func() {
			h.ServeHTTP(rec, post(ctx))
			close(done)
		}()
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("a cancelled queued request kept waiting")
		}
		// Never an empty 200: the stream gets a status saying why.
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("code %d, want 503", rec.Code)
		}
	})
	t.Run("a body over the cap is refused", func(t *testing.T) {
		h := mgadmission.Limit(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("must not be served") }), config.Limits{RequestBytes: 10})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/validate", strings.NewReader(strings.Repeat("x", 11))))
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "limits.requestBytes") {
			t.Errorf("code %d: %s", rec.Code, rec.Body.String())
		}
	})
}

func TestObjectsOverTheListLimitsAreDenied(t *testing.T) {
	var routes []string
	for i := 0; i < 30; i++ {
		routes = append(routes, fmt.Sprintf(`{"route":[{"destination":{"host":"r%d"}}]}`, i))
	}
	vs := `{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"big","namespace":"legacy"},"spec":{"hosts":["a"],"http":[` + strings.Join(routes, ",") + `]}}`
	cfg := config.Default()
	cfg.Limits.Routes = 40
	resp := newHandler(cfg).Handle(context.Background(), request(admissionv1.Create, "VirtualService", "networking.istio.io", "legacy", vs))
	if resp.Allowed || !strings.Contains(resp.Result.Message, "spec.http, spec.tcp and spec.tls: 60 entries are over the 40 meshguard reviews in one object (limits.routes") {
		t.Errorf("allowed=%v: %v", resp.Allowed, resp.Result)
	}
}

func TestJunkRequestsCreateNoMetricSeries(t *testing.T) {
	h := newHandler(config.Default())
	for i := 0; i < 50; i++ {
		req := request(admissionv1.Operation(fmt.Sprintf("OP%d", i)), fmt.Sprintf("Kind%d", i), "example.com", "legacy", `{}`)
		h.Handle(context.Background(), req)
	}
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := 0
	for _, f := range families {
		if f.GetName() != "meshguard_admission_reviews_total" {
			continue
		}
		series += len(f.GetMetric())
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.HasPrefix(l.GetValue(), "Kind") || strings.HasPrefix(l.GetValue(), "OP") {
					t.Errorf("a label value was copied from the request: %s=%s", l.GetName(), l.GetValue())
				}
			}
		}
	}
	if series > 40 {
		t.Errorf("%d series after junk requests", series)
	}
}

func TestAnEmptyReviewIsABadRequest(t *testing.T) {
	resp := newHandler(config.Default()).Handle(context.Background(), request("", "", "", "", ""))
	if resp.Allowed || resp.Result.Code != http.StatusBadRequest {
		t.Errorf("allowed=%v code=%d", resp.Allowed, resp.Result.Code)
	}
}

// The API server says how long it waits (?timeout=); the review's context
// ends then, which also bounds how long a stopping server drains it.
func TestLimitGivesTheReviewTheCallersTimeout(t *testing.T) {
	for _, c := range []struct {
		url  string
		want time.Duration
	}{
		{"/validate?timeout=5s", 5 * time.Second},
		{"/validate", mgadmission.MaxReviewTimeout},
		{"/validate?timeout=10m", mgadmission.MaxReviewTimeout},
		{"/validate?timeout=junk", mgadmission.MaxReviewTimeout},
	} {
		var deadline time.Time
		var ok bool
		h := mgadmission.Limit(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			deadline, ok = r.Context().Deadline()
		}), config.Limits{})
		before := time.Now()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, c.url, strings.NewReader("{}")))
		if !ok || deadline.Before(before.Add(c.want)) || deadline.After(time.Now().Add(c.want)) {
			t.Errorf("%s: deadline %v (set %v), want %v from the request", c.url, deadline.Sub(before), ok, c.want)
		}
	}
}

// slowBody opens a connection to addr that sends a review's headers, waits
// until the server reads the body (100 Continue) and then sends one byte of
// it, and nothing more until closed.
func slowBody(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, "POST /validate HTTP/1.1\r\nHost: meshguard\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	status, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.Contains(status, "100 Continue") {
		t.Fatalf("the server did not start reading the body: %q %v", status, err)
	}
	if _, err := io.WriteString(c, "{"); err != nil {
		t.Fatal(err)
	}
	return c
}

// Forty clients sending their bodies a byte at a time (more than in-flight
// and queue together) while reviews arrive: every review is answered, none
// refused as busy, because a body being read holds no place in the limiter.
func TestSlowBodiesDoNotStarveReviews(t *testing.T) {
	h := mgadmission.Limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(w, r.Body)
	}), config.Limits{InFlight: 4, Queue: 32})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close) // after the slow clients close
	addr := strings.TrimPrefix(srv.URL, "http://")
	for i := 0; i < 40; i++ {
		slowBody(t, addr)
	}
	for i := 0; i < 20; i++ {
		resp, err := srv.Client().Post(srv.URL+"/validate", "application/json", strings.NewReader(`{"review":1}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != `{"review":1}` {
			t.Fatalf("review %d beside 40 slow bodies: HTTP %d %s", i, resp.StatusCode, body)
		}
	}
}

// A review waiting on the API server (a live read confirming a missing
// Service) holds no place in the limiter: with one review judged at a time
// and no queue, another review is still judged meanwhile, and the waiting
// one is answered once its read returns.
func TestAReviewWaitingOnALiveReadHoldsNoPlace(t *testing.T) {
	h := newHandler(config.Default())
	h.Store.SetService(&state.Service{Namespace: "legacy", Name: "reviews", Selector: map[string]string{"app": "reviews"},
		Ports: []state.ServicePort{{Name: "http", Port: 80, TargetPort: 8080}}})
	h.Store.SetPod(&state.Pod{Namespace: "legacy", Name: "reviews-1", Phase: "Running", Ready: true, Sidecar: true, Labels: map[string]string{"app": "reviews"}})
	reading, release := make(chan struct{}), make(chan struct{})
	h.Confirm = func(ctx context.Context, refs []state.ObjectRef) ([]*state.Object, []state.ObjectRef, error) {
		close(reading)
		<-release
		return nil, nil, nil
	}
	srv := httptest.NewServer(mgadmission.Limit(&admission.Webhook{Handler: h}, config.Limits{InFlight: 1, Queue: 0}))
	defer srv.Close()
	review := func(kind, group, object string) string { return postReview(srv, kind, group, object) }
	waiting := make(chan string, 1)
	go func() {
		waiting <- review("VirtualService", "networking.istio.io",
			`{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"late","namespace":"legacy"},"spec":{"hosts":["reviews"],"http":[{"route":[{"destination":{"host":"late"}}]}]}}`)
	}()
	<-reading
	if got := review("PeerAuthentication", "security.istio.io", strictLegacy); !strings.Contains(got, "HTTP 200") || !strings.Contains(got, "[MG101]") {
		t.Errorf("a review beside one waiting on a live read: %s", got)
	}
	close(release)
	if got := <-waiting; !strings.Contains(got, "HTTP 200") || !strings.Contains(got, "[MG303]") {
		t.Errorf("the review that waited: %s", got)
	}
}

// panicsOn is a rule of kind that must not run: it panics, which the
// handler answers with a 500.
type panicsOn string

func (panicsOn) ID() string          { return "MG998" }
func (panicsOn) Reads() []state.Kind { return nil }
func (k panicsOn) Kind() string      { return string(k) }
func (panicsOn) Check(*rules.Input) []rules.Finding {
	panic("a rule ran on an object over limits.cost")
}

// The payloads: each list within its count cap, their product
// seconds of CPU or hundreds of MB. They are denied by cost before any rule
// runs (BenchmarkReviewOverCostCap measures how fast).
func TestObjectsOverTheCostLimitAreDeniedBeforeAnyRule(t *testing.T) {
	h := newHandler(config.Default(), append(registry.Rules(), panicsOn(rules.KindVirtualService), panicsOn(rules.KindDestinationRule))...)
	for name, c := range map[string]struct {
		kind, object string
		want         string
	}{
		"a VirtualService of 500 hosts and 666 routes is denied by its cost": {"VirtualService", giantVirtualService(500, 666),
			"spec.hosts × (spec.http, spec.tcp and spec.tls + spec.gateways): 500 hosts × (1998 routes, matches and destinations + 0 gateways) cost 999000, over the 100000 meshguard reviews in one object (limits.cost in its configuration) — split the hosts, or the routes, over several VirtualServices, or raise the limit"},
		"a DestinationRule of 500 subsets with 40 port settings each is denied by its cost": {"DestinationRule", giantDestinationRule(500, 40),
			"spec.subsets × portLevelSettings: (1 + 500 subsets) × (1 + 20000 port-level settings of the rule and its subsets) cost 10020501, over the 100000 meshguard reviews in one object (limits.cost in its configuration) — keep fewer subsets or port-level settings in one rule (subsets inherit the rule's trafficPolicy), or raise the limit"},
	} {
		t.Run(name, func(t *testing.T) {
			resp := h.Handle(context.Background(), request(admissionv1.Create, c.kind, "networking.istio.io", "legacy", c.object))
			if resp.Allowed || resp.Result.Code != http.StatusForbidden || resp.Result.Message != c.want {
				t.Errorf("allowed=%v code=%d: %s", resp.Allowed, resp.Result.Code, resp.Result.Message)
			}
		})
	}
}

// postReview sends a CREATE of object in legacy to srv as the API server
// would, and returns the HTTP status and body.
func postReview(srv *httptest.Server, kind, group, object string) string {
	body, _ := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  ptrTo(request(admissionv1.Create, kind, group, "legacy", object).AdmissionRequest)})
	resp, err := srv.Client().Post(srv.URL+"/validate", "application/json", bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("HTTP %d %s", resp.StatusCode, out)
}

// blocksOn is a VirtualService rule that says when it runs and then waits
// for release: a review that is slow to judge.
type blocksOn struct{ entered, release chan struct{} }

func (blocksOn) ID() string          { return "MG997" }
func (blocksOn) Reads() []state.Kind { return nil }
func (blocksOn) Kind() string        { return rules.KindVirtualService }
func (b blocksOn) Check(*rules.Input) []rules.Finding {
	b.entered <- struct{}{}
	<-b.release
	return nil
}

// gauge reads a gauge without labels from the metrics registry.
func gauge(t *testing.T, name string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return 0
}

// Costly objects (over a tenth of limits.cost) hold at most half the
// in-flight slots: with two slots, one costly review being judged and
// another waiting for its turn, a small write is still judged.
func TestSmallWritesAreJudgedWhileCostlyOnesQueue(t *testing.T) {
	cfg := config.Default()
	cfg.Limits.Cost = 100 // costly: over 10
	slow := blocksOn{entered: make(chan struct{}, 8), release: make(chan struct{})}
	h := newHandler(cfg, append(registry.Rules(), slow)...)
	srv := httptest.NewServer(mgadmission.Limit(&admission.Webhook{Handler: h}, config.Limits{InFlight: 2, Queue: 0}))
	defer srv.Close()
	release := sync.OnceFunc(func() { close(slow.release) })
	defer release()                      // before srv.Close, which waits for the reviews
	costly := func(name string) string { // 5 hosts × 3 route entries: cost 15
		return `{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"` + name + `","namespace":"legacy"},"spec":{"hosts":["a","b","c","d","e"],"http":[{"match":[{"uri":{"prefix":"/"}}],"route":[{"destination":{"host":"api"}}]}]}}`
	}
	answers := make(chan string, 2)
	go func() { answers <- postReview(srv, "VirtualService", "networking.istio.io", costly("first")) }()
	<-slow.entered
	go func() { answers <- postReview(srv, "VirtualService", "networking.istio.io", costly("second")) }()
	for deadline := time.Now().Add(time.Minute); gauge(t, "meshguard_admission_costly_waiting") != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the second costly review never waited for its turn")
		}
	}
	if got := postReview(srv, "PeerAuthentication", "security.istio.io", strictLegacy); !strings.Contains(got, "HTTP 200") || !strings.Contains(got, "[MG101]") {
		t.Errorf("a small write beside costly ones: %s", got)
	}
	release()
	for i := 0; i < 2; i++ {
		if got := <-answers; !strings.Contains(got, "HTTP 200") || !strings.Contains(got, `"allowed":true`) {
			t.Errorf("a costly review: %s", got)
		}
	}
}

// Memory is budgeted in bytes, not requests: a review holds its body and an
// estimate of its decoded form until answered. With a big review being
// judged, a second big one is refused at once (429, Retry-After) while a
// small write is still judged; a big review alone may take the whole
// budget, so no body within limits.requestBytes is refused for ever.
func TestMemoryIsBudgetedInBytesInFlight(t *testing.T) {
	slow := blocksOn{entered: make(chan struct{}, 8), release: make(chan struct{})}
	h := newHandler(config.Default(), append(registry.Rules(), slow)...)
	// 500 routes: a 35 KB body that decodes into about half a megabyte.
	big := giantVirtualService(1, 500)
	body, _ := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  ptrTo(request(admissionv1.Create, "VirtualService", "networking.istio.io", "legacy", big).AdmissionRequest)})
	// Room for one big review and anything smaller, not for two big ones.
	reserved := int64(len(body)) + mgadmission.DecodedBytes(body)
	srv := httptest.NewServer(mgadmission.Limit(&admission.Webhook{Handler: h},
		config.Limits{RequestBytes: 256 << 10, MemoryBytes: 2*reserved - 1, InFlight: 4, Queue: 4}))
	defer srv.Close()
	release := sync.OnceFunc(func() { close(slow.release) })
	defer release() // before srv.Close, which waits for the reviews
	first := make(chan string, 1)
	go func() { first <- postReview(srv, "VirtualService", "networking.istio.io", big) }()
	<-slow.entered
	resp, err := srv.Client().Post(srv.URL+"/validate", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(msg), "limits.memoryBytes") {
		t.Errorf("a second big review over the budget: HTTP %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), msg)
	}
	if got := postReview(srv, "PeerAuthentication", "security.istio.io", strictLegacy); !strings.Contains(got, "HTTP 200") || !strings.Contains(got, "[MG101]") {
		t.Errorf("a small write beside a big review: %s", got)
	}
	release()
	if got := <-first; !strings.Contains(got, "HTTP 200") || !strings.Contains(got, `"allowed":true`) {
		t.Errorf("the big review: %s", got)
	}

	// A budget smaller than one big review's estimate: alone, it is judged.
	alone := httptest.NewServer(mgadmission.Limit(&admission.Webhook{Handler: newHandler(config.Default())},
		config.Limits{RequestBytes: 256 << 10, MemoryBytes: reserved / 2, InFlight: 4, Queue: 4}))
	defer alone.Close()
	if got := postReview(alone, "VirtualService", "networking.istio.io", big); !strings.Contains(got, "HTTP 200") || !strings.Contains(got, `"allowed":true`) {
		t.Errorf("a big review alone, over the whole budget: %s", got)
	}
}
