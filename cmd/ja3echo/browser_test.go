package main

// The page in a real browser: Debian's headless Chromium loads / and /json
// from an in-process server, and the test reads the DOM it dumps (after the
// page's script ran) and a screenshot. CI installs chromium (.ci/run).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"
)

const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds one Chromium run; on expiry the browser's whole
// process group is killed. A safety net, never part of an assertion.
const browserTimeout = 60 * time.Second

// screenshotEnv names a path (relative to the module root unless absolute)
// to which TestBrowserPage copies its screenshot, e.g. docs/page.png.
const screenshotEnv = "JA3ECHO_SCREENSHOT"

// runChromium runs headless Chromium once with the test's fixed flags, a
// fresh profile and args, and returns what it wrote on stdout.
func runChromium(t *testing.T, args ...string) []byte {
	t.Helper()
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--ignore-certificate-errors", "--user-data-dir=" + t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromiumPath, append(flags, args...)...)
	// Its own process group, so that a kill reaches the renderer, GPU and
	// crashpad helpers too, not only the browser process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		// Helpers that outlive the browser would keep writing into the
		// profile directory while the test removes it.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if ctx.Err() != nil {
		t.Fatalf("chromium %v did not finish within %v\nstderr:\n%s", args, browserTimeout, stderr.Bytes())
	}
	if err != nil {
		t.Fatalf("chromium %v: %v\nstderr:\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// chromiumMajor is the major version `chromium --version` reports.
func chromiumMajor(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, chromiumPath, "--version").Output()
	if err != nil {
		t.Fatalf("chromium --version: %v", err)
	}
	m := regexp.MustCompile(`Chromium (\d+)\.`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("chromium --version printed %q", out)
	}
	return string(m[1])
}

// dom is a page as Chromium serialized it.
type dom struct {
	root *html.Node
	byID map[string]*html.Node
}

func parseDOM(t *testing.T, b []byte) *dom {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parsing the dumped DOM: %v", err)
	}
	d := &dom{root: root, byID: map[string]*html.Node{}}
	for n := range root.Descendants() {
		if id := nodeAttr(n, "id"); n.Type == html.ElementNode && id != "" {
			d.byID[id] = n
		}
	}
	return d
}

func nodeAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// text is the text content of the element with id, failing if there is none.
func (d *dom) text(t *testing.T, id string) string {
	t.Helper()
	n, ok := d.byID[id]
	if !ok {
		t.Fatalf("the page has no element with id %q", id)
	}
	return nodeText(n)
}

// elements returns the elements named tag.
func (d *dom) elements(tag string) []*html.Node {
	var out []*html.Node
	for n := range d.root.Descendants() {
		if n.Type == html.ElementNode && n.Data == tag {
			out = append(out, n)
		}
	}
	return out
}

func TestBrowserPage(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is not installed (.ci/run installs the chromium package): %v", chromiumPath, err)
	}
	major := chromiumMajor(t)
	srv := startServer(t, nil)
	// An IP literal: Chromium then sends no SNI, and the self-signed
	// certificate is accepted through --ignore-certificate-errors.
	base := fmt.Sprintf("https://127.0.0.1:%d", srv.port)

	page := parseDOM(t, runChromium(t, "--dump-dom", base+"/"))
	jsonDOM := parseDOM(t, runChromium(t, "--dump-dom", base+"/json"))

	t.Run("browser name and version", func(t *testing.T) {
		// uasurfer names Chromium's User-Agent "Chrome".
		if got := page.text(t, "browser-name"); got != "Chrome" {
			t.Errorf("browser name = %q, want Chrome (heading %q)", got, page.text(t, "browser"))
		}
		if got := page.text(t, "browser-version"); got != major && !strings.HasPrefix(got, major+".") {
			t.Errorf("browser version = %q, want Chromium's major version %s", got, major)
		}
		if h := page.text(t, "browser"); !strings.Contains(h, "Chrome "+major) {
			t.Errorf("heading = %q, want it to show Chrome %s", h, major)
		}
	})

	// Chromium shows JSON as text in a <pre>; its first <pre> is the body.
	pres := jsonDOM.elements("pre")
	if len(pres) == 0 {
		t.Fatal("no <pre> in Chromium's rendering of /json")
	}
	var j struct {
		JA3NHash string `json:"ja3n_hash"`
		JA3N     string `json:"ja3n"`
		JA4      string `json:"ja4"`
		JA4R     string `json:"ja4_r"`
		UA       string `json:"user_agent"`
		Browser  nv     `json:"browser"`
	}
	if err := json.Unmarshal([]byte(nodeText(pres[0])), &j); err != nil {
		t.Fatalf("/json in Chromium is not the JSON document: %v\n%s", err, nodeText(pres[0]))
	}

	t.Run("fingerprints equal /json", func(t *testing.T) {
		// JA3 and JA4_o keep the extensions in wire order, which Chromium
		// permutes on every connection; JA3N and JA4 sort them.
		for _, c := range []struct{ id, json string }{
			{"ja3n-hash", j.JA3NHash}, {"ja3n", j.JA3N}, {"ja4", j.JA4}, {"ja4-r", j.JA4R},
		} {
			if got := page.text(t, c.id); got == "" || got != c.json {
				t.Errorf("#%s = %q on the page, /json has %q", c.id, got, c.json)
			}
		}
		if j.Browser.Name != "Chrome" || !strings.Contains(j.UA, "Chrome/"+major+".") {
			t.Errorf("/json: browser %+v, user_agent %q; want Chrome %s", j.Browser, j.UA, major)
		}
	})

	t.Run("copy buttons added by the inline script", func(t *testing.T) {
		// The buttons exist only if Chromium ran the script, which the CSP
		// allows by hash alone: this is the real-browser check of that hash.
		var fps, copies []string
		for n := range page.root.Descendants() {
			if n.Type != html.ElementNode {
				continue
			}
			if nodeAttr(n, "data-fp") != "" {
				fps = append(fps, nodeAttr(n, "id"))
			}
			if n.Data == "button" && nodeAttr(n, "data-copy") != "" {
				copies = append(copies, nodeAttr(n, "data-copy"))
			}
		}
		sort.Strings(fps)
		sort.Strings(copies)
		if len(fps) < 4 || strings.Join(fps, " ") != strings.Join(copies, " ") {
			t.Errorf("copy buttons for %v, fingerprint elements %v", copies, fps)
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		// Kept with `go test -artifacts` (under -outputdir), removed otherwise.
		shot := filepath.Join(t.ArtifactDir(), "page.png")
		runChromium(t, "--screenshot="+shot, "--window-size=1200,2400", base+"/")
		t.Logf("screenshot: %s", shot)
		img := decodePNG(t, shot)
		if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 2400 {
			t.Errorf("screenshot is %v, want 1200x2400", b.Size())
		}
		// Without the stylesheet (a CSP hash mismatch) the page would be
		// black on white; the page's CSS paints the background grey in
		// light mode and near-black in dark mode, never pure white.
		if r, g, b, _ := img.At(2, 2).RGBA(); r == 0xffff && g == 0xffff && b == 0xffff {
			t.Errorf("the page background is white: the inline stylesheet was not applied")
		}
		if dst := os.Getenv(screenshotEnv); dst != "" {
			copyScreenshot(t, img, dst)
		}
	})
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the screenshot was not written: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	return img
}

// copyScreenshot writes img to dst (relative to the module root) as a
// 256-colour PNG: text on flat colours loses nothing visible, and the file
// stays small enough for the repository.
func copyScreenshot(t *testing.T, img image.Image, dst string) {
	t.Helper()
	if !filepath.IsAbs(dst) {
		root, err := moduleRoot()
		if err != nil {
			t.Fatal(err)
		}
		dst = filepath.Join(root, dst)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, quantize(img)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot copied to %s (%d bytes)", dst, b.Len())
}

func rgbaKey(c color.RGBA) uint32 {
	return uint32(c.R)<<24 | uint32(c.G)<<16 | uint32(c.B)<<8 | uint32(c.A)
}

// moduleRoot is the nearest directory above the working directory with a
// go.mod (go test runs in the package directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// quantize maps img onto its 256 most frequent colours, each pixel to the
// nearest of them. A page screenshot is flat colours plus anti-aliasing
// ramps, which the frequent colours cover well.
func quantize(img image.Image) *image.Paletted {
	b := img.Bounds()
	count := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			count[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colors := make([]color.RGBA, 0, len(count))
	for c := range count {
		colors = append(colors, c)
	}
	sort.Slice(colors, func(i, j int) bool {
		if count[colors[i]] != count[colors[j]] {
			return count[colors[i]] > count[colors[j]]
		}
		return rgbaKey(colors[i]) < rgbaKey(colors[j]) // a fixed order for ties
	})
	pal := make(color.Palette, 0, 256)
	for _, c := range colors[:min(len(colors), 256)] {
		pal = append(pal, c)
	}
	out := image.NewPaletted(b, pal)
	index := map[color.RGBA]uint8{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	return out
}
