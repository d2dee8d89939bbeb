"""The sandbox launcher itself: a peer that does not start is named with its reason, and
starting/stopping twice leaves no process, port or folder behind."""

import os
import sys

import psutil
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from sandbox import launcher  # noqa: E402
from sandbox.peers.base import PeerError, ProcessPeer, port_open  # noqa: E402
from sandbox.peers.cos import CosPeer  # noqa: E402
from sandbox.peers.sshd import SshdPeer  # noqa: E402


class BrokenPeer(ProcessPeer):
    """A peer whose service exits at once, complaining."""

    name = "broken"
    needs = ("cos",)

    def command(self):
        return [sys.executable, "-c", "import sys; print('cannot bind: address family not supported'); sys.exit(3)"]


def _descendants():
    return {p.pid for p in psutil.Process().children(recursive=True)}


def test_peer_that_does_not_start_is_named_with_its_reason(monkeypatch, tmp_path):
    monkeypatch.setattr(launcher, "PEERS", [CosPeer, BrokenPeer])
    before = _descendants()
    sb = launcher.Sandbox(state_dir=str(tmp_path / "state"), log=None)
    with pytest.raises(PeerError) as err:
        sb.up()
    msg = str(err.value)
    assert msg.startswith("sandbox peer 'broken' did not start: process exited with code 3")
    assert "cannot bind: address family not supported" in msg  # the peer's own last log lines
    # the peer started before it (cos) was stopped again
    assert _descendants() - before == set()
    assert not os.path.exists(sb.state_file)


def test_cli_reports_the_failing_peer(monkeypatch, tmp_path, capsys):
    from sandbox import __main__ as cli
    monkeypatch.setattr(launcher, "PEERS", [CosPeer, BrokenPeer])
    monkeypatch.setattr(launcher, "_order", lambda classes: classes)
    rc = cli.main(["--state-dir", str(tmp_path / "s"), "up"])
    assert rc == 1
    assert "ERROR: sandbox peer 'broken' did not start" in capsys.readouterr().err


@pytest.mark.parametrize("round_", [1, 2])
def test_up_down_leaves_nothing_behind(monkeypatch, tmp_path, round_):
    monkeypatch.setattr(launcher, "PEERS", [CosPeer, SshdPeer])
    before = _descendants()
    state = str(tmp_path / "state")
    sb = launcher.Sandbox(state_dir=state, log=None).up()
    ports = [p.port for p in sb.started]
    remote_dir = sb.ctx.peers["sshd"].remote_dir
    assert all(port_open(p) for p in ports)
    assert os.path.isdir(remote_dir)
    # stopped from another process's point of view: what `make sandbox-down` does
    stopped = launcher.stop_from_state(state, log=None)
    assert stopped == ["sshd", "cos"]
    assert not any(port_open(p) for p in ports)
    assert _descendants() - before == set()
    assert not os.path.exists(remote_dir)
    assert not os.path.exists(os.path.join(state, "inventory.yml"))
