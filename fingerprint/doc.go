// Package fingerprint frames, parses and fingerprints TLS ClientHello messages.
//
// It works on the bytes a client sends at the start of a TCP connection: TLS
// records of content type 22 carrying one handshake message of type 1. The
// message may be split across any number of records and reads; [Frame] tells a
// reader when enough has arrived, [Parse] reassembles and decodes it strictly
// (in the style of crypto/tls's clientHelloMsg.unmarshal, with
// golang.org/x/crypto/cryptobyte), and the ClientHello methods render the
// fingerprints: JA3 and JA3N (salesforce JA3 with the extension list sorted).
//
// Parsing never panics on any input: a malformed hello is an error wrapping one
// of the sentinel errors below, so callers classify with errors.Is.
package fingerprint
