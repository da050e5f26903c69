package admission

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"golang.org/x/sync/semaphore"
)

func TestReadBodyHoldsWhatArrivedWithinTheBudget(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 8<<10)
	budget := semaphore.NewWeighted(10 << 10)
	t.Run("a body of announced length takes its length and one byte", func(t *testing.T) {
		data, held, err := readBody(bytes.NewReader(body), int64(len(body)), 1<<20, budget)
		if err != nil || !bytes.Equal(data, body) || held != int64(len(body))+1 {
			t.Fatalf("%d bytes, held %d: %v", len(data), held, err)
		}
		// What is left cannot hold another such body: refused, not waited for.
		if _, held2, err := readBody(bytes.NewReader(body), -1, 1<<20, budget); !errors.Is(err, errBusy) {
			t.Errorf("a second body over the budget: %v", err)
		} else {
			budget.Release(held2)
		}
		budget.Release(held)
	})
	t.Run("a body that trickles in holds only a first small buffer", func(t *testing.T) {
		r, w := io.Pipe()
		defer w.Close()
		done := make(chan int64, 1)
		go func() {
			_, held, _ := readBody(r, 1<<20, 1<<20, budget)
			done <- held
		}()
		// One byte, then nothing: once it is read, the trickling body holds
		// its first buffer.
		if _, err := w.Write([]byte("{")); err != nil {
			t.Fatal(err)
		}
		// Meanwhile a normal body still fits.
		data, held, err := readBody(bytes.NewReader(body[:1<<10]), 1<<10, 1<<20, budget)
		if err != nil || len(data) != 1<<10 {
			t.Fatalf("a normal body beside a trickling one: %v", err)
		}
		budget.Release(held)
		_ = w.CloseWithError(errors.New("deadline"))
		held = <-done
		if held > 4<<10 {
			t.Errorf("a one-byte body held %d bytes", held)
		}
		budget.Release(held)
	})
	t.Run("a body over the limit is too large", func(t *testing.T) {
		_, held, err := readBody(iotest.HalfReader(bytes.NewReader(body)), -1, 100, budget)
		budget.Release(held)
		if !errors.Is(err, errTooLarge) || held > 101 {
			t.Errorf("held %d: %v", held, err)
		}
	})
	if !budget.TryAcquire(10 << 10) {
		t.Error("the budget was not given back in full")
	}
}
