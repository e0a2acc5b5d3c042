#!/usr/bin/env bash
# The local S3 server for the checkpoint store: moto_server on loopback.
#
#   infra/local/s3.sh start DIR [BUCKET...]
#                                 start it (state and pid in DIR), create the
#                                 buckets; prints the endpoint, e.g.
#                                 http://127.0.0.1:40123
#   infra/local/s3.sh stop DIR    stop the server started with DIR
#   infra/local/s3.sh venv        only create the Python venv (.venv)
#
# moto keeps objects in memory and accepts any access key; sign requests
# anyway (unsigned requests to existing objects get 403). Buckets are created
# here or by the client (a PUT on /<bucket>). Needs python3 with the venv module; the
# venv lives in .venv at the repository root and is created when missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv"
moto_version=5.2.5

usage() {
    echo "usage: $0 start DIR [BUCKET...] | stop DIR | venv" >&2
    exit 2
}

ensure_venv() {
    if [ -x "$venv/bin/moto_server" ]; then
        return
    fi
    echo "==> creating $venv with moto[server]==$moto_version" >&2
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "moto[server]==$moto_version" >&2
}

free_port() {
    "$venv/bin/python" - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

create_buckets() {
    local endpoint=$1
    shift
    [ $# -gt 0 ] || return 0
    "$venv/bin/python" - "$endpoint" "$@" <<'EOF'
import sys, urllib.request
endpoint = sys.argv[1]
for bucket in sys.argv[2:]:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/{bucket}", method="PUT"), timeout=10)
EOF
}

start() {
    local dir=$1
    shift
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [ -f "$dir/moto.pid" ] && kill -0 "$(cat "$dir/moto.pid")" 2>/dev/null; then
        create_buckets "$(cat "$dir/endpoint")" "$@"
        cat "$dir/endpoint"
        return
    fi
    ensure_venv
    local port attempt
    for attempt in 1 2 3; do
        port=$(free_port)
        # setsid: the server outlives this script but not `stop`.
        setsid "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" \
            >"$dir/moto.log" 2>&1 </dev/null &
        echo $! >"$dir/moto.pid"
        # Wait up to 30 s for the port (0.3–2 s is usual).
        local i
        for i in $(seq 1 300); do
            if ! kill -0 "$(cat "$dir/moto.pid")" 2>/dev/null; then
                break # exited: port taken by someone else between probe and bind
            fi
            if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                echo "http://127.0.0.1:$port" >"$dir/endpoint"
                if ! create_buckets "http://127.0.0.1:$port" "$@"; then
                    stop "$dir"
                    echo "cannot create buckets $* (names need 3-63 lowercase characters)" >&2
                    exit 1
                fi
                cat "$dir/endpoint"
                return
            fi
            sleep 0.1
        done
        kill "$(cat "$dir/moto.pid")" 2>/dev/null || true
        echo "moto_server did not start on port $port (attempt $attempt); log:" >&2
        tail -n 5 "$dir/moto.log" >&2 || true
    done
    rm -f "$dir/moto.pid"
    exit 1
}

stop() {
    local dir=$1
    [ -f "$dir/moto.pid" ] || return 0
    local pid
    pid=$(cat "$dir/moto.pid")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/moto.pid" "$dir/endpoint"
}

case "${1:-}" in
start) [ $# -ge 2 ] || usage; shift; start "$@" ;;
stop) [ $# -eq 2 ] || usage; stop "$2" ;;
venv) [ $# -eq 1 ] || usage; ensure_venv ;;
*) usage ;;
esac
