"""The code's shape: a pure kernel, no import cycles, a room for every rule and policy."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import labsim.config as config

PACKAGE = Path(config.__file__).resolve().parent
MODEL = PACKAGE / "model"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Every labsim module imported anywhere in the file (top level, functions, TYPE_CHECKING).

    ``from pkg import sub`` imports the module ``pkg.sub`` when there is one, else a name of
    ``pkg``; a package's own __init__, which Python runs for any of its modules, is not
    counted as a dependency of its modules.
    """
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in modules else node.module)
    return {m for m in out if m in modules}


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: _imports(path, set(files)) - {name} for name, path in files.items()}


def test_importing_the_kernel_loads_no_config_io_or_plot_library():
    """`import labsim.model` loads numpy and SimPy, never polars, Hydra, OmegaConf, Plotly or Dash."""
    code = ("import labsim.model, sys; bad = {'polars','hydra','omegaconf','plotly','dash'} & set(sys.modules); "
            "print(sorted(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_kernel_imports_only_the_standard_library_numpy_simpy_and_numba():
    """No module of labsim/model imports a third-party package other than numpy, SimPy and numba
    (its compiled loops, labsim/model/jit.py), or a labsim module outside the kernel (the config
    only for type hints)."""
    allowed_third = {"numpy", "simpy", "numba"}
    stdlib = set(sys.stdlib_module_names)
    for path in MODEL.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            for name in names:
                top = name.split(".")[0]
                if top == "labsim":
                    assert name.startswith("labsim.model") or name == "labsim.config", (path, name)
                else:
                    assert top in stdlib or top in allowed_third or top == "__future__", (path, name)


def test_there_is_no_import_cycle():
    """Following every import of every labsim module never leads back to where it started."""
    graph = _graph()
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle.extend(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, path + [nxt]):
                return True
        state[node] = 2
        return False

    for start in sorted(graph):
        if state.get(start) is None and visit(start, [start]):
            break
    assert not cycle, " -> ".join(cycle)


def test_kernel_modules_are_small_and_the_market_is_wiring():
    """No kernel module is over 400 lines; the market's wiring stays under 300."""
    sizes = {p.relative_to(MODEL).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
             for p in MODEL.rglob("*.py")}
    assert max(sizes.values()) <= 400, sorted(sizes.items(), key=lambda kv: -kv[1])[:3]
    assert sizes["market.py"] < 300


def test_every_rule_and_policy_has_its_own_module_that_says_what_it_models():
    """Each rule and each policy module opens with a docstring saying what part of the world it is."""
    for folder in (MODEL / "rules", MODEL / "policies"):
        for path in folder.glob("*.py"):
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
            assert doc and len(doc.split()) >= 8, path


def test_no_kernel_code_outside_the_policies_names_a_policy():
    """Outside labsim/model/policies/ the kernel names no policy: it calls hooks."""
    names = [f.name for f in config.fields(config.PolicyConfig)]
    pattern = re.compile("|".join(rf"\b{n}\b" for n in names))
    for path in MODEL.rglob("*.py"):
        if path.parent.name == "policies":
            continue
        hits = pattern.findall(path.read_text(encoding="utf-8"))
        assert not hits, (path, hits)


def _definitions() -> dict[str, list[str]]:
    """Every function and class defined in labsim, by name: the modules defining it."""
    out: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                out.setdefault(node.name, []).append(_module_name(path))
    return out


def _calls(name: str) -> list[str]:
    """The modules that call ``name(...)`` (a plain name or an attribute)."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                if called == name:
                    out.append(_module_name(path))
                    break
    return out


def test_one_job_runner_one_status_reader_and_writer_one_to_config():
    """The mechanisms of running many jobs exist once each (labsim.jobs): the configuration checked
    by one to_config, status.json written by one function and read by one, one rule for "already
    done", and one pool of worker processes that every command running many jobs locally uses."""
    defined = _definitions()
    assert defined["to_config"] == ["labsim.hydra_app"]
    for name in ("write_status", "read_status", "done", "run_into", "Pool", "Status"):
        assert defined[name] == ["labsim.jobs"], (name, defined[name])
    assert _calls("ProcessPoolExecutor") == ["labsim.jobs"]
    assert _calls("Pool") == sorted(["labsim.calibrate", "labsim.classroom.controls", "labsim.sensitivity"])
    # status.json: only labsim.jobs opens it; the other modules ask read_status (sweeps, designs,
    # labsim-calibration, labsim-figures, the sweep's count) or write through write_status.
    for path in sorted(PACKAGE.rglob("*.py")):
        if _module_name(path) == "labsim.jobs":
            continue
        text = path.read_text(encoding="utf-8")
        opened = re.findall(r"(?:read_text|read_bytes|json\.load|write_json|atomic_write_text)\([^)]*STATUS", text)
        opened += re.findall(r"STATUS\)?\.(?:read_text|read_bytes|open|write_text)", text)
        assert not opened, (_module_name(path), opened)
    for module in ("labsim.cli", "labsim.sensitivity", "labsim.sweep", "labsim.calibration", "labsim.export"):
        assert "labsim.jobs" in _graph()[module], module


# Compiled functions called both ways that return no array: boxing a float or None reads nothing
# from the function's environment, which is what numba's cache can get wrong (batch_passes says how).
NO_ARRAY_RETURNED = {"night_share": "a float", "_post": "nothing"}


def test_a_compiled_function_is_called_from_python_or_by_compiled_code_not_both():
    """numba (0.68) links a cached function that compiled code calls to its callers' environment:
    called from Python too, it failed to return its arrays after a run in the same process
    ("NRT_adapt_ndarray_to_python: 'descr' is NULL"). Python calls a one-line ``*_entry`` instead."""
    compiled: dict[str, str] = {}
    bodies = []
    for path in sorted(MODEL.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                jit = any(getattr(d, "id", getattr(d, "attr", None)) == "njit" for d in node.decorator_list)
                if jit:
                    compiled[node.name] = _module_name(path)
                bodies.append((node, jit))
    by_compiled, by_python = set(), set()
    for node, jit in bodies:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id in compiled \
                    and sub.func.id != node.name:
                (by_compiled if jit else by_python).add(sub.func.id)
    both = (by_compiled & by_python) - set(NO_ARRAY_RETURNED)
    assert not both, sorted(both)
    assert len(by_compiled) > 10 and len(by_python) > 10  # the test sees both kinds of call


def test_indicators_are_listed_in_one_catalogue_only():
    """Which indicators a page, a table or a summary shows comes from labsim.indicators (its views),
    never from a list written elsewhere: no module but the catalogue holds a literal list of three
    or more of its names."""
    from labsim.indicators import CATALOGUE, VIEWS, view

    names = set(CATALOGUE)
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if _module_name(path) == "labsim.indicators":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                held = [e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in names]
                if len(held) >= 3:
                    found.append((_module_name(path), node.lineno, held[:3]))
    assert not found, found
    for v in VIEWS:
        assert view(v), v
