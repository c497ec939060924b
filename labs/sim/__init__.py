"""A deterministic, pure-Python model of a Windows Server 2008 / 2008 R2 Hyper-V host.

Nothing here imports Django: the labs app drives it from Celery workers, and
`python -m labs.sim` drives it from a shell. Every number comes from
docs/sources.md (each fact with its source); facts marked [recalled] there are
named, documented parameters (`labs.sim.params` and the models' own parameter classes).
"""
