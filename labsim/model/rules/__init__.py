"""The model's rules, one module each, named as in the model's description.

Each module starts with the part of the world it models and the rule it
applies. Decisions are pure functions over numpy arrays (tested without
SimPy); where a rule updates the market, it does so through a function that
takes the market (``labsim.model.market.Market``) and says in its docstring
what it reads and what it writes.

- ``posting``: when requesters post (office hours by home time zone, demand growth).
- ``arrivals``: requesters' batches arrive: how many, whose, how large, at what rate.
- ``expiry``: batches past their deadline expire.
- ``schedule``: when workers are online (sessions, shifts, night hours).
- ``matching``: workers choose books; rationing; exact pay of a chunk.
- ``skills``: speed, rejections, learning, reputation and qualification.
- ``work``: one step of work for everyone online.
- ``wellbeing``: stress from toxic exposure, recovery, burnout.
- ``turnover``: recent wage, quits and their reasons.
- ``joining``: the initial population, joiners and vendor hires.
- ``pricing``: requesters' weekly adjustment of crowd piece rates.
- ``routing``: demand between channels and books; vendors' quotes.
- ``automation``: models trained on human labels; evaluation demand.
- ``word_of_mouth``: what potential joiners expect to earn.
"""
