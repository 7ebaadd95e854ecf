package main

import "testing"

// TestParseUA pins what the JSON's browser and os objects say for the
// clients people point at a fingerprint echo. Every expected value is
// written by hand from the UA string.
func TestParseUA(t *testing.T) {
	tests := []struct {
		ua               string
		browser, version string
		os, osVersion    string
	}{
		// Tools: the leading product token.
		{ua: "curl/7.88.1", browser: "curl", version: "7.88.1"},
		{ua: "curl/8.11.1-DEV", browser: "curl", version: "8.11.1-DEV"},
		{ua: "Wget/1.21.3", browser: "wget", version: "1.21.3"},
		{ua: "Go-http-client/1.1", browser: "Go-http-client", version: "1.1"},
		{ua: "Go-http-client/2.0", browser: "Go-http-client", version: "2.0"},
		{ua: "python-requests/2.31.0", browser: "python-requests", version: "2.31.0"},
		{ua: "Python-urllib/3.11", browser: "python-urllib", version: "3.11"},
		{ua: "python-httpx/0.27.0", browser: "python-httpx", version: "0.27.0"},
		{ua: "Python/3.11 aiohttp/3.9.1", browser: "", version: ""}, // Python is no tool token; aiohttp is not leading
		{ua: "node", browser: "node", version: ""},                  // Node's fetch (undici) sends just "node"
		{ua: "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", browser: "node-fetch", version: "1.0"},
		{ua: "axios/1.6.2", browser: "axios", version: "1.6.2"},
		{ua: "okhttp/4.12.0", browser: "okhttp", version: "4.12.0"},
		{ua: "Java-http-client/17.0.15", browser: "Java", version: "17.0.15"},
		{ua: "Java/1.8.0_392", browser: "Java", version: "1.8.0_392"},
		{ua: "Apache-HttpClient/4.5.14 (Java/17.0.9)", browser: "Apache-HttpClient", version: "4.5.14"},
		{ua: "HTTPie/3.2.2", browser: "HTTPie", version: "3.2.2"},
		{ua: "libwww-perl/6.72", browser: "libwww-perl", version: "6.72"},
		// PowerShell hides behind Mozilla/5.0 and names its OS.
		{ua: "Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.19045; en-US) PowerShell/7.4.0",
			browser: "PowerShell", version: "7.4.0", os: "Windows", osVersion: "10"},
		{ua: "Mozilla/5.0 (Windows NT 10.0; Microsoft Windows 10.0.22631; en-US) WindowsPowerShell/5.1.22621.2506",
			browser: "PowerShell", version: "5.1.22621.2506", os: "Windows", osVersion: "10"},

		// Browsers (uasurfer), current real UA strings.
		{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
			browser: "Chrome", version: "120", os: "Windows", osVersion: "10"},
		{ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			browser: "Chrome", version: "131", os: "Linux"},
		{ua: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
			browser: "Chrome", version: "120.0.6099", os: "Android", osVersion: "14"},
		{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
			browser: "Firefox", version: "121", os: "Windows", osVersion: "10"},
		{ua: "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
			browser: "Firefox", version: "133", os: "Linux"},
		{ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2.1 Safari/605.1.15",
			browser: "Safari", version: "17.2.1", os: "macOS", osVersion: "10.15.7"},
		{ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
			browser: "Safari", version: "17.2", os: "iOS", osVersion: "17.2"},
		{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
			browser: "Edge", version: "120.0.2210", os: "Windows", osVersion: "10"},
		{ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.2210.115",
			browser: "Edge", version: "120.0.2210", os: "Android", osVersion: "10"},
		{ua: "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1; Trident/6.0)",
			browser: "Internet Explorer", version: "10", os: "Windows", osVersion: "6.1"},

		{ua: "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
			browser: "Samsung Internet", version: "", os: "Android", osVersion: "14"}, // uasurfer reads no version from SamsungBrowser/
		{ua: "Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
			browser: "Android Browser", version: "4", os: "Android", osVersion: "4.0.3"},

		// Nothing to recognise.
		{ua: ""},
		{ua: "ja3echo-test/1.0"},
		{ua: "\xff\xfe\x00garbage"},
		{ua: "Mozilla/5.0 curl/8.0.0"}, // a tool token that does not lead is not the client
	}
	for _, tc := range tests {
		b, o := parseUA(tc.ua)
		if b.Name != tc.browser || b.Version != tc.version {
			t.Errorf("parseUA(%q) browser = %q %q, want %q %q", tc.ua, b.Name, b.Version, tc.browser, tc.version)
		}
		if o.Name != tc.os || o.Version != tc.osVersion {
			t.Errorf("parseUA(%q) os = %q %q, want %q %q", tc.ua, o.Name, o.Version, tc.os, tc.osVersion)
		}
	}
}

// TestParseUALong checks that a huge UA is cut before the parsers, and a
// tool token at its start is still found.
func TestParseUALong(t *testing.T) {
	long := "curl/8.5.0 " + string(make([]byte, 1<<20))
	if b, _ := parseUA(long); b.Name != "curl" || b.Version != "8.5.0" {
		t.Errorf("parseUA(1 MiB UA) = %+v, want curl 8.5.0", b)
	}
}
