#!/usr/bin/env bash
# Re-run the ClientHello captures in testdata/clienthellos/ and recompute their
# golden files. Needs root (tcpdump on lo), Debian packages curl openssl wget
# tshark tcpdump chromium, python3 and node. Everything stays on 127.0.0.1.
#
#   testdata/tools/regen.sh                 capture every client, then goldens
#   testdata/tools/regen.sh capture NAME... capture only these (then goldens for them)
#   testdata/tools/regen.sh goldens [NAME...]  recompute goldens from the kept
#                                           .hex + pcap/NAME.pcap, no new captures
#   testdata/tools/regen.sh validate        check ja4.py against the shared vectors
#   testdata/tools/regen.sh list            print the capture names
#
# Install the tools first (Debian 12):
#   apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
#       curl openssl wget tshark tcpdump chromium
#
# Per capture: testdata/tools/capture listens on 127.0.0.1:0 and writes
# NAME.hex (the raw records the client sent before our first byte); tcpdump
# records the connection on lo into pcap/NAME.pcap; after the client exits,
# tshark 4.0's built-in JA3 (tls.handshake.ja3_full / ja3) is read from the
# pcap and ja4.py writes NAME.golden.json (JA3 from tshark, JA3N = tshark's
# string with extensions sorted, JA4 family from ja4.py, which must also agree
# with tshark's JA3). The hello in the pcap is matched to NAME.hex by its random.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=testdata/clienthellos
PCAPS=$OUT/pcap
SHARED=${SHARED:-$ROOT/../shared}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT" "$PCAPS"

# name|description for the comment line|client command ($P = server port)
CURL_V="curl $(curl --version | awk 'NR==1{print $2}') ($(curl --version | grep -o 'OpenSSL/[0-9.]*' | head -1 | tr / ' '))"
OPENSSL_V="openssl s_client $(openssl version | awk '{print $2}')"
PY_V="Python $(python3 -c 'import platform;print(platform.python_version())') ssl ($(python3 -c 'import ssl;print(ssl.OPENSSL_VERSION.split()[1])' | sed 's/^/OpenSSL /'))"
NODE_V="Node.js $(node --version) https.get (OpenSSL $(node -p process.versions.openssl))"
GO_V=$(go env GOVERSION)
UTLS_V=$(go list -m -f '{{.Version}}' github.com/refraction-networking/utls)
WGET_V="GNU Wget $(wget --version | awk 'NR==1{print $3}') (GnuTLS)"
CHROMIUM_V="Chromium $(chromium --version 2>/dev/null | awk '{print $2}') headless"
# Every host name Chromium looks up fails, except the one we map to loopback:
# no connection can leave 127.0.0.1 even if a background feature wakes up.
CHROMIUM_FLAGS="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --ignore-certificate-errors"

CLIENTS=(
  "curl_default|$CURL_V, default options|curl -sS -k --resolve localhost:\$P:127.0.0.1 https://localhost:\$P/"
  "curl_tls12|$CURL_V, --tlsv1.2 --tls-max 1.2|curl -sS -k --tlsv1.2 --tls-max 1.2 --resolve localhost:\$P:127.0.0.1 https://localhost:\$P/"
  "curl_ip_nosni|$CURL_V, default options, URL with IP literal (no SNI)|curl -sS -k https://127.0.0.1:\$P/"
  "openssl_tls13|$OPENSSL_V, default (TLS 1.3), -servername localhost|printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect 127.0.0.1:\$P -servername localhost -quiet -ign_eof"
  "openssl_tls12|$OPENSSL_V -tls1_2, -servername localhost|printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -tls1_2 -connect 127.0.0.1:\$P -servername localhost -quiet -ign_eof"
  # -max_send_frag 512 also caps handshake records; the long ALPN list makes the hello span 3 records.
  "openssl_fragmented|$OPENSSL_V, -max_send_frag 512, 122-entry -alpn list, -servername localhost (hello over 3 records)|printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect 127.0.0.1:\$P -servername localhost -quiet -ign_eof -max_send_frag 512 -alpn \"h2,http/1.1,\$(seq -f 'proto-%03g' -s , 0 119)\""
  "python_ssl|$PY_V, create_default_context() + wrap_socket|python3 -c \"import socket,ssl; c=ssl.create_default_context(); c.check_hostname=False; c.verify_mode=ssl.CERT_NONE; s=c.wrap_socket(socket.create_connection(('127.0.0.1',\$P)),server_hostname='localhost'); s.sendall(b'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'); print(s.recv(65536))\""
  "node_https|$NODE_V|node -e \"require('https').get({host:'127.0.0.1',port:\$P,servername:'localhost',path:'/',rejectUnauthorized:false},r=>{r.resume();r.on('end',()=>console.log(r.statusCode))}).on('error',e=>{console.error(e);process.exit(1)})\""
  "go_default|Go $GO_V crypto/tls, net/http DefaultTransport (ALPN h2,http/1.1)|\$WORK/goclient -addr 127.0.0.1:\$P -mode http"
  "go_tls12|Go $GO_V crypto/tls, net/http DefaultTransport, MaxVersion TLS 1.2|\$WORK/goclient -addr 127.0.0.1:\$P -mode http -max12"
  "go_tls_noalpn|Go $GO_V crypto/tls, bare tls.Dial (no ALPN)|\$WORK/goclient -addr 127.0.0.1:\$P -mode tls"
  "utls_chrome_auto|uTLS $UTLS_V HelloChrome_Auto (Chrome 133) on Go $GO_V|\$WORK/utlsclient -addr 127.0.0.1:\$P -hello chrome_auto"
  "utls_chrome_120|uTLS $UTLS_V HelloChrome_120 on Go $GO_V|\$WORK/utlsclient -addr 127.0.0.1:\$P -hello chrome_120"
  "utls_chrome_131|uTLS $UTLS_V HelloChrome_131 on Go $GO_V|\$WORK/utlsclient -addr 127.0.0.1:\$P -hello chrome_131"
  "utls_firefox_auto|uTLS $UTLS_V HelloFirefox_Auto (Firefox 120) on Go $GO_V|\$WORK/utlsclient -addr 127.0.0.1:\$P -hello firefox_auto"
  "utls_safari_auto|uTLS $UTLS_V HelloSafari_Auto (Safari 16.0) on Go $GO_V|\$WORK/utlsclient -addr 127.0.0.1:\$P -hello safari_auto"
  "utls_ios_auto|uTLS $UTLS_V HelloIOS_Auto (iOS 14) on Go $GO_V|\$WORK/utlsclient -addr 127.0.0.1:\$P -hello ios_auto"
  "utls_edge_auto|uTLS $UTLS_V HelloEdge_Auto (Edge 85) on Go $GO_V|\$WORK/utlsclient -addr 127.0.0.1:\$P -hello edge_auto"
  # Seeds picked so that the handshake completes (seed "ja3echo" makes uTLS
  # itself fail with "CurvePreferences includes unsupported curve" before
  # sending anything). A seed fixes the hello's shape, not its random bytes.
  "utls_randomized|uTLS $UTLS_V HelloRandomized, PRNG seed sha256(\"ja3echo-1\") on Go $GO_V|\$WORK/utlsclient -addr 127.0.0.1:\$P -hello randomized -seed ja3echo-1"
  "utls_randomized_alpn|uTLS $UTLS_V HelloRandomizedALPN, PRNG seed sha256(\"ja3echo-5\") on Go $GO_V|\$WORK/utlsclient -addr 127.0.0.1:\$P -hello randomized_alpn -seed ja3echo-5"
  "wget|$WGET_V, --no-check-certificate|wget -4 -q -O - --no-check-certificate https://localhost:\$P/"
  "chromium_1|$CHROMIUM_V, --dump-dom https://127.0.0.1 (no SNI), run 1|timeout 90 chromium $CHROMIUM_FLAGS --host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1' --user-data-dir=\$(mktemp -d -p \$WORK) --dump-dom https://127.0.0.1:\$P/"
  "chromium_2|$CHROMIUM_V, --dump-dom https://127.0.0.1 (no SNI), run 2|timeout 90 chromium $CHROMIUM_FLAGS --host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1' --user-data-dir=\$(mktemp -d -p \$WORK) --dump-dom https://127.0.0.1:\$P/"
  "chromium_sni|$CHROMIUM_V, --dump-dom https://ja3echo.test mapped to 127.0.0.1 (SNI)|timeout 90 chromium $CHROMIUM_FLAGS --host-resolver-rules='MAP ja3echo.test 127.0.0.1, MAP * ~NOTFOUND' --user-data-dir=\$(mktemp -d -p \$WORK) --dump-dom https://ja3echo.test:\$P/"
)

build_tools() {
  go build -o "$WORK/capture" ./testdata/tools/capture
  go build -o "$WORK/goclient" ./testdata/tools/goclient
  go build -o "$WORK/utlsclient" ./testdata/tools/utlsclient
}

wait_for() { # file, tries of 0.1 s
  local i
  for ((i = 0; i < $2; i++)); do
    [ -s "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

capture_one() { # name desc cmd
  local name=$1 desc=$2 cmd=$3 P cpid tpid rc=0
  rm -f "$WORK/port" "$OUT/$name.hex"
  "$WORK/capture" -out "$OUT" -name "$name" -client "$desc" -portfile "$WORK/port" -timeout 120s 2>"$WORK/$name.capture.log" &
  cpid=$!
  wait_for "$WORK/port" 100 || { echo "$name: capture did not start" >&2; kill "$cpid"; return 1; }
  P=$(cat "$WORK/port")
  tcpdump -i lo -n -U -w "$PCAPS/$name.pcap" "tcp port $P" 2>"$WORK/$name.tcpdump.log" &
  tpid=$!
  for _ in $(seq 100); do grep -q "listening on" "$WORK/$name.tcpdump.log" && break; sleep 0.1; done
  sleep 0.5
  echo "== $name (port $P): $desc"
  P=$P WORK=$WORK bash -c "$cmd" >"$WORK/$name.client.out" 2>"$WORK/$name.client.err" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "$name: client exited $rc" >&2
    tail -5 "$WORK/$name.client.err" >&2
    kill "$cpid" 2>/dev/null || true
  fi
  wait "$cpid" || { echo "$name: capture failed:" >&2; cat "$WORK/$name.capture.log" >&2; rc=1; }
  sleep 0.5
  kill -INT "$tpid"
  wait "$tpid" || true
  return "$rc"
}

golden_one() { # name
  local name=$1 pcap=$PCAPS/$1.pcap port
  # tshark warns on stderr when run as root; keep its stderr aside.
  port=$(tshark -r "$pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.dstport -c 1 2>"$WORK/tshark.err")
  tshark -r "$pcap" -d "tcp.port==$port,tls" -Y 'tls.handshake.type==1' -T fields -E separator=/t \
    -e tcp.stream -e tls.handshake.random -e tls.handshake.ja3_full -e tls.handshake.ja3 >"$WORK/$name.tsv" 2>"$WORK/tshark.err" ||
    { cat "$WORK/tshark.err" >&2; return 1; }
  python3 testdata/tools/ja4.py golden "$OUT/$name.hex" "$WORK/$name.tsv" >"$WORK/$name.golden.json"
  mv "$WORK/$name.golden.json" "$OUT/$name.golden.json"
  echo "$name: $(python3 -c 'import json,sys; g=json.load(open(sys.argv[1])); print(g["ja3_hash"], g["ja4"])' "$OUT/$name.golden.json")"
}

names_of() { local c; for c in "${CLIENTS[@]}"; do echo "${c%%|*}"; done; }

selected() { # names... -> matching CLIENTS entries (all if none)
  local c want
  for c in "${CLIENTS[@]}"; do
    if [ $# -eq 0 ]; then echo "$c"; continue; fi
    for want in "$@"; do [ "${c%%|*}" = "$want" ] && echo "$c"; done
  done
}

cmd=${1:-all}
[ $# -gt 0 ] && shift
case $cmd in
list) names_of ;;
validate)
  python3 testdata/tools/ja4.py validate "$SHARED/testdata/ja4/foxio/expected-own-tshark.jsonl" \
    "$SHARED/testdata/ja3/s2n-tls/expected.jsonl"
  ;;
goldens)
  if [ $# -eq 0 ]; then mapfile -t names < <(names_of); set -- "${names[@]}"; fi
  for n in "$@"; do golden_one "$n"; done
  ;;
all | capture)
  build_tools
  failed=()
  done_names=()
  while IFS= read -r entry; do
    name=${entry%%|*}
    rest=${entry#*|}
    desc=${rest%%|*}
    ccmd=${rest#*|}
    if capture_one "$name" "$desc" "$ccmd"; then done_names+=("$name"); else failed+=("$name"); fi
  done < <(selected "$@")
  for n in "${done_names[@]}"; do golden_one "$n"; done
  if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]}" >&2
    exit 1
  fi
  ;;
*)
  sed -n '2,14p' "$0"
  exit 2
  ;;
esac
