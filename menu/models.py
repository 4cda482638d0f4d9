import uuid
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from PIL import Image

from restaurant.lib.fields import optional_link
from restaurant.lib.money import MoneyField

THUMBNAIL_SIZE = (480, 360)
# WebP copies of the thumbnail for phones (srcset): the menu shows photos 120 CSS px wide, so
# 240 px for 2x screens and 360 px for 3x; 480 px when large text puts the photo full width.
WEBP_WIDTHS = (240, 360, 480)


class Localized:
    """`obj.local("name")` gives the English field when the page is in English and it is set."""

    def local(self, field: str) -> str:
        if (get_language() or "").startswith("en"):
            english = getattr(self, f"{field}_en", "")
            if english:
                return english
        return getattr(self, field)

    @property
    def local_name(self) -> str:
        return self.local("name")


class Station(Localized, models.Model):
    """A kitchen station (热菜, 凉菜, 吧台 …): where a dish is made and whose screen shows it."""

    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=40, blank=True)
    slug = models.SlugField(_("slug"), unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("kitchen station")
        verbose_name_plural = _("kitchen stations")

    def __str__(self) -> str:
        return self.name


class Category(Localized, models.Model):
    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class Tag(Localized, models.Model):
    """A short label on a dish: 辣, 素, 招牌 …"""

    name = models.CharField(_("name"), max_length=20, unique=True)
    name_en = models.CharField(_("English name"), max_length=30, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


def photo_path(instance: "Dish", filename: str) -> str:
    return f"dishes/{uuid.uuid4().hex}{Path(filename).suffix.lower() or '.jpg'}"


class Dish(Localized, models.Model):
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="dishes", verbose_name=_("category")
    )
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    description_en = models.CharField(_("English description"), max_length=400, blank=True)
    price = MoneyField(_("price"))
    member_price = MoneyField(
        _("member price"),
        null=True,
        blank=True,
        help_text=_("会员价: what a member pays; blank means the level's discount, if any."),
    )
    photo = models.ImageField(_("photo"), upload_to=photo_path, blank=True)
    thumbnail = models.ImageField(
        _("thumbnail"), upload_to="dishes/thumbs/", blank=True, editable=False
    )
    tags = models.ManyToManyField(Tag, blank=True, verbose_name=_("tags"))
    station = optional_link(
        Station, _("kitchen station"), on_delete=models.SET_NULL, related_name="dishes"
    )
    active = models.BooleanField(_("on the menu"), default=True)
    stock = models.PositiveIntegerField(
        _("portions left"), null=True, blank=True, help_text=_("Blank means unlimited.")
    )
    sold_out = models.BooleanField(_("sold out (估清)"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["category__position", "position", "id"]
        verbose_name = _("dish")
        verbose_name_plural = _("dishes")
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="dish_price_not_negative")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def available(self) -> bool:
        return self.active and not self.sold_out and (self.stock is None or self.stock > 0)

    @property
    def local_description(self) -> str:
        return self.local("description")

    def _variant_name(self, width: int) -> str:
        return str(Path(self.thumbnail.name).with_suffix("")) + f"-{width}.webp"

    def thumbnail_srcset(self) -> str:
        """`url 240w, url 360w, …` of the WebP copies, or "" when they were never made."""
        if not self.thumbnail:
            return ""
        storage = self.thumbnail.storage
        names = [(self._variant_name(w), w) for w in WEBP_WIDTHS]
        if not all(storage.exists(name) for name, _w in names):
            return ""
        return ", ".join(f"{storage.url(name)} {w}w" for name, w in names)

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # A new or replaced photo gets a new thumbnail, named after the photo's stored name.
        stem = Path(self.photo.name).stem if self.photo else ""
        current = Path(self.thumbnail.name).stem if self.thumbnail else ""
        if self.photo and not current.startswith(f"{stem}-thumb"):
            self.thumbnail.save(f"{stem}-thumb.jpg", make_thumbnail(self.photo), save=False)
            super().save(update_fields=["thumbnail"])
            for width, data in make_webp_variants(self.thumbnail):
                self.thumbnail.storage.save(self._variant_name(width), data)
        elif not self.photo and self.thumbnail:
            self.thumbnail = ""
            super().save(update_fields=["thumbnail"])


def make_thumbnail(photo: FieldFile) -> ContentFile:
    """A phone-sized JPEG of the photo, cropped to 4:3."""
    with photo.open("rb"), Image.open(photo) as original:
        image = original.convert("RGB")
        width, height = image.size
        target = THUMBNAIL_SIZE[0] / THUMBNAIL_SIZE[1]
        if width / height > target:
            new_width = int(height * target)
            left = (width - new_width) // 2
            image = image.crop((left, 0, left + new_width, height))
        else:
            new_height = int(width / target)
            top = (height - new_height) // 2
            image = image.crop((0, top, width, top + new_height))
        image.thumbnail(THUMBNAIL_SIZE)
        out = BytesIO()
        image.save(out, "JPEG", quality=78, optimize=True, progressive=True)
    return ContentFile(out.getvalue())


def make_webp_variants(thumbnail: FieldFile) -> Iterator[tuple[int, ContentFile]]:
    """(width, file) of the thumbnail as WebP at each of WEBP_WIDTHS."""
    with thumbnail.open("rb"), Image.open(thumbnail) as original:
        image = original.convert("RGB")
        for width in WEBP_WIDTHS:
            size = (width, width * image.height // image.width)
            copy = image.resize(size, Image.Resampling.LANCZOS)
            out = BytesIO()
            copy.save(out, "WEBP", quality=72, method=4)
            yield width, ContentFile(out.getvalue())


class OptionGroup(Localized, models.Model):
    """Specs and flavours of a dish: 辣度 (choose one), 加料 (choose up to three) …"""

    dish = models.ForeignKey(
        Dish, on_delete=models.CASCADE, related_name="option_groups", verbose_name=_("dish")
    )
    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    min_choices = models.PositiveSmallIntegerField(
        _("at least"), default=0, help_text=_("1 or more makes the choice required.")
    )
    max_choices = models.PositiveSmallIntegerField(
        _("at most"), default=1, help_text=_("1 means a single choice.")
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("option group")
        verbose_name_plural = _("option groups")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_choices__gte=1)
                & models.Q(max_choices__gte=models.F("min_choices")),
                name="option_group_min_max",
            )
        ]

    def __str__(self) -> str:
        return f"{self.dish} · {self.name}"

    @property
    def required(self) -> bool:
        return self.min_choices > 0

    @property
    def single(self) -> bool:
        return self.max_choices == 1


class Option(Localized, models.Model):
    group = models.ForeignKey(
        OptionGroup, on_delete=models.CASCADE, related_name="options", verbose_name=_("group")
    )
    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    price = MoneyField(_("surcharge"), default=0)
    active = models.BooleanField(_("available"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("option")
        verbose_name_plural = _("options")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="option_price_not_negative"
            )
        ]

    def __str__(self) -> str:
        return self.name


def new_version() -> str:
    return uuid.uuid4().hex


class MenuState(models.Model):
    """One row whose version changes with every change a diner's menu shows.

    The rendered menu is cached under this version, so every process sees an edit at once. A
    random version (not a counter) stays unique even when the table is emptied and refilled.
    """

    version = models.CharField(_("menu version"), max_length=32, default=new_version)

    class Meta:
        verbose_name = _("menu state")
        verbose_name_plural = _("menu states")

    @classmethod
    def current(cls) -> str:
        state, _ = cls.objects.get_or_create(pk=1)
        return state.version

    @classmethod
    def bump(cls) -> None:
        if not cls.objects.filter(pk=1).update(version=new_version()):
            cls.objects.get_or_create(pk=1)
