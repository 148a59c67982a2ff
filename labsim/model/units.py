"""Units and markers shared by the whole project: hours, money, channels, regions.

Time is in hours from a Monday, 00:00 UTC. Money is held in integer
micro-dollars (µUSD) so that every ledger balances exactly, not merely to
rounding; it becomes US dollars only when tables are written. These names
are defined here once and imported wherever they are used.
"""

from __future__ import annotations

HOURS_PER_DAY = 24
HOURS_PER_WEEK = 168
HOURS_PER_YEAR = 8766.0  # 365.25 days
HOURS_PER_MONTH = HOURS_PER_YEAR / 12  # 730.5 h: the month of the half-life KPI
WEEKS_PER_YEAR = 52.0  # turnover and moderator-years are counted in weeks of 52 to a year
WEEKS_PER_QUARTER = 13  # the maps and lessons step quarter by quarter

UUSD = 1_000_000  # micro-dollars per US dollar

# Channels of work: the open crowd platform (piece rates) and vendors (hourly wages).
CHANNELS = ("crowd", "vendor")
CROWD, VENDOR = 0, 1

# The region label of market-level rows (flows that belong to no region).
ALL_REGIONS = "ALL"
