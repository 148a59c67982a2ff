"""What a run gives, bit for bit: digests of its tables, and the class of processor they hold on.

A run is reproducible on one class of processor, not across classes:
numpy computes some of its vectorised maths (exponentials, logarithms,
powers) with AVX-512 code where the processor has it and with other code
elsewhere, the two may differ in a last bit, and a last bit is enough for a
simulated worker to decide otherwise one day. So every digest of a run's
outputs is recorded per class (``platform()``): "AVX512_SKX" (x86-64 with
AVX-512: Intel Xeon since Skylake, AMD since Zen 4), "no-AVX512" (other
x86-64) and, on other architectures, the architecture's name (``aarch64``,
``arm64``...), where nothing has been recorded yet. numpy's own switch,
``NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL"``, makes an AVX-512 machine
compute as the "no-AVX512" class does, so both x86-64 classes can be
recorded on one machine.

The frozen-output test (``tests/validation/test_frozen_outputs.py``) and the
shipped posterior's reference runs (``labsim.posterior``) both use these
digests.
"""

from __future__ import annotations

import hashlib
import io
import platform as _platform
from typing import Any

import numpy as np


def platform() -> str:
    """The class of processor whose digests apply (see the module's docstring)."""
    machine = _platform.machine().lower()
    if machine not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return machine or "unknown"
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as features
    return "AVX512_SKX" if features.get("AVX512_SKX") else "no-AVX512"


def frame_digest(df: Any) -> str:
    """SHA-256 of a polars frame as it decodes from Parquet: names, types and exact values."""
    import polars as pl

    buf = io.BytesIO()
    df.write_parquet(buf)
    buf.seek(0)
    decoded = pl.read_parquet(buf)
    h = hashlib.sha256()
    for name in decoded.columns:
        col = decoded[name]
        h.update(f"{name}:{col.dtype}:{col.len()}:{col.null_count()};".encode())
        if col.dtype == pl.Utf8:
            h.update("\x1f".join("\x00" if v is None else v for v in col.to_list()).encode())
        else:
            h.update(col.is_null().to_numpy().tobytes())
            filled = col.fill_null(0) if col.dtype != pl.Boolean else col.fill_null(False)
            h.update(np.ascontiguousarray(filled.to_numpy()).tobytes())
    return h.hexdigest()


def run_digests(overrides: list[str]) -> dict[str, str]:
    """The digests of the timeseries and workers tables of the run ``overrides`` compose."""
    import labsim

    res = labsim.run(labsim.compose(list(overrides)))
    return {"timeseries": frame_digest(res.timeseries), "workers": frame_digest(res.workers)}
