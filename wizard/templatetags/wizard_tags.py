from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def hidden_initial(field: BoundField) -> SafeString:
    """The hidden "value as shown" input of a field rendered choice by choice."""
    return field.as_hidden(only_initial=True)
