"""labsim: a discrete-event simulator of the labour markets behind AI.

    >>> import labsim
    >>> results = labsim.run(labsim.compose(["horizon_weeks=20", "warmup_weeks=4"]))
    >>> results.kpis["overall"]["effective_wage_mean_usd_h"]  # doctest: +SKIP
"""

__version__ = "0.1.0"

from labsim.api import compose, run  # noqa: E402
from labsim.results import Results  # noqa: E402

__all__ = ["Results", "__version__", "compose", "run"]
