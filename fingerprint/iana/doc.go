// Package iana names the TLS code points a ClientHello carries: cipher
// suites, extension types, supported groups, signature schemes, protocol
// versions, PSK key exchange modes, certificate compression algorithms, EC
// point formats and the HPKE KDF/AEAD identifiers used by ECH.
//
// Every lookup returns "" for a value it does not know, so that callers can
// tell "unassigned" from a name and decide how to show it; none of them
// allocates. GREASE values (RFC 8701) are not named here: they are a property
// of the value, not a registry entry, and the fingerprint package marks them.
//
// Sources. The cipher suite table holds every entry of the IANA "TLS Cipher
// Suites" registry as of March 2023, converted from the BSD-3-Clause
// godicttls tables vendored in github.com/refraction-networking/utls v1.8.2
// (dicttls/cipher_suites.go, itself fetched from iana.org); it was converted
// once with a throwaway script and is kept as plain data. The smaller tables
// were written by hand from the IANA registries (tls-parameters,
// tls-extensiontype-values, tls-signaturescheme, hpke) plus code points that
// browsers use before or without IANA assignment (ALPS, Kyber and ML-KEM
// hybrids, NPN, Channel ID, ESNI, the draft QUIC transport parameters); each
// such entry says where it comes from. Names follow the registries' spelling
// (e.g. "x25519", "secp256r1", "X25519MLKEM768", "rsa_pss_rsae_sha256").
package iana
