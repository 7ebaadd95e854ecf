package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ja3sentry/ja3echo/bench"
)

// TestSummaryRatios checks the arithmetic behind the table: ratios are taken
// round by round, then their median is reported.
func TestSummaryRatios(t *testing.T) {
	o := &options{rounds: 3, conc: []int{64}, kex: bench.KexMLKEM, key: bench.KeyECDSA}
	s := newSummary(o, bench.Meta{NProc: 2})
	// ja3echo µs/conn 300, 330, 400 against a baseline at 500 every round:
	// per-round ratios 0.60, 0.66, 0.80, median 0.66.
	for i, jus := range []float64{300, 330, 400} {
		round := i + 1
		s.add(round, "ja3echo", &bench.LoadResult{Concurrency: 64, ConnPerS: 1100, ServerUSPerConn: jus, P50MS: 1}, 300)
		s.add(round, "baseline", &bench.LoadResult{Concurrency: 64, ConnPerS: 1000, ServerUSPerConn: 500, P50MS: 1}, 300)
	}
	if got := bench.Median(s.ratios(64, cpu)); got != 0.66 {
		t.Errorf("median CPU ratio = %v, want 0.66", got)
	}
	if got := bench.Median(s.series(64, "ja3echo", s.overCeiling)); got != 1.1 {
		t.Errorf("median × ceiling = %v, want 1.1", got)
	}
	var out bytes.Buffer
	s.print(&out)
	for _, want := range []string{
		"server CPU/conn 0.66 × baseline (≤ 0.80: met), 1.10 × ceiling (≤ 1.15: met)",
		"conn/s 1.10 × baseline (≥ 1.05: met)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}
