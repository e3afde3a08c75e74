"""Language negotiation for translated content (Accept-Language, ?lang=) and the fallback."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import current_app, g, request

# --- languages -------------------------------------------------------------------------


def negotiate_language(supported: Iterable[str] | None = None) -> str:
    """Pick the response language from ?lang=, then Accept-Language; fall back to German.

    Unknown codes never fail a request. The choice is announced in Content-Language.
    """
    supported = list(supported or current_app.config["CITYAPP_LANGUAGES"])
    default = current_app.config["CITYAPP_DEFAULT_LANGUAGE"]
    chosen = None
    wanted = (request.args.get("lang") or "").strip().lower()
    if wanted:
        chosen = _match_language(wanted, supported)
    if chosen is None:
        # Highest quality first; q=0 means "not this one" (RFC 9110), not "least preferred".
        ranked = sorted(request.accept_languages, key=lambda item: -item[1])
        for value, quality in ranked:
            if quality <= 0:
                continue
            chosen = _match_language(value.lower(), supported)
            if chosen:
                break
    chosen = chosen or default
    g.content_language = chosen
    return chosen


def _match_language(tag: str, supported: Sequence[str]) -> str | None:
    lowered = {s.lower(): s for s in supported}
    if tag in lowered:
        return lowered[tag]
    primary = tag.split("-")[0]
    return lowered.get(primary)


def pick_translation(values: dict[str, str] | None, language: str) -> str | None:
    """The text in ``language``, else German, else any language there is."""
    if not values:
        return None
    default = current_app.config["CITYAPP_DEFAULT_LANGUAGE"]
    return values.get(language) or values.get(default) or next(iter(values.values()), None)
