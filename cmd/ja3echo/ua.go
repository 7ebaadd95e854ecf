package main

import (
	"strconv"
	"strings"

	"github.com/avct/uasurfer"
)

// nameVersion is a browser or OS as shown in the JSON output.
type nameVersion struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// maxUALen caps what reaches the UA parsers; tlsconn already caps headers.
const maxUALen = 1024

// tools are the non-browser clients people point at a fingerprint echo,
// matched by their product token (before the '/'), case-insensitively.
// uasurfer knows browsers only.
var tools = []struct{ token, name string }{
	{"curl", "curl"},
	{"wget", "wget"},
	{"go-http-client", "Go-http-client"},
	{"python-requests", "python-requests"},
	{"python-urllib", "python-urllib"},
	{"python-httpx", "python-httpx"},
	{"aiohttp", "aiohttp"},
	{"windowspowershell", "PowerShell"},
	{"powershell", "PowerShell"},
	{"node", "node"},
	{"node-fetch", "node-fetch"},
	{"undici", "undici"},
	{"axios", "axios"},
	{"okhttp", "okhttp"},
	{"java", "Java"},
	{"java-http-client", "Java"},
	{"apache-httpclient", "Apache-HttpClient"},
	{"libwww-perl", "libwww-perl"},
	{"ruby", "Ruby"},
	{"httpie", "HTTPie"},
	{"openssl", "openssl"},
}

// parseUA names the client behind a User-Agent: a known tool by its product
// token, else a browser from uasurfer; the OS comes from uasurfer in both
// cases (PowerShell names Windows). Unknown parts stay empty.
func parseUA(ua string) (browser, os nameVersion) {
	if len(ua) > maxUALen {
		ua = ua[:maxUALen]
	}
	u := uasurfer.Parse(ua)
	if u.OS.Name != uasurfer.OSUnknown {
		os = nameVersion{
			Name:    displayName(osNames, strings.TrimPrefix(u.OS.Name.String(), "OS")),
			Version: formatVersion(u.OS.Version),
		}
	}
	if b, ok := parseTool(ua); ok {
		return b, os
	}
	if u.Browser.Name != uasurfer.BrowserUnknown {
		browser = nameVersion{
			Name:    displayName(browserNames, strings.TrimPrefix(u.Browser.Name.String(), "Browser")),
			Version: formatVersion(u.Browser.Version),
		}
		// uasurfer files Edge under IE (with Edge's version).
		if u.Browser.Name == uasurfer.BrowserIE && isEdge(ua) {
			browser.Name = "Edge"
		}
	}
	return browser, os
}

// osNames and browserNames are the usual names of what uasurfer's
// constants spell as identifiers ("MacOSX"); the others ("Windows", "iOS",
// "Chrome", "Firefox") are already right. Two maps, because "Android" is
// both an OS and, for uasurfer, a browser.
var (
	osNames = map[string]string{"MacOSX": "macOS", "WindowsPhone": "Windows Phone", "WebOS": "webOS",
		"Playstation": "PlayStation"}
	browserNames = map[string]string{"IE": "Internet Explorer", "Android": "Android Browser",
		"UCBrowser": "UC Browser", "SogouExplorer": "Sogou Explorer", "Samsung": "Samsung Internet",
		"Yandex": "Yandex Browser", "CocCoc": "Coc Coc", "QQ": "QQ Browser"}
)

// displayName is n as people write it, by names.
func displayName(names map[string]string, n string) string {
	if d, ok := names[n]; ok {
		return d
	}
	return n
}

// isEdge reports whether ua carries one of Edge's product tokens (desktop
// Chromium Edge, Android, iOS, legacy EdgeHTML).
func isEdge(ua string) bool {
	l := strings.ToLower(ua)
	for _, tok := range []string{"edg/", "edga/", "edgios/", "edge/"} {
		if strings.Contains(l, tok) {
			return true
		}
	}
	return false
}

// parseTool matches "Token/1.2.3 ..." (the product that leads the UA) and,
// for PowerShell, which hides behind a Mozilla/5.0 prefix, any product token.
func parseTool(ua string) (nameVersion, bool) {
	for i, field := range strings.Fields(ua) {
		token, ver, _ := strings.Cut(field, "/")
		lt := strings.ToLower(token)
		for _, t := range tools {
			if lt != t.token || (i > 0 && !strings.Contains(t.token, "powershell")) {
				continue
			}
			return nameVersion{Name: t.name, Version: strings.Trim(ver, "();,")}, true
		}
	}
	return nameVersion{}, false
}

func formatVersion(v uasurfer.Version) string {
	if v.Major == 0 && v.Minor == 0 && v.Patch == 0 {
		return ""
	}
	s := strconv.Itoa(v.Major)
	if v.Minor != 0 || v.Patch != 0 {
		s += "." + strconv.Itoa(v.Minor)
	}
	if v.Patch != 0 {
		s += "." + strconv.Itoa(v.Patch)
	}
	return s
}
