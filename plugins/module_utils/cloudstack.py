# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vmimport.migrate contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)

"""Apache CloudStack client layer: auth options, a ``cs`` client with retries and Java-exact
signing, async job polling, error translation, and a catalog that resolves names to UUIDs.

Plain Python apart from :func:`cloudstack_argument_spec` (which only builds a dict), so that
it is testable without Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import hmac
import time

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is not supported by the collection
    from urllib import quote  # type: ignore

try:
    from cs import CloudStack, CloudStackApiException, CloudStackException
    HAS_CS = True
    CS_IMPORT_ERROR = None
except Exception as e:  # ImportError, or a cs release that does not run on this Python
    HAS_CS = False
    CS_IMPORT_ERROR = e
    CloudStack = object

    class CloudStackException(Exception):  # type: ignore
        pass

    class CloudStackApiException(CloudStackException):  # type: ignore
        pass

try:
    import requests
    REQUESTS_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)
except ImportError:  # cs depends on requests; without it HAS_CS is False anyway
    REQUESTS_ERRORS = ()

try:
    from ansible.module_utils.basic import env_fallback
except ImportError:  # plain-Python use (tests of the logic)
    env_fallback = None


def cloudstack_argument_spec():
    """The auth options of every CloudStack module (doc fragment vmimport.migrate.cloudstack).

    api_url, api_key and api_secret are not ``required`` here (their environment variables may
    hold them): modules call :func:`missing_auth` for one clear message.
    """
    def fb(var):
        return (env_fallback, [var]) if env_fallback is not None else None

    spec = dict(
        api_url=dict(type='str', fallback=fb('CLOUDSTACK_ENDPOINT')),
        api_key=dict(type='str', fallback=fb('CLOUDSTACK_KEY'), no_log=True),
        api_secret=dict(type='str', fallback=fb('CLOUDSTACK_SECRET'), no_log=True),
        api_http_method=dict(type='str', fallback=fb('CLOUDSTACK_METHOD'), choices=['get', 'post'], default='get'),
        api_timeout=dict(type='int', fallback=fb('CLOUDSTACK_TIMEOUT'), default=10),
        validate_certs=dict(type='bool', default=True),
    )
    for opt in spec.values():
        if opt.get('fallback') is None:
            opt.pop('fallback', None)
    return spec


AUTH_ENV = (('api_url', 'CLOUDSTACK_ENDPOINT'), ('api_key', 'CLOUDSTACK_KEY'), ('api_secret', 'CLOUDSTACK_SECRET'))


def missing_auth(params):
    """None when the credentials are set, else a message naming what to set."""
    missing = ["%s (or %s)" % (opt, env) for opt, env in AUTH_ENV if not params.get(opt)]
    if not missing:
        return None
    return "CloudStack credentials missing: set %s" % ", ".join(missing)


AUTH_OPTIONS = ('api_url', 'api_key', 'api_secret', 'api_http_method', 'api_timeout', 'validate_certs')

#: HTTP statuses worth a retry for commands that change nothing
RETRY_STATUSES = (429, 502, 503, 504, 530)

HINTS = {
    401: "check api_key and api_secret (or CLOUDSTACK_KEY / CLOUDSTACK_SECRET) and that this host's clock is "
         "right: signed requests expire after 10 minutes",
    431: "fix the parameter named in the message",
    432: "this command is not available to the account of api_key; importing and listing unmanaged VMs needs a "
         "root admin key",
    530: "CloudStack failed internally; its management server log has the details",
}


class CloudStackError(Exception):
    """A CloudStack call failed; ``str()`` is a complete message (what failed, why, what to do)."""

    def __init__(self, msg, command=None, status=None, errortext=None, job_id=None):
        super(CloudStackError, self).__init__(msg)
        self.msg = msg
        self.command = command
        self.status = status
        self.errortext = errortext
        self.job_id = job_id


class CloudStackJobError(CloudStackError):
    """An async job ended with jobstatus 2."""


class CloudStackJobTimeout(CloudStackError):
    """An async job was still pending when the wait ran out."""


def java_encode(value):
    """URL-encode as CloudStack's ApiServer does (java.net.URLEncoder, ``+`` -> ``%20``).

    The ``cs`` library leaves ``~`` as is (Python's quote), CloudStack encodes it: a value
    with ``~`` would fail the signature check with 401.
    """
    return quote(value, safe="*").replace("~", "%7E")


def sign(params, secret):
    """CloudStack's signature of params (sorted, encoded, joined, lowercased, HMAC-SHA1, base64)."""
    base = "&".join("%s=%s" % (k, java_encode(v)) for k, v in sorted(params.items()) if k.lower() != "signature")
    digest = hmac.new(secret.encode("utf-8"), base.lower().encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


if HAS_CS:
    class _CloudStack(CloudStack):
        """cs.CloudStack signing values exactly as CloudStack verifies them."""

        def _sign(self, data):
            if not self.secret:
                return
            data["signature"] = sign(data, self.secret)
else:  # pragma: no cover
    _CloudStack = None


def flatten_params(params):
    """What the ``cs`` library puts on the wire for params (``name[i].key`` for lists of dicts)."""
    out = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = str(value).lower()
        elif isinstance(value, (int, float)):
            out[key] = str(value)
        elif isinstance(value, dict):
            if value:
                for name, v in value.items():
                    out["%s[0].%s" % (key, name)] = str(v)
        elif isinstance(value, (list, tuple)):
            if not value:
                continue
            if isinstance(value[0], dict):
                for i, item in enumerate(value):
                    for name, v in item.items():
                        out["%s[%d].%s" % (key, i, name)] = str(v)
            else:
                out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = value
    return out


def _error_payload(exc):
    error = getattr(exc, "error", None)
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(error, dict):
        status = error.get("errorcode", status)
        return status, error.get("errortext") or str(error)
    return status, None


def translate(command, exc, api_url=None):
    """CloudStackError with one message for an exception raised by the cs library or requests."""
    if isinstance(exc, CloudStackError):
        return exc
    if REQUESTS_ERRORS and isinstance(exc, REQUESTS_ERRORS):
        return CloudStackError("cannot reach the CloudStack API at %s for %s: %s; check api_url (it ends with "
                               "/client/api) and that the management server is up"
                               % (api_url, command, type(exc).__name__), command=command)
    if isinstance(exc, CloudStackApiException):
        status, text = _error_payload(exc)
        hint = HINTS.get(status)
        msg = "CloudStack %s failed (HTTP %s): %s" % (command, status, text)
        if hint:
            msg += " (%s)" % hint
        return CloudStackError(msg, command=command, status=status, errortext=text)
    if isinstance(exc, CloudStackException):
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        detail = " ".join(str(a) for a in exc.args if isinstance(a, str))
        return CloudStackError("CloudStack %s failed: %s; check that api_url points to the API endpoint "
                               "(https://<management server>:8080/client/api)" % (command, detail),
                               command=command, status=status)
    return CloudStackError("CloudStack %s failed: %s" % (command, exc), command=command)


class CloudStackClient(object):
    """A cs.CloudStack with retries for reads, error translation and async job polling."""

    def __init__(self, api_url, api_key, api_secret, method="get", timeout=10, validate_certs=True,
                 retries=3, backoff=1.0, cs=None, sleep=time.sleep, clock=time.monotonic):
        self.api_url = api_url
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        if cs is None:
            cs = _CloudStack(endpoint=api_url, key=api_key, secret=api_secret, method=method,
                             timeout=timeout, dangerous_no_tls_verify=not validate_certs)
        self.cs = cs
        self.calls = 0

    def call(self, command, **params):
        """One API call; reads (list*, query*) are retried on transient failures."""
        read_only = command.startswith(("list", "query"))
        attempt = 0
        while True:
            attempt += 1
            self.calls += 1
            try:
                return getattr(self.cs, command)(**params)
            except Exception as e:  # translated below; nothing else escapes
                err = translate(command, e, self.api_url)
                transient = err.status in RETRY_STATUSES or (REQUESTS_ERRORS and isinstance(e, REQUESTS_ERRORS))
                if read_only and transient and attempt <= self.retries:
                    self.sleep(self.backoff * (2 ** (attempt - 1)))
                    continue
                raise err

    def list(self, command, **params):
        """All items of a list command (every page)."""
        result = self.call(command, fetch_list=True, **params)
        if isinstance(result, dict):  # an empty answer ({} or {"count": 0})
            items = [v for k, v in result.items() if k != "count" and isinstance(v, list)]
            return items[0] if items else []
        return list(result or [])

    def submit(self, command, **params):
        """Start an async command; returns its job id."""
        result = self.call(command, **params)
        job_id = result.get("jobid") if isinstance(result, dict) else None
        if not job_id:
            raise CloudStackError("CloudStack %s answered without a job id: %s" % (command, result), command=command)
        return job_id

    def wait(self, job_id, timeout=600, interval=2.0, command=None):
        """Poll queryAsyncJobResult until the job ends; returns its jobresult."""
        deadline = self.clock() + timeout
        while True:
            job = self.call("queryAsyncJobResult", jobid=job_id)
            status = job.get("jobstatus")
            if status == 1:
                return job.get("jobresult") or {}
            if status == 2:
                result = job.get("jobresult") or {}
                text = result.get("errortext") if isinstance(result, dict) else str(result)
                code = result.get("errorcode") if isinstance(result, dict) else None
                what = command or job.get("cmd")
                raise CloudStackJobError("CloudStack job %s (%s) failed (%s): %s" % (job_id, what, code, text),
                                         command=command, status=code, errortext=text, job_id=job_id)
            if self.clock() >= deadline:
                raise CloudStackJobTimeout("CloudStack job %s (%s) still pending after %ss; it keeps running in "
                                           "CloudStack: query it with queryAsyncJobResult or raise wait_timeout"
                                           % (job_id, command or job.get("cmd"), timeout),
                                           command=command, job_id=job_id)
            self.sleep(interval)


def client_from_params(params, **kwargs):
    """A CloudStackClient from a module's params (the auth options)."""
    return CloudStackClient(params['api_url'], params['api_key'], params['api_secret'],
                            method=params.get('api_http_method') or 'get', timeout=params.get('api_timeout') or 10,
                            validate_certs=params.get('validate_certs', True), **kwargs)


class ResolveError(Exception):
    """A name did not resolve to exactly one CloudStack object."""


def _names(items, key="name", limit=12):
    names = sorted(set(str(i.get(key)) for i in items))
    more = len(names) - limit
    return ", ".join(names[:limit]) + (", ... (%d more)" % more if more > 0 else "") if names else "none"


def pick(items, value, kind, key="name", where=""):
    """The one item whose id or name is value; ResolveError naming the known ones otherwise."""
    for i in items:
        if i.get("id") == value:
            return i
    found = [i for i in items if i.get(key) == value]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ResolveError("%s '%s' not found in CloudStack%s; known: %s" % (kind, value, where, _names(items, key)))
    raise ResolveError("%s name '%s' is ambiguous in CloudStack%s (ids %s); use the id"
                       % (kind, value, where, ", ".join(i["id"] for i in found)))


class Catalog(object):
    """CloudStack objects loaded once (lazily) and resolved by name or UUID."""

    def __init__(self, client):
        self.client = client
        self._cache = {}

    def _load(self, key, command, **params):
        if key not in self._cache:
            self._cache[key] = self.client.list(command, **params)
        return self._cache[key]

    # raw lists --------------------------------------------------------------------------------
    def zones(self):
        return self._load("zones", "listZones")

    def clusters(self):
        return self._load("clusters", "listClusters")

    def hosts(self, cluster_id):
        return self._load(("hosts", cluster_id), "listHosts", clusterid=cluster_id, type="Routing")

    def networks(self, zone_id):
        """Guest networks of the zone in CloudStack's order (system networks excluded)."""
        return self._load(("networks", zone_id), "listNetworks", zoneid=zone_id, listall=True)

    def service_offerings(self):
        return self._load("serviceofferings", "listServiceOfferings", issystem=False, listall=True)

    def disk_offerings(self):
        return self._load("diskofferings", "listDiskOfferings", listall=True)

    def templates(self, zone_id):
        return self._load(("templates", zone_id), "listTemplates", templatefilter="all", zoneid=zone_id,
                          listall=True)

    def os_types(self):
        return self._load("ostypes", "listOsTypes")

    def os_mappings(self):
        return self._load("guestosmappings", "listGuestOsMapping", hypervisor="VMware")

    def storage_pools(self, zone_id):
        return self._load(("storagepools", zone_id), "listStoragePools", zoneid=zone_id)

    def domains(self):
        return self._load("domains", "listDomains", listall=True)

    def accounts(self):
        return self._load("accounts", "listAccounts", listall=True)

    def projects(self):
        return self._load("projects", "listProjects", listall=True)

    def virtual_machines(self, zone_id):
        return self._load(("vms", zone_id), "listVirtualMachines", zoneid=zone_id, listall=True)

    def unmanaged(self, cluster_id, name=None):
        """listUnmanagedInstances of the cluster (one VM when name is given; not cached)."""
        params = {"clusterid": cluster_id}
        if name:
            params["name"] = name
        items = self.client.list("listUnmanagedInstances", **params)
        if name:
            items = [i for i in items if i.get("name") == name]
        return items

    def forget(self, *keys):
        """Drop cached lists (after an import changed them)."""
        for k in list(self._cache):
            base = k[0] if isinstance(k, tuple) else k
            if not keys or base in keys:
                del self._cache[k]

    # resolution -------------------------------------------------------------------------------
    def zone(self, value):
        return pick(self.zones(), value, "zone")

    def cluster(self, value, zone=None):
        items = self.clusters()
        where = ""
        if zone is not None:
            items = [c for c in items if c.get("zoneid") == zone["id"]]
            where = " in zone %s" % zone["name"]
        try:
            return pick(items, value, "cluster", where=where)
        except ResolveError as e:
            if zone is None and "ambiguous" in str(e):
                raise ResolveError("%s, or set zone" % e)
            raise

    def zone_of(self, cluster):
        return pick(self.zones(), cluster["zoneid"], "zone")

    def service_offering(self, value):
        return pick(self.service_offerings(), value, "service offering")

    def disk_offering(self, value):
        return pick(self.disk_offerings(), value, "disk offering")

    def network(self, value, zone):
        items = list(self.networks(zone["id"]))
        for n in items:
            if n.get("id") == value:
                return n
        return pick(items, value, "network", where=" in zone %s" % zone["name"])

    def network_by_id(self, network_id, zone):
        for n in self.networks(zone["id"]):
            if n.get("id") == network_id:
                return n
        return None

    def template(self, value, zone):
        items = self.templates(zone["id"])
        # a template can be listed once per zone: keep one entry per id
        seen, unique = set(), []
        for t in items:
            if t["id"] not in seen:
                seen.add(t["id"])
                unique.append(t)
        return pick(unique, value, "template", where=" in zone %s" % zone["name"])

    def domain(self, value):
        """A domain by id, path (ROOT/finance) or unique name."""
        items = self.domains()
        for d in items:
            if d.get("id") == value or d.get("path") == value:
                return d
        return pick(items, value, "domain")

    def account(self, name, domain):
        items = [a for a in self.accounts() if a.get("domainid") == domain["id"]]
        return pick(items, name, "account", where=" in domain %s" % domain.get("path", domain.get("name")))

    def project(self, value, domain=None):
        items = self.projects()
        where = ""
        if domain is not None:
            items = [p for p in items if p.get("domainid") == domain["id"]]
            where = " in domain %s" % domain.get("path", domain.get("name"))
        return pick(items, value, "project", where=where)

    def system_vms(self, zone_id):
        return self._load(("systemvms", zone_id), "listSystemVms", zoneid=zone_id)

    def routers(self, zone_id):
        return self._load(("routers", zone_id), "listRouters", zoneid=zone_id, listall=True)

    def managed_vm(self, name, zone):
        """The managed VM whose instance name is the vSphere VM name (an imported VM keeps it), else None."""
        for vm in self.virtual_machines(zone["id"]):
            if vm.get("instancename") == name:
                return vm
        return None

    def managed_names(self, zone):
        """vSphere names CloudStack manages in the zone: instance names of VMs, system VMs and routers."""
        names = set(vm.get("instancename") for vm in self.virtual_machines(zone["id"]))
        names.update(v.get("name") for v in self.system_vms(zone["id"]))
        names.update(r.get("name") for r in self.routers(zone["id"]))
        names.discard(None)
        return names

    def host_version(self, cluster, host_id=None, host_name=None):
        for h in self.hosts(cluster["id"]):
            if (host_id and h.get("id") == host_id) or (host_name and h.get("name") == host_name):
                return h.get("hypervisorversion") or "default"
        hosts = self.hosts(cluster["id"])
        return hosts[0].get("hypervisorversion", "default") if hosts else "default"
