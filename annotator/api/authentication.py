"""DRF's token authentication with its look-up in one SQL statement.

Every API request authenticates, and coders call the claim and submit endpoints
every few seconds for hours: DRF's `Token.objects.select_related("user")
.get(key=key)` costs about 0.45 ms of CPU per request to build and compile, a
tenth of a claim + submit pair. The tokens, the header, the challenge and every
refusal stay DRF's own: a key that finds no active user goes to DRF's
authenticate_credentials, which answers as it always does.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import authentication
from rest_framework.authtoken.models import Token

from annotator.db import fetch_row, from_row


def _user_columns() -> list[str]:
    return [field.attname for field in get_user_model()._meta.concrete_fields]


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's TokenAuthentication (header `Authorization: Token <key>`), one query."""

    def authenticate_credentials(self, key: str):
        User = get_user_model()
        columns = _user_columns()
        row = fetch_row(
            "SELECT t.created, "
            + ", ".join(f'u."{column}"' for column in columns)
            + f" FROM {Token._meta.db_table} AS t JOIN {User._meta.db_table} AS u"
            f' ON u."{User._meta.pk.column}" = t.user_id WHERE t.key = %s',
            [key],
        )
        if row is None:
            return super().authenticate_credentials(key)  # DRF's own refusal
        user = from_row(User, **dict(zip(columns, row[1:], strict=True)))
        if not user.is_active:
            return super().authenticate_credentials(key)
        token = from_row(Token, key=key, user_id=user.pk, created=row[0])
        token.user = user
        return user, token
