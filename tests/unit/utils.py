"""Run a module's main() in-process and capture what it would return.

Pattern from vmware.vmware's tests/unit/common/utils.py; on ansible-core 2.19+
the arguments go through ansible.module_utils.testing.patch_module_args, on
2.18 through basic._ANSIBLE_ARGS.
"""

import contextlib
import json
from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:  # ansible-core >= 2.19
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core 2.18
    @contextlib.contextmanager
    def patch_module_args(args=None):
        args = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}})
        with mock.patch.object(basic, "_ANSIBLE_ARGS", to_bytes(args)):
            yield


class ModuleExit(Exception):
    """exit_json was called; .result holds what the module returned."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


class ModuleFail(Exception):
    """fail_json was called; .result holds the message and extras."""

    def __init__(self, result):
        super().__init__(result.get("msg"))
        self.result = result


def _exit_json(self, **kwargs):
    kwargs.setdefault("changed", False)
    raise ModuleExit(kwargs)


def _fail_json(self, msg=None, **kwargs):
    kwargs["failed"] = True
    kwargs["msg"] = msg
    raise ModuleFail(kwargs)


def run_module(module, args, check_mode=False, diff=False):
    """Run module.main() with args. Returns the result dict; raises ModuleFail on failure."""
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args), \
            mock.patch.object(basic.AnsibleModule, "exit_json", _exit_json), \
            mock.patch.object(basic.AnsibleModule, "fail_json", _fail_json):
        try:
            module.main()
        except ModuleExit as e:
            return e.result
    raise AssertionError("module returned without calling exit_json or fail_json")
