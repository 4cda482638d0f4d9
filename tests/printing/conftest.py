"""Fixtures of the printing tests: fake network printers (tests/printing/fake_printer.py) set up
as a hot-station printer, a cold-station printer, a pass printer and a till printer."""

import pytest

from printing import sender
from printing.models import Printer
from tests.printing.fake_printer import FakePrinter


@pytest.fixture(autouse=True)
def one_printer_at_a_time(monkeypatch):
    """A test's data lives in its transaction, which the worker's threads (one per printer,
    each with a connection of its own) cannot see: in-process rounds send one printer after
    another. The tests with real worker processes run the threads."""
    monkeypatch.setattr(sender, "PARALLEL_PRINTERS", 1)


@pytest.fixture
def fake_printers():
    made = []

    def make(**kwargs):
        fake = FakePrinter(**kwargs)
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.power_off()


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """Run what services queue for after the commit (signals, pushes), as a real commit would."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def kitchen(menu, fake_printers):
    """热菜 prints on `hot`, 凉菜 on `cold`; `pass_` prints the pass tickets, `till` receipts."""
    fakes = {name: fake_printers() for name in ("hot", "cold", "pass_", "till")}
    hot = Printer.objects.create(name="热菜打印机", host="127.0.0.1", port=fakes["hot"].port)
    hot.stations.add(menu["hot_station"])
    cold = Printer.objects.create(
        name="凉菜打印机", host="127.0.0.1", port=fakes["cold"].port, paper=58, beeps=False
    )
    cold.stations.add(menu["cold_station"])
    pass_ = Printer.objects.create(
        name="传菜打印机", host="127.0.0.1", port=fakes["pass_"].port, prints_pass=True
    )
    till = Printer.objects.create(
        name="收银打印机", host="127.0.0.1", port=fakes["till"].port, paper=58, prints_receipts=True
    )
    printers = {"hot": hot, "cold": cold, "pass_": pass_, "till": till}
    return {"fake": fakes, "printer": printers}
