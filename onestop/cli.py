"""The operators' command line: `python -m onestop.cli <command>`.

    broker-users provision            create/update the department users in AMQP_URI's vhost
    broker-users uri DEPARTMENT       the AMQP URI a department's consumer connects with
    broker-users definitions          RabbitMQ definitions of the department users
    token --role ROLE ...             mint a bearer token for the HTTP API

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
    return top


def main(argv=None):
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
