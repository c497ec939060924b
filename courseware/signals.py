"""Signals of the courseware app, for the apps above it (LTI grade passback) that must not be imported here."""

from django.dispatch import Signal

# Sent inside the transaction that records a submitted quiz attempt, with attempt (QuizAttempt, its grading fields
# not yet set on the instance), progress (the learner's Progress on the quiz, best score included) and submitted_at.
quiz_submitted = Signal()
