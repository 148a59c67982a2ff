"""The stored steady state (conf/steady_state/): read it, and regenerate it from a long run.

``labsim.model.steady`` says what the state is and how a run starts from it;
this module holds the files: ``workers.parquet`` (one row per worker present
at the end of a long baseline run), ``beliefs.parquet`` (one row per crowd
book) and ``meta.json`` (regions' expected wages, how and from which
configuration it was made). ``labsim.run`` starts every market run with
``start=steady`` from it.

Regenerate it after recalibrating or changing the model:

    python -m labsim.steady_state            # 260 weeks at scale 1, seed 0 (about a minute)

A test compares the stored configuration digest with the baseline's, so a
stale state cannot go unnoticed.
"""

from __future__ import annotations

import argparse
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl

from labsim.files import json_text, write_all
from labsim.model.steady import StartState, snapshot, world_digest
from labsim.paths import config_dir

WEEKS = 5 * 52.0


def state_dir() -> Path:
    return config_dir() / "steady_state"


def meta(folder: Path | None = None) -> dict:
    return json.loads(((folder or state_dir()) / "meta.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=4)
def _load(folder: Path) -> StartState | None:
    if not (folder / "workers.parquet").is_file():
        return None
    workers = pl.read_parquet(folder / "workers.parquet")
    beliefs = pl.read_parquet(folder / "beliefs.parquet")

    def arrays(df: pl.DataFrame) -> dict[str, np.ndarray]:
        return {c: (df[c].to_numpy().astype(str) if df[c].dtype == pl.String else df[c].to_numpy())
                for c in df.columns}

    about = meta(folder)
    return StartState(arrays(workers), arrays(beliefs), about.get("expected_wage", {}), about.get("channel_cost", {}))


def load(folder: Path | None = None) -> StartState | None:
    """The stored state (read once per process), or None if there is none."""
    return _load((folder or state_dir()).resolve())


def save(folder: Path, state: StartState, about: dict) -> None:
    """Write the three files, all or none. Floats in single precision: plenty for a starting
    distribution, and half the size."""
    workers = pl.DataFrame(state.workers).with_columns(pl.col(pl.Float64).cast(pl.Float32))
    beliefs = pl.DataFrame(state.beliefs)
    write_all(folder, {
        "workers.parquet": lambda p: workers.write_parquet(p, compression="zstd", compression_level=19),
        "beliefs.parquet": lambda p: beliefs.write_parquet(p),
        "meta.json": lambda p: p.write_text(json_text({**about, "expected_wage": state.expected_wage,
                                                           "channel_cost": state.channel_cost}),
                                            encoding="utf-8")})


def generate(weeks: float = WEEKS, seed: int = 0, folder: Path | None = None) -> Path:
    """Run the baseline from the stylised start for ``weeks`` at scale 1 and store where it ends."""
    from labsim.hydra_app import compose
    from labsim.model.engine import Engine
    from labsim.model.market import Market
    from labsim.model.rng import Streams

    base = [f"seed={seed}", f"horizon_weeks={weeks}", "warmup_weeks=0", "start=stylised", "scale=1",
            "output.progress=false"]
    cfg = compose(base)
    # The channels' shares are held at the table's while the market settles, so the costs stored
    # with the state are those of that mix: a run from it starts at the channel choice's fixed
    # point (its costs are the reference costs, so its shares stay the table's).
    # Rates are held at the markdown of the anchored values (no slack response) for the same reason:
    # the slack stored is then the one at the start's rates, the anchor of scarcity.
    m = Market(compose([*base, "routing.enabled=false", "pricing.slack_response=false"]), Streams(cfg.seed))
    Engine(m).run()
    folder = folder or state_dir()
    save(folder, snapshot(m, m.horizon_h), {
        "digest": world_digest(cfg), "weeks": weeks, "seed": seed,
        "made_by": f"python -m labsim.steady_state --weeks {weeks:g} --seed {seed}"})
    _load.cache_clear()
    return folder


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m labsim.steady_state",
                                description="Regenerate conf/steady_state/ from a long baseline run "
                                            "started from the stylised draws.")
    p.add_argument("--weeks", type=float, default=WEEKS, help=f"length of the run, weeks (default {WEEKS:g})")
    p.add_argument("--seed", type=int, default=0, help="seed of the run (default 0)")
    a = p.parse_args(argv)
    print(f"wrote {generate(a.weeks, a.seed)}")


if __name__ == "__main__":
    main()
