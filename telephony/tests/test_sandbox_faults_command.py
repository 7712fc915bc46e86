import io

import pytest
from django.core.management import CommandError, call_command

from telephony.sandbox import sandbox_faults


def test_set_and_clear_faults():
    call_command("sandbox_faults", "callkaro", "--status", "503", stdout=io.StringIO())
    assert sandbox_faults("callkaro")["status"] == 503
    call_command("sandbox_faults", "callkaro", "--clear", stdout=io.StringIO())
    assert "status" not in sandbox_faults("callkaro")


def test_a_fault_is_required():
    with pytest.raises(CommandError, match="Give a fault"):
        call_command("sandbox_faults", "acefone", stdout=io.StringIO())
