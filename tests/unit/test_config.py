"""The documented settings reach the libraries that read them."""

from nameko.containers import ServiceContainer
from nameko.rpc import rpc

from onestop.common.broker_users import department_nameko_config
from onestop.common.config import nameko_config


class Probe:
    name = "probe"

    @rpc
    def ping(self):
        return "pong"


def test_max_workers_sets_nameko_worker_pool_and_prefetch(monkeypatch):
    monkeypatch.setenv("MAX_WORKERS", "3")
    for nameko in (nameko_config("routing"), department_nameko_config("departments-nameko")):
        container = ServiceContainer(Probe, nameko)
        assert container.max_workers == 3
        consumer = next(e for e in container.extensions if type(e).__name__ == "RpcConsumer")
        assert consumer.queue_consumer.prefetch_count == 3


def test_max_workers_defaults_to_ten(monkeypatch):
    monkeypatch.delenv("MAX_WORKERS", raising=False)
    assert ServiceContainer(Probe, nameko_config("routing")).max_workers == 10


# --- secrets a process refuses to start with ---

import pytest  # noqa: E402

from onestop.common import config  # noqa: E402

STRONG = "Vq3-x9LmT_a7Zp0RkW2yBn5Hc8Ue4JdQ"


@pytest.mark.parametrize(
    "value, says",
    [
        ("CHANGE-ME-auth-signing-key", "placeholder"),
        ("change_me_too_but_long_enough", "placeholder"),
        ("short", "too weak"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too weak"),
        ("", "too weak"),
    ],
)
def test_placeholders_and_weak_secrets_are_refused_by_name(value, says):
    with pytest.raises(config.WeakSecret, match=says) as refused:
        config.require_secret("AUTH_SIGNING_KEY", value)
    assert "AUTH_SIGNING_KEY" in str(refused.value)
    assert "python -m ops.cli secret" in str(refused.value)


def test_a_strong_secret_passes_and_the_cli_makes_them(capsys):
    assert config.require_secret("X", STRONG) == STRONG
    from ops import cli

    assert cli.main(["secret", "--env", "A", "B"]) == 0
    lines = capsys.readouterr().out.split()
    assert [line.split("=", 1)[0] for line in lines] == ["A", "B"]
    for line in lines:
        config.require_secret("made", line.split("=", 1)[1])


def test_the_cli_makes_a_token_signing_key_that_is_a_key(capsys, monkeypatch):
    """.env's AUTH_SIGNING_KEY (the screens' sign-in) must load as an Ed25519 key."""
    from ops import cli
    from onestop.common import tokens

    assert cli.main(["secret", "--env", "AUTH_SIGNING_KEY"]) == 0
    name, value = capsys.readouterr().out.strip().split("=", 1)
    assert name == "AUTH_SIGNING_KEY" and len(value) == 64
    monkeypatch.setenv("AUTH_SIGNING_KEY", value)
    key = tokens.signing_key()
    claims = tokens.verify(
        tokens.mint("applicant", "430102199001011234", key=key), tokens.jwks(key)
    )
    assert claims["sub"] == "430102199001011234"
    assert config.secret_problems({"AUTH_SIGNING_KEY": value}) == []


def test_secret_problems_name_each_bad_setting_and_spare_loopback_defaults():
    assert config.secret_problems({}) == []
    # `make run` and the test suites: guest/guest on this machine's own broker
    assert (
        config.secret_problems(
            {
                "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/t",
                "MONGO_URI": "mongodb://127.0.0.1:27018/",
            }
        )
        == []
    )
    problems = config.secret_problems(
        {
            "AUTH_SIGNING_KEY": "CHANGE-ME-auth-signing-key",
            "BROKER_USERS_SECRET": STRONG,
            "AMQP_URI": "amqp://onestop:CHANGE-ME-rabbitmq-password@rabbitmq:5672/onestop",
            "MONGO_URI": f"mongodb://onestop:{STRONG}@mongodb:27017/?authSource=admin",
        }
    )
    assert len(problems) == 2
    assert "AUTH_SIGNING_KEY" in problems[0] and "RABBITMQ_PASSWORD" in problems[1]


def test_a_process_refuses_to_start_with_a_placeholder(monkeypatch):
    monkeypatch.setenv("BROKER_USERS_SECRET", "CHANGE-ME-broker-users-secret")
    with pytest.raises(SystemExit, match="(?s)catalog: refusing to start.*BROKER_USERS_SECRET"):
        config.refuse_weak_secrets("catalog")


def test_a_placeholder_public_key_set_is_refused_by_name():
    problems = config.secret_problems(
        {"AUTH_PUBLIC_KEYS": "CHANGE-ME-the-output-of-ops.cli-token-keys"}
    )
    assert len(problems) == 1 and "AUTH_PUBLIC_KEYS is still the placeholder" in problems[0]
