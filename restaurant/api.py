"""API v1: JSON over the same services as the pages. OpenAPI document at /api/v1/docs."""

from ninja import NinjaAPI

api = NinjaAPI(title="Diancan API", version="1", urls_namespace="api-v1", docs_url="/docs")
