"""The operators' command line: `python -m ops.cli <command>`.

    broker-users provision            create/update the department users in AMQP_URI's vhost
    broker-users uri DEPARTMENT       the AMQP URI a department's consumer connects with
    broker-users definitions          RabbitMQ definitions of the department users
    token --role ROLE --sub SUB ...   mint a bearer token for the HTTP API (the issuer's key)
    token revoke --jti JTI | --sub SUB
                                      refuse one token, or every token of a subject issued
                                      until now, in every service at once
    token keys [--also JWKS_FILE]     the public key set (JWKS) the services verify with
    certs --out DIR --host NAME       a CA and the broker's AMQPS server certificate
                                      (external departments; ops/certs.py)
    dead-letters list                 what waits in the dead-letter queue, and why
    dead-letters replay ID... | --all send messages back to the queue they failed in
    dead-letters discard ID... | --all --into FILE
                                      remove messages, kept in a JSON-lines file
    statistics recount [--repair] [--json]
                                      recompute the published statistics from feedback's
                                      stored applications, reviews and cases and compare
                                      them with the incrementally kept buckets (exit 1 when
                                      they differ); --repair rewrites the buckets
    tallies check feedback|license [--rebuild] [--json]
                                      recount the review statistics (feedback) or licences by
                                      type and status (license) from every document and
                                      compare with the tallies kept on write (exit 1 when
                                      they differ); --rebuild rebuilds them (docs/adr/0016)

Configuration comes from the environment, as for the services (AMQP_URI, MONGO_URI,
BROKER_USERS_SECRET or DATA_DIR, BROKER_USER_PREFIX, AUTH_SIGNING_KEY).
docs/operations.md, "Token keys and rotation", and docs/adr/0015.
"""

import argparse
import json
import sys
from pathlib import Path

from onestop.common import broker_users

ROOT = Path(__file__).resolve().parents[1]
DEPARTMENT_USERS_FILE = ROOT / "deploy" / "rabbitmq" / "department-users.json"


def catalog_departments():
    from services.catalog.domain import load_data

    return sorted(d["code"] for d in load_data()["departments"])


def deployment_definitions():
    """The committed deploy/rabbitmq/department-users.json: no passwords, vhost '/'."""
    return broker_users.definitions(catalog_departments(), "/", prefix=broker_users.DEFAULT_PREFIX)


def render(body):
    return json.dumps(body, indent=2) + "\n"


def broker_users_command(args):
    if args.action == "provision":
        users = broker_users.provision(
            args.department or catalog_departments(), management_url=args.management_url
        )
        print(f"{len(users)} department users ready: {', '.join(users)}")
    elif args.action == "uri":
        if len(args.department) != 1:
            sys.exit("name exactly one department")
        print(broker_users.amqp_uri_for(args.department[0]))
    elif args.action == "definitions":
        if args.write:
            DEPARTMENT_USERS_FILE.parent.mkdir(parents=True, exist_ok=True)
            DEPARTMENT_USERS_FILE.write_text(render(deployment_definitions()))
            print(f"wrote {DEPARTMENT_USERS_FILE.relative_to(ROOT)}")
            return 0
        key = broker_users.secret() if args.with_passwords else None
        print(
            render(
                broker_users.definitions(args.department or catalog_departments(), args.vhost, key)
            ),
            end="",
        )
    return 0


def token_command(args):
    """mint (default), revoke, keys. Exit status: 0 done, 2 bad usage, 3 the broker could
    not be used or no service listens for revocations."""
    from onestop.common import tokens

    if args.action == "revoke":
        return revoke_command(args)
    if args.action == "keys":
        keys = tokens.jwks(tokens.signing_key())
        for path in args.also or ():
            known = {k["kid"] for k in keys["keys"]}
            extra = json.loads(Path(path).read_text())
            tokens.KeySet.from_jwks(extra)  # checked before it is handed out
            keys["keys"] += [k for k in extra["keys"] if k.get("kid") not in known]
        print(json.dumps(keys, separators=(",", ":")))  # one line: for .env and a ConfigMap
        return 0
    if not (args.role and args.sub):
        print("token: --role and --sub are required to mint a token", file=sys.stderr)
        return 2
    if args.role == "clerk" and not args.region:
        # a clerk without a counter region cannot apply (docs/adr/0020-staff-scopes.md)
        print("token: a clerk's token needs --region (their counter's region)", file=sys.stderr)
        return 2
    claims = {
        k: v
        for k, v in (("office", args.office), ("name", args.name), ("region", args.region))
        if v
    }
    try:
        print(tokens.mint(args.role, args.sub, ttl_seconds=args.ttl, **claims))
    except ValueError as exc:
        sys.exit(str(exc))
    return 0


def revoke_command(args):
    from nameko.amqp.publish import UndeliverableMessage
    from onestop.common import auth, tokens

    if bool(args.jti) == bool(args.sub):
        print(
            "token revoke: give --jti (one token) or --sub (every token of a subject)",
            file=sys.stderr,
        )
        return 2
    try:
        entry = auth.publish_revocation(tokens.revocation(jti=args.jti, sub=args.sub, by="ops.cli"))
    except ValueError as exc:
        print(f"token revoke: {exc}", file=sys.stderr)
        return 2
    except UndeliverableMessage:
        print(
            "token revoke: no service listens for revocations on this broker (has the mesh "
            "ever started here?); nothing was revoked",
            file=sys.stderr,
        )
        return 3
    except Exception as exc:  # the broker cannot be reached
        print(
            f"token revoke: the broker could not be used: {type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return 3
    what = f"token {args.jti}" if args.jti else "every token of that subject issued until now"
    print(
        f"revoked {what} (revocation {entry['id'].split(':', 1)[0]}, kept until "
        f"{entry['expires_at']}); every service refuses it from now on"
    )
    return 0


def dead_letters_command(args):
    """list, replay or discard. Exit status: 0 done, 1 something asked for was not done or
    not found, 2 bad usage, 3 the broker, the queue or the file could not be used."""
    from pika.exceptions import AMQPError
    from ops.dead_letters import BrokerLost, DeadLetterQueue, ReplayFailed, open_discard_file

    if args.action != "list" and not (args.all or args.id):
        print(
            f"name the messages to {args.action} (message ids or keys), or give --all",
            file=sys.stderr,
        )
        return 2
    if args.action == "discard":
        if not args.into:
            print(
                "discard keeps what it removes: give --into FILE (JSON lines, appended)",
                file=sys.stderr,
            )
            return 2
        try:  # before anything is taken: a file that cannot be written stops it all
            open_discard_file(args.into).close()
        except OSError as exc:
            print(f"dead-letters: cannot write {args.into}: {exc}", file=sys.stderr)
            return 3
    try:
        with DeadLetterQueue() as queue:
            if args.action == "list":
                listing = _dead_letter_listing(queue, args)
            else:
                return _settle_dead_letters(queue, args)
    except (LookupError, AMQPError, OSError, ReplayFailed, BrokerLost) as exc:
        print(f"dead-letters: {str(exc) or type(exc).__name__}", file=sys.stderr)
        return 3
    print(listing)  # after every message is back in its place
    return 0


def _dead_letter_listing(queue, args):
    limit = 50 if args.limit is None else args.limit
    shown, seen = [], 0
    for letter in queue.walk():
        if args.queue and letter.queue != args.queue:
            continue
        seen += 1
        if len(shown) < limit:
            shown.append(letter.summary())
        if seen % 1000 == 0:
            print(f"looked at {seen} ...", file=sys.stderr)
    if args.json:
        return json.dumps({"waiting": seen, "dead_letters": shown}, indent=2, default=str)
    lines = [
        f"{seen} message(s) in the dead-letter queue"
        + (f" from {args.queue}" if args.queue else "")
        + (f"; the first {len(shown)}:" if shown else ".")
    ]
    for s in shown:
        lines.append(
            f"- key {s['key']}  message {s['id']}  {s['type'] or '?'}  "
            f"application {s['correlation_id'] or '?'}\n"
            f"    failed in {s['queue'] or '?'} at {s['at'] or '?'}"
            + (f" (replayed {s['replays']} time(s) before)" if s["replays"] else "")
            + (f", sent by {s['sender']}" if s["sender"] else "")
            + f"\n    why: {s['reason']}"
        )
    return "\n".join(lines)


def _settle_dead_letters(queue, args):
    from ops.dead_letters import BrokerLost, ReplayFailed

    wanted, found = set(args.id), set()
    done = failed = 0
    for letter in queue.walk():
        if args.queue and letter.queue != args.queue:
            continue
        picked = {letter.id, letter.key} & wanted
        if not (args.all or picked):
            continue
        found |= picked
        where = f"{letter.key} (message {letter.id})"
        try:
            if args.action == "replay":
                queue.replay(letter)
                print(f"{where}: replayed to {letter.queue}")
            else:
                queue.discard(letter, args.into)
                print(f"{where}: discarded into {args.into}")
            done += 1
        except BrokerLost as exc:
            failed += 1
            print(f"{where}: {exc}; stopped here, the rest is left in the queue", file=sys.stderr)
            break
        except (ReplayFailed, OSError) as exc:
            failed += 1
            print(f"{where}: not done, left in the queue: {exc}", file=sys.stderr)
        except Exception as exc:  # one odd message must not stop the others
            failed += 1
            print(
                f"{where}: not done, left in the queue: {type(exc).__name__}: {exc}",
                file=sys.stderr,
            )
    missing = sorted(wanted - found)
    for asked in missing:
        print(
            f"{asked}: no such dead letter" + (f" from {args.queue}" if args.queue else ""),
            file=sys.stderr,
        )
    print(f"{args.action}: {done} done, {failed} not done, {len(missing)} not found")
    return 1 if failed or missing else 0


# secrets that are keys: the token issuer's is an Ed25519 seed, 64 hex digits (tokens.py)
HEX_SECRETS = ("AUTH_SIGNING_KEY",)


def secret_command(args):
    """A URL-safe random secret (256 bits), good in .env and inside AMQP/MongoDB URIs; for
    AUTH_SIGNING_KEY a random Ed25519 seed (64 hex digits), which is what it must be."""
    import secrets
    from onestop.common.config import require_secret

    for name in args.env or [None]:
        make = secrets.token_hex if name in HEX_SECRETS else secrets.token_urlsafe
        value = require_secret(name or "secret", make(32))
        print(f"{name}={value}" if name else value)
    return 0


def statistics_recount(store, repair=False):
    """The published statistics recounted from feedback's store: {"buckets", "differences",
    "equal", "repaired"}; with `repair`, the buckets are rewritten from the recount when they
    differ (docs/operations.md, "Published statistics")."""
    from services.feedback import statistics

    contributions = statistics.contributions(
        store.all_facts(), store.all_reviews(), store.all_cases()
    )
    recounted = statistics.add_up(contributions.values())
    differences = statistics.compare(store.all_buckets(), recounted)
    if differences and repair:
        store.replace_buckets(recounted, contributions)
    return {
        "buckets": len(recounted),
        "differences": [
            {"bucket": key, "figure": figure, "kept": kept, "recounted": value}
            for key, figure, kept, value in differences
        ],
        "equal": not differences,
        "repaired": bool(differences and repair),
    }


def with_store(service, store_class, run):
    """run(store) with a store of `service`'s own database, connection closed after."""
    from onestop.common import config
    from onestop.common.mongo import connect

    client = connect()
    try:
        return run(store_class(client[config.db_name(service)]))
    finally:
        client.close()


def report_recount(args, result, lines, subject, fixed_key, fixed_words):
    """Print a recount (JSON with --json: the result; else each difference line, then
    '<subject>: equal | N differences[; <fixed_words>]'); its exit status: 0 when equal
    or fixed, 1 when the differences stay."""
    fixed = result[fixed_key]
    if args.json:
        sys.stdout.write(render(result))
    else:
        for line in lines:
            print(line)
        state = "equal" if result["equal"] else f"{len(result['differences'])} differences"
        print(f"{subject}: {state}" + (f"; {fixed_words}" if fixed else ""))
    return 0 if result["equal"] or fixed else 1


def statistics_command(args):
    from services.feedback.statistics_store import StatisticsStore

    result = with_store(
        "feedback",
        StatisticsStore,
        lambda store: statistics_recount(store, repair=args.repair),
    )
    lines = [
        f"{d['bucket']} {d['figure']}: kept {d['kept']}, recounted {d['recounted']}"
        for d in result["differences"]
    ]
    return report_recount(
        args,
        result,
        lines,
        f"{result['buckets']} buckets recounted",
        "repaired",
        "buckets rewritten from the recount",
    )


def certs_command(args):
    from ops import certs

    try:
        paths = certs.make(args.out, args.host, args.ip, int(args.key_mode, 8))
    except (ValueError, FileExistsError) as exc:
        print(f"certs: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"wrote {path}")
    print("give departments ca.pem; keep ca.key offline (it signs the next certificate)")
    return 0


def tallies_check(service, store, now, rebuild=False):
    """The tallies a service keeps on write (docs/adr/0016) against a recount from every
    document: {"service", "differences", "equal", "rebuilt"}; with `rebuild`, the tallies
    are rebuilt from the documents when they differ."""
    if service == "feedback":
        found = store.check_review_tallies(now)
        differences = [
            {"dimension": dimension, "kept": both["tallied"], "recounted": both["recounted"]}
            for dimension, both in sorted(found.items())
        ]
    else:
        kept, recounted = store.count_by_type_and_status(now), store.recount_by_type_and_status(now)
        differences = [
            {"license_type": key[0], "status": key[1], "kept": kept.get(key, 0), "recounted": n}
            for key, n in sorted({**{k: 0 for k in kept}, **recounted}.items())
            if kept.get(key, 0) != n
        ]
    if differences and rebuild:
        if service == "feedback":
            store.rebuild_review_tallies(now)
        else:
            store.rebuild_tallies()
    return {
        "service": service,
        "differences": differences,
        "equal": not differences,
        "rebuilt": bool(differences and rebuild),
    }


def tallies_command(args):
    from onestop.common.clock import utcnow
    from services.feedback.store import FeedbackStore
    from services.license.store import LicenseStore

    result = with_store(
        args.service,
        FeedbackStore if args.service == "feedback" else LicenseStore,
        lambda store: tallies_check(args.service, store, utcnow(), rebuild=args.rebuild),
    )
    lines = [json.dumps(d, ensure_ascii=False, sort_keys=True) for d in result["differences"]]
    return report_recount(
        args, result, lines, f"{args.service} tallies", "rebuilt", "rebuilt from the documents"
    )


def parser():
    top = argparse.ArgumentParser(
        prog="python -m ops.cli", description="One-step Approval operators' command line"
    )
    commands = top.add_subparsers(dest="command", required=True)

    users = commands.add_parser("broker-users", help="the departments' RabbitMQ users")
    users.add_argument("action", choices=["provision", "uri", "definitions"])
    users.add_argument("department", nargs="*", help="department codes (default: the catalog's)")
    users.add_argument(
        "--management-url", help="import through the management API instead of rabbitmqctl"
    )
    users.add_argument("--vhost", default="/", help="virtual host of the definitions")
    users.add_argument(
        "--with-passwords",
        action="store_true",
        help="definitions with password hashes (keep the output secret)",
    )
    users.add_argument(
        "--write", action="store_true", help="(re)write deploy/rabbitmq/department-users.json"
    )
    users.set_defaults(run=broker_users_command)

    token = commands.add_parser(
        "token",
        help="mint a bearer token, revoke tokens, print the public keys",
        description="mint (default): a token signed with the issuer's key (AUTH_SIGNING_KEY "
        "or DATA_DIR/auth-signing.key); revoke: refuse one token (--jti) or every "
        "token of a subject issued until now (--sub) in every service; keys: the "
        "JWKS the services verify with (AUTH_PUBLIC_KEYS)",
    )
    token.add_argument("action", nargs="?", default="mint", choices=["mint", "revoke", "keys"])
    token.add_argument(
        "--role", choices=["applicant", "clerk", "officer", "supervisor", "operator"]
    )
    token.add_argument(
        "--sub",
        help="who: an applicant's ID number, a staff member's id "
        "(revoke: every token of this subject)",
    )
    token.add_argument("--office", help="officer: department.region (e.g. health.430102)")
    token.add_argument(
        "--region", help="clerk (required: their counter's) or supervisor (optional): a region code"
    )
    token.add_argument("--name", help="display name")
    token.add_argument(
        "--ttl",
        type=int,
        default=None,
        help="lifetime in seconds (default and most: the role's longest; "
        "applicant 8 h, clerk and officer 12 h, supervisor and operator 1 h)",
    )
    token.add_argument("--jti", help="revoke: the id of the one token to refuse")
    token.add_argument(
        "--also", action="append", help="keys: add the keys of this JWKS file (during a rotation)"
    )
    token.set_defaults(run=token_command)

    secret = commands.add_parser(
        "secret",
        help="print a new random secret (for .env: AUTH_SIGNING_KEY, "
        "BROKER_USERS_SECRET, RABBITMQ_PASSWORD, MONGO_PASSWORD, ...)",
    )
    secret.add_argument(
        "--env", metavar="NAME", nargs="*", help="print NAME=<new secret> lines, one per name"
    )
    secret.set_defaults(run=secret_command)

    certs = commands.add_parser(
        "certs", help="a CA and the broker's server certificate for AMQPS (departments)"
    )
    certs.add_argument("--out", required=True, help="directory for the four files (new ones)")
    certs.add_argument("--host", action="append", default=[], help="a DNS name of the broker")
    certs.add_argument("--ip", action="append", default=[], help="an IP address of the broker")
    certs.add_argument(
        "--key-mode",
        default="600",
        help="octal mode of server.key (the broker's user must read it; default 600)",
    )
    certs.set_defaults(run=certs_command)

    dead = commands.add_parser(
        "dead-letters",
        help="list, replay or discard what waits in the dead-letter queue",
        description="The dead-letter queue (approval.dead): messages a consumer could not "
        "process, with the queue they failed in and why. Fix the cause, then "
        "replay them; discard only what must never be processed.",
    )
    dead.add_argument("action", choices=["list", "replay", "discard"])
    dead.add_argument(
        "id", nargs="*", help="message ids (every copy), or keys (one copy), as `list` shows them"
    )
    dead.add_argument("--all", action="store_true", help="every message (of --queue)")
    dead.add_argument("--queue", help="only messages that failed in this queue")
    dead.add_argument(
        "--limit", type=int, default=None, help="list: show this many (default 50; 0: only count)"
    )
    dead.add_argument("--into", help="discard: the JSON-lines file that keeps them")
    dead.add_argument("--json", action="store_true", help="list: as JSON")
    dead.set_defaults(run=dead_letters_command)

    stats = commands.add_parser(
        "statistics",
        help="recount the published statistics (GET /api/statistics) from feedback's store",
        description="Recompute every bucket of the published statistics from the stored "
        "applications' facts, reviews and cases, and compare with the buckets the event "
        "handlers keep; exit status 1 when they differ (unless --repair rewrote them).",
    )
    stats.add_argument("action", choices=["recount"])
    stats.add_argument("--repair", action="store_true", help="rewrite the buckets from the recount")
    stats.add_argument("--json", action="store_true", help="the result as JSON")
    stats.set_defaults(run=statistics_command)

    kept = commands.add_parser(
        "tallies",
        help="check the tallies behind feedback's review statistics or license's gauge",
        description="Recount from every document and compare with the tallies kept on "
        "write (docs/adr/0016); exit status 1 when they differ (unless --rebuild rebuilt "
        "them). Reads whole collections: an operator's check, not for a schedule.",
    )
    kept.add_argument("action", choices=["check"])
    kept.add_argument("service", choices=["feedback", "license"])
    kept.add_argument("--rebuild", action="store_true", help="rebuild them when they differ")
    kept.add_argument("--json", action="store_true", help="the result as JSON")
    kept.set_defaults(run=tallies_command)
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    return args.run(args)


def run_from_shell():
    import signal

    def stop(signum, frame):  # unwind, so that what is in hand is put back first
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    # `... | head`: stop quietly; the dead-letter commands print only when nothing is in hand
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())


if __name__ == "__main__":
    run_from_shell()
