package cluster

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SharedReadTimeout bounds a read that several reviews share: it does not
// end with the review that started it, so that the others still get it.
const SharedReadTimeout = 10 * time.Second

// Coalesce returns a reader whose Gets are shared by concurrent callers: a
// review that needs an object another review is already reading waits for
// that read instead of making its own, so a burst of reviews confirming the
// same absence (a Service missing) or reading the same Secret costs the API
// server one GET. A caller only joins a read issued after since(ctx), the
// moment its review arrived: a read issued earlier might predate a write
// the review's own caller made just before (a Service created a moment
// before the route to it). With no arrival in ctx (since returns zero), a
// Get joins nothing. Lists are not shared.
func Coalesce(r client.Reader, since func(context.Context) time.Time) client.Reader {
	return &coalesced{Reader: r, since: since, reads: map[readKey]*sharedRead{}}
}

type coalesced struct {
	client.Reader
	since func(context.Context) time.Time
	mu    sync.Mutex
	reads map[readKey]*sharedRead
}

type readKey struct {
	typ reflect.Type
	gvk string // an unstructured object's group, version and kind
	key client.ObjectKey
}

type sharedRead struct {
	issued  time.Time
	done    chan struct{}
	obj     client.Object
	err     error
	waiters int // callers waiting for it (under coalesced.mu)
}

func (c *coalesced) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	arrived := c.since(ctx)
	if arrived.IsZero() || len(opts) > 0 {
		return c.Reader.Get(ctx, key, obj, opts...)
	}
	k := readKey{typ: reflect.TypeOf(obj), gvk: obj.GetObjectKind().GroupVersionKind().String(), key: key}
	c.mu.Lock()
	read := c.reads[k]
	if read == nil || read.issued.Before(arrived) {
		read = &sharedRead{issued: time.Now(), done: make(chan struct{}), obj: obj.DeepCopyObject().(client.Object)}
		c.reads[k] = read
		go c.read(ctx, k, read)
	}
	read.waiters++
	c.mu.Unlock()
	select {
	case <-read.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if read.err != nil {
		return read.err
	}
	return copyInto(obj, read.obj)
}

// read makes one shared read, detached from the caller that started it.
func (c *coalesced) read(ctx context.Context, k readKey, read *sharedRead) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), SharedReadTimeout)
	defer cancel()
	read.err = c.Reader.Get(ctx, k.key, read.obj)
	c.mu.Lock()
	if c.reads[k] == read {
		delete(c.reads, k)
	}
	c.mu.Unlock()
	close(read.done)
}

// copyInto gives each caller its own copy of what the shared read returned.
func copyInto(dst, src client.Object) error {
	d, s := reflect.ValueOf(dst), reflect.ValueOf(src.DeepCopyObject())
	if d.Kind() != reflect.Pointer || d.Type() != s.Type() {
		return fmt.Errorf("shared read: %T is not %T", src, dst)
	}
	d.Elem().Set(s.Elem())
	return nil
}
