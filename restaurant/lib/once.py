"""Work done once per period however many worker copies run: the day's backup, the
reconciliation of a day's gateway bills.

A copy *claims* (job, period) before doing the work: the first to insert the row has it; a row
whose claim ran out (its copy died mid-job) or whose last try failed and is due again is taken
over by a compare-and-set on `claimed_until`, so two copies never both hold it. `run_done`
marks it done for good; `run_failed` keeps the error and lets it be tried again later.
The model belongs to the `restaurant` app, its code to the kernel (as the audit trail's).
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobRun(models.Model):
    job = models.CharField(_("job"), max_length=40)
    period = models.CharField(_("period"), max_length=64)  # "2026-12-02", …
    claimed_until = models.DateTimeField(_("claimed until"))
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        app_label = "restaurant"
        constraints = [models.UniqueConstraint(fields=["job", "period"], name="job_run_once")]
        verbose_name = _("worker job run")
        verbose_name_plural = _("worker job runs")

    def __str__(self) -> str:
        return f"{self.job} {self.period}"


def run_claim(*, job: str, period: str, lease: timedelta, now: datetime | None = None) -> bool:
    """True when this caller now holds (job, period) for `lease`: nobody had it, or its last
    claim ran out without its work being done. False when it is done or held by another."""
    now = now or timezone.now()
    # Read first: the worker asks every round, and a done period must cost one indexed read,
    # not an INSERT that fails (PostgreSQL would log each refused one).
    run = JobRun.objects.filter(job=job, period=period).first()
    if run is None:
        try:
            with transaction.atomic():
                JobRun.objects.create(job=job, period=period, claimed_until=now + lease)
            return True
        except IntegrityError:  # another copy inserted it just now: it holds the claim
            return False
    if run.done_at is not None or run.claimed_until > now:
        return False
    # Compare-and-set on the claim we read: of two copies taking over a claim that ran out,
    # one updates the row and the other finds `claimed_until` moved and gets 0 rows.
    return bool(
        JobRun.objects.filter(pk=run.pk, claimed_until=run.claimed_until, done_at=None).update(
            claimed_until=now + lease, attempts=run.attempts + 1
        )
    )


def run_done(*, job: str, period: str) -> None:
    JobRun.objects.filter(job=job, period=period).update(done_at=timezone.now(), error="")


def run_failed(
    *, job: str, period: str, error: str, retry_in: timedelta, now: datetime | None = None
) -> None:
    """Keep the error; the work may be claimed again `retry_in` from now."""
    JobRun.objects.filter(job=job, period=period).update(
        claimed_until=(now or timezone.now()) + retry_in, error=error[:2000]
    )
