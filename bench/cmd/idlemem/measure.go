package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ja3sentry/ja3echo/bench"
)

// measure runs one fresh server through one memory measurement.
func measure(ctx context.Context, o *options, start func() (*bench.Process, error), srcs []netip.Addr, payload []byte) (*result, error) {
	p, err := start()
	if err != nil {
		return nil, err
	}
	defer func() { _ = p.Stop() }()
	time.Sleep(500 * time.Millisecond) // start-up allocations settle
	before, _, err := bench.ProcStatus(p.PID())
	if err != nil {
		return nil, err
	}

	t0 := time.Now()
	conns, dialErrs := openConns(ctx, o, p.Addr, srcs, payload)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	r := &result{N: o.n, Opened: len(conns), DialErrors: dialErrs, SentBytes: len(payload),
		OpenS: time.Since(t0).Seconds(), RSSBefore: before}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if r.RSSAfter, r.Threads, err = settledRSS(ctx, p.PID(), o.settle); err != nil {
		return nil, err
	}
	r.Alive = alive(conns)
	if r.Opened > 0 {
		r.PerConn = float64(r.RSSAfter-r.RSSBefore) / float64(r.Opened)
	}
	if p.Exited() {
		return nil, errors.New("server exited during the measurement")
	}
	return r, nil
}

// openConns opens up to o.n connections with o.dialers concurrent dials,
// spreading them over the source addresses, and writes payload on each.
func openConns(ctx context.Context, o *options, target string, srcs []netip.Addr, payload []byte) ([]*net.TCPConn, int) {
	var (
		mu    sync.Mutex
		conns = make([]*net.TCPConn, 0, o.n)
		next  atomic.Int64
		errs  atomic.Int64
		wg    sync.WaitGroup
	)
	for range o.dialers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(o.n) || ctx.Err() != nil {
					return
				}
				d := net.Dialer{Timeout: 10 * time.Second,
					LocalAddr: &net.TCPAddr{IP: srcs[int(i)%len(srcs)].AsSlice()}}
				c, err := d.DialContext(ctx, "tcp", target)
				if err == nil && len(payload) > 0 {
					_, err = c.Write(payload)
				}
				if err != nil {
					if c != nil {
						c.Close()
					}
					errs.Add(1)
					continue
				}
				mu.Lock()
				conns = append(conns, c.(*net.TCPConn))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return conns, int(errs.Load())
}

// settledRSS waits settle, then reads VmRSS every 500 ms until two readings
// are within 0.5% of each other (at most 20 readings).
func settledRSS(ctx context.Context, pid int, settle time.Duration) (int64, int, error) {
	select {
	case <-time.After(settle):
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
	prev, threads, err := bench.ProcStatus(pid)
	for i := 0; err == nil && i < 20; i++ {
		time.Sleep(500 * time.Millisecond)
		var cur int64
		if cur, threads, err = bench.ProcStatus(pid); err != nil {
			break
		}
		stable := cur-prev < prev/200 && prev-cur < prev/200
		prev = cur
		if stable {
			break
		}
	}
	if err != nil {
		return 0, 0, fmt.Errorf("reading VmRSS: %w", err)
	}
	return prev, threads, nil
}

// alive counts connections the server still holds open: a non-blocking peek
// that would block means no FIN (and no data) has arrived.
func alive(conns []*net.TCPConn) int {
	n := 0
	var b [1]byte
	for _, c := range conns {
		rc, err := c.SyscallConn()
		if err != nil {
			continue
		}
		open := false
		_ = rc.Read(func(fd uintptr) bool {
			_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
			open = errors.Is(err, syscall.EAGAIN)
			return true // never wait
		})
		if open {
			n++
		}
	}
	return n
}
