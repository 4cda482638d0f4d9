from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def refusal(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """A refused htmx action: its message in the page's #flash region, with the refusal's status
    (the pages' htmx config swaps 4xx answers)."""
    response = render(request, "flash.html", {"error": message}, status=status)
    response["HX-Retarget"] = "#flash"
    response["HX-Reswap"] = "outerHTML"
    return response
