"""Reading the entries of a batch/transaction Bundle into plans, with clear errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fhir_server.errors import FhirError
from fhir_server.rest.versioning import check_id

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# the order the spec prescribes for processing a transaction
PROCESSING_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}


@dataclass
class EntryPlan:
    index: int
    method: str
    url: str  # as given, relative to the base
    type: str | None
    id: str | None
    rest: str  # the path after [type]/[id] ("" or "_history/2" or "$op"/"_history")
    query: str  # the search part after '?', "" when none
    resource: dict[str, Any] | None
    full_url: str | None
    if_none_exist: str | None = None
    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: str | None = None
    assigned_id: str | None = None  # the id a POST/conditional PUT will get
    skipped_write: bool = False  # conditional create that matched
    outcome: Any = field(default=None)
    prepared: Any = None  # the new version, prepared before the writer lock (a create)

    @property
    def where(self) -> str:
        return f"Bundle.entry[{self.index}]"


def entry_error(plan_index: int, error: FhirError) -> FhirError:
    """The same error, naming the entry (for transactions: the whole Bundle fails).

    An error that already names an entry keeps it: a write queued by an earlier entry
    can fail while a later one runs.
    """
    if getattr(error, "entry_index", None) is not None:
        return error
    error.entry_index = plan_index  # type: ignore[attr-defined]
    prefix = f"Bundle.entry[{plan_index}]"
    for issue in error.issues:
        if not issue.diagnostics.startswith(prefix):
            issue.diagnostics = f"{prefix}: {issue.diagnostics}"
        issue.expression = [prefix, *issue.expression]
    return error


def _strip_base(url: str, base_url: str) -> str:
    if url.startswith(base_url + "/"):
        return url[len(base_url) + 1 :]
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        raise FhirError(400, "invalid", f"request.url {url!r} is not on this server")
    return url.lstrip("/")


def plan_entries(bundle: dict[str, Any], base_url: str) -> list[EntryPlan]:
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise FhirError(400, "structure", "Bundle.entry must be a list", ["Bundle.entry"])
    plans: list[EntryPlan] = []
    full_urls: dict[str, int] = {}
    for index, entry in enumerate(entries):
        try:
            plans.append(_plan(index, entry, base_url))
        except FhirError as error:
            raise entry_error(index, error) from None
        full_url = plans[-1].full_url
        if full_url:
            if full_url in full_urls:
                raise FhirError(
                    400,
                    "invalid",
                    f"Bundle.entry[{index}]: fullUrl {full_url!r} is already used by"
                    f" entry {full_urls[full_url]}",
                    [f"Bundle.entry[{index}].fullUrl"],
                )
            full_urls[full_url] = index
    return plans


def _plan(index: int, entry: Any, base_url: str) -> EntryPlan:
    if not isinstance(entry, dict):
        raise FhirError(400, "structure", "an entry must be an object")
    request = entry.get("request")
    if not isinstance(request, dict):
        raise FhirError(400, "required", "the entry has no request", ["request"])
    method = request.get("method")
    if method not in METHODS:
        raise FhirError(
            400, "invalid", f"request.method {method!r} is not one of {', '.join(METHODS)}"
        )
    url = request.get("url")
    if not isinstance(url, str) or not url.strip():
        raise FhirError(400, "required", "request.url is missing", ["request.url"])
    path, _, query = _strip_base(url.strip(), base_url).partition("?")
    segments = [s for s in path.split("/") if s]
    type_ = segments[0] if segments else None
    id_ = segments[1] if len(segments) > 1 else None
    rest = "/".join(segments[2:])
    if id_ is not None and id_.startswith(("$", "_")):
        rest, id_ = "/".join(segments[1:]), None
    if id_ is not None:
        check_id(id_, "request.url")
    resource = entry.get("resource")
    if method in ("POST", "PUT") and not isinstance(resource, dict):
        raise FhirError(400, "required", f"a {method} entry needs a resource", ["resource"])
    if method in ("POST", "PUT", "DELETE", "PATCH") and type_ is None:
        raise FhirError(400, "invalid", f"request.url {url!r} names no resource type")
    if method == "POST" and (id_ is not None or query or rest):
        raise FhirError(400, "invalid", f"a POST entry's url must be the type alone, got {url!r}")
    if method in ("PUT", "PATCH", "DELETE") and id_ is None and not query:
        raise FhirError(
            400, "invalid", f"a {method} entry's url needs an id or search criteria, got {url!r}"
        )
    if (
        isinstance(resource, dict)
        and method in ("POST", "PUT")
        and resource.get("resourceType") != type_
    ):
        raise FhirError(
            400,
            "invalid",
            f"resource is a {resource.get('resourceType')!r} but request.url names {type_!r}",
        )
    full_url = entry.get("fullUrl")
    if full_url is not None and not isinstance(full_url, str):
        raise FhirError(400, "structure", "fullUrl must be a string", ["fullUrl"])
    return EntryPlan(
        index=index,
        method=method,
        url=url,
        type=type_,
        id=id_,
        rest=rest,
        query=query,
        resource=resource if isinstance(resource, dict) else None,
        full_url=full_url,
        if_none_exist=request.get("ifNoneExist"),
        if_match=request.get("ifMatch"),
        if_none_match=request.get("ifNoneMatch"),
        if_modified_since=request.get("ifModifiedSince"),
    )
