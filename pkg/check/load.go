package check

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/meshguard/meshguard/pkg/config"
	"github.com/meshguard/meshguard/pkg/state"
	"github.com/meshguard/meshguard/pkg/state/manifest"
)

// ErrEmptyState is the bad input of a --state that holds no object at all:
// judging against nothing would allow everything.
var ErrEmptyState = errors.New("--state holds no object: export the cluster first (kubectl get namespaces,pods,services,... -A -o yaml)")

// badOrInterrupted is err as bad input, unless the run was interrupted.
func badOrInterrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return BadInput{err}
}

// LoadState starts a session from the --state files, or, without any, from
// the live cluster through loadCluster. Every face that reads cluster state
// (check, audit, coverage, plan) loads it here, so all read it alike.
func LoadState(ctx context.Context, cfg *config.Config, files []string, loadCluster func(context.Context, *state.Store) error, now func() time.Time) (*Session, error) {
	sess := NewSession(cfg, now)
	switch {
	case len(files) > 0:
		// Streamed: only the lean objects the store keeps stay in memory.
		n := 0
		err := manifest.StreamFiles(ctx, files, manifest.ReadOptions{MaxFileBytes: cfg.MaxFileBytes}, func(d manifest.Document) error {
			n++
			sess.AddState(d.Object)
			return nil
		})
		if err != nil {
			return nil, badOrInterrupted(ctx, err)
		}
		if n == 0 {
			return nil, BadInput{ErrEmptyState}
		}
	case loadCluster != nil:
		if err := loadCluster(ctx, sess.Store()); err != nil {
			return nil, fmt.Errorf("reading the cluster (pass --state to work offline): %w", err)
		}
		sess.AdoptStore()
		// Secrets are read from the cluster as each review needs them.
		sess.sawKey = true
	default:
		return nil, BadInput{errors.New("--state: no cluster state given and no cluster to read")}
	}
	return sess, nil
}
