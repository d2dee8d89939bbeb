"""A remote host reached over real SSH: sshd on a loopback port, its own user and key."""

import getpass
import os
import pwd
import shutil
import socket
import subprocess

from sandbox.peers.base import PeerError, ProcessPeer

SANDBOX_USER = "vmimport-sbx"
SSHD = "/usr/sbin/sshd"


def _banner(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


class SshdPeer(ProcessPeer):
    """Remote host: OpenSSH sshd on 127.0.0.1 with an unprivileged user and a generated key."""

    name = "sshd"
    start_timeout = 20.0

    def __init__(self, ctx):
        super().__init__(ctx)
        self.fallback = None  # reason when sshd could not run and the host is reached locally

    # where things live -------------------------------------------------
    def _ensure_user(self):
        if os.geteuid() != 0:
            # sshd running unprivileged can only log in as the user running it
            return getpass.getuser()
        try:
            pwd.getpwnam(SANDBOX_USER)
        except KeyError:
            # password '*': no password login, but not a locked account (sshd refuses those)
            res = subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--password", "*",
                                  SANDBOX_USER], capture_output=True, text=True)
            if res.returncode != 0:
                raise PeerError(self.name, "cannot create user %s: %s" % (SANDBOX_USER, res.stderr.strip()))
        return SANDBOX_USER

    def prepare(self):
        self.user = self._ensure_user()
        pw = pwd.getpwnam(self.user)
        self.home = pw.pw_dir
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        wd = self.ctx.workdir(self.name)
        self.key = os.path.join(wd, "id_ed25519")
        self.host_key = os.path.join(wd, "ssh_host_ed25519_key")
        for path in (self.key, self.host_key):
            if not os.path.exists(path):
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vmimport-sandbox", "-f", path],
                               check=True, capture_output=True)
        self.authorized_keys = os.path.join(wd, "authorized_keys")
        shutil.copyfile(self.key + ".pub", self.authorized_keys)
        os.chmod(self.authorized_keys, 0o644)

    def _make_remote_dir(self):
        # a per-instance folder in the user's home: what the remote side may read and write
        self.remote_dir = os.path.join(self.home, "sandbox-%s" % self.port)
        self.remote_bin = os.path.join(self.remote_dir, "bin")
        os.makedirs(self.remote_bin, exist_ok=True)
        if os.geteuid() == 0:
            for path in (self.remote_dir, self.remote_bin):
                os.chown(path, self.uid, self.gid)

    def command(self):
        self._make_remote_dir()
        # sshd reads the authorized keys as the user: keep them where the user can reach them
        # (the state dir may sit under a 0700 directory, like pytest's /tmp/pytest-of-root)
        self.authorized_keys = os.path.join(self.remote_dir, ".authorized_keys")
        shutil.copyfile(self.key + ".pub", self.authorized_keys)
        os.chmod(self.authorized_keys, 0o644)
        if os.geteuid() == 0:
            os.chown(self.authorized_keys, self.uid, self.gid)
        wd = self.ctx.workdir(self.name)
        cfg = os.path.join(wd, "sshd_config")
        with open(cfg, "w") as f:
            f.write("\n".join([
                "Port %s" % self.port,
                "ListenAddress 127.0.0.1",
                "HostKey %s" % self.host_key,
                "PidFile %s" % os.path.join(wd, "sshd.pid"),
                "AuthorizedKeysFile %s" % self.authorized_keys,
                "AllowUsers %s" % self.user,
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "UsePAM no",
                "StrictModes no",
                "PermitRootLogin no",
                "SetEnv PATH=%s:/usr/local/bin:/usr/bin:/bin" % self.remote_bin,
                "Subsystem sftp internal-sftp",
                "LogLevel VERBOSE",
                "",
            ]))
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", exist_ok=True)  # privilege separation directory
        return [SSHD, "-D", "-e", "-f", cfg]

    def ready(self):
        return _banner(self.port)

    def start(self):
        if not os.path.exists(SSHD):
            return self._fall_back("%s not found (Debian package openssh-server)" % SSHD)
        try:
            return super().start()
        except PeerError as e:
            self.stop()
            return self._fall_back(e.reason)

    def _fall_back(self, reason):
        self.fallback = reason
        self.port = None
        self.user = getpass.getuser()
        self.home = os.path.expanduser("~")
        self.uid, self.gid = os.getuid(), os.getgid()
        self.port = 0
        self._make_remote_dir()
        print("sandbox: WARNING sshd could not start (%s); the remote host is reached with a local "
              "connection instead" % reason)

    def cleanup_paths(self):
        return [p for p in [getattr(self, "remote_dir", None)] if p]

    def host_vars(self):
        if self.fallback:
            return {"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3",
                    "sandbox_ssh_fallback": self.fallback}
        return {
            "ansible_host": "127.0.0.1",
            "ansible_port": self.port,
            "ansible_user": self.user,
            "ansible_ssh_private_key_file": self.key,
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
            "ansible_python_interpreter": "/usr/bin/python3",
        }

    def hosts(self):
        return {"sandbox_ssh_hosts": {"sshhost01": self.host_vars()}}

    def inventory(self):
        return {"sandbox_remote_dir": self.remote_dir}
