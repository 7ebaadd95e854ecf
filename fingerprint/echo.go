package fingerprint

// The JSON shape of the "tls" echo: code points with names, and one typed
// data object per structured extension. TLS (report.go) assembles them;
// extdata.go decodes the extension bodies into them.

// CodePoint is one registry value as echoed: the number, its name ("" when
// the value is not in our tables) and whether it is a GREASE value (then the
// name is "GREASE").
type CodePoint struct {
	ID     uint16 `json:"id"`
	Name   string `json:"name"`
	GREASE bool   `json:"grease,omitempty"`
}

// ExtensionInfo is one extension as echoed, in wire order. Data holds the
// decoded body (one of the *Data types below) for the extensions we know;
// the others, and known ones whose body does not decode, show the body as
// DataHex (cut at MaxEchoHexBytes, then Truncated is set). Error says why a
// known body did not decode.
type ExtensionInfo struct {
	ID        uint16 `json:"id"`
	Name      string `json:"name"`
	GREASE    bool   `json:"grease,omitempty"`
	Length    int    `json:"length"`
	Data      any    `json:"data,omitempty"`
	DataHex   string `json:"data_hex,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
	Error     string `json:"error,omitempty"`
}

// ServerNameData is server_name (0). An empty body (how servers acknowledge
// SNI, sent by a few clients too) gives no names.
type ServerNameData struct {
	Names     []ServerName `json:"names"`
	Truncated bool         `json:"truncated,omitempty"`
}

// ServerName is one server_name entry; type 0 is host_name.
type ServerName struct {
	Type uint8  `json:"type"`
	Name string `json:"name"`
}

// ProtocolsData is ALPN (16) and ALPS (17513, 17613): protocol names as
// sent (JSON replaces bytes that are not UTF-8; raw_hex has them).
type ProtocolsData struct {
	Protocols []string `json:"protocols"`
	Truncated bool     `json:"truncated,omitempty"`
}

// GroupsData is supported_groups (10).
type GroupsData struct {
	Groups    []CodePoint `json:"groups"`
	Truncated bool        `json:"truncated,omitempty"`
}

// PointFormatsData is ec_point_formats (11).
type PointFormatsData struct {
	Formats   []CodePoint `json:"formats"`
	Truncated bool        `json:"truncated,omitempty"`
}

// SignatureAlgorithmsData is signature_algorithms (13),
// signature_algorithms_cert (50) and delegated_credentials (34).
type SignatureAlgorithmsData struct {
	Algorithms []CodePoint `json:"algorithms"`
	Truncated  bool        `json:"truncated,omitempty"`
}

// VersionsData is supported_versions (43).
type VersionsData struct {
	Versions  []CodePoint `json:"versions"`
	Truncated bool        `json:"truncated,omitempty"`
}

// PSKModesData is psk_key_exchange_modes (45). GREASE here is the 8-bit
// kind of RFC 8701 (0x0b, 0x2a, ..., 0xe4).
type PSKModesData struct {
	Modes     []CodePoint `json:"modes"`
	Truncated bool        `json:"truncated,omitempty"`
}

// KeyShareData is key_share (51): the groups offered and their key sizes;
// the keys themselves are not echoed.
type KeyShareData struct {
	Entries   []KeyShareEntry `json:"entries"`
	Truncated bool            `json:"truncated,omitempty"`
}

// KeyShareEntry is one offered key share.
type KeyShareEntry struct {
	Group     CodePoint `json:"group"`
	KeyLength int       `json:"key_length"`
}

// CompressCertificateData is compress_certificate (27).
type CompressCertificateData struct {
	Algorithms []CodePoint `json:"algorithms"`
	Truncated  bool        `json:"truncated,omitempty"`
}

// RecordSizeLimitData is record_size_limit (28).
type RecordSizeLimitData struct {
	Limit uint16 `json:"limit"`
}

// StatusRequestData is status_request (5).
type StatusRequestData struct {
	StatusType              CodePoint `json:"status_type"`
	ResponderIDListLength   int       `json:"responder_id_list_length"`
	RequestExtensionsLength int       `json:"request_extensions_length"`
}

// LengthData carries one length: the ticket of session_ticket (35), the
// zeros of padding (21), the renegotiated_connection of renegotiation_info
// (65281, 0 on an initial handshake).
type LengthData struct {
	Length int `json:"length"`
}

// PreSharedKeyData is pre_shared_key (41): how many identities and binders
// the client offers (their bytes are tickets and MACs, not echoed).
type PreSharedKeyData struct {
	Identities int `json:"identities"`
	Binders    int `json:"binders"`
}

// ECHData is encrypted_client_hello (0xfe0d). An outer hello (type 0) also
// carries the ECHOuter fields; GREASE ECH looks like a real outer one.
type ECHData struct {
	Type     uint8  `json:"type"`
	TypeName string `json:"type_name"` // "outer", "inner" or ""
	*ECHOuter
}

// ECHOuter is the body of an outer ECH extension.
type ECHOuter struct {
	KDF           CodePoint `json:"kdf"`
	AEAD          CodePoint `json:"aead"`
	ConfigID      uint8     `json:"config_id"`
	EncLength     int       `json:"enc_length"`
	PayloadLength int       `json:"payload_length"`
}

// PresenceData marks an extension whose meaning is its presence:
// extended_master_secret, early_data, encrypt_then_mac,
// signed_certificate_timestamp, post_handshake_auth (all with an empty
// body) and quic_transport_parameters (body not decoded).
type PresenceData struct{}
