package bench

import (
	"math"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	v := []time.Duration{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50}, {0.9, 90}, {0.99, 100}, {1, 100}, {0.01, 10}} {
		if got := Percentile(v, tt.p); got != tt.want {
			t.Errorf("Percentile(p=%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := Percentile([]time.Duration{}, 0.5); got != 0 {
		t.Errorf("Percentile(empty) = %v, want 0", got)
	}
}

func TestMedian(t *testing.T) {
	v := []float64{3, 1, 2}
	if got := Median(v); got != 2 {
		t.Errorf("Median(3,1,2) = %v, want 2", got)
	}
	if v[0] != 3 {
		t.Error("Median reordered its argument")
	}
	if got := Median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("Median(4,1,3,2) = %v, want 2.5", got)
	}
	if got := Median(nil); !math.IsNaN(got) {
		t.Errorf("Median(nil) = %v, want NaN", got)
	}
}
