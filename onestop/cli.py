"""The operators' command line: `python -m onestop.cli <command>`.

    broker-users provision            create/update the department users in AMQP_URI's vhost
    broker-users uri DEPARTMENT       the AMQP URI a department's consumer connects with
    broker-users definitions          RabbitMQ definitions of the department users
    token --role ROLE ...             mint a bearer token for the HTTP API
    dead-letters list                 what waits in the dead-letter queue, and why
    dead-letters replay ID... | --all send messages back to the queue they failed in
    dead-letters discard ID... | --all --into FILE
                                      remove messages, kept in a JSON-lines file

Configuration comes from the environment, as for the services (AMQP_URI,
BROKER_USERS_SECRET or DATA_DIR, BROKER_USER_PREFIX, AUTH_SIGNING_KEY).
"""
import argparse
import json
import sys
from pathlib import Path

from onestop.common import broker_users

ROOT = Path(__file__).resolve().parents[1]
DEPARTMENT_USERS_FILE = ROOT / "deploy" / "rabbitmq" / "department-users.json"


def catalog_departments():
    from onestop.catalog.domain import load_data
    return sorted(d["code"] for d in load_data()["departments"])


def deployment_definitions():
    """The committed deploy/rabbitmq/department-users.json: no passwords, vhost '/'."""
    return broker_users.definitions(catalog_departments(), "/",
                                    prefix=broker_users.DEFAULT_PREFIX)


def render(body):
    return json.dumps(body, indent=2) + "\n"


def broker_users_command(args):
    if args.action == "provision":
        users = broker_users.provision(args.department or catalog_departments(),
                                       management_url=args.management_url)
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
        print(render(broker_users.definitions(args.department or catalog_departments(),
                                              args.vhost, key)), end="")
    return 0


def token_command(args):
    from onestop.common import auth
    claims = {k: v for k, v in (("office", args.office), ("name", args.name),
                                ("region", args.region)) if v}
    try:
        print(auth.mint(args.role, args.sub, ttl_seconds=args.ttl, **claims))
    except ValueError as exc:
        sys.exit(str(exc))
    return 0


def dead_letters_command(args):
    """list, replay or discard. Exit status: 0 done, 1 something asked for was not done,
    2 bad usage (argparse's), 3 the broker or a file could not be used at all."""
    from pika.exceptions import AMQPError
    from onestop.common.dead_letters import DeadLetterQueue
    if args.action != "list" and not (args.all or args.id):
        sys.exit(f"name the messages to {args.action} (ids or positions), or give --all")
    if args.action == "discard" and not args.into:
        sys.exit("discard keeps what it removes: give --into FILE (JSON lines, appended)")
    try:
        with DeadLetterQueue() as queue:
            return _dead_letters(args, queue)
    except (LookupError, AMQPError, OSError) as exc:  # nothing unconfirmed was removed
        print(f"dead-letters: {exc or type(exc).__name__}", file=sys.stderr)
        return 3


def _dead_letters(args, queue):
    from onestop.common.dead_letters import BrokerLost, ReplayFailed
    letters = [letter for letter in queue.take()
               if not args.queue or letter.queue == args.queue]
    if args.action == "list":
        return _list_dead_letters(letters, args.limit or 50, args.json)
    wanted = {asked[1:] if asked.startswith("#") else asked for asked in args.id}
    chosen = [letter for letter in letters
              if args.all or letter.id in wanted or str(letter.position) in wanted]
    done = failed = 0
    for number, letter in enumerate(chosen, 1):
        progress = f"[{number}/{len(chosen)}] #{letter.position} {letter.id}"
        try:
            if args.action == "replay":
                queue.replay(letter)
                print(f"{progress}: replayed to {letter.queue}")
            else:
                queue.discard(letter, args.into)
                print(f"{progress}: discarded into {args.into}")
            done += 1
        except ReplayFailed as exc:
            failed += 1
            print(f"{progress}: not replayed, left in the queue: {exc}", file=sys.stderr)
        except BrokerLost as exc:
            failed += len(chosen) - number + 1
            print(f"{progress}: {exc}; stopped here, the rest is left in the queue",
                  file=sys.stderr)
            break
    found = {letter.id for letter in chosen} | {str(letter.position) for letter in chosen}
    missing = sorted(wanted - found)
    for asked in missing:
        print(f"{asked}: no such dead letter" + (f" of {args.queue}" if args.queue else ""),
              file=sys.stderr)
    print(f"{args.action}: {done} done, {failed} not done, {len(missing)} not found")
    return 1 if failed or missing else 0


def _list_dead_letters(letters, limit, as_json):
    shown = letters[:limit]
    if as_json:
        print(json.dumps({"waiting": len(letters), "dead_letters": [
            letter.summary() for letter in shown]}, indent=2, default=str))
        return 0
    print(f"{len(letters)} message(s) in the dead-letter queue"
          + (f"; the first {len(shown)}:" if shown else "."))
    for letter in shown:
        s = letter.summary()
        print(f"#{s['position']} {s['id']}  {s['type'] or '?'}  "
              f"application {s['correlation_id'] or '?'}\n"
              f"    failed in {s['queue'] or '?'} at {s['at'] or '?'}"
              + (f" (replayed {s['replays']} time(s) before)" if s["replays"] else "")
              + (f", sent by {s['sender']}" if s["sender"] else "")
              + f"\n    why: {s['reason']}")
    return 0


def parser():
    top = argparse.ArgumentParser(prog="python -m onestop.cli",
                                  description="One-step Approval operators' command line")
    commands = top.add_subparsers(dest="command", required=True)

    users = commands.add_parser("broker-users", help="the departments' RabbitMQ users")
    users.add_argument("action", choices=["provision", "uri", "definitions"])
    users.add_argument("department", nargs="*", help="department codes (default: the catalog's)")
    users.add_argument("--management-url", help="import through the management API "
                                                "instead of rabbitmqctl")
    users.add_argument("--vhost", default="/", help="virtual host of the definitions")
    users.add_argument("--with-passwords", action="store_true",
                       help="definitions with password hashes (keep the output secret)")
    users.add_argument("--write", action="store_true",
                       help="(re)write deploy/rabbitmq/department-users.json")
    users.set_defaults(run=broker_users_command)

    token = commands.add_parser("token", help="mint a bearer token for the HTTP API")
    token.add_argument("--role", required=True,
                       choices=["applicant", "clerk", "officer", "supervisor", "operator"])
    token.add_argument("--sub", required=True,
                       help="who: an applicant's ID number, a staff member's id")
    token.add_argument("--office", help="officer: department.region (e.g. health.430102)")
    token.add_argument("--region", help="clerk or supervisor: their region code")
    token.add_argument("--name", help="display name")
    token.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds")
    token.set_defaults(run=token_command)

    dead = commands.add_parser(
        "dead-letters", help="list, replay or discard what waits in the dead-letter queue",
        description="The dead-letter queue (approval.dead): messages a consumer could not "
                    "process, with the queue they failed in and why. Fix the cause, then "
                    "replay them; discard only what must never be processed.")
    dead.add_argument("action", choices=["list", "replay", "discard"])
    dead.add_argument("id", nargs="*", help="message ids, or positions (#N), as `list` "
                                            "shows them")
    dead.add_argument("--all", action="store_true", help="every message (of --queue)")
    dead.add_argument("--queue", help="only messages that failed in this queue")
    dead.add_argument("--limit", type=int, default=None, help="list: show this many "
                                                              "(default 50)")
    dead.add_argument("--into", help="discard: the JSON-lines file that keeps them")
    dead.add_argument("--json", action="store_true", help="list: as JSON")
    dead.set_defaults(run=dead_letters_command)
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    return args.run(args)


def run_from_shell():
    import signal
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `... list | head`: stop quietly
    sys.exit(main())


if __name__ == "__main__":
    run_from_shell()
