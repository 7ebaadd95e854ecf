package bench

import (
	"context"
	"time"
)

// BusyShare samples /proc/stat over d and returns the fraction of all CPUs
// that was busy (steal included: a core the hypervisor lends away is not
// ours either).
func BusyShare(ctx context.Context, d time.Duration) (float64, error) {
	b0, t0, s0, err := SystemTicks()
	if err != nil {
		return 0, err
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	b1, t1, s1, err := SystemTicks()
	if err != nil {
		return 0, err
	}
	if t1 == t0 {
		return 0, nil
	}
	return float64(b1-b0+s1-s0) / float64(t1-t0), nil
}

// WaitQuiet waits until the machine is at most limit busy over a 300 ms
// sample, or maxWait has passed. It returns the last share it saw and
// whether the machine was quiet. On a shared host, other people's builds
// and tests take cores from both processes unevenly; a run measured then
// says nothing about either server.
func WaitQuiet(ctx context.Context, limit float64, maxWait time.Duration) (float64, bool, error) {
	deadline := time.Now().Add(maxWait)
	for {
		share, err := BusyShare(ctx, 300*time.Millisecond)
		if err != nil {
			return 0, false, err
		}
		if share <= limit {
			return share, true, nil
		}
		if time.Now().After(deadline) {
			return share, false, nil
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return 0, false, ctx.Err()
		}
	}
}
