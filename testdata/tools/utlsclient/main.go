// Command utlsclient makes one HTTP/1.1 request over a uTLS connection that
// mimics a browser ClientHello ("parrot"), so testdata/tools/capture can
// record what github.com/refraction-networking/utls (the version in go.mod)
// puts on the wire for each parrot.
//
// The capture endpoint only offers http/1.1 in ALPN, so even parrots that
// offer h2 end up speaking HTTP/1.1 and this driver needs no HTTP/2 code.
package main

import (
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sort"
	"time"

	utls "github.com/refraction-networking/utls"
)

var parrots = map[string]utls.ClientHelloID{
	"chrome_auto":     utls.HelloChrome_Auto,
	"chrome_120":      utls.HelloChrome_120,
	"chrome_131":      utls.HelloChrome_131,
	"chrome_133":      utls.HelloChrome_133,
	"firefox_auto":    utls.HelloFirefox_Auto,
	"safari_auto":     utls.HelloSafari_Auto,
	"ios_auto":        utls.HelloIOS_Auto,
	"edge_auto":       utls.HelloEdge_Auto,
	"randomized":      utls.HelloRandomized,
	"randomized_alpn": utls.HelloRandomizedALPN,
}

func main() {
	addr := flag.String("addr", "", "127.0.0.1:PORT of the capture endpoint")
	sni := flag.String("sni", "localhost", "server name to send")
	hello := flag.String("hello", "chrome_auto", "parrot name (see -list)")
	seed := flag.String("seed", "", "for randomized parrots: any string; its SHA-256 seeds uTLS's PRNG so the hello shape is reproducible")
	list := flag.Bool("list", false, "print the parrot names and exit")
	flag.Parse()
	if *list {
		names := make([]string, 0, len(parrots))
		for n := range parrots {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			id := parrots[n]
			fmt.Printf("%s\t%s\n", n, id.Str())
		}
		return
	}
	if err := run(*addr, *sni, *hello, *seed); err != nil {
		log.Printf("utlsclient: %v", err)
		os.Exit(1)
	}
}

func run(addr, sni, hello, seed string) error {
	if addr == "" {
		return errors.New("-addr is required")
	}
	id, ok := parrots[hello]
	if !ok {
		return fmt.Errorf("unknown parrot %q", hello)
	}
	if seed != "" {
		s := utls.PRNGSeed(sha256.Sum256([]byte(seed)))
		id = utls.ClientHelloID{Client: id.Client, Version: id.Version, Seed: &s}
	}
	raw, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(20 * time.Second))
	// Verification is off: the endpoint's certificate is self-signed and only
	// the ClientHello matters.
	uc := utls.UClient(raw, &utls.Config{ServerName: sni, InsecureSkipVerify: true}, id) //nolint:gosec
	if err := uc.Handshake(); err != nil {
		return fmt.Errorf("handshake (%s): %w", id.Str(), err)
	}
	st := uc.ConnectionState()
	log.Printf("utlsclient: %s: version %#04x, cipher %#04x, alpn %q", id.Str(), st.Version, st.CipherSuite, st.NegotiatedProtocol)
	if _, err := fmt.Fprintf(uc, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", sni); err != nil {
		return err
	}
	b, err := io.ReadAll(uc)
	fmt.Printf("%s", b)
	return err
}
