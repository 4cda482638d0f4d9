"""Printers and their queue of print jobs (printing/README.md).

A job is created after the event it prints has committed (a new order, 催菜, 退菜, 起菜, a bill
asked to print) and holds the data to print, a snapshot taken then; the worker renders it for its
printer's paper and sends it. Jobs of one printer go out in their `sequence`, each once.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Printer(models.Model):
    """A network ESC/POS printer (raw TCP, port 9100), in the kitchen or at the till.

    Roles are settings of the printer, not a field of one value: one printer in a small shop
    prints a station's tickets, the pass tickets and the receipts all at once.
    """

    class Paper(models.IntegerChoices):
        MM58 = 58, _("58 mm")
        MM80 = 80, _("80 mm")

    class Encoding(models.TextChoices):
        GB18030 = "gb18030", _("GB18030 (Simplified Chinese)")
        BIG5 = "big5", _("Big5 (Traditional Chinese)")

    name = models.CharField(_("name"), max_length=40, unique=True)
    host = models.CharField(_("address"), max_length=100, help_text=_("IP address or host name"))
    port = models.PositiveIntegerField(_("port"), default=9100)
    paper = models.PositiveSmallIntegerField(_("paper width"), choices=Paper, default=Paper.MM80)
    encoding = models.CharField(
        _("character set"), max_length=10, choices=Encoding, default=Encoding.GB18030
    )
    cuts = models.BooleanField(_("cuts the paper"), default=True)
    beeps = models.BooleanField(
        _("beeps"), default=True, help_text=_("Beep on new orders, 催菜 and 退菜.")
    )
    stations = models.ManyToManyField(
        "menu.Station",
        blank=True,
        related_name="printers",
        verbose_name=_("kitchen stations"),
        help_text=_("Prints the tickets and slips of these stations."),
    )
    prints_pass = models.BooleanField(
        _("pass printer (传菜)"),
        default=False,
        help_text=_("Prints a whole-order ticket for the runners to check dishes against."),
    )
    prints_receipts = models.BooleanField(
        _("till printer (收银)"),
        default=False,
        help_text=_("Prints bills and receipts from the cashier's screen."),
    )
    active = models.BooleanField(_("in use"), default=True)
    # Written by the worker: who is sending now (a claim that runs out) and whether it fails.
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    claimed_by = models.CharField(max_length=32, blank=True, editable=False)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("printer")
        verbose_name_plural = _("printers")

    def __str__(self):
        return self.name

    @property
    def address(self):
        return f"{self.host}:{self.port}"


class PrintJob(models.Model):
    class Kind(models.TextChoices):
        TICKET = "ticket", _("order ticket (点菜单)")
        ADDON = "addon", _("add-on ticket (加菜单)")
        URGE = "urge", _("hurry slip (催菜)")
        VOID = "void", _("void slip (退菜)")
        FIRE = "fire", _("fire slip (起菜)")
        PASS = "pass", _("pass ticket (传菜单)")
        PREBILL = "prebill", _("bill (结账单)")
        RECEIPT = "receipt", _("receipt (小票)")
        TEST = "test", _("test page")
        HANDOVER = "handover", _("handover slip (交班单)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", _("printed")
        FAILED = "failed", _("failed")

    printer = models.ForeignKey(
        Printer, on_delete=models.PROTECT, related_name="jobs", verbose_name=_("printer")
    )
    sequence = models.PositiveIntegerField(_("number"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("what"), max_length=120)
    # What to print, taken when the job was made; rendered for the printer when it is sent.
    payload = models.JSONField(default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_try_at = models.DateTimeField(_("next try"), default=timezone.now)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("printed at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    tab_id = models.IntegerField(null=True, blank=True, db_index=True)
    order_id = models.IntegerField(null=True, blank=True)
    reprint_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    moved_from = models.CharField(_("moved from"), max_length=40, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("print job")
        verbose_name_plural = _("print jobs")
        constraints = [
            models.UniqueConstraint(
                fields=["printer", "sequence"], name="print_job_sequence_once_per_printer"
            )
        ]
        indexes = [
            models.Index(fields=["status", "printer", "sequence"], name="print_job_queue"),
            models.Index(fields=["status", "created_at"], name="print_job_age"),
        ]

    # A job is printed or given up, once; a reprint is a new job, and moving a job to another
    # printer keeps it queued.
    TRANSITIONS = {
        Status.QUEUED: {Status.SENT, Status.FAILED},
        Status.SENT: set(),
        Status.FAILED: set(),
    }

    def __str__(self):
        return f"{self.printer} #{self.sequence} {self.title}"

    @property
    def is_queued(self):
        return self.status == self.Status.QUEUED

    @classmethod
    def move(cls, job_id, to, *, printer_id=None, **fields):
        """The one writer of a job's status: queued → `to` (with `fields`: when, why) by
        compare-and-set. False when another copy sent it, or it moved printer, first."""
        if to not in cls.TRANSITIONS[cls.Status.QUEUED]:
            raise ValueError(f"A print job does not move from queued to {to}.")
        jobs = cls.objects.filter(pk=job_id, status=cls.Status.QUEUED)
        if printer_id is not None:
            jobs = jobs.filter(printer_id=printer_id)
        return bool(jobs.update(status=to, **fields))
