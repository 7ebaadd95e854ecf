package fingerprint

import "testing"

// The inputs are built by hand from what each client is published to send;
// the expected strings are those published values, and the MD5s come from
// `printf %s '<string>' | md5sum` (Chrome's equals the akamai_fingerprint_hash
// tls.peet.ws shows for Chrome).
func TestHTTP2Akamai(t *testing.T) {
	mph := []string{":method", ":path", ":authority", ":scheme"}
	tests := []struct {
		name     string
		in       HTTP2
		want     string
		wantHash string
	}{
		{
			name: "chrome",
			in: HTTP2{
				Settings:      []HTTP2Setting{{1, 65536}, {2, 0}, {4, 6291456}, {6, 262144}},
				WindowUpdate:  15663105,
				PseudoHeaders: []string{":method", ":authority", ":scheme", ":path"},
				// Chrome's HEADERS carry a priority; it is not part of the string.
				HeadersPriority: &HTTP2Priority{StreamID: 1, Exclusive: true, DependsOn: 0, Weight: 255},
			},
			want:     "1:65536;2:0;4:6291456;6:262144|15663105|0|m,a,s,p",
			wantHash: "52d84b11737d980aef856699f885ca86",
		},
		{
			name: "firefox",
			in: HTTP2{
				Settings:      []HTTP2Setting{{1, 65536}, {2, 0}, {4, 131072}, {5, 16384}},
				WindowUpdate:  12517377,
				PseudoHeaders: mph,
			},
			want:     "1:65536;2:0;4:131072;5:16384|12517377|0|m,p,a,s",
			wantHash: "6ea73faa8fc5aac76bded7bd238f6433",
		},
		{
			name: "safari-ios18",
			in: HTTP2{
				Settings:      []HTTP2Setting{{2, 0}, {4, 2097152}, {3, 100}, {5, 16384}, {9, 1}},
				WindowUpdate:  10485760,
				PseudoHeaders: []string{":method", ":scheme", ":path", ":authority"},
			},
			want:     "2:0;4:2097152;3:100;5:16384;9:1|10485760|0|m,s,p,a",
			wantHash: "90d8353e47699c4c38ecd773e9b5a089",
		},
		{
			// Firefox before 2023 built its dependency tree with PRIORITY
			// frames; the wire weights are 200, 100, 0, 0, 0, 240.
			name: "old-firefox-priority-frames",
			in: HTTP2{
				Settings:     []HTTP2Setting{{1, 65536}, {4, 131072}, {5, 16384}},
				WindowUpdate: 12517377,
				Priorities: []HTTP2Priority{
					{StreamID: 3, DependsOn: 0, Weight: 200},
					{StreamID: 5, DependsOn: 0, Weight: 100},
					{StreamID: 7, DependsOn: 0, Weight: 0},
					{StreamID: 9, DependsOn: 7, Weight: 0},
					{StreamID: 11, DependsOn: 3, Weight: 0},
					{StreamID: 13, DependsOn: 0, Weight: 240},
				},
				PseudoHeaders: mph,
			},
			want:     "1:65536;4:131072;5:16384|12517377|3:0:0:201,5:0:0:101,7:0:0:1,9:0:7:1,11:0:3:1,13:0:0:241|m,p,a,s",
			wantHash: "3d9132023bf26a71d40fe766e5c24c9d",
		},
		{
			name: "no-window-update",
			in: HTTP2{
				Settings:      []HTTP2Setting{{3, 100}, {4, 65535}},
				PseudoHeaders: []string{":method", ":scheme", ":authority", ":path"},
			},
			want:     "3:100;4:65535|00|0|m,s,a,p",
			wantHash: "2cd9ad2efa38f2cff2098cacae93eb23",
		},
		{
			name:     "empty",
			in:       HTTP2{},
			want:     "|00|0|",
			wantHash: "4420df39710ed13773d86b9de54c4cdf",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.Akamai(); got != tt.want {
				t.Errorf("Akamai() = %q, want %q", got, tt.want)
			}
			if got := tt.in.AkamaiHash(); got != tt.wantHash {
				t.Errorf("AkamaiHash() = %q, want %q", got, tt.wantHash)
			}
		})
	}
}

// Parts that the published strings above do not exercise: exclusive
// priorities, weight 255 (effective 256), unknown setting ids, :protocol.
func TestHTTP2AkamaiEdges(t *testing.T) {
	h := HTTP2{
		Settings:      []HTTP2Setting{{0x7a7a, 3814263365}, {8, 1}},
		WindowUpdate:  1,
		Priorities:    []HTTP2Priority{{StreamID: 1, Exclusive: true, DependsOn: 0, Weight: 255}, {StreamID: 3, DependsOn: 1, Weight: 15}},
		PseudoHeaders: []string{":method", ":protocol", ":scheme", ":path", ":authority"},
	}
	const want = "31354:3814263365;8:1|1|1:1:0:256,3:0:1:16|m,p,s,p,a"
	if got := h.Akamai(); got != want {
		t.Errorf("Akamai() = %q, want %q", got, want)
	}
}

func TestHTTP2SettingName(t *testing.T) {
	for id, want := range map[uint16]string{
		1: "HEADER_TABLE_SIZE", 2: "ENABLE_PUSH", 3: "MAX_CONCURRENT_STREAMS", 4: "INITIAL_WINDOW_SIZE",
		5: "MAX_FRAME_SIZE", 6: "MAX_HEADER_LIST_SIZE", 7: "", 8: "ENABLE_CONNECT_PROTOCOL",
		9: "NO_RFC7540_PRIORITIES", 0: "", 0x7a7a: "",
	} {
		if got := HTTP2SettingName(id); got != want {
			t.Errorf("HTTP2SettingName(%d) = %q, want %q", id, got, want)
		}
	}
}
