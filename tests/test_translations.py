"""The Chinese catalogue: every message is translated, placeholders survive, the committed .mo
says what the .po says, and the pages speak Chinese by default and English when asked.

The .po file is read here by a small parser, so the tests need neither polib nor GNU gettext.
"""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def read_po(path):
    """The entries of a .po file: dicts with msgctxt, msgid, msgid_plural, msgstr (a list), flags.

    The header (the entry with an empty msgid) comes first. Obsolete (#~) entries are skipped.
    """
    entries, entry, field = [], None, None

    def finish():
        if entry is not None and entry.get("msgid") is not None:
            entries.append(entry)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            entry, field = None, None
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = {
                "msgctxt": None,
                "msgid": None,
                "msgid_plural": None,
                "msgstr": [],
                "flags": set(),
            }
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            text = ast.literal_eval(line)
            if field == "msgstr":
                entry["msgstr"][-1] += text
            else:
                entry[field] += text
        else:
            keyword, _, value = line.partition(" ")
            text = ast.literal_eval(value)
            if keyword.startswith("msgstr"):
                field = "msgstr"
                entry["msgstr"].append(text)
            else:
                field = keyword
                entry[field] = text
    finish()
    return entries


@pytest.fixture(scope="module")
def catalogue():
    assert PO.exists(), f"{PO} is missing: run makemessages --locale zh_Hans"
    entries = read_po(PO)
    assert entries and entries[0]["msgid"] == "", "the .po file should start with its header"
    return entries[0], entries[1:]


def describe(entry):
    return repr(entry["msgid"]) + (f" (context {entry['msgctxt']!r})" if entry["msgctxt"] else "")


def test_the_catalogue_header_says_simplified_chinese_utf8_with_one_plural_form(catalogue):
    header, _ = catalogue
    text = header["msgstr"][0]
    assert "Language: zh_Hans\n" in text
    assert "charset=UTF-8" in text
    assert "Plural-Forms: nplurals=1; plural=0;" in text
    assert "fuzzy" not in header["flags"]


def test_the_catalogue_is_not_empty(catalogue):
    _, entries = catalogue
    assert len(entries) > 100


def test_every_message_is_translated_and_none_is_fuzzy(catalogue):
    _, entries = catalogue
    untranslated = [describe(e) for e in entries if not all(s.strip() for s in e["msgstr"])]
    fuzzy = [describe(e) for e in entries if "fuzzy" in e["flags"]]
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy: {fuzzy}"


def test_a_plural_message_has_exactly_the_one_chinese_form(catalogue):
    _, entries = catalogue
    wrong = [
        describe(e) for e in entries if e["msgid_plural"] is not None and len(e["msgstr"]) != 1
    ]
    assert not wrong, f"plural entries should have only msgstr[0]: {wrong}"


def test_every_placeholder_of_a_message_is_kept_in_its_translation_and_none_is_made_up(catalogue):
    _, entries = catalogue
    problems = []
    for entry in entries:
        wanted = set(PLACEHOLDER.findall(entry["msgid"] + (entry["msgid_plural"] or "")))
        for translated in entry["msgstr"]:
            found = set(PLACEHOLDER.findall(translated))
            if found != wanted:
                problems.append(f"{describe(entry)}: wants {sorted(wanted)}, has {sorted(found)}")
    assert not problems, "\n".join(problems)


def test_the_committed_mo_file_says_what_the_po_file_says(catalogue):
    """Every entry of the .po comes back from gettext in Chinese, so the .mo was compiled from
    this very .po (run compilemessages after editing it)."""
    _, entries = catalogue
    assert MO.exists(), f"{MO} is missing: run compilemessages"
    stale = []
    with translation.override("zh-hans"):
        for entry in entries:
            context, msgid, plural = entry["msgctxt"], entry["msgid"], entry["msgid_plural"]
            if plural is None and context is None:
                got = translation.gettext(msgid)
            elif plural is None:
                got = translation.pgettext(context, msgid)
            elif context is None:
                got = translation.ngettext(msgid, plural, 1)
            else:
                got = translation.npgettext(context, msgid, plural, 1)
            if got != entry["msgstr"][0]:
                stale.append(f"{describe(entry)}: .po {entry['msgstr'][0]!r}, .mo {got!r}")
    assert not stale, f"{len(stale)} differ; recompile the .mo:\n" + "\n".join(stale)


@pytest.fixture
def chinese_by_default(settings):
    """The shipped default, whatever LANGUAGE_CODE this machine's environment sets."""
    settings.LANGUAGE_CODE = "zh-hans"


def diner_page(table, **headers):
    client = Client(**headers)
    return client.get(f"/t/{table.token}/")


def test_a_diner_page_is_in_chinese_when_the_phone_asks_for_no_language(
    chinese_by_default, table, menu
):
    page = diner_page(table)
    html = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "本桌购物车" in html and "选规格" in html and "Choose" not in html
    options = Client().get(f"/t/{table.token}/dishes/{menu['chicken'].pk}/").content.decode()
    assert "加入购物车" in options and "叫起（等通知再做）" in options
    assert "Add to cart" not in options


def test_a_diner_page_is_in_chinese_for_a_phone_set_to_chinese(table, menu):
    html = diner_page(table, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "选规格" in html and "Choose" not in html


def test_a_diner_page_is_in_english_for_a_phone_set_to_english(chinese_by_default, table, menu):
    html = diner_page(table, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="en">' in html
    assert "Choose" in html and "Our table's cart" in html
    assert "选规格" not in html


def test_a_diner_page_is_in_english_once_english_is_chosen(chinese_by_default, table, menu):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(f"/t/{table.token}/").content.decode()
    assert "Choose" in html and "选规格" not in html


def test_the_language_button_switches_a_phone_to_english(chinese_by_default, table, menu):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": f"/t/{table.token}/"})
    html = client.get(f"/t/{table.token}/").content.decode()
    assert "Choose" in html
    options = client.get(f"/t/{table.token}/dishes/{menu['chicken'].pk}/").content.decode()
    assert "Add to cart" in options


def test_the_kitchen_board_is_in_chinese_by_default_and_in_english_when_asked(
    chinese_by_default, cook, table, menu
):
    client = Client()
    client.force_login(cook)
    chinese = client.get("/kitchen/").content.decode()
    assert (
        "撤销上一步" in chinese
        and "近一小时已完成" in chinese
        and "Recall last bump" not in chinese
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get("/kitchen/").content.decode()
    assert "Recall last bump" in english and "撤销上一步" not in english


def test_an_error_message_from_the_code_is_translated_with_its_values():
    with translation.override("zh-hans"):
        message = translation.gettext("Unknown dish %(dish)s.") % {"dish": 42}
    assert message == "未知菜品 42。"
