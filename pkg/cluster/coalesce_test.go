package cluster

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// blockingReader answers every Get once release closes: a Service "present"
// exists, anything else is not found. It counts the Gets it serves.
type blockingReader struct {
	client.Reader
	gets    atomic.Int32
	release chan struct{}
}

func (b *blockingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	b.gets.Add(1)
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	if key.Name != "present" {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "services"}, key.Name)
	}
	obj.(*corev1.Service).Namespace, obj.(*corev1.Service).Name = key.Namespace, key.Name
	obj.(*corev1.Service).Spec.Ports = []corev1.ServicePort{{Port: 80}}
	return nil
}

type arrivedKey struct{}

func arrived(ctx context.Context) time.Time { t, _ := ctx.Value(arrivedKey{}).(time.Time); return t }

func waiters(c *coalesced, name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, r := range c.reads {
		if k.key.Name == name {
			return r.waiters
		}
	}
	return 0
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Fifty reviews that arrived together and confirm the same Service share
// one GET, each getting its own copy (or the same not-found); the review
// that started the read may give up without cutting the others off.
func TestConcurrentReviewsShareOneRead(t *testing.T) {
	for _, name := range []string{"present", "missing"} {
		t.Run(name, func(t *testing.T) {
			b := &blockingReader{release: make(chan struct{})}
			c := Coalesce(b, arrived).(*coalesced)
			review := context.WithValue(context.Background(), arrivedKey{}, time.Now())
			first, giveUp := context.WithCancel(review)
			const n = 50
			type result struct {
				i   int
				err error
			}
			errs := make(chan result, n)
			var got sync.Map
			for i := 0; i < n; i++ {
				ctx := review
				if i == 0 {
					ctx = first
				}
				go func() {
					var svc corev1.Service
					err := c.Get(ctx, client.ObjectKey{Namespace: "shop", Name: name}, &svc)
					got.Store(i, &svc)
					errs <- result{i, err}
				}()
			}
			waitFor(t, "every review waits for the read", func() bool { return waiters(c, name) == n })
			giveUp()
			close(b.release)
			for range n {
				r := <-errs
				switch {
				case r.i == 0 && r.err == context.Canceled: // it gave up
				case name == "missing" && !apierrors.IsNotFound(r.err), name == "present" && r.err != nil:
					t.Errorf("review %d got %v", r.i, r.err)
				}
			}
			if g := b.gets.Load(); g != 1 {
				t.Errorf("%d GETs for %d reviews, want 1", g, n)
			}
			if name == "present" {
				a, _ := got.Load(1)
				z, _ := got.Load(2)
				a.(*corev1.Service).Spec.Ports[0].Port = 1
				if z.(*corev1.Service).Spec.Ports[0].Port != 80 {
					t.Error("two reviews got the same object, not a copy each")
				}
			}
		})
	}
}

// A review that arrived after a read was issued does not join it (the read
// may predate a write its caller made just before); nor does a read outside
// any review.
func TestALaterReviewMakesItsOwnRead(t *testing.T) {
	b := &blockingReader{release: make(chan struct{})}
	c := Coalesce(b, arrived).(*coalesced)
	early := context.WithValue(context.Background(), arrivedKey{}, time.Now())
	key := client.ObjectKey{Namespace: "shop", Name: "missing"}
	done := make(chan error, 3)
	go func() { done <- c.Get(early, key, &corev1.Service{}) }()
	waitFor(t, "the first read is issued", func() bool { return b.gets.Load() == 1 })
	late := context.WithValue(context.Background(), arrivedKey{}, time.Now().Add(time.Millisecond))
	go func() { done <- c.Get(late, key, &corev1.Service{}) }()
	waitFor(t, "the later review reads again", func() bool { return b.gets.Load() == 2 })
	go func() { done <- c.Get(context.Background(), key, &corev1.Service{}) }()
	waitFor(t, "a read outside a review is its own", func() bool { return b.gets.Load() == 3 })
	close(b.release)
	for i := 0; i < 3; i++ {
		if err := <-done; !apierrors.IsNotFound(err) {
			t.Errorf("got %v", err)
		}
	}
}
