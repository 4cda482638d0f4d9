from django.conf import settings


def site(request):
    return {"restaurant_name": settings.RESTAURANT_NAME}
