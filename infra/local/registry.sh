#!/usr/bin/env bash
# Starts or stops local OCI registries for tests and demos: Debian's
# `docker-registry` (CNCF distribution 2.8) on 127.0.0.1, in up to three
# flavours, each on a free port:
#
#   anon    no authentication
#   basic   htpasswd (bcrypt) Basic authentication
#   bearer  Bearer tokens from a small token server (python3 stdlib + openssl)
#           that signs RS256 JWTs the registry verifies against its
#           certificate. An authenticated user gets what it asks for;
#           anonymous callers get `pull` on repositories under `public/` only.
#   tls     no authentication, HTTPS with a self-signed certificate for
#           127.0.0.1 (TLS_CA names it), to check that verification is on.
#
# Usage:
#   infra/local/registry.sh start [STATE_DIR] [anon] [basic] [bearer] [tls]
#   infra/local/registry.sh stop  [STATE_DIR]
#
# STATE_DIR defaults to $UPDRAFT_REGISTRY_STATE (start creates a temporary
# directory when neither is given). With no flavour, anon, basic and bearer
# start.
# `start` writes STATE_DIR/registry.env (KEY=VALUE lines) and prints it:
#   ANON_URL, BASIC_URL, BEARER_URL, TOKEN_URL, TOKEN_SERVICE, TLS_URL,
#   TLS_CA, REGISTRY_USER, REGISTRY_PASSWORD, STATE
# Logs: STATE_DIR/<flavour>.log (the registry's access log), token.log (one
# line per token request). PIDs: STATE_DIR/*.pid.
#
# Environment:
#   UPDRAFT_REGISTRY_USER / UPDRAFT_REGISTRY_PASSWORD  (testuser / testpass)
#   UPDRAFT_SERVICE_TTL  seconds after which every service started here is
#                        stopped even if `stop` never runs (a safety net for
#                        crashed test runs); unset = no limit
#   UPDRAFT_TOKEN_EXPIRES  token lifetime in seconds (300)
#   UPDRAFT_REGISTRY_NOTIFY_URL / UPDRAFT_REGISTRY_NOTIFY_TOKEN  when set, the
#                        registries send their notifications (Distribution's
#                        webhooks) to that URL with `Authorization: Bearer
#                        <token>`; undelivered events are retried every second
#
# Installs docker-registry and apache2-utils with apt-get when missing and
# running as root (serialised with flock; `apt-get update` runs once).
set -euo pipefail

die() { echo "registry.sh: $*" >&2; exit 1; }
# shellcheck source=infra/local/lib.sh
. "$(dirname "$0")/lib.sh"

cmd=${1:-}
[ -n "$cmd" ] || die "usage: $0 start|stop [STATE_DIR] [anon] [basic] [bearer] [tls]"
shift

state=${UPDRAFT_REGISTRY_STATE:-}
if [ $# -gt 0 ] && [[ "$1" != anon && "$1" != basic && "$1" != bearer && "$1" != tls ]]; then
    state=$1
    shift
fi


case "$cmd" in
stop)
    [ -n "$state" ] || die "stop: give STATE_DIR or set UPDRAFT_REGISTRY_STATE"
    stop_all "$state"
    exit 0
    ;;
start) ;;
*) die "unknown command '$cmd' (use start or stop)" ;;
esac

flavours=("$@")
[ ${#flavours[@]} -gt 0 ] || flavours=(anon basic bearer)
for f in "${flavours[@]}"; do
    case "$f" in anon | basic | bearer | tls) ;; *) die "unknown flavour '$f' (anon, basic, bearer, tls)" ;; esac
done

if [ -z "$state" ]; then
    state=$(mktemp -d "${TMPDIR:-/tmp}/updraft-registry.XXXXXX")
fi
mkdir -p "$state"
state=$(cd "$state" && pwd)

# --- packages ---------------------------------------------------------------
need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        (
            flock 9
            # Another start may have installed them while we waited.
            still=()
            for p in "${need[@]}"; do
                case "$p" in
                docker-registry) command -v docker-registry >/dev/null 2>&1 || still+=("$p") ;;
                apache2-utils) command -v htpasswd >/dev/null 2>&1 || still+=("$p") ;;
                *) command -v "$p" >/dev/null 2>&1 || still+=("$p") ;;
                esac
            done
            if [ ${#still[@]} -gt 0 ]; then
                echo "registry.sh: installing ${still[*]}" >&2
                apt-get update -qq >&2
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${still[@]}" >&2
                # Never let a packaged default instance run (it listens on :5000).
                systemctl disable --now docker-registry >/dev/null 2>&1 || true
            fi
        ) 9>"${TMPDIR:-/tmp}/updraft-apt.lock"
    else
        die "missing ${need[*]}: install them (Debian: apt-get install -y --no-install-recommends docker-registry apache2-utils openssl python3)"
    fi
fi

user=${UPDRAFT_REGISTRY_USER:-testuser}
password=${UPDRAFT_REGISTRY_PASSWORD:-testpass}
ttl=${UPDRAFT_SERVICE_TTL:-}
token_expires=${UPDRAFT_TOKEN_EXPIRES:-300}
service_name=updraft-test-registry



# launch NAME LOG CMD... : starts CMD in the background (under `timeout` when
# a TTL is set), records its PID.
launch() {
    local name=$1 log=$2
    shift 2
    if [ -n "$ttl" ]; then
        nohup timeout --signal=TERM "$ttl" "$@" >"$log" 2>&1 &
    else
        nohup "$@" >"$log" 2>&1 &
    fi
    echo $! >"$state/$name.pid"
}

# notifications: the registry's webhook endpoint, when one is configured.
notifications() {
    [ -n "${UPDRAFT_REGISTRY_NOTIFY_URL:-}" ] || return 0
    cat <<EOF
notifications:
  endpoints:
    - name: updraft
      url: $UPDRAFT_REGISTRY_NOTIFY_URL
      headers:
        Authorization: [Bearer ${UPDRAFT_REGISTRY_NOTIFY_TOKEN:-}]
      timeout: 5s
      threshold: 3
      backoff: 1s
EOF
}

# start_registry FLAVOUR AUTH_YAML : picks a port, retries if it was taken.
start_registry() {
    local flavour=$1 auth=$2 port pid attempt
    mkdir -p "$state/$flavour-data"
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        cat >"$state/$flavour.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog: {disabled: false}
storage:
  filesystem: {rootdirectory: $state/$flavour-data}
  delete: {enabled: true}
  cache: {blobdescriptor: inmemory}
http:
  addr: 127.0.0.1:$port
  secret: updraft-test-only
$auth
$(notifications)
EOF
        launch "$flavour" "$state/$flavour.log" docker-registry serve "$state/$flavour.yml"
        pid=$(cat "$state/$flavour.pid")
        if wait_port "$port" "$pid" "$flavour registry"; then
            echo "$port"
            return 0
        fi
        kill "$pid" 2>/dev/null || true
        rm -f "$state/$flavour.pid"
        echo "registry.sh: $flavour registry did not start (attempt $attempt); log:" >&2
        tail -5 "$state/$flavour.log" >&2 || true
    done
    return 1
}

write_token_server() {
    cat >"$state/token_server.py" <<'PY'
# Docker token server for tests: RS256 JWTs signed with `openssl dgst`; the
# x5c header carries the certificate the registry trusts (rootcertbundle).
import base64, http.server, json, subprocess, sys, time, urllib.parse, uuid

PORT, KEY, CERT, USER, PASS, ISSUER, LOG, EXPIRES = sys.argv[1:9]
PORT, EXPIRES = int(PORT), int(EXPIRES)

def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

DER = subprocess.run(["openssl", "x509", "-in", CERT, "-outform", "DER"],
                     capture_output=True, check=True).stdout
X5C = [base64.b64encode(DER).decode()]

def jwt(claims):
    header = b64(json.dumps({"alg": "RS256", "typ": "JWT", "x5c": X5C}).encode())
    payload = b64(json.dumps(claims).encode())
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY],
                               input=f"{header}.{payload}".encode(),
                               capture_output=True, check=True).stdout
    return f"{header}.{payload}.{b64(signature)}"

class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        auth = self.headers.get("Authorization", "")
        user = ""
        if auth.startswith("Basic "):
            try:
                u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:
                u, p = "", ""
            if (u, p) != (USER, PASS):
                with open(LOG, "a") as f:
                    f.write(json.dumps({"path": url.path, "user": u, "result": "denied"}) + "\n")
                self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "invalid username/password"}]})
                return
            user = u
        access = []
        for scope in query.get("scope", []):
            parts = scope.split(":")
            if len(parts) < 3:
                continue
            name, actions = ":".join(parts[1:-1]), parts[-1].split(",")
            if not user:
                actions = [a for a in actions if a == "pull"] if name.startswith("public/") else []
            access.append({"type": parts[0], "name": name, "actions": actions})
        now = int(time.time())
        token = jwt({"iss": ISSUER, "sub": user, "aud": query.get("service", [""])[0],
                     "exp": now + EXPIRES, "nbf": now - 10, "iat": now,
                     "jti": uuid.uuid4().hex, "access": access})
        with open(LOG, "a") as f:
            f.write(json.dumps({"path": url.path, "user": user, "scope": query.get("scope", []),
                                "service": query.get("service", [""])[0], "result": "issued"}) + "\n")
        self.reply(200, {"token": token, "access_token": token, "expires_in": EXPIRES})

http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
PY
}

env_lines=("STATE=$state" "REGISTRY_USER=$user" "REGISTRY_PASSWORD=$password")

for flavour in "${flavours[@]}"; do
    case "$flavour" in
    anon)
        port=$(start_registry anon "") || { stop_all "$state"; die "cannot start the anonymous registry"; }
        env_lines+=("ANON_URL=http://127.0.0.1:$port")
        ;;
    basic)
        htpasswd -Bbc "$state/htpasswd" "$user" "$password" 2>/dev/null
        port=$(start_registry basic "auth:
  htpasswd: {realm: updraft-test, path: $state/htpasswd}") || { stop_all "$state"; die "cannot start the basic-auth registry"; }
        env_lines+=("BASIC_URL=http://127.0.0.1:$port")
        ;;
    bearer)
        if [ ! -s "$state/token.key" ]; then
            openssl req -x509 -newkey rsa:2048 -nodes -keyout "$state/token.key" -out "$state/token.crt" \
                -days 3650 -subj "/CN=updraft-test-token-issuer" >/dev/null 2>&1
        fi
        write_token_server
        : >"$state/token.log"
        token_port=""
        for _ in 1 2 3 4 5; do
            candidate=$(free_port)
            launch token "$state/token-server.log" python3 "$state/token_server.py" "$candidate" \
                "$state/token.key" "$state/token.crt" "$user" "$password" updraft-test-issuer \
                "$state/token.log" "$token_expires"
            if wait_port "$candidate" "$(cat "$state/token.pid")" "token server"; then
                token_port=$candidate
                break
            fi
            rm -f "$state/token.pid"
        done
        [ -n "$token_port" ] || { stop_all "$state"; die "cannot start the token server (see $state/token-server.log)"; }
        port=$(start_registry bearer "auth:
  token:
    realm: http://127.0.0.1:$token_port/token
    service: $service_name
    issuer: updraft-test-issuer
    rootcertbundle: $state/token.crt") || { stop_all "$state"; die "cannot start the bearer-auth registry"; }
        env_lines+=("BEARER_URL=http://127.0.0.1:$port" "TOKEN_URL=http://127.0.0.1:$token_port/token" "TOKEN_SERVICE=$service_name")
        ;;
    tls)
        if [ ! -s "$state/tls.key" ]; then
            openssl req -x509 -newkey rsa:2048 -nodes -keyout "$state/tls.key" -out "$state/tls.crt" \
                -days 3650 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
                -addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=serverAuth" >/dev/null 2>&1
        fi
        port=$(start_registry tls "  tls:
    certificate: $state/tls.crt
    key: $state/tls.key") || { stop_all "$state"; die "cannot start the TLS registry"; }
        env_lines+=("TLS_URL=https://127.0.0.1:$port" "TLS_CA=$state/tls.crt")
        ;;
    esac
done

printf '%s\n' "${env_lines[@]}" >"$state/registry.env"
cat "$state/registry.env"
