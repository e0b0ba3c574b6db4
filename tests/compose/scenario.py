"""What users do against the compose deployment, in steps the shell script calls
(tests/compose/run.sh): `python tests/compose/scenario.py STEP STATE_FILE`.

Environment: BASE (the gateway, e.g. http://127.0.0.1:28000), AUTH_SIGNING_KEY (the token
issuer's key: the test mints tokens with it, the web container signs people in with it, the
services have only its public key set), PROMETHEUS (e.g. http://127.0.0.1:28090). Every wait
is bounded.

Steps:
  first      an applicant applies (birth) through the gateway; the reference departments
             decide; a token is accepted by every service; the licence verifies `valid`
  submit     N applications submitted and not waited for (then routing is killed, and
             more are submitted while it is down)
  undecided  some of them wait undecided while routing is down
  decided    every application submitted so far is decided (after the restart)
  prometheus every target of the compose file's Prometheus is `up`
  screens    through the gateway: `/` is the built page (its root element, its assets), a
             page path too; `/auth/config` answers; a demo person signed in by web
             (WEB_DEV_SIGNIN=true in the test's .env) gets a token the services accept;
             web's /metrics is not public
  again      after `down` and `up` on the same volumes: the old token, the old
             applications and decisions, the old licence `valid`, and a new application
  least_privilege
             on the broker (management API, RABBITMQ_MANAGEMENT and RABBITMQ_ADMIN=user:pass):
             every service is connected as its own user and nothing of the mesh as the
             administrator; routing's user has no right on intake's queue nor on
             license.events (the refusal itself: tests/integration/test_service_broker_users.py)
  tls_department
             a department connects over AMQPS (AMQPS_PORT) as its own user, verifying the
             broker with the CA (TLS_CA) the way docs/department-guide.md says; a client
             without that CA refuses the broker (BROKER_USERS_SECRET derives the password)
"""

import json
import os
import re
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from onestop.client import Client  # noqa: E402
from onestop.common import config, tokens  # noqa: E402

APPLICANT = "430102199001011234"
TIMEOUT = 120


def say(message):
    print(f"[scenario] {message}", flush=True)


def client():
    return Client(config.env("BASE"), token=token(), key=config.env("AUTH_SIGNING_KEY"))


def token(role="applicant", sub=APPLICANT, **claims):
    return tokens.mint(role, sub, key=config.env("AUTH_SIGNING_KEY"), **claims)


def get(path, token_value, **params):
    return requests.get(
        config.env("BASE") + path,
        params=params,
        timeout=30,
        headers={"Authorization": f"Bearer {token_value}"},
    )


def every_service_accepts(applicant_token, application_id):
    """One authenticated call answered by each service behind the gateway."""
    officer = token("officer", "officer-1", office="health.430102")
    supervisor = token("supervisor", "supervisor-1")
    calls = {
        "intake": get(f"/api/applications/{application_id}", applicant_token),
        "routing": get(f"/api/applications/{application_id}/history", applicant_token),
        "routing (officer)": get("/api/officer/tasks", officer),
        "license": get("/api/licenses", applicant_token),
        "feedback": get(f"/api/applications/{application_id}/reviews", applicant_token),
        "feedback (supervisor)": get("/api/reviews/stats", supervisor),
        "catalog": get("/api/scenarios/birth", applicant_token),
    }
    bad = {name: (r.status_code, r.text[:200]) for name, r in calls.items() if r.status_code != 200}
    assert not bad, f"a service refused the token: {bad}"
    forged = tokens.mint("applicant", APPLICANT, key=os.urandom(32).hex())  # an unknown key
    assert get("/api/licenses", forged).status_code == 401, "a forged token was accepted"
    say(f"the token is accepted by every service: {', '.join(calls)}; a forged one is 401")


def verify(license):
    response = requests.post(config.env("BASE") + "/api/licenses/verify", json=license, timeout=30)
    response.raise_for_status()
    return response.json()["result"]


def outcome(view):
    return (view.get("decision") or {}).get("outcome")


def first(state):
    c = client()
    application_id = c.apply("birth")
    view = c.wait_for_decision(application_id, timeout=TIMEOUT, interval=0.5)
    assert outcome(view) == "approved", view
    deciders = [d["department"] for d in view["decision"].get("departments", [])]
    say(
        f"application {application_id} decided {outcome(view)} by the departments "
        f"{', '.join(deciders)}"
    )
    applicant_token = token()
    every_service_accepts(applicant_token, application_id)
    licenses = c.wait_for_licenses(APPLICANT, application_id, 1, timeout=TIMEOUT)
    assert licenses, "no licence was issued"
    result = verify(licenses[0])
    assert result == "valid", result
    say(f"licence {licenses[0]['id']} ({licenses[0].get('type')}) verifies: {result}")
    state.update(
        token=applicant_token, applications={application_id: "approved"}, license=licenses[0]
    )


def undecided(state):
    """While routing is down: the applications submitted around the kill wait undecided."""
    c = client()
    waiting = [a for a in state.get("pending", []) if outcome(c.application(a).json()) is None]
    assert waiting, "every application was decided before routing was killed: none in flight"
    say(
        f"routing is down: {len(waiting)} of {len(state['pending'])} applications "
        f"wait undecided (in flight)"
    )


def submit(state, count=3):
    c = client()
    ids = [c.apply("birth") for _ in range(count)]
    state.setdefault("pending", []).extend(ids)
    say(f"submitted {count} applications, not waiting: {', '.join(ids)}")


def decided(state):
    c = client()
    for application_id in state.get("pending", []):
        view = c.wait_for_decision(application_id, timeout=TIMEOUT, interval=0.5)
        assert outcome(view) == "approved", view
        state["applications"][application_id] = outcome(view)
    say(
        f"all {len(state.get('pending', []))} applications submitted before the kill are "
        f"decided: nothing lost"
    )
    state["pending"] = []


def prometheus(state):
    deadline = time.monotonic() + 90
    while True:
        targets = requests.get(config.env("PROMETHEUS") + "/api/v1/targets", timeout=10).json()[
            "data"
        ]["activeTargets"]
        health = {t["labels"]["job"]: t["health"] for t in targets}
        if health and all(h == "up" for h in health.values()):
            say(f"Prometheus scrapes {len(health)} targets, all up: {', '.join(sorted(health))}")
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"Prometheus targets not all up: {health}")
        time.sleep(3)


def screens(state):
    base = config.env("BASE")
    page = requests.get(base + "/", timeout=30)
    assert page.status_code == 200, (page.status_code, page.text[:200])
    assert page.headers["Content-Type"].startswith("text/html"), page.headers
    assert '<div id="root"></div>' in page.text, page.text[:500]
    assert "default-src 'self'" in page.headers.get("Content-Security-Policy", ""), page.headers
    scripts = re.findall(r'<script[^>]* src="(/assets/[^"]+\.js)"', page.text)
    assert scripts, f"the page loads no built script: {page.text[:500]}"
    script = requests.get(base + scripts[0], timeout=30)
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"], (
        script.status_code,
        script.headers,
    )
    assert "immutable" in script.headers.get("Cache-Control", ""), script.headers
    deep = requests.get(base + "/applications/some-application", timeout=30)
    assert deep.status_code == 200 and deep.text == page.text, deep.status_code
    say(f"the screens through the gateway: / ({len(page.text)} bytes), {scripts[0]}, page paths")
    settings = requests.get(base + "/auth/config", timeout=30)
    assert settings.status_code == 200, (settings.status_code, settings.text[:200])
    assert settings.json()["dev"] is True, settings.json()
    signed = requests.post(base + "/auth/dev/sign-in", json={"person": "applicant"}, timeout=30)
    assert signed.status_code == 200, (signed.status_code, signed.text[:200])
    listed = get("/api/applications", signed.json()["token"])
    assert listed.status_code == 200, (listed.status_code, listed.text[:200])
    say(
        f"/auth/config {settings.json()}; a demo applicant signed in by web is accepted "
        "by intake (web's key is the one whose public half the services hold)"
    )
    for private in ("/metrics", "/ready"):
        response = requests.get(base + private, timeout=30)
        assert response.status_code == 404, (private, response.status_code)
    say("web's /metrics and /ready are not public through the gateway")


def again(state):
    old_token = state["token"]
    listed = get("/api/applications", old_token)
    assert listed.status_code == 200, (listed.status_code, listed.text[:200])
    for application_id, decision in state["applications"].items():
        response = get(f"/api/applications/{application_id}", old_token)
        assert response.status_code == 200, (application_id, response.status_code)
        assert outcome(response.json()) == decision, response.json()
    say(
        f"after down/up: the old token is accepted, all {len(state['applications'])} "
        f"applications kept their decisions"
    )
    result = verify(state["license"])
    assert result == "valid", result
    wallet = get("/api/licenses", old_token).json()["licenses"]
    assert state["license"]["id"] in {lic["id"] for lic in wallet}
    say(f"after down/up: the old licence {state['license']['id']} still verifies: {result}")
    c = client()
    application_id = c.apply("birth")
    view = c.wait_for_decision(application_id, timeout=TIMEOUT, interval=0.5)
    assert outcome(view) == "approved", view
    say(f"after down/up: a new application {application_id} is decided {outcome(view)}")


def least_privilege(state):
    import re

    base = config.env("RABBITMQ_MANAGEMENT").rstrip("/")
    admin = tuple(config.env("RABBITMQ_ADMIN").split(":", 1))
    deadline = time.monotonic() + 60
    while True:
        connections = requests.get(f"{base}/api/connections", auth=admin, timeout=10).json()
        users = {c["user"] for c in connections}
        services = {f"service.{name}" for name in config.SERVICES}
        if services <= users or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert services <= users, f"services not connected as their own users: {services - users}"
    assert admin[0] not in users, f"something of the mesh connects as the administrator: {users}"
    others = users - services
    assert all(u.startswith("department.") for u in others), others
    say(
        f"broker: {len(connections)} connections, as {', '.join(sorted(services))} "
        f"and {len(others)} department users; none as the administrator"
    )
    grant = requests.get(
        f"{base}/api/users/service.routing/permissions", auth=admin, timeout=10
    ).json()[0]
    intake_queue = "evt-routing-application_updated--intake.handle_application_updated"
    assert not re.fullmatch(grant["read"], intake_queue), grant
    assert not re.fullmatch(grant["write"], "license.events"), grant
    assert re.fullmatch(grant["write"], "routing.events"), grant
    say("broker: routing's user may not read intake's queue nor publish on license.events")


def tls_department(state):
    """A department connects over AMQPS as its own user the way docs/department-guide.md
    tells the SDK's pika worker to (an amqps:// URI, the platform's CA in SSL_CERT_FILE):
    the broker is verified with the CA and its name; without that CA it is refused."""
    import ssl

    import pika

    from onestop.common import broker_users

    department = "health"
    user = broker_users.department_user(department, broker_users.DEFAULT_PREFIX)
    secret = broker_users.password(user, config.env("BROKER_USERS_SECRET"))
    uri = f"amqps://{user}:{secret}@localhost:{config.env('AMQPS_PORT')}/onestop"

    def connect():
        # pika makes the default TLS context when it reads the URI: SSL_CERT_FILE counts then
        return pika.BlockingConnection(pika.URLParameters(uri + "?connection_attempts=3"))

    os.environ["SSL_CERT_FILE"] = config.env("TLS_CA")
    connection = connect()
    try:
        connection.channel().queue_declare(f"approval.tasks.{department}", passive=True)
    finally:
        connection.close()
    say(f"department {department} connected over AMQPS as {user}, the broker verified by the CA")
    del os.environ["SSL_CERT_FILE"]
    try:
        connect().close()  # the system's trust store only
    except ssl.SSLCertVerificationError as exc:  # pika raises the handshake's own error
        say(f"without the platform's CA the broker's certificate is refused: {exc.reason}")
    else:
        raise AssertionError("a client that does not know the CA trusted the broker")


STEPS = {
    "first": first,
    "submit": submit,
    "undecided": undecided,
    "decided": decided,
    "prometheus": prometheus,
    "screens": screens,
    "again": again,
    "least_privilege": least_privilege,
    "tls_department": tls_department,
}


def main(argv):
    step, state_file = argv
    path = Path(state_file)
    state = json.loads(path.read_text()) if path.exists() else {}
    STEPS[step](state)
    path.write_text(json.dumps(state))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
