# Shell helpers the service scripts (registry.sh, git.sh) share; sourced,
# not run.

# stop_all DIR: stops every process whose PID file is DIR/*.pid (TERM, then
# KILL after 2.5 s) and removes the PID files.
stop_all() {
    local dir=$1 pid f
    [ -d "$dir" ] || return 0
    for f in "$dir"/*.pid; do
        [ -e "$f" ] || continue
        pid=$(cat "$f")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.05
            done
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$f"
    done
}

# free_port: a TCP port free on 127.0.0.1 right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT PID NAME: waits up to 10 s for 127.0.0.1:PORT to accept
# connections; fails early if PID died.
wait_port() {
    local port=$1 pid=$2 name=$3
    for _ in $(seq 400); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.025
    done
    echo "$name never opened port $port" >&2
    return 1
}
