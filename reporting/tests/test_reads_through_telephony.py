"""Reporting reads calls only through ``telephony.calls``, and names providers only by their key."""

from __future__ import annotations

import ast
from pathlib import Path

REPORTING = Path(__file__).resolve().parents[1]


def _sources() -> list[Path]:
    return [p for p in REPORTING.rglob("*.py") if "tests" not in p.parts and "migrations" not in p.parts]


def test_no_provider_call_log_model_or_provider_app_is_imported():
    offenders = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {a.name for a in node.names}
                if node.module.split(".")[0] == "acefone" or any(n.endswith("CallLog") for n in names):
                    offenders.append(f"{path.name}: from {node.module} import {', '.join(sorted(names))}")
            elif isinstance(node, ast.Import):
                offenders += [f"{path.name}: import {a.name}" for a in node.names if a.name.startswith("acefone")]
    assert offenders == []


def test_no_provider_words_of_its_own():
    words = set("ai human".split())  # the words the dashboard once used for providers
    found = [
        f"{path.name}:{node.lineno}"
        for path in _sources()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in words
    ]
    assert found == []
