"""Compiling releases into a record's `compiledRelease` (OCDS 1.1 merging).

The rules of the standard's merge routine, as they apply to the platform's releases:
releases are taken in date order; objects merge field by field, recursively; an array of
objects that all have an `id` merges by identifier (an item with a known id merges into it,
a new one is appended); any other array, and any other value, is replaced by the newer one;
a `null` removes the field. `id`, `date` and `tag` are not merged: the compiled release gets
`<ocid>-<latest date>`, the latest date and the tag `compiled`.
"""

from __future__ import annotations

import copy

_NOT_MERGED = ("id", "date", "tag")


def _identified(value) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) and "id" in item for item in value)


def merge_value(old, new):
    if isinstance(old, dict) and isinstance(new, dict):
        out = dict(old)
        for key, value in new.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = merge_value(out.get(key), value)
        return out
    if _identified(new) and (old is None or _identified(old)):
        out = [copy.deepcopy(item) for item in old or []]
        index = {item["id"]: i for i, item in enumerate(out)}
        for item in new:
            if item["id"] in index:
                out[index[item["id"]]] = merge_value(out[index[item["id"]]], item)
            else:
                index[item["id"]] = len(out)
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(new)


def compile_releases(releases: list[dict]) -> dict:
    if not releases:
        raise ValueError("nothing to compile")
    ordered = sorted(releases, key=lambda r: r["date"])
    compiled: dict = {}
    for release in ordered:
        compiled = merge_value(compiled, {k: v for k, v in release.items() if k not in _NOT_MERGED})
    latest = ordered[-1]["date"]
    return {"ocid": ordered[-1]["ocid"], "id": f"{ordered[-1]['ocid']}-{latest}", "date": latest,
            "tag": ["compiled"], **{k: v for k, v in compiled.items() if k != "ocid"}}
