"""Signals of the labs app, for the apps above it (LTI grade passback) that must not be imported here."""

from django.dispatch import Signal

# Sent inside the transaction that records a "check my work" run that was evaluated (checks passed or not), with
# run (LabRun), points (this run's points) and passed (True when the lab is finished: every check passed).
lab_check_scored = Signal()
