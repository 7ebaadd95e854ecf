package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ja3sentry/ja3echo/bench"
)

// summary collects the runs of one invocation and prints the table.
type summary struct {
	o        *options
	meta     bench.Meta
	kex      map[string]bench.KeyExchange // each server's negotiated key exchange; o.kex if absent
	ceilings []bench.CeilingResult        // every measurement, in order
	ceilRun  map[runKey]float64           // server µs of its kex's ceiling around each run
	runs     map[runKey]*bench.LoadResult // one per (round, c, server)
	names    []string                     // servers, table order
}

type runKey struct {
	round, c int
	server   string
}

func newSummary(o *options, meta bench.Meta, kex map[string]bench.KeyExchange) *summary {
	return &summary{o: o, meta: meta, kex: kex, ceilRun: map[runKey]float64{},
		runs: map[runKey]*bench.LoadResult{}, names: []string{"ja3echo", "baseline"}}
}

// kexOf is the key exchange server negotiates, whose ceiling it is held to.
func (s *summary) kexOf(server string) bench.KeyExchange {
	if k, ok := s.kex[server]; ok {
		return k
	}
	return s.o.kex
}

// add records a run and the mean server µs of the ceilings of its server's
// key exchange measured right before and right after it.
func (s *summary) add(round int, server string, r *bench.LoadResult, before, after []bench.CeilingResult) error {
	kex := s.kexOf(server).Name
	b, okB := findCeiling(before, kex)
	a, okA := findCeiling(after, kex)
	if !okB || !okA {
		return fmt.Errorf("no %s ceiling measured around %s's run", kex, server)
	}
	k := runKey{round, r.Concurrency, server}
	s.runs[k], s.ceilRun[k] = r, (b.ServerUS+a.ServerUS)/2
	return nil
}

// series returns f of every round's run of (c, server), skipping rounds
// without one.
func (s *summary) series(c int, server string, f func(r *bench.LoadResult, k runKey) float64) []float64 {
	var v []float64
	for round := 1; round <= s.o.rounds; round++ {
		k := runKey{round, c, server}
		if r := s.runs[k]; r != nil {
			v = append(v, f(r, k))
		}
	}
	return v
}

// ratios returns f(ja3echo) / f(baseline) round by round.
func (s *summary) ratios(c int, f func(r *bench.LoadResult) float64) []float64 {
	var v []float64
	for round := 1; round <= s.o.rounds; round++ {
		a, b := s.runs[runKey{round, c, "ja3echo"}], s.runs[runKey{round, c, "baseline"}]
		if a != nil && b != nil && f(b) > 0 {
			v = append(v, f(a)/f(b))
		}
	}
	return v
}

func (s *summary) overCeiling(r *bench.LoadResult, k runKey) float64 {
	return r.ServerUSPerConn / s.ceilRun[k]
}

func cps(r *bench.LoadResult) float64 { return r.ConnPerS }
func cpu(r *bench.LoadResult) float64 { return r.ServerUSPerConn }
func p50(r *bench.LoadResult) float64 { return r.P50MS }
func byRound(f func(*bench.LoadResult) float64) func(*bench.LoadResult, runKey) float64 {
	return func(r *bench.LoadResult, _ runKey) float64 { return f(r) }
}

// spread is "lo–hi" of v, the round-to-round range behind a median.
func spread(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f–%.2f", slices.Min(v), slices.Max(v))
}

func (s *summary) print(w io.Writer) {
	o := s.o
	baseline := "net/http baseline"
	if o.baselineJA3 {
		baseline += " with -ja3"
	}
	fmt.Fprintf(w, "ja3echo vs %s: %s certificate, client offers %s (TLS max %s), GET %s, sources %s\n",
		baseline, bench.KeyName(o.key), o.kex.Name, versionName(o.kex.MaxVersion), o.path, o.sources)
	fmt.Fprintf(w, "%d rounds × %v per server and concurrency, order A B / B A alternating; %s, kernel %s, %d CPUs, %s (run %s)\n",
		o.rounds, o.round, s.meta.Go, s.meta.Kernel, s.meta.NProc, s.meta.Time, s.meta.RunID)
	if b, ok := s.meta.Binaries["ja3echo"]; ok {
		rev := b.Revision
		if rev == "" {
			rev = "unknown"
		} else if b.Modified == "true" {
			rev += " + uncommitted changes"
		}
		fmt.Fprintf(w, "ja3echo binary sha256 %.16s, built %s from revision %s\n", b.SHA256, b.Built, rev)
	}
	fmt.Fprintf(w, "crypto ceiling (server half of one full handshake, median of %d handshakes; measured before and after every run for each key exchange negotiated): %s\n",
		o.ceilingN, s.ceilingMedians())
	fmt.Fprintf(w, "medians over rounds; ÷base and ×ceil are medians of per-round ratios, [range], ×ceil to the ceiling of the server's own kex (last column); srv%%/lg%% = server/loadgen CPU as %% of all %d cores, oth%% = other processes + steal; allocs and KiB: server heap allocations per connection (expvar)\n\n", s.meta.NProc)

	fmt.Fprintf(w, "%5s  %-8s  %7s  %-17s  %7s  %7s  %7s  %-17s  %-17s  %4s  %4s  %4s  %4s  %6s  %5s  %6s  %s\n",
		"c", "server", "conn/s", "÷base", "p50 ms", "p99 ms", "µs/conn", "÷base", "×ceil", "srv%", "lg%", "sum", "oth%", "allocs", "KiB", "errors", "full/resumed kex")
	for _, c := range o.conc {
		for i, name := range s.names {
			cs := s.series(c, name, byRound(cps))
			if len(cs) == 0 {
				continue
			}
			cpus := s.series(c, name, byRound(cpu))
			srv := s.series(c, name, byRound(func(r *bench.LoadResult) float64 { return 100 * r.ServerShare }))
			lg := s.series(c, name, byRound(func(r *bench.LoadResult) float64 { return 100 * r.ClientShare }))
			sumShare := s.series(c, name, byRound(func(r *bench.LoadResult) float64 { return 100 * (r.ServerShare + r.ClientShare) }))
			other := s.series(c, name, byRound(func(r *bench.LoadResult) float64 { return 100 * (r.OtherShare + r.StealShare) }))
			errs, full, resumed, kexes := s.counts(c, name)
			cpsRatio, cpuRatio := "", ""
			if name == "ja3echo" {
				cr, ur := s.ratios(c, cps), s.ratios(c, cpu)
				cpsRatio = fmt.Sprintf("%.2f [%s]", bench.Median(cr), spread(cr))
				cpuRatio = fmt.Sprintf("%.2f [%s]", bench.Median(ur), spread(ur))
			}
			xc := s.series(c, name, s.overCeiling)
			label := ""
			if i == 0 {
				label = fmt.Sprint(c)
			}
			allocs := s.series(c, name, byRound(func(r *bench.LoadResult) float64 { return r.ServerMallocs }))
			kib := s.series(c, name, byRound(func(r *bench.LoadResult) float64 { return r.ServerAllocB / 1024 }))
			fmt.Fprintf(w, "%5s  %-8s  %7.0f  %-17s  %7.2f  %7.2f  %7.0f  %-17s  %-17s  %4.0f  %4.0f  %4.0f  %4.0f  %6.0f  %5.1f  %6d  %d/%d %s%s\n",
				label, name, bench.Median(cs), cpsRatio,
				bench.Median(s.series(c, name, byRound(p50))),
				bench.Median(s.series(c, name, byRound(func(r *bench.LoadResult) float64 { return r.P99MS }))),
				bench.Median(cpus), cpuRatio, fmt.Sprintf("%.2f [%s]", bench.Median(xc), spread(xc)),
				bench.Median(srv), bench.Median(lg), bench.Median(sumShare), bench.Median(other), bench.Median(allocs), bench.Median(kib), errs, full, resumed, s.kexOf(name).Name, kexes)
		}
	}
	fmt.Fprintln(w)
	s.targets(w)
}

// counts adds up errors and handshakes over the rounds, and names any key
// exchange other than the server's own, whose ceiling it is held to.
func (s *summary) counts(c int, name string) (errs, full, resumed int, other string) {
	var odd []string
	for round := 1; round <= s.o.rounds; round++ {
		r := s.runs[runKey{round, c, name}]
		if r == nil {
			continue
		}
		errs, full, resumed = errs+r.Errors, full+r.Full, resumed+r.Resumed
		for k, n := range r.Negotiated {
			if k != s.kexOf(name).Name {
				odd = append(odd, fmt.Sprintf("%s=%d", k, n))
			}
		}
	}
	if len(odd) > 0 {
		other = "  (also negotiated: " + strings.Join(odd, " ") + ")"
	}
	return errs, full, resumed, other
}

// targets prints the goals of issue 5, each met or missed with its number.
func (s *summary) targets(w io.Writer) {
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	fmt.Fprintln(w, "targets (issue 5):")
	for _, c := range s.o.conc {
		ur, cr := bench.Median(s.ratios(c, cpu)), bench.Median(s.ratios(c, cps))
		xc := bench.Median(s.series(c, "ja3echo", s.overCeiling))
		if c > 1 {
			fmt.Fprintf(w, "  c=%-3d server CPU/conn %.2f × baseline (≤ 0.80: %s), %.2f × %s ceiling (≤ 1.15: %s)\n",
				c, ur, verdict(ur <= 0.80), xc, s.kexOf("ja3echo").Name, verdict(xc <= 1.15))
		}
		fmt.Fprintf(w, "  c=%-3d conn/s %.2f × baseline (≥ 1.05: %s)\n", c, cr, verdict(cr >= 1.05))
		if c == 1 {
			// Interleaving cancels the host's drift, so the per-round ratio
			// is the measure: a regression is a median over 1.05 (the
			// slower-rounds count says whether it is consistent).
			pr := s.ratios(c, p50)
			slower := 0
			for _, v := range pr {
				if v > 1 {
					slower++
				}
			}
			fmt.Fprintf(w, "  c=1   p50 %.2f × baseline [%s], ja3echo slower in %d/%d rounds (no regression, ≤ 1.05: %s)\n",
				bench.Median(pr), spread(pr), slower, len(pr), verdict(bench.Median(pr) <= 1.05))
		}
	}
	errs, full, resumed := 0, 0, 0
	for _, c := range s.o.conc {
		e, f, r, _ := s.counts(c, "ja3echo")
		errs, full, resumed = errs+e, full+f, resumed+r
	}
	fmt.Fprintf(w, "  ja3echo errors %d (zero: %s), handshakes full %d resumed %d (all full: %s)\n",
		errs, verdict(errs == 0), full, resumed, verdict(resumed == 0 && full > 0))
}

// ceilingMedians is the median ceiling of each key exchange measured, the
// servers' own first (in table order), with its range and client half.
func (s *summary) ceilingMedians() string {
	names := make([]string, 0, len(s.names)+len(s.ceilings))
	for _, n := range s.names {
		names = append(names, s.kexOf(n).Name)
	}
	for _, c := range s.ceilings {
		names = append(names, c.Kex)
	}
	var parts []string
	for _, kex := range kexOrder(names...) {
		var srv, cli []float64
		for _, c := range s.ceilings {
			if c.Kex == kex {
				srv, cli = append(srv, c.ServerUS), append(cli, c.ClientUS)
			}
		}
		if len(srv) > 0 {
			parts = append(parts, fmt.Sprintf("%s median %.0f µs (%d measurements, range %s), client half %.0f µs",
				kex, bench.Median(srv), len(srv), spread(srv), bench.Median(cli)))
		}
	}
	if len(parts) == 0 {
		return "none measured"
	}
	return strings.Join(parts, "; ")
}

func versionName(v uint16) string {
	if v == 0 {
		return "default"
	}
	return strings.TrimPrefix(tls.VersionName(v), "TLS ")
}
