#!/usr/bin/env bash
# `make compose-test`: start docker-compose.yml for real on this machine's container engine
# (podman, Docker-compatible socket, docker-compose 1.29) and use it as users would.
#
#  1. podman with tests/compose/containers.conf (runc, no default ulimits), its own storage
#     under $COMPOSE_TEST_CACHE (images are cached between runs) and `podman system service`
#     on a socket of its own;
#  2. images built locally (no registry is reachable): a Debian bookworm base by debootstrap,
#     RabbitMQ and Prometheus from Debian's packages, the mesh from the project's Dockerfile
#     on Debian's python3 (tests/compose/images/*.Containerfile);
#  3. docker-compose.yml + deploy/compose/local-images.yml, profile demo, a fresh .env of
#     strong random secrets; every container healthy;
#  4. tests/compose/scenario.py: an application decided, a token accepted everywhere, the
#     licence valid, Prometheus targets up, the screens and their sign-in through the
#     gateway (a demo person's token accepted); routing killed with applications in flight and
#     started again: all decided; `down` and `up` on the same volumes: data, tokens and
#     licences kept;
#  5. everything it started is removed (containers, networks, volumes, the podman service),
#     also on failure.
# Host ports 28000 (gateway), 28090 (Prometheus), 28672 (RabbitMQ management), 28671
# (AMQPS for departments): apart from
# `make run` (8000-8013) and the test suites (18000+). Needs root (podman as root).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
START=$(date +%s)
CACHE="${COMPOSE_TEST_CACHE:-/var/cache/onestop-compose-test}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PUBLIC_PORT="${COMPOSE_TEST_PORT:-28000}"
PROMETHEUS_PORT=$((PUBLIC_PORT + 90))
RABBITMQ_MANAGEMENT_PORT=$((PUBLIC_PORT + 672))
AMQPS_PORT=$((PUBLIC_PORT + 671))
PROJECT="onestopct$$"
UP_TIMEOUT=420      # seconds for `up` and every container healthy
STEP_TIMEOUT=300    # seconds for any one scenario step

log() { echo "[compose-test +$(( $(date +%s) - START ))s] $*"; }
die() { log "FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (podman runs the containers as root here)"
# the container engine from Debian's packages, installed when missing (a fresh machine):
# podman with runc (crun refuses this host's hybrid cgroups), its network stack (netavark,
# aardvark-dns, iptables: not pulled in by podman here), debootstrap for the base image
missing=()
for pkg in podman runc netavark aardvark-dns iptables debootstrap docker-compose; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || die "could not install ${missing[*]} (Debian packages)"
fi
for tool in podman docker-compose debootstrap; do
    command -v "$tool" >/dev/null || die "$tool is missing: apt-get install podman runc docker-compose debootstrap"
done
[ -x /usr/sbin/runc ] || die "/usr/sbin/runc is missing: apt-get install runc"

# the image carries the screens as the setup built them (services/web/dist, not committed)
web=services/web
[ -f "$web/dist/index.html" ] || die "$web/dist is missing: run make setup (it builds the screens)"
stale=$(find "$web/frontend" -path "$web/frontend/node_modules" -prune -o -type f \
    -newer "$web/dist/index.html" -print -quit)
[ -z "$stale" ] || die "$web/dist is older than $stale: run make setup (it rebuilds the screens)"

mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock -w 900 9 || die "another compose test holds $CACHE/lock"

RUNDIR="$(mktemp -d /run/onestop-compose-test.XXXXXX)"
cat > "$RUNDIR/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$CACHE/storage"
runroot = "$RUNDIR/storage"
EOF
export CONTAINERS_CONF="$ROOT/tests/compose/containers.conf"
export CONTAINERS_STORAGE_CONF="$RUNDIR/storage.conf"
export DOCKER_HOST="unix://$RUNDIR/podman.sock"
export COMPOSE_HTTP_TIMEOUT=300
SERVICE_PID=""
HEALTH_PID=""

DC=(docker-compose -p "$PROJECT" --env-file "$RUNDIR/env" -f docker-compose.yml
    -f deploy/compose/local-images.yml --profile demo)
dc() { "${DC[@]}" "$@"; }

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ "$rc" != 0 ] && [ -S "$RUNDIR/podman.sock" ]; then
        log "failed (exit $rc): containers and their last log lines"
        dc ps 2>&1 || true
        dc logs --no-color --tail 40 2>&1 | tail -400 || true
    fi
    log "cleaning up: containers, networks, volumes, podman service"
    [ -n "$HEALTH_PID" ] && kill "$HEALTH_PID" 2>/dev/null
    if [ -S "$RUNDIR/podman.sock" ]; then
        timeout 120 "${DC[@]}" --profile grafana down -v --remove-orphans --timeout 10 >/dev/null 2>&1 || true
    fi
    # whatever compose did not remove (labels name the project)
    podman ps -aq --filter "label=com.docker.compose.project=$PROJECT" | xargs -r podman rm -f >/dev/null 2>&1 || true
    podman volume ls -q --filter "label=com.docker.compose.project=$PROJECT" | xargs -r podman volume rm -f >/dev/null 2>&1 || true
    podman network ls -q --filter "label=com.docker.compose.project=$PROJECT" | xargs -r podman network rm -f >/dev/null 2>&1 || true
    [ -n "$SERVICE_PID" ] && kill "$SERVICE_PID" 2>/dev/null && wait "$SERVICE_PID" 2>/dev/null
    rm -rf "$RUNDIR"
    log "done (exit $rc) in $(( $(date +%s) - START ))s"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- images (cached in $CACHE/storage; a changed Containerfile gets a new tag) --------
content_tag() { cat "$@" | sha256sum | cut -c1-12; }

build_base() {
    podman image exists onestop-base:bookworm && return 0
    if [ ! -e "$CACHE/rootfs/.complete" ]; then
        log "base image: debootstrap --variant=minbase bookworm from $DEBIAN_MIRROR"
        rm -rf "$CACHE/rootfs"
        timeout 900 debootstrap --variant=minbase bookworm "$CACHE/rootfs" "$DEBIAN_MIRROR" \
            > "$CACHE/debootstrap.log" 2>&1 || die "debootstrap failed: see $CACHE/debootstrap.log"
        touch "$CACHE/rootfs/.complete"
    fi
    # this machine's own certificate authorities (pip reaches PyPI through them): kept by
    # update-ca-certificates when packages are installed in the images
    if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
        mkdir -p "$CACHE/rootfs/usr/local/share/ca-certificates"
        cp /usr/local/share/ca-certificates/*.crt "$CACHE/rootfs/usr/local/share/ca-certificates/"
    fi
    mkdir -p "$CACHE/rootfs/etc/ssl/certs"
    cp /etc/ssl/certs/ca-certificates.crt "$CACHE/rootfs/etc/ssl/certs/ca-certificates.crt"
    rm -rf "$CACHE/rootfs/var/cache/apt/archives/"*.deb "$CACHE/rootfs/var/lib/apt/lists/"*
    tar -C "$CACHE/rootfs" --exclude ./.complete -c . | podman import \
        --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
        --change 'CMD ["/bin/bash"]' - onestop-base:bookworm >/dev/null
    rm -rf "$CACHE/rootfs"
}

build_local() {  # name containerfile [extra files]: prints the image name
    local name=$1 file=$2
    local image="$name:local-$(content_tag "tests/compose/images/$file" "${@:3}")"
    if ! podman image exists "$image"; then
        log "building $image from tests/compose/images/$file" >&2
        timeout 900 podman build -q -f "tests/compose/images/$file" -t "$image" \
            tests/compose/images > "$RUNDIR/build-$name.log" 2>&1 \
            || { cat "$RUNDIR/build-$name.log" >&2; die "building $image failed"; }
    fi
    echo "$image"
}

log "podman $(podman --version | awk '{print $3}'), runtime runc, storage $CACHE/storage"
build_base
PYTHON_IMAGE=$(build_local onestop-python python.Containerfile)
RABBITMQ_LOCAL_IMAGE=$(build_local onestop-rabbitmq rabbitmq.Containerfile tests/compose/images/rabbitmq-entrypoint.sh)
PROMETHEUS_LOCAL_IMAGE=$(build_local onestop-prometheus prometheus.Containerfile)
log "building onestop:compose-test from the project's Dockerfile on $PYTHON_IMAGE"
# the build stage (the virtualenv from requirements.txt) tagged, so that pruning keeps it
# cached: later runs install nothing unless requirements.txt changed
timeout 900 podman build -q --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" --target build \
    -t onestop-build:compose-test . > "$RUNDIR/build-app.log" 2>&1 \
    && timeout 900 podman build -q --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" \
        -t onestop:compose-test . >> "$RUNDIR/build-app.log" 2>&1 \
    || { cat "$RUNDIR/build-app.log"; die "building the mesh image failed"; }
podman image prune -f >/dev/null 2>&1 || true   # layers of earlier builds: the cache stays bounded
log "images ready: $PYTHON_IMAGE $RABBITMQ_LOCAL_IMAGE $PROMETHEUS_LOCAL_IMAGE onestop:compose-test"

# --- the podman service (Docker-compatible API) -----------------------------------------
podman system service --time=0 "$DOCKER_HOST" > "$RUNDIR/podman-service.log" 2>&1 &
SERVICE_PID=$!
for _ in $(seq 100); do [ -S "$RUNDIR/podman.sock" ] && break; sleep 0.2; done
[ -S "$RUNDIR/podman.sock" ] || die "podman system service did not open $DOCKER_HOST"
# podman schedules health checks with systemd timers; with no systemd here, run them
# ourselves, as the timers would: every 4 s while a container is not yet healthy, every
# 30 s once it is (each check is a Python process: keep the two cores for the mesh)
( round=0
  while sleep 4; do
      round=$((round + 1))
      for id in $(podman ps -q --filter "label=com.docker.compose.project=$PROJECT"); do
          status=$(podman inspect --format '{{if .State.Healthcheck}}{{.State.Healthcheck.Status}}{{end}}' "$id" 2>/dev/null || true)
          [ -z "$status" ] && continue
          [ "$status" = healthy ] && [ $((round % 8)) != 0 ] && continue
          podman healthcheck run "$id" >/dev/null 2>&1 || true
      done
  done ) &
HEALTH_PID=$!

# --- AMQPS: the broker's certificate (ops.cli certs), its CA for the department ---------
# the key readable by the broker's user inside the container (the directory is the run's own)
"$PY" -m ops.cli certs --out "$RUNDIR/tls" --host localhost --ip 127.0.0.1 --key-mode 644 \
    >/dev/null || die "ops.cli certs failed"
chmod 755 "$RUNDIR/tls"

# --- .env: strong random secrets, the test's own ports and images ---------------------
# the token issuer's key (an Ed25519 seed): the test mints tokens with it, and of the
# containers only web (the screens' sign-in) has it; the services get its public half
export AUTH_SIGNING_KEY="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
{
    # shellcheck disable=SC2046  # a broker and a store password per service of the inventory
    "$PY" -m ops.cli secret --env RABBITMQ_PASSWORD MONGO_PASSWORD BROKER_USERS_SECRET \
        GRAFANA_ADMIN_PASSWORD $("$PY" -c 'from onestop.common import broker_users, config
from ops.deploy.compose import store_password_variable as store
print(*map(broker_users.service_password_variable, config.SERVICES), *map(store, config.SERVICES))')
    # the services get only the public keys; the issuer's key goes to web alone
    echo "AUTH_PUBLIC_KEYS=$(AUTH_SIGNING_KEY="$AUTH_SIGNING_KEY" "$PY" -m ops.cli token keys)"
    echo "AUTH_SIGNING_KEY=$AUTH_SIGNING_KEY"
    cat <<EOF
WEB_DEV_SIGNIN=true
RABBITMQ_USER=onestop
MONGO_USER=onestop
PUBLIC_PORT=$PUBLIC_PORT
PROMETHEUS_PORT=$PROMETHEUS_PORT
RABBITMQ_MANAGEMENT_PORT=$RABBITMQ_MANAGEMENT_PORT
AMQPS_PORT=$AMQPS_PORT
RABBITMQ_TLS_DIR=$RUNDIR/tls
GRAFANA_PORT=$((PUBLIC_PORT + 30))
ONESTOP_IMAGE=onestop:compose-test
RABBITMQ_LOCAL_IMAGE=$RABBITMQ_LOCAL_IMAGE
PROMETHEUS_LOCAL_IMAGE=$PROMETHEUS_LOCAL_IMAGE
EOF
} > "$RUNDIR/env"
chmod 600 "$RUNDIR/env"
export BASE="http://127.0.0.1:$PUBLIC_PORT" PROMETHEUS="http://127.0.0.1:$PROMETHEUS_PORT"
export RABBITMQ_MANAGEMENT="http://127.0.0.1:$RABBITMQ_MANAGEMENT_PORT"
RABBITMQ_ADMIN="onestop:$(sed -n 's/^RABBITMQ_PASSWORD=//p' "$RUNDIR/env")"
export RABBITMQ_ADMIN
export AMQPS_PORT TLS_CA="$RUNDIR/tls/ca.pem"
BROKER_USERS_SECRET="$(sed -n 's/^BROKER_USERS_SECRET=//p' "$RUNDIR/env")"
export BROKER_USERS_SECRET
STATE="$RUNDIR/state.json"
step() { timeout "$STEP_TIMEOUT" "$PY" tests/compose/scenario.py "$1" "$STATE" || die "step $1"; }

# --- a placeholder secret is refused, with a message naming it -------------------------
log "a container with the .env.example placeholder refuses to start"
if out=$(timeout 120 "${DC[@]}" run --rm --no-deps \
        -e BROKER_USERS_SECRET=CHANGE-ME-broker-users-secret catalog 2>&1); then
    die "catalog started with a placeholder BROKER_USERS_SECRET"
fi
echo "$out" | grep -q "BROKER_USERS_SECRET is still the placeholder" \
    || { echo "$out"; die "the refusal does not name BROKER_USERS_SECRET"; }
log "refused: $(echo "$out" | grep -m1 'BROKER_USERS_SECRET is still')"

wait_healthy() {
    local deadline=$(( $(date +%s) + UP_TIMEOUT )) line bad
    while true; do
        bad=""
        for id in $(dc ps -q); do
            line=$(podman inspect --format '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{.State.Healthcheck.Status}}' "$id")
            set -- $line
            case "$1" in *broker-setup*) [ "$2" = exited ] && [ "$3" = 0 ] && continue ;; esac
            [ "$2" = running ] && [ "${4:-}" = healthy ] && continue
            bad="$bad $1($2/${4:-no health})"
        done
        [ -z "$bad" ] && break
        [ "$(date +%s)" -gt "$deadline" ] && die "not healthy after ${UP_TIMEOUT}s:$bad"
        sleep 3
    done
    log "every service healthy:"
    dc ps
}

up() {
    log "docker-compose up -d (profile demo)"
    timeout "$UP_TIMEOUT" "${DC[@]}" up -d --no-build || die "docker-compose up failed"
    wait_healthy
}

up
step first
step prometheus
step screens            # the page and the sign-in through the gateway, web's token accepted
step least_privilege    # every service as its own broker user, none as the administrator
step tls_department     # a department over AMQPS, the broker verified with the CA

log "routing killed with applications in flight, then started again"
step submit            # applications on their way through routing ...
dc kill -s SIGKILL routing
step submit            # ... and more, accepted while routing is down
step undecided
dc start routing
wait_healthy
step decided

log "docker-compose down (volumes kept), then up again"
timeout 180 "${DC[@]}" down --timeout 20
up
step again
log "PASSED in $(( $(date +%s) - START ))s"
