"""A received message Bundle's entries, found by the references between them."""

from __future__ import annotations

from adapter.mapping.common import as_dict, as_list, invalid, string_or_none


class MessageBundle:
    """The entries of a message Bundle, indexed by fullUrl and by `Type/id`.

    Senders reference entries either by fullUrl (BaRS uses `urn:uuid:`) or relatively
    (`Patient/1`, as our own messages do), so both keys find the resource.
    """

    def __init__(self, bundle: dict) -> None:
        self.entries: list[tuple[str | None, dict]] = []
        self._index: dict[str, dict] = {}
        self._urls: dict[int, str] = {}
        self._positions: dict[int, int] = {}
        for position, entry in enumerate(as_list(bundle.get("entry"))):
            resource = as_dict(as_dict(entry).get("resource"))
            if not resource.get("resourceType"):
                continue
            self._positions[id(resource)] = position
            full_url = string_or_none(as_dict(entry).get("fullUrl"))
            self.entries.append((full_url, resource))
            if full_url:
                self._index.setdefault(full_url, resource)
                self._urls[id(resource)] = full_url
            if isinstance(resource.get("id"), str):
                self._index.setdefault(f"{resource['resourceType']}/{resource['id']}", resource)

    def resolve(self, reference: object, container: dict | None = None) -> dict | None:
        """The resource a Reference points at: contained in container, or an entry."""
        ref = string_or_none(as_dict(reference).get("reference"))
        if ref is None:
            return None
        if ref.startswith("#"):
            for contained in as_list((container or {}).get("contained")):
                if as_dict(contained).get("id") == ref[1:]:
                    return as_dict(contained)
            return None
        found = self._index.get(ref)
        if found is None and "/" in ref:
            # An absolute URL for a relative entry, or the reverse: match on the last two parts.
            found = self._index.get("/".join(ref.rstrip("/").split("/")[-2:]))
        return found

    def full_url(self, resource: dict) -> str | None:
        """The fullUrl the entry holding this resource has."""
        return self._urls.get(id(resource))

    def path(self, resource: dict) -> str:
        """FHIRPath to this resource in the Bundle (its type alone when it is no entry)."""
        position = self._positions.get(id(resource))
        if position is None:
            return str(resource.get("resourceType"))
        return f"Bundle.entry[{position}].resource"

    def of_type(self, resource_type: str) -> list[dict]:
        """Every entry resource of one type, in bundle order."""
        return [r for _, r in self.entries if r.get("resourceType") == resource_type]

    def focus(self, header: dict, resource_type: str) -> dict:
        """The MessageHeader's first focus, which must be a resource_type in the Bundle."""
        for reference in as_list(header.get("focus")):
            found = self.resolve(reference)
            if found is not None and found.get("resourceType") == resource_type:
                return found
        raise invalid(
            f"Expected MessageHeader.focus to reference a {resource_type} in the Bundle.",
            "MessageHeader.focus",
        )
