// Package fingerprint frames, parses and fingerprints TLS ClientHello messages.
//
// It works on the bytes a client sends at the start of a TCP connection: TLS
// records of content type 22 carrying one handshake message of type 1. The
// message may be split across any number of records and reads; [Frame] tells a
// reader when enough has arrived, [Parse] reassembles and decodes it strictly
// (in the style of crypto/tls's clientHelloMsg.unmarshal, with
// golang.org/x/crypto/cryptobyte), and the ClientHello methods render the
// fingerprints:
//
//   - JA3 and JA3N (salesforce JA3, and JA3 with the extension list sorted);
//   - JA4, JA4_r, JA4_o and JA4_ro, following the text of FoxIO's JA4.md
//     where FoxIO's tools differ from it (see ja4.go);
//   - PeetPrint, the fingerprint of tls.peet.ws (grammar in peetprint.go).
//
// [ClientHello.Fingerprints] computes all of them in one pass with a single
// allocation; [ClientHello.TLS] is the decoded hello for the JSON echo, with
// names from package iana and every client-controlled list bounded.
//
// Parsing never panics on any input: a malformed hello is an error wrapping one
// of the sentinel errors below, so callers classify with errors.Is. Extension
// bodies that Parse does not need are decoded leniently by TLS: one that does
// not decode is reported on that extension only.
package fingerprint
