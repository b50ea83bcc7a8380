"""Scenario sections brought by processes outside the core schema (see gzsim.model.process).

A process that owns a section registers the section's schema here; the scenario then accepts,
validates and locates errors in that section like any built-in one. The module that defines
such a process is imported by the user's Python code (a scenario never imports code: a
``plugins:`` key is an error that says so); worker processes import it when they unpickle the
process class passed to ``simulate(..., processes=[...])``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails

__all__ = ["register_section", "registered_sections", "validate_sections"]

_SECTIONS: dict[str, type[BaseModel]] = {}


def register_section(name: str, model: type[BaseModel]) -> None:
    """Let scenarios carry a top-level ``name:`` section validated by ``model``."""
    known = _SECTIONS.get(name)
    if known is not None and known.__qualname__ != model.__qualname__:
        raise ValueError(f"scenario section {name!r} is registered twice ({known}, {model})")
    _SECTIONS[name] = model


def registered_sections() -> dict[str, type[BaseModel]]:
    """The registered extra sections by name."""
    return dict(_SECTIONS)


def _details(err: dict[str, Any], prefix: tuple[Any, ...] = ()) -> InitErrorDetails:
    return InitErrorDetails(type=err["type"], loc=(*prefix, *err["loc"]), input=err["input"],
                            ctx=err.get("ctx") or {})


def _no_plugins(data: dict, errors: list[InitErrorDetails]) -> None:
    """A scenario never imports code: ``plugins:`` is refused, with what to do instead."""
    if "plugins" in data:
        errors.append(InitErrorDetails(
            type="value_error", loc=("plugins",), input=data.pop("plugins"),
            ctx={"error": ValueError(
                "a scenario no longer imports code; pass the process in Python: "
                "gzsim.simulate(scenario, processes=[MyProcess]) after importing its module "
                "(which registers its section)")}))


def validate_sections(cls: type[BaseModel], data: Any, handler: Any) -> Any:
    """Wrap-validator body: core fields by ``handler``, extra sections by their schema."""
    errors: list[InitErrorDetails] = []
    extra: dict[str, Any] = {}
    if isinstance(data, dict):
        data = dict(data)
        _no_plugins(data, errors)
        for key in [k for k in data if k not in cls.model_fields]:
            value = data.pop(key)
            model = _SECTIONS.get(key)
            if model is None:
                errors.append(InitErrorDetails(type="extra_forbidden", loc=(key,), input=value))
                continue
            try:
                extra[key] = value if isinstance(value, model) else model.model_validate(value)
            except ValidationError as e:
                errors += [_details(err, (key,)) for err in e.errors(include_url=False)]
    try:
        obj = handler(data)
    except ValidationError as e:
        errors = [_details(err) for err in e.errors(include_url=False)] + errors
        obj = None
    if errors:
        raise ValidationError.from_exception_data(cls.__name__, errors)
    if extra:
        obj.__pydantic_extra__.update(extra)
    return obj
