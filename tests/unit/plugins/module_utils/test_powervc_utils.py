"""Plain logic of plugins/module_utils/powervc.py: rc files, the image table, preflight math,
error translation, checksums."""

import io
import tarfile

import pytest

from ansible_collections.vmimport.migrate.plugins.module_utils import powervc as pvc

GIB = 1024 ** 3
MIB = 1024 ** 2

SEED_TABLE = """\
+----------+--------------------------------------+--------+---------+------+-------------+--------------+-----------+------------+
| Name     | ID                                   | Status | Volumes | Size | Description | Architecture | OS Distro | Exportable |
+----------+--------------------------------------+--------+---------+------+-------------+--------------+-----------+------------+
| test-IMG | XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX | active | 1       | 10   |             | ppc64        | rhel      | True       |
+----------+--------------------------------------+--------+---------+------+-------------+--------------+-----------+------------+
"""

SEED_RC = """\
export OS_IDENTITY_API_VERSION=3
export OS_AUTH_URL=https://host:5000/v3/
export OS_CACERT=/etc/pki/tls/certs/powervc.crt
export OS_REGION_NAME=RegionOne
export OS_PROJECT_DOMAIN_NAME=Default
export OS_PROJECT_NAME=ibm-default
export OS_TENANT_NAME=$OS_PROJECT_NAME
export OS_USER_DOMAIN_NAME=Default
export OS_USERNAME=root
export OS_PASSWORD=password
export OS_COMPUTE_API_VERSION=2.46
export OS_NETWORK_API_VERSION=2.0
export OS_IMAGE_API_VERSION=2
export OS_VOLUME_API_VERSION=2
"""


COLUMNS = ("Name", "ID", "Status", "Volumes", "Size", "Description", "Architecture", "OS Distro", "Exportable")


def table(rows, headers=COLUMNS):
    """Render like prettytable (the OpenStack clients' tables): cells with newlines wrap."""
    split = [[cell.split("\n") for cell in row] for row in rows]
    widths = [max([len(h)] + [len(x) for row in split for x in row[i]]) for i, h in enumerate(headers)]
    border = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells):
        return "|" + "|".join(" %s " % c.ljust(w) for c, w in zip(cells, widths)) + "|"

    out = [border, line(headers), border]
    for row in split:
        for k in range(max(len(lines) for lines in row)):
            out.append(line([lines[k] if k < len(lines) else "" for lines in row]))
    return "\n".join(out + ([border] if rows else []))


# rc file -----------------------------------------------------------------------------------------

def test_parse_rc_seed_file():
    env, skipped = pvc.parse_rc(SEED_RC)
    assert skipped == []
    assert env["OS_AUTH_URL"] == "https://host:5000/v3/"
    assert env["OS_TENANT_NAME"] == "ibm-default"  # $OS_PROJECT_NAME expanded
    assert env["OS_USERNAME"] == "root"
    assert env["OS_PASSWORD"] == "password"
    assert len(env) == 14


def test_parse_rc_quotes_escapes_and_defaults():
    text = "\n".join([
        "# comment line",
        "export OS_PROJECT_NAME='ibm default'",
        'export OS_X="a \\"quoted\\" $OS_PROJECT_NAME"',
        "OS_Y=no\\ space; export OS_Z=${OS_UNSET:-fallback} OS_W=${OS_PROJECT_NAME}  # trailing comment",
        "export OS_LIT='$NOT_EXPANDED'",
        "export OS_EMPTY=",
        "OS_DOLLAR=price$",
    ])
    env, skipped = pvc.parse_rc(text)
    assert skipped == []
    assert env == {
        "OS_PROJECT_NAME": "ibm default",
        "OS_X": 'a "quoted" ibm default',
        "OS_Y": "no space",
        "OS_Z": "fallback",
        "OS_W": "ibm default",
        "OS_LIT": "$NOT_EXPANDED",
        "OS_EMPTY": "",
        "OS_DOLLAR": "price$",
    }


def test_parse_rc_never_runs_anything_and_reports_line_numbers():
    text = "\n".join([
        "export OS_USERNAME=admin",
        "export OS_PASSWORD=$(cat /etc/secret)",
        "export OS_TOKEN=`id -u`",
        'export OS_BROKEN="unterminated',
        "echo 'Please enter your OpenStack Password: '",
        "read -sr OS_PASSWORD_INPUT",
        "export OS_REGION=RegionOne",
    ])
    env, skipped = pvc.parse_rc(text)
    assert env == {"OS_USERNAME": "admin", "OS_REGION": "RegionOne"}
    assert skipped == [2, 3, 4]


def test_parse_rc_command_prefix_is_not_an_assignment_but_export_is():
    env, skipped = pvc.parse_rc("FOO=bar somecommand --flag\nexport A=1 B\nexport C=2 D=3\n")
    assert skipped == []
    assert env == {"A": "1", "C": "2", "D": "3"}


def test_parse_rc_refers_to_environment_and_earlier_lines():
    env, skipped = pvc.parse_rc("export OS_X=$HOME/x\nexport HOME=/other\nexport OS_Y=$HOME/y\n",
                                environ={"HOME": "/h"})
    assert skipped == []
    assert env["OS_X"] == "/h/x"
    assert env["OS_Y"] == "/other/y"


def test_cli_environment_options_win_and_empty_values_dropped():
    rc = {"OS_USERNAME": "root", "OS_PASSWORD": "", "OS_PROJECT_NAME": "p1", "OS_AUTH_URL": "u"}
    env = pvc.cli_environment(rc, username="admin", password="s3cret", project="p2")
    assert env == {"OS_USERNAME": "admin", "OS_PASSWORD": "s3cret", "OS_PROJECT_NAME": "p2",
                   "OS_TENANT_NAME": "p2", "OS_AUTH_URL": "u"}
    env = pvc.cli_environment(rc)
    assert "OS_PASSWORD" not in env and env["OS_USERNAME"] == "root"


def test_read_rc_file_missing_names_path_and_option(tmp_path):
    missing = str(tmp_path / "nope" / "powervcrc")
    with pytest.raises(pvc.PowerVCConfigError) as e:
        pvc.read_rc_file(missing)
    assert missing in e.value.msg and "rc_file" in e.value.msg


# the table ------------------------------------------------------------------------------------

def test_parse_seed_table():
    images = pvc.parse_image_table(SEED_TABLE)
    assert images == [{
        "name": "test-IMG", "id": "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX", "status": "active", "volumes": 1,
        "size": 10, "description": "", "architecture": "ppc64", "os_distro": "rhel", "exportable": True,
    }]


def test_parse_table_with_noise_wrapped_cells_pipes_and_spaces():
    text = table([
        ["aix 7.2 | prod", "id-1", "active", "2", "20.5", "two\nlines", "ppc64", "aix", "False"],
        ["rhel", "id-2", "queued", "1", "10", "", "ppc64le", "rhel", "True"],
    ])
    noisy = "/usr/lib/python3/site-packages/urllib3/connectionpool.py:1013: InsecureRequestWarning\n" + text + \
        "\nsome trailing line\n"
    images = pvc.parse_image_table(noisy)
    assert [i["name"] for i in images] == ["aix 7.2 | prod", "rhel"]
    assert images[0]["description"] == "two\nlines"
    assert images[0]["size"] == 20.5 and images[0]["volumes"] == 2 and images[0]["exportable"] is False
    assert images[1]["status"] == "queued" and images[1]["exportable"] is True


def test_parse_table_without_borders_uses_pipes_and_keeps_extra_columns():
    text = "| Name | ID | Exportable | Storage Template |\n| a | 1 | True | tier1 |\n| b | 2 | False | |\n"
    images = pvc.parse_image_table(text)
    assert images[0]["storage_template"] == "tier1"
    assert images[1]["exportable"] is False and images[1]["size"] is None and images[1]["description"] == ""


def test_parse_table_empty_catalog():
    assert pvc.parse_image_table("") == []
    assert pvc.parse_image_table(table([])) == []


def test_parse_table_garbage_fails_clearly():
    with pytest.raises(pvc.PowerVCError) as e:
        pvc.parse_image_table("| a | b |\n| c |\n")
    assert "no header line" in e.value.msg
    broken = SEED_TABLE.replace("| rhel      | True       |", "| rhel |")
    with pytest.raises(pvc.PowerVCError) as e:
        pvc.parse_image_table(broken)
    assert "expected 9 columns" in e.value.msg


def test_find_image_by_id_then_unique_name():
    images = [{"name": "a", "id": "ID-1"}, {"name": "b", "id": "ID-2"}, {"name": "b", "id": "ID-3"},
              {"name": "ID-2", "id": "ID-4"}]
    assert pvc.find_image(images, "id-1")["id"] == "ID-1"
    assert pvc.find_image(images, "ID-2")["id"] == "ID-2"  # an ID wins over a name
    with pytest.raises(pvc.PowerVCNotFound) as e:
        pvc.find_image(images, "b")
    assert "ID-2" in e.value.msg and "ID-3" in e.value.msg
    with pytest.raises(pvc.PowerVCNotFound) as e:
        pvc.find_image(images, "zzz")
    assert "'zzz' not found" in e.value.msg
    assert [i["id"] for i in pvc.filter_images(images, "b")] == ["ID-2", "ID-3"]


def test_check_exportable():
    pvc.check_exportable({"name": "a", "id": "1", "exportable": True, "status": "active"})
    with pytest.raises(pvc.PowerVCNotExportable, match="not exportable"):
        pvc.check_exportable({"name": "a", "id": "1", "exportable": False, "status": "active"})
    with pytest.raises(pvc.PowerVCNotExportable, match="status 'error'"):
        pvc.check_exportable({"name": "a", "id": "1", "exportable": True, "status": "error"})


# preflight math -----------------------------------------------------------------------------------

def test_required_bytes_defaults_and_custom_margins():
    assert pvc.required_bytes(20) == 20 * GIB + GIB + 1024 * MIB  # 5 % of 20 GiB = 1 GiB, + 1 GiB
    assert pvc.required_bytes(1, 0, 0) == GIB
    assert pvc.required_bytes(10, 10, 512) == 10 * GIB + GIB + 512 * MIB
    assert pvc.required_bytes(0.5, 0, 0) == GIB // 2


def test_check_free_space_error_names_both_numbers():
    img = {"name": "big", "size": 100}
    need = pvc.required_bytes(100)
    assert pvc.check_free_space(img, "/s", need) == need
    with pytest.raises(pvc.PowerVCSpaceError) as e:
        pvc.check_free_space(img, "/s", need - 1)
    assert str(need) in e.value.msg and str(need - 1) in e.value.msg and "/s" in e.value.msg
    assert e.value.extra == {"required_bytes": need, "free_bytes": need - 1}
    assert pvc.check_free_space({"name": "x", "size": None}, "/s", 0) is None


def test_free_bytes_of_missing_directory_uses_parent(tmp_path):
    assert pvc.free_bytes(str(tmp_path / "a" / "b")) == pvc.free_bytes(str(tmp_path))


def test_human_bytes():
    assert pvc.human_bytes(512) == "512 bytes"
    assert pvc.human_bytes(3 * GIB // 2) == "1.5 GiB"


# errors -------------------------------------------------------------------------------------------

ENV = {"OS_AUTH_URL": "https://pvc:5000/v3/", "OS_USERNAME": "admin", "OS_PROJECT_NAME": "ibm-default",
       "OS_PASSWORD": "s3cret-pw"}


@pytest.mark.parametrize("err,cls,needle", [
    ("The request you have made requires authentication. (HTTP 401) (Request-ID: req-1)", pvc.PowerVCAuthError,
     "refused the credentials of user 'admin'"),
    ("Missing value auth-url required for auth plugin password", pvc.PowerVCConfigError, "OS_AUTH_URL"),
    ("Unable to establish connection to https://pvc:5000/v3/auth/tokens: Connection refused",
     pvc.PowerVCConnectionError, "cannot reach PowerVC's API at https://pvc:5000/v3/"),
    ("ERROR: Image 'x' not found.", pvc.PowerVCNotFound, "image 'x' not found"),
    ("ERROR: Image 'x' (1) is not exportable.", pvc.PowerVCNotExportable, "is not exportable"),
    ("ERROR: [Errno 28] No space left on device: '/s/x.ova'", pvc.PowerVCSpaceError, "no space left"),
    ("sh: powervc-image: command not found", pvc.PowerVCConfigError, "cli_path"),
    ("Traceback: something odd", pvc.PowerVCError, "failed (rc=1)"),
])
def test_translate_error(err, cls, needle):
    e = pvc.translate_error("export image 'x'", 127 if "command not found" in err else 1, "", err, ENV, image="x",
                            secrets=[ENV["OS_PASSWORD"]])
    assert e.__class__ is cls
    assert needle in e.msg


def test_translate_error_scrubs_the_password():
    e = pvc.translate_error("list images", 1, "", "bad password s3cret-pw given (HTTP 401)", ENV,
                            secrets=["s3cret-pw"])
    assert "s3cret-pw" not in e.msg and "s3cret-pw" not in e.extra["stderr"]


def test_cli_passes_credentials_only_in_the_environment():
    calls = []

    def run_command(argv, environ_update=None, expand_user_and_vars=True):
        calls.append((argv, environ_update, expand_user_and_vars))
        return 0, SEED_TABLE, ""

    cli = pvc.PowerVCImageCLI(run_command, "/usr/bin/powervc-image", dict(ENV))
    assert cli.list_images()[0]["name"] == "test-IMG"
    cli.export("$weird ~name", "/s/x.ova")
    assert calls[0][0] == ["/usr/bin/powervc-image", "list"]
    assert calls[1][0] == ["/usr/bin/powervc-image", "export", "-i", "$weird ~name", "-p", "/s/x.ova"]
    for argv, env, expand in calls:
        assert "s3cret-pw" not in " ".join(argv)
        assert env["OS_PASSWORD"] == "s3cret-pw"
        assert expand is False


def test_find_cli(tmp_path):
    tool = tmp_path / "powervc-image"
    tool.write_text("#!/bin/sh\n")
    assert pvc.find_cli("powervc-image", path_env="/nonexistent", extra_dirs=()) is None
    tool.chmod(0o755)
    assert pvc.find_cli("powervc-image", path_env="/nonexistent:%s" % tmp_path, extra_dirs=()) == str(tool)
    assert pvc.find_cli(str(tool)) == str(tool)
    assert pvc.find_cli(str(tmp_path / "other")) is None


# files ------------------------------------------------------------------------------------------

def make_ova(path, first="img.ovf", payload=b"x" * 5000):
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in ((first, b"<Envelope/>"), ("volume1", payload)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_checksum_roundtrip_and_existing_export_states(tmp_path):
    ova = str(tmp_path / "img.ova")
    assert pvc.existing_export(ova) == ("absent", None)
    make_ova(ova)
    assert pvc.existing_export(ova) == ("partial", None)  # no checksum file
    digest = pvc.sha256_file(ova, block=1000)
    import hashlib
    with open(ova, "rb") as f:
        assert digest == hashlib.sha256(f.read()).hexdigest()
    pvc.write_checksum(pvc.checksum_path(ova), digest, "img.ova")
    with open(ova + ".sha256") as f:
        assert f.read() == "%s  img.ova\n" % digest
    assert pvc.existing_export(ova) == ("complete", digest)
    with open(ova, "ab") as f:
        f.write(b"more")
    assert pvc.existing_export(ova) == ("partial", None)
    with open(ova + ".sha256", "w") as f:
        f.write("not a checksum\n")
    assert pvc.read_checksum(ova + ".sha256") is None


def test_ova_first_member_and_paths(tmp_path):
    ova = str(tmp_path / "a.ova")
    make_ova(ova)
    assert pvc.ova_first_member(ova) == "img.ovf"
    with open(str(tmp_path / "junk.ova"), "wb") as f:
        f.write(b"\0" * 100)
    assert pvc.ova_first_member(str(tmp_path / "junk.ova")) is None
    assert pvc.partial_path("/s/rhel.ova") == "/s/.rhel.partial.ova"
    assert pvc.partial_path("/s/rhel.img") == "/s/.rhel.img.partial.ova"
    assert pvc.safe_filename("aix 7.2/prod:1") == "aix_7.2_prod_1"
    assert pvc.safe_filename("..") == "image"
