"""powervc_image_info and powervc_image_export run in-process with a fake powervc-image
(AnsibleModule.run_command replaced): arguments, environment, idempotence, resume, preflight."""

import hashlib
import io
import os
import tarfile
from unittest import mock

import pytest
from ansible.module_utils import basic

from ansible_collections.vmimport.migrate.plugins.module_utils import powervc as pvc
from ansible_collections.vmimport.migrate.plugins.modules import powervc_image_export, powervc_image_info
from ansible_collections.vmimport.migrate.tests.unit.utils import ModuleFail, run_module

PASSWORD = "unit-test-pw-7f3a"

TABLE = """\
+-------------+------+--------+---------+------+-------------+--------------+-----------+------------+
| Name        | ID   | Status | Volumes | Size | Description | Architecture | OS Distro | Exportable |
+-------------+------+--------+---------+------+-------------+--------------+-----------+------------+
| rhel83      | id-1 | active | 1       | 1    | golden      | ppc64        | rhel      | True       |
| aix72       | id-2 | active | 2       | 2    |             | ppc64        | aix       | True       |
| ibmi        | id-3 | active | 1       | 1    |             | ppc64        | ibmi      | False      |
| huge        | id-4 | active | 1       | 9999 |             | ppc64        | rhel      | True       |
+-------------+------+--------+---------+------+-------------+--------------+-----------+------------+
"""


class FakeCli(object):
    """Plays powervc-image: list prints TABLE, export writes a small OVA (or fails)."""

    def __init__(self, export_error=None, partial_bytes=0, payload=b"disk" * 4096):
        self.calls = []
        self.export_error = export_error
        self.partial_bytes = partial_bytes
        self.payload = payload

    def __call__(self, args, environ_update=None, expand_user_and_vars=True, **kwargs):
        self.calls.append({"argv": list(args), "env": dict(environ_update or {})})
        if (environ_update or {}).get("OS_PASSWORD") != PASSWORD:
            return 1, "", "The request you have made requires authentication. (HTTP 401) (Request-ID: req-1)\n"
        if args[1] == "list":
            return 0, TABLE, ""
        path = args[args.index("-p") + 1]
        if self.export_error:
            with open(path, "wb") as f:
                f.write(b"\0" * self.partial_bytes)
            return 1, "Exporting...\n", self.export_error
        with tarfile.open(path, "w") as tar:
            for name, data in (("img.ovf", b"<Envelope/>"), ("volume1", self.payload)):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return 0, "Image exported successfully.\n", ""

    @property
    def exports(self):
        return [c for c in self.calls if c["argv"][1] == "export"]


@pytest.fixture
def host(tmp_path):
    """A PowerVC host: an rc file, an executable powervc-image, a sessions directory."""
    rc = tmp_path / "powervcrc"
    rc.write_text("export OS_AUTH_URL=https://pvc:5000/v3/\nexport OS_USERNAME=root\n"
                  "export OS_PROJECT_NAME=ibm-default\nexport OS_TENANT_NAME=$OS_PROJECT_NAME\n")
    tool = tmp_path / "powervc-image"
    tool.write_text("#!/bin/sh\nexit 99\n")
    tool.chmod(0o755)
    return {"rc_file": str(rc), "cli_path": str(tool), "password": PASSWORD, "sessions": str(tmp_path / "sessions")}


def run(module, args, fake, check_mode=False):
    with mock.patch.object(basic.AnsibleModule, "run_command", fake):
        return run_module(module, args, check_mode=check_mode)


def export_args(host, **kw):
    args = {"rc_file": host["rc_file"], "cli_path": host["cli_path"], "password": host["password"],
            "image": "rhel83", "session_dir": host["sessions"]}
    args.update(kw)
    return args


# info --------------------------------------------------------------------------------------------

def test_info_lists_and_filters(host):
    fake = FakeCli()
    args = {"rc_file": host["rc_file"], "cli_path": host["cli_path"], "password": PASSWORD}
    res = run(powervc_image_info, args, fake)
    assert res["changed"] is False
    assert [i["name"] for i in res["images"]] == ["rhel83", "aix72", "ibmi", "huge"]
    assert res["images"][2]["exportable"] is False and res["images"][1]["volumes"] == 2
    assert run(powervc_image_info, dict(args, image="id-2"), fake)["images"][0]["name"] == "aix72"
    assert run(powervc_image_info, dict(args, name="ibmi"), fake)["images"][0]["id"] == "id-3"
    assert run(powervc_image_info, dict(args, image="nothing"), fake)["images"] == []
    assert [i["name"] for i in run(powervc_image_info, dict(args, exportable=False), fake)["images"]] == ["ibmi"]
    env = fake.calls[0]["env"]
    assert env["OS_USERNAME"] == "root" and env["OS_TENANT_NAME"] == "ibm-default"
    assert env["OS_PASSWORD"] == PASSWORD
    assert all(PASSWORD not in " ".join(c["argv"]) for c in fake.calls)


def test_info_check_mode_and_password_from_environment(host, monkeypatch):
    monkeypatch.setenv("OS_PASSWORD", PASSWORD)
    res = run(powervc_image_info, {"rc_file": host["rc_file"], "cli_path": host["cli_path"]}, FakeCli(),
              check_mode=True)
    assert len(res["images"]) == 4


def test_info_errors(host, tmp_path):
    args = {"rc_file": host["rc_file"], "cli_path": host["cli_path"], "password": "wrong"}
    with pytest.raises(ModuleFail) as e:
        run(powervc_image_info, args, FakeCli())
    assert "HTTP 401" in e.value.result["msg"] and "refused the credentials of user 'root'" in e.value.result["msg"]

    with pytest.raises(ModuleFail) as e:
        run(powervc_image_info, dict(args, rc_file=str(tmp_path / "missing-rc")), FakeCli())
    assert str(tmp_path / "missing-rc") in e.value.result["msg"] and "rc_file" in e.value.result["msg"]

    with pytest.raises(ModuleFail) as e:
        run(powervc_image_info, dict(args, cli_path=str(tmp_path / "no-such-cli")), FakeCli())
    assert "no-such-cli not found" in e.value.result["msg"] and "cli_path" in e.value.result["msg"]

    with pytest.raises(ModuleFail) as e:
        run(powervc_image_info, {"rc_file": host["rc_file"], "cli_path": host["cli_path"]}, FakeCli())
    assert "no password for PowerVC user 'root'" in e.value.result["msg"]


# export ------------------------------------------------------------------------------------------

def test_export_then_no_change(host):
    fake = FakeCli()
    res = run(powervc_image_export, export_args(host), fake)
    path = os.path.join(host["sessions"], "rhel83.ova")
    assert res["changed"] is True and res["exported"] is True and res["path"] == path
    with open(path, "rb") as f:
        assert res["sha256"] == hashlib.sha256(f.read()).hexdigest()
    assert res["size"] == os.path.getsize(path)
    with open(path + ".sha256") as f:
        assert f.read() == "%s  rhel83.ova\n" % res["sha256"]
    assert oct(os.stat(host["sessions"]).st_mode & 0o777) == "0o750"
    assert sorted(os.listdir(host["sessions"])) == ["rhel83.ova", "rhel83.ova.sha256"]  # no temporary left
    argv = fake.exports[0]["argv"]
    assert argv[1:4] == ["export", "-i", "id-1"] and argv[5] == pvc.partial_path(path)
    assert res["image"]["name"] == "rhel83" and res["required_bytes"] == pvc.required_bytes(1)

    again = run(powervc_image_export, export_args(host), fake)
    assert again["changed"] is False and again["exported"] is False
    assert again["sha256"] == res["sha256"] and len(fake.exports) == 1

    forced = run(powervc_image_export, export_args(host, force=True), fake)
    assert forced["changed"] is True and len(fake.exports) == 2


def test_export_by_id_to_a_path(host, tmp_path):
    dest = str(tmp_path / "out" / "x.ova")
    args = export_args(host, image="id-2", dest=dest)
    del args["session_dir"]
    res = run(powervc_image_export, args, FakeCli())
    assert res["path"] == dest and os.path.exists(dest) and res["image"]["name"] == "aix72"


def test_partial_export_is_removed_and_exported_again(host):
    os.makedirs(host["sessions"])
    path = os.path.join(host["sessions"], "rhel83.ova")
    with open(path, "wb") as f:
        f.write(b"half an ova")
    with open(path + ".sha256", "w") as f:
        f.write("%s  rhel83.ova\n" % ("0" * 64))
    with open(pvc.partial_path(path), "wb") as f:
        f.write(b"stale temporary")
    fake = FakeCli()
    res = run(powervc_image_export, export_args(host), fake)
    assert res["changed"] is True and res["removed_partial"] is True
    assert sorted(os.listdir(host["sessions"])) == ["rhel83.ova", "rhel83.ova.sha256"]
    assert pvc.existing_export(path) == ("complete", res["sha256"])


def test_check_mode_writes_nothing(host):
    fake = FakeCli()
    res = run(powervc_image_export, export_args(host), fake, check_mode=True)
    assert res["changed"] is True and res["sha256"] is None
    assert not os.path.exists(host["sessions"]) and fake.exports == []
    run(powervc_image_export, export_args(host), fake)
    res = run(powervc_image_export, export_args(host), fake, check_mode=True)
    assert res["changed"] is False and res["sha256"]


def test_failed_export_leaves_nothing(host):
    fake = FakeCli(export_error="ERROR: Export of the image failed: connection reset by peer", partial_bytes=4096)
    with pytest.raises(ModuleFail) as e:
        run(powervc_image_export, export_args(host), fake)
    assert "connection reset by peer" in e.value.result["msg"]
    assert os.listdir(host["sessions"]) == []


def test_export_that_is_not_an_ova_is_refused(host):
    class NotOva(FakeCli):
        def __call__(self, args, **kw):
            if args[1] == "export":
                with open(args[args.index("-p") + 1], "wb") as f:
                    f.write(b"plain bytes, no tar" * 100)
                return 0, "", ""
            return FakeCli.__call__(self, args, **kw)

    with pytest.raises(ModuleFail) as e:
        run(powervc_image_export, export_args(host), NotOva())
    assert "did not produce an OVA" in e.value.result["msg"]
    assert os.listdir(host["sessions"]) == []


@pytest.mark.parametrize("image,needle", [
    ("nope", "PowerVC image 'nope' not found"),
    ("ibmi", "is not exportable"),
])
def test_export_preflight_image(host, image, needle):
    fake = FakeCli()
    with pytest.raises(ModuleFail) as e:
        run(powervc_image_export, export_args(host, image=image), fake)
    assert needle in e.value.result["msg"]
    assert fake.exports == []


def test_export_preflight_free_space(host):
    fake = FakeCli()
    with mock.patch.object(powervc_image_export, "free_bytes", return_value=3 * pvc.GIB):
        with pytest.raises(ModuleFail) as e:
            run(powervc_image_export, export_args(host, image="huge"), fake)
        need = pvc.required_bytes(9999)
        msg = e.value.result["msg"]
        assert str(need) in msg and str(3 * pvc.GIB) in msg and host["sessions"] in msg
        assert e.value.result["required_bytes"] == need and fake.exports == []
        # a smaller margin can make it fit; the check can be turned off
        res = run(powervc_image_export, export_args(host, image="aix72", free_space_margin_percent=0,
                                                    free_space_margin_mib=0), fake)
        assert res["changed"] is True
        # (exported already: no preflight) unless forced, when the bigger margin does not fit
        assert run(powervc_image_export, export_args(host, image="aix72", free_space_margin_percent=60),
                   fake)["changed"] is False
        with pytest.raises(ModuleFail):
            run(powervc_image_export, export_args(host, image="aix72", free_space_margin_percent=60, force=True),
                fake)
        res = run(powervc_image_export, export_args(host, image="huge", check_free_space=False), fake)
        assert res["changed"] is True and res["required_bytes"] is None


def test_export_space_of_a_partial_export_counts_as_free(host):
    os.makedirs(host["sessions"])
    path = os.path.join(host["sessions"], "rhel83.ova")
    with open(path, "wb") as f:
        f.write(os.urandom(256 * 1024))
    need = pvc.required_bytes(1)
    with mock.patch.object(powervc_image_export, "free_bytes", return_value=need - 100 * 1024):
        res = run(powervc_image_export, export_args(host), FakeCli())
    assert res["changed"] is True and res["removed_partial"] is True


def test_export_wrong_password_never_echoes_it(host):
    with pytest.raises(ModuleFail) as e:
        run(powervc_image_export, export_args(host, password="not-the-one"), FakeCli())
    assert "HTTP 401" in e.value.result["msg"]
    assert "not-the-one" not in repr(e.value.result)


def test_export_options_are_validated(host):
    with pytest.raises(ModuleFail) as e:
        run(powervc_image_export, export_args(host, path="/x/y.ova"), FakeCli())
    assert "mutually exclusive" in e.value.result["msg"]
    with pytest.raises(ModuleFail) as e:
        run(powervc_image_export, export_args(host, free_space_margin_mib=-1), FakeCli())
    assert "must not be negative" in e.value.result["msg"]
