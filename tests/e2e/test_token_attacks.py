"""Attacks on the bearer tokens, against the mesh as `make run` starts it (issues 13, 14;
docs/adr/0015): a revoked token, a subject whose tokens were revoked, a token that lives
30 days, one without a jti, one signed with a key the services do not hold, an old
shared-key (HS256) token. Each is tried on every service that authenticates, directly on
its own port and through the gateway; a revocation must hold after a service restarts,
also one sent while the service was down."""

import subprocess
import sys
import time
import uuid

import jwt
import pytest
import requests

from onestop.common import tokens
from tests.support.mesh import PORT_BASE, ROOT, TEST_VHOST, reset_vhost
from tests.support.processes import ProcessMesh

HOLDER = "430102199001011234"
# one GET per service that authenticates, which a supervisor may make (the catalog is open)
PROBES = {
    "intake": f"/api/applications?applicant={HOLDER}",
    "routing": "/api/supervision/overdue",
    "license": f"/api/licenses?holder={HOLDER}",
    "feedback": "/api/reviews/stats",
}
AT_ONCE_SECONDS = 3


def service_url(mesh, service):
    return f"http://127.0.0.1:{mesh.port_base + {'intake': 2, 'routing': 3, 'license': 4, 'feedback': 5}[service]}"


def statuses(mesh, token, gateway=True):
    """service -> status of its probe with this token (and the gateway's, for one path)."""
    headers = {"Authorization": f"Bearer {token}"}
    found = {
        service: requests.get(
            service_url(mesh, service) + path, headers=headers, timeout=10
        ).status_code
        for service, path in PROBES.items()
    }
    if gateway:
        found["gateway"] = requests.get(
            mesh.base + PROBES["intake"], headers=headers, timeout=10
        ).status_code
    return found


def everywhere(status, gateway=True):
    return {s: status for s in [*PROBES, *(["gateway"] if gateway else [])]}


def wait_for(mesh, token, status, timeout=AT_ONCE_SECONDS):
    """Seconds until every service answers `status` to the token (AssertionError if not)."""
    started = time.monotonic()
    while True:
        found = statuses(mesh, token)
        if found == everywhere(status):
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"after {timeout}s: {found}")
        time.sleep(0.05)


def revoke(mesh, *args):
    run = subprocess.run(
        [sys.executable, "-m", "ops.cli", "token", "revoke", *args],
        cwd=ROOT,
        env=mesh.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def supervisor(mesh, sub, **kwargs):
    return tokens.mint("supervisor", sub, key=mesh.env["AUTH_SIGNING_KEY"], **kwargs)


def jti_of(token):
    return jwt.decode(token, options={"verify_signature": False})["jti"]


def test_a_revoked_token_is_refused_by_every_service_at_once(mesh):
    sub = f"sup-{uuid.uuid4().hex[:8]}"
    stolen, kept = supervisor(mesh, sub), supervisor(mesh, sub)
    assert statuses(mesh, stolen) == everywhere(200)
    revoke(mesh, "--jti", jti_of(stolen))
    print(f"revoked jti refused everywhere after {wait_for(mesh, stolen, 401):.3f}s")
    body = requests.get(
        service_url(mesh, "routing") + PROBES["routing"],
        headers={"Authorization": f"Bearer {stolen}"},
        timeout=10,
    ).json()
    assert body["error"] == "unauthorized" and "revoked" in body["message"]
    assert statuses(mesh, kept) == everywhere(200)  # the same person's other token


def test_revoking_a_subject_refuses_every_token_issued_until_then(mesh):
    sub = f"sup-{uuid.uuid4().hex[:8]}"
    earlier = [supervisor(mesh, sub, now=time.time() - 600), supervisor(mesh, sub)]
    bystander = supervisor(mesh, f"sup-{uuid.uuid4().hex[:8]}")
    revoke(mesh, "--sub", sub)
    for token in earlier:
        wait_for(mesh, token, 401)
    assert statuses(mesh, bystander) == everywhere(200)
    time.sleep(1.1)  # iat is in whole seconds: a token of the next second is a new login
    assert statuses(mesh, supervisor(mesh, sub)) == everywhere(200)


def forged(mesh, key=None, drop=(), algorithm="EdDSA", **claims):
    """A supervisor token signed with `key` (default: the mesh's own issuer key)."""
    now = int(time.time())
    payload = {
        "iss": tokens.ISSUER,
        "aud": tokens.AUDIENCE,
        "sub": "sup-forger",
        "role": "supervisor",
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        **claims,
    }
    for name in drop:
        payload.pop(name)
    issuer = tokens.load_private_key(mesh.env["AUTH_SIGNING_KEY"])
    signer = tokens.load_private_key(key) if key else issuer
    kid = tokens.kid_of(issuer.public_key())
    return jwt.encode(
        payload,
        signer if algorithm == "EdDSA" else mesh.env["AUTH_SIGNING_KEY"],
        algorithm=algorithm,
        headers={"kid": kid},
    )


@pytest.mark.parametrize(
    "attack",
    [
        "thirty days",
        "thirty-day applicant",
        "no jti",
        "no iat",
        "stranger's key",
        "stranger's key under its own kid",
        "old shared-key HS256",
    ],
)
def test_forged_and_overlong_tokens_are_refused_everywhere(mesh, attack):
    now = int(time.time())
    stranger = "5e" * 32
    token = {
        "thirty days": lambda: forged(mesh, exp=now + 30 * 86400),
        "thirty-day applicant": lambda: forged(
            mesh, role="applicant", sub=HOLDER, exp=now + 30 * 86400
        ),
        "no jti": lambda: forged(mesh, drop=["jti"]),
        "no iat": lambda: forged(mesh, drop=["iat"]),
        "stranger's key": lambda: forged(mesh, key=stranger),
        "stranger's key under its own kid": lambda: tokens.mint("supervisor", "s", key=stranger),
        "old shared-key HS256": lambda: forged(mesh, algorithm="HS256"),
    }[attack]()
    assert statuses(mesh, token) == everywhere(401)
    # the same claims within the rules are accepted: it is the attack that is refused
    assert statuses(mesh, forged(mesh), gateway=False) == everywhere(200, gateway=False)


def test_the_cli_says_so_when_no_service_listens_for_revocations(tmp_path):
    vhost = f"{TEST_VHOST}_tokens_empty"
    env = dict(mesh_env_of(tmp_path, reset_vhost(vhost)))
    run = subprocess.run(
        [sys.executable, "-m", "ops.cli", "token", "revoke", "--sub", "x"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 3 and "no service listens" in run.stderr


def mesh_env_of(data_dir, amqp_uri):
    from tests.support.mesh import mesh_env

    return mesh_env(data_dir, amqp_uri, PORT_BASE + 500)


@pytest.fixture(scope="module")
def restartable(tmp_path_factory):
    mesh = ProcessMesh(
        tmp_path_factory.mktemp("tokens"), reset_vhost(f"{TEST_VHOST}_tokens"), PORT_BASE + 500
    ).start()
    yield mesh
    mesh.stop()


def test_revocations_survive_a_restart_and_reach_a_service_that_was_down(restartable):
    mesh = restartable
    revoked_before = supervisor(mesh, f"sup-{uuid.uuid4().hex[:8]}")
    revoke(mesh, "--jti", jti_of(revoked_before))
    wait_for(mesh, revoked_before, 401)
    mesh.kill("license")
    sub = f"sup-{uuid.uuid4().hex[:8]}"
    revoked_while_down = supervisor(mesh, sub)
    revoke(mesh, "--sub", sub)  # license is down: its durable queue keeps the event
    for name in ("intake", "license"):
        mesh.restart(name)
    mesh.wait_healthy()
    assert statuses(mesh, revoked_before) == everywhere(401)
    wait_for(mesh, revoked_while_down, 401)
    assert statuses(mesh, supervisor(mesh, f"sup-{uuid.uuid4().hex[:8]}")) == everywhere(200)
