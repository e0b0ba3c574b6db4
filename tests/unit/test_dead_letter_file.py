"""A dead-letter discard file holds whole messages (applicants' ID numbers, names, forms):
only its owner may read it (security issue 14). The attack: a discard into a file others
can read — a new one under a loose umask, an existing world-readable one, a name planted
in a shared /tmp (a symbolic link, a FIFO, another user's file)."""

import os
import stat

import pytest

from ops import cli
from ops.dead_letters import open_discard_file


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.fixture
def no_broker(monkeypatch):
    monkeypatch.setenv("AMQP_URI", "amqp://guest:guest@127.0.0.1:1/")


def test_a_new_discard_file_is_for_its_owner_alone(tmp_path, loose_umask):
    path = tmp_path / "discarded.jsonl"
    with open_discard_file(path) as file:
        file.write("{}\n")
    assert mode(path) == 0o600


def test_an_existing_wider_file_is_tightened_before_anything_is_written(tmp_path, loose_umask):
    path = tmp_path / "discarded.jsonl"
    path.write_text('{"earlier": 1}\n')
    os.chmod(path, 0o666)
    with open_discard_file(path) as file:
        assert mode(path) == 0o600
        file.write('{"later": 2}\n')
    assert path.read_text() == '{"earlier": 1}\n{"later": 2}\n'  # appended, kept
    assert mode(path) == 0o600


def test_the_command_tightens_the_file_up_front(tmp_path, no_broker, capsys):
    path = tmp_path / "discarded.jsonl"
    path.write_text("")
    os.chmod(path, 0o644)
    assert cli.main(["dead-letters", "discard", "--all", "--into", str(path)]) == 3  # no broker
    assert mode(path) == 0o600


def test_a_symbolic_link_is_refused(tmp_path, no_broker, capsys):
    target = tmp_path / "elsewhere.jsonl"
    target.write_text("")
    os.chmod(target, 0o644)
    link = tmp_path / "discarded.jsonl"
    link.symlink_to(target)
    with pytest.raises(OSError):
        open_discard_file(link)
    assert cli.main(["dead-letters", "discard", "--all", "--into", str(link)]) == 3
    assert "cannot write" in capsys.readouterr().err
    assert target.read_text() == "" and mode(target) == 0o644


def test_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "discarded.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(OSError):
        open_discard_file(fifo)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to plant another user's file")
def test_another_users_file_is_refused(tmp_path, no_broker, capsys):
    planted = tmp_path / "discarded.jsonl"
    planted.write_text("")
    os.chmod(planted, 0o600)
    os.chown(planted, 65534, 65534)  # nobody: it could read what we append
    with pytest.raises(PermissionError):
        open_discard_file(planted)
    assert cli.main(["dead-letters", "discard", "--all", "--into", str(planted)]) == 3
    assert "another user" in capsys.readouterr().err
    assert planted.read_text() == ""
