package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// MemStats is the part of a server's runtime.MemStats that allocation
// figures need, as published by expvar on /debug/vars.
type MemStats struct {
	Mallocs    uint64
	TotalAlloc uint64
	NumGC      uint32
}

// ReadVars fetches the memstats of an expvar /debug/vars URL on 127.0.0.x:
// ja3echo's --pprof-addr or the baseline's -debug-addr.
func ReadVars(rawURL string) (MemStats, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return MemStats{}, err
	}
	if err := CheckTarget(u.Host); err != nil {
		return MemStats{}, err
	}
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u.String())
	if err != nil {
		return MemStats{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return MemStats{}, fmt.Errorf("bench: %s: %s", rawURL, resp.Status)
	}
	var v struct{ Memstats MemStats }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return MemStats{}, fmt.Errorf("bench: %s: %w", rawURL, err)
	}
	return v.Memstats, nil
}
