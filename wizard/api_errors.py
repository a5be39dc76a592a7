"""Errors under /api/ are JSON, whoever produced them.

The API view answers its own errors (a bad filter, a tenant the user may not see) in JSON, but a
404 from the URL resolver, a 403 from the CSRF check, a 405 from ``require_GET`` or a 500 from an
unexpected exception comes from Django as an HTML page. A script reading the API would then get
markup it cannot parse; this middleware turns those into ``{"error": "..."}`` with the same status.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"
MESSAGES = {
    404: "Not found.",
    # As the HTML error page says: nothing of the request is echoed back.
    500: "Something went wrong on our side. Try again in a minute; if it keeps happening, "
    "contact support.",
}


def _message(status: int) -> str:
    if status in MESSAGES:
        return MESSAGES[status]
    try:
        return f"{HTTPStatus(status).phrase}."
    except ValueError:
        return "Error."


class ApiJsonErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and response.get("Content-Type", "").split(";")[0] != "application/json"
        ):
            answer = JsonResponse({"error": _message(response.status_code)})
            answer.status_code = response.status_code
            if "Allow" in response:  # a 405 says which methods would work
                answer["Allow"] = response["Allow"]
            return answer
        return response
