#!/usr/bin/env bash
# Checks the deployment files offline, as far as they can be checked without
# a cloud account:
#
#   1. infra/aliyun/s.yaml and infra/aws/template.yaml parse as YAML
#      (CloudFormation short forms such as !Ref, !GetAtt, !Sub accepted);
#   2. s.yaml's structure: edition, name, fc3 resources merged with their
#      `extend` template, each function's runtime / handler /
#      customRuntimeConfig, sizes FC accepts, well-formed timer and HTTP
#      triggers, async destinations that name functions of this file, the
#      poll -> resolve -> write-back -> sync chain, the timers' events,
#      secrets only as ${env()};
#   3. template.yaml's structure: the same chain through OnSuccess
#      destinations, the schedules' events (PollRequest for the cycle,
#      SyncRequest for the sweep), the Function URL, secrets only as SSM
#      references; and that both platforms give each function the same
#      environment variable names;
#   4. cfn-lint on template.yaml (the one on PATH, else one installed from
#      PyPI into a venv under ${UPDRAFT_INFRA_VENV:-~/.cache/updraft/infra-venv});
#   5. terraform fmt on infra/aliyun/terraform, and terraform validate when
#      that directory has been initialised (init downloads the provider, so
#      this script never runs it);
#   6. the shell scripts parse (shellcheck too when installed), and the
#      Lambda bootstrap starts `updraft lambda` / `updraft lambda --http`.
#
# Exits non-zero when a check fails; a tool that is missing is reported as
# skipped, not failed.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
# UPDRAFT_INFRA_DIR: check a copy elsewhere (the checks' own tests).
infra="${UPDRAFT_INFRA_DIR:-infra}"
passed=0
failed=0
skipped=0

section() { printf '\n== %s\n' "$*"; }
pass() { printf 'ok: %s\n' "$*"; passed=$((passed + 1)); }
fail() { printf 'FAILED: %s\n' "$*"; failed=$((failed + 1)); }
skip() { printf 'skipped: %s\n' "$*"; skipped=$((skipped + 1)); }

# ---------------------------------------------------------------------------
section "YAML and structure (python3)"
if ! command -v python3 >/dev/null 2>&1; then
    fail "python3 not found"
elif ! python3 -c 'import yaml' >/dev/null 2>&1; then
    # PyYAML is the one module the structural checks need; a venv with it is
    # made below for cfn-lint anyway, so use that one.
    need_pyyaml=1
else
    need_pyyaml=0
fi

venv="${UPDRAFT_INFRA_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/updraft/infra-venv}"
ensure_venv() {
    # $1: the pip requirement to install into the venv.
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv" >/dev/null 2>&1 || return 1
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$1" >/dev/null 2>&1
}

py=python3
command -v python3 >/dev/null 2>&1 || py=""
if [ -n "$py" ] && [ "${need_pyyaml:-0}" = 1 ]; then
    if ensure_venv 'PyYAML>=6,<7'; then
        py="$venv/bin/python"
    else
        fail "PyYAML is missing and could not be installed into $venv"
        py=""
    fi
fi

if [ -n "$py" ]; then
    "$py" - "$infra" <<'PY'
import json
import re
import sys
from pathlib import Path

import yaml

infra = Path(sys.argv[1])
failures = []


def ok(msg):
    print(f"ok: {msg}")


def bad(msg):
    print(f"FAILED: {msg}")
    failures.append(msg)


class Tagged:
    """A node with a tag this loader does not know (!Ref, !GetAtt, !Sub, ...)."""

    def __init__(self, tag, value):
        self.tag, self.value = tag, value

    def __repr__(self):
        return f"{self.tag} {self.value!r}"


class TolerantLoader(yaml.SafeLoader):
    pass


def construct_unknown(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return Tagged("!" + suffix, value)


TolerantLoader.add_multi_constructor("!", construct_unknown)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.load(f, Loader=TolerantLoader)
    except (OSError, yaml.YAMLError) as e:
        bad(f"{path}: does not parse: {e}")
        return None
    if not isinstance(doc, dict):
        bad(f"{path}: not a mapping at the top")
        return None
    ok(f"{path} parses")
    return doc


FUNCTIONS = {"poll-registry", "resolve-strategy", "write-back", "sync-trigger", "pipeline"}
CHAIN = ["poll-registry", "resolve-strategy", "write-back", "sync-trigger"]
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|CREDS|CREDENTIALS|KEY)$")


# What a timer may start, and the event it must send: a poll cycle (the
# chain's first stage, or the in-process pipeline) or the sync sweep.
TIMER_EVENTS = {"poll-registry": "PollRequest", "pipeline": "PollRequest", "sync-trigger": "SyncRequest"}


def timer_event_ok(where, role, text):
    kind = TIMER_EVENTS.get(role)
    if kind is None:
        bad(f"{where}: {role} is not started by a timer")
        return
    try:
        event = json.loads(text)
    except (TypeError, ValueError) as e:
        bad(f"{where}: the timer event is not JSON ({e})")
        return
    if not isinstance(event, dict) or event.get("apiVersion") != "updraft.dev/v1alpha1" or event.get("kind") != kind:
        bad(f"{where}: {role}'s timer event must be a {kind} of apiVersion updraft.dev/v1alpha1")


# ----------------------------------------------------------------- s.yaml
def deep_merge(base, over):
    """Serverless Devs `extend`: objects merged key by key, the rest replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = deep_merge(base.get(k), v) if k in base else v
        return out
    return over


def check_cron(where, expr):
    if not isinstance(expr, str) or not expr.strip():
        bad(f"{where}: cronExpression missing")
        return
    body = expr.strip()
    m = re.match(r"^CRON_TZ=([A-Za-z_]+(?:/[A-Za-z_+-]+)*)\s+(.*)$", body)
    if m:
        body = m.group(2)
    elif body.startswith("CRON_TZ"):
        bad(f"{where}: malformed CRON_TZ= prefix in {expr!r}")
        return
    if re.match(r"^@every\s+\d+[smh]$", body):
        return
    fields = body.split()
    if len(fields) != 6:
        bad(f"{where}: FC cron has six fields, seconds first; {expr!r} has {len(fields)}")
        return
    if not all(re.match(r"^[0-9A-Za-z*/,?LW#-]+$", f) for f in fields):
        bad(f"{where}: odd characters in {expr!r}")


def render_vars(doc):
    """Substitutes ${vars.NAME} as Serverless Devs does; a var that reads the
    deployer's environment, ${env('X', 'default')}, takes its default (or a
    placeholder when it has none)."""
    raw = doc.get("vars") or {}
    values = {}
    for name, value in raw.items():
        m = re.fullmatch(r"\$\{env\('([A-Za-z0-9_]+)'(?:,\s*'([^']*)')?\)\}", str(value))
        values[name] = (m.group(2) if m.group(2) is not None else f"<env {m.group(1)}>") if m else value

    def walk(node):
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            whole = re.fullmatch(r"\$\{vars\.([A-Za-z0-9_]+)\}", node)
            if whole and whole.group(1) in values:
                return values[whole.group(1)]

            def one(m):
                if m.group(1) not in values:
                    bad(f"${{vars.{m.group(1)}}} is not defined under vars")
                    return m.group(0)
                return str(values[m.group(1)])

            return re.sub(r"\$\{vars\.([A-Za-z0-9_]+)\}", one, node)
        return node

    return {k: (v if k == "vars" else walk(v)) for k, v in doc.items()}


def check_syaml(path):
    before = len(failures)
    doc = load(path)
    if doc is None:
        return {}
    doc = render_vars(doc)
    if str(doc.get("edition")) != "3.0.0":
        bad(f"{path}: edition must be 3.0.0 (fc3), is {doc.get('edition')!r}")
    if not isinstance(doc.get("name"), str) or not doc["name"]:
        bad(f"{path}: name missing")
    templates = doc.get("template") or {}
    resources = doc.get("resources")
    if not isinstance(resources, dict) or not resources:
        bad(f"{path}: no resources")
        return {}
    functions = {}  # functionName -> merged props
    for key, res in resources.items():
        where = f"{path}: resources.{key}"
        if not isinstance(res, dict):
            bad(f"{where}: not a mapping")
            continue
        component = str(res.get("component", ""))
        if component.split("@")[0] != "fc3":
            bad(f"{where}: component is {component!r}, expected fc3")
            continue
        props = res.get("props") or {}
        extend = res.get("extend")
        if extend is not None:
            name = extend.get("name") if isinstance(extend, dict) else None
            if name not in templates:
                bad(f"{where}: extends unknown template {name!r}")
                continue
            base = dict(templates[name])
            for ignored in extend.get("ignore") or []:
                base.pop(ignored, None)
            props = deep_merge(base, props)
        fname = props.get("functionName")
        if not isinstance(fname, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$", fname):
            bad(f"{where}: functionName {fname!r} is not a valid FC name")
            continue
        if fname in functions:
            bad(f"{where}: functionName {fname} used twice")
        functions[fname] = props
        for field in ("region", "runtime", "code", "role"):
            if not props.get(field):
                bad(f"{where}: {field} missing")
        runtime = str(props.get("runtime", ""))
        if runtime.startswith("custom") and runtime != "custom-container":
            crc = props.get("customRuntimeConfig") or {}
            if not props.get("handler"):
                bad(f"{where}: handler missing (the API requires one even for custom runtimes)")
            if not crc.get("command"):
                bad(f"{where}: customRuntimeConfig.command missing (else FC runs /code/bootstrap)")
            elif crc["command"] != ["/code/updraft"] or crc.get("args") != ["fc"]:
                bad(f"{where}: the process must be `/code/updraft fc`")
            hc = crc.get("healthCheckConfig") or {}
            if hc and hc.get("httpGetUrl") != "/healthz":
                bad(f"{where}: the health check is served at /healthz")
        elif not props.get("handler"):
            bad(f"{where}: handler missing")
        mem, cpu, disk = props.get("memorySize"), props.get("cpu"), props.get("diskSize")
        if not isinstance(mem, int) or mem % 64 or not 128 <= mem <= 32768:
            bad(f"{where}: memorySize {mem!r} must be a multiple of 64 MB in 128..32768")
        if cpu is not None:
            if round(cpu / 0.05, 6) % 1:
                bad(f"{where}: cpu {cpu} must be a multiple of 0.05 vCPU")
            elif isinstance(mem, int) and not (1 <= (mem / 1024) / cpu <= 4):
                bad(f"{where}: cpu:memory must be 1:1..1:4 (vCPU:GB), is {cpu}:{mem / 1024:g}")
        if disk is not None and disk not in (512, 10240):
            bad(f"{where}: diskSize {disk} must be 512 or 10240")
        conc = props.get("instanceConcurrency")
        if conc is not None and not (isinstance(conc, int) and 1 <= conc <= 100):
            bad(f"{where}: instanceConcurrency {conc!r} outside 1..100")
        env = props.get("environmentVariables") or {}
        if env.get("UPDRAFT_FUNCTION") not in FUNCTIONS:
            bad(f"{where}: UPDRAFT_FUNCTION {env.get('UPDRAFT_FUNCTION')!r} is none of {sorted(FUNCTIONS)}")
        for name, value in env.items():
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name) or name.startswith("FC_"):
                bad(f"{where}: environment variable {name!r} (letters, digits, _; FC_ is reserved)")
            if SECRET_NAME.search(name) and not re.fullmatch(r"\$\{env\('[A-Z0-9_]+'(,\s*'')?\)\}", str(value)):
                bad(f"{where}: {name} must come from the deployer's environment (${{env('...')}}), not a literal")
        if not str(env.get("UPDRAFT_STATE", "")).startswith("oss://"):
            bad(f"{where}: UPDRAFT_STATE must be an oss:// URL")
        triggers = props.get("triggers", [])
        if not isinstance(triggers, list):
            bad(f"{where}: triggers must be a list")
            triggers = []
        for i, t in enumerate(triggers):
            tw = f"{where}.triggers[{i}]"
            if not isinstance(t, dict):
                bad(f"{tw}: not a mapping")
                continue
            for field in ("triggerName", "triggerType", "triggerConfig"):
                if field not in t:
                    bad(f"{tw}: {field} missing")
            tc = t.get("triggerConfig") or {}
            if t.get("triggerType") == "timer":
                check_cron(tw, tc.get("cronExpression"))
                if not isinstance(tc.get("enable"), bool):
                    bad(f"{tw}: enable must be true or false")
                timer_event_ok(tw, env.get("UPDRAFT_FUNCTION"), tc.get("payload"))
            elif t.get("triggerType") == "http":
                if tc.get("authType") not in ("anonymous", "function"):
                    bad(f"{tw}: authType must be anonymous or function")
                methods = tc.get("methods")
                allowed = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"}
                if not isinstance(methods, list) or not methods or not set(methods) <= allowed:
                    bad(f"{tw}: methods must be a non-empty subset of {sorted(allowed)}")
            elif t.get("triggerType") not in ("oss", "log", "mns_topic", "cdn_events", "tablestore", "eventbridge"):
                bad(f"{tw}: unknown triggerType {t.get('triggerType')!r}")

    # Destinations name functions of this file; the stages chain in order.
    role_of = {n: (p.get("environmentVariables") or {}).get("UPDRAFT_FUNCTION") for n, p in functions.items()}
    by_role = {r: n for n, r in role_of.items()}
    for fname, props in functions.items():
        dest_cfg = ((props.get("asyncInvokeConfig") or {}).get("destinationConfig") or {})
        for kind, dest in dest_cfg.items():
            arn = (dest or {}).get("destination", "")
            m = re.match(r"^acs:fc:[^:]*:[^:]*:functions/([A-Za-z0-9_-]+)$", str(arn))
            if kind not in ("onSuccess", "onFailure"):
                bad(f"{path}: {fname}: unknown destination kind {kind}")
            elif str(arn).startswith("acs:fc:") and (not m or m.group(1) not in functions):
                bad(f"{path}: {fname}: {kind} destination {arn!r} names no function of this file")
    for a, b in zip(CHAIN, CHAIN[1:]):
        src = functions.get(by_role.get(a, ""), {})
        arn = (((src.get("asyncInvokeConfig") or {}).get("destinationConfig") or {}).get("onSuccess") or {}).get("destination", "")
        if not str(arn).endswith("functions/" + by_role.get(b, "?")):
            bad(f"{path}: {a} must hand over to {b} through onSuccess (has {arn!r})")
    timers = [role_of[n] for n, p in functions.items() for t in p.get("triggers", []) if t.get("triggerType") == "timer"]
    https = [n for n, p in functions.items() for t in p.get("triggers", []) if t.get("triggerType") == "http"]
    cycles = [r for r in timers if r in ("poll-registry", "pipeline")]
    if len(cycles) != 1:
        bad(f"{path}: one timer starts the cycle, on poll-registry (or pipeline); found on {cycles}")
    if "sync-trigger" not in timers:
        bad(f"{path}: sync-trigger needs its sweep timer (docs/promotion.md)")
    if not https or any(role_of[n] != "pipeline" for n in https):
        bad(f"{path}: the HTTP trigger belongs to the pipeline function (found on {https})")
    if len(failures) == before:
        ok(f"{path}: {len(functions)} fc3 functions, triggers and the async chain are well-formed")
    return {role_of[n]: set((p.get("environmentVariables") or {}).keys()) for n, p in functions.items()}


# ----------------------------------------------------------- template.yaml
def sub_text(value):
    if isinstance(value, Tagged) and value.tag == "!Sub":
        return value.value if isinstance(value.value, str) else value.value[0]
    return value


def check_template(path):
    before = len(failures)
    doc = load(path)
    if doc is None:
        return {}
    if doc.get("Transform") != "AWS::Serverless-2016-10-31":
        bad(f"{path}: Transform must be AWS::Serverless-2016-10-31")
    glob = ((doc.get("Globals") or {}).get("Function") or {})
    resources = doc.get("Resources") or {}
    fns = {k: v for k, v in resources.items() if isinstance(v, dict) and v.get("Type") == "AWS::Serverless::Function"}
    roles, env_names, schedules = {}, {}, []
    for key, res in fns.items():
        props = deep_merge(glob, res.get("Properties") or {})
        where = f"{path}: {key}"
        if props.get("Runtime") != "provided.al2023":
            bad(f"{where}: Runtime must be provided.al2023")
        if props.get("Architectures") not in (["x86_64"], ["arm64"]):
            bad(f"{where}: Architectures must name one architecture")
        env = (props.get("Environment") or {}).get("Variables") or {}
        role = env.get("UPDRAFT_FUNCTION")
        if role not in FUNCTIONS:
            bad(f"{where}: UPDRAFT_FUNCTION {role!r} is none of {sorted(FUNCTIONS)}")
        roles[role] = key
        env_names[role] = set(env.keys())
        for name, value in env.items():
            if SECRET_NAME.search(name):
                text = sub_text(value)
                if not (isinstance(text, str) and re.fullmatch(r"\{\{resolve:(ssm|secretsmanager):\S+\}\}", text)):
                    bad(f"{where}: {name} must be an SSM reference ({{{{resolve:ssm:...}}}}), not a literal")
        state = sub_text(env.get("UPDRAFT_STATE"))
        if not (isinstance(state, str) and state.startswith("s3://")):
            bad(f"{where}: UPDRAFT_STATE must be an s3:// URL")
        handler = props.get("Handler")
        if (handler == "http") != (role == "pipeline"):
            bad(f"{where}: Handler `http` (bootstrap: updraft lambda --http) belongs to the pipeline function only")
        for ev_name, ev in (props.get("Events") or {}).items():
            if ev.get("Type") in ("Schedule", "ScheduleV2"):
                schedules.append(role)
                timer_event_ok(f"{where}.Events.{ev_name}", role, (ev.get("Properties") or {}).get("Input"))
        if role == "pipeline" and ((props.get("FunctionUrlConfig") or {}).get("AuthType")) != "NONE":
            bad(f"{where}: the pipeline function needs a Function URL with AuthType NONE (app-level auth)")
    if sorted(schedules) != ["poll-registry", "sync-trigger"]:
        bad(f"{path}: schedules belong to poll-registry (the cycle) and sync-trigger (the sweep); found on {schedules}")
    for a, b in zip(CHAIN, CHAIN[1:]):
        props = deep_merge(glob, (fns.get(roles.get(a, ""), {}) or {}).get("Properties") or {})
        on_success = (((props.get("EventInvokeConfig") or {}).get("DestinationConfig") or {}).get("OnSuccess") or {})
        dest = on_success.get("Destination")
        target = dest.value if isinstance(dest, Tagged) and dest.tag == "!GetAtt" else None
        if isinstance(target, list):
            target = ".".join(target)
        if on_success.get("Type") != "Lambda" or target != f"{roles.get(b)}.Arn":
            bad(f"{path}: {a} must hand over to {b} through an OnSuccess Lambda destination")
    if len(failures) == before:
        ok(f"{path}: {len(fns)} functions, the schedules, the OnSuccess chain and the Function URL are well-formed")
    return env_names


fc_env = check_syaml(infra / "aliyun" / "s.yaml")
aws_env = check_template(infra / "aws" / "template.yaml")

# Both platforms give each function the same variables (platform-specific
# ones aside).
platform_only = {"SSL_CERT_FILE"}
before = len(failures)
for role in sorted(set(fc_env) | set(aws_env)):
    a, b = fc_env.get(role), aws_env.get(role)
    if a is None or b is None:
        bad(f"{role}: deployed on one platform only")
        continue
    if (a - platform_only) != (b - platform_only):
        bad(f"{role}: environment differs: s.yaml only {sorted(a - b - platform_only)}, template.yaml only {sorted(b - a - platform_only)}")
if fc_env and aws_env and len(failures) == before:
    ok("s.yaml and template.yaml give every function the same environment variables")

sys.exit(1 if failures else 0)
PY
    rc=$?
    if [ $rc -eq 0 ]; then pass "YAML and structure"; else fail "YAML and structure"; fi
fi

# ---------------------------------------------------------------------------
section "cfn-lint infra/aws/template.yaml"
cfn_lint=""
if command -v cfn-lint >/dev/null 2>&1; then
    cfn_lint="cfn-lint"
elif [ -x "$venv/bin/cfn-lint" ]; then
    cfn_lint="$venv/bin/cfn-lint"
elif command -v python3 >/dev/null 2>&1; then
    echo "installing cfn-lint into $venv"
    if ensure_venv 'cfn-lint>=1,<2'; then
        cfn_lint="$venv/bin/cfn-lint"
    fi
fi
if [ -z "$cfn_lint" ]; then
    skip "cfn-lint: not installed and not installable (pip install cfn-lint)"
else
    "$cfn_lint" --version
    if "$cfn_lint" --include-checks I -- "$infra/aws/template.yaml"; then
        pass "cfn-lint: no findings"
    else
        fail "cfn-lint reported findings (above)"
    fi
fi

# ---------------------------------------------------------------------------
section "terraform infra/aliyun/terraform"
tfdir="$infra/aliyun/terraform"
if ! command -v terraform >/dev/null 2>&1; then
    skip "terraform not installed"
else
    # A TF_CLI_CONFIG_FILE that names a missing file only adds warnings.
    if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "$TF_CLI_CONFIG_FILE" ]; then
        unset TF_CLI_CONFIG_FILE
    fi
    if terraform fmt -check -recursive -diff "$tfdir"; then
        pass "terraform fmt"
    else
        fail "terraform fmt: run terraform fmt -recursive $tfdir"
    fi
    if [ -d "$tfdir/.terraform" ]; then
        if terraform -chdir="$tfdir" validate -no-color; then
            pass "terraform validate"
        else
            fail "terraform validate"
        fi
    else
        skip "terraform validate: needs \`terraform -chdir=$tfdir init -backend=false\` first (it downloads the alicloud provider)"
    fi
fi

# ---------------------------------------------------------------------------
section "shell scripts"
scripts=("$infra/aliyun/package.sh" "$infra/aws/package.sh" "$infra/package-lib.sh" "$infra/check.sh")
syntax_ok=1
for s in "${scripts[@]}"; do
    bash -n "$s" || { fail "$s does not parse"; syntax_ok=0; }
done
sh -n "$infra/aws/bootstrap" || { fail "$infra/aws/bootstrap does not parse"; syntax_ok=0; }
[ $syntax_ok = 1 ] && pass "package.sh, check.sh and bootstrap parse"
if command -v shellcheck >/dev/null 2>&1; then
    if shellcheck "${scripts[@]}" "$infra/aws/bootstrap"; then pass "shellcheck"; else fail "shellcheck"; fi
else
    skip "shellcheck not installed"
fi

# The bootstrap hands over to `updraft lambda`, or `updraft lambda --http`
# for the function whose Handler is http.
fake="$(mktemp -d)"
cp "$infra/aws/bootstrap" "$fake/bootstrap"
printf '#!/bin/sh\necho "$*"\n' >"$fake/updraft"
chmod +x "$fake/bootstrap" "$fake/updraft"
events="$(env -i LAMBDA_TASK_ROOT="$fake" _HANDLER=events /bin/sh "$fake/bootstrap")"
http="$(env -i LAMBDA_TASK_ROOT="$fake" _HANDLER=http /bin/sh "$fake/bootstrap")"
rm -rf "$fake"
if [ "$events" = "lambda" ] && [ "$http" = "lambda --http" ]; then
    pass "bootstrap: Handler events -> \`updraft lambda\`, Handler http -> \`updraft lambda --http\`"
else
    fail "bootstrap ran \`updraft $events\` and \`updraft $http\`"
fi

printf '\ninfra: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
[ "$failed" -eq 0 ]
