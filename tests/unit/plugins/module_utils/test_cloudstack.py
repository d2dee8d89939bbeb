"""The CloudStack client layer: signing, parameters on the wire, retries, jobs, errors, names."""

import base64
import hashlib
import hmac

import pytest

from ansible_collections.vmimport.migrate.plugins.module_utils import cloudstack as csu
from ansible_collections.vmimport.migrate.tests.unit.cloudstack_fake import FakeCs

cs_client = pytest.importorskip("cs.client")


class FakeResponse(object):
    def __init__(self, status):
        self.status_code = status


def api_error(status, text="boom"):
    return cs_client.CloudStackApiException("HTTP %s response from CloudStack" % status,
                                            error={"errorcode": status, "errortext": text},
                                            response=FakeResponse(status))


def client(fake, **kw):
    sleeps = []
    c = csu.CloudStackClient("http://127.0.0.1:1/client/api", "key", "secret", cs=fake, sleep=sleeps.append, **kw)
    return c, sleeps


# ---- signing --------------------------------------------------------------------------------
def test_sign_known_vector():
    """The example of CloudStack's developer guide (its published signature), and the algorithm by hand."""
    params = {"apiKey": "plgWJfZK4gyS3mOMTVmjUVg-X-jlWlnfaUJ9GAbBbf9EdM-kAYMmAiLqzzq1ElZLYq_u38zCm0bewzGUdP66mg",
              "command": "listUsers", "response": "json"}
    secret = "VDaACYb0LV9eNjTetIOElcVQkvJck_J_QljX_FcHRj87ZKiy0z0ty0ZsYBkoXkY9b7eq1EhwJaw7FF3akA3KBQ"
    base = ("apiKey=%s&command=listUsers&response=json" % params["apiKey"]).lower()
    expected = base64.b64encode(hmac.new(secret.encode(), base.encode(), hashlib.sha1).digest()).decode()
    assert csu.sign(params, secret) == expected
    assert csu.sign(params, secret) == "TTpdDq/7j/J58XCRHomKoQXEQds="


@pytest.mark.parametrize("value,encoded", [("a b", "a%20b"), ("x~y", "x%7Ey"), ("a+b", "a%2Bb"), ("*._-", "*._-"),
                                           ("ä", "%C3%A4"), ("a/b:c", "a%2Fb%3Ac"), ("a=b&c", "a%3Db%26c")])
def test_java_encode(value, encoded):
    assert csu.java_encode(value) == encoded


def test_sign_matches_cs_except_for_tilde():
    """cs signs like CloudStack for ordinary values; for '~' only our signer agrees with Java."""
    params = {"apiKey": "k", "command": "listZones", "name": "zone 1+x", "response": "json"}
    cs = cs_client.CloudStack(endpoint="http://x/client/api", key="k", secret="s")
    mine = dict(params)
    theirs = dict(params)
    cs._sign(theirs)
    assert csu.sign(mine, "s") == theirs["signature"]
    params["name"] = "a~b"
    theirs = dict(params)
    cs._sign(theirs)
    assert csu.sign(params, "s") != theirs["signature"]
    ours = csu._CloudStack(endpoint="http://x/client/api", key="k", secret="s")
    signed = dict(params)
    ours._sign(signed)
    assert signed["signature"] == csu.sign(params, "s")


def test_signature_ignores_existing_signature_param():
    params = {"command": "listZones", "apiKey": "k"}
    assert csu.sign(dict(params, signature="old"), "s") == csu.sign(params, "s")


# ---- parameters on the wire -----------------------------------------------------------------
def test_flatten_params_matches_cs_transform():
    params = {"clusterid": "c", "nicnetworklist": [{"nic": "Network adapter 1", "network": "n1"},
                                                   {"nic": "Network adapter 2", "network": "n2"}],
              "details": {"cpuSpeed": "2000"}, "migrateallowed": False, "forced": True, "count": 3,
              "empty": [], "none": None}
    expected = dict(params)
    cs_client.transform(expected)
    assert csu.flatten_params(params) == expected
    assert expected["nicnetworklist[1].network"] == "n2"
    assert expected["details[0].cpuSpeed"] == "2000"
    assert expected["migrateallowed"] == "false"


# ---- calls, retries and errors --------------------------------------------------------------
def test_reads_are_retried_on_530_with_backoff():
    fake = FakeCs(errors=[api_error(530), api_error(503)])
    c, sleeps = client(fake)
    assert [z["name"] for z in c.list("listZones")] == ["zone1", "zone2"]
    assert sleeps == [1.0, 2.0]
    assert c.calls == 3


def test_reads_give_up_after_retries():
    fake = FakeCs(errors=[api_error(530)] * 4)
    c, sleeps = client(fake, retries=3)
    with pytest.raises(csu.CloudStackError) as e:
        c.list("listZones")
    assert len(sleeps) == 3
    assert "CloudStack listZones failed (HTTP 530): boom" in str(e.value)
    assert "management server log" in str(e.value)


def test_writes_are_never_retried():
    fake = FakeCs(errors=[api_error(530)])
    c, sleeps = client(fake)
    with pytest.raises(csu.CloudStackError):
        c.submit("importUnmanagedInstance", clusterid="c-1", name="x", serviceofferingid="s")
    assert sleeps == [] and len(fake.called("importUnmanagedInstance")) == 1


def test_401_is_not_retried_and_explains():
    fake = FakeCs(errors=[api_error(401, "unable to verify user credentials and/or request signature")])
    c, sleeps = client(fake)
    with pytest.raises(csu.CloudStackError) as e:
        c.list("listZones")
    assert sleeps == []
    assert e.value.status == 401
    assert "unable to verify user credentials and/or request signature" in str(e.value)
    assert "api_key and api_secret" in str(e.value) and "clock" in str(e.value)


def test_connection_error_names_the_url():
    requests = pytest.importorskip("requests")
    fake = FakeCs(errors=[requests.exceptions.ConnectionError("refused")] * 5)
    c, sleeps = client(fake)
    with pytest.raises(csu.CloudStackError) as e:
        c.list("listZones")
    assert "cannot reach the CloudStack API at http://127.0.0.1:1/client/api" in str(e.value)
    assert len(sleeps) == 3


def test_non_json_answer_names_the_endpoint():
    fake = FakeCs(errors=[cs_client.CloudStackException("HTTP 404 Not Found", "Make sure endpoint URL is correct.",
                                                        response=FakeResponse(404))])
    c, _sleeps = client(fake)
    with pytest.raises(csu.CloudStackError, match="check that api_url points to the API endpoint"):
        c.call("listZones")


# ---- jobs -----------------------------------------------------------------------------------
class Clock(object):
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_wait_polls_until_done():
    fake = FakeCs(job_polls=3)
    clock = Clock()
    c = csu.CloudStackClient("u", "k", "s", cs=fake, clock=clock, sleep=lambda s: setattr(clock, "t", clock.t + s))
    job = c.submit("importUnmanagedInstance", clusterid="c-1", name="web01", serviceofferingid="so-cc")
    result = c.wait(job, timeout=60, interval=2)
    assert result["virtualmachine"]["instancename"] == "web01"
    assert len(fake.called("queryAsyncJobResult")) == 3
    assert clock.t == 4


def test_wait_reports_job_failure():
    fake = FakeCs(job_result={"errorcode": 530, "errortext": "Failed to import vm name: web01"})
    c, _sleeps = client(fake)
    job = c.submit("importUnmanagedInstance", clusterid="c-1", name="web01", serviceofferingid="so-cc")
    with pytest.raises(csu.CloudStackJobError) as e:
        c.wait(job, timeout=10, interval=0)
    assert e.value.job_id == job and e.value.errortext == "Failed to import vm name: web01"
    assert "failed (530): Failed to import vm name: web01" in str(e.value)


def test_wait_times_out_with_job_id():
    fake = FakeCs(job_polls=100)
    clock = Clock()
    c = csu.CloudStackClient("u", "k", "s", cs=fake, clock=clock, sleep=lambda s: setattr(clock, "t", clock.t + s))
    job = c.submit("importUnmanagedInstance", clusterid="c-1", name="web01", serviceofferingid="so-cc")
    with pytest.raises(csu.CloudStackJobTimeout) as e:
        c.wait(job, timeout=10, interval=3)
    assert e.value.job_id == job and "still pending after 10s" in str(e.value)


# ---- names ----------------------------------------------------------------------------------
def test_catalog_resolves_names_and_ids_once():
    fake = FakeCs()
    cat = csu.Catalog(csu.CloudStackClient("u", "k", "s", cs=fake))
    assert cat.service_offering("custom-constrained")["id"] == "so-cc"
    assert cat.service_offering("so-small")["name"] == "small-fixed"
    assert len(fake.called("listServiceOfferings")) == 1
    zone = cat.zone("zone1")
    assert cat.network("l2-vlan100", zone)["id"] == "n-100"
    assert cat.domain("ROOT/finance")["id"] == "d-fin"
    assert cat.account("finance-ops", cat.domain("ROOT/finance"))["id"] == "a-fin"


def test_catalog_not_found_lists_known_names():
    cat = csu.Catalog(csu.CloudStackClient("u", "k", "s", cs=FakeCs()))
    with pytest.raises(csu.ResolveError) as e:
        cat.disk_offering("disk-1t")
    assert str(e.value) == ("disk offering 'disk-1t' not found in CloudStack; known: disk-100g, disk-10g, "
                            "disk-custom")
    with pytest.raises(csu.ResolveError, match="network 'zone2-vlan100' not found in CloudStack in zone zone1"):
        cat.network("zone2-vlan100", cat.zone("zone1"))


def test_catalog_ambiguous_name_asks_for_the_id():
    cat = csu.Catalog(csu.CloudStackClient("u", "k", "s", cs=FakeCs()))
    with pytest.raises(csu.ResolveError, match=r"cluster name 'DC0_C0' is ambiguous in CloudStack \(ids c-1, c-2\); "
                                               r"use the id, or set zone"):
        cat.cluster("DC0_C0")
    assert cat.cluster("DC0_C0", cat.zone("zone2"))["id"] == "c-2"


def test_catalog_managed_vm_by_instance_name():
    cat = csu.Catalog(csu.CloudStackClient("u", "k", "s", cs=FakeCs()))
    zone = cat.zone("zone1")
    assert cat.managed_vm("i-2-7-VM", zone)["id"] == "vm-shared"
    assert cat.managed_vm("legacy-app", zone)["id"] == "vm-legacy"
    assert cat.managed_vm("shared-vm", zone) is None  # a host name is not a vSphere name
    assert cat.managed_vm("web01", zone) is None
    assert cat.managed_names(zone) == {"legacy-app", "i-2-7-VM", "s-1-VM", "r-4-VM"}


# ---- options --------------------------------------------------------------------------------
def test_argument_spec_hides_both_keys():
    spec = csu.cloudstack_argument_spec()
    assert spec["api_key"]["no_log"] is True and spec["api_secret"]["no_log"] is True
    assert spec["api_url"]["fallback"][1] == ["CLOUDSTACK_ENDPOINT"]
    assert spec["api_key"]["fallback"][1] == ["CLOUDSTACK_KEY"]
    assert spec["api_secret"]["fallback"][1] == ["CLOUDSTACK_SECRET"]


def test_missing_auth_names_options_and_variables():
    assert csu.missing_auth({"api_url": "u", "api_key": "k", "api_secret": "s"}) is None
    expected = "CloudStack credentials missing: set api_key (or CLOUDSTACK_KEY), api_secret (or CLOUDSTACK_SECRET)"
    assert csu.missing_auth({"api_url": "u"}) == expected
