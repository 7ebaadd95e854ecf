package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ja3sentry/ja3echo/bench"
)

// TestSummaryRatios checks the arithmetic behind the table: ratios are taken
// round by round, then their median is reported.
func TestSummaryRatios(t *testing.T) {
	o := &options{rounds: 3, conc: []int{64}, kex: bench.KexMLKEM, key: bench.KeyECDSA}
	s := newSummary(o, bench.Meta{NProc: 2}, nil)
	ceil := []bench.CeilingResult{{Kex: bench.KexMLKEM.Name, ServerUS: 300}}
	// ja3echo µs/conn 300, 330, 400 against a baseline at 500 every round:
	// per-round ratios 0.60, 0.66, 0.80, median 0.66.
	for i, jus := range []float64{300, 330, 400} {
		round := i + 1
		mustAdd(t, s, round, "ja3echo", &bench.LoadResult{Concurrency: 64, ConnPerS: 1100, ServerUSPerConn: jus, P50MS: 1}, ceil, ceil)
		mustAdd(t, s, round, "baseline", &bench.LoadResult{Concurrency: 64, ConnPerS: 1000, ServerUSPerConn: 500, P50MS: 1}, ceil, ceil)
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
		"server CPU/conn 0.66 × baseline (≤ 0.80: met), 1.10 × X25519MLKEM768 ceiling (≤ 1.15: met)",
		"conn/s 1.10 × baseline (≥ 1.05: met)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func mustAdd(t *testing.T, s *summary, round int, server string, r *bench.LoadResult, before, after []bench.CeilingResult) {
	t.Helper()
	if err := s.add(round, server, r, before, after); err != nil {
		t.Fatal(err)
	}
}

// TestSummaryOwnKexCeiling runs ja3echo on X25519 (as with --kex classical)
// and the baseline on X25519MLKEM768, with both ceilings measured around
// every run: each server's ×ceil must divide by its own key exchange's mean.
func TestSummaryOwnKexCeiling(t *testing.T) {
	o := &options{rounds: 3, conc: []int{64}, kex: bench.KexMLKEM, key: bench.KeyECDSA, ceilingN: 100}
	s := newSummary(o, bench.Meta{NProc: 2}, map[string]bench.KeyExchange{
		"ja3echo": bench.KexX25519, "baseline": bench.KexMLKEM,
	})
	// Around every run: X25519 300 then 340 µs (mean 320), X25519MLKEM768
	// 400 then 440 µs (mean 420).
	before := []bench.CeilingResult{
		{Kex: "X25519", ServerUS: 300, ClientUS: 100},
		{Kex: "X25519MLKEM768", ServerUS: 400, ClientUS: 200},
	}
	after := []bench.CeilingResult{
		{Kex: "X25519", ServerUS: 340, ClientUS: 100},
		{Kex: "X25519MLKEM768", ServerUS: 440, ClientUS: 200},
	}
	// ja3echo 352, 320, 384 µs/conn: 1.10, 1.00, 1.20 × 320 (against the
	// MLKEM ceiling it would be 0.84, 0.76, 0.91). Baseline 504 µs/conn:
	// 1.20 × 420 every round.
	for i, jus := range []float64{352, 320, 384} {
		round := i + 1
		s.ceilings = append(s.ceilings, before...)
		s.ceilings = append(s.ceilings, after...)
		mustAdd(t, s, round, "ja3echo", &bench.LoadResult{Concurrency: 64, ConnPerS: 1100, ServerUSPerConn: jus, P50MS: 1,
			Full: 100, Negotiated: map[string]int{"X25519": 100}}, before, after)
		mustAdd(t, s, round, "baseline", &bench.LoadResult{Concurrency: 64, ConnPerS: 1000, ServerUSPerConn: 504, P50MS: 1,
			Full: 100, Negotiated: map[string]int{"X25519MLKEM768": 100}}, before, after)
	}
	if got := bench.Median(s.series(64, "ja3echo", s.overCeiling)); got != 1.1 {
		t.Errorf("ja3echo median × ceiling = %v, want 1.1 (÷ X25519's 320 µs)", got)
	}
	if got := bench.Median(s.series(64, "baseline", s.overCeiling)); got != 1.2 {
		t.Errorf("baseline median × ceiling = %v, want 1.2 (÷ X25519MLKEM768's 420 µs)", got)
	}
	var out bytes.Buffer
	s.print(&out)
	table := out.String()
	for _, want := range []string{
		"X25519 median 320 µs (6 measurements, range 300.00–340.00), client half 100 µs; " +
			"X25519MLKEM768 median 420 µs (6 measurements, range 400.00–440.00), client half 200 µs",
		"1.10 [1.00–1.20]",
		"1.20 [1.20–1.20]",
		"300/0 X25519\n",
		"300/0 X25519MLKEM768\n",
		"1.10 × X25519 ceiling (≤ 1.15: met)",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "also negotiated") {
		t.Errorf("each server negotiated only its own key exchange, yet:\n%s", table)
	}
}

// TestCountsOwnKex flags only the key exchanges other than the server's own.
func TestCountsOwnKex(t *testing.T) {
	o := &options{rounds: 1, conc: []int{8}, kex: bench.KexMLKEM}
	s := newSummary(o, bench.Meta{}, map[string]bench.KeyExchange{"ja3echo": bench.KexX25519})
	c := []bench.CeilingResult{{Kex: "X25519", ServerUS: 1}, {Kex: "X25519MLKEM768", ServerUS: 1}}
	mustAdd(t, s, 1, "ja3echo", &bench.LoadResult{Concurrency: 8, Errors: 1, Full: 100,
		Negotiated: map[string]int{"X25519": 95, "X25519MLKEM768": 5}}, c, c)
	errs, full, resumed, other := s.counts(8, "ja3echo")
	if errs != 1 || full != 100 || resumed != 0 {
		t.Errorf("counts = %d errors, %d full, %d resumed; want 1, 100, 0", errs, full, resumed)
	}
	if want := "  (also negotiated: X25519MLKEM768=5)"; other != want {
		t.Errorf("other = %q, want %q", other, want)
	}
}

// TestAddMissingCeiling: a run whose key exchange has no ceiling around it
// is an error, not a division by zero.
func TestAddMissingCeiling(t *testing.T) {
	o := &options{rounds: 1, conc: []int{8}, kex: bench.KexMLKEM}
	s := newSummary(o, bench.Meta{}, map[string]bench.KeyExchange{"ja3echo": bench.KexX25519})
	c := []bench.CeilingResult{{Kex: "X25519MLKEM768", ServerUS: 400}}
	if err := s.add(1, "ja3echo", &bench.LoadResult{Concurrency: 8}, c, c); err == nil {
		t.Error("add with only an X25519MLKEM768 ceiling for an X25519 server: no error")
	}
}

func TestServerKex(t *testing.T) {
	tls12Default, err := bench.ClientKex("1.2", "default")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		client     bench.KeyExchange
		negotiated map[string]int
		want       bench.KeyExchange
		err        error
	}{
		{"client's own", bench.KexMLKEM, map[string]int{"X25519MLKEM768": 40}, bench.KexMLKEM, nil},
		{"classical server", bench.KexMLKEM, map[string]int{"X25519": 40}, bench.KexX25519, nil},
		{"majority", bench.KexMLKEM, map[string]int{"X25519MLKEM768": 3, "X25519": 37}, bench.KexX25519, nil},
		{"majority of the client's", bench.KexMLKEM, map[string]int{"X25519MLKEM768": 37, "X25519": 3}, bench.KexMLKEM, nil},
		{"tie broken by name", bench.KexMLKEM, map[string]int{"X25519MLKEM768": 5, "X25519": 5}, bench.KexX25519, nil},
		// The client's entry is kept as is (Curves nil here, Go's default
		// groups over TLS 1.2), as the ceiling was measured before.
		{"TLS 1.2 client", tls12Default, map[string]int{"TLS1.2 X25519": 9}, tls12Default, nil},
		{"TLS 1.2 from the list", bench.KexMLKEM, map[string]int{"TLS1.2 X25519": 9}, bench.KexTLS12, nil},
		{"unknown", bench.KexMLKEM, map[string]int{"P-256": 40, "X25519": 1}, bench.KeyExchange{}, errUnknownKex},
		{"nothing", bench.KexMLKEM, map[string]int{}, bench.KeyExchange{}, errNoneNegotiated},
		{"nil", bench.KexMLKEM, nil, bench.KeyExchange{}, errNoneNegotiated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := serverKex(tc.client, tc.negotiated)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got.Name != tc.want.Name || got.MaxVersion != tc.want.MaxVersion || len(got.Curves) != len(tc.want.Curves) {
				t.Errorf("kex = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDistinctKexes(t *testing.T) {
	same := distinctKexes([]server{{name: "ja3echo", kex: bench.KexMLKEM}, {name: "baseline", kex: bench.KexMLKEM}})
	if len(same) != 1 || same[0].Name != "X25519MLKEM768" {
		t.Errorf("same kex: %+v, want one X25519MLKEM768", same)
	}
	two := distinctKexes([]server{{name: "ja3echo", kex: bench.KexX25519}, {name: "baseline", kex: bench.KexMLKEM}})
	if len(two) != 2 || two[0].Name != "X25519" || two[1].Name != "X25519MLKEM768" {
		t.Errorf("two kexes: %+v, want X25519 then X25519MLKEM768", two)
	}
}
