"""Closed-form queueing results the model is checked against.

For an M/M/c queue with arrival rate lam, service rate mu per server and c
servers (offered load a = lam/mu, utilisation rho = a/c < 1), Erlang's C
formula gives the probability that an arrival waits, and the mean wait in
queue is W_q = C(c, a) / (c mu - lam).
"""

from __future__ import annotations



def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival has to wait (Erlang C)."""
    c, a = int(servers), float(offered_load)
    if not 0 <= a < c:
        raise ValueError(f"offered load {a} must be in [0, servers={c})")
    # Erlang B by its stable recursion, then C from B.
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def mmc_mean_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue (before service) of an M/M/c queue."""
    a = arrival_rate / service_rate
    return erlang_c(servers, a) / (servers * service_rate - arrival_rate)


def mmc_utilization(servers: int, arrival_rate: float, service_rate: float) -> float:
    return arrival_rate / (servers * service_rate)
