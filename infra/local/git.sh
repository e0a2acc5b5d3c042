#!/usr/bin/env bash
# Starts or stops a local git server for tests and demos: lighttpd running
# git-http-backend (git's smart HTTP protocol) on 127.0.0.1, on a free port,
# with htpasswd (bcrypt) Basic authentication on every request, clone
# included.
#
# Usage:
#   infra/local/git.sh start STATE_DIR [REPO...]
#   infra/local/git.sh repo  STATE_DIR REPO...     (more repositories, server running or not)
#   infra/local/git.sh stop  STATE_DIR
#
# Each REPO (`deploy` or `deploy.git`, `team/deploy` for a subfolder) becomes
# an empty bare repository STATE_DIR/repos/<REPO>.git, initial branch `main`,
# that accepts pushes (`http.receivepack true`), refuses non-fast-forward
# updates even when forced (`receive.denyNonFastForwards true`) and keeps a
# reflog of every ref update (`core.logAllRefUpdates always`). An existing
# repository is left as it is. Its URL is $GIT_REPOS_URL/<REPO>.git.
#
# `start` writes STATE_DIR/git.env (KEY=VALUE lines) and prints it:
#   GIT_HTTP_URL    http://127.0.0.1:PORT (the server)
#   GIT_REPOS_URL   http://127.0.0.1:PORT/git (prefix of every repository URL)
#   GIT_REPOS_DIR   STATE_DIR/repos
#   GIT_USER, GIT_PASSWORD, STATE
# Logs: STATE_DIR/lighttpd.log (errors, CGI stderr), STATE_DIR/access.log
# (one line per request). PID: STATE_DIR/lighttpd.pid.
#
# Environment:
#   UPDRAFT_GIT_USER / UPDRAFT_GIT_PASSWORD  (gituser / gitpass)
#   UPDRAFT_SERVICE_TTL  seconds after which the server is stopped even if
#                        `stop` never runs (a safety net for crashed test
#                        runs); unset = no limit
#
# Installs nothing: it needs git, lighttpd, htpasswd (apache2-utils) and
# python3, which infra/local/install.sh installs.
set -euo pipefail

die() { echo "git.sh: $*" >&2; exit 1; }
# shellcheck source=infra/local/lib.sh
. "$(dirname "$0")/lib.sh"

usage="usage: $0 start STATE_DIR [REPO...] | repo STATE_DIR REPO... | stop STATE_DIR"
cmd=${1:-}
[ -n "$cmd" ] || die "$usage"
shift
[ $# -gt 0 ] && [ -n "$1" ] || die "$cmd: give STATE_DIR ($usage)"
state=$1
shift


# init_repo NAME: an empty bare repository under $state/repos, ready for
# pushes over HTTP.
init_repo() {
    local name=$1 dir
    case "$name" in
    "" | /* | *..* | *[[:space:]]*) die "'$name' is not a repository name (use e.g. deploy or team/deploy)" ;;
    esac
    name=${name%.git}
    dir="$state/repos/$name.git"
    if [ -e "$dir/HEAD" ]; then
        return 0
    fi
    mkdir -p "$dir"
    git init -q --bare -b main "$dir" || die "git init --bare $dir failed"
    git -C "$dir" config http.receivepack true
    git -C "$dir" config receive.denyNonFastForwards true
    git -C "$dir" config core.logAllRefUpdates always
}

case "$cmd" in
stop)
    stop_all "$state"
    exit 0
    ;;
start | repo) ;;
*) die "unknown command '$cmd' ($usage)" ;;
esac

# --- packages (checked, never installed here) --------------------------------
need=()
command -v git >/dev/null 2>&1 || need+=(git)
command -v lighttpd >/dev/null 2>&1 || need+=(lighttpd)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
    die "missing ${need[*]}: run infra/local/install.sh (Debian: apt-get install -y --no-install-recommends ${need[*]})"
fi

mkdir -p "$state/repos"
state=$(cd "$state" && pwd)

if [ "$cmd" = repo ]; then
    [ $# -gt 0 ] || die "repo: name at least one repository ($usage)"
    for r in "$@"; do init_repo "$r"; done
    exit 0
fi

backend="$(git --exec-path)/git-http-backend"
[ -x "$backend" ] || die "git-http-backend not found at $backend (is git installed completely?)"
git_bin_dir=$(dirname "$(command -v git)")

user=${UPDRAFT_GIT_USER:-gituser}
password=${UPDRAFT_GIT_PASSWORD:-gitpass}
ttl=${UPDRAFT_SERVICE_TTL:-}
if [ -n "$ttl" ] && ! [[ "$ttl" =~ ^[0-9]+$ ]]; then
    die "UPDRAFT_SERVICE_TTL must be a number of seconds, not '$ttl'"
fi

if [ -e "$state/lighttpd.pid" ] && kill -0 "$(cat "$state/lighttpd.pid")" 2>/dev/null; then
    die "a git server is already running for $state (pid $(cat "$state/lighttpd.pid")); run '$0 stop $state' first"
fi

for r in "$@"; do init_repo "$r"; done

htpasswd -Bbc "$state/htpasswd" "$user" "$password" 2>/dev/null || die "htpasswd failed to write $state/htpasswd"



write_config() {
    local port=$1
    cat >"$state/lighttpd.conf" <<EOF
server.modules = ( "mod_access", "mod_auth", "mod_authn_file", "mod_alias", "mod_setenv", "mod_cgi", "mod_accesslog" )
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$state/repos"
server.errorlog = "$state/lighttpd.log"
server.pid-file = "$state/lighttpd.lighttpd-pid"
accesslog.filename = "$state/access.log"
alias.url = ( "/git" => "$backend" )
\$HTTP["url"] !~ "^/git/" {
  url.access-deny = ( "" )
}
\$HTTP["url"] =~ "^/git/" {
  cgi.assign = ( "" => "" )
  setenv.set-environment = (
    "GIT_PROJECT_ROOT" => "$state/repos",
    "GIT_HTTP_EXPORT_ALL" => "1",
    "PATH" => "$git_bin_dir:/usr/bin:/bin",
    "HOME" => "$state"
  )
  auth.backend = "htpasswd"
  auth.backend.htpasswd.userfile = "$state/htpasswd"
  auth.require = ( "" => ( "method" => "basic", "realm" => "updraft-git", "require" => "valid-user" ) )
}
EOF
}

port=""
for attempt in 1 2 3 4 5; do
    candidate=$(free_port)
    write_config "$candidate"
    lighttpd -tt -f "$state/lighttpd.conf" >"$state/lighttpd.check" 2>&1 ||
        die "lighttpd refuses the generated configuration $state/lighttpd.conf: $(cat "$state/lighttpd.check")"
    if [ -n "$ttl" ]; then
        nohup timeout --signal=TERM "$ttl" lighttpd -D -f "$state/lighttpd.conf" >"$state/lighttpd.out" 2>&1 &
    else
        nohup lighttpd -D -f "$state/lighttpd.conf" >"$state/lighttpd.out" 2>&1 &
    fi
    echo $! >"$state/lighttpd.pid"
    if wait_port "$candidate" "$(cat "$state/lighttpd.pid")" "git.sh: lighttpd"; then
        port=$candidate
        break
    fi
    stop_all "$state"
    echo "git.sh: lighttpd did not start on port $candidate (attempt $attempt); log:" >&2
    tail -5 "$state/lighttpd.out" "$state/lighttpd.log" >&2 2>/dev/null || true
done
[ -n "$port" ] || die "cannot start lighttpd (see $state/lighttpd.out and $state/lighttpd.log)"

cat >"$state/git.env" <<EOF
GIT_HTTP_URL=http://127.0.0.1:$port
GIT_REPOS_URL=http://127.0.0.1:$port/git
GIT_REPOS_DIR=$state/repos
GIT_USER=$user
GIT_PASSWORD=$password
STATE=$state
EOF
cat "$state/git.env"
