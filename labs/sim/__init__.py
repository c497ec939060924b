"""A deterministic, pure-Python model of a Windows Server 2008 / 2008 R2 Hyper-V host.

Nothing here imports Django: the labs app drives it from Celery workers, and
`python -m labs.sim` drives it from a shell. Every number comes from
`shared/hyperv-facts.md` or the seed articles; facts marked [mem] there are
named parameters in `labs.sim.params`.
"""
