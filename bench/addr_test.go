package bench

import (
	"net/netip"
	"testing"
)

func TestParseSources(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"127.0.0.1", []string{"127.0.0.1"}},
		{"127.0.0.1-127.0.0.3", []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}},
		{"127.0.0.9, 127.0.0.4-127.0.0.5", []string{"127.0.0.9", "127.0.0.4", "127.0.0.5"}},
		{"127.0.0.255-127.0.1.0", []string{"127.0.0.255", "127.0.1.0"}},
	}
	for _, tt := range tests {
		got, err := ParseSources(tt.in)
		if err != nil {
			t.Errorf("ParseSources(%q): %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("ParseSources(%q) = %v, want %v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != netip.MustParseAddr(tt.want[i]) {
				t.Errorf("ParseSources(%q)[%d] = %v, want %s", tt.in, i, got[i], tt.want[i])
			}
		}
	}
	for _, bad := range []string{"", "10.0.0.1", "::1", "127.0.0.5-127.0.0.1", "127.0.0.1-127.1.0.0", "x"} {
		if got, err := ParseSources(bad); err == nil {
			t.Errorf("ParseSources(%q) = %v, want an error", bad, got)
		}
	}
}

func TestCheckTarget(t *testing.T) {
	if err := CheckTarget("127.0.0.1:4443"); err != nil {
		t.Errorf("CheckTarget(loopback): %v", err)
	}
	for _, bad := range []string{"192.0.2.1:443", "localhost:443", "[::1]:443", "127.0.0.1"} {
		if CheckTarget(bad) == nil {
			t.Errorf("CheckTarget(%q) accepted", bad)
		}
	}
}
