"""The manager's admin for the menu: stations, categories, tags, dishes and their options.

Edits here change the models directly; `menu.signals` bumps the menu version on every save, so
the cached menu every phone sees is rebuilt at once.
"""

from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from restaurant.lib.audit import AuditedAdmin, AuditEntry
from restaurant.lib.roles import ManagerPermissions

from .models import Category, Dish, Option, OptionGroup, Station, Tag


@admin.register(Station)
class StationAdmin(AuditedAdmin, ManagerPermissions, admin.ModelAdmin):
    list_display = ["name", "name_en", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name_en"]}
    search_fields = ["name", "name_en", "slug"]


@admin.register(Category)
class CategoryAdmin(AuditedAdmin, ManagerPermissions, admin.ModelAdmin):
    list_display = ["name", "name_en", "position", "active", "dish_count"]
    list_editable = ["position", "active"]
    list_filter = ["active"]
    search_fields = ["name", "name_en"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(dish_count=Count("dishes"))

    @admin.display(description=_("dishes"), ordering="dish_count")
    def dish_count(self, category):
        return category.dish_count


@admin.register(Tag)
class TagAdmin(AuditedAdmin, ManagerPermissions, admin.ModelAdmin):
    list_display = ["name", "name_en"]
    search_fields = ["name", "name_en"]


class OptionGroupInline(ManagerPermissions, admin.TabularInline):
    model = OptionGroup
    fields = ["name", "name_en", "min_choices", "max_choices", "position"]
    extra = 0
    show_change_link = True  # the group's page edits its options


class OptionInline(ManagerPermissions, admin.TabularInline):
    model = Option
    fields = ["name", "name_en", "price", "active", "position"]
    extra = 0


def _image_preview(dish, width, height):
    image = dish.thumbnail or dish.photo
    if not image:
        return "—"
    return format_html(
        '<img src="{}" alt="" width="{}" height="{}" style="object-fit:cover;border-radius:4px">',
        image.url,
        width,
        height,
    )


@admin.register(Dish)
class DishAdmin(AuditedAdmin, ManagerPermissions, admin.ModelAdmin):
    list_display = [
        "preview",
        "name",
        "category",
        "station",
        "price",
        "stock",
        "sold_out",
        "active",
    ]
    list_display_links = ["preview", "name"]
    list_editable = ["price", "stock", "sold_out", "active"]
    list_filter = ["category", "station", "sold_out", "active", "tags"]
    list_select_related = ["category", "station"]
    search_fields = ["name", "name_en"]
    filter_horizontal = ["tags"]
    readonly_fields = ["photo_preview", "updated_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "category",
                    "name",
                    "name_en",
                    "price",
                    "member_price",
                    "station",
                    "tags",
                    "position",
                ]
            },
        ),
        (_("description"), {"fields": ["description", "description_en"]}),
        (_("photo"), {"fields": ["photo", "photo_preview"]}),
        (_("availability"), {"fields": ["active", "stock", "sold_out", "updated_at"]}),
    ]
    inlines = [OptionGroupInline]
    # In the audit trail on their own, with the old and the new value.
    audited_fields = {
        "price": AuditEntry.Kind.PRICE,
        "stock": AuditEntry.Kind.STOCK,
        "sold_out": AuditEntry.Kind.STOCK,
    }

    # Orders take stock and the kitchen marks dishes sold out while a manager has a page open.
    # These fields carry the value the page showed, and are written back only when the manager
    # changed them on the page: editing a price never puts back portions sold in the meantime.
    LIVE_FIELDS = ("stock", "sold_out")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in self.LIVE_FIELDS:
            field.show_hidden_initial = True
        return field

    def save_model(self, request, obj, form, change):
        untouched = [name for name in self.LIVE_FIELDS if name not in form.changed_data]
        if not change or not untouched:
            super().save_model(request, obj, form, change)
            return
        fields = [
            f.name
            for f in obj._meta.concrete_fields
            if not f.primary_key and f.name not in untouched
        ]
        obj.save(update_fields=fields)

    @admin.display(description=_("photo"))
    def preview(self, dish):
        return _image_preview(dish, 64, 48)

    @admin.display(description=_("preview"))
    def photo_preview(self, dish):
        return _image_preview(dish, 240, 180)


@admin.register(OptionGroup)
class OptionGroupAdmin(AuditedAdmin, ManagerPermissions, admin.ModelAdmin):
    list_display = ["name", "dish", "min_choices", "max_choices", "position"]
    list_select_related = ["dish"]
    list_filter = ["dish__category"]
    search_fields = ["name", "name_en", "dish__name", "dish__name_en"]
    autocomplete_fields = ["dish"]
    inlines = [OptionInline]


@admin.register(Option)
class OptionAdmin(AuditedAdmin, ManagerPermissions, admin.ModelAdmin):
    audited_fields = {"price": AuditEntry.Kind.PRICE}
    list_display = ["name", "group", "price", "active", "position"]
    list_editable = ["price", "active"]
    list_select_related = ["group__dish"]
    list_filter = ["active", "group__dish__category"]
    search_fields = ["name", "name_en", "group__name", "group__dish__name"]
    autocomplete_fields = ["group"]
